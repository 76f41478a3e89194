// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: a dma-buf exporter with deferred allocation, constraint
 * collation and migration, and virtual importer devices, behind
 * /dev/zcbuf. This file holds the module, the misc device and the ioctl
 * dispatch; each ioctl lives with the objects it works on.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "zcbuf.h"

static int zcbuf_open(struct inode *inode, struct file *file)
{
	struct zcbuf_file *zf;

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
static int zcbuf_release(struct inode *inode, struct file *file)
{
	struct zcbuf_file *zf = file->private_data;
	struct zcbuf_device *zdev;
	struct zcbuf_import *imp;
	unsigned long id;

	xa_for_each(&zf->imports, id, imp)
		zcbuf_import_release(imp);
	xa_destroy(&zf->imports);
	xa_for_each(&zf->devices, id, zdev)
		zcbuf_device_destroy(zdev);
	xa_destroy(&zf->devices);
	mutex_destroy(&zf->lock);
	kfree(zf);
	return 0;
}

static long zcbuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zcbuf_file *zf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ZCBUF_IOC_ALLOC:
		return zcbuf_ioctl_alloc(uarg);
	case ZCBUF_IOC_DEVICE_CREATE:
		return zcbuf_ioctl_device_create(zf, uarg);
	case ZCBUF_IOC_DEVICE_DESTROY:
		return zcbuf_ioctl_device_destroy(zf, uarg);
	case ZCBUF_IOC_ATTACH:
		return zcbuf_ioctl_attach(zf, uarg);
	case ZCBUF_IOC_DETACH:
		return zcbuf_ioctl_detach(zf, uarg);
	case ZCBUF_IOC_MAP:
		return zcbuf_ioctl_map(zf, uarg);
	case ZCBUF_IOC_UNMAP:
		return zcbuf_ioctl_unmap(zf, uarg);
	case ZCBUF_IOC_FILL:
		return zcbuf_ioctl_fill(zf, uarg);
	case ZCBUF_IOC_COPY:
		return zcbuf_ioctl_copy(zf, uarg);
	case ZCBUF_IOC_CHECKSUM:
		return zcbuf_ioctl_checksum(zf, uarg);
	case ZCBUF_IOC_STATS:
		return zcbuf_ioctl_stats(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations zcbuf_fops = {
	.owner = THIS_MODULE,
	.open = zcbuf_open,
	.release = zcbuf_release,
	.unlocked_ioctl = zcbuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice zcbuf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "zcbuf",
	.fops = &zcbuf_fops,
};

static int __init zcbuf_init(void)
{
	int ret;

	ret = misc_register(&zcbuf_misc);
	if (ret)
		return ret;
	zcbuf_debugfs_init();
	return 0;
}

/*
 * Every buffer holds a reference on the module (dma_buf_export takes it)
 * and every open /dev/zcbuf holds one through fops.owner, so nothing of
 * ours is alive when this runs: rmmod is refused until then.
 */
static void __exit zcbuf_exit(void)
{
	zcbuf_debugfs_exit();
	misc_deregister(&zcbuf_misc);
}

module_init(zcbuf_init);
module_exit(zcbuf_exit);

MODULE_DESCRIPTION("zcbuf: dma-buf exporter with deferred allocation and migration, and virtual importers");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
