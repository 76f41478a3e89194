/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "elements.h"

#include "zcconvert.h"

/* One line per element (GST_ELEMENT_REGISTER_DECLARE in its header) and per
 * tracer. */
gboolean zcbuf_register_elements(GstPlugin *plugin)
{
	gboolean ok = TRUE;
	ok &= GST_ELEMENT_REGISTER(zcconvert, plugin);
	return ok;
}
