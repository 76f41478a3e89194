// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_test: virtual importer devices and software DMA behind
 * /dev/zcbuf_test, for testing dma-buf exporters (zcbuf.ko, and any other
 * exporter's buffers) from user space. It uses only the dma-buf core and
 * knows nothing of zcbuf.ko. This file holds the module, the misc device,
 * the ioctl dispatch and the counters; each ioctl lives with the objects it
 * works on.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "zcbuf_test.h"

static DEFINE_SPINLOCK(zcbuf_test_stats_lock);
static struct zcbuf_test_stats zcbuf_test_stats;

/**
 * zcbuf_test_stats_count - count devices, attachments or move notifies
 * @which: ZCBUF_TEST_STAT_*
 * @delta: +1 or -1
 */
void zcbuf_test_stats_count(enum zcbuf_test_stat which, int delta)
{
	spin_lock(&zcbuf_test_stats_lock);
	if (which == ZCBUF_TEST_STAT_DEVICES)
		zcbuf_test_stats.devices += delta;
	else if (which == ZCBUF_TEST_STAT_ATTACHMENTS)
		zcbuf_test_stats.attachments += delta;
	else
		zcbuf_test_stats.move_notifies += delta;
	spin_unlock(&zcbuf_test_stats_lock);
}

static long zcbuf_test_ioctl_stats(void __user *arg)
{
	struct zcbuf_test_stats s;

	spin_lock(&zcbuf_test_stats_lock);
	s = zcbuf_test_stats;
	spin_unlock(&zcbuf_test_stats_lock);
	if (copy_to_user(arg, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

static int zcbuf_test_open(struct inode *inode, struct file *file)
{
	struct zcbuf_test_file *zf;

	zf = kzalloc(sizeof(*zf), GFP_KERNEL);
	if (!zf)
		return -ENOMEM;
	mutex_init(&zf->lock);
	xa_init_flags(&zf->devices, XA_FLAGS_ALLOC1);
	xa_init_flags(&zf->imports, XA_FLAGS_ALLOC1);
	file->private_data = zf;
	return 0;
}

/* Tear down in importer order: unmap, detach, put, then the devices. */
static int zcbuf_test_release(struct inode *inode, struct file *file)
{
	struct zcbuf_test_file *zf = file->private_data;
	struct zcbuf_test_device *zdev;
	struct zcbuf_test_import *imp;
	unsigned long id;

	xa_for_each(&zf->imports, id, imp)
		zcbuf_test_import_release(imp);
	xa_destroy(&zf->imports);
	xa_for_each(&zf->devices, id, zdev)
		zcbuf_test_device_destroy(zdev);
	xa_destroy(&zf->devices);
	mutex_destroy(&zf->lock);
	kfree(zf);
	return 0;
}

static long zcbuf_test_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct zcbuf_test_file *zf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ZCBUF_TEST_IOC_DEVICE_CREATE:
		return zcbuf_test_ioctl_device_create(zf, uarg);
	case ZCBUF_TEST_IOC_DEVICE_DESTROY:
		return zcbuf_test_ioctl_device_destroy(zf, uarg);
	case ZCBUF_TEST_IOC_ATTACH:
		return zcbuf_test_ioctl_attach(zf, uarg);
	case ZCBUF_TEST_IOC_DETACH:
		return zcbuf_test_ioctl_detach(zf, uarg);
	case ZCBUF_TEST_IOC_MAP:
		return zcbuf_test_ioctl_map(zf, uarg);
	case ZCBUF_TEST_IOC_UNMAP:
		return zcbuf_test_ioctl_unmap(zf, uarg);
	case ZCBUF_TEST_IOC_FILL:
		return zcbuf_test_ioctl_fill(zf, uarg);
	case ZCBUF_TEST_IOC_COPY:
		return zcbuf_test_ioctl_copy(zf, uarg);
	case ZCBUF_TEST_IOC_CHECKSUM:
		return zcbuf_test_ioctl_checksum(zf, uarg);
	case ZCBUF_TEST_IOC_STATS:
		return zcbuf_test_ioctl_stats(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations zcbuf_test_fops = {
	.owner = THIS_MODULE,
	.open = zcbuf_test_open,
	.release = zcbuf_test_release,
	.unlocked_ioctl = zcbuf_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice zcbuf_test_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "zcbuf_test",
	.fops = &zcbuf_test_fops,
};

/* Every open file holds a module reference (fops.owner) until released. */
module_misc_device(zcbuf_test_misc);

MODULE_DESCRIPTION("zcbuf_test: virtual dma-buf importers and software DMA, for tests");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
