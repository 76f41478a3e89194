/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zcbuf video buffer pool: every buffer is one zcbuf memory with a
 * GstVideoMeta (per-plane offsets and strides) and the pool's
 * GstVideoAlignment; downstream padding and stride-align requests from the
 * ALLOCATION query are honoured; buffers are recycled with their memory and
 * mapping, never reallocated.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_ZCBUF_BUFFER_POOL (gst_zcbuf_buffer_pool_get_type())
G_DECLARE_FINAL_TYPE(GstZcbufBufferPool, gst_zcbuf_buffer_pool, GST, ZCBUF_BUFFER_POOL,
		     GstBufferPool)

/**
 * gst_zcbuf_buffer_pool_new:
 * @backend: (nullable): backend spec, %NULL for the default
 *
 * Returns: (transfer full): a new pool. Its allocator is opened at
 *   set_config; a missing backend makes set_config fail.
 */
GstBufferPool *gst_zcbuf_buffer_pool_new(const gchar *backend);

/**
 * gst_zcbuf_buffer_pool_get_allocator:
 *
 * Returns: (transfer full) (nullable): the zcbuf allocator the pool uses
 *   (after a successful set_config).
 */
GstAllocator *gst_zcbuf_buffer_pool_get_allocator(GstZcbufBufferPool *pool);

/**
 * gst_zcbuf_buffer_pool_config_add_constraints:
 * @config: a pool configuration
 * @consumer: who asks, named in errors
 * @alignment: start alignment of each buffer, 0 or a power of two
 * @stride_alignment: row pitch alignment, 0 or a power of two
 * @contiguous: physically contiguous memory is required
 * @backend: (nullable): a required backend kind ("module", "drm", ...)
 *
 * Attaches a consumer's constraints to every buffer the pool will allocate:
 * they are collated with the others' and met at allocation, or the pool
 * fails to start with an error naming the constraint.
 */
void gst_zcbuf_buffer_pool_config_add_constraints(GstStructure *config,
						  const gchar *consumer, guint alignment,
						  guint stride_alignment, gboolean contiguous,
						  const gchar *backend);

/**
 * gst_zcbuf_buffer_pool_config_add_constraints_full:
 * @max_segment: the largest scatter-gather segment the consumer's device
 *   takes, 0 for any; with @contiguous (anyone's) and buffers larger than
 *   it, the pool fails to start naming both
 *
 * As gst_zcbuf_buffer_pool_config_add_constraints(), with a segment limit.
 */
void gst_zcbuf_buffer_pool_config_add_constraints_full(GstStructure *config,
						       const gchar *consumer, guint alignment,
						       guint stride_alignment, guint64 max_segment,
						       gboolean contiguous, const gchar *backend);

/**
 * gst_zcbuf_buffer_pool_config_set_alignment_from_query:
 * @config: a pool configuration whose params already hold the caps
 * @query: an answered ALLOCATION query
 *
 * Merges the padding and stride-align0..3 params that downstream put on
 * its GstVideoMeta entries (the largest padding, the strictest stride
 * masks) into the config's GstVideoAlignment, and turns on the
 * VIDEO_META and VIDEO_ALIGNMENT options.
 *
 * Returns: %TRUE if downstream asked for any alignment.
 */
gboolean gst_zcbuf_buffer_pool_config_set_alignment_from_query(GstStructure *config,
							       GstQuery *query);

/**
 * gst_zcbuf_propose_allocation:
 * @query: an ALLOCATION query received on a sink pad
 * @min_buffers: buffers the proposer holds at once
 * @backend: (nullable): backend spec, %NULL for the default
 *
 * Answers the query with a configured zcbuf pool (when the query asks for
 * one), its allocator and GstVideoMeta support.
 *
 * Returns: %FALSE if the query has no usable video caps or the backend is
 *   missing.
 */
gboolean gst_zcbuf_propose_allocation(GstQuery *query, guint min_buffers,
				      const gchar *backend);

/**
 * gst_zcbuf_propose_allocation_full:
 * @constraints: (nullable): the proposer's constraints property
 *
 * gst_zcbuf_propose_allocation() with the proposer's constraints. The
 * pool's backend is @backend, else ZCBUF_BACKEND, else chosen as a
 * producer's own pool is (zcbuf::chooseBackend()) from the needs in @query
 * (those the proposer stated, and in passthrough downstream's),
 * @constraints and memory:DMABuf caps: memfd when none needs a dma-buf.
 */
gboolean gst_zcbuf_propose_allocation_full(GstQuery *query, guint min_buffers,
					   const gchar *backend, const gchar *constraints);

G_END_DECLS
