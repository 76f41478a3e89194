// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: the life of a buffer's backing. Constraints are collated from
 * every attachment when the backing is needed; the backing is allocated
 * without holding the buffer's lock, and a migration swaps it under the
 * lock after zapping every CPU mapping.
 */

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "zcbuf.h"

/* Every exported buffer, for debugfs. */
LIST_HEAD(zcbuf_buffers);
/* Guards zcbuf_buffers only; nests outside each buffer's lock. */
DEFINE_MUTEX(zcbuf_buffers_lock);

static void zcbuf_merge(struct zcbuf_constraints *c,
			const struct zcbuf_constraints *add)
{
	c->dma_mask = min(c->dma_mask, add->dma_mask);
	c->alignment = max(c->alignment, add->alignment);
	c->contiguous |= add->contiguous;
}

/**
 * zcbuf_collate - the constraints every attached device puts on the backing
 * @buf: the buffer, its lock held
 * @extra: a device about to attach, or NULL
 * @c: result
 */
void zcbuf_collate(const struct zcbuf_buffer *buf,
		   const struct zcbuf_constraints *extra,
		   struct zcbuf_constraints *c)
{
	struct zcbuf_battach *ba;

	c->dma_mask = DMA_BIT_MASK(64);
	c->alignment = max_t(u64, buf->alignment, PAGE_SIZE);
	c->contiguous = (buf->flags & ZCBUF_ALLOC_CONTIGUOUS) ||
			c->alignment > PAGE_SIZE;
	list_for_each_entry(ba, &buf->attachments, node)
		zcbuf_merge(c, &ba->c);
	if (extra)
		zcbuf_merge(c, extra);
}

/**
 * zcbuf_buffer_install - give a deferred buffer its first backing
 * @buf: the buffer, its lock held unless it is not exported yet
 * @b: backing allocated for the buffer's collated constraints
 */
void zcbuf_buffer_install(struct zcbuf_buffer *buf, struct zcbuf_backing *b)
{
	buf->backing = b;
	buf->generation++;
	zcbuf_stats_installed(b);
}

/**
 * zcbuf_buffer_populate - make sure the buffer has backing
 * @buf: the buffer, its lock held
 * @interruptible: give up with -EINTR when a fatal signal is pending
 *
 * Allocates from the constraints collated now, dropping the lock while
 * allocating; if attachments or the backing changed meanwhile, the fresh
 * allocation is thrown away and the collation done again.
 *
 * Return: 0 with buf->backing set, or a negative errno; the lock is held
 * on return either way.
 */
int zcbuf_buffer_populate(struct zcbuf_buffer *buf, bool interruptible)
{
	struct zcbuf_constraints c;
	struct zcbuf_backing *b;
	unsigned int gen;

	while (!buf->backing) {
		zcbuf_collate(buf, NULL, &c);
		gen = buf->generation;
		mutex_unlock(&buf->lock);
		b = zcbuf_backing_alloc(buf->npages, &c, interruptible);
		mutex_lock(&buf->lock);
		if (IS_ERR(b))
			return PTR_ERR(b);
		if (buf->backing || buf->generation != gen) {
			zcbuf_backing_free(b);
			continue;
		}
		zcbuf_buffer_install(buf, b);
	}
	return 0;
}

/**
 * zcbuf_buffer_migrate - move the buffer's contents to new backing
 * @buf: the buffer, its lock held, no device or kernel mapping outstanding
 * @b: the new backing, same size
 *
 * CPU mappings are zapped first, so no CPU can write to the old pages
 * while they are copied; they refault onto the new pages once the lock
 * is dropped.
 *
 * Return: the old backing, for the caller to free after unlocking.
 */
struct zcbuf_backing *zcbuf_buffer_migrate(struct zcbuf_buffer *buf,
					   struct zcbuf_backing *b)
{
	struct zcbuf_backing *old = buf->backing;

	unmap_mapping_range(buf->dmabuf->file->f_mapping, 0, 0, 1);
	zcbuf_backing_copy(b, old);
	buf->backing = b;
	buf->generation++;
	buf->migrations++;
	zcbuf_stats_migrated(old, b);
	return old;
}

/**
 * zcbuf_buffer_free - free a buffer nobody references any more
 * @buf: the buffer, off the global list or never on it
 */
void zcbuf_buffer_free(struct zcbuf_buffer *buf)
{
	zcbuf_stats_buffer_gone(buf->backing);
	zcbuf_backing_free(buf->backing);
	mutex_destroy(&buf->lock);
	kfree(buf);
}
