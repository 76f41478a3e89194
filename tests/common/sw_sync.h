/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Implicit fences for tests: sw_sync timelines (/sys/kernel/debug/sync/
 * sw_sync; the guest loads it with --modprobe sw_sync) whose fences a test
 * attaches to a dma-buf with DMA_BUF_IOCTL_IMPORT_SYNC_FILE, as a device
 * driver attaches its own, and signals when it likes.
 */
#pragma once

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/types.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace zcbuf::test {

/* sw_sync's interface (drivers/dma-buf/sw_sync.c; no uapi header). */
struct SwSyncCreateFence {
	__u32 value;
	char name[32];
	__s32 fence;
};
#define SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct SwSyncCreateFence)
#define SW_SYNC_IOC_INC _IOW('W', 1, __u32)

/* A sw_sync timeline: fences at its next points, signalled by advance().
 * Closing it signals what is left (with an error), as sw_sync does. */
class Timeline
{
public:
	Timeline() : fd_(open("/sys/kernel/debug/sync/sw_sync", O_RDWR | O_CLOEXEC)) {}
	~Timeline()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	Timeline(const Timeline &) = delete;
	Timeline &operator=(const Timeline &) = delete;

	bool ok() const { return fd_ >= 0; }

	/* A sync_file fd signalled when the timeline reaches @point. */
	int fence(unsigned point)
	{
		SwSyncCreateFence create = {};
		create.value = point;
		std::snprintf(create.name, sizeof(create.name), "zcbuf-test-%u", point);
		return ioctl(fd_, SW_SYNC_IOC_CREATE_FENCE, &create) == 0 ? create.fence : -1;
	}

	bool advance(unsigned by = 1) { return ioctl(fd_, SW_SYNC_IOC_INC, &by) == 0; }

private:
	int fd_;
};

/* Attaches @syncFile to the dma-buf @fd as a device's write (or read). */
inline bool attachFence(int fd, int syncFile, bool write)
{
	struct dma_buf_import_sync_file import = {};
	import.flags = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	import.fd = syncFile;
	bool ok = ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &import) == 0;
	close(syncFile);
	return ok;
}

/* Without sw_sync: a failure in the guest (ZCBUF_TEST_REQUIRE set), where
 * it must be loaded, a skip elsewhere. */
inline bool swSyncRequired()
{
	const char *required = std::getenv("ZCBUF_TEST_REQUIRE");
	return required && *required;
}

constexpr const char *kNoSwSync =
	"no /sys/kernel/debug/sync/sw_sync: boot the guest with --modprobe sw_sync";

} /* namespace zcbuf::test */
