/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPU access honours the implicit fences a device leaves on a dma-buf:
 * fences from sw_sync timelines (/sys/kernel/debug/sync/sw_sync, the guest
 * loads it with --modprobe sw_sync) attached to our buffers with
 * DMA_BUF_IOCTL_IMPORT_SYNC_FILE, as a device driver would attach its own.
 * A fence signalled late makes the access wait for it; one never signalled
 * is an ETIMEDOUT error after the timeout asked for, with nothing begun and
 * nothing leaked. Dma-buf backends only: the VM suite (lib-in-vm) runs it.
 */
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/types.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "backend_test.h"

namespace {

using namespace zcbuf;
using Clock = std::chrono::steady_clock;

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
bool attach(int fd, int syncFile, bool write)
{
	struct dma_buf_import_sync_file import = {};
	import.flags = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ;
	import.fd = syncFile;
	bool ok = ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &import) == 0;
	close(syncFile);
	return ok;
}

class Fences : public test::BackendTest
{
protected:
	void SetUp() override
	{
		test::BackendTest::SetUp();
		if (HasFatalFailure())
			return;
		timeline_ = std::make_unique<Timeline>();
		if (!timeline_->ok()) {
			const char *required = std::getenv("ZCBUF_TEST_REQUIRE");
			if (required && *required)
				FAIL() << "no /sys/kernel/debug/sync/sw_sync: boot the guest with "
					  "--modprobe sw_sync";
			GTEST_SKIP() << "no sw_sync here (the guest has it)";
		}
		buffer_ = Buffer::create(backend_, 65536, "fenced");
		/* allocated and mapped before any fence, so that the waits
		 * measured are the fences' alone */
		Result<CpuAccess> first = buffer_->access(Access::ReadWrite);
		ASSERT_TRUE(first) << first.error().message();
		ASSERT_TRUE(first.value().end());
		Result<int> fd = buffer_->fd();
		ASSERT_TRUE(fd) << fd.error().message();
		fd_ = fd.value();
	}

	void TearDown() override
	{
		buffer_.reset();
		timeline_.reset();
		test::BackendTest::TearDown();
	}

	std::unique_ptr<Timeline> timeline_;
	std::shared_ptr<Buffer> buffer_;
	int fd_ = -1;
};

/* A device's write signalled 300 ms later: a read waits for it. */
TEST_P(Fences, ReadWaitsForAPendingWriteSignalledLate)
{
	ASSERT_TRUE(attach(fd_, timeline_->fence(1), true));
	std::thread signaller([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(300));
		EXPECT_TRUE(timeline_->advance());
	});
	auto start = Clock::now();
	Result<CpuAccess> read = buffer_->access(Access::Read);
	auto waited = Clock::now() - start;
	signaller.join();
	ASSERT_TRUE(read) << read.error().message();
	EXPECT_GE(waited, std::chrono::milliseconds(250));
	EXPECT_TRUE(read.value().end());
}

/* A device's read pending: a CPU read goes ahead, a CPU write waits. */
TEST_P(Fences, WriteWaitsForAPendingReadWhichAReadDoesNot)
{
	ASSERT_TRUE(attach(fd_, timeline_->fence(1), false));
	auto start = Clock::now();
	Result<CpuAccess> read = buffer_->access(Access::Read, 100);
	ASSERT_TRUE(read) << read.error().message();
	EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(100));
	ASSERT_TRUE(read.value().end());

	Result<CpuAccess> write = buffer_->access(Access::Write, 100);
	ASSERT_FALSE(write);
	EXPECT_EQ(write.error().code(), ETIMEDOUT) << write.error().message();
	ASSERT_TRUE(timeline_->advance());
	Result<CpuAccess> later = buffer_->access(Access::Write, 100);
	ASSERT_TRUE(later) << later.error().message();
	EXPECT_TRUE(later.value().end());
}

/* Never signalled: ETIMEDOUT after the timeout, a message that says why,
 * no sync begun (a begun one would need an end), and the buffer fine once
 * the device is done. Leaks: the fixture's fd and buffer counts. */
TEST_P(Fences, ANeverSignalledFenceIsATimeoutError)
{
	ASSERT_TRUE(attach(fd_, timeline_->fence(1), true));
	std::uint64_t syncsBefore = statistics().total().syncs;
	auto start = Clock::now();
	Result<CpuAccess> read = buffer_->access(Access::Read, 200);
	auto waited = Clock::now() - start;
	ASSERT_FALSE(read);
	EXPECT_EQ(read.error().code(), ETIMEDOUT);
	EXPECT_NE(read.error().message().find("buffer 'fenced'"), std::string::npos)
		<< read.error().message();
	EXPECT_NE(read.error().message().find("still pending after 200 ms"), std::string::npos)
		<< read.error().message();
	EXPECT_GE(waited, std::chrono::milliseconds(200));
	EXPECT_LT(waited, std::chrono::milliseconds(1500));
	EXPECT_EQ(statistics().total().syncs, syncsBefore) << "a sync began";

	ASSERT_TRUE(timeline_->advance());
	Result<CpuAccess> again = buffer_->access(Access::Read, 200);
	ASSERT_TRUE(again) << again.error().message();
	EXPECT_TRUE(again.value().end());
}

ZCBUF_INSTANTIATE_FOR_DMABUF_BACKENDS(Fences);

} /* namespace */
