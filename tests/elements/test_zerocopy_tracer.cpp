/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zerocopy tracer, as users meet it: GST_TRACERS set before gst_init()
 * in a process of its own (tracer_run.h).
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "leak_checked_test.h"
#include "media.h"
#include "tracer_run.h"
#include "video_compare.h"

namespace {

using zcbuf::test::runWithTracer;
using Report = zcbuf::test::TracerReport;
using Row = zcbuf::test::TracerRow;

class ZerocopyTracer : public zcbuf::test::LeakCheckedTest
{
};

std::string frames()
{
	return zcbuf::test::slowRun() ? "5" : "30";
}

/* videotestsrc writes system memory when nothing offers it a pool (the
 * identity drops the query): zcupload copies every frame, and from there on
 * every link carries fd memory. */
TEST_F(ZerocopyTracer, ShowsTheCopyAtZcupload)
{
	Report r = runWithTracer("videotestsrc num-buffers=" + frames() +
					 " ! video/x-raw,format=NV12,width=64,height=48 ! identity "
					 "drop-allocation=true ! zcupload ! zcconvert ! "
					 "video/x-raw,format=BGRx ! fakesink",
				 "null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	EXPECT_EQ(r.tables, 1) << r.stderrText;
	long n = std::stol(frames());
	ASSERT_TRUE(r.rows.count("identity0:src -> zcupload0:sink")) << r.stderrText;
	const Row &in = r.rows["identity0:src -> zcupload0:sink"];
	EXPECT_EQ(in.buffers, n);
	EXPECT_EQ(in.system, 100.0);
	EXPECT_EQ(in.copies, 0);
	const Row &up = r.rows["zcupload0:src -> zcconvert0:sink"];
	EXPECT_EQ(up.buffers, n);
	EXPECT_EQ(up.dmabuf + up.fd, 100.0);
	EXPECT_EQ(up.copies, n) << "the copies belong to zcupload's link";
	EXPECT_EQ(up.bytes, n * 64 * 48 * 3 / 2);
	const Row &conv = r.rows["zcconvert0:src -> capsfilter1:sink"];
	EXPECT_EQ(conv.dmabuf + conv.fd, 100.0);
	EXPECT_EQ(conv.copies, 0);
	EXPECT_NE(r.copiesLine.find("copies: " + frames() + " "), std::string::npos) << r.copiesLine;
	EXPECT_NE(r.copiesLine.find("zcupload0: " + frames() + " x system memory input"),
		  std::string::npos)
		<< r.copiesLine;
}

/* Pools proposed end to end: no copy, fd memory on every link. */
TEST_F(ZerocopyTracer, ZeroCopiesWhenPoolsAreProposedEndToEnd)
{
	Report r = runWithTracer("videotestsrc num-buffers=" + frames() +
					 " ! video/x-raw,format=NV12,width=64,height=48 ! zcupload ! "
					 "zcconvert ! video/x-raw,format=BGRx ! fakesink",
				 "null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	EXPECT_EQ(r.tables, 1) << r.stderrText;
	EXPECT_EQ(r.rows.size(), 5u) << r.stderrText;
	for (const auto &[link, row] : r.rows) {
		EXPECT_EQ(row.buffers, std::stol(frames())) << link;
		EXPECT_EQ(row.dmabuf + row.fd, 100.0) << link;
		EXPECT_EQ(row.copies, 0) << link;
		/* The memory column: what each zcbuf producer chose, "-" for
		 * elements without a choice. */
		if (link.rfind("zcconvert0:", 0) == 0 || link.rfind("zcupload0:", 0) == 0)
			EXPECT_NE(row.memory, "-") << link;
		else
			EXPECT_EQ(row.memory, "-") << link;
	}
	EXPECT_EQ(r.copiesLine, "copies: 0 (0 bytes)");
}

/* The file: a header, one row per link and a total, numbers as printed. */
TEST_F(ZerocopyTracer, WritesTheTableToTheFile)
{
	Report r = runWithTracer("videotestsrc num-buffers=" + frames() +
					 " ! video/x-raw,format=I420,width=32,height=16 ! identity "
					 "drop-allocation=true ! zcupload ! fakesink",
				 "null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	ASSERT_GE(r.tsv.size(), 2u);
	EXPECT_EQ(r.tsv[0].size(), 13u);
	EXPECT_EQ(r.tsv[0][12], "memory");
	EXPECT_EQ(r.tsv[0][0], "pipeline");
	EXPECT_EQ(r.tsv[0][10], "copies");
	int rows = 0, totals = 0;
	for (size_t i = 1; i < r.tsv.size(); i++) {
		const std::vector<std::string> &f = r.tsv[i];
		ASSERT_EQ(f.size(), 13u);
		EXPECT_EQ(f[0], "pipeline0");
		if (f[1] == "(total)") {
			totals++;
			EXPECT_EQ(f[10], frames());
			continue;
		}
		rows++;
		ASSERT_TRUE(r.rows.count(f[1])) << f[1];
		const Row &printed = r.rows[f[1]];
		EXPECT_EQ(std::stol(f[2]), printed.buffers);
		EXPECT_EQ(std::stol(f[3]), printed.bytes);
		EXPECT_EQ(std::stol(f[4]) + std::stol(f[5]) + std::stol(f[6]), printed.buffers);
		EXPECT_EQ(std::stol(f[10]), printed.copies);
		EXPECT_EQ(f[12], printed.memory);
	}
	EXPECT_EQ(rows, static_cast<int>(r.rows.size()));
	EXPECT_EQ(totals, 1);
}

/* Exactly one table per run: not again at gst_deinit(), and at exit when
 * the application never stopped its pipeline. */
TEST_F(ZerocopyTracer, PrintsOncePerRun)
{
	std::string pipeline = "videotestsrc num-buffers=3 ! video/x-raw,width=16,height=16 ! "
			       "zcupload ! fakesink";
	Report stopped = runWithTracer(pipeline, "null");
	EXPECT_EQ(stopped.exitStatus, 0) << stopped.stderrText;
	EXPECT_EQ(stopped.tables, 1) << stopped.stderrText;

	Report exited = runWithTracer(pipeline, "exit");
	EXPECT_EQ(exited.exitStatus, 0) << exited.stderrText;
	EXPECT_EQ(exited.tables, 1) << exited.stderrText;
	EXPECT_EQ(exited.rows.size(), 3u) << exited.stderrText;

	Report twice = runWithTracer(pipeline, "twice");
	EXPECT_EQ(twice.exitStatus, 0) << twice.stderrText;
	EXPECT_EQ(twice.tables, 2) << twice.stderrText;
	/* The second run starts from zero. */
	for (const auto &[link, row] : twice.rows)
		EXPECT_EQ(row.buffers, 3) << link;
}

/*
 * An independent oracle for the tracer's copy count: the GstMemory objects
 * that enter an element and those that leave it. Where the tracer says
 * "no copy", the sink must get the very memories the source wrote; where
 * it counts copies, every buffer must leave in other memory. The tracer
 * runs in this process (made directly, writing its file), the oracle is
 * pad probes.
 */
struct MemoryLog {
	std::vector<GstMemory *> in, out;
};

GstPadProbeReturn logMemory(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *memories = static_cast<std::vector<GstMemory *> *>(data);
	GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
	memories->push_back(gst_buffer_n_memory(buffer) ? gst_buffer_peek_memory(buffer, 0)
							 : nullptr);
	return GST_PAD_PROBE_OK;
}

/* The (total) copies of @pipeline in the tracer's file, -1 if absent. */
long totalCopies(const std::string &file, const std::string &pipeline)
{
	std::ifstream in(file);
	std::string line;
	long copies = -1;
	while (std::getline(in, line)) {
		std::vector<std::string> cells;
		std::stringstream cellsOf(line);
		std::string cell;
		while (std::getline(cellsOf, cell, '\t'))
			cells.push_back(cell);
		if (cells.size() >= 12 && cells[0] == pipeline && cells[1] == "(total)")
			copies = std::stol(cells[10]);
	}
	return copies;
}

TEST_F(ZerocopyTracer, CopyCountsAgreeWithMemoryIdentity)
{
	gchar *dir = g_dir_make_tmp("zcbuf-tracer-XXXXXX", nullptr);
	ASSERT_NE(dir, nullptr);
	std::string file = std::string(dir) + "/copies.tsv";
	GstPluginFeature *feature = gst_registry_lookup_feature(gst_registry_get(), "zerocopy");
	ASSERT_NE(feature, nullptr);
	GstPluginFeature *loaded = gst_plugin_feature_load(feature);
	ASSERT_NE(loaded, nullptr);
	GType type = gst_tracer_factory_get_tracer_type(GST_TRACER_FACTORY(loaded));
	gst_object_unref(loaded);
	gst_object_unref(feature);
	/* Tracers live until gst_deinit (their hooks cannot be removed). */
	GObject *tracer = G_OBJECT(g_object_new(type, "params", ("file=" + file + ",stderr=false").c_str(), nullptr));
	GST_OBJECT_FLAG_SET(tracer, GST_OBJECT_FLAG_MAY_BE_LEAKED);

	struct Case {
		const char *name;
		const char *upstream;
		bool copied;
	};
	const int frames = 8;
	for (const Case &c : { Case{ "proposed", "", false },
			       Case{ "dropped", "identity drop-allocation=true ! ", true } }) {
		GstElement *pipeline = gst_parse_launch(
			(std::string("videotestsrc num-buffers=") + std::to_string(frames) +
			 " ! video/x-raw,format=NV12,width=64,height=48 ! " + c.upstream +
			 "zcupload name=up ! fakesink name=sink")
				.c_str(),
			nullptr);
		ASSERT_NE(pipeline, nullptr);
		gst_object_set_name(GST_OBJECT(pipeline), c.name);
		MemoryLog log;
		GstElement *up = gst_bin_get_by_name(GST_BIN(pipeline), "up");
		GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
		GstPad *upSink = gst_element_get_static_pad(up, "sink");
		GstPad *sinkSink = gst_element_get_static_pad(sink, "sink");
		gst_pad_add_probe(upSink, GST_PAD_PROBE_TYPE_BUFFER, logMemory, &log.in, nullptr);
		gst_pad_add_probe(sinkSink, GST_PAD_PROBE_TYPE_BUFFER, logMemory, &log.out, nullptr);
		gst_object_unref(upSink);
		gst_object_unref(sinkSink);
		gst_object_unref(up);
		gst_object_unref(sink);
		gst_element_set_state(pipeline, GST_STATE_PLAYING);
		GstBus *bus = gst_element_get_bus(pipeline);
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		ASSERT_NE(message, nullptr);
		EXPECT_EQ(GST_MESSAGE_TYPE(message), GST_MESSAGE_EOS) << c.name;
		gst_message_unref(message);
		gst_object_unref(bus);
		gst_element_set_state(pipeline, GST_STATE_NULL);
		gst_object_unref(pipeline);

		ASSERT_EQ(log.in.size(), static_cast<std::size_t>(frames)) << c.name;
		ASSERT_EQ(log.out.size(), static_cast<std::size_t>(frames)) << c.name;
		int same = 0;
		for (int i = 0; i < frames; i++)
			same += log.in[i] == log.out[i] ? 1 : 0;
		/* The oracle and the tracer, each on its own. */
		EXPECT_EQ(same, c.copied ? 0 : frames) << c.name;
		EXPECT_EQ(totalCopies(file, c.name), c.copied ? frames : 0) << c.name;
	}
	g_unlink(file.c_str());
	g_rmdir(dir);
	g_free(dir);
}

/* The heap in use after @runs runs, from a "cycles" child's output; 0 if
 * not printed. */
long heapAfter(const std::string &text, int runs)
{
	std::string key = "zerocopy-heap: runs=" + std::to_string(runs) + " bytes=";
	std::size_t at = text.find(key);
	return at == std::string::npos ? 0 : std::stol(text.substr(at + key.size()));
}

TEST_F(ZerocopyTracer, MemoryStaysBoundedOverManyRuns)
{
	/* Closed runs used to be kept until the tracer was finalised (about
	 * 1.1 kB a run). The heap of a process running one pipeline
	 * kCycles times with the tracer, against the same without it
	 * (GStreamer itself grows by some 100 bytes a run here): the tracer
	 * adds less than 128 bytes a run. A leak grows in every window of
	 * runs; on a busy machine a step comes once (GstTaskPool starting
	 * one more streaming thread, whose malloc cache stays counted as in
	 * use), so the growth is the smallest of four 100-run windows
	 * (CI under load once saw two such steps, one in each of two
	 * 200-run windows, 36 kB more than without the tracer). */
	static_assert(zcbuf::test::kCycles == 400, "four windows of 100 runs");
	std::string pipeline = "videotestsrc num-buffers=1 ! video/x-raw,width=16,height=16 ! "
			       "zcupload ! fakesink";
	auto growth = [&](const char *tracers) {
		Report r = runWithTracer(pipeline, "cycles", { { "GST_TRACERS", tracers } });
		EXPECT_EQ(r.exitStatus, 0) << r.stderrText;
		long smallest = LONG_MAX;
		for (int runs = 100; runs < 500; runs += 100) {
			long from = heapAfter(r.stderrText, runs), to = heapAfter(r.stderrText, runs + 100);
			EXPECT_GT(from, 0) << r.stderrText;
			EXPECT_GT(to, 0) << r.stderrText;
			smallest = std::min(smallest, to - from);
		}
		return smallest;
	};
	long with = growth("zerocopy(stderr=false)");
	long without = growth("");
	EXPECT_LT(with - without, 128L * 100)
		<< "over 100 runs the heap grew by " << with << " bytes with the tracer, "
		<< without << " without";
}

/* A decoder whose frames GStreamer copies: the tracer names it. */
TEST_F(ZerocopyTracer, ChargesHiddenCopiesToTheDecoder)
{
	Report r = runWithTracer("videotestsrc num-buffers=" + frames() +
					 " ! video/x-raw,format=I420,width=64,height=48 ! x264enc "
					 "speed-preset=ultrafast tune=zerolatency ! h264parse ! "
					 "avdec_h264 ! zcconvert ! video/x-raw,format=BGRx ! fakesink",
				 "null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	const Row &decoded = r.rows["avdec_h264-0:src -> zcconvert0:sink"];
	EXPECT_EQ(decoded.fd + decoded.dmabuf, 100.0) << r.stderrText;
	EXPECT_GT(decoded.copies, 0) << r.stderrText;
	EXPECT_NE(r.copiesLine.find("avdec_h264-0:"), std::string::npos) << r.copiesLine;
	EXPECT_EQ(r.copiesLine.find("(unknown)"), std::string::npos) << r.copiesLine;
}

/* An MJPEG file whose frames change size twice: 4 frames of each size. */
std::string resolutionChangeClip(const zcbuf::test::TempDir &dir)
{
	std::string path = dir.file("changes.mjpeg");
	std::ofstream out(path, std::ios::binary);
	for (auto [w, h] : { std::pair{ 64, 48 }, std::pair{ 160, 96 }, std::pair{ 32, 32 } }) {
		zcbuf::test::Stream jpegs = zcbuf::test::encodeJpegs("I420", w, h, 4, "ball");
		for (GstBuffer *jpeg : jpegs.buffers) {
			std::vector<std::uint8_t> bytes = zcbuf::test::bytesOf(jpeg);
			out.write(reinterpret_cast<const char *>(bytes.data()),
				  static_cast<std::streamsize>(bytes.size()));
		}
	}
	return path;
}

const char *kLastSampleReason =
	"gst_memory_copy() of zcbuf memory by basesink on an ALLOCATION query";

/* At each resolution change zcconvert asks downstream for a new pool, and
 * fakesink answers by deep-copying the last sample it keeps (basesink's
 * drain): 2 copies, of the 64x48 and the 160x96 frame it holds, charged
 * to the sink (they were charged to zcconvert, or to "(unknown)" behind a
 * queue, whose thread runs the query), never to a zcbuf element. */
TEST_F(ZerocopyTracer, ChargesTheLastSampleCopyToTheSink)
{
	zcbuf::test::TempDir dir;
	std::string clip = resolutionChangeClip(dir);
	for (const char *between : { "", "queue ! " }) {
		Report r = runWithTracer("filesrc location=" + clip +
						 " ! jpegparse ! zcjpegdec ! zcconvert ! "
						 "video/x-raw,format=BGRx ! " + between +
						 "fakesink name=sink",
					 "null");
		ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
		const Row &decoded = r.rows["zcjpegdec0:src -> zcconvert0:sink"];
		EXPECT_EQ(decoded.buffers, 12) << r.stderrText;
		EXPECT_EQ(decoded.copies, 0) << between;
		EXPECT_EQ(r.rows["zcconvert0:src -> capsfilter0:sink"].copies, 0) << between;
		std::string expected = "copies: 2 (" + std::to_string((64 * 48 + 160 * 96) * 4) +
				       " bytes); sink: 2 x " + kLastSampleReason;
		EXPECT_EQ(r.copiesLine.rfind(expected, 0), 0u)
			<< between << "\n" << r.copiesLine;
		EXPECT_EQ(r.copiesLine.find("(unknown)"), std::string::npos) << r.copiesLine;
	}
}

/* The copy is avoidable: a sink that keeps no last sample has nothing to
 * copy, and the run is zero-copy across both resolution changes. */
TEST_F(ZerocopyTracer, NoCopyAtResolutionChangesWithoutALastSample)
{
	zcbuf::test::TempDir dir;
	Report r = runWithTracer("filesrc location=" + resolutionChangeClip(dir) +
					 " ! jpegparse ! zcjpegdec ! zcconvert ! "
					 "video/x-raw,format=BGRx ! fakesink enable-last-sample=false",
				 "null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	EXPECT_EQ(r.rows["zcconvert0:src -> capsfilter0:sink"].buffers, 12) << r.stderrText;
	EXPECT_EQ(r.copiesLine, "copies: 0 (0 bytes)");
}

/* An upstream in-place filter on a buffer that a tee shares with a branch
 * still holding it (an appsink nobody pulls keeps every buffer) must make
 * the memory writable: GStreamer copies the zcbuf memory inside
 * videobalance's chain function, and the copy is charged to it. */
TEST_F(ZerocopyTracer, ChargesAnUpstreamFiltersWritableCopyToIt)
{
	Report r = runWithTracer("videotestsrc num-buffers=" + frames() +
					 " ! video/x-raw,format=BGRx,width=64,height=48 ! zcupload ! "
					 "tee name=t ! queue ! videobalance saturation=0.5 ! fakesink "
					 "enable-last-sample=false t. ! queue ! appsink sync=false "
					 "wait-on-eos=false",
				 "null");
	ASSERT_EQ(r.exitStatus, 0) << r.stderrText;
	long n = std::stol(frames());
	EXPECT_EQ(r.rows["zcupload0:src -> t:sink"].copies, 0) << r.stderrText;
	const Row &filtered = r.rows["videobalance0:src -> fakesink0:sink"];
	EXPECT_EQ(filtered.buffers, n) << r.stderrText;
	EXPECT_EQ(filtered.copies, n) << r.stderrText;
	EXPECT_EQ(r.copiesLine, "copies: " + frames() + " (" + std::to_string(n * 64 * 48 * 4) +
					" bytes); videobalance0: " + frames() +
					" x gst_memory_copy() of zcbuf memory");
}

} /* namespace */
