/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running a pipeline under the zerocopy tracer the way users do: GST_TRACERS
 * set before gst_init(), in a process of its own. runWithTracer() runs the
 * calling test program again with the tracer on and only the (disabled by
 * default) child test DISABLED_TracerChild.Run selected; the child plays the
 * pipeline and ends as asked, the parent reads the table printed on stderr
 * and the file the tracer wrote. Link tracer_run.cpp into the program.
 */
#pragma once

#include <map>
#include <string>
#include <vector>

namespace zcbuf::test {

constexpr int kCycles = 400;

/* One row of the printed table. */
struct TracerRow {
	std::string link;
	long buffers = 0, bytes = 0;
	double dmabuf = 0, fd = 0, system = 0;
	long copies = 0;
	/* The source's chosen-backend spec ("memfd", "module"), "-" if none. */
	std::string memory;
};

struct TracerReport {
	std::string stderrText;
	int tables = 0;
	/* The rows of the last table, by link. */
	std::map<std::string, TracerRow> rows;
	std::string copiesLine;
	std::vector<std::vector<std::string>> tsv;
	int exitStatus = -1;
};

/*
 * Plays @pipeline (gst_parse_launch syntax) in a child process with
 * GST_TRACERS=zerocopy and @environment added. @ending: "null" (the
 * pipeline goes to NULL, then gst_deinit), "exit" (exit() with the pipeline
 * still playing and no gst_deinit), "twice" (two runs of one pipeline),
 * "cycles" (100 runs, then kCycles more, printing the heap in use after
 * the first 100 and every 100 after them as "zerocopy-heap: runs=N bytes=B").
 */
TracerReport runWithTracer(const std::string &pipeline, const std::string &ending,
			   const std::map<std::string, std::string> &environment = {});

} /* namespace zcbuf::test */
