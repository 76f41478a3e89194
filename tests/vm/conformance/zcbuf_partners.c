// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * zcbuf.ko with the real drivers of the guest: our buffers imported by vgem
 * (PRIME, fences) and by vivid (V4L2 DMABUF capture, through vmap for
 * allocators=0 and through a contiguous device mapping for allocators=1),
 * and our virtual device doing DMA on buffers that vgem, vivid,
 * virtio-gpu, vicodec and vim2m export.
 * Runs in the guest: vm-run --module zcbuf --module zcbuf_test --modprobe vgem
 *   --modprobe virtio_gpu --modprobe vivid:n_devs=2,allocators=0,1,...
 *   --modprobe vicodec --modprobe vim2m --
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libdrm/drm.h>
#include <libdrm/drm_mode.h>
#include <linux/videodev2.h>

/* vgem's two ioctls (uapi drm/vgem_drm.h, not shipped by libdrm) */
struct drm_vgem_fence_attach {
	__u32 handle;
	__u32 flags;
	__u32 out_fence;
	__u32 pad;
};

struct drm_vgem_fence_signal {
	__u32 fence;
	__u32 flags;
};

#define VGEM_FENCE_WRITE 0x1
#define DRM_IOCTL_VGEM_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct drm_vgem_fence_signal)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- DRM ------------------------------------------------------------------ */

/* Opens the primary node of the DRM driver called name. */
static int open_drm(const char *name)
{
	for (int i = 0; i < 8; i++) {
		char path[32], drv[32] = "";
		struct drm_version v = { .name = drv, .name_len = sizeof(drv) - 1 };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(drv, name))
			return fd;
		close(fd);
	}
	zt_fail(__FILE__, __LINE__, "no DRM device %s", name);
	zt_end_case();
}

struct dumb {
	uint32_t handle;
	uint64_t size;
	uint8_t *map;
};

static void dumb_create(int drm, uint32_t width, uint32_t height,
			struct dumb *d)
{
	struct drm_mode_create_dumb c = { .width = width, .height = height,
					  .bpp = 32 };
	struct drm_mode_map_dumb m = { 0 };

	REQUIRE(!ioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	d->handle = c.handle;
	d->size = c.size;
	m.handle = c.handle;
	REQUIRE(!ioctl(drm, DRM_IOCTL_MODE_MAP_DUMB, &m));
	d->map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, drm,
		      m.offset);
	REQUIRE(d->map != MAP_FAILED);
}

static int prime_export(int drm, uint32_t handle)
{
	struct drm_prime_handle p = { .handle = handle,
				      .flags = DRM_CLOEXEC | DRM_RDWR };

	if (ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p))
		return -errno;
	return p.fd;
}

static int prime_import(int drm, int fd, uint32_t *handle)
{
	struct drm_prime_handle p = { .fd = fd };

	if (ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p))
		return -errno;
	*handle = p.handle;
	return 0;
}

static void gem_close(int drm, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	CHECK_OK(ioctl(drm, DRM_IOCTL_GEM_CLOSE, &c));
}

/*
 * Our device fills a foreign dma-buf through its mapping, the CPU sees it
 * through cpu (the exporter's own mapping), and the other way round.
 */
static void device_dma_on_foreign(int fd, uint8_t *cpu, size_t size)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, "importer");
	struct zcbuf_test_map m;
	uint32_t crc;
	int att;

	REQUIRE(dev > 0);
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_BIDIRECTIONAL, &m), 0);
	CHECK(m.length >= size);
	CHECK_EQ(zt_fill(tfd, att, ZCBUF_TEST_FILL_COUNTER, 0x5eed0000, 0, size), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_counter_check(cpu, 0x5eed0000, 0, size), -1);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_checksum(tfd, att, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_counter_crc(0x5eed0000, 0, size));

	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
	for (size_t i = 0; i < size; i++)
		cpu[i] = (uint8_t)(i * 7 + 3);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
	CHECK_EQ(zt_checksum(tfd, att, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, cpu, size));
	CHECK_EQ(zt_unmap(tfd, att), 0);
	CHECK_EQ(zt_detach(tfd, att), 0);
	close(zfd);
}

/* ---- vgem ------------------------------------------------------------------ */

static void vgem_imports_our_buffer(void)
{
	int vgem = open_drm("vgem");
	int zfd = zt_open_zcbuf();
	size_t size = 1 * MIB;
	int fd = zt_alloc(zfd, size, 0, "to-vgem");
	char dev[32];
	uint32_t handle = 0;

	REQUIRE(fd >= 0);
	CHECK(zt_debugfs_num(zt_ino(fd), "attachments") == 0);
	REQUIRE(!prime_import(vgem, fd, &handle));
	/* vgem attached its device and mapped at once */
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK(zt_debugfs_line(zt_ino(fd)) != NULL);
	{
		FILE *f = fopen("/sys/kernel/debug/zcbuf/buffers", "r");
		char line[512];
		int seen = 0;

		REQUIRE(f);
		while (fgets(line, sizeof(line), f))
			seen |= sscanf(line, "  attach dev=%31s", dev) == 1 &&
				!strcmp(dev, "vgem");
		fclose(f);
		CHECK(seen);
	}
	/* the import allocated the backing */
	{
		char kind[32];

		CHECK_EQ(zt_debugfs_str(zt_ino(fd), "backing", kind,
					sizeof(kind)), 0);
		CHECK(!strcmp(kind, "pages"));
	}
	gem_close(vgem, handle);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
}

/*
 * A dynamic export (ZCBUF_ALLOC_DYNAMIC) to vgem, a static importer: the
 * core pins and maps it at import, and the pin goes with the import.
 */
static void vgem_imports_a_dynamic_export(void)
{
	int vgem = open_drm("vgem");
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 256 * KIB, ZCBUF_ALLOC_DYNAMIC, NULL);
	uint32_t handle = 0;

	REQUIRE(fd >= 0);
	REQUIRE(!prime_import(vgem, fd, &handle));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 1);
	gem_close(vgem, handle);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "pins"), 0);
}

static void vgem_reexport_writes_read_back(void)
{
	int vgem = open_drm("vgem");
	int zfd = zt_open_zcbuf();
	size_t size = 256 * KIB;
	int fd = zt_alloc(zfd, size, 0, NULL);
	struct drm_mode_map_dumb m = { 0 };
	uint8_t *ours, *theirs;
	uint32_t handle = 0;
	int back;

	REQUIRE(fd >= 0);
	REQUIRE(!prime_import(vgem, fd, &handle));
	/* importing twice gives the same handle */
	{
		uint32_t again = 0;

		CHECK(!prime_import(vgem, fd, &again) && again == handle);
	}
	/* vgem exports an imported object as the original dma-buf */
	back = prime_export(vgem, handle);
	REQUIRE(back >= 0);
	CHECK_EQ(zt_ino(back), zt_ino(fd));
	theirs = zt_mmap(back, size, 0);
	ours = zt_mmap(fd, size, 1);
	REQUIRE(theirs && ours);
	CHECK_EQ(zt_sync(back, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE), 0);
	zt_counter_fill(theirs, 0xfeed, 0, size);
	CHECK_EQ(zt_sync(back, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), 0);
	CHECK_EQ(zt_counter_check(ours, 0xfeed, 0, size), -1);
	/* vgem refuses to mmap imported objects itself (drm_gem_dumb_map_offset) */
	m.handle = handle;
	CHECK_ERR(ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &m), EINVAL);
}

/*
 * A read-only export is read-only to user space, not to devices: vgem maps
 * it BIDIRECTIONAL (every DRM PRIME importer does), and that is allowed.
 */
static void vgem_imports_readonly(void)
{
	int vgem = open_drm("vgem");
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	size_t size = 64 * KIB;
	int fd = zt_alloc(zfd, size, ZCBUF_ALLOC_READONLY, NULL);
	int dev = zt_device(tfd, 0, 0, 0, 0, "reader");
	uint32_t handle = 0, crc;
	uint8_t *p;
	int back, att;

	REQUIRE(fd >= 0 && dev > 0);
	REQUIRE(!prime_import(vgem, fd, &handle));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 1);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 1);
	/* vgem's re-export is the same read-only file */
	back = prime_export(vgem, handle);
	REQUIRE(back >= 0);
	CHECK_EQ(zt_ino(back), zt_ino(fd));
	CHECK_EQ(fcntl(back, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, back, 0) ==
	      MAP_FAILED && errno == EACCES);
	CHECK_EQ(zt_sync(back, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE),
		 -EACCES);
	p = zt_mmap(back, size, 1);
	REQUIRE(p);
	CHECK_EQ(zt_sync(back, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	for (size_t i = 0; i < size; i++)
		if (p[i])
			REQUIRE(!"a read-only buffer is zero-filled");
	CHECK_EQ(zt_sync(back, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	/* a second importer reads it while vgem holds its mapping */
	att = zt_attach(tfd, dev, back);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL), -EACCES);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	CHECK_EQ(zt_checksum(tfd, att, 0, size, &crc), 0);
	CHECK_EQ(crc, zt_crc32(0, p, size));
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 2);
	CHECK_EQ(zt_unmap(tfd, att), 0);
	CHECK_EQ(zt_detach(tfd, att), 0);
	gem_close(vgem, handle);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
}

struct sync_thread {
	int fd;
	int ret;
	int done;
	double done_at;
};

static void *sync_start_read(void *arg)
{
	struct sync_thread *t = arg;

	t->ret = zt_sync(t->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	t->done_at = now();
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void *sync_start_read_once(void *arg)
{
	struct sync_thread *t = arg;
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START |
					    DMA_BUF_SYNC_READ };

	t->ret = ioctl(t->fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void vgem_fence_makes_sync_and_poll_wait(void)
{
	int vgem = open_drm("vgem");
	int zfd = zt_open_zcbuf();
	int fd = zt_alloc(zfd, 64 * KIB, 0, NULL);
	struct drm_vgem_fence_attach fa = { 0 };
	struct drm_vgem_fence_signal fs = { 0 };
	struct sync_thread t = { 0 };
	struct pollfd p;
	pthread_t th;
	double signalled;
	uint32_t handle = 0;

	REQUIRE(fd >= 0);
	REQUIRE(!prime_import(vgem, fd, &handle));
	p.fd = fd;
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, 0), 1);
	fa.handle = handle;
	fa.flags = VGEM_FENCE_WRITE;
	REQUIRE(!ioctl(vgem, DRM_IOCTL_VGEM_FENCE_ATTACH, &fa));
	/* the write fence sits in our buffer's reservation object */
	CHECK_EQ(poll(&p, 1, 100), 0);
	p.events = POLLOUT;
	CHECK_EQ(poll(&p, 1, 0), 0);

	/* the wait is interruptible: a signal without SA_RESTART ends it */
	{
		struct sigaction sa = { .sa_handler = on_sigusr1 };
		struct sync_thread ti = { .fd = fd };

		REQUIRE(!sigaction(SIGUSR1, &sa, NULL));
		REQUIRE(!pthread_create(&th, NULL, sync_start_read_once, &ti));
		usleep(200 * 1000);
		CHECK(__atomic_load_n(&ti.done, __ATOMIC_SEQ_CST) == 0);
		pthread_kill(th, SIGUSR1);
		pthread_join(th, NULL);
		CHECK_EQ(ti.ret, -EINTR);
		CHECK_EQ(zt_debugfs_num(zt_ino(fd), "cpu_accesses"), 0);
	}

	t.fd = fd;
	REQUIRE(!pthread_create(&th, NULL, sync_start_read, &t));
	usleep(300 * 1000);
	CHECK(__atomic_load_n(&t.done, __ATOMIC_SEQ_CST) == 0);
	signalled = now();
	fs.fence = fa.out_fence;
	REQUIRE(!ioctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &fs));
	pthread_join(th, NULL);
	CHECK_EQ(t.ret, 0);
	CHECK(t.done_at >= signalled);
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, 1000), 1);
	CHECK(p.revents & POLLIN);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	/* a signalled fence cannot be signalled again */
	CHECK_ERR(ioctl(vgem, DRM_IOCTL_VGEM_FENCE_SIGNAL, &fs), ENOENT);
}

static void device_dma_on_vgem_buffer(void)
{
	int vgem = open_drm("vgem");
	struct dumb d;
	int fd;

	dumb_create(vgem, 256, 256, &d);
	fd = prime_export(vgem, d.handle);
	REQUIRE(fd >= 0);
	/* vgem's own mmap (MAP_DUMB) is the CPU side here */
	device_dma_on_foreign(fd, d.map, d.size);
}

/* ---- virtio-gpu ------------------------------------------------------------ */

static void device_dma_on_virtio_gpu_buffer(void)
{
	int gpu = open_drm("virtio_gpu");
	uint32_t handle = 0;
	struct dumb d;
	int fd;

	dumb_create(gpu, 320, 240, &d);
	fd = prime_export(gpu, d.handle);
	REQUIRE(fd >= 0);
	device_dma_on_foreign(fd, d.map, d.size);
	/* and it cannot import ours on 6.1 */
	{
		int zfd = zt_open_zcbuf();
		int ours = zt_alloc(zfd, 64 * KIB, 0, NULL);

		REQUIRE(ours >= 0);
		CHECK(prime_import(gpu, ours, &handle) < 0);
	}
}

/* ---- vivid ------------------------------------------------------------------ */

/* The capture node of vivid instance inst (platform:vivid-00<inst>). */
static int open_vivid(int inst)
{
	char want[32];

	snprintf(want, sizeof(want), "platform:vivid-%03d", inst);
	for (int i = 0; i < 16; i++) {
		struct v4l2_capability cap = { 0 };
		char path[32];
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.bus_info, want) &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE))
			return fd;
		close(fd);
	}
	zt_fail(__FILE__, __LINE__, "no vivid capture node %s", want);
	zt_end_case();
}

static uint32_t vivid_format(int v)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	f.fmt.pix.width = 640;
	f.fmt.pix.height = 360;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	REQUIRE(!ioctl(v, VIDIOC_S_FMT, &f));
	REQUIRE(f.fmt.pix.sizeimage > 0);
	return f.fmt.pix.sizeimage;
}

static int capture_reqbufs(int v, uint32_t memory, uint32_t count)
{
	struct v4l2_requestbuffers r = {
		.count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = memory,
	};

	if (ioctl(v, VIDIOC_REQBUFS, &r))
		return -errno;
	return r.count;
}

static int capture_qbuf_dmabuf(int v, uint32_t index, int fd, uint32_t length)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .length = length,
	};

	b.m.fd = fd;
	return ioctl(v, VIDIOC_QBUF, &b) ? -errno : 0;
}

static int capture_dqbuf(int v, struct v4l2_buffer *b)
{
	struct pollfd p = { .fd = v, .events = POLLIN };

	memset(b, 0, sizeof(*b));
	b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b->memory = V4L2_MEMORY_DMABUF;
	if (poll(&p, 1, 20000) != 1)
		return -ETIMEDOUT;
	return ioctl(v, VIDIOC_DQBUF, b) ? -errno : 0;
}

/* vivid captures into two of our buffers; returns the number of frames. */
static void vivid_capture_into_ours(int inst, uint32_t flags)
{
	int v = open_vivid(inst);
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int dev = zt_device(tfd, 0, 0, 0, 0, "checker");
	uint32_t size = vivid_format(v);
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_buffer b;
	int fds[2];

	REQUIRE(dev > 0);
	REQUIRE(capture_reqbufs(v, V4L2_MEMORY_DMABUF, 2) == 2);
	for (int i = 0; i < 2; i++) {
		fds[i] = zt_alloc(zfd, size, flags, "vivid-frame");
		REQUIRE(fds[i] >= 0);
		CHECK_EQ(capture_qbuf_dmabuf(v, i, fds[i], size), 0);
	}
	/* queueing mapped them (vmap or a device map): the backing exists */
	{
		char kind[32];

		CHECK_EQ(zt_debugfs_str(zt_ino(fds[0]), "backing", kind,
					sizeof(kind)), 0);
		CHECK(!strcmp(kind, flags & ZCBUF_ALLOC_CONTIGUOUS ?
			      "contiguous" : "pages"));
		zt_note("vivid-%03d queued: %s", inst, zt_debugfs_line(
			zt_ino(fds[0])));
	}
	REQUIRE(!ioctl(v, VIDIOC_STREAMON, &type));
	for (int frame = 0; frame < 4; frame++) {
		uint32_t crc;
		uint8_t *p;
		int att, nonzero = 0;

		REQUIRE(capture_dqbuf(v, &b) == 0);
		CHECK_EQ(b.bytesused, size);
		CHECK(!(b.flags & V4L2_BUF_FLAG_ERROR));
		p = zt_mmap(fds[b.index], size, 1);
		REQUIRE(p);
		CHECK_EQ(zt_sync(fds[b.index], DMA_BUF_SYNC_START |
				 DMA_BUF_SYNC_READ), 0);
		for (uint32_t i = 0; i < size; i++)
			nonzero += p[i] != 0;
		/* vivid's test pattern, not the zeroes we handed out */
		CHECK(nonzero > (int)(size / 4));
		/* our device reads the same frame */
		att = zt_attach(tfd, dev, fds[b.index]);
		CHECK(att > 0);
		CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
		CHECK_EQ(zt_checksum(tfd, att, 0, size, &crc), 0);
		CHECK_EQ(crc, zt_crc32(0, p, size));
		CHECK_EQ(zt_unmap(tfd, att), 0);
		CHECK_EQ(zt_detach(tfd, att), 0);
		CHECK_EQ(zt_sync(fds[b.index], DMA_BUF_SYNC_END |
				 DMA_BUF_SYNC_READ), 0);
		munmap(p, size);
		CHECK_EQ(capture_qbuf_dmabuf(v, b.index, fds[b.index], size), 0);
	}
	REQUIRE(!ioctl(v, VIDIOC_STREAMOFF, &type));
	CHECK_EQ(capture_reqbufs(v, V4L2_MEMORY_DMABUF, 0), 0);
	/* vivid let go of our buffers */
	CHECK_EQ(zt_debugfs_num(zt_ino(fds[0]), "attachments"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fds[0]), "vmaps"), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fds[0]), "maps"), 0);
}

static void vivid_vmalloc_captures_into_ours(void)
{
	vivid_capture_into_ours(0, 0);
}

static void vivid_contig_captures_into_contiguous(void)
{
	vivid_capture_into_ours(1, ZCBUF_ALLOC_CONTIGUOUS);
}

static void vivid_contig_refuses_scattered(void)
{
	int v = open_vivid(1);
	int zfd = zt_open_zcbuf();
	uint32_t size = vivid_format(v);
	int fd;

	/* single pages that are never contiguous, not chunks that may be */
	zt_set_param("debug_discontiguous", "1");
	fd = zt_alloc(zfd, size, ZCBUF_ALLOC_IMMEDIATE, NULL);
	zt_set_param("debug_discontiguous", "0");
	REQUIRE(fd >= 0);
	REQUIRE(capture_reqbufs(v, V4L2_MEMORY_DMABUF, 1) >= 1);
	/* vb2-dma-contig maps it, finds more than one chunk and says EFAULT */
	CHECK_EQ(capture_qbuf_dmabuf(v, 0, fd, size), -EFAULT);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "maps"), 0);
	CHECK_EQ(capture_reqbufs(v, V4L2_MEMORY_DMABUF, 0), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
}

static void device_dma_on_vivid_export(int inst)
{
	int v = open_vivid(inst);
	struct v4l2_exportbuffer e = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				       .flags = O_RDWR | O_CLOEXEC };
	uint32_t size = vivid_format(v);
	uint8_t *cpu;

	REQUIRE(capture_reqbufs(v, V4L2_MEMORY_MMAP, 1) >= 1);
	REQUIRE(!ioctl(v, VIDIOC_EXPBUF, &e));
	REQUIRE(e.fd >= 0);
	cpu = zt_mmap(e.fd, size, 0);
	REQUIRE(cpu);
	device_dma_on_foreign(e.fd, cpu, size);
}

static void device_dma_on_vivid_vmalloc_export(void)
{
	device_dma_on_vivid_export(0);
}

static void device_dma_on_vivid_contig_export(void)
{
	device_dma_on_vivid_export(1);
}

/* ---- vicodec and vim2m ---------------------------------------------------- */

/* The V4L2 node whose video device is called name (its sysfs name). */
static int open_video_named(const char *name)
{
	for (int i = 0; i < 16; i++) {
		char path[64], have[64] = "";
		FILE *f;
		int fd;

		snprintf(path, sizeof(path), "/sys/class/video4linux/video%d/name", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(have, sizeof(have), f))
			have[0] = '\0';
		fclose(f);
		have[strcspn(have, "\n")] = '\0';
		if (strcmp(have, name))
			continue;
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	zt_fail(__FILE__, __LINE__, "no V4L2 device %s", name);
	zt_end_case();
}

/*
 * Our device does DMA on a capture buffer that a memory-to-memory driver
 * exports (VIDIOC_EXPBUF of an MMAP buffer, vb2-vmalloc memory): what
 * v4l2fwhtdec and v4l2convert push with capture-io-mode=dmabuf.
 */
static void device_dma_on_m2m_export(const char *name)
{
	int v = open_video_named(name);
	struct v4l2_buffer b = { .index = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	struct v4l2_exportbuffer e = { .index = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				       .flags = O_RDWR | O_CLOEXEC };
	uint8_t *cpu;

	REQUIRE(capture_reqbufs(v, V4L2_MEMORY_MMAP, 1) >= 1);
	REQUIRE(!ioctl(v, VIDIOC_QUERYBUF, &b));
	REQUIRE(b.length > 0);
	REQUIRE(!ioctl(v, VIDIOC_EXPBUF, &e));
	REQUIRE(e.fd >= 0);
	zt_note("%s exports a capture buffer of %u bytes", name, b.length);
	cpu = zt_mmap(e.fd, b.length, 0);
	REQUIRE(cpu);
	device_dma_on_foreign(e.fd, cpu, b.length);
	munmap(cpu, b.length);
	close(e.fd);
	CHECK_EQ(capture_reqbufs(v, V4L2_MEMORY_MMAP, 0), 0);
	close(v);
}

static void device_dma_on_vicodec_export(void)
{
	device_dma_on_m2m_export("stateful-decoder");
}

static void device_dma_on_vim2m_export(void)
{
	device_dma_on_m2m_export("vim2m");
}

/*
 * vb2 (Linux 6.1) puts no fence on a dma-buf it imports. Our buffer queued
 * on vim2m's capture queue belongs to the driver, which writes it as soon
 * as an output buffer comes, yet poll(), DMA_BUF_IOCTL_EXPORT_SYNC_FILE
 * and a CPU access bracket all find nothing to wait for: only VIDIOC_DQBUF
 * says a V4L2 driver is done with a buffer (docs/interop.md, "Fences").
 * When a kernel starts fencing V4L2 buffers, this fails.
 */
static void v4l2_queued_buffer_carries_no_fence(void)
{
	int v = open_video_named("vim2m");
	int zfd = zt_open_zcbuf();
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct dma_buf_export_sync_file s = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct pollfd p;
	double start;
	int fd;

	REQUIRE(!ioctl(v, VIDIOC_G_FMT, &f));
	REQUIRE(f.fmt.pix.sizeimage > 0);
	fd = zt_alloc(zfd, f.fmt.pix.sizeimage, 0, "vim2m-capture");
	REQUIRE(fd >= 0);
	REQUIRE(capture_reqbufs(v, V4L2_MEMORY_DMABUF, 1) >= 1);
	REQUIRE(capture_qbuf_dmabuf(v, 0, fd, f.fmt.pix.sizeimage) == 0);
	REQUIRE(!ioctl(v, VIDIOC_STREAMON, &type));
	/* queued and streaming: vim2m holds it, vmapped, for writing */
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "vmaps"), 1);

	p.fd = fd;
	p.events = POLLIN | POLLOUT;
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents & (POLLIN | POLLOUT), POLLIN | POLLOUT);
	CHECK_EQ(ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &s), 0);
	CHECK(s.fd >= 0);
	if (s.fd >= 0) {
		p.fd = s.fd;
		p.events = POLLIN;
		/* a signalled stub: nothing unsignalled to merge */
		CHECK_EQ(poll(&p, 1, 0), 1);
		close(s.fd);
	}
	start = now();
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), 0);
	CHECK_EQ(zt_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), 0);
	CHECK(now() - start < 1.0);

	REQUIRE(!ioctl(v, VIDIOC_STREAMOFF, &type));
	CHECK_EQ(capture_reqbufs(v, V4L2_MEMORY_DMABUF, 0), 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(fd), "attachments"), 0);
	close(fd);
	close(v);
	close(zfd);
}

/*
 * A process killed while vivid's QBUF vmaps a large deferred buffer. The
 * vmap populates the backing; had populate given up with -EINTR on the
 * fatal signal, 6.1's dma_buf_vmap() would WARN (and vm-run fails a run
 * whose dmesg has a WARN). The kills come at delays spread over one
 * measured QBUF, so that several land while it runs; afterwards every
 * buffer is gone.
 */
static pid_t queue_in_child(size_t size, int *ready_fd)
{
	int ready[2];
	pid_t child;

	REQUIRE(!pipe(ready));
	child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		int v = open_vivid(0);
		int zfd = zt_open_zcbuf();
		int fd;

		close(ready[0]);
		vivid_format(v);
		if (capture_reqbufs(v, V4L2_MEMORY_DMABUF, 1) < 1)
			_exit(3);
		fd = zt_alloc(zfd, size, 0, "vmap-kill");
		if (fd < 0)
			_exit(4);
		if (write(ready[1], "x", 1) != 1)
			_exit(5);
		_exit(capture_qbuf_dmabuf(v, 0, fd, size) ? 6 : 0);
	}
	close(ready[1]);
	*ready_fd = ready[0];
	return child;
}

static int wait_ready(int ready_fd)
{
	char c;
	int n = read(ready_fd, &c, 1);

	close(ready_fd);
	return n == 1 ? 0 : -1;
}

static void vmap_populate_survives_a_fatal_signal(void)
{
	/* 256 MiB: long enough to populate under TCG to aim a kill at */
	const size_t size = 256u << 20;
	int status, ready, killed = 0, tries = 0;
	double start, qbuf;
	pid_t child;

	child = queue_in_child(size, &ready);
	if (wait_ready(ready)) {
		waitpid(child, &status, 0);
		zt_fail(__FILE__, __LINE__, "the child never got to QBUF: status 0x%x",
			status);
		zt_end_case();
	}
	start = now();
	REQUIRE(waitpid(child, &status, 0) == child);
	qbuf = now() - start;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	zt_note("an unkilled QBUF of %zu MiB took %.0f ms", size >> 20, qbuf * 1e3);

	for (int i = 0; i < 12; i++) {
		child = queue_in_child(size, &ready);
		REQUIRE(wait_ready(ready) == 0);
		usleep((useconds_t)(qbuf * 1e6 * i / 12));
		kill(child, SIGKILL);
		REQUIRE(waitpid(child, &status, 0) == child);
		tries++;
		killed += WIFSIGNALED(status);
	}
	zt_note("%d of %d children were killed before their QBUF returned",
		killed, tries);
	/* the early kills land in the vmap (the child does nothing else) */
	CHECK(killed >= 3);
	/* the children's files are released after they exit */
	for (int i = 0; i < 50 && zt_debugfs_buffers(); i++)
		usleep(100000);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

static void nothing_left_behind(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	struct zcbuf_test_stats t;
	struct zcbuf_stats s;

	zt_stats(zfd, &s);
	zt_test_stats(tfd, &t);
	CHECK_EQ(t.devices, 0);
	CHECK_EQ(t.attachments, 0);
	CHECK_EQ(s.buffers, 0);
	CHECK_EQ(s.maps, 0);
	CHECK_EQ(s.attachments, 0);
	CHECK_EQ(s.bytes, 0);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

static const struct zt_case cases[] = {
	ZT_CASE(vgem_imports_our_buffer),
	ZT_CASE(vgem_imports_a_dynamic_export),
	ZT_CASE(vgem_reexport_writes_read_back),
	ZT_CASE(vgem_imports_readonly),
	ZT_CASE(vgem_fence_makes_sync_and_poll_wait),
	ZT_CASE(device_dma_on_vgem_buffer),
	ZT_CASE(device_dma_on_virtio_gpu_buffer),
	ZT_CASE(vivid_vmalloc_captures_into_ours),
	ZT_CASE(vivid_contig_captures_into_contiguous),
	ZT_CASE(vivid_contig_refuses_scattered),
	ZT_CASE(device_dma_on_vivid_vmalloc_export),
	ZT_CASE(device_dma_on_vivid_contig_export),
	ZT_CASE(device_dma_on_vicodec_export),
	ZT_CASE(device_dma_on_vim2m_export),
	ZT_CASE(v4l2_queued_buffer_carries_no_fence),
	ZT_CASE(vmap_populate_survives_a_fatal_signal),
	ZT_CASE(nothing_left_behind),
};

int main(int argc, char **argv)
{
	return zt_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
