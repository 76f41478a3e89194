/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "zcoutputpool.h"

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>

#include <zcbuf/backend.h>

GST_DEBUG_CATEGORY_STATIC(CAT_PERFORMANCE);

namespace zcbuf {

namespace {

GstDebugCategory *performance()
{
	static gsize once = 0;
	if (g_once_init_enter(&once)) {
		GST_DEBUG_CATEGORY_GET(CAT_PERFORMANCE, "GST_PERFORMANCE");
		g_once_init_leave(&once, 1);
	}
	return CAT_PERFORMANCE;
}

/* Whether a downstream pool's buffers are fd (dma-buf) memory: its config's
 * allocator says so, or, when it names none, one buffer is asked for. */
bool givesFdMemory(GstElement *element, GstDebugCategory *category, GstBufferPool *pool,
		   bool dmabuf)
{
	GstStructure *config = gst_buffer_pool_get_config(pool);
	GstAllocator *allocator = nullptr;
	gst_buffer_pool_config_get_allocator(config, &allocator, nullptr);
	gst_structure_free(config);
	if (allocator)
		return dmabuf ? GST_IS_DMABUF_ALLOCATOR(allocator) : GST_IS_FD_ALLOCATOR(allocator);

	if (!gst_buffer_pool_set_active(pool, TRUE))
		return false;
	GstBuffer *buffer = nullptr;
	bool fd = false;
	if (gst_buffer_pool_acquire_buffer(pool, &buffer, nullptr) == GST_FLOW_OK) {
		GstMemory *memory = gst_buffer_peek_memory(buffer, 0);
		fd = dmabuf ? gst_is_dmabuf_memory(memory) : gst_is_fd_memory(memory);
		gst_buffer_unref(buffer);
	}
	gst_buffer_pool_set_active(pool, FALSE);
	GST_CAT_DEBUG_OBJECT(category, element, "downstream pool %" GST_PTR_FORMAT " gives %s memory",
			     pool, fd ? "fd" : "other");
	return fd;
}

bool zcbufPoolIsDmabuf(GstBufferPool *pool)
{
	GstAllocator *allocator = gst_zcbuf_buffer_pool_get_allocator(GST_ZCBUF_BUFFER_POOL(pool));
	bool dmabuf = allocator && gst_zcbuf_allocator_is_dmabuf(allocator);
	if (allocator)
		gst_object_unref(allocator);
	return dmabuf;
}

} /* namespace */

bool backendGivesDmabuf(const std::string &backend)
{
	Result<std::shared_ptr<Backend>> opened =
		backend.empty() ? defaultBackend() : openBackend(backend);
	return opened && opened.value()->capabilities().dmabuf;
}

bool chooseOutputPool(GstElement *element, GstDebugCategory *category, GstQuery *query,
		      const std::string &backend, bool dmabuf)
{
	GstCaps *caps = nullptr;
	gst_query_parse_allocation(query, &caps, nullptr);
	GstVideoInfo info;
	if (!caps || !gst_video_info_from_caps(&info, caps)) {
		GST_ELEMENT_ERROR(element, CORE, NEGOTIATION, (nullptr),
				  ("allocation query without video caps"));
		return false;
	}

	GstBufferPool *pool = nullptr;
	guint size = static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)), min = 0, max = 0;
	if (gst_query_get_n_allocation_pools(query) > 0)
		gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
	size = MAX(size, static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)));

	if (pool) {
		bool zcbufPool = GST_IS_ZCBUF_BUFFER_POOL(pool);
		GstStructure *config = gst_buffer_pool_get_config(pool);
		gst_buffer_pool_config_set_params(config, caps, size, min, max);
		if (gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
			gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
		bool configured = gst_buffer_pool_set_config(pool, config);
		if (!configured) {
			/* A pool may adjust the config and refuse it once. */
			config = gst_buffer_pool_get_config(pool);
			configured = gst_buffer_pool_config_validate_params(config, caps, size, min, max) &&
				     gst_buffer_pool_set_config(pool, config);
			if (!configured)
				gst_structure_free(config);
		}
		bool usable = configured &&
			      (zcbufPool ? !dmabuf || zcbufPoolIsDmabuf(pool)
					 : givesFdMemory(element, category, pool, dmabuf));
		if (!usable) {
			GST_CAT_INFO_OBJECT(performance(), element,
					    "downstream pool %" GST_PTR_FORMAT
					    " gives no %s memory: writing into a zcbuf pool",
					    pool, dmabuf ? "dma-buf" : "fd");
			gst_clear_object(&pool);
		} else {
			GST_CAT_INFO_OBJECT(category, element,
					    "writing into downstream's pool %" GST_PTR_FORMAT, pool);
		}
	}

	if (!pool) {
		pool = gst_zcbuf_buffer_pool_new(backend.empty() ? nullptr : backend.c_str());
		GstStructure *config = gst_buffer_pool_get_config(pool);
		min = MAX(min, 2u);
		gst_buffer_pool_config_set_params(config, caps, size, min, max);
		gst_zcbuf_buffer_pool_config_set_alignment_from_query(config, query);
		if (!gst_buffer_pool_set_config(pool, config)) {
			GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS,
					  ("Cannot allocate from zcbuf backend '%s'",
					   backend.empty() ? "default" : backend.c_str()),
					  ("the zcbuf pool refused %" GST_PTR_FORMAT
					   " (see the zcbufpool debug category)",
					   caps));
			gst_object_unref(pool);
			return false;
		}
		if (dmabuf && !zcbufPoolIsDmabuf(pool)) {
			GST_ELEMENT_ERROR(element, CORE, NEGOTIATION,
					  ("memory:DMABuf output, but the zcbuf backend gives no dma-bufs"),
					  ("backend '%s'", backend.c_str()));
			gst_object_unref(pool);
			return false;
		}
		config = gst_buffer_pool_get_config(pool);
		gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
		gst_structure_free(config);
		GST_CAT_INFO_OBJECT(category, element, "writing into a zcbuf pool of its own");
	}

	if (gst_query_get_n_allocation_pools(query) > 0)
		gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
	else
		gst_query_add_allocation_pool(query, pool, size, min, max);
	gst_object_unref(pool);
	return true;
}

} /* namespace zcbuf */
