/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "elements.h"

gboolean zcbuf_register_elements(GstPlugin *plugin)
{
	(void)plugin;
	return TRUE;
}
