// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: virtual importer devices. Each is a real platform device, so it
 * has a DMA mask and dma_parms and dma_map_sgtable() works for it; the
 * constraints the kernel cannot express (contiguity, alignment) live in
 * its drvdata, where the exporter side reads them when it attaches.
 */

#include <linux/dma-mapping.h>
#include <linux/log2.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "zcbuf.h"

#define ZCBUF_DEFAULT_MAX_SEGMENT	SZ_64K

static struct zcbuf_device *zcbuf_device_of(struct device *dev)
{
	if (dev->bus != &platform_bus_type ||
	    strcmp(to_platform_device(dev)->name, ZCBUF_DEVICE_DRVNAME))
		return NULL;
	return dev_get_drvdata(dev);
}

/**
 * zcbuf_device_constraints - what @dev needs from a buffer's backing
 * @dev: any device, ours or another driver's
 * @c: result
 * @label: ZCBUF_NAME_LEN bytes: the device's zcbuf name, or empty
 */
void zcbuf_device_constraints(struct device *dev, struct zcbuf_constraints *c,
			      char *label)
{
	struct zcbuf_device *zdev = zcbuf_device_of(dev);

	c->dma_mask = dma_get_mask(dev);
	c->alignment = PAGE_SIZE;
	c->contiguous = false;
	label[0] = '\0';
	if (zdev) {
		c->alignment = zdev->alignment;
		c->contiguous = zdev->contiguous;
		strscpy(label, zdev->name, ZCBUF_NAME_LEN);
	}
}

static int zcbuf_device_check(const struct zcbuf_device_create *d)
{
	u64 max_seg = d->max_segment_size ?: ZCBUF_DEFAULT_MAX_SEGMENT;

	if (d->reserved || (d->flags & ~ZCBUF_DEVICE_FLAGS))
		return -EINVAL;
	if (!memchr(d->name, '\0', sizeof(d->name)))
		return -EINVAL;
	/* Narrower masks would need bouncing that x86 guests lack. */
	if (d->dma_mask_bits && (d->dma_mask_bits < 32 || d->dma_mask_bits > 64))
		return -EINVAL;
	if (max_seg < PAGE_SIZE || max_seg > UINT_MAX)
		return -EINVAL;
	if (d->segment_boundary && d->segment_boundary != U64_MAX) {
		if (!is_power_of_2(d->segment_boundary + 1) ||
		    d->segment_boundary < PAGE_SIZE - 1 ||
		    max_seg > d->segment_boundary + 1)
			return -EINVAL;
	}
	if (d->alignment && (!is_power_of_2(d->alignment) ||
			     d->alignment > ZCBUF_MAX_CONTIG))
		return -EINVAL;
	return 0;
}

static struct zcbuf_device *
zcbuf_device_new(const struct zcbuf_device_create *d)
{
	unsigned int bits = d->dma_mask_bits ?: 64;
	struct platform_device_info info = {
		.name = ZCBUF_DEVICE_DRVNAME,
		.id = PLATFORM_DEVID_AUTO,
		.dma_mask = DMA_BIT_MASK(bits),
	};
	struct zcbuf_device *zdev;
	struct device *dev;
	int ret;

	zdev = kzalloc(sizeof(*zdev), GFP_KERNEL);
	if (!zdev)
		return ERR_PTR(-ENOMEM);
	zdev->contiguous = d->flags & ZCBUF_DEVICE_CONTIGUOUS;
	zdev->alignment = max_t(u64, d->alignment, PAGE_SIZE);
	strscpy(zdev->name, d->name, sizeof(zdev->name));

	zdev->pdev = platform_device_register_full(&info);
	if (IS_ERR(zdev->pdev)) {
		ret = PTR_ERR(zdev->pdev);
		goto err_free;
	}
	dev = &zdev->pdev->dev;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits));
	if (ret)
		goto err_unregister;
	ret = dma_set_max_seg_size(dev, d->max_segment_size ?:
				   ZCBUF_DEFAULT_MAX_SEGMENT);
	if (ret)
		goto err_unregister;
	ret = dma_set_seg_boundary(dev, d->segment_boundary ?: ULONG_MAX);
	if (ret)
		goto err_unregister;
	dev_set_drvdata(dev, zdev);
	return zdev;

err_unregister:
	platform_device_unregister(zdev->pdev);
err_free:
	kfree(zdev);
	return ERR_PTR(ret);
}

/**
 * zcbuf_device_destroy - unregister and free a device nothing uses
 * @zdev: the device, out of its file's array
 */
void zcbuf_device_destroy(struct zcbuf_device *zdev)
{
	platform_device_unregister(zdev->pdev);
	kfree(zdev);
	zcbuf_stats_count(ZCBUF_STAT_DEVICES, -1);
}

/**
 * zcbuf_ioctl_device_create - ZCBUF_IOC_DEVICE_CREATE
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_device_create
 *
 * Return: 0; -EFAULT; -EINVAL for bad constraints, flags, name or non-zero
 * reserved fields; -ENOMEM; -ENOSPC when the file has too many devices.
 */
long zcbuf_ioctl_device_create(struct zcbuf_file *zf, void __user *arg)
{
	struct zcbuf_device_create d;
	struct zcbuf_device *zdev;
	int ret;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	ret = zcbuf_device_check(&d);
	if (ret)
		return ret;

	zdev = zcbuf_device_new(&d);
	if (IS_ERR(zdev))
		return PTR_ERR(zdev);

	mutex_lock(&zf->lock);
	ret = xa_alloc(&zf->devices, &zdev->id, zdev, xa_limit_31b, GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto err_unlock;
	}
	/* Under the file's lock, so no other thread can see the id before. */
	d.id = zdev->id;
	if (copy_to_user(arg, &d, sizeof(d))) {
		xa_erase(&zf->devices, zdev->id);
		ret = -EFAULT;
		goto err_unlock;
	}
	zcbuf_stats_count(ZCBUF_STAT_DEVICES, 1);
	mutex_unlock(&zf->lock);
	return 0;

err_unlock:
	mutex_unlock(&zf->lock);
	platform_device_unregister(zdev->pdev);
	kfree(zdev);
	return ret;
}

/**
 * zcbuf_ioctl_device_destroy - ZCBUF_IOC_DEVICE_DESTROY
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_id
 *
 * Return: 0; -EFAULT; -EINVAL for non-zero reserved; -ENOENT for an
 * unknown id; -EBUSY while attachments made with the device remain.
 */
long zcbuf_ioctl_device_destroy(struct zcbuf_file *zf, void __user *arg)
{
	struct zcbuf_device *zdev;
	struct zcbuf_id id;
	int ret = 0;

	if (copy_from_user(&id, arg, sizeof(id)))
		return -EFAULT;
	if (id.reserved)
		return -EINVAL;

	mutex_lock(&zf->lock);
	zdev = xa_load(&zf->devices, id.id);
	if (!zdev)
		ret = -ENOENT;
	else if (zdev->users)
		ret = -EBUSY;
	else
		xa_erase(&zf->devices, id.id);
	mutex_unlock(&zf->lock);
	if (ret)
		return ret;
	zcbuf_device_destroy(zdev);
	return 0;
}
