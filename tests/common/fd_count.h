/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Counting this process's open fds, to prove that tests leak none. */
#pragma once

#include <dirent.h>

namespace zcbuf::test {

/* Entries of /proc/self/fd, less the one opendir() itself uses. */
inline int openFdCount()
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int count = 0;
	while (struct dirent *entry = readdir(dir))
		if (entry->d_name[0] != '.')
			count++;
	closedir(dir);
	return count - 1;
}

} /* namespace zcbuf::test */
