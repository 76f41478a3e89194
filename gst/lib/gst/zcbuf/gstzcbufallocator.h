/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zcbuf GstAllocator. Memory from a dma-buf backend is dmabuf memory
 * that upstream importers accept (gst_is_dmabuf_memory(),
 * gst_dmabuf_memory_get_fd()); memory from the memfd backend is fd memory
 * and never claims to be dmabuf. That is why there are two allocator types:
 * in 1.22 gst_is_dmabuf_memory() checks the allocator's type.
 *
 * Mappings are made once per buffer and kept; every gst_memory_map() and
 * gst_memory_unmap() is a DMA_BUF_IOCTL_SYNC START/END with the map's
 * READ/WRITE flags.
 */
#pragma once

#include <gst/allocators/allocators.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* The name the default allocator is registered under. */
#define GST_ALLOCATOR_ZCBUF "zcbuf"

/**
 * GstZcbufError:
 * @GST_ZCBUF_ERROR_FAILED: a failure of no other kind
 * @GST_ZCBUF_ERROR_BACKEND: the backend is unknown or cannot be opened; the
 *   message names it and says why (the errno text)
 * @GST_ZCBUF_ERROR_FD: an fd was refused for import: closed, neither a
 *   dma-buf nor a memfd, a memfd without F_SEAL_SHRINK, or smaller than
 *   asked; the message says which
 *
 * The codes of #GST_ZCBUF_ERROR, libgstzcbuf's error domain.
 */
typedef enum {
	GST_ZCBUF_ERROR_FAILED,
	GST_ZCBUF_ERROR_BACKEND,
	GST_ZCBUF_ERROR_FD,
} GstZcbufError;

/**
 * GST_ZCBUF_ERROR:
 *
 * The error domain of libgstzcbuf's #GError<!-- -->s (#GstZcbufError).
 */
#define GST_ZCBUF_ERROR (gst_zcbuf_error_quark())

GQuark gst_zcbuf_error_quark(void);

#define GST_TYPE_ZCBUF_DMABUF_ALLOCATOR (gst_zcbuf_dmabuf_allocator_get_type())
G_DECLARE_FINAL_TYPE(GstZcbufDmabufAllocator, gst_zcbuf_dmabuf_allocator, GST,
		     ZCBUF_DMABUF_ALLOCATOR, GstDmaBufAllocator)

#define GST_TYPE_ZCBUF_FD_ALLOCATOR (gst_zcbuf_fd_allocator_get_type())
G_DECLARE_FINAL_TYPE(GstZcbufFdAllocator, gst_zcbuf_fd_allocator, GST,
		     ZCBUF_FD_ALLOCATOR, GstFdAllocator)

/**
 * gst_zcbuf_allocator_new:
 * @backend: (nullable): a backend spec ("memfd", "drm", "drm:/dev/dri/card1",
 *   "dma-heap:system", "udmabuf", "module"), or %NULL for the default
 *   (ZCBUF_BACKEND, else the best available)
 * @error: (out) (optional): why the backend could not be opened
 *
 * Returns: (transfer full) (nullable): a dmabuf or fd allocator, as the
 *   backend gives; %NULL if the backend is missing (never another backend).
 */
GstAllocator *gst_zcbuf_allocator_new(const gchar *backend, GError **error);

gboolean gst_is_zcbuf_allocator(GstAllocator *allocator);
gboolean gst_is_zcbuf_memory(GstMemory *memory);

/* Whether the allocator's memory is real dma-buf memory. */
gboolean gst_zcbuf_allocator_is_dmabuf(GstAllocator *allocator);

/**
 * gst_zcbuf_allocator_get_backend:
 *
 * Returns: (transfer full): the backend's spec, in the form the `backend`
 *   property and gst_zcbuf_allocator_new() take, e.g. "drm:/dev/dri/card0",
 *   "dma-heap:system", "memfd" ("none" for an allocator that only
 *   wraps buffers); free with g_free().
 */
gchar *gst_zcbuf_allocator_get_backend(GstAllocator *allocator);

/**
 * gst_zcbuf_allocator_get_backend_description:
 *
 * Returns: (transfer full): the backend in words, for logs, e.g.
 *   "drm (/dev/dri/card0)"; free with g_free().
 */
gchar *gst_zcbuf_allocator_get_backend_description(GstAllocator *allocator);

/**
 * gst_zcbuf_allocator_import_fd:
 * @fd: a dma-buf or memfd; the caller keeps it (the memory owns a duplicate)
 * @size: the bytes the memory must hold
 * @error: (out) (optional): why the fd was refused (a closed fd, a pipe, a
 *   socket, a regular file, a buffer smaller than @size)
 *
 * Wraps a received fd without copying.
 *
 * Returns: (transfer full) (nullable): dmabuf memory for a dma-buf, fd memory
 *   for a memfd.
 */
GstMemory *gst_zcbuf_allocator_import_fd(gint fd, gsize size, GError **error);

/* Registers the default allocator as "zcbuf" (once). It opens the default
 * backend (ZCBUF_BACKEND, else the best available) at its first
 * allocation, not before, and hands out the memory of that backend's
 * allocator (gst_is_zcbuf_memory(), dmabuf memory where the backend gives
 * dma-bufs). */
void gst_zcbuf_allocator_register(void);

/* Whether @allocator is that registered default. */
gboolean gst_zcbuf_allocator_is_lazy_default(GstAllocator *allocator);

G_END_DECLS
