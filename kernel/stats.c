// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: module-wide counters and ZCBUF_IOC_STATS. Every change that moves
 * several counters at once (a buffer getting its backing, a migration, a
 * buffer going away) is made under one lock, and STATS copies them under
 * it, so a snapshot is always consistent: deferred and contiguous never
 * exceed buffers, bytes always matches the backings counted.
 */

#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "zcbuf.h"

static DEFINE_SPINLOCK(zcbuf_stats_lock);
static struct zcbuf_stats zcbuf_stats;

static void zcbuf_stats_backing(const struct zcbuf_backing *b, int sign)
{
	zcbuf_stats.bytes += sign * ((s64)b->npages << PAGE_SHIFT);
	if (b->contiguous)
		zcbuf_stats.contiguous += sign;
}

/**
 * zcbuf_stats_buffer_new - a buffer was created, without backing yet
 */
void zcbuf_stats_buffer_new(void)
{
	spin_lock(&zcbuf_stats_lock);
	zcbuf_stats.buffers++;
	zcbuf_stats.deferred++;
	spin_unlock(&zcbuf_stats_lock);
}

/**
 * zcbuf_stats_buffer_gone - a buffer was freed
 * @b: its backing, NULL if it never had any
 */
void zcbuf_stats_buffer_gone(const struct zcbuf_backing *b)
{
	spin_lock(&zcbuf_stats_lock);
	if (b)
		zcbuf_stats_backing(b, -1);
	else
		zcbuf_stats.deferred--;
	zcbuf_stats.buffers--;
	spin_unlock(&zcbuf_stats_lock);
}

/**
 * zcbuf_stats_installed - a deferred buffer got its backing
 * @b: the backing
 */
void zcbuf_stats_installed(const struct zcbuf_backing *b)
{
	spin_lock(&zcbuf_stats_lock);
	zcbuf_stats.deferred--;
	zcbuf_stats_backing(b, 1);
	spin_unlock(&zcbuf_stats_lock);
}

/**
 * zcbuf_stats_migrated - a buffer's backing moved
 * @old: the backing it left
 * @b: the backing it has now
 */
void zcbuf_stats_migrated(const struct zcbuf_backing *old,
			  const struct zcbuf_backing *b)
{
	spin_lock(&zcbuf_stats_lock);
	zcbuf_stats_backing(old, -1);
	zcbuf_stats_backing(b, 1);
	zcbuf_stats.migrations++;
	spin_unlock(&zcbuf_stats_lock);
}

/**
 * zcbuf_stats_count - count attachments or mappings
 * @which: ZCBUF_STAT_*
 * @delta: +1 or -1
 */
void zcbuf_stats_count(enum zcbuf_stat which, int delta)
{
	spin_lock(&zcbuf_stats_lock);
	switch (which) {
	case ZCBUF_STAT_ATTACHMENTS:
		zcbuf_stats.attachments += delta;
		break;
	case ZCBUF_STAT_MAPS:
		zcbuf_stats.maps += delta;
		break;
	}
	spin_unlock(&zcbuf_stats_lock);
}

/**
 * zcbuf_ioctl_stats - ZCBUF_IOC_STATS
 * @arg: user pointer to struct zcbuf_stats
 *
 * Return: 0 or -EFAULT.
 */
long zcbuf_ioctl_stats(void __user *arg)
{
	struct zcbuf_stats s;

	spin_lock(&zcbuf_stats_lock);
	s = zcbuf_stats;
	spin_unlock(&zcbuf_stats_lock);
	if (copy_to_user(arg, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}
