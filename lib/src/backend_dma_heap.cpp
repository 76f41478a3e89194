/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dma-heap: /dev/dma_heap/<heap>. The "system" heap gives scattered pages;
 * CMA heaps ("linux,cma", "reserved") give contiguous memory.
 */
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <limits>

#include "backends.h"
#include "page.h"

namespace zcbuf::internal {

namespace {

class DmaHeapBackend final : public Backend
{
public:
	DmaHeapBackend(UniqueFD heap, std::string node, bool contiguous)
		: heap_(std::move(heap)), node_(std::move(node)), contiguous_(contiguous)
	{
	}

	BackendKind kind() const override { return BackendKind::DmaHeap; }
	const std::string &device() const override { return node_; }
	BackendCapabilities capabilities() const override
	{
		BackendCapabilities caps;
		caps.dmabuf = true;
		caps.readOnly = true;
		/* A CMA heap's limit is its region, which only the kernel
		 * knows: it answers ENOMEM beyond it. */
		caps.maxContiguous = contiguous_ ? std::numeric_limits<std::size_t>::max() : 0;
		return caps;
	}

protected:
	Result<Allocation> allocateBacking(const AllocationRequest &request) override
	{
		struct dma_heap_allocation_data data = {};
		data.len = alignUp(request.size, pageSize());
		data.fd_flags = (request.readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
		if (ioctl(heap_.get(), DMA_HEAP_IOCTL_ALLOC, &data) < 0)
			return Error::fromErrno(errno, "DMA_HEAP_IOCTL_ALLOC of " +
							       std::to_string(data.len) +
							       " bytes from " + node_);

		Allocation allocation;
		allocation.fd = UniqueFD(static_cast<int>(data.fd));
		allocation.properties.size = data.len;
		allocation.properties.contiguous = contiguous_;
		return allocation;
	}

private:
	UniqueFD heap_;
	const std::string node_;
	const bool contiguous_;
};

} /* namespace */

Result<std::shared_ptr<Backend>> openDmaHeapBackend(std::string_view heap)
{
	std::string name = heap.empty() ? std::string("system") : std::string(heap);
	if (name.find('/') != std::string::npos || name == "." || name == "..")
		return Error(EINVAL, "dma-heap backend: '" + name + "' is not a heap name");

	std::string node = "/dev/dma_heap/" + name;
	UniqueFD fd(open(node.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd.isValid())
		return Error::fromErrno(errno, "dma-heap backend: " + node);

	bool contiguous = name.find("cma") != std::string::npos || name == "reserved";
	return std::shared_ptr<Backend>(
		std::make_shared<DmaHeapBackend>(std::move(fd), node, contiguous));
}

} /* namespace zcbuf::internal */
