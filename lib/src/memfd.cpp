/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "memfd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "page.h"

namespace zcbuf::internal {

Result<UniqueFD> createSealedMemfd(const std::string &name, std::size_t size,
				   unsigned int seals)
{
	std::size_t bytes = alignUp(size, pageSize());
	UniqueFD fd(memfd_create(name.empty() ? "zcbuf" : name.c_str(),
				 MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd.isValid())
		return Error::fromErrno(errno, "memfd_create");
	if (ftruncate(fd.get(), static_cast<off_t>(bytes)) < 0)
		return Error::fromErrno(errno, "ftruncate of a memfd to " +
						       std::to_string(bytes) + " bytes");
	if (fcntl(fd.get(), F_ADD_SEALS, seals) < 0)
		return Error::fromErrno(errno, "sealing a memfd");
	return fd;
}

} /* namespace zcbuf::internal */
