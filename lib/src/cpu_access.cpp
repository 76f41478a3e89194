/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/cpu_access.h>

#include <zcbuf/buffer.h>

namespace zcbuf {

CpuAccess::CpuAccess(std::shared_ptr<Buffer> buffer, Access access,
		     std::uint8_t *data, std::size_t size)
	: buffer_(std::move(buffer)), access_(access), data_(data), size_(size)
{
}

CpuAccess::CpuAccess(CpuAccess &&other) noexcept
	: buffer_(std::move(other.buffer_)), access_(other.access_),
	  data_(std::exchange(other.data_, nullptr)), size_(other.size_)
{
}

CpuAccess::~CpuAccess()
{
	/* A failed END can only be reported through end(). */
	(void)end();
}

Result<void> CpuAccess::end()
{
	if (!buffer_)
		return {};
	std::shared_ptr<Buffer> buffer = std::move(buffer_);
	data_ = nullptr;
	return buffer->endCpuAccess(access_);
}

} /* namespace zcbuf */
