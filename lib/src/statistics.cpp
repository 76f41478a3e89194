/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/statistics.h>

#include "statistics_internal.h"

namespace zcbuf {

namespace internal {

Counters &counters(BackendKind kind)
{
	static Counters all[kBackendKindCount];
	return all[static_cast<std::size_t>(kind)];
}

} /* namespace internal */

BackendStatistics Statistics::total() const
{
	BackendStatistics sum;
	for (const BackendStatistics &b : backends) {
		sum.buffers += b.buffers;
		sum.bytes += b.bytes;
		sum.mappings += b.mappings;
		sum.allocations += b.allocations;
		sum.accesses += b.accesses;
		sum.syncs += b.syncs;
	}
	return sum;
}

Statistics statistics()
{
	Statistics stats;
	for (std::size_t i = 0; i < kBackendKindCount; i++) {
		const internal::Counters &c =
			internal::counters(static_cast<BackendKind>(i));
		BackendStatistics &b = stats.backends[i];
		b.buffers = c.buffers.load();
		b.bytes = c.bytes.load();
		b.mappings = c.mappings.load();
		b.allocations = c.allocations.load();
		b.accesses = c.accesses.load();
		b.syncs = c.syncs.load();
	}
	return stats;
}

} /* namespace zcbuf */
