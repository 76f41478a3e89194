/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf_test: internal declarations shared by the test module's files.
 *
 * Locking, outermost first:
 *   zcbuf_test_file.lock (one per open of /dev/zcbuf_test)
 *   whatever the exporter takes in attach, map, unmap and detach
 */
#ifndef _ZCBUF_TEST_H
#define _ZCBUF_TEST_H

#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <uapi/linux/zcbuf_test.h>

/* The largest alignment a device may ask for: the largest buddy block. */
#define ZCBUF_TEST_MAX_ALIGNMENT	(PAGE_SIZE << (MAX_ORDER - 1))

/* Platform device name of the virtual importers. */
#define ZCBUF_TEST_DEVICE_DRVNAME	"zcbuf-importer"

/**
 * struct zcbuf_test_device - a virtual importer device
 * @pdev: the platform device that owns the DMA mask, dma_parms and the
 *	properties that carry contiguity and alignment
 * @id: id within its file
 * @alignment: required start alignment, at least PAGE_SIZE
 * @dynamic: attaches as a dynamic importer (ZCBUF_TEST_DEVICE_DYNAMIC)
 * @name: user-given name, the device's "label" property
 * @users: attachments made with this device
 */
struct zcbuf_test_device {
	struct platform_device *pdev;
	u32 id;
	u64 alignment;
	bool dynamic;
	char name[ZCBUF_TEST_NAME_LEN];
	unsigned int users;
};

/**
 * struct zcbuf_test_import - an attachment made through ZCBUF_TEST_IOC_ATTACH
 * @id: id within its file
 * @zdev: the device that attached
 * @dmabuf: reference taken with dma_buf_get
 * @attach: the attachment
 * @writable: the dma-buf's file is open for write: the device may write
 * @sgt: the mapping, NULL while not mapped
 * @dir: direction of @sgt
 * @length: bytes covered by @sgt
 */
struct zcbuf_test_import {
	u32 id;
	struct zcbuf_test_device *zdev;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	bool writable;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	u64 length;
};

/**
 * struct zcbuf_test_file - state of one open of /dev/zcbuf_test
 * @lock: protects both arrays and the objects in them
 * @devices: id -> struct zcbuf_test_device
 * @imports: id -> struct zcbuf_test_import
 */
struct zcbuf_test_file {
	/* Guards both arrays and every object in them. */
	struct mutex lock;
	struct xarray devices;
	struct xarray imports;
};

/* main.c */
enum zcbuf_test_stat {
	ZCBUF_TEST_STAT_DEVICES,
	ZCBUF_TEST_STAT_ATTACHMENTS,
	ZCBUF_TEST_STAT_MOVE_NOTIFIES,
};

void zcbuf_test_stats_count(enum zcbuf_test_stat which, int delta);

/* device.c */
long zcbuf_test_ioctl_device_create(struct zcbuf_test_file *zf,
				    void __user *arg);
long zcbuf_test_ioctl_device_destroy(struct zcbuf_test_file *zf,
				     void __user *arg);
void zcbuf_test_device_destroy(struct zcbuf_test_device *zdev);

/* import.c */
long zcbuf_test_ioctl_attach(struct zcbuf_test_file *zf, void __user *arg);
long zcbuf_test_ioctl_detach(struct zcbuf_test_file *zf, void __user *arg);
long zcbuf_test_ioctl_map(struct zcbuf_test_file *zf, void __user *arg);
long zcbuf_test_ioctl_unmap(struct zcbuf_test_file *zf, void __user *arg);
void zcbuf_test_import_release(struct zcbuf_test_import *imp);

/* dma.c */
long zcbuf_test_ioctl_fill(struct zcbuf_test_file *zf, void __user *arg);
long zcbuf_test_ioctl_copy(struct zcbuf_test_file *zf, void __user *arg);
long zcbuf_test_ioctl_checksum(struct zcbuf_test_file *zf, void __user *arg);

#endif /* _ZCBUF_TEST_H */
