/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "video_compare.h"

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include <gst/check/gstharness.h>
#include <gst/zcbuf/gstzcbuf.h>

namespace zcbuf::test {

std::string videoCaps(const std::string &format, int width, int height, const std::string &extra)
{
	return "video/x-raw,format=" + format + ",width=" + std::to_string(width) +
	       ",height=" + std::to_string(height) + ",framerate=30/1" + extra;
}

GstBuffer *makeFrame(GstCaps *caps, Pattern pattern, unsigned seed)
{
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, caps))
		return nullptr;
	GstBuffer *buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
	std::mt19937 random(seed);
	if (pattern == Pattern::Noise) {
		GstMapInfo map;
		gst_buffer_map(buffer, &map, GST_MAP_WRITE);
		for (gsize i = 0; i < map.size; i++)
			map.data[i] = static_cast<guint8>(random());
		gst_buffer_unmap(buffer, &map);
		return buffer;
	}

	/* Smooth: 4-component lines in the unpack format, packed by the
	 * format's own pack function. */
	GstVideoFrame frame;
	gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE);
	const GstVideoFormatInfo *finfo = info.finfo;
	int width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
	std::vector<guint8> line(static_cast<size_t>(width) * 4 + 64);
	double phase = (seed % 7) * 0.3;
	for (int y = 0; y < height; y++) {
		for (int x = 0; x < width; x++) {
			guint8 *p = &line[static_cast<size_t>(x) * 4];
			p[0] = 255;
			p[1] = static_cast<guint8>(128 + 90 * std::sin(x * 0.031 + phase) *
								 std::cos(y * 0.027));
			p[2] = static_cast<guint8>(128 + 60 * std::sin(x * 0.017 + y * 0.021 + phase));
			p[3] = static_cast<guint8>(128 + 60 * std::cos(x * 0.023 - y * 0.013));
		}
		finfo->pack_func(finfo, GST_VIDEO_PACK_FLAG_NONE, line.data(), 0, frame.data,
				 frame.info.stride, info.chroma_site, y, width);
	}
	gst_video_frame_unmap(&frame);
	return buffer;
}

GstBuffer *convertOne(const std::string &element, const std::string &inCaps,
		      const std::string &outCaps, GstBuffer *input, GstCaps **negotiated)
{
	GstHarness *h = gst_harness_new_parse(element.c_str());
	gst_harness_set_src_caps_str(h, inCaps.c_str());
	gst_harness_set_sink_caps_str(h, outCaps.c_str());
	GstBuffer *output = nullptr;
	if (gst_harness_push(h, gst_buffer_ref(input)) == GST_FLOW_OK)
		output = gst_harness_try_pull(h);
	if (negotiated)
		*negotiated = gst_pad_get_current_caps(h->sinkpad);
	gst_harness_teardown(h);
	return output;
}

std::array<int, 4> maxDifference(GstCaps *caps, GstBuffer *a, GstBuffer *b)
{
	std::array<int, 4> worst{ -1, -1, -1, -1 };
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, caps))
		return worst;
	GstVideoFrame fa, fb;
	if (!gst_video_frame_map(&fa, &info, a, GST_MAP_READ))
		return worst;
	if (!gst_video_frame_map(&fb, &info, b, GST_MAP_READ)) {
		gst_video_frame_unmap(&fa);
		return worst;
	}
	worst = { 0, 0, 0, 0 };
	const GstVideoFormatInfo *finfo = info.finfo;
	int width = GST_VIDEO_INFO_WIDTH(&info);
	std::vector<guint8> la(static_cast<size_t>(width) * 4 + 64), lb(la.size());
	for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); y++) {
		finfo->unpack_func(finfo, GST_VIDEO_PACK_FLAG_NONE, la.data(), fa.data,
				   fa.info.stride, 0, y, width);
		finfo->unpack_func(finfo, GST_VIDEO_PACK_FLAG_NONE, lb.data(), fb.data,
				   fb.info.stride, 0, y, width);
		for (size_t i = 0; i < static_cast<size_t>(width) * 4; i++) {
			int d = std::abs(static_cast<int>(la[i]) - static_cast<int>(lb[i]));
			worst[i % 4] = std::max(worst[i % 4], d);
		}
	}
	gst_video_frame_unmap(&fb);
	gst_video_frame_unmap(&fa);
	return worst;
}

int maxOf(const std::array<int, 4> &d)
{
	return std::max(std::max(d[0], d[1]), std::max(d[2], d[3]));
}

std::string describe(const std::array<int, 4> &d)
{
	return "A " + std::to_string(d[0]) + ", Y/R " + std::to_string(d[1]) + ", U/G " +
	       std::to_string(d[2]) + ", V/B " + std::to_string(d[3]);
}

bool slowRun()
{
	const char *slow = std::getenv("ZCBUF_TEST_SLOW");
	return slow && slow[0] == '1';
}

RunResult runPipeline(GstElement *pipeline, int seconds)
{
	RunResult result;
	GstBus *bus = gst_element_get_bus(pipeline);
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) {
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, static_cast<GstClockTime>(seconds) * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		if (message && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS)
			result.eos = true;
		if (message && GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
			GError *error = nullptr;
			gchar *debug = nullptr;
			gst_message_parse_error(message, &error, &debug);
			result.error = error->message;
			result.debug = debug ? debug : "";
			g_clear_error(&error);
			g_free(debug);
		}
		if (!message)
			result.error = "timeout";
		if (message)
			gst_message_unref(message);
	} else {
		/* The error that failed the state change is on the bus. */
		GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
		if (message) {
			GError *error = nullptr;
			gchar *debug = nullptr;
			gst_message_parse_error(message, &error, &debug);
			result.error = error->message;
			result.debug = debug ? debug : "";
			g_clear_error(&error);
			g_free(debug);
			gst_message_unref(message);
		} else {
			result.error = "state change failed";
		}
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(bus);
	gst_object_unref(pipeline);
	return result;
}

bool allZcbuf(GstBuffer *buffer)
{
	guint n = gst_buffer_n_memory(buffer);
	for (guint i = 0; i < n; i++)
		if (!gst_is_zcbuf_memory(gst_buffer_peek_memory(buffer, i)))
			return false;
	return n > 0;
}

} /* namespace zcbuf::test */
