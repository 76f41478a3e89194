/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zcbuf_test: virtual importer devices and software DMA, for testing
 * dma-buf exporters (zcbuf.ko and any other) from user space. Not part of
 * zcbuf's production interface: only the VM test suite builds and loads it.
 *
 * /dev/zcbuf_test needs CAP_SYS_ADMIN to create a device. A device maps a
 * dma-buf in a direction that lets it write (FROM_DEVICE, BIDIRECTIONAL)
 * only when the dma-buf's file is open for write; FILL and COPY write only
 * through such a mapping, so a buffer held read-only is never written.
 *
 * Every structure uses fixed-size types with explicit padding; every
 * reserved field must be zero (the module returns -EINVAL otherwise).
 */
#ifndef _UAPI_LINUX_ZCBUF_TEST_H
#define _UAPI_LINUX_ZCBUF_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Device names, NUL included. */
#define ZCBUF_TEST_NAME_LEN 32

/* Devices one open file may hold at once. */
#define ZCBUF_TEST_MAX_DEVICES 64

/* ZCBUF_TEST_IOC_DEVICE_CREATE flags */
/* The device can only address one physically contiguous range. */
#define ZCBUF_TEST_DEVICE_CONTIGUOUS (1U << 0)
/*
 * The device is a dynamic importer (importer_ops with move_notify, as
 * amdgpu, i915 and RDMA are): when the exporter is static, as zcbuf is, the
 * core maps its attachments BIDIRECTIONAL at attach time and keeps that
 * mapping until detach; MAP then hands out that mapping.
 */
#define ZCBUF_TEST_DEVICE_DYNAMIC (1U << 1)
#define ZCBUF_TEST_DEVICE_FLAGS \
	(ZCBUF_TEST_DEVICE_CONTIGUOUS | ZCBUF_TEST_DEVICE_DYNAMIC)

/**
 * struct zcbuf_test_device_create - ZCBUF_TEST_IOC_DEVICE_CREATE argument
 * @max_segment_size: in: largest DMA segment, 0 for the default (64 KiB),
 *	else 4096 to 2^32 - 1
 * @segment_boundary: in: segment boundary mask, 0 for none, else 2^n - 1
 *	with 2^n at least 4096 and at least @max_segment_size
 * @alignment: in: 0 or a power of two up to 4 MiB: required start
 *	alignment; more than the page size makes the backing contiguous
 * @dma_mask_bits: in: width of the DMA mask, 32 to 64, 0 for 64
 * @flags: in: ZCBUF_TEST_DEVICE_*
 * @name: in: NUL-terminated name, the device's "label" property, which
 *	zcbuf's debugfs shows; may be empty
 * @id: out: device id for the other ioctls, unique within the open file
 * @reserved: must be zero
 *
 * Needs CAP_SYS_ADMIN (each device is a platform device). Devices, and the
 * attachments made with them, belong to the open file of /dev/zcbuf_test
 * that created them and go away when it is closed; one file holds at most
 * ZCBUF_TEST_MAX_DEVICES. The contiguity and alignment a device needs are
 * its "zcbuf,contiguous" and "zcbuf,alignment" device properties, where
 * zcbuf.ko reads them when it attaches.
 */
struct zcbuf_test_device_create {
	__u64 max_segment_size;
	__u64 segment_boundary;
	__u64 alignment;
	__u32 dma_mask_bits;
	__u32 flags;
	char name[ZCBUF_TEST_NAME_LEN];
	__u32 id;
	__u32 reserved;
};

/* ZCBUF_TEST_IOC_DEVICE_DESTROY, _DETACH and _UNMAP argument */
struct zcbuf_test_id {
	__u32 id;
	__u32 reserved;
};

/**
 * struct zcbuf_test_attach - ZCBUF_TEST_IOC_ATTACH argument
 * @dmabuf_fd: in: any dma-buf, zcbuf's or another exporter's
 * @device_id: in: a device from ZCBUF_TEST_IOC_DEVICE_CREATE
 * @id: out: attachment id, unique within the open file
 * @reserved: must be zero
 */
struct zcbuf_test_attach {
	__s32 dmabuf_fd;
	__u32 device_id;
	__u32 id;
	__u32 reserved;
};

/* Directions, as enum dma_data_direction. */
#define ZCBUF_TEST_DIR_BIDIRECTIONAL 0
#define ZCBUF_TEST_DIR_TO_DEVICE 1
#define ZCBUF_TEST_DIR_FROM_DEVICE 2

/**
 * struct zcbuf_test_map - ZCBUF_TEST_IOC_MAP argument
 * @id: in: attachment, not mapped yet (one mapping per attachment)
 * @direction: in: ZCBUF_TEST_DIR_*; FROM_DEVICE and BIDIRECTIONAL need a
 *	dma-buf whose file is open for write (else EACCES)
 * @length: out: total mapped length in bytes
 * @nents: out: number of DMA segments
 * @reserved: must be zero
 */
struct zcbuf_test_map {
	__u32 id;
	__u32 direction;
	__u64 length;
	__u32 nents;
	__u32 reserved;
};

/* ZCBUF_TEST_IOC_FILL modes */
/* Every byte is (pattern & 0xff). */
#define ZCBUF_TEST_FILL_CONSTANT 0
/* The little-endian 32-bit word at byte offset o is pattern + o / 4. */
#define ZCBUF_TEST_FILL_COUNTER 1

/**
 * struct zcbuf_test_fill - ZCBUF_TEST_IOC_FILL argument: the device writes
 * @id: in: attachment mapped FROM_DEVICE or BIDIRECTIONAL
 * @mode: in: ZCBUF_TEST_FILL_*
 * @pattern: in: see the modes
 * @reserved: must be zero
 * @offset: in: first byte (multiple of 4 for COUNTER)
 * @length: in: bytes, not zero (multiple of 4 for COUNTER)
 *
 * In FILL, COPY and CHECKSUM the range must lie inside the mapped length.
 */
struct zcbuf_test_fill {
	__u32 id;
	__u32 mode;
	__u32 pattern;
	__u32 reserved;
	__u64 offset;
	__u64 length;
};

/**
 * struct zcbuf_test_copy - ZCBUF_TEST_IOC_COPY argument: device to device
 * @src_id: in: attachment mapped TO_DEVICE or BIDIRECTIONAL
 * @dst_id: in: attachment mapped FROM_DEVICE or BIDIRECTIONAL
 * @src_offset: in
 * @dst_offset: in
 * @length: in: not zero; the ranges must not overlap within one dma-buf
 */
struct zcbuf_test_copy {
	__u32 src_id;
	__u32 dst_id;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 length;
};

/**
 * struct zcbuf_test_checksum - ZCBUF_TEST_IOC_CHECKSUM argument: the device reads
 * @id: in: attachment mapped TO_DEVICE or BIDIRECTIONAL
 * @crc32: out: crc32_le(~0, data) ^ ~0, as zlib's crc32()
 * @offset: in
 * @length: in: not zero
 */
struct zcbuf_test_checksum {
	__u32 id;
	__u32 crc32;
	__u64 offset;
	__u64 length;
};

/**
 * struct zcbuf_test_stats - ZCBUF_TEST_IOC_STATS argument, all out
 * @devices: live virtual devices, all files
 * @attachments: live attachments made through ZCBUF_TEST_IOC_ATTACH
 * @move_notifies: move_notify calls dynamic attachments received
 * @reserved: zero
 */
struct zcbuf_test_stats {
	__u64 devices;
	__u64 attachments;
	__u64 move_notifies;
	__u64 reserved[5];
};

#define ZCBUF_TEST_IOC_MAGIC 'Z'

#define ZCBUF_TEST_IOC_DEVICE_CREATE \
	_IOWR(ZCBUF_TEST_IOC_MAGIC, 0x41, struct zcbuf_test_device_create)
#define ZCBUF_TEST_IOC_DEVICE_DESTROY \
	_IOW(ZCBUF_TEST_IOC_MAGIC, 0x42, struct zcbuf_test_id)
#define ZCBUF_TEST_IOC_ATTACH \
	_IOWR(ZCBUF_TEST_IOC_MAGIC, 0x43, struct zcbuf_test_attach)
#define ZCBUF_TEST_IOC_DETACH \
	_IOW(ZCBUF_TEST_IOC_MAGIC, 0x44, struct zcbuf_test_id)
#define ZCBUF_TEST_IOC_MAP \
	_IOWR(ZCBUF_TEST_IOC_MAGIC, 0x45, struct zcbuf_test_map)
#define ZCBUF_TEST_IOC_UNMAP \
	_IOW(ZCBUF_TEST_IOC_MAGIC, 0x46, struct zcbuf_test_id)
#define ZCBUF_TEST_IOC_FILL \
	_IOW(ZCBUF_TEST_IOC_MAGIC, 0x47, struct zcbuf_test_fill)
#define ZCBUF_TEST_IOC_COPY \
	_IOW(ZCBUF_TEST_IOC_MAGIC, 0x48, struct zcbuf_test_copy)
#define ZCBUF_TEST_IOC_CHECKSUM \
	_IOWR(ZCBUF_TEST_IOC_MAGIC, 0x49, struct zcbuf_test_checksum)
#define ZCBUF_TEST_IOC_STATS \
	_IOR(ZCBUF_TEST_IOC_MAGIC, 0x4a, struct zcbuf_test_stats)

#endif /* _UAPI_LINUX_ZCBUF_TEST_H */
