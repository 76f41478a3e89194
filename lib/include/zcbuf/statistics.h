/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process-wide counters per backend. Tests compare them before and after to
 * prove that nothing leaks and that recycling does not reallocate.
 */
#pragma once

#include <array>
#include <cstdint>

#include <zcbuf/backend.h>

namespace zcbuf {

struct BackendStatistics {
	/* Live Buffer objects, with or without backing. */
	std::uint64_t buffers = 0;
	/* Bytes of live backing. */
	std::uint64_t bytes = 0;
	/* Live CPU mappings. */
	std::uint64_t mappings = 0;
	/* Backings allocated or imported, in total. */
	std::uint64_t allocations = 0;
	/* CPU access brackets begun, in total. */
	std::uint64_t accesses = 0;
	/* DMA_BUF_IOCTL_SYNC calls made (START and END each count), in total. */
	std::uint64_t syncs = 0;
};

struct Statistics {
	std::array<BackendStatistics, kBackendKindCount> backends{};

	const BackendStatistics &operator[](BackendKind kind) const
	{
		return backends[static_cast<std::size_t>(kind)];
	}
	BackendStatistics total() const;
};

/* A consistent-enough snapshot (each counter is read atomically). */
Statistics statistics();

} /* namespace zcbuf */
