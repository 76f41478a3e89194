/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/zcbuf/gstzcbuf.h>

void gst_zcbuf_init(void)
{
	gst_zcbuf_allocator_register();
}
