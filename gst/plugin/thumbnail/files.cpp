/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "thumbnail/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include <zcbuf/unique_fd.h>

namespace zcbuf::thumbnail {

namespace {

bool isDigit(char c)
{
	return c >= '0' && c <= '9';
}

std::string systemError(const std::string &what, int error)
{
	return what + ": " + g_strerror(error);
}

} /* namespace */

std::optional<LocationPattern> LocationPattern::parse(const std::string &pattern,
						      std::string *error)
{
	LocationPattern result;
	bool found = false;
	std::string *text = &result.prefix_;
	for (std::size_t i = 0; i < pattern.size(); i++) {
		if (pattern[i] != '%') {
			*text += pattern[i];
			continue;
		}
		if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
			*text += '%';
			i++;
			continue;
		}
		if (found) {
			*error = "more than one conversion in '" + pattern + "'";
			return std::nullopt;
		}
		std::size_t j = i + 1;
		std::string spec = "%";
		while (j < pattern.size() && std::strchr("-+ #0", pattern[j]) && pattern[j])
			spec += pattern[j++];
		for (int digits = 0; j < pattern.size() && isDigit(pattern[j]); digits++) {
			if (digits == 2) {
				*error = "field width too large in '" + pattern + "'";
				return std::nullopt;
			}
			spec += pattern[j++];
		}
		if (j < pattern.size() && pattern[j] == '.') {
			spec += pattern[j++];
			for (int digits = 0; j < pattern.size() && isDigit(pattern[j]); digits++) {
				if (digits == 2) {
					*error = "precision too large in '" + pattern + "'";
					return std::nullopt;
				}
				spec += pattern[j++];
			}
		}
		if (j >= pattern.size() || !std::strchr("diuxXo", pattern[j]) || !pattern[j]) {
			*error = "'" + pattern +
				 "' needs one integer conversion such as %d or %05d, found '" +
				 pattern.substr(i, j + 1 - i) + "'";
			return std::nullopt;
		}
		result.isSigned_ = pattern[j] == 'd' || pattern[j] == 'i';
		/* Always formatted from a 64-bit value. */
		result.conversion_ = spec + "ll" + pattern[j];
		found = true;
		text = &result.suffix_;
		i = j;
	}
	if (!found) {
		*error = "'" + pattern + "' has no integer conversion such as %d or %05d";
		return std::nullopt;
	}
	return result;
}

std::string LocationPattern::format(std::uint64_t index) const
{
	/* The conversion was built by parse() from a closed set of
	 * characters, with a 64-bit length modifier. */
	gchar *number = isSigned_ ? g_strdup_printf(conversion_.c_str(), static_cast<long long>(index))
				  : g_strdup_printf(conversion_.c_str(),
						    static_cast<unsigned long long>(index));
	std::string name = prefix_ + number + suffix_;
	g_free(number);
	return name;
}

std::string directoryOf(const std::string &path)
{
	gchar *directory = g_path_get_dirname(path.c_str());
	std::string result = directory;
	g_free(directory);
	return result;
}

bool writeAtomically(const std::string &path, const std::uint8_t *data, std::size_t size,
		     std::string *error)
{
	std::string temporary = path + ".XXXXXX";
	zcbuf::UniqueFD fd(mkostemp(temporary.data(), O_CLOEXEC));
	if (!fd.isValid()) {
		*error = systemError("cannot create a temporary file next to " + path, errno);
		return false;
	}
	/* mkostemp() makes the file private; thumbnails are for others. */
	if (fchmod(fd.get(), 0644) < 0) {
		int saved = errno;
		unlink(temporary.c_str());
		*error = systemError("cannot make " + temporary + " readable", saved);
		return false;
	}
	std::size_t written = 0;
	while (written < size) {
		ssize_t n = write(fd.get(), data + written, size - written);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = n < 0 ? errno : ENOSPC;
			unlink(temporary.c_str());
			*error = systemError("cannot write " + temporary, saved);
			return false;
		}
		written += static_cast<std::size_t>(n);
	}
	if (close(fd.release()) < 0) {
		int saved = errno;
		unlink(temporary.c_str());
		*error = systemError("cannot write " + temporary, saved);
		return false;
	}
	if (rename(temporary.c_str(), path.c_str()) < 0) {
		int saved = errno;
		unlink(temporary.c_str());
		*error = systemError("cannot rename " + temporary + " to " + path, saved);
		return false;
	}
	return true;
}

} /* namespace zcbuf::thumbnail */
