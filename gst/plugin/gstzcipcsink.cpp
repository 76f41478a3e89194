/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcipcsink's glue: caps start an epoch, each buffer gets an id in that
 * epoch (tagged on its first memory, so a pool's recycled buffer keeps its
 * id and its fds cross the socket once), and buffers that are not all fd
 * memory are copied once into a zcbuf pool of the sink's own, recorded with
 * gst_zcbuf_record_copy(). Upstream is offered a zcbuf pool, so a producer
 * that takes it copies nothing.
 */
#include "gstzcipcsink.h"

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>

#include <bitset>
#include <memory>
#include <mutex>
#include <string>

#include "ipc/producer.h"

GST_DEBUG_CATEGORY(gst_zc_ipc_sink_debug);
#define GST_CAT_DEFAULT gst_zc_ipc_sink_debug

namespace {

enum {
	PROP_0,
	PROP_SOCKET_PATH,
	PROP_SOCKET_MODE,
	PROP_MAX_PENDING,
	PROP_DROPPED,
	PROP_CONSUMERS,
};

constexpr guint kDefaultMode = 0600;
constexpr guint kDefaultMaxPending = 4;

/* The ids of one epoch in use; shared with the tags on memories, which may
 * outlive the element. */
struct IdTable {
	std::mutex mutex;
	std::uint32_t epoch = 0;
	std::bitset<zcbuf::ipc::kMaxBuffersPerEpoch> used;
	std::uint32_t generation = 0;
};

struct Tag {
	std::shared_ptr<IdTable> table;
	std::uint32_t epoch, id, generation;
};

GQuark tagQuark()
{
	static GQuark quark = g_quark_from_static_string("GstZcIpcSinkId");
	return quark;
}

struct State {
	explicit State(GstElement *owner) : producer(owner) {}

	/* Under the object lock. */
	std::string path;
	guint mode = kDefaultMode;
	guint maxPending = kDefaultMaxPending;

	/* Streaming thread. */
	zcbuf::ipcsink::Producer producer;
	std::shared_ptr<IdTable> ids = std::make_shared<IdTable>();
	GstVideoInfo info;
	GstBufferPool *copyPool = nullptr;
	std::uint64_t frames = 0;
};

} /* namespace */

struct _GstZcIpcSink {
	GstBaseSink parent;
	State *state;
};

G_DEFINE_TYPE(GstZcIpcSink, gst_zc_ipc_sink, GST_TYPE_BASE_SINK)
GST_ELEMENT_REGISTER_DEFINE(zcipcsink, "zcipcsink", GST_RANK_NONE, GST_TYPE_ZC_IPC_SINK)

namespace {

GstStaticPadTemplate sinkTemplate = GST_STATIC_PAD_TEMPLATE(
	"sink", GST_PAD_SINK, GST_PAD_ALWAYS,
	GST_STATIC_CAPS("video/x-raw(" GST_CAPS_FEATURE_MEMORY_DMABUF "); video/x-raw"));

/* The buffer's id in the current epoch: the tag on its first memory, or a
 * new one. Full (more than kMaxBuffersPerEpoch live buffers): -1. */
gint64 idOf(State *state, GstMemory *memory, std::uint32_t *generation)
{
	Tag *tag = static_cast<Tag *>(gst_mini_object_get_qdata(GST_MINI_OBJECT_CAST(memory), tagQuark()));
	std::lock_guard lock(state->ids->mutex);
	if (tag && tag->table == state->ids && tag->epoch == state->ids->epoch) {
		*generation = tag->generation;
		return tag->id;
	}
	std::size_t id = 0;
	while (id < state->ids->used.size() && state->ids->used[id])
		id++;
	if (id == state->ids->used.size())
		return -1;
	state->ids->used[id] = true;
	Tag *fresh = new Tag{ state->ids, state->ids->epoch, static_cast<std::uint32_t>(id),
			      ++state->ids->generation };
	*generation = fresh->generation;
	gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(memory), tagQuark(), fresh, [](gpointer data) {
		Tag *dying = static_cast<Tag *>(data);
		{
			std::lock_guard lock(dying->table->mutex);
			if (dying->table->epoch == dying->epoch)
				dying->table->used[dying->id] = false;
		}
		delete dying;
	});
	return static_cast<gint64>(id);
}

bool allFdMemory(GstBuffer *buffer)
{
	guint n = gst_buffer_n_memory(buffer);
	if (n == 0 || n > zcbuf::ipc::kMaxMemories)
		return false;
	for (guint i = 0; i < n; i++)
		if (!gst_is_fd_memory(gst_buffer_peek_memory(buffer, i)))
			return false;
	return true;
}

/* A copy of buffer in the sink's own zcbuf pool; recorded. */
GstBuffer *copyIntoPool(GstZcIpcSink *self, GstBuffer *buffer)
{
	State *state = self->state;
	if (!state->copyPool) {
		state->copyPool = gst_zcbuf_buffer_pool_new(nullptr);
		GstStructure *config = gst_buffer_pool_get_config(state->copyPool);
		GstCaps *caps = gst_video_info_to_caps(&state->info);
		gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&state->info), 2, 0);
		gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
		gst_caps_unref(caps);
		if (!gst_buffer_pool_set_config(state->copyPool, config) ||
		    !gst_buffer_pool_set_active(state->copyPool, TRUE))
			return nullptr;
	}
	GstBuffer *copy = nullptr;
	if (gst_buffer_pool_acquire_buffer(state->copyPool, &copy, nullptr) != GST_FLOW_OK)
		return nullptr;
	GstVideoFrame in, out;
	if (!gst_video_frame_map(&in, &state->info, buffer, GST_MAP_READ)) {
		gst_buffer_unref(copy);
		return nullptr;
	}
	if (!gst_video_frame_map(&out, &state->info, copy, GST_MAP_WRITE)) {
		gst_video_frame_unmap(&in);
		gst_buffer_unref(copy);
		return nullptr;
	}
	gboolean copied = gst_video_frame_copy(&out, &in);
	gst_video_frame_unmap(&out);
	gst_video_frame_unmap(&in);
	if (!copied) {
		gst_buffer_unref(copy);
		return nullptr;
	}
	gst_buffer_copy_into(copy, buffer, GstBufferCopyFlags(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS), 0, -1);
	gst_zcbuf_record_copy(GST_OBJECT(self), GST_VIDEO_INFO_SIZE(&state->info),
			      "system memory into zcipcsink's pool");
	return copy;
}

/* The table entry of buffer: each memory's fd and the extent it needs, and
 * each plane's place in them. */
bool describe(GstZcIpcSink *self, GstBuffer *buffer, zcbuf::ipcsink::Outgoing &out)
{
	State *state = self->state;
	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	guint planes = GST_VIDEO_INFO_N_PLANES(&state->info);
	gsize offsets[GST_VIDEO_MAX_PLANES];
	gint strides[GST_VIDEO_MAX_PLANES];
	gsize sizes[GST_VIDEO_MAX_PLANES] = {};
	for (guint p = 0; p < planes; p++) {
		offsets[p] = meta ? meta->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET(&state->info, p);
		strides[p] = meta ? meta->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE(&state->info, p);
	}
	if (meta) {
		if (!gst_video_meta_get_plane_size(meta, sizes))
			return false;
	} else {
		for (guint p = 0; p < planes; p++) {
			gint comp[GST_VIDEO_MAX_COMPONENTS];
			gst_video_format_info_component(state->info.finfo, p, comp);
			sizes[p] = static_cast<gsize>(strides[p]) *
				   GST_VIDEO_INFO_COMP_HEIGHT(&state->info, comp[0]);
		}
	}

	for (guint m = 0; m < gst_buffer_n_memory(buffer); m++) {
		GstMemory *memory = gst_buffer_peek_memory(buffer, m);
		out.fds.push_back(gst_fd_memory_get_fd(memory));
		out.entry.memorySizes.push_back(memory->offset + memory->size);
	}
	for (guint p = 0; p < planes; p++) {
		guint index, length;
		gsize skip;
		if (strides[p] <= 0 ||
		    !gst_buffer_find_memory(buffer, offsets[p], sizes[p], &index, &length, &skip) ||
		    length != 1)
			return false;
		GstMemory *memory = gst_buffer_peek_memory(buffer, index);
		out.entry.planes.push_back(zcbuf::ipc::Plane{ index, static_cast<std::uint32_t>(strides[p]),
							      memory->offset + skip, sizes[p] });
	}
	return true;
}

std::int64_t monotonic(GstZcIpcSink *self, GstClockTime time)
{
	if (!GST_CLOCK_TIME_IS_VALID(time))
		return zcbuf::ipc::kNoTime;
	GstSegment *segment = &GST_BASE_SINK(self)->segment;
	GstClockTime running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, time);
	if (!GST_CLOCK_TIME_IS_VALID(running))
		return zcbuf::ipc::kNoTime;
	return static_cast<std::int64_t>(running + gst_element_get_base_time(GST_ELEMENT(self)));
}

GstFlowReturn render(GstBaseSink *sink, GstBuffer *input)
{
	GstZcIpcSink *self = GST_ZC_IPC_SINK(sink);
	State *state = self->state;
	GstBuffer *buffer = allFdMemory(input) ? gst_buffer_ref(input) : copyIntoPool(self, input);
	if (!buffer) {
		GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot copy a frame into shareable memory"),
				  ("%" GST_PTR_FORMAT, input));
		return GST_FLOW_ERROR;
	}

	zcbuf::ipcsink::Outgoing out;
	std::uint32_t generation = 0;
	gint64 id = idOf(state, gst_buffer_peek_memory(buffer, 0), &generation);
	if (id < 0 || !describe(self, buffer, out)) {
		GST_ELEMENT_ERROR(self, STREAM, FAILED,
				  ("A buffer cannot be shared (more than %u buffers, or planes across "
				   "memories)", zcbuf::ipc::kMaxBuffersPerEpoch),
				  ("%" GST_PTR_FORMAT, buffer));
		gst_buffer_unref(buffer);
		return GST_FLOW_ERROR;
	}
	out.buffer = buffer;
	{
		std::lock_guard lock(state->ids->mutex);
		out.entry.epoch = state->ids->epoch;
	}
	out.entry.id = static_cast<std::uint32_t>(id);
	out.entry.generation = generation;
	out.frame.epoch = out.entry.epoch;
	out.frame.id = out.entry.id;
	out.frame.generation = generation;
	out.frame.bufferFlags = GST_BUFFER_FLAGS(buffer);
	out.frame.pts = monotonic(self, GST_BUFFER_PTS(input));
	out.frame.dts = monotonic(self, GST_BUFFER_DTS(input));
	out.frame.duration = GST_BUFFER_DURATION_IS_VALID(input)
				     ? static_cast<std::int64_t>(GST_BUFFER_DURATION(input))
				     : zcbuf::ipc::kNoTime;
	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	out.frame.videoFlags = meta ? meta->flags : 0;
	out.frame.format = GST_VIDEO_INFO_FORMAT(&state->info);
	out.frame.width = GST_VIDEO_INFO_WIDTH(&state->info);
	out.frame.height = GST_VIDEO_INFO_HEIGHT(&state->info);
	out.frame.number = state->frames++;
	state->producer.send(std::move(out));
	gst_buffer_unref(buffer);
	return GST_FLOW_OK;
}

gboolean setCaps(GstBaseSink *sink, GstCaps *caps)
{
	GstZcIpcSink *self = GST_ZC_IPC_SINK(sink);
	State *state = self->state;
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, caps)) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Caps that are no raw video"),
				  ("%" GST_PTR_FORMAT, caps));
		return FALSE;
	}
	state->info = info;
	if (state->copyPool) {
		gst_buffer_pool_set_active(state->copyPool, FALSE);
		gst_clear_object(&state->copyPool);
	}
	gchar *text = gst_caps_to_string(caps);
	std::uint32_t epoch = state->producer.newEpoch(text);
	g_free(text);
	std::lock_guard lock(state->ids->mutex);
	state->ids->epoch = epoch;
	state->ids->used.reset();
	return TRUE;
}

gboolean proposeAllocation(GstBaseSink *sink, GstQuery *query)
{
	State *state = GST_ZC_IPC_SINK(sink)->state;
	guint maxPending;
	{
		GST_OBJECT_LOCK(sink);
		maxPending = state->maxPending;
		GST_OBJECT_UNLOCK(sink);
	}
	/* Another process maps every buffer: the producer must allocate
	 * shareable memory (a sealed memfd or a dma-buf). */
	GstStructure *needs = gst_structure_new(GST_ZCBUF_CONSUMER_NEEDS, "consumer", G_TYPE_STRING,
						GST_OBJECT_NAME(sink), "device", G_TYPE_STRING,
						"other-process", nullptr);
	gst_zcbuf_query_add_consumer_needs(query, needs);
	gst_structure_free(needs);
	/* Each consumer may hold max-pending frames and the sink keeps the
	 * last one for late joiners. */
	return gst_zcbuf_propose_allocation(query, maxPending + 1, nullptr);
}

gboolean start(GstBaseSink *sink)
{
	GstZcIpcSink *self = GST_ZC_IPC_SINK(sink);
	State *state = self->state;
	GST_OBJECT_LOCK(self);
	std::string path = state->path;
	guint mode = state->mode, maxPending = state->maxPending;
	GST_OBJECT_UNLOCK(self);
	if (path.empty()) {
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No socket-path set"), (nullptr));
		return FALSE;
	}
	zcbuf::Result<void> started = state->producer.start(path, mode, maxPending);
	if (!started) {
		GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
				  ("Cannot listen at %s: %s", path.c_str(),
				   started.error().message().c_str()),
				  (nullptr));
		return FALSE;
	}
	return TRUE;
}

gboolean stop(GstBaseSink *sink)
{
	State *state = GST_ZC_IPC_SINK(sink)->state;
	state->producer.stop();
	if (state->copyPool) {
		gst_buffer_pool_set_active(state->copyPool, FALSE);
		gst_clear_object(&state->copyPool);
	}
	return TRUE;
}

gboolean event(GstBaseSink *sink, GstEvent *event)
{
	if (GST_EVENT_TYPE(event) == GST_EVENT_EOS)
		GST_ZC_IPC_SINK(sink)->state->producer.eos();
	return GST_BASE_SINK_CLASS(gst_zc_ipc_sink_parent_class)->event(sink, event);
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstZcIpcSink *self = GST_ZC_IPC_SINK(object);
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_SOCKET_PATH: {
		const gchar *path = g_value_get_string(value);
		self->state->path = path ? path : "";
		break;
	}
	case PROP_SOCKET_MODE:
		self->state->mode = g_value_get_uint(value);
		break;
	case PROP_MAX_PENDING:
		self->state->maxPending = g_value_get_uint(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcIpcSink *self = GST_ZC_IPC_SINK(object);
	switch (id) {
	case PROP_SOCKET_PATH:
		GST_OBJECT_LOCK(self);
		g_value_set_string(value, self->state->path.c_str());
		GST_OBJECT_UNLOCK(self);
		break;
	case PROP_SOCKET_MODE:
		GST_OBJECT_LOCK(self);
		g_value_set_uint(value, self->state->mode);
		GST_OBJECT_UNLOCK(self);
		break;
	case PROP_MAX_PENDING:
		GST_OBJECT_LOCK(self);
		g_value_set_uint(value, self->state->maxPending);
		GST_OBJECT_UNLOCK(self);
		break;
	case PROP_DROPPED:
		g_value_set_uint64(value, self->state->producer.dropped());
		break;
	case PROP_CONSUMERS:
		g_value_set_uint(value, self->state->producer.consumers());
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

void finalize(GObject *object)
{
	GstZcIpcSink *self = GST_ZC_IPC_SINK(object);
	delete self->state;
	G_OBJECT_CLASS(gst_zc_ipc_sink_parent_class)->finalize(object);
}

} /* namespace */

static void gst_zc_ipc_sink_init(GstZcIpcSink *self)
{
	self->state = new State(GST_ELEMENT(self));
	gst_video_info_init(&self->state->info);
}

static void gst_zc_ipc_sink_class_init(GstZcIpcSinkClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstElementClass *elementClass = GST_ELEMENT_CLASS(klass);
	GstBaseSinkClass *sinkClass = GST_BASE_SINK_CLASS(klass);

	objectClass->set_property = setProperty;
	objectClass->get_property = getProperty;
	objectClass->finalize = finalize;

	GParamFlags rw = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
				     GST_PARAM_MUTABLE_READY);
	g_object_class_install_property(
		objectClass, PROP_SOCKET_PATH,
		g_param_spec_string("socket-path", "Socket path",
				    "Where consumers connect: a path, or @name in the abstract namespace",
				    nullptr, rw));
	g_object_class_install_property(
		objectClass, PROP_SOCKET_MODE,
		g_param_spec_uint("socket-mode", "Socket mode",
				  "Permissions of the socket file, also enforced on every peer's "
				  "credentials (SO_PEERCRED) for abstract sockets",
				  0, 0777, kDefaultMode, rw));
	g_object_class_install_property(
		objectClass, PROP_MAX_PENDING,
		g_param_spec_uint("max-pending", "Max pending",
				  "Frames one consumer may hold unreleased; further frames are "
				  "dropped for it (counted in dropped)",
				  1, zcbuf::ipc::kMaxBuffersPerEpoch, kDefaultMaxPending, rw));
	g_object_class_install_property(
		objectClass, PROP_DROPPED,
		g_param_spec_uint64("dropped", "Dropped",
				    "Frames not sent to a consumer that was full or slow",
				    0, G_MAXUINT64, 0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
	g_object_class_install_property(
		objectClass, PROP_CONSUMERS,
		g_param_spec_uint("consumers", "Consumers", "Consumers connected now", 0, G_MAXUINT, 0,
				  GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

	gst_element_class_add_static_pad_template(elementClass, &sinkTemplate);
	gst_element_class_set_static_metadata(
		elementClass, "zcbuf IPC sink", "Sink/Video",
		"Shares frames with other processes: fds once per buffer, then ids (zcipc)",
		"The zcbuf authors");

	sinkClass->render = render;
	sinkClass->set_caps = setCaps;
	sinkClass->propose_allocation = proposeAllocation;
	sinkClass->start = start;
	sinkClass->stop = stop;
	sinkClass->event = event;

	GST_DEBUG_CATEGORY_INIT(gst_zc_ipc_sink_debug, "zcipcsink", 0, "zcbuf IPC sink");
}
