/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backend implementations, one file each; openBackend() picks. */
#pragma once

#include <memory>
#include <string_view>

#include <zcbuf/backend.h>

namespace zcbuf::internal {

Result<std::shared_ptr<Backend>> openModuleBackend();
/* heap: a name under /dev/dma_heap, empty for "system". */
Result<std::shared_ptr<Backend>> openDmaHeapBackend(std::string_view heap);
Result<std::shared_ptr<Backend>> openUdmabufBackend();
/* device: a /dev/dri/card* node, empty for the first that can export
 * dumb buffers with PRIME. */
Result<std::shared_ptr<Backend>> openDrmBackend(std::string_view device);
Result<std::shared_ptr<Backend>> openMemfdBackend();

} /* namespace zcbuf::internal */
