/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-buffer cost of acquire + map(write) + unmap + release, for:
 *   - the zcbuf pool (default backend),
 *   - a GstVideoBufferPool of system memory,
 *   - GstFdAllocator memory around memfds without KEEP_MAPPED, the way a
 *     1.22 user wraps fds today (every map is a fresh mmap, every unmap a
 *     munmap),
 * at 1080p and 4K NV12, once with the map alone and once writing one byte
 * to every page after the map (what a real producer pays). The subjects
 * alternate within each repetition so that they share the machine's state.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gst/allocators/allocators.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <zcbuf/unique_fd.h>

#include "bench_output.h"

namespace {

/* A pool whose buffers wrap memfds with GstFdAllocator and no flags: the
 * allocator mmaps on map and munmaps on unmap. */
struct FdWrapPool {
	GstBufferPool parent;
};
struct FdWrapPoolClass {
	GstBufferPoolClass parent_class;
};

GType fdWrapPoolType();
GstAllocator *fdAllocator;
GstVideoInfo fdWrapInfo;

gboolean fdWrapSetConfig(GstBufferPool *pool, GstStructure *config)
{
	GstCaps *caps = nullptr;
	gst_buffer_pool_config_get_params(config, &caps, nullptr, nullptr, nullptr);
	if (!caps || !gst_video_info_from_caps(&fdWrapInfo, caps))
		return FALSE;
	return GST_BUFFER_POOL_CLASS(g_type_class_peek_parent(G_OBJECT_GET_CLASS(pool)))
		->set_config(pool, config);
}

GstFlowReturn fdWrapAlloc(GstBufferPool *, GstBuffer **out, GstBufferPoolAcquireParams *)
{
	gsize size = GST_VIDEO_INFO_SIZE(&fdWrapInfo);
	/* Sealed as a real sender's must be: zcupload refuses a memfd that
	 * could shrink under its mapping. */
	zcbuf::UniqueFD fd(memfd_create("fdwrap", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd.isValid() || ftruncate(fd.get(), static_cast<off_t>(size)) < 0 ||
	    fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		return GST_FLOW_ERROR;
	/* The allocator takes the fd and closes it with the memory. */
	GstMemory *memory =
		gst_fd_allocator_alloc(fdAllocator, fd.release(), size, GST_FD_MEMORY_FLAG_NONE);
	GstBuffer *buffer = gst_buffer_new();
	gst_buffer_append_memory(buffer, memory);
	gst_buffer_add_video_meta_full(buffer, GST_VIDEO_FRAME_FLAG_NONE,
				       GST_VIDEO_INFO_FORMAT(&fdWrapInfo),
				       GST_VIDEO_INFO_WIDTH(&fdWrapInfo),
				       GST_VIDEO_INFO_HEIGHT(&fdWrapInfo),
				       GST_VIDEO_INFO_N_PLANES(&fdWrapInfo), fdWrapInfo.offset,
				       fdWrapInfo.stride);
	*out = buffer;
	return GST_FLOW_OK;
}

void fdWrapClassInit(gpointer klass, gpointer)
{
	GstBufferPoolClass *poolClass = GST_BUFFER_POOL_CLASS(klass);
	poolClass->set_config = fdWrapSetConfig;
	poolClass->alloc_buffer = fdWrapAlloc;
}

GType fdWrapPoolType()
{
	static GType type = 0;
	if (!type)
		type = g_type_register_static_simple(GST_TYPE_BUFFER_POOL, "BenchFdWrapPool",
						     sizeof(FdWrapPoolClass), fdWrapClassInit,
						     sizeof(FdWrapPool), nullptr, GTypeFlags(0));
	return type;
}

struct Subject {
	std::string name;
	GstBufferPool *pool;
};

GstBufferPool *configure(GstBufferPool *pool, GstCaps *caps, const GstVideoInfo &info)
{
	GstStructure *config = gst_buffer_pool_get_config(pool);
	gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), 4, 4);
	gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
	if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE)) {
		fprintf(stderr, "cannot configure %s\n", G_OBJECT_TYPE_NAME(pool));
		exit(1);
	}
	return pool;
}

/* One acquire/map/(touch)/unmap/release cycle. */
void cycle(GstBufferPool *pool, bool touch, guint8 value)
{
	GstBuffer *buffer = nullptr;
	if (gst_buffer_pool_acquire_buffer(pool, &buffer, nullptr) != GST_FLOW_OK)
		exit(1);
	GstMapInfo map;
	if (!gst_buffer_map(buffer, &map, GST_MAP_WRITE))
		exit(1);
	if (touch) {
		for (gsize offset = 0; offset < map.size; offset += 4096)
			map.data[offset] = value;
	}
	gst_buffer_unmap(buffer, &map);
	gst_buffer_unref(buffer);
}

double microsecondsPerCycle(GstBufferPool *pool, bool touch, int cycles)
{
	auto start = std::chrono::steady_clock::now();
	for (int i = 0; i < cycles; i++)
		cycle(pool, touch, static_cast<guint8>(i));
	std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
	return elapsed.count() / cycles;
}

void runCase(const char *label, int width, int height, const char *backend)
{
	GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "NV12",
					    "width", G_TYPE_INT, width, "height", G_TYPE_INT,
					    height, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
	GstVideoInfo info;
	gst_video_info_from_caps(&info, caps);

	GstBufferPool *zcbuf = gst_zcbuf_buffer_pool_new(nullptr);
	std::vector<Subject> subjects = {
		{ std::string("zcbuf pool (") + backend + ")", configure(zcbuf, caps, info) },
		{ "system-memory pool", configure(gst_video_buffer_pool_new(), caps, info) },
		{ "GstFdAllocator memfd, no KEEP_MAPPED",
		  configure(GST_BUFFER_POOL(g_object_new(fdWrapPoolType(), nullptr)), caps, info) },
	};

	const int repetitions = bench::slow() ? 2 : 7;
	const int mapCycles = bench::slow() ? 200 : 4000;
	const int touchCycles = width > 1920 ? 60 : 150;

	for (bool touch : { false, true }) {
		/* Warm up: every pooled buffer mapped and its pages touched. */
		for (Subject &s : subjects)
			for (int i = 0; i < 8; i++)
				cycle(s.pool, true, 1);

		std::vector<std::vector<double>> samples(subjects.size());
		for (int r = 0; r < repetitions; r++)
			for (std::size_t i = 0; i < subjects.size(); i++)
				samples[i].push_back(microsecondsPerCycle(
					subjects[i].pool, touch, touch ? touchCycles : mapCycles));

		std::string name = std::string(label) +
				   (touch ? " NV12, map + one write per page" : " NV12, map only");
		for (std::size_t i = 0; i < subjects.size(); i++)
			bench::report("pool-cycle", name, subjects[i].name, bench::median(samples[i]),
				      "us/buffer", "lower");
	}

	for (Subject &s : subjects) {
		gst_buffer_pool_set_active(s.pool, FALSE);
		gst_object_unref(s.pool);
	}
	gst_caps_unref(caps);
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	gst_zcbuf_init();
	fdAllocator = gst_fd_allocator_new();

	GstAllocator *probe = gst_zcbuf_allocator_new(nullptr, nullptr);
	gchar *backend = probe ? gst_zcbuf_allocator_get_backend(probe) : g_strdup("none");
	if (probe)
		gst_object_unref(probe);

	runCase("1080p", 1920, 1080, backend);
	runCase("4K", 3840, 2160, backend);

	g_free(backend);
	gst_object_unref(fdAllocator);
	return 0;
}
