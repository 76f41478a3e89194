/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a sink received, counted from fakesink's "handoff" signal: how many
 * buffers, how many of them in zcbuf memory and in dma-buf memory, and
 * which distinct GstMemory objects (few means they were recycled).
 */
#pragma once

#include <set>

#include <gst/allocators/allocators.h>
#include <gst/gst.h>
#include <gst/zcbuf/gstzcbuf.h>

namespace zcbuf::test {

struct MemoryCounts {
	int buffers = 0;
	int zcbuf = 0;
	int dmabuf = 0;
	std::set<GstMemory *> memories;
};

/* A "handoff" handler; @user is a MemoryCounts. */
inline void countHandoff(GstElement *, GstBuffer *buffer, GstPad *, gpointer user)
{
	MemoryCounts *counts = static_cast<MemoryCounts *>(user);
	counts->buffers++;
	GstMemory *memory = gst_buffer_peek_memory(buffer, 0);
	counts->zcbuf += gst_is_zcbuf_memory(memory) ? 1 : 0;
	counts->dmabuf += gst_is_dmabuf_memory(memory) ? 1 : 0;
	counts->memories.insert(memory);
}

} /* namespace zcbuf::test */
