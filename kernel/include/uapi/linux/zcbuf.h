/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcbuf: a dma-buf exporter with deferred allocation, constraint collation
 * and migration. The virtual importer devices the tests use are a separate
 * module with its own header (zcbuf_test.h).
 *
 * The same header is used by the module and by user space (libzcbuf).
 * Every structure uses fixed-size types with explicit padding; every
 * reserved field must be zero (the module returns -EINVAL otherwise).
 */
#ifndef _UAPI_LINUX_ZCBUF_H
#define _UAPI_LINUX_ZCBUF_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Buffer and device names, NUL included (same limit as DMA_BUF_SET_NAME). */
#define ZCBUF_NAME_LEN 32

/* ZCBUF_IOC_ALLOC flags */
/* Back the buffer with one physically contiguous range. */
#define ZCBUF_ALLOC_CONTIGUOUS (1U << 0)
/*
 * Export read-only to user space: the fd is O_RDONLY, so no writable mmap and
 * no DMA_BUF_IOCTL_SYNC with DMA_BUF_SYNC_WRITE. Devices may attach and map
 * it in any direction (a direction is a cache-maintenance hint); an importer
 * that writes must check that the dma-buf's file is open for write.
 */
#define ZCBUF_ALLOC_READONLY (1U << 1)
/* Allocate the backing now instead of at the first map, fault or access. */
#define ZCBUF_ALLOC_IMMEDIATE (1U << 2)
/*
 * Export as a dynamic exporter (dma_buf_ops with pin/unpin): a dynamic
 * importer (amdgpu, i915, RDMA) then maps when it needs the memory, so the
 * allocation waits for its first map and the backing may migrate between
 * its maps, while a static importer (vgem, vivid, virtio-gpu, videobuf2) is
 * pinned and mapped by the core at attach. Without this flag it is the
 * other way round. A migration calls dma_buf_move_notify().
 */
#define ZCBUF_ALLOC_DYNAMIC (1U << 3)
#define ZCBUF_ALLOC_FLAGS \
	(ZCBUF_ALLOC_CONTIGUOUS | ZCBUF_ALLOC_READONLY | ZCBUF_ALLOC_IMMEDIATE | \
	 ZCBUF_ALLOC_DYNAMIC)

/**
 * struct zcbuf_alloc - ZCBUF_IOC_ALLOC argument
 * @size: in: size in bytes, rounded up to the page size; not zero
 * @alignment: in: 0, or a power of two: alignment of the backing's start
 *	address; more than the page size can only be met by contiguous backing
 * @flags: in: ZCBUF_ALLOC_*
 * @fd: out: the dma-buf fd, O_CLOEXEC, O_RDWR (O_RDONLY when READONLY)
 * @name: in: NUL-terminated name shown in fdinfo and debugfs, may be empty
 * @reserved: must be zero
 *
 * The memory is always zeroed before any importer or mapping sees it.
 */
struct zcbuf_alloc {
	__u64 size;
	__u64 alignment;
	__u32 flags;
	__s32 fd;
	char name[ZCBUF_NAME_LEN];
	__u64 reserved[2];
};

/**
 * struct zcbuf_stats - ZCBUF_IOC_STATS argument, all out
 * @buffers: live exported buffers
 * @bytes: bytes of backing allocated now
 * @deferred: buffers without backing yet
 * @contiguous: buffers with contiguous backing
 * @attachments: live attachments of our buffers (any importer)
 * @maps: outstanding device mappings of our buffers (any importer)
 * @migrations: backing migrations since the module was loaded
 * @reserved: zero
 */
struct zcbuf_stats {
	__u64 buffers;
	__u64 bytes;
	__u64 deferred;
	__u64 contiguous;
	__u64 attachments;
	__u64 maps;
	__u64 migrations;
	__u64 reserved[9];
};

#define ZCBUF_IOC_MAGIC 'Z'

#define ZCBUF_IOC_ALLOC _IOWR(ZCBUF_IOC_MAGIC, 0x00, struct zcbuf_alloc)
#define ZCBUF_IOC_STATS _IOR(ZCBUF_IOC_MAGIC, 0x0a, struct zcbuf_stats)

#endif /* _UAPI_LINUX_ZCBUF_H */
