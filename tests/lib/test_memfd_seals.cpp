/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sealed memfds: a memfd buffer crosses to another process with a size no
 * holder can change, and a received memfd that could shrink under our
 * mapping (SIGBUS on the next access) is refused at import. The peer is a
 * real second process holding the fd, as zcipcsink's consumers are.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "leak_checked_test.h"
#include "memfd.h"

using namespace zcbuf;

namespace {

constexpr std::size_t kSize = 64 << 10;

unsigned int sealsOf(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	return seals < 0 ? 0 : static_cast<unsigned int>(seals);
}

/*
 * A peer process that owns a memfd, sends it to us, and shrinks it to 0
 * bytes when told to: it reports the errno of its ftruncate (0 when the
 * shrink happened) as its exit status.
 */
class ShrinkingPeer
{
public:
	explicit ShrinkingPeer(UniqueFD memfd)
	{
		int fds[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
			return;
		UniqueFD ours(fds[0]), theirs(fds[1]);
		pid_ = fork();
		if (pid_ == 0) {
			ours.reset();
			int fd = memfd.get();
			std::uint8_t hello = 'm';
			if (!sendWithFds(theirs.get(), std::span(&hello, 1),
					 std::span<const int>(&fd, 1)))
				_exit(125);
			std::uint8_t go;
			if (read(theirs.get(), &go, 1) != 1)
				_exit(126);
			_exit(ftruncate(fd, 0) == 0 ? 0 : errno);
		}
		socket_ = std::move(ours);
	}

	~ShrinkingPeer()
	{
		if (pid_ > 0 && !reaped_) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}

	bool started() const { return pid_ > 0; }

	Result<UniqueFD> receive()
	{
		Result<ReceivedMessage> got = receiveWithFds(socket_.get(), 8, 1);
		if (!got)
			return got.error();
		if (got->fds.size() != 1)
			return Error(EPROTO, "the peer sent no fd");
		return std::move(got->fds[0]);
	}

	/* The errno of the peer's ftruncate to 0, 0 if it shrank the memfd. */
	int shrink()
	{
		std::uint8_t go = 's';
		if (write(socket_.get(), &go, 1) != 1)
			return -1;
		int status = 0;
		waitpid(pid_, &status, 0);
		reaped_ = true;
		return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}

private:
	pid_t pid_ = -1;
	bool reaped_ = false;
	UniqueFD socket_;
};

class MemfdSeals : public test::LeakCheckedTest
{
};

TEST_F(MemfdSeals, BackendBuffersAreSealedAgainstShrinkAndGrow)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(openBackend("memfd").value(), kSize, "sealed");
	Result<int> fd = buffer->fd();
	ASSERT_TRUE(fd.ok()) << fd.error().message();
	unsigned int seals = sealsOf(fd.value());
	EXPECT_TRUE(seals & F_SEAL_SHRINK);
	EXPECT_TRUE(seals & F_SEAL_GROW);
	EXPECT_FALSE(seals & F_SEAL_WRITE) << "the producer must still write into it";
	EXPECT_NE(ftruncate(fd.value(), 0), 0);
	EXPECT_EQ(errno, EPERM);
	EXPECT_NE(ftruncate(fd.value(), 2 * static_cast<off_t>(buffer->allocatedSize())), 0);
}

TEST_F(MemfdSeals, APeerCannotShrinkASealedMemfdWeImported)
{
	std::shared_ptr<Buffer> produced =
		Buffer::create(openBackend("memfd").value(), kSize, "sent");
	{
		Result<CpuAccess> w = produced->access(Access::Write);
		ASSERT_TRUE(w.ok()) << w.error().message();
		std::memset(w->data(), 0x5a, w->size());
	}
	Result<UniqueFD> own = UniqueFD::duplicate(produced->fd().value());
	ASSERT_TRUE(own.ok());
	produced.reset();

	ShrinkingPeer peer(std::move(own).value());
	ASSERT_TRUE(peer.started());
	Result<UniqueFD> received = peer.receive();
	ASSERT_TRUE(received.ok()) << received.error().message();
	Result<std::shared_ptr<Buffer>> imported = Buffer::import(received->get(), kSize, "peer's");
	ASSERT_TRUE(imported.ok()) << imported.error().message();
	received->reset();

	/* The mapping exists before the peer tries. */
	Result<CpuAccess> r = imported.value()->access(Access::Read);
	ASSERT_TRUE(r.ok()) << r.error().message();
	EXPECT_EQ(peer.shrink(), EPERM) << "the kernel let the peer shrink a sealed memfd";
	/* Every page is still there: no SIGBUS. */
	std::size_t sum = 0;
	for (std::size_t i = 0; i < r->size(); i += 4096)
		sum += r->data()[i];
	EXPECT_EQ(sum, 0x5a * (r->size() / 4096));
}

TEST_F(MemfdSeals, AnUnsealedMemfdIsRefusedAtImportNamingTheSeal)
{
	UniqueFD unsealed = test::makeMemfd(kSize, 0);
	ASSERT_TRUE(unsealed.isValid());
	ShrinkingPeer peer(std::move(unsealed));
	ASSERT_TRUE(peer.started());
	Result<UniqueFD> received = peer.receive();
	ASSERT_TRUE(received.ok()) << received.error().message();

	Result<std::shared_ptr<Buffer>> imported = Buffer::import(received->get(), kSize);
	ASSERT_FALSE(imported.ok()) << "an unsealed memfd was imported";
	EXPECT_EQ(imported.error().code(), EPERM);
	EXPECT_NE(imported.error().message().find("F_SEAL_SHRINK"), std::string::npos)
		<< imported.error().message();
	EXPECT_GE(fcntl(received->get(), F_GETFD), 0) << "a refused import closed the fd";

	/* And the refusal mattered: the peer really could shrink it. */
	EXPECT_EQ(peer.shrink(), 0);
}

TEST_F(MemfdSeals, AMemfdThatCanNeverBeSealedIsRefused)
{
	/* Without MFD_ALLOW_SEALING a memfd reports only F_SEAL_SEAL. */
	UniqueFD fd(memfd_create("no-sealing", MFD_CLOEXEC));
	ASSERT_TRUE(fd.isValid());
	ASSERT_EQ(ftruncate(fd.get(), 4096), 0);
	Result<std::shared_ptr<Buffer>> imported = Buffer::import(fd.get(), 4096);
	ASSERT_FALSE(imported.ok());
	EXPECT_NE(imported.error().message().find("F_SEAL_SHRINK"), std::string::npos)
		<< imported.error().message();
}

TEST_F(MemfdSeals, ShrinkSealAloneIsEnough)
{
	/* Growing under a mapping is harmless to the importer. */
	UniqueFD fd = test::makeMemfd(4096, F_SEAL_SHRINK);
	ASSERT_TRUE(fd.isValid());
	Result<std::shared_ptr<Buffer>> imported = Buffer::import(fd.get(), 4096);
	ASSERT_TRUE(imported.ok()) << imported.error().message();
}

} /* namespace */
