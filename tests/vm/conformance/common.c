// SPDX-License-Identifier: LGPL-2.1-or-later
/* Helpers of the conformance programs: see common.h. */
#define _GNU_SOURCE
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int zt_failures;

void zt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	zt_failures++;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void zt_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void zt_end_case(void)
{
	fflush(stdout);
	_exit(zt_failures ? 1 : 0);
}

const char *zt_errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

int zt_run(const struct zt_case *cases, size_t n, int argc, char **argv)
{
	int failed = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int status = 0;
		pid_t pid;
		int ok;

		/* "prog case-name..." runs only those cases (for debugging) */
		if (argc > 1) {
			int wanted = 0;

			for (int a = 1; a < argc; a++)
				wanted |= !strcmp(argv[a], cases[i].name);
			if (!wanted)
				continue;
		}
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			cases[i].fn();
			zt_end_case();
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (WIFSIGNALED(status))
			printf("# killed by signal %d\n", WTERMSIG(status));
		printf("%s %zu - %s\n", ok ? "ok" : "not ok", i + 1,
		       cases[i].name);
		fflush(stdout);
		failed += !ok;
	}
	printf("1..%zu\n", n);
	return failed ? 1 : 0;
}

int zt_open_zcbuf(void)
{
	int fd = open("/dev/zcbuf", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		zt_fail(__FILE__, __LINE__, "open /dev/zcbuf: %s",
			strerror(errno));
		zt_end_case();
	}
	return fd;
}

int zt_open_test(void)
{
	int fd = open("/dev/zcbuf_test", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		zt_fail(__FILE__, __LINE__, "open /dev/zcbuf_test: %s",
			strerror(errno));
		zt_end_case();
	}
	return fd;
}

void zt_set_param(const char *name, const char *value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/zcbuf/parameters/%s", name);
	f = fopen(path, "w");
	if (!f || fputs(value, f) < 0 || fclose(f)) {
		zt_fail(__FILE__, __LINE__, "writing %s: %s", path,
			strerror(errno));
		zt_end_case();
	}
}

static int zt_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN));
	return ret < 0 ? -errno : ret;
}

int zt_alloc(int zfd, uint64_t size, uint32_t flags, const char *name)
{
	struct zcbuf_alloc a = { .size = size, .flags = flags };
	int ret;

	if (name)
		snprintf(a.name, sizeof(a.name), "%s", name);
	ret = zt_ioctl(zfd, ZCBUF_IOC_ALLOC, &a);
	return ret < 0 ? ret : a.fd;
}

void zt_stats(int zfd, struct zcbuf_stats *s)
{
	memset(s, 0xff, sizeof(*s));
	if (zt_ioctl(zfd, ZCBUF_IOC_STATS, s)) {
		zt_fail(__FILE__, __LINE__, "STATS: %s", strerror(errno));
		zt_end_case();
	}
}

int zt_device(int tfd, uint32_t flags, uint64_t max_segment,
	      uint32_t mask_bits, uint64_t alignment, const char *name)
{
	struct zcbuf_test_device_create d = {
		.flags = flags,
		.max_segment_size = max_segment,
		.dma_mask_bits = mask_bits,
		.alignment = alignment,
	};
	int ret;

	if (name)
		snprintf(d.name, sizeof(d.name), "%s", name);
	ret = zt_ioctl(tfd, ZCBUF_TEST_IOC_DEVICE_CREATE, &d);
	return ret < 0 ? ret : (int)d.id;
}

int zt_attach(int tfd, uint32_t device, int dmabuf_fd)
{
	struct zcbuf_test_attach a = { .dmabuf_fd = dmabuf_fd, .device_id = device };
	int ret = zt_ioctl(tfd, ZCBUF_TEST_IOC_ATTACH, &a);

	return ret < 0 ? ret : (int)a.id;
}

int zt_detach(int tfd, uint32_t id)
{
	struct zcbuf_test_id i = { .id = id };

	return zt_ioctl(tfd, ZCBUF_TEST_IOC_DETACH, &i);
}

int zt_map(int tfd, uint32_t id, uint32_t dir, struct zcbuf_test_map *m)
{
	struct zcbuf_test_map local;

	if (!m)
		m = &local;
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->direction = dir;
	return zt_ioctl(tfd, ZCBUF_TEST_IOC_MAP, m);
}

int zt_unmap(int tfd, uint32_t id)
{
	struct zcbuf_test_id i = { .id = id };

	return zt_ioctl(tfd, ZCBUF_TEST_IOC_UNMAP, &i);
}

int zt_fill(int tfd, uint32_t id, uint32_t mode, uint32_t pattern,
	    uint64_t offset, uint64_t length)
{
	struct zcbuf_test_fill f = {
		.id = id, .mode = mode, .pattern = pattern,
		.offset = offset, .length = length,
	};

	return zt_ioctl(tfd, ZCBUF_TEST_IOC_FILL, &f);
}

int zt_copy(int tfd, uint32_t src, uint32_t dst, uint64_t src_offset,
	    uint64_t dst_offset, uint64_t length)
{
	struct zcbuf_test_copy c = {
		.src_id = src, .dst_id = dst, .src_offset = src_offset,
		.dst_offset = dst_offset, .length = length,
	};

	return zt_ioctl(tfd, ZCBUF_TEST_IOC_COPY, &c);
}

int zt_checksum(int tfd, uint32_t id, uint64_t offset, uint64_t length,
		uint32_t *crc)
{
	struct zcbuf_test_checksum k = { .id = id, .offset = offset,
				    .length = length };
	int ret = zt_ioctl(tfd, ZCBUF_TEST_IOC_CHECKSUM, &k);

	if (!ret && crc)
		*crc = k.crc32;
	return ret;
}

void zt_test_stats(int tfd, struct zcbuf_test_stats *s)
{
	memset(s, 0xff, sizeof(*s));
	if (zt_ioctl(tfd, ZCBUF_TEST_IOC_STATS, s)) {
		zt_fail(__FILE__, __LINE__, "TEST STATS: %s", strerror(errno));
		zt_end_case();
	}
}

int zt_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return zt_ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

void *zt_mmap(int fd, size_t size, int ro)
{
	void *p = mmap(NULL, size, ro ? PROT_READ : PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static uint32_t zt_crc_table[256];

uint32_t zt_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!zt_crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
			zt_crc_table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = zt_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

void zt_counter_fill(void *p, uint32_t pattern, uint64_t off, uint64_t len)
{
	uint8_t *b = p;

	for (uint64_t i = 0; i + 4 <= len; i += 4) {
		uint32_t v = pattern + (uint32_t)((off + i) / 4);

		b[i] = v;
		b[i + 1] = v >> 8;
		b[i + 2] = v >> 16;
		b[i + 3] = v >> 24;
	}
}

long zt_counter_check(const void *p, uint32_t pattern, uint64_t off,
		      uint64_t len)
{
	const uint8_t *b = p;

	for (uint64_t i = 0; i + 4 <= len; i += 4) {
		uint32_t v = pattern + (uint32_t)((off + i) / 4);
		uint32_t got = b[i] | b[i + 1] << 8 | b[i + 2] << 16 |
			       (uint32_t)b[i + 3] << 24;

		if (got != v)
			return (long)(i / 4);
	}
	return -1;
}

uint32_t zt_counter_crc(uint32_t pattern, uint64_t offset, uint64_t length)
{
	uint8_t chunk[4096];
	uint32_t crc = 0;

	while (length) {
		uint64_t n = length < sizeof(chunk) ? length : sizeof(chunk);

		zt_counter_fill(chunk, pattern, offset, n);
		crc = zt_crc32(crc, chunk, n);
		offset += n;
		length -= n;
	}
	return crc;
}

ino_t zt_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

char *zt_debugfs_line(ino_t ino)
{
	FILE *f = fopen("/sys/kernel/debug/zcbuf/buffers", "r");
	char prefix[64];
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	snprintf(prefix, sizeof(prefix), "buffer ino=%lu ",
		 (unsigned long)ino);
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, prefix, strlen(prefix))) {
			fclose(f);
			return line;
		}
	}
	free(line);
	fclose(f);
	return NULL;
}

int zt_debugfs_str(ino_t ino, const char *key, char *out, size_t len)
{
	char *line = zt_debugfs_line(ino);
	char pat[64];
	char *p;
	size_t n;

	if (!line)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p) {
		free(line);
		return -1;
	}
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	free(line);
	return 0;
}

long long zt_debugfs_num(ino_t ino, const char *key)
{
	char buf[64];

	if (zt_debugfs_str(ino, key, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

int zt_debugfs_buffers(void)
{
	FILE *f = fopen("/sys/kernel/debug/zcbuf/buffers", "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		n += !strncmp(line, "buffer ", 7);
	free(line);
	fclose(f);
	return n;
}

int zt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}
