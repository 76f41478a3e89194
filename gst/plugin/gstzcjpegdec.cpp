/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcjpegdec: the GstVideoDecoder glue. The streaming thread reads each
 * frame's header (cheap: markers only), negotiates when size or sampling
 * change, allocates the output buffer from the pool and either decodes
 * there (n-threads=1) or hands the frame to a worker; it finishes frames
 * strictly in the order they came, waiting for the oldest when more than
 * n-threads are in flight. With parallel=restart-intervals it instead
 * splits each frame at its restart markers into bands decoded at once, on
 * the workers and on itself, and finishes the frame before the next.
 */
#include "gstzcjpegdec.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <string>
#include <utility>

#include <gst/allocators/allocators.h>
#include <gst/zcbuf/gstzcbuf.h>

#include "gstzcguard.h"
#include "jpeg/decode_workers.h"
#include "jpeg/decompressor.h"
#include "jpeg/framing.h"
#include "jpeg/restart_intervals.h"

GST_DEBUG_CATEGORY_STATIC(gst_zc_jpeg_dec_debug);
GST_DEBUG_CATEGORY_STATIC(CAT_PERFORMANCE);
#define GST_CAT_DEFAULT gst_zc_jpeg_dec_debug

namespace {

using zcbuf::jpeg::DecodeBand;
using zcbuf::jpeg::DecodeJob;
using zcbuf::jpeg::DecodeOptions;
using zcbuf::jpeg::Decompressor;
using zcbuf::jpeg::Header;
using zcbuf::jpeg::Sampling;

constexpr guint kDefaultThreads = 1;
constexpr guint kMaxThreads = 16;
constexpr guint kDefaultScale = 1;
constexpr J_DCT_METHOD kDefaultDctMethod = JDCT_IFAST;
/* A few damaged camera frames are dropped; a stream of nothing but bad data
 * ends in an error instead of silence. */
constexpr gint kDefaultMaxErrors = 10;
/* The largest picture (decoded width times height) decoded by default:
 * 8K DCI, 8192x4320. Beyond it a header is refused before any buffer is
 * allocated, so that a few bytes claiming 65535x65535 cannot make the
 * pool allocate gigabytes. */
constexpr guint64 kDefaultMaxPixels = 8192ull * 4320ull;
/* The largest a JPEG frame header can claim. */
constexpr guint64 kLargestPixels = 65535ull * 65535ull;
/* The row pitch libjpeg writes whole blocks into (DCTSIZE * 2). */
constexpr guint kBlockRowAlignment = 16;

enum {
	PROP_0,
	PROP_N_THREADS,
	PROP_SCALE,
	PROP_IDCT_METHOD,
	PROP_BACKEND,
	PROP_MAX_ERRORS,
	PROP_MAX_PIXELS,
	PROP_CONSTRAINTS,
	PROP_CHOSEN_BACKEND,
	PROP_PARALLEL,
};

/* What n-threads decode at once. */
enum Parallel {
	PARALLEL_FRAMES,
	PARALLEL_RESTART_INTERVALS,
};

struct Settings {
	guint threads = kDefaultThreads;
	guint scale = kDefaultScale;
	J_DCT_METHOD dctMethod = kDefaultDctMethod;
	std::string backend;
	std::string constraints;
	guint64 maxPixels = kDefaultMaxPixels;
	Parallel parallel = PARALLEL_FRAMES;
};

/* What the negotiated output was made for. */
struct OutputKey {
	unsigned width;
	unsigned height;
	Sampling sampling;
	bool operator==(const OutputKey &) const = default;
};

struct DecoderState {
	/* Properties, under the object lock. */
	Settings settings;

	/* Streaming state, under the decoder's stream lock. */
	GstVideoCodecState *input = nullptr;
	bool parsedCaps = false;
	std::unique_ptr<zcbuf::jpeg::Decompressor> decompressor;
	std::unique_ptr<zcbuf::jpeg::DecodeWorkers> workers;
	unsigned threads = 1;
	/* parallel=restart-intervals with more than one thread. */
	bool bands = false;
	bool reportedNoBands = false;
	std::deque<std::shared_ptr<DecodeJob>> pending;
	zcbuf::jpeg::Framer framer;
	std::optional<OutputKey> output;
	bool reportedStaging = false;
	bool reportedParsing = false;
	std::string backend;
	/* Whether the backend may give dma-bufs (known without opening it):
	 * decides if memory:DMABuf caps may be offered. */
	bool dmabuf = false;
};

} /* namespace */

struct _GstZcJpegDec {
	GstVideoDecoder parent;
	DecoderState *state;
};

G_DEFINE_TYPE_WITH_CODE(GstZcJpegDec, gst_zc_jpeg_dec, GST_TYPE_VIDEO_DECODER,
			GST_DEBUG_CATEGORY_INIT(gst_zc_jpeg_dec_debug, "zcjpegdec", 0,
						"zcbuf JPEG decoder"))

GST_ELEMENT_REGISTER_DEFINE(zcjpegdec, "zcjpegdec", GST_RANK_NONE, GST_TYPE_ZC_JPEG_DEC)

namespace {

#define ZC_JPEG_DEC_FORMATS "{ I420, NV12, Y42B, Y444, GRAY8 }"

GstStaticPadTemplate sinkTemplate =
	GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("image/jpeg"));

GstStaticPadTemplate srcTemplate = GST_STATIC_PAD_TEMPLATE(
	"src", GST_PAD_SRC, GST_PAD_ALWAYS,
	GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(ZC_JPEG_DEC_FORMATS) "; " GST_VIDEO_CAPS_MAKE_WITH_FEATURES(
		GST_CAPS_FEATURE_MEMORY_DMABUF, ZC_JPEG_DEC_FORMATS)));

GType scaleGetType()
{
	static gsize type = 0;
	static const GEnumValue values[] = {
		{ 1, "Full size", "full" },
		{ 2, "1/2 in each direction", "half" },
		{ 4, "1/4 in each direction", "quarter" },
		{ 8, "1/8 in each direction", "eighth" },
		{ 0, nullptr, nullptr },
	};
	if (g_once_init_enter(&type))
		g_once_init_leave(&type, g_enum_register_static("GstZcJpegDecScale", values));
	return type;
}

GType dctMethodGetType()
{
	static gsize type = 0;
	static const GEnumValue values[] = {
		{ JDCT_ISLOW, "Slow but accurate integer algorithm", "islow" },
		{ JDCT_IFAST, "Faster, less accurate integer algorithm (jpegdec's default)",
		  "ifast" },
		{ JDCT_FLOAT, "Floating-point algorithm", "float" },
		{ 0, nullptr, nullptr },
	};
	if (g_once_init_enter(&type))
		g_once_init_leave(&type,
				  g_enum_register_static("GstZcJpegDecIdctMethod", values));
	return type;
}

GType parallelGetType()
{
	static gsize type = 0;
	static const GEnumValue values[] = {
		{ PARALLEL_FRAMES, "Whole frames, one per thread (throughput; a frame of latency "
				   "per thread)", "frames" },
		{ PARALLEL_RESTART_INTERVALS,
		  "The restart intervals of each frame, split across the threads (latency; "
		  "frames without usable restart markers are decoded whole)",
		  "restart-intervals" },
		{ 0, nullptr, nullptr },
	};
	if (g_once_init_enter(&type))
		g_once_init_leave(&type,
				  g_enum_register_static("GstZcJpegDecParallel", values));
	return type;
}

DecoderState *stateOf(gpointer self)
{
	return GST_ZC_JPEG_DEC(self)->state;
}

DecodeOptions currentOptions(GstZcJpegDec *self, guint64 *maxPixels)
{
	DecodeOptions options;
	GST_OBJECT_LOCK(self);
	options.scaleDenom = self->state->settings.scale;
	options.dctMethod = self->state->settings.dctMethod;
	*maxPixels = self->state->settings.maxPixels;
	GST_OBJECT_UNLOCK(self);
	return options;
}

/* A bad frame: counted against max-errors (the base class posts the error
 * once they are exceeded) and dropped. */
GstFlowReturn decodeError(GstZcJpegDec *self, GstVideoCodecFrame *frame, const std::string &why)
{
	GstFlowReturn ret = GST_FLOW_OK;
	/* The base class logs in its own category; the reason belongs in
	 * ours too. */
	GST_WARNING_OBJECT(self, "dropping frame %u: %s", frame->system_frame_number, why.c_str());
	GST_VIDEO_DECODER_ERROR(self, 1, STREAM, DECODE, ("Failed to decode JPEG image"),
				("frame %u: %s", frame->system_frame_number, why.c_str()), ret);
	gst_video_decoder_drop_frame(GST_VIDEO_DECODER(self), frame);
	return ret;
}

/* The formats @value names, in its order. */
std::vector<GstVideoFormat> formatsIn(const GValue *value)
{
	std::vector<GstVideoFormat> formats;
	if (G_VALUE_HOLDS_STRING(value)) {
		formats.push_back(gst_video_format_from_string(g_value_get_string(value)));
	} else if (GST_VALUE_HOLDS_LIST(value)) {
		for (guint i = 0; i < gst_value_list_get_size(value); i++)
			for (GstVideoFormat f : formatsIn(gst_value_list_get_value(value, i)))
				formats.push_back(f);
	}
	return formats;
}

/*
 * Picks the output format: the image's natural one (its own sampling) when
 * downstream accepts it, else the first of the other formats it decodes to
 * in downstream's order of preference (NV12 or I420 for a 4:2:2 image when
 * downstream takes only those). memory:DMABuf caps only when our pools
 * really give dma-bufs.
 */
bool chooseFormat(GstZcJpegDec *self, const Header &header, GstVideoFormat *chosen,
		  bool *dmabufFeature, GstCaps **peerOut)
{
	GstVideoDecoder *dec = GST_VIDEO_DECODER(self);
	std::vector<GstVideoFormat> candidates = zcbuf::jpeg::outputFormats(header.sampling);
	GstCaps *filter = gst_pad_get_pad_template_caps(dec->srcpad);
	GstCaps *peer = gst_pad_peer_query_caps(dec->srcpad, filter);
	gst_caps_unref(filter);
	*peerOut = peer;
	*dmabufFeature = false;
	if (!peer || gst_caps_is_any(peer)) {
		*chosen = candidates.front();
		return true;
	}

	auto fits = [&](guint i, GstVideoFormat format, bool dmabuf) {
		GstCaps *candidate = gst_caps_new_simple(
			"video/x-raw", "format", G_TYPE_STRING, gst_video_format_to_string(format),
			"width", G_TYPE_INT, static_cast<gint>(header.width), "height", G_TYPE_INT,
			static_cast<gint>(header.height), nullptr);
		if (dmabuf)
			gst_caps_set_features(candidate, 0,
					      gst_caps_features_new(GST_CAPS_FEATURE_MEMORY_DMABUF,
								    nullptr));
		GstCaps *one = gst_caps_copy_nth(peer, i);
		bool result = gst_caps_can_intersect(candidate, one);
		gst_caps_unref(one);
		gst_caps_unref(candidate);
		return result;
	};
	auto usable = [&](guint i, bool *dmabuf) {
		GstCapsFeatures *features = gst_caps_get_features(peer, i);
		*dmabuf = features &&
			  gst_caps_features_contains(features, GST_CAPS_FEATURE_MEMORY_DMABUF);
		return !*dmabuf || self->state->dmabuf;
	};

	for (guint i = 0; i < gst_caps_get_size(peer); i++) {
		bool dmabuf = false;
		if (usable(i, &dmabuf) && fits(i, candidates.front(), dmabuf)) {
			*chosen = candidates.front();
			*dmabufFeature = dmabuf;
			return true;
		}
	}
	for (guint i = 0; i < gst_caps_get_size(peer); i++) {
		bool dmabuf = false;
		if (!usable(i, &dmabuf))
			continue;
		const GValue *formats =
			gst_structure_get_value(gst_caps_get_structure(peer, i), "format");
		if (!formats)
			continue;
		for (GstVideoFormat format : formatsIn(formats)) {
			if (std::find(candidates.begin(), candidates.end(), format) !=
				    candidates.end() &&
			    fits(i, format, dmabuf)) {
				*chosen = format;
				*dmabufFeature = dmabuf;
				return true;
			}
		}
	}
	return false;
}

void updateLatency(GstZcJpegDec *self, const GstVideoInfo *info)
{
	DecoderState *state = self->state;
	/* Bands finish each frame before the next: no frame waits. */
	if (state->threads <= 1 || state->bands || GST_VIDEO_INFO_FPS_N(info) <= 0)
		return;
	/* A frame may wait for the n-1 decoded before it to go out. */
	GstClockTime latency = gst_util_uint64_scale(state->threads * GST_SECOND,
						     GST_VIDEO_INFO_FPS_D(info),
						     GST_VIDEO_INFO_FPS_N(info));
	gst_video_decoder_set_latency(GST_VIDEO_DECODER(self), latency, latency);
}

GstFlowReturn finishJob(GstZcJpegDec *self, DecodeJob &job)
{
	DecoderState *state = self->state;
	GstVideoCodecFrame *frame = std::exchange(job.frame, nullptr);
	GST_LOG_OBJECT(self, "frame %u decoded on %s", frame->system_frame_number,
		       job.worker ? job.worker : "the streaming thread");
	if (!job.ok)
		return decodeError(self, frame, job.error);
	if (job.report.otherWarnings)
		GST_DEBUG_OBJECT(self, "frame %u: %d harmless libjpeg warnings",
				 frame->system_frame_number, job.report.otherWarnings);
	if ((job.report.stagedLuma || job.report.stagedChroma) && !state->reportedStaging) {
		state->reportedStaging = true;
		GST_CAT_INFO_OBJECT(CAT_PERFORMANCE, self,
				    "rows go through a block-row buffer (%s%s%s): %s",
				    job.report.stagedLuma ? "luma" : "",
				    job.report.stagedLuma && job.report.stagedChroma ? ", " : "",
				    job.report.stagedChroma ? "chroma" : "",
				    GST_VIDEO_INFO_FORMAT(&job.info) == GST_VIDEO_FORMAT_NV12
					    ? "NV12 chroma is interleaved from planar rows"
					    : "the stride is narrower than whole JPEG blocks, or the "
					      "chroma is resampled");
	}
	return gst_video_decoder_finish_frame(GST_VIDEO_DECODER(self), frame);
}

/* Finishes, in order, the jobs at the head of the queue that are done,
 * waiting for the oldest while more than @inFlight are pending. Stops at
 * the first flow that is not OK: what is still pending then waits for a
 * flush or stop. */
GstFlowReturn finishInOrder(GstZcJpegDec *self, std::size_t inFlight)
{
	DecoderState *state = self->state;
	while (!state->pending.empty()) {
		std::shared_ptr<DecodeJob> job = state->pending.front();
		if (state->pending.size() > inFlight)
			state->workers->wait(job);
		else if (!state->workers->isDone(job))
			break;
		state->pending.pop_front();
		GstFlowReturn ret = finishJob(self, *job);
		if (ret == GST_FLOW_ERROR || ret == GST_FLOW_NOT_NEGOTIATED) {
			/* The stream has failed: what was decoded after the
			 * failing frame must not come out at EOS. */
			for (std::shared_ptr<DecodeJob> &later : state->pending) {
				state->workers->wait(later);
				gst_video_decoder_release_frame(GST_VIDEO_DECODER(self),
								std::exchange(later->frame, nullptr));
			}
			state->pending.clear();
		}
		if (ret != GST_FLOW_OK)
			return ret;
	}
	return GST_FLOW_OK;
}

/* A frame that cannot be decoded, reported after the frames before it. */
GstFlowReturn failInOrder(GstZcJpegDec *self, GstVideoCodecFrame *frame, std::string why)
{
	DecoderState *state = self->state;
	if (!state->workers)
		return decodeError(self, frame, why);
	auto failed = std::make_shared<DecodeJob>();
	failed->frame = frame;
	failed->error = std::move(why);
	state->pending.push_back(std::move(failed));
	return finishInOrder(self, state->threads);
}

/* A valid JPEG that this decoder does not decode (4:1:1, 4:4:0, RGB,
 * CMYK): not damage, so max-errors does not apply; the frames before it go
 * out, then the stream fails with the reason. */
GstFlowReturn unsupportedFrame(GstZcJpegDec *self, GstVideoCodecFrame *frame,
			       const std::string &why)
{
	guint number = frame->system_frame_number;
	GstFlowReturn ret = self->state->workers ? finishInOrder(self, 0) : GST_FLOW_OK;
	gst_video_decoder_release_frame(GST_VIDEO_DECODER(self), frame);
	if (ret != GST_FLOW_OK)
		return ret;
	GST_ELEMENT_ERROR(self, STREAM, NOT_IMPLEMENTED,
			  ("This JPEG's colour space or chroma sampling is not supported."),
			  ("frame %u: %s", number, why.c_str()));
	return GST_FLOW_ERROR;
}

/* After a flush or at stop: the base class forgets its frames; we wait for
 * the workers and drop our references. */
void discardPending(GstZcJpegDec *self)
{
	DecoderState *state = self->state;
	for (std::shared_ptr<DecodeJob> &job : state->pending) {
		state->workers->wait(job);
		if (job->frame)
			gst_video_codec_frame_unref(std::exchange(job->frame, nullptr));
	}
	state->pending.clear();
}

GstFlowReturn ensureOutput(GstZcJpegDec *self, const Header &header)
{
	GstVideoDecoder *dec = GST_VIDEO_DECODER(self);
	DecoderState *state = self->state;
	OutputKey key{ header.width, header.height, header.sampling };
	bool reconfigure = gst_pad_check_reconfigure(dec->srcpad);
	if (state->output && *state->output == key && !reconfigure)
		return GST_FLOW_OK;

	/* Frames decoded for the old caps go out under them. */
	GstFlowReturn ret = finishInOrder(self, 0);
	if (ret != GST_FLOW_OK)
		return ret;

	GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
	bool dmabufFeature = false;
	GstCaps *peer = nullptr;
	bool found = chooseFormat(self, header, &format, &dmabufFeature, &peer);
	if (!found) {
		std::string formats;
		for (GstVideoFormat f : zcbuf::jpeg::outputFormats(header.sampling))
			formats += std::string(formats.empty() ? "" : ", ") +
				   gst_video_format_to_string(f);
		gchar *peerText = peer ? gst_caps_to_string(peer) : g_strdup("nothing");
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
				  ("Downstream accepts none of the formats this JPEG decodes to."),
				  ("a %ux%u %s JPEG decodes to %s; downstream accepts %s",
				   header.width, header.height, zcbuf::jpeg::toString(header.sampling),
				   formats.c_str(), peerText));
		g_free(peerText);
		gst_clear_caps(&peer);
		state->output.reset();
		return GST_FLOW_NOT_NEGOTIATED;
	}
	gst_clear_caps(&peer);

	GstVideoCodecState *output = gst_video_decoder_set_output_state(
		dec, format, header.width, header.height, state->input);
	if (!output) {
		/* gst_video_info_set_format() refuses frames whose size does
		 * not fit its plane arithmetic (65535x65535 I420, say). */
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
				  ("This JPEG's picture size cannot be described as raw video."),
				  ("GstVideoInfo cannot describe a %ux%u %s frame", header.width,
				   header.height, gst_video_format_to_string(format)));
		state->output.reset();
		return GST_FLOW_NOT_NEGOTIATED;
	}
	if (header.sampling != Sampling::Gray) {
		/* JFIF: full-range BT.601 YCbCr, chroma centred between the
		 * luma samples (the colorimetry jpegdec gives too). */
		output->info.chroma_site = GST_VIDEO_CHROMA_SITE_JPEG;
		output->info.colorimetry.range = GST_VIDEO_COLOR_RANGE_0_255;
		output->info.colorimetry.matrix = GST_VIDEO_COLOR_MATRIX_BT601;
		output->info.colorimetry.transfer = GST_VIDEO_TRANSFER_UNKNOWN;
		output->info.colorimetry.primaries = GST_VIDEO_COLOR_PRIMARIES_UNKNOWN;
	}
	if (dmabufFeature) {
		output->caps = gst_video_info_to_caps(&output->info);
		gst_caps_set_features(output->caps, 0,
				      gst_caps_features_new(GST_CAPS_FEATURE_MEMORY_DMABUF, nullptr));
	}
	updateLatency(self, &output->info);
	gst_video_codec_state_unref(output);
	GST_DEBUG_OBJECT(self, "%ux%u %s JPEG (coded %ux%u) to %s%s", header.width, header.height,
			 zcbuf::jpeg::toString(header.sampling), header.codedWidth, header.codedHeight,
			 gst_video_format_to_string(format), dmabufFeature ? " (memory:DMABuf)" : "");

	state->reportedStaging = false;
	if (!gst_video_decoder_negotiate(dec)) {
		state->output.reset();
		return GST_PAD_IS_FLUSHING(dec->srcpad) ? GST_FLOW_FLUSHING
							 : GST_FLOW_NOT_NEGOTIATED;
	}
	state->output = key;
	return GST_FLOW_OK;
}

/* GstVideoDecoder vfuncs */

gboolean start(GstVideoDecoder *dec)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(dec);
	DecoderState *state = self->state;

	GST_OBJECT_LOCK(self);
	state->threads = state->settings.threads;
	state->backend = state->settings.backend;
	state->bands = state->threads > 1 &&
		       state->settings.parallel == PARALLEL_RESTART_INTERVALS;
	GST_OBJECT_UNLOCK(self);

	/* A backend the user named is opened now, so that a missing one is an
	 * error before the first frame; the default opens nothing: the
	 * consumers' needs choose it at allocation. */
	if (!state->backend.empty() &&
	    !gst_zcbuf_element_open_backend(GST_ELEMENT(self), state->backend.c_str()))
		return FALSE;
	state->dmabuf = gst_zcbuf_backend_may_give_dmabuf(state->backend.c_str());
	state->decompressor = std::make_unique<zcbuf::jpeg::Decompressor>();
	if (state->threads > 1) {
		try {
			/* With bands the streaming thread decodes one too. */
			state->workers = std::make_unique<zcbuf::jpeg::DecodeWorkers>(
				state->bands ? state->threads - 1 : state->threads);
		} catch (const std::system_error &e) {
			GST_ELEMENT_ERROR(self, RESOURCE, FAILED,
					  ("Cannot start %u decoding threads.", state->threads),
					  ("%s", e.what()));
			state->decompressor.reset();
			return FALSE;
		}
	}
	state->framer.reset();
	state->output.reset();
	state->parsedCaps = false;
	state->reportedParsing = false;
	state->reportedNoBands = false;
	gst_video_decoder_set_packetized(dec, FALSE);
	GST_DEBUG_OBJECT(self, "%u decoding thread(s)%s, %s memory", state->threads,
			 state->bands ? " on restart intervals" : "",
			 state->dmabuf ? "dma-buf" : "fd");
	return TRUE;
}

gboolean stop(GstVideoDecoder *dec)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(dec);
	DecoderState *state = self->state;
	if (state->workers)
		discardPending(self);
	state->workers.reset();
	state->decompressor.reset();
	state->output.reset();
	g_clear_pointer(&state->input, gst_video_codec_state_unref);
	return TRUE;
}

gboolean setFormat(GstVideoDecoder *dec, GstVideoCodecState *input)
{
	DecoderState *state = stateOf(dec);
	g_clear_pointer(&state->input, gst_video_codec_state_unref);
	state->input = gst_video_codec_state_ref(input);
	gboolean parsed = FALSE;
	gst_structure_get_boolean(gst_caps_get_structure(input->caps, 0), "parsed", &parsed);
	state->parsedCaps = parsed;
	/* jpegparse, demuxers and cameras hand over whole images; otherwise
	 * parse() finds them. A TIME segment says the same (sinkEvent). */
	if (parsed)
		gst_video_decoder_set_packetized(dec, TRUE);
	return TRUE;
}

gboolean sinkEvent(GstVideoDecoder *dec, GstEvent *event)
{
	if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
		const GstSegment *segment = nullptr;
		gst_event_parse_segment(event, &segment);
		gst_video_decoder_set_packetized(dec, segment->format == GST_FORMAT_TIME ||
							      stateOf(dec)->parsedCaps);
	}
	return GST_VIDEO_DECODER_CLASS(gst_zc_jpeg_dec_parent_class)->sink_event(dec, event);
}

GstFlowReturn parse(GstVideoDecoder *dec, GstVideoCodecFrame *, GstAdapter *adapter,
		    gboolean atEos)
{
	DecoderState *state = stateOf(dec);
	gsize available = gst_adapter_available(adapter);
	if (!available)
		return GST_VIDEO_DECODER_FLOW_NEED_DATA;
	if (!state->reportedParsing) {
		state->reportedParsing = true;
		GST_CAT_INFO_OBJECT(CAT_PERFORMANCE, dec,
				    "unparsed input: pictures are gathered in an adapter, copied "
				    "when they span buffers (jpegparse or a demuxer avoids that)");
	}

	const guint8 *data = static_cast<const guint8 *>(gst_adapter_map(adapter, available));
	std::size_t length = 0;
	zcbuf::jpeg::Framer::Result result =
		state->framer.scan(data, available, &length, atEos);
	gst_adapter_unmap(adapter);

	switch (result) {
	case zcbuf::jpeg::Framer::Result::Garbage:
		GST_DEBUG_OBJECT(dec, "skipping %zu bytes before the next SOI", length);
		gst_adapter_flush(adapter, length);
		state->framer.reset();
		return GST_FLOW_OK;
	case zcbuf::jpeg::Framer::Result::Frame:
		gst_video_decoder_add_to_frame(dec, static_cast<gint>(length));
		state->framer.reset();
		return gst_video_decoder_have_frame(dec);
	case zcbuf::jpeg::Framer::Result::NeedData:
		break;
	}
	if (!atEos)
		return GST_VIDEO_DECODER_FLOW_NEED_DATA;
	/* The stream ends inside an image: decode what there is, which
	 * reports it as truncated. */
	gst_video_decoder_add_to_frame(dec, static_cast<gint>(available));
	state->framer.reset();
	return gst_video_decoder_have_frame(dec);
}

/* Decodes @job's frame in bands of its restart intervals: band 0 on this
 * thread, the others on the workers at the same time. A frame that cannot
 * be split (restart_intervals.h says why, logged once) is decoded whole. */
void decodeInBands(GstZcJpegDec *self, DecodeJob &job)
{
	DecoderState *state = self->state;
	GstMapInfo in;
	if (!gst_buffer_map(job.frame->input_buffer, &in, GST_MAP_READ)) {
		job.error = "cannot map the input buffer for reading";
		return;
	}
	zcbuf::jpeg::RestartIntervals intervals;
	std::string why;
	bool split = zcbuf::jpeg::findRestartIntervals(in.data, in.size, &intervals, &why);
	unsigned count = split ? std::min(state->threads, intervals.count()) : 1;
	if (count < 2) {
		gst_buffer_unmap(job.frame->input_buffer, &in);
		if (!state->reportedNoBands) {
			state->reportedNoBands = true;
			GST_INFO_OBJECT(self, "frame %u decoded whole, not in restart intervals: %s",
					job.frame->system_frame_number,
					split ? "a single restart interval" : why.c_str());
		}
		zcbuf::jpeg::runDecodeJob(*state->decompressor, job);
		return;
	}
	GstVideoFrame out;
	if (!gst_video_frame_map(&out, &job.info, job.frame->output_buffer, GST_MAP_WRITE)) {
		gst_buffer_unmap(job.frame->input_buffer, &in);
		job.error = "cannot map the output buffer for writing";
		return;
	}

	unsigned denom = job.options.scaleDenom;
	std::vector<DecodeBand> bands(count);
	std::vector<std::shared_ptr<DecodeJob>> jobs;
	for (unsigned i = 0; i < count; i++) {
		unsigned top = 0;
		unsigned rows = 0;
		zcbuf::jpeg::restartBand(in.data, intervals, i * intervals.count() / count,
					 (i + 1) * intervals.count() / count, &bands[i].jpeg, &top,
					 &rows);
		/* The band's rows of the frame: whole MCU rows, so every plane
		 * starts at a whole (subsampled, IDCT-scaled) row. */
		GstVideoFrame &view = bands[i].rows;
		view = out;
		view.info.height = static_cast<gint>((rows + denom - 1) / denom);
		for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&out); p++) {
			guint component = GST_VIDEO_FRAME_FORMAT(&out) == GST_VIDEO_FORMAT_NV12
						  ? std::min(p, 1u)
						  : p;
			gint y = GST_VIDEO_SUB_SCALE(out.info.finfo->h_sub[component],
						     static_cast<gint>(top / denom));
			view.data[p] = static_cast<std::uint8_t *>(out.data[p]) +
				       static_cast<std::ptrdiff_t>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&out, p);
		}
		auto band = std::make_shared<DecodeJob>();
		band->band = &bands[i];
		band->options = job.options;
		jobs.push_back(band);
		if (i > 0)
			state->workers->submit(band);
	}
	zcbuf::jpeg::runDecodeJob(*state->decompressor, *jobs[0]);
	job.ok = true;
	for (unsigned i = 0; i < count; i++) {
		DecodeJob &band = *jobs[i];
		if (i > 0)
			state->workers->wait(jobs[i]);
		GST_LOG_OBJECT(self, "band %u of %u of frame %u decoded on %s", i, count,
			       job.frame->system_frame_number,
			       band.worker ? band.worker : "the streaming thread");
		if (!band.ok && job.ok) {
			job.ok = false;
			job.error = "band " + std::to_string(i) + ": " + band.error;
		}
		job.report.stagedLuma |= band.report.stagedLuma;
		job.report.stagedChroma |= band.report.stagedChroma;
		job.report.otherWarnings += band.report.otherWarnings;
	}
	gst_video_frame_unmap(&out);
	gst_buffer_unmap(job.frame->input_buffer, &in);
}

GstFlowReturn handleFrame(GstVideoDecoder *dec, GstVideoCodecFrame *frame)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(dec);
	DecoderState *state = self->state;
	guint64 maxPixels = 0;
	DecodeOptions options = currentOptions(self, &maxPixels);

	GstMapInfo map;
	if (!gst_buffer_map(frame->input_buffer, &map, GST_MAP_READ)) {
		GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Failed to read memory."),
				  ("gst_buffer_map() failed for READ access"));
		gst_video_decoder_drop_frame(dec, frame);
		return GST_FLOW_ERROR;
	}
	Header header;
	std::string error = "the buffer is empty";
	Decompressor::HeaderResult result =
		map.size == 0 ? Decompressor::HeaderResult::Damaged
			      : state->decompressor->readHeader(map.data, map.size, options,
								&header, &error);
	gst_buffer_unmap(frame->input_buffer, &map);
	if (result == Decompressor::HeaderResult::Unsupported)
		return unsupportedFrame(self, frame, error);
	if (result != Decompressor::HeaderResult::Ok)
		return failInOrder(self, frame, std::move(error));
	guint64 pixels = static_cast<guint64>(header.width) * header.height;
	if (pixels > maxPixels) {
		/* Before anything is allocated for it. */
		return failInOrder(self, frame,
				   "the header claims a " + std::to_string(header.width) + "x" +
					   std::to_string(header.height) + " picture (" +
					   std::to_string(pixels) + " pixels), more than max-pixels (" +
					   std::to_string(maxPixels) + ")");
	}

	GstFlowReturn ret = ensureOutput(self, header);
	if (ret != GST_FLOW_OK) {
		gst_video_decoder_release_frame(dec, frame);
		return ret;
	}
	ret = gst_video_decoder_allocate_output_frame(dec, frame);
	if (ret == GST_FLOW_ERROR) {
		/* Most likely a damaged header claiming a huge picture. */
		return failInOrder(self, frame,
				   "no output buffer for a " + std::to_string(header.width) + "x" +
					   std::to_string(header.height) + " picture");
	}
	if (ret != GST_FLOW_OK) {
		GST_DEBUG_OBJECT(self, "no output buffer: %s", gst_flow_get_name(ret));
		gst_video_decoder_release_frame(dec, frame);
		return ret;
	}

	GstVideoCodecState *output = gst_video_decoder_get_output_state(dec);
	auto job = std::make_shared<DecodeJob>();
	job->frame = frame;
	job->info = output->info;
	job->options = options;
	gst_video_codec_state_unref(output);

	if (state->bands) {
		/* Frames failed before this one go out first. */
		ret = finishInOrder(self, 0);
		if (ret != GST_FLOW_OK) {
			gst_video_decoder_release_frame(dec, std::exchange(job->frame, nullptr));
			return ret;
		}
		decodeInBands(self, *job);
		return finishJob(self, *job);
	}
	if (!state->workers) {
		zcbuf::jpeg::runDecodeJob(*state->decompressor, *job);
		return finishJob(self, *job);
	}
	state->pending.push_back(job);
	state->workers->submit(std::move(job));
	return finishInOrder(self, state->threads);
}

GstFlowReturn drainAll(GstVideoDecoder *dec)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(dec);
	if (!self->state->workers)
		return GST_FLOW_OK;
	return finishInOrder(self, 0);
}

gboolean flush(GstVideoDecoder *dec)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(dec);
	if (self->state->workers)
		discardPending(self);
	self->state->framer.reset();
	return TRUE;
}

gboolean decideAllocation(GstVideoDecoder *dec, GstQuery *query)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(dec);
	DecoderState *state = self->state;
	GstCaps *caps = nullptr;
	gst_query_parse_allocation(query, &caps, nullptr);
	/* Frames in flight on the workers, plus the one being pushed. Rows
	 * padded to 16 bytes hold libjpeg's whole blocks, so that it writes
	 * straight into the planes. */
	GST_OBJECT_LOCK(self);
	std::string constraints = state->settings.constraints;
	GST_OBJECT_UNLOCK(self);
	GstZcbufOutputParams params = {};
	params.backend = state->backend.c_str();
	params.dmabuf = gst_zcbuf_caps_has_dmabuf_feature(caps, 0);
	params.extra_buffers = (state->bands ? 1 : state->threads) + 1;
	params.stride_alignment = kBlockRowAlignment;
	params.constraints = constraints.c_str();
	return gst_zcbuf_decide_allocation(GST_ELEMENT(self), query, &params);
}

/* GObject */

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(object);
	Settings &settings = self->state->settings;
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_N_THREADS:
		settings.threads = g_value_get_uint(value);
		break;
	case PROP_SCALE:
		settings.scale = static_cast<guint>(g_value_get_enum(value));
		break;
	case PROP_IDCT_METHOD:
		settings.dctMethod = static_cast<J_DCT_METHOD>(g_value_get_enum(value));
		break;
	case PROP_BACKEND: {
		const gchar *backend = g_value_get_string(value);
		settings.backend = backend ? backend : "";
		break;
	}
	case PROP_MAX_PIXELS:
		settings.maxPixels = g_value_get_uint64(value);
		break;
	case PROP_PARALLEL:
		settings.parallel = static_cast<Parallel>(g_value_get_enum(value));
		break;
	case PROP_CONSTRAINTS: {
		const gchar *text = g_value_get_string(value);
		settings.constraints = text ? text : "";
		break;
	}
	case PROP_MAX_ERRORS:
		/* The base class keeps the count and the limit. */
		GST_OBJECT_UNLOCK(self);
		gst_video_decoder_set_max_errors(GST_VIDEO_DECODER(self), g_value_get_int(value));
		return;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcJpegDec *self = GST_ZC_JPEG_DEC(object);
	const Settings &settings = self->state->settings;
	if (id == PROP_CHOSEN_BACKEND) {
		g_value_take_string(value, gst_zcbuf_element_get_chosen_backend(GST_ELEMENT(self)));
		return;
	}
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_CONSTRAINTS:
		g_value_set_string(value, settings.constraints.c_str());
		break;
	case PROP_N_THREADS:
		g_value_set_uint(value, settings.threads);
		break;
	case PROP_SCALE:
		g_value_set_enum(value, static_cast<gint>(settings.scale));
		break;
	case PROP_IDCT_METHOD:
		g_value_set_enum(value, settings.dctMethod);
		break;
	case PROP_BACKEND:
		g_value_set_string(value, settings.backend.c_str());
		break;
	case PROP_MAX_PIXELS:
		g_value_set_uint64(value, settings.maxPixels);
		break;
	case PROP_PARALLEL:
		g_value_set_enum(value, settings.parallel);
		break;
	case PROP_MAX_ERRORS:
		GST_OBJECT_UNLOCK(self);
		g_value_set_int(value, gst_video_decoder_get_max_errors(GST_VIDEO_DECODER(self)));
		return;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

} /* namespace */

static void gst_zc_jpeg_dec_init(GstZcJpegDec *self)
{
	self->state = new DecoderState();
	GstVideoDecoder *dec = GST_VIDEO_DECODER(self);
	gst_video_decoder_set_use_default_pad_acceptcaps(dec, TRUE);
	gst_video_decoder_set_max_errors(dec, kDefaultMaxErrors);
	GST_PAD_SET_ACCEPT_TEMPLATE(dec->sinkpad);
}

static void gst_zc_jpeg_dec_finalize(GObject *object)
{
	DecoderState *state = std::exchange(GST_ZC_JPEG_DEC(object)->state, nullptr);
	g_clear_pointer(&state->input, gst_video_codec_state_unref);
	delete state;
	G_OBJECT_CLASS(gst_zc_jpeg_dec_parent_class)->finalize(object);
}

static void gst_zc_jpeg_dec_class_init(GstZcJpegDecClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstElementClass *elementClass = GST_ELEMENT_CLASS(klass);
	GstVideoDecoderClass *decoderClass = GST_VIDEO_DECODER_CLASS(klass);

	objectClass->set_property = setProperty;
	objectClass->get_property = getProperty;
	objectClass->finalize = gst_zc_jpeg_dec_finalize;

	/* Each vfunc through guarded(): no exception into GStreamer. */
	using zcbuf::plugin::guarded;
	decoderClass->start = [](GstVideoDecoder *dec) -> gboolean {
		return guarded(dec, GST_CAT_DEFAULT, "start", FALSE, [&] { return start(dec); });
	};
	decoderClass->stop = [](GstVideoDecoder *dec) -> gboolean {
		return guarded(dec, GST_CAT_DEFAULT, "stop", FALSE, [&] { return stop(dec); });
	};
	decoderClass->set_format = [](GstVideoDecoder *dec, GstVideoCodecState *input) -> gboolean {
		return guarded(dec, GST_CAT_DEFAULT, "set_format", FALSE,
			       [&] { return setFormat(dec, input); });
	};
	decoderClass->sink_event = [](GstVideoDecoder *dec, GstEvent *event) -> gboolean {
		return guarded(dec, GST_CAT_DEFAULT, "sink_event", FALSE,
			       [&] { return sinkEvent(dec, event); });
	};
	decoderClass->parse = [](GstVideoDecoder *dec, GstVideoCodecFrame *frame,
				 GstAdapter *adapter, gboolean atEos) -> GstFlowReturn {
		return guarded(dec, GST_CAT_DEFAULT, "parse", GST_FLOW_ERROR,
			       [&] { return parse(dec, frame, adapter, atEos); });
	};
	decoderClass->handle_frame = [](GstVideoDecoder *dec,
					GstVideoCodecFrame *frame) -> GstFlowReturn {
		return guarded(dec, GST_CAT_DEFAULT, "handle_frame", GST_FLOW_ERROR,
			       [&] { return handleFrame(dec, frame); });
	};
	decoderClass->finish = [](GstVideoDecoder *dec) -> GstFlowReturn {
		return guarded(dec, GST_CAT_DEFAULT, "finish", GST_FLOW_ERROR,
			       [&] { return drainAll(dec); });
	};
	decoderClass->drain = [](GstVideoDecoder *dec) -> GstFlowReturn {
		return guarded(dec, GST_CAT_DEFAULT, "drain", GST_FLOW_ERROR,
			       [&] { return drainAll(dec); });
	};
	decoderClass->flush = [](GstVideoDecoder *dec) -> gboolean {
		return guarded(dec, GST_CAT_DEFAULT, "flush", FALSE, [&] { return flush(dec); });
	};
	decoderClass->decide_allocation = [](GstVideoDecoder *dec, GstQuery *query) -> gboolean {
		return guarded(dec, GST_CAT_DEFAULT, "decide_allocation", FALSE,
			       [&] { return decideAllocation(dec, query); });
	};

	auto flags = [](int extra) {
		return static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | extra);
	};
	g_object_class_install_property(
		objectClass, PROP_N_THREADS,
		g_param_spec_uint("n-threads", "Threads",
				  "Frames decoded at once, each on its own thread (MJPEG frames "
				  "are independent; output order and timestamps are kept). 1 "
				  "decodes on the streaming thread. Read when the element starts",
				  1, kMaxThreads, kDefaultThreads, flags(GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(
		objectClass, PROP_PARALLEL,
		g_param_spec_enum("parallel", "Parallel",
				  "What the n-threads decode at once: whole frames (throughput), "
				  "or the restart intervals of one frame (cameras often set DRI: "
				  "one frame's latency shrinks with the threads). Read when the "
				  "element starts",
				  parallelGetType(), PARALLEL_FRAMES, flags(GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(
		objectClass, PROP_SCALE,
		g_param_spec_enum("scale", "Scale",
				  "Downscaling in the DCT domain (libjpeg's scaled IDCT): the "
				  "image is decoded 1, 2, 4 or 8 times smaller in each direction, "
				  "for previews and thumbnails. Takes effect at the next frame",
				  scaleGetType(), kDefaultScale, flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_IDCT_METHOD,
		g_param_spec_enum("idct-method", "IDCT method",
				  "The inverse DCT libjpeg uses; the default is jpegdec's, so "
				  "that both decode to the same pixels",
				  dctMethodGetType(), kDefaultDctMethod,
				  flags(GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_BACKEND,
		g_param_spec_string("backend", "Backend",
				    "Allocation backend of the zcbuf pool the decoder creates when "
				    "downstream offers no zcbuf or fd-memory pool: module, "
				    "dma-heap[:HEAP], udmabuf, drm[:/dev/dri/cardN], memfd; empty "
				    "for ZCBUF_BACKEND or the best available. Read when the "
				    "element starts",
				    "", flags(GST_PARAM_MUTABLE_READY)));

	/* The base class's max-errors with our default (its own is -1). */
	g_object_class_install_property(objectClass, PROP_CONSTRAINTS,
					gst_zcbuf_param_spec_constraints());
	g_object_class_install_property(objectClass, PROP_CHOSEN_BACKEND,
					gst_zcbuf_param_spec_chosen_backend());
	g_object_class_install_property(
		objectClass, PROP_MAX_ERRORS,
		g_param_spec_int("max-errors", "Max errors",
				 "Consecutive frames that cannot be decoded (corrupt, truncated, "
				 "empty) that are dropped, each logged, before the decoder fails "
				 "with an error; -1 never fails",
				 -1, G_MAXINT, kDefaultMaxErrors, flags(0)));
	g_object_class_install_property(
		objectClass, PROP_MAX_PIXELS,
		g_param_spec_uint64("max-pixels", "Max pixels",
				    "The largest picture decoded, in pixels (decoded width "
				    "times height): a frame whose header claims more is dropped "
				    "as damaged (counted against max-errors) before any buffer "
				    "is allocated for it. The default is 8192x4320 (8K)",
				    1, kLargestPixels, kDefaultMaxPixels,
				    flags(GST_PARAM_MUTABLE_PLAYING)));

	gst_element_class_add_static_pad_template(elementClass, &sinkTemplate);
	gst_element_class_add_static_pad_template(elementClass, &srcTemplate);
	gst_element_class_set_static_metadata(
		elementClass, "zcbuf JPEG decoder", "Codec/Decoder/Image/Video",
		"Decodes JPEG and MJPEG with libjpeg-turbo straight into zcbuf (fd or dma-buf) "
		"buffers, on several threads, optionally downscaled in the DCT domain",
		"The zcbuf authors");

	GST_DEBUG_CATEGORY_GET(CAT_PERFORMANCE, "GST_PERFORMANCE");
	gst_type_mark_as_plugin_api(scaleGetType(), static_cast<GstPluginAPIFlags>(0));
	gst_type_mark_as_plugin_api(dctMethodGetType(), static_cast<GstPluginAPIFlags>(0));
}
