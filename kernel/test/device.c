// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_test: virtual importer devices. Each is a real platform device, so
 * it has a DMA mask and dma_parms and dma_map_sgtable() works for it; the
 * constraints the kernel cannot express (contiguity, alignment) are device
 * properties ("zcbuf,contiguous", "zcbuf,alignment"), where zcbuf.ko reads
 * them when it attaches, and its name is the "label" property.
 */

#include <linux/dma-mapping.h>
#include <linux/log2.h>
#include <linux/capability.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "zcbuf_test.h"

#define ZCBUF_TEST_DEFAULT_MAX_SEGMENT	SZ_64K

static int zcbuf_test_device_check(const struct zcbuf_test_device_create *d)
{
	u64 max_seg = d->max_segment_size ?: ZCBUF_TEST_DEFAULT_MAX_SEGMENT;

	if (d->reserved || (d->flags & ~ZCBUF_TEST_DEVICE_FLAGS))
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
			     d->alignment > ZCBUF_TEST_MAX_ALIGNMENT))
		return -EINVAL;
	return 0;
}

static struct zcbuf_test_device *
zcbuf_test_device_new(const struct zcbuf_test_device_create *d)
{
	unsigned int bits = d->dma_mask_bits ?: 64;
	struct property_entry props[4] = {};
	struct platform_device_info info = {
		.name = ZCBUF_TEST_DEVICE_DRVNAME,
		.id = PLATFORM_DEVID_AUTO,
		.dma_mask = DMA_BIT_MASK(bits),
		.properties = props,
	};
	struct zcbuf_test_device *zdev;
	struct device *dev;
	unsigned int n = 0;
	int ret;

	zdev = kzalloc(sizeof(*zdev), GFP_KERNEL);
	if (!zdev)
		return ERR_PTR(-ENOMEM);
	zdev->alignment = max_t(u64, d->alignment, PAGE_SIZE);
	zdev->dynamic = d->flags & ZCBUF_TEST_DEVICE_DYNAMIC;
	strscpy(zdev->name, d->name, sizeof(zdev->name));
	/* The registration copies the properties. */
	if (d->flags & ZCBUF_TEST_DEVICE_CONTIGUOUS)
		props[n++] = PROPERTY_ENTRY_BOOL("zcbuf,contiguous");
	props[n++] = PROPERTY_ENTRY_U64("zcbuf,alignment", zdev->alignment);
	if (zdev->name[0])
		props[n++] = PROPERTY_ENTRY_STRING("label", zdev->name);

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
				   ZCBUF_TEST_DEFAULT_MAX_SEGMENT);
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
 * zcbuf_test_device_destroy - unregister and free a device nothing uses
 * @zdev: the device, out of its file's array
 */
void zcbuf_test_device_destroy(struct zcbuf_test_device *zdev)
{
	platform_device_unregister(zdev->pdev);
	kfree(zdev);
	zcbuf_test_stats_count(ZCBUF_TEST_STAT_DEVICES, -1);
}

/**
 * zcbuf_test_ioctl_device_create - ZCBUF_TEST_IOC_DEVICE_CREATE
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_device_create
 *
 * Each device is a platform device registered for as long as the file
 * lives, so creating one needs CAP_SYS_ADMIN and a file holds at most
 * ZCBUF_TEST_MAX_DEVICES.
 *
 * Return: 0; -EPERM without CAP_SYS_ADMIN; -EFAULT; -EINVAL for bad
 * constraints, flags, name or non-zero reserved fields; -ENOMEM; -ENOSPC
 * when the file has ZCBUF_TEST_MAX_DEVICES devices.
 */
long zcbuf_test_ioctl_device_create(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_device_create d;
	struct zcbuf_test_device *zdev;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	ret = zcbuf_test_device_check(&d);
	if (ret)
		return ret;

	zdev = zcbuf_test_device_new(&d);
	if (IS_ERR(zdev))
		return PTR_ERR(zdev);

	mutex_lock(&zf->lock);
	ret = xa_alloc(&zf->devices, &zdev->id, zdev,
		       XA_LIMIT(1, ZCBUF_TEST_MAX_DEVICES), GFP_KERNEL);
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
	zcbuf_test_stats_count(ZCBUF_TEST_STAT_DEVICES, 1);
	mutex_unlock(&zf->lock);
	return 0;

err_unlock:
	mutex_unlock(&zf->lock);
	platform_device_unregister(zdev->pdev);
	kfree(zdev);
	return ret;
}

/**
 * zcbuf_test_ioctl_device_destroy - ZCBUF_TEST_IOC_DEVICE_DESTROY
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_id
 *
 * Return: 0; -EFAULT; -EINVAL for non-zero reserved; -ENOENT for an
 * unknown id; -EBUSY while attachments made with the device remain.
 */
long zcbuf_test_ioctl_device_destroy(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_device *zdev;
	struct zcbuf_test_id id;
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
	zcbuf_test_device_destroy(zdev);
	return 0;
}
