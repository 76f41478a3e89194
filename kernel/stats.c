// SPDX-License-Identifier: GPL-2.0
/*
 * zcbuf: module-wide counters and ZCBUF_IOC_STATS.
 */

#include <linux/string.h>
#include <linux/uaccess.h>

#include "zcbuf.h"

struct zcbuf_counters zcbuf_counters;

/**
 * zcbuf_ioctl_stats - ZCBUF_IOC_STATS
 * @arg: user pointer to struct zcbuf_stats
 *
 * Return: 0 or -EFAULT.
 */
long zcbuf_ioctl_stats(void __user *arg)
{
	struct zcbuf_stats s;

	memset(&s, 0, sizeof(s));
	s.buffers = atomic64_read(&zcbuf_counters.buffers);
	s.bytes = atomic64_read(&zcbuf_counters.bytes);
	s.deferred = atomic64_read(&zcbuf_counters.deferred);
	s.contiguous = atomic64_read(&zcbuf_counters.contiguous);
	s.devices = atomic64_read(&zcbuf_counters.devices);
	s.attachments = atomic64_read(&zcbuf_counters.attachments);
	s.maps = atomic64_read(&zcbuf_counters.maps);
	s.migrations = atomic64_read(&zcbuf_counters.migrations);
	if (copy_to_user(arg, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}
