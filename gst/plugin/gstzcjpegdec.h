/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcjpegdec: a JPEG/MJPEG decoder (libjpeg-turbo) that writes straight into
 * the planes of zcbuf (or downstream-proposed fd/dma-buf) pool buffers,
 * decodes frames in parallel and downscales in the DCT domain.
 */
#pragma once

#include <gst/video/gstvideodecoder.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_JPEG_DEC (gst_zc_jpeg_dec_get_type())
G_DECLARE_FINAL_TYPE(GstZcJpegDec, gst_zc_jpeg_dec, GST, ZC_JPEG_DEC, GstVideoDecoder)

GST_ELEMENT_REGISTER_DECLARE(zcjpegdec);

G_END_DECLS
