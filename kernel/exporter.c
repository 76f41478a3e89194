// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: the exporter's device side. Attachments are collated, a device
 * whose constraints the backing does not meet makes it migrate, and every
 * map builds and maps a fresh sg_table for the attaching device.
 *
 * By default there is no pin (the exporter is static) and never a
 * cache_sgt_mapping (the core would keep the first mapping until detach,
 * and a buffer mapped for good can never migrate). A static importer (vgem,
 * vivid, virtio-gpu, vkms, videobuf2) maps only when it needs the memory,
 * so the backing is allocated at the first map from every attachment's
 * constraints and can migrate between maps. A dynamic importer (amdgpu,
 * i915, RDMA) differs from us in dynamism, so the 6.1 core maps its
 * attachment BIDIRECTIONAL at attach time and keeps that mapping until
 * detach: for as long as such an importer is attached the backing exists
 * and cannot migrate.
 *
 * A buffer allocated with ZCBUF_ALLOC_DYNAMIC gets the same operations plus
 * pin and unpin, and the costs swap: the core pins and maps every static
 * importer at attach, while a dynamic importer maps when it needs to (and,
 * without CONFIG_DMABUF_MOVE_NOTIFY, is pinned by the core while mapped).
 * A pin holds the backing in place like a mapping does; a migration, which
 * happens only when nothing is pinned or mapped, takes the reservation lock
 * and tells the dynamic importers with dma_buf_move_notify().
 *
 * map and unmap never take the reservation lock: the core calls them with
 * it held or not, depending on the importer.
 */

#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/log2.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "zcbuf.h"

/*
 * What @dev needs from the backing. Its DMA mask says how high memory may
 * lie; nothing in the kernel says "physically contiguous" or "aligned to
 * N", so a device that needs either says so with the device properties
 * "zcbuf,contiguous" (boolean) and "zcbuf,alignment" (u64, a power of two),
 * as the test importers in kernel/test/ do. Its "label" property, if any,
 * names it in debugfs.
 */
static int zcbuf_device_constraints(struct device *dev,
				    struct zcbuf_constraints *c, char *label)
{
	const char *name = "";
	u64 align = PAGE_SIZE;

	if (!device_property_read_u64(dev, "zcbuf,alignment", &align) &&
	    (!is_power_of_2(align) || align > ZCBUF_MAX_CONTIG))
		return -EINVAL;
	c->dma_mask = dma_get_mask(dev);
	c->alignment = max_t(u64, align, PAGE_SIZE);
	c->contiguous = device_property_read_bool(dev, "zcbuf,contiguous");
	device_property_read_string(dev, "label", &name);
	strscpy(label, name, ZCBUF_NAME_LEN);
	return 0;
}

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
		if (buf->maps || buf->pins || buf->vmaps)
			return -EBUSY;

		gen = buf->generation;
		mutex_unlock(&buf->lock);
		b = zcbuf_backing_alloc(buf->npages, &c, true);
		mutex_lock(&buf->lock);
		if (IS_ERR(b))
			return PTR_ERR(b);
		if (buf->generation != gen || buf->maps || buf->pins ||
		    buf->vmaps) {
			/* Changed under us: decide again. */
			zcbuf_backing_free(b);
			continue;
		}
		old = zcbuf_buffer_migrate(buf, b);
		mutex_unlock(&buf->lock);
		/*
		 * Under the reservation lock, not ours: an importer's
		 * move_notify may unmap at once.
		 */
		if (dma_buf_is_dynamic(buf->dmabuf)) {
			dma_resv_assert_held(buf->dmabuf->resv);
			dma_buf_move_notify(buf->dmabuf);
		}
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
	ret = zcbuf_device_constraints(attach->dev, &ba->c, ba->label);
	if (ret)
		goto err_free;

	/* A dynamic export migrates under the reservation lock (move_notify). */
	if (dma_buf_is_dynamic(dmabuf)) {
		ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
		if (ret)
			goto err_free;
	}
	if (mutex_lock_interruptible(&buf->lock)) {
		ret = -EINTR;
		goto err_resv;
	}
	ret = zcbuf_admit(buf, ba);
	if (ret)
		goto err_unlock;
	list_add_tail(&ba->node, &buf->attachments);
	buf->generation++;
	mutex_unlock(&buf->lock);
	if (dma_buf_is_dynamic(dmabuf))
		dma_resv_unlock(dmabuf->resv);
	attach->priv = ba;
	zcbuf_stats_count(ZCBUF_STAT_ATTACHMENTS, 1);
	return 0;

err_unlock:
	mutex_unlock(&buf->lock);
err_resv:
	if (dma_buf_is_dynamic(dmabuf))
		dma_resv_unlock(dmabuf->resv);
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
	zcbuf_stats_count(ZCBUF_STAT_ATTACHMENTS, -1);
}

static struct sg_table *zcbuf_map_dma_buf(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct zcbuf_buffer *buf = attach->dmabuf->priv;
	struct zcbuf_battach *ba = attach->priv;
	struct zcbuf_backing *b;
	struct zcbuf_mapping *m;
	int ret;

	/*
	 * Any direction, read-only buffers included: a direction is a cache
	 * hint, and DRM importers map BIDIRECTIONAL even to read. Whether a
	 * device may write is for the importer to check against the file's
	 * mode, as it is for every exporter's buffers.
	 */
	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->dir = dir;

	if (mutex_lock_interruptible(&buf->lock)) {
		ret = -EINTR;
		goto err_free;
	}
	ret = zcbuf_buffer_populate(buf, true);
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

/*
 * The core pins a static importer's attachment of a dynamic export at
 * attach, and (without CONFIG_DMABUF_MOVE_NOTIFY) a dynamic importer's for
 * each mapping. A pin keeps the backing where it is: it counts like a
 * mapping in zcbuf_admit(). The backing itself waits for the first map.
 */
static int zcbuf_pin(struct dma_buf_attachment *attach)
{
	struct zcbuf_buffer *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	mutex_lock(&buf->lock);
	buf->pins++;
	mutex_unlock(&buf->lock);
	return 0;
}

static void zcbuf_unpin(struct dma_buf_attachment *attach)
{
	struct zcbuf_buffer *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	mutex_lock(&buf->lock);
	if (!WARN_ON(!buf->pins))
		buf->pins--;
	mutex_unlock(&buf->lock);
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

/* ZCBUF_ALLOC_DYNAMIC: the same, as a dynamic exporter. */
struct dma_buf_ops zcbuf_dynamic_dma_buf_ops __ro_after_init;

/**
 * zcbuf_exporter_init - fill in the dynamic exporter's operations
 */
void __init zcbuf_exporter_init(void)
{
	zcbuf_dynamic_dma_buf_ops = zcbuf_dma_buf_ops;
	zcbuf_dynamic_dma_buf_ops.pin = zcbuf_pin;
	zcbuf_dynamic_dma_buf_ops.unpin = zcbuf_unpin;
}
