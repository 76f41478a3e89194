// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: the exporter's CPU side. User mappings are filled page by page
 * from a fault handler (VM_PFNMAP), so a migration only has to zap them;
 * vmap gives kernel importers such as vb2-vmalloc a linear mapping;
 * begin/end_cpu_access hand the buffer between CPU and devices.
 */

#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "zcbuf.h"

static vm_fault_t zcbuf_vm_fault(struct vm_fault *vmf)
{
	struct zcbuf_buffer *buf = vmf->vma->vm_private_data;
	vm_fault_t ret;

	/* vm_pgoff is part of vmf->pgoff; the core checked it at mmap time. */
	if (vmf->pgoff >= buf->npages)
		return VM_FAULT_SIGBUS;

	mutex_lock(&buf->lock);
	if (zcbuf_buffer_populate(buf, true))
		ret = VM_FAULT_SIGBUS;
	else
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     page_to_pfn(buf->backing->pages[vmf->pgoff]));
	mutex_unlock(&buf->lock);
	return ret;
}

static void zcbuf_vm_open(struct vm_area_struct *vma)
{
	struct zcbuf_buffer *buf = vma->vm_private_data;

	atomic_inc(&buf->mmaps);
}

static void zcbuf_vm_close(struct vm_area_struct *vma)
{
	struct zcbuf_buffer *buf = vma->vm_private_data;

	atomic_dec(&buf->mmaps);
}

static const struct vm_operations_struct zcbuf_vm_ops = {
	.fault = zcbuf_vm_fault,
	.open = zcbuf_vm_open,
	.close = zcbuf_vm_close,
};

/**
 * zcbuf_mmap - dma_buf_ops.mmap: set up a mapping that faults pages in
 * @dmabuf: our buffer
 * @vma: the new mapping; the core has checked its bounds
 *
 * Return: 0, -EINVAL for a private mapping, -EACCES for a writable mapping
 * of a read-only buffer.
 */
int zcbuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct zcbuf_buffer *buf = dmabuf->priv;

	/*
	 * A private mapping would copy on write: not the buffer any more.
	 * VM_MAYSHARE, not VM_SHARED: mmap clears VM_SHARED from a MAP_SHARED
	 * mapping of a file opened read-only, such as a read-only buffer.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (buf->flags & ZCBUF_ALLOC_READONLY) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	vma->vm_flags |= VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_ops = &zcbuf_vm_ops;
	vma->vm_private_data = buf;
	atomic_inc(&buf->mmaps);
	return 0;
}

/**
 * zcbuf_vmap - dma_buf_ops.vmap: map the whole buffer into the kernel
 * @dmabuf: our buffer
 * @map: result
 *
 * The core calls this for the first vmap only and warns (WARN_ON_ONCE in
 * 6.1's dma_buf_vmap) whenever it fails, so the allocation it may do is not
 * cut short by a fatal signal: the only failure left is memory running
 * out.
 *
 * Return: 0 or -ENOMEM.
 */
int zcbuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct zcbuf_buffer *buf = dmabuf->priv;
	struct zcbuf_backing *b;
	void *vaddr;
	int ret;

	mutex_lock(&buf->lock);
	ret = zcbuf_buffer_populate(buf, false);
	if (ret) {
		mutex_unlock(&buf->lock);
		return ret;
	}
	/* Like a device map, a kernel mapping pins the backing. */
	buf->vmaps++;
	b = buf->backing;
	mutex_unlock(&buf->lock);

	vaddr = vmap(b->pages, b->npages, VM_MAP, PAGE_KERNEL);

	mutex_lock(&buf->lock);
	if (!vaddr)
		buf->vmaps--;
	else
		buf->vaddr = vaddr;
	mutex_unlock(&buf->lock);
	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

/**
 * zcbuf_vunmap - dma_buf_ops.vunmap: undo zcbuf_vmap()
 * @dmabuf: our buffer
 * @map: the mapping zcbuf_vmap() returned
 */
void zcbuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct zcbuf_buffer *buf = dmabuf->priv;
	void *vaddr;

	mutex_lock(&buf->lock);
	vaddr = buf->vaddr;
	buf->vaddr = NULL;
	mutex_unlock(&buf->lock);

	vunmap(vaddr);

	mutex_lock(&buf->lock);
	buf->vmaps--;
	mutex_unlock(&buf->lock);
}

/**
 * zcbuf_begin_cpu_access - give the buffer to the CPU
 * @dmabuf: our buffer
 * @dir: the access the CPU will make
 *
 * A CPU write to a read-only buffer is refused: its fd is O_RDONLY, but
 * the core does not check the file mode for DMA_BUF_IOCTL_SYNC.
 * Waits for the fences the access must follow, allocates deferred backing,
 * then syncs every outstanding device mapping for the CPU and invalidates
 * the kernel mapping. The core waits for the same fences after this
 * returns; waiting first means an interrupted wait leaves no access
 * counted that will never end.
 *
 * Return: 0, -EACCES for a write to a read-only buffer, -ERESTARTSYS,
 * -EINTR or -ENOMEM.
 */
int zcbuf_begin_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	bool write = dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE;
	struct zcbuf_buffer *buf = dmabuf->priv;
	struct zcbuf_battach *ba;
	struct zcbuf_mapping *m;
	long wait;
	int ret;

	if (write && (buf->flags & ZCBUF_ALLOC_READONLY))
		return -EACCES;
	wait = dma_resv_wait_timeout(dmabuf->resv, dma_resv_usage_rw(write),
				     true, MAX_SCHEDULE_TIMEOUT);
	if (wait < 0)
		return wait;
	if (mutex_lock_interruptible(&buf->lock))
		return -EINTR;
	ret = zcbuf_buffer_populate(buf, true);
	if (ret)
		goto out;
	list_for_each_entry(ba, &buf->attachments, node)
		list_for_each_entry(m, &ba->mappings, node)
			dma_sync_sgtable_for_cpu(ba->attach->dev, &m->sgt,
						 m->dir);
	if (buf->vaddr)
		invalidate_kernel_vmap_range(buf->vaddr, buf->size);
	buf->cpu_accesses++;
	buf->cpu_syncs++;
out:
	mutex_unlock(&buf->lock);
	return ret;
}

/**
 * zcbuf_end_cpu_access - give the buffer back to the devices
 * @dmabuf: our buffer
 * @dir: the access the CPU made
 *
 * Return: 0 (an end without a begin is harmless).
 */
int zcbuf_end_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct zcbuf_buffer *buf = dmabuf->priv;
	struct zcbuf_battach *ba;
	struct zcbuf_mapping *m;

	mutex_lock(&buf->lock);
	if (buf->vaddr)
		flush_kernel_vmap_range(buf->vaddr, buf->size);
	list_for_each_entry(ba, &buf->attachments, node)
		list_for_each_entry(m, &ba->mappings, node)
			dma_sync_sgtable_for_device(ba->attach->dev, &m->sgt,
						    m->dir);
	if (buf->cpu_accesses)
		buf->cpu_accesses--;
	buf->cpu_syncs++;
	mutex_unlock(&buf->lock);
	return 0;
}
