/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert against videoconvert: frames per second converting the same
 * input frame (random content, system memory) into each element's own
 * output pool, 4K NV12->BGRx and 1080p I420->RGBA, on 1 and 2 threads
 * (both elements' n-threads). The subjects alternate within every
 * repetition.
 *
 * The memory-bandwidth bound: a 64 MiB memcpy measured in the same run
 * gives bytes read plus written per second; a conversion must read its
 * input and write its output at least once, so bandwidth / (input bytes +
 * output bytes) is the most frames per second any converter can reach.
 * It is reported as a subject of its own ("memory bound", frames/s) and
 * zcconvert's fraction of it in the "zcconvert-memory-bound" group.
 *
 * The elements are driven like GstHarness does (pads of our own linked to
 * theirs, gst_pad_push() on this thread), so the time is the element's.
 */
#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gst/gst.h>
#include <gst/video/video.h>

#include "bench_output.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Driver {
	GstElement *element = nullptr;
	GstPad *src = nullptr, *sink = nullptr;
	GstCaps *outCaps = nullptr;
	guint64 received = 0;

	static GstFlowReturn chain(GstPad *pad, GstObject *, GstBuffer *buffer)
	{
		Driver *self = static_cast<Driver *>(gst_pad_get_element_private(pad));
		self->received++;
		gst_buffer_unref(buffer);
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

	Driver(const std::string &description, GstCaps *in, GstCaps *out)
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
		gst_element_set_state(element, GST_STATE_NULL);
		gst_pad_set_active(src, FALSE);
		gst_pad_set_active(sink, FALSE);
		gst_object_unref(src);
		gst_object_unref(sink);
		gst_object_unref(element);
		gst_caps_unref(outCaps);
	}

	/* Frames per second over @frames pushes of @input. */
	double run(GstBuffer *input, int frames)
	{
		guint64 before = received;
		auto start = Clock::now();
		for (int i = 0; i < frames; i++) {
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

/* Bytes read plus written per second by memcpy of 64 MiB (median). */
double memcpyBandwidth()
{
	const size_t size = 64u << 20;
	std::vector<unsigned char> a(size, 1), b(size, 2);
	std::memcpy(b.data(), a.data(), size);
	std::vector<double> rates;
	for (int i = 0; i < (bench::slow() ? 2 : 9); i++) {
		auto start = Clock::now();
		std::memcpy(i % 2 ? a.data() : b.data(), i % 2 ? b.data() : a.data(), size);
		std::chrono::duration<double> elapsed = Clock::now() - start;
		rates.push_back(2.0 * size / elapsed.count());
	}
	return bench::median(rates);
}

GstBuffer *randomFrame(const GstVideoInfo &info)
{
	GstBuffer *buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
	GstMapInfo map;
	gst_buffer_map(buffer, &map, GST_MAP_WRITE);
	std::mt19937 random(7);
	for (gsize i = 0; i < map.size; i++)
		map.data[i] = static_cast<guint8>(random());
	gst_buffer_unmap(buffer, &map);
	return buffer;
}

void runCase(const char *label, const char *from, const char *to, int width, int height,
	     int threads, double bandwidth)
{
	std::string dims = ",width=" + std::to_string(width) + ",height=" + std::to_string(height) +
			   ",framerate=30/1";
	GstCaps *in = gst_caps_from_string(("video/x-raw,format=" + std::string(from) + dims).c_str());
	GstCaps *out = gst_caps_from_string(("video/x-raw,format=" + std::string(to) + dims).c_str());
	GstVideoInfo inInfo, outInfo;
	gst_video_info_from_caps(&inInfo, in);
	gst_video_info_from_caps(&outInfo, out);
	GstBuffer *input = randomFrame(inInfo);

	std::string n = std::to_string(threads);
	Driver zc("zcconvert n-threads=" + n, in, out);
	Driver vc("videoconvert n-threads=" + n, in, out);

	/* Warm up: pools filled, pages touched, caches and threads started. */
	zc.run(input, 5);
	vc.run(input, 3);

	bool big = width * height > 4000000;
	int zcFrames = bench::slow() ? 3 : big ? 40 : 120;
	int vcFrames = bench::slow() ? 2 : big ? 8 : 30;
	std::vector<double> zcRates, vcRates;
	for (int r = 0; r < (bench::slow() ? 2 : 7); r++) {
		zcRates.push_back(zc.run(input, zcFrames));
		vcRates.push_back(vc.run(input, vcFrames));
	}

	std::string name = std::string(label) + " " + from + "->" + to + ", " + n +
			   (threads == 1 ? " thread" : " threads");
	double zcFps = bench::median(zcRates), vcFps = bench::median(vcRates);
	double bound = bandwidth / static_cast<double>(GST_VIDEO_INFO_SIZE(&inInfo) +
						       GST_VIDEO_INFO_SIZE(&outInfo));
	bench::report("zcconvert", name, "zcconvert", zcFps, "frames/s", "higher");
	bench::report("zcconvert", name, "videoconvert", vcFps, "frames/s", "higher");
	bench::report("zcconvert", name, "memory bound", bound, "frames/s", "higher");
	bench::report("zcconvert-memory-bound", name, "memory bound", zcFps / bound,
		      "fraction of the bound", "higher");

	gst_buffer_unref(input);
	gst_caps_unref(in);
	gst_caps_unref(out);
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	double bandwidth = memcpyBandwidth();
	fprintf(stderr, "memcpy: %.2f GB/s read + written\n", bandwidth / 1e9);
	for (int threads : { 1, 2 }) {
		runCase("4K", "NV12", "BGRx", 3840, 2160, threads, bandwidth);
		runCase("1080p", "I420", "RGBA", 1920, 1080, threads, bandwidth);
	}
	gst_deinit();
	return 0;
}
