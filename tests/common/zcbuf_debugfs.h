/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What zcbuf.ko says of a buffer: the key=value fields of its line in
 * /sys/kernel/debug/zcbuf/buffers (docs/kernel.md, "debugfs"), for tests
 * that check the library's own counters against the exporter's.
 */
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace zcbuf::test {

/* The fields of @fd's buffer (found by its inode number); empty when it is
 * not a zcbuf.ko buffer or debugfs is not there. */
inline std::map<std::string, std::string> zcbufDebugfsFields(int fd)
{
	struct stat st;
	std::map<std::string, std::string> fields;
	if (fstat(fd, &st) != 0)
		return fields;
	std::ifstream in("/sys/kernel/debug/zcbuf/buffers");
	std::string line;
	const std::string wanted = "buffer ino=" + std::to_string(st.st_ino) + " ";
	while (std::getline(in, line)) {
		if (line.rfind(wanted, 0) != 0)
			continue;
		std::istringstream words(line);
		std::string word;
		while (words >> word) {
			std::size_t eq = word.find('=');
			if (eq != std::string::npos)
				fields[word.substr(0, eq)] = word.substr(eq + 1);
		}
		break;
	}
	return fields;
}

} /* namespace zcbuf::test */
