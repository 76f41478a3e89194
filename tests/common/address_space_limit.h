/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exhausts the process's address space for a while, to see what an element
 * does when a thread (8 MiB of stack to map) or a large allocation cannot
 * be had: RLIMIT_AS is lowered to what the process maps now plus a small
 * headroom, and restored by the destructor.
 */
#pragma once

#include <pthread.h>
#include <sys/resource.h>

#include <cstddef>
#include <fstream>
#include <string>

namespace zcbuf::test {

class AddressSpaceLimit
{
public:
	explicit AddressSpaceLimit(std::size_t headroom)
	{
		getrlimit(RLIMIT_AS, &saved_);
		std::ifstream status("/proc/self/status");
		std::string line;
		std::size_t kib = 0;
		while (std::getline(status, line))
			if (line.rfind("VmSize:", 0) == 0)
				kib = std::stoul(line.substr(7));
		struct rlimit limit = saved_;
		limit.rlim_cur = kib * 1024 + headroom;
		/* glibc reuses the stacks of joined threads without mapping
		 * anything: ask for stacks larger than any it keeps. */
		pthread_getattr_default_np(&savedAttr_);
		pthread_attr_t big;
		pthread_attr_init(&big);
		pthread_attr_setstacksize(&big, kStack);
		pthread_setattr_default_np(&big);
		pthread_attr_destroy(&big);
		active_ = kib > 0 && setrlimit(RLIMIT_AS, &limit) == 0;
	}
	~AddressSpaceLimit()
	{
		if (active_)
			setrlimit(RLIMIT_AS, &saved_);
		pthread_setattr_default_np(&savedAttr_);
		pthread_attr_destroy(&savedAttr_);
	}
	AddressSpaceLimit(const AddressSpaceLimit &) = delete;
	AddressSpaceLimit &operator=(const AddressSpaceLimit &) = delete;

	bool active() const { return active_; }

private:
	static constexpr std::size_t kStack = 64u << 20;
	struct rlimit saved_ {};
	pthread_attr_t savedAttr_;
	bool active_ = false;
};

} /* namespace zcbuf::test */

#include <gst/gst.h>

#include "bus_error.h"

namespace zcbuf::test {

/*
 * Takes @element (a fresh one, in NULL) to PAUSED with the address space
 * exhausted: what an element does when its threads cannot be made at
 * start. Returns the state change's result and the error it posted; the
 * element is back in NULL afterwards.
 */
inline GstStateChangeReturn pauseWithoutAddressSpace(GstElement *element, std::string *error)
{
	GstBus *bus = gst_bus_new();
	gst_element_set_bus(element, bus);
	GstStateChangeReturn ret = gst_element_set_state(element, GST_STATE_READY);
	if (ret != GST_STATE_CHANGE_FAILURE) {
		AddressSpaceLimit limit(2 << 20);
		ret = limit.active() ? gst_element_set_state(element, GST_STATE_PAUSED)
				     : GST_STATE_CHANGE_SUCCESS;
	}
	*error = popError(bus);
	gst_element_set_state(element, GST_STATE_NULL);
	gst_element_set_bus(element, nullptr);
	gst_object_unref(bus);
	return ret;
}

} /* namespace zcbuf::test */
