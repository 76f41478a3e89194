/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcipcsrc: receives frames from a zcipcsink in another process (zcipc,
 * docs/ipc.md). Each buffer of the producer's table becomes one GstMemory
 * kept across frames; a frame's GstBuffer carries those memories, and when
 * downstream frees it the frame is released to the producer.
 */
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_IPC_SRC (gst_zc_ipc_src_get_type())
G_DECLARE_FINAL_TYPE(GstZcIpcSrc, gst_zc_ipc_src, GST, ZC_IPC_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE(zcipcsrc);

G_END_DECLS
