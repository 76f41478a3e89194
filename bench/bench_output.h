/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark protocol: one line per measurement on stdout,
 *   BENCH {"group": ..., "case": ..., "subject": ..., "value": ..., "unit": ...,
 *          "better": "higher"|"lower"}
 * which bench/run.py collects, takes medians of and compares with targets.
 */
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

/* Short runs, for a quick check or valgrind (ZCBUF_TEST_SLOW=1). */
inline bool slow()
{
	const char *env = std::getenv("ZCBUF_TEST_SLOW");
	return env && *env == '1';
}

inline double median(std::vector<double> values)
{
	if (values.empty())
		return 0.0;
	std::sort(values.begin(), values.end());
	std::size_t n = values.size();
	return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

inline std::string jsonString(const std::string &text)
{
	std::string out = "\"";
	for (char c : text) {
		if (c == '"' || c == '\\')
			out += '\\';
		out += c;
	}
	return out + "\"";
}

inline void report(const std::string &group, const std::string &name, const std::string &subject,
		   double value, const std::string &unit, const std::string &better)
{
	std::printf("BENCH {\"group\": %s, \"case\": %s, \"subject\": %s, \"value\": %.6g, "
		    "\"unit\": %s, \"better\": %s}\n",
		    jsonString(group).c_str(), jsonString(name).c_str(),
		    jsonString(subject).c_str(), value, jsonString(unit).c_str(),
		    jsonString(better).c_str());
	std::fflush(stdout);
}

} /* namespace bench */
