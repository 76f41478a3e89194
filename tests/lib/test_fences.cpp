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

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "backend_test.h"
#include "sw_sync.h"

namespace {

using namespace zcbuf;
using test::attachFence;
using test::Timeline;
using Clock = std::chrono::steady_clock;

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
			if (test::swSyncRequired())
				FAIL() << test::kNoSwSync;
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
	ASSERT_TRUE(attachFence(fd_, timeline_->fence(1), true));
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
	ASSERT_TRUE(attachFence(fd_, timeline_->fence(1), false));
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
	ASSERT_TRUE(attachFence(fd_, timeline_->fence(1), true));
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
