/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcipcsink: shares each frame with consumers in other processes (zcipcsrc,
 * zcbuf-snap) over a Unix socket with the zcipc protocol (docs/ipc.md):
 * each buffer's fds cross once per epoch, frames are ids, and a buffer goes
 * back to upstream's pool only when every consumer has released it.
 */
#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_ZC_IPC_SINK (gst_zc_ipc_sink_get_type())
G_DECLARE_FINAL_TYPE(GstZcIpcSink, gst_zc_ipc_sink, GST, ZC_IPC_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(zcipcsink);

G_END_DECLS
