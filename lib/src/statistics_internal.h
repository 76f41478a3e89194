/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The counters behind zcbuf::statistics(), updated by buffers. */
#pragma once

#include <atomic>
#include <cstdint>

#include <zcbuf/backend.h>

namespace zcbuf::internal {

struct Counters {
	std::atomic<std::uint64_t> buffers{ 0 };
	std::atomic<std::uint64_t> bytes{ 0 };
	std::atomic<std::uint64_t> mappings{ 0 };
	std::atomic<std::uint64_t> allocations{ 0 };
	std::atomic<std::uint64_t> accesses{ 0 };
	std::atomic<std::uint64_t> syncs{ 0 };
};

Counters &counters(BackendKind kind);

} /* namespace zcbuf::internal */
