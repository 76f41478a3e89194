/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a consumer of frames needs from their memory, stated in the ALLOCATION
 * query (the dma-buf RFC's "attach", in GStreamer).
 *
 * A downstream element calls gst_zcbuf_query_add_consumer_needs() in its
 * propose_allocation; a producing element reads every consumer's needs with
 * gst_zcbuf_query_get_n_consumer_needs() / _get_consumer_needs() on the
 * answered query in its decide_allocation, across queues and tee branches.
 *
 * @needs is a GstStructure named "zcbuf-consumer-needs"
 * (GST_ZCBUF_CONSUMER_NEEDS) with optional fields:
 *   "consumer"          string   who, for error messages
 *   "device"            string   a device node ("/dev/dri/card0",
 *                                "/dev/video3"), "cpu" or "other-process"
 *   "own-device-memory" boolean  the device imports only memory allocated
 *                                on it (virtio-gpu): the producer allocates
 *                                dumb buffers on "device"
 *   "dmabuf"            boolean  a real dma-buf is needed
 *   "contiguous"        boolean  physically contiguous memory
 *   "align"             uint     byte alignment of the buffer
 *   "stride-align"      uint     byte alignment of every row pitch
 *   "max-segment"       guint64  largest scatter-gather segment, bytes
 *   "read-only"         boolean  the consumer only reads
 *   "optional"          boolean  the consumer copies what it cannot import:
 *                                the needs guide the choice, and a forced
 *                                backend that does not meet them is no error
 *
 * Transport: GStreamer 1.22's tee answers an ALLOCATION query with a fresh
 * query per branch and aggregates only sizes, buffer counts, allocation
 * params and the metas every branch has (a meta with params on more than one
 * branch is dropped), so nothing a branch writes into its own query reaches
 * the producer. What tee (and queue, and every element that forwards the
 * query) hands every branch is the query's caps object, by reference. The
 * needs are therefore kept on that caps object (qdata) as well as on a meta
 * entry of the query itself (GST_ZCBUF_CONSUMER_NEEDS_META_API_TYPE, for
 * elements that rebuild the query around a copy of the caps but keep its
 * metas). Reading takes the needs off the caps object, so a later query with
 * the same caps starts empty; identical needs are listed once.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_ZCBUF_CONSUMER_NEEDS "zcbuf-consumer-needs"

/* The meta API whose allocation-meta entry carries the needs ("needs", a
 * GstValueList of structures) inside one query. No buffer carries it. */
#define GST_ZCBUF_CONSUMER_NEEDS_META_API_TYPE (gst_zcbuf_consumer_needs_meta_api_get_type())
GType gst_zcbuf_consumer_needs_meta_api_get_type(void);

/**
 * gst_zcbuf_query_add_consumer_needs:
 * @allocation_query: an ALLOCATION query being answered (propose_allocation)
 * @needs: (transfer none): a "zcbuf-consumer-needs" structure; copied
 *
 * States what the calling consumer needs. Safe from any streaming thread.
 */
void gst_zcbuf_query_add_consumer_needs(GstQuery *allocation_query, const GstStructure *needs);

/**
 * gst_zcbuf_query_get_n_consumer_needs:
 * @allocation_query: an answered ALLOCATION query (decide_allocation)
 *
 * Collects every consumer's needs that reached @allocation_query (its own
 * meta entry and those left on its caps by consumers behind a tee or
 * queue), once per query: later calls see the same list.
 *
 * Returns: how many distinct needs structures there are.
 */
guint gst_zcbuf_query_get_n_consumer_needs(GstQuery *allocation_query);

/**
 * gst_zcbuf_query_get_consumer_needs:
 * @allocation_query: an answered ALLOCATION query
 * @index: below gst_zcbuf_query_get_n_consumer_needs()
 *
 * Returns: (transfer none) (nullable): needs number @index, owned by
 *   @allocation_query and valid as long as it lives; %NULL when @index is
 *   out of range.
 */
const GstStructure *gst_zcbuf_query_get_consumer_needs(GstQuery *allocation_query, guint index);

G_END_DECLS
