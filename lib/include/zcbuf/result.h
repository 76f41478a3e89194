/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors without exceptions: every fallible call returns a Result<T>,
 * either a value or an Error that carries a positive errno and a message a
 * user can act on ("fd 7 is a pipe, not a dma-buf or memfd").
 */
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace zcbuf {

class Error
{
public:
	Error(int code, std::string message)
		: code_(code), message_(std::move(message))
	{
	}

	/* An error from a failed system call: "context: strerror(code)". */
	static Error fromErrno(int code, const std::string &context);

	/* Positive errno value (EINVAL, EBUSY, ...). */
	int code() const { return code_; }
	const std::string &message() const { return message_; }

private:
	int code_;
	std::string message_;
};

template<typename T>
class [[nodiscard]] Result
{
public:
	Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
	Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

	bool ok() const { return state_.index() == 0; }
	explicit operator bool() const { return ok(); }

	/* Only valid when ok(). */
	T &value() & { return std::get<0>(state_); }
	const T &value() const & { return std::get<0>(state_); }
	T &&value() && { return std::get<0>(std::move(state_)); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	T &operator*() & { return value(); }

	/* Only valid when !ok(). */
	const Error &error() const { return std::get<1>(state_); }

private:
	std::variant<T, Error> state_;
};

template<>
class [[nodiscard]] Result<void>
{
public:
	Result() = default;
	Result(Error error) : error_(std::move(error)), ok_(false) {}

	bool ok() const { return ok_; }
	explicit operator bool() const { return ok_; }
	const Error &error() const { return error_; }

private:
	Error error_{ 0, {} };
	bool ok_ = true;
};

} /* namespace zcbuf */
