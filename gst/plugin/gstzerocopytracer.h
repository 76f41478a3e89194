/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zerocopy tracer (GST_TRACERS=zerocopy, or
 * GST_TRACERS="zerocopy(file=/path/table.tsv)"): for every link (a source
 * pad and its peer) it counts the buffers and bytes that cross it by memory
 * kind (dma-buf, other fd, system; a buffer counts as its worst memory),
 * and the copies zcbuf elements and GStreamer make of zcbuf memory
 * (gstzcbufcopy.h). When a top-level pipeline goes to NULL, or at
 * gst_deinit() or process exit for pipelines that never did, it prints one
 * table per pipeline run to stderr and appends it to the file in TSV.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_ZEROCOPY_TRACER (gst_zerocopy_tracer_get_type())
G_DECLARE_FINAL_TYPE(GstZerocopyTracer, gst_zerocopy_tracer, GST, ZEROCOPY_TRACER, GstTracer)

G_END_DECLS
