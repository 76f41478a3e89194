/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert against videoconvert: frames per second converting random
 * frames in system memory into each element's own output pool, 4K
 * NV12->BGRx and 1080p I420->RGBA, on 1 and 2 threads (both elements'
 * n-threads). The subjects alternate within every repetition.
 *
 * The memory bound, a limit no converter can beat: the input frames rotate
 * among enough buffers to exceed twice the last-level cache, and so do the
 * outputs (the driver holds the last ones it received, so that each pool
 * cycles through as many), so every frame is read from and written to
 * memory. In every repetition, with the same thread count, bench_memory.h
 * measures read and write bandwidth (regular and non-temporal stores)
 * alone, and the stream bound: a loop moving the frame's input and output
 * bytes in the same proportions and computing nothing. The stream bound is
 * the limit ("memory bound"; bench/run.py fails the run when a subject
 * beats it beyond the ranges). input / read bandwidth + output / best write
 * bandwidth is reported beside it ("separate read + write"): a core
 * overlaps reads with writes, so that sum is no bound, and zcconvert's
 * fraction of both is the "zcconvert-memory-bound" group, the bandwidths
 * the "memory-bandwidth" group.
 *
 * The elements are driven like GstHarness does (pads of our own linked to
 * theirs, gst_pad_push() on this thread), so the time is the element's.
 */
#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gst/gst.h>
#include <gst/video/video.h>

#include "bench_memory.h"
#include "bench_output.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Driver {
	GstElement *element = nullptr;
	GstPad *src = nullptr, *sink = nullptr;
	GstCaps *outCaps = nullptr;
	guint64 received = 0;
	/* The last outputs, held so that the element's pool cycles through
	 * more memory than the caches hold. */
	std::deque<GstBuffer *> held;
	std::size_t holdCount = 0;
	std::size_t next = 0;

	static GstFlowReturn chain(GstPad *pad, GstObject *, GstBuffer *buffer)
	{
		Driver *self = static_cast<Driver *>(gst_pad_get_element_private(pad));
		self->received++;
		self->held.push_back(buffer);
		while (self->held.size() > self->holdCount) {
			gst_buffer_unref(self->held.front());
			self->held.pop_front();
		}
		return GST_FLOW_OK;
	}

	static gboolean query(GstPad *pad, GstObject *parent, GstQuery *q)
	{
		Driver *self = static_cast<Driver *>(gst_pad_get_element_private(pad));
		switch (GST_QUERY_TYPE(q)) {
		case GST_QUERY_CAPS:
			gst_query_set_caps_result(q, self->outCaps);
			return TRUE;
		case GST_QUERY_ACCEPT_CAPS: {
			GstCaps *caps;
			gst_query_parse_accept_caps(q, &caps);
			gst_query_set_accept_caps_result(q, gst_caps_can_intersect(caps, self->outCaps));
			return TRUE;
		}
		default:
			return gst_pad_query_default(pad, parent, q);
		}
	}

	Driver(const std::string &description, GstCaps *in, GstCaps *out, std::size_t hold)
		: holdCount(hold)
	{
		GError *error = nullptr;
		element = gst_parse_launch(description.c_str(), &error);
		if (!element) {
			fprintf(stderr, "%s: %s\n", description.c_str(), error->message);
			exit(1);
		}
		gst_object_ref_sink(element);
		outCaps = gst_caps_ref(out);
		src = gst_pad_new("src", GST_PAD_SRC);
		sink = gst_pad_new("sink", GST_PAD_SINK);
		gst_pad_set_element_private(sink, this);
		gst_pad_set_chain_function(sink, chain);
		gst_pad_set_query_function(sink, query);
		GstPad *elementSink = gst_element_get_static_pad(element, "sink");
		GstPad *elementSrc = gst_element_get_static_pad(element, "src");
		gst_pad_link(src, elementSink);
		gst_pad_link(elementSrc, sink);
		gst_object_unref(elementSink);
		gst_object_unref(elementSrc);
		gst_pad_set_active(src, TRUE);
		gst_pad_set_active(sink, TRUE);
		gst_element_set_state(element, GST_STATE_PLAYING);
		gst_pad_push_event(src, gst_event_new_stream_start("bench"));
		gst_pad_push_event(src, gst_event_new_caps(in));
		GstSegment segment;
		gst_segment_init(&segment, GST_FORMAT_TIME);
		gst_pad_push_event(src, gst_event_new_segment(&segment));
	}

	~Driver()
	{
		for (GstBuffer *buffer : held)
			gst_buffer_unref(buffer);
		gst_element_set_state(element, GST_STATE_NULL);
		gst_pad_set_active(src, FALSE);
		gst_pad_set_active(sink, FALSE);
		gst_object_unref(src);
		gst_object_unref(sink);
		gst_object_unref(element);
		gst_caps_unref(outCaps);
	}

	/* Frames per second over @frames pushes of @inputs in turn. */
	double run(const std::vector<GstBuffer *> &inputs, int frames)
	{
		guint64 before = received;
		auto start = Clock::now();
		for (int i = 0; i < frames; i++) {
			GstBuffer *input = inputs[next++ % inputs.size()];
			if (gst_pad_push(src, gst_buffer_ref(input)) != GST_FLOW_OK) {
				fprintf(stderr, "push failed\n");
				exit(1);
			}
		}
		std::chrono::duration<double> elapsed = Clock::now() - start;
		if (received - before != static_cast<guint64>(frames)) {
			fprintf(stderr, "%d frames in, %" G_GUINT64_FORMAT " out\n", frames,
				received - before);
			exit(1);
		}
		return frames / elapsed.count();
	}
};

/* Random frames, as many as fill @bytes (at least two), each different. */
std::vector<GstBuffer *> randomFrames(const GstVideoInfo &info, std::size_t bytes)
{
	gsize size = GST_VIDEO_INFO_SIZE(&info);
	std::size_t count = std::max<std::size_t>(2, (bytes + size - 1) / size);
	std::vector<guint8> pattern(size);
	std::mt19937 random(7);
	for (guint8 &byte : pattern)
		byte = static_cast<guint8>(random());
	std::vector<GstBuffer *> frames;
	for (std::size_t n = 0; n < count; n++) {
		GstBuffer *buffer = gst_buffer_new_allocate(nullptr, size, nullptr);
		GstMapInfo map;
		gst_buffer_map(buffer, &map, GST_MAP_WRITE);
		std::memcpy(map.data, pattern.data(), size);
		for (gsize i = n % 4096; i < size; i += 4096)
			map.data[i] ^= static_cast<guint8>(n);
		gst_buffer_unmap(buffer, &map);
		frames.push_back(buffer);
	}
	return frames;
}

/* Every repetition's bandwidths, per thread count, for the
 * memory-bandwidth group. */
std::map<int, std::vector<bench::Bandwidth>> measuredBandwidths;

void runCase(const char *label, const char *from, const char *to, int width, int height,
	     int threads, bench::BandwidthMeter &meter)
{
	std::string dims = ",width=" + std::to_string(width) + ",height=" + std::to_string(height) +
			   ",framerate=30/1";
	GstCaps *in = gst_caps_from_string(("video/x-raw,format=" + std::string(from) + dims).c_str());
	GstCaps *out = gst_caps_from_string(("video/x-raw,format=" + std::string(to) + dims).c_str());
	GstVideoInfo inInfo, outInfo;
	gst_video_info_from_caps(&inInfo, in);
	gst_video_info_from_caps(&outInfo, out);
	const double inBytes = static_cast<double>(GST_VIDEO_INFO_SIZE(&inInfo));
	const double outBytes = static_cast<double>(GST_VIDEO_INFO_SIZE(&outInfo));
	/* Each side twice the last-level cache, as the bandwidth buffers. */
	std::vector<GstBuffer *> inputs = randomFrames(inInfo, meter.bytes());
	std::size_t hold = std::max<std::size_t>(2, (meter.bytes() + GST_VIDEO_INFO_SIZE(&outInfo) - 1) /
							 GST_VIDEO_INFO_SIZE(&outInfo));

	std::string n = std::to_string(threads);
	Driver zc("zcconvert n-threads=" + n, in, out, hold);
	Driver vc("videoconvert n-threads=" + n, in, out, hold);

	/* Warm up: pools grown to what the held outputs need, pages touched,
	 * threads started. */
	zc.run(inputs, static_cast<int>(hold) + 4);
	vc.run(inputs, static_cast<int>(hold) + 4);

	bool big = width * height > 4000000;
	int zcFrames = bench::slow() ? 3 : big ? 40 : 120;
	int vcFrames = bench::slow() ? 2 : big ? 8 : 30;
	std::vector<double> zcRates, vcRates, bounds, separate;
	for (int r = 0; r < (bench::slow() ? 2 : 7); r++) {
		zcRates.push_back(zc.run(inputs, zcFrames));
		vcRates.push_back(vc.run(inputs, vcFrames));
		bench::Bandwidth b = meter.measure(threads);
		measuredBandwidths[threads].push_back(b);
		separate.push_back(1.0 / (inBytes / b.read + outBytes / b.bestWrite()));
		bounds.push_back(meter.streamFramesPerSecond(threads, inBytes, outBytes));
	}

	std::string name =
		std::string(label) + " " + from + "->" + to + ", " + bench::threadsText(threads);
	bench::Measurement zcFps = bench::medianOf(zcRates), bound = bench::medianOf(bounds);
	bench::report("zcconvert", name, "zcconvert", zcFps, "frames/s", "higher");
	bench::report("zcconvert", name, "videoconvert", bench::medianOf(vcRates), "frames/s",
		      "higher");
	bench::report("zcconvert", name, "memory bound", bound, "frames/s", "higher",
		      bench::Role::Limit);
	bench::report("zcconvert", name, "separate read + write (no bound)",
		      bench::medianOf(separate), "frames/s", "higher");
	bench::report("zcconvert-memory-bound", name, "zcconvert / memory bound",
		      zcFps.value / bound.value, "fraction", "higher");
	bench::report("zcconvert-memory-bound", name, "zcconvert / separate read + write",
		      zcFps.value / bench::median(separate), "fraction", "higher");

	for (GstBuffer *input : inputs)
		gst_buffer_unref(input);
	gst_caps_unref(in);
	gst_caps_unref(out);
}

void reportBandwidths(std::size_t bytes)
{
	for (const auto &[threads, samples] : measuredBandwidths) {
		std::vector<double> read, regular, nonTemporal;
		for (const bench::Bandwidth &b : samples) {
			read.push_back(b.read / 1e9);
			regular.push_back(b.writeRegular / 1e9);
			nonTemporal.push_back(b.writeNonTemporal / 1e9);
		}
		std::string name = bench::threadsText(threads) + ", " + std::to_string(bytes >> 20) + " MiB";
		bench::report("memory-bandwidth", name, "read", bench::medianOf(read), "GB/s", "higher");
		bench::report("memory-bandwidth", name, "write, regular stores",
			      bench::medianOf(regular), "GB/s", "higher");
		if (nonTemporal.front() > 0)
			bench::report("memory-bandwidth", name, "write, non-temporal stores",
				      bench::medianOf(nonTemporal), "GB/s", "higher");
	}
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	std::size_t cache = bench::lastLevelCacheBytes();
	bench::BandwidthMeter meter(cache);
	fprintf(stderr, "last-level cache %zu KiB: frames and bandwidth buffers of %zu MiB\n",
		cache >> 10, meter.bytes() >> 20);
	for (int threads : { 1, 2 }) {
		runCase("4K", "NV12", "BGRx", 3840, 2160, threads, meter);
		runCase("1080p", "I420", "RGBA", 1920, 1080, threads, meter);
	}
	reportBandwidths(meter.bytes());
	gst_deinit();
	return 0;
}
