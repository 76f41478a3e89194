/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DRM dumb buffers exported with PRIME, through libdrm: works on any card
 * node that can create dumb buffers and export them (vgem, virtio-gpu, most
 * KMS drivers). The GEM handle is dropped right after export: the dma-buf
 * keeps the object alive.
 *
 * Dumb buffers need a primary node (DRM_IOCTL_MODE_CREATE_DUMB is not
 * allowed on render nodes), and the first opener of a primary node becomes
 * DRM master: that would make every modeset of the application and of
 * kmssink in the same process fail with EACCES. So master is dropped right
 * after open, before anything else, and a node that stays master is refused.
 */
#include <fcntl.h>
#include <unistd.h>

#include <xf86drm.h>
#include <drm_mode.h>

#include "backends.h"
#include "page.h"

namespace zcbuf::internal {

namespace {

/* Dumb buffers are images. Without a known image shape, ask for rows of
 * this many 32-bit pixels, so the pitch is a whole page on drivers that do
 * not pad it. */
constexpr std::uint32_t kRowPixels = 1024;
constexpr std::uint32_t kBitsPerPixel = 32;

/* Pixels a row of the dumb buffer: the image's own first-plane pitch in
 * 32-bit pixels where it has one. virtio-gpu backs each dumb buffer with a
 * host resource of the shape asked for here and refuses to scan out (or
 * transfer) a framebuffer that does not fit in it: a 1280x800 frame in a
 * 1024-pixel-wide buffer never reaches QEMU's display (its answer is
 * VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER). */
std::uint32_t rowPixels(const AllocationRequest &request)
{
	if (request.strides.empty())
		return kRowPixels;
	const std::size_t pitch = request.strides[0];
	if (pitch == 0 || pitch % (kBitsPerPixel / 8) != 0 || pitch / 4 > UINT32_MAX)
		return kRowPixels;
	return static_cast<std::uint32_t>(pitch / (kBitsPerPixel / 8));
}

class DrmBackend final : public Backend
{
public:
	DrmBackend(UniqueFD card, std::string node)
		: card_(std::move(card)), node_(std::move(node))
	{
	}

	BackendKind kind() const override { return BackendKind::Drm; }
	const std::string &device() const override { return node_; }
	BackendCapabilities capabilities() const override
	{
		BackendCapabilities caps;
		caps.dmabuf = true;
		caps.readOnly = true;
		return caps;
	}

protected:
	Result<Allocation> allocateBacking(const AllocationRequest &request) override
	{
		const std::uint32_t width = rowPixels(request);
		const std::size_t rowBytes = std::size_t(width) * kBitsPerPixel / 8;
		std::size_t rows = (request.size + rowBytes - 1) / rowBytes;
		if (rows > UINT32_MAX)
			return Error(EINVAL, std::to_string(request.size) +
						     " bytes is too large for a dumb buffer");

		struct drm_mode_create_dumb create = {};
		create.width = width;
		create.height = static_cast<std::uint32_t>(rows);
		create.bpp = kBitsPerPixel;
		if (drmIoctl(card_.get(), DRM_IOCTL_MODE_CREATE_DUMB, &create) < 0)
			return Error::fromErrno(errno, "DRM_IOCTL_MODE_CREATE_DUMB of " +
							       std::to_string(request.size) +
							       " bytes on " + node_);

		int fd = -1;
		int flags = DRM_CLOEXEC | (request.readOnly ? 0 : DRM_RDWR);
		int ret = drmPrimeHandleToFD(card_.get(), create.handle, flags, &fd);
		int exportErrno = errno;

		struct drm_mode_destroy_dumb destroy = {};
		destroy.handle = create.handle;
		drmIoctl(card_.get(), DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);

		if (ret < 0)
			return Error::fromErrno(exportErrno, "PRIME export of a dumb buffer on " +
								     node_);

		Allocation allocation;
		allocation.fd = UniqueFD(fd);
		allocation.properties.size = static_cast<std::size_t>(create.size);
		return allocation;
	}

private:
	UniqueFD card_;
	const std::string node_;
};

/* Opens node if its driver can create dumb buffers and export them. The
 * dumb-buffer capability is only answered by KMS drivers (render-only vgem
 * creates dumb buffers but says EOPNOTSUPP), so create one to find out. */
Result<UniqueFD> openCapableCard(const std::string &node)
{
	UniqueFD card(open(node.c_str(), O_RDWR | O_CLOEXEC));
	if (!card.isValid())
		return Error::fromErrno(errno, "drm backend: " + node);
	/* EINVAL when this fd never became master. */
	drmDropMaster(card.get());
	if (drmIsMaster(card.get()))
		return Error(EBUSY, "drm backend: " + node + " stays DRM master after drmDropMaster");

	std::uint64_t prime = 0;
	if (drmGetCap(card.get(), DRM_CAP_PRIME, &prime) < 0 ||
	    !(prime & DRM_PRIME_CAP_EXPORT))
		return Error(ENOTSUP, "drm backend: " + node +
					      " cannot export buffers with PRIME");

	struct drm_mode_create_dumb probe = {};
	probe.width = 1;
	probe.height = 1;
	probe.bpp = kBitsPerPixel;
	if (drmIoctl(card.get(), DRM_IOCTL_MODE_CREATE_DUMB, &probe) < 0)
		return Error::fromErrno(errno, "drm backend: " + node +
						       " cannot create dumb buffers");
	struct drm_mode_destroy_dumb destroy = {};
	destroy.handle = probe.handle;
	drmIoctl(card.get(), DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
	return card;
}

} /* namespace */

Result<std::shared_ptr<Backend>> openDrmBackend(std::string_view device)
{
	if (!device.empty()) {
		std::string node(device);
		Result<UniqueFD> card = openCapableCard(node);
		if (!card)
			return card.error();
		return std::shared_ptr<Backend>(
			std::make_shared<DrmBackend>(std::move(card).value(), node));
	}

	Error last(ENOENT, "drm backend: no /dev/dri/card* node");
	for (int i = 0; i < 16; i++) {
		std::string node = "/dev/dri/card" + std::to_string(i);
		if (access(node.c_str(), F_OK) != 0)
			continue;
		Result<UniqueFD> card = openCapableCard(node);
		if (card)
			return std::shared_ptr<Backend>(
				std::make_shared<DrmBackend>(std::move(card).value(), node));
		last = card.error();
	}
	return last;
}

} /* namespace zcbuf::internal */
