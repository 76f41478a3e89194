/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert method=gl (and auto) against method=cpu, in the guest on
 * virtio-gpu (Mesa's kms_swrast: llvmpipe through the card node), and the
 * errors and the cpu choice of auto where there is no GPU (the host).
 *
 * Tolerance against the CPU path: RGB input at the same size, none
 * (kRgbTolerance: the same bytes); RGB scaled, kRgbScaledTolerance (the
 * GPU's bilinear sampler takes 2x2 texels where the CPU's scaler filters
 * over the whole footprint when shrinking). YUV input,
 * kYuvTolerance: the CPU path reproduces videoconvert's 8-bit YUV-to-RGB
 * form (centred inputs, 16-bit high multiplies, no offset column), which
 * is itself up to 3-4 levels from the matrix (limited-range white comes
 * out 253), while the GPU applies the same coefficients with the offsets
 * in floating point and rounds to nearest; on top of that, the GPU samples
 * subsampled chroma bilinearly where the caps' siting puts it, the CPU
 * takes the nearest sample (I420) or video-chroma.c's filters. That the
 * GPU's own arithmetic is right is checked separately: flat YUV frames
 * against the BT.601/BT.709 formulas in double precision, within 1 level.
 * The measured maximum of every pair is printed ("max difference").
 */
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <iostream>
#include <fstream>
#include <string>
#include <vector>

#include <gst/allocators/gstdmabuf.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbufallocator.h>

#include "backend_params.h"
#include "display.h"
#include "guest.h"
#include "tracer_run.h"
#include "video_compare.h"

namespace {

constexpr int kRgbTolerance = 0;
constexpr int kRgbScaledTolerance = 3;
constexpr int kYuvTolerance = 8;

int openFds()
{
	int count = 0;
	if (DIR *d = opendir("/proc/self/fd")) {
		while (readdir(d))
			count++;
		closedir(d);
	}
	return count;
}

class GlTest : public ::testing::Test
{
protected:
	void SetUp() override
	{
		card_ = zcbuf::test::virtioCard();
		if (card_.empty()) {
			/* The VM suite loads virtio_gpu: missing there is a failure. */
			ASSERT_FALSE(zcbuf::test::inTheGuest()) << "no virtio-gpu card in the guest";
			GTEST_SKIP() << "no virtio-gpu DRM card (the host): the guest runs this";
		}
	}
	std::string card_;
};

/* What one frame through a harness gave, and what the element said. */
struct Converted {
	GstBuffer *buffer = nullptr;
	std::string methodInUse;
	guint64 imports = 0, hits = 0;
	~Converted() { gst_clear_buffer(&buffer); }
};

void convert(const std::string &description, const std::string &inCaps, const std::string &outCaps,
	     GstBuffer *input, Converted &result, int frames = 1)
{
	GstHarness *h = gst_harness_new_parse(description.c_str());
	gst_harness_set_src_caps_str(h, inCaps.c_str());
	gst_harness_set_sink_caps_str(h, outCaps.c_str());
	for (int i = 0; i < frames; i++) {
		if (gst_harness_push(h, gst_buffer_ref(input)) != GST_FLOW_OK)
			break;
		GstBuffer *out = gst_harness_try_pull(h);
		gst_clear_buffer(&result.buffer);
		result.buffer = out;
	}
	GstElement *convert = gst_bin_get_by_name(GST_BIN(h->element), "c");
	if (convert) {
		gchar *method = nullptr;
		g_object_get(convert, "method-in-use", &method, "gl-imports", &result.imports,
			     "gl-cache-hits", &result.hits, nullptr);
		result.methodInUse = method ? method : "";
		g_free(method);
		gst_object_unref(convert);
	}
	gst_harness_teardown(h);
}

/* A test frame of caps @caps in system memory. */
GstBuffer *frameOf(const std::string &caps, zcbuf::test::Pattern pattern, unsigned seed)
{
	GstCaps *parsed = gst_caps_from_string(caps.c_str());
	GstBuffer *frame = zcbuf::test::makeFrame(parsed, pattern, seed);
	gst_caps_unref(parsed);
	return frame;
}

/* @input's bytes in a buffer of zcbuf backend @backend (no video meta:
 * the default layout). */
GstBuffer *copyInto(const char *backend, GstBuffer *input, bool dmabuf = true)
{
	GstAllocator *allocator = gst_zcbuf_allocator_new(backend, nullptr);
	if (!allocator)
		return nullptr;
	GstBuffer *buffer = gst_buffer_new_allocate(allocator, gst_buffer_get_size(input), nullptr);
	gst_object_unref(allocator);
	GstMapInfo map;
	if (!buffer || (dmabuf && !gst_is_dmabuf_memory(gst_buffer_peek_memory(buffer, 0))) ||
	    !gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
		gst_clear_buffer(&buffer);
		return nullptr;
	}
	gst_buffer_extract(input, 0, map.data, map.size);
	gst_buffer_unmap(buffer, &map);
	return buffer;
}

struct Pair {
	std::string in, out;
	int inW, inH, outW, outH;
	std::string colorimetry; /* ",colorimetry=..." of the input, or empty */
};

void PrintTo(const Pair &p, std::ostream *os)
{
	*os << p.in << " " << p.inW << "x" << p.inH << p.colorimetry << " to " << p.out << " "
	    << p.outW << "x" << p.outH;
}

std::string nameOf(const ::testing::TestParamInfo<Pair> &info)
{
	const Pair &p = info.param;
	std::string c;
	for (char ch : p.colorimetry)
		if (std::isalnum(static_cast<unsigned char>(ch)))
			c += ch;
	return p.in + "_" + std::to_string(p.inW) + "x" + std::to_string(p.inH) + "_to_" + p.out +
	       "_" + std::to_string(p.outW) + "x" + std::to_string(p.outH) + c;
}

class GlMatchesCpu : public GlTest, public ::testing::WithParamInterface<Pair>
{
};

/* Every pair and scaling the GPU path converts: its pixels within
 * the tolerance of the CPU path's, in memory on the GPU's device. */
TEST_P(GlMatchesCpu, WithinTolerance)
{
	const Pair &p = GetParam();
	std::string inCaps = zcbuf::test::videoCaps(p.in, p.inW, p.inH, p.colorimetry);
	std::string outCaps = zcbuf::test::videoCaps(p.out, p.outW, p.outH);
	GstBuffer *input = frameOf(inCaps, zcbuf::test::Pattern::Smooth, 3);
	ASSERT_NE(input, nullptr);

	Converted gl, cpu;
	convert("zcupload ! zcconvert name=c method=gl device=" + card_, inCaps, outCaps, input, gl);
	convert("zcconvert name=c method=cpu", inCaps, outCaps, input, cpu);
	gst_buffer_unref(input);
	ASSERT_NE(gl.buffer, nullptr);
	ASSERT_NE(cpu.buffer, nullptr);
	EXPECT_EQ(gl.methodInUse.rfind("gl: method=gl on " + card_ + " (virtio_gpu", 0), 0u)
		<< gl.methodInUse;
	EXPECT_EQ(cpu.methodInUse, "cpu: method=cpu");
	/* The planes of one input and the output, imported once. */
	EXPECT_GE(gl.imports, 2u);

	GstCaps *out = gst_caps_from_string(outCaps.c_str());
	std::array<int, 4> d = zcbuf::test::maxDifference(out, gl.buffer, cpu.buffer);
	gst_caps_unref(out);
	/* Alpha only where both have it (x formats leave it undefined). */
	bool alpha = p.out == "RGBA" || p.out == "BGRA";
	int worst = std::max({ d[1], d[2], d[3], alpha ? d[0] : 0 });
	EXPECT_GE(worst, 0) << "frames not comparable";
	bool yuv = p.in != "RGBA" && p.in != "BGRA" && p.in != "RGBx" && p.in != "BGRx";
	bool scaled = p.inW != p.outW || p.inH != p.outH;
	EXPECT_LE(worst, yuv ? kYuvTolerance : scaled ? kRgbScaledTolerance : kRgbTolerance)
		<< zcbuf::test::describe(d);
	std::cout << "max difference " << ::testing::PrintToString(p) << ": " << worst << "\n";
}

std::vector<Pair> pairs()
{
	std::vector<Pair> list;
	for (const char *in : { "NV12", "I420", "Y42B", "Y444", "RGBA", "BGRA", "RGBx", "BGRx" })
		for (const char *out : { "RGBA", "BGRA", "RGBx", "BGRx" })
			if (std::string(in) != out)
				list.push_back({ in, out, 64, 48, 64, 48, "" });
	/* Colorimetry: BT.709, BT.2020 and full-range BT.601. */
	list.push_back({ "NV12", "BGRx", 64, 48, 64, 48, ",colorimetry=bt709" });
	list.push_back({ "NV12", "RGBA", 64, 48, 64, 48, ",colorimetry=bt2020" });
	list.push_back({ "I420", "BGRx", 64, 48, 64, 48, ",colorimetry=1:4:0:0" });
	/* Scaling down, up, by uneven factors, with and without conversion. */
	list.push_back({ "NV12", "BGRx", 320, 240, 160, 120, "" });
	list.push_back({ "I420", "RGBA", 64, 48, 160, 120, "" });
	list.push_back({ "RGBA", "BGRA", 320, 240, 100, 75, "" });
	list.push_back({ "BGRx", "BGRx", 64, 48, 96, 72, "" });
	return list;
}

INSTANTIATE_TEST_SUITE_P(Pairs, GlMatchesCpu, ::testing::ValuesIn(pairs()), nameOf);

/* The GPU's colour arithmetic: flat Y444 frames (no chroma filter in
 * play) against the formulas of BT.601 and BT.709, limited range, in
 * double precision: within 1 level. */
TEST_F(GlTest, FlatColoursMatchTheFormulas)
{
	struct Matrix {
		const char *colorimetry;
		double kr, kb;
	};
	const int yuvs[][3] = { { 16, 128, 128 }, { 235, 128, 128 }, { 66, 147, 96 },
				{ 172, 46, 160 }, { 120, 200, 60 }, { 81, 90, 240 } };
	for (Matrix m : { Matrix{ "bt601", 0.299, 0.114 }, Matrix{ "bt709", 0.2126, 0.0722 } }) {
		for (const auto &yuv : yuvs) {
			std::string inCaps = zcbuf::test::videoCaps("Y444", 16, 8,
								    std::string(",colorimetry=") + m.colorimetry);
			GstVideoInfo info;
			GstCaps *caps = gst_caps_from_string(inCaps.c_str());
			ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
			gst_caps_unref(caps);
			GstBuffer *input = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
			GstMapInfo map;
			gst_buffer_map(input, &map, GST_MAP_WRITE);
			for (int p = 0; p < 3; p++)
				memset(map.data + GST_VIDEO_INFO_PLANE_OFFSET(&info, p), yuv[p],
				       GST_VIDEO_INFO_PLANE_STRIDE(&info, p) * 8);
			gst_buffer_unmap(input, &map);

			Converted gl;
			convert("zcupload ! zcconvert name=c method=gl device=" + card_, inCaps,
				zcbuf::test::videoCaps("RGBx", 16, 8), input, gl);
			gst_buffer_unref(input);
			ASSERT_NE(gl.buffer, nullptr);

			double y = (yuv[0] - 16) / 219.0, u = (yuv[1] - 128) / 224.0,
			       v = (yuv[2] - 128) / 224.0, kg = 1 - m.kr - m.kb;
			double rgb[3] = { y + 2 * (1 - m.kr) * v,
					  y - 2 * m.kb * (1 - m.kb) / kg * u - 2 * m.kr * (1 - m.kr) / kg * v,
					  y + 2 * (1 - m.kb) * u };
			GstMapInfo out;
			gst_buffer_map(gl.buffer, &out, GST_MAP_READ);
			for (int c = 0; c < 3; c++) {
				int expected = static_cast<int>(std::lround(std::clamp(rgb[c], 0.0, 1.0) * 255));
				EXPECT_NEAR(out.data[c], expected, 1)
					<< m.colorimetry << " YUV " << yuv[0] << "," << yuv[1] << "," << yuv[2]
					<< " component " << c;
			}
			gst_buffer_unmap(gl.buffer, &out);
		}
	}
}

/* The pool's buffers are imported the first time they are seen, then
 * found on their memory: after 30 frames far fewer imports than planes
 * drawn, every other plane a hit. */
TEST_F(GlTest, ImportsCachedPerMemory)
{
	const int frames = 30;
	std::string inCaps = zcbuf::test::videoCaps("NV12", 64, 48);
	GstBuffer *input = frameOf(inCaps, zcbuf::test::Pattern::Smooth, 1);
	Converted gl;
	convert("zcupload ! zcconvert name=c method=gl device=" + card_, inCaps,
		zcbuf::test::videoCaps("BGRx", 64, 48), input, gl, frames);
	gst_buffer_unref(input);
	ASSERT_NE(gl.buffer, nullptr);
	/* Two input planes and one output plane a frame. */
	EXPECT_EQ(gl.imports + gl.hits, 3u * frames);
	EXPECT_GE(gl.imports, 3u);
	EXPECT_LE(gl.imports, 3u * 8) << "more imports than a pool has buffers";
	EXPECT_GE(gl.hits, 3u * frames - 3u * 8);
}

/* auto: gl for memory on the GPU's device, cpu (and the reason) for
 * system memory and for dma-bufs virtio-gpu cannot import (the zcbuf
 * module's), with the CPU path's exact output then. */
TEST_F(GlTest, AutoChoosesByImport)
{
	std::string inCaps = zcbuf::test::videoCaps("I420", 64, 48);
	std::string outCaps = zcbuf::test::videoCaps("BGRx", 64, 48);
	GstBuffer *input = frameOf(inCaps, zcbuf::test::Pattern::Smooth, 2);
	std::string autoGl = "zcconvert name=c method=auto device=" + card_;

	Converted imported, system, foreign, noDevice, cpu;
	convert("zcupload ! " + autoGl, inCaps, outCaps, input, imported);
	convert(autoGl, inCaps, outCaps, input, system);
	/* The zcbuf module's dma-buf: foreign to virtio-gpu. */
	GstBuffer *moduleInput = copyInto("module", input);
	ASSERT_NE(moduleInput, nullptr);
	convert(autoGl, inCaps, outCaps, moduleInput, foreign);
	gst_buffer_unref(moduleInput);
	convert("zcconvert name=c", inCaps, outCaps, input, noDevice);
	convert("zcconvert name=c method=cpu", inCaps, outCaps, input, cpu);
	gst_buffer_unref(input);

	EXPECT_EQ(imported.methodInUse.rfind("gl: auto, the input imports on " + card_, 0), 0u)
		<< imported.methodInUse;
	EXPECT_EQ(system.methodInUse.rfind("cpu: the input does not import on " + card_, 0), 0u)
		<< system.methodInUse;
	EXPECT_NE(system.methodInUse.find("not dma-buf memory"), std::string::npos)
		<< system.methodInUse;
	EXPECT_EQ(foreign.methodInUse.rfind("cpu: the input does not import on " + card_, 0), 0u)
		<< foreign.methodInUse;
	EXPECT_NE(foreign.methodInUse.find("eglCreateImage refused"), std::string::npos)
		<< foreign.methodInUse;
	EXPECT_EQ(noDevice.methodInUse, "cpu: auto without a device property opens no GPU");
	std::cout << "system memory: " << system.methodInUse << "\nmodule memory: " << foreign.methodInUse
		  << "\n";

	ASSERT_NE(cpu.buffer, nullptr);
	GstCaps *out = gst_caps_from_string(outCaps.c_str());
	for (Converted *c : { &system, &foreign, &noDevice }) {
		ASSERT_NE(c->buffer, nullptr) << c->methodInUse;
		EXPECT_EQ(zcbuf::test::maxOf(zcbuf::test::maxDifference(out, c->buffer, cpu.buffer)), 0)
			<< c->methodInUse;
	}
	ASSERT_NE(imported.buffer, nullptr);
	EXPECT_LE(zcbuf::test::maxOf(zcbuf::test::maxDifference(out, imported.buffer, cpu.buffer)),
		  kYuvTolerance);
	gst_caps_unref(out);
}

/* auto with a frame of every zcbuf backend (docs/interop.md): only
 * virtio-gpu's own dumb buffers import there (gl); every other dma-buf
 * (vgem's and vkms's dumb buffers too) is
 * refused by eglCreateImage (virtio-gpu 6.1 imports no foreign dma-buf)
 * and memfd is no dma-buf, so those are converted on the CPU, with the
 * CPU path's bytes. */
struct GlBackendCase {
	const char *backend; /* zcbuf backend; "vgem"/"virtio_gpu": drm on that card */
	const char *method; /* what method-in-use starts with */
	const char *reason; /* and has in it */
};

class GlBackends : public GlTest, public ::testing::WithParamInterface<GlBackendCase>
{
};

TEST_P(GlBackends, AutoConvertsOnTheGpuOnlyWhatImports)
{
	std::string backend = GetParam().backend;
	if (backend == "virtio_gpu")
		backend = "drm:" + card_;
	else if (backend == "vgem" || backend == "vkms") {
		zcbuf::test::Card other = zcbuf::test::findCard(backend.c_str());
		ASSERT_FALSE(other.node.empty()) << "no " << backend << " card: boot with --modprobe "
						 << backend;
		backend = "drm:" + other.node;
	}
	std::string inCaps = zcbuf::test::videoCaps("I420", 64, 48);
	std::string outCaps = zcbuf::test::videoCaps("BGRx", 64, 48);
	GstBuffer *input = frameOf(inCaps, zcbuf::test::Pattern::Smooth, 3);
	const bool dmabuf = backend != "memfd";
	GstBuffer *ours = copyInto(backend.c_str(), input, dmabuf);
	ASSERT_NE(ours, nullptr) << "no " << backend << " buffer";
	EXPECT_EQ(gst_is_dmabuf_memory(gst_buffer_peek_memory(ours, 0)), dmabuf);
	Converted autoGl, cpu;
	convert("zcconvert name=c method=auto device=" + card_, inCaps, outCaps, ours, autoGl);
	convert("zcconvert name=c method=cpu", inCaps, outCaps, input, cpu);
	gst_buffer_unref(ours);
	gst_buffer_unref(input);
	std::cout << backend << ": " << autoGl.methodInUse << "\n";
	EXPECT_EQ(autoGl.methodInUse.rfind(std::string(GetParam().method) + card_, 0), 0u)
		<< autoGl.methodInUse;
	EXPECT_NE(autoGl.methodInUse.find(GetParam().reason), std::string::npos)
		<< autoGl.methodInUse;
	ASSERT_NE(autoGl.buffer, nullptr);
	ASSERT_NE(cpu.buffer, nullptr);
	GstCaps *out = gst_caps_from_string(outCaps.c_str());
	const int difference =
		zcbuf::test::maxOf(zcbuf::test::maxDifference(out, autoGl.buffer, cpu.buffer));
	if (GetParam().backend == std::string("virtio_gpu"))
		EXPECT_LE(difference, kYuvTolerance);
	else
		EXPECT_EQ(difference, 0) << "converted on the CPU: the CPU path's bytes";
	gst_caps_unref(out);
}

INSTANTIATE_TEST_SUITE_P(
	Matrix, GlBackends,
	::testing::Values(
		GlBackendCase{ "virtio_gpu", "gl: auto, the input imports on ", "" },
		GlBackendCase{ "module", "cpu: the input does not import on ", "eglCreateImage refused" },
		GlBackendCase{ "dma-heap", "cpu: the input does not import on ", "eglCreateImage refused" },
		GlBackendCase{ "udmabuf", "cpu: the input does not import on ", "eglCreateImage refused" },
		GlBackendCase{ "vgem", "cpu: the input does not import on ", "eglCreateImage refused" },
		GlBackendCase{ "vkms", "cpu: the input does not import on ", "eglCreateImage refused" },
		GlBackendCase{ "memfd", "cpu: the input does not import on ", "not dma-buf memory" }),
	[](const auto &info) { return zcbuf::test::paramName(info.param.backend); });

/* A frame that does not import after frames that did: auto converts it
 * on the CPU (the CPU path's bytes), gl stops with an error naming it. */
TEST_F(GlTest, FrameThatDoesNotImportMidStream)
{
	std::string inCaps = zcbuf::test::videoCaps("NV12", 64, 48);
	std::string outCaps = zcbuf::test::videoCaps("RGBA", 64, 48);
	GstBuffer *input = frameOf(inCaps, zcbuf::test::Pattern::Smooth, 5);
	GstBuffer *onCard = copyInto(("drm:" + card_).c_str(), input);
	ASSERT_NE(onCard, nullptr);
	Converted cpu;
	convert("zcconvert name=c method=cpu", inCaps, outCaps, input, cpu);
	ASSERT_NE(cpu.buffer, nullptr);
	GstCaps *out = gst_caps_from_string(outCaps.c_str());

	for (const char *method : { "auto", "gl" }) {
		GstHarness *h = gst_harness_new_parse(
			(std::string("zcconvert name=c method=") + method + " device=" + card_).c_str());
		GstBus *bus = gst_bus_new();
		gst_element_set_bus(h->element, bus);
		gst_harness_set_src_caps_str(h, inCaps.c_str());
		gst_harness_set_sink_caps_str(h, outCaps.c_str());
		ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(onCard)), GST_FLOW_OK) << method;
		GstBuffer *first = gst_harness_pull(h);
		gst_buffer_unref(first);
		GstFlowReturn ret = gst_harness_push(h, gst_buffer_ref(input));
		if (std::string(method) == "auto") {
			ASSERT_EQ(ret, GST_FLOW_OK);
			GstBuffer *second = gst_harness_pull(h);
			EXPECT_EQ(zcbuf::test::maxOf(zcbuf::test::maxDifference(out, second, cpu.buffer)), 0);
			gst_buffer_unref(second);
		} else {
			EXPECT_EQ(ret, GST_FLOW_ERROR);
			GstMessage *error = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
			ASSERT_NE(error, nullptr);
			GError *e = nullptr;
			gchar *debug = nullptr;
			gst_message_parse_error(error, &e, &debug);
			EXPECT_STREQ(e->message, "The GPU could not convert the frame");
			EXPECT_NE(std::string(debug).find("not dma-buf memory"), std::string::npos) << debug;
			g_clear_error(&e);
			g_free(debug);
			gst_message_unref(error);
		}
		/* Queued messages hold the elements: dropped before teardown. */
		gst_bus_set_flushing(bus, TRUE);
		gst_harness_teardown(h);
		gst_object_unref(bus);
	}
	gst_caps_unref(out);
	gst_buffer_unref(onCard);
	gst_buffer_unref(input);
}

/* zcjpegdec decodes into memory on the GPU's device (zcconvert attached
 * it), zcconvert draws into its own pool there: no copy anywhere, every
 * link dma-buf. */
TEST_F(GlTest, ZeroCopyFromDecoder)
{
	zcbuf::test::TracerReport r = zcbuf::test::runWithTracer(
		"videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=64,height=48 ! jpegenc ! "
		"zcjpegdec name=dec ! zcconvert name=conv method=gl device=" +
			card_ + " ! video/x-raw,format=BGRx ! fakesink",
		"null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	for (const char *link : { "dec:src -> conv:sink", "conv:src -> capsfilter1:sink" }) {
		ASSERT_EQ(r.rows.count(link), 1u) << link << "\n" << r.stderrText;
		const zcbuf::test::TracerRow &row = r.rows[link];
		EXPECT_EQ(row.buffers, 10) << link << "\n" << r.stderrText;
		EXPECT_EQ(row.dmabuf, 100.0) << link << "\n" << r.stderrText;
		EXPECT_EQ(row.copies, 0) << link << "\n" << r.stderrText;
		/* The decoder's pool (zcconvert's, proposed) and zcconvert's own,
		 * both dumb buffers of virtio-gpu. */
		EXPECT_EQ(row.memory.rfind("drm", 0), 0u) << link << "\n" << r.stderrText;
		EXPECT_NE(row.memory.find(card_), std::string::npos) << link << "\n" << r.stderrText;
	}
	EXPECT_EQ(r.copiesLine, "copies: 0 (0 bytes)") << r.stderrText;
}

/* Start/stop cycles: the context, its fd and every import go with the
 * pipeline; the process's fds are those it had. */
TEST_F(GlTest, StartStopCyclesKeepNoFd)
{
	std::string description = "videotestsrc num-buffers=3 ! video/x-raw,format=NV12,width=64,height=48 ! "
				  "zcupload ! zcconvert method=gl device=" + card_ +
				  " ! video/x-raw,format=RGBA ! fakesink";
	auto cycle = [&]() {
		GError *error = nullptr;
		GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
		ASSERT_NE(pipeline, nullptr) << (error ? error->message : "");
		zcbuf::test::RunResult result = zcbuf::test::runPipeline(pipeline, 60);
		EXPECT_TRUE(result.eos) << result.error << " " << result.debug;
	};
	cycle(); /* Mesa's first load opens what it keeps open */
	int before = openFds();
	for (int i = 0; i < 10; i++)
		cycle();
	EXPECT_EQ(openFds(), before);
}

/* Errors at negotiation, not at the first frame: a pair gl does not
 * convert, a device that does not exist. */
TEST(GlErrors, MethodGlRefusesWhatItCannotDo)
{
	struct Case {
		std::string element, outFormat, expected;
	};
	std::vector<Case> cases = {
		{ "zcconvert method=gl device=/dev/dri/card0", "I420", "GL writes RGBA, BGRA, RGBx and BGRx, not I420" },
		{ "zcconvert method=gl device=/dev/dri/no-such-card", "BGRx",
		  "cannot open /dev/dri/no-such-card" },
	};
	if (zcbuf::test::virtioCard().empty() && !zcbuf::test::inTheGuest())
		cases.push_back({ "zcconvert method=gl", "BGRx", "no DRM card node in /dev/dri" });
	for (const Case &c : cases) {
		std::string description = "videotestsrc num-buffers=1 ! video/x-raw,format=NV12,width=64,height=48 ! " +
					  c.element + " ! video/x-raw,format=" + c.outFormat + " ! fakesink";
		GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
		ASSERT_NE(pipeline, nullptr);
		zcbuf::test::RunResult result = zcbuf::test::runPipeline(pipeline, 30);
		EXPECT_FALSE(result.eos) << description;
		EXPECT_NE(result.error.find("zcconvert method=gl cannot convert NV12 to " + c.outFormat),
			  std::string::npos)
			<< result.error;
		EXPECT_NE(result.debug.find(c.expected), std::string::npos) << result.debug;
	}
}

/* Without a device, auto is the cpu method and opens nothing of DRM's. */
TEST(GlErrors, AutoWithoutDeviceIsCpu)
{
	std::string inCaps = zcbuf::test::videoCaps("NV12", 64, 48);
	std::string outCaps = zcbuf::test::videoCaps("BGRx", 64, 48);
	GstBuffer *input = frameOf(inCaps, zcbuf::test::Pattern::Noise, 4);
	Converted automatic, cpu;
	convert("zcconvert name=c", inCaps, outCaps, input, automatic);
	convert("zcconvert name=c method=cpu", inCaps, outCaps, input, cpu);
	gst_buffer_unref(input);
	EXPECT_EQ(automatic.methodInUse, "cpu: auto without a device property opens no GPU");
	EXPECT_EQ(automatic.imports, 0u);
	ASSERT_NE(automatic.buffer, nullptr);
	ASSERT_NE(cpu.buffer, nullptr);
	GstCaps *out = gst_caps_from_string(outCaps.c_str());
	EXPECT_EQ(zcbuf::test::maxOf(zcbuf::test::maxDifference(out, automatic.buffer, cpu.buffer)), 0);
	gst_caps_unref(out);
}

} /* namespace */
