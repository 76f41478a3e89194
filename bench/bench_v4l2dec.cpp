/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A V4L2 decoder into zcbuf memory against the default V4L2 path, in the
 * test suite's guest (vicodec exists only there; started through vm-run
 * when run on the host).
 *
 * The stream is vicodec's FWHT of videotestsrc's smpte75 bars, 640x480
 * I420, encoded once by v4l2fwhtenc and fed from an appsrc, and decoded
 * by vicodec through v4l2fwhtdec to BGRx:
 *   - zcconvert (dmabuf-import): v4l2fwhtdec capture-io-mode=dmabuf-import
 *     decodes into the pool zcconvert proposes (zcbuf.ko dma-bufs) and
 *     zcconvert converts from there;
 *   - videoconvert (mmap): v4l2fwhtdec's default, its own mmap buffers,
 *     converted by videoconvert.
 * Per subject: the process's CPU time per frame between the first and the
 * last frame at the sink (the decoding itself runs in the kernel, partly in
 * vicodec's worker, and is the same for both), frames/s over the same
 * span, and copies of decoded frames per frame: zcbuf's copy record plus
 * the v4l2 capture pool's own "copying buffer" log lines.
 *
 * The EOS goes in only once the first frame reached the sink: upstream
 * v4l2videodec 1.22.0 can wait for ever for a drain that started before its
 * capture queue was set up again (docs/interop.md). Absolute numbers are
 * TCG's; the ratios are what count.
 */
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gst/gst.h>
#include <gst/zcbuf/gstzcbufcopy.h>

#include "bench_gst_common.h"
#include "bench_guest.h"
#include "bench_output.h"

namespace {

const std::string kCase = "640x480 FWHT (vicodec) to BGRx";

/* v4l2's buffer pool logs "copying buffer" (LOG) on entering its copy
 * function, once per buffer it copies into or out of its own
 * (gst_v4l2_buffer_pool_copy_buffer; "copy video frame" and "copy raw
 * bytes" follow at DEBUG). Only the capture pool's ("...:src") count: the
 * decoded frames. The OUTPUT pool copies each bitstream frame from the
 * appsrc's system memory into its mmap buffers on both paths alike. */
std::atomic<int> v4l2Copies{ 0 };
/* The OUTPUT pool's, printed only: that the count sees copies at all. */
std::atomic<int> bitstreamCopies{ 0 };

void countV4l2Copies(GstDebugCategory *category, GstDebugLevel level, const gchar *, const gchar *,
		     gint, GObject *object, GstDebugMessage *message, gpointer)
{
	if (level != GST_LEVEL_LOG || !object || !GST_IS_OBJECT(object) ||
	    std::strcmp(gst_debug_category_get_name(category), "v4l2bufferpool") != 0 ||
	    std::strcmp(gst_debug_message_get(message), "copying buffer") != 0)
		return;
	gchar *name = gst_object_get_name(GST_OBJECT(object));
	if (name && g_str_has_suffix(name, ":src"))
		v4l2Copies++;
	else if (name && g_str_has_suffix(name, ":sink"))
		bitstreamCopies++;
	g_free(name);
}

double processCpuSeconds()
{
	struct timespec now;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

struct AtSink {
	std::atomic<int> frames{ 0 };
	gint64 first = 0, last = 0;
	double cpuFirst = 0, cpuLast = 0;
};

void onFrame(GstElement *, GstBuffer *, GstPad *, gpointer data)
{
	auto *at = static_cast<AtSink *>(data);
	gint64 now = g_get_monotonic_time();
	double cpu = processCpuSeconds();
	if (at->frames == 0) {
		at->first = now;
		at->cpuFirst = cpu;
	}
	at->last = now;
	at->cpuLast = cpu;
	at->frames++;
}

/* The encoder's buffers are its own, few and recycled: each frame is
 * copied out of them into system memory. */
void keepCopy(GstElement *, GstBuffer *buffer, GstPad *pad, gpointer data)
{
	auto *clip = static_cast<bench::Clip *>(data);
	if (!clip->caps)
		clip->caps = gst_pad_get_current_caps(pad);
	clip->frames.push_back(gst_buffer_copy_deep(buffer));
}

void encode(int frames, bench::Clip *clip)
{
	std::string description = "videotestsrc num-buffers=" + std::to_string(frames) +
				  " pattern=smpte75 ! video/x-raw,format=I420,width=640,height=480"
				  ",framerate=30/1 ! v4l2fwhtenc extra-controls=c,video_gop_size=1"
				  " ! fakesink name=sink signal-handoffs=true sync=false";
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		bench::fail(description + ": " + (error ? error->message : "cannot parse"));
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	g_signal_connect(sink, "handoff", G_CALLBACK(keepCopy), clip);
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		bench::fail("cannot start: " + description);
	bench::waitForEos(pipeline, description);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	if (clip->frames.size() != static_cast<std::size_t>(frames))
		bench::fail("v4l2fwhtenc gave " + std::to_string(clip->frames.size()) + " of " +
			    std::to_string(frames) + " frames");
}

struct Result {
	double fps = 0, cpuMsPerFrame = 0, copiesPerFrame = 0;
};

std::string chainOf(const std::string &subject)
{
	if (subject == "zcconvert (dmabuf-import)")
		return "v4l2fwhtdec capture-io-mode=dmabuf-import ! video/x-raw,format=I420"
		       " ! zcconvert backend=module";
	return "v4l2fwhtdec ! video/x-raw,format=I420 ! videoconvert";
}

Result runOnce(const bench::Clip &clip, const std::string &subject)
{
	std::string description = "appsrc name=src format=time ! " + chainOf(subject) +
				  " ! video/x-raw,format=BGRx"
				  " ! fakesink name=sink sync=false signal-handoffs=true";
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		bench::fail(description + ": " + (error ? error->message : "cannot parse"));
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	AtSink at;
	g_signal_connect(sink, "handoff", G_CALLBACK(onFrame), &at);
	g_object_set(src, "caps", clip.caps, nullptr);

	std::uint64_t copiesBefore = 0, copiesAfter = 0;
	gst_zcbuf_copy_get_totals(&copiesBefore, nullptr);
	v4l2Copies = 0;
	bitstreamCopies = 0;
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		bench::fail("cannot start: " + description);
	for (GstBuffer *frame : clip.frames) {
		GstFlowReturn ret = GST_FLOW_OK;
		/* The action signal adds its own reference. */
		g_signal_emit_by_name(src, "push-buffer", frame, &ret);
	}
	/* EOS after the first frame is out (see the top of this file) */
	auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
	while (at.frames == 0 && std::chrono::steady_clock::now() < until)
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	GstFlowReturn ret = GST_FLOW_OK;
	g_signal_emit_by_name(src, "end-of-stream", &ret);
	bench::waitForEos(pipeline, description);
	gst_zcbuf_copy_get_totals(&copiesAfter, nullptr);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(src);
	gst_object_unref(sink);
	gst_object_unref(pipeline);

	/* the FWHT drain loses up to two frames (docs/interop.md) */
	const int frames = at.frames;
	if (frames < static_cast<int>(clip.frames.size()) - 2 || at.last <= at.first)
		bench::fail(subject + ": " + std::to_string(frames) + " of " +
			    std::to_string(clip.frames.size()) + " frames reached the sink");
	Result result;
	result.fps = (frames - 1) * 1e6 / static_cast<double>(at.last - at.first);
	result.cpuMsPerFrame = (at.cpuLast - at.cpuFirst) * 1e3 / (frames - 1);
	result.copiesPerFrame = (double(copiesAfter - copiesBefore) + v4l2Copies.load()) / frames;
	std::fprintf(stderr,
		     "%s: %d frames, %.1f frames/s, %.2f ms CPU/frame, %.2f copies/frame"
		     " (and %d bitstream buffers copied into the OUTPUT queue)\n",
		     subject.c_str(), frames, result.fps, result.cpuMsPerFrame, result.copiesPerFrame,
		     bitstreamCopies.load());
	return result;
}

} /* namespace */

int main(int argc, char **argv)
{
	if (!bench::inTheGuest())
		bench::runInTheGuest(argv[0], { "vicodec" });
	gst_init(&argc, &argv);
	for (const char *element :
	     { "v4l2fwhtenc", "v4l2fwhtdec", "zcconvert", "videoconvert", "videotestsrc", "appsrc" })
		bench::requireElement(element);
	gst_debug_set_threshold_for_name("v4l2bufferpool", GST_LEVEL_LOG);
	gst_debug_add_log_function(countV4l2Copies, nullptr, nullptr);
	/* Only counted, not printed: that threshold would flood stderr. */
	gst_debug_remove_log_function(gst_debug_log_default);

	const int repetitions = bench::slow() ? 1 : 3;
	const int frames = bench::slow() ? 10 : 60;
	bench::Clip clip;
	encode(frames, &clip);

	const std::vector<std::string> subjects = { "zcconvert (dmabuf-import)",
						    "videoconvert (mmap)" };
	std::map<std::string, std::vector<double>> fps, cpu, copies;
	for (int r = 0; r < repetitions; r++)
		for (const std::string &subject : subjects) {
			Result one = runOnce(clip, subject);
			fps[subject].push_back(one.fps);
			cpu[subject].push_back(one.cpuMsPerFrame);
			copies[subject].push_back(one.copiesPerFrame);
		}
	for (const std::string &subject : subjects) {
		bench::report("v4l2dec-cpu", kCase, subject, bench::bestOf(cpu[subject], false),
			      "ms/frame", "lower");
		bench::report("v4l2dec-copies", kCase, subject, bench::medianOf(copies[subject]),
			      "copies/frame", "lower");
		bench::report("v4l2dec-throughput", kCase, subject, bench::bestOf(fps[subject]),
			      "frames/s", "higher");
	}
	return 0;
}
