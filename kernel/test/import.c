// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_test: the importer side. A virtual device attaches to any dma-buf
 * and maps it exactly as a driver would: dma_buf_get, dma_buf_attach,
 * dma_buf_map_attachment_unlocked ... unmap, detach, dma_buf_put.
 *
 * A mapping direction is a cache-maintenance hint, not access control, and
 * an exporter cannot tell a device that reads from one that writes. So,
 * like any importer that writes into a foreign buffer should, this one
 * checks that the dma-buf's file is open for write before it maps in a
 * direction that lets the device write: a buffer held read-only (a
 * read-only zcbuf export, a dma-heap buffer allocated O_RDONLY) is never
 * written through it.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "zcbuf_test.h"

/*
 * The exporter moved the buffer: a dynamic importer must map again before
 * its next use. Ours only counts: every MAP asks the core anew.
 */
static void zcbuf_test_move_notify(struct dma_buf_attachment *attach)
{
	zcbuf_test_stats_count(ZCBUF_TEST_STAT_MOVE_NOTIFIES, 1);
}

static const struct dma_buf_attach_ops zcbuf_test_importer_ops = {
	.allow_peer2peer = false,
	.move_notify = zcbuf_test_move_notify,
};

static enum dma_data_direction zcbuf_test_dir(u32 dir)
{
	switch (dir) {
	case ZCBUF_TEST_DIR_BIDIRECTIONAL:
		return DMA_BIDIRECTIONAL;
	case ZCBUF_TEST_DIR_TO_DEVICE:
		return DMA_TO_DEVICE;
	case ZCBUF_TEST_DIR_FROM_DEVICE:
		return DMA_FROM_DEVICE;
	default:
		return DMA_NONE;
	}
}

static void zcbuf_test_import_unmap(struct zcbuf_test_import *imp)
{
	dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt, imp->dir);
	imp->sgt = NULL;
	imp->length = 0;
}

/**
 * zcbuf_test_import_release - unmap, detach and drop an import
 * @imp: the import, out of its file's array; its device's count still
 *	includes it
 */
void zcbuf_test_import_release(struct zcbuf_test_import *imp)
{
	if (imp->sgt)
		zcbuf_test_import_unmap(imp);
	dma_buf_detach(imp->dmabuf, imp->attach);
	dma_buf_put(imp->dmabuf);
	imp->zdev->users--;
	kfree(imp);
	zcbuf_test_stats_count(ZCBUF_TEST_STAT_ATTACHMENTS, -1);
}

/**
 * zcbuf_test_ioctl_attach - ZCBUF_TEST_IOC_ATTACH
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_attach
 *
 * Return: 0; -EFAULT; -EINVAL for non-zero reserved or an fd that is not a
 * dma-buf; -EBADF for a closed fd; -ENOENT for an unknown device; what the
 * exporter's attach returns (zcbuf's: -EBUSY when the backing would have to
 * migrate while mapped, -ENOMEM when no backing can meet the constraints).
 */
long zcbuf_test_ioctl_attach(struct zcbuf_test_file *zf, void __user *arg)
{
	struct dma_buf_attachment *attach;
	struct zcbuf_test_device *zdev;
	struct zcbuf_test_import *imp;
	struct zcbuf_test_attach a;
	struct dma_buf *dmabuf;
	int ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.reserved)
		return -EINVAL;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	dmabuf = dma_buf_get(a.dmabuf_fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}

	mutex_lock(&zf->lock);
	zdev = xa_load(&zf->devices, a.device_id);
	if (!zdev) {
		ret = -ENOENT;
		goto err_unlock;
	}
	/* A dynamic attach of a static exporter's buffer maps it here. */
	if (zdev->dynamic)
		attach = dma_buf_dynamic_attach(dmabuf, &zdev->pdev->dev,
						&zcbuf_test_importer_ops, imp);
	else
		attach = dma_buf_attach(dmabuf, &zdev->pdev->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_unlock;
	}
	imp->zdev = zdev;
	imp->dmabuf = dmabuf;
	imp->attach = attach;
	/* Every fd of a dma-buf refers to its one file: this is the fd's mode. */
	imp->writable = dmabuf->file->f_mode & FMODE_WRITE;
	ret = xa_alloc(&zf->imports, &imp->id, imp, xa_limit_31b, GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto err_detach;
	}
	zdev->users++;
	zcbuf_test_stats_count(ZCBUF_TEST_STAT_ATTACHMENTS, 1);

	/* Under the file's lock, so no other thread can see the id before. */
	a.id = imp->id;
	if (copy_to_user(arg, &a, sizeof(a))) {
		xa_erase(&zf->imports, imp->id);
		zcbuf_test_import_release(imp);
		ret = -EFAULT;
	}
	mutex_unlock(&zf->lock);
	return ret;

err_detach:
	dma_buf_detach(dmabuf, attach);
err_unlock:
	mutex_unlock(&zf->lock);
	dma_buf_put(dmabuf);
err_free:
	kfree(imp);
	return ret;
}

/**
 * zcbuf_test_ioctl_detach - ZCBUF_TEST_IOC_DETACH
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_id
 *
 * Return: 0; -EFAULT; -EINVAL for non-zero reserved; -ENOENT for an
 * unknown id; -EBUSY while mapped.
 */
long zcbuf_test_ioctl_detach(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_import *imp;
	struct zcbuf_test_id id;
	int ret = 0;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	if (id.reserved)
		return -EINVAL;

	mutex_lock(&zf->lock);
	imp = xa_load(&zf->imports, id.id);
	if (!imp) {
		ret = -ENOENT;
	} else if (imp->sgt) {
		ret = -EBUSY;
	} else {
		xa_erase(&zf->imports, id.id);
		zcbuf_test_import_release(imp);
	}
	mutex_unlock(&zf->lock);
	return ret;
}

/**
 * zcbuf_test_ioctl_map - ZCBUF_TEST_IOC_MAP
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_map
 *
 * Return: 0; -EFAULT; -EINVAL for a bad direction or non-zero reserved;
 * -ENOENT for an unknown id; -EBUSY when already mapped; -EACCES for
 * FROM_DEVICE or BIDIRECTIONAL when the dma-buf's file is not open for
 * write; what the exporter's map returns (zcbuf's: -ENOMEM, -EINTR).
 */
long zcbuf_test_ioctl_map(struct zcbuf_test_file *zf, void __user *arg)
{
	enum dma_data_direction dir;
	struct zcbuf_test_import *imp;
	struct scatterlist *sg;
	struct sg_table *sgt;
	struct zcbuf_test_map m;
	u64 length = 0;
	int ret = 0;
	int i;

	if (copy_from_user(&m, arg, sizeof(m)))
		return -EFAULT;
	dir = zcbuf_test_dir(m.direction);
	if (m.reserved || dir == DMA_NONE)
		return -EINVAL;

	mutex_lock(&zf->lock);
	imp = xa_load(&zf->imports, m.id);
	if (!imp) {
		ret = -ENOENT;
		goto out;
	}
	if (imp->sgt) {
		ret = -EBUSY;
		goto out;
	}
	if (dir != DMA_TO_DEVICE && !imp->writable) {
		ret = -EACCES;
		goto out;
	}
	sgt = dma_buf_map_attachment_unlocked(imp->attach, dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out;
	}
	for_each_sgtable_dma_sg(sgt, sg, i)
		length += sg_dma_len(sg);
	imp->sgt = sgt;
	imp->dir = dir;
	imp->length = length;
	m.length = length;
	m.nents = sgt->nents;
	/*
	 * Under the file's lock, so the undo cannot race another thread. A
	 * fault here may take a buffer's lock, which nests inside ours.
	 */
	if (copy_to_user(arg, &m, sizeof(m))) {
		zcbuf_test_import_unmap(imp);
		ret = -EFAULT;
	}
out:
	mutex_unlock(&zf->lock);
	return ret;
}

/**
 * zcbuf_test_ioctl_unmap - ZCBUF_TEST_IOC_UNMAP
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_id
 *
 * Return: 0; -EFAULT; -EINVAL for non-zero reserved or an attachment that
 * is not mapped; -ENOENT for an unknown id.
 */
long zcbuf_test_ioctl_unmap(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_import *imp;
	struct zcbuf_test_id id;
	int ret = 0;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	if (id.reserved)
		return -EINVAL;

	mutex_lock(&zf->lock);
	imp = xa_load(&zf->imports, id.id);
	if (!imp)
		ret = -ENOENT;
	else if (!imp->sgt)
		ret = -EINVAL;
	else
		zcbuf_test_import_unmap(imp);
	mutex_unlock(&zf->lock);
	return ret;
}
