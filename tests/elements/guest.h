/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For element tests that need the guest's kernel modules: whether this run
 * is the guest's (where a missing module fails instead of skipping), and
 * the zcbuf module's switch for scattered backing.
 */
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace zcbuf::test {

/* ZCBUF_TEST_REQUIRE names the module: the VM suite's run. */
inline bool inTheGuest()
{
	const char *required = std::getenv("ZCBUF_TEST_REQUIRE");
	return required && std::string(required).find("module") != std::string::npos;
}

/* While alive, the module backs scattered buffers with single pages that
 * never form one range by chance (kernel/backing.c, debug_discontiguous). */
class DiscontiguousBacking
{
public:
	DiscontiguousBacking() { set("1"); }
	~DiscontiguousBacking() { set("0"); }
	DiscontiguousBacking(const DiscontiguousBacking &) = delete;
	DiscontiguousBacking &operator=(const DiscontiguousBacking &) = delete;

private:
	static void set(const char *value)
	{
		std::ofstream("/sys/module/zcbuf/parameters/debug_discontiguous") << value;
	}
};

} /* namespace zcbuf::test */
