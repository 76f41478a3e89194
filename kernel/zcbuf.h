/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcbuf: internal declarations shared by the module's files.
 *
 * Locking, outermost first:
 *   dma_resv lock of a dma-buf (taken by the dma-buf core; by us only to
 *   migrate a dynamic export, for dma_buf_move_notify())
 *   zcbuf_buffers_lock (the global list of buffers, debugfs)
 *   zcbuf_buffer.lock (one per exported buffer)
 *   i_mmap_rwsem (unmap_mapping_range, during a migration)
 * A page fault on one of our mappings runs under mmap_lock and takes
 * zcbuf_buffer.lock, so nothing touches user memory under that lock.
 */
#ifndef _ZCBUF_H
#define _ZCBUF_H

#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <uapi/linux/zcbuf.h>

/* The largest block the buddy allocator hands out: 4 MiB on x86-64. */
#define ZCBUF_MAX_CONTIG_ORDER	(MAX_ORDER - 1)
#define ZCBUF_MAX_CONTIG	(PAGE_SIZE << ZCBUF_MAX_CONTIG_ORDER)

/**
 * struct zcbuf_constraints - what an importer needs from the backing
 * @dma_mask: every byte must lie at or below this physical address
 * @alignment: start alignment in bytes, a power of two, at least PAGE_SIZE
 * @contiguous: one physically contiguous range
 */
struct zcbuf_constraints {
	u64 dma_mask;
	u64 alignment;
	bool contiguous;
};

/**
 * struct zcbuf_backing - the pages behind a buffer
 * @pages: one entry per page of the buffer, in buffer order
 * @npages: number of entries
 * @chunks: blocks the pages were allocated as (1 when contiguous)
 * @contiguous: allocated as one block; scattered backing may still happen
 *	to be contiguous, but only this flag meets a contiguity constraint
 * @last_phys: physical address of the last byte
 */
struct zcbuf_backing {
	struct page **pages;
	unsigned long npages;
	unsigned long chunks;
	bool contiguous;
	phys_addr_t last_phys;
};

/**
 * struct zcbuf_buffer - one exported buffer, the dma-buf's priv
 * @dmabuf: the dma-buf, valid from export to release
 * @ino: inode number of the dma-buf's file, as in fdinfo and fstat
 * @node: entry in zcbuf_buffers
 * @size: size in bytes, a multiple of PAGE_SIZE
 * @npages: size in pages
 * @alignment: requested start alignment (0 or a power of two)
 * @flags: ZCBUF_ALLOC_* flags
 * @mmaps: live CPU mappings (VMAs)
 * @lock: protects everything below
 * @backing: the memory, NULL while allocation is deferred
 * @attachments: struct zcbuf_battach of every attached device
 * @generation: bumped whenever @backing or @attachments change
 * @maps: outstanding device mappings; while non-zero the backing is pinned
 * @pins: attachments the core pinned (dynamic export only); pin too
 * @vmaps: outstanding kernel mappings (0 or 1: the core counts the rest)
 * @vaddr: the kernel mapping while @vmaps is non-zero
 * @cpu_accesses: begin_cpu_access calls not yet ended
 * @cpu_syncs: begin_cpu_access and end_cpu_access calls made, for debugfs
 * @migrations: backing migrations of this buffer
 */
struct zcbuf_buffer {
	struct dma_buf *dmabuf;
	unsigned long ino;
	struct list_head node;
	size_t size;
	unsigned long npages;
	u64 alignment;
	u32 flags;
	atomic_t mmaps;

	/* Guards the members below; see the lock order at the top. */
	struct mutex lock;
	struct zcbuf_backing *backing;
	struct list_head attachments;
	unsigned int generation;
	unsigned int maps;
	unsigned int pins;
	unsigned int vmaps;
	void *vaddr;
	unsigned int cpu_accesses;
	unsigned long cpu_syncs;
	unsigned int migrations;
};

/**
 * struct zcbuf_battach - exporter-side state of one attachment (attach->priv)
 * @node: entry in zcbuf_buffer.attachments
 * @attach: the core's attachment
 * @c: the attaching device's constraints
 * @label: the device's "label" property, empty without one
 * @mappings: struct zcbuf_mapping, outstanding maps of this attachment
 * @maps: number of entries in @mappings plus maps being set up
 */
struct zcbuf_battach {
	struct list_head node;
	struct dma_buf_attachment *attach;
	struct zcbuf_constraints c;
	char label[ZCBUF_NAME_LEN];
	struct list_head mappings;
	unsigned int maps;
};

/**
 * struct zcbuf_mapping - one sg_table handed out by map_dma_buf
 * @node: entry in zcbuf_battach.mappings
 * @sgt: the table; unmap_dma_buf finds the mapping from it
 * @dir: direction it was mapped with
 */
struct zcbuf_mapping {
	struct list_head node;
	struct sg_table sgt;
	enum dma_data_direction dir;
};

/* stats.c */
enum zcbuf_stat {
	ZCBUF_STAT_ATTACHMENTS,
	ZCBUF_STAT_MAPS,
};

void zcbuf_stats_buffer_new(void);
void zcbuf_stats_buffer_gone(const struct zcbuf_backing *b);
void zcbuf_stats_installed(const struct zcbuf_backing *b);
void zcbuf_stats_migrated(const struct zcbuf_backing *old,
			  const struct zcbuf_backing *b);
void zcbuf_stats_count(enum zcbuf_stat which, int delta);
long zcbuf_ioctl_stats(void __user *arg);

/* backing.c */
int zcbuf_constraints_check(unsigned long npages,
			    const struct zcbuf_constraints *c);
struct zcbuf_backing *zcbuf_backing_alloc(unsigned long npages,
					  const struct zcbuf_constraints *c,
					  bool interruptible);
void zcbuf_backing_free(struct zcbuf_backing *b);
bool zcbuf_backing_meets(const struct zcbuf_backing *b,
			 const struct zcbuf_constraints *c);
void zcbuf_backing_copy(struct zcbuf_backing *dst,
			const struct zcbuf_backing *src);
int zcbuf_backing_sgt(const struct zcbuf_backing *b, struct device *dev,
		      struct sg_table *sgt);

/* buffer.c */
extern struct list_head zcbuf_buffers;
extern struct mutex zcbuf_buffers_lock;
void zcbuf_collate(const struct zcbuf_buffer *buf,
		   const struct zcbuf_constraints *extra,
		   struct zcbuf_constraints *c);
int zcbuf_buffer_populate(struct zcbuf_buffer *buf, bool interruptible);
void zcbuf_buffer_install(struct zcbuf_buffer *buf, struct zcbuf_backing *b);
struct zcbuf_backing *zcbuf_buffer_migrate(struct zcbuf_buffer *buf,
					   struct zcbuf_backing *b);
void zcbuf_buffer_free(struct zcbuf_buffer *buf);

/* alloc.c */
long zcbuf_ioctl_alloc(void __user *arg);

/* exporter.c */
extern const struct dma_buf_ops zcbuf_dma_buf_ops;
extern struct dma_buf_ops zcbuf_dynamic_dma_buf_ops;
void zcbuf_exporter_init(void);

/* cpu.c */
int zcbuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma);
int zcbuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map);
void zcbuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map);
int zcbuf_begin_cpu_access(struct dma_buf *dmabuf,
			   enum dma_data_direction dir);
int zcbuf_end_cpu_access(struct dma_buf *dmabuf, enum dma_data_direction dir);

/* debugfs.c */
void zcbuf_debugfs_init(void);
void zcbuf_debugfs_exit(void);

#endif /* _ZCBUF_H */
