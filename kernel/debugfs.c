// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: /sys/kernel/debug/zcbuf/buffers lists every live buffer, one
 * "buffer" line each, followed by one indented "attach" line per attached
 * device. The format is documented in docs/kernel.md; tests parse it.
 */

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/seq_file.h>

#include "zcbuf.h"

static struct dentry *zcbuf_debugfs_dir;

/* Quote a name so that a line always splits into key=value fields. */
static void zcbuf_seq_name(struct seq_file *s, const char *name)
{
	seq_putc(s, '"');
	for (; name && *name; name++) {
		if (isprint(*name) && *name != '"' && *name != '\\' &&
		    *name != ' ')
			seq_putc(s, *name);
		else
			seq_printf(s, "\\x%02x", (u8)*name);
	}
	seq_putc(s, '"');
}

static const char *zcbuf_backing_kind(const struct zcbuf_buffer *buf)
{
	if (!buf->backing)
		return "deferred";
	return buf->backing->contiguous ? "contiguous" : "pages";
}

static void zcbuf_show_buffer(struct seq_file *s, struct zcbuf_buffer *buf)
{
	struct dma_buf *dmabuf = buf->dmabuf;
	char name[ZCBUF_NAME_LEN];
	struct zcbuf_battach *ba;
	unsigned int n = 0;

	spin_lock(&dmabuf->name_lock);
	strscpy(name, dmabuf->name ?: "", sizeof(name));
	spin_unlock(&dmabuf->name_lock);

	mutex_lock(&buf->lock);
	list_for_each_entry(ba, &buf->attachments, node)
		n++;
	seq_printf(s, "buffer ino=%lu size=%zu backing=%s chunks=%lu last_phys=%#llx readonly=%d dynamic=%d attachments=%u maps=%u pins=%u vmaps=%u cpu_accesses=%u cpu_syncs=%lu mmaps=%d migrations=%u name=",
		   buf->ino, buf->size,
		   zcbuf_backing_kind(buf),
		   buf->backing ? buf->backing->chunks : 0,
		   buf->backing ? (u64)buf->backing->last_phys : 0,
		   !!(buf->flags & ZCBUF_ALLOC_READONLY),
		   !!(buf->flags & ZCBUF_ALLOC_DYNAMIC), n, buf->maps,
		   buf->pins, buf->vmaps, buf->cpu_accesses, buf->cpu_syncs,
		   atomic_read(&buf->mmaps),
		   buf->migrations);
	zcbuf_seq_name(s, name);
	seq_putc(s, '\n');
	list_for_each_entry(ba, &buf->attachments, node) {
		seq_printf(s, "  attach dev=%s driver=%s contiguous=%d alignment=%llu dma_mask=%#llx maps=%u device=",
			   dev_name(ba->attach->dev),
			   dev_driver_string(ba->attach->dev), ba->c.contiguous,
			   ba->c.alignment, ba->c.dma_mask, ba->maps);
		zcbuf_seq_name(s, ba->label);
		seq_putc(s, '\n');
	}
	mutex_unlock(&buf->lock);
}

static int zcbuf_buffers_show(struct seq_file *s, void *unused)
{
	struct zcbuf_buffer *buf;
	int ret;

	ret = mutex_lock_interruptible(&zcbuf_buffers_lock);
	if (ret)
		return ret;
	list_for_each_entry(buf, &zcbuf_buffers, node)
		zcbuf_show_buffer(s, buf);
	mutex_unlock(&zcbuf_buffers_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zcbuf_buffers);

/**
 * zcbuf_debugfs_init - create /sys/kernel/debug/zcbuf
 *
 * Debugfs failures are not errors: the module works without it.
 */
void zcbuf_debugfs_init(void)
{
	zcbuf_debugfs_dir = debugfs_create_dir("zcbuf", NULL);
	debugfs_create_file("buffers", 0444, zcbuf_debugfs_dir, NULL,
			    &zcbuf_buffers_fops);
}

/**
 * zcbuf_debugfs_exit - remove /sys/kernel/debug/zcbuf
 */
void zcbuf_debugfs_exit(void)
{
	debugfs_remove_recursive(zcbuf_debugfs_dir);
}
