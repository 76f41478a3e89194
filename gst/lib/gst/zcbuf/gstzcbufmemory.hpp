/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C++ side of zcbuf memory, for elements written in C++: the libzcbuf
 * buffer behind a GstMemory, and wrapping a buffer as a GstMemory.
 */
#pragma once

#include <memory>

#include <gst/gst.h>

#include <zcbuf/backend.h>
#include <zcbuf/buffer.h>

/* The backend a zcbuf allocator allocates from; null for other allocators
 * and for the wrap-only ones. */
std::shared_ptr<zcbuf::Backend> gst_zcbuf_allocator_get_backend_object(GstAllocator *allocator);

/* The buffer behind zcbuf memory (or behind the memory it was shared from);
 * null for any other memory. */
std::shared_ptr<zcbuf::Buffer> gst_zcbuf_memory_get_buffer(GstMemory *memory);

/*
 * Wraps an allocated buffer as zcbuf memory of @allocator (a zcbuf
 * allocator whose kind, dmabuf or fd, matches the buffer; otherwise the
 * process-wide zcbuf allocator of the right kind is used). The memory keeps
 * the buffer alive; its fd is never closed by GStreamer.
 *
 * Returns: (transfer full) (nullable): NULL if the buffer has no backing.
 */
GstMemory *gst_zcbuf_memory_wrap(GstAllocator *allocator,
				 std::shared_ptr<zcbuf::Buffer> buffer);
