/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/constraints.h>

#include "page.h"

namespace zcbuf {

using internal::pageSize;

namespace {

bool isPowerOfTwoOrZero(std::size_t value)
{
	return (value & (value - 1)) == 0;
}

std::string who(const std::string &consumer)
{
	return consumer.empty() ? std::string("an unnamed consumer") : consumer;
}

} /* namespace */

Result<void> validate(const Constraints &c)
{
	if (!isPowerOfTwoOrZero(c.alignment))
		return Error(EINVAL, "alignment " + std::to_string(c.alignment) +
					     " from " + who(c.consumer) +
					     " is not a power of two");
	if (!isPowerOfTwoOrZero(c.strideAlignment))
		return Error(EINVAL, "stride alignment " +
					     std::to_string(c.strideAlignment) +
					     " from " + who(c.consumer) +
					     " is not a power of two");
	if (c.maxSegmentSize && c.maxSegmentSize < pageSize())
		return Error(EINVAL, "maximum segment size " +
					     std::to_string(c.maxSegmentSize) +
					     " from " + who(c.consumer) +
					     " is smaller than a page (" +
					     std::to_string(pageSize()) + " bytes)");
	return {};
}

Result<CollatedConstraints> collate(const std::vector<Constraints> &all)
{
	CollatedConstraints out;
	Constraints &m = out.merged;

	for (const Constraints &c : all) {
		Result<void> valid = validate(c);
		if (!valid)
			return valid.error();

		if (c.alignment > m.alignment) {
			m.alignment = c.alignment;
			out.alignmentFrom = c.consumer;
		}
		if (c.strideAlignment > m.strideAlignment) {
			m.strideAlignment = c.strideAlignment;
			out.strideAlignmentFrom = c.consumer;
		}
		if (c.contiguous && !m.contiguous) {
			m.contiguous = true;
			out.contiguousFrom = c.consumer;
		}
		if (c.maxSegmentSize &&
		    (!m.maxSegmentSize || c.maxSegmentSize < m.maxSegmentSize)) {
			m.maxSegmentSize = c.maxSegmentSize;
			out.maxSegmentSizeFrom = c.consumer;
		}
		if (!c.backend.empty()) {
			if (!m.backend.empty() && m.backend != c.backend)
				return Error(EINVAL, who(out.backendFrom) +
							     " requires backend " +
							     m.backend + " but " +
							     who(c.consumer) +
							     " requires backend " +
							     c.backend);
			m.backend = c.backend;
			out.backendFrom = c.consumer;
		}
		if (!c.device.empty()) {
			if (!m.device.empty() && m.device != c.device)
				return Error(EINVAL, who(out.deviceFrom) +
							     " requires device " +
							     m.device + " but " +
							     who(c.consumer) +
							     " requires device " +
							     c.device);
			m.device = c.device;
			out.deviceFrom = c.consumer;
		}
	}
	return out;
}

Result<void> satisfies(const BackingProperties &b, const Constraints &c)
{
	Result<void> valid = validate(c);
	if (!valid)
		return valid.error();

	auto busy = [&](const std::string &what) {
		return Error(EBUSY, who(c.consumer) + " needs " + what +
					    ", but the buffer is already allocated without it");
	};

	if (c.contiguous && !b.contiguous)
		return busy("physically contiguous memory");
	if (c.alignment > b.alignment)
		return busy("alignment " + std::to_string(c.alignment) +
			    " (the backing guarantees " +
			    std::to_string(b.alignment) + ")");
	if (c.contiguous && c.maxSegmentSize && c.maxSegmentSize < b.size)
		return busy("one contiguous segment of at most " +
			    std::to_string(c.maxSegmentSize) + " bytes");
	if (!c.backend.empty() && c.backend != b.backend)
		return busy("backend " + c.backend + " (it is " + b.backend + ")");
	if (!c.device.empty() && c.device != b.device)
		return busy("device " + c.device + " (it is " +
			    (b.device.empty() ? std::string("none") : b.device) + ")");
	if (c.strideAlignment) {
		for (std::size_t stride : b.strides)
			if (stride % c.strideAlignment)
				return busy("strides aligned to " +
					    std::to_string(c.strideAlignment) +
					    " bytes (a plane has stride " +
					    std::to_string(stride) + ")");
	}
	return {};
}

} /* namespace zcbuf */
