/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For element tests that need the guest's kernel modules: whether this run
 * is the guest's (where a missing module fails instead of skipping), and
 * the zcbuf module's switch for scattered backing, the guest's
 * virtio-gpu card and vivid's nodes.
 */
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace zcbuf::test {

/* ZCBUF_TEST_REQUIRE names the module: the VM suite's run. */
inline bool inTheGuest()
{
	const char *required = std::getenv("ZCBUF_TEST_REQUIRE");
	return required && std::string(required).find("module") != std::string::npos;
}

/* While alive, the module backs scattered buffers with single pages that
 * never form one range by chance (kernel/backing.c, debug_discontiguous). */
class DiscontiguousBacking
{
public:
	DiscontiguousBacking() { set("1"); }
	~DiscontiguousBacking() { set("0"); }
	DiscontiguousBacking(const DiscontiguousBacking &) = delete;
	DiscontiguousBacking &operator=(const DiscontiguousBacking &) = delete;

private:
	static void set(const char *value)
	{
		std::ofstream("/sys/module/zcbuf/parameters/debug_discontiguous") << value;
	}
};

/* The name of the driver bound to sysfs device @path, empty if none. */
inline std::string driverAt(const std::string &path)
{
	char target[512] = "";
	ssize_t len = readlink((path + "/driver").c_str(), target, sizeof(target) - 1);
	if (len <= 0)
		return {};
	target[len] = '\0';
	std::string driver = target;
	return driver.substr(driver.rfind('/') + 1);
}

/* The card node of the guest's virtio-gpu, from sysfs (no fd is opened:
 * the first opener of a card would become its master): the card's PCI
 * device has a virtio child bound to virtio_gpu. Empty when none. */
inline std::string virtioCard()
{
	for (int n = 0; n < 16; n++) {
		std::string device = "/sys/class/drm/card" + std::to_string(n) + "/device";
		DIR *d = opendir(device.c_str());
		if (!d)
			continue;
		bool virtio = false;
		while (dirent *entry = readdir(d))
			if (std::string(entry->d_name).rfind("virtio", 0) == 0 &&
			    driverAt(device + "/" + entry->d_name) == "virtio_gpu")
				virtio = true;
		closedir(d);
		if (virtio)
			return "/dev/dri/card" + std::to_string(n);
	}
	return {};
}

/* The node of vivid instance @instance with @capability
 * (V4L2_CAP_VIDEO_CAPTURE, V4L2_CAP_VIDEO_OUTPUT), empty if none. */
inline std::string vividNode(int instance, unsigned int capability)
{
	char want[32];
	std::snprintf(want, sizeof(want), "platform:vivid-%03d", instance);
	for (int i = 0; i < 64; i++) {
		std::string node = "/dev/video" + std::to_string(i);
		int fd = open(node.c_str(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct v4l2_capability cap = {};
		bool match = ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0 &&
			     std::strcmp(reinterpret_cast<const char *>(cap.bus_info), want) == 0 &&
			     (cap.device_caps & capability);
		close(fd);
		if (match)
			return node;
	}
	return {};
}

} /* namespace zcbuf::test */
