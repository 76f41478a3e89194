/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memfds as another process would send them: sealed against shrinking (what
 * Buffer::import requires) or, to test the refusal, not. */
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

#include <zcbuf/unique_fd.h>

namespace zcbuf::test {

/* A memfd of size bytes, sealed with seals (F_SEAL_SHRINK | F_SEAL_GROW by
 * default; 0 leaves it unsealed). Invalid on failure. */
inline UniqueFD makeMemfd(std::size_t size, unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW,
			  const char *name = "zcbuf-test")
{
	UniqueFD fd(memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (fd.isValid() && ftruncate(fd.get(), static_cast<off_t>(size)) < 0)
		fd.reset();
	if (fd.isValid() && seals && fcntl(fd.get(), F_ADD_SEALS, seals) < 0)
		fd.reset();
	return fd;
}

} /* namespace zcbuf::test */
