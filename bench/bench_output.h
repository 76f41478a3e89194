/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmark protocol: one line per measurement on stdout,
 *   BENCH {"group": ..., "case": ..., "subject": ..., "value": ..., "unit": ...,
 *          "better": "higher"|"lower", "low": ..., "high": ..., "limit": true|false}
 * which bench/run.py collects, takes medians of and compares with targets.
 * low and high are the range of the program's own repetitions behind value;
 * a "limit" is a physical bound no subject of its (group, case) may beat by
 * more than the two ranges allow: bench/run.py treats that as an error of
 * the harness, not as a result.
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

/* A value and the range of the repetitions it summarises. */
struct Measurement {
	double value = 0.0;
	double low = 0.0;
	double high = 0.0;
};

inline Measurement medianOf(const std::vector<double> &values)
{
	if (values.empty())
		return {};
	auto [low, high] = std::minmax_element(values.begin(), values.end());
	return { median(values), *low, *high };
}

/* The best repetition: on a shared machine interference only ever makes a
 * run slower, so the fastest one is the least disturbed. */
inline Measurement bestOf(const std::vector<double> &values, bool higherIsBetter = true)
{
	if (values.empty())
		return {};
	auto [low, high] = std::minmax_element(values.begin(), values.end());
	return { higherIsBetter ? *high : *low, *low, *high };
}

/* "1 thread", "2 threads": how case names count threads. */
inline std::string threadsText(int threads)
{
	return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
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

enum class Role { Subject, Limit };

inline void report(const std::string &group, const std::string &name, const std::string &subject,
		   const Measurement &m, const std::string &unit, const std::string &better,
		   Role role = Role::Subject)
{
	std::printf("BENCH {\"group\": %s, \"case\": %s, \"subject\": %s, \"value\": %.6g, "
		    "\"unit\": %s, \"better\": %s, \"low\": %.6g, \"high\": %.6g, \"limit\": %s}\n",
		    jsonString(group).c_str(), jsonString(name).c_str(),
		    jsonString(subject).c_str(), m.value, jsonString(unit).c_str(),
		    jsonString(better).c_str(), m.low, m.high,
		    role == Role::Limit ? "true" : "false");
	std::fflush(stdout);
}

/* One value with no repetitions behind it. */
inline void report(const std::string &group, const std::string &name, const std::string &subject,
		   double value, const std::string &unit, const std::string &better)
{
	report(group, name, subject, Measurement{ value, value, value }, unit, better);
}

} /* namespace bench */
