/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mission, end to end: real pipelines through zcjpegdec, zcconvert and
 * zcthumbnail, fed by jpegenc, jpegparse, demuxers and upstream decoders,
 * run under the zerocopy tracer in a process of their own, with the table
 * asserted link by link: from the decoder on, no buffer in system memory
 * and no copy. Run once per backend under test (in the VM: dma-buf memory,
 * which the table must show as such).
 */
#include <unistd.h>

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend_test.h"
#include "tracer_run.h"

namespace {

using zcbuf::test::runWithTracer;
using zcbuf::test::TracerReport;

int frames()
{
	const char *slow = std::getenv("ZCBUF_TEST_SLOW");
	return slow && *slow == '1' ? 6 : 30;
}

std::string source()
{
	return "videotestsrc num-buffers=" + std::to_string(frames()) +
	       " pattern=smpte ! video/x-raw,format=I420,width=320,height=240,framerate=30/1";
}

/* The three zcbuf elements after a decoder named "decode". */
std::string zcbufChain(const std::string &dir)
{
	return " ! zcconvert name=convert ! capsfilter name=format caps=video/x-raw,format=BGRx"
	       " ! zcthumbnail name=thumbnail location=" +
	       dir + "/thumb-%03d.jpg interval-frames=10 ! fakesink name=sink";
}

class ZeroCopyPipelines : public zcbuf::test::BackendTest
{
protected:
	void SetUp() override
	{
		zcbuf::test::BackendTest::SetUp();
		gchar *dir = g_dir_make_tmp("zero-copy-XXXXXX", nullptr);
		dir_ = dir;
		g_free(dir);
	}

	void TearDown() override
	{
		if (GDir *d = g_dir_open(dir_.c_str(), 0, nullptr)) {
			while (const gchar *name = g_dir_read_name(d))
				unlink((dir_ + "/" + name).c_str());
			g_dir_close(d);
		}
		rmdir(dir_.c_str());
		zcbuf::test::BackendTest::TearDown();
	}

	TracerReport run(const std::string &pipeline)
	{
		return runWithTracer(pipeline, "null", { { "ZCBUF_BACKEND", GetParam() } });
	}

	/* Writes an MJPEG clip with @muxer into the test folder. */
	std::string clip(const std::string &muxer, const std::string &extension)
	{
		std::string path = dir_ + "/clip." + extension;
		std::string description = source() + " ! jpegenc ! " + muxer +
					  " ! filesink location=" + path;
		GError *error = nullptr;
		GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
		EXPECT_NE(pipeline, nullptr) << (error ? error->message : "");
		if (!pipeline)
			return path;
		gst_element_set_state(pipeline, GST_STATE_PLAYING);
		GstBus *bus = gst_element_get_bus(pipeline);
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 60 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		EXPECT_TRUE(message && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS);
		if (message)
			gst_message_unref(message);
		gst_object_unref(bus);
		gst_element_set_state(pipeline, GST_STATE_NULL);
		gst_object_unref(pipeline);
		return path;
	}

	/* From the elements named on: every link carried all the frames in
	 * zcbuf memory of the backend's kind; nothing was copied anywhere. */
	void expectZeroCopyFrom(const TracerReport &r, const std::vector<std::string> &elements,
				bool copyFree = true)
	{
		ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
		ASSERT_EQ(r.tables, 1) << r.stderrText;
		for (const std::string &element : elements) {
			bool found = false;
			for (const auto &[link, row] : r.rows) {
				if (link.rfind(element + ":src ->", 0) != 0)
					continue;
				found = true;
				EXPECT_EQ(row.buffers, frames()) << link << "\n" << r.stderrText;
				EXPECT_EQ(row.system, 0.0) << link << "\n" << r.stderrText;
				EXPECT_EQ(dmabuf() ? row.dmabuf : row.fd, 100.0)
					<< link << "\n" << r.stderrText;
				EXPECT_EQ(row.copies, 0) << link << "\n" << r.stderrText;
			}
			EXPECT_TRUE(found) << "no link from " << element << "\n" << r.stderrText;
		}
		if (copyFree) {
			EXPECT_EQ(r.copiesLine, "copies: 0 (0 bytes)") << r.stderrText;
		}
	}

	int thumbnails()
	{
		int n = 0;
		if (GDir *d = g_dir_open(dir_.c_str(), 0, nullptr)) {
			while (const gchar *name = g_dir_read_name(d))
				n += g_str_has_prefix(name, "thumb-") ? 1 : 0;
			g_dir_close(d);
		}
		return n;
	}

	std::string dir_;
};

TEST_P(ZeroCopyPipelines, JpegencIntoTheZcbufChain)
{
	TracerReport r = run(source() + " ! jpegenc ! zcjpegdec name=decode" + zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
	/* One is due every 10 frames; zcthumbnail skips a due frame rather than
	 * wait while its worker still encodes the last one, which a loaded
	 * machine makes happen. */
	EXPECT_GE(thumbnails(), 1);
	EXPECT_LE(thumbnails(), (frames() + 9) / 10);
}

TEST_P(ZeroCopyPipelines, AfterJpegparse)
{
	TracerReport r = run(source() + " ! jpegenc ! jpegparse ! zcjpegdec name=decode n-threads=2" +
			     zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
}

TEST_P(ZeroCopyPipelines, AfterAvidemux)
{
	std::string file = clip("avimux", "avi");
	TracerReport r = run("filesrc location=" + file + " ! avidemux ! zcjpegdec name=decode" +
			     zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
}

TEST_P(ZeroCopyPipelines, AfterMatroskademux)
{
	std::string file = clip("matroskamux", "mkv");
	TracerReport r = run("filesrc location=" + file +
			     " ! matroskademux ! zcjpegdec name=decode" + zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
}

TEST_P(ZeroCopyPipelines, AfterQtdemux)
{
	std::string file = clip("qtmux", "mov");
	TracerReport r = run("filesrc location=" + file + " ! qtdemux ! zcjpegdec name=decode" +
			     zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
}

/* Upstream decoders that honour the pool zcconvert proposes decode straight
 * into zcbuf memory. */
TEST_P(ZeroCopyPipelines, JpegdecDecodesIntoZcbufMemory)
{
	TracerReport r = run(source() + " ! jpegenc ! jpegdec name=decode" + zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
}

TEST_P(ZeroCopyPipelines, Vp8decDecodesIntoZcbufMemory)
{
	TracerReport r = run(source() + " ! vp8enc deadline=1 ! vp8dec name=decode" +
			     zcbufChain(dir_));
	expectZeroCopyFrom(r, { "decode", "convert", "format", "thumbnail" });
}

/* avdec_h264 decodes into the pool too, but GStreamer 1.22's video decoder
 * base class deep-copies each frame libav still holds as a reference: the
 * copies are GStreamer's, charged to the decoder, never to a zcbuf element,
 * and the copy lands in zcbuf memory again. */
TEST_P(ZeroCopyPipelines, AvdecH264DecodesIntoZcbufMemoryButGStreamerCopiesReferences)
{
	TracerReport r = run(source() + " ! x264enc speed-preset=ultrafast tune=zerolatency"
					" ! h264parse ! avdec_h264 name=decode" +
			     zcbufChain(dir_));
	expectZeroCopyFrom(r, { "convert", "format", "thumbnail" }, false);
	const zcbuf::test::TracerRow &decoded = r.rows["decode:src -> convert:sink"];
	EXPECT_EQ(decoded.buffers, frames()) << r.stderrText;
	EXPECT_EQ(decoded.system, 0.0) << r.stderrText;
	EXPECT_NE(r.copiesLine.find("decode:"), std::string::npos) << r.copiesLine;
	for (const char *ours : { "convert:", "format:", "thumbnail:" })
		EXPECT_EQ(r.copiesLine.find(ours), std::string::npos) << r.copiesLine;
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(ZeroCopyPipelines);

} /* namespace */
