// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A bounded ioctl fuzz of /dev/zcbuf, of /dev/zcbuf_test and of the
 * dma-bufs zcbuf exports:
 * random commands (valid ones, valid ones with the size or direction bits
 * changed, random ones of our type, fully random numbers) with random or
 * mutated-plausible argument bytes and bad pointers. Every call must
 * succeed or fail with an errno from the documented set; vm-run fails the
 * run on any kernel complaint in dmesg. Deterministic: ZT_FUZZ_SEED and
 * ZT_FUZZ_CALLS (default 1 and 100000) choose the run.
 * Runs in the guest: vm-run --module zcbuf --module zcbuf_test -- zcbuf_fuzz
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The first two go to /dev/zcbuf, the others to /dev/zcbuf_test. */
static const unsigned long cmds[] = {
	ZCBUF_IOC_ALLOC, ZCBUF_IOC_STATS,
	ZCBUF_TEST_IOC_DEVICE_CREATE, ZCBUF_TEST_IOC_DEVICE_DESTROY,
	ZCBUF_TEST_IOC_ATTACH, ZCBUF_TEST_IOC_DETACH, ZCBUF_TEST_IOC_MAP,
	ZCBUF_TEST_IOC_UNMAP, ZCBUF_TEST_IOC_FILL, ZCBUF_TEST_IOC_COPY,
	ZCBUF_TEST_IOC_CHECKSUM, ZCBUF_TEST_IOC_STATS,
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Every errno /dev/zcbuf and /dev/zcbuf_test document (docs/uapi.md). */
static const int allowed[] = {
	ENOTTY, EINVAL, EFAULT, ENOENT, EBADF, EBUSY, ENOMEM, EACCES, ENOSPC,
	EFBIG,
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int pick(unsigned int n)
{
	return rnd() % n;
}

#define POOL 8
static int pool[POOL];

static int pool_fd(void)
{
	int fd = pool[pick(POOL)];

	return fd >= 0 ? fd : (int)pick(64);
}

static void pool_add(int fd)
{
	int i = pick(POOL);

	if (pool[i] >= 0)
		close(pool[i]);
	pool[i] = fd;
}

static uint64_t small_size(void)
{
	return (1 + pick(64)) * PAGE - (pick(4) ? 0 : pick(PAGE));
}

static uint64_t pow2_or_zero(void)
{
	return pick(3) ? 0 : 1ULL << pick(24);
}

/* Arguments that pass most checks, for the deeper paths. */
static void plausible(unsigned long cmd, void *buf)
{
	switch (cmd) {
	case ZCBUF_IOC_ALLOC: {
		struct zcbuf_alloc *a = buf;

		a->size = small_size();
		a->alignment = pow2_or_zero();
		a->flags = pick(ZCBUF_ALLOC_FLAGS + 1);
		snprintf(a->name, sizeof(a->name), "fuzz%u", pick(1000));
		break;
	}
	case ZCBUF_TEST_IOC_DEVICE_CREATE: {
		struct zcbuf_test_device_create *d = buf;

		d->max_segment_size = pick(2) ? 0 : PAGE << pick(12);
		d->segment_boundary = pick(2) ? 0 : (PAGE << pick(12)) - 1;
		d->alignment = pow2_or_zero();
		d->dma_mask_bits = pick(2) ? 0 : 30 + pick(36);
		d->flags = pick(4);
		break;
	}
	case ZCBUF_TEST_IOC_DEVICE_DESTROY:
	case ZCBUF_TEST_IOC_DETACH:
	case ZCBUF_TEST_IOC_UNMAP:
		((struct zcbuf_test_id *)buf)->id = pick(10);
		break;
	case ZCBUF_TEST_IOC_ATTACH: {
		struct zcbuf_test_attach *a = buf;

		a->dmabuf_fd = pool_fd();
		a->device_id = pick(6);
		break;
	}
	case ZCBUF_TEST_IOC_MAP: {
		struct zcbuf_test_map *m = buf;

		m->id = pick(10);
		m->direction = pick(4);
		break;
	}
	case ZCBUF_TEST_IOC_FILL: {
		struct zcbuf_test_fill *f = buf;

		f->id = pick(10);
		f->mode = pick(3);
		f->pattern = rnd();
		f->offset = pick(4) ? pick(8) * PAGE : rnd();
		f->length = pick(4) ? small_size() : rnd();
		break;
	}
	case ZCBUF_TEST_IOC_COPY: {
		struct zcbuf_test_copy *c = buf;

		c->src_id = pick(10);
		c->dst_id = pick(10);
		c->src_offset = pick(8) * PAGE;
		c->dst_offset = pick(8) * PAGE;
		c->length = pick(4) ? small_size() : rnd();
		break;
	}
	case ZCBUF_TEST_IOC_CHECKSUM: {
		struct zcbuf_test_checksum *k = buf;

		k->id = pick(10);
		k->offset = pick(8) * PAGE + pick(4);
		k->length = pick(4) ? small_size() : rnd();
		break;
	}
	}
}

static unsigned long random_cmd(unsigned long *base)
{
	unsigned int r = pick(100);

	*base = cmds[pick(NCMDS)];
	if (r < 60)
		return *base;
	if (r < 75) /* the size or the direction changed */
		return *base ^ ((unsigned long)(1 + pick(255)) <<
				(pick(2) ? _IOC_SIZESHIFT : _IOC_DIRSHIFT));
	*base = 0;
	if (r < 90)
		return _IOC(pick(4), ZCBUF_IOC_MAGIC, pick(256), pick(512));
	return (uint32_t)rnd();
}

struct arena {
	uint8_t *buf;		/* 2 pages: data, then an inaccessible page */
	uint8_t *ro;		/* a read-only page */
};

static void *random_arg(struct arena *ar, unsigned long cmd,
			unsigned long base, uint8_t **data)
{
	unsigned int r = pick(100);
	size_t size = _IOC_SIZE(cmd);
	uint8_t *p = ar->buf;

	if (r < 3)
		return NULL;
	if (r < 5)
		return (void *)1;
	if (r < 7)
		return (void *)0xffff888000000000UL;
	if (r < 9)
		return ar->ro;
	if (size > PAGE)
		size = PAGE;
	if (r < 12 && size > 1)		/* runs off into the guard page */
		p = ar->buf + PAGE - size / 2;
	*data = p;
	if (pick(2)) {
		for (size_t i = 0; i < size && p + i < ar->buf + PAGE; i++)
			p[i] = rnd();
	} else {
		memset(ar->buf, 0, PAGE);
		p = ar->buf;
		*data = p;
		plausible(base, p);
		for (int flips = pick(4); flips; flips--)
			p[pick(size ? size : 1)] ^= 1 << pick(8);
	}
	return p;
}

static int errno_allowed(int err)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (err == allowed[i])
			return 1;
	return 0;
}

static unsigned long calls(void)
{
	const char *s = getenv("ZT_FUZZ_CALLS");

	return s ? strtoul(s, NULL, 0) : 100000;
}

static void seed(void)
{
	const char *s = getenv("ZT_FUZZ_SEED");

	rng_state = (s ? strtoull(s, NULL, 0) : 1) * 0x9e3779b97f4a7c15ULL + 1;
}

static void arena_init(struct arena *ar)
{
	ar->buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(ar->buf != MAP_FAILED);
	REQUIRE(!mprotect(ar->buf + PAGE, PAGE, PROT_NONE));
	ar->ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	REQUIRE(ar->ro != MAP_FAILED);
}

static void fuzz_devfile(void)
{
	unsigned long n = calls(), ok = 0, bad = 0, reopen = 0;
	struct arena ar;
	int zfd, tfd;

	seed();
	arena_init(&ar);
	for (int i = 0; i < POOL; i++)
		pool[i] = -1;
	zfd = zt_open_zcbuf();
	tfd = zt_open_test();
	/* a few real buffers so ATTACH and friends get somewhere */
	for (int i = 0; i < POOL / 2; i++)
		pool_add(zt_alloc(zfd, small_size(), 0, "seed"));
	for (unsigned long i = 0; i < n; i++) {
		unsigned long base, cmd = random_cmd(&base);
		uint8_t *data = NULL;
		void *arg = random_arg(&ar, cmd, base, &data);
		int to_test = base ? base != ZCBUF_IOC_ALLOC &&
				     base != ZCBUF_IOC_STATS : pick(2);
		long ret = ioctl(to_test ? tfd : zfd, cmd, arg);

		if (ret == 0) {
			ok++;
			if (cmd == ZCBUF_IOC_ALLOC && arg == ar.buf)
				pool_add(((struct zcbuf_alloc *)arg)->fd);
		} else if (!errno_allowed(errno)) {
			if (bad++ < 20)
				zt_note("call %lu: cmd %#lx -> %s", i, cmd,
					zt_errname(errno));
		}
		/* devices and attachments die with the file: start afresh */
		if (i % 2000 == 1999) {
			close(tfd);
			tfd = zt_open_test();
			reopen++;
		}
	}
	zt_note("%lu calls, %lu succeeded, %lu reopens", n, ok, reopen);
	CHECK_EQ(bad, 0);
	CHECK(ok > n / 50);
}

static void fuzz_dmabuf_fds(void)
{
	unsigned long n = calls() / 10, bad = 0;
	int zfd = zt_open_zcbuf();
	char name[64];
	struct arena ar;

	seed();
	arena_init(&ar);
	for (int i = 0; i < POOL; i++)
		pool[i] = zt_alloc(zfd, small_size(), pick(8), "dmabuf-fuzz");
	for (unsigned long i = 0; i < n; i++) {
		int fd = pool[pick(POOL)];
		unsigned int what = pick(4);
		long ret = 0;

		if (fd < 0)
			continue;
		if (what == 0) {
			struct dma_buf_sync s = { .flags = rnd() & 0xf };

			if (pick(4) == 0)
				s.flags = rnd();
			ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
		} else if (what == 1) {
			for (size_t k = 0; k < sizeof(name); k++)
				name[k] = 1 + pick(255);
			name[pick(sizeof(name))] = '\0';
			ret = ioctl(fd, DMA_BUF_SET_NAME_B, name);
		} else if (what == 2) {
			size_t len = (1 + pick(80)) * PAGE;
			int prot = PROT_READ | (pick(2) ? PROT_WRITE : 0);
			uint8_t *p = mmap(NULL, len, prot, pick(4) ?
					  MAP_SHARED : MAP_PRIVATE, fd,
					  pick(16) * PAGE);

			if (p != MAP_FAILED) {
				(void)*(volatile uint8_t *)p;
				if (prot & PROT_WRITE)
					p[len - 1] = 1;
				munmap(p, len);
			} else {
				ret = -1;
			}
		} else {
			ret = ioctl(fd, (uint32_t)rnd(), ar.buf);
		}
		if (ret < 0 && !errno_allowed(errno) && errno != EPERM &&
		    bad++ < 20)
			zt_note("call %lu (%u) -> %s", i, what,
				zt_errname(errno));
	}
	CHECK_EQ(bad, 0);
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
	CHECK_EQ(s.bytes, 0);
	CHECK_EQ(s.attachments, 0);
	CHECK_EQ(s.maps, 0);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

static const struct zt_case cases[] = {
	ZT_CASE(fuzz_devfile),
	ZT_CASE(fuzz_dmabuf_fds),
	ZT_CASE(nothing_left_behind),
};

int main(int argc, char **argv)
{
	return zt_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
