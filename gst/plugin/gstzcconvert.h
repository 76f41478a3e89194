/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert: colour conversion and scaling between NV12, I420, YUY2, UYVY,
 * BGRx, RGBx, BGRA, RGBA and GRAY8, written straight into zcbuf memory (the
 * downstream pool when it is zcbuf's or gives fd memory, else a zcbuf pool
 * of its own), proposing a zcbuf pool upstream, a passthrough when the caps
 * match.
 */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_CONVERT (gst_zc_convert_get_type())
G_DECLARE_FINAL_TYPE(GstZcConvert, gst_zc_convert, GST, ZC_CONVERT, GstVideoFilter)

/* How zcconvert converts: "cpu" (libyuv and its own SIMD rows), "gl" (GLES
 * shaders on a DRM device, dma-buf in and out) or "auto" (gl where the
 * device property names a GPU that imports the input, else cpu). */
#define GST_TYPE_ZC_CONVERT_METHOD (gst_zc_convert_method_get_type())
GType gst_zc_convert_method_get_type(void);

typedef enum {
	GST_ZCCONVERT_METHOD_CPU = 0,
	GST_ZCCONVERT_METHOD_GL = 1,
	GST_ZCCONVERT_METHOD_AUTO = 2,
} GstZcConvertMethod;

GST_ELEMENT_REGISTER_DECLARE(zcconvert);

G_END_DECLS
