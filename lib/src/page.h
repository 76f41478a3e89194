/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cstddef>
#include <unistd.h>

namespace zcbuf::internal {

inline std::size_t pageSize()
{
	static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
	return size;
}

inline std::size_t alignUp(std::size_t value, std::size_t alignment)
{
	return (value + alignment - 1) / alignment * alignment;
}

} /* namespace zcbuf::internal */
