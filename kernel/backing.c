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
#include <linux/module.h>
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

/*
 * Scattered backing is built from the largest blocks the allocator gives
 * cheaply, as the system dma-buf heap does: fewer pages to allocate, fewer
 * segments to map, TLB-friendly. The orders match system_heap's (1 MiB,
 * 64 KiB, 4 KiB).
 */
static const unsigned int zcbuf_scatter_orders[] = { 8, 4, 0 };

/*
 * For tests of importers that need contiguous memory: scattered backing is
 * then made of single pages, never physically contiguous by chance. Off in
 * production, where contiguity by chance is only a gain.
 */
static bool debug_discontiguous;
module_param(debug_discontiguous, bool, 0644);
MODULE_PARM_DESC(debug_discontiguous,
		 "scattered backing of single pages, never contiguous (tests)");

static gfp_t zcbuf_gfp(const struct zcbuf_constraints *c, unsigned int order)
{
	/*
	 * Zeroed, charged to the allocating task's memory cgroup, and
	 * failing rather than invoking the OOM killer: a buffer that cannot
	 * be backed is the caller's error to see. Blocks above order 0 are
	 * an optimisation: they do not reclaim or retry.
	 */
	gfp_t gfp = GFP_USER | __GFP_ZERO | __GFP_NOWARN | __GFP_ACCOUNT;

	if (order)
		gfp = (gfp | __GFP_NORETRY) & ~__GFP_RECLAIM;
	else
		gfp |= __GFP_RETRY_MAYFAIL;
	/*
	 * Only a 32-bit mask needs the DMA32 zone; for wider masks that do
	 * not cover all memory, zcbuf_backing_alloc() checks the last page.
	 */
	if (c->dma_mask <= DMA_BIT_MASK(32))
		gfp |= __GFP_DMA32;
	return gfp;
}

/* Hand the pages of an order-@order block out one by one. */
static void zcbuf_take_block(struct zcbuf_backing *b, unsigned long at,
			     struct page *page, unsigned int order)
{
	unsigned long i;

	split_page(page, order);
	for (i = 0; i < (1UL << order); i++)
		b->pages[at + i] = page + i;
	b->chunks++;
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
	page = alloc_pages(zcbuf_gfp(c, 0), order);
	if (!page)
		return -ENOMEM;
	split_page(page, order);
	for (i = b->npages; i < (1UL << order); i++)
		__free_page(page + i);
	for (i = 0; i < b->npages; i++)
		b->pages[i] = page + i;
	b->chunks = 1;
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

/* The largest block that fits in @left pages and that the allocator gives. */
static struct page *zcbuf_alloc_chunk(const struct zcbuf_constraints *c,
				      unsigned long left, unsigned int *order)
{
	struct page *page;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zcbuf_scatter_orders); i++) {
		*order = zcbuf_scatter_orders[i];
		if ((*order && debug_discontiguous) || left < (1UL << *order))
			continue;
		page = alloc_pages(zcbuf_gfp(c, *order), *order);
		if (page)
			return page;
	}
	return NULL;
}

static int zcbuf_alloc_scattered(struct zcbuf_backing *b,
				 const struct zcbuf_constraints *c,
				 bool interruptible)
{
	unsigned long done = 0;
	unsigned int order;
	struct page *page;

	while (done < b->npages) {
		if (interruptible && fatal_signal_pending(current))
			goto err;
		page = zcbuf_alloc_chunk(c, b->npages - done, &order);
		if (!page)
			goto err;
		zcbuf_take_block(b, done, page, order);
		done += 1UL << order;
		cond_resched();
	}
	/*
	 * Single pages often come out of the allocator in physical order;
	 * debug_discontiguous promises that they never form one range.
	 */
	if (debug_discontiguous && b->npages > 1 &&
	    zcbuf_pages_contiguous(b->pages, b->npages))
		swap(b->pages[0], b->pages[1]);
	b->contiguous = false;
	return 0;

err:
	while (done--)
		__free_page(b->pages[done]);
	return interruptible && fatal_signal_pending(current) ? -EINTR : -ENOMEM;
}

/**
 * zcbuf_backing_alloc - allocate zeroed backing that meets @c
 * @npages: size in pages
 * @c: collated constraints, checked with zcbuf_constraints_check()
 * @interruptible: give up with -EINTR when a fatal signal is pending
 *
 * Sleeps; call it without the buffer's lock.
 *
 * Return: the backing, or ERR_PTR(-ENOMEM) or ERR_PTR(-EINTR).
 */
struct zcbuf_backing *zcbuf_backing_alloc(unsigned long npages,
					  const struct zcbuf_constraints *c,
					  bool interruptible)
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
		ret = zcbuf_alloc_scattered(b, c, interruptible);
	if (ret)
		goto err;
	for (i = 0; i < npages; i++)
		b->last_phys = max(b->last_phys,
				   page_to_phys(b->pages[i]) + PAGE_SIZE - 1);
	/* A mask between 32 and 64 bits is met by where the pages landed. */
	if (b->last_phys > c->dma_mask) {
		for (i = 0; i < npages; i++)
			__free_page(b->pages[i]);
		ret = -ENOMEM;
		goto err;
	}
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

/*
 * Counts (@sgl NULL) or fills the segments of @b for @dev. Not
 * sg_alloc_table_from_pages_segment(): that merges contiguous pages up to a
 * size limit only, while a device may also have a segment boundary
 * (dma_get_seg_boundary(), 4 GiB for most PCI devices) that no segment may
 * cross, and adjacent blocks of scattered backing can straddle one.
 */
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
