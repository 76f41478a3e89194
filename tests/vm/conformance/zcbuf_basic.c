// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Conformance of zcbuf.ko on its own: the dma-buf it exports (mmap, SYNC,
 * zero fill, size, fdinfo, names, bounds), every ioctl's errors, deferred
 * allocation, migration, read-only export, lifetime and rmmod.
 * Runs in the guest: vm-run --module zcbuf --module zcbuf_test -- zcbuf_basic
 * ZCBUF_KO names the module, for the rmmod case to load it again.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

static int all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

static int fdinfo_has(int fd, const char *text)
{
	char path[64], buf[4096];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* ---- the exported dma-buf ------------------------------------------------ */

static void alloc_fd_properties(void)
{
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 1 * MIB, 0, "props");

	REQUIRE(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 1 * MIB);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_ERR(lseek(fd, 0, SEEK_CUR), EINVAL);
	CHECK_ERR(lseek(fd, 1, SEEK_END), EINVAL);
	CHECK_ERR(lseek(fd, 4096, SEEK_SET), EINVAL);
}

static void alloc_size_rounded_up(void)
{
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 1000, 0, NULL);

	REQUIRE(fd >= 0);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 4096);
	close(fd);
	fd = zt_alloc(zfd, 4097, 0, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 8192);
}

static void mmap_zero_filled(void)
{
	int zfd = zt_open_zcbuf();
	size_t size = 3 * MIB + 4 * KIB;
	int fd = zt_alloc(zfd, size, 0, NULL);
	void *p;

	REQUIRE(fd >= 0);
	p = zt_mmap(fd, size, 0);
	REQUIRE(p);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK(all_zero(p, size));
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	/* contiguous and immediate backings are zeroed too */
	close(fd);
	fd = zt_alloc(zfd, 2 * MIB, ZCBUF_ALLOC_CONTIGUOUS |
		      ZCBUF_ALLOC_IMMEDIATE, NULL);
	REQUIRE(fd >= 0);
	p = zt_mmap(fd, 2 * MIB, 1);
	REQUIRE(p);
	CHECK(all_zero(p, 2 * MIB));
}

static void mmap_write_read_back(void)
{
	int zfd = zt_open_zcbuf();
	size_t size = 1 * MIB;
	int fd = zt_alloc(zfd, size, 0, NULL);
	uint8_t *p, *q;

	REQUIRE(fd >= 0);
	p = zt_mmap(fd, size, 0);
	q = zt_mmap(fd, size, 0);
	REQUIRE(p && q);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), 0);
	zt_counter_fill(p, 0x1234, 0, size);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), 0);
	/* a second mapping shares the pages */
	CHECK_EQ(zt_counter_check(q, 0x1234, 0, size), -1);
	munmap(p, size);
	munmap(q, size);
	p = zt_mmap(fd, size, 1);
	REQUIRE(p);
	CHECK_EQ(zt_counter_check(p, 0x1234, 0, size), -1);
}

static void sync_flags(void)
{
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);

	REQUIRE(fd >= 0);
	CHECK_EQ(zt_sync(fd, 0), -EINVAL);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END), -EINVAL);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_RW | 0x100), -EINVAL);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
	/* an END without a START is harmless */
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "cpu_accesses"), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "cpu_accesses"), 1);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "cpu_accesses"), 0);
}

static void fdinfo_names(void)
{
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 8 * KIB, 0, "camera-frame");
	char name[64];

	REQUIRE(fd >= 0);
	CHECK(fdinfo_has(fd, "exp_name:\tzcbuf\n"));
	CHECK(fdinfo_has(fd, "name:\tcamera-frame\n"));
	CHECK(fdinfo_has(fd, "size:\t8192\n"));
	CHECK_EQ(zt_debugfs_str(zt_ino(fd), "name", name, sizeof(name)), 0);
	CHECK(!strcmp(name, "\"camera-frame\""));
	close(fd);
	fd = zt_alloc(zfd, 8 * KIB, 0, "with space\"");
	REQUIRE(fd >= 0);
	CHECK_EQ(zt_debugfs_str(zt_ino(fd), "name", name, sizeof(name)), 0);
	CHECK(!strcmp(name, "\"with\\x20space\\x22\""));
}

static void set_name_limits(void)
{
	char name31[32], name32[33];
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 8 * KIB, 0, "before");

	REQUIRE(fd >= 0);
	memset(name31, 'a', 31);
	name31[31] = '\0';
	memset(name32, 'b', 32);
	name32[32] = '\0';
	CHECK_OK(ioctl(fd, DMA_BUF_SET_NAME_B, name31));
	CHECK(fdinfo_has(fd, name31));
	CHECK_ERR(ioctl(fd, DMA_BUF_SET_NAME_B, name32), EINVAL);
	/* the refused name changed nothing */
	CHECK(fdinfo_has(fd, name31));
	CHECK_ERR(ioctl(fd, DMA_BUF_SET_NAME_B, (char *)8), EFAULT);
}

static void mmap_bounds_and_offset(void)
{
	int zfd = zt_open_zcbuf();
	size_t size = 64 * KIB;
	int fd = zt_alloc(zfd, size, 0, NULL);
	uint8_t *p, *q;

	REQUIRE(fd >= 0);
	CHECK(mmap(NULL, size + PAGE, PROT_READ, MAP_SHARED, fd, 0) ==
	      MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, size) ==
	      MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd,
		   size - PAGE) == MAP_FAILED && errno == EINVAL);
	/* a private mapping would stop being the buffer at the first write */
	CHECK(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) ==
	      MAP_FAILED && errno == EINVAL);

	p = zt_mmap(fd, size, 0);
	REQUIRE(p);
	zt_counter_fill(p, 0, 0, size);
	q = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 5 * PAGE);
	REQUIRE(q != MAP_FAILED);
	CHECK_EQ(zt_counter_check(q, 0, 5 * PAGE, 3 * PAGE), -1);
	/* a mapping cannot grow past the buffer (VM_DONTEXPAND) */
	CHECK(mremap(q, 3 * PAGE, 20 * PAGE, MREMAP_MAYMOVE) == MAP_FAILED &&
	      errno == EFAULT);
	/* shrinking is fine and keeps the right pages */
	q = mremap(q, 3 * PAGE, PAGE, 0);
	REQUIRE(q != MAP_FAILED);
	CHECK_EQ(zt_counter_check(q, 0, 5 * PAGE, PAGE), -1);
}

/* ---- bad arguments ---------------------------------------------------------- */

static void ioctl_unknown_and_sizes(void)
{
	int zfd = zt_open_zcbuf();
	char big[sizeof(struct zcbuf_alloc) + 8];
	int fd;

	memset(big, 0, sizeof(big));
	CHECK_ERR(ioctl(zfd, _IO(ZCBUF_IOC_MAGIC, 0x7f)), ENOTTY);
	CHECK_ERR(ioctl(zfd, _IOWR(ZCBUF_IOC_MAGIC, 0x0b, uint64_t), big),
		  ENOTTY);
	CHECK_ERR(ioctl(zfd, _IOWR('X', 0x00, struct zcbuf_alloc), big),
		  ENOTTY);
	/* the size is part of the number: short and long structs are unknown */
	CHECK_ERR(ioctl(zfd, _IOC(_IOC_READ | _IOC_WRITE, ZCBUF_IOC_MAGIC, 0,
				  sizeof(struct zcbuf_alloc) - 8), big), ENOTTY);
	CHECK_ERR(ioctl(zfd, _IOC(_IOC_READ | _IOC_WRITE, ZCBUF_IOC_MAGIC, 0,
				  sizeof(big)), big), ENOTTY);
	CHECK_ERR(ioctl(zfd, _IOW(ZCBUF_IOC_MAGIC, 0x00, struct zcbuf_alloc),
			big), ENOTTY);
	CHECK_ERR(ioctl(zfd, _IOR(ZCBUF_IOC_MAGIC, 0x0a, uint64_t), big),
		  ENOTTY);
	/* our commands mean nothing on the dma-buf itself */
	fd = zt_alloc(zfd, PAGE, 0, NULL);
	REQUIRE(fd >= 0);
	CHECK_ERR(ioctl(fd, ZCBUF_IOC_STATS, big), ENOTTY);
	CHECK_EQ(zt_debugfs_buffers(), 1);
}

static void alloc_bad_arguments(void)
{
	struct zcbuf_alloc a;
	struct zcbuf_stats before, after;
	int zfd = zt_open_zcbuf();
	int fds = zt_count_fds();

	zt_stats(zfd, &before);
#define BAD_ALLOC(field_init, err)                                          \
	do {                                                                \
		memset(&a, 0, sizeof(a));                                   \
		a.size = 64 * KIB;                                          \
		field_init;                                                 \
		CHECK_ERR(ioctl(zfd, ZCBUF_IOC_ALLOC, &a), err);            \
	} while (0)
	BAD_ALLOC(a.size = 0, EINVAL);
	BAD_ALLOC(a.flags = 1U << 4, EINVAL);
	BAD_ALLOC(a.flags = ~ZCBUF_ALLOC_FLAGS, EINVAL);
	BAD_ALLOC(a.flags = 0x80000000U, EINVAL);
	BAD_ALLOC(a.reserved[0] = 1, EINVAL);
	BAD_ALLOC(a.reserved[1] = 1ULL << 63, EINVAL);
	BAD_ALLOC(a.alignment = 3, EINVAL);
	BAD_ALLOC(a.alignment = 6 * KIB, EINVAL);
	BAD_ALLOC(a.alignment = 8 * MIB, EINVAL);
	BAD_ALLOC(memset(a.name, 'x', sizeof(a.name)), EINVAL);
	/* sizes above max_buffer_mib */
	BAD_ALLOC(a.size = 1ULL << 60, EFBIG);
	BAD_ALLOC(a.size = ~0ULL, EFBIG);
	BAD_ALLOC(a.size = ~0ULL - 4095, EFBIG);
	/* within it but more than the guest's 2 GiB: no backing can exist */
	zt_set_param("max_buffer_mib", "8192");
	BAD_ALLOC(a.size = 4096 * MIB, ENOMEM);
	zt_set_param("max_buffer_mib", "1024");
	/* sizes no contiguous backing can have */
	BAD_ALLOC((a.size = 8 * MIB, a.flags = ZCBUF_ALLOC_CONTIGUOUS), ENOMEM);
	BAD_ALLOC((a.size = 4 * MIB + PAGE, a.flags = ZCBUF_ALLOC_CONTIGUOUS),
		  ENOMEM);
	/* an alignment above a page implies contiguous backing */
	BAD_ALLOC((a.size = 8 * MIB, a.alignment = 64 * KIB), ENOMEM);
#undef BAD_ALLOC
	CHECK_ERR(ioctl(zfd, ZCBUF_IOC_ALLOC, NULL), EFAULT);
	CHECK_ERR(ioctl(zfd, ZCBUF_IOC_ALLOC, (void *)-4096L), EFAULT);
	zt_stats(zfd, &after);
	CHECK_EQ(after.buffers, before.buffers);
	CHECK_EQ(after.deferred, before.deferred);
	CHECK_EQ(zt_count_fds(), fds);
}

static void alloc_efault_loses_nothing(void)
{
	struct zcbuf_stats before, after;
	int zfd = zt_open_zcbuf();
	int fds = zt_count_fds();
	struct zcbuf_alloc *a;

	zt_stats(zfd, &before);
	/* valid input on a page the kernel can read but not write */
	a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(a != MAP_FAILED);
	memset(a, 0, sizeof(*a));
	a->size = 64 * KIB;
	a->flags = ZCBUF_ALLOC_IMMEDIATE;
	REQUIRE(!mprotect(a, PAGE, PROT_READ));
	CHECK_ERR(ioctl(zfd, ZCBUF_IOC_ALLOC, a), EFAULT);
	zt_stats(zfd, &after);
	CHECK_EQ(after.buffers, before.buffers);
	CHECK_EQ(after.bytes, before.bytes);
	CHECK_EQ(zt_count_fds(), fds);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

static void alloc_limits(void)
{
	int zfd = zt_open_zcbuf();
	int fd;

	/* the largest contiguous block: 4 MiB */
	fd = zt_alloc(zfd, 4 * MIB, ZCBUF_ALLOC_CONTIGUOUS |
		      ZCBUF_ALLOC_IMMEDIATE, NULL);
	CHECK(fd >= 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "size"), 4 * MIB);
	close(fd);
	/* big deferred buffers cost nothing until used */
	fd = zt_alloc(zfd, 1024 * MIB, 0, NULL);
	CHECK(fd >= 0);
	close(fd);
	/* up to max_buffer_mib (1024 by default), not beyond */
	CHECK_EQ(zt_alloc(zfd, 1024 * MIB + 1, 0, NULL), -EFBIG);
	zt_set_param("max_buffer_mib", "1");
	CHECK_EQ(zt_alloc(zfd, 1 * MIB + PAGE, 0, NULL), -EFBIG);
	fd = zt_alloc(zfd, 1 * MIB, 0, NULL);
	zt_set_param("max_buffer_mib", "1024");
	CHECK(fd >= 0);
	CHECK_EQ(zt_debugfs_buffers(), 1);
}

static void device_create_bad_arguments(void)
{
	struct zcbuf_test_device_create d;
	int tfd = zt_open_test();
	struct zcbuf_test_stats before, after;

	zt_test_stats(tfd, &before);
#define BAD_DEV(field_init, err)                                            \
	do {                                                                \
		memset(&d, 0, sizeof(d));                                   \
		field_init;                                                 \
		CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_CREATE, &d), err); \
	} while (0)
	BAD_DEV(d.reserved = 1, EINVAL);
	BAD_DEV(d.flags = 4, EINVAL);
	BAD_DEV(d.dma_mask_bits = 12, EINVAL);
	BAD_DEV(d.dma_mask_bits = 31, EINVAL);
	BAD_DEV(d.dma_mask_bits = 65, EINVAL);
	BAD_DEV(d.max_segment_size = 100, EINVAL);
	BAD_DEV(d.max_segment_size = 1ULL << 32, EINVAL);
	BAD_DEV(d.segment_boundary = 0x1000, EINVAL);
	BAD_DEV(d.segment_boundary = 0x7ff, EINVAL);
	/* a 64 KiB default segment cannot fit a 4 KiB boundary window */
	BAD_DEV(d.segment_boundary = 0xfff, EINVAL);
	BAD_DEV(d.alignment = 3, EINVAL);
	BAD_DEV(d.alignment = 8 * MIB, EINVAL);
	BAD_DEV(memset(d.name, 'n', sizeof(d.name)), EINVAL);
#undef BAD_DEV
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_CREATE, NULL), EFAULT);
	zt_test_stats(tfd, &after);
	CHECK_EQ(after.devices, before.devices);
	/* the edges that are fine */
	CHECK(zt_device(tfd, 0, 0, 32, 0, "m32") > 0);
	CHECK(zt_device(tfd, 0, 0, 64, 0, "m64") > 0);
	CHECK(zt_device(tfd, 0, PAGE, 0, 4 * MIB, "a4m") > 0);
	memset(&d, 0, sizeof(d));
	d.segment_boundary = 0xfff;
	d.max_segment_size = PAGE;
	CHECK_OK(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_CREATE, &d));
	zt_test_stats(tfd, &after);
	CHECK_EQ(after.devices, before.devices + 4);
}

static void device_destroy_and_ids(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int other = zt_open_test();
	struct zcbuf_test_id id = { 0 };
	int dev, fd, att;

	dev = zt_device(tfd, 0, 0, 0, 0, "d");
	REQUIRE(dev > 0);
	id.id = dev;
	id.reserved = 1;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id), EINVAL);
	id.reserved = 0;
	id.id = dev + 100;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id), ENOENT);
	id.id = 0;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id), ENOENT);
	/* ids belong to the file that made them */
	id.id = dev;
	CHECK_ERR(ioctl(other, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id), ENOENT);
	fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(zt_attach(other, dev, fd), -ENOENT);
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(other, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), -ENOENT);
	/* a device with attachments stays */
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id), EBUSY);
	CHECK_EQ(zt_detach(tfd, att), 0);
	CHECK_OK(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id));
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id), ENOENT);
}

/* Drops CAP_SYS_ADMIN from the effective set of this (forked) process. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &h, d);
}

static void device_create_needs_sys_admin(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	int dev = zt_device(tfd, 0, 0, 0, 0, "made-as-admin");
	struct zcbuf_test_stats before, after;
	int att;

	REQUIRE(fd >= 0 && dev > 0);
	zt_test_stats(tfd, &before);
	REQUIRE(!drop_sys_admin());
	CHECK_EQ(zt_device(tfd, 0, 0, 0, 0, "made-without"), -EPERM);
	zt_test_stats(tfd, &after);
	CHECK_EQ(after.devices, before.devices);
	/* a device made before still works: the check guards creation */
	att = zt_attach(tfd, dev, fd);
	CHECK(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
}

static void devices_per_file_bounded(void)
{
	int tfd = zt_open_test();
	int other = zt_open_test();
	int ids[ZCBUF_TEST_MAX_DEVICES];
	struct zcbuf_test_id id = { 0 };
	struct zcbuf_test_stats before, after;

	zt_test_stats(tfd, &before);
	for (int i = 0; i < ZCBUF_TEST_MAX_DEVICES; i++) {
		ids[i] = zt_device(tfd, 0, 0, 0, 0, NULL);
		REQUIRE(ids[i] > 0);
	}
	CHECK_EQ(zt_device(tfd, 0, 0, 0, 0, NULL), -ENOSPC);
	zt_test_stats(tfd, &after);
	CHECK_EQ(after.devices, before.devices + ZCBUF_TEST_MAX_DEVICES);
	/* the bound is per file */
	CHECK(zt_device(other, 0, 0, 0, 0, NULL) > 0);
	/* and a freed slot can be used again */
	id.id = ids[7];
	CHECK_OK(ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_DESTROY, &id));
	CHECK(zt_device(tfd, 0, 0, 0, 0, NULL) > 0);
	CHECK_EQ(zt_device(tfd, 0, 0, 0, 0, NULL), -ENOSPC);
}

static void attach_bad_arguments(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	struct zcbuf_test_attach a = { 0 };
	int dev = zt_device(tfd, 0, 0, 0, 0, NULL);
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	int pipefd[2];
	int closed;

	REQUIRE(dev > 0 && fd >= 0);
	REQUIRE(!pipe(pipefd));
	closed = dup(fd);
	close(closed);
	CHECK_EQ(zt_attach(tfd, dev, closed), -EBADF);
	CHECK_EQ(zt_attach(tfd, dev, -1), -EBADF);
	/* not dma-bufs */
	CHECK_EQ(zt_attach(tfd, dev, pipefd[0]), -EINVAL);
	CHECK_EQ(zt_attach(tfd, dev, zfd), -EINVAL);
	CHECK_EQ(zt_attach(tfd, dev + 1, fd), -ENOENT);
	CHECK_EQ(zt_attach(tfd, 0, fd), -ENOENT);
	a.dmabuf_fd = fd;
	a.device_id = dev;
	a.reserved = 1;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_ATTACH, &a), EINVAL);
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_ATTACH, NULL), EFAULT);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
}

static void map_bad_arguments(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, NULL);
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	struct zcbuf_test_map m;
	struct zcbuf_test_id id = { 0 };
	int att;

	REQUIRE(dev > 0 && fd >= 0);
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, 3, NULL), -EINVAL);
	CHECK_EQ(zt_map(tfd, att, 99, NULL), -EINVAL);
	CHECK_EQ(zt_map(tfd, att + 1, ZCBUF_TEST_DIR_TO_DEVICE, NULL), -ENOENT);
	memset(&m, 0, sizeof(m));
	m.id = att;
	m.reserved = 1;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_MAP, &m), EINVAL);
	CHECK_EQ(zt_unmap(tfd, att), -EINVAL);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_BIDIRECTIONAL, &m), 0);
	CHECK_EQ(m.length, 64 * KIB);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), -EBUSY);
	CHECK_EQ(zt_detach(tfd, att), -EBUSY);
	id.id = att;
	id.reserved = 1;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_UNMAP, &id), EINVAL);
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_DETACH, &id), EINVAL);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK_EQ(zt_unmap(tfd, att), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_detach(tfd, att), 0);
	CHECK_EQ(zt_detach(tfd, att), -ENOENT);
	/* the result cannot be written back: the mapping is undone */
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	{
		struct zcbuf_test_map *ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		REQUIRE(ro != MAP_FAILED);
		ro->id = att;
		ro->direction = ZCBUF_TEST_DIR_TO_DEVICE;
		REQUIRE(!mprotect(ro, PAGE, PROT_READ));
		CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_MAP, ro), EFAULT);
	}
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
}

static void dma_bad_arguments(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, NULL);
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	int fd2 = zt_alloc(zfd, 64 * KIB, 0, NULL);
	struct zcbuf_test_fill f;
	int rw, rw2, to, from;
	uint32_t crc;

	REQUIRE(dev > 0 && fd >= 0 && fd2 >= 0);
	rw = zt_attach(tfd, dev, fd);
	to = zt_attach(tfd, dev, fd);
	from = zt_attach(tfd, dev, fd);
	rw2 = zt_attach(tfd, dev, fd2);
	REQUIRE(rw > 0 && to > 0 && from > 0 && rw2 > 0);
	/* not mapped yet */
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_CONSTANT, 1, 0, PAGE), -EINVAL);
	CHECK_EQ(zt_checksum(tfd, rw, 0, PAGE, &crc), -EINVAL);
	CHECK_EQ(zt_copy(tfd, rw, rw2, 0, 0, PAGE), -EINVAL);
	REQUIRE(!zt_map(tfd, rw, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	REQUIRE(!zt_map(tfd, to, ZCBUF_TEST_DIR_TO_DEVICE, NULL));
	REQUIRE(!zt_map(tfd, from, ZCBUF_TEST_DIR_FROM_DEVICE, NULL));
	REQUIRE(!zt_map(tfd, rw2, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	/* ranges */
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_CONSTANT, 1, 0, 0), -EINVAL);
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_CONSTANT, 1, 0, 64 * KIB + 1),
		 -EINVAL);
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_CONSTANT, 1, 64 * KIB, 1),
		 -EINVAL);
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_CONSTANT, 1, ~0ULL, 2), -EINVAL);
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_CONSTANT, 1, 4, ~0ULL - 2),
		 -EINVAL);
	CHECK_EQ(zt_checksum(tfd, rw, 1, 64 * KIB, &crc), -EINVAL);
	CHECK_EQ(zt_copy(tfd, rw, rw2, 0, 1, 64 * KIB), -EINVAL);
	/* modes */
	CHECK_EQ(zt_fill(tfd, rw, 2, 1, 0, PAGE), -EINVAL);
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_COUNTER, 1, 2, PAGE), -EINVAL);
	CHECK_EQ(zt_fill(tfd, rw, ZCBUF_TEST_FILL_COUNTER, 1, 0, PAGE + 1),
		 -EINVAL);
	memset(&f, 0, sizeof(f));
	f.id = rw;
	f.length = PAGE;
	f.reserved = 1;
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_FILL, &f), EINVAL);
	/* directions */
	CHECK_EQ(zt_fill(tfd, to, ZCBUF_TEST_FILL_CONSTANT, 1, 0, PAGE), -EACCES);
	CHECK_EQ(zt_checksum(tfd, from, 0, PAGE, &crc), -EACCES);
	CHECK_EQ(zt_copy(tfd, from, rw2, 0, 0, PAGE), -EACCES);
	CHECK_EQ(zt_copy(tfd, rw2, to, 0, 0, PAGE), -EACCES);
	/* ids */
	CHECK_EQ(zt_fill(tfd, 999, ZCBUF_TEST_FILL_CONSTANT, 1, 0, PAGE), -ENOENT);
	CHECK_EQ(zt_copy(tfd, rw, 999, 0, 0, PAGE), -ENOENT);
	CHECK_EQ(zt_checksum(tfd, 999, 0, PAGE, &crc), -ENOENT);
	/* overlapping ranges of one buffer, through one or two attachments */
	CHECK_EQ(zt_copy(tfd, rw, rw, 0, PAGE, 2 * PAGE), -EINVAL);
	CHECK_EQ(zt_copy(tfd, to, from, 2 * PAGE, PAGE, 2 * PAGE), -EINVAL);
	CHECK_EQ(zt_copy(tfd, to, from, 0, 2 * PAGE, 2 * PAGE), 0);
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_CHECKSUM, NULL), EFAULT);
	CHECK_ERR(ioctl(tfd, ZCBUF_TEST_IOC_FILL, (void *)16), EFAULT);
}

/* ---- software DMA on our buffers ---------------------------------------- */

static void device_dma_and_cpu_agree(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, "dma");
	size_t size = 1 * MIB;
	int a = zt_alloc(zfd, size, 0, "a");
	int b = zt_alloc(zfd, size, 0, "b");
	uint32_t crc;
	uint8_t *pa, *pb;
	int ra, rb;

	REQUIRE(dev > 0 && a >= 0 && b >= 0);
	ra = zt_attach(tfd, dev, a);
	rb = zt_attach(tfd, dev, b);
	REQUIRE(ra > 0 && rb > 0);
	REQUIRE(!zt_map(tfd, ra, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	REQUIRE(!zt_map(tfd, rb, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	pa = zt_mmap(a, size, 0);
	pb = zt_mmap(b, size, 0);
	REQUIRE(pa && pb);

	/* device writes, CPU reads */
	CHECK_EQ(zt_fill(tfd, ra, ZCBUF_TEST_FILL_COUNTER, 0xabc00000, 0, size), 0);
	CHECK_EQ(zt_sync(a, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_counter_check(pa, 0xabc00000, 0, size), -1);
	CHECK_EQ(zt_sync(a, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_checksum(tfd, ra, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_counter_crc(0xabc00000, 0, size));
	CHECK_EQ(crc, zt_crc32(0, pa, size));
	/* partial ranges */
	CHECK_EQ(zt_checksum(tfd, ra, 12 * KIB + 8, 100 * KIB, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, pa + 12 * KIB + 8, 100 * KIB));
	CHECK_EQ(zt_fill(tfd, ra, ZCBUF_TEST_FILL_CONSTANT, 0x5a, 3, 5000), 0);
	CHECK_EQ(pa[2], 0xc0);
	CHECK(pa[3] == 0x5a && pa[5002] == 0x5a);
	CHECK_EQ(zt_counter_check(pa + 5004, 0xabc00000, 5004, 4), -1);

	/* CPU writes, device reads */
	CHECK_EQ(zt_sync(b, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
	memset(pb, 0xc3, size);
	CHECK_EQ(zt_sync(b, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
	CHECK_EQ(zt_checksum(tfd, rb, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, pb, size));

	/* device to device */
	CHECK_EQ(zt_copy(tfd, ra, rb, 64 * KIB, 128 * KIB, 256 * KIB), 0);
	CHECK_EQ(memcmp(pb + 128 * KIB, pa + 64 * KIB, 256 * KIB), 0);
	CHECK_EQ(pb[128 * KIB - 1], 0xc3);
	CHECK_EQ(pb[384 * KIB], 0xc3);
}

static void map_segments_follow_device(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int small = zt_device(tfd, 0, PAGE, 0, 0, "4k-segments");
	int big = zt_device(tfd, 0, 4 * MIB, 0, 0, "4m-segments");
	int fd = zt_alloc(zfd, 1 * MIB, ZCBUF_ALLOC_CONTIGUOUS, NULL);
	struct zcbuf_test_map m;
	int att, sc;

	/* single pages that are never contiguous, not chunks that may be */
	zt_set_param("debug_discontiguous", "1");
	sc = zt_alloc(zfd, 1 * MIB, ZCBUF_ALLOC_IMMEDIATE, NULL);
	zt_set_param("debug_discontiguous", "0");

	REQUIRE(small > 0 && big > 0 && fd >= 0 && sc >= 0);
	att = zt_attach(tfd, small, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, &m), 0);
	CHECK_EQ(m.nents, 256);
	CHECK_EQ(m.length, 1 * MIB);
	att = zt_attach(tfd, big, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, &m), 0);
	CHECK_EQ(m.nents, 1);
	CHECK_EQ(m.length, 1 * MIB);
	/* such scattered backing never ends up as one segment */
	att = zt_attach(tfd, big, sc);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, &m), 0);
	CHECK(m.nents > 1);
	CHECK_EQ(m.length, 1 * MIB);
}

static long long cgroup_read(const char *dir, const char *file)
{
	char path[256];
	long long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &value) != 1)
		value = -1;
	fclose(f);
	return value;
}

static int cgroup_write(const char *dir, const char *file, const char *text)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -errno;
}

/*
 * The backing is charged to the allocating task's memory cgroup
 * (__GFP_ACCOUNT), so a container's limit covers its zcbuf buffers: in a
 * cgroup of its own, a child's memory.current grows by the buffer when it
 * allocates one and falls back when it closes it.
 */
static void backing_is_charged_to_the_memory_cgroup(void)
{
	char root[] = "/tmp/zt-cgroup-XXXXXX";
	char group[64];
	int status;
	pid_t pid;

	REQUIRE(mkdtemp(root));
	REQUIRE(!mount("none", root, "cgroup2", 0, NULL));
	CHECK_EQ(cgroup_write(root, "cgroup.subtree_control", "+memory"), 0);
	snprintf(group, sizeof(group), "%s/zt", root);
	REQUIRE(!mkdir(group, 0755));
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		long long before, held, after;
		int zfd, fd;

		if (cgroup_write(group, "cgroup.procs", "0"))
			_exit(10);
		zfd = zt_open_zcbuf();
		before = cgroup_read(group, "memory.current");
		fd = zt_alloc(zfd, 16 * MIB, ZCBUF_ALLOC_IMMEDIATE, NULL);
		if (fd < 0)
			_exit(11);
		held = cgroup_read(group, "memory.current");
		close(fd);
		after = cgroup_read(group, "memory.current");
		printf("# memory.current %lld, %lld with a 16 MiB buffer, %lld after\n",
		       before, held, after);
		fflush(stdout);
		if (before < 0 || held - before < (long long)(16 * MIB))
			_exit(12);
		if (after - before >= (long long)MIB)
			_exit(13);
		_exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK(!rmdir(group));
	CHECK(!umount(root));
	CHECK(!rmdir(root));
}

/* A 4K NV12 frame, scattered: made of high-order blocks, as the system heap. */
static void scattered_backing_uses_high_order_chunks(void)
{
	int zfd = zt_open_zcbuf();
	uint64_t size = 3840ULL * 2160 * 3 / 2;
	uint64_t pages = (size + PAGE - 1) / PAGE;
	long long chunks;
	int fd;

	fd = zt_alloc(zfd, size, ZCBUF_ALLOC_IMMEDIATE, NULL);
	REQUIRE(fd >= 0);
	chunks = zt_debugfs_num(zt_ino(fd), "chunks");
	zt_note("%llu pages in %lld chunks", (unsigned long long)pages, chunks);
	/* order-4 blocks at least, order-8 where the allocator has them */
	CHECK(chunks > 0 && chunks <= (long long)(pages / 16 + 16));
	close(fd);
	/* the test-only parameter gives single pages */
	zt_set_param("debug_discontiguous", "1");
	fd = zt_alloc(zfd, size, ZCBUF_ALLOC_IMMEDIATE, NULL);
	zt_set_param("debug_discontiguous", "0");
	REQUIRE(fd >= 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "chunks"), pages);
	/* contiguous backing is one chunk; deferred backing none yet */
	close(fd);
	fd = zt_alloc(zfd, 4 * MIB, ZCBUF_ALLOC_CONTIGUOUS |
		      ZCBUF_ALLOC_IMMEDIATE, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "chunks"), 1);
	close(fd);
	fd = zt_alloc(zfd, 4 * MIB, 0, NULL);
	REQUIRE(fd >= 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "chunks"), 0);
}

/* ---- deferred allocation and migration -------------------------------------- */

static int backing_is(int fd, const char *kind)
{
	char buf[32];

	if (zt_debugfs_str(zt_ino(fd), "backing", buf, sizeof(buf)))
		return 0;
	return !strcmp(buf, kind);
}

static void deferred_until_first_use(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, NULL);
	struct zcbuf_stats s0, s1;
	int fd, att;
	uint8_t *p;

	REQUIRE(dev > 0);
	zt_stats(zfd, &s0);
	/* first map */
	fd = zt_alloc(zfd, 256 * KIB, 0, "deferred");
	REQUIRE(fd >= 0);
	zt_stats(zfd, &s1);
	CHECK_EQ(s1.deferred, s0.deferred + 1);
	CHECK_EQ(s1.bytes, s0.bytes);
	CHECK(backing_is(fd, "deferred"));
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	CHECK(backing_is(fd, "deferred"));
	p = zt_mmap(fd, 256 * KIB, 0);
	REQUIRE(p);
	CHECK(backing_is(fd, "deferred"));
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	CHECK(backing_is(fd, "pages"));
	zt_stats(zfd, &s1);
	CHECK_EQ(s1.deferred, s0.deferred);
	CHECK_EQ(s1.bytes, s0.bytes + 256 * KIB);
	close(fd);

	/* first fault */
	fd = zt_alloc(zfd, 256 * KIB, 0, NULL);
	REQUIRE(fd >= 0);
	p = zt_mmap(fd, 256 * KIB, 0);
	REQUIRE(p);
	CHECK(backing_is(fd, "deferred"));
	CHECK_EQ(p[100], 0);
	CHECK(backing_is(fd, "pages"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "mmaps"), 1);
	munmap(p, 256 * KIB);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "mmaps"), 0);
	close(fd);

	/* first begin_cpu_access */
	fd = zt_alloc(zfd, 256 * KIB, ZCBUF_ALLOC_CONTIGUOUS, NULL);
	REQUIRE(fd >= 0);
	CHECK(backing_is(fd, "deferred"));
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK(backing_is(fd, "contiguous"));
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	close(fd);

	/* unless asked for at once */
	fd = zt_alloc(zfd, 256 * KIB, ZCBUF_ALLOC_IMMEDIATE, NULL);
	REQUIRE(fd >= 0);
	CHECK(backing_is(fd, "pages"));
}

static void contiguous_device_before_first_map(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int sdev = zt_device(tfd, 0, 4 * MIB, 0, 0, "scattered");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 4 * MIB, 0, 0,
			     "contig");
	int fd = zt_alloc(zfd, 2 * MIB, 0, NULL);
	struct zcbuf_test_map m;
	int sa, ca;

	REQUIRE(sdev > 0 && cdev > 0 && fd >= 0);
	sa = zt_attach(tfd, sdev, fd);
	ca = zt_attach(tfd, cdev, fd);
	REQUIRE(sa > 0 && ca > 0);
	CHECK(backing_is(fd, "deferred"));
	/* the first map collates both devices: contiguous from the start */
	CHECK_EQ(zt_map(tfd, sa, ZCBUF_TEST_DIR_BIDIRECTIONAL, &m), 0);
	CHECK(backing_is(fd, "contiguous"));
	CHECK_EQ(m.nents, 1);
	CHECK_EQ(zt_map(tfd, ca, ZCBUF_TEST_DIR_BIDIRECTIONAL, &m), 0);
	CHECK_EQ(m.nents, 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 2);
	/* an aligned device needs contiguous backing too */
	close(fd);
	fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	REQUIRE(fd >= 0);
	sa = zt_device(tfd, 0, 0, 0, 1 * MIB, "aligned");
	REQUIRE(sa > 0);
	ca = zt_attach(tfd, sa, fd);
	REQUIRE(ca > 0);
	CHECK_EQ(zt_map(tfd, ca, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL), 0);
	CHECK(backing_is(fd, "contiguous"));
}

static void contiguous_device_after_first_map_migrates(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int sdev = zt_device(tfd, 0, 0, 0, 0, "scattered");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 4 * MIB, 0, 0,
			     "contig");
	size_t size = 3 * MIB;
	int fd = zt_alloc(zfd, size, 0, "migrating");
	struct zcbuf_stats s0, s1;
	uint32_t crc_before, crc;
	struct zcbuf_test_map m;
	uint8_t *cpu;
	int sa, ca;

	REQUIRE(sdev > 0 && cdev > 0 && fd >= 0);
	sa = zt_attach(tfd, sdev, fd);
	REQUIRE(sa > 0);
	REQUIRE(!zt_map(tfd, sa, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	CHECK(backing_is(fd, "pages"));
	REQUIRE(!zt_fill(tfd, sa, ZCBUF_TEST_FILL_COUNTER, 0x10000, 0, size));
	REQUIRE(!zt_checksum(tfd, sa, 0, size, &crc_before));
	/* a CPU mapping made before the migration, already faulted in */
	cpu = zt_mmap(fd, size, 0);
	REQUIRE(cpu);
	CHECK_EQ(zt_counter_check(cpu, 0x10000, 0, size), -1);
	REQUIRE(!zt_unmap(tfd, sa));

	zt_stats(zfd, &s0);
	ca = zt_attach(tfd, cdev, fd);
	CHECK(ca > 0);
	zt_stats(zfd, &s1);
	CHECK_EQ(s1.migrations, s0.migrations + 1);
	CHECK(backing_is(fd, "contiguous"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 1);
	/* the contents moved, and the old mapping follows them */
	CHECK_EQ(zt_counter_check(cpu, 0x10000, 0, size), -1);
	REQUIRE(ca > 0);
	CHECK_EQ(zt_map(tfd, ca, ZCBUF_TEST_DIR_BIDIRECTIONAL, &m), 0);
	CHECK_EQ(m.nents, 1);
	CHECK_EQ(zt_checksum(tfd, ca, 0, size, &crc), 0);
	CHECK_EQ(crc, crc_before);
	/* writes through the old mapping land in the new backing */
	cpu[5] = 0xee;
	CHECK_EQ(zt_fill(tfd, ca, ZCBUF_TEST_FILL_CONSTANT, 0x77, 8, 4), 0);
	CHECK_EQ(cpu[8], 0x77);
	CHECK_EQ(zt_checksum(tfd, ca, 4, 4, &crc), 0);
	{
		uint8_t expect[4] = { cpu[4], 0xee, cpu[6], cpu[7] };

		CHECK_EQ(crc, zt_crc32(0, expect, 4));
	}
	/* the scattered device maps the new backing as well */
	CHECK_EQ(zt_map(tfd, sa, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	CHECK_EQ(zt_checksum(tfd, sa, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, cpu, size));
}

static void contiguous_device_while_mapped_is_busy(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int sdev = zt_device(tfd, 0, 0, 0, 0, "scattered");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "contig");
	size_t size = 1 * MIB;
	int fd = zt_alloc(zfd, size, 0, NULL);
	struct zcbuf_stats s0, s1;
	uint32_t crc;
	int sa;

	REQUIRE(sdev > 0 && cdev > 0 && fd >= 0);
	sa = zt_attach(tfd, sdev, fd);
	REQUIRE(sa > 0);
	REQUIRE(!zt_map(tfd, sa, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	REQUIRE(!zt_fill(tfd, sa, ZCBUF_TEST_FILL_COUNTER, 7, 0, size));
	zt_stats(zfd, &s0);
	CHECK_EQ(zt_attach(tfd, cdev, fd), -EBUSY);
	zt_stats(zfd, &s1);
	CHECK_EQ(s1.migrations, s0.migrations);
	CHECK_EQ(s1.attachments, s0.attachments);
	CHECK(backing_is(fd, "pages"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 1);
	CHECK_EQ(zt_checksum(tfd, sa, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_counter_crc(7, 0, size));
	/* once unmapped, the same attach migrates */
	REQUIRE(!zt_unmap(tfd, sa));
	CHECK(zt_attach(tfd, cdev, fd) > 0);
	CHECK(backing_is(fd, "contiguous"));
}

static void constraints_nothing_can_meet(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int sdev = zt_device(tfd, 0, 0, 0, 0, "scattered");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "contig");
	int fd = zt_alloc(zfd, 8 * MIB, 0, NULL);
	int sa;

	REQUIRE(sdev > 0 && cdev > 0 && fd >= 0);
	/* deferred: refused at attach, before anything is allocated */
	CHECK_EQ(zt_attach(tfd, cdev, fd), -ENOMEM);
	CHECK(backing_is(fd, "deferred"));
	sa = zt_attach(tfd, sdev, fd);
	REQUIRE(sa > 0);
	REQUIRE(!zt_map(tfd, sa, ZCBUF_TEST_DIR_TO_DEVICE, NULL));
	REQUIRE(!zt_unmap(tfd, sa));
	/* backed: refused, nothing migrates */
	CHECK_EQ(zt_attach(tfd, cdev, fd), -ENOMEM);
	CHECK(backing_is(fd, "pages"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 1);
}

/* ---- dynamic importers ------------------------------------------------------ */

/*
 * zcbuf is a static exporter: the 6.1 core maps a dynamic importer's
 * attachment BIDIRECTIONAL at attach and keeps it until detach, so for
 * that importer there is no deferral, and while it stays attached the
 * backing is pinned: a stricter attach gets EBUSY instead of a migration.
 */
static void dynamic_importer_maps_at_attach(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dyn = zt_device(tfd, ZCBUF_TEST_DEVICE_DYNAMIC, 0, 0, 0, "dynamic");
	int stat = zt_device(tfd, 0, 0, 0, 0, "static");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "c");
	int fd = zt_alloc(zfd, 256 * KIB, 0, NULL);
	struct zcbuf_test_stats ts;
	struct zcbuf_test_map m;
	int s, d, c;

	REQUIRE(dyn > 0 && stat > 0 && cdev > 0 && fd >= 0);
	/* a static importer's attach leaves the buffer deferred */
	s = zt_attach(tfd, stat, fd);
	REQUIRE(s > 0);
	CHECK(backing_is(fd, "deferred"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	/* a dynamic importer's attach allocates and maps at once */
	d = zt_attach(tfd, dyn, fd);
	REQUIRE(d > 0);
	CHECK(backing_is(fd, "pages"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	/* MAP hands out the core's mapping; UNMAP leaves it in place */
	CHECK_EQ(zt_map(tfd, d, ZCBUF_TEST_DIR_TO_DEVICE, &m), 0);
	CHECK_EQ(m.length, 256 * KIB);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK_EQ(zt_unmap(tfd, d), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	/* pinned: no migration for a device that needs contiguity */
	CHECK_EQ(zt_attach(tfd, cdev, fd), -EBUSY);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 0);
	/* a static exporter never moves a buffer under its importers */
	zt_test_stats(tfd, &ts);
	CHECK_EQ(ts.move_notifies, 0);
	/* once the dynamic importer detaches, the migration happens */
	CHECK_EQ(zt_detach(tfd, d), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	c = zt_attach(tfd, cdev, fd);
	CHECK(c > 0);
	CHECK(backing_is(fd, "contiguous"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 1);
}

/*
 * A read-only buffer is mapped BIDIRECTIONAL by the core for a dynamic
 * importer, like for any DRM importer: allowed. Writing is still the
 * importer's to refuse.
 */
static void dynamic_importer_on_readonly_buffer(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dyn = zt_device(tfd, ZCBUF_TEST_DEVICE_DYNAMIC, 0, 0, 0, "dynamic");
	int fd = zt_alloc(zfd, 64 * KIB, ZCBUF_ALLOC_READONLY, NULL);
	uint32_t crc;
	uint8_t *p;
	int d;

	REQUIRE(dyn > 0 && fd >= 0);
	d = zt_attach(tfd, dyn, fd);
	REQUIRE(d > 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK_EQ(zt_map(tfd, d, ZCBUF_TEST_DIR_FROM_DEVICE, NULL), -EACCES);
	CHECK_EQ(zt_map(tfd, d, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL), -EACCES);
	CHECK_EQ(zt_map(tfd, d, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	CHECK_EQ(zt_checksum(tfd, d, 0, 64 * KIB, &crc), 0);
	p = zt_mmap(fd, 64 * KIB, 1);
	REQUIRE(p);
	CHECK_EQ(crc, zt_crc32(0, p, 64 * KIB));
}

/*
 * ZCBUF_ALLOC_DYNAMIC swaps the costs: a dynamic importer's attach leaves
 * the buffer deferred, its map allocates and pins (the core pins while it
 * is mapped, CONFIG_DMABUF_MOVE_NOTIFY being off in 6.1's Debian config),
 * and between its maps the backing may migrate, which it is told of by
 * move_notify.
 */
static void dynamic_export_defers_for_a_dynamic_importer(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dyn = zt_device(tfd, ZCBUF_TEST_DEVICE_DYNAMIC, 0, 0, 0, "dynamic");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "c");
	int fd = zt_alloc(zfd, 256 * KIB, ZCBUF_ALLOC_DYNAMIC, NULL);
	struct zcbuf_test_stats before, after;
	uint32_t crc, again;
	uint8_t *expected, *p;
	int d;

	REQUIRE(dyn > 0 && cdev > 0 && fd >= 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "dynamic"), 1);
	d = zt_attach(tfd, dyn, fd);
	REQUIRE(d > 0);
	CHECK(backing_is(fd, "deferred"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 0);
	/* its map allocates, and pins while it lasts */
	REQUIRE(!zt_map(tfd, d, ZCBUF_TEST_DIR_FROM_DEVICE, NULL));
	CHECK(backing_is(fd, "pages"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 1);
	REQUIRE(!zt_fill(tfd, d, ZCBUF_TEST_FILL_CONSTANT, 0x5a, 0, 256 * KIB));
	expected = malloc(256 * KIB);
	REQUIRE(expected);
	memset(expected, 0x5a, 256 * KIB);
	crc = zt_crc32(0, expected, 256 * KIB);
	free(expected);
	CHECK_EQ(zt_attach(tfd, cdev, fd), -EBUSY);
	REQUIRE(!zt_unmap(tfd, d));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 0);
	/* unmapped: a stricter device makes it migrate, and it is told */
	zt_test_stats(tfd, &before);
	CHECK(zt_attach(tfd, cdev, fd) > 0);
	CHECK(backing_is(fd, "contiguous"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 1);
	zt_test_stats(tfd, &after);
	CHECK_EQ(after.move_notifies - before.move_notifies, 1);
	/* its next map sees the same bytes in the new place */
	REQUIRE(!zt_map(tfd, d, ZCBUF_TEST_DIR_TO_DEVICE, NULL));
	CHECK_EQ(zt_checksum(tfd, d, 0, 256 * KIB, &again), 0);
	CHECK_EQ(again, crc);
	p = zt_mmap(fd, 256 * KIB, 1);
	REQUIRE(p);
	CHECK_EQ(p[0], 0x5a);
	CHECK_EQ(p[256 * KIB - 1], 0x5a);
}

/*
 * The cost of a dynamic export falls on static importers: the core pins
 * and maps them at attach, so there is no deferral, and until they detach
 * a stricter device gets EBUSY instead of a migration. A read-only buffer
 * is still mapped (BIDIRECTIONAL, by the core).
 */
static void dynamic_export_pins_static_importers_at_attach(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int stat = zt_device(tfd, 0, 0, 0, 0, "static");
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "c");
	int fd = zt_alloc(zfd, 256 * KIB, ZCBUF_ALLOC_DYNAMIC, NULL);
	int ro = zt_alloc(zfd, 64 * KIB,
			  ZCBUF_ALLOC_DYNAMIC | ZCBUF_ALLOC_READONLY, NULL);
	int s;

	REQUIRE(stat > 0 && cdev > 0 && fd >= 0 && ro >= 0);
	s = zt_attach(tfd, stat, fd);
	REQUIRE(s > 0);
	CHECK(backing_is(fd, "pages"));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 1);
	CHECK_EQ(zt_attach(tfd, cdev, fd), -EBUSY);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 0);
	CHECK_EQ(zt_detach(tfd, s), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 0);
	CHECK(zt_attach(tfd, cdev, fd) > 0);
	CHECK(backing_is(fd, "contiguous"));
	/* read-only: the core's mapping at attach succeeds */
	CHECK(zt_attach(tfd, stat, ro) > 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(ro), "maps"), 1);
}

/* ---- read-only export ------------------------------------------------------ */

static void readonly_export(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, NULL);
	int fd = zt_alloc(zfd, 64 * KIB, ZCBUF_ALLOC_READONLY, "ro");
	uint32_t crc;
	uint8_t *p;
	int att;

	REQUIRE(dev > 0 && fd >= 0);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "readonly"), 1);
	CHECK(mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
	      == MAP_FAILED && errno == EACCES);
	p = zt_mmap(fd, 64 * KIB, 1);
	if (!p)
		zt_note("mmap PROT_READ: %s", strerror(errno));
	REQUIRE(p);
	CHECK(all_zero(p, 64 * KIB));
	CHECK_ERR(mprotect(p, 64 * KIB, PROT_READ | PROT_WRITE), EACCES);
	/* SYNC does not look at the file mode: the exporter does */
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), -EACCES);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW), -EACCES);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "cpu_accesses"), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	/* the test importer refuses to write through an O_RDONLY file */
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_FROM_DEVICE, NULL), -EACCES);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL), -EACCES);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	CHECK_EQ(zt_checksum(tfd, att, 0, 64 * KIB, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, p, 64 * KIB));
}

/* ---- lifetime ------------------------------------------------------------- */

static int send_fd(int sock, int fd)
{
	char data = 'z';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void buffer_outlives_exporting_process(void)
{
	size_t size = 512 * KIB;
	int sv[2], status, fd;
	uint8_t *p;
	pid_t pid;

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int zfd = open("/dev/zcbuf", O_RDWR);
		int b = zfd < 0 ? -1 : zt_alloc(zfd, size, 0, "from-child");
		uint8_t *q = b < 0 ? NULL : zt_mmap(b, size, 0);

		if (!q)
			_exit(1);
		zt_counter_fill(q, 0xc0de, 0, size);
		_exit(send_fd(sv[1], b) ? 1 : 0);
	}
	close(sv[1]);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the exporter, its /dev/zcbuf and its mapping are gone */
	fd = recv_fd(sv[0]);
	REQUIRE(fd >= 0);
	CHECK(zt_debugfs_line(zt_ino(fd)) != NULL);
	CHECK(fdinfo_has(fd, "name:\tfrom-child"));
	p = zt_mmap(fd, size, 1);
	REQUIRE(p);
	CHECK_EQ(zt_counter_check(p, 0xc0de, 0, size), -1);
	/* the last mapping keeps it alive without any fd */
	{
		ino_t ino = zt_ino(fd);

		close(fd);
		CHECK(zt_debugfs_line(ino) != NULL);
		CHECK_EQ(zt_counter_check(p, 0xc0de, 0, size), -1);
		munmap(p, size);
		CHECK(zt_debugfs_line(ino) == NULL);
	}
}

static void closing_devfile_releases_devices(void)
{
	int tfd = zt_open_test();
	int tkeep = zt_open_test();
	int keep = zt_open_zcbuf();
	int fd = zt_alloc(keep, 64 * KIB, 0, NULL);
	struct zcbuf_test_stats t0, t1;
	struct zcbuf_stats s0, s1;
	int dev, att;

	REQUIRE(fd >= 0);
	zt_stats(keep, &s0);
	zt_test_stats(tkeep, &t0);
	dev = zt_device(tfd, 0, 0, 0, 0, "dies-with-file");
	REQUIRE(dev > 0);
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	REQUIRE(!zt_map(tfd, att, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL));
	zt_stats(keep, &s1);
	zt_test_stats(tkeep, &t1);
	CHECK_EQ(t1.devices, t0.devices + 1);
	CHECK_EQ(t1.attachments, t0.attachments + 1);
	CHECK_EQ(s1.attachments, s0.attachments + 1);
	CHECK_EQ(s1.maps, s0.maps + 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 1);
	close(tfd);
	zt_stats(keep, &s1);
	zt_test_stats(tkeep, &t1);
	CHECK_EQ(t1.devices, t0.devices);
	CHECK_EQ(t1.attachments, t0.attachments);
	CHECK_EQ(s1.attachments, s0.attachments);
	CHECK_EQ(s1.maps, s0.maps);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
}

static void stats_track_buffers(void)
{
	int zfd = zt_open_zcbuf();
	struct zcbuf_stats s0, s1;
	int a, b;

	zt_stats(zfd, &s0);
	CHECK_EQ(s0.buffers, 0);
	CHECK_EQ(s0.bytes, 0);
	for (size_t i = 0; i < sizeof(s0.reserved) / sizeof(s0.reserved[0]); i++)
		CHECK_EQ(s0.reserved[i], 0);
	a = zt_alloc(zfd, 128 * KIB, ZCBUF_ALLOC_IMMEDIATE, NULL);
	b = zt_alloc(zfd, 64 * KIB, ZCBUF_ALLOC_CONTIGUOUS |
		     ZCBUF_ALLOC_IMMEDIATE, NULL);
	REQUIRE(a >= 0 && b >= 0);
	zt_stats(zfd, &s1);
	CHECK_EQ(s1.buffers, 2);
	CHECK_EQ(s1.bytes, 192 * KIB);
	CHECK_EQ(s1.contiguous, 1);
	CHECK_EQ(s1.deferred, 0);
	close(a);
	close(b);
	zt_stats(zfd, &s1);
	CHECK_EQ(s1.buffers, 0);
	CHECK_EQ(s1.bytes, 0);
	CHECK_EQ(s1.contiguous, 0);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

/* ---- rmmod (last: it unloads and reloads the module) -------------------- */

static int delete_zcbuf(void)
{
	return syscall(SYS_delete_module, "zcbuf", O_NONBLOCK);
}

static void rmmod_refused_while_buffers_live(void)
{
	const char *ko = getenv("ZCBUF_KO");
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	uint8_t *p;
	int kofd;

	REQUIRE(fd >= 0);
	REQUIRE(ko);
	CHECK_ERR(delete_zcbuf(), EWOULDBLOCK);
	close(zfd);
	/* a buffer alone */
	CHECK_ERR(delete_zcbuf(), EWOULDBLOCK);
	p = zt_mmap(fd, 64 * KIB, 0);
	REQUIRE(p);
	p[0] = 1;
	close(fd);
	/* a mapping alone */
	CHECK_ERR(delete_zcbuf(), EWOULDBLOCK);
	CHECK_EQ(zt_debugfs_buffers(), 1);
	munmap(p, 64 * KIB);
	/* nothing left: accepted */
	CHECK_EQ(delete_zcbuf(), 0);
	CHECK(access("/dev/zcbuf", F_OK) != 0);
	/* and back, for whatever runs next */
	kofd = open(ko, O_RDONLY | O_CLOEXEC);
	REQUIRE(kofd >= 0);
	CHECK_EQ(syscall(SYS_finit_module, kofd, "", 0), 0);
	for (int i = 0; i < 100 && access("/dev/zcbuf", F_OK); i++)
		usleep(10000);
	CHECK_EQ(access("/dev/zcbuf", F_OK), 0);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

static const struct zt_case cases[] = {
	ZT_CASE(alloc_fd_properties),
	ZT_CASE(alloc_size_rounded_up),
	ZT_CASE(mmap_zero_filled),
	ZT_CASE(mmap_write_read_back),
	ZT_CASE(sync_flags),
	ZT_CASE(fdinfo_names),
	ZT_CASE(set_name_limits),
	ZT_CASE(mmap_bounds_and_offset),
	ZT_CASE(ioctl_unknown_and_sizes),
	ZT_CASE(alloc_bad_arguments),
	ZT_CASE(alloc_efault_loses_nothing),
	ZT_CASE(alloc_limits),
	ZT_CASE(device_create_bad_arguments),
	ZT_CASE(device_destroy_and_ids),
	ZT_CASE(device_create_needs_sys_admin),
	ZT_CASE(devices_per_file_bounded),
	ZT_CASE(attach_bad_arguments),
	ZT_CASE(map_bad_arguments),
	ZT_CASE(dma_bad_arguments),
	ZT_CASE(device_dma_and_cpu_agree),
	ZT_CASE(map_segments_follow_device),
	ZT_CASE(scattered_backing_uses_high_order_chunks),
	ZT_CASE(backing_is_charged_to_the_memory_cgroup),
	ZT_CASE(deferred_until_first_use),
	ZT_CASE(contiguous_device_before_first_map),
	ZT_CASE(contiguous_device_after_first_map_migrates),
	ZT_CASE(contiguous_device_while_mapped_is_busy),
	ZT_CASE(constraints_nothing_can_meet),
	ZT_CASE(dynamic_importer_maps_at_attach),
	ZT_CASE(dynamic_export_defers_for_a_dynamic_importer),
	ZT_CASE(dynamic_export_pins_static_importers_at_attach),
	ZT_CASE(dynamic_importer_on_readonly_buffer),
	ZT_CASE(readonly_export),
	ZT_CASE(buffer_outlives_exporting_process),
	ZT_CASE(closing_devfile_releases_devices),
	ZT_CASE(stats_track_buffers),
	ZT_CASE(rmmod_refused_while_buffers_live),
};

int main(int argc, char **argv)
{
	return zt_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
