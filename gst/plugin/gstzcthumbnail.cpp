/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcthumbnail: the GstBaseTransform glue. transform_ip() sees every
 * buffer read-only (passthrough) and decides whether a thumbnail is due;
 * a due frame is mapped for reading (gst_video_frame_map: a
 * DMA_BUF_IOCTL_SYNC bracket on zcbuf memory), shrunk into the worker's
 * job while mapped, and unmapped before the buffer moves on. Encoding and
 * writing happen on the worker thread; when it is still busy the frame is
 * skipped and counted.
 */
#include "gstzcthumbnail.h"

#include <atomic>
#include <memory>
#include <optional>
#include <cerrno>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufframe.h>

#include "gstzcguard.h"

#include "thumbnail/files.h"
#include "image/scaler.h"
#include "thumbnail/worker.h"

GST_DEBUG_CATEGORY_STATIC(gst_zc_thumbnail_debug);
GST_DEBUG_CATEGORY_STATIC(CAT_PERFORMANCE);
#define GST_CAT_DEFAULT gst_zc_thumbnail_debug

namespace {

using zcbuf::thumbnail::ThumbnailJob;
using zcbuf::thumbnail::ThumbnailOutcome;

constexpr const char *kDefaultLocation = "thumbnail-%05d.jpg";
constexpr guint kDefaultWidth = 320;
constexpr guint kDefaultHeight = 240;
constexpr guint kMaxSize = 16384;
constexpr gint kDefaultQuality = 85;
constexpr guint64 kDefaultInterval = GST_SECOND;

enum {
	PROP_0,
	PROP_LOCATION,
	PROP_WIDTH,
	PROP_HEIGHT,
	PROP_QUALITY,
	PROP_INTERVAL,
	PROP_INTERVAL_FRAMES,
	PROP_TAKEN,
	PROP_SKIPPED,
	PROP_BACKEND,
};

struct Settings {
	std::string location = kDefaultLocation;
	guint width = kDefaultWidth;
	guint height = kDefaultHeight;
	gint quality = kDefaultQuality;
	guint64 interval = kDefaultInterval;
	guint intervalFrames = 0;
	std::string backend;
};

/* What each frame needs of the settings. */
struct Schedule {
	guint64 interval;
	guint intervalFrames;
	guint width;
	guint height;
	gint quality;
};

struct ThumbnailState {
	/* Properties, under the object lock. */
	Settings settings;
	std::atomic<guint64> taken{ 0 };
	std::atomic<guint64> skipped{ 0 };

	/* Streaming state. */
	GstVideoInfo info;
	bool haveInfo = false;
	std::optional<zcbuf::thumbnail::LocationPattern> pattern;
	std::unique_ptr<zcbuf::thumbnail::ThumbnailWorker> worker;
	/* Frames seen since start or the last flush (interval-frames). */
	guint64 frames = 0;
	/* Running time from which the next thumbnail is due (interval). */
	GstClockTime nextDue = GST_CLOCK_TIME_NONE;
	/* The number the next file gets. */
	guint64 index = 0;
	bool warnedUntimed = false;
};

} /* namespace */

struct _GstZcThumbnail {
	GstBaseTransform parent;
	ThumbnailState *state;
};

G_DEFINE_TYPE_WITH_CODE(GstZcThumbnail, gst_zc_thumbnail, GST_TYPE_BASE_TRANSFORM,
			GST_DEBUG_CATEGORY_INIT(gst_zc_thumbnail_debug, "zcthumbnail", 0,
						"zcbuf thumbnailer"))

GST_ELEMENT_REGISTER_DEFINE(zcthumbnail, "zcthumbnail", GST_RANK_NONE, GST_TYPE_ZC_THUMBNAIL)

namespace {

#define ZC_THUMBNAIL_CAPS                                                                \
	GST_VIDEO_CAPS_MAKE(ZC_THUMBNAIL_FORMATS)                                          \
	"; " GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_MEMORY_DMABUF,             \
					       ZC_THUMBNAIL_FORMATS)

GstStaticPadTemplate sinkTemplate = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
							    GST_STATIC_CAPS(ZC_THUMBNAIL_CAPS));
GstStaticPadTemplate srcTemplate = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
							   GST_STATIC_CAPS(ZC_THUMBNAIL_CAPS));

/* Runs on the worker thread: both message kinds may be posted from any
 * thread. */
void report(GstZcThumbnail *self, const ThumbnailOutcome &outcome)
{
	if (!outcome.ok) {
		GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
				    ("Could not write thumbnail '%s'.", outcome.path.c_str()),
				    ("%s", outcome.error.c_str()));
		return;
	}
	GST_DEBUG_OBJECT(self, "wrote %s: %dx%d, %zu bytes", outcome.path.c_str(), outcome.width,
			 outcome.height, outcome.bytes);
	GstStructure *s = gst_structure_new(
		"zcthumbnail", "filename", G_TYPE_STRING, outcome.path.c_str(), "size",
		G_TYPE_UINT64, static_cast<guint64>(outcome.bytes), "width", G_TYPE_INT,
		outcome.width, "height", G_TYPE_INT, outcome.height, "index", G_TYPE_UINT64,
		static_cast<guint64>(outcome.index), "pts", G_TYPE_UINT64, outcome.pts,
		"running-time", G_TYPE_UINT64, outcome.runningTime, "stream-time", G_TYPE_UINT64,
		outcome.streamTime, nullptr);
	gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

/* Whether @buffer is the frame a thumbnail is due for; advances the
 * schedule (a due frame that is then skipped still uses its slot). */
bool isDue(GstZcThumbnail *self, GstBuffer *buffer, const Schedule &settings,
	   GstClockTime *runningTime)
{
	ThumbnailState *state = self->state;
	GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
	*runningTime = GST_CLOCK_TIME_NONE;
	GstClockTime pts = GST_BUFFER_PTS(buffer);
	if (GST_CLOCK_TIME_IS_VALID(pts) && trans->segment.format == GST_FORMAT_TIME)
		*runningTime = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, pts);

	if (settings.intervalFrames > 0)
		return state->frames++ % settings.intervalFrames == 0;

	if (!GST_CLOCK_TIME_IS_VALID(*runningTime)) {
		if (!state->warnedUntimed) {
			state->warnedUntimed = true;
			GST_WARNING_OBJECT(self, "frames without a running time: no thumbnails by "
						 "time (interval-frames works without timestamps)");
		}
		return false;
	}
	if (GST_CLOCK_TIME_IS_VALID(state->nextDue) && *runningTime < state->nextDue)
		return false;
	/* Due at multiples of the interval: 0, 1 s, 2 s, ... */
	state->nextDue = (*runningTime / settings.interval + 1) * settings.interval;
	return true;
}

GstFlowReturn transformIp(GstBaseTransform *trans, GstBuffer *buffer)
{
	GstZcThumbnail *self = GST_ZC_THUMBNAIL(trans);
	ThumbnailState *state = self->state;
	if (!state->haveInfo || !state->worker)
		return GST_FLOW_OK;

	/* The per-frame settings (not the strings: location is parsed at
	 * start, backend used in allocation). */
	Schedule settings;
	GST_OBJECT_LOCK(self);
	settings.interval = state->settings.interval;
	settings.intervalFrames = state->settings.intervalFrames;
	settings.width = state->settings.width;
	settings.height = state->settings.height;
	settings.quality = state->settings.quality;
	GST_OBJECT_UNLOCK(self);

	GstClockTime runningTime;
	if (!isDue(self, buffer, settings, &runningTime))
		return GST_FLOW_OK;

	ThumbnailJob *job = state->worker->acquire();
	if (!job) {
		state->skipped++;
		GST_DEBUG_OBJECT(self, "encoder busy: frame %" GST_TIME_FORMAT " skipped",
				 GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
		return GST_FLOW_OK;
	}

	GstVideoFrame frame;
	gchar *reason = nullptr;
	if (!gst_zcbuf_video_frame_layout_is_valid(&state->info, buffer, &reason)) {
		/* Checked before the planes are read: a GstVideoMeta whose
		 * planes run past the buffer would make the shrink read
		 * outside it. */
		state->worker->release();
		GST_ELEMENT_WARNING(self, STREAM, FORMAT,
				    ("Invalid video frame layout: no thumbnail of this frame."),
				    ("frame %" GST_TIME_FORMAT ": %s; it passes on unchanged",
				     GST_TIME_ARGS(GST_BUFFER_PTS(buffer)), reason));
		g_free(reason);
		return GST_FLOW_OK;
	}
	if (!gst_video_frame_map(&frame, &state->info, buffer, GST_MAP_READ)) {
		state->worker->release();
		GstMemory *memory = gst_buffer_n_memory(buffer) ? gst_buffer_peek_memory(buffer, 0)
								: nullptr;
		GST_ELEMENT_WARNING(self, RESOURCE, READ,
				    ("Cannot read a frame to make a thumbnail."),
				    ("gst_video_frame_map() failed for frame %" GST_TIME_FORMAT
				     " (memory of allocator %s); the frame passes on unchanged, "
				     "without a thumbnail",
				     GST_TIME_ARGS(GST_BUFFER_PTS(buffer)),
				     memory && memory->allocator ? GST_OBJECT_NAME(memory->allocator)
								 : "none"));
		return GST_FLOW_OK;
	}
	int width = 0, height = 0;
	zcbuf::image::thumbnailSize(&state->info, settings.width, settings.height, &width, &height);
	gint64 start = g_get_monotonic_time();
	zcbuf::image::shrinkFrame(&frame, width, height, &job->image);
	gst_video_frame_unmap(&frame);
	/* The one copy this element makes, thumbnail-sized by design. */
	GST_CAT_LOG_OBJECT(CAT_PERFORMANCE, self,
			   "%dx%d thumbnail copied out of a %dx%d %s frame in %" G_GINT64_FORMAT " us",
			   width, height, GST_VIDEO_INFO_WIDTH(&state->info),
			   GST_VIDEO_INFO_HEIGHT(&state->info),
			   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&state->info)),
			   g_get_monotonic_time() - start);

	job->quality = settings.quality;
	job->index = state->index++;
	job->path = state->pattern->format(job->index);
	job->pts = GST_BUFFER_PTS(buffer);
	job->runningTime = runningTime;
	job->streamTime = GST_CLOCK_TIME_IS_VALID(job->pts) && trans->segment.format == GST_FORMAT_TIME
				  ? gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, job->pts)
				  : GST_CLOCK_TIME_NONE;
	state->worker->submit();
	state->taken++;
	return GST_FLOW_OK;
}

gboolean setCaps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *)
{
	ThumbnailState *state = GST_ZC_THUMBNAIL(trans)->state;
	if (!gst_video_info_from_caps(&state->info, incaps)) {
		GST_ERROR_OBJECT(trans, "caps %" GST_PTR_FORMAT " are not raw video", incaps);
		state->haveInfo = false;
		return FALSE;
	}
	state->haveInfo = true;
	return TRUE;
}

void resetSchedule(ThumbnailState *state)
{
	state->frames = 0;
	state->nextDue = GST_CLOCK_TIME_NONE;
}

gboolean start(GstBaseTransform *trans)
{
	GstZcThumbnail *self = GST_ZC_THUMBNAIL(trans);
	ThumbnailState *state = self->state;
	GST_OBJECT_LOCK(self);
	std::string location = state->settings.location;
	GST_OBJECT_UNLOCK(self);

	std::string error;
	state->pattern = zcbuf::thumbnail::LocationPattern::parse(location, &error);
	if (!state->pattern) {
		GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
				  ("Invalid thumbnail location '%s'.", location.c_str()),
				  ("%s", error.c_str()));
		return FALSE;
	}
	/* A location that cannot be written is a mistake to report now; a
	 * write failing later (disk full, directory gone) is a warning. */
	std::string directory = zcbuf::thumbnail::directoryOf(state->pattern->format(0));
	if (access(directory.c_str(), W_OK | X_OK) < 0) {
		int saved = errno;
		GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
				  ("Cannot write thumbnails to directory '%s'.", directory.c_str()),
				  ("location '%s': %s", location.c_str(), g_strerror(saved)));
		return FALSE;
	}

	state->taken = 0;
	state->skipped = 0;
	state->index = 0;
	state->warnedUntimed = false;
	resetSchedule(state);
	try {
		state->worker = std::make_unique<zcbuf::thumbnail::ThumbnailWorker>(
			[self](const ThumbnailOutcome &outcome) {
				/* On the worker thread: an exception there would
				 * end the process too. */
				zcbuf::plugin::guardedVoid(self, GST_CAT_DEFAULT, "thumbnail report",
							   [&] { report(self, outcome); });
			});
	} catch (const std::system_error &e) {
		GST_ELEMENT_ERROR(self, RESOURCE, FAILED,
				  ("Cannot start the thumbnail encoder thread."), ("%s", e.what()));
		return FALSE;
	}
	return TRUE;
}

gboolean stop(GstBaseTransform *trans)
{
	ThumbnailState *state = GST_ZC_THUMBNAIL(trans)->state;
	/* A thumbnail in work is finished, then the thread joins. */
	state->worker.reset();
	state->haveInfo = false;
	return TRUE;
}

gboolean sinkEvent(GstBaseTransform *trans, GstEvent *event)
{
	ThumbnailState *state = GST_ZC_THUMBNAIL(trans)->state;
	switch (GST_EVENT_TYPE(event)) {
	case GST_EVENT_EOS:
		/* The last thumbnail's file and message come before EOS. */
		if (state->worker)
			state->worker->waitIdle();
		break;
	case GST_EVENT_FLUSH_STOP:
		resetSchedule(state);
		break;
	default:
		break;
	}
	return GST_BASE_TRANSFORM_CLASS(gst_zc_thumbnail_parent_class)->sink_event(trans, event);
}

gboolean proposeAllocation(GstBaseTransform *trans, GstQuery *decideQuery, GstQuery *query)
{
	GstZcThumbnail *self = GST_ZC_THUMBNAIL(trans);
	GST_OBJECT_LOCK(self);
	std::string named = self->state->settings.backend;
	GST_OBJECT_UNLOCK(self);
	/* A backend asked for and missing is an error, passthrough or not. */
	if (!gst_zcbuf_element_open_backend(GST_ELEMENT(self), named.c_str()))
		return FALSE;
	/* Passthrough: downstream answers first. */
	GST_BASE_TRANSFORM_CLASS(gst_zc_thumbnail_parent_class)
		->propose_allocation(trans, decideQuery, query);
	if (gst_query_get_n_allocation_pools(query) > 0)
		return TRUE;
	/* Nobody downstream offers a pool: offer zcbuf's, so that producers
	 * write into memory that maps with a sync bracket. */
	GST_OBJECT_LOCK(self);
	std::string backend = self->state->settings.backend;
	GST_OBJECT_UNLOCK(self);
	if (!gst_zcbuf_propose_allocation(query, 0, backend.empty() ? nullptr : backend.c_str()))
		GST_DEBUG_OBJECT(self, "no zcbuf pool to propose for %" GST_PTR_FORMAT, query);
	return TRUE;
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstZcThumbnail *self = GST_ZC_THUMBNAIL(object);
	Settings &settings = self->state->settings;
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_LOCATION: {
		const gchar *location = g_value_get_string(value);
		settings.location = location ? location : "";
		break;
	}
	case PROP_WIDTH:
		settings.width = g_value_get_uint(value);
		break;
	case PROP_HEIGHT:
		settings.height = g_value_get_uint(value);
		break;
	case PROP_QUALITY:
		settings.quality = g_value_get_int(value);
		break;
	case PROP_INTERVAL:
		settings.interval = g_value_get_uint64(value);
		break;
	case PROP_INTERVAL_FRAMES:
		settings.intervalFrames = g_value_get_uint(value);
		break;
	case PROP_BACKEND: {
		const gchar *backend = g_value_get_string(value);
		settings.backend = backend ? backend : "";
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcThumbnail *self = GST_ZC_THUMBNAIL(object);
	ThumbnailState *state = self->state;
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_LOCATION:
		g_value_set_string(value, state->settings.location.c_str());
		break;
	case PROP_WIDTH:
		g_value_set_uint(value, state->settings.width);
		break;
	case PROP_HEIGHT:
		g_value_set_uint(value, state->settings.height);
		break;
	case PROP_QUALITY:
		g_value_set_int(value, state->settings.quality);
		break;
	case PROP_INTERVAL:
		g_value_set_uint64(value, state->settings.interval);
		break;
	case PROP_INTERVAL_FRAMES:
		g_value_set_uint(value, state->settings.intervalFrames);
		break;
	case PROP_TAKEN:
		g_value_set_uint64(value, state->taken);
		break;
	case PROP_SKIPPED:
		g_value_set_uint64(value, state->skipped);
		break;
	case PROP_BACKEND:
		g_value_set_string(value, state->settings.backend.c_str());
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

} /* namespace */

static void gst_zc_thumbnail_init(GstZcThumbnail *self)
{
	self->state = new ThumbnailState();
	gst_video_info_init(&self->state->info);
	GstBaseTransform *trans = GST_BASE_TRANSFORM(self);
	gst_base_transform_set_passthrough(trans, TRUE);
	gst_base_transform_set_in_place(trans, TRUE);
}

static void gst_zc_thumbnail_finalize(GObject *object)
{
	delete std::exchange(GST_ZC_THUMBNAIL(object)->state, nullptr);
	G_OBJECT_CLASS(gst_zc_thumbnail_parent_class)->finalize(object);
}

static void gst_zc_thumbnail_class_init(GstZcThumbnailClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstElementClass *elementClass = GST_ELEMENT_CLASS(klass);
	GstBaseTransformClass *transformClass = GST_BASE_TRANSFORM_CLASS(klass);

	objectClass->set_property = setProperty;
	objectClass->get_property = getProperty;
	objectClass->finalize = gst_zc_thumbnail_finalize;

	/* Each vfunc through guarded(): no exception into GStreamer. */
	using zcbuf::plugin::guarded;
	transformClass->start = [](GstBaseTransform *trans) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "start", FALSE, [&] { return start(trans); });
	};
	transformClass->stop = [](GstBaseTransform *trans) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "stop", FALSE, [&] { return stop(trans); });
	};
	transformClass->set_caps = [](GstBaseTransform *trans, GstCaps *incaps,
				      GstCaps *outcaps) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "set_caps", FALSE,
			       [&] { return setCaps(trans, incaps, outcaps); });
	};
	transformClass->transform_ip = [](GstBaseTransform *trans,
					  GstBuffer *buffer) -> GstFlowReturn {
		return guarded(trans, GST_CAT_DEFAULT, "transform_ip", GST_FLOW_ERROR,
			       [&] { return transformIp(trans, buffer); });
	};
	transformClass->sink_event = [](GstBaseTransform *trans, GstEvent *event) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "sink_event", FALSE,
			       [&] { return sinkEvent(trans, event); });
	};
	transformClass->propose_allocation = [](GstBaseTransform *trans, GstQuery *decideQuery,
						GstQuery *query) -> gboolean {
		return guarded(trans, GST_CAT_DEFAULT, "propose_allocation", FALSE,
			       [&] { return proposeAllocation(trans, decideQuery, query); });
	};
	/* transform_ip on a passthrough buffer: it is only read. */
	transformClass->transform_ip_on_passthrough = TRUE;

	auto flags = [](int extra) {
		return static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | extra);
	};
	auto readOnly = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_property(
		objectClass, PROP_LOCATION,
		g_param_spec_string("location", "Location",
				    "Thumbnail file names: a printf pattern with one integer "
				    "conversion (%d, %05d, %x, ...; %% for a percent sign) that "
				    "numbers the files from 0. Its directory must be writable when "
				    "the element starts",
				    kDefaultLocation, flags(GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(
		objectClass, PROP_WIDTH,
		g_param_spec_uint("width", "Width",
				  "Largest thumbnail width: frames are scaled down to fit width x "
				  "height keeping their display aspect ratio, never up",
				  1, kMaxSize, kDefaultWidth, flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_HEIGHT,
		g_param_spec_uint("height", "Height",
				  "Largest thumbnail height (see width)", 1, kMaxSize,
				  kDefaultHeight, flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_QUALITY,
		g_param_spec_int("quality", "Quality", "JPEG quality of the thumbnails", 1, 100,
				 kDefaultQuality, flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_INTERVAL,
		g_param_spec_uint64("interval", "Interval",
				    "Running time between thumbnails in nanoseconds: one is taken "
				    "of the first frame at or after each multiple of it. Used when "
				    "interval-frames is 0",
				    1, G_MAXUINT64, kDefaultInterval,
				    flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_INTERVAL_FRAMES,
		g_param_spec_uint("interval-frames", "Interval in frames",
				  "Take a thumbnail of every n-th frame (the first, then every "
				  "n-th after it) instead of by time; 0 uses interval",
				  0, G_MAXUINT, 0, flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_TAKEN,
		g_param_spec_uint64("taken", "Taken",
				    "Frames taken for thumbnails since the element started",
				    0, G_MAXUINT64, 0, readOnly));
	g_object_class_install_property(
		objectClass, PROP_SKIPPED,
		g_param_spec_uint64("skipped", "Skipped",
				    "Frames a thumbnail was due for but skipped because the encoder "
				    "was still busy with the previous one (the stream never waits)",
				    0, G_MAXUINT64, 0, readOnly));
	g_object_class_install_property(
		objectClass, PROP_BACKEND,
		g_param_spec_string("backend", "Backend",
				    "Allocation backend of the zcbuf pool proposed upstream when "
				    "downstream offers none: module, dma-heap[:HEAP], udmabuf, "
				    "drm[:/dev/dri/cardN], memfd; empty for ZCBUF_BACKEND or the best "
				    "available",
				    "", flags(GST_PARAM_MUTABLE_READY)));

	GST_DEBUG_CATEGORY_GET(CAT_PERFORMANCE, "GST_PERFORMANCE");
	gst_element_class_add_static_pad_template(elementClass, &sinkTemplate);
	gst_element_class_add_static_pad_template(elementClass, &srcTemplate);
	gst_element_class_set_static_metadata(
		elementClass, "zcbuf thumbnailer", "Filter/Video",
		"Passes video through untouched and writes a JPEG thumbnail of a frame every "
		"interval, read through a CPU-access bracket and encoded on its own thread",
		"The zcbuf authors");
}
