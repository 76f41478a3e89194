/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A KMS card the sink displays on: the open primary node, what the driver
 * offers (atomic, PRIME import), and the GEM handles of imported dma-bufs.
 *
 * The kernel gives the same GEM handle for every import of the same
 * dma-buf on one fd, and one GEM_CLOSE frees it for all of them: so handles
 * are counted here, per device, and closed when the last user lets go.
 */
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

namespace zcbuf::kms {

class Device
{
public:
	/* Opens node ("/dev/dri/card0"); or, with node empty, the first card
	 * whose driver is driverName (any KMS driver when that is empty too)
	 * and that has a connected connector. Takes DRM master: a sink displays,
	 * and another master makes this fail with EBUSY, naming the reason. */
	static Result<Device> open(const std::string &node, const std::string &driverName);

	Device(Device &&) = default;
	Device &operator=(Device &&) = default;
	~Device();

	int fd() const { return fd_.get(); }
	const std::string &node() const { return node_; }
	const std::string &driver() const { return driver_; }
	/* DRM_CLIENT_CAP_ATOMIC was accepted. */
	bool atomic() const { return atomic_; }
	/* DRM_CAP_PRIME says the driver imports dma-bufs. */
	bool canImport() const { return canImport_; }
	/* DRM_CAP_ADDFB2_MODIFIERS. */
	bool modifiers() const { return modifiers_; }

	/* drmPrimeFDToHandle, counted: every successful call needs one
	 * releaseHandle(). */
	Result<std::uint32_t> importHandle(int dmabufFd);
	void releaseHandle(std::uint32_t handle);
	/* Handles imported and not yet released, for tests and leak checks. */
	std::size_t handleCount() const { return handles_.size(); }

	/* Lets go of master (on stop, after the CRTC was restored). */
	void dropMaster();

private:
	Device() = default;

	UniqueFD fd_;
	std::string node_;
	std::string driver_;
	bool atomic_ = false;
	bool canImport_ = false;
	bool modifiers_ = false;
	std::map<std::uint32_t, unsigned> handles_;
};

} /* namespace zcbuf::kms */
