// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: backing storage. Allocation from collated constraints, the
 * compatibility test that decides a migration, the copy a migration does,
 * and the per-device scatterlist a mapping hands out.
 */

#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "zcbuf.h"

static unsigned int zcbuf_contig_order(unsigned long npages,
				       const struct zcbuf_constraints *c)
{
	return get_order(max_t(u64, (u64)npages << PAGE_SHIFT, c->alignment));
}

/**
 * zcbuf_constraints_check - can any backing ever meet these constraints?
 * @npages: buffer size in pages
 * @c: collated constraints
 *
 * Return: 0, or -ENOMEM when contiguous backing is needed and the buffer
 * (or its alignment) is larger than the largest block the kernel can give.
 */
int zcbuf_constraints_check(unsigned long npages,
			    const struct zcbuf_constraints *c)
{
	if (c->contiguous &&
	    zcbuf_contig_order(npages, c) > ZCBUF_MAX_CONTIG_ORDER)
		return -ENOMEM;
	return 0;
}

static gfp_t zcbuf_gfp(const struct zcbuf_constraints *c)
{
	/*
	 * Zeroed, and failing rather than invoking the OOM killer: a buffer
	 * that cannot be backed is the caller's error to see.
	 */
	gfp_t gfp = GFP_USER | __GFP_ZERO | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;

	/* Device masks are at least 32 bits wide (device.c checks). */
	if (c->dma_mask < DMA_BIT_MASK(64))
		gfp |= __GFP_DMA32;
	return gfp;
}

static int zcbuf_alloc_contig(struct zcbuf_backing *b,
			      const struct zcbuf_constraints *c)
{
	unsigned int order = zcbuf_contig_order(b->npages, c);
	struct page *page;
	unsigned long i;

	if (order > ZCBUF_MAX_CONTIG_ORDER)
		return -ENOMEM;
	/* A buddy block is naturally aligned to its size: that meets alignment. */
	page = alloc_pages(zcbuf_gfp(c), order);
	if (!page)
		return -ENOMEM;
	split_page(page, order);
	for (i = b->npages; i < (1UL << order); i++)
		__free_page(page + i);
	for (i = 0; i < b->npages; i++)
		b->pages[i] = page + i;
	b->contiguous = true;
	return 0;
}

static bool zcbuf_pages_contiguous(struct page **pages, unsigned long npages)
{
	unsigned long i;

	for (i = 1; i < npages; i++)
		if (page_to_pfn(pages[i]) != page_to_pfn(pages[i - 1]) + 1)
			return false;
	return true;
}

static int zcbuf_alloc_scattered(struct zcbuf_backing *b,
				 const struct zcbuf_constraints *c)
{
	gfp_t gfp = zcbuf_gfp(c);
	unsigned long i;

	for (i = 0; i < b->npages; i++) {
		b->pages[i] = alloc_page(gfp);
		if (!b->pages[i])
			goto err;
		if (fatal_signal_pending(current)) {
			i++;
			goto err;
		}
		cond_resched();
	}
	/*
	 * Order-0 pages often come out of the allocator in physical order.
	 * Scattered backing must never satisfy a contiguity requirement by
	 * chance (importers would then behave differently from run to run),
	 * and the pages are all zero, so any order is as good: swap two.
	 */
	if (b->npages > 1 && zcbuf_pages_contiguous(b->pages, b->npages))
		swap(b->pages[0], b->pages[1]);
	b->contiguous = false;
	return 0;

err:
	while (i--)
		__free_page(b->pages[i]);
	return fatal_signal_pending(current) ? -EINTR : -ENOMEM;
}

/**
 * zcbuf_backing_alloc - allocate zeroed backing that meets @c
 * @npages: size in pages
 * @c: collated constraints, checked with zcbuf_constraints_check()
 *
 * Sleeps; call it without the buffer's lock.
 *
 * Return: the backing, or ERR_PTR(-ENOMEM) or ERR_PTR(-EINTR).
 */
struct zcbuf_backing *zcbuf_backing_alloc(unsigned long npages,
					  const struct zcbuf_constraints *c)
{
	struct zcbuf_backing *b;
	unsigned long i;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->npages = npages;
	b->pages = kvmalloc_array(npages, sizeof(*b->pages), GFP_KERNEL);
	if (!b->pages) {
		ret = -ENOMEM;
		goto err;
	}
	if (c->contiguous || c->alignment > PAGE_SIZE)
		ret = zcbuf_alloc_contig(b, c);
	else
		ret = zcbuf_alloc_scattered(b, c);
	if (ret)
		goto err;
	for (i = 0; i < npages; i++)
		b->last_phys = max(b->last_phys,
				   page_to_phys(b->pages[i]) + PAGE_SIZE - 1);
	return b;

err:
	kvfree(b->pages);
	kfree(b);
	return ERR_PTR(ret);
}

/**
 * zcbuf_backing_free - free backing nobody maps any more
 * @b: backing, may be NULL
 */
void zcbuf_backing_free(struct zcbuf_backing *b)
{
	unsigned long i;

	if (!b)
		return;
	for (i = 0; i < b->npages; i++)
		__free_page(b->pages[i]);
	kvfree(b->pages);
	kfree(b);
}

/**
 * zcbuf_backing_meets - does existing backing meet a device's constraints?
 * @b: the backing
 * @c: the constraints
 *
 * Return: true when no migration is needed for @c.
 */
bool zcbuf_backing_meets(const struct zcbuf_backing *b,
			 const struct zcbuf_constraints *c)
{
	if ((c->contiguous || c->alignment > PAGE_SIZE) && !b->contiguous)
		return false;
	if (!IS_ALIGNED(page_to_phys(b->pages[0]), c->alignment))
		return false;
	return b->last_phys <= c->dma_mask;
}

/**
 * zcbuf_backing_copy - copy the contents of @src into @dst, same size
 * @dst: destination
 * @src: source
 */
void zcbuf_backing_copy(struct zcbuf_backing *dst,
			const struct zcbuf_backing *src)
{
	unsigned long i;

	for (i = 0; i < src->npages; i++) {
		copy_highpage(dst->pages[i], src->pages[i]);
		cond_resched();
	}
}

static bool zcbuf_can_merge(phys_addr_t start, unsigned int len,
			    phys_addr_t next, unsigned int max_seg,
			    unsigned long boundary)
{
	if (next != start + len)
		return false;
	if (len + PAGE_SIZE > max_seg)
		return false;
	/* Both ends of the grown segment inside one boundary window. */
	return (start & ~(phys_addr_t)boundary) ==
	       ((next + PAGE_SIZE - 1) & ~(phys_addr_t)boundary);
}

static unsigned int zcbuf_walk_segments(const struct zcbuf_backing *b,
					struct device *dev,
					struct scatterlist *sgl)
{
	unsigned int max_seg = dma_get_max_seg_size(dev);
	unsigned long boundary = dma_get_seg_boundary(dev);
	struct scatterlist *sg = sgl;
	unsigned int nsegs = 0;
	unsigned long first = 0;
	unsigned int len = 0;
	unsigned long i;

	for (i = 0; i < b->npages; i++) {
		phys_addr_t phys = page_to_phys(b->pages[i]);

		if (len && zcbuf_can_merge(page_to_phys(b->pages[first]), len,
					   phys, max_seg, boundary)) {
			len += PAGE_SIZE;
			continue;
		}
		if (len) {
			if (sg) {
				sg_set_page(sg, b->pages[first], len, 0);
				sg = sg_next(sg);
			}
			nsegs++;
		}
		first = i;
		len = PAGE_SIZE;
	}
	if (sg)
		sg_set_page(sg, b->pages[first], len, 0);
	return nsegs + 1;
}

/**
 * zcbuf_backing_sgt - build an sg_table of @b for @dev
 * @b: the backing
 * @dev: the device it is for: its max segment size and segment boundary
 *	decide where segments are split
 * @sgt: the table to fill, unmapped
 *
 * Return: 0 or -ENOMEM.
 */
int zcbuf_backing_sgt(const struct zcbuf_backing *b, struct device *dev,
		      struct sg_table *sgt)
{
	unsigned int nsegs = zcbuf_walk_segments(b, dev, NULL);
	int ret;

	ret = sg_alloc_table(sgt, nsegs, GFP_KERNEL);
	if (ret)
		return ret;
	zcbuf_walk_segments(b, dev, sgt->sgl);
	return 0;
}
