// SPDX-License-Identifier: GPL-2.0
/*
 * sw_sync is built into the kernel upstream (CONFIG_SW_SYNC is a bool), so
 * its files carry no module licence and use one core symbol that 6.1 does
 * not export; its late_initcall becomes this module's init. It has no exit:
 * the debugfs files are never removed (sync_debug.c says so), so the module
 * cannot be unloaded, as when built in. This file is ours; drivers/dma-buf/
 * holds Debian's files, unmodified.
 */
#include <linux/dma-fence.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/sync_file.h>

/*
 * sync_debug.c's "info" file prints sync_files by name. The name follows
 * sync_file.c's rule: the one user space gave when merging, else one made
 * from the fence (driver, timeline, context, seqno).
 */
char *sync_file_get_name(struct sync_file *sync_file, char *buf, int len)
{
	struct dma_fence *fence = sync_file->fence;

	if (sync_file->user_name[0])
		strscpy(buf, sync_file->user_name, len);
	else
		snprintf(buf, len, "%s-%s%llu-%lld",
			 fence->ops->get_driver_name(fence),
			 fence->ops->get_timeline_name(fence),
			 fence->context, fence->seqno);
	return buf;
}

MODULE_DESCRIPTION("sw_sync fence timelines for tests (Debian's sw_sync.c)");
MODULE_LICENSE("GPL");
