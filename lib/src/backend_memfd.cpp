/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memfd: always available, fd-backed and shareable between processes, but
 * not a dma-buf: no device can import it and there is nothing to sync.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends.h"
#include "page.h"

namespace zcbuf::internal {

namespace {

class MemfdBackend final : public Backend
{
public:
	BackendKind kind() const override { return BackendKind::Memfd; }
	const std::string &device() const override { return device_; }
	BackendCapabilities capabilities() const override { return {}; }

protected:
	Result<Allocation> allocateBacking(const AllocationRequest &request) override
	{
		std::size_t size = alignUp(request.size, pageSize());
		std::string name = request.name.empty() ? "zcbuf" : request.name;

		UniqueFD fd(memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
		if (!fd.isValid())
			return Error::fromErrno(errno, "memfd_create");
		if (ftruncate(fd.get(), static_cast<off_t>(size)) < 0)
			return Error::fromErrno(errno, "ftruncate of a memfd to " +
							       std::to_string(size) + " bytes");
		/* A fixed size: no holder of the fd can shrink it under
		 * another's mapping (SIGBUS) or grow it. */
		if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
			return Error::fromErrno(errno, "sealing a memfd");

		Allocation allocation;
		allocation.fd = std::move(fd);
		allocation.properties.size = size;
		return allocation;
	}

private:
	const std::string device_;
};

} /* namespace */

Result<std::shared_ptr<Backend>> openMemfdBackend()
{
	return std::shared_ptr<Backend>(std::make_shared<MemfdBackend>());
}

} /* namespace zcbuf::internal */
