/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcipcsrc's glue: a live push source whose caps are the producer's (set
 * when an epoch starts, so negotiate() does nothing of its own), whose
 * timestamps are the producer's CLOCK_MONOTONIC times less this pipeline's
 * base time, and whose create() waits on the socket and on unlock().
 */
#include "gstzcipcsrc.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>
#include <gst/video/video.h>

#include <memory>
#include <string>

#include "ipc/consumer.h"

GST_DEBUG_CATEGORY_STATIC(gst_zc_ipc_src_debug);
#define GST_CAT_DEFAULT gst_zc_ipc_src_debug

namespace {

enum {
	PROP_0,
	PROP_SOCKET_PATH,
	PROP_DROPPED,
};

struct State {
	/* Under the object lock. */
	std::string path;
	std::shared_ptr<zcbuf::ipcsrc::Connection> connection;

	zcbuf::UniqueFD wake;
};

} /* namespace */

struct _GstZcIpcSrc {
	GstPushSrc parent;
	State *state;
};

G_DEFINE_TYPE(GstZcIpcSrc, gst_zc_ipc_src, GST_TYPE_PUSH_SRC)
GST_ELEMENT_REGISTER_DEFINE(zcipcsrc, "zcipcsrc", GST_RANK_NONE, GST_TYPE_ZC_IPC_SRC)

namespace {

GstStaticPadTemplate srcTemplate = GST_STATIC_PAD_TEMPLATE(
	"src", GST_PAD_SRC, GST_PAD_ALWAYS,
	GST_STATIC_CAPS("video/x-raw(" GST_CAPS_FEATURE_MEMORY_DMABUF "); video/x-raw"));

std::shared_ptr<zcbuf::ipcsrc::Connection> connectionOf(GstZcIpcSrc *self)
{
	GST_OBJECT_LOCK(self);
	std::shared_ptr<zcbuf::ipcsrc::Connection> connection = self->state->connection;
	GST_OBJECT_UNLOCK(self);
	return connection;
}

gboolean start(GstBaseSrc *src)
{
	GstZcIpcSrc *self = GST_ZC_IPC_SRC(src);
	GST_OBJECT_LOCK(self);
	std::string path = self->state->path;
	GST_OBJECT_UNLOCK(self);
	if (path.empty()) {
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No socket-path set"), (nullptr));
		return FALSE;
	}
	zcbuf::Result<std::shared_ptr<zcbuf::ipcsrc::Connection>> connection =
		zcbuf::ipcsrc::Connection::open(path);
	if (!connection) {
		GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
				  ("%s", connection.error().message().c_str()), ("socket-path %s", path.c_str()));
		return FALSE;
	}
	self->state->wake.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	GST_OBJECT_LOCK(self);
	self->state->connection = connection.value();
	GST_OBJECT_UNLOCK(self);
	return TRUE;
}

gboolean stop(GstBaseSrc *src)
{
	GstZcIpcSrc *self = GST_ZC_IPC_SRC(src);
	GST_OBJECT_LOCK(self);
	self->state->connection.reset();
	GST_OBJECT_UNLOCK(self);
	self->state->wake.reset();
	return TRUE;
}

gboolean unlock(GstBaseSrc *src)
{
	std::uint64_t one = 1;
	State *state = GST_ZC_IPC_SRC(src)->state;
	if (state->wake.isValid())
		(void)!write(state->wake.get(), &one, sizeof(one));
	return TRUE;
}

gboolean unlockStop(GstBaseSrc *src)
{
	std::uint64_t count;
	State *state = GST_ZC_IPC_SRC(src)->state;
	if (state->wake.isValid())
		(void)!read(state->wake.get(), &count, sizeof(count));
	return TRUE;
}

/* Caps come from the producer with each epoch. */
gboolean negotiate(GstBaseSrc *)
{
	return TRUE;
}

GstClockTime runningTime(GstZcIpcSrc *self, std::int64_t monotonic)
{
	GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
	if (monotonic == zcbuf::ipc::kNoTime || !GST_CLOCK_TIME_IS_VALID(base) ||
	    static_cast<GstClockTime>(monotonic) < base)
		return GST_CLOCK_TIME_NONE;
	return static_cast<GstClockTime>(monotonic) - base;
}

GstFlowReturn create(GstPushSrc *src, GstBuffer **out)
{
	GstZcIpcSrc *self = GST_ZC_IPC_SRC(src);
	std::shared_ptr<zcbuf::ipcsrc::Connection> connection = connectionOf(self);
	if (!connection)
		return GST_FLOW_FLUSHING;
	for (;;) {
		struct pollfd fds[2] = { { connection->fd(), POLLIN, 0 },
					 { self->state->wake.get(), POLLIN, 0 } };
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return GST_FLOW_ERROR;
		if (fds[1].revents)
			return GST_FLOW_FLUSHING;
		if (!fds[0].revents)
			continue;
		zcbuf::Result<zcbuf::ipcsrc::Event> event = connection->next();
		if (!event) {
			GST_ELEMENT_ERROR(self, RESOURCE, READ,
					  ("%s", event.error().message().c_str()), (nullptr));
			return GST_FLOW_ERROR;
		}
		switch (event->kind) {
		case zcbuf::ipcsrc::Event::Kind::Caps: {
			GstCaps *caps = gst_caps_from_string(event->caps.c_str());
			gboolean set = caps && gst_base_src_set_caps(GST_BASE_SRC(self), caps);
			if (caps)
				gst_caps_unref(caps);
			if (!set) {
				GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
						  ("Downstream refuses the producer's caps"),
						  ("%s", event->caps.c_str()));
				return GST_FLOW_NOT_NEGOTIATED;
			}
			continue;
		}
		case zcbuf::ipcsrc::Event::Kind::Frame:
			GST_BUFFER_PTS(event->buffer) = runningTime(self, event->pts);
			GST_BUFFER_DTS(event->buffer) = runningTime(self, event->dts);
			*out = event->buffer;
			return GST_FLOW_OK;
		case zcbuf::ipcsrc::Event::Kind::Eos:
			return GST_FLOW_EOS;
		}
	}
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstZcIpcSrc *self = GST_ZC_IPC_SRC(object);
	switch (id) {
	case PROP_SOCKET_PATH: {
		const gchar *path = g_value_get_string(value);
		GST_OBJECT_LOCK(self);
		self->state->path = path ? path : "";
		GST_OBJECT_UNLOCK(self);
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcIpcSrc *self = GST_ZC_IPC_SRC(object);
	switch (id) {
	case PROP_SOCKET_PATH:
		GST_OBJECT_LOCK(self);
		g_value_set_string(value, self->state->path.c_str());
		GST_OBJECT_UNLOCK(self);
		break;
	case PROP_DROPPED: {
		std::shared_ptr<zcbuf::ipcsrc::Connection> connection = connectionOf(self);
		g_value_set_uint64(value, connection ? connection->dropped() : 0);
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

void finalize(GObject *object)
{
	delete GST_ZC_IPC_SRC(object)->state;
	G_OBJECT_CLASS(gst_zc_ipc_src_parent_class)->finalize(object);
}

} /* namespace */

static void gst_zc_ipc_src_init(GstZcIpcSrc *self)
{
	self->state = new State();
	gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
	gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_zc_ipc_src_class_init(GstZcIpcSrcClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstElementClass *elementClass = GST_ELEMENT_CLASS(klass);
	GstBaseSrcClass *baseClass = GST_BASE_SRC_CLASS(klass);
	GstPushSrcClass *pushClass = GST_PUSH_SRC_CLASS(klass);

	objectClass->set_property = setProperty;
	objectClass->get_property = getProperty;
	objectClass->finalize = finalize;

	g_object_class_install_property(
		objectClass, PROP_SOCKET_PATH,
		g_param_spec_string("socket-path", "Socket path",
				    "The producer's socket: a path, or @name in the abstract namespace",
				    nullptr,
				    GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
						GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(
		objectClass, PROP_DROPPED,
		g_param_spec_uint64("dropped", "Dropped",
				    "Frames the producer did not send us (we were full or slow)", 0,
				    G_MAXUINT64, 0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

	gst_element_class_add_static_pad_template(elementClass, &srcTemplate);
	gst_element_class_set_static_metadata(elementClass, "zcbuf IPC source", "Source/Video",
					      "Receives frames from a zcipcsink in another process",
					      "The zcbuf authors");

	baseClass->start = start;
	baseClass->stop = stop;
	baseClass->unlock = unlock;
	baseClass->unlock_stop = unlockStop;
	baseClass->negotiate = negotiate;
	pushClass->create = create;

	GST_DEBUG_CATEGORY_INIT(gst_zc_ipc_src_debug, "zcipcsrc", 0, "zcbuf IPC source");
}
