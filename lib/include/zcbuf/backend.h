/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocation backends: one interface, one implementation per file.
 *
 *   module    /dev/zcbuf, the zcbuf kernel module (deferred allocation,
 *             contiguous backing, migration)
 *   dma-heap  /dev/dma_heap/<name> (default heap "system")
 *   udmabuf   a sealed memfd turned into a dma-buf by /dev/udmabuf
 *   drm       DRM dumb buffers exported with PRIME (any /dev/dri/card*)
 *   memfd     always available, fd-backed and shareable, not a dma-buf
 *
 * A backend is named by a spec: "memfd", "udmabuf", "module", "dma-heap" or
 * "dma-heap:<heap>", "drm" or "drm:/dev/dri/cardN".
 */
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <zcbuf/constraints.h>
#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

namespace zcbuf {

enum class BackendKind {
	Module,
	DmaHeap,
	Udmabuf,
	Drm,
	Memfd,
	/* Not a backend: buffers made from received fds. */
	Imported,
};

inline constexpr std::size_t kBackendKindCount = 6;

/* "module", "dma-heap", "udmabuf", "drm", "memfd", "imported". */
std::string_view toString(BackendKind kind);

struct BackendCapabilities {
	/* Its fds are real dma-bufs (memfd's are not). */
	bool dmabuf = false;
	/* Largest physically contiguous allocation; 0 if it cannot make any. */
	std::size_t maxContiguous = 0;
	/* Largest start alignment it can guarantee; 0 for the page size. */
	std::size_t maxAlignment = 0;
	/* Can export read-only fds. */
	bool readOnly = false;
};

struct AllocationRequest {
	std::size_t size = 0;
	std::string name;
	CollatedConstraints constraints;
	bool readOnly = false;
	/* The row pitches of the images the buffer will hold, plane by plane
	 * (Buffer::setStrides), empty when unknown. Backends whose buffers
	 * have a shape give them the first plane's: a DRM dumb buffer is an
	 * image, and where the driver backs it with a host resource of that
	 * shape (virtio-gpu) a scanout of other geometry is refused. */
	std::vector<std::size_t> strides;
};

struct Allocation {
	UniqueFD fd;
	/* What the backing guarantees; size may exceed the request. */
	BackingProperties properties;
};

class Backend
{
public:
	virtual ~Backend() = default;

	virtual BackendKind kind() const = 0;
	/* The device node allocations come from, empty for memfd. */
	virtual const std::string &device() const = 0;
	virtual BackendCapabilities capabilities() const = 0;

	/* "drm (/dev/dri/card0)", "memfd": for people. */
	std::string description() const;
	/* "drm:/dev/dri/card0", "dma-heap:system", "memfd": what
	 * openBackend() takes to open this backend again. */
	std::string spec() const;

	/*
	 * Allocates backing that satisfies request.constraints, or fails
	 * naming the first constraint this backend cannot meet. The returned
	 * fd is O_CLOEXEC.
	 */
	Result<Allocation> allocate(const AllocationRequest &request);

protected:
	virtual Result<Allocation> allocateBacking(
		const AllocationRequest &request) = 0;
};

/* Opens a backend by spec; a missing backend is an error, never replaced by
 * another one. */
Result<std::shared_ptr<Backend>> openBackend(std::string_view spec);

/*
 * The backend to use when the caller names none: the one named by the
 * environment variable ZCBUF_BACKEND if set (an error if it is missing),
 * else the best available in the order module, dma-heap, udmabuf, drm,
 * memfd.
 */
Result<std::shared_ptr<Backend>> defaultBackend();

/*
 * Whether the buffers of the backend a spec names are dma-bufs, known from
 * the spec alone: nothing is opened. False for memfd, true for the others;
 * an unknown spec is an error.
 */
Result<bool> specGivesDmabuf(std::string_view spec);

/* Whether the device node of a system-memory dma-buf backend (module,
 * dma-heap, udmabuf) exists: a stat, nothing is opened. */
bool systemDmabufNodeExists();

/* Every backend spec this machine can open now, best first. */
std::vector<std::string> availableBackends();

} /* namespace zcbuf */
