/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which backends the tests run against: ZCBUF_TEST_BACKENDS (comma-separated
 * specs) if set, else every backend this machine can open. The VM suite sets
 * ZCBUF_TEST_REQUIRE to the backend kinds its kernel provides, so that a
 * backend missing there fails instead of silently not being tested.
 */
#pragma once

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <zcbuf/backend.h>

namespace zcbuf::test {

inline std::vector<std::string> splitList(const char *text)
{
	std::vector<std::string> items;
	std::stringstream stream(text ? text : "");
	std::string item;
	while (std::getline(stream, item, ','))
		if (!item.empty())
			items.push_back(item);
	return items;
}

inline std::vector<std::string> backendsUnderTest()
{
	std::vector<std::string> specs = splitList(std::getenv("ZCBUF_TEST_BACKENDS"));
	return specs.empty() ? zcbuf::availableBackends() : specs;
}

inline std::vector<std::string> dmabufBackendsUnderTest()
{
	std::vector<std::string> specs;
	for (const std::string &spec : backendsUnderTest()) {
		Result<std::shared_ptr<Backend>> backend = openBackend(spec);
		if (backend && backend.value()->capabilities().dmabuf)
			specs.push_back(spec);
	}
	return specs;
}

/* Backend kinds the environment insists on (ZCBUF_TEST_REQUIRE). */
inline std::vector<std::string> requiredBackendKinds()
{
	return splitList(std::getenv("ZCBUF_TEST_REQUIRE"));
}

/* A gtest parameter name: letters, digits and underscores only. */
inline std::string paramName(const std::string &spec)
{
	std::string name;
	for (char c : spec)
		name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
	return name;
}

} /* namespace zcbuf::test */
