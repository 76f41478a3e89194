/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "backend_params.h"
#include "backend_test.h"
#include "zcbuf_debugfs.h"

using namespace zcbuf;

namespace {

bool fdIsDmabuf(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 && static_cast<unsigned long>(fs.f_type) == DMA_BUF_MAGIC;
}

std::string readFile(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream text;
	text << in.rdbuf();
	return text.str();
}

std::string fdLink(int fd)
{
	char target[256] = {};
	ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target,
			     sizeof(target) - 1);
	return n > 0 ? std::string(target, n) : std::string();
}

Constraints consumer(const std::string &name)
{
	Constraints c;
	c.consumer = name;
	return c;
}

class BufferTest : public test::BackendTest
{
};

TEST_P(BufferTest, BackingIsAllocatedOnFirstUseOnly)
{
	BackendStatistics before = statistics()[backend_->kind()];
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 100000, "deferred");
	EXPECT_FALSE(buffer->isAllocated());
	EXPECT_EQ(buffer->allocatedSize(), 0u);
	EXPECT_EQ(statistics()[backend_->kind()].allocations, before.allocations);
	EXPECT_EQ(statistics()[backend_->kind()].buffers, before.buffers + 1);

	Result<int> fd = buffer->fd();
	ASSERT_TRUE(fd.ok()) << fd.error().message();
	EXPECT_TRUE(buffer->isAllocated());
	EXPECT_GE(buffer->allocatedSize(), 100000u);
	EXPECT_EQ(buffer->size(), 100000u);
	EXPECT_EQ(statistics()[backend_->kind()].allocations, before.allocations + 1);
	EXPECT_EQ(statistics()[backend_->kind()].bytes, before.bytes + buffer->allocatedSize());

	/* A second export is the same fd, not a second allocation. */
	EXPECT_EQ(buffer->fd().value(), fd.value());
	EXPECT_EQ(statistics()[backend_->kind()].allocations, before.allocations + 1);
}

TEST_P(BufferTest, KnowsWhetherItIsADmabufFromTheFd)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "kind");
	Result<int> fd = buffer->fd();
	ASSERT_TRUE(fd.ok()) << fd.error().message();
	EXPECT_EQ(buffer->isDmabuf(), fdIsDmabuf(fd.value()));
	EXPECT_EQ(buffer->isDmabuf(), dmabuf());
	EXPECT_EQ(buffer->backendKind(), backend_->kind());
}

TEST_P(BufferTest, CarriesItsName)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "zcbuf-named-buffer");
	Result<int> fd = buffer->fd();
	ASSERT_TRUE(fd.ok()) << fd.error().message();
	if (dmabuf()) {
		std::string info = readFile("/proc/self/fdinfo/" + std::to_string(fd.value()));
		EXPECT_NE(info.find("zcbuf-named-buffer"), std::string::npos) << info;
	} else {
		EXPECT_NE(fdLink(fd.value()).find("zcbuf-named-buffer"), std::string::npos)
			<< fdLink(fd.value());
	}
}

TEST_P(BufferTest, MapsOnceAndSyncsEveryAccess)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 1 << 20, "map-once");
	BackendStatistics before = statistics()[backend_->kind()];

	std::uint8_t *first = nullptr;
	for (int i = 0; i < 3; i++) {
		Result<CpuAccess> access = buffer->access(Access::Write);
		ASSERT_TRUE(access.ok()) << access.error().message();
		if (!first)
			first = access->data();
		EXPECT_EQ(access->data(), first) << "the mapping was re-created";
		std::memset(access->data(), i, access->size());
	}
	{
		Result<CpuAccess> access = buffer->access(Access::Read);
		ASSERT_TRUE(access.ok());
		EXPECT_EQ(access->data()[12345], 2);
	}

	BackendStatistics after = statistics()[backend_->kind()];
	EXPECT_EQ(after.mappings, before.mappings + 1);
	EXPECT_EQ(after.accesses, before.accesses + 4);
	/* One START and one END per access on a dma-buf; memfd has none. */
	EXPECT_EQ(after.syncs, before.syncs + (dmabuf() ? 8 : 0));

	/* The exporter's own count, where it keeps one (zcbuf.ko, in the
	 * guest): the library's counters are only what it says it did. */
	if (backend_->kind() == BackendKind::Module) {
		Result<int> fd = buffer->fd();
		ASSERT_TRUE(fd.ok());
		std::map<std::string, std::string> line = test::zcbufDebugfsFields(*fd);
		ASSERT_FALSE(line.empty()) << "buffer not in /sys/kernel/debug/zcbuf/buffers";
		EXPECT_EQ(line["cpu_syncs"], "8");
		EXPECT_EQ(line["mmaps"], "1");
		EXPECT_EQ(line["cpu_accesses"], "0");
	}
}

TEST_P(BufferTest, ExplicitEndReportsAndIsIdempotent)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "end");
	BackendStatistics before = statistics()[backend_->kind()];
	Result<CpuAccess> access = buffer->access(Access::ReadWrite);
	ASSERT_TRUE(access.ok()) << access.error().message();
	EXPECT_TRUE(access->end().ok());
	EXPECT_TRUE(access->end().ok());
	EXPECT_EQ(access->data(), nullptr);
	EXPECT_EQ(statistics()[backend_->kind()].syncs, before.syncs + (dmabuf() ? 2 : 0));
}

TEST_P(BufferTest, WritesAreSeenThroughAnImportOfTheSameFd)
{
	std::shared_ptr<Buffer> producer = Buffer::create(backend_, 64 << 10, "producer");
	{
		Result<CpuAccess> w = producer->access(Access::Write);
		ASSERT_TRUE(w.ok()) << w.error().message();
		for (std::size_t i = 0; i < w->size(); i++)
			w->data()[i] = static_cast<std::uint8_t>(i * 7);
	}
	Result<std::shared_ptr<Buffer>> consumer =
		Buffer::import(producer->fd().value(), 64 << 10, "consumer");
	ASSERT_TRUE(consumer.ok()) << consumer.error().message();
	EXPECT_EQ(consumer.value()->isDmabuf(), dmabuf());
	Result<CpuAccess> r = consumer.value()->access(Access::Read);
	ASSERT_TRUE(r.ok()) << r.error().message();
	for (std::size_t i = 0; i < (64 << 10); i += 997)
		ASSERT_EQ(r->data()[i], static_cast<std::uint8_t>(i * 7)) << "at " << i;
}

TEST_P(BufferTest, NewBuffersAreZeroed)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 256 << 10, "zero");
	Result<CpuAccess> r = buffer->access(Access::Read);
	ASSERT_TRUE(r.ok()) << r.error().message();
	for (std::size_t i = 0; i < r->size(); i += 61)
		ASSERT_EQ(r->data()[i], 0) << "at " << i;
}

TEST_P(BufferTest, AttachBeforeAllocationCollates)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 8192, "collate");
	Constraints a = consumer("decoder");
	a.strideAlignment = 64;
	Constraints b = consumer("display");
	b.strideAlignment = 256;
	b.alignment = 4096;
	ASSERT_TRUE(buffer->attach(a).ok());
	ASSERT_TRUE(buffer->attach(b).ok());
	EXPECT_FALSE(buffer->isAllocated()) << "attaching must not allocate";

	Result<CollatedConstraints> c = buffer->constraints();
	ASSERT_TRUE(c.ok());
	EXPECT_EQ(c->merged.strideAlignment, 256u);
	EXPECT_EQ(c->strideAlignmentFrom, "display");
	ASSERT_TRUE(buffer->allocate().ok());
}

TEST_P(BufferTest, ConflictingAttachIsRefusedAndForgotten)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 8192, "conflict");
	Constraints a = consumer("first");
	a.backend = std::string(toString(backend_->kind()));
	Constraints b = consumer("second");
	b.backend = backend_->kind() == BackendKind::Memfd ? "drm" : "memfd";
	ASSERT_TRUE(buffer->attach(a).ok());
	Result<void> r = buffer->attach(b);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().code(), EINVAL);
	EXPECT_NE(r.error().message().find("second"), std::string::npos);
	/* The refused consumer left nothing behind: allocation still works. */
	EXPECT_TRUE(buffer->allocate().ok());
}

TEST_P(BufferTest, UnmeetableConstraintFailsAllocationNamingIt)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 64 << 20, "unmeetable");
	Constraints c = consumer("scanout engine");
	c.contiguous = true; /* 64 MiB contiguous: more than any backend here */
	ASSERT_TRUE(buffer->attach(c).ok());
	Result<void> r = buffer->allocate();
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message().find("scanout engine"), std::string::npos)
		<< r.error().message();
	EXPECT_NE(r.error().message().find("contiguous"), std::string::npos);
	EXPECT_FALSE(buffer->isAllocated());
	EXPECT_FALSE(buffer->access(Access::Read).ok());
}

TEST_P(BufferTest, LateIncompatibleAttachIsBusy)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 1 << 20, "late");
	ASSERT_TRUE(buffer->allocate().ok());
	BackingProperties backing = buffer->properties();

	Constraints fine = consumer("easy");
	fine.alignment = 4096;
	EXPECT_TRUE(buffer->attach(fine).ok());

	if (!backing.contiguous) {
		Constraints contiguous = consumer("contiguous dma");
		contiguous.contiguous = true;
		Result<void> r = buffer->attach(contiguous);
		ASSERT_FALSE(r.ok());
		EXPECT_EQ(r.error().code(), EBUSY);
		EXPECT_NE(r.error().message().find("contiguous dma"), std::string::npos);
	}

	Constraints aligned = consumer("huge alignment");
	aligned.alignment = std::size_t(1) << 30;
	EXPECT_EQ(buffer->attach(aligned).error().code(), EBUSY);

	buffer->setStrides({ 1920, 1920 });
	Constraints stride = consumer("stride 256");
	stride.strideAlignment = 256;
	EXPECT_EQ(buffer->attach(stride).error().code(), EBUSY);
	Constraints stride128 = consumer("stride 128");
	stride128.strideAlignment = 128;
	EXPECT_TRUE(buffer->attach(stride128).ok());
}

TEST_P(BufferTest, RequiredMissingBackendIsAClearError)
{
	const char *missing = "dma-heap";
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "needs-missing");
	Constraints c = consumer("hardware block");
	c.backend = missing;
	c.device = "zcbuf-no-such-heap";
	ASSERT_TRUE(buffer->attach(c).ok());
	Result<void> r = buffer->allocate();
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message().find("hardware block"), std::string::npos)
		<< r.error().message();
	EXPECT_NE(r.error().message().find("zcbuf-no-such-heap"), std::string::npos)
		<< r.error().message();
	EXPECT_FALSE(buffer->isAllocated());
}

TEST_P(BufferTest, RequiredBackendDecidesWhereTheBackingComesFrom)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "moved");
	Constraints c = consumer("shm peer");
	c.backend = "memfd";
	ASSERT_TRUE(buffer->attach(c).ok());
	ASSERT_TRUE(buffer->allocate().ok());
	EXPECT_EQ(buffer->backendKind(), BackendKind::Memfd);
	EXPECT_FALSE(buffer->isDmabuf());
}

TEST_P(BufferTest, OutlivesTheBackendHandle)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "outlive");
	backend_.reset();
	{
		Result<CpuAccess> w = buffer->access(Access::Write);
		ASSERT_TRUE(w.ok()) << w.error().message();
		w->data()[0] = 42;
	}
	/* The backend (and its device fd) goes with its last buffer; the
	 * fixture's baseline holds one, so open it again. */
	buffer.reset();
	backend_ = openBackend(GetParam()).value();
}

TEST_P(BufferTest, ConcurrentAccessMapsOnce)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 1 << 20, "threads");
	BackendStatistics before = statistics()[backend_->kind()];
	std::vector<std::thread> threads;
	std::atomic<int> failures{ 0 };
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] {
			for (int i = 0; i < 50; i++) {
				Result<CpuAccess> a = buffer->access(Access::Write);
				if (!a) {
					failures++;
					continue;
				}
				a->data()[t * 4096] = static_cast<std::uint8_t>(i);
			}
		});
	for (std::thread &t : threads)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	BackendStatistics after = statistics()[backend_->kind()];
	EXPECT_EQ(after.mappings, before.mappings + 1);
	EXPECT_EQ(after.accesses, before.accesses + 200);
}

TEST_P(BufferTest, ReadOnlyExport)
{
	std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 8192, "read-only", true);
	Result<void> allocated = buffer->allocate();
	if (!backend_->capabilities().readOnly) {
		ASSERT_FALSE(allocated.ok());
		EXPECT_EQ(allocated.error().code(), ENOTSUP);
		return;
	}
	ASSERT_TRUE(allocated.ok()) << allocated.error().message();
	int fd = buffer->fd().value();
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	EXPECT_TRUE(buffer->isReadOnly());

	Result<CpuAccess> w = buffer->access(Access::Write);
	ASSERT_FALSE(w.ok());
	EXPECT_EQ(w.error().code(), EACCES);
	Result<CpuAccess> r = buffer->access(Access::Read);
	ASSERT_TRUE(r.ok()) << r.error().message();
	EXPECT_EQ(r->data()[100], 0);

	void *map = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(map, MAP_FAILED) << "a read-only dma-buf accepted a writable mapping";
	if (map != MAP_FAILED)
		munmap(map, 8192);
}

TEST_P(BufferTest, ContiguousUpToTheBackendLimit)
{
	Constraints c = consumer("contiguous camera");
	c.contiguous = true;
	std::size_t limit = backend_->capabilities().maxContiguous;
	if (!limit) {
		std::shared_ptr<Buffer> buffer = Buffer::create(backend_, 4096, "no-contiguous");
		ASSERT_TRUE(buffer->attach(c).ok());
		Result<void> r = buffer->allocate();
		ASSERT_FALSE(r.ok());
		EXPECT_EQ(r.error().code(), ENOTSUP);
		EXPECT_NE(r.error().message().find("contiguous camera"), std::string::npos);
		return;
	}
	/* CMA heaps have no limit we know; the module's is 4 MiB. */
	limit = std::min<std::size_t>(limit, 4u << 20);

	std::shared_ptr<Buffer> fits = Buffer::create(backend_, limit, "contiguous-max");
	ASSERT_TRUE(fits->attach(c).ok());
	Result<CpuAccess> w = fits->access(Access::Write);
	ASSERT_TRUE(w.ok()) << w.error().message();
	std::memset(w->data(), 0x5a, w->size());
	EXPECT_TRUE(fits->properties().contiguous);

	if (backend_->capabilities().maxContiguous == limit) {
		std::shared_ptr<Buffer> tooBig = Buffer::create(backend_, limit * 2,
								"contiguous-too-big");
		ASSERT_TRUE(tooBig->attach(c).ok());
		Result<void> r = tooBig->allocate();
		ASSERT_FALSE(r.ok());
		EXPECT_EQ(r.error().code(), ENOMEM);
		EXPECT_NE(r.error().message().find("contiguous camera"), std::string::npos);
	}
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(BufferTest);

TEST(DmabufBackends, AreTestedSomewhere)
{
	/* On a kernel without dma-buf exporters (this sandbox's), the vm suite
	 * runs these tests against real ones; there it sets ZCBUF_TEST_REQUIRE
	 * and a missing dma-buf backend fails. */
	if (test::dmabufBackendsUnderTest().empty()) {
		ASSERT_TRUE(test::requiredBackendKinds().empty())
			<< "dma-buf backends are required here but none opens";
		GTEST_SKIP() << "no dma-buf backend on this kernel; the vm suite covers them";
	}
}

} /* namespace */
