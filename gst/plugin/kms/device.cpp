/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kms/device.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

namespace zcbuf::kms {

namespace {

std::string driverOf(int fd)
{
	drmVersionPtr version = drmGetVersion(fd);
	if (!version)
		return {};
	std::string name(version->name, version->name_len);
	drmFreeVersion(version);
	return name;
}

bool hasConnectedConnector(int fd)
{
	drmModeResPtr res = drmModeGetResources(fd);
	if (!res)
		return false;
	bool found = false;
	for (int i = 0; i < res->count_connectors && !found; i++) {
		drmModeConnectorPtr conn = drmModeGetConnector(fd, res->connectors[i]);
		if (conn) {
			found = conn->connection == DRM_MODE_CONNECTED && conn->count_modes > 0;
			drmModeFreeConnector(conn);
		}
	}
	drmModeFreeResources(res);
	return found;
}

} /* namespace */

/* The first opener of a primary node becomes master by itself; a later
 * one must ask, and is refused while another fd is master. Connectors are
 * probed only for the master (6.1 gives others no modes), so this comes
 * before looking for a display. */
static Result<void> becomeMaster(int fd, const std::string &node)
{
	if (drmSetMaster(fd) < 0 && !drmIsMaster(fd))
		return Error(EBUSY, node + " is busy: another client (process or fd) is its DRM master (" +
					    std::string(strerror(errno)) + ")");
	return {};
}

Result<Device> Device::open(const std::string &node, const std::string &driverName)
{
	Device dev;
	if (!node.empty()) {
		dev.fd_ = UniqueFD(::open(node.c_str(), O_RDWR | O_CLOEXEC));
		if (!dev.fd_.isValid())
			return Error::fromErrno(errno, "cannot open " + node);
		dev.node_ = node;
		dev.driver_ = driverOf(dev.fd());
		if (!driverName.empty() && dev.driver_ != driverName)
			return Error(ENODEV, node + " is driven by " + dev.driver_ + ", not " +
						     driverName);
		Result<void> master = becomeMaster(dev.fd(), node);
		if (!master)
			return master.error();
	} else {
		std::string tried;
		for (int i = 0; i < 16 && !dev.fd_.isValid(); i++) {
			std::string path = "/dev/dri/card" + std::to_string(i);
			UniqueFD fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
			if (!fd.isValid())
				continue;
			std::string driver = driverOf(fd.get());
			tried += (tried.empty() ? "" : ", ") + path + " (" + driver;
			if (!driverName.empty() && driver != driverName) {
				tried += ")";
				continue;
			}
			Result<void> master = becomeMaster(fd.get(), path);
			if (!master) {
				tried += ", busy: another DRM master)";
				continue;
			}
			if (!hasConnectedConnector(fd.get())) {
				tried += ", nothing connected)";
				drmDropMaster(fd.get());
				continue;
			}
			tried += ")";
			dev.fd_ = std::move(fd);
			dev.node_ = path;
			dev.driver_ = driver;
		}
		if (!dev.fd_.isValid())
			return Error(ENODEV, "no KMS card with a connected display" +
						     (driverName.empty() ? std::string()
									 : " driven by " + driverName) +
						     (tried.empty() ? std::string(" (no /dev/dri/card*)")
								    : " among " + tried));
	}

	std::uint64_t cap = 0;
	if (drmGetCap(dev.fd(), DRM_CAP_DUMB_BUFFER, &cap) < 0 || !cap)
		return Error(ENOTSUP, dev.node_ + " (" + dev.driver_ + ") is not a KMS device");
	if (drmSetClientCap(dev.fd(), DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) < 0)
		return Error::fromErrno(errno, dev.node_ + " has no universal planes");
	dev.atomic_ = drmSetClientCap(dev.fd(), DRM_CLIENT_CAP_ATOMIC, 1) == 0;
	cap = 0;
	dev.canImport_ = drmGetCap(dev.fd(), DRM_CAP_PRIME, &cap) == 0 && (cap & DRM_PRIME_CAP_IMPORT);
	cap = 0;
	dev.modifiers_ = drmGetCap(dev.fd(), DRM_CAP_ADDFB2_MODIFIERS, &cap) == 0 && cap;
	return dev;
}

Device::~Device()
{
	for (auto &[handle, users] : handles_) {
		struct drm_gem_close close = {};
		close.handle = handle;
		drmIoctl(fd(), DRM_IOCTL_GEM_CLOSE, &close);
	}
}

Result<std::uint32_t> Device::importHandle(int dmabufFd)
{
	std::uint32_t handle = 0;
	if (drmPrimeFDToHandle(fd(), dmabufFd, &handle) < 0)
		return Error::fromErrno(errno, driver_ + " cannot import the dma-buf (PRIME)");
	handles_[handle]++;
	return handle;
}

void Device::releaseHandle(std::uint32_t handle)
{
	auto it = handles_.find(handle);
	if (it == handles_.end() || --it->second > 0)
		return;
	handles_.erase(it);
	struct drm_gem_close close = {};
	close.handle = handle;
	drmIoctl(fd(), DRM_IOCTL_GEM_CLOSE, &close);
}

void Device::dropMaster()
{
	if (fd_.isValid())
		drmDropMaster(fd());
}

} /* namespace zcbuf::kms */
