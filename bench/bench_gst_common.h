/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pipeline plumbing shared by the element benchmarks: an MJPEG clip made
 * once in memory, and the main-path frame rate of a pipeline fed from it,
 * measured at its sink between the first and the last buffer (so that
 * start-up and negotiation are left out), the process's CPU time per frame,
 * and each frame's latency through the element named "dec" when there is
 * one: from entering its sink pad to reaching the sink.
 */
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <glib/gstdio.h>
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
	/* Entry times at the "dec" element by PTS, and latencies (us); the
	 * entry probe and the sink run on different threads. */
	std::mutex lock;
	std::map<GstClockTime, gint64> entered;
	std::vector<double> latencies;
};

inline GstPadProbeReturn enterDecoder(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	Timing *timing = static_cast<Timing *>(data);
	GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
	std::lock_guard<std::mutex> guard(timing->lock);
	timing->entered[GST_BUFFER_PTS(buffer)] = g_get_monotonic_time();
	return GST_PAD_PROBE_OK;
}

inline GstPadProbeReturn startTiming(GstPad *, GstPadProbeInfo *, gpointer data)
{
	Timing *timing = static_cast<Timing *>(data);
	if (!timing->start)
		timing->start = g_get_monotonic_time();
	return GST_PAD_PROBE_REMOVE;
}

inline void timeFrame(GstElement *, GstBuffer *buffer, GstPad *, gpointer data)
{
	Timing *timing = static_cast<Timing *>(data);
	gint64 now = g_get_monotonic_time();
	timing->buffers++;
	timing->last = now;
	std::lock_guard<std::mutex> guard(timing->lock);
	auto entry = timing->entered.find(GST_BUFFER_PTS(buffer));
	if (entry != timing->entered.end()) {
		timing->latencies.push_back(static_cast<double>(now - entry->second));
		timing->entered.erase(entry);
	}
}

inline double cpuSeconds()
{
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
	       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

} /* namespace detail */

/* Waits for EOS of a playing @pipeline; an error or 120 s without EOS
 * ends the program. */
inline void waitForEos(GstElement *pipeline, const std::string &description)
{
	GstBus *bus = gst_element_get_bus(pipeline);
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
}

namespace detail {

/* Runs @pipeline to EOS; exits on an error. */
inline void runToEos(GstElement *pipeline, const std::string &description)
{
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		fail("cannot start: " + description);
	waitForEos(pipeline, description);
	gst_element_set_state(pipeline, GST_STATE_NULL);
}

} /* namespace detail */

/* A directory of our own for files a pipeline writes; removeFiles() and
 * g_rmdir() clean it. */
inline std::string makeTempDirectory()
{
	gchar *tmp = g_dir_make_tmp("zcbuf-bench-XXXXXX", nullptr);
	if (!tmp)
		fail("cannot make a temporary directory");
	std::string dir = tmp;
	g_free(tmp);
	return dir;
}

inline void removeFiles(const std::string &directory)
{
	GDir *dir = g_dir_open(directory.c_str(), 0, nullptr);
	if (!dir)
		return;
	while (const gchar *name = g_dir_read_name(dir)) {
		gchar *path = g_build_filename(directory.c_str(), name, nullptr);
		g_unlink(path);
		g_free(path);
	}
	g_dir_close(dir);
}

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

/* The benchmarks' MJPEG clip: @frames of videotestsrc's zone plate,
 * moving, 1080p in @format (I420: 4:2:0, Y42B: 4:2:2), through jpegenc at
 * quality 85, about 300 KB a frame, as a detailed camera picture. */
inline void recordZonePlate(int frames, const std::string &format, Clip *clip)
{
	record("videotestsrc num-buffers=" + std::to_string(frames) +
		       " pattern=zone-plate kx2=8 ky2=8 kt=2 ! video/x-raw,format=" + format +
		       ",width=1920,height=1080,framerate=30/1 ! jpegenc quality=85",
	       clip);
}

/* What one pass of a clip through a pipeline measured. */
struct PipelineRun {
	double framesPerSecond = 0.0;
	double cpuSecondsPerFrame = 0.0;
	std::vector<double> latenciesMs; /* per frame, through "dec"; empty without one */
};

/*
 * Pushes @clip through "appsrc ! @chain ! fakesink" (the fakesink appended
 * when @chain has no element named "sink"). With @paceFps > 0 the frames
 * are pushed at that rate, as a camera delivers them, else as fast as the
 * pipeline takes them.
 */
inline PipelineRun runPipeline(const Clip &clip, const std::string &chain, double paceFps = 0.0)
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
	GstElement *dec = gst_bin_get_by_name(GST_BIN(pipeline), "dec");
	g_object_set(sink, "signal-handoffs", TRUE, nullptr);
	detail::Timing timing;
	g_signal_connect(sink, "handoff", G_CALLBACK(detail::timeFrame), &timing);
	GstPad *srcPad = gst_element_get_static_pad(src, "src");
	gst_pad_add_probe(srcPad, GST_PAD_PROBE_TYPE_BUFFER, detail::startTiming, &timing, nullptr);
	gst_object_unref(srcPad);
	if (dec) {
		GstPad *decPad = gst_element_get_static_pad(dec, "sink");
		gst_pad_add_probe(decPad, GST_PAD_PROBE_TYPE_BUFFER, detail::enterDecoder, &timing,
				  nullptr);
		gst_object_unref(decPad);
	}
	g_object_set(src, "caps", clip.caps, nullptr);
	if (paceFps > 0) {
		/* A live source: the pipeline runs while frames arrive. */
		g_object_set(src, "is-live", TRUE, nullptr);
		if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
			fail("cannot start: " + description);
	}
	double cpuBefore = detail::cpuSeconds();
	auto start = std::chrono::steady_clock::now();
	for (std::size_t i = 0; i < clip.frames.size(); i++) {
		if (paceFps > 0)
			std::this_thread::sleep_until(
				start + std::chrono::microseconds(static_cast<long>(i * 1e6 / paceFps)));
		GstFlowReturn ret = GST_FLOW_OK;
		/* The action signal adds its own reference. */
		g_signal_emit_by_name(src, "push-buffer", clip.frames[i], &ret);
	}
	GstFlowReturn ret = GST_FLOW_OK;
	g_signal_emit_by_name(src, "end-of-stream", &ret);
	detail::runToEos(pipeline, description);
	double cpu = detail::cpuSeconds() - cpuBefore;
	gst_object_unref(src);
	gst_object_unref(sink);
	if (dec)
		gst_object_unref(dec);
	gst_object_unref(pipeline);
	if (timing.buffers != clip.frames.size())
		fail(description + ": " + std::to_string(timing.buffers) + " of " +
		     std::to_string(clip.frames.size()) + " frames arrived");
	if (dec && timing.latencies.size() != clip.frames.size())
		fail(description + ": " + std::to_string(timing.latencies.size()) + " of " +
		     std::to_string(clip.frames.size()) + " frames kept their timestamp through dec");
	PipelineRun run;
	run.framesPerSecond = timing.buffers * 1e6 / static_cast<double>(timing.last - timing.start);
	run.cpuSecondsPerFrame = cpu / static_cast<double>(timing.buffers);
	for (double us : timing.latencies)
		run.latenciesMs.push_back(us / 1000.0);
	return run;
}

/* The main-path frame rate of @chain fed @clip as fast as it takes it. */
inline double framesPerSecond(const Clip &clip, const std::string &chain)
{
	return runPipeline(clip, chain).framesPerSecond;
}

} /* namespace bench */
