/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptor ownership. A UniqueFD is the only owner of its fd and
 * closes it when destroyed; a SharedFD is a reference-counted owner for fds
 * that several objects hold (a buffer, its GstMemory, a pool). Taking
 * ownership and duplicating are different, explicit calls.
 */
#pragma once

#include <memory>
#include <utility>

#include <zcbuf/result.h>

namespace zcbuf {

class UniqueFD
{
public:
	UniqueFD() = default;
	/* Takes ownership of fd. */
	explicit UniqueFD(int fd) noexcept : fd_(fd) {}
	UniqueFD(UniqueFD &&other) noexcept : fd_(other.release()) {}
	UniqueFD &operator=(UniqueFD &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	UniqueFD(const UniqueFD &) = delete;
	UniqueFD &operator=(const UniqueFD &) = delete;
	~UniqueFD() { reset(); }

	/* Duplicates a borrowed fd (F_DUPFD_CLOEXEC); the caller keeps fd. */
	static Result<UniqueFD> duplicate(int fd);

	/* Gives up ownership: the caller must close the returned fd. */
	[[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
	/* Closes the current fd, if any, and owns fd instead. */
	void reset(int fd = -1) noexcept;

	int get() const noexcept { return fd_; }
	bool isValid() const noexcept { return fd_ >= 0; }

private:
	int fd_ = -1;
};

class SharedFD
{
public:
	SharedFD() = default;
	/* Takes ownership of fd. */
	explicit SharedFD(UniqueFD &&fd);

	/* The fd stays owned by every SharedFD sharing it; do not close it. */
	int get() const noexcept { return fd_ ? fd_->get() : -1; }
	bool isValid() const noexcept { return fd_ && fd_->isValid(); }
	/* A new fd of your own for the same file. */
	Result<UniqueFD> duplicate() const { return UniqueFD::duplicate(get()); }

private:
	std::shared_ptr<const UniqueFD> fd_;
};

} /* namespace zcbuf */
