/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kms/framebuffer.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

namespace zcbuf::kms {

namespace {

std::string fourccName(std::uint32_t fourcc)
{
	char name[5] = { char(fourcc), char(fourcc >> 8), char(fourcc >> 16), char(fourcc >> 24), 0 };
	return name;
}

} /* namespace */

Result<std::unique_ptr<Framebuffer>>
Framebuffer::import(const std::shared_ptr<Device> &device, std::uint32_t fourcc,
		    std::uint64_t modifier, std::uint32_t width, std::uint32_t height,
		    const std::vector<PlaneLayout> &planes)
{
	if (planes.empty() || planes.size() > 4)
		return Error(EINVAL, "a framebuffer has 1 to 4 planes");
	std::unique_ptr<Framebuffer> fb(new Framebuffer(device));
	fb->width_ = width;
	fb->height_ = height;
	fb->fourcc_ = fourcc;
	std::uint32_t handles[4] = {}, pitches[4] = {}, offsets[4] = {};
	std::uint64_t modifiers[4] = {};
	for (std::size_t i = 0; i < planes.size(); i++) {
		Result<std::uint32_t> handle = device->importHandle(planes[i].fd);
		if (!handle)
			return handle.error();
		fb->importedHandles_.push_back(*handle);
		handles[i] = *handle;
		pitches[i] = planes[i].pitch;
		offsets[i] = planes[i].offset;
		modifiers[i] = modifier;
	}
	int ret;
	if (modifier != DRM_FORMAT_MOD_INVALID && device->modifiers())
		ret = drmModeAddFB2WithModifiers(device->fd(), width, height, fourcc, handles,
						 pitches, offsets, modifiers, &fb->id_,
						 DRM_MODE_FB_MODIFIERS);
	else
		ret = drmModeAddFB2(device->fd(), width, height, fourcc, handles, pitches, offsets,
				    &fb->id_, 0);
	if (ret < 0)
		return Error::fromErrno(errno, device->driver() + " refused a " + fourccName(fourcc) +
						       " framebuffer of " + std::to_string(width) + "x" +
						       std::to_string(height) + " (pitch " +
						       std::to_string(pitches[0]) + ")");
	return fb;
}

Result<std::unique_ptr<Framebuffer>>
Framebuffer::dumb(const std::shared_ptr<Device> &device, std::uint32_t fourcc, unsigned bpp,
		  std::uint32_t width, std::uint32_t height)
{
	std::unique_ptr<Framebuffer> fb(new Framebuffer(device));
	fb->width_ = width;
	fb->height_ = height;
	fb->fourcc_ = fourcc;
	struct drm_mode_create_dumb create = {};
	create.width = width;
	create.height = height;
	create.bpp = bpp;
	if (drmIoctl(device->fd(), DRM_IOCTL_MODE_CREATE_DUMB, &create) < 0)
		return Error::fromErrno(errno, device->driver() + " cannot create a dumb buffer of " +
						       std::to_string(width) + "x" +
						       std::to_string(height));
	fb->dumbHandle_ = create.handle;
	fb->pitch_ = create.pitch;
	fb->mapSize_ = create.size;

	std::uint32_t handles[4] = { create.handle }, pitches[4] = { create.pitch }, offsets[4] = {};
	if (drmModeAddFB2(device->fd(), width, height, fourcc, handles, pitches, offsets, &fb->id_,
			  0) < 0)
		return Error::fromErrno(errno, device->driver() + " refused a dumb " +
						       fourccName(fourcc) + " framebuffer");

	struct drm_mode_map_dumb map = {};
	map.handle = create.handle;
	if (drmIoctl(device->fd(), DRM_IOCTL_MODE_MAP_DUMB, &map) < 0)
		return Error::fromErrno(errno, "cannot map a dumb buffer");
	void *addr = mmap(nullptr, fb->mapSize_, PROT_READ | PROT_WRITE, MAP_SHARED, device->fd(),
			  map.offset);
	if (addr == MAP_FAILED)
		return Error::fromErrno(errno, "cannot mmap a dumb buffer");
	fb->map_ = addr;
	std::memset(addr, 0, fb->mapSize_);
	return fb;
}

Framebuffer::~Framebuffer()
{
	if (map_)
		munmap(map_, mapSize_);
	if (id_)
		drmModeRmFB(device_->fd(), id_);
	for (std::uint32_t handle : importedHandles_)
		device_->releaseHandle(handle);
	if (dumbHandle_) {
		struct drm_mode_destroy_dumb destroy = {};
		destroy.handle = dumbHandle_;
		drmIoctl(device_->fd(), DRM_IOCTL_MODE_DESTROY_DUMB, &destroy);
	}
}

} /* namespace zcbuf::kms */
