/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Import of received fds: every kind of bad fd gets a clear error, and the
 * caller's fd is never consumed. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "backend_params.h"
#include "leak_checked_test.h"
#include "memfd.h"

using namespace zcbuf;
using zcbuf::test::makeMemfd;

namespace {

bool isOpen(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

void expectRefused(int fd, int code, const std::string &words)
{
	Result<std::shared_ptr<Buffer>> buffer = Buffer::import(fd, 1);
	ASSERT_FALSE(buffer.ok()) << "fd " << fd << " was accepted";
	EXPECT_EQ(buffer.error().code(), code) << buffer.error().message();
	EXPECT_NE(buffer.error().message().find(words), std::string::npos)
		<< "'" << buffer.error().message() << "' does not say '" << words << "'";
}

class ImportTest : public test::LeakCheckedTest
{
};

TEST_F(ImportTest, ClosedFd)
{
	/* The fd number of a file its owner has closed. */
	int fd = UniqueFD(open("/dev/null", O_RDONLY | O_CLOEXEC)).get();
	expectRefused(fd, EBADF, "not open");
}

TEST_F(ImportTest, NegativeFd)
{
	expectRefused(-1, EBADF, "not a valid fd");
}

TEST_F(ImportTest, RegularFile)
{
	char path[] = "/tmp/zcbuf-import-XXXXXX";
	UniqueFD fd(mkostemp(path, O_CLOEXEC));
	ASSERT_TRUE(fd.isValid());
	unlink(path);
	ASSERT_EQ(ftruncate(fd.get(), 1 << 20), 0);
	expectRefused(fd.get(), EINVAL, "regular file");
	EXPECT_TRUE(isOpen(fd.get())) << "a refused import closed the caller's fd";
}

TEST_F(ImportTest, Pipe)
{
	int fds[2];
	ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
	UniqueFD reader(fds[0]), writer(fds[1]);
	expectRefused(reader.get(), EINVAL, "pipe");
	expectRefused(writer.get(), EINVAL, "pipe");
}

TEST_F(ImportTest, Socket)
{
	int fds[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	UniqueFD a(fds[0]), b(fds[1]);
	expectRefused(a.get(), EINVAL, "socket");
}

TEST_F(ImportTest, DeviceNodeAndDirectory)
{
	UniqueFD null(open("/dev/null", O_RDWR | O_CLOEXEC));
	expectRefused(null.get(), EINVAL, "device node");
	UniqueFD dir(open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	expectRefused(dir.get(), EINVAL, "directory");
}

TEST_F(ImportTest, TooSmallMemfd)
{
	UniqueFD fd = makeMemfd(4096);
	ASSERT_TRUE(fd.isValid());
	Result<std::shared_ptr<Buffer>> buffer = Buffer::import(fd.get(), 8192);
	ASSERT_FALSE(buffer.ok());
	EXPECT_EQ(buffer.error().code(), EINVAL);
	EXPECT_NE(buffer.error().message().find("4096"), std::string::npos);
	EXPECT_NE(buffer.error().message().find("8192"), std::string::npos);
	EXPECT_TRUE(isOpen(fd.get()));
}

TEST_F(ImportTest, MemfdIsImportedAndTheCallerKeepsItsFd)
{
	UniqueFD fd = makeMemfd(1 << 16);
	ASSERT_TRUE(fd.isValid());
	Result<std::shared_ptr<Buffer>> buffer = Buffer::import(fd.get(), 1 << 16, "peer");
	ASSERT_TRUE(buffer.ok()) << buffer.error().message();
	std::shared_ptr<Buffer> b = buffer.value();
	EXPECT_EQ(b->backendKind(), BackendKind::Imported);
	EXPECT_FALSE(b->isDmabuf());
	EXPECT_TRUE(b->isAllocated());
	EXPECT_EQ(b->size(), 1u << 16);
	EXPECT_NE(b->fd().value(), fd.get()) << "the buffer must own a duplicate";

	/* Data written by the buffer is seen through the caller's fd. */
	{
		Result<CpuAccess> w = b->access(Access::Write);
		ASSERT_TRUE(w.ok()) << w.error().message();
		w->data()[100] = 77;
	}
	b.reset();
	buffer = Error(0, {});
	EXPECT_TRUE(isOpen(fd.get()));
	unsigned char byte = 0;
	ASSERT_EQ(pread(fd.get(), &byte, 1, 100), 1);
	EXPECT_EQ(byte, 77);
}

TEST_F(ImportTest, ReadOnlyFdRefusesWriteAccess)
{
	UniqueFD fd = makeMemfd(4096);
	ASSERT_TRUE(fd.isValid());
	UniqueFD readOnly(open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(),
			       O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(readOnly.isValid());
	Result<std::shared_ptr<Buffer>> buffer = Buffer::import(readOnly.get(), 4096);
	ASSERT_TRUE(buffer.ok()) << buffer.error().message();
	EXPECT_TRUE(buffer.value()->isReadOnly());
	Result<CpuAccess> w = buffer.value()->access(Access::Write);
	ASSERT_FALSE(w.ok());
	EXPECT_EQ(w.error().code(), EACCES);
	EXPECT_TRUE(buffer.value()->access(Access::Read).ok());
}

class DmabufImportTest : public test::LeakCheckedTest,
			 public ::testing::WithParamInterface<std::string>
{
protected:
	DmabufImportTest() : backend_(openBackend(GetParam()).value()) {}
	std::shared_ptr<Backend> backend_;
};

TEST_P(DmabufImportTest, DmabufIsImportedWithItsSize)
{
	std::shared_ptr<Buffer> exported = Buffer::create(backend_, 3 * 4096, "exported");
	ASSERT_TRUE(exported->allocate().ok());
	Result<std::shared_ptr<Buffer>> imported =
		Buffer::import(exported->fd().value(), 3 * 4096);
	ASSERT_TRUE(imported.ok()) << imported.error().message();
	EXPECT_TRUE(imported.value()->isDmabuf());
	EXPECT_EQ(imported.value()->size(), exported->allocatedSize());

	/* The sync bracket is counted against imports too. */
	BackendStatistics before = statistics()[BackendKind::Imported];
	{
		Result<CpuAccess> r = imported.value()->access(Access::Read);
		ASSERT_TRUE(r.ok()) << r.error().message();
	}
	EXPECT_EQ(statistics()[BackendKind::Imported].syncs, before.syncs + 2);
}

TEST_P(DmabufImportTest, TooSmallDmabuf)
{
	std::shared_ptr<Buffer> exported = Buffer::create(backend_, 4096, "small");
	ASSERT_TRUE(exported->allocate().ok());
	std::size_t have = exported->allocatedSize();
	Result<std::shared_ptr<Buffer>> imported =
		Buffer::import(exported->fd().value(), have + 1);
	ASSERT_FALSE(imported.ok());
	EXPECT_EQ(imported.error().code(), EINVAL);
	EXPECT_NE(imported.error().message().find(std::to_string(have)), std::string::npos);
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DmabufImportTest);
INSTANTIATE_TEST_SUITE_P(Backends, DmabufImportTest,
			 ::testing::ValuesIn(test::dmabufBackendsUnderTest()),
			 [](const auto &info) { return test::paramName(info.param); });

} /* namespace */
