/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an fd really is, asked of the kernel rather than assumed, and the
 * dma-buf calls that depend on it.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <zcbuf/result.h>

namespace zcbuf::internal {

enum class FdType {
	Dmabuf,
	Memfd,
};

struct FdInspection {
	FdType type;
	std::size_t size;
	bool writable;
	/* A memfd's F_SEAL_* seals (F_GET_SEALS); 0 for a dma-buf. */
	unsigned int seals = 0;
};

/* Identifies a dma-buf (its file system's magic) or a memfd, its size and
 * a memfd's seals; every other kind of fd is an error that says what it is. */
Result<FdInspection> inspectFd(int fd);

bool isDmabuf(int fd);

/*
 * Waits, at most @timeoutMs, for the implicit fences a CPU access must not
 * overtake: a device's pending writes before a read (poll POLLIN), every
 * pending device access before a write (POLLOUT). ETIMEDOUT when they are
 * still pending then. 6.1's DMA_BUF_IOCTL_SYNC waits for them too, but
 * without bound: this comes first so that a fence nobody signals is an
 * error, not a hang.
 */
Result<void> dmabufWaitFences(int fd, bool write, int timeoutMs);

/* DMA_BUF_IOCTL_SYNC, restarted on EINTR and EAGAIN. */
Result<void> dmabufSync(int fd, std::uint64_t flags);

/* DMA_BUF_SET_NAME with the name cut to what the kernel accepts. */
Result<void> dmabufSetName(int fd, const std::string &name);

} /* namespace zcbuf::internal */
