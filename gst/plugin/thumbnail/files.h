/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thumbnail file names and how files are written: a printf-style pattern
 * with one integer conversion, and writes that readers never see half
 * done (a temporary file in the same directory, then rename(2)).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace zcbuf::thumbnail {

class LocationPattern
{
public:
	/*
	 * Accepts text with exactly one conversion "%[flags][width][.prec]C"
	 * (flags from "-+ #0", width and precision up to 2 digits, C one of
	 * d i u x X o) and any number of "%%". Anything else is refused with
	 * a reason in @error.
	 */
	static std::optional<LocationPattern> parse(const std::string &pattern, std::string *error);

	std::string format(std::uint64_t index) const;

private:
	std::string prefix_;
	std::string conversion_;
	std::string suffix_;
	bool isSigned_ = false;
};

/* The directory part of @path ("." when it has none). */
std::string directoryOf(const std::string &path);

/* Writes @size bytes to @path atomically; false with the reason (errno
 * text included) in @error. */
bool writeAtomically(const std::string &path, const std::uint8_t *data, std::size_t size,
		     std::string *error);

} /* namespace zcbuf::thumbnail */
