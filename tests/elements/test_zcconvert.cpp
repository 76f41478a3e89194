/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert against videoconvert and videoscale on the same input, and as a
 * zcbuf element: passthrough, threads, renegotiation, flushing, bad input,
 * upstream decoders writing into its pool, its output memory.
 */
#include <gst/allocators/allocators.h>
#include <gst/app/gstappsink.h>
#include <gst/base/gstbasetransform.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbufcopy.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <dirent.h>
#include <sys/wait.h>
#include <tuple>
#include <vector>

#include <gst/zcbuf/gstzcbuf.h>
#include <zcbuf/statistics.h>

#include "backend_test.h"
#include "leak_checked_test.h"
#include "video_compare.h"

using namespace zcbuf;
using test::Pattern;

namespace {

/* Every format zcconvert takes, the decoders' 4:2:2 and 4:4:4 included. */
const std::vector<std::string> kFormats = { "NV12", "I420", "Y42B", "Y444", "YUY2", "UYVY",
					    "BGRx", "RGBx", "BGRA", "RGBA", "GRAY8" };

/* The promise: within this many levels of videoconvert, every component. */
constexpr int kConvertTolerance = 2;
/* Measured, documented in docs/elements/zcconvert.md: libyuv's bilinear
 * filter against videoscale method=bilinear on smooth content, alone and
 * after or before a conversion (videoconvert ! videoscale). */
constexpr int kScaleTolerance = 4;
constexpr int kConvertScaleTolerance = 6;

bool isYuv(const std::string &format)
{
	return format != "GRAY8" && format.find("RGB") == std::string::npos &&
	       format.find("BGR") == std::string::npos;
}

std::string capsString(GstCaps *caps)
{
	gchar *text = gst_caps_to_string(caps);
	std::string s = text;
	g_free(text);
	return s;
}

/* One size and colorimetry to convert at; the extras apply to YUV caps. */
struct Case {
	int width, height;
	std::string yuvExtra;
};

std::vector<Case> conversionCases()
{
	if (test::slowRun())
		return { { 33, 17, "" }, { 1, 1, "" }, { 18, 10, ",colorimetry=bt709,chroma-site=mpeg2" } };
	return {
		{ 64, 48, "" }, /* SD defaults: BT.601, centred chroma */
		{ 33, 17, "" }, /* odd sizes */
		{ 1, 1, "" },
		{ 2, 2, "" },
		{ 1280, 720, "" }, /* HD defaults: BT.709, cosited chroma */
		{ 35, 23, ",colorimetry=bt709,chroma-site=mpeg2" },
		{ 34, 22, ",colorimetry=1:4:0:0,chroma-site=jpeg" }, /* full-range BT.601 */
		{ 31, 19, ",colorimetry=bt2020" },
	};
}

/* Converts @input (of @inCaps) with zcconvert and videoconvert to the caps
 * zcconvert negotiates from @outCaps; returns the largest difference. */
std::array<int, 4> compareWithVideoconvert(const std::string &inCaps, const std::string &outCaps,
					   GstBuffer *input, const std::string &zcconvert,
					   std::string &negotiatedText, bool &zcbufOutput)
{
	GstCaps *negotiated = nullptr;
	GstBuffer *ours = test::convertOne(zcconvert, inCaps, outCaps, input, &negotiated);
	std::array<int, 4> diff{ -1, -1, -1, -1 };
	zcbufOutput = false;
	if (!ours || !negotiated) {
		if (ours)
			gst_buffer_unref(ours);
		if (negotiated)
			gst_caps_unref(negotiated);
		return diff;
	}
	negotiatedText = capsString(negotiated);
	zcbufOutput = test::allZcbuf(ours);
	GstBuffer *reference = test::convertOne("videoconvert", inCaps, negotiatedText, input);
	if (reference) {
		diff = test::maxDifference(negotiated, ours, reference);
		gst_buffer_unref(reference);
	}
	gst_buffer_unref(ours);
	gst_caps_unref(negotiated);
	return diff;
}

class ConvertPair : public test::LeakCheckedTest,
		    public ::testing::WithParamInterface<std::tuple<std::string, std::string>>
{
};

TEST_P(ConvertPair, WithinTwoLevelsOfVideoconvert)
{
	const auto &[from, to] = GetParam();
	for (const Case &c : conversionCases()) {
		std::string inCaps = test::videoCaps(from, c.width, c.height,
						     isYuv(from) ? c.yuvExtra : "");
		std::string outCaps = test::videoCaps(to, c.width, c.height, isYuv(to) ? c.yuvExtra : "");
		GstCaps *caps = gst_caps_from_string(inCaps.c_str());
		GstBuffer *input = test::makeFrame(caps, Pattern::Noise, c.width * 31 + c.height);
		gst_caps_unref(caps);
		std::string negotiated;
		bool zcbufOutput = false;
		std::array<int, 4> d =
			compareWithVideoconvert(inCaps, outCaps, input, "zcconvert", negotiated, zcbufOutput);
		gst_buffer_unref(input);
		SCOPED_TRACE(inCaps + " -> " + negotiated);
		ASSERT_GE(test::maxOf(d), 0) << "no output from zcconvert or videoconvert";
		EXPECT_LE(test::maxOf(d), kConvertTolerance) << test::describe(d);
		EXPECT_TRUE(zcbufOutput) << "the output is not zcbuf memory";
		RecordProperty(std::to_string(c.width) + "x" + std::to_string(c.height) + c.yuvExtra,
			       test::maxOf(d));
	}
}

std::vector<std::tuple<std::string, std::string>> differentPairs()
{
	std::vector<std::tuple<std::string, std::string>> pairs;
	for (const std::string &a : kFormats)
		for (const std::string &b : kFormats)
			if (a != b)
				pairs.emplace_back(a, b);
	return pairs;
}

INSTANTIATE_TEST_SUITE_P(AllPairs, ConvertPair, ::testing::ValuesIn(differentPairs()),
			 [](const auto &info) {
				 return std::get<0>(info.param) + "_to_" + std::get<1>(info.param);
			 });

class Zcconvert : public test::LeakCheckedTest
{
};

/* BT.601 and BT.709 give different RGB, and each matches videoconvert. */
TEST_F(Zcconvert, ColourMatrixFollowsTheCaps)
{
	std::string base = test::videoCaps("I420", 64, 48);
	std::string out = test::videoCaps("BGRx", 64, 48);
	GstCaps *caps = gst_caps_from_string(base.c_str());
	GstBuffer *input = test::makeFrame(caps, Pattern::Smooth, 3);
	gst_caps_unref(caps);

	GstBuffer *results[2] = {};
	const char *matrices[2] = { ",colorimetry=bt601", ",colorimetry=bt709" };
	for (int i = 0; i < 2; i++) {
		std::string inCaps = base + matrices[i];
		std::string negotiated;
		bool zcbufOutput;
		std::array<int, 4> d =
			compareWithVideoconvert(inCaps, out, input, "zcconvert", negotiated, zcbufOutput);
		EXPECT_LE(test::maxOf(d), kConvertTolerance) << matrices[i] << ": " << test::describe(d);
		results[i] = test::convertOne("zcconvert", inCaps, out, input);
		ASSERT_NE(results[i], nullptr);
	}
	GstCaps *outCaps = gst_caps_from_string(out.c_str());
	std::array<int, 4> between = test::maxDifference(outCaps, results[0], results[1]);
	gst_caps_unref(outCaps);
	/* Saturated chroma differs by tens of levels between the two. */
	EXPECT_GE(test::maxOf(between), 10) << "BT.601 and BT.709 gave the same colours";
	gst_buffer_unref(results[0]);
	gst_buffer_unref(results[1]);
	gst_buffer_unref(input);
}

/* A YUV matrix or range change without a format change is a conversion too. */
TEST_F(Zcconvert, SameFormatOtherColorimetry)
{
	for (const std::string &format : { std::string("I420"), std::string("NV12"), std::string("YUY2") }) {
		std::string inCaps = test::videoCaps(format, 40, 30, ",colorimetry=bt601");
		std::string outCaps = test::videoCaps(format, 40, 30, ",colorimetry=bt709");
		GstCaps *caps = gst_caps_from_string(inCaps.c_str());
		GstBuffer *input = test::makeFrame(caps, Pattern::Noise, 5);
		gst_caps_unref(caps);
		std::string negotiated;
		bool zcbufOutput;
		std::array<int, 4> d =
			compareWithVideoconvert(inCaps, outCaps, input, "zcconvert", negotiated, zcbufOutput);
		EXPECT_GE(test::maxOf(d), 0) << format;
		EXPECT_LE(test::maxOf(d), kConvertTolerance) << format << ": " << test::describe(d);
		gst_buffer_unref(input);
	}
}

TEST_F(Zcconvert, Huge8KFrame)
{
	int width = test::slowRun() ? 1920 : 7680, height = test::slowRun() ? 1080 : 4320;
	std::string inCaps = test::videoCaps("NV12", width, height);
	std::string outCaps = test::videoCaps("BGRx", width, height);
	GstCaps *caps = gst_caps_from_string(inCaps.c_str());
	GstBuffer *input = test::makeFrame(caps, Pattern::Noise, 8);
	gst_caps_unref(caps);
	std::string negotiated;
	bool zcbufOutput;
	std::array<int, 4> d = compareWithVideoconvert(inCaps, outCaps, input, "zcconvert n-threads=2",
						       negotiated, zcbufOutput);
	gst_buffer_unref(input);
	EXPECT_GE(test::maxOf(d), 0);
	EXPECT_LE(test::maxOf(d), kConvertTolerance) << test::describe(d);
	EXPECT_TRUE(zcbufOutput);
}

struct ScaleCase {
	int inW, inH, outW, outH;
};

/* Same format, other size: compared with videoscale method=bilinear. */
TEST_F(Zcconvert, ScalingCloseToVideoscaleBilinear)
{
	std::vector<ScaleCase> cases = { { 64, 48, 32, 24 },
					 { 64, 48, 128, 96 },
					 { 333, 217, 101, 77 },
					 { 100, 100, 357, 211 },
					 { 7, 5, 1, 1 } };
	if (test::slowRun())
		cases = { { 64, 48, 32, 24 }, { 33, 17, 50, 31 } };
	int worst = 0;
	for (const std::string &format : kFormats) {
		for (const ScaleCase &s : cases) {
			std::string inCaps = test::videoCaps(format, s.inW, s.inH);
			std::string outCaps = test::videoCaps(format, s.outW, s.outH);
			GstCaps *caps = gst_caps_from_string(inCaps.c_str());
			GstBuffer *input = test::makeFrame(caps, Pattern::Smooth, 11);
			gst_caps_unref(caps);
			GstBuffer *ours = test::convertOne("zcconvert", inCaps, outCaps, input);
			GstBuffer *reference =
				test::convertOne("videoscale method=bilinear", inCaps, outCaps, input);
			SCOPED_TRACE(inCaps + " -> " + outCaps);
			ASSERT_NE(ours, nullptr);
			ASSERT_NE(reference, nullptr);
			EXPECT_TRUE(test::allZcbuf(ours));
			GstCaps *out = gst_caps_from_string(outCaps.c_str());
			std::array<int, 4> d = test::maxDifference(out, ours, reference);
			gst_caps_unref(out);
			EXPECT_GE(test::maxOf(d), 0);
			EXPECT_LE(test::maxOf(d), kScaleTolerance) << test::describe(d);
			worst = std::max(worst, test::maxOf(d));
			gst_buffer_unref(ours);
			gst_buffer_unref(reference);
			gst_buffer_unref(input);
		}
	}
	RecordProperty("worst", worst);
}

/* One frame of @format filled with @argb by videotestsrc (its own colour
 * conversion, the same at every size). */
GstBuffer *solidFrame(const std::string &format, int width, int height, guint32 argb)
{
	std::string description = "videotestsrc num-buffers=1 pattern=solid-color foreground-color=" +
				  std::to_string(argb) + " ! " + test::videoCaps(format, width, height) +
				  " ! appsink name=sink";
	GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
	if (!pipeline)
		return nullptr;
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
	GstBuffer *buffer = sample ? gst_buffer_copy_deep(gst_sample_get_buffer(sample)) : nullptr;
	if (sample)
		gst_sample_unref(sample);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	/* videotestsrc leaves the V (and the padding luma) of an odd-width
	 * packed 4:2:2 row's last pair at 0, so its last column is not the
	 * colour: that pair is made a copy of the first. */
	if (buffer && width % 2 && (format == "YUY2" || format == "UYVY")) {
		GstMapInfo map;
		if (gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
			const gsize stride = GST_ROUND_UP_4(static_cast<gsize>(width) * 2);
			for (int y = 0; y < height; y++)
				std::memcpy(map.data + y * stride + (width / 2) * 4, map.data + y * stride, 4);
			gst_buffer_unmap(buffer, &map);
		}
	}
	return buffer;
}

/* The components (A, Y/R, U/G, V/B as GStreamer unpacks them) of every
 * pixel of @buffer, a frame of @capsText. */
std::vector<std::array<int, 4>> pixelsOf(const std::string &capsText, GstBuffer *buffer)
{
	std::vector<std::array<int, 4>> pixels;
	GstVideoInfo info;
	GstCaps *caps = gst_caps_from_string(capsText.c_str());
	bool ok = gst_video_info_from_caps(&info, caps);
	gst_caps_unref(caps);
	GstVideoFrame frame;
	if (!ok || !gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ)) {
		ADD_FAILURE() << "cannot map a frame of " << capsText;
		return pixels;
	}
	int width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
	std::vector<guint8> line(static_cast<size_t>(width) * 4 + 64);
	for (int y = 0; y < height; y++) {
		info.finfo->unpack_func(info.finfo, GST_VIDEO_PACK_FLAG_NONE, line.data(), frame.data,
					frame.info.stride, 0, y, width);
		for (int x = 0; x < width; x++)
			pixels.push_back({ line[4 * x], line[4 * x + 1], line[4 * x + 2], line[4 * x + 3] });
	}
	gst_video_frame_unmap(&frame);
	return pixels;
}

/* Flat colour stays exactly that colour at any size, in every format, alpha
 * included, as videoscale keeps it (libyuv's ARGBScale and UVScale made
 * white 253 and grey chroma 127, its 3/8 box 254). */
TEST_F(Zcconvert, ScalingKeepsFlatColourExactly)
{
	std::vector<ScaleCase> cases = { { 4, 4, 8, 8 },	{ 64, 48, 32, 24 },  { 64, 48, 24, 18 },
					 { 60, 45, 20, 15 },	{ 64, 48, 16, 12 },  { 64, 48, 48, 36 },
					 { 333, 217, 101, 77 }, { 100, 100, 357, 211 }, { 8, 6, 1, 1 },
					 { 33, 17, 50, 31 } };
	std::vector<guint32> colours = { 0xffffffffu, 0x80336699u, 0xff000000u };
	if (test::slowRun()) {
		cases = { { 4, 4, 8, 8 }, { 64, 48, 24, 18 }, { 33, 17, 50, 31 } };
		colours = { 0x80336699u };
	}
	for (const std::string &format : kFormats) {
		for (guint32 argb : colours) {
			for (const ScaleCase &c : cases) {
				std::string inCaps = test::videoCaps(format, c.inW, c.inH);
				std::string outCaps = test::videoCaps(format, c.outW, c.outH);
				SCOPED_TRACE(inCaps + " -> " + outCaps + " colour " + std::to_string(argb));
				GstBuffer *input = solidFrame(format, c.inW, c.inH, argb);
				ASSERT_NE(input, nullptr);
				GstBuffer *ours = test::convertOne("zcconvert", inCaps, outCaps, input);
				ASSERT_NE(ours, nullptr);
				std::array<int, 4> colour = pixelsOf(inCaps, input).at(0);
				/* The premise: every input pixel is the colour. */
				for (const std::array<int, 4> &p : pixelsOf(inCaps, input))
					ASSERT_EQ(p, colour) << "the input frame is not flat";
				int worst = 0;
				for (const std::array<int, 4> &p : pixelsOf(outCaps, ours))
					for (int i = 0; i < 4; i++)
						worst = std::max(worst, std::abs(p[i] - colour[i]));
				EXPECT_EQ(worst, 0);
				gst_buffer_unref(ours);
				gst_buffer_unref(input);
			}
		}
	}
}

/* The case byte for byte: a white BGRA 4x4 enlarged to 8x8 is
 * 0xff in every byte, as videoscale writes it. */
TEST_F(Zcconvert, WhiteBgraEnlargedStaysWhite)
{
	GstBuffer *input = solidFrame("BGRA", 4, 4, 0xffffffffu);
	ASSERT_NE(input, nullptr);
	for (const char *element : { "zcconvert", "videoscale" }) {
		GstBuffer *out = test::convertOne(element, test::videoCaps("BGRA", 4, 4),
						  test::videoCaps("BGRA", 8, 8), input);
		ASSERT_NE(out, nullptr) << element;
		GstMapInfo map;
		ASSERT_TRUE(gst_buffer_map(out, &map, GST_MAP_READ));
		ASSERT_GE(map.size, 8u * 8u * 4u);
		int notWhite = 0;
		for (gsize i = 0; i < 8u * 8u * 4u; i++)
			notWhite += map.data[i] != 0xff;
		EXPECT_EQ(notWhite, 0) << element << ": first byte " << int(map.data[0]);
		gst_buffer_unmap(out, &map);
		gst_buffer_unref(out);
	}
	gst_buffer_unref(input);
}

/* Forced dimensions that change the display aspect ratio: zcconvert
 * stretches the picture over the whole output (its page says so), where
 * videoscale's default adds black borders. */
TEST_F(Zcconvert, ForcedSizeStretchesWithoutBorders)
{
	std::string inCaps = test::videoCaps("BGRx", 64, 48, ",pixel-aspect-ratio=1/1");
	std::string outCaps = test::videoCaps("BGRx", 64, 64, ",pixel-aspect-ratio=1/1");
	GstBuffer *input = solidFrame("BGRx", 64, 48, 0xffffffffu);
	ASSERT_NE(input, nullptr);
	auto rowIsWhite = [](GstBuffer *buffer, int row) {
		GstMapInfo map;
		if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
			return false;
		bool white = true;
		for (int x = 0; x < 64 * 4; x++)
			white = white && (x % 4 == 3 || map.data[row * 64 * 4 + x] == 0xff);
		gst_buffer_unmap(buffer, &map);
		return white;
	};
	GstBuffer *ours = test::convertOne("zcconvert", inCaps, outCaps, input);
	ASSERT_NE(ours, nullptr);
	EXPECT_TRUE(rowIsWhite(ours, 0)) << "zcconvert added a border at the top";
	EXPECT_TRUE(rowIsWhite(ours, 63)) << "zcconvert added a border at the bottom";
	GstBuffer *scaled = test::convertOne("videoscale", inCaps, outCaps, input);
	ASSERT_NE(scaled, nullptr);
	EXPECT_FALSE(rowIsWhite(scaled, 0)) << "videoscale no longer adds borders";
	EXPECT_TRUE(rowIsWhite(scaled, 32));
	gst_buffer_unref(scaled);
	gst_buffer_unref(ours);
	gst_buffer_unref(input);
}

/* Conversion and scaling in one element against videoconvert ! videoscale. */
TEST_F(Zcconvert, ConvertAndScale)
{
	struct Job {
		std::string from, to;
		ScaleCase size;
	};
	std::vector<Job> jobs = { { "NV12", "BGRx", { 640, 360, 320, 180 } },
				  { "I420", "RGBA", { 160, 120, 321, 241 } },
				  { "BGRx", "NV12", { 200, 100, 100, 50 } },
				  { "YUY2", "I420", { 64, 48, 96, 72 } } };
	int worst = 0;
	for (const Job &job : jobs) {
		std::string inCaps = test::videoCaps(job.from, job.size.inW, job.size.inH);
		std::string outCaps = test::videoCaps(job.to, job.size.outW, job.size.outH);
		GstCaps *caps = gst_caps_from_string(inCaps.c_str());
		GstBuffer *input = test::makeFrame(caps, Pattern::Smooth, 13);
		gst_caps_unref(caps);
		GstBuffer *ours = test::convertOne("zcconvert", inCaps, outCaps, input);
		GstBuffer *reference = test::convertOne("videoconvert ! videoscale method=bilinear",
							inCaps, outCaps, input);
		SCOPED_TRACE(inCaps + " -> " + outCaps);
		ASSERT_NE(ours, nullptr);
		ASSERT_NE(reference, nullptr);
		GstCaps *out = gst_caps_from_string(outCaps.c_str());
		std::array<int, 4> d = test::maxDifference(out, ours, reference);
		gst_caps_unref(out);
		EXPECT_GE(test::maxOf(d), 0);
		EXPECT_LE(test::maxOf(d), kConvertScaleTolerance) << test::describe(d);
		worst = std::max(worst, test::maxOf(d));
		gst_buffer_unref(ours);
		gst_buffer_unref(reference);
		gst_buffer_unref(input);
	}
	RecordProperty("worst", worst);
}

/* Matching caps: the very buffer that came in goes out, and no zcbuf
 * buffer is allocated for it. */
TEST_F(Zcconvert, PassthroughForwardsTheSameBuffer)
{
	for (const std::string &format : kFormats) {
		std::string caps = test::videoCaps(format, 32, 24);
		GstHarness *h = gst_harness_new("zcconvert");
		gst_harness_set_src_caps_str(h, caps.c_str());
		gst_harness_set_sink_caps_str(h, caps.c_str());
		GstCaps *c = gst_caps_from_string(caps.c_str());
		GstBuffer *frame = test::makeFrame(c, Pattern::Noise, 2);
		gst_caps_unref(c);
		/* The frame in zcbuf memory, so that a map on the way through
		 * would be counted as an access. */
		GError *error = nullptr;
		GstAllocator *allocator = gst_zcbuf_allocator_new("memfd", &error);
		ASSERT_NE(allocator, nullptr) << error->message;
		GstBuffer *input = gst_buffer_new_allocate(allocator, gst_buffer_get_size(frame),
							   nullptr);
		gst_object_unref(allocator);
		ASSERT_NE(input, nullptr);
		std::vector<std::uint8_t> bytes(gst_buffer_get_size(frame));
		gst_buffer_extract(frame, 0, bytes.data(), bytes.size());
		gst_buffer_fill(input, 0, bytes.data(), bytes.size());
		gst_buffer_unref(frame);
		ASSERT_TRUE(gst_is_zcbuf_memory(gst_buffer_peek_memory(input, 0)));
		BackendStatistics before = statistics().total();
		ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(input)), GST_FLOW_OK);
		GstBuffer *output = gst_harness_pull(h);
		BackendStatistics after = statistics().total();
		EXPECT_EQ(output, input) << format;
		EXPECT_TRUE(gst_base_transform_is_passthrough(GST_BASE_TRANSFORM(h->element)));
		EXPECT_EQ(after.allocations, before.allocations) << "passthrough allocated";
		EXPECT_EQ(after.accesses, before.accesses) << "passthrough mapped zcbuf memory";
		gst_buffer_unref(output);
		gst_buffer_unref(input);
		gst_harness_teardown(h);
	}
}

/* 1, 2 and 4 threads give the same bytes, bands and planes alike. */
/* The names of this process's threads (/proc/self/task/N/comm). */
std::multiset<std::string> threadNames()
{
	std::multiset<std::string> names;
	DIR *tasks = opendir("/proc/self/task");
	if (!tasks)
		return names;
	while (struct dirent *task = readdir(tasks)) {
		if (task->d_name[0] == '.')
			continue;
		std::ifstream comm(std::string("/proc/self/task/") + task->d_name + "/comm");
		std::string name;
		std::getline(comm, name);
		names.insert(name);
	}
	closedir(tasks);
	return names;
}

/* n-threads is not ignored: converting with n-threads=N starts N-1
 * conversion threads beside the streaming thread (BandRunner's own test,
 * BandsRunOnSeveralThreads, shows bands running on them at once), and they
 * go with the element. */
TEST_F(Zcconvert, NThreadsStartsThatManyConversionThreads)
{
	std::string inCaps = test::videoCaps("NV12", 320, 240);
	GstCaps *caps = gst_caps_from_string(inCaps.c_str());
	GstBuffer *input = test::makeFrame(caps, Pattern::Noise, 3);
	gst_caps_unref(caps);
	for (int threads : { 1, 2, 4 }) {
		GstHarness *h = gst_harness_new_parse(
			("zcconvert n-threads=" + std::to_string(threads)).c_str());
		gst_harness_set_src_caps_str(h, inCaps.c_str());
		gst_harness_set_sink_caps_str(h, test::videoCaps("BGRx", 320, 240).c_str());
		ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(input)), GST_FLOW_OK);
		GstBuffer *out = gst_harness_pull(h);
		ASSERT_NE(out, nullptr);
		gst_buffer_unref(out);
		std::multiset<std::string> names = threadNames();
		std::string all;
		for (const std::string &name : names)
			all += name + " ";
		for (int worker = 1; worker < threads; worker++)
			EXPECT_EQ(names.count("zcconvert-" + std::to_string(worker)), 1u)
				<< threads << " threads, worker " << worker << "; threads: " << all;
		EXPECT_EQ(names.count("zcconvert-" + std::to_string(threads)), 0u) << threads;
		gst_harness_teardown(h);
		/* The element goes with its last reference, which a streaming
		 * thread may drop a moment after the teardown, and its workers
		 * end one after the other: up to 2 s for all of them (waiting
		 * for the first alone let the second be seen, once in CI). */
		auto anyWorker = [&](const std::multiset<std::string> &now) {
			for (int worker = 1; worker < threads; worker++)
				if (now.count("zcconvert-" + std::to_string(worker)))
					return true;
			return false;
		};
		for (int i = 0; i < 200; i++) {
			names = threadNames();
			if (!anyWorker(names))
				break;
			g_usleep(10000);
		}
		for (int worker = 1; worker < threads; worker++)
			EXPECT_EQ(names.count("zcconvert-" + std::to_string(worker)), 0u)
				<< "worker " << worker << " outlived the element";
	}
	gst_buffer_unref(input);
}

TEST_F(Zcconvert, ThreadsGiveIdenticalOutput)
{
	struct Job {
		std::string from, to;
		ScaleCase size;
	};
	std::vector<Job> jobs = { { "NV12", "BGRx", { 333, 217, 333, 217 } },
				  { "I420", "RGBA", { 97, 61, 97, 61 } },
				  { "BGRA", "NV12", { 101, 33, 101, 33 } },
				  { "NV12", "YUY2", { 57, 45, 57, 45 } },
				  { "YUY2", "I420", { 64, 31, 64, 31 } },
				  { "I420", "I420", { 320, 240, 161, 121 } },
				  { "NV12", "RGBx", { 320, 240, 100, 70 } } };
	for (const Job &job : jobs) {
		std::string inCaps = test::videoCaps(job.from, job.size.inW, job.size.inH);
		std::string outCaps = test::videoCaps(job.to, job.size.outW, job.size.outH);
		GstCaps *caps = gst_caps_from_string(inCaps.c_str());
		GstBuffer *input = test::makeFrame(caps, Pattern::Noise, 21);
		gst_caps_unref(caps);
		GstBuffer *single = test::convertOne("zcconvert n-threads=1", inCaps, outCaps, input);
		ASSERT_NE(single, nullptr);
		GstCaps *out = gst_caps_from_string(outCaps.c_str());
		for (int threads : { 2, 4 }) {
			GstBuffer *multi = test::convertOne(
				"zcconvert n-threads=" + std::to_string(threads), inCaps, outCaps, input);
			ASSERT_NE(multi, nullptr);
			std::array<int, 4> d = test::maxDifference(out, single, multi);
			EXPECT_EQ(test::maxOf(d), 0)
				<< inCaps << " -> " << outCaps << " on " << threads << " threads";
			gst_buffer_unref(multi);
		}
		gst_caps_unref(out);
		gst_buffer_unref(single);
		gst_buffer_unref(input);
	}
}

/* New input caps mid-stream: a new plan, right pixels on both sides. */
TEST_F(Zcconvert, RenegotiatesMidStream)
{
	GstHarness *h = gst_harness_new("zcconvert");
	gst_harness_set_sink_caps_str(h, "video/x-raw,format=BGRx");
	struct Step {
		std::string format;
		int width, height;
	};
	for (const Step &step : { Step{ "NV12", 64, 48 }, Step{ "NV12", 32, 20 },
				  Step{ "I420", 32, 20 }, Step{ "YUY2", 48, 36 } }) {
		std::string inCaps = test::videoCaps(step.format, step.width, step.height);
		gst_harness_set_src_caps_str(h, inCaps.c_str());
		GstCaps *caps = gst_caps_from_string(inCaps.c_str());
		GstBuffer *input = test::makeFrame(caps, Pattern::Noise, 4);
		gst_caps_unref(caps);
		ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(input)), GST_FLOW_OK) << inCaps;
		GstBuffer *output = gst_harness_pull(h);
		ASSERT_NE(output, nullptr);
		GstCaps *negotiated = gst_pad_get_current_caps(h->sinkpad);
		std::string outCaps = capsString(negotiated);
		GstVideoInfo info;
		ASSERT_TRUE(gst_video_info_from_caps(&info, negotiated));
		EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), step.width);
		EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), step.height);
		GstBuffer *reference = test::convertOne("videoconvert", inCaps, outCaps, input);
		ASSERT_NE(reference, nullptr);
		std::array<int, 4> d = test::maxDifference(negotiated, output, reference);
		EXPECT_GE(test::maxOf(d), 0);
		EXPECT_LE(test::maxOf(d), kConvertTolerance) << inCaps << ": " << test::describe(d);
		gst_caps_unref(negotiated);
		gst_buffer_unref(reference);
		gst_buffer_unref(output);
		gst_buffer_unref(input);
	}
	gst_harness_teardown(h);
}

/* Frames before and after a flush come out, and so does EOS. */
TEST_F(Zcconvert, FlushAndEos)
{
	GstHarness *h = gst_harness_new("zcconvert");
	std::string inCaps = test::videoCaps("NV12", 32, 24);
	gst_harness_set_src_caps_str(h, inCaps.c_str());
	gst_harness_set_sink_caps_str(h, test::videoCaps("RGBA", 32, 24).c_str());
	GstCaps *caps = gst_caps_from_string(inCaps.c_str());
	auto push = [&](int count) {
		for (int i = 0; i < count; i++) {
			GstBuffer *frame = test::makeFrame(caps, Pattern::Noise, static_cast<unsigned>(i));
			GST_BUFFER_PTS(frame) = i * GST_SECOND / 30;
			ASSERT_EQ(gst_harness_push(h, frame), GST_FLOW_OK);
		}
	};
	push(3);
	EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
	EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
	GstSegment segment;
	gst_segment_init(&segment, GST_FORMAT_TIME);
	EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&segment)));
	push(2);
	EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
	gst_caps_unref(caps);

	EXPECT_EQ(gst_harness_buffers_received(h), 5u);
	bool eos = false, flushStop = false;
	while (GstEvent *event = gst_harness_try_pull_event(h)) {
		eos |= GST_EVENT_TYPE(event) == GST_EVENT_EOS;
		flushStop |= GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP;
		gst_event_unref(event);
	}
	EXPECT_TRUE(eos);
	EXPECT_TRUE(flushStop);
	gst_harness_teardown(h);
}

/* An empty buffer is a gap: nothing converted, a GAP event with its time. */
TEST_F(Zcconvert, ZeroSizeBufferBecomesAGap)
{
	GstHarness *h = gst_harness_new("zcconvert");
	gst_harness_set_src_caps_str(h, test::videoCaps("NV12", 32, 24).c_str());
	gst_harness_set_sink_caps_str(h, test::videoCaps("BGRx", 32, 24).c_str());
	GstBuffer *empty = gst_buffer_new();
	GST_BUFFER_PTS(empty) = 5 * GST_SECOND;
	GST_BUFFER_DURATION(empty) = GST_SECOND / 30;
	EXPECT_EQ(gst_harness_push(h, empty), GST_FLOW_OK);
	EXPECT_EQ(gst_harness_try_pull(h), nullptr);
	bool gap = false;
	while (GstEvent *event = gst_harness_try_pull_event(h)) {
		if (GST_EVENT_TYPE(event) == GST_EVENT_GAP) {
			GstClockTime ts, duration;
			gst_event_parse_gap(event, &ts, &duration);
			EXPECT_EQ(ts, 5 * GST_SECOND);
			EXPECT_EQ(duration, GST_SECOND / 30);
			gap = true;
		}
		gst_event_unref(event);
	}
	EXPECT_TRUE(gap);
	gst_harness_teardown(h);
}

/* An empty buffer without a time: dropped, no GAP (it would have no time),
 * no critical. */
TEST_F(Zcconvert, ZeroSizeBufferWithoutTimeIsDropped)
{
	GstHarness *h = gst_harness_new("zcconvert");
	gst_harness_set_src_caps_str(h, test::videoCaps("NV12", 32, 24).c_str());
	gst_harness_set_sink_caps_str(h, test::videoCaps("BGRx", 32, 24).c_str());
	EXPECT_EQ(gst_harness_push(h, gst_buffer_new()), GST_FLOW_OK);
	EXPECT_EQ(gst_harness_try_pull(h), nullptr);
	while (GstEvent *event = gst_harness_try_pull_event(h)) {
		EXPECT_NE(GST_EVENT_TYPE(event), GST_EVENT_GAP);
		gst_event_unref(event);
	}
	gst_harness_teardown(h);
}

/* Pushes @frame into zcconvert (32x24 NV12 to BGRx), which must fail it
 * with an error message; returns that message's debug text. */
std::string errorForFrame(GstBuffer *frame)
{
	GstHarness *h = gst_harness_new("zcconvert");
	GstBus *bus = gst_bus_new();
	gst_element_set_bus(h->element, bus);
	gst_harness_set_src_caps_str(h, test::videoCaps("NV12", 32, 24).c_str());
	gst_harness_set_sink_caps_str(h, test::videoCaps("BGRx", 32, 24).c_str());
	EXPECT_EQ(gst_harness_push(h, frame), GST_FLOW_ERROR);
	if (GstBuffer *out = gst_harness_try_pull(h)) {
		ADD_FAILURE() << "a frame came out";
		gst_buffer_unref(out);
	}
	std::string text;
	if (GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
		GError *error = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_error(message, &error, &debug);
		text = debug ? debug : "";
		g_clear_error(&error);
		g_free(debug);
		gst_message_unref(message);
	} else {
		ADD_FAILURE() << "no error message";
	}
	gst_element_set_bus(h->element, nullptr);
	gst_object_unref(bus);
	gst_harness_teardown(h);
	return text;
}

/* A buffer too small for its caps is an error that says so. */
TEST_F(Zcconvert, TruncatedFrameIsAnError)
{
	GstBuffer *half = gst_buffer_new_allocate(nullptr, 32 * 24 * 3 / 4, nullptr);
	gst_buffer_memset(half, 0, 0x80, 32 * 24 * 3 / 4);
	std::string text = errorForFrame(half);
	EXPECT_NE(text.find("a buffer of 576 bytes is too small for a 32x24 NV12 frame (1152 bytes)"),
		  std::string::npos)
		<< text;
}

/* A buffer of the right size that cannot be mapped as a frame: the error
 * says so, not that the size is wrong. */
TEST_F(Zcconvert, UnmappableFrameIsAnErrorThatSaysWhy)
{
	/* The size is right, but the video meta puts the chroma plane a
	 * megabyte past the end. */
	GstBuffer *frame = gst_buffer_new_allocate(nullptr, 32 * 24 * 3 / 2, nullptr);
	gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, 1u << 20 };
	gint strides[GST_VIDEO_MAX_PLANES] = { 32, 32 };
	gst_buffer_add_video_meta_full(frame, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_NV12, 32, 24,
				       2, offsets, strides);
	std::string text = errorForFrame(frame);
	EXPECT_NE(text.find("mapping a buffer of 1152 bytes as a 32x24 NV12 frame"), std::string::npos)
		<< text;
	EXPECT_EQ(text.find("too small"), std::string::npos) << text;
}

/* A video meta whose planes run past the memory (in range offsets, a
 * stride too large, or a negative one): refused before a byte is read. */
TEST_F(Zcconvert, MetaPlanesPastTheMemoryAreRefused)
{
	struct Layout {
		gsize uvOffset;
		gint yStride, uvStride;
		const char *says;
	};
	for (const Layout &l : { Layout{ 32 * 24, 32, 64, "plane 1 ends at byte" },
				 Layout{ 32 * 24, 64, 32, "plane 0 ends at byte" },
				 Layout{ 32 * 24, -32, 32, "plane 0 has stride -32" },
				 Layout{ 32 * 24, 32, 16, "plane 1 has stride 16" } }) {
		GstBuffer *frame = gst_buffer_new_allocate(nullptr, 32 * 24 * 3 / 2, nullptr);
		gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, l.uvOffset };
		gint strides[GST_VIDEO_MAX_PLANES] = { l.yStride, l.uvStride };
		gst_buffer_add_video_meta_full(frame, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_NV12,
					       32, 24, 2, offsets, strides);
		std::string text = errorForFrame(frame);
		EXPECT_NE(text.find("video meta does not fit its memory"), std::string::npos) << text;
		EXPECT_NE(text.find(l.says), std::string::npos) << text;
	}
}

/* How a gst-launch-1.0 child process ended. */
struct LaunchResult {
	bool exited = false;
	int status = -1;
	std::string output;
};

/* Runs @command under sh in a child process (the test's environment,
 * plugins and registry included; no tracers), so that a resource limit or
 * a crash stays in the child. */
LaunchResult launch(const std::string &command)
{
	LaunchResult result;
	std::string full = "unset GST_TRACERS; " + command + " 2>&1";
	const gchar *argv[] = { "/bin/sh", "-c", full.c_str(), nullptr };
	gchar *out = nullptr;
	gint wait = 0;
	GError *error = nullptr;
	if (!g_spawn_sync(nullptr, const_cast<gchar **>(argv), nullptr, G_SPAWN_DEFAULT, nullptr,
			  nullptr, &out, nullptr, &wait, &error)) {
		result.output = error->message;
		g_clear_error(&error);
		return result;
	}
	result.output = out ? out : "";
	g_free(out);
	result.exited = WIFEXITED(wait);
	result.status = result.exited ? WEXITSTATUS(wait) : -WTERMSIG(wait);
	return result;
}

/* The reproduction: 4 GB GRAY8 frames scaled and converted, in 1 GB
 * of address space. The intermediate (a 65535x16383 GRAY8 image, just
 * under the bound) cannot be mapped there: a negotiation error that says
 * so, exit status 1; no std::bad_alloc, no abort. */
TEST_F(Zcconvert, HugeCapsEndInACleanError)
{
	LaunchResult r = launch(
		"ulimit -v 1000000; gst-launch-1.0 videotestsrc ! "
		"video/x-raw,format=GRAY8,width=65535,height=65535 ! zcconvert ! "
		"video/x-raw,format=RGBA,width=65535,height=16383 ! fakesink");
	/* zcconvert's error, then exit status 1. One thing zcconvert cannot
	 * prevent: videotestsrc's streaming thread sometimes runs on past
	 * the refused caps before gst-launch stops it and g_malloc()s its
	 * own 4 GB frame, which GLib answers with abort (SIGTRAP, 133). */
	bool videotestsrcAborted = r.status == 133 &&
				   r.output.find("failed to allocate 4294901") != std::string::npos;
	EXPECT_TRUE(r.exited) << r.output;
	EXPECT_TRUE(r.status == 1 || videotestsrcAborted) << r.output;
	EXPECT_NE(r.output.find("zcconvert cannot convert 65535x65535 GRAY8 to 65535x16383 RGBA"),
		  std::string::npos)
		<< r.output;
	EXPECT_NE(r.output.find("cannot map 1073676288 bytes for a 65535x16383 GRAY8 scratch image"),
		  std::string::npos)
		<< r.output;
	EXPECT_EQ(r.output.find("bad_alloc"), std::string::npos) << r.output;
	EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
}

/* The same refusal in process, for a plan just over the bound: GRAY8
 * 16384x16385 enlarged to RGBA (converted first: the intermediate alone is
 * a 16384x16385 RGBA frame, 64 KiB over 1 GiB). A 4096x4096 one is
 * accepted. */
TEST_F(Zcconvert, ScratchBeyondTheBoundIsRefused)
{
	for (int size : { 16384, 4096 }) {
		GstHarness *h = gst_harness_new("zcconvert");
		GstBus *bus = gst_bus_new();
		gst_element_set_bus(h->element, bus);
		/* Downstream's caps first: the input caps then negotiate at
		 * once, no frame needed. */
		gst_harness_set_sink_caps_str(h, test::videoCaps("RGBA", size, size + 2).c_str());
		gst_harness_set_src_caps_str(h, test::videoCaps("GRAY8", size, size + 1).c_str());
		GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
		if (size == 16384) {
			ASSERT_NE(message, nullptr);
			GError *error = nullptr;
			gchar *debug = nullptr;
			gst_message_parse_error(message, &error, &debug);
			EXPECT_TRUE(g_error_matches(error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION));
			EXPECT_NE(std::string(debug).find("bound of 1073741824 bytes"), std::string::npos)
				<< debug;
			g_clear_error(&error);
			g_free(debug);
		} else {
			EXPECT_EQ(message, nullptr) << "a 4096x4097 plan was refused";
		}
		if (message)
			gst_message_unref(message);
		gst_element_set_bus(h->element, nullptr);
		gst_object_unref(bus);
		gst_harness_teardown(h);
	}
}

/* Threads that cannot be created (64 stacks of 8 MiB do not fit in the
 * address space left): a clean element error, no std::system_error. */
TEST_F(Zcconvert, ThreadsThatCannotStartAreAnError)
{
	auto run = [](int threads) {
		return launch("ulimit -s 8192; ulimit -v 400000; gst-launch-1.0 videotestsrc "
			      "num-buffers=2 ! video/x-raw,format=NV12,width=64,height=48 ! "
			      "zcconvert n-threads=" +
			      std::to_string(threads) + " ! video/x-raw,format=BGRx ! fakesink");
	};
	/* Under the same limit four threads fit: it is the threads that fail. */
	LaunchResult fits = run(4);
	EXPECT_TRUE(fits.exited && fits.status == 0) << fits.output;
	LaunchResult r = run(64);
	EXPECT_TRUE(r.exited) << r.output;
	EXPECT_EQ(r.status, 1) << r.output;
	EXPECT_NE(r.output.find("Cannot start the conversion threads"), std::string::npos) << r.output;
	EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
}

/* Interlaced video needs field-aware chroma filters zcconvert does not
 * have: refused with an error, unless the caps match (passthrough). */
TEST_F(Zcconvert, InterlacedConversionIsRefused)
{
	GstHarness *h = gst_harness_new("zcconvert");
	GstBus *bus = gst_bus_new();
	gst_element_set_bus(h->element, bus);
	std::string inCaps = test::videoCaps("NV12", 32, 24, ",interlace-mode=interleaved");
	gst_harness_set_src_caps_str(h, inCaps.c_str());
	gst_harness_set_sink_caps_str(h, test::videoCaps("BGRx", 32, 24, ",interlace-mode=interleaved").c_str());
	GstCaps *caps = gst_caps_from_string(inCaps.c_str());
	GstBuffer *frame = test::makeFrame(caps, Pattern::Noise, 1);
	gst_caps_unref(caps);
	EXPECT_NE(gst_harness_push(h, frame), GST_FLOW_OK);
	EXPECT_EQ(gst_harness_try_pull(h), nullptr);
	GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	ASSERT_NE(message, nullptr);
	GError *error = nullptr;
	gst_message_parse_error(message, &error, nullptr);
	EXPECT_NE(std::string(error->message).find("interlaced"), std::string::npos) << error->message;
	g_clear_error(&error);
	gst_message_unref(message);
	gst_element_set_bus(h->element, nullptr);
	gst_object_unref(bus);
	gst_harness_teardown(h);

	/* The same interlaced caps on both sides: the buffer goes through. */
	GstHarness *same = gst_harness_new("zcconvert");
	gst_harness_set_src_caps_str(same, inCaps.c_str());
	gst_harness_set_sink_caps_str(same, inCaps.c_str());
	caps = gst_caps_from_string(inCaps.c_str());
	frame = test::makeFrame(caps, Pattern::Noise, 1);
	gst_caps_unref(caps);
	ASSERT_EQ(gst_harness_push(same, gst_buffer_ref(frame)), GST_FLOW_OK);
	GstBuffer *out = gst_harness_pull(same);
	EXPECT_EQ(out, frame);
	gst_buffer_unref(out);
	gst_buffer_unref(frame);
	gst_harness_teardown(same);
}

/* Decoders that take the downstream pool decode into zcbuf memory when
 * zcconvert is downstream; its output is zcbuf memory too, recycled. */
struct Seen {
	int buffers = 0, zcbuf = 0;
	std::set<GstMemory *> memories;
};

GstPadProbeReturn countMemory(GstPad *, GstPadProbeInfo *info, gpointer user)
{
	Seen *seen = static_cast<Seen *>(user);
	GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
	seen->buffers++;
	seen->zcbuf += test::allZcbuf(buffer) ? 1 : 0;
	seen->memories.insert(gst_buffer_peek_memory(buffer, 0));
	return GST_PAD_PROBE_OK;
}

struct DecoderCase {
	std::string chain;
	/* GstVideoDecoder deep-copies avdec_h264's frames: libav still maps the
	 * reference frame for writing when the frame is pushed, so
	 * gst_buffer_make_writable() must copy (upstream 1.22 behaviour, for
	 * any memory). The copy is zcbuf memory too, and recorded. */
	bool decoderCopies;
};

/* For gtest's messages (it would print the struct's bytes, padding too). */
void PrintTo(const DecoderCase &c, std::ostream *os)
{
	*os << c.chain;
}

class UpstreamDecoder : public test::LeakCheckedTest, public ::testing::WithParamInterface<DecoderCase>
{
};

void countCopy(GstObject *, gsize, const gchar *, gpointer user)
{
	(*static_cast<int *>(user))++;
}

TEST_P(UpstreamDecoder, DecodesIntoZcbufMemory)
{
	/* More frames than any pool here holds (avdec_h264 keeps a DPB's
	 * worth), so that recycling shows. */
	int frames = test::slowRun() ? 4 : 60;
	std::string description = "videotestsrc num-buffers=" + std::to_string(frames) +
				  " ! video/x-raw,format=I420,width=320,height=240 ! " + GetParam().chain +
				  " ! zcconvert name=conv ! video/x-raw,format=BGRx ! fakesink";
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	ASSERT_NE(pipeline, nullptr) << error->message;
	GstElement *conv = gst_bin_get_by_name(GST_BIN(pipeline), "conv");
	GstPad *sink = gst_element_get_static_pad(conv, "sink");
	GstPad *src = gst_element_get_static_pad(conv, "src");
	Seen in, out;
	gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, countMemory, &in, nullptr);
	gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, countMemory, &out, nullptr);
	gst_object_unref(sink);
	gst_object_unref(src);
	gst_object_unref(conv);

	int copies = 0;
	gulong listener = gst_zcbuf_copy_listener_add(countCopy, &copies);
	BackendStatistics before = statistics().total();
	test::RunResult result = test::runPipeline(pipeline);
	BackendStatistics after = statistics().total();
	gst_zcbuf_copy_listener_remove(listener);

	EXPECT_TRUE(result.eos) << result.error << " " << result.debug;
	EXPECT_EQ(in.buffers, frames);
	EXPECT_EQ(in.zcbuf, in.buffers) << "the decoder did not decode into zcbuf memory";
	EXPECT_EQ(out.buffers, frames);
	EXPECT_EQ(out.zcbuf, out.buffers);
	/* zcconvert's output cycles through a handful of buffers. */
	EXPECT_LE(out.memories.size(), 4u);
	if (GetParam().decoderCopies) {
		EXPECT_GT(copies, 0);
		EXPECT_LE(copies, frames);
	} else {
		/* No copy anywhere, and the decoder's pool allocates far fewer
		 * backings than there are frames. */
		EXPECT_EQ(copies, 0);
		if (!test::slowRun()) {
			EXPECT_LT(after.allocations - before.allocations, static_cast<guint64>(frames))
				<< "zcbuf memory was allocated per frame";
		}
	}
}

INSTANTIATE_TEST_SUITE_P(
	Decoders, UpstreamDecoder,
	::testing::Values(DecoderCase{ "jpegenc ! jpegdec", false },
			  DecoderCase{ "x264enc speed-preset=ultrafast tune=zerolatency ! h264parse ! avdec_h264",
				       true },
			  DecoderCase{ "vp8enc deadline=1 ! vp8dec", false }),
	[](const auto &info) {
		const std::string &p = info.param.chain;
		return p.substr(p.rfind(' ') + 1);
	});

/* MJPEG of every usual sampling, decoded by decodebin (jpegdec, which gives
 * I420 whatever the sampling) and by avdec_mjpeg (which gives I420, Y42B or
 * Y444 as sampled, the webcam case), converted by zcconvert and by
 * videoconvert from the same decoder: the same pixels. */
struct MjpegCase {
	std::string sampling; /* the raw format jpegenc encodes from */
	std::string decoder;
	std::string decoded; /* the format the decoder gives zcconvert */
};

void PrintTo(const MjpegCase &c, std::ostream *os)
{
	*os << c.sampling << " " << c.decoder;
}

class Mjpeg : public test::LeakCheckedTest, public ::testing::WithParamInterface<MjpegCase>
{
};

/* The sample at @description's appsink "sink", and the caps of the
 * element "conv"'s sink pad. */
GstSample *decodeOne(const std::string &description, std::string &convInput)
{
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline) {
		ADD_FAILURE() << error->message;
		g_clear_error(&error);
		return nullptr;
	}
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	GstElement *conv = gst_bin_get_by_name(GST_BIN(pipeline), "conv");
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
	/* To EOS before stopping: the decoder's threads wind down first. */
	GstBus *bus = gst_element_get_bus(pipeline);
	if (GstMessage *end = gst_bus_timed_pop_filtered(
		    bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)))
		gst_message_unref(end);
	gst_object_unref(bus);
	GstPad *pad = gst_element_get_static_pad(conv, "sink");
	GstCaps *caps = gst_pad_get_current_caps(pad);
	if (caps) {
		const gchar *format = gst_structure_get_string(gst_caps_get_structure(caps, 0), "format");
		convInput = format ? format : "";
		gst_caps_unref(caps);
	}
	gst_object_unref(pad);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(conv);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	return sample;
}

TEST_P(Mjpeg, DecodedIntoZcconvertAsVideoconvertConverts)
{
	const MjpegCase &c = GetParam();
	std::string results[2];
	GstSample *samples[2] = {};
	const char *converters[2] = { "zcconvert", "videoconvert" };
	for (int i = 0; i < 2; i++) {
		std::string description = "videotestsrc num-buffers=1 pattern=smpte ! " +
					  test::videoCaps(c.sampling, 96, 64) + " ! jpegenc ! " +
					  c.decoder + " ! " + converters[i] +
					  " name=conv ! video/x-raw,format=BGRx ! appsink name=sink";
		samples[i] = decodeOne(description, results[i]);
		ASSERT_NE(samples[i], nullptr) << description;
	}
	EXPECT_EQ(results[0], c.decoded) << "the decoder gave zcconvert another format";
	EXPECT_EQ(results[1], c.decoded);
	std::array<int, 4> d = test::maxDifference(gst_sample_get_caps(samples[0]),
						   gst_sample_get_buffer(samples[0]),
						   gst_sample_get_buffer(samples[1]));
	EXPECT_GE(test::maxOf(d), 0);
	EXPECT_LE(test::maxOf(d), kConvertTolerance) << test::describe(d);
	RecordProperty("difference", test::maxOf(d));
	gst_sample_unref(samples[0]);
	gst_sample_unref(samples[1]);
}

INSTANTIATE_TEST_SUITE_P(
	Samplings, Mjpeg,
	::testing::Values(MjpegCase{ "I420", "decodebin", "I420" },
			  MjpegCase{ "Y42B", "decodebin", "I420" },
			  MjpegCase{ "Y444", "decodebin", "I420" },
			  MjpegCase{ "I420", "jpegparse ! avdec_mjpeg", "I420" },
			  MjpegCase{ "Y42B", "jpegparse ! avdec_mjpeg", "Y42B" },
			  MjpegCase{ "Y444", "jpegparse ! avdec_mjpeg", "Y444" }),
	[](const auto &info) {
		return info.param.sampling + "_" +
		       (info.param.decoder == "decodebin" ? std::string("decodebin") : std::string("avdec_mjpeg"));
	});

/* The output memory: zcbuf memory of the chosen backend, dma-buf (and
 * memory:DMABuf caps) exactly when the backend gives dma-bufs. */
class ZcconvertBackend : public test::BackendTest
{
};

TEST_P(ZcconvertBackend, OutputMemoryAndCapsFollowTheBackend)
{
	/* (ANY): the caps filter must let either memory feature through. */
	std::string description =
		"videotestsrc num-buffers=5 ! video/x-raw,format=NV12,width=64,height=48 ! zcconvert backend=" +
		GetParam() + " ! video/x-raw(ANY),format=BGRx ! appsink name=sink sync=false";
	GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
	ASSERT_NE(pipeline, nullptr);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
	GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
	ASSERT_NE(sample, nullptr);
	GstMemory *memory = gst_buffer_peek_memory(gst_sample_get_buffer(sample), 0);
	EXPECT_TRUE(gst_is_zcbuf_memory(memory));
	EXPECT_EQ(static_cast<bool>(gst_is_dmabuf_memory(memory)), dmabuf());
	GstCapsFeatures *features = gst_caps_get_features(gst_sample_get_caps(sample), 0);
	EXPECT_EQ(static_cast<bool>(gst_caps_features_contains(features, GST_CAPS_FEATURE_MEMORY_DMABUF)),
		  dmabuf());
	gst_sample_unref(sample);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
}

/* Same format and size, but downstream wants memory:DMABuf and upstream
 * writes system memory: each frame is copied into the dma-buf pool and the
 * copy recorded; frames upstream already wrote into dma-buf memory (the
 * pool zcconvert proposes) go on as they are. Without a dma-buf backend the
 * promise cannot be made at all. */
TEST_P(ZcconvertBackend, DmabufCapsForUnconvertedFramesAreKeptOrCopied)
{
	for (bool systemMemory : { true, false }) {
		std::string description =
			"videotestsrc num-buffers=4 pattern=smpte ! "
			"video/x-raw,format=NV12,width=64,height=48 ! " +
			std::string(systemMemory ? "identity drop-allocation=true ! " : "") +
			"zcconvert backend=" + GetParam() +
			" ! video/x-raw(memory:DMABuf),format=NV12,width=64,height=48 ! "
			"appsink name=sink sync=false";
		GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
		ASSERT_NE(pipeline, nullptr);
		GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
		guint64 copiesBefore = 0, bytes = 0;
		gst_zcbuf_copy_get_totals(&copiesBefore, &bytes);
		gst_element_set_state(pipeline, GST_STATE_PLAYING);
		if (!dmabuf()) {
			GstBus *bus = gst_element_get_bus(pipeline);
			GstMessage *message = gst_bus_timed_pop_filtered(
				bus, 30 * GST_SECOND,
				static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
			ASSERT_NE(message, nullptr);
			EXPECT_EQ(GST_MESSAGE_TYPE(message), GST_MESSAGE_ERROR)
				<< "memory:DMABuf promised without dma-bufs";
			gst_message_unref(message);
			gst_object_unref(bus);
		} else {
			GstSample *sample =
				gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
			ASSERT_NE(sample, nullptr) << description;
			GstBuffer *buffer = gst_sample_get_buffer(sample);
			EXPECT_TRUE(gst_is_dmabuf_memory(gst_buffer_peek_memory(buffer, 0)));
			/* The top-left pixel of SMPTE bars is white-ish grey:
			 * the bytes arrived, copied or not. */
			GstMapInfo map;
			ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_READ));
			EXPECT_GT(map.data[0], 150);
			gst_buffer_unmap(buffer, &map);
			gst_sample_unref(sample);
			while (GstSample *more = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
									     10 * GST_SECOND))
				gst_sample_unref(more);
			guint64 copiesAfter = 0;
			gst_zcbuf_copy_get_totals(&copiesAfter, &bytes);
			EXPECT_EQ(copiesAfter - copiesBefore, systemMemory ? 4u : 0u) << description;
		}
		gst_element_set_state(pipeline, GST_STATE_NULL);
		gst_object_unref(sink);
		gst_object_unref(pipeline);
	}
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(ZcconvertBackend);

/* A backend that does not exist: a clear error, not a crash. */
TEST_F(Zcconvert, MissingBackendIsAnError)
{
	GstElement *pipeline = gst_parse_launch(
		"videotestsrc num-buffers=2 ! video/x-raw,format=NV12,width=64,height=48 ! "
		"zcconvert backend=no-such-backend ! video/x-raw,format=BGRx ! fakesink",
		nullptr);
	ASSERT_NE(pipeline, nullptr);
	test::RunResult result = test::runPipeline(pipeline);
	EXPECT_FALSE(result.eos);
	EXPECT_NE(result.error.find("no-such-backend"), std::string::npos) << result.error;
}

/* Downstream's padding and stride alignment requests shape the pool's
 * layout (GstVideoMeta carries it). */
TEST_F(Zcconvert, HonoursDownstreamAlignment)
{
	GstHarness *h = gst_harness_new("zcconvert");
	gst_harness_set_src_caps_str(h, test::videoCaps("I420", 30, 20).c_str());
	gst_harness_set_sink_caps_str(h, test::videoCaps("NV12", 30, 20).c_str());
	GstStructure *params = gst_structure_new("video-meta", "padding-top", G_TYPE_UINT, 2,
						 "stride-align0", G_TYPE_UINT, 63, nullptr);
	gst_harness_add_propose_allocation_meta(h, GST_VIDEO_META_API_TYPE, params);
	gst_structure_free(params);
	GstCaps *caps = gst_caps_from_string(test::videoCaps("I420", 30, 20).c_str());
	GstBuffer *input = test::makeFrame(caps, Pattern::Noise, 6);
	gst_caps_unref(caps);
	ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(input)), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(h);
	ASSERT_NE(output, nullptr);
	GstVideoMeta *meta = gst_buffer_get_video_meta(output);
	ASSERT_NE(meta, nullptr);
	EXPECT_EQ(meta->stride[0] % 64, 0);
	EXPECT_GE(meta->offset[0], 2u * meta->stride[0]);
	GstCaps *out = gst_caps_from_string(test::videoCaps("NV12", 30, 20).c_str());
	GstBuffer *reference = test::convertOne("videoconvert", test::videoCaps("I420", 30, 20),
						test::videoCaps("NV12", 30, 20), input);
	ASSERT_NE(reference, nullptr);
	EXPECT_LE(test::maxOf(test::maxDifference(out, output, reference)), kConvertTolerance);
	gst_caps_unref(out);
	gst_buffer_unref(reference);
	gst_buffer_unref(output);
	gst_buffer_unref(input);
	gst_harness_teardown(h);
}

} /* namespace */
