/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/zcbuf/gstzcbufallocator.h>
#include <gst/zcbuf/gstzcbufbufferpool.h>
#include <gst/zcbuf/gstzcbufconsumer.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>
#include <gst/zcbuf/gstzcbufoutput.h>

#include <string>
#include <vector>

#include <zcbuf/backend_choice.h>
#include <zcbuf/buffer.h>

#include "gstzcbufguard-private.h"
#include "gstzcbufneeds-private.h"

GST_DEBUG_CATEGORY_STATIC(gst_zcbuf_buffer_pool_debug);
#define GST_CAT_DEFAULT gst_zcbuf_buffer_pool_debug

namespace {

constexpr const char *kConstraintsField = "zcbuf-constraints";

struct PoolState {
	std::string spec;
	GstAllocator *allocator = nullptr;
	GstVideoInfo info;
	GstVideoAlignment alignment;
	std::vector<zcbuf::Constraints> constraints;
	unsigned allocated = 0;
};

enum {
	PROP_0,
	PROP_BACKEND,
};

} /* namespace */

struct _GstZcbufBufferPool {
	GstBufferPool parent;
	PoolState *state;
};

G_DEFINE_TYPE_WITH_CODE(GstZcbufBufferPool, gst_zcbuf_buffer_pool, GST_TYPE_BUFFER_POOL,
			GST_DEBUG_CATEGORY_INIT(gst_zcbuf_buffer_pool_debug, "zcbufpool", 0,
						"zcbuf video buffer pool"))

namespace {

/* A GstVideoAlignment stride mask from a byte alignment (a power of two). */
guint strideMask(std::size_t alignment)
{
	return alignment > 1 ? static_cast<guint>(alignment - 1) : 0;
}

/* Round a mask downstream gave us up to 2^n - 1, the only shape
 * gst_video_info_align() can honour. */
guint normaliseMask(guint mask)
{
	while (mask & (mask + 1))
		mask |= mask >> 1;
	return mask;
}

std::vector<zcbuf::Constraints> constraintsFromConfig(GstStructure *config)
{
	std::vector<zcbuf::Constraints> all;
	const GValue *array = gst_structure_get_value(config, kConstraintsField);
	if (!array || !GST_VALUE_HOLDS_ARRAY(array))
		return all;
	for (guint i = 0; i < gst_value_array_get_size(array); i++) {
		const GstStructure *s =
			gst_value_get_structure(gst_value_array_get_value(array, i));
		zcbuf::Constraints c;
		guint value = 0;
		gboolean flag = FALSE;
		if (const gchar *consumer = gst_structure_get_string(s, "consumer"))
			c.consumer = consumer;
		if (gst_structure_get_uint(s, "alignment", &value))
			c.alignment = value;
		if (gst_structure_get_uint(s, "stride-alignment", &value))
			c.strideAlignment = value;
		if (gst_structure_get_boolean(s, "contiguous", &flag))
			c.contiguous = flag;
		guint64 segment = 0;
		if (gst_structure_get_uint64(s, "max-segment", &segment))
			c.maxSegmentSize = static_cast<std::size_t>(segment);
		if (const gchar *backend = gst_structure_get_string(s, "backend"))
			c.backend = backend;
		all.push_back(std::move(c));
	}
	return all;
}

bool ensureAllocator(GstZcbufBufferPool *self)
{
	PoolState *state = self->state;
	if (state->allocator)
		return true;
	GError *error = nullptr;
	state->allocator =
		gst_zcbuf_allocator_new(state->spec.empty() ? nullptr : state->spec.c_str(), &error);
	if (!state->allocator) {
		GST_ERROR_OBJECT(self, "cannot open backend '%s': %s",
				 state->spec.empty() ? "default" : state->spec.c_str(),
				 error->message);
		g_clear_error(&error);
		return false;
	}
	return true;
}

const gchar **getOptions(GstBufferPool *)
{
	static const gchar *options[] = { GST_BUFFER_POOL_OPTION_VIDEO_META,
					  GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT, nullptr };
	return options;
}

gboolean setConfig(GstBufferPool *pool, GstStructure *config)
{
	GstZcbufBufferPool *self = GST_ZCBUF_BUFFER_POOL(pool);
	PoolState *state = self->state;

	GstCaps *caps = nullptr;
	guint size = 0, min = 0, max = 0;
	if (!gst_buffer_pool_config_get_params(config, &caps, &size, &min, &max) || !caps) {
		GST_ERROR_OBJECT(self, "the configuration has no caps");
		return FALSE;
	}
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, caps)) {
		GST_ERROR_OBJECT(self, "caps %" GST_PTR_FORMAT " are not raw video", caps);
		return FALSE;
	}

	/* Only a zcbuf allocator of our backend can fill this pool: a foreign
	 * one is replaced and the changed config refused, as GstBufferPool
	 * callers expect (they validate and set it again). */
	GstAllocator *given = nullptr;
	GstAllocationParams params;
	gst_buffer_pool_config_get_allocator(config, &given, &params);
	bool modified = false;
	std::shared_ptr<zcbuf::Backend> wanted;
	if (!state->spec.empty()) {
		zcbuf::Result<std::shared_ptr<zcbuf::Backend>> opened =
			zcbuf::openBackend(state->spec);
		if (!opened) {
			GST_ERROR_OBJECT(self, "backend %s: %s", state->spec.c_str(),
					 opened.error().message().c_str());
			return FALSE;
		}
		wanted = opened.value();
	}
	std::shared_ptr<zcbuf::Backend> givenBackend =
		gst_zcbuf_allocator_get_backend_object(given);
	if (givenBackend && (!wanted || givenBackend == wanted)) {
		gst_object_replace(reinterpret_cast<GstObject **>(&state->allocator),
				   GST_OBJECT(given));
	} else {
		if (given && given != state->allocator) {
			GST_INFO_OBJECT(self, "replacing allocator %" GST_PTR_FORMAT, given);
			modified = true;
		}
		if (!ensureAllocator(self))
			return FALSE;
		gst_buffer_pool_config_set_allocator(config, state->allocator, &params);
	}
	/* memory:DMABuf caps promise dma-buf memory: a backend that gives fd
	 * memory (memfd) cannot fill such a pool. */
	if (gst_zcbuf_caps_has_dmabuf_feature(caps, 0) &&
	    !gst_zcbuf_allocator_is_dmabuf(state->allocator)) {
		gchar *spec = gst_zcbuf_allocator_get_backend(state->allocator);
		GST_ERROR_OBJECT(self, "caps with memory:DMABuf need dma-buf memory; backend %s "
				 "gives fd memory", spec ? spec : "(none)");
		g_free(spec);
		return FALSE;
	}
	std::vector<zcbuf::Constraints> constraints = constraintsFromConfig(config);
	zcbuf::Result<zcbuf::CollatedConstraints> collated = zcbuf::collate(constraints);
	if (!collated) {
		GST_ERROR_OBJECT(self, "%s", collated.error().message().c_str());
		return FALSE;
	}

	GstVideoAlignment alignment;
	gst_video_alignment_reset(&alignment);
	if (gst_buffer_pool_config_has_option(config, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT))
		gst_buffer_pool_config_get_video_alignment(config, &alignment);
	guint consumerMask = strideMask(collated->merged.strideAlignment);
	for (guint &mask : alignment.stride_align)
		mask = normaliseMask(mask) | consumerMask;

	if (!gst_video_info_align(&info, &alignment)) {
		GST_ERROR_OBJECT(self, "cannot align %dx%d %s", GST_VIDEO_INFO_WIDTH(&info),
				 GST_VIDEO_INFO_HEIGHT(&info),
				 gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)));
		return FALSE;
	}
	if (size > GST_VIDEO_INFO_SIZE(&info))
		GST_VIDEO_INFO_SIZE(&info) = size;

	state->info = info;
	state->alignment = alignment;
	state->constraints = std::move(constraints);
	gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), min, max);
	GST_DEBUG_OBJECT(self, "%s %dx%d, %" G_GSIZE_FORMAT " bytes a buffer, stride0 %d",
			 gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)),
			 GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info),
			 GST_VIDEO_INFO_SIZE(&info), GST_VIDEO_INFO_PLANE_STRIDE(&info, 0));

	gboolean stored =
		GST_BUFFER_POOL_CLASS(gst_zcbuf_buffer_pool_parent_class)->set_config(pool, config);
	return stored && !modified;
}

GstFlowReturn allocBuffer(GstBufferPool *pool, GstBuffer **out, GstBufferPoolAcquireParams *)
{
	GstZcbufBufferPool *self = GST_ZCBUF_BUFFER_POOL(pool);
	PoolState *state = self->state;
	const GstVideoInfo *info = &state->info;

	std::string name = "zcbufpool-" + std::to_string(state->allocated++);
	std::shared_ptr<zcbuf::Buffer> buffer = zcbuf::Buffer::create(
		gst_zcbuf_allocator_get_backend_object(state->allocator),
		GST_VIDEO_INFO_SIZE(info), name);
	zcbuf::Result<void> ok;
	for (const zcbuf::Constraints &c : state->constraints) {
		ok = buffer->attach(c);
		if (!ok) {
			GST_ERROR_OBJECT(self, "%s", ok.error().message().c_str());
			return GST_FLOW_ERROR;
		}
	}
	std::vector<std::size_t> strides;
	for (guint i = 0; i < GST_VIDEO_INFO_N_PLANES(info); i++)
		strides.push_back(static_cast<std::size_t>(GST_VIDEO_INFO_PLANE_STRIDE(info, i)));
	buffer->setStrides(std::move(strides));

	ok = buffer->allocate();
	if (!ok) {
		GST_ERROR_OBJECT(self, "%s", ok.error().message().c_str());
		return GST_FLOW_ERROR;
	}

	GstMemory *memory = gst_zcbuf_memory_wrap(state->allocator, std::move(buffer));
	if (!memory)
		return GST_FLOW_ERROR;
	GstBuffer *result = gst_buffer_new();
	gst_buffer_append_memory(result, memory);

	GstVideoMeta *meta = gst_buffer_add_video_meta_full(
		result, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(info),
		GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info),
		GST_VIDEO_INFO_N_PLANES(info), const_cast<gsize *>(info->offset),
		const_cast<gint *>(info->stride));
	gst_video_meta_set_alignment(meta, state->alignment);

	*out = result;
	return GST_FLOW_OK;
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	PoolState *state = GST_ZCBUF_BUFFER_POOL(object)->state;
	switch (id) {
	case PROP_BACKEND: {
		const gchar *spec = g_value_get_string(value);
		state->spec = spec ? spec : "";
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	PoolState *state = GST_ZCBUF_BUFFER_POOL(object)->state;
	switch (id) {
	case PROP_BACKEND:
		g_value_set_string(value, state->spec.c_str());
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

} /* namespace */

/*
 * The recycle gate: a buffer back from its last user may still be in a
 * device's hands (a display scanning it out, a V4L2 queue reading it),
 * with implicit fences on its dma-buf saying so. The next user will write
 * it, so it goes out only when every pending device access is done,
 * waited for at most zcbuf::Buffer::kFenceTimeoutMs; after that the
 * acquire fails with an error that names the buffer.
 */
static GstFlowReturn acquireBuffer(GstBufferPool *pool, GstBuffer **buffer,
				   GstBufferPoolAcquireParams *params)
{
	GstFlowReturn ret = GST_BUFFER_POOL_CLASS(gst_zcbuf_buffer_pool_parent_class)
				    ->acquire_buffer(pool, buffer, params);
	if (ret != GST_FLOW_OK)
		return ret;
	for (guint i = 0; i < gst_buffer_n_memory(*buffer); i++) {
		std::shared_ptr<zcbuf::Buffer> backing =
			gst_zcbuf_memory_get_buffer(gst_buffer_peek_memory(*buffer, i));
		if (!backing)
			continue;
		zcbuf::Result<void> idle = backing->waitForDevices(zcbuf::Access::Write);
		if (!idle) {
			GST_ERROR_OBJECT(pool, "%s", idle.error().message().c_str());
			/* back into the queue, the vfunc itself: *buffer's pool
			 * is not set yet (gst_buffer_pool_acquire_buffer sets it
			 * on success), so gst_buffer_pool_release_buffer would
			 * drop it and a bounded pool would wait for it forever */
			GST_BUFFER_POOL_CLASS(gst_zcbuf_buffer_pool_parent_class)
				->release_buffer(pool, *buffer);
			*buffer = nullptr;
			return GST_FLOW_ERROR;
		}
	}
	return GST_FLOW_OK;
}

static void gst_zcbuf_buffer_pool_init(GstZcbufBufferPool *self)
{
	self->state = new PoolState();
	gst_video_info_init(&self->state->info);
	gst_video_alignment_reset(&self->state->alignment);
}

static void gst_zcbuf_buffer_pool_finalize(GObject *object)
{
	PoolState *state = std::exchange(GST_ZCBUF_BUFFER_POOL(object)->state, nullptr);
	gst_clear_object(&state->allocator);
	delete state;
	G_OBJECT_CLASS(gst_zcbuf_buffer_pool_parent_class)->finalize(object);
}

static void gst_zcbuf_buffer_pool_class_init(GstZcbufBufferPoolClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstBufferPoolClass *poolClass = GST_BUFFER_POOL_CLASS(klass);

	using zcbuf::gstlib::guardedVfunc;
	objectClass->set_property = guardedVfunc<setProperty, &gst_zcbuf_buffer_pool_debug>;
	objectClass->get_property = guardedVfunc<getProperty, &gst_zcbuf_buffer_pool_debug>;
	objectClass->finalize = gst_zcbuf_buffer_pool_finalize;
	poolClass->get_options = getOptions;
	poolClass->set_config = guardedVfunc<setConfig, &gst_zcbuf_buffer_pool_debug>;
	poolClass->alloc_buffer = guardedVfunc<allocBuffer, &gst_zcbuf_buffer_pool_debug>;
	poolClass->acquire_buffer = guardedVfunc<acquireBuffer, &gst_zcbuf_buffer_pool_debug>;

	g_object_class_install_property(
		objectClass, PROP_BACKEND,
		g_param_spec_string("backend", "Backend",
				    "Allocation backend: module, dma-heap[:HEAP], udmabuf, "
				    "drm[:/dev/dri/cardN], memfd; empty for ZCBUF_BACKEND or "
				    "the best available. Set when the pool is made",
				    nullptr,
				    /* Construct-only: set_config reads it on the
				     * streaming thread, and the allocator opened from it
				     * is kept, so a later change could neither be safe
				     * nor take effect. */
				    static_cast<GParamFlags>(G_PARAM_READWRITE |
							     G_PARAM_CONSTRUCT_ONLY |
							     G_PARAM_STATIC_STRINGS)));
}

GstBufferPool *gst_zcbuf_buffer_pool_new(const gchar *backend)
{
	GstBufferPool *pool = GST_BUFFER_POOL(
		g_object_new(GST_TYPE_ZCBUF_BUFFER_POOL, "backend", backend, nullptr));
	gst_object_ref_sink(pool);
	return pool;
}

GstAllocator *gst_zcbuf_buffer_pool_get_allocator(GstZcbufBufferPool *pool)
{
	g_return_val_if_fail(GST_IS_ZCBUF_BUFFER_POOL(pool), nullptr);
	GstAllocator *allocator = pool->state->allocator;
	return allocator ? GST_ALLOCATOR(gst_object_ref(allocator)) : nullptr;
}

void gst_zcbuf_buffer_pool_config_add_constraints(GstStructure *config, const gchar *consumer,
						  guint alignment, guint stride_alignment,
						  gboolean contiguous, const gchar *backend)
{
	gst_zcbuf_buffer_pool_config_add_constraints_full(config, consumer, alignment,
							  stride_alignment, 0, contiguous, backend);
}

void gst_zcbuf_buffer_pool_config_add_constraints_full(GstStructure *config,
						       const gchar *consumer, guint alignment,
						       guint stride_alignment, guint64 max_segment,
						       gboolean contiguous, const gchar *backend)
{
	g_return_if_fail(config != nullptr);

	GstStructure *entry = gst_structure_new(
		"zcbuf-constraint", "consumer", G_TYPE_STRING, consumer ? consumer : "",
		"alignment", G_TYPE_UINT, alignment, "stride-alignment", G_TYPE_UINT,
		stride_alignment, "max-segment", G_TYPE_UINT64, max_segment, "contiguous",
		G_TYPE_BOOLEAN, contiguous, nullptr);
	if (backend)
		gst_structure_set(entry, "backend", G_TYPE_STRING, backend, nullptr);

	/* One entry per consumer: an element that configures the same pool
	 * again (every renegotiation) replaces its entry instead of adding
	 * one more each time. */
	GValue array = G_VALUE_INIT;
	g_value_init(&array, GST_TYPE_ARRAY);
	const GValue *existing = gst_structure_get_value(config, kConstraintsField);
	for (guint i = 0; existing && GST_VALUE_HOLDS_ARRAY(existing) &&
			  i < gst_value_array_get_size(existing);
	     i++) {
		const GValue *old = gst_value_array_get_value(existing, i);
		const gchar *name = gst_structure_get_string(gst_value_get_structure(old), "consumer");
		if (consumer && *consumer && g_strcmp0(name, consumer) == 0)
			continue;
		gst_value_array_append_value(&array, old);
	}
	GValue item = G_VALUE_INIT;
	g_value_init(&item, GST_TYPE_STRUCTURE);
	gst_value_set_structure(&item, entry);
	gst_value_array_append_and_take_value(&array, &item);
	gst_structure_take_value(config, kConstraintsField, &array);
	gst_structure_free(entry);
}

gboolean gst_zcbuf_buffer_pool_config_set_alignment_from_query(GstStructure *config,
							       GstQuery *query)
{
	g_return_val_if_fail(config != nullptr && query != nullptr, FALSE);

	GstVideoAlignment merged;
	gst_video_alignment_reset(&merged);
	if (gst_buffer_pool_config_has_option(config, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT))
		gst_buffer_pool_config_get_video_alignment(config, &merged);

	bool asked = false;
	for (guint i = 0; i < gst_query_get_n_allocation_metas(query); i++) {
		const GstStructure *params = nullptr;
		if (gst_query_parse_nth_allocation_meta(query, i, &params) !=
			    GST_VIDEO_META_API_TYPE ||
		    !params)
			continue;
		guint value;
		auto largest = [&](const char *field, guint &into) {
			if (gst_structure_get_uint(params, field, &value)) {
				into = MAX(into, value);
				asked = true;
			}
		};
		largest("padding-top", merged.padding_top);
		largest("padding-bottom", merged.padding_bottom);
		largest("padding-left", merged.padding_left);
		largest("padding-right", merged.padding_right);
		for (guint plane = 0; plane < GST_VIDEO_MAX_PLANES; plane++) {
			gchar field[16];
			g_snprintf(field, sizeof(field), "stride-align%u", plane);
			if (gst_structure_get_uint(params, field, &value)) {
				merged.stride_align[plane] |= normaliseMask(value);
				asked = true;
			}
		}
	}

	gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
	if (asked) {
		gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT);
		gst_buffer_pool_config_set_video_alignment(config, &merged);
	}
	return asked;
}

gboolean gst_zcbuf_propose_allocation(GstQuery *query, guint min_buffers, const gchar *backend)
{
	return gst_zcbuf_propose_allocation_full(query, min_buffers, backend, nullptr);
}

gboolean gst_zcbuf_propose_allocation_full(GstQuery *query, guint min_buffers,
					   const gchar *backend, const gchar *constraints)
{
	/* The type's registration makes the debug category logged below. */
	g_type_ensure(GST_TYPE_ZCBUF_BUFFER_POOL);
	GstCaps *caps = nullptr;
	gboolean needPool = FALSE;
	gst_query_parse_allocation(query, &caps, &needPool);
	GstVideoInfo info;
	if (!caps || !gst_video_info_from_caps(&info, caps)) {
		GST_DEBUG("no raw video caps in the ALLOCATION query");
		return FALSE;
	}

	/* The pool's memory, chosen as a producer's is: from the needs in
	 * the query (the proposer's own, and in passthrough downstream's),
	 * the proposer's constraints and memory:DMABuf caps. */
	std::vector<zcbuf::ConsumerNeed> needs;
	for (guint i = 0; i < gst_zcbuf_query_get_n_consumer_needs(query); i++)
		needs.push_back(zcbuf::internal::needFromStructure(
			gst_zcbuf_query_get_consumer_needs(query, i)));
	if (constraints && *constraints) {
		zcbuf::Result<zcbuf::ConsumerNeed> own =
			zcbuf::parseConstraints(constraints, "the proposer's constraints");
		if (!own) {
			GST_WARNING("%s", own.error().message().c_str());
			return FALSE;
		}
		needs.push_back(std::move(own).value());
	}
	if (gst_zcbuf_caps_has_dmabuf_feature(caps, 0)) {
		zcbuf::ConsumerNeed dmabuf;
		dmabuf.consumer = "memory:DMABuf caps";
		dmabuf.dmabuf = true;
		needs.push_back(std::move(dmabuf));
	}
	auto [forced, origin] = zcbuf::internal::forcedBackend(backend);
	zcbuf::Result<zcbuf::BackendChoice> choice = zcbuf::chooseBackend(needs, forced, origin);
	if (!choice) {
		GST_WARNING("no pool proposed: %s", choice.error().message().c_str());
		return FALSE;
	}
	GST_INFO("proposing a %s pool: %s", choice->spec.c_str(), choice->reason.c_str());

	GstBufferPool *pool = gst_zcbuf_buffer_pool_new(choice->spec.c_str());
	GstStructure *config = gst_buffer_pool_get_config(pool);
	gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), min_buffers, 0);
	gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
	zcbuf::internal::addNeedConstraints(config, needs);
	if (!gst_buffer_pool_set_config(pool, config)) {
		gst_object_unref(pool);
		return FALSE;
	}
	/* set_config may have grown the size for alignment. */
	config = gst_buffer_pool_get_config(pool);
	guint size = 0;
	gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
	gst_structure_free(config);

	GstAllocator *allocator = gst_zcbuf_buffer_pool_get_allocator(GST_ZCBUF_BUFFER_POOL(pool));
	gst_query_add_allocation_pool(query, needPool ? pool : nullptr, size, min_buffers, 0);
	gst_query_add_allocation_param(query, allocator, nullptr);
	gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
	gst_object_unref(allocator);
	gst_object_unref(pool);
	return TRUE;
}
