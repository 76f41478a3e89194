/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zcbuf plugin: registration only, one line per element (each declares
 * itself with GST_ELEMENT_REGISTER_DECLARE in its header) and per tracer. */
#include <gst/gst.h>
#include <gst/zcbuf/gstzcbuf.h>

#include "gstzcconvert.h"
#include "gstzcipcsink.h"
#include "gstzcipcsrc.h"
#include "gstzcjpegdec.h"
#include "gstzckmssink.h"
#include "gstzcthumbnail.h"
#include "gstzcupload.h"
#include "gstzerocopytracer.h"

static gboolean plugin_init(GstPlugin *plugin)
{
	gst_zcbuf_init();

	gboolean ok = TRUE;
	ok &= GST_ELEMENT_REGISTER(zcjpegdec, plugin);
	ok &= GST_ELEMENT_REGISTER(zcthumbnail, plugin);
	ok &= GST_ELEMENT_REGISTER(zcconvert, plugin);
	ok &= GST_ELEMENT_REGISTER(zcupload, plugin);
	ok &= GST_ELEMENT_REGISTER(zcipcsink, plugin);
	ok &= GST_ELEMENT_REGISTER(zcipcsrc, plugin);
	ok &= GST_ELEMENT_REGISTER(zckmssink, plugin);
	ok &= gst_tracer_register(plugin, "zerocopy", GST_TYPE_ZEROCOPY_TRACER);
	return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, zcbuf,
		  "Zero-copy dma-buf allocator, pool and elements", plugin_init, "0.1.0",
		  "LGPL", "zcbuf", ZCBUF_PACKAGE_ORIGIN)
