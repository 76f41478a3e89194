/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A buffer object in the sense of the dma-buf RFC: created without backing,
 * consumers attach their constraints, and the backing is allocated at the
 * first map or export from the constraints collated at that moment. Buffers
 * are shared (std::shared_ptr): a GstMemory, a pool and a CPU access can all
 * keep one alive.
 */
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <zcbuf/backend.h>
#include <zcbuf/constraints.h>
#include <zcbuf/cpu_access.h>
#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

namespace zcbuf {

class Buffer : public std::enable_shared_from_this<Buffer>
{
public:
	/*
	 * A buffer of size bytes that backend will allocate on first use. The
	 * name (at most 31 bytes reach the kernel) labels the dma-buf in
	 * fdinfo and debugfs. readOnly asks for a read-only export.
	 */
	static std::shared_ptr<Buffer> create(std::shared_ptr<Backend> backend,
					      std::size_t size, std::string name,
					      bool readOnly = false);

	/*
	 * Wraps a received fd. fd must be an open dma-buf or a memfd sealed
	 * with F_SEAL_SHRINK (so no other holder can truncate it under the
	 * mapping), holding at least minimumSize bytes; anything else (a
	 * closed fd, a regular file, a pipe, a socket, an unsealed memfd, a
	 * too small buffer) is an error saying which. The caller keeps fd: the
	 * buffer owns a duplicate of it.
	 */
	static Result<std::shared_ptr<Buffer>> import(int fd,
						      std::size_t minimumSize,
						      std::string name = {});

	~Buffer();
	Buffer(const Buffer &) = delete;
	Buffer &operator=(const Buffer &) = delete;

	/*
	 * Adds a consumer's constraints. Before allocation they are collated
	 * with the others (an error if they conflict or are invalid); after
	 * it, the error is EBUSY if the backing does not meet them.
	 */
	Result<void> attach(const Constraints &constraints);

	/* Allocates the backing now if it does not exist yet. */
	Result<void> allocate();
	bool isAllocated() const { return allocated_.load(std::memory_order_acquire); }

	/* The fd, allocating the backing first if needed. It stays owned by the
	 * buffer and valid for the buffer's life: duplicate it to keep it. */
	Result<int> fd();

	/* The size asked for. */
	std::size_t size() const { return size_; }
	/* The backing's size (at least size()), 0 before allocation. */
	std::size_t allocatedSize() const;
	/* The backend kind that allocates it; a consumer requiring another
	 * backend before allocation changes it. */
	BackendKind backendKind() const { return kind_.load(); }
	/* The backend that allocates (or allocated) it; null for imports. */
	std::shared_ptr<Backend> backend() const;
	/* Whether the fd is a real dma-buf, checked on the fd; false before
	 * allocation. */
	bool isDmabuf() const;
	bool isReadOnly() const;
	const std::string &name() const { return name_; }
	/* The collated constraints of every consumer attached so far. */
	Result<CollatedConstraints> constraints() const;
	/* What the backing guarantees; valid after allocation. */
	BackingProperties properties() const;

	/* Records the row pitches of the images laid out in the buffer, so
	 * that a late attach can check its stride alignment. */
	void setStrides(std::vector<std::size_t> strides);

	/* How long a CPU access waits for a device by default. */
	static constexpr int kFenceTimeoutMs = 2000;

	/*
	 * CPU access, bracketed by DMA_BUF_IOCTL_SYNC START/END with the
	 * READ/WRITE flags of the access (nothing to sync for memfd). The
	 * buffer is mapped once, on the first access, and the mapping kept
	 * until the buffer is destroyed. On a dma-buf the access first waits
	 * for the implicit fences of devices: a read for their pending writes,
	 * a write for every pending access; still pending after
	 * @fenceTimeoutMs it fails with ETIMEDOUT, nothing begun.
	 */
	Result<CpuAccess> access(Access access, int fenceTimeoutMs = kFenceTimeoutMs);

	/* The wait alone (no access begun): for the next user of a recycled
	 * buffer, who will write it (@access Write waits for every pending
	 * device access). A buffer not allocated yet has nothing to wait for. */
	Result<void> waitForDevices(Access access, int fenceTimeoutMs = kFenceTimeoutMs);

	/* The same bracket split in two, for callers that cannot hold a
	 * CpuAccess (GstMemory map/unmap). Every successful begin needs one
	 * end with the same access. */
	Result<std::uint8_t *> beginCpuAccess(Access access, int fenceTimeoutMs = kFenceTimeoutMs);
	Result<void> endCpuAccess(Access access);

private:
	Buffer(std::shared_ptr<Backend> backend, BackendKind kind,
	       std::size_t size, std::string name, bool readOnly);

	Result<void> allocateLocked();
	Result<void> adoptFd(UniqueFD fd, BackingProperties properties);
	Result<std::uint8_t *> mapLocked();

	mutable std::mutex mutex_;
	std::shared_ptr<Backend> backend_;
	std::atomic<BackendKind> kind_;
	const std::size_t size_;
	const std::string name_;
	const bool readOnly_;

	std::vector<Constraints> attached_;
	std::atomic<bool> allocated_{ false };
	UniqueFD fd_;
	BackingProperties properties_;
	bool dmabuf_ = false;
	bool writable_ = false;

	std::atomic<std::uint8_t *> mapping_{ nullptr };
};

} /* namespace zcbuf */
