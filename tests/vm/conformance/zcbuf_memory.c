// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Where zcbuf puts memory for a device's DMA mask, in a guest with memory
 * above 4 GiB: a 40-bit device gets it anywhere (above 4 GiB here, where
 * the allocator prefers), a 32-bit one below 4 GiB, and a buffer allocated
 * above 4 GiB migrates below when a 32-bit device attaches.
 * Runs in the guest: vm-run --memory 6144 --module zcbuf --module zcbuf_test
 * -- zcbuf_memory (it fails in a guest without memory above 4 GiB).
 */
#define _GNU_SOURCE
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

#define GIB (1024ULL * MIB)

static uint64_t mem_total(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib * KIB;
}

/*
 * The highest physical address of fd's backing, from debugfs (pagemap
 * shows nothing for VM_PFNMAP mappings).
 */
static uint64_t last_phys(int fd)
{
	char buf[32];

	REQUIRE(!zt_debugfs_str(zt_ino(fd), "last_phys", buf, sizeof(buf)));
	return strtoull(buf, NULL, 16);
}

/* last_phys of a deferred buffer that device dev attached and mapped. */
static uint64_t backing_for(int zfd, int tfd, int dev, size_t size)
{
	int fd = zt_alloc(zfd, size, 0, NULL);
	int att;

	REQUIRE(fd >= 0);
	att = zt_attach(tfd, dev, fd);
	REQUIRE(att > 0);
	CHECK_EQ(zt_map(tfd, att, ZCBUF_TEST_DIR_TO_DEVICE, NULL), 0);
	return last_phys(fd);
}

static void dma_mask_decides_zone(void)
{
	int zfd = zt_open_zcbuf();
	int tfd = zt_open_test();
	int d40 = zt_device(tfd, 0, 0, 40, 0, "mask40");
	int d32 = zt_device(tfd, 0, 0, 32, 0, "mask32");
	size_t size = 16 * MIB;
	uint64_t hi;
	int c, att;

	zt_note("guest memory: %llu MiB",
		(unsigned long long)(mem_total() / MIB));
	REQUIRE(mem_total() > 9 * GIB / 2);
	REQUIRE(d40 > 0 && d32 > 0);

	/* 40 bits: not pushed below 4 GiB */
	hi = backing_for(zfd, tfd, d40, size);
	zt_note("40-bit: up to %#llx", (unsigned long long)hi);
	CHECK(hi >= 4 * GIB);
	CHECK(hi < (1ULL << 40));
	/* 32 bits: below 4 GiB */
	hi = backing_for(zfd, tfd, d32, size);
	zt_note("32-bit: up to %#llx", (unsigned long long)hi);
	CHECK(hi < 4 * GIB);

	/* backing above 4 GiB moves below for a 32-bit device */
	c = zt_alloc(zfd, size, ZCBUF_ALLOC_IMMEDIATE, "moves-down");
	REQUIRE(c >= 0);
	hi = last_phys(c);
	zt_note("no mask: up to %#llx", (unsigned long long)hi);
	CHECK(hi >= 4 * GIB);
	att = zt_attach(tfd, d32, c);
	REQUIRE(att > 0);
	CHECK_EQ(zt_debugfs_num(zt_ino(c), "migrations"), 1);
	hi = last_phys(c);
	CHECK(hi < 4 * GIB);
}

static const struct zt_case cases[] = {
	ZT_CASE(dma_mask_decides_zone),
};

int main(int argc, char **argv)
{
	return zt_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
