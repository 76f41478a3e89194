// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf_test: software DMA. The CPU plays the device: it walks the DMA
 * addresses of a mapped attachment, turns them back into pages and moves
 * the data there. So it goes through exactly what the exporter mapped for
 * the device (bounce buffers included) and works on any exporter's buffer.
 *
 * The device owns a mapped buffer, so each transfer is bracketed like a
 * device's: dma_sync_sgtable_for_device() before (the CPU's writes reach
 * what the device sees), dma_sync_sgtable_for_cpu() after (the device's
 * writes reach the pages the CPU sees).
 */

#include <asm/unaligned.h>
#include <linux/crc32.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/mem_encrypt.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "zcbuf_test.h"

/**
 * struct zcbuf_test_cursor - a position in the DMA segments of a mapping
 * @dev: the device the table is mapped for
 * @sg: current segment
 * @left: segments from @sg to the end, @sg included
 * @off: offset in @sg
 */
struct zcbuf_test_cursor {
	struct device *dev;
	struct scatterlist *sg;
	unsigned int left;
	u64 off;
};

static void zcbuf_test_cursor_advance(struct zcbuf_test_cursor *cur, u64 len)
{
	cur->off += len;
	while (cur->left && cur->off >= sg_dma_len(cur->sg)) {
		cur->off -= sg_dma_len(cur->sg);
		cur->sg = sg_next(cur->sg);
		cur->left--;
	}
}

static void zcbuf_test_cursor_init(struct zcbuf_test_cursor *cur,
				   const struct zcbuf_test_import *imp, u64 offset)
{
	cur->dev = imp->attach->dev;
	cur->sg = imp->sgt->sgl;
	cur->left = imp->sgt->nents;
	cur->off = 0;
	zcbuf_test_cursor_advance(cur, offset);
}

/*
 * The page and offset at the cursor, and how many bytes from there stay
 * within both the segment and the page. dma_to_phys() would need
 * translate_dma_to_phys(), which is not exported; our platform devices
 * never have a dma_range_map, so the bus address is the physical address
 * (less the memory encryption bit).
 */
static int zcbuf_test_cursor_page(const struct zcbuf_test_cursor *cur, u64 want,
				  struct page **page, unsigned int *poff, u64 *len)
{
	phys_addr_t phys;

	if (!cur->left || cur->dev->dma_range_map)
		return -EIO;
	phys = __sme_clr(sg_dma_address(cur->sg) + cur->off);
	if (!pfn_valid(PHYS_PFN(phys)))
		return -EIO;
	*page = pfn_to_page(PHYS_PFN(phys));
	*poff = offset_in_page(phys);
	*len = min3(want, sg_dma_len(cur->sg) - cur->off,
		    (u64)(PAGE_SIZE - *poff));
	return 0;
}

static bool zcbuf_test_device_writes(const struct zcbuf_test_import *imp)
{
	return imp->dir == DMA_FROM_DEVICE || imp->dir == DMA_BIDIRECTIONAL;
}

static bool zcbuf_test_device_reads(const struct zcbuf_test_import *imp)
{
	return imp->dir == DMA_TO_DEVICE || imp->dir == DMA_BIDIRECTIONAL;
}

/*
 * The attachment @id of @zf that a device transfer may use: mapped, with
 * [@offset, @offset + @length) inside the buffer, and mapped in a direction
 * that lets the device write (@write) or read it. Called with zf->lock held.
 */
static struct zcbuf_test_import *zcbuf_test_transfer_import(struct zcbuf_test_file *zf,
							    u32 id, u64 offset,
						  u64 length, bool write)
{
	struct zcbuf_test_import *imp = xa_load(&zf->imports, id);

	if (!imp)
		return ERR_PTR(-ENOENT);
	if (!imp->sgt || !length || offset > imp->length ||
	    length > imp->length - offset)
		return ERR_PTR(-EINVAL);
	if (write ? !zcbuf_test_device_writes(imp) : !zcbuf_test_device_reads(imp))
		return ERR_PTR(-EACCES);
	return imp;
}

static void zcbuf_test_begin(const struct zcbuf_test_import *imp)
{
	dma_sync_sgtable_for_device(imp->attach->dev, imp->sgt, imp->dir);
}

static void zcbuf_test_end(const struct zcbuf_test_import *imp)
{
	dma_sync_sgtable_for_cpu(imp->attach->dev, imp->sgt, imp->dir);
}

static int zcbuf_test_yield(void)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	cond_resched();
	return 0;
}

static void zcbuf_test_fill_bytes(u8 *p, u64 len, u64 offset,
				  const struct zcbuf_test_fill *f)
{
	u64 i;

	if (f->mode == ZCBUF_TEST_FILL_CONSTANT) {
		memset(p, f->pattern & 0xff, len);
		return;
	}
	/* COUNTER: offsets and lengths are multiples of 4, so are chunks. */
	for (i = 0; i + 4 <= len; i += 4)
		put_unaligned_le32(f->pattern + (u32)((offset + i) / 4), p + i);
}

static int zcbuf_test_do_fill(const struct zcbuf_test_import *imp,
			      const struct zcbuf_test_fill *f)
{
	struct zcbuf_test_cursor cur;
	u64 done = 0, len;
	unsigned int poff;
	struct page *page;
	void *vaddr;
	int ret = 0;

	zcbuf_test_cursor_init(&cur, imp, f->offset);
	zcbuf_test_begin(imp);
	while (done < f->length) {
		ret = zcbuf_test_cursor_page(&cur, f->length - done, &page, &poff,
					     &len);
		if (ret)
			break;
		/* A COUNTER word never straddles a chunk: keep chunks whole words. */
		if (f->mode == ZCBUF_TEST_FILL_COUNTER && (len & 3)) {
			ret = -EIO;
			break;
		}
		vaddr = kmap_local_page(page);
		zcbuf_test_fill_bytes(vaddr + poff, len, f->offset + done, f);
		kunmap_local(vaddr);
		done += len;
		zcbuf_test_cursor_advance(&cur, len);
		ret = zcbuf_test_yield();
		if (ret)
			break;
	}
	zcbuf_test_end(imp);
	return ret;
}

/**
 * zcbuf_test_ioctl_fill - ZCBUF_TEST_IOC_FILL
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_fill
 *
 * Return: 0; -EFAULT; -EINVAL for a bad mode, range or alignment, an
 * unmapped attachment or non-zero reserved; -ENOENT for an unknown id;
 * -EACCES when the mapping's direction does not let the device write;
 * -EIO when a DMA address is not memory; -EINTR.
 */
long zcbuf_test_ioctl_fill(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_import *imp;
	struct zcbuf_test_fill f;
	int ret;

	if (copy_from_user(&f, arg, sizeof(f)))
		return -EFAULT;
	if (f.reserved)
		return -EINVAL;
	if (f.mode != ZCBUF_TEST_FILL_CONSTANT && f.mode != ZCBUF_TEST_FILL_COUNTER)
		return -EINVAL;
	if (f.mode == ZCBUF_TEST_FILL_COUNTER && ((f.offset | f.length) & 3))
		return -EINVAL;

	mutex_lock(&zf->lock);
	imp = zcbuf_test_transfer_import(zf, f.id, f.offset, f.length, true);
	ret = IS_ERR(imp) ? PTR_ERR(imp) : zcbuf_test_do_fill(imp, &f);
	mutex_unlock(&zf->lock);
	return ret;
}

static int zcbuf_test_do_copy(const struct zcbuf_test_import *src,
			      const struct zcbuf_test_import *dst,
			 const struct zcbuf_test_copy *c)
{
	struct zcbuf_test_cursor sc, dc;
	struct page *spage, *dpage;
	unsigned int soff, doff;
	u64 done = 0, slen, dlen;
	void *s, *d;
	int ret = 0;

	zcbuf_test_cursor_init(&sc, src, c->src_offset);
	zcbuf_test_cursor_init(&dc, dst, c->dst_offset);
	zcbuf_test_begin(src);
	zcbuf_test_begin(dst);
	while (done < c->length) {
		ret = zcbuf_test_cursor_page(&sc, c->length - done, &spage, &soff,
					     &slen);
		if (!ret)
			ret = zcbuf_test_cursor_page(&dc, slen, &dpage, &doff,
						     &dlen);
		if (ret)
			break;
		s = kmap_local_page(spage);
		d = kmap_local_page(dpage);
		memcpy(d + doff, s + soff, dlen);
		kunmap_local(d);
		kunmap_local(s);
		done += dlen;
		zcbuf_test_cursor_advance(&sc, dlen);
		zcbuf_test_cursor_advance(&dc, dlen);
		ret = zcbuf_test_yield();
		if (ret)
			break;
	}
	zcbuf_test_end(dst);
	zcbuf_test_end(src);
	return ret;
}

static bool zcbuf_test_overlap(const struct zcbuf_test_import *src,
			       const struct zcbuf_test_import *dst,
			  const struct zcbuf_test_copy *c)
{
	if (src->dmabuf != dst->dmabuf)
		return false;
	return c->src_offset < c->dst_offset + c->length &&
	       c->dst_offset < c->src_offset + c->length;
}

/**
 * zcbuf_test_ioctl_copy - ZCBUF_TEST_IOC_COPY
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_copy
 *
 * Return: 0; -EFAULT; -EINVAL for a bad range, overlapping ranges of one
 * buffer or an unmapped attachment; -ENOENT for an unknown id; -EACCES when
 * a direction does not allow the transfer; -EIO; -EINTR.
 */
long zcbuf_test_ioctl_copy(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_import *src, *dst;
	struct zcbuf_test_copy c;
	int ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;

	mutex_lock(&zf->lock);
	src = zcbuf_test_transfer_import(zf, c.src_id, c.src_offset, c.length, false);
	dst = zcbuf_test_transfer_import(zf, c.dst_id, c.dst_offset, c.length, true);
	if (IS_ERR(src))
		ret = PTR_ERR(src);
	else if (IS_ERR(dst))
		ret = PTR_ERR(dst);
	else if (zcbuf_test_overlap(src, dst, &c))
		ret = -EINVAL;
	else
		ret = zcbuf_test_do_copy(src, dst, &c);
	mutex_unlock(&zf->lock);
	return ret;
}

static int zcbuf_test_do_checksum(const struct zcbuf_test_import *imp,
				  struct zcbuf_test_checksum *k)
{
	struct zcbuf_test_cursor cur;
	u64 done = 0, len;
	unsigned int poff;
	struct page *page;
	u32 crc = ~0U;
	void *vaddr;
	int ret = 0;

	zcbuf_test_cursor_init(&cur, imp, k->offset);
	zcbuf_test_begin(imp);
	while (done < k->length) {
		ret = zcbuf_test_cursor_page(&cur, k->length - done, &page, &poff,
					     &len);
		if (ret)
			break;
		vaddr = kmap_local_page(page);
		crc = crc32_le(crc, vaddr + poff, len);
		kunmap_local(vaddr);
		done += len;
		zcbuf_test_cursor_advance(&cur, len);
		ret = zcbuf_test_yield();
		if (ret)
			break;
	}
	zcbuf_test_end(imp);
	k->crc32 = ~crc;
	return ret;
}

/**
 * zcbuf_test_ioctl_checksum - ZCBUF_TEST_IOC_CHECKSUM
 * @zf: the caller's file
 * @arg: user pointer to struct zcbuf_test_checksum
 *
 * Return: 0; -EFAULT; -EINVAL for a bad range or an unmapped attachment;
 * -ENOENT for an unknown id; -EACCES when the mapping's direction does not
 * let the device read; -EIO; -EINTR.
 */
long zcbuf_test_ioctl_checksum(struct zcbuf_test_file *zf, void __user *arg)
{
	struct zcbuf_test_checksum k;
	struct zcbuf_test_import *imp;
	int ret;

	if (copy_from_user(&k, arg, sizeof(k)))
		return -EFAULT;

	mutex_lock(&zf->lock);
	imp = zcbuf_test_transfer_import(zf, k.id, k.offset, k.length, false);
	ret = IS_ERR(imp) ? PTR_ERR(imp) : zcbuf_test_do_checksum(imp, &k);
	mutex_unlock(&zf->lock);
	if (ret)
		return ret;
	if (copy_to_user(arg, &k, sizeof(k)))
		return -EFAULT;
	return 0;
}
