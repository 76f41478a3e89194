/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zcbuf kernel module, /dev/zcbuf: the kernel defers the backing to the
 * first map, fault or CPU access and can migrate it when a device with
 * stricter constraints attaches. Contiguous blocks come from the buddy
 * allocator, so they are naturally aligned to their size, up to 4 MiB.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include <linux/zcbuf.h>

#include "backends.h"
#include "page.h"

namespace zcbuf::internal {

namespace {

const std::string kModuleNode = "/dev/zcbuf";
/* The largest buddy block of Debian's 6.1 kernel (MAX_ORDER 11). */
constexpr std::size_t kMaxContiguous = 4u << 20;

class ModuleBackend final : public Backend
{
public:
	explicit ModuleBackend(UniqueFD device) : device_(std::move(device)) {}

	BackendKind kind() const override { return BackendKind::Module; }
	const std::string &device() const override { return kModuleNode; }
	BackendCapabilities capabilities() const override
	{
		BackendCapabilities caps;
		caps.dmabuf = true;
		caps.readOnly = true;
		caps.maxContiguous = kMaxContiguous;
		caps.maxAlignment = kMaxContiguous;
		return caps;
	}

protected:
	Result<Allocation> allocateBacking(const AllocationRequest &request) override
	{
		const Constraints &c = request.constraints.merged;
		bool contiguous = c.contiguous || c.alignment > pageSize();

		struct zcbuf_alloc alloc = {};
		alloc.size = alignUp(request.size, pageSize());
		alloc.alignment = c.alignment > pageSize() ? c.alignment : 0;
		alloc.flags = (contiguous ? ZCBUF_ALLOC_CONTIGUOUS : 0) |
			      (request.readOnly ? ZCBUF_ALLOC_READONLY : 0);
		std::strncpy(alloc.name, request.name.c_str(), sizeof(alloc.name) - 1);

		if (ioctl(device_.get(), ZCBUF_IOC_ALLOC, &alloc) < 0)
			return Error::fromErrno(errno, std::string("ZCBUF_IOC_ALLOC of ") +
							       std::to_string(alloc.size) + " bytes" +
							       (contiguous ? " (contiguous)" : ""));

		Allocation allocation;
		allocation.fd = UniqueFD(alloc.fd);
		allocation.properties.size = alloc.size;
		allocation.properties.contiguous = contiguous;
		allocation.properties.alignment =
			contiguous ? std::max<std::size_t>(alloc.alignment, pageSize()) : pageSize();
		return allocation;
	}

private:
	UniqueFD device_;
};

} /* namespace */

Result<std::shared_ptr<Backend>> openModuleBackend()
{
	UniqueFD device(open(kModuleNode.c_str(), O_RDWR | O_CLOEXEC));
	if (!device.isValid())
		return Error::fromErrno(errno, "module backend: " + kModuleNode +
						       " (is zcbuf.ko loaded?)");
	return std::shared_ptr<Backend>(std::make_shared<ModuleBackend>(std::move(device)));
}

} /* namespace zcbuf::internal */
