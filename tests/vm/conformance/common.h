/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the conformance programs that run in the guest: a
 * small TAP runner that forks each case, and thin wrappers over the zcbuf,
 * zcbuf_test and dma-buf ioctls.
 */
#ifndef ZCBUF_CONFORMANCE_COMMON_H
#define ZCBUF_CONFORMANCE_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <linux/dma-buf.h>
#include <linux/zcbuf.h>
#include <linux/zcbuf_test.h>

#define KIB 1024ULL
#define MIB (1024ULL * 1024ULL)
#define PAGE 4096ULL

/* ---- TAP ---------------------------------------------------------------- */

struct zt_case {
	const char *name;
	void (*fn)(void);
};

#define ZT_CASE(fn) { #fn, fn }

/* Runs each case in a child process; prints "ok N - name" or "not ok N -
 * name" for each and the plan at the end. Returns the exit status. */
int zt_run(const struct zt_case *cases, size_t n, int argc, char **argv);

void zt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void zt_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond))                                                \
			zt_fail(__FILE__, __LINE__, "failed: %s", #cond);   \
	} while (0)

/* expr must equal want; both printed (errno values print as numbers). */
#define CHECK_EQ(expr, want)                                                \
	do {                                                                \
		long long _g = (long long)(expr), _w = (long long)(want);   \
		if (_g != _w)                                               \
			zt_fail(__FILE__, __LINE__,                         \
				"%s == %lld, expected %lld", #expr, _g,     \
				_w);                                        \
	} while (0)

/* Fails the case and ends it (cases run in their own process). */
#define REQUIRE(cond)                                                       \
	do {                                                                \
		if (!(cond)) {                                              \
			zt_fail(__FILE__, __LINE__, "required: %s", #cond); \
			zt_end_case();                                      \
		}                                                           \
	} while (0)

/* expr must succeed (>= 0). */
#define CHECK_OK(expr)                                                      \
	({                                                                  \
		long long _r = (long long)(expr);                           \
		if (_r < 0)                                                 \
			zt_fail(__FILE__, __LINE__, "%s: %s", #expr,        \
				strerror(errno));                           \
		_r;                                                         \
	})

/* expr must fail with -1 and errno == err. */
#define CHECK_ERR(expr, err)                                                \
	do {                                                                \
		errno = 0;                                                  \
		long long _r = (long long)(expr);                           \
		int _e = errno;                                             \
		if (_r != -1 || _e != (err))                                \
			zt_fail(__FILE__, __LINE__,                         \
				"%s: expected -1/%s, got %lld/%s", #expr,   \
				zt_errname(err), _r,                      \
				_r == -1 ? zt_errname(_e) : "-");         \
	} while (0)

void zt_end_case(void) __attribute__((noreturn));
const char *zt_errname(int err);

/* ---- zcbuf and dma-buf --------------------------------------------------- */

/* /dev/zcbuf (the exporter); ends the case when it cannot be opened. */
int zt_open_zcbuf(void);
/* /dev/zcbuf_test (the virtual importers); the same. */
int zt_open_test(void);
/* ALLOC; returns the fd, or -errno. */
int zt_alloc(int zfd, uint64_t size, uint32_t flags, const char *name);
void zt_stats(int zfd, struct zcbuf_stats *s);
/* zcbuf.ko's module parameter NAME (/sys/module/zcbuf/parameters). */
void zt_set_param(const char *name, const char *value);

/* On /dev/zcbuf_test (tfd). DEVICE_CREATE; returns the id, or -errno. */
int zt_device(int tfd, uint32_t flags, uint64_t max_segment,
	      uint32_t mask_bits, uint64_t alignment, const char *name);
int zt_attach(int tfd, uint32_t device, int dmabuf_fd);
int zt_detach(int tfd, uint32_t id);
/* MAP; returns 0 or -errno; fills *m. */
int zt_map(int tfd, uint32_t id, uint32_t dir, struct zcbuf_test_map *m);
int zt_unmap(int tfd, uint32_t id);
int zt_fill(int tfd, uint32_t id, uint32_t mode, uint32_t pattern,
	    uint64_t offset, uint64_t length);
int zt_copy(int tfd, uint32_t src, uint32_t dst, uint64_t src_offset,
	    uint64_t dst_offset, uint64_t length);
/* CHECKSUM; returns 0 or -errno; *crc receives the result. */
int zt_checksum(int tfd, uint32_t id, uint64_t offset, uint64_t length,
		uint32_t *crc);
void zt_test_stats(int tfd, struct zcbuf_test_stats *s);

/* DMA_BUF_IOCTL_SYNC, restarted on EINTR/EAGAIN; 0 or -errno. */
int zt_sync(int fd, uint64_t flags);
/* mmap the whole buffer shared, read/write unless ro; NULL on failure. */
void *zt_mmap(int fd, size_t size, int ro);

/* zlib's crc32 (crc32_le(~0, ...) ^ ~0 in the kernel). */
uint32_t zt_crc32(uint32_t crc, const void *buf, size_t len);
/* crc32 of length bytes of the COUNTER pattern starting at offset. */
uint32_t zt_counter_crc(uint32_t pattern, uint64_t offset, uint64_t length);
/* Write the COUNTER pattern into memory that starts at buffer offset off. */
void zt_counter_fill(void *p, uint32_t pattern, uint64_t off, uint64_t len);
/* Index of the first 32-bit word that breaks the COUNTER pattern, or -1. */
long zt_counter_check(const void *p, uint32_t pattern, uint64_t off,
		      uint64_t len);

ino_t zt_ino(int fd);
/* The debugfs line of the buffer with this inode, or NULL (malloc'ed). */
char *zt_debugfs_line(ino_t ino);
/* A key=value of that line; -1 when missing. */
long long zt_debugfs_num(ino_t ino, const char *key);
/* Writes the value (e.g. "deferred") into out; 0, or -1 when missing. */
int zt_debugfs_str(ino_t ino, const char *key, char *out, size_t len);
/* Number of "buffer" lines. */
int zt_debugfs_buffers(void);
/* Number of open fds of this process. */
int zt_count_fds(void);

#endif
