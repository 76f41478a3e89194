/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcjpegdec against jpegdec and libjpeg's own raw decode: pixels, formats,
 * threads, DCT scaling, containers and parsers in front, camera caps, bad
 * data, sizes, renegotiation, seeking and the memory it decodes into.
 */
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gst/allocators/allocators.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <jpeglib.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <zcbuf/statistics.h>

#include "address_space_limit.h"
#include "backend_test.h"
#include "memory_counts.h"
#include "jpeg_reference.h"
#include "media.h"

using namespace zcbuf;
using namespace zcbuf::test;

namespace {

class JpegDecTest : public test::BackendTest
{
protected:
	/* "zcjpegdec backend=... <extra>" */
	std::string zcjpegdec(const std::string &extra = "") const
	{
		return std::string("zcjpegdec backend=") + spec() + " " + extra;
	}

	/* Decodes @input with @decoder, then through @caps (a caps filter
	 * string, or empty) into an appsink. */
	Samples decode(const Stream &input, const std::string &decoder,
		       const std::string &caps = "") const
	{
		std::string description = "appsrc name=src ! " + decoder + " ! ";
		if (!caps.empty())
			description += caps + " ! ";
		description += "appsink name=sink sync=false";
		return runPipeline(description, &input);
	}
};

/* A JPEG truncated after @keep of its bytes. */
GstBuffer *truncated(GstBuffer *jpeg, gsize keep)
{
	return gst_buffer_copy_region(jpeg, GST_BUFFER_COPY_ALL, 0, keep);
}

GstBuffer *bufferOf(const std::vector<std::uint8_t> &bytes)
{
	GstBuffer *buffer = gst_buffer_new_allocate(nullptr, bytes.size(), nullptr);
	gst_buffer_fill(buffer, 0, bytes.data(), bytes.size());
	return buffer;
}

/* Removes every marker segment @marker (e.g. 0xC4, DHT) before the first
 * SOS, as MJPEG cameras do with the standard Huffman tables (AVI1). */
GstBuffer *withoutSegments(GstBuffer *jpeg, std::uint8_t marker)
{
	std::vector<std::uint8_t> in = bytesOf(jpeg), out(in.begin(), in.begin() + 2);
	std::size_t pos = 2;
	while (pos + 4 <= in.size()) {
		std::uint8_t m = in[pos + 1];
		std::size_t length = static_cast<std::size_t>(in[pos + 2]) << 8 | in[pos + 3];
		if (m == 0xda) {
			out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pos), in.end());
			break;
		}
		if (m != marker)
			out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
				   in.begin() + static_cast<std::ptrdiff_t>(pos + 2 + length));
		pos += 2 + length;
	}
	GstBuffer *buffer = bufferOf(out);
	gst_buffer_copy_into(buffer, jpeg, GST_BUFFER_COPY_METADATA, 0, -1);
	return buffer;
}

/* Checks every component against libjpeg's raw decode: exact where the
 * sizes agree, within 1 of a box average where zcjpegdec resamples chroma. */
void expectMatchesReference(GstSample *sample, const ReferenceImage &reference,
			    const std::string &what)
{
	ASSERT_EQ(reference.error, "") << what;
	const GstVideoFormatInfo *info = gst_video_format_get_info(sampleFormat(sample));
	ASSERT_EQ(GST_VIDEO_FORMAT_INFO_N_COMPONENTS(info), reference.components.size()) << what;
	for (guint c = 0; c < reference.components.size(); c++) {
		Plane ours = component(sample, static_cast<int>(c));
		const Plane &theirs = reference.components[c];
		if (ours.width == theirs.width && ours.height == theirs.height) {
			EXPECT_EQ(comparePlanes(ours, theirs), "") << what << ", component " << c;
		} else {
			ASSERT_GT(c, 0u) << what << ": luma is never resampled";
			EXPECT_LE(maxDifference(ours, boxDown(theirs, ours.width, ours.height)), 1)
				<< what << ", component " << c << " resampled from "
				<< theirs.width << "x" << theirs.height << " to " << ours.width
				<< "x" << ours.height;
		}
	}
}

const char *naturalFormat(const std::string &raw)
{
	return raw == "I420" ? "I420" : raw == "Y42B" ? "Y42B" : raw == "Y444" ? "Y444" : "GRAY8";
}

/* Pixels */

TEST_P(JpegDecTest, SamePixelsAsJpegdecForEverySampling)
{
	struct Size {
		int width, height;
	};
	const std::vector<Size> sizes = { { 320, 240 }, { 33, 17 }, { 1001, 333 } };
	for (const char *format : { "I420", "Y42B", "Y444", "GRAY8" }) {
		for (Size size : sizes) {
			std::string what = std::string(format) + " " + std::to_string(size.width) +
					   "x" + std::to_string(size.height);
			Stream jpegs = encodeJpegs(format, size.width, size.height, 2, "smpte");
			Samples ours = decode(jpegs, zcjpegdec());
			Samples theirs = decode(jpegs, "jpegdec");
			ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
			ASSERT_EQ(ours.size(), 2u) << what;
			ASSERT_EQ(theirs.size(), 2u) << what;
			for (std::size_t i = 0; i < ours.size(); i++) {
				EXPECT_STREQ(gst_video_format_to_string(sampleFormat(ours.samples[i])),
					     naturalFormat(format))
					<< what;
				expectMatchesReference(
					ours.samples[i],
					referenceDecode(jpegs.buffers[i], 1, JDCT_IFAST), what);
				/* jpegdec gives I420 for every YCbCr JPEG. */
				EXPECT_EQ(comparePlanes(component(ours.samples[i], 0),
							component(theirs.samples[i], 0)),
					  "")
					<< what << " luma vs jpegdec";
			}
			std::string f = format;
			if (f == "I420" || f == "GRAY8") {
				for (std::size_t i = 0; i < ours.size(); i++)
					EXPECT_EQ(compareFrames(ours.samples[i], theirs.samples[i]), "")
						<< what << " vs jpegdec";
			} else if (size.width % 2 == 0 && size.height % 2 == 0) {
				/* jpegdec decimates 4:2:2/4:4:4 chroma to 4:2:0 by taking
				 * odd rows (and even columns): ours must hold exactly
				 * those samples. */
				int fx = f == "Y444" ? 2 : 1;
				for (int c = 1; c < 3; c++) {
					Plane mine = component(ours.samples[0], c);
					Plane jd = component(theirs.samples[0], c);
					for (int y = 0; y < jd.height; y++)
						for (int x = 0; x < jd.width; x++)
							ASSERT_EQ(jd.at(x, y),
								  mine.at(x * fx, 2 * y + 1))
								<< what << " component " << c << " at "
								<< x << "," << y;
				}
			}
		}
	}
}

TEST_P(JpegDecTest, Nv12WhenDownstreamAsksForIt)
{
	Stream jpegs = encodeJpegs("I420", 322, 242, 2, "smpte");
	Samples ours = decode(jpegs, zcjpegdec(), "video/x-raw,format=NV12");
	Samples theirs = decode(jpegs, "jpegdec");
	ASSERT_EQ(ours.error, "") << ours.errorDebug;
	ASSERT_EQ(ours.size(), 2u);
	ASSERT_EQ(theirs.size(), 2u);
	for (std::size_t i = 0; i < 2; i++) {
		EXPECT_EQ(sampleFormat(ours.samples[i]), GST_VIDEO_FORMAT_NV12);
		for (int c = 0; c < 3; c++)
			EXPECT_EQ(comparePlanes(component(ours.samples[i], c),
						component(theirs.samples[i], c)),
				  "")
				<< "component " << c;
	}
}

TEST_P(JpegDecTest, I420AndNv12From422And444WhenDownstreamAsks)
{
	for (const char *format : { "Y42B", "Y444" }) {
		Stream jpegs = encodeJpegs(format, 322, 241, 1, "smpte");
		ReferenceImage reference = referenceDecode(jpegs.buffers[0], 1, JDCT_IFAST);
		for (const char *output : { "I420", "NV12" }) {
			std::string what = std::string(format) + " -> " + output;
			Samples ours = decode(jpegs, zcjpegdec("n-threads=2"),
					      std::string("video/x-raw,format=") + output);
			ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
			ASSERT_EQ(ours.size(), 1u) << what;
			EXPECT_STREQ(gst_video_format_to_string(sampleFormat(ours.samples[0])), output);
			expectMatchesReference(ours.samples[0], reference, what);
		}
	}
}

TEST_P(JpegDecTest, IdctMethodsMatchLibjpeg)
{
	Stream jpegs = encodeJpegs("I420", 176, 144, 1, "smpte");
	const std::vector<std::pair<const char *, int>> methods = {
		{ "islow", JDCT_ISLOW }, { "ifast", JDCT_IFAST }, { "float", JDCT_FLOAT }
	};
	for (const auto &[name, method] : methods) {
		Samples ours = decode(jpegs, zcjpegdec(std::string("idct-method=") + name));
		ASSERT_EQ(ours.size(), 1u) << name;
		expectMatchesReference(ours.samples[0], referenceDecode(jpegs.buffers[0], 1, method),
				       name);
	}
}

TEST_P(JpegDecTest, ProgressiveAndArithmeticCodedJpegs)
{
	Stream raw = rawFrames("I420", 322, 242, 2, "smpte");
	for (Coding coding : { Coding::Progressive, Coding::Arithmetic }) {
		Stream jpegs;
		jpegs.caps = gst_caps_from_string("image/jpeg,framerate=30/1");
		for (GstBuffer *frame : raw.buffers) {
			GstSample *sample = gst_sample_new(frame, raw.caps, nullptr, nullptr);
			std::vector<std::uint8_t> bytes = referenceEncode(sample, 85, coding);
			gst_sample_unref(sample);
			GstBuffer *jpeg = bufferOf(bytes);
			GST_BUFFER_PTS(jpeg) = GST_BUFFER_PTS(frame);
			jpegs.buffers.push_back(jpeg);
		}
		const char *what = coding == Coding::Progressive ? "progressive" : "arithmetic";
		Samples ours = decode(jpegs, zcjpegdec("n-threads=2"));
		Samples theirs = decode(jpegs, "jpegdec");
		ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
		ASSERT_EQ(ours.size(), 2u) << what;
		ASSERT_EQ(theirs.size(), 2u) << what;
		for (std::size_t i = 0; i < 2; i++) {
			EXPECT_EQ(compareFrames(ours.samples[i], theirs.samples[i]), "") << what;
			expectMatchesReference(ours.samples[i],
					       referenceDecode(jpegs.buffers[i], 1, JDCT_IFAST), what);
		}
	}
}

/* Threads */

/* zcjpegdec's messages while it lives (LOG and up), for what the element
 * did with a frame: its bands and the threads they ran on. */
class DecoderLog
{
public:
	DecoderLog()
	{
		gst_debug_set_threshold_for_name("zcjpegdec", GST_LEVEL_LOG);
		gst_debug_add_log_function(log, this, nullptr);
	}
	~DecoderLog()
	{
		gst_debug_remove_log_function_by_data(this);
		gst_debug_unset_threshold_for_name("zcjpegdec");
	}
	/* The messages that contain @text. */
	std::vector<std::string> with(const std::string &text)
	{
		std::lock_guard<std::mutex> lock(mutex_);
		std::vector<std::string> found;
		for (const std::string &line : lines_)
			if (line.find(text) != std::string::npos)
				found.push_back(line);
		return found;
	}

private:
	static void log(GstDebugCategory *category, GstDebugLevel, const gchar *, const gchar *,
			gint, GObject *, GstDebugMessage *message, gpointer data)
	{
		if (std::string(gst_debug_category_get_name(category)) != "zcjpegdec")
			return;
		auto *self = static_cast<DecoderLog *>(data);
		std::lock_guard<std::mutex> lock(self->mutex_);
		self->lines_.push_back(gst_debug_message_get(message));
	}
	std::mutex mutex_;
	std::vector<std::string> lines_;
};

/* The threads that decoded frames or bands, from zcjpegdec's LOG messages
 * ("frame 3 decoded on zcjpegdec-w1"). */
std::set<std::string> decodingThreads(DecoderLog &log)
{
	std::set<std::string> names;
	for (const std::string &line : log.with(" decoded on "))
		names.insert(line.substr(line.find(" decoded on ") + 12));
	return names;
}

TEST_P(JpegDecTest, ThreadsKeepOrderAndTimestamps)
{
	const int count = slowRun() ? 12 : 40;
	/* Frames large enough that one decode outlasts handing over the
	 * next (at 320x240 one worker could finish each frame before the
	 * next arrived, and alone decode all of them on a busy machine). */
	Stream jpegs = encodeJpegs("I420", 1280, 720, count, "ball");
	Samples single = decode(jpegs, zcjpegdec("n-threads=1"));
	Samples theirs = decode(jpegs, "jpegdec");
	ASSERT_EQ(single.size(), static_cast<std::size_t>(count));
	ASSERT_EQ(theirs.size(), static_cast<std::size_t>(count));
	for (int threads : { 2, 4 }) {
		DecoderLog log;
		Samples ours = decode(jpegs, zcjpegdec("n-threads=" + std::to_string(threads)));
		ASSERT_EQ(ours.error, "") << ours.errorDebug;
		/* More than one worker really decoded (a serial decode would
		 * pass every check below). */
		std::set<std::string> seen = decodingThreads(log);
		EXPECT_GE(seen.size(), 2u) << threads << " threads";
		for (const std::string &name : seen)
			EXPECT_EQ(name.rfind("zcjpegdec-w", 0), 0u) << name;
		ASSERT_EQ(ours.size(), static_cast<std::size_t>(count)) << threads << " threads";
		for (int i = 0; i < count; i++) {
			GstBuffer *out = ours.buffer(i);
			EXPECT_EQ(GST_BUFFER_PTS(out), GST_BUFFER_PTS(jpegs.buffers[i]))
				<< threads << " threads, frame " << i;
			EXPECT_EQ(GST_BUFFER_DURATION(out), GST_BUFFER_DURATION(jpegs.buffers[i]));
			EXPECT_EQ(compareFrames(ours.samples[i], single.samples[i]), "")
				<< threads << " threads, frame " << i;
			EXPECT_EQ(compareFrames(ours.samples[i], theirs.samples[i]), "")
				<< threads << " threads, frame " << i << " vs jpegdec";
		}
	}
}

/* n-threads is really used: a frame may wait for the n-1 decoded before
 * it, and the decoder says so in its latency (order and pixels alone would
 * not tell threads from a serial decode). */
TEST_P(JpegDecTest, ThreadsReportTheirLatency)
{
	Stream jpegs = encodeJpegs("I420", 64, 48, 1, "smpte");
	GstCaps *caps = gst_caps_copy(jpegs.caps);
	gst_caps_set_simple(caps, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
	for (guint threads : { 1u, 2u, 4u }) {
		GstHarness *h = gst_harness_new_parse(
			zcjpegdec("n-threads=" + std::to_string(threads)).c_str());
		gst_harness_set_src_caps(h, gst_caps_ref(caps));
		ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(jpegs.buffers[0])), GST_FLOW_OK);
		ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
		GstBuffer *out = gst_harness_pull(h);
		ASSERT_NE(out, nullptr) << threads << " threads";
		gst_buffer_unref(out);
		GstClockTime expected = threads > 1 ? threads * GST_SECOND / 30 : 0;
		EXPECT_EQ(gst_harness_query_latency(h), expected) << threads << " threads";
		gst_harness_teardown(h);
	}
	gst_caps_unref(caps);
}

/* Restart intervals */

/* @count frames of @format, @width x @height, with restart markers. */
Stream restartJpegs(const char *format, int width, int height, int count, Restarts restart,
		    Coding coding = Coding::Baseline)
{
	Stream raw = rawFrames(format, width, height, count, "ball");
	Stream jpegs;
	jpegs.caps = gst_caps_from_string("image/jpeg,framerate=30/1");
	for (GstBuffer *frame : raw.buffers) {
		GstSample *sample = gst_sample_new(frame, raw.caps, nullptr, nullptr);
		GstBuffer *jpeg = bufferOf(referenceEncode(sample, 85, coding, restart));
		gst_sample_unref(sample);
		GST_BUFFER_PTS(jpeg) = GST_BUFFER_PTS(frame);
		GST_BUFFER_DURATION(jpeg) = GST_BUFFER_DURATION(frame);
		jpegs.buffers.push_back(jpeg);
	}
	return jpegs;
}

/*
 * parallel=restart-intervals: each frame's intervals are decoded in as many
 * bands as there are threads (or intervals), on the streaming thread and the
 * workers at once, and the frames are those of the serial decode, byte for
 * byte: every sampling, odd sizes (a partial last MCU row), NV12 output
 * (chroma interleaved per band), the scaled IDCT, one MCU row per interval
 * and several.
 */
TEST_P(JpegDecTest, RestartIntervalsDecodeInBandsAsTheSerialDecode)
{
	struct Case {
		const char *format;
		int width, height;
		Restarts restart;
		const char *output;
		const char *scale;
	};
	const std::vector<Case> cases = {
		{ "I420", 640, 480, { 1, 0 }, "", "full" },
		{ "I420", 333, 251, { 2, 0 }, "video/x-raw,format=NV12", "full" },
		{ "Y42B", 322, 243, { 1, 0 }, "video/x-raw,format=I420", "full" },
		{ "Y444", 200, 130, { 3, 0 }, "", "full" },
		{ "GRAY8", 257, 99, { 1, 0 }, "", "full" },
		{ "I420", 640, 480, { 1, 0 }, "", "half" },
		{ "Y42B", 330, 250, { 2, 0 }, "", "quarter" },
	};
	for (const Case &c : cases) {
		std::string what = std::string(c.format) + " " + std::to_string(c.width) + "x" +
				   std::to_string(c.height) + " every " +
				   std::to_string(c.restart.rows) + " MCU rows " + c.output +
				   " scale=" + c.scale;
		Stream jpegs = restartJpegs(c.format, c.width, c.height, 3, c.restart);
		std::string scale = std::string("scale=") + c.scale;
		Samples serial = decode(jpegs, zcjpegdec("n-threads=1 " + scale), c.output);
		ASSERT_EQ(serial.size(), 3u) << what << ": " << serial.errorDebug;
		for (unsigned threads : { 2u, 3u, 4u }) {
			DecoderLog log;
			Samples ours = decode(jpegs,
					      zcjpegdec("parallel=restart-intervals n-threads=" +
							std::to_string(threads) + " " + scale),
					      c.output);
			ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
			ASSERT_EQ(ours.size(), 3u) << what;
			for (int i = 0; i < 3; i++)
				EXPECT_EQ(compareFrames(ours.samples[i], serial.samples[i]), "")
					<< what << ", " << threads << " threads, frame " << i;
			/* Every frame in @threads bands, and a worker decoded some. */
			std::string bands = " of " + std::to_string(threads) + " of frame ";
			EXPECT_EQ(log.with(bands).size(), 3u * threads) << what;
			EXPECT_FALSE(log.with(" decoded on zcjpegdec-w").empty()) << what;
			EXPECT_FALSE(log.with(" decoded on the streaming thread").empty()) << what;
		}
	}
}

/*
 * What cannot be split is decoded whole, and says why once: no DRI, an
 * interval that is not whole MCU rows, arithmetic coding. The frames are
 * still right.
 */
TEST_P(JpegDecTest, RestartIntervalsThatCannotBeSplitDecodeWhole)
{
	struct Case {
		Restarts restart;
		Coding coding;
		const char *reason;
	};
	const std::vector<Case> cases = {
		{ { 0, 0 }, Coding::Baseline, "no restart interval (DRI)" },
		{ { 0, 7 }, Coding::Baseline, "is not whole rows of" },
		{ { 1, 0 }, Coding::Arithmetic, "not a sequential Huffman-coded image" },
	};
	for (const Case &c : cases) {
		Stream jpegs = restartJpegs("I420", 320, 240, 2, c.restart, c.coding);
		Samples serial = decode(jpegs, zcjpegdec("n-threads=1"));
		ASSERT_EQ(serial.size(), 2u) << c.reason;
		DecoderLog log;
		Samples ours = decode(jpegs, zcjpegdec("parallel=restart-intervals n-threads=2"));
		ASSERT_EQ(ours.error, "") << c.reason << ": " << ours.errorDebug;
		ASSERT_EQ(ours.size(), 2u) << c.reason;
		for (int i = 0; i < 2; i++)
			EXPECT_EQ(compareFrames(ours.samples[i], serial.samples[i]), "") << c.reason;
		std::vector<std::string> whole = log.with("decoded whole, not in restart intervals");
		ASSERT_EQ(whole.size(), 1u) << c.reason;
		EXPECT_NE(whole[0].find(c.reason), std::string::npos) << whole[0];
		EXPECT_TRUE(log.with(" of 2 of frame ").empty()) << c.reason;
	}
}

/*
 * Damage in one band is that frame's error, counted against max-errors
 * like any damaged frame: the frames around it come out, and a band whose
 * markers are out of sequence is decoded whole, which reports the damage.
 */
TEST_P(JpegDecTest, RestartIntervalsDamagedBandIsAFrameError)
{
	Stream jpegs = restartJpegs("I420", 320, 240, 3, { 1, 0 });
	std::vector<std::uint8_t> bytes = bytesOf(jpegs.buffers[1]);
	/* The RST markers (no other FF Dx pair can occur: entropy data
	 * stuffs every FF with 00), to aim the damage. */
	std::vector<std::size_t> markers;
	for (std::size_t i = 0; i + 1 < bytes.size(); i++)
		if (bytes[i] == 0xff && (bytes[i + 1] & 0xf8) == 0xd0)
			markers.push_back(i);
	/* 240 rows of 16-row MCUs, one row per interval. */
	ASSERT_EQ(markers.size(), 14u);
	/* Interval 11 (in the second band) cut short: the band's decoder
	 * meets the next marker early. */
	std::vector<std::uint8_t> damaged = bytes;
	damaged.erase(damaged.begin() + static_cast<std::ptrdiff_t>(markers[10] + 2),
		      damaged.begin() + static_cast<std::ptrdiff_t>(markers[11] - 8));
	/* RST3 where RST4 belongs: not split, the whole decode finds it. */
	std::vector<std::uint8_t> reordered = bytes;
	reordered[markers[4] + 1] = 0xd3;
	const std::vector<std::pair<std::vector<std::uint8_t>, std::string>> cases = {
		{ damaged, "dropping frame 1: band 1: damaged or truncated data" },
		{ reordered, "dropping frame 1: damaged or truncated data" },
	};
	for (const auto &[bad, message] : cases) {
		DecoderLog log;
		Stream input;
		input.caps = gst_caps_ref(jpegs.caps);
		for (int i = 0; i < 3; i++) {
			GstBuffer *buffer = i == 1 ? bufferOf(bad) : gst_buffer_ref(jpegs.buffers[i]);
			GST_BUFFER_PTS(buffer) = GST_BUFFER_PTS(jpegs.buffers[i]);
			input.buffers.push_back(buffer);
		}
		Samples ours = decode(input, zcjpegdec("parallel=restart-intervals n-threads=2"));
		EXPECT_EQ(ours.error, "") << ours.errorDebug;
		EXPECT_EQ(log.with(message).size(), 1u) << message;
		ASSERT_EQ(ours.size(), 2u);
		EXPECT_EQ(GST_BUFFER_PTS(ours.buffer(0)), GST_BUFFER_PTS(jpegs.buffers[0]));
		EXPECT_EQ(GST_BUFFER_PTS(ours.buffer(1)), GST_BUFFER_PTS(jpegs.buffers[2]));
	}
}

/* Bands finish each frame before the next comes: no frame of latency per
 * thread, unlike parallel=frames. */
TEST_P(JpegDecTest, RestartIntervalsReportNoFrameLatency)
{
	Stream jpegs = restartJpegs("I420", 64, 48, 1, { 1, 0 });
	GstHarness *h = gst_harness_new_parse(
		zcjpegdec("parallel=restart-intervals n-threads=4").c_str());
	gst_harness_set_src_caps(h, gst_caps_ref(jpegs.caps));
	ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(jpegs.buffers[0])), GST_FLOW_OK);
	ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
	GstBuffer *out = gst_harness_pull(h);
	ASSERT_NE(out, nullptr);
	gst_buffer_unref(out);
	EXPECT_EQ(gst_harness_query_latency(h), 0u);
	gst_harness_teardown(h);
}

/* DCT scaling */

TEST_P(JpegDecTest, ScaledIdctMatchesLibjpegsScaledDecode)
{
	const std::vector<std::pair<const char *, unsigned>> scales = {
		{ "half", 2 }, { "quarter", 4 }, { "eighth", 8 }
	};
	for (const char *format : { "I420", "Y42B", "Y444", "GRAY8" }) {
		Stream jpegs = encodeJpegs(format, 330, 250, 1, "smpte");
		for (const auto &[name, denom] : scales) {
			std::string what = std::string(format) + " scale=" + name;
			Samples ours = decode(jpegs, zcjpegdec(std::string("scale=") + name));
			ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
			ASSERT_EQ(ours.size(), 1u) << what;
			GstVideoInfo info;
			ASSERT_TRUE(gst_video_info_from_caps(&info, gst_sample_get_caps(ours.samples[0])));
			EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), static_cast<int>((330 + denom - 1) / denom))
				<< what;
			EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), static_cast<int>((250 + denom - 1) / denom))
				<< what;
			EXPECT_STREQ(gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)),
				     naturalFormat(format))
				<< what;
			expectMatchesReference(ours.samples[0],
					       referenceDecode(jpegs.buffers[0], denom, JDCT_IFAST), what);
		}
	}
}

/* Containers, parsers, cameras */

struct ContainerCase {
	const char *name;
	const char *muxer;
	const char *demuxer;
};

TEST_P(JpegDecTest, AfterDemuxersParsersAndMultifilesrc)
{
	const int count = slowRun() ? 6 : 20;
	TempDir dir;
	const std::string produce = "videotestsrc num-buffers=" + std::to_string(count) +
				    " pattern=ball ! video/x-raw,format=I420,width=320,height=240,"
				    "framerate=30/1 ! jpegenc ! ";
	const std::vector<ContainerCase> containers = {
		{ "clip.avi", "avimux", "avidemux" },
		{ "clip.mkv", "matroskamux", "matroskademux" },
		{ "clip.mov", "qtmux", "qtdemux" },
	};
	std::vector<std::pair<std::string, std::string>> inputs; /* name, source part */
	for (const ContainerCase &c : containers) {
		std::string write = produce + c.muxer + " ! filesink location=" + dir.file(c.name);
		ASSERT_EQ(runToEos(write), "") << write;
		inputs.emplace_back(c.demuxer,
				    "filesrc location=" + dir.file(c.name) + " ! " + c.demuxer);
	}
	/* One file per frame, and the same frames concatenated. */
	Stream jpegs = encodeJpegs("I420", 320, 240, count, "ball");
	std::vector<std::uint8_t> all;
	for (std::size_t i = 0; i < jpegs.buffers.size(); i++) {
		gchar *name = g_strdup_printf("frame-%05zu.jpg", i);
		ASSERT_TRUE(writeFile(dir.file(name), jpegs.buffers[i]));
		g_free(name);
		std::vector<std::uint8_t> bytes = bytesOf(jpegs.buffers[i]);
		all.insert(all.end(), bytes.begin(), bytes.end());
		/* Junk between images, as a broken stream may have. */
		if (i == 3)
			all.insert(all.end(), { 0x00, 0x12, 0xff, 0x34 });
	}
	GstBuffer *concatenated = bufferOf(all);
	ASSERT_TRUE(writeFile(dir.file("all.mjpeg"), concatenated));
	gst_buffer_unref(concatenated);
	inputs.emplace_back("multifilesrc", "multifilesrc location=" + dir.file("frame-%05d.jpg") +
						    " caps=image/jpeg,framerate=30/1");
	inputs.emplace_back("jpegparse", "filesrc location=" + dir.file("all.mjpeg") + " ! jpegparse");
	inputs.emplace_back("byte stream", "filesrc location=" + dir.file("all.mjpeg"));

	for (const auto &[name, source] : inputs) {
		for (const char *threads : { "1", "2" }) {
			Samples ours = runPipeline(source + " ! " +
						   zcjpegdec(std::string("n-threads=") + threads) +
						   " ! appsink name=sink sync=false");
			Samples theirs = runPipeline(source + " ! jpegdec ! appsink name=sink sync=false");
			ASSERT_EQ(ours.error, "") << name << ": " << ours.errorDebug;
			ASSERT_EQ(ours.size(), static_cast<std::size_t>(count)) << name;
			ASSERT_EQ(theirs.size(), ours.size()) << name;
			for (std::size_t i = 0; i < ours.size(); i++) {
				EXPECT_EQ(compareFrames(ours.samples[i], theirs.samples[i]), "")
					<< name << ", frame " << i;
				EXPECT_EQ(GST_BUFFER_PTS(ours.buffer(i)), GST_BUFFER_PTS(theirs.buffer(i)))
					<< name << ", frame " << i;
			}
		}
	}
}

TEST_P(JpegDecTest, MjpegCameraCapsAndFrames)
{
	Stream jpegs = encodeJpegs("Y42B", 320, 240, 4, "ball");
	Samples reference = decode(jpegs, zcjpegdec());
	ASSERT_EQ(reference.size(), 4u);

	/* Frames as cameras send them: without EOI, without Huffman tables
	 * (the standard ones, AVI1 style). */
	Stream camera;
	for (std::size_t i = 0; i < jpegs.buffers.size(); i++) {
		GstBuffer *frame = jpegs.buffers[i];
		if (i == 1)
			frame = truncated(frame, gst_buffer_get_size(frame) - 2);
		else if (i == 2)
			frame = withoutSegments(frame, 0xc4);
		else
			frame = gst_buffer_ref(frame);
		camera.buffers.push_back(frame);
	}
	const std::vector<const char *> capsList = {
		"image/jpeg,width=320,height=240,framerate=30/1",
		"image/jpeg,parsed=true,width=320,height=240,framerate=30/1,sof-marker=0,"
		"pixel-aspect-ratio=1/1",
		"image/jpeg",
	};
	for (const char *caps : capsList) {
		camera.caps = gst_caps_from_string(caps);
		Samples ours = decode(camera, zcjpegdec("n-threads=2"));
		gst_clear_caps(&camera.caps);
		ASSERT_EQ(ours.error, "") << caps << ": " << ours.errorDebug;
		ASSERT_EQ(ours.size(), 4u) << caps;
		for (std::size_t i = 0; i < 4; i++)
			EXPECT_EQ(compareFrames(ours.samples[i], reference.samples[i]), "")
				<< caps << ", frame " << i;
	}
}

/* Bad data */

Stream badStream(const Stream &jpegs)
{
	Stream bad;
	bad.caps = gst_caps_copy(jpegs.caps);
	auto add = [&](GstBuffer *buffer, std::size_t slot) {
		GST_BUFFER_PTS(buffer) = GST_BUFFER_PTS(jpegs.buffers[slot]);
		GST_BUFFER_DURATION(buffer) = GST_BUFFER_DURATION(jpegs.buffers[slot]);
		bad.buffers.push_back(buffer);
	};
	std::vector<std::uint8_t> garbage(3000);
	for (std::size_t i = 0; i < garbage.size(); i++)
		garbage[i] = static_cast<std::uint8_t>(i * 7919 % 251);
	/* good, garbage, good, cut at half, good, empty, good, garbage after
	 * a real SOI */
	add(gst_buffer_copy(jpegs.buffers[0]), 0);
	add(bufferOf(garbage), 1);
	add(gst_buffer_copy(jpegs.buffers[2]), 2);
	add(truncated(jpegs.buffers[3], gst_buffer_get_size(jpegs.buffers[3]) / 2), 3);
	add(gst_buffer_copy(jpegs.buffers[4]), 4);
	add(gst_buffer_new(), 5);
	add(gst_buffer_copy(jpegs.buffers[6]), 6);
	std::vector<std::uint8_t> soiThenGarbage = { 0xff, 0xd8 };
	soiThenGarbage.insert(soiThenGarbage.end(), garbage.begin(), garbage.end());
	add(bufferOf(soiThenGarbage), 7);
	return bad;
}

TEST_P(JpegDecTest, CorruptTruncatedAndEmptyFramesAreCountedErrors)
{
	Stream jpegs = encodeJpegs("I420", 320, 240, 8, "ball");
	Stream bad = badStream(jpegs);
	for (const char *threads : { "1", "3" }) {
		/* Never fail: the good frames come out, the bad are dropped. */
		Samples ours = decode(bad, zcjpegdec(std::string("max-errors=-1 n-threads=") + threads));
		EXPECT_EQ(ours.error, "") << ours.errorDebug;
		EXPECT_TRUE(ours.eos);
		ASSERT_EQ(ours.size(), 4u);
		for (std::size_t i = 0; i < 4; i++)
			EXPECT_EQ(GST_BUFFER_PTS(ours.buffer(i)), GST_BUFFER_PTS(jpegs.buffers[2 * i]));

		/* Fail on the first bad frame. */
		Samples strict = decode(bad, zcjpegdec(std::string("max-errors=0 n-threads=") + threads));
		EXPECT_EQ(strict.error, "Failed to decode JPEG image");
		EXPECT_NE(strict.errorDebug.find("frame 1:"), std::string::npos) << strict.errorDebug;
		EXPECT_EQ(strict.size(), 1u);
	}

	/* Each kind of damage on its own, with a clear reason. */
	struct Case {
		GstBuffer *buffer;
		const char *reason;
	};
	std::vector<Case> cases = {
		{ bad.buffers[1], "Not a JPEG file" },
		{ bad.buffers[3], "damaged or truncated data" },
		{ bad.buffers[5], "the buffer is empty" },
	};
	for (const Case &c : cases) {
		Stream one;
		one.caps = gst_caps_copy(jpegs.caps);
		one.buffers.push_back(gst_buffer_ref(c.buffer));
		Samples strict = decode(one, zcjpegdec("max-errors=0"));
		EXPECT_EQ(strict.error, "Failed to decode JPEG image");
		EXPECT_NE(strict.errorDebug.find(c.reason), std::string::npos) << strict.errorDebug;
	}
}

/* A JPEG whose frame header claims @width x @height. */
GstBuffer *withSize(GstBuffer *jpeg, unsigned width, unsigned height)
{
	std::vector<std::uint8_t> bytes = bytesOf(jpeg);
	for (std::size_t i = 2; i + 9 < bytes.size(); i++) {
		if (bytes[i] == 0xff && bytes[i + 1] == 0xc0) {
			bytes[i + 5] = static_cast<std::uint8_t>(height >> 8);
			bytes[i + 6] = static_cast<std::uint8_t>(height);
			bytes[i + 7] = static_cast<std::uint8_t>(width >> 8);
			bytes[i + 8] = static_cast<std::uint8_t>(width);
			break;
		}
	}
	GstBuffer *buffer = bufferOf(bytes);
	gst_buffer_copy_into(buffer, jpeg, GST_BUFFER_COPY_METADATA, 0, -1);
	return buffer;
}

/* The frame header (SOF0) of @jpeg: its offset, or 0 if none. */
std::size_t sofOffset(const std::vector<std::uint8_t> &bytes)
{
	for (std::size_t i = 2; i + 9 < bytes.size(); i++)
		if (bytes[i] == 0xff && bytes[i + 1] == 0xc0)
			return i;
	return 0;
}

TEST_P(JpegDecTest, AHeaderClaimingAHugePictureIsRefusedBeforeAllocating)
{
	/* 64x48 worth of data under a 30000x30000 header, on every backend:
	 * refused by max-pixels before negotiation, so no pool exists and
	 * nothing is allocated; the good frame after it decodes. */
	Stream jpegs = encodeJpegs("I420", 64, 48, 2, "ball");
	GstHarness *h = gst_harness_new_parse(zcjpegdec("max-errors=-1").c_str());
	guint64 maxPixels = 0;
	GstElement *dec = gst_harness_find_element(h, "zcjpegdec");
	g_object_get(dec, "max-pixels", &maxPixels, nullptr);
	EXPECT_EQ(maxPixels, 8192u * 4320u) << "the documented default";
	gst_object_unref(dec);
	gst_harness_set_src_caps(h, gst_caps_copy(jpegs.caps));
	EXPECT_EQ(gst_harness_push(h, withSize(jpegs.buffers[0], 30000, 30000)), GST_FLOW_OK);
	GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
	EXPECT_EQ(caps, nullptr) << "negotiated (and allocated) for a refused header";
	gst_clear_caps(&caps);
	EXPECT_EQ(gst_harness_buffers_received(h), 0u);
	EXPECT_EQ(gst_harness_push(h, gst_buffer_ref(jpegs.buffers[1])), GST_FLOW_OK);
	EXPECT_EQ(gst_harness_buffers_received(h), 1u);
	gst_harness_teardown(h);

	Stream lying;
	lying.caps = gst_caps_copy(jpegs.caps);
	lying.buffers.push_back(withSize(jpegs.buffers[0], 8193, 4320));
	Samples strict = decode(lying, zcjpegdec("max-errors=0"));
	EXPECT_EQ(strict.error, "Failed to decode JPEG image");
	EXPECT_NE(strict.errorDebug.find("more than max-pixels (35389440)"), std::string::npos)
		<< strict.errorDebug;
	/* A lower limit refuses a real picture; the limit is decoded pixels. */
	Samples limited = decode(jpegs, zcjpegdec("max-errors=0 max-pixels=3071"));
	EXPECT_NE(limited.errorDebug.find("64x48 picture (3072 pixels)"), std::string::npos)
		<< limited.errorDebug;
	Samples scaled = decode(jpegs, zcjpegdec("max-errors=0 max-pixels=3071 scale=half"));
	EXPECT_EQ(scaled.error, "") << scaled.errorDebug;
	EXPECT_EQ(scaled.size(), 2u);
}

TEST_P(JpegDecTest, APictureGstVideoInfoCannotDescribeIsANegotiationError)
{
	/* 46341x46341 4:2:0 is more than GstVideoInfo's plane arithmetic
	 * holds: gst_video_decoder_set_output_state() returns NULL (which
	 * once crashed the decoder). Raised max-pixels lets it get there. */
	Stream jpegs = encodeJpegs("I420", 64, 48, 1, "ball");
	Stream lying;
	lying.caps = gst_caps_copy(jpegs.caps);
	lying.buffers.push_back(withSize(jpegs.buffers[0], 46341, 46341));
	Samples ours = decode(lying, zcjpegdec("max-pixels=4294836225"));
	EXPECT_EQ(ours.error, "This JPEG's picture size cannot be described as raw video.");
	EXPECT_NE(ours.errorDebug.find("46341x46341 I420"), std::string::npos) << ours.errorDebug;
	EXPECT_EQ(ours.size(), 0u);
}

TEST_P(JpegDecTest, EveryHeaderSizeGivesACleanErrorOrACorrectFrame)
{
	/* Real pictures from 1x1 to the widest and tallest libjpeg encodes
	 * (65500), in every sampling; then headers claiming sizes up to the
	 * largest a SOF holds over a small picture's data. Each one either
	 * decodes to the right pixels or fails with a reason, never crashes. */
	struct Size {
		unsigned width, height;
	};
	const std::vector<Size> real = { { 1, 1 }, { 2, 2 }, { 9, 17 }, { 16, 16 },
					 { 65500, 1 }, { 1, 65500 } };
	const std::vector<Size> claimed = { { 1, 1 },	      { 65500, 8 },    { 8192, 4320 },
					    { 8193, 4320 },   { 30000, 30000 }, { 65500, 65500 },
					    { 65535, 1 },     { 65535, 65535 } };
	for (const char *format : { "I420", "Y42B", "Y444", "GRAY8" }) {
		for (Size size : real) {
			std::string what = std::string(format) + " " + std::to_string(size.width) +
					   "x" + std::to_string(size.height);
			Stream jpegs = encodeJpegs(format, static_cast<int>(size.width),
						   static_cast<int>(size.height), 1, "smpte");
			Samples ours = decode(jpegs, zcjpegdec("max-errors=0"));
			ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
			ASSERT_EQ(ours.size(), 1u) << what;
			expectMatchesReference(ours.samples[0],
					       referenceDecode(jpegs.buffers[0], 1, JDCT_IFAST), what);
		}
		Stream small = encodeJpegs(format, 16, 16, 1, "smpte");
		for (Size size : claimed) {
			std::string what = std::string(format) + " claiming " +
					   std::to_string(size.width) + "x" +
					   std::to_string(size.height);
			Stream lying;
			lying.caps = gst_caps_copy(small.caps);
			lying.buffers.push_back(withSize(small.buffers[0], size.width, size.height));
			Samples ours = decode(lying, zcjpegdec("max-errors=0"));
			if (ours.error.empty()) {
				/* Only a claim of fewer pixels than the data holds
				 * decodes (1x1: libjpeg stops at the picture's end). */
				ASSERT_EQ(ours.size(), 1u) << what;
				expectMatchesReference(ours.samples[0],
						       referenceDecode(lying.buffers[0], 1, JDCT_IFAST),
						       what);
				continue;
			}
			EXPECT_EQ(ours.error, "Failed to decode JPEG image") << what;
			bool explained =
				ours.errorDebug.find("more than max-pixels") != std::string::npos ||
				ours.errorDebug.find("damaged or truncated data") != std::string::npos ||
				ours.errorDebug.find("Maximum supported image dimension") !=
					std::string::npos;
			EXPECT_TRUE(explained) << what << ": " << ours.errorDebug;
			EXPECT_EQ(ours.size(), 0u) << what;
		}
	}
}

/* @jpeg with its frame header's first component sampled @hv (0x41: 4:1:1,
 * 0x12: 4:4:0) and the others 1x1. */
GstBuffer *withSampling(GstBuffer *jpeg, std::uint8_t hv)
{
	std::vector<std::uint8_t> bytes = bytesOf(jpeg);
	std::size_t sof = sofOffset(bytes);
	bytes[sof + 11] = hv;
	bytes[sof + 14] = 0x11;
	bytes[sof + 17] = 0x11;
	GstBuffer *buffer = bufferOf(bytes);
	gst_buffer_copy_into(buffer, jpeg, GST_BUFFER_COPY_METADATA, 0, -1);
	return buffer;
}

/* @jpeg as an RGB JPEG: no JFIF marker and components named R, G, B
 * (which is how libjpeg tells RGB from YCbCr). */
GstBuffer *asRgb(GstBuffer *jpeg)
{
	GstBuffer *noJfif = withoutSegments(jpeg, 0xe0);
	std::vector<std::uint8_t> bytes = bytesOf(noJfif);
	gst_buffer_unref(noJfif);
	std::size_t sof = sofOffset(bytes);
	bytes[sof + 10] = 'R';
	bytes[sof + 13] = 'G';
	bytes[sof + 16] = 'B';
	/* The scan names its components by the same ids. */
	for (std::size_t i = sof; i + 9 < bytes.size(); i++) {
		if (bytes[i] == 0xff && bytes[i + 1] == 0xda) {
			bytes[i + 5] = 'R';
			bytes[i + 7] = 'G';
			bytes[i + 9] = 'B';
			break;
		}
	}
	GstBuffer *buffer = bufferOf(bytes);
	gst_buffer_copy_into(buffer, jpeg, GST_BUFFER_COPY_METADATA, 0, -1);
	return buffer;
}

TEST_P(JpegDecTest, UnsupportedSamplingsAndColourSpacesAreAClearErrorNotDamage)
{
	/* 4:1:1, 4:4:0 and RGB are valid JPEGs this decoder does not decode:
	 * the stream fails with the reason even when damage is tolerated
	 * (max-errors=-1), after the frames before it. */
	Stream jpegs = encodeJpegs("Y444", 64, 48, 3, "ball");
	struct Case {
		const char *name;
		GstBuffer *buffer;
		const char *reason;
	};
	std::vector<Case> cases = {
		{ "4:1:1", withSampling(jpegs.buffers[1], 0x41), "unsupported chroma sampling 4x1" },
		{ "4:4:0", withSampling(jpegs.buffers[1], 0x12), "unsupported chroma sampling 1x2" },
		{ "RGB", asRgb(jpegs.buffers[1]), "unsupported colour space RGB" },
	};
	for (Case &c : cases) {
		for (const char *threads : { "1", "2" }) {
			Stream stream;
			stream.caps = gst_caps_copy(jpegs.caps);
			stream.buffers.push_back(gst_buffer_ref(jpegs.buffers[0]));
			stream.buffers.push_back(gst_buffer_ref(c.buffer));
			stream.buffers.push_back(gst_buffer_ref(jpegs.buffers[2]));
			Samples ours = decode(stream, zcjpegdec(std::string("max-errors=-1 n-threads=") +
								threads));
			EXPECT_EQ(ours.error,
				  "This JPEG's colour space or chroma sampling is not supported.")
				<< c.name;
			EXPECT_NE(ours.errorDebug.find(std::string("frame 1: ") + c.reason),
				  std::string::npos)
				<< c.name << ": " << ours.errorDebug;
			EXPECT_EQ(ours.size(), 1u) << c.name;
		}
		gst_buffer_unref(c.buffer);
	}
}

TEST_P(JpegDecTest, ResynchronisesAfterACorruptRegionWithoutAParser)
{
	/* Ten pictures in a byte stream (no parser, no packetization), the
	 * fourth overwritten with random bytes after its first few: every
	 * intact picture still comes out, in order. Random bytes hold 0xFF
	 * and a length now and then; walking such a "segment" (or waiting
	 * for its end, past the end of the file) used to swallow the next
	 * pictures. (jpegdec loses them too on these streams, so it is not
	 * the reference here.) */
	const int count = 10;
	Stream jpegs = encodeJpegs("I420", 64, 48, count, "ball");
	std::vector<Samples> intact;
	for (int i = 0; i < count; i++) {
		Stream one;
		one.caps = gst_caps_copy(jpegs.caps);
		one.buffers.push_back(gst_buffer_ref(jpegs.buffers[i]));
		intact.push_back(decode(one, zcjpegdec()));
		ASSERT_EQ(intact.back().size(), 1u);
	}
	TempDir dir;
	for (unsigned seed = 1; seed <= (slowRun() ? 3u : 12u); seed++) {
		std::vector<std::uint8_t> all;
		std::uint32_t random = seed * 2654435761u;
		for (int i = 0; i < count; i++) {
			std::vector<std::uint8_t> bytes = bytesOf(jpegs.buffers[i]);
			if (i == 3)
				for (std::size_t j = 20; j + 2 < bytes.size(); j++) {
					random = random * 1664525u + 1013904223u;
					bytes[j] = static_cast<std::uint8_t>(random >> 24);
				}
			all.insert(all.end(), bytes.begin(), bytes.end());
		}
		GstBuffer *stream = bufferOf(all);
		std::string file = dir.file("damaged-" + std::to_string(seed) + ".mjpeg");
		ASSERT_TRUE(writeFile(file, stream));
		gst_buffer_unref(stream);
		for (const char *decoder : { "zcjpegdec max-errors=-1", "zcjpegdec max-errors=-1 n-threads=2" }) {
			std::string what = std::string(decoder) + ", seed " + std::to_string(seed);
			Samples out = runPipeline("filesrc location=" + file + " blocksize=1000 ! " +
						  decoder + " ! appsink name=sink sync=false");
			ASSERT_EQ(out.error, "") << what << ": " << out.errorDebug;
			/* The intact pictures, in order, among what came out. */
			std::size_t next = 0;
			for (std::size_t o = 0; o < out.size() && next < intact.size(); o++) {
				if (next == 3)
					next++;
				GstVideoFormat ours = sampleFormat(out.samples[o]);
				if (ours == sampleFormat(intact[next].samples[0]) &&
				    compareFrames(out.samples[o], intact[next].samples[0]).empty())
					next++;
			}
			if (next == 3)
				next++;
			EXPECT_EQ(next, intact.size())
				<< what << ": lost intact picture " << next << " of " << count << " ("
				<< out.size() << " pictures out)";
		}
	}
}

TEST_P(JpegDecTest, MaxErrorsCountsConsecutiveBadFrames)
{
	Stream jpegs = encodeJpegs("I420", 64, 48, 6, "ball");
	Stream bad;
	bad.caps = gst_caps_copy(jpegs.caps);
	/* good, bad, good, bad, bad, bad */
	for (std::size_t i = 0; i < 6; i++) {
		bool broken = i == 1 || i >= 3;
		GstBuffer *buffer = broken ? truncated(jpegs.buffers[i], 100)
					   : gst_buffer_copy(jpegs.buffers[i]);
		bad.buffers.push_back(buffer);
	}
	/* Two bad in a row are tolerated, the third is not. */
	Samples ours = decode(bad, zcjpegdec("max-errors=2"));
	EXPECT_EQ(ours.error, "Failed to decode JPEG image");
	EXPECT_NE(ours.errorDebug.find("frame 5:"), std::string::npos) << ours.errorDebug;
	EXPECT_EQ(ours.size(), 2u);

	/* The default tolerates a few bad frames but not a stream of them. */
	Samples byDefault = decode(bad, zcjpegdec());
	EXPECT_EQ(byDefault.error, "") << byDefault.errorDebug;
	EXPECT_EQ(byDefault.size(), 2u);
	Stream garbage;
	garbage.caps = gst_caps_copy(jpegs.caps);
	for (int i = 0; i < 12; i++)
		garbage.buffers.push_back(truncated(jpegs.buffers[0], 50));
	Samples flood = decode(garbage, zcjpegdec());
	EXPECT_EQ(flood.error, "Failed to decode JPEG image");
}

/* Sizes */

TEST_P(JpegDecTest, TinyOddAndHugeSizes)
{
	struct Size {
		const char *format;
		int width, height;
	};
	std::vector<Size> sizes = {
		{ "I420", 1, 1 },    { "GRAY8", 1, 1 },  { "Y444", 1, 1 },  { "Y42B", 1, 1 },
		{ "I420", 2, 2 },    { "I420", 3, 5 },   { "I420", 17, 9 }, { "I420", 31, 33 },
		{ "I420", 4095, 2161 }, { "I420", 7680, 4320 },
	};
	for (const Size &size : sizes) {
		std::string what = std::string(size.format) + " " + std::to_string(size.width) + "x" +
				   std::to_string(size.height);
		Stream jpegs = encodeJpegs(size.format, size.width, size.height, 1, "smpte");
		Samples ours = decode(jpegs, zcjpegdec());
		Samples theirs = decode(jpegs, "jpegdec");
		ASSERT_EQ(ours.error, "") << what << ": " << ours.errorDebug;
		ASSERT_EQ(ours.size(), 1u) << what;
		ASSERT_EQ(theirs.size(), 1u) << what;
		expectMatchesReference(ours.samples[0], referenceDecode(jpegs.buffers[0], 1, JDCT_IFAST),
				       what);
		EXPECT_EQ(comparePlanes(component(ours.samples[0], 0), component(theirs.samples[0], 0)),
			  "")
			<< what << " luma vs jpegdec";
		if (sampleFormat(ours.samples[0]) == sampleFormat(theirs.samples[0])) {
			EXPECT_EQ(compareFrames(ours.samples[0], theirs.samples[0]), "") << what;
		}
	}
}

TEST_P(JpegDecTest, StridesWithAndWithoutVideoMeta)
{
	/* 1001 wide: the default I420 stride (1004) is narrower than
	 * libjpeg's whole blocks (1008). Without GstVideoMeta downstream the
	 * layout must stay the default one and rows are staged; with it the
	 * pool pads the stride and libjpeg writes straight into the planes. */
	Stream jpegs = encodeJpegs("I420", 1001, 333, 1, "smpte");
	Samples reference = decode(jpegs, "jpegdec");
	ASSERT_EQ(reference.size(), 1u);
	for (bool meta : { false, true }) {
		GstHarness *h = gst_harness_new_parse(zcjpegdec().c_str());
		if (meta)
			gst_harness_add_propose_allocation_meta(h, GST_VIDEO_META_API_TYPE, nullptr);
		gst_harness_set_src_caps(h, gst_caps_copy(jpegs.caps));
		ASSERT_EQ(gst_harness_push(h, gst_buffer_ref(jpegs.buffers[0])), GST_FLOW_OK);
		GstBuffer *out = gst_harness_pull(h);
		ASSERT_NE(out, nullptr);
		GstVideoMeta *vmeta = gst_buffer_get_video_meta(out);
		ASSERT_NE(vmeta, nullptr) << "the pool always attaches GstVideoMeta";
		if (meta)
			EXPECT_EQ(vmeta->stride[0] % 16, 0) << "padded for libjpeg's blocks";
		else
			EXPECT_EQ(vmeta->stride[0], 1004) << "default layout without VideoMeta support";
		GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
		GstSample *sample = gst_sample_new(out, caps, nullptr, nullptr);
		EXPECT_EQ(compareFrames(sample, reference.samples[0]), "") << "meta " << meta;
		gst_sample_unref(sample);
		gst_caps_unref(caps);
		gst_buffer_unref(out);
		gst_harness_teardown(h);
	}
}

/* Caps changes, EOS, seeking */

TEST_P(JpegDecTest, RenegotiatesOnSizeAndSamplingChanges)
{
	struct Part {
		const char *format;
		int width, height;
		GstVideoFormat expected;
	};
	const std::vector<Part> parts = {
		{ "I420", 320, 240, GST_VIDEO_FORMAT_I420 },
		{ "Y42B", 160, 120, GST_VIDEO_FORMAT_Y42B },
		{ "GRAY8", 64, 48, GST_VIDEO_FORMAT_GRAY8 },
		{ "I420", 33, 17, GST_VIDEO_FORMAT_I420 },
	};
	Stream all;
	all.caps = gst_caps_from_string("image/jpeg,parsed=true,framerate=30/1");
	std::vector<Stream> pieces;
	for (const Part &part : parts)
		pieces.push_back(encodeJpegs(part.format, part.width, part.height, 3, "ball"));
	GstClockTime pts = 0;
	for (Stream &piece : pieces)
		for (GstBuffer *buffer : piece.buffers) {
			GstBuffer *copy = gst_buffer_copy(buffer);
			GST_BUFFER_PTS(copy) = pts;
			pts += GST_SECOND / 30;
			all.buffers.push_back(copy);
		}
	for (const char *threads : { "1", "2" }) {
		Samples ours = decode(all, zcjpegdec(std::string("n-threads=") + threads));
		ASSERT_EQ(ours.error, "") << ours.errorDebug;
		ASSERT_EQ(ours.size(), 12u);
		for (std::size_t i = 0; i < 12; i++) {
			const Part &part = parts[i / 3];
			GstVideoInfo info;
			ASSERT_TRUE(gst_video_info_from_caps(&info, gst_sample_get_caps(ours.samples[i])));
			EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&info), part.expected) << "frame " << i;
			EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), part.width) << "frame " << i;
			EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), part.height) << "frame " << i;
			EXPECT_EQ(GST_BUFFER_PTS(ours.buffer(i)), GST_BUFFER_PTS(all.buffers[i]));
			expectMatchesReference(ours.samples[i],
					       referenceDecode(all.buffers[i], 1, JDCT_IFAST),
					       "frame " + std::to_string(i));
		}
	}
}

TEST_P(JpegDecTest, FlushingSeekMidStream)
{
	const int count = slowRun() ? 30 : 60;
	TempDir dir;
	std::string file = dir.file("clip.mkv");
	std::string write = "videotestsrc num-buffers=" + std::to_string(count) +
			    " pattern=ball ! video/x-raw,format=I420,width=160,height=120,"
			    "framerate=30/1 ! jpegenc ! matroskamux ! filesink location=" + file;
	ASSERT_EQ(runToEos(write), "");
	Samples reference = runPipeline("filesrc location=" + file +
					" ! matroskademux ! jpegdec ! appsink name=sink sync=false");
	ASSERT_EQ(reference.size(), static_cast<std::size_t>(count));

	std::string description = "filesrc location=" + file + " ! matroskademux ! " +
				  zcjpegdec("n-threads=3") +
				  " ! appsink name=sink sync=false max-buffers=4";
	GstElement *pipeline = launch(description);
	ASSERT_NE(pipeline, nullptr);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
	for (int i = 0; i < 5; i++) {
		GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
		ASSERT_NE(sample, nullptr);
		gst_sample_unref(sample);
	}
	const int target = count / 2;
	GstClockTime position = gst_util_uint64_scale(target, GST_SECOND, 30);
	ASSERT_TRUE(gst_element_seek_simple(
		pipeline, GST_FORMAT_TIME,
		static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), position));
	std::vector<GstSample *> after;
	while (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND))
		after.push_back(sample);
	EXPECT_TRUE(gst_app_sink_is_eos(GST_APP_SINK(sink)));
	/* Frames queued before the seek may still be flushed out; from the
	 * first frame at the target on, all frames follow in order. */
	std::size_t first = 0;
	while (first < after.size() &&
	       GST_BUFFER_PTS(gst_sample_get_buffer(after[first])) != reference.buffer(target)->pts)
		first++;
	ASSERT_LT(first, after.size()) << "no frame at the seek target";
	EXPECT_EQ(after.size() - first, static_cast<std::size_t>(count - target));
	for (std::size_t i = first; i < after.size(); i++) {
		std::size_t frame = target + (i - first);
		if (frame >= reference.size())
			break;
		EXPECT_EQ(GST_BUFFER_PTS(gst_sample_get_buffer(after[i])), reference.buffer(frame)->pts);
		EXPECT_EQ(compareFrames(after[i], reference.samples[frame]), "") << "frame " << frame;
	}
	for (GstSample *sample : after)
		gst_sample_unref(sample);
	gst_object_unref(sink);
	destroyPipeline(pipeline);
}

/* Memory */

TEST_P(JpegDecTest, DecodesIntoRecycledZcbufMemory)
{
	const int count = slowRun() ? 10 : 60;
	Stream jpegs = encodeJpegs("I420", 640, 480, count, "ball");
	for (int threads : { 1, 2 }) {
		std::string description = "appsrc name=src ! " +
					  zcjpegdec("n-threads=" + std::to_string(threads)) +
					  " ! fakesink name=sink signal-handoffs=true sync=false";
		GstElement *pipeline = launch(description);
		ASSERT_NE(pipeline, nullptr);
		GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
		GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
		zcbuf::test::MemoryCounts counts;
		g_signal_connect(sink, "handoff", G_CALLBACK(zcbuf::test::countHandoff), &counts);
		g_object_set(src, "caps", jpegs.caps, "format", GST_FORMAT_TIME, nullptr);
		for (GstBuffer *buffer : jpegs.buffers)
			gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_ref(buffer));
		gst_app_src_end_of_stream(GST_APP_SRC(src));

		BackendStatistics before = statistics()[backend_->kind()];
		ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
		GstBus *bus = gst_element_get_bus(pipeline);
		GstMessage *done = gst_bus_timed_pop_filtered(
			bus, 60 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		ASSERT_NE(done, nullptr);
		EXPECT_EQ(GST_MESSAGE_TYPE(done), GST_MESSAGE_EOS);
		gst_message_unref(done);
		BackendStatistics during = statistics()[backend_->kind()];

		EXPECT_EQ(counts.buffers, count);
		EXPECT_EQ(counts.zcbuf, count) << "decoded into memory that is not zcbuf's";
		EXPECT_EQ(counts.dmabuf, dmabuf() ? count : 0);
		EXPECT_LE(counts.memories.size(), static_cast<std::size_t>(threads + 3))
			<< "buffers were not recycled";
		EXPECT_EQ(during.allocations - before.allocations, counts.memories.size())
			<< "one backing per pooled buffer, none per frame";
		gst_object_unref(bus);
		gst_object_unref(src);
		gst_object_unref(sink);
		destroyPipeline(pipeline);
	}
}

struct Proposal {
	std::string backend;
	GstBufferPool *pool = nullptr;
};

/* Answers the ALLOCATION query at the sink with a zcbuf pool and VideoMeta,
 * as zcthumbnail or another zcbuf consumer does, and keeps the pool. */
GstPadProbeReturn proposeZcbufPool(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
	if (GST_QUERY_TYPE(query) != GST_QUERY_ALLOCATION)
		return GST_PAD_PROBE_OK;
	Proposal *proposal = static_cast<Proposal *>(data);
	if (!gst_zcbuf_propose_allocation(query, 1, proposal->backend.c_str()))
		return GST_PAD_PROBE_OK;
	gst_clear_object(&proposal->pool);
	gst_query_parse_nth_allocation_pool(query, 0, &proposal->pool, nullptr, nullptr, nullptr);
	return GST_PAD_PROBE_HANDLED;
}

TEST_P(JpegDecTest, DecodesIntoTheDownstreamZcbufPool)
{
	Stream jpegs = encodeJpegs("I420", 1001, 333, 3, "ball");
	Samples reference = decode(jpegs, "jpegdec");
	ASSERT_EQ(reference.size(), 3u);
	std::string description = "appsrc name=src ! " + zcjpegdec("n-threads=2") +
				  " ! appsink name=sink sync=false";
	GstElement *pipeline = launch(description);
	ASSERT_NE(pipeline, nullptr);
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	Proposal proposal{ GetParam() };
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, proposeZcbufPool, &proposal,
			  nullptr);
	gst_object_unref(pad);
	g_object_set(src, "caps", jpegs.caps, "format", GST_FORMAT_TIME, nullptr);
	for (GstBuffer *buffer : jpegs.buffers)
		gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_ref(buffer));
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
	for (std::size_t i = 0; i < 3; i++) {
		GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
		ASSERT_NE(sample, nullptr);
		GstBuffer *buffer = gst_sample_get_buffer(sample);
		ASSERT_NE(proposal.pool, nullptr);
		EXPECT_EQ(buffer->pool, proposal.pool) << "not decoded into the proposed pool";
		GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
		ASSERT_NE(meta, nullptr);
		EXPECT_EQ(meta->stride[0] % 16, 0) << "strides padded for libjpeg's blocks";
		EXPECT_EQ(compareFrames(sample, reference.samples[i]), "") << "frame " << i;
		gst_sample_unref(sample);
	}
	gst_object_unref(src);
	gst_object_unref(sink);
	destroyPipeline(pipeline);
	gst_clear_object(&proposal.pool);
}

TEST_P(JpegDecTest, DmabufCapsOnlyForDmabufMemory)
{
	Stream jpegs = encodeJpegs("I420", 64, 48, 2, "ball");
	Samples ours = decode(jpegs, zcjpegdec(), "video/x-raw(memory:DMABuf)");
	if (dmabuf()) {
		ASSERT_EQ(ours.error, "") << ours.errorDebug;
		ASSERT_EQ(ours.size(), 2u);
		GstCapsFeatures *features = gst_caps_get_features(gst_sample_get_caps(ours.samples[0]), 0);
		EXPECT_TRUE(gst_caps_features_contains(features, GST_CAPS_FEATURE_MEMORY_DMABUF));
		EXPECT_TRUE(gst_is_dmabuf_memory(gst_buffer_peek_memory(ours.buffer(0), 0)));
	} else {
		EXPECT_EQ(ours.error, "Downstream accepts none of the formats this JPEG decodes to.");
		EXPECT_EQ(ours.size(), 0u);
	}
	Samples plain = decode(jpegs, zcjpegdec(), "video/x-raw");
	ASSERT_EQ(plain.size(), 2u);
	EXPECT_TRUE(gst_caps_features_is_equal(gst_caps_get_features(gst_sample_get_caps(plain.samples[0]), 0),
					       GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY));
}

TEST_P(JpegDecTest, UnacceptedFormatIsAClearNegotiationError)
{
	Stream jpegs = encodeJpegs("GRAY8", 64, 48, 1, "ball");
	Samples ours = decode(jpegs, zcjpegdec(), "video/x-raw,format=I420");
	EXPECT_EQ(ours.error, "Downstream accepts none of the formats this JPEG decodes to.");
	EXPECT_NE(ours.errorDebug.find("greyscale JPEG decodes to GRAY8"), std::string::npos)
		<< ours.errorDebug;
}

TEST_P(JpegDecTest, DecodingThreadsThatCannotBeMadeAreAnError)
{
	/* No address space left for the workers' stacks: start fails with an
	 * error naming the threads (std::system_error used to end the
	 * process), and the element starts again once there is room. */
	if (slowRun())
		GTEST_SKIP() << "valgrind keeps its own address space limits";
	GstElement *dec = gst_element_factory_make("zcjpegdec", nullptr);
	ASSERT_NE(dec, nullptr);
	g_object_set(dec, "n-threads", 4u, "backend", spec(), nullptr);
	std::string error;
	EXPECT_EQ(test::pauseWithoutAddressSpace(dec, &error), GST_STATE_CHANGE_FAILURE);
	EXPECT_NE(error.find("Cannot start 4 decoding threads."), std::string::npos) << error;
	EXPECT_NE(gst_element_set_state(dec, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
	gst_element_set_state(dec, GST_STATE_NULL);
	gst_object_unref(dec);
}

TEST_P(JpegDecTest, DecodebinUsesItOnlyWhenItsRankIsRaised)
{
	/* Rank none: decodebin picks jpegdec; with the rank raised as the
	 * element's page says, zcjpegdec. */
	Stream jpegs = encodeJpegs("I420", 64, 48, 1, "ball");
	TempDir dir;
	ASSERT_TRUE(writeFile(dir.file("photo.jpg"), jpegs.buffers[0]));
	GstPluginFeature *feature = GST_PLUGIN_FEATURE(gst_element_factory_find("zcjpegdec"));
	ASSERT_NE(feature, nullptr);
	EXPECT_EQ(gst_plugin_feature_get_rank(feature), static_cast<guint>(GST_RANK_NONE));
	auto decoderIn = [&]() {
		GstElement *pipeline = launch("filesrc location=" + dir.file("photo.jpg") +
					      " ! decodebin name=d ! fakesink");
		EXPECT_NE(gst_element_set_state(pipeline, GST_STATE_PAUSED),
			  GST_STATE_CHANGE_FAILURE);
		gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND);
		std::string found;
		GstElement *decodebin = gst_bin_get_by_name(GST_BIN(pipeline), "d");
		GstIterator *it = gst_bin_iterate_recurse(GST_BIN(decodebin));
		GValue item = G_VALUE_INIT;
		while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
			GstElementFactory *factory =
				gst_element_get_factory(GST_ELEMENT(g_value_get_object(&item)));
			std::string name = factory ? GST_OBJECT_NAME(factory) : "";
			if (name == "jpegdec" || name == "zcjpegdec")
				found = name;
			g_value_reset(&item);
		}
		g_value_unset(&item);
		gst_iterator_free(it);
		gst_object_unref(decodebin);
		destroyPipeline(pipeline);
		return found;
	};
	EXPECT_EQ(decoderIn(), "jpegdec");
	gst_plugin_feature_set_rank(feature, GST_RANK_PRIMARY + 1);
	EXPECT_EQ(decoderIn(), "zcjpegdec");
	gst_plugin_feature_set_rank(feature, GST_RANK_NONE);
	gst_object_unref(feature);
}

TEST_P(JpegDecTest, MissingBackendFailsToStart)
{
	Stream jpegs = encodeJpegs("I420", 64, 48, 1, "ball");
	Samples ours = decode(jpegs, "zcjpegdec backend=no-such-backend");
	EXPECT_EQ(ours.error.rfind("zcbuf backend 'no-such-backend' (asked for by the backend "
				   "property) is not available: unknown backend",
				   0),
		  0u)
		<< ours.error;
	EXPECT_EQ(ours.size(), 0u);
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(JpegDecTest);

} /* namespace */
