/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert's engine below the element: the band runner's threads, the
 * scratch bound of a conversion plan, and the row kernels: every SIMD form (SSE2, AVX2, AVX-512 where the
 * CPU has them) gives the bytes of the scalar form, at every width (the vector loops' tails and the odd widths of
 * chroma rows included), for random input and every byte order.
 */
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "convert/band_runner.h"
#include "convert/converter.h"
#include "convert/kernels_x86.h"
#include "convert/kernels.h"
#include "convert/matrix.h"

using namespace zcbuf::convert;

namespace {

std::vector<uint8_t> randomRow(std::mt19937 &random, int width)
{
	std::vector<uint8_t> row(static_cast<size_t>(width) + 64);
	for (uint8_t &b : row)
		b = static_cast<uint8_t>(random());
	return row;
}

std::vector<int> widths()
{
	std::vector<int> w;
	for (int i = 1; i <= 130; i++)
		w.push_back(i);
	for (int i : { 255, 256, 257, 1919, 1920, 3840, 3841 })
		w.push_back(i);
	return w;
}

ColorMatrix yuvToRgbMatrix(const char *colorimetry)
{
	GstVideoInfo in, out;
	gst_video_info_set_format(&in, GST_VIDEO_FORMAT_I420, 64, 64);
	gst_video_info_set_format(&out, GST_VIDEO_FORMAT_BGRx, 64, 64);
	gst_video_colorimetry_from_string(&in.colorimetry, colorimetry);
	ColorMatrix matrix;
	std::string error;
	EXPECT_TRUE(computeMatrix(in, out, matrix, error)) << error;
	EXPECT_EQ(matrix.kind, MatrixKind::YuvToRgb);
	return matrix;
}

class Kernels : public ::testing::Test
{
protected:
	void TearDown() override { kernels::forceScalar(false); }
};

TEST_F(Kernels, YuvToRgbSimdEqualsScalar)
{
	std::mt19937 random(1);
	for (const char *colorimetry : { "bt601", "bt709", "1:4:0:0", "bt2020" }) {
		ColorMatrix matrix = yuvToRgbMatrix(colorimetry);
		for (kernels::RgbOrder order : { kernels::RgbOrder{ 2, 1, 0, 3 }, kernels::RgbOrder{ 0, 1, 2, 3 } }) {
			kernels::YuvToRgb params = kernels::makeYuvToRgb(matrix, order);
			for (int width : widths()) {
				auto y = randomRow(random, width), u0 = randomRow(random, width),
				     v0 = randomRow(random, width), u1 = randomRow(random, width),
				     v1 = randomRow(random, width);
				for (bool blend : { false, true }) {
					std::vector<uint8_t> ref(4 * static_cast<size_t>(width)),
						simd(ref.size()), stream(ref.size() + 32);
					const uint8_t *b0 = blend ? u1.data() : nullptr;
					const uint8_t *b1 = blend ? v1.data() : nullptr;
					kernels::forceScalar(true);
					kernels::yuvToRgb(params, y.data(), u0.data(), v0.data(), b0, b1,
							  ref.data(), width);
					kernels::forceScalar(false);
					kernels::yuvToRgb(params, y.data(), u0.data(), v0.data(), b0, b1,
							  simd.data(), width);
					ASSERT_EQ(ref, simd) << colorimetry << " width " << width << " blend " << blend;
					/* Streaming stores on an aligned row. */
					uint8_t *aligned = reinterpret_cast<uint8_t *>(
						(reinterpret_cast<uintptr_t>(stream.data()) + 31) & ~uintptr_t(31));
					kernels::yuvToRgb(params, y.data(), u0.data(), v0.data(), b0, b1, aligned,
							  width, true);
					ASSERT_TRUE(std::equal(ref.begin(), ref.end(), aligned)) << "streaming, width " << width;
#if ZCCONVERT_HAVE_X86
					/* Each form on its own, whichever the dispatch picks
					 * on this CPU. */
					std::vector<uint8_t> one(ref.size());
					int done = kernels::x86::yuvToRgbSse2(params, y.data(), u0.data(), v0.data(),
									      b0, b1, one.data(), width);
					ASSERT_TRUE(std::equal(ref.begin(), ref.begin() + 4 * done, one.begin()))
						<< "SSE2, width " << width;
					if (kernels::x86::haveAvx2()) {
						done = kernels::x86::yuvToRgbAvx2(params, y.data(), u0.data(), v0.data(),
										  b0, b1, one.data(), width, false);
						ASSERT_TRUE(std::equal(ref.begin(), ref.begin() + 4 * done, one.begin()))
							<< "AVX2, width " << width;
					}
					if (kernels::x86::haveAvx512()) {
						done = kernels::x86::yuvToRgbAvx512(params, y.data(), u0.data(),
										    v0.data(), b0, b1, one.data(),
										    width, false);
						ASSERT_TRUE(std::equal(ref.begin(), ref.begin() + 4 * done, one.begin()))
							<< "AVX-512, width " << width;
					}
#endif
				}
			}
		}
	}
}

/* The SIMD forms blend chroma in bytes, with a parity correction: every
 * (u0, u1) and (v0, v1) pair, once, against the scalar form. */
TEST_F(Kernels, YuvToRgbBlendsEveryChromaPairExactly)
{
	constexpr int width = 65536;
	std::vector<uint8_t> y(width + 64), u0(y.size()), v0(y.size()), u1(y.size()), v1(y.size());
	for (int i = 0; i < width; i++) {
		y[i] = static_cast<uint8_t>(i * 7);
		u0[i] = static_cast<uint8_t>(i);
		u1[i] = static_cast<uint8_t>(i >> 8);
		v0[i] = static_cast<uint8_t>(i >> 8);
		v1[i] = static_cast<uint8_t>(i);
	}
	kernels::YuvToRgb params = kernels::makeYuvToRgb(yuvToRgbMatrix("bt709"), { 2, 1, 0, 3 });
	std::vector<uint8_t> ref(4 * static_cast<size_t>(width)), simd(ref.size());
	kernels::forceScalar(true);
	kernels::yuvToRgb(params, y.data(), u0.data(), v0.data(), u1.data(), v1.data(), ref.data(), width);
	kernels::forceScalar(false);
	kernels::yuvToRgb(params, y.data(), u0.data(), v0.data(), u1.data(), v1.data(), simd.data(), width);
	EXPECT_EQ(ref, simd);
#if ZCCONVERT_HAVE_X86
	if (kernels::x86::haveAvx2()) {
		std::fill(simd.begin(), simd.end(), 0);
		int done = kernels::x86::yuvToRgbAvx2(params, y.data(), u0.data(), v0.data(), u1.data(),
						      v1.data(), simd.data(), width, false);
		EXPECT_EQ(done, width);
		EXPECT_EQ(ref, simd) << "AVX2";
	}
#endif
}

TEST_F(Kernels, ChromaFiltersSimdEqualScalar)
{
	std::mt19937 random(2);
	for (int width : widths()) {
		int half = (width + 1) / 2;
		auto a = randomRow(random, width), b = randomRow(random, width), c = randomRow(random, half);
		std::vector<uint8_t> ref(static_cast<size_t>(width)), simd(ref.size());
		auto both = [&](auto kernel) {
			kernels::forceScalar(true);
			kernel(ref.data());
			kernels::forceScalar(false);
			kernel(simd.data());
			return ref == simd;
		};
		EXPECT_TRUE(both([&](uint8_t *d) { kernels::blend31(a.data(), b.data(), d, width); }))
			<< "blend31, width " << width;
		EXPECT_TRUE(both([&](uint8_t *d) { kernels::average(a.data(), b.data(), d, width); }))
			<< "average, width " << width;
		EXPECT_TRUE(both([&](uint8_t *d) { kernels::upsampleNearest(c.data(), d, width); }))
			<< "nearest, width " << width;
		for (bool cosited : { false, true })
			EXPECT_TRUE(both([&](uint8_t *d) { kernels::upsampleH(c.data(), d, width, cosited); }))
				<< "upsampleH, width " << width << " cosited " << cosited;
	}
}

/* An NV12 chroma row upsampled straight from its interleaved bytes gives
 * what splitting it and upsampling each half gives (the scalar upsampleH),
 * through the dispatch and each SIMD form on the pixels it says it did. */
TEST_F(Kernels, InterleavedUpsamplingEqualsSplitThenUpsample)
{
	std::mt19937 random(3);
	for (int width : widths()) {
		int half = (width + 1) / 2;
		auto uv = randomRow(random, 2 * half);
		std::vector<uint8_t> cu(half), cv(half);
		for (int k = 0; k < half; k++) {
			cu[k] = uv[2 * k];
			cv[k] = uv[2 * k + 1];
		}
		for (bool cosited : { false, true }) {
			std::vector<uint8_t> refU(width), refV(width);
			kernels::forceScalar(true);
			kernels::upsampleH(cu.data(), refU.data(), width, cosited);
			kernels::upsampleH(cv.data(), refV.data(), width, cosited);
			for (bool scalar : { true, false }) {
				kernels::forceScalar(scalar);
				std::vector<uint8_t> u(width, 0x5a), v(width, 0xa5);
				kernels::upsampleHInterleaved(uv.data(), u.data(), v.data(), width, cosited);
				ASSERT_EQ(refU, u) << "U, width " << width << " cosited " << cosited
						   << " scalar " << scalar;
				ASSERT_EQ(refV, v) << "V, width " << width << " cosited " << cosited
						   << " scalar " << scalar;
			}
#if ZCCONVERT_HAVE_X86
			using Form = int (*)(const uint8_t *, uint8_t *, uint8_t *, int, bool);
			std::vector<std::pair<const char *, Form>> forms = {
				{ "SSE2", kernels::x86::upsampleHInterleavedSse2 }
			};
			if (kernels::x86::haveAvx2())
				forms.emplace_back("AVX2", kernels::x86::upsampleHInterleavedAvx2);
			if (kernels::x86::haveAvx512())
				forms.emplace_back("AVX-512", kernels::x86::upsampleHInterleavedAvx512);
			for (auto [name, form] : forms) {
				std::vector<uint8_t> u(width + 64, 0x5a), v(width + 64, 0xa5);
				int pairs = form(uv.data(), u.data(), v.data(), width, cosited);
				int from = cosited ? 0 : 1, to = pairs ? 2 * pairs + from : 0;
				ASSERT_LE(to, width) << name << ", width " << width;
				/* Long rows take the vector loop. */
				if (width >= 256) {
					ASSERT_GT(pairs, 0) << name << ", width " << width;
				}
				for (int i = from; i < to; i++) {
					ASSERT_EQ(refU[i], u[i]) << name << " U pixel " << i << ", width " << width;
					ASSERT_EQ(refV[i], v[i]) << name << " V pixel " << i << ", width " << width;
				}
				/* Nothing written past what it says it did. */
				for (int i = to ? to : from; i < width + 64; i++) {
					ASSERT_EQ(u[i], 0x5a) << name << " wrote U pixel " << i;
					ASSERT_EQ(v[i], 0xa5) << name << " wrote V pixel " << i;
				}
			}
#endif
		}
	}
}

/* The filters' arithmetic, spelled out on a few samples. */
TEST_F(Kernels, ChromaFiltersFollowVideoChroma)
{
	const uint8_t c[3] = { 0, 100, 200 };
	uint8_t out[6];
	kernels::forceScalar(true);
	kernels::upsampleH(c, out, 6, true);
	/* Cosited: samples at even pixels, rounded averages between. */
	EXPECT_EQ(std::vector<uint8_t>(out, out + 6), (std::vector<uint8_t>{ 0, 50, 100, 150, 200, 200 }));
	kernels::upsampleH(c, out, 6, false);
	/* Centred: 3:1 towards the nearer sample, edges kept. */
	EXPECT_EQ(std::vector<uint8_t>(out, out + 6), (std::vector<uint8_t>{ 0, 25, 75, 125, 175, 200 }));
	const uint8_t p[6] = { 0, 4, 8, 12, 16, 20 };
	uint8_t half[3];
	kernels::downsampleH(p, half, 6, false);
	EXPECT_EQ(std::vector<uint8_t>(half, half + 3), (std::vector<uint8_t>{ 2, 10, 18 }));
	kernels::downsampleH(p, half, 6, true);
	/* Cosited: (3a + b + 2) >> 2 first, [1 2 1] inside, (a + 3b) last. */
	EXPECT_EQ(std::vector<uint8_t>(half, half + 3), (std::vector<uint8_t>{ 1, 8, 15 }));
}

/* The matrices come out as videoconvert's (its debug log prints these). */
TEST(Matrix, Bt601LimitedToRgbIsVideoconverts)
{
	ColorMatrix m = yuvToRgbMatrix("bt601");
	EXPECT_EQ(m.coefficients[0], (std::array<int, 4>{ 298, 0, 409, -57068 }));
	EXPECT_EQ(m.coefficients[1], (std::array<int, 4>{ 298, -100, -208, 34707 }));
	EXPECT_EQ(m.coefficients[2], (std::array<int, 4>{ 298, 516, 0, -70870 }));
}

TEST(Matrix, UnknownYuvMatrixIsRefused)
{
	GstVideoInfo in, out;
	gst_video_info_set_format(&in, GST_VIDEO_FORMAT_I420, 16, 16);
	gst_video_info_set_format(&out, GST_VIDEO_FORMAT_BGRx, 16, 16);
	in.colorimetry.matrix = GST_VIDEO_COLOR_MATRIX_UNKNOWN;
	ColorMatrix m;
	std::string error;
	EXPECT_FALSE(computeMatrix(in, out, m, error));
	EXPECT_NE(error.find("unknown"), std::string::npos);
}

/* A runner whose threads after the first @good cannot be started. */
class FailingRunner : public BandRunner
{
public:
	explicit FailingRunner(int good) : good_(good) {}

protected:
	std::thread startThread(int worker) override
	{
		if (worker > good_)
			throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
		return BandRunner::startThread(worker);
	}

private:
	int good_;
};

/* A thread that cannot start is an error, not an exception, and the runner
 * still runs every band (on the caller's thread). */
TEST(BandRunner, ThreadStartFailureIsAnError)
{
	FailingRunner runner(2);
	std::string error;
	EXPECT_FALSE(runner.setThreads(4, error));
	EXPECT_NE(error.find("cannot start conversion thread 3 of 4"), std::string::npos) << error;
	EXPECT_EQ(runner.threads(), 1u);
	std::atomic<int> ran{ 0 };
	runner.run(8, [&](int, int) { ran++; });
	EXPECT_EQ(ran, 8);
	/* Fewer threads that can start: fine again. */
	EXPECT_TRUE(runner.setThreads(3, error));
	EXPECT_EQ(runner.threads(), 3u);
}

/* The bands really run on several threads. */
TEST(BandRunner, BandsRunOnSeveralThreads)
{
	BandRunner runner;
	std::string error;
	ASSERT_TRUE(runner.setThreads(4, error)) << error;
	std::mutex mutex;
	std::set<std::thread::id> seen;
	std::atomic<int> inside{ 0 }, most{ 0 };
	runner.run(64, [&](int, int) {
		int now = ++inside;
		int was = most.load();
		while (now > was && !most.compare_exchange_weak(was, now)) {
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
		--inside;
		std::lock_guard<std::mutex> lock(mutex);
		seen.insert(std::this_thread::get_id());
	});
	EXPECT_GT(seen.size(), 1u);
	EXPECT_GT(most.load(), 1);
}

long residentBytes()
{
	std::ifstream statm("/proc/self/statm");
	long size = 0, resident = 0;
	statm >> size >> resident;
	return resident * sysconf(_SC_PAGESIZE);
}

GstVideoInfo videoInfo(GstVideoFormat format, int width, int height)
{
	GstVideoInfo info;
	EXPECT_TRUE(gst_video_info_set_format(&info, format, width, height));
	return info;
}

/* A plan's scratch images are allocated, not written: configuring a
 * conversion with a 256 MiB intermediate makes the process no bigger (the
 * old code zero-filled every byte on the streaming thread). */
TEST(Converter, ScratchIsNotZeroFilled)
{
	Converter converter;
	std::string error;
	long before = residentBytes();
	ASSERT_TRUE(converter.configure(videoInfo(GST_VIDEO_FORMAT_GRAY8, 8192, 8192),
					videoInfo(GST_VIDEO_FORMAT_RGBA, 8192, 8193), error))
		<< error;
	long after = residentBytes();
	EXPECT_GE(converter.scratchBytes(), 256u << 20);
	EXPECT_LT(after - before, 16l << 20) << "scratch images were written at configuration";
}

/* The bound is kept whole: scratch images that would need more than
 * kMaxScratchBytes together are refused before any is allocated. */
TEST(Converter, ScratchBoundRefusesThePlan)
{
	Converter converter;
	std::string error;
	/* Enlarging GRAY8 to RGBA converts first: the intermediate is RGBA at
	 * the input's size, here 64 KiB over the bound. */
	EXPECT_FALSE(converter.configure(videoInfo(GST_VIDEO_FORMAT_GRAY8, 16384, 16385),
					 videoInfo(GST_VIDEO_FORMAT_RGBA, 16384, 16386), error));
	EXPECT_NE(error.find("bound of 1073741824 bytes"), std::string::npos) << error;
	EXPECT_EQ(converter.scratchBytes(), 0u);
	EXPECT_TRUE(converter.configure(videoInfo(GST_VIDEO_FORMAT_GRAY8, 8192, 8192),
					videoInfo(GST_VIDEO_FORMAT_RGBA, 8192, 8193), error))
		<< error;
	EXPECT_LE(converter.scratchBytes(), kMaxScratchBytes);
}

} /* namespace */
