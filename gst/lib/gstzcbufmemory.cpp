/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcbuf memory: a GstFdMemory (so that gst_fd_memory_get_fd() and
 * gst_dmabuf_memory_get_fd() work) whose fd belongs to a libzcbuf buffer,
 * kept alive by the memory through qdata. Map and unmap go through the
 * buffer: one mapping for its whole life, a sync bracket on every map.
 */
#include <gst/zcbuf/gstzcbufallocator.h>
#include <gst/zcbuf/gstzcbufcopy.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>

#include <cstring>

#include "gstzcbufmemory-private.h"

GST_DEBUG_CATEGORY_STATIC(gst_zcbuf_memory_debug);
#define GST_CAT_DEFAULT gst_zcbuf_memory_debug

namespace {

struct MemoryContext {
	std::shared_ptr<zcbuf::Buffer> buffer;
};

GQuark contextQuark()
{
	static GQuark quark = g_quark_from_static_string("GstZcbufMemoryContext");
	return quark;
}

MemoryContext *contextOf(GstMemory *memory)
{
	/* Shared sub-memories carry no context: their root parent does. */
	while (memory->parent)
		memory = memory->parent;
	return static_cast<MemoryContext *>(
		gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(memory), contextQuark()));
}

zcbuf::Access accessOf(GstMapFlags flags)
{
	bool write = flags & GST_MAP_WRITE;
	bool read = (flags & GST_MAP_READ) || !write;
	return read && write ? zcbuf::Access::ReadWrite
			     : write ? zcbuf::Access::Write : zcbuf::Access::Read;
}

gpointer mapMemory(GstMemory *memory, GstMapInfo *info, gsize /* maxsize */)
{
	MemoryContext *context = contextOf(memory);
	if (!context) {
		GST_ERROR("memory %p has no zcbuf buffer", memory);
		return nullptr;
	}
	zcbuf::Result<std::uint8_t *> data =
		context->buffer->beginCpuAccess(accessOf(info->flags));
	if (!data) {
		GST_ERROR("cannot map memory %p: %s", memory,
			  data.error().message().c_str());
		return nullptr;
	}
	/* GstMemory adds the memory's offset itself. */
	return data.value();
}

void unmapMemory(GstMemory *memory, GstMapInfo *info)
{
	MemoryContext *context = contextOf(memory);
	if (!context)
		return;
	zcbuf::Result<void> ended = context->buffer->endCpuAccess(accessOf(info->flags));
	if (!ended)
		GST_WARNING("ending CPU access to memory %p: %s", memory,
			    ended.error().message().c_str());
}

/*
 * gst_memory_copy() of zcbuf memory: what GstAllocator's fallback does (a
 * new memory of the same allocator, or system memory when that allocator
 * only wraps), plus recording the copy. GStreamer copies memory behind the
 * elements' backs (gst_buffer_make_writable() on a buffer whose memory is
 * still mapped for writing, as GstVideoDecoder does for avdec_h264's
 * reference frames); recorded, such copies show in the zerocopy tracer's
 * table instead of going unnoticed.
 */
GstMemory *copyMemory(GstMemory *memory, gssize offset, gssize size)
{
	GstMapInfo in;
	if (!gst_memory_map(memory, &in, GST_MAP_READ))
		return nullptr;
	if (size == -1)
		size = static_cast<gssize>(in.size) > offset ? static_cast<gssize>(in.size) - offset : 0;
	GstAllocator *allocator = memory->allocator;
	if (GST_OBJECT_FLAG_IS_SET(allocator, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC))
		allocator = nullptr;
	GstAllocationParams params = { static_cast<GstMemoryFlags>(0), memory->align, 0, 0, {} };
	GstMemory *copy = gst_allocator_alloc(allocator, static_cast<gsize>(size), &params);
	GstMapInfo out;
	if (copy && gst_memory_map(copy, &out, GST_MAP_WRITE)) {
		std::memcpy(out.data, in.data + offset, static_cast<size_t>(size));
		gst_memory_unmap(copy, &out);
	} else if (copy) {
		gst_memory_unref(copy);
		copy = nullptr;
	}
	gst_memory_unmap(memory, &in);
	if (copy)
		gst_zcbuf_record_copy(nullptr, static_cast<gsize>(size),
				      "gst_memory_copy() of zcbuf memory");
	return copy;
}

/* Zcbuf allocators used to wrap buffers whose kind differs from the
 * caller's allocator (imports, or a buffer a consumer moved to another
 * backend). They never allocate. */
GstAllocator *wrappingAllocator(bool dmabuf)
{
	static GstAllocator *allocators[2];
	static gsize once = 0;
	if (g_once_init_enter(&once)) {
		allocators[0] = GST_ALLOCATOR(
			g_object_new(GST_TYPE_ZCBUF_FD_ALLOCATOR, "backend", "none", nullptr));
		allocators[1] = GST_ALLOCATOR(
			g_object_new(GST_TYPE_ZCBUF_DMABUF_ALLOCATOR, "backend", "none", nullptr));
		for (GstAllocator *allocator : allocators) {
			gst_object_ref_sink(allocator);
			GST_OBJECT_FLAG_SET(allocator, GST_OBJECT_FLAG_MAY_BE_LEAKED);
		}
		g_once_init_leave(&once, 1);
	}
	return allocators[dmabuf ? 1 : 0];
}

} /* namespace */

void gst_zcbuf_memory_init_debug(void)
{
	GST_DEBUG_CATEGORY_INIT(gst_zcbuf_memory_debug, "zcbufmemory", 0,
				"zcbuf memory: map, unmap and sync");
}

void gst_zcbuf_memory_install_functions(GstAllocator *allocator)
{
	allocator->mem_map_full = mapMemory;
	allocator->mem_unmap_full = unmapMemory;
	allocator->mem_copy = copyMemory;
	/* The fd allocator's share keeps the fd and points at the parent;
	 * contextOf() follows it there. Its plain map must never run: the
	 * full variants above take precedence in gst_memory_map(). */
}

std::shared_ptr<zcbuf::Buffer> gst_zcbuf_memory_get_buffer(GstMemory *memory)
{
	if (!memory || !gst_is_zcbuf_memory(memory))
		return nullptr;
	MemoryContext *context = contextOf(memory);
	return context ? context->buffer : nullptr;
}

gboolean gst_is_zcbuf_memory(GstMemory *memory)
{
	g_return_val_if_fail(memory != nullptr, FALSE);
	return memory->allocator && gst_is_zcbuf_allocator(memory->allocator);
}

GstMemory *gst_zcbuf_memory_wrap(GstAllocator *allocator,
				 std::shared_ptr<zcbuf::Buffer> buffer)
{
	if (!buffer || !buffer->isAllocated())
		return nullptr;

	bool dmabuf = buffer->isDmabuf();
	if (!allocator || !gst_is_zcbuf_allocator(allocator) ||
	    static_cast<bool>(gst_zcbuf_allocator_is_dmabuf(allocator)) != dmabuf)
		allocator = wrappingAllocator(dmabuf);

	int fd = buffer->fd().value();
	gsize maxsize = buffer->allocatedSize();
	/* The fd belongs to the buffer: GStreamer must never close it. */
	GstMemory *memory =
		gst_fd_allocator_alloc(allocator, fd, maxsize, GST_FD_MEMORY_FLAG_DONT_CLOSE);
	if (!memory)
		return nullptr;
	gst_memory_resize(memory, 0, buffer->size());
	if (buffer->isReadOnly())
		GST_MINI_OBJECT_FLAG_SET(memory, GST_MEMORY_FLAG_READONLY);

	gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(memory), contextQuark(),
				  new MemoryContext{ std::move(buffer) },
				  [](gpointer data) { delete static_cast<MemoryContext *>(data); });
	GST_LOG("wrapped fd %d (%" G_GSIZE_FORMAT " bytes) as %s memory %p", fd, maxsize,
		dmabuf ? "dmabuf" : "fd", memory);
	return memory;
}
