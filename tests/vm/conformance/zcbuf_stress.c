// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Concurrency stress for zcbuf.ko: threads allocating, attaching, mapping,
 * mmapping, syncing, migrating and closing shared buffers at once for a
 * bounded time; CPU readers and a CPU writer racing migrations; and at the
 * end nothing left in STATS or debugfs (vm-run checks dmesg).
 * Runs in the guest: vm-run --module zcbuf --module zcbuf_test -- zcbuf_stress
 * ZT_STRESS_SECONDS sets the length of each stress case (default 8); the
 * migration races run half of it, longer (up to 8 times it) when a loaded
 * machine gave them too few migrations.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define POOL 12
#define MAX_ATT 8

static double seconds(void)
{
	const char *s = getenv("ZT_STRESS_SECONDS");

	return s ? atof(s) : 8.0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Shared buffers every thread works on. */
static struct {
	pthread_mutex_t lock;
	int fd[POOL];
	uint32_t flags[POOL];
	size_t size[POOL];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static atomic_int unexpected;
static atomic_long ops[10];

static void bad(const char *what, int err)
{
	if (atomic_fetch_add(&unexpected, 1) < 20)
		zt_note("unexpected: %s -> %s", what, zt_errname(-err));
}

/* err must be 0 or one of the allowed errnos (a 0-terminated list). */
static void expect(const char *what, int err, const int *allowed)
{
	if (!err)
		return;
	for (; *allowed; allowed++)
		if (err == -*allowed)
			return;
	bad(what, err);
}

static const int none[] = { 0 };
static const int busy_nomem[] = { EBUSY, ENOMEM, 0 };
static const int nomem[] = { ENOMEM, 0 };
static const int map_errs[] = { EACCES, ENOMEM, 0 };
static const int dir_errs[] = { EACCES, 0 };

/* A dup of a random pool buffer, or -1. */
static int pool_take(unsigned int *seed, uint32_t *flags, size_t *size)
{
	int i = rand_r(seed) % POOL, fd = -1;

	pthread_mutex_lock(&pool.lock);
	if (pool.fd[i] >= 0) {
		fd = dup(pool.fd[i]);
		*flags = pool.flags[i];
		*size = pool.size[i];
	}
	pthread_mutex_unlock(&pool.lock);
	return fd;
}

static void pool_put(unsigned int *seed, int fd, uint32_t flags, size_t size)
{
	int i = rand_r(seed) % POOL, old;

	pthread_mutex_lock(&pool.lock);
	old = pool.fd[i];
	pool.fd[i] = fd;
	pool.flags[i] = flags;
	pool.size[i] = size;
	pthread_mutex_unlock(&pool.lock);
	if (old >= 0)
		close(old);
}

struct att {
	int id;
	int mapped;
	uint32_t dir;
	size_t size;
};

static void *worker(void *arg)
{
	int tfd = zt_open_test();
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919 + 1;
	int zfd = open("/dev/zcbuf", O_RDWR | O_CLOEXEC);
	struct att atts[MAX_ATT] = { 0 };
	double end = now() + seconds();
	int devs[2];

	if (zfd < 0) {
		bad("open /dev/zcbuf", -errno);
		return NULL;
	}
	devs[0] = zt_device(tfd, 0, 0, 0, 0, "stress-scattered");
	devs[1] = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 4 * MIB, 32, 0,
			    "stress-contig");
	if (devs[0] < 0 || devs[1] < 0) {
		bad("device", devs[0] < 0 ? devs[0] : devs[1]);
		return NULL;
	}

	while (now() < end) {
		int op = rand_r(&seed) % 9;
		struct att *a = &atts[rand_r(&seed) % MAX_ATT];
		uint32_t flags = 0, crc;
		size_t size = 0;
		int fd, ret;

		atomic_fetch_add(&ops[op], 1);
		switch (op) {
		case 0: /* allocate into the pool */
			flags = rand_r(&seed) & (ZCBUF_ALLOC_CONTIGUOUS |
						 ZCBUF_ALLOC_IMMEDIATE);
			if (rand_r(&seed) % 8 == 0)
				flags |= ZCBUF_ALLOC_READONLY;
			size = (1 + rand_r(&seed) % 512) * PAGE;
			fd = zt_alloc(zfd, size, flags, "stress");
			if (fd < 0)
				expect("alloc", fd, nomem);
			else
				pool_put(&seed, fd, flags, size);
			break;
		case 1: /* attach a pool buffer */
			if (a->id)
				break;
			fd = pool_take(&seed, &flags, &size);
			if (fd < 0)
				break;
			ret = zt_attach(tfd, devs[rand_r(&seed) % 2], fd);
			close(fd);
			if (ret < 0) {
				expect("attach", ret, busy_nomem);
			} else {
				a->id = ret;
				a->size = size;
			}
			break;
		case 2: /* map */
			if (!a->id || a->mapped)
				break;
			a->dir = rand_r(&seed) % 3;
			ret = zt_map(tfd, a->id, a->dir, NULL);
			expect("map", ret, map_errs);
			a->mapped = !ret;
			break;
		case 3: /* software DMA */
			if (!a->mapped)
				break;
			if (rand_r(&seed) % 2)
				ret = zt_fill(tfd, a->id, ZCBUF_TEST_FILL_COUNTER,
					      rand_r(&seed), 0, a->size);
			else
				ret = zt_checksum(tfd, a->id, 0, a->size, &crc);
			expect("fill/checksum", ret, dir_errs);
			break;
		case 4: /* unmap and maybe detach */
			if (a->mapped) {
				expect("unmap", zt_unmap(tfd, a->id), none);
				a->mapped = 0;
			}
			if (a->id && rand_r(&seed) % 2) {
				expect("detach", zt_detach(tfd, a->id), none);
				a->id = 0;
			}
			break;
		case 5: { /* CPU access through mmap */
			uint8_t *p;
			int ro;

			fd = pool_take(&seed, &flags, &size);
			if (fd < 0)
				break;
			ro = flags & ZCBUF_ALLOC_READONLY;
			p = zt_mmap(fd, size, ro);
			if (!p) {
				bad("mmap", -errno);
				close(fd);
				break;
			}
			/* a read-only buffer refuses a CPU write access */
			expect("sync", zt_sync(fd, DMA_BUF_SYNC_START |
					       (ro ? DMA_BUF_SYNC_READ :
						     DMA_BUF_SYNC_RW)), none);
			for (size_t i = 0; i < size; i += 16 * PAGE) {
				if (!ro)
					p[i] = (uint8_t)i;
				(void)*(volatile uint8_t *)&p[size - 1 - i];
			}
			expect("sync", zt_sync(fd, DMA_BUF_SYNC_END |
					       (ro ? DMA_BUF_SYNC_READ :
						     DMA_BUF_SYNC_RW)), none);
			/* sometimes keep the mapping past the fd */
			close(fd);
			munmap(p, size);
			break;
		}
		case 6: /* drop a pool buffer */
			pool_put(&seed, -1, 0, 0);
			break;
		case 7: { /* a private buffer: contents survive a migration */
			size = (16 + rand_r(&seed) % 112) * PAGE;
			uint32_t pat = rand_r(&seed);
			uint8_t *p;
			int id;

			fd = zt_alloc(zfd, size, 0, "stress-private");
			if (fd < 0) {
				expect("alloc", fd, nomem);
				break;
			}
			p = zt_mmap(fd, size, 0);
			if (!p) {
				bad("mmap", -errno);
				close(fd);
				break;
			}
			zt_counter_fill(p, pat, 0, size);
			id = zt_attach(tfd, devs[1], fd);
			if (id < 0) {
				expect("attach", id, nomem);
			} else {
				if (zt_counter_check(p, pat, 0, size) != -1)
					bad("contents after migration", -EIO);
				ret = zt_map(tfd, id, ZCBUF_TEST_DIR_TO_DEVICE, NULL);
				expect("map", ret, nomem);
				if (!ret && (zt_checksum(tfd, id, 0, size, &crc) ||
					     crc != zt_counter_crc(pat, 0, size)))
					bad("device checksum after migration",
					    -EIO);
				if (!ret)
					expect("unmap", zt_unmap(tfd, id), none);
				expect("detach", zt_detach(tfd, id), none);
			}
			munmap(p, size);
			close(fd);
			break;
		}
		case 8: { /* statistics stay sane under load */
			struct zcbuf_stats s;

			zt_stats(zfd, &s);
			if (s.deferred > s.buffers || s.contiguous > s.buffers)
				bad("stats", -EIO);
			break;
		}
		}
	}
	/* leave half of it for close() to clean up */
	if (rand_r(&seed) % 2) {
		for (int i = 0; i < MAX_ATT; i++) {
			if (atts[i].mapped)
				expect("unmap", zt_unmap(tfd, atts[i].id), none);
			if (atts[i].id)
				expect("detach", zt_detach(tfd, atts[i].id),
				       none);
		}
	}
	close(zfd);
	return NULL;
}

static void threads_share_buffers(void)
{
	pthread_t th[THREADS];

	for (int i = 0; i < POOL; i++)
		pool.fd[i] = -1;
	for (uintptr_t i = 0; i < THREADS; i++)
		REQUIRE(!pthread_create(&th[i], NULL, worker, (void *)i));
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < POOL; i++)
		if (pool.fd[i] >= 0)
			close(pool.fd[i]);
	zt_note("ops: alloc %ld attach %ld map %ld dma %ld unmap %ld mmap %ld drop %ld migrate %ld stats %ld",
		ops[0], ops[1], ops[2], ops[3], ops[4], ops[5], ops[6], ops[7],
		ops[8]);
	CHECK(ops[0] > 50 && ops[7] > 20);
	CHECK_EQ(unexpected, 0);
}

/*
 * One thread migrates buffers while others read them through mmap; the
 * lock only guards which mapping is current, never the migration.
 */
static struct {
	pthread_rwlock_t lock;
	uint8_t *map;
	uint32_t pattern;
	size_t size;
	atomic_int stop;
	atomic_long reads;
} race;

static void *reader(void *arg)
{
	(void)arg;
	while (!race.stop) {
		pthread_rwlock_rdlock(&race.lock);
		if (race.map) {
			if (zt_counter_check(race.map, race.pattern, 0,
					     race.size) != -1)
				bad("a CPU read raced a migration", -EIO);
			atomic_fetch_add(&race.reads, 1);
		}
		pthread_rwlock_unlock(&race.lock);
	}
	return NULL;
}

static void migration_races_cpu_reads(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "c");
	double end = now() + seconds() / 2;
	/* under load, more time rather than fewer migrations */
	double limit = now() + 8 * seconds();
	pthread_rwlockattr_t attr;
	pthread_t th[2];
	long migrations = 0;

	REQUIRE(cdev > 0);
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&race.lock, &attr);
	race.size = 512 * KIB;
	for (int i = 0; i < 2; i++)
		REQUIRE(!pthread_create(&th[i], NULL, reader, NULL));
	while ((now() < end || migrations <= 10) && now() < limit) {
		int fd = zt_alloc(zfd, race.size, 0, "race");
		uint32_t pat = (uint32_t)migrations * 0x10000;
		uint8_t *p;
		int id;

		REQUIRE(fd >= 0);
		p = zt_mmap(fd, race.size, 0);
		REQUIRE(p);
		zt_counter_fill(p, pat, 0, race.size);
		pthread_rwlock_wrlock(&race.lock);
		race.pattern = pat;
		race.map = p;
		pthread_rwlock_unlock(&race.lock);
		usleep(2000);
		/* migrates while the readers fault and read */
		id = zt_attach(tfd, cdev, fd);
		CHECK(id > 0);
		migrations += id > 0;
		usleep(2000);
		/*
		 * New contents written through the new backing: readers whose
		 * mapping still pointed at the old pages would miss them.
		 */
		if (id > 0) {
			pthread_rwlock_wrlock(&race.lock);
			CHECK_EQ(zt_map(tfd, id, ZCBUF_TEST_DIR_BIDIRECTIONAL, NULL),
				 0);
			CHECK_EQ(zt_fill(tfd, id, ZCBUF_TEST_FILL_COUNTER, ~pat, 0,
					 race.size), 0);
			race.pattern = ~pat;
			pthread_rwlock_unlock(&race.lock);
			usleep(2000);
		}
		pthread_rwlock_wrlock(&race.lock);
		race.map = NULL;
		pthread_rwlock_unlock(&race.lock);
		CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 1);
		munmap(p, race.size);
		close(fd);
		if (id > 0) {
			CHECK_EQ(zt_unmap(tfd, id), 0);
			CHECK_EQ(zt_detach(tfd, id), 0);
		}
	}
	race.stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	zt_note("%ld migrations under %ld full-buffer reads", migrations,
		(long)race.reads);
	CHECK(migrations > 10);
	CHECK(race.reads > migrations);
	CHECK_EQ(unexpected, 0);
}

/* One CPU writer racing a migration: every word it wrote must survive. */
static struct {
	uint32_t *map;
	uint32_t *shadow;
	size_t words;
	atomic_int stop;
	atomic_long writes;
} wrace;

/* Waits until the writer has finished n full passes over the buffer. */
static void wait_passes(long n)
{
	while (wrace.writes < n)
		usleep(500);
}

static void *writer(void *arg)
{
	uint32_t v = 1;

	(void)arg;
	while (!wrace.stop) {
		for (size_t i = 0; i < wrace.words && !wrace.stop; i++, v++) {
			wrace.map[i] = v;
			wrace.shadow[i] = v;
		}
		atomic_fetch_add(&wrace.writes, 1);
	}
	return NULL;
}

/*
 * The mappings are zapped before the copy, so a write either reaches the
 * old pages before they are copied or faults and waits for the new ones.
 * A copy made before the zap would lose the writes in between, which a
 * reader-only race cannot see.
 */
static void migration_races_cpu_writer(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int cdev = zt_device(tfd, ZCBUF_TEST_DEVICE_CONTIGUOUS, 0, 0, 0, "c");
	double end = now() + seconds() / 2;
	double limit = now() + 8 * seconds();
	size_t size = 512 * KIB;
	long rounds = 0, lost = 0;

	REQUIRE(cdev > 0);
	wrace.words = size / 4;
	wrace.shadow = calloc(wrace.words, 4);
	REQUIRE(wrace.shadow);
	while ((now() < end || rounds <= 5) && now() < limit) {
		int fd = zt_alloc(zfd, size, 0, "write-race");
		uint32_t crc;
		pthread_t th;
		long passes;
		int id;

		REQUIRE(fd >= 0);
		wrace.map = zt_mmap(fd, size, 0);
		REQUIRE(wrace.map);
		memset(wrace.map, 0, size);
		memset(wrace.shadow, 0, size);
		wrace.stop = 0;
		passes = wrace.writes;
		REQUIRE(!pthread_create(&th, NULL, writer, NULL));
		wait_passes(passes + 1);
		/* migrates while the writer writes */
		id = zt_attach(tfd, cdev, fd);
		CHECK(id > 0);
		/* and the writer goes on over the new backing */
		wait_passes(wrace.writes + 2);
		wrace.stop = 1;
		pthread_join(th, NULL);
		CHECK_EQ(zt_debugfs_num(zt_ino(fd), "migrations"), 1);
		for (size_t i = 0; i < wrace.words; i++)
			lost += wrace.map[i] != wrace.shadow[i];
		if (id > 0) {
			/* the device sees the same words, on the new backing */
			CHECK_EQ(zt_map(tfd, id, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
			CHECK_EQ(zt_checksum(tfd, id, 0, size, &crc), 0);
			CHECK_EQ(crc, zt_crc32(0, wrace.shadow, size));
			CHECK_EQ(zt_unmap(tfd, id), 0);
			CHECK_EQ(zt_detach(tfd, id), 0);
		}
		munmap(wrace.map, size);
		close(fd);
		rounds++;
	}
	free(wrace.shadow);
	zt_note("%ld migrations under %ld full-buffer writes, %ld words lost",
		rounds, (long)wrace.writes, lost);
	CHECK(rounds > 5);
	CHECK(wrace.writes > rounds);
	CHECK_EQ(lost, 0);
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
	CHECK_EQ(s.deferred, 0);
	CHECK_EQ(s.contiguous, 0);
	CHECK_EQ(s.attachments, 0);
	CHECK_EQ(s.maps, 0);
	CHECK_EQ(zt_debugfs_buffers(), 0);
}

static const struct zt_case cases[] = {
	ZT_CASE(threads_share_buffers),
	ZT_CASE(migration_races_cpu_reads),
	ZT_CASE(migration_races_cpu_writer),
	ZT_CASE(nothing_left_behind),
};

int main(int argc, char **argv)
{
	return zt_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
