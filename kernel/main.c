// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: a dma-buf exporter with deferred allocation, constraint
 * collation and migration, behind /dev/zcbuf. This file holds the module,
 * the misc device and the ioctl dispatch; each ioctl lives with the objects
 * it works on. /dev/zcbuf keeps no state per open file: a buffer belongs to
 * its dma-buf, not to the file that allocated it.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "zcbuf.h"

static long zcbuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ZCBUF_IOC_ALLOC:
		return zcbuf_ioctl_alloc(uarg);
	case ZCBUF_IOC_STATS:
		return zcbuf_ioctl_stats(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations zcbuf_fops = {
	.owner = THIS_MODULE,
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

	/* Before /dev/zcbuf exists: ALLOC may use the dynamic operations. */
	zcbuf_exporter_init();
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

MODULE_DESCRIPTION("zcbuf: dma-buf exporter with deferred allocation and migration");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
