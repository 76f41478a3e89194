/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include <gst/allocators/allocators.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>
#include <zcbuf/statistics.h>

#include "backend_test.h"
#include "zcbuf_debugfs.h"
#include "memfd.h"

using namespace zcbuf;

namespace {

std::string fdinfo(int fd)
{
	std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
	std::stringstream text;
	text << in.rdbuf();
	return text.str();
}

bool isOpen(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

class AllocatorTest : public test::BackendTest
{
protected:
	void SetUp() override
	{
		test::BackendTest::SetUp();
		GError *error = nullptr;
		allocator_ = gst_zcbuf_allocator_new(spec(), &error);
		ASSERT_NE(allocator_, nullptr) << error->message;
	}

	void TearDown() override
	{
		gst_clear_object(&allocator_);
		test::BackendTest::TearDown();
	}

	GstAllocator *allocator_ = nullptr;
};

TEST_P(AllocatorTest, DmabufMemoryOnlyFromDmabufBackends)
{
	GstMemory *memory = gst_allocator_alloc(allocator_, 1 << 20, nullptr);
	ASSERT_NE(memory, nullptr);
	EXPECT_TRUE(gst_is_zcbuf_memory(memory));
	EXPECT_TRUE(gst_is_fd_memory(memory));
	EXPECT_EQ(static_cast<bool>(gst_is_dmabuf_memory(memory)), dmabuf())
		<< "memfd memory must never be labelled dmabuf";
	EXPECT_EQ(static_cast<bool>(gst_zcbuf_allocator_is_dmabuf(allocator_)), dmabuf());

	int fd = gst_fd_memory_get_fd(memory);
	std::shared_ptr<Buffer> buffer = gst_zcbuf_memory_get_buffer(memory);
	ASSERT_TRUE(buffer);
	EXPECT_EQ(fd, buffer->fd().value());
	EXPECT_EQ(buffer->isDmabuf(), dmabuf());
	if (dmabuf()) {
		EXPECT_EQ(gst_dmabuf_memory_get_fd(memory), fd);
		EXPECT_NE(fdinfo(fd).find("exp_name:"), std::string::npos);
	}
	EXPECT_EQ(memory->size, 1u << 20);
	gst_memory_unref(memory);
}

TEST_P(AllocatorTest, MapsOnceAndSyncsOnEveryMap)
{
	GstMemory *memory = gst_allocator_alloc(allocator_, 4 << 20, nullptr);
	ASSERT_NE(memory, nullptr);
	BackendStatistics before = statistics()[backend_->kind()];

	guint8 *first = nullptr;
	for (int i = 0; i < 5; i++) {
		GstMapInfo map;
		ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_WRITE));
		if (!first)
			first = map.data;
		EXPECT_EQ(map.data, first) << "the mapping was re-created";
		/* Touch every page, as a producer does. */
		for (gsize offset = 0; offset < map.size; offset += 4096)
			map.data[offset] = static_cast<guint8>(i);
		gst_memory_unmap(memory, &map);
	}
	GstMapInfo map;
	ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[8192], 4);
	gst_memory_unmap(memory, &map);

	BackendStatistics after = statistics()[backend_->kind()];
	EXPECT_EQ(after.mappings, before.mappings + 1);
	EXPECT_EQ(after.accesses, before.accesses + 6);
	EXPECT_EQ(after.syncs, before.syncs + (dmabuf() ? 12 : 0));
	/* The exporter's count where it keeps one (zcbuf.ko, in the guest). */
	if (backend_->kind() == zcbuf::BackendKind::Module) {
		std::map<std::string, std::string> fields =
			zcbuf::test::zcbufDebugfsFields(gst_fd_memory_get_fd(memory));
		ASSERT_FALSE(fields.empty()) << "not in /sys/kernel/debug/zcbuf/buffers";
		EXPECT_EQ(fields["cpu_syncs"], "12");
		EXPECT_EQ(fields["mmaps"], "1");
	}
	gst_memory_unref(memory);
}

TEST_P(AllocatorTest, HonoursAllocationParams)
{
	GstAllocationParams params;
	gst_allocation_params_init(&params);
	params.prefix = 128;
	params.padding = 64;
	params.align = 255;
	GstMemory *memory = gst_allocator_alloc(allocator_, 10000, &params);
	ASSERT_NE(memory, nullptr);
	EXPECT_EQ(memory->offset, 128u);
	EXPECT_EQ(memory->size, 10000u);
	EXPECT_GE(memory->maxsize, 128u + 10000u + 64u);

	/* align asks the backing for a 256-byte start (a constraint on the
	 * buffer, which every backend's pages meet): the mapping's address
	 * would be page-aligned anyway, so look at what the buffer was told
	 * and what its backing guarantees. */
	std::shared_ptr<zcbuf::Buffer> buffer = gst_zcbuf_memory_get_buffer(memory);
	ASSERT_NE(buffer, nullptr);
	zcbuf::Result<zcbuf::CollatedConstraints> constraints = buffer->constraints();
	ASSERT_TRUE(constraints);
	EXPECT_EQ(constraints->merged.alignment, 256u);
	EXPECT_EQ(constraints->alignmentFrom, "GstAllocationParams");
	EXPECT_GE(buffer->properties().alignment, 256u);

	GstMapInfo map;
	ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_READ));
	EXPECT_EQ(map.size, 10000u);
	EXPECT_EQ((reinterpret_cast<guintptr>(map.data) - 128) % 256, 0u);
	gst_memory_unmap(memory, &map);
	gst_memory_unref(memory);
}

TEST_P(AllocatorTest, SharedSubMemoryMapsTheRightBytes)
{
	GstMemory *memory = gst_allocator_alloc(allocator_, 8192, nullptr);
	ASSERT_NE(memory, nullptr);
	GstMapInfo map;
	ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_WRITE));
	for (gsize i = 0; i < map.size; i++)
		map.data[i] = static_cast<guint8>(i % 251);
	gst_memory_unmap(memory, &map);

	GstMemory *sub = gst_memory_share(memory, 1000, 500);
	ASSERT_NE(sub, nullptr);
	EXPECT_TRUE(gst_is_zcbuf_memory(sub));
	ASSERT_TRUE(gst_memory_map(sub, &map, GST_MAP_READ));
	EXPECT_EQ(map.size, 500u);
	EXPECT_EQ(map.data[0], 1000 % 251);
	EXPECT_EQ(map.data[499], 1499 % 251);
	gst_memory_unmap(sub, &map);

	/* A copy is new zcbuf memory of the same allocator with the same bytes. */
	GstMemory *copy = gst_memory_copy(memory, 0, -1);
	ASSERT_NE(copy, nullptr);
	EXPECT_TRUE(gst_is_zcbuf_memory(copy));
	EXPECT_NE(gst_fd_memory_get_fd(copy), gst_fd_memory_get_fd(memory));
	ASSERT_TRUE(gst_memory_map(copy, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[4000], 4000 % 251);
	gst_memory_unmap(copy, &map);

	gst_memory_unref(copy);
	gst_memory_unref(sub);
	gst_memory_unref(memory);
}

TEST_P(AllocatorTest, MemoryOutlivesItsAllocator)
{
	GstMemory *memory = gst_allocator_alloc(allocator_, 4096, nullptr);
	ASSERT_NE(memory, nullptr);
	gst_clear_object(&allocator_);
	GstMapInfo map;
	ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_WRITE));
	map.data[0] = 1;
	gst_memory_unmap(memory, &map);
	gst_memory_unref(memory);
}

TEST_P(AllocatorTest, ImportsItsOwnFdWithoutCopying)
{
	GstMemory *memory = gst_allocator_alloc(allocator_, 65536, nullptr);
	ASSERT_NE(memory, nullptr);
	GstMapInfo map;
	ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_WRITE));
	map.data[777] = 0x42;
	gst_memory_unmap(memory, &map);

	int fd = gst_fd_memory_get_fd(memory);
	GError *error = nullptr;
	GstMemory *imported = gst_zcbuf_allocator_import_fd(fd, 65536, &error);
	ASSERT_NE(imported, nullptr) << error->message;
	EXPECT_EQ(static_cast<bool>(gst_is_dmabuf_memory(imported)), dmabuf());
	EXPECT_NE(gst_fd_memory_get_fd(imported), fd) << "the import must own a duplicate";
	ASSERT_TRUE(gst_memory_map(imported, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[777], 0x42);
	gst_memory_unmap(imported, &map);

	/* Imports cannot allocate: a copy of one is system memory. */
	GstMemory *copy = gst_memory_copy(imported, 0, -1);
	ASSERT_NE(copy, nullptr);
	EXPECT_FALSE(gst_is_zcbuf_memory(copy));
	ASSERT_TRUE(gst_memory_map(copy, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[777], 0x42);
	gst_memory_unmap(copy, &map);
	gst_memory_unref(copy);
	gst_memory_unref(imported);
	EXPECT_TRUE(isOpen(fd));
	gst_memory_unref(memory);
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(AllocatorTest);

class AllocatorErrors : public test::LeakCheckedTest
{
};

TEST_F(AllocatorErrors, MissingBackendIsAnErrorNotAFallback)
{
	GError *error = nullptr;
	GstAllocator *allocator = gst_zcbuf_allocator_new("dma-heap:zcbuf-no-such-heap", &error);
	EXPECT_EQ(allocator, nullptr);
	ASSERT_NE(error, nullptr);
	EXPECT_NE(std::string(error->message).find("zcbuf-no-such-heap"), std::string::npos);
	EXPECT_TRUE(g_error_matches(error, GST_ZCBUF_ERROR, GST_ZCBUF_ERROR_BACKEND))
		<< g_quark_to_string(error->domain) << " " << error->code;
	g_clear_error(&error);

	allocator = gst_zcbuf_allocator_new("tape-drive", &error);
	EXPECT_EQ(allocator, nullptr);
	ASSERT_NE(error, nullptr);
	EXPECT_TRUE(g_error_matches(error, GST_ZCBUF_ERROR, GST_ZCBUF_ERROR_BACKEND));
	g_clear_error(&error);
}

/* The registered default opens its backend only at its first allocation
 * (test_no_side_effects checks that nothing is opened before), and its
 * memory is the default backend's. */
/* The registered "zcbuf" allocator opens the default backend at its first
 * allocation and keeps it for the process's life (a device backend keeps its
 * node open): one allocation before the baseline makes that backend part of
 * it, so the check below still catches a leak of anything else. */
class DefaultAllocator : public AllocatorErrors
{
protected:
	void SetUp() override
	{
		GstAllocator *allocator = gst_allocator_find(GST_ALLOCATOR_ZCBUF);
		if (allocator) {
			GstMemory *memory = gst_allocator_alloc(allocator, 4096, nullptr);
			if (memory)
				gst_memory_unref(memory);
			gst_object_unref(allocator);
		}
		AllocatorErrors::SetUp();
	}
};

TEST_F(DefaultAllocator, IsRegisteredAsZcbuf)
{
	GstAllocator *allocator = gst_allocator_find(GST_ALLOCATOR_ZCBUF);
	ASSERT_NE(allocator, nullptr);
	EXPECT_TRUE(gst_zcbuf_allocator_is_lazy_default(allocator));
	GstMemory *memory = gst_allocator_alloc(allocator, 4096, nullptr);
	ASSERT_NE(memory, nullptr);
	EXPECT_TRUE(gst_is_zcbuf_memory(memory));
	gchar *backend = gst_zcbuf_allocator_get_backend(memory->allocator);
	gchar *description = gst_zcbuf_allocator_get_backend_description(memory->allocator);
	Result<std::shared_ptr<Backend>> expected = defaultBackend();
	ASSERT_TRUE(expected.ok());
	/* The spec opens the same backend again; the description is words. */
	EXPECT_EQ(std::string(backend), expected.value()->spec());
	EXPECT_EQ(std::string(description), expected.value()->description());
	Result<std::shared_ptr<Backend>> again = openBackend(backend);
	ASSERT_TRUE(again.ok()) << again.error().message();
	EXPECT_EQ(again.value()->description(), expected.value()->description());
	g_free(description);
	EXPECT_EQ(gst_is_dmabuf_memory(memory), expected.value()->capabilities().dmabuf);
	g_free(backend);
	gst_memory_unref(memory);
	gst_object_unref(allocator);
}

void expectImportRefused(int fd, gsize size, const char *words)
{
	GError *error = nullptr;
	GstMemory *memory = gst_zcbuf_allocator_import_fd(fd, size, &error);
	EXPECT_EQ(memory, nullptr);
	ASSERT_NE(error, nullptr);
	EXPECT_NE(std::string(error->message).find(words), std::string::npos) << error->message;
	EXPECT_TRUE(g_error_matches(error, GST_ZCBUF_ERROR, GST_ZCBUF_ERROR_FD)) << error->message;
	g_clear_error(&error);
	if (memory)
		gst_memory_unref(memory);
}

/* A closed fd number: open one and let its owner close it. */
int closedFd()
{
	return UniqueFD(open("/dev/null", O_RDONLY | O_CLOEXEC)).get();
}

TEST_F(AllocatorErrors, ImportRefusesWhatIsNotABuffer)
{
	expectImportRefused(closedFd(), 1, "not open");

	int pipes[2];
	ASSERT_EQ(pipe2(pipes, O_CLOEXEC), 0);
	UniqueFD reader(pipes[0]), writer(pipes[1]);
	expectImportRefused(reader.get(), 1, "pipe");

	int sockets[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
	UniqueFD a(sockets[0]), b(sockets[1]);
	expectImportRefused(a.get(), 1, "socket");

	char path[] = "/tmp/zcbuf-gst-import-XXXXXX";
	UniqueFD file(mkostemp(path, O_CLOEXEC));
	ASSERT_TRUE(file.isValid());
	unlink(path);
	ASSERT_EQ(ftruncate(file.get(), 4096), 0);
	expectImportRefused(file.get(), 1, "regular file");
	EXPECT_TRUE(isOpen(file.get()));

	UniqueFD memfd = test::makeMemfd(4096);
	ASSERT_TRUE(memfd.isValid());
	expectImportRefused(memfd.get(), 8192, "4096");
	EXPECT_TRUE(isOpen(memfd.get()));
}

TEST_F(AllocatorErrors, ReadOnlyImportRefusesWriteMaps)
{
	UniqueFD memfd = test::makeMemfd(4096);
	ASSERT_TRUE(memfd.isValid());
	UniqueFD readOnly(open(("/proc/self/fd/" + std::to_string(memfd.get())).c_str(),
			       O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(readOnly.isValid());
	GError *error = nullptr;
	GstMemory *memory = gst_zcbuf_allocator_import_fd(readOnly.get(), 4096, &error);
	ASSERT_NE(memory, nullptr) << error->message;
	EXPECT_TRUE(GST_MEMORY_IS_READONLY(memory));
	GstMapInfo map;
	EXPECT_FALSE(gst_memory_map(memory, &map, GST_MAP_WRITE));
	ASSERT_TRUE(gst_memory_map(memory, &map, GST_MAP_READ));
	gst_memory_unmap(memory, &map);
	gst_memory_unref(memory);
}

} /* namespace */
