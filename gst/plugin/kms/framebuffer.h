/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * KMS framebuffers: one made of imported dma-buf planes (zero copy), or one
 * over a dumb buffer of the device's own that the CPU writes into (the copy
 * of allow-copy=true, and the cleared background behind an overlay).
 *
 * A framebuffer must not be removed while it is scanned out (drmModeRmFB
 * would turn the CRTC off): the sink keeps the buffer that owns it until
 * the flip that replaced it completed.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kms/device.h"

namespace zcbuf::kms {

struct PlaneLayout {
	int fd;			/* a dma-buf; borrowed */
	std::uint32_t offset;	/* bytes from the start of the dma-buf */
	std::uint32_t pitch;	/* bytes per row */
};

class Framebuffer
{
public:
	/* drmPrimeFDToHandle each plane (counted on the device) and
	 * drmModeAddFB2WithModifiers, or drmModeAddFB2 when modifier is
	 * DRM_FORMAT_MOD_INVALID (unknown: the driver assumes linear). */
	static Result<std::unique_ptr<Framebuffer>>
	import(const std::shared_ptr<Device> &device, std::uint32_t fourcc, std::uint64_t modifier,
	       std::uint32_t width, std::uint32_t height, const std::vector<PlaneLayout> &planes);

	/* A dumb buffer of a single-plane format with bpp bits per pixel,
	 * mapped for the CPU and cleared to zero (black, transparent). */
	static Result<std::unique_ptr<Framebuffer>>
	dumb(const std::shared_ptr<Device> &device, std::uint32_t fourcc, unsigned bpp,
	     std::uint32_t width, std::uint32_t height);

	~Framebuffer();
	Framebuffer(const Framebuffer &) = delete;
	Framebuffer &operator=(const Framebuffer &) = delete;

	std::uint32_t id() const { return id_; }
	std::uint32_t width() const { return width_; }
	std::uint32_t height() const { return height_; }
	std::uint32_t fourcc() const { return fourcc_; }
	/* Only for dumb framebuffers: the CPU mapping and its pitch. */
	std::uint8_t *pixels() const { return static_cast<std::uint8_t *>(map_); }
	std::uint32_t pitch() const { return pitch_; }

private:
	explicit Framebuffer(std::shared_ptr<Device> device) : device_(std::move(device)) {}

	std::shared_ptr<Device> device_;
	std::uint32_t id_ = 0;
	std::uint32_t width_ = 0, height_ = 0, fourcc_ = 0;
	std::vector<std::uint32_t> importedHandles_;
	std::uint32_t dumbHandle_ = 0;
	void *map_ = nullptr;
	std::size_t mapSize_ = 0;
	std::uint32_t pitch_ = 0;
};

} /* namespace zcbuf::kms */
