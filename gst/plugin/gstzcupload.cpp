/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcupload decides per buffer (prepare_output_buffer):
 *
 *  - every memory is zcbuf memory: the same buffer goes on;
 *  - every memory is fd memory (a dma-buf or a memfd from another
 *    allocator): each memory is imported as zcbuf memory with
 *    gst_zcbuf_allocator_import_fd(), keeping its offset and size, so the
 *    buffer's layout (and its GstVideoMeta) stays valid;
 *  - anything else (system memory, mixed memories, fd memory that is
 *    neither a dma-buf nor a memfd, such as a shm_open() or tmpfs file, or
 *    fd memory that is no dma-buf when the output caps promise
 *    memory:DMABuf): one copy into a
 *    buffer of the output pool, frame by frame with gst_video_frame_copy(),
 *    recorded with gst_zcbuf_record_copy().
 *
 * Lifetime of a wrapped buffer: the import owns a duplicate of the fd, so
 * the memory object outlives anything upstream does with its own fd; and
 * the wrapped buffer holds the upstream buffer (GstParentBufferMeta) until
 * downstream is done with it, so that an upstream pool cannot recycle the
 * memory and write the next frame into it while it is still being read.
 *
 * Imports are cached on the upstream memory (qdata): pools recycle their
 * memories, and downstream importers (kmssink, glupload) cache their own
 * imports on the memory objects they see, which must therefore be stable.
 * Two zcuploads may see the same memory (tee branches): the cache is read,
 * referenced and replaced under one lock.
 *
 * Every frame's layout (its GstVideoMeta, else the caps') is checked
 * against the buffer's size before anything reads it or passes it on.
 */
#include "gstzcupload.h"

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>

#include <atomic>
#include <mutex>
#include <string>
#include <utility>

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <gst/zcbuf/gstzcbufframe.h>

#include "gstzcguard.h"


GST_DEBUG_CATEGORY_STATIC(gst_zc_upload_debug);
#define GST_CAT_DEFAULT gst_zc_upload_debug

namespace {

enum {
	PROP_0,
	PROP_BACKEND,
	PROP_STATS,
	PROP_CONSTRAINTS,
	PROP_CHOSEN_BACKEND,
};

struct State {
	/* Under the object lock. */
	std::string backend;
	std::string constraints;

	/* Streaming thread. */
	GstVideoInfo info;
	bool outputDmabuf = false;

	std::atomic<guint64> passed{ 0 }, wrapped{ 0 }, copied{ 0 };
};

GQuark importQuark()
{
	static GQuark quark = g_quark_from_static_string("GstZcUploadImport");
	return quark;
}

/* Guards every import cache on every memory (see above). */
std::mutex importCacheLock;

/*
 * Whether @memory is fd memory over a plain file, neither a dma-buf nor a
 * memfd (a shm_open() segment, a tmpfs or hugetlbfs file): zcbuf does not
 * import those, but they map like any file, so they take the copy path.
 * A memfd's link in /proc/self/fd reads "/memfd:NAME" (as libzcbuf tells
 * them apart; shm files answer F_GET_SEALS too); a dma-buf's file system
 * has its own magic. Anything else (a pipe, a closed fd) goes to the
 * import, which says what is wrong with it.
 */
bool isPlainFile(GstMemory *memory)
{
	if (!gst_is_fd_memory(memory) || gst_is_dmabuf_memory(memory))
		return false;
	gint fd = gst_fd_memory_get_fd(memory);
	struct stat st;
	struct statfs fs;
	constexpr decltype(fs.f_type) kDmabufMagic = 0x444d4142;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fstatfs(fd, &fs) < 0 ||
	    fs.f_type == kDmabufMagic)
		return false;
	std::string link = "/proc/self/fd/" + std::to_string(fd);
	char target[64] = {};
	ssize_t length = readlink(link.c_str(), target, sizeof(target) - 1);
	return length > 0 && std::string(target, static_cast<std::size_t>(length)).rfind("/memfd:", 0) != 0;
}

GstCaps *templateCaps()
{
	return gst_caps_from_string("video/x-raw(" GST_CAPS_FEATURE_MEMORY_DMABUF "); video/x-raw");
}


} /* namespace */

struct _GstZcUpload {
	GstBaseTransform parent;
	State *state;
};

G_DEFINE_TYPE(GstZcUpload, gst_zc_upload, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(zcupload, "zcupload", GST_RANK_NONE, GST_TYPE_ZC_UPLOAD)

namespace {

std::string constraintsOf(GstZcUpload *self)
{
	GST_OBJECT_LOCK(self);
	std::string constraints = self->state->constraints;
	GST_OBJECT_UNLOCK(self);
	return constraints;
}

std::string backendOf(GstZcUpload *self)
{
	GST_OBJECT_LOCK(self);
	std::string backend = self->state->backend;
	GST_OBJECT_UNLOCK(self);
	return backend;
}

GstCaps *transformCaps(GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps,
		       GstCaps *filter)
{
	GstZcUpload *self = GST_ZC_UPLOAD(trans);
	bool backendDmabuf = gst_zcbuf_backend_may_give_dmabuf(backendOf(self).c_str());
	GstCaps *result = gst_caps_new_empty();
	for (guint i = 0; i < gst_caps_get_size(caps); i++) {
		const GstStructure *s = gst_caps_get_structure(caps, i);
		/* Output memory is dma-buf when the input is or when the copies
		 * and the proposed pool are; the input may be anything. */
		bool dmabuf = direction == GST_PAD_SRC || gst_zcbuf_caps_has_dmabuf_feature(caps, i) || backendDmabuf;
		if (dmabuf)
			gst_caps_append_structure_full(
				result, gst_structure_copy(s),
				gst_caps_features_new(GST_CAPS_FEATURE_MEMORY_DMABUF, nullptr));
		gst_caps_append_structure_full(result, gst_structure_copy(s),
					       gst_caps_features_new_empty());
	}
	result = gst_caps_simplify(result);
	if (filter) {
		GstCaps *filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
		gst_caps_unref(result);
		result = filtered;
	}
	GST_DEBUG_OBJECT(self, "%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, caps, result);
	return result;
}

gboolean setCaps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
	GstZcUpload *self = GST_ZC_UPLOAD(trans);
	if (!gst_video_info_from_caps(&self->state->info, incaps)) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr),
				  ("caps %" GST_PTR_FORMAT " are not raw video", incaps));
		return FALSE;
	}
	self->state->outputDmabuf = gst_zcbuf_caps_has_dmabuf_feature(outcaps, 0);
	GST_INFO_OBJECT(self, "%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps);
	return TRUE;
}

gboolean proposeAllocation(GstBaseTransform *trans, GstQuery *decideQuery, GstQuery *query)
{
	GstZcUpload *self = GST_ZC_UPLOAD(trans);
	GstCaps *caps = nullptr;
	gst_query_parse_allocation(query, &caps, nullptr);
	std::string backend = backendOf(self);
	/* A backend asked for and missing is an error, passthrough or not. */
	if (!gst_zcbuf_element_open_backend(GST_ELEMENT(self), backend.c_str()))
		return FALSE;
	if (caps && gst_zcbuf_caps_has_dmabuf_feature(caps, 0) && !gst_zcbuf_backend_may_give_dmabuf(backend.c_str())) {
		GST_DEBUG_OBJECT(self, "memory:DMABuf input and no dma-buf backend: no pool");
		return TRUE;
	}
	/* What upstream writes into the proposed pool goes on downstream
	 * as it is (the buffers zcupload passes): downstream's needs, and
	 * memory:DMABuf output, are needs of that pool too. */
	if (decideQuery) {
		for (guint i = 0; i < gst_zcbuf_query_get_n_consumer_needs(decideQuery); i++)
			gst_zcbuf_query_add_consumer_needs(
				query, gst_zcbuf_query_get_consumer_needs(decideQuery, i));
	}
	std::string constraints = constraintsOf(self);
	if (self->state->outputDmabuf)
		constraints += constraints.empty() ? "dmabuf" : ",dmabuf";
	if (!gst_zcbuf_propose_allocation_full(query, 0, backend.empty() ? nullptr : backend.c_str(),
					       constraints.c_str()))
		GST_WARNING_OBJECT(self, "no zcbuf pool for upstream (backend '%s')", backend.c_str());
	return TRUE;
}

gboolean decideAllocation(GstBaseTransform *trans, GstQuery *query)
{
	GstZcUpload *self = GST_ZC_UPLOAD(trans);
	std::string backend = backendOf(self);
	std::string constraints = constraintsOf(self);
	GstZcbufOutputParams params = {};
	params.backend = backend.c_str();
	params.dmabuf = self->state->outputDmabuf;
	params.constraints = constraints.c_str();
	return gst_zcbuf_decide_allocation(GST_ELEMENT(self), query, &params);
}

/* The zcbuf memory for one upstream fd memory: the cached import when it
 * covers the same bytes, else a new import. Null after posting an error. */
GstMemory *importMemory(GstZcUpload *self, GstBuffer *buffer, guint index)
{
	GstMemory *memory = gst_buffer_peek_memory(buffer, index);
	{
		std::lock_guard<std::mutex> lock(importCacheLock);
		GstMemory *cached = static_cast<GstMemory *>(
			gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(memory), importQuark()));
		if (cached && cached->offset == memory->offset && cached->size == memory->size)
			return gst_memory_ref(cached);
	}

	gint fd = gst_fd_memory_get_fd(memory);
	GError *error = nullptr;
	GstMemory *imported = gst_zcbuf_allocator_import_fd(fd, memory->offset + memory->size, &error);
	if (!imported) {
		GST_ELEMENT_ERROR(self, STREAM, FAILED,
				  ("Upstream memory cannot be used: %s", error->message),
				  ("memory %u of %" GST_PTR_FORMAT " (fd %d, offset %" G_GSIZE_FORMAT
				   ", %" G_GSIZE_FORMAT " bytes): %s",
				   index, buffer, fd, memory->offset, memory->size, error->message));
		g_clear_error(&error);
		return nullptr;
	}
	gst_memory_resize(imported, static_cast<gssize>(memory->offset), memory->size);
	if (GST_MEMORY_IS_READONLY(memory))
		GST_MINI_OBJECT_FLAG_SET(imported, GST_MEMORY_FLAG_READONLY);
	/* The cache holds the import with an exclusive lock of its own, so it
	 * always counts as shared: a writer downstream gets a copy (recorded
	 * for the tracer) instead of writing into bytes upstream may still
	 * read through its own buffer. */
	gst_memory_lock(imported, GST_LOCK_FLAG_EXCLUSIVE);
	{
		/* Replacing drops the old import (its destroy notify runs
		 * here, under the lock, so no reader is between its lookup
		 * and its ref). */
		std::lock_guard<std::mutex> lock(importCacheLock);
		gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(memory), importQuark(),
					  gst_memory_ref(imported), [](gpointer cachedImport) {
						  GstMemory *m = static_cast<GstMemory *>(cachedImport);
						  gst_memory_unlock(m, GST_LOCK_FLAG_EXCLUSIVE);
						  gst_memory_unref(m);
					  });
	}
	GST_DEBUG_OBJECT(self, "imported fd %d (+%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT " bytes) as %s",
			 fd, memory->offset, memory->size,
			 gst_is_dmabuf_memory(imported) ? "dma-buf" : "fd memory");
	return imported;
}

GstFlowReturn wrap(GstZcUpload *self, GstBuffer *inbuf, GstBuffer **outbuf)
{
	GstBuffer *out = gst_buffer_new();
	for (guint i = 0; i < gst_buffer_n_memory(inbuf); i++) {
		GstMemory *memory = importMemory(self, inbuf, i);
		if (!memory) {
			gst_buffer_unref(out);
			return GST_FLOW_ERROR;
		}
		gst_buffer_append_memory(out, memory);
	}
	/* Timestamps, flags and metas. Metas tagged "memory" are not copied
	 * without the memories, but the GstVideoMeta stays valid (the
	 * memories have the same sizes in the same order): copied by hand. */
	gst_buffer_copy_into(out, inbuf, GST_BUFFER_COPY_METADATA, 0, -1);
	if (GstVideoMeta *meta = gst_buffer_get_video_meta(inbuf)) {
		if (!gst_buffer_get_video_meta(out)) {
			GstVideoMeta *copy = gst_buffer_add_video_meta_full(
				out, meta->flags, meta->format, meta->width, meta->height,
				meta->n_planes, meta->offset, meta->stride);
			gst_video_meta_set_alignment(copy, meta->alignment);
		}
	}
	gst_buffer_add_parent_buffer_meta(out, inbuf);
	*outbuf = out;
	self->state->wrapped++;
	return GST_FLOW_OK;
}

/* "fd 7, fd 9" for the buffer's fd memories: what an error about memory
 * that cannot be mapped should name. */
std::string fdsOf(GstBuffer *buffer)
{
	std::string text;
	for (guint i = 0; i < gst_buffer_n_memory(buffer); i++) {
		GstMemory *memory = gst_buffer_peek_memory(buffer, i);
		if (!gst_is_fd_memory(memory))
			continue;
		text += (text.empty() ? "fd " : ", fd ") + std::to_string(gst_fd_memory_get_fd(memory));
	}
	return text;
}

GstFlowReturn copy(GstZcUpload *self, GstBuffer *inbuf, GstBuffer **outbuf, const char *reason)
{
	GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
	State *state = self->state;
	GstBufferPool *pool = gst_base_transform_get_buffer_pool(trans);
	if (!pool) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("no output pool to copy into"));
		return GST_FLOW_NOT_NEGOTIATED;
	}
	/* GstBaseTransform activates its pool in the default
	 * prepare_output_buffer, which zcupload replaces. */
	if (!gst_buffer_pool_is_active(pool) && !gst_buffer_pool_set_active(pool, TRUE)) {
		gst_object_unref(pool);
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot activate the output pool"),
				  ("gst_buffer_pool_set_active failed"));
		return GST_FLOW_ERROR;
	}
	GstBuffer *out = nullptr;
	GstFlowReturn ret = gst_buffer_pool_acquire_buffer(pool, &out, nullptr);
	gst_object_unref(pool);
	if (ret != GST_FLOW_OK)
		return ret;

	GstVideoFrame src, dst;
	if (!gst_video_frame_map(&src, &state->info, inbuf, GST_MAP_READ)) {
		gst_buffer_unref(out);
		std::string fds = fdsOf(inbuf);
		if (!fds.empty() && gst_buffer_get_size(inbuf) >= GST_VIDEO_INFO_SIZE(&state->info)) {
			GST_ELEMENT_ERROR(self, STREAM, FAILED,
					  ("Upstream memory cannot be read (%s)", fds.c_str()),
					  ("mapping %" GST_PTR_FORMAT " failed", inbuf));
			return GST_FLOW_ERROR;
		}
		GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Invalid video frame"),
				  ("a buffer of %" G_GSIZE_FORMAT " bytes is not a %dx%d %s frame (%" G_GSIZE_FORMAT
				   " bytes)",
				   gst_buffer_get_size(inbuf), GST_VIDEO_INFO_WIDTH(&state->info),
				   GST_VIDEO_INFO_HEIGHT(&state->info),
				   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&state->info)),
				   GST_VIDEO_INFO_SIZE(&state->info)));
		return GST_FLOW_ERROR;
	}
	if (!gst_video_frame_map(&dst, &state->info, out, GST_MAP_WRITE)) {
		gst_video_frame_unmap(&src);
		gst_buffer_unref(out);
		GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Cannot write into the output buffer"),
				  ("mapping a buffer of the output pool failed"));
		return GST_FLOW_ERROR;
	}
	gboolean copied = gst_video_frame_copy(&dst, &src);
	gst_video_frame_unmap(&dst);
	gst_video_frame_unmap(&src);
	if (!copied) {
		gst_buffer_unref(out);
		GST_ELEMENT_ERROR(self, STREAM, FAILED, (nullptr), ("gst_video_frame_copy failed"));
		return GST_FLOW_ERROR;
	}
	gst_zcbuf_record_copy(GST_OBJECT(self), GST_VIDEO_INFO_SIZE(&state->info), reason);
	GST_BASE_TRANSFORM_GET_CLASS(trans)->copy_metadata(trans, inbuf, out);
	*outbuf = out;
	state->copied++;
	return GST_FLOW_OK;
}

GstFlowReturn prepareOutputBuffer(GstBaseTransform *trans, GstBuffer *inbuf, GstBuffer **outbuf)
{
	GstZcUpload *self = GST_ZC_UPLOAD(trans);
	State *state = self->state;
	guint n = gst_buffer_n_memory(inbuf);
	/* Handing the input on: GstBaseTransform passes its reference on
	 * when the output is the input, so none is added here. */
	if (n == 0 || gst_buffer_get_size(inbuf) == 0) {
		/* Not a frame (a gap): nothing to move. */
		*outbuf = inbuf;
		state->passed++;
		return GST_FLOW_OK;
	}

	/* A layout that runs past the buffer is neither read here nor
	 * handed to anyone downstream. */
	gchar *reason = nullptr;
	if (!gst_zcbuf_video_frame_layout_is_valid(&state->info, inbuf, &reason)) {
		GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Invalid video frame layout."),
				  ("%" GST_PTR_FORMAT ": %s", inbuf, reason));
		g_free(reason);
		return GST_FLOW_ERROR;
	}

	bool zcbuf = true, fd = true, imports = true, dmabuf = true;
	for (guint i = 0; i < n; i++) {
		GstMemory *memory = gst_buffer_peek_memory(inbuf, i);
		zcbuf = zcbuf && gst_is_zcbuf_memory(memory);
		fd = fd && gst_is_fd_memory(memory);
		imports = imports && !isPlainFile(memory);
		dmabuf = dmabuf && gst_is_dmabuf_memory(memory);
	}
	if (zcbuf && (dmabuf || !state->outputDmabuf)) {
		*outbuf = inbuf;
		state->passed++;
		return GST_FLOW_OK;
	}
	if (fd && imports && (dmabuf || !state->outputDmabuf))
		return wrap(self, inbuf, outbuf);
	return copy(self, inbuf, outbuf,
		    !fd	       ? "system memory input"
		    : !imports ? "fd memory that is neither a dma-buf nor a memfd"
			       : "fd memory that is no dma-buf, for memory:DMABuf output");
}

GstFlowReturn transform(GstBaseTransform *, GstBuffer *, GstBuffer *)
{
	/* prepare_output_buffer did the work. */
	return GST_FLOW_OK;
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstZcUpload *self = GST_ZC_UPLOAD(object);
	switch (id) {
	case PROP_BACKEND: {
		const gchar *spec = g_value_get_string(value);
		GST_OBJECT_LOCK(self);
		self->state->backend = spec ? spec : "";
		GST_OBJECT_UNLOCK(self);
		break;
	}
	case PROP_CONSTRAINTS: {
		const gchar *text = g_value_get_string(value);
		GST_OBJECT_LOCK(self);
		self->state->constraints = text ? text : "";
		GST_OBJECT_UNLOCK(self);
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcUpload *self = GST_ZC_UPLOAD(object);
	State *state = self->state;
	switch (id) {
	case PROP_BACKEND:
		GST_OBJECT_LOCK(self);
		g_value_set_string(value, state->backend.c_str());
		GST_OBJECT_UNLOCK(self);
		break;
	case PROP_CONSTRAINTS:
		GST_OBJECT_LOCK(self);
		g_value_set_string(value, state->constraints.c_str());
		GST_OBJECT_UNLOCK(self);
		break;
	case PROP_CHOSEN_BACKEND:
		g_value_take_string(value, gst_zcbuf_element_get_chosen_backend(GST_ELEMENT(self)));
		break;
	case PROP_STATS:
		g_value_take_boxed(value, gst_structure_new("application/x-zcupload-stats", "passed",
							    G_TYPE_UINT64, state->passed.load(),
							    "wrapped", G_TYPE_UINT64,
							    state->wrapped.load(), "copied",
							    G_TYPE_UINT64, state->copied.load(), nullptr));
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

gboolean start(GstBaseTransform *trans)
{
	State *state = GST_ZC_UPLOAD(trans)->state;
	state->passed = 0;
	state->wrapped = 0;
	state->copied = 0;
	return TRUE;
}

} /* namespace */

static void gst_zc_upload_init(GstZcUpload *self)
{
	self->state = new State();
	gst_video_info_init(&self->state->info);
}

static void gst_zc_upload_finalize(GObject *object)
{
	delete std::exchange(GST_ZC_UPLOAD(object)->state, nullptr);
	G_OBJECT_CLASS(gst_zc_upload_parent_class)->finalize(object);
}

static void gst_zc_upload_class_init(GstZcUploadClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstElementClass *elementClass = GST_ELEMENT_CLASS(klass);
	GstBaseTransformClass *transClass = GST_BASE_TRANSFORM_CLASS(klass);

	GST_DEBUG_CATEGORY_INIT(gst_zc_upload_debug, "zcupload", 0,
				"zcbuf upload: into zcbuf memory, copying only system memory");

	objectClass->set_property = setProperty;
	objectClass->get_property = getProperty;
	objectClass->finalize = gst_zc_upload_finalize;

	g_object_class_install_property(
		objectClass, PROP_BACKEND,
		g_param_spec_string(
			"backend", "Backend",
			"zcbuf allocation backend of the pool proposed upstream and of the "
			"copies: module, dma-heap[:HEAP], udmabuf, drm[:/dev/dri/cardN], memfd; "
			"empty for ZCBUF_BACKEND or the best available",
			"",
			static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
						 GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(objectClass, PROP_CONSTRAINTS,
					gst_zcbuf_param_spec_constraints());
	g_object_class_install_property(objectClass, PROP_CHOSEN_BACKEND,
					gst_zcbuf_param_spec_chosen_backend());
	g_object_class_install_property(
		objectClass, PROP_STATS,
		g_param_spec_boxed("stats", "Statistics",
				   "Buffers since start: passed (already zcbuf memory), wrapped "
				   "(fd or dma-buf memory imported without a copy) and copied "
				   "(from system memory)",
				   GST_TYPE_STRUCTURE,
				   static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

	gst_element_class_set_static_metadata(
		elementClass, "Zero-copy upload", "Filter/Video",
		"Moves raw video into zcbuf memory: zcbuf memory passes, fd and dma-buf memory "
		"is imported without a copy, system memory is copied (and counted)",
		"The zcbuf authors");
	GstCaps *caps = templateCaps();
	gst_element_class_add_pad_template(
		elementClass, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
	gst_element_class_add_pad_template(
		elementClass, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
	gst_caps_unref(caps);

	/* Each vfunc through guarded(): no exception into GStreamer. */
	using zcbuf::plugin::guarded;
	transClass->transform_caps = [](GstBaseTransform *trans, GstPadDirection direction,
					GstCaps *caps, GstCaps *filter) -> GstCaps * {
		return guarded(trans, GST_CAT_DEFAULT, "transform_caps",
			       static_cast<GstCaps *>(nullptr),
			       [&] { return transformCaps(trans, direction, caps, filter); });
	};
	transClass->set_caps = [](GstBaseTransform *trans, GstCaps *incaps,
				  GstCaps *outcaps) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "set_caps", FALSE,
			       [&] { return setCaps(trans, incaps, outcaps); });
	};
	transClass->propose_allocation = [](GstBaseTransform *trans, GstQuery *decideQuery,
					    GstQuery *query) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "propose_allocation", FALSE,
			       [&] { return proposeAllocation(trans, decideQuery, query); });
	};
	transClass->decide_allocation = [](GstBaseTransform *trans, GstQuery *query) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "decide_allocation", FALSE,
			       [&] { return decideAllocation(trans, query); });
	};
	transClass->prepare_output_buffer = [](GstBaseTransform *trans, GstBuffer *inbuf,
					       GstBuffer **outbuf) -> GstFlowReturn {
		return guarded(trans, GST_CAT_DEFAULT, "prepare_output_buffer", GST_FLOW_ERROR,
			       [&] { return prepareOutputBuffer(trans, inbuf, outbuf); });
	};
	transClass->transform = transform;
	transClass->start = [](GstBaseTransform *trans) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "start", FALSE, [&] { return start(trans); });
	};
}
