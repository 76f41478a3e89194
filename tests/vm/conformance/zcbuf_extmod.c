// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Debian's udmabuf and system dma-heap drivers, built as modules for the
 * guest (tests/vm/extmod), work: their device nodes exist, they export
 * dma-bufs, and our virtual device does DMA on those buffers.
 * Runs in the guest: vm-run --module zcbuf --module zcbuf_test --modprobe udmabuf
 *   --modprobe dma_heap -- zcbuf_extmod
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

static void device_dma(int fd, uint8_t *cpu, size_t size)
{
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, "importer");
	uint32_t crc;
	int att;

	REQUIRE(dev > 0);
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	REQUIRE(!zt_map(tfd, att, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	CHECK_EQ(zt_fill(tfd, att, ZCBUF_TEST_FILL_COUNTER, 0x40000, 0, size), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), 0);
	CHECK_EQ(zt_counter_check(cpu, 0x40000, 0, size), -1);
	memset(cpu + 100, 0x99, 1000);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), 0);
	CHECK_EQ(zt_checksum(tfd, att, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, cpu, size));
	CHECK_EQ(zt_unmap(tfd, att), 0);
	CHECK_EQ(zt_detach(tfd, att), 0);
}

static int memfd_sized(size_t size, unsigned int seals)
{
	int m = memfd_create("zcbuf-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);

	REQUIRE(m >= 0);
	REQUIRE(!ftruncate(m, size));
	if (seals)
		REQUIRE(!fcntl(m, F_ADD_SEALS, seals));
	return m;
}

static int udmabuf_create(int u, int memfd, size_t offset, size_t size)
{
	struct udmabuf_create c = {
		.memfd = memfd, .flags = UDMABUF_FLAGS_CLOEXEC,
		.offset = offset, .size = size,
	};
	int fd = ioctl(u, UDMABUF_CREATE, &c);

	return fd < 0 ? -errno : fd;
}

static void udmabuf_exports_memfd_pages(void)
{
	size_t size = 1 * MIB;
	int u = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	int m = memfd_sized(size, F_SEAL_SHRINK);
	uint8_t *cpu;
	int fd;

	REQUIRE(u >= 0);
	fd = udmabuf_create(u, m, 0, size);
	REQUIRE(fd >= 0);
	CHECK_EQ(lseek(fd, 0, SEEK_END), size);
	/* the dma-buf is the memfd's pages: the memfd's own mapping is the CPU */
	cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	REQUIRE(cpu != MAP_FAILED);
	device_dma(fd, cpu, size);
	/* and the dma-buf's mapping sees the same */
	{
		uint8_t *p = zt_mmap(fd, size, 1);

		REQUIRE(p);
		CHECK_EQ(memcmp(p, cpu, size), 0);
	}
}

static void udmabuf_checks_its_input(void)
{
	int u = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	int unsealed = memfd_sized(64 * KIB, 0);
	int sealed = memfd_sized(64 * KIB, F_SEAL_SHRINK);
	int pipefd[2];

	REQUIRE(u >= 0);
	REQUIRE(!pipe(pipefd));
	/* udmabuf wants F_SEAL_SHRINK and page-aligned ranges of shmem */
	CHECK_EQ(udmabuf_create(u, unsealed, 0, 64 * KIB), -EINVAL);
	CHECK_EQ(udmabuf_create(u, sealed, 100, 4 * KIB), -EINVAL);
	CHECK_EQ(udmabuf_create(u, sealed, 0, 0), -EINVAL);
	CHECK_EQ(udmabuf_create(u, pipefd[0], 0, 4 * KIB), -EBADFD);
	CHECK(udmabuf_create(u, sealed, 4 * KIB, 8 * KIB) >= 0);
}

static void dma_heap_system_allocates(void)
{
	struct dma_heap_allocation_data a = {
		.len = 2 * MIB, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	uint8_t *cpu;

	REQUIRE(h >= 0);
	REQUIRE(!ioctl(h, DMA_HEAP_IOCTL_ALLOC, &a));
	CHECK_EQ(lseek(a.fd, 0, SEEK_END), 2 * MIB);
	cpu = zt_mmap(a.fd, 2 * MIB, 0);
	REQUIRE(cpu);
	for (size_t i = 0; i < 2 * MIB; i += 4096)
		CHECK_EQ(cpu[i], 0);
	device_dma(a.fd, cpu, 2 * MIB);
	a.fd = 0;
	a.len = 0;
	CHECK_ERR(ioctl(h, DMA_HEAP_IOCTL_ALLOC, &a), EINVAL);
}

/*
 * The finding of issue 10: a system-heap buffer held only O_RDONLY was
 * written by the test importer. Every device-write path is refused now, and
 * the buffer keeps its bytes.
 */
static void dma_heap_readonly_never_written(void)
{
	struct dma_heap_allocation_data a = {
		.len = 64 * KIB, .fd_flags = O_RDONLY | O_CLOEXEC,
	};
	int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, "writer");
	int ro, wo, src;
	uint32_t crc;
	uint8_t *cpu;

	REQUIRE(h >= 0 && dev > 0);
	REQUIRE(!ioctl(h, DMA_HEAP_IOCTL_ALLOC, &a));
	CHECK_EQ(fcntl(a.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	cpu = zt_mmap(a.fd, 64 * KIB, 1);
	REQUIRE(cpu);
	ro = zt_attach(tfd, dev, a.fd);
	REQUIRE(ro > 0);
	CHECK_EQ(zt_map(tfd, ro, ZCBUF_TEST_DIR_FROM_DEVICE, NULL), -EACCES);
	CHECK_EQ(zt_map(tfd, ro, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL), -EACCES);
	/* so FILL and COPY have no mapping to write through */
	CHECK_EQ(zt_fill(tfd, ro, ZCBUF_TEST_FILL_CONSTANT, 0xab, 0, 64 * KIB),
		 -EINVAL);
	/* reading is fine */
	CHECK_EQ(zt_map(tfd, ro, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	CHECK_EQ(zt_fill(tfd, ro, ZCBUF_TEST_FILL_CONSTANT, 0xab, 0, 64 * KIB),
		 -EACCES);
	/* a copy from a writable buffer into it is refused the same way */
	{
		struct dma_heap_allocation_data w = {
			.len = 64 * KIB, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		REQUIRE(!ioctl(h, DMA_HEAP_IOCTL_ALLOC, &w));
		src = zt_attach(tfd, dev, w.fd);
		REQUIRE(src > 0);
		REQUIRE(!zt_map(tfd, src, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
		CHECK_EQ(zt_fill(tfd, src, ZCBUF_TEST_FILL_CONSTANT, 0xab, 0,
				 64 * KIB), 0);
		CHECK_EQ(zt_copy(tfd, src, ro, 0, 0, 64 * KIB), -EACCES);
		wo = zt_attach(tfd, dev, a.fd);
		REQUIRE(wo > 0);
		CHECK_EQ(zt_map(tfd, wo, ZCBUF_TEST_DIR_FROM_DEVICE, NULL),
			 -EACCES);
		CHECK_EQ(zt_copy(tfd, src, wo, 0, 0, 64 * KIB), -EINVAL);
	}
	CHECK_EQ(zt_sync(a.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	for (size_t i = 0; i < 64 * KIB; i++)
		if (cpu[i])
			REQUIRE(!"the read-only heap buffer was written");
	CHECK_EQ(zt_sync(a.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_checksum(tfd, ro, 0, 64 * KIB, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, cpu, 64 * KIB));
}

static const struct zt_case cases[] = {
	ZT_CASE(udmabuf_exports_memfd_pages),
	ZT_CASE(udmabuf_checks_its_input),
	ZT_CASE(dma_heap_system_allocates),
	ZT_CASE(dma_heap_readonly_never_written),
};

int main(int argc, char **argv)
{
	return zt_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
