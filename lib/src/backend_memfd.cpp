/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memfd: always available, fd-backed and shareable between processes, but
 * not a dma-buf: no device can import it and there is nothing to sync.
 */
#include <fcntl.h>

#include "backends.h"
#include "memfd.h"
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
		/* A fixed size: no holder of the fd can shrink it under
		 * another's mapping (SIGBUS) or grow it. */
		Result<UniqueFD> fd = createSealedMemfd(
			request.name, request.size, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		if (!fd)
			return fd.error();

		Allocation allocation;
		allocation.properties.size = alignUp(request.size, pageSize());
		allocation.fd = std::move(fd).value();
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
