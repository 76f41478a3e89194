/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fd_inspection.h"

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace zcbuf::internal {

namespace {

std::string fdPath(int fd)
{
	char link[64];
	char target[256];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return {};
	target[len] = '\0';
	return target;
}

std::string describe(int fd)
{
	return "fd " + std::to_string(fd);
}

} /* namespace */

bool isDmabuf(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 &&
	       static_cast<unsigned long>(fs.f_type) == DMA_BUF_MAGIC;
}

Result<FdInspection> inspectFd(int fd)
{
	if (fd < 0)
		return Error(EBADF, describe(fd) + " is not a valid fd");

	int flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return Error::fromErrno(errno, describe(fd) + " is not open");
	bool writable = (flags & O_ACCMODE) == O_RDWR;

	struct stat st;
	if (fstat(fd, &st) < 0)
		return Error::fromErrno(errno, "fstat on " + describe(fd));

	const char *notOurs = ", not a dma-buf or memfd";
	if (S_ISFIFO(st.st_mode))
		return Error(EINVAL, describe(fd) + " is a pipe" + notOurs);
	if (S_ISSOCK(st.st_mode))
		return Error(EINVAL, describe(fd) + " is a socket" + notOurs);
	if (S_ISDIR(st.st_mode))
		return Error(EINVAL, describe(fd) + " is a directory" + notOurs);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return Error(EINVAL, describe(fd) + " is a device node (" +
					     fdPath(fd) + ")" + notOurs);

	struct statfs fs;
	if (fstatfs(fd, &fs) < 0)
		return Error::fromErrno(errno, "fstatfs on " + describe(fd));
	unsigned long magic = static_cast<unsigned long>(fs.f_type);

	if (magic == DMA_BUF_MAGIC) {
		/* A dma-buf's size is what SEEK_END reports; it accepts no
		 * other seek but back to 0. */
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return Error::fromErrno(errno, "lseek on dma-buf " + describe(fd));
		lseek(fd, 0, SEEK_SET);
		return FdInspection{ FdType::Dmabuf, static_cast<std::size_t>(end),
				     writable };
	}

	if ((magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) &&
	    fdPath(fd).rfind("/memfd:", 0) == 0) {
		/* A memfd made without MFD_ALLOW_SEALING reports F_SEAL_SEAL
		 * alone: no seal can ever be added to it. */
		int seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0)
			return Error::fromErrno(errno, "F_GET_SEALS on memfd " + describe(fd));
		return FdInspection{ FdType::Memfd, static_cast<std::size_t>(st.st_size),
				     writable, static_cast<unsigned int>(seals) };
	}

	if (S_ISREG(st.st_mode))
		return Error(EINVAL, describe(fd) + " is a regular file (" +
					     fdPath(fd) + ")" + notOurs);
	return Error(EINVAL, describe(fd) + " (" + fdPath(fd) + ")" + notOurs);
}

Result<void> dmabufWaitFences(int fd, bool write, int timeoutMs)
{
	struct pollfd wait = {};
	wait.fd = fd;
	wait.events = write ? POLLOUT : POLLIN;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
	for (;;) {
		/* rounded up: poll's milliseconds must not end before the deadline */
		auto left = std::chrono::ceil<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now());
		/* A negative timeout waits without bound, as poll's does. */
		int ready = poll(&wait, 1,
				 timeoutMs < 0 ? -1
					       : std::max<int>(0, static_cast<int>(left.count())));
		if (ready > 0 && (wait.revents & (POLLERR | POLLNVAL)))
			return Error(EBADF, "poll on " + describe(fd) + " reports an error");
		if (ready > 0)
			return {};
		if (ready == 0 && std::chrono::steady_clock::now() < deadline)
			continue;
		if (ready == 0)
			return Error(ETIMEDOUT, describe(fd) + ": a device's " +
							(write ? "access" : "write") +
							" is still pending after " +
							std::to_string(timeoutMs) +
							" ms (an implicit fence not signalled)");
		if (errno != EINTR)
			return Error::fromErrno(errno, "poll on " + describe(fd));
	}
}

Result<void> dmabufSync(int fd, std::uint64_t flags)
{
	struct dma_buf_sync sync = {};
	sync.flags = flags;
	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		return Error::fromErrno(errno, std::string("DMA_BUF_IOCTL_SYNC ") +
						      ((flags & DMA_BUF_SYNC_END) ? "END" : "START") +
						      " on " + describe(fd));
	}
	return {};
}

Result<void> dmabufSetName(int fd, const std::string &name)
{
	std::string cut = name.substr(0, DMA_BUF_NAME_LEN - 1);
	if (ioctl(fd, DMA_BUF_SET_NAME, cut.c_str()) < 0)
		return Error::fromErrno(errno, "DMA_BUF_SET_NAME on " + describe(fd));
	return {};
}

} /* namespace zcbuf::internal */
