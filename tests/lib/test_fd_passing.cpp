/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/mman.h>
#include <cstring>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "leak_checked_test.h"

using namespace zcbuf;

namespace {

class FdPassingTest : public test::LeakCheckedTest
{
protected:
	void SetUp() override
	{
		test::LeakCheckedTest::SetUp();
		int fds[2];
		ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
		a_.reset(fds[0]);
		b_.reset(fds[1]);
	}

	void TearDown() override
	{
		a_.reset();
		b_.reset();
		test::LeakCheckedTest::TearDown();
	}

	std::shared_ptr<Buffer> filledBuffer(std::uint8_t value)
	{
		std::shared_ptr<Buffer> buffer =
			Buffer::create(openBackend("memfd").value(), 4096, "passed");
		Result<CpuAccess> w = buffer->access(Access::Write);
		EXPECT_TRUE(w.ok());
		std::memset(w->data(), value, w->size());
		return buffer;
	}

	UniqueFD a_, b_;
	const std::vector<std::uint8_t> hello_{ 'h', 'i' };
};

TEST_F(FdPassingTest, BufferCrossesTheSocket)
{
	std::shared_ptr<Buffer> sent = filledBuffer(0x5c);
	int fd = sent->fd().value();
	ASSERT_TRUE(sendWithFds(a_.get(), hello_, std::span<const int>(&fd, 1)).ok());

	Result<ReceivedMessage> got = receiveWithFds(b_.get(), 64, 4);
	ASSERT_TRUE(got.ok()) << got.error().message();
	EXPECT_EQ(got->payload, hello_);
	ASSERT_EQ(got->fds.size(), 1u);

	Result<std::shared_ptr<Buffer>> imported = Buffer::import(got->fds[0].get(), 4096);
	ASSERT_TRUE(imported.ok()) << imported.error().message();
	Result<CpuAccess> r = imported.value()->access(Access::Read);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->data()[4095], 0x5c);
}

TEST_F(FdPassingTest, SeveralFdsKeepTheirOrder)
{
	std::vector<std::shared_ptr<Buffer>> buffers;
	std::vector<int> fds;
	for (std::uint8_t v : { 1, 2, 3 }) {
		buffers.push_back(filledBuffer(v));
		fds.push_back(buffers.back()->fd().value());
	}
	ASSERT_TRUE(sendWithFds(a_.get(), hello_, fds).ok());
	Result<ReceivedMessage> got = receiveWithFds(b_.get(), 64, 4);
	ASSERT_TRUE(got.ok()) << got.error().message();
	ASSERT_EQ(got->fds.size(), 3u);
	for (std::size_t i = 0; i < 3; i++) {
		std::uint8_t byte = 0;
		ASSERT_EQ(pread(got->fds[i].get(), &byte, 1, 0), 1);
		EXPECT_EQ(byte, i + 1);
	}
}

TEST_F(FdPassingTest, MoreFdsThanExpectedAreClosedNotLeaked)
{
	std::shared_ptr<Buffer> one = filledBuffer(1), two = filledBuffer(2);
	int fds[] = { one->fd().value(), two->fd().value() };
	ASSERT_TRUE(sendWithFds(a_.get(), hello_, fds).ok());
	Result<ReceivedMessage> got = receiveWithFds(b_.get(), 64, 1);
	ASSERT_FALSE(got.ok());
	EXPECT_EQ(got.error().code(), EMSGSIZE);
	/* LeakCheckedTest's fd count proves the arrived fd was closed. */
}

TEST_F(FdPassingTest, TooLongPayloadIsRefusedAndItsFdsClosed)
{
	std::shared_ptr<Buffer> buffer = filledBuffer(1);
	int fd = buffer->fd().value();
	std::vector<std::uint8_t> big(100, 7);
	ASSERT_TRUE(sendWithFds(a_.get(), big, std::span<const int>(&fd, 1)).ok());
	Result<ReceivedMessage> got = receiveWithFds(b_.get(), 10, 4);
	ASSERT_FALSE(got.ok());
	EXPECT_EQ(got.error().code(), EMSGSIZE);
}

TEST_F(FdPassingTest, PeerThatDiesIsAConnectionReset)
{
	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		/* The peer dies without a word. */
		_exit(0);
	}
	a_.reset();
	int status = 0;
	waitpid(child, &status, 0);
	Result<ReceivedMessage> got = receiveWithFds(b_.get(), 64, 4);
	ASSERT_FALSE(got.ok());
	EXPECT_EQ(got.error().code(), ECONNRESET);
	EXPECT_NE(got.error().message().find("closed"), std::string::npos);
}

TEST_F(FdPassingTest, SendingToAGonePeerIsAnErrorNotASignal)
{
	b_.reset();
	Result<void> sent = sendWithFds(a_.get(), hello_, {});
	ASSERT_FALSE(sent.ok());
	EXPECT_EQ(sent.error().code(), EPIPE);
}

TEST_F(FdPassingTest, BadArguments)
{
	EXPECT_EQ(sendWithFds(a_.get(), {}, {}).error().code(), EINVAL);
	std::vector<int> many(kMaxFdsPerMessage + 1, a_.get());
	EXPECT_EQ(sendWithFds(a_.get(), hello_, many).error().code(), EINVAL);

	UniqueFD notSocket(memfd_create("x", MFD_CLOEXEC));
	EXPECT_EQ(sendWithFds(notSocket.get(), hello_, {}).error().code(), ENOTSOCK);
	EXPECT_EQ(receiveWithFds(notSocket.get(), 8, 1).error().code(), ENOTSOCK);
}

} /* namespace */
