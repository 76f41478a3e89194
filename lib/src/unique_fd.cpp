/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/unique_fd.h>

#include <fcntl.h>
#include <unistd.h>

namespace zcbuf {

Result<UniqueFD> UniqueFD::duplicate(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return Error::fromErrno(errno, "duplicating fd " + std::to_string(fd));
	return UniqueFD(copy);
}

void UniqueFD::reset(int fd) noexcept
{
	int old = std::exchange(fd_, fd);
	/* close() must not be retried on EINTR on Linux: the fd is gone. */
	if (old >= 0)
		close(old);
}

SharedFD::SharedFD(UniqueFD &&fd)
{
	if (fd.isValid())
		fd_ = std::make_shared<const UniqueFD>(std::move(fd));
}

} /* namespace zcbuf */
