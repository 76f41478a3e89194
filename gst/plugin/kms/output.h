/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where and how frames reach the screen: a connector, its CRTC and mode, a
 * plane, and the commits that put a framebuffer on it: atomic (with a
 * test-only commit to validate a placement before it is used) where the
 * driver has it, legacy SetCrtc/PageFlip/SetPlane otherwise.
 *
 * Pacing is by page-flip events: show() asks for one, waitFlip() reads it,
 * and the caller never has two outstanding. The CRTC's state when the
 * output was chosen is put back by restore().
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <xf86drmMode.h>

#include "kms/device.h"
#include "kms/framebuffer.h"

namespace zcbuf::kms {

struct Rect {
	std::int32_t x = 0, y = 0;
	std::uint32_t width = 0, height = 0;
};

struct OutputChoice {
	std::uint32_t connectorId = 0;	/* 0: the first connected connector */
	std::uint32_t planeId = 0;	/* 0: the CRTC's primary plane */
	std::string mode;		/* "WxH" or "WxH@Hz"; empty: the preferred mode */
	bool atomic = true;		/* false: the legacy path even where atomic exists */
};

class Output
{
public:
	static Result<std::unique_ptr<Output>> choose(const std::shared_ptr<Device> &device,
						      const OutputChoice &choice);
	~Output();

	std::uint32_t connectorId() const { return connectorId_; }
	std::uint32_t crtcId() const { return crtcId_; }
	std::uint32_t planeId() const { return planeId_; }
	bool primary() const { return primary_; }
	bool atomic() const { return atomic_; }
	const drmModeModeInfo &mode() const { return mode_; }
	/* Refresh rate of the mode in mHz. */
	std::uint32_t refreshMilliHz() const;
	const std::vector<std::uint32_t> &formats() const { return formats_; }

	/* Validates a placement without showing it (atomic TEST_ONLY; the
	 * legacy path has no test and accepts). */
	Result<void> test(const Framebuffer &fb, const Rect &dst);
	/* Shows fb at dst (the first call sets the mode), asking for a
	 * page-flip event; no flip may be outstanding. */
	Result<void> show(const Framebuffer &fb, const Rect &dst);
	bool flipPending() const { return flipPending_; }
	/* Waits up to timeoutMs for the outstanding flip; ETIMEDOUT, or the
	 * poll error (the device went away), when it does not come. */
	Result<void> waitFlip(int timeoutMs);
	/* Puts the CRTC back as it was; the plane, if an overlay, is turned off. */
	void restore();

private:
	explicit Output(std::shared_ptr<Device> device) : device_(std::move(device)) {}
	std::uint32_t propId(std::uint32_t object, std::uint32_t type, const char *name);
	Result<void> commitAtomic(const Framebuffer *fb, const Rect &dst, std::uint32_t flags);
	Result<void> showLegacy(const Framebuffer &fb, const Rect &dst);

	std::shared_ptr<Device> device_;
	std::uint32_t connectorId_ = 0, crtcId_ = 0, planeId_ = 0, primaryPlaneId_ = 0;
	int crtcIndex_ = 0;
	bool primary_ = true;
	bool atomic_ = false;
	drmModeModeInfo mode_ = {};
	std::vector<std::uint32_t> formats_;
	/* Property ids by (object, name): looked up once, not per commit. */
	std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> propIds_;
	drmModeCrtcPtr saved_ = nullptr;
	std::uint32_t savedConnectorCrtc_ = 0;
	std::uint32_t modeBlob_ = 0;
	bool modeSet_ = false;
	bool flipPending_ = false;
	/* Behind an overlay plane: a cleared framebuffer of the mode's size. */
	std::unique_ptr<Framebuffer> background_;
};

} /* namespace zcbuf::kms */
