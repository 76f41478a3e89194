/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcbuf: a dma-buf exporter with deferred allocation, constraint collation
 * and migration, plus virtual importer devices for tests.
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
/* Export read-only: the fd is O_RDONLY, device write mappings are refused. */
#define ZCBUF_ALLOC_READONLY (1U << 1)
/* Allocate the backing now instead of at the first map, fault or access. */
#define ZCBUF_ALLOC_IMMEDIATE (1U << 2)
#define ZCBUF_ALLOC_FLAGS \
	(ZCBUF_ALLOC_CONTIGUOUS | ZCBUF_ALLOC_READONLY | ZCBUF_ALLOC_IMMEDIATE)

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

/* ZCBUF_IOC_DEVICE_CREATE flags */
/* The device can only address one physically contiguous range. */
#define ZCBUF_DEVICE_CONTIGUOUS (1U << 0)
#define ZCBUF_DEVICE_FLAGS ZCBUF_DEVICE_CONTIGUOUS

/**
 * struct zcbuf_device_create - ZCBUF_IOC_DEVICE_CREATE argument
 * @max_segment_size: in: largest DMA segment, 0 for the default (64 KiB),
 *	else 4096 to 2^32 - 1
 * @segment_boundary: in: segment boundary mask, 0 for none, else 2^n - 1
 *	with 2^n at least 4096 and at least @max_segment_size
 * @alignment: in: 0 or a power of two up to 4 MiB: required start
 *	alignment; more than the page size makes the backing contiguous
 * @dma_mask_bits: in: width of the DMA mask, 32 to 64, 0 for 64
 * @flags: in: ZCBUF_DEVICE_*
 * @name: in: NUL-terminated name for debugfs, may be empty
 * @id: out: device id for the other ioctls, unique within the open file
 * @reserved: must be zero
 *
 * Devices, and the attachments made with them, belong to the open file of
 * /dev/zcbuf that created them and go away when it is closed.
 */
struct zcbuf_device_create {
	__u64 max_segment_size;
	__u64 segment_boundary;
	__u64 alignment;
	__u32 dma_mask_bits;
	__u32 flags;
	char name[ZCBUF_NAME_LEN];
	__u32 id;
	__u32 reserved;
};

/* ZCBUF_IOC_DEVICE_DESTROY, ZCBUF_IOC_DETACH and ZCBUF_IOC_UNMAP argument */
struct zcbuf_id {
	__u32 id;
	__u32 reserved;
};

/**
 * struct zcbuf_attach - ZCBUF_IOC_ATTACH argument
 * @dmabuf_fd: in: any dma-buf, ours or another exporter's
 * @device_id: in: a device from ZCBUF_IOC_DEVICE_CREATE
 * @id: out: attachment id, unique within the open file
 * @reserved: must be zero
 */
struct zcbuf_attach {
	__s32 dmabuf_fd;
	__u32 device_id;
	__u32 id;
	__u32 reserved;
};

/* Directions, as enum dma_data_direction. */
#define ZCBUF_DIR_BIDIRECTIONAL 0
#define ZCBUF_DIR_TO_DEVICE 1
#define ZCBUF_DIR_FROM_DEVICE 2

/**
 * struct zcbuf_map - ZCBUF_IOC_MAP argument
 * @id: in: attachment, not mapped yet (one mapping per attachment)
 * @direction: in: ZCBUF_DIR_*
 * @length: out: total mapped length in bytes
 * @nents: out: number of DMA segments
 * @reserved: must be zero
 */
struct zcbuf_map {
	__u32 id;
	__u32 direction;
	__u64 length;
	__u32 nents;
	__u32 reserved;
};

/* ZCBUF_IOC_FILL modes */
/* Every byte is (pattern & 0xff). */
#define ZCBUF_FILL_CONSTANT 0
/* The little-endian 32-bit word at byte offset o is pattern + o / 4. */
#define ZCBUF_FILL_COUNTER 1

/**
 * struct zcbuf_fill - ZCBUF_IOC_FILL argument: device writes a pattern
 * @id: in: attachment mapped FROM_DEVICE or BIDIRECTIONAL
 * @mode: in: ZCBUF_FILL_*
 * @pattern: in: see the modes
 * @reserved: must be zero
 * @offset: in: first byte (multiple of 4 for COUNTER)
 * @length: in: bytes, not zero (multiple of 4 for COUNTER)
 *
 * In FILL, COPY and CHECKSUM the range must lie inside the mapped length.
 */
struct zcbuf_fill {
	__u32 id;
	__u32 mode;
	__u32 pattern;
	__u32 reserved;
	__u64 offset;
	__u64 length;
};

/**
 * struct zcbuf_copy - ZCBUF_IOC_COPY argument: device-to-device transfer
 * @src_id: in: attachment mapped TO_DEVICE or BIDIRECTIONAL
 * @dst_id: in: attachment mapped FROM_DEVICE or BIDIRECTIONAL
 * @src_offset: in
 * @dst_offset: in
 * @length: in: not zero; the ranges must not overlap within one dma-buf
 */
struct zcbuf_copy {
	__u32 src_id;
	__u32 dst_id;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 length;
};

/**
 * struct zcbuf_checksum - ZCBUF_IOC_CHECKSUM argument: device reads
 * @id: in: attachment mapped TO_DEVICE or BIDIRECTIONAL
 * @crc32: out: crc32_le(~0, data) ^ ~0, as zlib's crc32()
 * @offset: in
 * @length: in: not zero
 */
struct zcbuf_checksum {
	__u32 id;
	__u32 crc32;
	__u64 offset;
	__u64 length;
};

/**
 * struct zcbuf_stats - ZCBUF_IOC_STATS argument, all out
 * @buffers: live exported buffers
 * @bytes: bytes of backing allocated now
 * @deferred: buffers without backing yet
 * @contiguous: buffers with contiguous backing
 * @devices: live virtual devices
 * @attachments: live attachments made through ZCBUF_IOC_ATTACH
 * @maps: outstanding device mappings of our buffers (any importer)
 * @migrations: backing migrations since the module was loaded
 * @reserved: zero
 */
struct zcbuf_stats {
	__u64 buffers;
	__u64 bytes;
	__u64 deferred;
	__u64 contiguous;
	__u64 devices;
	__u64 attachments;
	__u64 maps;
	__u64 migrations;
	__u64 reserved[8];
};

#define ZCBUF_IOC_MAGIC 'Z'

#define ZCBUF_IOC_ALLOC _IOWR(ZCBUF_IOC_MAGIC, 0x00, struct zcbuf_alloc)
#define ZCBUF_IOC_DEVICE_CREATE \
	_IOWR(ZCBUF_IOC_MAGIC, 0x01, struct zcbuf_device_create)
#define ZCBUF_IOC_DEVICE_DESTROY _IOW(ZCBUF_IOC_MAGIC, 0x02, struct zcbuf_id)
#define ZCBUF_IOC_ATTACH _IOWR(ZCBUF_IOC_MAGIC, 0x03, struct zcbuf_attach)
#define ZCBUF_IOC_DETACH _IOW(ZCBUF_IOC_MAGIC, 0x04, struct zcbuf_id)
#define ZCBUF_IOC_MAP _IOWR(ZCBUF_IOC_MAGIC, 0x05, struct zcbuf_map)
#define ZCBUF_IOC_UNMAP _IOW(ZCBUF_IOC_MAGIC, 0x06, struct zcbuf_id)
#define ZCBUF_IOC_FILL _IOW(ZCBUF_IOC_MAGIC, 0x07, struct zcbuf_fill)
#define ZCBUF_IOC_COPY _IOW(ZCBUF_IOC_MAGIC, 0x08, struct zcbuf_copy)
#define ZCBUF_IOC_CHECKSUM _IOWR(ZCBUF_IOC_MAGIC, 0x09, struct zcbuf_checksum)
#define ZCBUF_IOC_STATS _IOR(ZCBUF_IOC_MAGIC, 0x0a, struct zcbuf_stats)

#endif /* _UAPI_LINUX_ZCBUF_H */
