/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zerocopy tracer, as users meet it: GST_TRACERS set before gst_init()
 * in a process of its own. Each test runs this very program again with the
 * tracer on and one (disabled by default) child test selected; the child
 * runs a pipeline and ends the way the test asks, the parent reads what was
 * printed on stderr and written to the file.
 */
#include <unistd.h>

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "leak_checked_test.h"
#include "video_compare.h"

namespace {

constexpr const char *kPipelineVar = "ZCBUF_TRACER_CHILD_PIPELINE";
constexpr const char *kEndingVar = "ZCBUF_TRACER_CHILD_ENDING";

/* One row of the printed table. */
struct Row {
	std::string link;
	long buffers = 0, bytes = 0;
	double dmabuf = 0, fd = 0, system = 0;
	long copies = 0;
};

struct Report {
	std::string stderrText;
	int tables = 0;
	/* The rows of the last table, by link. */
	std::map<std::string, Row> rows;
	std::string copiesLine;
	std::vector<std::vector<std::string>> tsv;
	int exitStatus = -1;
};

std::string trim(const std::string &s)
{
	size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
	return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string &line, char separator)
{
	std::vector<std::string> fields;
	std::stringstream stream(line);
	std::string field;
	while (std::getline(stream, field, separator))
		fields.push_back(field);
	return fields;
}

/* Runs the child test with the tracer on. @ending: "null" (the pipeline
 * goes to NULL, then gst_deinit), "exit" (exit() with the pipeline still
 * playing and no gst_deinit), "twice" (two runs of one pipeline). */
Report runWithTracer(const std::string &pipeline, const std::string &ending)
{
	Report report;
	gchar *dir = g_dir_make_tmp("zerocopy-XXXXXX", nullptr);
	std::string file = std::string(dir) + "/table.tsv";
	gchar *exe = g_file_read_link("/proc/self/exe", nullptr);
	std::string self = exe ? exe : "";
	g_free(exe);

	gchar **env = g_get_environ();
	env = g_environ_setenv(env, "GST_TRACERS", ("zerocopy(file=" + file + ")").c_str(), TRUE);
	env = g_environ_setenv(env, kPipelineVar, pipeline.c_str(), TRUE);
	env = g_environ_setenv(env, kEndingVar, ending.c_str(), TRUE);
	env = g_environ_setenv(env, "GST_DEBUG", "*:1", TRUE);
	const gchar *argv[] = { self.c_str(), "--gtest_also_run_disabled_tests",
				"--gtest_filter=DISABLED_TracerChild.Run", nullptr };
	gchar *out = nullptr, *err = nullptr;
	gint status = 0;
	GError *error = nullptr;
	if (!g_spawn_sync(nullptr, const_cast<gchar **>(argv), env, G_SPAWN_DEFAULT, nullptr, nullptr,
			  &out, &err, &status, &error)) {
		ADD_FAILURE() << error->message;
		g_clear_error(&error);
	}
	g_strfreev(env);
	report.exitStatus = status;
	report.stderrText = err ? err : "";

	bool inTable = false;
	for (const std::string &line : split(report.stderrText, '\n')) {
		if (line.rfind("zerocopy: pipeline", 0) == 0) {
			report.tables++;
			report.rows.clear();
			inTable = true;
			continue;
		}
		if (!inTable)
			continue;
		if (line.rfind("copies:", 0) == 0) {
			report.copiesLine = line;
			inTable = false;
			continue;
		}
		std::vector<std::string> f = split(line, '|');
		if (f.size() != 7 || trim(f[0]) == "link")
			continue;
		Row row;
		row.link = trim(f[0]);
		row.buffers = std::stol(trim(f[1]));
		row.bytes = std::stol(trim(f[2]));
		row.dmabuf = std::stod(trim(f[3]));
		row.fd = std::stod(trim(f[4]));
		row.system = std::stod(trim(f[5]));
		row.copies = std::stol(trim(f[6]));
		report.rows[row.link] = row;
	}

	std::ifstream tsv(file);
	std::string line;
	while (std::getline(tsv, line))
		report.tsv.push_back(split(line, '\t'));
	unlink(file.c_str());
	rmdir(dir);
	g_free(dir);
	g_free(out);
	g_free(err);
	return report;
}

/* The child: only ever run by runWithTracer(). */
TEST(DISABLED_TracerChild, Run)
{
	const char *description = std::getenv(kPipelineVar);
	const char *ending = std::getenv(kEndingVar);
	ASSERT_NE(description, nullptr);
	ASSERT_NE(ending, nullptr);
	int runs = std::string(ending) == "twice" ? 2 : 1;
	GstElement *pipeline = gst_parse_launch(description, nullptr);
	ASSERT_NE(pipeline, nullptr);
	for (int run = 0; run < runs; run++) {
		ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
		GstBus *bus = gst_element_get_bus(pipeline);
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 60 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		ASSERT_NE(message, nullptr);
		EXPECT_EQ(GST_MESSAGE_TYPE(message), GST_MESSAGE_EOS);
		gst_message_unref(message);
		gst_object_unref(bus);
		if (std::string(ending) == "exit") {
			/* An application that neither stops its pipeline nor
			 * calls gst_deinit(): only atexit can report. */
			std::exit(0);
		}
		gst_element_set_state(pipeline, GST_STATE_NULL);
	}
	gst_object_unref(pipeline);
}

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
