/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcbuf and real V4L2 memory-to-memory drivers exchanging dma-bufs, both
 * ways, in the guest (v4l2-interop-in-vm): vicodec's FWHT decoder
 * (GStreamer's v4l2fwhtdec), vim2m's converter (v4l2convert), vivid's
 * capture (v4l2src) and output (v4l2sink), with every dma-buf exporter zcbuf
 * has, and their own exports on vkms's screen and virtio-gpu's GPU. Each
 * cell of docs/interop.md that these drivers take part in is a case here:
 *
 * - works: the frame equals the one the default io modes (mmap) give,
 *   passed through videoconvert where ours goes through zcconvert; the
 *   zerocopy tracer counts no copy (not for the bitstream an appsrc
 *   feeds: the tracer's child plays a description); v4l2's own allocator
 *   and buffer pool say they imported or exported dma-bufs and copied
 *   nothing on that side; this process's zcbuf fds and the kernel's
 *   dma-buf objects (/sys/kernel/debug/dma_buf/bufinfo) are as many after
 *   as before;
 * - refused: the error and v4l2's message, with the errno where the
 *   kernel gives one.
 *
 * No leaks tracer in this guest: upstream's v4l2 elements 1.22.0 leak
 * their pools and allocators after every run (docs/interop.md).
 */
#include <linux/videodev2.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbufallocator.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend_params.h"
#include "debug_capture.h"
#include "display.h"
#include "eos_gate.h"
#include "guest.h"
#include "tracer_run.h"
#include "video_compare.h"
#include "vkms_crc.h"

namespace test = zcbuf::test;

namespace {

/*
 * Upstream v4l2videodec 1.22.0 g_warning()s "N frames ... left undrained
 * after CMD_STOP, eos sent too early: bug in decoder" at EOS on vicodec in
 * every io mode (it lost that frame: expectDecoderFrames). Warnings are
 * fatal in these programs; this one, and only this one, is let through
 * (still printed).
 */
gboolean letUpstreamDrainWarningThrough(const gchar *, GLogLevelFlags level, const gchar *message,
					gpointer)
{
	return !((level & G_LOG_LEVEL_WARNING) && message &&
		 std::string(message).find("left undrained after CMD_STOP, eos sent too early") !=
			 std::string::npos);
}

class UpstreamWarnings : public ::testing::Environment
{
public:
	void SetUp() override { g_test_log_set_fatal_handler(letUpstreamDrainWarningThrough, nullptr); }
};

const auto *const upstreamWarnings = ::testing::AddGlobalTestEnvironment(new UpstreamWarnings);

/* dma-buf objects alive in the kernel: bufinfo's "Total N objects". */
int dmabufObjects()
{
	std::ifstream in("/sys/kernel/debug/dma_buf/bufinfo");
	std::string line;
	while (std::getline(in, line)) {
		int n = 0;
		if (std::sscanf(line.c_str(), "Total %d objects", &n) == 1)
			return n;
	}
	return -1;
}

constexpr int kFrames = 3;
constexpr int kWidth = 640, kHeight = 480; /* vicodec's smallest is 640x360 */

/* FWHT of videotestsrc's still bars, decoded by vicodec with @ioMode on
 * its capture queue, as I420. Every frame is an I frame (GOP size 1) of
 * smpte75, whose frames are all alike (smpte's bottom-right block is new
 * noise every frame), so every decoded frame is the same picture: which
 * frames the drain loses (expectDecoderFrames) cannot change the frame
 * compared. */
std::string decoded(const std::string &ioMode, int frames = kFrames,
		    const std::string &format = "I420")
{
	return "videotestsrc num-buffers=" + std::to_string(frames) +
	       " pattern=smpte75 ! video/x-raw,format=" + format + ",width=" + std::to_string(kWidth) +
	       ",height=" + std::to_string(kHeight) +
	       ",framerate=30/1 ! v4l2fwhtenc extra-controls=c,video_gop_size=1"
	       " ! v4l2fwhtdec name=dec capture-io-mode=" + ioMode +
	       " ! video/x-raw,format=" + format;
}

/* videotestsrc's bars as RGB (24-bit: what vim2m's OUTPUT queue takes). */
std::string rgbBars()
{
	return "videotestsrc num-buffers=" + std::to_string(kFrames) +
	       " pattern=smpte75 ! video/x-raw,format=RGB,width=" + std::to_string(kWidth) +
	       ",height=" + std::to_string(kHeight) + ",framerate=30/1";
}

/* The child that runs @pipeline under the tracer gates what play() gates. */
std::map<std::string, std::string> childGate(const std::string &pipeline)
{
	if (pipeline.find(" name=dec ") == std::string::npos)
		return {};
	return { { test::kEosGateVar, "dec" } };
}

/* One in-process run. */
struct Played {
	std::string error; /* "message | debug", empty on EOS */
	GstSample *last = nullptr; /* the sink's last sample: the test unrefs it */
	int frames = 0; /* buffers the sink got */
	std::string chosen; /* chosen-backend of the element named "conv" */
	std::string methodInUse; /* and its method-in-use, when it is a zcconvert */
	int convStride = 0; /* plane 0's stride in the first buffer out of "conv" (VideoMeta) */
	/* buffers out of the V4L2 element (named "dec" or "vim"), and how
	 * many of them were zcbuf memory */
	int v4l2Out = 0, v4l2OutZcbuf = 0;
	/* every frame the sink got, copied to system memory in the
	 * default layout of @caps (run with keepFrames) */
	std::vector<GstBuffer *> copies;
	GstCaps *caps = nullptr;
};

/* What the sink pad's probe fills when the frames are kept. */
struct KeptFrames {
	std::mutex lock;
	std::vector<GstBuffer *> frames;
	GstCaps *caps = nullptr;
};

/* A copy of @buffer's pixels: the sink's buffer goes back to its pool at
 * once, so that keeping the frames cannot stall the pipeline. */
GstBuffer *copyFrame(GstBuffer *buffer, GstCaps *caps)
{
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, caps))
		return nullptr;
	GstVideoFrame in, out;
	if (!gst_video_frame_map(&in, &info, buffer, GST_MAP_READ))
		return nullptr;
	GstBuffer *copy = gst_buffer_new_allocate(nullptr, info.size, nullptr);
	if (!gst_video_frame_map(&out, &info, copy, GST_MAP_WRITE)) {
		gst_video_frame_unmap(&in);
		gst_buffer_unref(copy);
		return nullptr;
	}
	gst_video_frame_copy(&out, &in);
	gst_video_frame_unmap(&out);
	gst_video_frame_unmap(&in);
	return copy;
}

GstPadProbeReturn keepFrame(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	auto *kept = static_cast<KeptFrames *>(data);
	GstCaps *caps = gst_pad_get_current_caps(pad);
	if (!caps)
		return GST_PAD_PROBE_OK;
	GstBuffer *copy = copyFrame(GST_PAD_PROBE_INFO_BUFFER(info), caps);
	std::lock_guard<std::mutex> hold(kept->lock);
	kept->frames.push_back(copy); /* null: unmappable, a failure later */
	gst_caps_replace(&kept->caps, caps);
	gst_caps_unref(caps);
	return GST_PAD_PROBE_OK;
}

struct OutCount {
	std::atomic<int> all{ 0 }, zcbuf{ 0 };
};

GstPadProbeReturn countOut(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *count = static_cast<OutCount *>(data);
	count->all++;
	if (test::allZcbuf(GST_PAD_PROBE_INFO_BUFFER(info)))
		count->zcbuf++;
	return GST_PAD_PROBE_OK;
}

/* The kernel's dma-buf objects by exporter (bufinfo's exp_name column)
 * and this process's fds by what they are (their /proc/self/fd link, up
 * to a ':' or '['), to compare before and after runs. */
struct Census {
	std::map<std::string, int> dmabufs, fds;

	Census()
	{
		std::ifstream in("/sys/kernel/debug/dma_buf/bufinfo");
		std::string line;
		while (std::getline(in, line)) {
			/* size flags mode count exp_name ino name */
			char name[64];
			unsigned long size, flags, mode, count;
			if (std::sscanf(line.c_str(), "%lu %lx %lx %lu %63s", &size, &flags, &mode,
					&count, name) == 5)
				dmabufs[name]++;
		}
		for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd")) {
			std::error_code error;
			std::string link = std::filesystem::read_symlink(entry.path(), error).string();
			fds[link.substr(0, link.find_first_of(":["))]++;
		}
	}
};

/* A census once the kernel's dma-buf objects are those of @want, or after
 * 5 s: a dma-buf that a display scanned out goes only when the driver's
 * commit work let go of its framebuffer, after the process closed it
 * (seen with kmssink on vkms: one left at the first look, gone later). */
Census settledCensus(const Census &want)
{
	for (int i = 0; i < 50; i++) {
		Census now;
		if (now.dmabufs == want.dmabufs)
			return now;
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	return Census();
}

/* Open fds on V4L2 nodes. */
int videoNodes(const Census &census)
{
	int n = 0;
	for (const auto &[kind, count] : census.fds)
		if (kind.rfind("/dev/video", 0) == 0)
			n += count;
	return n;
}

std::string describe(const std::map<std::string, int> &before, const std::map<std::string, int> &after)
{
	std::string text;
	std::map<std::string, int> all = before;
	all.insert(after.begin(), after.end());
	for (const auto &[name, unused] : all) {
		int a = before.count(name) ? before.at(name) : 0;
		int b = after.count(name) ? after.at(name) : 0;
		if (a != b)
			text += " " + name + ": " + std::to_string(a) + " -> " + std::to_string(b);
	}
	return text;
}

GstPadProbeReturn countBuffer(GstPad *, GstPadProbeInfo *, gpointer frames)
{
	(*static_cast<std::atomic<int> *>(frames))++;
	return GST_PAD_PROBE_OK;
}

/* Keeps plane 0's stride of the first buffer that has a VideoMeta. */
GstPadProbeReturn firstStride(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *stride = static_cast<std::atomic<int> *>(data);
	GstVideoMeta *meta = gst_buffer_get_video_meta(GST_PAD_PROBE_INFO_BUFFER(info));
	if (meta && *stride == 0)
		*stride = meta->stride[0];
	return GST_PAD_PROBE_OK;
}

/* Plays @description (its sink named "sink") to EOS, at most 60 s; with
 * @keepFrames, a copy of every frame the sink got is kept; @prepare, if
 * given, sees the pipeline once it started playing (to feed an appsrc). */
Played play(const std::string &description, bool keepFrames = false,
	    const std::function<void(GstElement *)> &prepare = nullptr)
{
	Played run;
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline || error) {
		/* a link that fails still gives a pipeline, and the error */
		run.error = error ? error->message : "parse failed";
		g_clear_error(&error);
		if (pipeline)
			gst_object_unref(pipeline);
		return run;
	}
	/* the decoder's drain, when there is one (eos_gate.h) */
	test::holdEosUntilFirstOutput(pipeline, "dec");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	std::atomic<int> frames{ 0 };
	KeptFrames kept;
	GstPad *pad = sink ? gst_element_get_static_pad(sink, "sink") : nullptr;
	if (pad) {
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, countBuffer, &frames, nullptr);
		if (keepFrames)
			gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, keepFrame, &kept, nullptr);
		gst_object_unref(pad);
	}
	GstElement *conv = gst_bin_get_by_name(GST_BIN(pipeline), "conv");
	std::atomic<int> convStride{ 0 };
	if (conv) {
		GstPad *src = gst_element_get_static_pad(conv, "src");
		gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, firstStride, &convStride, nullptr);
		gst_object_unref(src);
	}
	OutCount out;
	for (const char *name : { "dec", "vim", "vivid" }) {
		GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline), name);
		if (!element)
			continue;
		GstPad *src = gst_element_get_static_pad(element, "src");
		gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, countOut, &out, nullptr);
		gst_object_unref(src);
		gst_object_unref(element);
	}
	GstBus *bus = gst_element_get_bus(pipeline);
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		run.error = "PLAYING failed";
	else if (prepare)
		prepare(pipeline); /* the sources have started: an appsrc takes buffers */
	GstMessage *end = gst_bus_timed_pop_filtered(
		bus, 60 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	if (!end) {
		run.error = "no EOS within 60 s";
	} else if (GST_MESSAGE_TYPE(end) == GST_MESSAGE_ERROR) {
		gchar *debug = nullptr;
		gst_message_parse_error(end, &error, &debug);
		run.error = std::string(error->message) + " | " + (debug ? debug : "");
		g_clear_error(&error);
		g_free(debug);
	}
	if (end)
		gst_message_unref(end);
	gst_object_unref(bus);
	/* before NULL, which drops both */
	if (sink && run.error.empty())
		g_object_get(sink, "last-sample", &run.last, nullptr);
	if (conv) {
		gchar *chosen = nullptr;
		g_object_get(conv, "chosen-backend", &chosen, nullptr);
		run.chosen = chosen ? chosen : "";
		g_free(chosen);
		if (g_object_class_find_property(G_OBJECT_GET_CLASS(conv), "method-in-use")) {
			gchar *method = nullptr;
			g_object_get(conv, "method-in-use", &method, nullptr);
			run.methodInUse = method ? method : "";
			g_free(method);
		}
		gst_object_unref(conv);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(pipeline);
	if (sink)
		gst_object_unref(sink);
	run.frames = frames;
	run.convStride = convStride;
	run.v4l2Out = out.all;
	run.v4l2OutZcbuf = out.zcbuf;
	run.copies = std::move(kept.frames);
	run.caps = kept.caps;
	return run;
}

void release(Played &run)
{
	if (run.last)
		gst_sample_unref(run.last);
	run.last = nullptr;
	for (GstBuffer *frame : run.copies)
		if (frame)
			gst_buffer_unref(frame);
	run.copies.clear();
	if (run.caps)
		gst_caps_unref(run.caps);
	run.caps = nullptr;
}

/* v4l2's allocator and buffer pool: the io mode, imports, exports, copies. */
const std::vector<std::string> kV4l2Categories = { "v4l2", "v4l2allocator", "v4l2bufferpool",
						   "v4l2transform" };

class V4l2Interop : public ::testing::Test
{
protected:
	void SetUp() override
	{
		for (const char *factory : { "v4l2fwhtenc", "v4l2fwhtdec", "v4l2convert" }) {
			GstElementFactory *f = gst_element_factory_find(factory);
			if (!f) {
				if (test::inTheGuest())
					FAIL() << "no " << factory << ": boot the guest with "
					       << "--modprobe vicodec --modprobe vim2m";
				GTEST_SKIP() << "no vicodec/vim2m here (the guest has them)";
			}
			gst_object_unref(f);
		}
		ASSERT_GE(dmabufObjects(), 0) << "no /sys/kernel/debug/dma_buf/bufinfo";
	}

	/* The frame of @reference and of @ours must be the same pixels. */
	static void expectSameFrame(const Played &ours, const Played &reference)
	{
		ASSERT_NE(ours.last, nullptr);
		ASSERT_NE(reference.last, nullptr);
		/* the same frame layout; the caps may differ in what they
		 * also say (features, colorimetry the other path leaves out) */
		GstCaps *caps = gst_sample_get_caps(ours.last);
		GstVideoInfo a, b;
		ASSERT_TRUE(gst_video_info_from_caps(&a, caps));
		ASSERT_TRUE(gst_video_info_from_caps(&b, gst_sample_get_caps(reference.last)));
		ASSERT_EQ(GST_VIDEO_INFO_FORMAT(&a), GST_VIDEO_INFO_FORMAT(&b));
		ASSERT_EQ(a.width, b.width);
		ASSERT_EQ(a.height, b.height);
		std::array<int, 4> d = test::maxDifference(caps, gst_sample_get_buffer(ours.last),
							   gst_sample_get_buffer(reference.last));
		EXPECT_EQ(test::maxOf(d), 0) << test::describe(d);
	}

	/* Every frame the decoder pushed into zcbuf memory (@ours, run with
	 * keepFrames) is the reference's picture, but for the empty buffers
	 * the drain ended with: v4l2videodec 1.22.0 pushes those in
	 * dmabuf-import mode as frames of whatever the imported buffer held
	 * (its pool's DMABUF_IMPORT capture path hands over the downstream
	 * buffer without the bytesused == 0 end-of-stream check that its
	 * mmap and dmabuf paths make; docs/interop.md). @emptyLast: the empty
	 * capture buffers v4l2's allocator dequeued in that run. */
	static void expectDecodedPictures(const Played &ours, const Played &reference, int emptyLast)
	{
		ASSERT_NE(reference.last, nullptr);
		ASSERT_NE(ours.caps, nullptr);
		ASSERT_EQ(static_cast<int>(ours.copies.size()), ours.frames);
		GstVideoInfo a, b;
		ASSERT_TRUE(gst_video_info_from_caps(&a, ours.caps));
		ASSERT_TRUE(gst_video_info_from_caps(&b, gst_sample_get_caps(reference.last)));
		ASSERT_EQ(GST_VIDEO_INFO_FORMAT(&a), GST_VIDEO_INFO_FORMAT(&b));
		ASSERT_EQ(a.width, b.width);
		ASSERT_EQ(a.height, b.height);
		GstBuffer *picture = gst_sample_get_buffer(reference.last);
		int same = 0;
		std::string differing;
		for (size_t i = 0; i < ours.copies.size(); i++) {
			ASSERT_NE(ours.copies[i], nullptr) << "frame " << i << " could not be mapped";
			std::array<int, 4> d = test::maxDifference(ours.caps, ours.copies[i], picture);
			if (test::maxOf(d) == 0)
				same++;
			else
				differing += " frame " + std::to_string(i) + ": " + test::describe(d) + ";";
		}
		std::printf("# frames equal to the reference: %d of %d; empty buffers at the drain: %d\n",
			    same, ours.frames, emptyLast);
		EXPECT_GE(same, 1) << differing;
		EXPECT_LE(ours.frames - same, emptyLast)
			<< "more frames differ than the drain's empty buffers explain:" << differing;
	}

	/* vicodec with v4l2fwhtdec 1.22.0 loses frames at the drain,
	 * whatever the io mode, and g_warning()s "left undrained" about it
	 * (measured: 2 of 3 in every mode on a quiet host, the last one or
	 * now and then the first; 1 of 3 once in CI on a loaded host, the
	 * mmap reference included); at least one must come out. */
	static void expectDecoderFrames(const Played &ours, const Played &reference)
	{
		std::printf("# decoded frames: %d (reference %d) of %d\n", ours.frames,
			    reference.frames, kFrames);
		EXPECT_GE(ours.frames, 1);
		EXPECT_GE(reference.frames, 1);
	}

	/* Call with every sample released (a kept sample holds a buffer, its
	 * fd and its dma-buf): zcbuf's buffers are all gone, from this
	 * process (no dma-buf or memfd fd) and from the kernel (bufinfo).
	 * Device and poll fds are not compared: upstream's v4l2 elements
	 * 1.22.0 leak themselves after every run, with their device fds
	 * (UpstreamV4l2ElementsLeakThemselves); what they hold goes when the
	 * process does (expectKernelLeftAsBefore). */
	static void expectNothingLeft(const Census &before)
	{
		Census after = settledCensus(before);
		EXPECT_EQ(after.dmabufs, before.dmabufs)
			<< "dma-buf objects left after the runs:" << describe(before.dmabufs, after.dmabufs);
		for (const std::string kind : { "/dmabuf", "/memfd" }) {
			auto count = [&](const Census &c) {
				return c.fds.count(kind) ? c.fds.at(kind) : 0;
			};
			EXPECT_EQ(count(after), count(before)) << kind << " fds left after the runs";
		}
	}

	/* @element (a V4L2 element) filled zcconvert's pool from @backend:
	 * every frame, all of them zcbuf memory, its capture queue DMABUF
	 * with the pool's fds and no copy on that side (v4l2's log). */
	static void expectCapturedIntoZcbuf(const Played &ours, test::DebugCapture &v4l2,
					    const std::string &element, const std::string &backend)
	{
		EXPECT_EQ(ours.frames, kFrames);
		EXPECT_EQ(ours.chosen.rfind(backend, 0), 0u) << ours.chosen;
		EXPECT_GT(ours.v4l2Out, 0);
		EXPECT_EQ(ours.v4l2OutZcbuf, ours.v4l2Out);
		const std::string pool = element + ":pool";
		EXPECT_GE(v4l2.count({ pool, ":src:allocator", "dmabuf buffers out of" }), 1);
		EXPECT_GE(v4l2.count({ pool, ":src:allocator", "imported DMABUF as fd" }), 1);
		EXPECT_EQ(v4l2.count({ pool, ":src>", "copy" }), 0);
	}

	/* @element (a V4L2 element) pushed its own buffers, exported as
	 * dma-bufs (VIDIOC_EXPBUF), none of them zcbuf's, with no copy and
	 * no import on that side (v4l2's log). */
	static void expectExportedItsOwn(const Played &ours, test::DebugCapture &v4l2,
					 const std::string &element)
	{
		EXPECT_GT(ours.v4l2Out, 0);
		EXPECT_EQ(ours.v4l2OutZcbuf, 0) << element << "'s own buffers, not zcbuf's";
		const std::string pool = element + ":pool";
		EXPECT_GE(v4l2.count({ pool, ":src:allocator", "exported DMABUF as fd" }), 1);
		EXPECT_EQ(v4l2.count({ pool, ":src>", "copy" }), 0);
		EXPECT_EQ(v4l2.count({ pool, ":src:allocator", "imported DMABUF" }), 0);
	}

	/* A refused cell: an error, v4l2's @refusal in its log, and no
	 * dma-buf left in the kernel once a child that ran @pipeline ended. */
	static void expectRefused(Played &ours, test::DebugCapture &v4l2, const std::string &refusal,
				  const std::string &pipeline)
	{
		EXPECT_NE(ours.error, "");
		EXPECT_GE(v4l2.count({ refusal }), 1) << "v4l2 did not log \"" << refusal << "\"\n"
						      << ours.error;
		if (v4l2.count({ refusal }) == 0) {
			/* what it logged instead: its last lines */
			std::vector<std::string> lines = v4l2.lines();
			for (size_t i = lines.size() > 30 ? lines.size() - 30 : 0; i < lines.size(); i++)
				std::printf("# v4l2: %s\n", lines[i].c_str());
		}
		release(ours);
		expectKernelLeftAsBefore(pipeline);
	}

	/* After a child process ran the refused @pipeline and ended: the
	 * kernel has the dma-buf objects it had before, whatever the child
	 * leaked. */
	static void expectKernelLeftAsBefore(const std::string &pipeline)
	{
		Census before;
		test::TracerReport report = test::runWithTracer(pipeline, "null", childGate(pipeline));
		EXPECT_NE(report.exitStatus, 0) << "refused here, played there:\n" << report.stderrText;
		Census after = settledCensus(before);
		EXPECT_EQ(after.dmabufs, before.dmabufs)
			<< "dma-buf objects left by the child:" << describe(before.dmabufs, after.dmabufs);
	}

	/* The tracer's word, in a process of its own: no copy, and the
	 * link out of @element carries dma-buf memory only. */
	static void expectTracerZeroCopy(const std::string &pipeline, const std::string &element)
	{
		Census before;
		test::TracerReport report = test::runWithTracer(pipeline, "null", childGate(pipeline));
		Census after = settledCensus(before);
		EXPECT_EQ(after.dmabufs, before.dmabufs)
			<< "dma-buf objects left by the child:" << describe(before.dmabufs, after.dmabufs);
		EXPECT_EQ(report.exitStatus, 0) << report.stderrText;
		EXPECT_EQ(report.copiesLine.rfind("copies: 0 ", 0), 0u) << report.copiesLine;
		bool found = false;
		for (const auto &[link, row] : report.rows) {
			if (link.rfind(element + ":src ->", 0) != 0)
				continue;
			found = true;
			EXPECT_EQ(row.buffers > 0, true) << link;
			EXPECT_DOUBLE_EQ(row.dmabuf, 100.0) << link;
			EXPECT_EQ(row.copies, 0) << link;
		}
		EXPECT_TRUE(found) << "no link out of " << element << " in\n" << report.stderrText;
	}

};

/* The memory a backend name stands for here. */
std::string backendSpec(const std::string &name)
{
	if (name == "vgem" || name == "virtio_gpu" || name == "vkms") {
		test::Card card = test::findCard(name.c_str());
		return card.node.empty() ? "" : "drm:" + card.node;
	}
	return name;
}

/* ---- v4l2fwhtdec capture-io-mode=dmabuf-import into zcconvert's pool ---- */

struct ImportCase {
	const char *backend; /* zcbuf backend, or a DRM driver for drm on it */
	const char *refusal; /* empty: works; else a substring of v4l2's log */
};

/* The test name of a backend: '-' is not allowed there. */
std::string caseName(const ::testing::TestParamInfo<ImportCase> &info)
{
	return zcbuf::test::paramName(info.param.backend);
}

/* Every backend: the five dma-buf exporters v4l2 imports from, then
 * udmabuf and memfd with what v4l2 logs when it refuses them there. */
auto everyBackend(const char *udmabufRefusal, const char *memfdRefusal)
{
	return ::testing::Values(ImportCase{ "module", "" }, ImportCase{ "dma-heap", "" },
				 ImportCase{ "vgem", "" }, ImportCase{ "virtio_gpu", "" },
				 ImportCase{ "vkms", "" },
				 ImportCase{ "udmabuf", udmabufRefusal },
				 ImportCase{ "memfd", memfdRefusal });
}

/* A case of one backend (ImportCase): backend_, its spec here (a failure
 * when its card is missing), and refusal_, what v4l2 logs when it refuses
 * it (empty: it works). */
class ImportTest : public V4l2Interop, public ::testing::WithParamInterface<ImportCase>
{
protected:
	void SetUp() override
	{
		V4l2Interop::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		backend_ = backendSpec(GetParam().backend);
		ASSERT_FALSE(backend_.empty()) << "no " << GetParam().backend << " card";
		refusal_ = GetParam().refusal;
	}

	std::string backend_, refusal_;
};

class DecoderImport : public ImportTest
{
};

const std::string kThumbnails = " ! zcthumbnail interval-frames=1 location=/tmp/v4l2-interop-%d.jpg";

TEST_P(DecoderImport, DecodesIntoZcbufMemoryOrIsRefusedAsDocumented)
{
	const std::string backend = backend_, refusal = refusal_;
	std::string pipeline = decoded("dmabuf-import") + " ! zcconvert name=conv backend=" + backend +
			       " ! video/x-raw,format=BGRx" + kThumbnails +
			       " ! fakesink name=sink sync=false";
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline, true);
	/* before the reference run, whose lines would count too */
	const int emptyLast = v4l2.count({ "dec:pool", ":src:allocator", "Dequeued capture buffer",
					   "bytesused: 0 " });
	if (ours.error.rfind("no EOS", 0) == 0) {
		/* where the decoder stopped: the last of its pool's lines */
		std::vector<std::string> lines = v4l2.lines();
		for (size_t i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); i++)
			std::printf("# v4l2: %s\n", lines[i].c_str());
	}
	if (!refusal.empty()) {
		EXPECT_NE(ours.error.find("Failed to allocate required memory"), std::string::npos)
			<< ours.error;
		EXPECT_GE(v4l2.count({ refusal }), 1) << "v4l2 did not log \"" << refusal << "\"";
		release(ours);
		/* zcconvert's pool stays referenced by the leaked decoder
		 * (the leaks tracer lists GstZcbufBufferPool beside it): only
		 * the process's end shows that nothing outlives it */
		expectKernelLeftAsBefore(pipeline);
		return;
	}
	ASSERT_EQ(ours.error, "");
	/* what the decoder pushed is zcbuf memory, from zcconvert's pool */
	EXPECT_GT(ours.v4l2Out, 0);
	EXPECT_EQ(ours.v4l2OutZcbuf, ours.v4l2Out);
	/* v4l2: the capture queue is DMABUF, filled with the fds of zcbuf's
	 * buffers, and the decoder's raw side copied nothing */
	EXPECT_GE(v4l2.count({ "dec:pool", ":src:allocator", "dmabuf buffers out of" }), 1);
	EXPECT_GE(v4l2.count({ "dec:pool", ":src:allocator", "imported DMABUF as fd" }), 1);
	EXPECT_EQ(v4l2.count({ "dec:pool", ":src>", "copy" }), 0);
	EXPECT_EQ(v4l2.count({ "dec:pool", ":src:allocator", "mmap buffers out of" }), 0);

	Played reference = play(decoded("mmap") +
			     " ! videoconvert ! video/x-raw,format=BGRx ! fakesink name=sink sync=false");
	ASSERT_EQ(reference.error, "");
	expectDecoderFrames(ours, reference);
	expectDecodedPictures(ours, reference, emptyLast);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "dec");
}

INSTANTIATE_TEST_SUITE_P(
	Backends, DecoderImport,
	/* udmabuf: vb2-vmalloc vmaps the dma-buf at QBUF and 6.1's udmabuf
	 * has no vmap (EFAULT); memfd: no dma-buf, refused before any ioctl */
	everyBackend("failed queueing buffer 0: Bad address", "Cannot import non-DMABuf memory"),
	caseName);

/* ---- v4l2fwhtdec capture-io-mode=dmabuf: vicodec's buffers into zcbuf ---- */

/* vicodec's own (vb2-vmalloc) buffers, exported with VIDIOC_EXPBUF, read
 * by zcthumbnail (in place) and converted by zcconvert, both through CPU
 * access brackets on the foreign dma-buf. */
TEST_F(V4l2Interop, DecoderExportsIntoZcthumbnailAndZcconvert)
{
	std::string pipeline = decoded("dmabuf") + kThumbnails +
			       " ! zcconvert name=conv backend=module ! video/x-raw,format=BGRx"
			       " ! fakesink name=sink sync=false";
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	ASSERT_EQ(ours.error, "");
	expectExportedItsOwn(ours, v4l2, "dec");

	Played reference = play(decoded("mmap") +
			     " ! videoconvert ! video/x-raw,format=BGRx ! fakesink name=sink sync=false");
	ASSERT_EQ(reference.error, "");
	expectDecoderFrames(ours, reference);
	expectSameFrame(ours, reference);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "dec");
}

/* ---- v4l2fwhtdec output-io-mode=dmabuf-import: a bitstream in zcbuf memory ---- */

/* decoded()'s stream as v4l2fwhtenc writes it: the frames copied out of
 * the encoder's buffers, their caps, and the size of the encoder's
 * buffers (vicodec's sizeimage for the compressed format). */
struct Bitstream {
	GstCaps *caps = nullptr;
	std::vector<GstBuffer *> frames;
	gsize bufferSize = 0;

	~Bitstream()
	{
		for (GstBuffer *frame : frames)
			gst_buffer_unref(frame);
		if (caps)
			gst_caps_unref(caps);
	}
};

void encode(Bitstream &out)
{
	std::string description = decoded("mmap");
	description = description.substr(0, description.find(" ! v4l2fwhtdec")) +
		      " ! appsink name=out sync=false";
	GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
	ASSERT_NE(pipeline, nullptr);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
	while (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND)) {
		GstBuffer *buffer = gst_sample_get_buffer(sample);
		if (!out.caps)
			out.caps = gst_caps_ref(gst_sample_get_caps(sample));
		gsize offset = 0, maxsize = 0;
		gst_buffer_get_sizes(buffer, &offset, &maxsize);
		out.bufferSize = std::max(out.bufferSize, maxsize);
		/* system memory: the encoder's own buffers go back to it */
		out.frames.push_back(gst_buffer_copy_deep(buffer));
		gst_sample_unref(sample);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
}

/* Each frame of @stream in a buffer of @allocator's, as large as the
 * encoder's (the decoder's OUTPUT queue wants no less), resized to the
 * frame, pushed into the appsrc named "src", then EOS. */
void feed(GstElement *pipeline, const Bitstream &stream, GstAllocator *allocator)
{
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	g_object_set(src, "caps", stream.caps, "format", GST_FORMAT_TIME, nullptr);
	for (GstBuffer *frame : stream.frames) {
		gsize size = gst_buffer_get_size(frame);
		GstMemory *memory = gst_allocator_alloc(allocator, stream.bufferSize, nullptr);
		if (!memory) {
			ADD_FAILURE() << "no zcbuf memory of " << stream.bufferSize << " bytes";
			break;
		}
		GstMapInfo map;
		if (!gst_memory_map(memory, &map, GST_MAP_WRITE)) {
			ADD_FAILURE() << "cannot map zcbuf memory";
			gst_memory_unref(memory);
			break;
		}
		gst_buffer_extract(frame, 0, map.data, size);
		gst_memory_unmap(memory, &map);
		gst_memory_resize(memory, 0, size);
		GstBuffer *buffer = gst_buffer_new();
		gst_buffer_append_memory(buffer, memory);
		gst_buffer_copy_into(buffer, frame,
				     GstBufferCopyFlags(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS),
				     0, -1);
		gst_app_src_push_buffer(GST_APP_SRC(src), buffer);
	}
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	gst_object_unref(src);
}

class DecoderOutputImport : public ImportTest
{
};

/* The bitstream, written into zcbuf memory by the application, is read
 * by vicodec from its fds (the decoder's OUTPUT queue is DMABUF). */
TEST_P(DecoderOutputImport, ReadsABitstreamInZcbufMemoryOrIsRefusedAsDocumented)
{
	const std::string backend = backend_, refusal = refusal_;
	Bitstream stream;
	encode(stream);
	ASSERT_EQ(stream.frames.size(), static_cast<size_t>(kFrames));
	GError *error = nullptr;
	GstAllocator *allocator = gst_zcbuf_allocator_new(backend.c_str(), &error);
	ASSERT_NE(allocator, nullptr) << error->message;
	auto decoding = [](const std::string &ioMode) {
		return "appsrc name=src ! v4l2fwhtdec name=dec output-io-mode=" + ioMode +
		       " ! video/x-raw,format=I420 ! videoconvert ! video/x-raw,format=BGRx"
		       " ! fakesink name=sink sync=false";
	};
	std::string pipeline = decoding("dmabuf-import");

	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline, true, [&](GstElement *p) { feed(p, stream, allocator); });
	gst_object_unref(allocator);
	if (!refusal.empty()) {
		/* the decoder posts none of its own: its handle_frame fails
		 * and the source's stream stops */
		EXPECT_NE(ours.error.find("Internal data stream error"), std::string::npos)
			<< ours.error;
		EXPECT_GE(v4l2.count({ refusal }), 1) << "v4l2 did not log \"" << refusal << "\"\n"
						      << ours.error;
		if (v4l2.count({ refusal }) == 0) {
			/* what it logged instead: its last lines */
			std::vector<std::string> lines = v4l2.lines();
			for (size_t i = 0; i < lines.size(); i++)
				std::printf("# v4l2: %s\n", lines[i].c_str());
		}
		release(ours);
		return;
	}
	ASSERT_EQ(ours.error, "");
	EXPECT_GE(v4l2.count({ "dec:pool", ":sink:allocator", "dmabuf buffers out of" }), 1);
	EXPECT_GE(v4l2.count({ "dec:pool", ":sink:allocator", "imported DMABUF as fd" }), kFrames);
	EXPECT_EQ(v4l2.count({ "dec:pool", ":sink>", "copy" }), 0);
	EXPECT_EQ(v4l2.count({ "dec:pool", ":sink:allocator", "mmap buffers out of" }), 0);

	/* the same frames, from system memory into the default (mmap) queue */
	GstAllocator *system = gst_allocator_find(nullptr);
	Played reference = play(decoding("mmap"), true,
				[&](GstElement *p) { feed(p, stream, system); });
	gst_object_unref(system);
	ASSERT_EQ(reference.error, "");
	expectDecoderFrames(ours, reference);
	expectDecodedPictures(ours, reference, 0);
	release(ours);
	release(reference);
	expectNothingLeft(before);
}

INSTANTIATE_TEST_SUITE_P(
	Backends, DecoderOutputImport,
	/* udmabuf: vicodec's OUTPUT queue is vb2-vmalloc too (vmap at
	 * QBUF); memfd: v4l2's allocator refuses memory that is no dma-buf */
	everyBackend("failed queueing buffer 0: Bad address", "Memory 0 is not of DMABUF"),
	caseName);

/* ---- v4l2convert (vim2m) ---- */

const std::string kYuy2 = " ! video/x-raw,format=YUY2";
const std::string kSink = " ! fakesink name=sink sync=false";

/* vim2m's CAPTURE buffers exported into zcthumbnail (read in place) and
 * zcconvert (converted from them into its pool). */
TEST_F(V4l2Interop, ConverterExportsIntoZcthumbnailAndZcconvert)
{
	std::string pipeline = rgbBars() + " ! v4l2convert name=vim capture-io-mode=dmabuf" + kYuy2 +
			       kThumbnails + " ! zcconvert name=conv backend=module" +
			       " ! video/x-raw,format=BGRx" + kSink;
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	ASSERT_EQ(ours.error, "");
	EXPECT_EQ(ours.frames, kFrames);
	expectExportedItsOwn(ours, v4l2, "vim");

	Played reference = play(rgbBars() + " ! v4l2convert" + kYuy2 +
			     " ! videoconvert ! video/x-raw,format=BGRx" + kSink);
	ASSERT_EQ(reference.error, "");
	expectSameFrame(ours, reference);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "vim");
}

/* vim2m converting into zcconvert's pool (CAPTURE queue DMABUF), from
 * every backend. */
class ConverterCaptureImport : public ImportTest
{
};

TEST_P(ConverterCaptureImport, ConvertsIntoZcbufMemoryOrIsRefusedAsDocumented)
{
	const std::string backend = backend_, refusal = refusal_;
	std::string pipeline = rgbBars() + " ! v4l2convert name=vim capture-io-mode=dmabuf-import" +
			       kYuy2 + " ! zcconvert name=conv backend=" + backend +
			       " ! video/x-raw,format=BGRx" + kSink;
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	if (!refusal.empty()) {
		/* v4l2convert's own error */
		EXPECT_NE(ours.error.find("failed to activate bufferpool"), std::string::npos)
			<< ours.error;
		expectRefused(ours, v4l2, refusal, pipeline);
		return;
	}
	ASSERT_EQ(ours.error, "");
	expectCapturedIntoZcbuf(ours, v4l2, "vim", backend);

	Played reference = play(rgbBars() + " ! v4l2convert" + kYuy2 +
			     " ! videoconvert ! video/x-raw,format=BGRx" + kSink);
	ASSERT_EQ(reference.error, "");
	expectSameFrame(ours, reference);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "vim");
}

INSTANTIATE_TEST_SUITE_P(
	Backends, ConverterCaptureImport,
	/* udmabuf: vim2m is vb2-vmalloc too (vmap at QBUF); memfd: refused
	 * before any ioctl */
	everyBackend("failed queueing buffer 0: Bad address", "Cannot import non-DMABuf memory"),
	caseName);

/* vim2m reading zcbuf memory (OUTPUT queue DMABUF): videotestsrc writes
 * into the pool zcupload proposes, zcupload passes it on untouched. */
class ConverterOutputImport : public ImportTest
{
};

TEST_P(ConverterOutputImport, ReadsZcbufMemoryOrIsRefusedAsDocumented)
{
	const std::string backend = backend_, refusal = refusal_;
	std::string pipeline = rgbBars() + " ! zcupload name=conv backend=" + backend +
			       " ! v4l2convert name=vim output-io-mode=dmabuf-import" + kYuy2 + kSink;
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	if (!refusal.empty()) {
		expectRefused(ours, v4l2, refusal, pipeline);
		return;
	}
	ASSERT_EQ(ours.error, "");
	EXPECT_EQ(ours.frames, kFrames);
	EXPECT_EQ(ours.chosen.rfind(backend, 0), 0u) << ours.chosen;
	EXPECT_GE(v4l2.count({ "vim:pool", ":sink:allocator", "dmabuf buffers out of" }), 1);
	EXPECT_GE(v4l2.count({ "vim:pool", ":sink:allocator", "imported DMABUF as fd" }), 1);
	EXPECT_EQ(v4l2.count({ "vim:pool", ":sink>", "copy" }), 0);

	Played reference = play(rgbBars() + " ! v4l2convert" + kYuy2 + kSink);
	ASSERT_EQ(reference.error, "");
	expectSameFrame(ours, reference);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "conv");
}

INSTANTIATE_TEST_SUITE_P(
	Backends, ConverterOutputImport,
	/* udmabuf: vmap at QBUF, as above; memfd: refused before any ioctl */
	everyBackend("failed queueing buffer 0: Bad address", "cannot import buffers from upstream"),
	caseName);

/* ---- vivid (v4l2src) both ways ---- */

/* vivid instance @instance's colour bars without the OSD text (its clock
 * and frame counter change from frame to frame), from its capture node
 * with @ioMode. vivid-000 is vb2-vmalloc, vivid-001 vb2-dma-contig. */
std::string vividBars(int instance, const std::string &ioMode)
{
	std::string node = test::vividNode(instance, V4L2_CAP_VIDEO_CAPTURE);
	return "v4l2src name=vivid device=" + node + " io-mode=" + ioMode +
	       " num-buffers=3 extra-controls=c,osd_text_mode=2"
	       " ! video/x-raw,format=YUY2,width=640,height=360,framerate=30/1";
}

/* vivid capturing into zcconvert's pool (vivid-000, vb2-vmalloc; the
 * contiguous instance is capture-constraints-in-vm's), from every
 * backend. */
class VividCaptureImport : public ImportTest
{
};

TEST_P(VividCaptureImport, CapturesIntoZcbufMemoryOrIsRefusedAsDocumented)
{
	ASSERT_FALSE(test::vividNode(0, V4L2_CAP_VIDEO_CAPTURE).empty()) << "no vivid-000";
	const std::string backend = backend_, refusal = refusal_;
	std::string pipeline = vividBars(0, "dmabuf-import") + " ! zcconvert name=conv backend=" +
			       backend + " ! video/x-raw,format=BGRx" + kSink;
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	if (!refusal.empty()) {
		expectRefused(ours, v4l2, refusal, pipeline);
		return;
	}
	ASSERT_EQ(ours.error, "");
	expectCapturedIntoZcbuf(ours, v4l2, "vivid", backend);

	Played reference = play(vividBars(0, "mmap") + " ! videoconvert ! video/x-raw,format=BGRx" +
				kSink);
	ASSERT_EQ(reference.error, "");
	expectSameFrame(ours, reference);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "vivid");
}

INSTANTIATE_TEST_SUITE_P(
	Backends, VividCaptureImport,
	/* udmabuf: vb2-vmalloc vmaps it at QBUF (EFAULT); memfd: refused
	 * before any ioctl */
	everyBackend("failed queueing buffer 0: Bad address", "Cannot import non-DMABuf memory"),
	caseName);

/* vivid's own buffers (VIDIOC_EXPBUF) read by zcthumbnail in place and
 * converted by zcconvert, on both instances. */
class VividExport : public V4l2Interop, public ::testing::WithParamInterface<int>
{
};

TEST_P(VividExport, ExportsIntoZcthumbnailAndZcconvert)
{
	const int instance = GetParam();
	ASSERT_FALSE(test::vividNode(instance, V4L2_CAP_VIDEO_CAPTURE).empty())
		<< "no vivid instance " << instance;
	std::string pipeline = vividBars(instance, "dmabuf") + kThumbnails +
			       " ! zcconvert name=conv backend=module ! video/x-raw,format=BGRx" + kSink;
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	ASSERT_EQ(ours.error, "");
	EXPECT_EQ(ours.frames, kFrames);
	expectExportedItsOwn(ours, v4l2, "vivid");

	Played reference = play(vividBars(instance, "mmap") +
				" ! videoconvert ! video/x-raw,format=BGRx" + kSink);
	ASSERT_EQ(reference.error, "");
	expectSameFrame(ours, reference);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "vivid");
}

INSTANTIATE_TEST_SUITE_P(Instances, VividExport, ::testing::Values(0, 1),
			 [](const auto &info) {
				 return std::string(info.param == 0 ? "vmalloc" : "contiguous");
			 });

/* ---- v4l2sink io-mode=dmabuf-import into vivid's output ---- */

/* vivid-000's HDMI output looped back to its HDMI input ("Loop Video"),
 * so that what vivid read out of an imported buffer comes back as a
 * captured frame. vivid loops only when input and output are both HDMI
 * (or both S-Video), of one size, fourcc and field, and it gives the
 * capture the output's colorspace: the output's format is set here
 * before either starts, else the capture negotiates a colorimetry the
 * output then changes (seen: "Device wants bt601 colorimetry"). The
 * device keeps input, output, format and controls across opens: the
 * destructor puts input, output and the control back. */
class VividLoopback
{
public:
	static constexpr int kWidth = 1280, kHeight = 720; /* vivid's HDMI default */

	VividLoopback(const std::string &capture, const std::string &output)
	{
		capture_ = open(capture.c_str(), O_RDWR | O_CLOEXEC);
		output_ = open(output.c_str(), O_RDWR | O_CLOEXEC);
		if (capture_ < 0 || output_ < 0) {
			error = "cannot open " + capture + " or " + output;
			return;
		}
		int input = findHdmi<struct v4l2_input>(capture_, VIDIOC_ENUMINPUT,
							V4L2_IN_CAP_DV_TIMINGS);
		int out = findHdmi<struct v4l2_output>(output_, VIDIOC_ENUMOUTPUT,
						       V4L2_OUT_CAP_DV_TIMINGS);
		if (input < 0 || out < 0) {
			error = "no HDMI input or output on vivid-000";
			return;
		}
		if (ioctl(capture_, VIDIOC_G_INPUT, &oldInput_) || ioctl(capture_, VIDIOC_S_INPUT, &input) ||
		    ioctl(output_, VIDIOC_G_OUTPUT, &oldOutput_) || ioctl(output_, VIDIOC_S_OUTPUT, &out)) {
			error = std::string("S_INPUT/S_OUTPUT: ") + std::strerror(errno);
			return;
		}
		struct v4l2_format format = {};
		format.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
		format.fmt.pix.width = kWidth;
		format.fmt.pix.height = kHeight;
		format.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		format.fmt.pix.field = V4L2_FIELD_NONE;
		format.fmt.pix.colorspace = V4L2_COLORSPACE_REC709;
		if (ioctl(output_, VIDIOC_S_FMT, &format)) {
			error = std::string("S_FMT on the output: ") + std::strerror(errno);
			return;
		}
		loopControl_ = findControl(capture_, "Loop Video");
		struct v4l2_control on = { loopControl_, 1 };
		if (!loopControl_ || ioctl(capture_, VIDIOC_S_CTRL, &on))
			error = "no \"Loop Video\" control on vivid-000's capture";
	}

	~VividLoopback()
	{
		if (loopControl_) {
			struct v4l2_control off = { loopControl_, 0 };
			ioctl(capture_, VIDIOC_S_CTRL, &off);
		}
		if (oldInput_ >= 0)
			ioctl(capture_, VIDIOC_S_INPUT, &oldInput_);
		if (oldOutput_ >= 0)
			ioctl(output_, VIDIOC_S_OUTPUT, &oldOutput_);
		if (capture_ >= 0)
			close(capture_);
		if (output_ >= 0)
			close(output_);
	}

	VividLoopback(const VividLoopback &) = delete;
	VividLoopback &operator=(const VividLoopback &) = delete;

	std::string error; /* empty: looping */

private:
	/* The index of the input (@Entry v4l2_input, @request
	 * VIDIOC_ENUMINPUT) or output that has DV timings (@dvTimings, the
	 * capability bit): vivid's HDMI ones. */
	template <typename Entry>
	static int findHdmi(int fd, unsigned long request, uint32_t dvTimings)
	{
		for (unsigned int i = 0; i < 16; i++) {
			Entry entry = {};
			entry.index = i;
			if (ioctl(fd, request, &entry))
				break;
			if (entry.capabilities & dvTimings)
				return static_cast<int>(i);
		}
		return -1;
	}

	/* vivid's private controls have no fixed public ID: found by name. */
	static unsigned int findControl(int fd, const char *name)
	{
		struct v4l2_queryctrl query = {};
		query.id = V4L2_CTRL_FLAG_NEXT_CTRL;
		while (ioctl(fd, VIDIOC_QUERYCTRL, &query) == 0) {
			if (std::strcmp(reinterpret_cast<const char *>(query.name), name) == 0)
				return query.id;
			query.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
		}
		return 0;
	}

	int capture_ = -1, output_ = -1;
	int oldInput_ = -1, oldOutput_ = -1;
	unsigned int loopControl_ = 0;
};

/* The frames v4l2sink shows and vivid loops back: still bars, so every
 * frame looped back is this one picture (vivid's own pattern, captured
 * before the output has a buffer, is not). */
const std::string kHdYuy2 = " ! video/x-raw,format=YUY2,width=" +
			    std::to_string(VividLoopback::kWidth) +
			    ",height=" + std::to_string(VividLoopback::kHeight) +
			    ",colorimetry=bt709";

/* 30 frames/s: vivid's HDMI capture runs at the timings' 60 */
std::string hdBars(int frames)
{
	return "videotestsrc num-buffers=" + std::to_string(frames) + " pattern=smpte75" + kHdYuy2 +
	       ",framerate=30/1";
}

/* Counts the captured frames that are @picture byte for byte. */
struct LoopedFrames {
	GstBuffer *picture = nullptr;
	std::atomic<int> all{ 0 }, same{ 0 };
};

GstPadProbeReturn compareLooped(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *looped = static_cast<LoopedFrames *>(data);
	looped->all++;
	GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
	GstMapInfo a, b;
	if (!gst_buffer_map(buffer, &a, GST_MAP_READ))
		return GST_PAD_PROBE_OK;
	if (gst_buffer_map(looped->picture, &b, GST_MAP_READ)) {
		if (a.size == b.size && std::memcmp(a.data, b.data, a.size) == 0)
			looped->same++;
		gst_buffer_unmap(looped->picture, &b);
	}
	gst_buffer_unmap(buffer, &a);
	return GST_PAD_PROBE_OK;
}

/* v4l2sink showing zcbuf memory on vivid-000's output (vb2-vmalloc),
 * from every backend: vivid reads it in place (the looped-back capture is
 * the bars), or refuses it as documented. */
class VividOutputImport : public ImportTest
{
};

TEST_P(VividOutputImport, ShowsZcbufMemoryOrIsRefusedAsDocumented)
{
	const std::string output = test::vividNode(0, V4L2_CAP_VIDEO_OUTPUT);
	const std::string capture = test::vividNode(0, V4L2_CAP_VIDEO_CAPTURE);
	ASSERT_FALSE(output.empty() || capture.empty())
		<< "no output and capture on vivid-000: boot with node_types=0x101";
	const std::string backend = backend_, refusal = refusal_;

	Played reference = play(hdBars(1) + " ! fakesink name=sink");
	ASSERT_EQ(reference.error, "");
	ASSERT_NE(reference.last, nullptr);
	VividLoopback loop(capture, output);
	ASSERT_EQ(loop.error, "");

	/* 30 frames shown at 30/s while 45 are captured at vivid's 60/s:
	 * the first ones come before the output has a buffer */
	std::string pipeline = hdBars(30) + " ! zcupload name=conv backend=" + backend +
			       " ! v4l2sink name=out device=" + output + " io-mode=dmabuf-import" +
			       " v4l2src name=loop device=" + capture +
			       " num-buffers=45 extra-controls=c,osd_text_mode=2" + kHdYuy2 +
			       " ! fakesink name=sink sync=false";
	Census before;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	LoopedFrames looped;
	looped.picture = gst_sample_get_buffer(reference.last);
	OutCount shown;
	Played ours = play(pipeline, false, [&](GstElement *pipeline) {
		GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
		GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
		GstPad *pad = gst_element_get_static_pad(sink, "sink");
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, compareLooped, &looped, nullptr);
		gst_object_unref(pad);
		pad = gst_element_get_static_pad(out, "sink");
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, countOut, &shown, nullptr);
		gst_object_unref(pad);
		gst_object_unref(out);
		gst_object_unref(sink);
	});
	if (!refusal.empty()) {
		release(reference);
		expectRefused(ours, v4l2, refusal, pipeline);
		return;
	}
	ASSERT_EQ(ours.error, "");
	std::printf("# captured %d frames, %d of them the bars shown; %d shown, %d zcbuf\n",
		    looped.all.load(), looped.same.load(), shown.all.load(), shown.zcbuf.load());
	EXPECT_GE(looped.same, 1) << "vivid looped back none of the frames it was given";
	EXPECT_EQ(ours.chosen.rfind(backend, 0), 0u) << ours.chosen;
	EXPECT_GT(shown.all, 0);
	EXPECT_EQ(shown.zcbuf, shown.all);
	EXPECT_GE(v4l2.count({ "out:pool", ":sink:allocator", "dmabuf buffers out of" }), 1);
	EXPECT_GE(v4l2.count({ "out:pool", ":sink:allocator", "imported DMABUF as fd" }), 1);
	EXPECT_EQ(v4l2.count({ "out:pool", ":sink>", "copy" }), 0);
	release(ours);
	release(reference);
	expectNothingLeft(before);
	expectTracerZeroCopy(pipeline, "conv");
}

INSTANTIATE_TEST_SUITE_P(
	Backends, VividOutputImport,
	/* udmabuf: vb2-vmalloc vmaps it at QBUF (EFAULT); memfd: v4l2's
	 * allocator refuses memory that is no dma-buf, before any ioctl */
	everyBackend("failed queueing buffer 0: Bad address", "Memory 0 is not of DMABUF"),
	caseName);

/* ---- V4L2's own buffers into a display (vkms) and the GPU (virtio-gpu) ---- */

/* What a V4L2 driver exports (VIDIOC_EXPBUF, vb2-vmalloc memory) with
 * @ioMode, 640x480 in @format: vivid's bars, vim2m converting videotestsrc's
 * RGB, vicodec decoding FWHT. */
std::string exported(const std::string &driver, const std::string &ioMode,
		     const std::string &format)
{
	if (driver == "vivid")
		return "v4l2src name=vivid device=" + test::vividNode(0, V4L2_CAP_VIDEO_CAPTURE) +
		       " io-mode=" + ioMode + " num-buffers=3 extra-controls=c,osd_text_mode=2" +
		       " ! video/x-raw,format=" + format + ",width=640,height=480";
	/* the size too: a display's caps would ask vim2m to scale to its mode */
	if (driver == "vim2m")
		return rgbBars() + " ! v4l2convert name=vim capture-io-mode=" + ioMode +
		       " ! video/x-raw,format=" + format + ",width=640,height=480";
	/* 6 frames, not 3: once in CI under load vicodec's drain lost all three
	 * ("3 frames 0-2 left undrained"), leaving nothing to compare */
	return decoded(ioMode, 6, format);
}

struct ExportCase {
	const char *driver; /* vivid, vim2m or vicodec */
	const char *screenFormat; /* one that vkms's primary plane scans out */
	const char *gpuFormat; /* one that zcconvert and glupload take */
};

std::string exportName(const ::testing::TestParamInfo<ExportCase> &info)
{
	return info.param.driver;
}

const auto kExporters = ::testing::Values(ExportCase{ "vivid", "BGRx", "NV12" },
					  ExportCase{ "vim2m", "RGB16", "YUY2" },
					  ExportCase{ "vicodec", "", "I420" });

/* vicodec is not on the screen list: vkms scans out no YUV, and
 * v4l2fwhtdec 1.22.0 decodes no RGB here (the caps of an RGB stream do
 * not negotiate; with any output a trial run hung) */
const auto kScreenExporters = ::testing::Values(ExportCase{ "vivid", "BGRx", "NV12" },
						ExportCase{ "vim2m", "RGB16", "YUY2" });

/* V4L2's exports scanned out on vkms (which reads a foreign dma-buf
 * through its vmap) by zckmssink and by upstream kmssink: the screen's CRC
 * equals the one of the same frames through the default (mmap) io mode,
 * which zckmssink can only copy (allow-copy=true). */
class V4l2ExportOnScreen : public V4l2Interop, public ::testing::WithParamInterface<ExportCase>
{
};

TEST_P(V4l2ExportOnScreen, ShownWithNoCopyByZckmssinkAndKmssink)
{
	test::Card vkms = test::findCard("vkms");
	ASSERT_FALSE(vkms.node.empty()) << "no vkms card: boot with --modprobe vkms";
	const std::string driver = GetParam().driver, format = GetParam().screenFormat;
	/* sync=false: under TCG the decoder's frames come late, and a sink
	 * that syncs drops every one of them */
	const std::string zckmssink =
		" ! zckmssink name=sink sync=false device=" + vkms.node + " mode=640x480";
	Census before;
	test::Shown reference =
		test::show(vkms, exported(driver, "mmap", format) + zckmssink + " allow-copy=true");
	ASSERT_EQ(reference.error, "");
	ASSERT_GE(reference.samples, 1u);
	EXPECT_GE(reference.copies, 1u) << "mmap buffers are no dma-buf: zckmssink copies them";

	test::Shown ours = test::show(vkms, exported(driver, "dmabuf", format) + zckmssink);
	ASSERT_EQ(ours.error, "");
	EXPECT_EQ(ours.copies, 0u);
	EXPECT_EQ(ours.crc, reference.crc) << "zckmssink shows other pixels than the reference";
	expectNothingLeft(before);

	const std::string kmssink =
		exported(driver, "dmabuf", format) + " ! kmssink name=sink sync=false driver-name=vkms";
	test::DebugCapture performance({ "GST_PERFORMANCE" }, GST_LEVEL_INFO);
	test::Shown upstream = test::show(vkms, kmssink);
	ASSERT_EQ(upstream.error, "");
	EXPECT_EQ(performance.count({ "frame copy" }), 0) << "kmssink copied the frames";
	EXPECT_EQ(upstream.crc, reference.crc) << "kmssink shows other pixels than the reference";
	std::printf("# CRC %08x: reference, zckmssink, kmssink\n", reference.crc);
	expectNothingLeft(before);
	/* and in a process of its own, the tracer's word: no copy */
	expectTracerZeroCopy(kmssink, driver == "vivid" ? "vivid" : "vim");
}

INSTANTIATE_TEST_SUITE_P(Exporters, V4l2ExportOnScreen, kScreenExporters, exportName);

/* V4L2's exports on virtio-gpu's GPU: virtio-gpu 6.1 imports no foreign
 * dma-buf, so zcconvert method=auto converts them on the CPU, with the
 * CPU path's bytes, and glupload uploads them as "Raw Data" (a copy into
 * a texture), the frames those of the default (mmap) io mode. */
class V4l2ExportOnTheGpu : public V4l2Interop, public ::testing::WithParamInterface<ExportCase>
{
protected:
	void SetUp() override
	{
		V4l2Interop::SetUp();
		if (IsSkipped() || HasFatalFailure())
			return;
		card_ = test::virtioCard();
		ASSERT_FALSE(card_.empty()) << "no virtio-gpu card: boot with --modprobe virtio_gpu";
		/* GstGL 1.22 on a card without a window system: EGL on GBM */
		g_setenv("GST_GL_PLATFORM", "egl", TRUE);
		g_setenv("GST_GL_API", "gles2", TRUE);
		g_setenv("GST_GL_WINDOW", "gbm", TRUE);
		g_setenv("GST_GL_GBM_DRM_DEVICE", card_.c_str(), TRUE);
	}

	std::string card_;
};

TEST_P(V4l2ExportOnTheGpu, ConvertedOnTheCpuAndUploadedAsRawData)
{
	const std::string driver = GetParam().driver, format = GetParam().gpuFormat;
	Census before;
	Played ours = play(exported(driver, "dmabuf", format) + " ! zcconvert name=conv method=auto device=" +
			   card_ + " ! video/x-raw,format=RGBA" + kSink);
	ASSERT_EQ(ours.error, "");
	std::printf("# zcconvert: %s\n", ours.methodInUse.c_str());
	EXPECT_EQ(ours.methodInUse.rfind("cpu: ", 0), 0u) << ours.methodInUse;
	Played cpu = play(exported(driver, "mmap", format) +
			  " ! zcconvert method=cpu ! video/x-raw,format=RGBA" + kSink);
	ASSERT_EQ(cpu.error, "");
	expectSameFrame(ours, cpu);

	const std::string gl = " ! glupload ! glcolorconvert ! video/x-raw(memory:GLMemory),format=RGBA"
			       " ! gldownload ! video/x-raw,format=RGBA" + kSink;
	test::DebugCapture upload({ "glupload" }, GST_LEVEL_LOG);
	Played uploaded = play(exported(driver, "dmabuf", format) + gl);
	std::vector<std::string> uploaders;
	for (const std::string &line : upload.lines()) {
		std::size_t to = line.find(" to ", line.find("Changing uploader from "));
		if (line.find("Changing uploader from ") != std::string::npos && to != std::string::npos)
			uploaders.push_back(line.substr(to + 4, line.find(" with ", to) - to - 4));
	}
	ASSERT_EQ(uploaded.error, "");
	ASSERT_FALSE(uploaders.empty()) << "glupload logged no uploader";
	std::printf("# glupload's last uploader: %s\n", uploaders.back().c_str());
	EXPECT_EQ(uploaders.back(), "Raw Data");
	Played direct = play(exported(driver, "mmap", format) + gl);
	ASSERT_EQ(direct.error, "");
	expectSameFrame(uploaded, direct);
	release(ours);
	release(cpu);
	release(uploaded);
	release(direct);
	expectNothingLeft(before);
}

INSTANTIATE_TEST_SUITE_P(Exporters, V4l2ExportOnTheGpu, kExporters, exportName);

/* Rows padded past what vim2m takes: zcupload's pool with rows a multiple
 * of 2048 bytes (constraints=stride-align=2048; 640 RGB pixels are 1920
 * bytes, the padded rows 6144), its
 * VideoMeta saying so, into v4l2convert output-io-mode=dmabuf-import.
 * vim2m's OUTPUT queue keeps its own bytesperline (width times 3), so
 * v4l2's import check, which wants the buffer's strides to be the queue's,
 * refuses them: a stream error, no copy instead. The same frames unpadded
 * are ConverterOutputImport/module. */
TEST_F(V4l2Interop, PaddedRowsAreRefusedByVim2m)
{
	std::string pipeline = rgbBars() +
			       " ! zcupload name=conv backend=module constraints=stride-align=2048" +
			       " ! v4l2convert name=vim output-io-mode=dmabuf-import" + kYuy2 + kSink;
	test::DebugCapture v4l2(kV4l2Categories, GST_LEVEL_LOG);
	Played ours = play(pipeline);
	/* 6144: a multiple of 2048 that whole RGB pixels fill (the pool pads
	 * rows by pixels) */
	EXPECT_GT(ours.convStride, 640 * 3) << "zcupload's rows are not padded";
	EXPECT_EQ(ours.convStride % 2048, 0) << ours.convStride;
	EXPECT_EQ(ours.frames, 0);
	expectRefused(ours, v4l2, "cannot import buffers from upstream", pipeline);
}

/* zcconvert cannot feed vim2m at all: vim2m's OUTPUT queue takes RGB565,
 * RGB565X, RGB24 and BGR24, zcconvert writes none of them. */
TEST_F(V4l2Interop, ZcconvertAndVim2mHaveNoCommonFormat)
{
	Played run = play("videotestsrc num-buffers=1 ! zcconvert name=zc ! v4l2convert name=vim"
			  " output-io-mode=dmabuf-import" + kSink);
	EXPECT_NE(run.error.find("could not link zc to vim"), std::string::npos)
		<< run.error;
}

/* Why fds are not counted in-process: upstream's v4l2 elements 1.22.0,
 * alone, keep their device fds (and themselves, their pools and
 * allocators, as the leaks tracer lists) after the pipeline is gone. When
 * a GStreamer update fixes that, this fails and the fd checks above can
 * count every fd. */
TEST_F(V4l2Interop, UpstreamV4l2ElementsLeakThemselves)
{
	Census before;
	Played run = play(rgbBars() + " ! v4l2convert" + kYuy2 + kSink);
	ASSERT_EQ(run.error, "");
	release(run);
	Census after;
	EXPECT_GT(videoNodes(after), videoNodes(before)) << describe(before.fds, after.fds);
}

/* ---- start/stop cycles of the decoder into zcbuf memory ---- */

/* One decoder pipeline played to EOS and stopped again and again: every
 * cycle gets frames; after the pipeline goes, none of zcbuf's buffers is
 * left. Upstream's v4l2 elements 1.22.0 keep every cycle's buffer pools,
 * and with them fds (each pool's GstPoll, an encoder's exported dma-bufs):
 * with an encoder in the pipeline the guest's 1024 fds ran out at cycle 39,
 * with the bitstream encoded once and fed from an appsrc at cycle 65. So
 * the bitstream comes from an appsrc and the soft fd limit is raised to
 * the hard one (4096 in the guest); the fds kept are printed (1500).
 * 100 cycles: 9.1 s under TCG on a quiet host, 21.8 s on a loaded one. */
constexpr int kCycles = 100;

TEST_F(V4l2Interop, StartStopCyclesLeaveNothingBehind)
{
	struct rlimit files;
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
	files.rlim_cur = files.rlim_max;
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);
	Bitstream stream;
	encode(stream);
	ASSERT_EQ(stream.frames.size(), static_cast<size_t>(kFrames));
	Census before;
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(
		"appsrc name=src ! v4l2fwhtdec name=dec capture-io-mode=dmabuf-import"
		" ! video/x-raw,format=I420 ! zcconvert backend=module ! video/x-raw,format=BGRx"
		" ! fakesink name=sink sync=false enable-last-sample=false",
		&error);
	ASSERT_NE(pipeline, nullptr) << (error ? error->message : "");
	ASSERT_TRUE(test::holdEosUntilFirstOutput(pipeline, "dec"));
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	std::atomic<int> frames{ 0 };
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, countBuffer, &frames, nullptr);
	gst_object_unref(pad);
	gst_object_unref(sink);
	GstAllocator *system = gst_allocator_find(nullptr);
	GstBus *bus = gst_element_get_bus(pipeline);
	auto start = std::chrono::steady_clock::now();
	int cycles = 0;
	std::string failure;
	for (; cycles < kCycles && failure.empty(); cycles++) {
		frames = 0;
		if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
			failure = "PLAYING failed";
			break;
		}
		feed(pipeline, stream, system);
		GstMessage *end = gst_bus_timed_pop_filtered(
			bus, 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		if (!end) {
			failure = "no EOS within 30 s";
		} else if (GST_MESSAGE_TYPE(end) == GST_MESSAGE_ERROR) {
			GError *message = nullptr;
			gst_message_parse_error(end, &message, nullptr);
			failure = message->message;
			g_clear_error(&message);
		}
		if (end)
			gst_message_unref(end);
		gst_element_set_state(pipeline, GST_STATE_NULL);
		/* the drain loses up to two frames (expectDecoderFrames) */
		if (failure.empty() && frames < 1)
			failure = "no frame";
	}
	double seconds =
		std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	std::printf("# %d start/stop cycles in %.1f s\n", cycles, seconds);
	gst_object_unref(bus);
	gst_object_unref(system);
	gst_object_unref(pipeline);
	EXPECT_EQ(failure, "") << "cycle " << cycles - 1;
	EXPECT_EQ(cycles, kCycles);
	Census after;
	int kept = 0;
	for (const auto &[kind, count] : after.fds)
		kept += count - (before.fds.count(kind) ? before.fds.at(kind) : 0);
	std::printf("# fds kept after the cycles (upstream's v4l2 pools): %d, limit %llu\n", kept,
		    static_cast<unsigned long long>(files.rlim_cur));
	expectNothingLeft(before);
}

} /* namespace */
