/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an element that produces frames writes them into, decided once for
 * every zcbuf element (decide_allocation): downstream's pool when it is a
 * zcbuf pool or hands out fd memory (dma-buf memory when the output caps say
 * memory:DMABuf), else a zcbuf pool of the element's backend laid out as
 * downstream's padding and stride-align requests ask.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct {
	/* The element's backend property: a spec, or NULL/"" for the default. */
	const gchar *backend;
	/* The negotiated output caps carry memory:DMABuf: the memory must be
	 * dma-buf memory. */
	gboolean dmabuf;
	/* Buffers the element holds at once (frames in flight on its worker
	 * threads), added to downstream's minimum. */
	guint extra_buffers;
	/* Row pitch alignment the element writes with, 0 or a power of two.
	 * Applied to zcbuf pools, and only when downstream takes GstVideoMeta
	 * (otherwise it expects the default layout). */
	guint stride_alignment;
	/* The element's constraints property, NULL or "" for none: the needs
	 * of a consumer that cannot state them (upstream v4l2 importing into
	 * a contiguous-only device), parsed by zcbuf::parseConstraints(). */
	const gchar *constraints;

	/*< private >*/
	/* Room for fields to come without an ABI break: zero-initialise the
	 * whole struct ({ 0 } in C, {} in C++). */
	gpointer _gst_reserved[GST_PADDING];
} GstZcbufOutputParams;

/**
 * gst_zcbuf_decide_allocation:
 * @element: the element deciding, for errors and logs
 * @query: its answered ALLOCATION query
 * @params: what the element needs
 *
 * When the element writes into a pool of its own, its backend is chosen
 * from the needs downstream stated in @query
 * (gst_zcbuf_query_add_consumer_needs()), the element's constraints and its
 * output caps, by the rules of zcbuf::chooseBackend() (a forced backend
 * that cannot meet a need is an error naming both). The choice and its
 * reason are logged at INFO and kept for
 * gst_zcbuf_element_get_chosen_backend().
 *
 * Puts the chosen pool first in @query, configured for the query's caps,
 * and the pool's allocator first in its allocation params. A downstream
 * pool that gives neither zcbuf nor fd memory is passed over (logged in
 * GST_PERFORMANCE).
 *
 * Returns: %FALSE after posting an element error (no video caps, a missing
 *   backend, memory:DMABuf output from a backend without dma-bufs).
 */
gboolean gst_zcbuf_decide_allocation(GstElement *element, GstQuery *query,
				     const GstZcbufOutputParams *params);

/**
 * gst_zcbuf_element_get_chosen_backend:
 * @element: an element that called gst_zcbuf_decide_allocation()
 *
 * Returns: (transfer full) (nullable): "SPEC: REASON" for the memory the
 *   element last decided to write into ("memfd: fakesink0 maps with the CPU
 *   only: ..."), %NULL before its first decision.
 */
gchar *gst_zcbuf_element_get_chosen_backend(GstElement *element);

/**
 * gst_zcbuf_param_spec_constraints:
 *
 * The "constraints" property (read-write string) every producing element
 * installs.
 *
 * Returns: (transfer full): a new param spec
 */
GParamSpec *gst_zcbuf_param_spec_constraints(void);

/**
 * gst_zcbuf_param_spec_chosen_backend:
 *
 * The "chosen-backend" property (read-only string,
 * gst_zcbuf_element_get_chosen_backend()) every producing element
 * installs.
 *
 * Returns: (transfer full): a new param spec
 */
GParamSpec *gst_zcbuf_param_spec_chosen_backend(void);

/**
 * gst_zcbuf_element_open_backend:
 * @element: the element that will allocate
 * @backend: (nullable): its backend property, NULL or "" for none
 *
 * Opens the backend @element allocates from: @backend, else ZCBUF_BACKEND,
 * else the default (which always opens, memfd at worst, and is not opened
 * here). A missing one is an element error, posted once per
 * element and backend, that names the backend, where the request came from
 * (the property or the environment) and why it failed (errno text): never a
 * silent substitute. For allocation time (propose_allocation,
 * decide_allocation).
 *
 * Returns: whether the backend opened.
 */
gboolean gst_zcbuf_element_open_backend(GstElement *element, const gchar *backend);

/* Whether the backend spec may give dma-bufs, answered without opening
 * anything (what caps negotiation asks): a named backend (@backend, else
 * ZCBUF_BACKEND) by its kind, the default by whether a system-memory
 * dma-buf node (/dev/zcbuf, /dev/dma_heap/system, /dev/udmabuf) exists.
 * The backend opened at allocation is checked again then. */
gboolean gst_zcbuf_backend_may_give_dmabuf(const gchar *backend);

/* Whether structure @index of @caps has the memory:DMABuf feature. */
gboolean gst_zcbuf_caps_has_dmabuf_feature(GstCaps *caps, guint index);

G_END_DECLS
