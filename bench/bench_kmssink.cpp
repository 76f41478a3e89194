/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zckmssink against upstream kmssink on vkms, in the test suite's guest
 * (started through vm-run when run on the host; vkms exists only there).
 *
 * The pipeline is the one a user writes, videotestsrc ! zcconvert ! queue !
 * SINK at vkms's 1024x768 mode, with the queue so that the sink has a
 * thread of its own:
 *   - kmssink-copy: zcconvert's negotiated memory. zckmssink states its
 *     needs, so zcconvert writes dma-bufs it imports; kmssink proposes a
 *     pool of its own, which zcconvert cannot write into, so it gets memfd
 *     frames and copies each one ("frame copy");
 *   - both-import: zcconvert backend=module, zcbuf.ko dma-bufs that both
 *     sinks import.
 * Per case and sink, with sync=false: frames/s between the first and the
 * last frame at the sink, CPU time of the sink's own thread per frame
 * (CLOCK_THREAD_CPUTIME_ID read in a probe on the sink's pad, which runs in
 * that thread), and copies per frame (zcbuf's copy record for zckmssink,
 * kmssink's GST_PERFORMANCE "frame copy" lines for kmssink). With sync=true,
 * a live source at the mode's refresh for 10 s (1 s in short runs): the
 * frames each sink dropped (GstBaseSink's stats).
 *
 * Absolute numbers are TCG's (the guest is emulated); the ratios are what
 * count.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <xf86drm.h>

#include <atomic>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gst/gst.h>
#include <gst/zcbuf/gstzcbufcopy.h>

#include "bench_gst_common.h"
#include "bench_guest.h"
#include "bench_output.h"

namespace {

constexpr int kWidth = 1024, kHeight = 768, kRefresh = 60;

/* kmssink logs "frame copy" (GST_PERFORMANCE, INFO) for each frame it
 * copies into a dumb buffer of its own. */
std::atomic<int> kmssinkFrameCopies{ 0 };

void countFrameCopies(GstDebugCategory *category, GstDebugLevel level, const gchar *, const gchar *,
		      gint, GObject *, GstDebugMessage *message, gpointer)
{
	if (level == GST_LEVEL_INFO &&
	    std::strcmp(gst_debug_category_get_name(category), "GST_PERFORMANCE") == 0 &&
	    std::strcmp(gst_debug_message_get(message), "frame copy") == 0)
		kmssinkFrameCopies++;
}

/* The first card whose driver is vkms. */
std::string vkmsCard()
{
	for (int i = 0; i < 16; i++) {
		std::string node = "/dev/dri/card" + std::to_string(i);
		int fd = open(node.c_str(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		drmVersionPtr version = drmGetVersion(fd);
		bool vkms = version && std::string(version->name) == "vkms";
		drmFreeVersion(version);
		close(fd);
		if (vkms)
			return node;
	}
	bench::fail("no vkms card in the guest");
}

double threadCpuSeconds()
{
	struct timespec now;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

struct AtSink {
	int frames = 0;
	gint64 first = 0, last = 0;
	double cpuFirst = 0, cpuLast = 0;
};

GstPadProbeReturn onSinkBuffer(GstPad *, GstPadProbeInfo *, gpointer data)
{
	auto *at = static_cast<AtSink *>(data);
	gint64 now = g_get_monotonic_time();
	double cpu = threadCpuSeconds();
	if (at->frames++ == 0) {
		at->first = now;
		at->cpuFirst = cpu;
	}
	at->last = now;
	at->cpuLast = cpu;
	return GST_PAD_PROBE_OK;
}

std::string sinkOf(const std::string &subject, const std::string &card, bool sync)
{
	std::string common = std::string(" name=sink sync=") + (sync ? "true" : "false");
	if (subject == "zckmssink")
		return "zckmssink device=" + card + " mode=" + std::to_string(kWidth) + "x" +
		       std::to_string(kHeight) + common;
	return "kmssink driver-name=vkms" + common;
}

struct Result {
	double fps = 0, cpuMsPerFrame = 0, copiesPerFrame = 0;
	guint64 dropped = 0, rendered = 0;
};

Result runOnce(const std::string &subject, const std::string &card, const std::string &memory,
	       int frames, bool live)
{
	std::string convert = memory == "both-import" ? "zcconvert backend=module" : "zcconvert";
	std::string description =
		"videotestsrc pattern=smpte75 num-buffers=" + std::to_string(frames) +
		(live ? " is-live=true" : "") + " ! video/x-raw,format=I420,width=" +
		std::to_string(kWidth) + ",height=" + std::to_string(kHeight) +
		",framerate=" + std::to_string(kRefresh) + "/1 ! " + convert +
		" ! video/x-raw,format=BGRx ! queue max-size-buffers=3 ! " + sinkOf(subject, card, live);
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		bench::fail(description + ": " + (error ? error->message : "cannot parse"));
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	AtSink at;
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, onSinkBuffer, &at, nullptr);
	gst_object_unref(pad);

	std::uint64_t copiesBefore = 0, copiesAfter = 0;
	gst_zcbuf_copy_get_totals(&copiesBefore, nullptr);
	kmssinkFrameCopies = 0;
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		bench::fail("cannot start: " + description);
	bench::waitForEos(pipeline, description);
	gst_zcbuf_copy_get_totals(&copiesAfter, nullptr);

	Result result;
	GstStructure *stats = nullptr;
	g_object_get(sink, "stats", &stats, nullptr);
	if (stats) {
		gst_structure_get_uint64(stats, "dropped", &result.dropped);
		gst_structure_get_uint64(stats, "rendered", &result.rendered);
		gst_structure_free(stats);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);

	if (at.frames < 2 || at.last <= at.first)
		bench::fail(subject + ": " + std::to_string(at.frames) + " frames reached the sink");
	result.fps = (at.frames - 1) * 1e6 / static_cast<double>(at.last - at.first);
	result.cpuMsPerFrame = (at.cpuLast - at.cpuFirst) * 1e3 / (at.frames - 1);
	const double copies = subject == "zckmssink" ? double(copiesAfter - copiesBefore)
						     : double(kmssinkFrameCopies.load());
	result.copiesPerFrame = copies / at.frames;
	std::fprintf(stderr, "%s, %s%s: %d frames, %.1f frames/s, %.2f ms CPU/frame, %.2f copies/frame"
			     ", %" G_GUINT64_FORMAT " dropped\n",
		     subject.c_str(), memory.c_str(), live ? " (sync, live)" : "", at.frames, result.fps,
		     result.cpuMsPerFrame, result.copiesPerFrame, result.dropped);
	return result;
}

} /* namespace */

int main(int argc, char **argv)
{
	if (!bench::inTheGuest())
		bench::runInTheGuest(argv[0], { "vkms" });
	gst_init(&argc, &argv);
	for (const char *element : { "zckmssink", "kmssink", "zcconvert", "videotestsrc", "queue" })
		bench::requireElement(element);
	gst_debug_set_threshold_for_name("GST_PERFORMANCE", GST_LEVEL_INFO);
	gst_debug_add_log_function(countFrameCopies, nullptr, nullptr);
	/* Only counted, not printed: that threshold would flood stderr. */
	gst_debug_remove_log_function(gst_debug_log_default);
	const std::string card = vkmsCard();

	const int repetitions = bench::slow() ? 1 : 3;
	const int frames = bench::slow() ? 10 : 60;
	const int liveFrames = (bench::slow() ? 1 : 10) * kRefresh;
	const std::vector<std::string> subjects = { "zckmssink", "kmssink" };
	const std::map<std::string, std::string> names = {
		{ "kmssink-copy", "1024x768 BGRx, zcconvert's negotiated memory" },
		{ "both-import", "1024x768 BGRx, zcbuf.ko dma-bufs" },
	};
	for (const std::string memory : { "kmssink-copy", "both-import" }) {
		std::map<std::string, std::vector<double>> fps, cpu, copies, dropped;
		for (int r = 0; r < repetitions; r++)
			for (const std::string &subject : subjects) {
				Result fast = runOnce(subject, card, memory, frames, false);
				fps[subject].push_back(fast.fps);
				cpu[subject].push_back(fast.cpuMsPerFrame);
				copies[subject].push_back(fast.copiesPerFrame);
			}
		for (const std::string &subject : subjects) {
			Result live = runOnce(subject, card, memory, liveFrames, true);
			dropped[subject].push_back(double(live.dropped));
		}
		const std::string &name = names.at(memory);
		for (const std::string &subject : subjects) {
			bench::report("kms-throughput", name, subject, bench::bestOf(fps[subject]),
				      "frames/s", "higher");
			bench::report("kms-sink-cpu", name, subject,
				      bench::bestOf(cpu[subject], false), "ms/frame", "lower");
			bench::report("kms-copies", name, subject, bench::medianOf(copies[subject]),
				      "copies/frame", "lower");
			bench::report("kms-dropped", name, subject, bench::medianOf(dropped[subject]),
				      "frames dropped in " + std::to_string(liveFrames / kRefresh) +
					      " s at " + std::to_string(kRefresh) + " Hz",
				      "lower");
		}
	}
	return 0;
}
