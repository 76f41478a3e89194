/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zcbuf plugin: registration only. */
#include <gst/gst.h>
#include <gst/zcbuf/gstzcbuf.h>

#include "elements.h"

static gboolean plugin_init(GstPlugin *plugin)
{
	gst_zcbuf_init();
	return zcbuf_register_elements(plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, zcbuf,
		  "Zero-copy dma-buf allocator, pool and elements", plugin_init, "0.1.0",
		  "LGPL", "zcbuf", "zcbuf (built from source)")
