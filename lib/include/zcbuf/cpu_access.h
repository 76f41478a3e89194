/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scoped CPU access to a buffer: the sync START happened when it was made,
 * the sync END happens when it is destroyed (or at end()).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <zcbuf/result.h>

namespace zcbuf {

class Buffer;

enum class Access : unsigned {
	Read = 1,
	Write = 2,
	ReadWrite = 3,
};

inline bool hasRead(Access access)
{
	return static_cast<unsigned>(access) & static_cast<unsigned>(Access::Read);
}

inline bool hasWrite(Access access)
{
	return static_cast<unsigned>(access) & static_cast<unsigned>(Access::Write);
}

class [[nodiscard]] CpuAccess
{
public:
	CpuAccess(CpuAccess &&other) noexcept;
	CpuAccess &operator=(CpuAccess &&) = delete;
	CpuAccess(const CpuAccess &) = delete;
	~CpuAccess();

	/* The whole buffer, valid until end(). */
	std::uint8_t *data() const { return data_; }
	std::size_t size() const { return size_; }
	Access access() const { return access_; }

	/* Ends the access now and reports a failed sync END. */
	Result<void> end();

private:
	friend class Buffer;
	CpuAccess(std::shared_ptr<Buffer> buffer, Access access,
		  std::uint8_t *data, std::size_t size);

	std::shared_ptr<Buffer> buffer_;
	Access access_;
	std::uint8_t *data_;
	std::size_t size_;
};

} /* namespace zcbuf */
