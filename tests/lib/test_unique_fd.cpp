/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <zcbuf/unique_fd.h>

#include "leak_checked_test.h"

using namespace zcbuf;

namespace {

bool isOpen(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

class UniqueFDTest : public test::LeakCheckedTest
{
};

TEST_F(UniqueFDTest, ClosesWhenDestroyed)
{
	int raw;
	{
		UniqueFD fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
		ASSERT_TRUE(fd.isValid());
		raw = fd.get();
		EXPECT_TRUE(isOpen(raw));
	}
	EXPECT_FALSE(isOpen(raw));
}

TEST_F(UniqueFDTest, ReleaseHandsOwnershipBack)
{
	UniqueFD fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int raw = fd.release();
	EXPECT_FALSE(fd.isValid());
	EXPECT_EQ(fd.get(), -1);
	EXPECT_TRUE(isOpen(raw));
	UniqueFD owner(raw);
}

TEST_F(UniqueFDTest, MoveTransfersAndResetCloses)
{
	UniqueFD a(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int raw = a.get();
	UniqueFD b(std::move(a));
	EXPECT_FALSE(a.isValid());
	EXPECT_EQ(b.get(), raw);

	UniqueFD c;
	c = std::move(b);
	EXPECT_EQ(c.get(), raw);
	c.reset();
	EXPECT_FALSE(isOpen(raw));
}

TEST_F(UniqueFDTest, MoveAssignmentClosesThePreviousFd)
{
	UniqueFD a(open("/dev/null", O_RDONLY | O_CLOEXEC));
	UniqueFD b(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int old = a.get();
	a = std::move(b);
	EXPECT_FALSE(isOpen(old));
}

TEST_F(UniqueFDTest, DuplicateIsCloexecAndIndependent)
{
	UniqueFD fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	Result<UniqueFD> copy = UniqueFD::duplicate(fd.get());
	ASSERT_TRUE(copy.ok()) << copy.error().message();
	EXPECT_NE(copy->get(), fd.get());
	EXPECT_TRUE(fcntl(copy->get(), F_GETFD) & FD_CLOEXEC);
	fd.reset();
	EXPECT_TRUE(isOpen(copy->get()));
}

TEST_F(UniqueFDTest, DuplicateOfAClosedFdFails)
{
	int raw = UniqueFD(open("/dev/null", O_RDONLY | O_CLOEXEC)).get();
	Result<UniqueFD> copy = UniqueFD::duplicate(raw);
	ASSERT_FALSE(copy.ok());
	EXPECT_EQ(copy.error().code(), EBADF);
}

TEST_F(UniqueFDTest, SharedFDClosesWithTheLastOwner)
{
	int raw;
	SharedFD second;
	{
		SharedFD first(UniqueFD(open("/dev/null", O_RDONLY | O_CLOEXEC)));
		raw = first.get();
		second = first;
		EXPECT_EQ(second.get(), raw);
	}
	EXPECT_TRUE(isOpen(raw));
	second = SharedFD();
	EXPECT_FALSE(isOpen(raw));
}

TEST_F(UniqueFDTest, SharedFDOfAnInvalidFdIsInvalid)
{
	SharedFD fd{ UniqueFD() };
	EXPECT_FALSE(fd.isValid());
	EXPECT_EQ(fd.get(), -1);
}

} /* namespace */
