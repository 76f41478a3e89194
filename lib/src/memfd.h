/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A sized, sealed memfd: the memfd backend's buffers and udmabuf's source. */
#pragma once

#include <cstddef>
#include <string>

#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

namespace zcbuf::internal {

/* A close-on-exec memfd of size bytes (rounded up to the page size) with
 * the given F_SEAL_* seals added. */
Result<UniqueFD> createSealedMemfd(const std::string &name, std::size_t size,
				   unsigned int seals);

} /* namespace zcbuf::internal */
