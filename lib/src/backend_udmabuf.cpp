/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udmabuf: a memfd sealed against shrinking, turned into a dma-buf by
 * /dev/udmabuf. Page-granular, never contiguous.
 */
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backends.h"
#include "memfd.h"
#include "page.h"

namespace zcbuf::internal {

namespace {

const std::string kUdmabufNode = "/dev/udmabuf";

class UdmabufBackend final : public Backend
{
public:
	explicit UdmabufBackend(UniqueFD device) : device_(std::move(device)) {}

	BackendKind kind() const override { return BackendKind::Udmabuf; }
	const std::string &device() const override { return kUdmabufNode; }
	BackendCapabilities capabilities() const override
	{
		BackendCapabilities caps;
		caps.dmabuf = true;
		return caps;
	}

protected:
	Result<Allocation> allocateBacking(const AllocationRequest &request) override
	{
		std::size_t size = alignUp(request.size, pageSize());
		/* udmabuf refuses memfds that could shrink under it. */
		Result<UniqueFD> memfd =
			createSealedMemfd(request.name, size, F_SEAL_SHRINK | F_SEAL_GROW);
		if (!memfd)
			return memfd.error();

		struct udmabuf_create create = {};
		create.memfd = static_cast<__u32>(memfd->get());
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		create.offset = 0;
		create.size = size;
		int fd = ioctl(device_.get(), UDMABUF_CREATE, &create);
		if (fd < 0)
			return Error::fromErrno(errno, "UDMABUF_CREATE of " +
							       std::to_string(size) + " bytes");

		Allocation allocation;
		allocation.fd = UniqueFD(fd);
		allocation.properties.size = size;
		return allocation;
	}

private:
	UniqueFD device_;
};

} /* namespace */

Result<std::shared_ptr<Backend>> openUdmabufBackend()
{
	UniqueFD device(open(kUdmabufNode.c_str(), O_RDWR | O_CLOEXEC));
	if (!device.isValid())
		return Error::fromErrno(errno, "udmabuf backend: " + kUdmabufNode);
	return std::shared_ptr<Backend>(std::make_shared<UdmabufBackend>(std::move(device)));
}

} /* namespace zcbuf::internal */
