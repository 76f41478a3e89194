/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/buffer.h>

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/mman.h>

#include "fd_inspection.h"
#include "statistics_internal.h"

namespace zcbuf {

using internal::counters;

Buffer::Buffer(std::shared_ptr<Backend> backend, BackendKind kind,
	       std::size_t size, std::string name, bool readOnly)
	: backend_(std::move(backend)), kind_(kind), size_(size),
	  name_(std::move(name)), readOnly_(readOnly)
{
	counters(kind_).buffers++;
}

Buffer::~Buffer()
{
	internal::Counters &stats = counters(kind_);
	if (std::uint8_t *map = mapping_.load()) {
		munmap(map, properties_.size);
		stats.mappings--;
	}
	if (allocated_.load())
		stats.bytes -= properties_.size;
	stats.buffers--;
}

std::shared_ptr<Buffer> Buffer::create(std::shared_ptr<Backend> backend,
				       std::size_t size, std::string name,
				       bool readOnly)
{
	BackendKind kind = backend->kind();
	return std::shared_ptr<Buffer>(
		new Buffer(std::move(backend), kind, size, std::move(name), readOnly));
}

Result<std::shared_ptr<Buffer>> Buffer::import(int fd, std::size_t minimumSize,
					       std::string name)
{
	Result<internal::FdInspection> inspection = internal::inspectFd(fd);
	if (!inspection)
		return inspection.error();
	/* Whoever else holds an unsealed memfd can ftruncate it under our
	 * mapping, and our next access dies of SIGBUS: only a memfd that no
	 * one can shrink is safe to map. (A dma-buf's size is fixed.) */
	if (inspection->type == internal::FdType::Memfd &&
	    !(inspection->seals & F_SEAL_SHRINK))
		return Error(EPERM, "memfd fd " + std::to_string(fd) +
					    " is not sealed with F_SEAL_SHRINK: its sender "
					    "could shrink it under our mapping (SIGBUS)");
	if (inspection->size < minimumSize)
		return Error(EINVAL, "fd " + std::to_string(fd) + " holds " +
					     std::to_string(inspection->size) +
					     " bytes, " + std::to_string(minimumSize) +
					     " are needed");

	Result<UniqueFD> copy = UniqueFD::duplicate(fd);
	if (!copy)
		return copy.error();

	std::shared_ptr<Buffer> buffer(new Buffer(nullptr, BackendKind::Imported,
						  inspection->size, std::move(name),
						  !inspection->writable));
	BackingProperties properties;
	properties.size = inspection->size;
	properties.backend = std::string(toString(BackendKind::Imported));

	std::lock_guard lock(buffer->mutex_);
	Result<void> adopted = buffer->adoptFd(std::move(copy).value(), properties);
	if (!adopted)
		return adopted.error();
	return buffer;
}

Result<void> Buffer::attach(const Constraints &constraints)
{
	std::lock_guard lock(mutex_);

	if (allocated_.load()) {
		Result<void> met = satisfies(properties_, constraints);
		if (!met)
			return met.error();
		attached_.push_back(constraints);
		return {};
	}

	/* Refuse constraints that conflict with those already attached now,
	 * not at the first map, so the consumer that caused it hears of it. */
	attached_.push_back(constraints);
	Result<CollatedConstraints> collated = collate(attached_);
	if (!collated) {
		attached_.pop_back();
		return collated.error();
	}
	return {};
}

Result<void> Buffer::allocate()
{
	if (allocated_.load(std::memory_order_acquire))
		return {};
	std::lock_guard lock(mutex_);
	return allocateLocked();
}

Result<void> Buffer::allocateLocked()
{
	if (allocated_.load())
		return {};

	Result<CollatedConstraints> collated = collate(attached_);
	if (!collated)
		return collated.error();
	const Constraints &merged = collated->merged;

	/* A consumer that requires another backend or device than the one this
	 * buffer was created for decides where the backing comes from. */
	std::shared_ptr<Backend> backend = backend_;
	std::string wanted = merged.backend.empty() ? std::string(toString(backend->kind()))
						    : merged.backend;
	if (wanted != toString(backend->kind()) ||
	    (!merged.device.empty() && merged.device != backend->device())) {
		std::string spec = wanted;
		if (!merged.device.empty())
			spec += ":" + merged.device;
		Result<std::shared_ptr<Backend>> required = openBackend(spec);
		if (!required)
			return Error(required.error().code(),
				     "backend " + spec + " required by " +
					     (merged.device.empty() ? collated->backendFrom
								    : collated->deviceFrom) +
					     ": " + required.error().message());
		backend = required.value();
	}
	AllocationRequest request;
	request.size = size_;
	request.name = name_;
	request.constraints = std::move(collated).value();
	request.readOnly = readOnly_;
	request.strides = properties_.strides;
	Result<Allocation> allocation = backend->allocate(request);
	if (!allocation)
		return allocation.error();

	if (backend->kind() != kind_) {
		counters(kind_).buffers--;
		kind_ = backend->kind();
		counters(kind_).buffers++;
	}
	backend_ = std::move(backend);
	counters(kind_).allocations++;
	return adoptFd(std::move(allocation->fd), allocation->properties);
}

Result<void> Buffer::adoptFd(UniqueFD fd, BackingProperties properties)
{
	dmabuf_ = internal::isDmabuf(fd.get());
	if (backend_ && backend_->capabilities().dmabuf && !dmabuf_)
		return Error(EIO, "backend " + backend_->description() +
					  " returned an fd that is not a dma-buf");

	int flags = fcntl(fd.get(), F_GETFL);
	writable_ = flags >= 0 && (flags & O_ACCMODE) == O_RDWR;

	/* The module names its buffers at ALLOC; others after export. A
	 * kernel without DMA_BUF_SET_NAME only loses the label. */
	if (dmabuf_ && !name_.empty() && kind_ != BackendKind::Module &&
	    kind_ != BackendKind::Imported)
		(void)internal::dmabufSetName(fd.get(), name_);

	fd_ = std::move(fd);
	/* The layout was recorded before the backing existed. */
	properties.strides = std::move(properties_.strides);
	properties_ = std::move(properties);
	counters(kind_).bytes += properties_.size;
	if (kind_ == BackendKind::Imported)
		counters(kind_).allocations++;
	allocated_.store(true, std::memory_order_release);
	return {};
}

Result<int> Buffer::fd()
{
	Result<void> allocated = allocate();
	if (!allocated)
		return allocated.error();
	return fd_.get();
}

std::size_t Buffer::allocatedSize() const
{
	std::lock_guard lock(mutex_);
	return allocated_.load() ? properties_.size : 0;
}

std::shared_ptr<Backend> Buffer::backend() const
{
	std::lock_guard lock(mutex_);
	return backend_;
}

bool Buffer::isDmabuf() const
{
	std::lock_guard lock(mutex_);
	return dmabuf_;
}

bool Buffer::isReadOnly() const
{
	std::lock_guard lock(mutex_);
	return allocated_.load() ? !writable_ : readOnly_;
}

Result<CollatedConstraints> Buffer::constraints() const
{
	std::lock_guard lock(mutex_);
	return collate(attached_);
}

BackingProperties Buffer::properties() const
{
	std::lock_guard lock(mutex_);
	return properties_;
}

void Buffer::setStrides(std::vector<std::size_t> strides)
{
	std::lock_guard lock(mutex_);
	properties_.strides = std::move(strides);
}

Result<std::uint8_t *> Buffer::mapLocked()
{
	if (std::uint8_t *map = mapping_.load())
		return map;

	Result<void> allocated = allocateLocked();
	if (!allocated)
		return allocated.error();

	int prot = PROT_READ | (writable_ ? PROT_WRITE : 0);
	void *map = mmap(nullptr, properties_.size, prot, MAP_SHARED, fd_.get(), 0);
	if (map == MAP_FAILED)
		return Error::fromErrno(errno, "mmap of buffer '" + name_ + "' (" +
						       std::to_string(properties_.size) +
						       " bytes, " + std::string(toString(kind_)) + ")");
	mapping_.store(static_cast<std::uint8_t *>(map));
	counters(kind_).mappings++;
	return static_cast<std::uint8_t *>(map);
}

Result<std::uint8_t *> Buffer::beginCpuAccess(Access access, int fenceTimeoutMs)
{
	std::uint8_t *map = mapping_.load();
	if (!map) {
		std::lock_guard lock(mutex_);
		Result<std::uint8_t *> mapped = mapLocked();
		if (!mapped)
			return mapped.error();
		map = mapped.value();
	}
	if (hasWrite(access) && !writable_)
		return Error(EACCES, "buffer '" + name_ + "' is read-only");

	internal::Counters &stats = counters(kind_);
	if (dmabuf_) {
		Result<void> idle = waitForDevices(access, fenceTimeoutMs);
		if (!idle)
			return idle.error();
		std::uint64_t flags = DMA_BUF_SYNC_START |
				      (hasRead(access) ? DMA_BUF_SYNC_READ : 0) |
				      (hasWrite(access) ? DMA_BUF_SYNC_WRITE : 0);
		Result<void> synced = internal::dmabufSync(fd_.get(), flags);
		if (!synced)
			return synced.error();
		stats.syncs++;
	}
	stats.accesses++;
	return map;
}

Result<void> Buffer::waitForDevices(Access access, int fenceTimeoutMs)
{
	int fd = -1;
	{
		/* fd_ and dmabuf_ are set once, at allocation; before it no
		 * device can have had the buffer */
		std::lock_guard lock(mutex_);
		if (!allocated_.load() || !dmabuf_)
			return {};
		fd = fd_.get();
	}
	Result<void> idle = internal::dmabufWaitFences(fd, hasWrite(access), fenceTimeoutMs);
	if (!idle)
		return Error(idle.error().code(), "buffer '" + name_ + "': " + idle.error().message());
	return {};
}

Result<void> Buffer::endCpuAccess(Access access)
{
	if (!dmabuf_)
		return {};
	std::uint64_t flags = DMA_BUF_SYNC_END |
			      (hasRead(access) ? DMA_BUF_SYNC_READ : 0) |
			      (hasWrite(access) ? DMA_BUF_SYNC_WRITE : 0);
	Result<void> synced = internal::dmabufSync(fd_.get(), flags);
	if (synced)
		counters(kind_).syncs++;
	return synced;
}

Result<CpuAccess> Buffer::access(Access access, int fenceTimeoutMs)
{
	Result<std::uint8_t *> data = beginCpuAccess(access, fenceTimeoutMs);
	if (!data)
		return data.error();
	return CpuAccess(shared_from_this(), access, data.value(), properties_.size);
}

} /* namespace zcbuf */
