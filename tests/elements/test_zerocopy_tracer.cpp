/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zerocopy tracer, as users meet it: GST_TRACERS set before gst_init()
 * in a process of its own (tracer_run.h).
 */
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "leak_checked_test.h"
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
	EXPECT_EQ(r.tsv[0].size(), 12u);
	EXPECT_EQ(r.tsv[0][0], "pipeline");
	EXPECT_EQ(r.tsv[0][10], "copies");
	int rows = 0, totals = 0;
	for (size_t i = 1; i < r.tsv.size(); i++) {
		const std::vector<std::string> &f = r.tsv[i];
		ASSERT_EQ(f.size(), 12u);
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

} /* namespace */
