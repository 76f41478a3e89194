/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zckmssink's GStreamer glue: properties, caps from the chosen plane,
 * the consumer needs it states upstream, and show_frame, which turns each
 * buffer into a framebuffer (cached on its memory), waits for the one flip
 * that may be outstanding, and commits. A buffer is released only once the
 * flip that replaced it completed: until then it is being scanned out.
 *
 * The device is opened at NULL->READY, never at plugin load or while caps
 * are only queried in NULL: until then the caps are the template's.
 */
#include "gstzckmssink.h"

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>
#include <gst/video/videooverlay.h>
#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufconsumer.h>
#include <gst/zcbuf/gstzcbufcopy.h>

#include <drm_fourcc.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "kms/device.h"
#include "kms/format.h"
#include "kms/framebuffer.h"
#include "kms/output.h"

GST_DEBUG_CATEGORY_STATIC(gst_zc_kms_sink_debug);
#define GST_CAT_DEFAULT gst_zc_kms_sink_debug

namespace {

namespace kms = zcbuf::kms;

/* A page flip comes within a refresh; under emulation vblank work can lag
 * by much more, so wait generously before calling the device stuck. */
constexpr int kFlipTimeoutMs = 3000;

struct Settings {
	std::string device;
	std::string driverName;
	std::string mode;
	guint connectorId = 0;
	guint planeId = 0;
	bool allowCopy = false;
	bool atomic = true;
	GstVideoRectangle renderRect = { 0, 0, 0, 0 };
};

struct State {
	Settings settings; /* under the object lock */

	/* From start() to stop(), on the streaming thread. */
	std::shared_ptr<kms::Device> device;
	std::unique_ptr<kms::Output> output;
	GstVideoInfo info;
	bool haveInfo = false;
	bool placementTested = false;
	/* A commit of an imported framebuffer failed: copy from now on (with
	 * allow-copy) until the caps change. */
	bool scanoutRefused = false;
	GstBuffer *onScreen = nullptr; /* scanned out now */
	GstBuffer *pending = nullptr;  /* committed, its flip not yet seen */
	/* allow-copy: dumb framebuffers of the device, used in turn. */
	std::array<std::unique_ptr<kms::Framebuffer>, 3> copyTargets;
	unsigned nextCopyTarget = 0;

	/* Framebuffers of imported memories, released when the memory goes
	 * (a weak reference) or at stop(). The lock: memories die on any thread. */
	std::mutex cacheLock;
	std::map<GstMemory *, std::unique_ptr<kms::Framebuffer>> cache;
};

} /* namespace */

struct _GstZcKmsSink {
	GstVideoSink parent;
	State *state;
};

enum {
	PROP_0,
	PROP_DEVICE,
	PROP_DRIVER_NAME,
	PROP_CONNECTOR_ID,
	PROP_PLANE_ID,
	PROP_MODE,
	PROP_ALLOW_COPY,
	PROP_ATOMIC,
	PROP_LAST,
};

static void gst_zc_kms_sink_overlay_init(GstVideoOverlayInterface *iface);

#define gst_zc_kms_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstZcKmsSink, gst_zc_kms_sink, GST_TYPE_VIDEO_SINK,
			G_IMPLEMENT_INTERFACE(GST_TYPE_VIDEO_OVERLAY, gst_zc_kms_sink_overlay_init))
GST_ELEMENT_REGISTER_DEFINE(zckmssink, "zckmssink", GST_RANK_NONE, GST_TYPE_ZC_KMS_SINK)

namespace {

State &stateOf(GstZcKmsSink *self)
{
	return *self->state;
}

void memoryGone(gpointer data, GstMiniObject *memory)
{
	State &state = *static_cast<State *>(data);
	std::lock_guard<std::mutex> lock(state.cacheLock);
	state.cache.erase(reinterpret_cast<GstMemory *>(memory));
}

void clearCache(State &state)
{
	std::lock_guard<std::mutex> lock(state.cacheLock);
	for (auto &entry : state.cache)
		gst_mini_object_weak_unref(GST_MINI_OBJECT(entry.first), memoryGone, &state);
	state.cache.clear();
}

/* The flip of the pending buffer completed: it is on screen now, and the
 * one it replaced can go back to its pool. */
void flipDone(State &state)
{
	if (state.pending) {
		gst_clear_buffer(&state.onScreen);
		state.onScreen = state.pending;
		state.pending = nullptr;
	}
}

void releaseBuffers(State &state)
{
	gst_clear_buffer(&state.pending);
	gst_clear_buffer(&state.onScreen);
}

std::string errnoName(int code)
{
	const char *name = strerrorname_np(code);
	return name ? name : std::to_string(code);
}

/* Where the frame goes: the render rectangle when one was set, the whole
 * mode on the primary plane, else centred at the frame's own size. */
kms::Rect placement(const State &state, const Settings &settings)
{
	const drmModeModeInfo &mode = state.output->mode();
	const GstVideoRectangle &r = settings.renderRect;
	if (r.w > 0 && r.h > 0)
		return kms::Rect{ r.x, r.y, guint(r.w), guint(r.h) };
	if (state.output->primary())
		return kms::Rect{ 0, 0, mode.hdisplay, mode.vdisplay };
	guint w = GST_VIDEO_INFO_WIDTH(&state.info), h = GST_VIDEO_INFO_HEIGHT(&state.info);
	return kms::Rect{ (gint(mode.hdisplay) - gint(w)) / 2, (gint(mode.vdisplay) - gint(h)) / 2,
			  w, h };
}

Settings settingsOf(GstZcKmsSink *self)
{
	GST_OBJECT_LOCK(self);
	Settings copy = stateOf(self).settings;
	GST_OBJECT_UNLOCK(self);
	return copy;
}

/* The framebuffer of an importable buffer, from the cache or made now; the
 * reason why not otherwise (empty reason and nullptr: a fatal error was
 * already posted). */
kms::Framebuffer *importedFramebuffer(GstZcKmsSink *self, GstBuffer *buffer, std::string &whyNot)
{
	State &state = stateOf(self);
	if (gst_buffer_n_memory(buffer) != 1) {
		whyNot = "its planes are in " + std::to_string(gst_buffer_n_memory(buffer)) +
			 " memories (zckmssink imports buffers of one memory)";
		return nullptr;
	}
	GstMemory *memory = gst_buffer_peek_memory(buffer, 0);
	if (!gst_is_dmabuf_memory(memory)) {
		whyNot = std::string("its memory is not a dma-buf (") +
			 (memory->allocator ? memory->allocator->mem_type : "unknown") + " memory)";
		return nullptr;
	}
	{
		std::lock_guard<std::mutex> lock(state.cacheLock);
		auto it = state.cache.find(memory);
		if (it != state.cache.end() && it->second->width() == guint(state.info.width) &&
		    it->second->height() == guint(state.info.height) &&
		    it->second->fourcc() == kms::fourccOf(GST_VIDEO_INFO_FORMAT(&state.info)))
			return it->second.get();
	}

	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	int fd = gst_dmabuf_memory_get_fd(memory);
	std::vector<kms::PlaneLayout> planes;
	for (guint i = 0; i < GST_VIDEO_INFO_N_PLANES(&state.info); i++) {
		gsize offset = meta ? meta->offset[i] : GST_VIDEO_INFO_PLANE_OFFSET(&state.info, i);
		gint stride = meta ? meta->stride[i] : GST_VIDEO_INFO_PLANE_STRIDE(&state.info, i);
		planes.push_back(kms::PlaneLayout{ fd, guint32(offset + memory->offset), guint32(stride) });
	}
	zcbuf::Result<std::unique_ptr<kms::Framebuffer>> fb = kms::Framebuffer::import(
		state.device, kms::fourccOf(GST_VIDEO_INFO_FORMAT(&state.info)),
		DRM_FORMAT_MOD_INVALID, state.info.width, state.info.height, planes);
	if (!fb) {
		whyNot = fb.error().message() + " (" + errnoName(fb.error().code()) + ")";
		return nullptr;
	}
	kms::Framebuffer *made = fb->get();
	std::lock_guard<std::mutex> lock(state.cacheLock);
	auto it = state.cache.find(memory);
	if (it == state.cache.end())
		gst_mini_object_weak_ref(GST_MINI_OBJECT(memory), memoryGone, &state);
	/* A framebuffer replaced here is not on screen: a memory changes size
	 * only after renegotiation, and the buffer on screen keeps its memory. */
	state.cache[memory] = std::move(fb).value();
	return made;
}

/* allow-copy: the frame copied by the CPU into a dumb buffer of the device,
 * recorded as a copy (GST_PERFORMANCE and the zerocopy tracer). */
kms::Framebuffer *copiedFramebuffer(GstZcKmsSink *self, GstBuffer *buffer, const std::string &why)
{
	State &state = stateOf(self);
	const GstVideoFormatInfo *finfo = state.info.finfo;
	if (GST_VIDEO_INFO_N_PLANES(&state.info) != 1) {
		GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot copy a %s frame", finfo->name),
				  ("allow-copy copies single-plane formats only; the buffer cannot be "
				   "imported: %s", why.c_str()));
		return nullptr;
	}
	std::unique_ptr<kms::Framebuffer> &target = state.copyTargets[state.nextCopyTarget];
	state.nextCopyTarget = (state.nextCopyTarget + 1) % state.copyTargets.size();
	guint width = state.info.width, height = state.info.height;
	if (!target || target->width() != width || target->height() != height) {
		target.reset();
		zcbuf::Result<std::unique_ptr<kms::Framebuffer>> fb = kms::Framebuffer::dumb(
			state.device, kms::fourccOf(GST_VIDEO_INFO_FORMAT(&state.info)),
			GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, 0) * 8, width, height);
		if (!fb) {
			GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT,
					  ("Cannot make a buffer to copy into"), ("%s",
					  fb.error().message().c_str()));
			return nullptr;
		}
		target = std::move(fb).value();
	}
	GstVideoFrame frame;
	if (!gst_video_frame_map(&frame, &state.info, buffer, GST_MAP_READ)) {
		GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Cannot map the frame to copy it"), (nullptr));
		return nullptr;
	}
	gsize row = gsize(width) * GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, 0);
	const guint8 *src = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
	gint srcStride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
	for (guint y = 0; y < height; y++)
		std::memcpy(target->pixels() + gsize(y) * target->pitch(), src + gsize(y) * srcStride,
			    row);
	gst_video_frame_unmap(&frame);
	std::string reason = "copy into a dumb buffer: " + why;
	gst_zcbuf_record_copy(GST_OBJECT(self), row * height, reason.c_str());
	return target.get();
}

/* A buffer the display cannot take as it is: copied with allow-copy=true,
 * else an error that says why and how to allow the copy. */
kms::Framebuffer *copyOrRefuse(GstZcKmsSink *self, GstBuffer *buffer, const std::string &whyNot,
			       bool allowCopy)
{
	if (!allowCopy) {
		GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot show the buffer without a copy"),
				  ("%s; set allow-copy=true to copy it into a dumb buffer",
				   whyNot.c_str()));
		return nullptr;
	}
	return copiedFramebuffer(self, buffer, whyNot);
}

gboolean openOutput(GstZcKmsSink *self)
{
	State &state = stateOf(self);
	Settings settings = settingsOf(self);
	zcbuf::Result<kms::Device> device = kms::Device::open(settings.device, settings.driverName);
	if (!device) {
		int code = device.error().code();
		if (code == EBUSY)
			GST_ELEMENT_ERROR(self, RESOURCE, BUSY, ("KMS device is busy"), ("%s",
					  device.error().message().c_str()));
		else
			GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE, ("Cannot open a KMS device"),
					  ("%s (%s)", device.error().message().c_str(),
					   errnoName(code).c_str()));
		return FALSE;
	}
	state.device = std::make_shared<kms::Device>(std::move(device).value());
	kms::OutputChoice choice;
	choice.connectorId = settings.connectorId;
	choice.planeId = settings.planeId;
	choice.mode = settings.mode;
	choice.atomic = settings.atomic;
	zcbuf::Result<std::unique_ptr<kms::Output>> output = kms::Output::choose(state.device, choice);
	if (!output) {
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot use the KMS device %s",
				  state.device->node().c_str()), ("%s", output.error().message().c_str()));
		state.device.reset();
		return FALSE;
	}
	state.output = std::move(output).value();
	const drmModeModeInfo &mode = state.output->mode();
	GST_INFO_OBJECT(self, "%s (%s, %s): connector %u, CRTC %u, %s plane %u, mode %ux%u@%u",
			state.device->node().c_str(), state.device->driver().c_str(),
			state.output->atomic() ? "atomic" : "legacy", state.output->connectorId(),
			state.output->crtcId(), state.output->primary() ? "primary" : "overlay",
			state.output->planeId(), mode.hdisplay, mode.vdisplay, mode.vrefresh);
	return TRUE;
}

void closeOutput(State &state)
{
	state.output.reset();
	if (state.device)
		state.device->dropMaster();
	state.device.reset();
}

/* The device opens at NULL->READY, before any element goes to PAUSED: a
 * zcbuf drm backend opened by a producer on the same card must not become
 * its master first. It closes at READY->NULL. */
GstStateChangeReturn gst_zc_kms_sink_change_state(GstElement *element, GstStateChange transition)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(element);
	if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
		try {
			if (!openOutput(self))
				return GST_STATE_CHANGE_FAILURE;
		} catch (const std::exception &e) {
			GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("zckmssink failed to open"),
					  ("%s", e.what()));
			return GST_STATE_CHANGE_FAILURE;
		}
	}
	GstStateChangeReturn ret =
		GST_ELEMENT_CLASS(gst_zc_kms_sink_parent_class)->change_state(element, transition);
	if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
	    (transition == GST_STATE_CHANGE_NULL_TO_READY && ret == GST_STATE_CHANGE_FAILURE))
		closeOutput(stateOf(self));
	return ret;
}

gboolean gst_zc_kms_sink_stop(GstBaseSink *sink)
{
	State &state = stateOf(GST_ZC_KMS_SINK(sink));
	if (state.output) {
		/* Put the screen back before its framebuffers go: removing one
		 * that is scanned out would turn the CRTC off instead. */
		state.output->restore();
	}
	releaseBuffers(state);
	clearCache(state);
	for (auto &target : state.copyTargets)
		target.reset();
	state.haveInfo = false;
	return TRUE;
}

GstCaps *gst_zc_kms_sink_get_caps(GstBaseSink *sink, GstCaps *filter)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(sink);
	State &state = stateOf(self);
	GstCaps *caps;
	if (!state.output) {
		caps = gst_pad_get_pad_template_caps(GST_BASE_SINK_PAD(sink));
	} else {
		caps = kms::capsOf(state.output->formats());
		Settings settings = settingsOf(self);
		const drmModeModeInfo &mode = state.output->mode();
		bool placed = settings.renderRect.w > 0 && settings.renderRect.h > 0;
		/* A primary plane must cover the mode on most drivers and cannot
		 * scale on many: ask upstream for the mode's size rather than
		 * failing the commit later. Overlays take any size that fits. */
		for (guint i = 0; i < gst_caps_get_size(caps); i++) {
			GstStructure *s = gst_caps_get_structure(caps, i);
			if (state.output->primary() && !placed)
				gst_structure_set(s, "width", G_TYPE_INT, gint(mode.hdisplay), "height",
						  G_TYPE_INT, gint(mode.vdisplay), nullptr);
			else if (!placed)
				gst_structure_set(s, "width", GST_TYPE_INT_RANGE, 1, gint(mode.hdisplay),
						  "height", GST_TYPE_INT_RANGE, 1, gint(mode.vdisplay),
						  nullptr);
		}
	}
	if (filter) {
		GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
		gst_caps_unref(caps);
		caps = both;
	}
	return caps;
}

gboolean gst_zc_kms_sink_set_caps(GstBaseSink *sink, GstCaps *caps)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(sink);
	State &state = stateOf(self);
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, caps)) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Invalid caps"), ("%" GST_PTR_FORMAT, caps));
		return FALSE;
	}
	std::uint32_t fourcc = kms::fourccOf(GST_VIDEO_INFO_FORMAT(&info));
	bool scanned = false;
	if (state.output)
		for (std::uint32_t f : state.output->formats())
			scanned |= f == fourcc && fourcc != 0;
	if (!scanned) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Format %s cannot be shown",
				  GST_VIDEO_INFO_NAME(&info)),
				  ("plane %u of %s does not scan out %s", state.output ?
				   state.output->planeId() : 0, state.device ?
				   state.device->driver().c_str() : "(no device)",
				   GST_VIDEO_INFO_NAME(&info)));
		return FALSE;
	}
	state.info = info;
	state.haveInfo = true;
	state.placementTested = false;
	state.scanoutRefused = false;
	GST_VIDEO_SINK_WIDTH(self) = info.width;
	GST_VIDEO_SINK_HEIGHT(self) = info.height;
	return TRUE;
}

/* 6.1's virtio-gpu says it imports (DRM_PRIME_CAP_IMPORT) but refuses every
 * foreign dma-buf with ENODEV: it scans out only its own dumb buffers. */
bool importsOnlyOwnMemory(const kms::Device &device)
{
	return !device.canImport() || device.driver() == "virtio_gpu";
}

gboolean gst_zc_kms_sink_propose_allocation(GstBaseSink *sink, GstQuery *query)
{
	State &state = stateOf(GST_ZC_KMS_SINK(sink));
	/* Offsets and pitches of every plane come from the meta. */
	gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
	/* The attach: producers allocate for this card (on it, where it takes
	 * nothing else). */
	if (state.device) {
		/* With allow-copy the sink copies what it cannot import: its
		 * need is a preference a forced backend may override. */
		bool allowCopy = settingsOf(GST_ZC_KMS_SINK(sink)).allowCopy;
		GstStructure *needs = gst_structure_new(
			GST_ZCBUF_CONSUMER_NEEDS, "consumer", G_TYPE_STRING, GST_OBJECT_NAME(sink),
			"device", G_TYPE_STRING, state.device->node().c_str(), "dmabuf", G_TYPE_BOOLEAN,
			TRUE, "own-device-memory", G_TYPE_BOOLEAN, importsOnlyOwnMemory(*state.device),
			"optional", G_TYPE_BOOLEAN, allowCopy, nullptr);
		gst_zcbuf_query_add_consumer_needs(query, needs);
		gst_structure_free(needs);
	}
	return TRUE;
}

GstFlowReturn showFrame(GstZcKmsSink *self, GstBuffer *buffer)
{
	State &state = stateOf(self);
	if (!state.output || !state.haveInfo) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No caps before the first frame"), (nullptr));
		return GST_FLOW_NOT_NEGOTIATED;
	}
	Settings settings = settingsOf(self);

	/* One flip outstanding at most: the next commit waits for it. */
	zcbuf::Result<void> flipped = state.output->waitFlip(kFlipTimeoutMs);
	if (!flipped) {
		GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("The display stopped flipping"),
				  ("%s (%s)", flipped.error().message().c_str(),
				   errnoName(flipped.error().code()).c_str()));
		return GST_FLOW_ERROR;
	}
	flipDone(state);
	/* The preroll frame comes again to render: it is on screen already. */
	if (buffer == state.onScreen)
		return GST_FLOW_OK;

	std::string whyNot;
	kms::Framebuffer *fb = nullptr;
	if (state.scanoutRefused)
		whyNot = state.device->driver() + " cannot scan out this stream's memory";
	else
		fb = importedFramebuffer(self, buffer, whyNot);
	bool imported = fb != nullptr;
	if (!fb) {
		fb = copyOrRefuse(self, buffer, whyNot, settings.allowCopy);
		if (!fb)
			return GST_FLOW_ERROR;
	}

	kms::Rect dst = placement(state, settings);
	if (!state.placementTested) {
		zcbuf::Result<void> ok = state.output->test(*fb, dst);
		if (!ok) {
			GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("The display cannot show this frame"),
					  ("%s (%s)", ok.error().message().c_str(),
					   errnoName(ok.error().code()).c_str()));
			return GST_FLOW_ERROR;
		}
		state.placementTested = true;
	}
	zcbuf::Result<void> shown = state.output->show(*fb, dst);
	if (!shown && imported && shown.error().code() == EINVAL) {
		/* The driver took the dma-buf and the framebuffer but cannot
		 * scan it out (vkms cannot vmap a udmabuf): as unimportable. */
		whyNot = state.device->driver() + " cannot scan it out: " + shown.error().message() +
			 " (EINVAL)";
		state.scanoutRefused = true;
		fb = copyOrRefuse(self, buffer, whyNot, settings.allowCopy);
		if (!fb)
			return GST_FLOW_ERROR;
		shown = state.output->show(*fb, dst);
	}
	if (!shown) {
		GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Cannot show the frame"),
				  ("%s (%s)", shown.error().message().c_str(),
				   errnoName(shown.error().code()).c_str()));
		return GST_FLOW_ERROR;
	}
	state.pending = gst_buffer_ref(buffer);
	if (!state.output->flipPending())
		flipDone(state); /* a legacy SetCrtc/SetPlane: already on screen */
	return GST_FLOW_OK;
}

GstFlowReturn gst_zc_kms_sink_show_frame(GstVideoSink *sink, GstBuffer *buffer)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(sink);
	try {
		return showFrame(self, buffer);
	} catch (const std::exception &e) {
		GST_ELEMENT_ERROR(self, CORE, FAILED, ("zckmssink failed"), ("%s", e.what()));
		return GST_FLOW_ERROR;
	}
}

void gst_zc_kms_sink_set_render_rectangle(GstVideoOverlay *overlay, gint x, gint y, gint width,
					  gint height)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(overlay);
	GST_OBJECT_LOCK(self);
	stateOf(self).settings.renderRect = GstVideoRectangle{ x, y, width, height };
	GST_OBJECT_UNLOCK(self);
	stateOf(self).placementTested = false;
}

void gst_zc_kms_sink_set_window_handle(GstVideoOverlay *overlay, guintptr handle)
{
	/* KMS has no windows: the output is the connector's whole screen. */
	(void)overlay;
	(void)handle;
}

void gst_zc_kms_sink_expose(GstVideoOverlay *overlay)
{
	(void)overlay; /* the frame on screen stays there by itself */
}

void setString(GstZcKmsSink *self, std::string &field, const GValue *value)
{
	const gchar *s = g_value_get_string(value);
	field = s ? s : "";
	(void)self;
}

} /* namespace */

static void gst_zc_kms_sink_overlay_init(GstVideoOverlayInterface *iface)
{
	iface->set_window_handle = gst_zc_kms_sink_set_window_handle;
	iface->expose = gst_zc_kms_sink_expose;
	iface->set_render_rectangle = gst_zc_kms_sink_set_render_rectangle;
}

static void gst_zc_kms_sink_set_property(GObject *object, guint id, const GValue *value,
					 GParamSpec *pspec)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(object);
	if (gst_video_overlay_set_property(object, PROP_LAST, id, value))
		return;
	GST_OBJECT_LOCK(self);
	Settings &s = stateOf(self).settings;
	switch (id) {
	case PROP_DEVICE:
		setString(self, s.device, value);
		break;
	case PROP_DRIVER_NAME:
		setString(self, s.driverName, value);
		break;
	case PROP_MODE:
		setString(self, s.mode, value);
		break;
	case PROP_CONNECTOR_ID:
		s.connectorId = g_value_get_uint(value);
		break;
	case PROP_PLANE_ID:
		s.planeId = g_value_get_uint(value);
		break;
	case PROP_ALLOW_COPY:
		s.allowCopy = g_value_get_boolean(value);
		break;
	case PROP_ATOMIC:
		s.atomic = g_value_get_boolean(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
		break;
	}
	GST_OBJECT_UNLOCK(self);
}

static void gst_zc_kms_sink_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(object);
	GST_OBJECT_LOCK(self);
	const Settings &s = stateOf(self).settings;
	switch (id) {
	case PROP_DEVICE:
		g_value_set_string(value, s.device.c_str());
		break;
	case PROP_DRIVER_NAME:
		g_value_set_string(value, s.driverName.c_str());
		break;
	case PROP_MODE:
		g_value_set_string(value, s.mode.c_str());
		break;
	case PROP_CONNECTOR_ID:
		g_value_set_uint(value, s.connectorId);
		break;
	case PROP_PLANE_ID:
		g_value_set_uint(value, s.planeId);
		break;
	case PROP_ALLOW_COPY:
		g_value_set_boolean(value, s.allowCopy);
		break;
	case PROP_ATOMIC:
		g_value_set_boolean(value, s.atomic);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
		break;
	}
	GST_OBJECT_UNLOCK(self);
}

static void gst_zc_kms_sink_init(GstZcKmsSink *self)
{
	self->state = new State();
	gst_video_info_init(&self->state->info);
}

static void gst_zc_kms_sink_finalize(GObject *object)
{
	GstZcKmsSink *self = GST_ZC_KMS_SINK(object);
	clearCache(*self->state);
	delete self->state;
	self->state = nullptr;
	G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_zc_kms_sink_class_init(GstZcKmsSinkClass *klass)
{
	GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
	GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
	GstBaseSinkClass *base_class = GST_BASE_SINK_CLASS(klass);
	GstVideoSinkClass *video_class = GST_VIDEO_SINK_CLASS(klass);

	GST_DEBUG_CATEGORY_INIT(gst_zc_kms_sink_debug, "zckmssink", 0, "zcbuf KMS display sink");

	gobject_class->set_property = gst_zc_kms_sink_set_property;
	gobject_class->get_property = gst_zc_kms_sink_get_property;
	gobject_class->finalize = gst_zc_kms_sink_finalize;

	/* The device, connector, plane, mode and atomic are read at
	 * NULL->READY; allow-copy at every frame. */
	const GParamFlags rw = GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_property(gobject_class, PROP_DEVICE,
		g_param_spec_string("device", "Device", "KMS card node (/dev/dri/cardN); empty: the "
				    "first card with a connected display", "", rw));
	g_object_class_install_property(gobject_class, PROP_DRIVER_NAME,
		g_param_spec_string("driver-name", "Driver name", "Only a card of this DRM driver "
				    "(vkms, virtio_gpu, ...); empty: any", "", rw));
	g_object_class_install_property(gobject_class, PROP_CONNECTOR_ID,
		g_param_spec_uint("connector-id", "Connector", "Connector id; 0: the first "
				  "connected one", 0, G_MAXUINT, 0, rw));
	g_object_class_install_property(gobject_class, PROP_PLANE_ID,
		g_param_spec_uint("plane-id", "Plane", "Plane id; 0: the CRTC's primary plane", 0,
				  G_MAXUINT, 0, rw));
	g_object_class_install_property(gobject_class, PROP_MODE,
		g_param_spec_string("mode", "Mode", "WxH or WxH@Hz of the connector; empty: its "
				    "preferred mode", "", rw));
	g_object_class_install_property(gobject_class, PROP_ALLOW_COPY,
		g_param_spec_boolean("allow-copy", "Allow copy", "Copy frames the driver cannot "
				     "import into a dumb buffer (recorded as a copy) instead of "
				     "failing", FALSE, rw));
	g_object_class_install_property(gobject_class, PROP_ATOMIC,
		g_param_spec_boolean("atomic", "Atomic", "Use atomic modesetting where the driver "
				     "has it; false: legacy SetCrtc/PageFlip/SetPlane", TRUE, rw));
	gst_video_overlay_install_properties(gobject_class, PROP_LAST);

	GstCaps *caps = kms::templateCaps();
	gst_element_class_add_pad_template(element_class,
		gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
	gst_caps_unref(caps);
	gst_element_class_set_static_metadata(element_class, "zcbuf KMS sink", "Sink/Video",
		"Scans out imported dma-bufs on a KMS display with atomic commits paced by "
		"page-flip events", "The zcbuf authors");

	element_class->change_state = gst_zc_kms_sink_change_state;
	base_class->stop = gst_zc_kms_sink_stop;
	base_class->get_caps = gst_zc_kms_sink_get_caps;
	base_class->set_caps = gst_zc_kms_sink_set_caps;
	base_class->propose_allocation = gst_zc_kms_sink_propose_allocation;
	video_class->show_frame = gst_zc_kms_sink_show_frame;
}
