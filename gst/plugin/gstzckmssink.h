/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zckmssink: shows video on a KMS display by scanning out the buffers it
 * receives (dma-bufs imported once per memory, cached framebuffers), with
 * atomic commits where the driver has them, paced by page-flip events. A
 * CPU copy into a dumb buffer only with allow-copy=true, recorded as a copy.
 * The engine is in kms/ (zcbuf::kms).
 */
#pragma once

#include <gst/video/gstvideosink.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_KMS_SINK (gst_zc_kms_sink_get_type())
G_DECLARE_FINAL_TYPE(GstZcKmsSink, gst_zc_kms_sink, GST, ZC_KMS_SINK, GstVideoSink)

GST_ELEMENT_REGISTER_DECLARE(zckmssink);

G_END_DECLS
