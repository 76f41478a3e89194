/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcthumbnail: an in-place passthrough that writes a JPEG thumbnail of one
 * frame every interval, reading the frame through a CPU-access bracket and
 * encoding on its own thread; the stream is never copied, changed or made
 * to wait.
 */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_THUMBNAIL (gst_zc_thumbnail_get_type())
G_DECLARE_FINAL_TYPE(GstZcThumbnail, gst_zc_thumbnail, GST, ZC_THUMBNAIL, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(zcthumbnail);

G_END_DECLS
