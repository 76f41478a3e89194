/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recording copies of frame data. zcbuf's promise is zero copies; where a
 * copy cannot be avoided (system memory arriving at zcupload, or GStreamer
 * copying zcbuf memory with gst_memory_copy()) it is recorded here: logged
 * in the GST_PERFORMANCE category, counted, and passed to the listeners
 * (the zerocopy tracer, which puts it in its table).
 *
 * Custom tracer hooks are not public API in GStreamer 1.22, so the tracer
 * subscribes here instead; listeners run synchronously on the thread that
 * copied, which lets a listener attribute a copy without an element (a
 * gst_memory_copy()) to whatever that thread is running.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * gst_zcbuf_record_copy:
 * @element: (nullable): the element that copied; %NULL when unknown
 * @bytes: how many bytes were copied
 * @reason: (nullable): why, in a few words ("system memory input")
 *
 * Records one copy of frame data.
 */
void gst_zcbuf_record_copy(GstObject *element, gsize bytes, const gchar *reason);

/**
 * GstZcbufCopyFunc:
 * @element: (nullable): as given to gst_zcbuf_record_copy()
 * @bytes: bytes copied
 * @reason: (nullable): as given to gst_zcbuf_record_copy()
 * @user_data: the listener's data
 *
 * Called on the copying thread. It must not record copies itself.
 */
typedef void (*GstZcbufCopyFunc)(GstObject *element, gsize bytes, const gchar *reason,
				 gpointer user_data);

/**
 * gst_zcbuf_copy_listener_add:
 * @func: (scope forever): called for every copy recorded until
 *   gst_zcbuf_copy_listener_remove()
 * @user_data: (closure): passed to @func
 *
 * Returns: an id for gst_zcbuf_copy_listener_remove() (never 0).
 */
gulong gst_zcbuf_copy_listener_add(GstZcbufCopyFunc func, gpointer user_data);

/* Once this returns, @id is never called again. */
void gst_zcbuf_copy_listener_remove(gulong id);

/* Copies and bytes recorded since the process started; either may be NULL. */
void gst_zcbuf_copy_get_totals(guint64 *copies, guint64 *bytes);

G_END_DECLS
