/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pipeline plumbing shared by the element benchmarks: an MJPEG clip made
 * once in memory, and the main-path frame rate of a pipeline fed from it,
 * measured at its sink between the first and the last buffer (so that
 * start-up and negotiation are left out).
 */
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gst/gst.h>

namespace bench {

/* Buffers and their caps; owns both. */
struct Clip {
	GstCaps *caps = nullptr;
	std::vector<GstBuffer *> frames;

	Clip() = default;
	Clip(const Clip &) = delete;
	~Clip()
	{
		gst_clear_caps(&caps);
		for (GstBuffer *frame : frames)
			gst_buffer_unref(frame);
	}
};

[[noreturn]] inline void fail(const std::string &why)
{
	std::fprintf(stderr, "%s\n", why.c_str());
	std::exit(1);
}

inline void requireElement(const char *name)
{
	GstElementFactory *factory = gst_element_factory_find(name);
	if (!factory)
		fail(std::string("element ") + name + " is missing");
	gst_object_unref(factory);
}

namespace detail {

inline void collectFrame(GstElement *, GstBuffer *buffer, GstPad *pad, gpointer data)
{
	Clip *clip = static_cast<Clip *>(data);
	if (!clip->caps)
		clip->caps = gst_pad_get_current_caps(pad);
	clip->frames.push_back(gst_buffer_ref(buffer));
}

/* From the first frame leaving the source to the last reaching the sink:
 * a queue in the chain (a tee branch) then cannot make the sink's own
 * intervals look faster than the pipeline is. */
struct Timing {
	guint64 buffers = 0;
	gint64 start = 0;
	gint64 last = 0;
};

inline GstPadProbeReturn startTiming(GstPad *, GstPadProbeInfo *, gpointer data)
{
	Timing *timing = static_cast<Timing *>(data);
	if (!timing->start)
		timing->start = g_get_monotonic_time();
	return GST_PAD_PROBE_REMOVE;
}

inline void timeFrame(GstElement *, GstBuffer *, GstPad *, gpointer data)
{
	Timing *timing = static_cast<Timing *>(data);
	timing->buffers++;
	timing->last = g_get_monotonic_time();
}

/* Runs @pipeline to EOS; exits on an error. */
inline void runToEos(GstElement *pipeline, const std::string &description)
{
	GstBus *bus = gst_element_get_bus(pipeline);
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		fail("cannot start: " + description);
	GstMessage *message = gst_bus_timed_pop_filtered(
		bus, 120 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	if (!message || GST_MESSAGE_TYPE(message) != GST_MESSAGE_EOS) {
		GError *error = nullptr;
		if (message)
			gst_message_parse_error(message, &error, nullptr);
		fail(description + ": " + (error ? error->message : "no EOS within 120 s"));
	}
	gst_message_unref(message);
	gst_object_unref(bus);
	gst_element_set_state(pipeline, GST_STATE_NULL);
}

} /* namespace detail */

/* Runs @producer (ending in an encoder) and keeps what it produces. */
inline void record(const std::string &producer, Clip *clip)
{
	std::string description = producer + " ! fakesink name=sink signal-handoffs=true sync=false";
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		fail(description + ": " + error->message);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	g_signal_connect(sink, "handoff", G_CALLBACK(detail::collectFrame), clip);
	detail::runToEos(pipeline, description);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
}

/*
 * Pushes @clip through "appsrc ! @chain ! fakesink" and returns the frames
 * per second reaching the sink named "sink" in @chain, or appended when
 * @chain has none.
 */
inline double framesPerSecond(const Clip &clip, const std::string &chain)
{
	std::string description = "appsrc name=src format=time ! " + chain;
	if (chain.find("name=sink") == std::string::npos)
		description += " ! fakesink name=sink sync=false";
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		fail(description + ": " + error->message);
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	g_object_set(sink, "signal-handoffs", TRUE, nullptr);
	detail::Timing timing;
	g_signal_connect(sink, "handoff", G_CALLBACK(detail::timeFrame), &timing);
	GstPad *srcPad = gst_element_get_static_pad(src, "src");
	gst_pad_add_probe(srcPad, GST_PAD_PROBE_TYPE_BUFFER, detail::startTiming, &timing, nullptr);
	gst_object_unref(srcPad);
	g_object_set(src, "caps", clip.caps, nullptr);
	for (GstBuffer *frame : clip.frames) {
		GstFlowReturn ret = GST_FLOW_OK;
		/* The action signal adds its own reference. */
		g_signal_emit_by_name(src, "push-buffer", frame, &ret);
	}
	GstFlowReturn ret = GST_FLOW_OK;
	g_signal_emit_by_name(src, "end-of-stream", &ret);
	detail::runToEos(pipeline, description);
	gst_object_unref(src);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	if (timing.buffers != clip.frames.size())
		fail(description + ": " + std::to_string(timing.buffers) + " of " +
		     std::to_string(clip.frames.size()) + " frames arrived");
	return timing.buffers * 1e6 / static_cast<double>(timing.last - timing.start);
}

} /* namespace bench */
