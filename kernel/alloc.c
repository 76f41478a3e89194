// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: ZCBUF_IOC_ALLOC. Everything is validated before anything is
 * allocated, the result is copied to user space before the fd is
 * installed, and any failure on the way loses nothing.
 */

#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "zcbuf.h"

/*
 * The largest buffer one ALLOC may ask for. Memory is charged to the
 * allocating task's memory cgroup (__GFP_ACCOUNT) when it is allocated;
 * this bounds what a single request can take, deferred or not.
 */
static unsigned int max_buffer_mib = 1024;
module_param(max_buffer_mib, uint, 0644);
MODULE_PARM_DESC(max_buffer_mib, "largest buffer in MiB (default 1024)");

static int zcbuf_alloc_check(const struct zcbuf_alloc *a)
{
	struct zcbuf_constraints c = {
		.dma_mask = DMA_BIT_MASK(64),
		.alignment = max_t(u64, a->alignment, PAGE_SIZE),
		.contiguous = a->flags & ZCBUF_ALLOC_CONTIGUOUS,
	};

	if (a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if (a->flags & ~ZCBUF_ALLOC_FLAGS)
		return -EINVAL;
	if (!memchr(a->name, '\0', sizeof(a->name)))
		return -EINVAL;
	if (!a->size)
		return -EINVAL;
	if (a->alignment && (!is_power_of_2(a->alignment) ||
			     a->alignment > ZCBUF_MAX_CONTIG))
		return -EINVAL;
	if (a->size > (u64)READ_ONCE(max_buffer_mib) << 20)
		return -EFBIG;
	/* More memory than the machine has can never be backed. */
	if (a->size > (u64)totalram_pages() << PAGE_SHIFT)
		return -ENOMEM;
	c.contiguous |= c.alignment > PAGE_SIZE;
	return zcbuf_constraints_check(PAGE_ALIGN(a->size) >> PAGE_SHIFT, &c);
}

static struct zcbuf_buffer *zcbuf_buffer_new(const struct zcbuf_alloc *a)
{
	struct zcbuf_buffer *buf;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return NULL;
	buf->size = PAGE_ALIGN(a->size);
	buf->npages = buf->size >> PAGE_SHIFT;
	buf->alignment = a->alignment;
	buf->flags = a->flags;
	atomic_set(&buf->mmaps, 0);
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->attachments);
	INIT_LIST_HEAD(&buf->node);
	zcbuf_stats_buffer_new();
	return buf;
}

static int zcbuf_set_name(struct dma_buf *dmabuf, const char *name)
{
	char *copy;

	if (!name[0])
		return 0;
	copy = kstrdup(name, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	spin_lock(&dmabuf->name_lock);
	kfree(dmabuf->name);
	dmabuf->name = copy;
	spin_unlock(&dmabuf->name_lock);
	return 0;
}

/**
 * zcbuf_ioctl_alloc - ZCBUF_IOC_ALLOC
 * @arg: user pointer to struct zcbuf_alloc
 *
 * Return: 0; -EFAULT; -EINVAL for bad flags, alignment, name, a zero size
 * or non-zero reserved fields; -EFBIG above the max_buffer_mib parameter;
 * -ENOMEM when the size (or contiguous size)
 * can never be backed or memory ran out.
 */
long zcbuf_ioctl_alloc(void __user *arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct zcbuf_backing *b = NULL;
	struct zcbuf_buffer *buf;
	struct dma_buf *dmabuf;
	struct zcbuf_alloc a;
	int ret, fd;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	ret = zcbuf_alloc_check(&a);
	if (ret)
		return ret;

	buf = zcbuf_buffer_new(&a);
	if (!buf)
		return -ENOMEM;
	if (a.flags & ZCBUF_ALLOC_IMMEDIATE) {
		struct zcbuf_constraints c;

		zcbuf_collate(buf, NULL, &c);
		b = zcbuf_backing_alloc(buf->npages, &c, true);
		if (IS_ERR(b)) {
			ret = PTR_ERR(b);
			goto err_free;
		}
		zcbuf_buffer_install(buf, b);
	}

	exp_info.ops = (a.flags & ZCBUF_ALLOC_DYNAMIC) ?
		       &zcbuf_dynamic_dma_buf_ops : &zcbuf_dma_buf_ops;
	exp_info.size = buf->size;
	exp_info.flags = (a.flags & ZCBUF_ALLOC_READONLY) ? O_RDONLY : O_RDWR;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}
	/* From here on, dma_buf_put() frees the buffer through release. */
	buf->dmabuf = dmabuf;
	buf->ino = file_inode(dmabuf->file)->i_ino;
	mutex_lock(&zcbuf_buffers_lock);
	list_add_tail(&buf->node, &zcbuf_buffers);
	mutex_unlock(&zcbuf_buffers_lock);

	ret = zcbuf_set_name(dmabuf, a.name);
	if (ret)
		goto err_put;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put;
	}
	a.fd = fd;
	if (copy_to_user(arg, &a, sizeof(a))) {
		ret = -EFAULT;
		goto err_fd;
	}
	fd_install(fd, dmabuf->file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_put:
	dma_buf_put(dmabuf);
	return ret;
err_free:
	zcbuf_buffer_free(buf);
	return ret;
}
