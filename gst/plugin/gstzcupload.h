/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcupload: the way into the zero-copy domain. Buffers already in zcbuf
 * memory pass through; fd and dma-buf memory from elsewhere is wrapped as
 * zcbuf memory without a copy; only plain system memory is copied (into a
 * zcbuf pool), and each copy is recorded (gst_zcbuf_record_copy). Upstream
 * is offered a zcbuf pool, so producers that take it copy nothing at all.
 */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_UPLOAD (gst_zc_upload_get_type())
G_DECLARE_FINAL_TYPE(GstZcUpload, gst_zc_upload, GST, ZC_UPLOAD, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(zcupload);

G_END_DECLS
