// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: the exporter's device side. Attachments are collated, a device
 * whose constraints the backing does not meet makes it migrate, and every
 * map builds and maps a fresh sg_table for the attaching device.
 *
 * There is no pin and no cache_sgt_mapping: either would make the core
 * map at attach time and keep the mapping, which defeats both deferred
 * allocation and migration. map and unmap never take the reservation lock:
 * the core calls them with it held or not, depending on the importer.
 */

#include <linux/dma-mapping.h>
#include <linux/slab.h>

#include "zcbuf.h"

/* Bring the backing in line with a device about to attach. */
static int zcbuf_admit(struct zcbuf_buffer *buf, struct zcbuf_battach *ba)
{
	struct zcbuf_backing *b, *old;
	struct zcbuf_constraints c;
	unsigned int gen;
	int ret;

	for (;;) {
		zcbuf_collate(buf, &ba->c, &c);
		ret = zcbuf_constraints_check(buf->npages, &c);
		if (ret)
			return ret;
		if (!buf->backing || zcbuf_backing_meets(buf->backing, &ba->c))
			return 0;
		if (buf->maps || buf->vmaps)
			return -EBUSY;

		gen = buf->generation;
		mutex_unlock(&buf->lock);
		b = zcbuf_backing_alloc(buf->npages, &c);
		mutex_lock(&buf->lock);
		if (IS_ERR(b))
			return PTR_ERR(b);
		if (buf->generation != gen || buf->maps || buf->vmaps) {
			/* Changed under us: decide again. */
			zcbuf_backing_free(b);
			continue;
		}
		old = zcbuf_buffer_migrate(buf, b);
		mutex_unlock(&buf->lock);
		zcbuf_backing_free(old);
		mutex_lock(&buf->lock);
	}
}

static int zcbuf_attach(struct dma_buf *dmabuf,
			struct dma_buf_attachment *attach)
{
	struct zcbuf_buffer *buf = dmabuf->priv;
	struct zcbuf_battach *ba;
	int ret;

	ba = kzalloc(sizeof(*ba), GFP_KERNEL);
	if (!ba)
		return -ENOMEM;
	ba->attach = attach;
	INIT_LIST_HEAD(&ba->mappings);
	zcbuf_device_constraints(attach->dev, &ba->c, ba->label);

	if (mutex_lock_interruptible(&buf->lock)) {
		ret = -EINTR;
		goto err_free;
	}
	ret = zcbuf_admit(buf, ba);
	if (ret)
		goto err_unlock;
	list_add_tail(&ba->node, &buf->attachments);
	buf->generation++;
	mutex_unlock(&buf->lock);
	attach->priv = ba;
	return 0;

err_unlock:
	mutex_unlock(&buf->lock);
err_free:
	kfree(ba);
	return ret;
}

static void zcbuf_mapping_free(struct device *dev, struct zcbuf_mapping *m)
{
	dma_unmap_sgtable(dev, &m->sgt, m->dir, 0);
	sg_free_table(&m->sgt);
	kfree(m);
}

static void zcbuf_detach(struct dma_buf *dmabuf,
			 struct dma_buf_attachment *attach)
{
	struct zcbuf_buffer *buf = dmabuf->priv;
	struct zcbuf_battach *ba = attach->priv;
	struct zcbuf_mapping *m, *tmp;

	mutex_lock(&buf->lock);
	list_del(&ba->node);
	buf->generation++;
	/* An importer that detaches without unmapping: clean up after it. */
	list_for_each_entry_safe(m, tmp, &ba->mappings, node) {
		pr_err_ratelimited("zcbuf: %s detached with a mapping outstanding\n",
				   dev_name(attach->dev));
		list_del(&m->node);
		zcbuf_mapping_free(attach->dev, m);
		buf->maps--;
		zcbuf_stats_count(ZCBUF_STAT_MAPS, -1);
	}
	mutex_unlock(&buf->lock);
	kfree(ba);
}

static struct sg_table *zcbuf_map_dma_buf(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct zcbuf_buffer *buf = attach->dmabuf->priv;
	struct zcbuf_battach *ba = attach->priv;
	struct zcbuf_backing *b;
	struct zcbuf_mapping *m;
	int ret;

	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	/* The fd's access mode does not reach kernel importers: check here. */
	if ((buf->flags & ZCBUF_ALLOC_READONLY) && dir != DMA_TO_DEVICE)
		return ERR_PTR(-EACCES);

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->dir = dir;

	if (mutex_lock_interruptible(&buf->lock)) {
		ret = -EINTR;
		goto err_free;
	}
	ret = zcbuf_buffer_populate(buf);
	if (ret)
		goto err_unlock;
	/* Counting the map pins the backing: no migration from here on. */
	buf->maps++;
	ba->maps++;
	b = buf->backing;
	mutex_unlock(&buf->lock);

	ret = zcbuf_backing_sgt(b, attach->dev, &m->sgt);
	if (ret)
		goto err_unpin;
	ret = dma_map_sgtable(attach->dev, &m->sgt, dir, 0);
	if (ret)
		goto err_table;

	mutex_lock(&buf->lock);
	list_add_tail(&m->node, &ba->mappings);
	mutex_unlock(&buf->lock);
	zcbuf_stats_count(ZCBUF_STAT_MAPS, 1);
	return &m->sgt;

err_table:
	sg_free_table(&m->sgt);
err_unpin:
	mutex_lock(&buf->lock);
	buf->maps--;
	ba->maps--;
err_unlock:
	mutex_unlock(&buf->lock);
err_free:
	kfree(m);
	return ERR_PTR(ret);
}

static void zcbuf_unmap_dma_buf(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct zcbuf_mapping *m = container_of(sgt, struct zcbuf_mapping, sgt);
	struct zcbuf_buffer *buf = attach->dmabuf->priv;
	struct zcbuf_battach *ba = attach->priv;

	mutex_lock(&buf->lock);
	list_del(&m->node);
	mutex_unlock(&buf->lock);

	zcbuf_mapping_free(attach->dev, m);

	mutex_lock(&buf->lock);
	buf->maps--;
	ba->maps--;
	mutex_unlock(&buf->lock);
	zcbuf_stats_count(ZCBUF_STAT_MAPS, -1);
}

static void zcbuf_release(struct dma_buf *dmabuf)
{
	struct zcbuf_buffer *buf = dmabuf->priv;

	mutex_lock(&zcbuf_buffers_lock);
	list_del(&buf->node);
	mutex_unlock(&zcbuf_buffers_lock);
	zcbuf_buffer_free(buf);
}

const struct dma_buf_ops zcbuf_dma_buf_ops = {
	.attach = zcbuf_attach,
	.detach = zcbuf_detach,
	.map_dma_buf = zcbuf_map_dma_buf,
	.unmap_dma_buf = zcbuf_unmap_dma_buf,
	.release = zcbuf_release,
	.begin_cpu_access = zcbuf_begin_cpu_access,
	.end_cpu_access = zcbuf_end_cpu_access,
	.mmap = zcbuf_mmap,
	.vmap = zcbuf_vmap,
	.vunmap = zcbuf_vunmap,
};
