/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/zcbuf/gstzcbufoutput.h>

#include "gstzcbufneeds-private.h"

#include <string>
#include <vector>

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>

#include <zcbuf/backend.h>
#include <zcbuf/backend_choice.h>

GST_DEBUG_CATEGORY_STATIC(gst_zcbuf_output_debug);
#define GST_CAT_DEFAULT gst_zcbuf_output_debug
GST_DEBUG_CATEGORY_STATIC(CAT_PERFORMANCE);

namespace {

void init()
{
	static gsize once = 0;
	if (g_once_init_enter(&once)) {
		GST_DEBUG_CATEGORY_INIT(gst_zcbuf_output_debug, "zcbufoutput", 0,
					"zcbuf elements choosing the pool they write into");
		GST_DEBUG_CATEGORY_GET(CAT_PERFORMANCE, "GST_PERFORMANCE");
		g_once_init_leave(&once, 1);
	}
}

GstDebugCategory *performance()
{
	return CAT_PERFORMANCE;
}

/* Whether a downstream pool's buffers are fd (dma-buf) memory, as its
 * config names the allocator. A pool that names none is taken for one that
 * is not: it is never started to find out (a kms or v4l2 pool would
 * allocate or REQBUFS for that), and a zcbuf pool is written into instead. */
bool givesFdMemory(GstElement *element, GstBufferPool *pool, bool dmabuf)
{
	GstStructure *config = gst_buffer_pool_get_config(pool);
	GstAllocator *allocator = nullptr;
	gst_buffer_pool_config_get_allocator(config, &allocator, nullptr);
	bool fd = allocator && (dmabuf ? GST_IS_DMABUF_ALLOCATOR(allocator)
				       : GST_IS_FD_ALLOCATOR(allocator));
	GST_CAT_DEBUG_OBJECT(GST_CAT_DEFAULT, element,
			     "downstream pool %" GST_PTR_FORMAT " names allocator %" GST_PTR_FORMAT
			     ": %s memory",
			     pool, allocator, fd ? "fd" : "not fd");
	gst_structure_free(config);
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

/* Adds the element's own needs to a pool config. */
void addNeeds(GstElement *element, GstStructure *config, GstQuery *query, bool zcbufPool,
	      const GstZcbufOutputParams *params)
{
	bool videoMeta = gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
	if (videoMeta)
		gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
	if (zcbufPool && videoMeta && params->stride_alignment)
		gst_zcbuf_buffer_pool_config_add_constraints(config, GST_ELEMENT_NAME(element), 0,
							     params->stride_alignment, FALSE,
							     nullptr);
}

constexpr const char *kChosenKey = "zcbuf-chosen-backend";
GMutex chosenLock;

/* An element error posted once per element and message: every
 * renegotiation decides again. */
void errorOnce(GstElement *element, const std::string &message)
{
	std::string key = "zcbuf-error:" + message;
	if (g_object_get_data(G_OBJECT(element), key.c_str()))
		return;
	g_object_set_data(G_OBJECT(element), key.c_str(), GINT_TO_POINTER(1));
	GST_ELEMENT_ERROR(element, RESOURCE, SETTINGS, ("%s", message.c_str()), (nullptr));
}

void recordChoice(GstElement *element, const std::string &choice)
{
	GST_CAT_INFO_OBJECT(GST_CAT_DEFAULT, element, "memory: %s", choice.c_str());
	/* Not the object lock: elements read this from get_property, which
	 * holds it. */
	g_mutex_lock(&chosenLock);
	g_object_set_data_full(G_OBJECT(element), kChosenKey, g_strdup(choice.c_str()), g_free);
	g_mutex_unlock(&chosenLock);
}

/* Every need that reached the query, as the decision reads them. */
std::vector<zcbuf::ConsumerNeed> needsFromQuery(GstQuery *query)
{
	std::vector<zcbuf::ConsumerNeed> needs;
	guint n = gst_zcbuf_query_get_n_consumer_needs(query);
	for (guint i = 0; i < n; i++)
		needs.push_back(
			zcbuf::internal::needFromStructure(gst_zcbuf_query_get_consumer_needs(query, i)));
	return needs;
}

/* The element's own needs beside downstream's: its constraints property
 * and memory:DMABuf output caps. */
zcbuf::Result<std::vector<zcbuf::ConsumerNeed>> collectNeeds(GstElement *element, GstQuery *query,
							     const GstZcbufOutputParams *params)
{
	std::vector<zcbuf::ConsumerNeed> needs = needsFromQuery(query);
	std::string name = GST_ELEMENT_NAME(element);
	if (params->constraints && *params->constraints) {
		zcbuf::Result<zcbuf::ConsumerNeed> own =
			zcbuf::parseConstraints(params->constraints, name + "'s constraints");
		if (!own)
			return own.error();
		needs.push_back(std::move(own).value());
	}
	if (params->dmabuf) {
		zcbuf::ConsumerNeed caps;
		caps.consumer = name + "'s memory:DMABuf output caps";
		caps.dmabuf = true;
		needs.push_back(std::move(caps));
	}
	return needs;
}

} /* namespace */

gchar *gst_zcbuf_element_get_chosen_backend(GstElement *element)
{
	g_return_val_if_fail(GST_IS_ELEMENT(element), nullptr);
	g_mutex_lock(&chosenLock);
	gchar *choice =
		g_strdup(static_cast<const gchar *>(g_object_get_data(G_OBJECT(element), kChosenKey)));
	g_mutex_unlock(&chosenLock);
	return choice;
}

GParamSpec *gst_zcbuf_param_spec_constraints(void)
{
	return g_param_spec_string(
		"constraints", "Constraints",
		"Needs of a consumer that cannot state them in the ALLOCATION query, "
		"collated with those that do when the element allocates: comma-separated "
		"contiguous, dmabuf, align=N, stride-align=N, device=PATH",
		"",
		static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
					 GST_PARAM_MUTABLE_READY));
}

GParamSpec *gst_zcbuf_param_spec_chosen_backend(void)
{
	return g_param_spec_string(
		"chosen-backend", "Chosen backend",
		"The memory the element writes into and why, \"SPEC: REASON\", once it has "
		"decided (downstream's pool, or its own pool's backend chosen from the "
		"consumers' needs)",
		nullptr, static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

gboolean gst_zcbuf_element_open_backend(GstElement *element, const gchar *backend)
{
	init();
	auto [spec, origin] = zcbuf::internal::forcedBackend(backend);
	/* The default always opens (memfd at worst): nothing to check, and
	 * no probe to repeat before the pool's own. */
	if (spec.empty())
		return TRUE;
	zcbuf::Result<std::shared_ptr<zcbuf::Backend>> opened = zcbuf::openBackend(spec);
	if (opened) {
		GST_CAT_INFO_OBJECT(GST_CAT_DEFAULT, element, "backend %s (from %s)",
				    opened.value()->description().c_str(), origin.c_str());
		return TRUE;
	}
	/* Once per element and backend: every renegotiation asks again. */
	std::string key = "zcbuf-backend-error:" + spec;
	if (!g_object_get_data(G_OBJECT(element), key.c_str())) {
		g_object_set_data(G_OBJECT(element), key.c_str(), GINT_TO_POINTER(1));
		GST_ELEMENT_ERROR(element, RESOURCE, OPEN_READ_WRITE,
				  ("zcbuf backend '%s' (asked for by %s) is not available: %s",
				   spec.c_str(), origin.c_str(), opened.error().message().c_str()),
				  (nullptr));
	}
	return FALSE;
}

gboolean gst_zcbuf_backend_may_give_dmabuf(const gchar *backend)
{
	const char *spec = backend && *backend ? backend : g_getenv("ZCBUF_BACKEND");
	if (!spec || !*spec)
		return zcbuf::systemDmabufNodeExists();
	zcbuf::Result<bool> dmabuf = zcbuf::specGivesDmabuf(spec);
	return dmabuf && dmabuf.value();
}

gboolean gst_zcbuf_caps_has_dmabuf_feature(GstCaps *caps, guint index)
{
	GstCapsFeatures *features = caps ? gst_caps_get_features(caps, index) : nullptr;
	return features && gst_caps_features_contains(features, GST_CAPS_FEATURE_MEMORY_DMABUF);
}

gboolean gst_zcbuf_decide_allocation(GstElement *element, GstQuery *query,
				     const GstZcbufOutputParams *params)
{
	init();
	const std::string backend = params->backend ? params->backend : "";
	const bool dmabuf = params->dmabuf;

	GstCaps *caps = nullptr;
	gst_query_parse_allocation(query, &caps, nullptr);
	GstVideoInfo info;
	if (!caps || !gst_video_info_from_caps(&info, caps)) {
		GST_ELEMENT_ERROR(element, CORE, NEGOTIATION, (nullptr),
				  ("allocation query without video caps"));
		return FALSE;
	}

	GstBufferPool *pool = nullptr;
	guint size = static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)), min = 0, max = 0;
	bool hadPool = gst_query_get_n_allocation_pools(query) > 0;
	if (hadPool)
		gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
	size = MAX(size, static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)));
	min += params->extra_buffers;
	if (max)
		max = MAX(max, min);

	if (pool) {
		bool zcbufPool = GST_IS_ZCBUF_BUFFER_POOL(pool);
		GstStructure *config = gst_buffer_pool_get_config(pool);
		gst_buffer_pool_config_set_params(config, caps, size, min, max);
		addNeeds(element, config, query, zcbufPool, params);
		bool configured = gst_buffer_pool_set_config(pool, config);
		if (!configured) {
			/* A pool may adjust the config and refuse it once. The
			 * pool takes every config it is given, accepted or not. */
			config = gst_buffer_pool_get_config(pool);
			if (gst_buffer_pool_config_validate_params(config, caps, size, min, max))
				configured = gst_buffer_pool_set_config(pool, config);
			else
				gst_structure_free(config);
		}
		bool usable = configured &&
			      (zcbufPool ? !dmabuf || zcbufPoolIsDmabuf(pool)
					 : givesFdMemory(element, pool, dmabuf));
		if (!usable) {
			GST_CAT_INFO_OBJECT(performance(), element,
					    "downstream pool %" GST_PTR_FORMAT
					    " gives no %s memory: writing into a zcbuf pool",
					    pool, dmabuf ? "dma-buf" : "fd");
			gst_clear_object(&pool);
		} else {
			std::string what = "downstream's pool " + std::string(GST_OBJECT_NAME(pool));
			if (zcbufPool) {
				GstAllocator *allocator = gst_zcbuf_buffer_pool_get_allocator(
					GST_ZCBUF_BUFFER_POOL(pool));
				gchar *spec = allocator ? gst_zcbuf_allocator_get_backend(allocator)
							: nullptr;
				what = std::string(spec ? spec : "zcbuf") + ": " + what;
				g_free(spec);
				gst_clear_object(&allocator);
			} else {
				what = "fd memory: " + what;
			}
			recordChoice(element, what);
		}
	}

	if (!pool) {
		auto [forced, origin] = zcbuf::internal::forcedBackend(backend.c_str());
		zcbuf::Result<std::vector<zcbuf::ConsumerNeed>> needs =
			collectNeeds(element, query, params);
		zcbuf::Result<zcbuf::BackendChoice> choice =
			needs ? zcbuf::chooseBackend(needs.value(), forced, origin)
			      : zcbuf::Result<zcbuf::BackendChoice>(needs.error());
		if (!choice) {
			errorOnce(element, choice.error().message());
			return FALSE;
		}
		recordChoice(element, choice->spec + ": " + choice->reason);

		pool = gst_zcbuf_buffer_pool_new(choice->spec.c_str());
		GstStructure *config = gst_buffer_pool_get_config(pool);
		min = MAX(min, 2u);
		gst_buffer_pool_config_set_params(config, caps, size, min, max);
		gst_zcbuf_buffer_pool_config_set_alignment_from_query(config, query);
		addNeeds(element, config, query, true, params);
		zcbuf::internal::addNeedConstraints(config, needs.value());
		if (!gst_buffer_pool_set_config(pool, config)) {
			errorOnce(element, "Cannot allocate from zcbuf backend '" + choice->spec +
						   "' (" + choice->reason +
						   "): the pool refused the configuration, see the "
						   "zcbufpool debug category");
			gst_object_unref(pool);
			return FALSE;
		}
		if (dmabuf && !zcbufPoolIsDmabuf(pool)) {
			GST_ELEMENT_ERROR(element, CORE, NEGOTIATION,
					  ("memory:DMABuf output, but the zcbuf backend gives no dma-bufs"),
					  ("backend '%s'", backend.c_str()));
			gst_object_unref(pool);
			return FALSE;
		}
		config = gst_buffer_pool_get_config(pool);
		gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
		gst_structure_free(config);
		GST_CAT_INFO_OBJECT(GST_CAT_DEFAULT, element, "writing into a zcbuf pool of its own");
	}

	if (hadPool)
		gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
	else
		gst_query_add_allocation_pool(query, pool, size, min, max);

	/* Memory made outside the pool comes from the same allocator. */
	GstStructure *config = gst_buffer_pool_get_config(pool);
	GstAllocator *allocator = nullptr;
	GstAllocationParams allocationParams;
	gst_buffer_pool_config_get_allocator(config, &allocator, &allocationParams);
	if (allocator) {
		if (gst_query_get_n_allocation_params(query) > 0)
			gst_query_set_nth_allocation_param(query, 0, allocator, &allocationParams);
		else
			gst_query_add_allocation_param(query, allocator, &allocationParams);
	}
	gst_structure_free(config);
	gst_object_unref(pool);
	return TRUE;
}

namespace zcbuf::internal {

ConsumerNeed needFromStructure(const GstStructure *s)
{
	ConsumerNeed need;
	gboolean flag = FALSE;
	guint value = 0;
	if (const gchar *consumer = gst_structure_get_string(s, "consumer"))
		need.consumer = consumer;
	if (const gchar *device = gst_structure_get_string(s, "device"))
		need.device = device;
	if (gst_structure_get_boolean(s, "own-device-memory", &flag))
		need.ownDeviceMemory = flag;
	if (gst_structure_get_boolean(s, "dmabuf", &flag))
		need.dmabuf = flag;
	if (gst_structure_get_boolean(s, "contiguous", &flag))
		need.contiguous = flag;
	if (gst_structure_get_boolean(s, "optional", &flag))
		need.optional = flag;
	if (gst_structure_get_uint(s, "align", &value))
		need.alignment = value;
	if (gst_structure_get_uint(s, "stride-align", &value))
		need.strideAlignment = value;
	guint64 segment = 0;
	if (gst_structure_get_uint64(s, "max-segment", &segment))
		need.maxSegment = static_cast<std::size_t>(segment);
	return need;
}

void addNeedConstraints(GstStructure *config, const std::vector<ConsumerNeed> &needs)
{
	for (const ConsumerNeed &need : needs)
		if (need.contiguous || need.alignment || need.strideAlignment || need.maxSegment)
			gst_zcbuf_buffer_pool_config_add_constraints_full(
				config, need.consumer.c_str(), static_cast<guint>(need.alignment),
				static_cast<guint>(need.strideAlignment),
				static_cast<guint64>(need.maxSegment), need.contiguous, nullptr);
}

ForcedBackend forcedBackend(const char *property)
{
	if (property && *property)
		return { property, "the backend property" };
	const char *env = g_getenv("ZCBUF_BACKEND");
	if (env && *env)
		return { env, "the ZCBUF_BACKEND environment variable" };
	return {};
}

} /* namespace zcbuf::internal */
