/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "elements.h"
#include "zcjpegdec.h"
#include "zcthumbnail.h"

#include "zcconvert.h"
#include "zcupload.h"
#include "zerocopytracer.h"

/* One line per element (GST_ELEMENT_REGISTER_DECLARE in its header) and per
 * tracer. */
gboolean zcbuf_register_elements(GstPlugin *plugin)
{
	gboolean ok = TRUE;
	ok &= GST_ELEMENT_REGISTER(zcjpegdec, plugin);
	ok &= GST_ELEMENT_REGISTER(zcthumbnail, plugin);
	ok &= GST_ELEMENT_REGISTER(zcconvert, plugin);
	ok &= GST_ELEMENT_REGISTER(zcupload, plugin);
	ok &= gst_tracer_register(plugin, "zerocopy", GST_TYPE_ZEROCOPY_TRACER);
	return ok;
}
