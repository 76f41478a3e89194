/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tracer_run.h"

#include "eos_gate.h"

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace zcbuf::test {

constexpr const char *kPipelineVar = "ZCBUF_TRACER_CHILD_PIPELINE";
constexpr const char *kEndingVar = "ZCBUF_TRACER_CHILD_ENDING";

namespace {

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

} /* namespace */

TracerReport runWithTracer(const std::string &pipeline, const std::string &ending,
			   const std::map<std::string, std::string> &environment)
{
	TracerReport report;
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
	for (const auto &[name, value] : environment)
		env = g_environ_setenv(env, name.c_str(), value.c_str(), TRUE);
	/* A child that never ends (a pipeline that hangs in a driver's
	 * drain) is killed, so that one case fails and the rest still run;
	 * the cycles take minutes under TCG, a single run seconds. */
	const std::string limit = ending == "cycles" ? "900" : "120";
	const gchar *argv[] = { "timeout", "--kill-after=10", limit.c_str(), self.c_str(),
				"--gtest_also_run_disabled_tests",
				"--gtest_filter=DISABLED_TracerChild.Run", nullptr };
	gchar *out = nullptr, *err = nullptr;
	gint status = 0;
	GError *error = nullptr;
	if (!g_spawn_sync(nullptr, const_cast<gchar **>(argv), env, G_SPAWN_SEARCH_PATH, nullptr,
			  nullptr, &out, &err, &status, &error)) {
		ADD_FAILURE() << error->message;
		g_clear_error(&error);
	}
	g_strfreev(env);
	report.exitStatus = status;
	report.stderrText = err ? err : "";
	/* timeout(1): 124 when it ended the child, 137 when it had to kill it */
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 124 || WEXITSTATUS(status) == 137))
		ADD_FAILURE() << "the child ran past " << limit << " s and was ended: " << pipeline;

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
		if (f.size() != 8 || trim(f[0]) == "link")
			continue;
		TracerRow row;
		row.link = trim(f[0]);
		row.buffers = std::stol(trim(f[1]));
		row.bytes = std::stol(trim(f[2]));
		row.dmabuf = std::stod(trim(f[3]));
		row.fd = std::stod(trim(f[4]));
		row.system = std::stod(trim(f[5]));
		row.copies = std::stol(trim(f[6]));
		row.memory = trim(f[7]);
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
	const std::string how = ending;
	/* "cycles": many runs in one process, the heap in use printed after
	 * the warm-up and every 100 runs after it. */
	const int warmUp = 100;
	int runs = how == "twice" ? 2 : how == "cycles" ? warmUp + kCycles : 1;
	GstElement *pipeline = gst_parse_launch(description, nullptr);
	ASSERT_NE(pipeline, nullptr);
	if (const char *gated = std::getenv(kEosGateVar)) {
		ASSERT_TRUE(holdEosUntilFirstOutput(pipeline, gated)) << "no " << gated;
	}
	for (int run = 0; run < runs; run++) {
		ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
		GstBus *bus = gst_element_get_bus(pipeline);
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 60 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		ASSERT_NE(message, nullptr);
		if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
			GError *error = nullptr;
			gchar *debug = nullptr;
			gst_message_parse_error(message, &error, &debug);
			ADD_FAILURE() << "pipeline error: " << error->message << " ("
				      << (debug ? debug : "") << ")";
			g_clear_error(&error);
			g_free(debug);
		}
		gst_message_unref(message);
		gst_object_unref(bus);
		if (std::string(ending) == "exit") {
			/* An application that neither stops its pipeline nor
			 * calls gst_deinit(): only atexit can report. */
			std::exit(0);
		}
		gst_element_set_state(pipeline, GST_STATE_NULL);
		if (how == "cycles" && run + 1 >= warmUp && (run + 1) % 100 == 0)
			g_printerr("zerocopy-heap: runs=%d bytes=%zu\n", run + 1,
				   static_cast<std::size_t>(mallinfo2().uordblks));
	}
	gst_object_unref(pipeline);
}

} /* namespace zcbuf::test */
