/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Benchmarks that need the test suite's guest (vkms, vicodec exist only
 * there): started on the host, the program runs itself again inside the
 * guest through vm-run, with zcbuf.ko and the modules it names loaded; its
 * BENCH lines come back on our stdout. The program is built with
 * ZCBUF_VM_RUN (vm-run's path) and ZCBUF_VM_PLUGINS (the guest's plugin
 * subset) defined.
 */
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_gst_common.h"

namespace bench {

/* Whether this run is the guest's (vm-run sets ZCBUF_VM there). */
inline bool inTheGuest()
{
	return std::getenv("ZCBUF_VM") != nullptr;
}

/* Replaces this process with vm-run running @argv0 in the guest, with
 * --modprobe for each of @modules. */
[[noreturn]] inline void runInTheGuest(const char *argv0, const std::vector<std::string> &modules)
{
	std::vector<std::string> args = { ZCBUF_VM_RUN, "--module", "zcbuf" };
	for (const std::string &module : modules) {
		args.push_back("--modprobe");
		args.push_back(module);
	}
	for (const char *arg :
	     { "--env", "GST_PLUGIN_SYSTEM_PATH_1_0=" ZCBUF_VM_PLUGINS, "--timeout", "900", "--" })
		args.push_back(arg);
	args.push_back(argv0);
	std::vector<char *> raw;
	for (std::string &arg : args)
		raw.push_back(arg.data());
	raw.push_back(nullptr);
	execv(ZCBUF_VM_RUN, raw.data());
	fail(std::string("cannot run " ZCBUF_VM_RUN ": ") + std::strerror(errno));
}

} /* namespace bench */
