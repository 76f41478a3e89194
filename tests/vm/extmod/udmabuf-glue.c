// SPDX-License-Identifier: GPL-2.0
/*
 * udmabuf.c is built into the kernel upstream (CONFIG_UDMABUF is a bool),
 * so it uses three core symbols that 6.1 does not export and never imports
 * the DMA_BUF symbol namespace. As a module it needs both. This file is
 * ours; udmabuf-main.c is Debian's file, unmodified.
 *
 * memfd_fcntl(F_GET_SEALS) is what udmabuf asks of it, for shmem memfds
 * (the same value mm/memfd.c returns). Nothing is a hugetlbfs file to this
 * module, so udmabuf refuses hugetlb memfds (-EBADFD) instead of using
 * hugetlbfs internals it cannot reach; shmem memfds work as upstream.
 */
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/memfd.h>
#include <linux/module.h>
#include <linux/shm.h>
#include <linux/shmem_fs.h>

long memfd_fcntl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (cmd != F_GET_SEALS || !shmem_file(file))
		return -EINVAL;
	return READ_ONCE(SHMEM_I(file_inode(file))->seals);
}

const struct file_operations hugetlbfs_file_operations;

bool is_file_shm_hugepages(struct file *file)
{
	return false;
}

MODULE_IMPORT_NS(DMA_BUF);
