/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kms/output.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <poll.h>

#include <drm_fourcc.h>
#include <xf86drm.h>

namespace zcbuf::kms {

namespace {

constexpr std::uint64_t kPlaneTypeOverlay = 0, kPlaneTypePrimary = 1;

std::string modeName(const drmModeModeInfo &mode)
{
	return std::to_string(mode.hdisplay) + "x" + std::to_string(mode.vdisplay) + "@" +
	       std::to_string(mode.vrefresh);
}

Result<drmModeModeInfo> pickMode(drmModeConnectorPtr conn, const std::string &wanted)
{
	if (wanted.empty()) {
		for (int i = 0; i < conn->count_modes; i++)
			if (conn->modes[i].type & DRM_MODE_TYPE_PREFERRED)
				return conn->modes[i];
		return conn->modes[0];
	}
	unsigned width = 0, height = 0, refresh = 0;
	int n = std::sscanf(wanted.c_str(), "%ux%u@%u", &width, &height, &refresh);
	if (n < 2)
		return Error(EINVAL, "mode \"" + wanted + "\" is not WxH or WxH@Hz");
	std::string offered;
	for (int i = 0; i < conn->count_modes; i++) {
		const drmModeModeInfo &m = conn->modes[i];
		if (m.hdisplay == width && m.vdisplay == height && (n < 3 || m.vrefresh == refresh))
			return m;
		if (i < 16)
			offered += (i ? " " : "") + modeName(m);
	}
	return Error(EINVAL, "connector " + std::to_string(conn->connector_id) + " has no mode " +
				     wanted + " (it offers " + offered + ")");
}

/* The CRTC the connector drives now, else the first its encoders can use. */
int pickCrtc(int fd, drmModeResPtr res, drmModeConnectorPtr conn)
{
	if (conn->encoder_id) {
		drmModeEncoderPtr enc = drmModeGetEncoder(fd, conn->encoder_id);
		if (enc) {
			std::uint32_t crtc = enc->crtc_id;
			drmModeFreeEncoder(enc);
			for (int i = 0; crtc && i < res->count_crtcs; i++)
				if (res->crtcs[i] == crtc)
					return i;
		}
	}
	for (int e = 0; e < conn->count_encoders; e++) {
		drmModeEncoderPtr enc = drmModeGetEncoder(fd, conn->encoders[e]);
		if (!enc)
			continue;
		std::uint32_t possible = enc->possible_crtcs;
		drmModeFreeEncoder(enc);
		for (int i = 0; i < res->count_crtcs; i++)
			if (possible & (1u << i))
				return i;
	}
	return -1;
}

std::uint64_t planeType(int fd, std::uint32_t plane)
{
	drmModeObjectPropertiesPtr props = drmModeObjectGetProperties(fd, plane, DRM_MODE_OBJECT_PLANE);
	std::uint64_t type = kPlaneTypeOverlay;
	for (std::uint32_t i = 0; props && i < props->count_props; i++) {
		drmModePropertyPtr prop = drmModeGetProperty(fd, props->props[i]);
		if (prop && std::string(prop->name) == "type")
			type = props->prop_values[i];
		drmModeFreeProperty(prop);
	}
	drmModeFreeObjectProperties(props);
	return type;
}

void onFlip(int, unsigned, unsigned, unsigned, void *data)
{
	*static_cast<bool *>(data) = false;
}

} /* namespace */

Result<std::unique_ptr<Output>> Output::choose(const std::shared_ptr<Device> &device,
					       const OutputChoice &choice)
{
	std::unique_ptr<Output> out(new Output(device));
	int fd = device->fd();
	std::unique_ptr<drmModeRes, decltype(&drmModeFreeResources)> res(drmModeGetResources(fd),
									 drmModeFreeResources);
	if (!res)
		return Error::fromErrno(errno, device->node() + ": no KMS resources");

	drmModeConnectorPtr conn = nullptr;
	for (int i = 0; i < res->count_connectors && !conn; i++) {
		if (choice.connectorId && res->connectors[i] != choice.connectorId)
			continue;
		conn = drmModeGetConnector(fd, res->connectors[i]);
		if (conn && (conn->connection != DRM_MODE_CONNECTED || conn->count_modes == 0)) {
			drmModeFreeConnector(conn);
			conn = nullptr;
			if (choice.connectorId)
				return Error(ENODEV, "connector " + std::to_string(choice.connectorId) +
							     " has no display connected");
		}
	}
	if (!conn)
		return Error(ENODEV, choice.connectorId
					     ? "no connector " + std::to_string(choice.connectorId) +
						       " on " + device->node()
					     : "no connected connector on " + device->node());
	std::unique_ptr<drmModeConnector, decltype(&drmModeFreeConnector)> connector(
		conn, drmModeFreeConnector);
	out->connectorId_ = conn->connector_id;
	Result<drmModeModeInfo> mode = pickMode(conn, choice.mode);
	if (!mode)
		return mode.error();
	out->mode_ = *mode;

	out->crtcIndex_ = pickCrtc(fd, res.get(), conn);
	if (out->crtcIndex_ < 0)
		return Error(ENODEV, "no CRTC can drive connector " + std::to_string(conn->connector_id));
	out->crtcId_ = res->crtcs[out->crtcIndex_];
	out->saved_ = drmModeGetCrtc(fd, out->crtcId_);
	if (conn->encoder_id) {
		drmModeEncoderPtr enc = drmModeGetEncoder(fd, conn->encoder_id);
		if (enc) {
			out->savedConnectorCrtc_ = enc->crtc_id;
			drmModeFreeEncoder(enc);
		}
	}

	drmModePlaneResPtr planes = drmModeGetPlaneResources(fd);
	if (!planes)
		return Error::fromErrno(errno, device->node() + ": no planes");
	std::string usable;
	for (std::uint32_t i = 0; i < planes->count_planes; i++) {
		drmModePlanePtr plane = drmModeGetPlane(fd, planes->planes[i]);
		if (!plane)
			continue;
		if (plane->possible_crtcs & (1u << out->crtcIndex_)) {
			std::uint64_t type = planeType(fd, plane->plane_id);
			usable += (usable.empty() ? "" : ", ") + std::to_string(plane->plane_id) +
				  (type == kPlaneTypePrimary ? " (primary)" :
				   type == kPlaneTypeOverlay ? " (overlay)" : " (cursor)");
			if (type == kPlaneTypePrimary && !out->primaryPlaneId_)
				out->primaryPlaneId_ = plane->plane_id;
			bool wanted = choice.planeId ? plane->plane_id == choice.planeId
						     : type == kPlaneTypePrimary;
			if (wanted && !out->planeId_) {
				out->planeId_ = plane->plane_id;
				out->primary_ = type == kPlaneTypePrimary;
				out->formats_.assign(plane->formats, plane->formats + plane->count_formats);
			}
		}
		drmModeFreePlane(plane);
	}
	drmModeFreePlaneResources(planes);
	if (!out->planeId_)
		return Error(ENODEV, (choice.planeId ? "plane " + std::to_string(choice.planeId)
						     : std::string("a primary plane")) +
					     " cannot show on CRTC " + std::to_string(out->crtcId_) +
					     " (its planes: " + usable + ")");
	out->atomic_ = choice.atomic && device->atomic();
	return out;
}

Output::~Output()
{
	if (modeBlob_)
		drmModeDestroyPropertyBlob(device_->fd(), modeBlob_);
	if (saved_)
		drmModeFreeCrtc(saved_);
}

std::uint32_t Output::refreshMilliHz() const
{
	if (!mode_.htotal || !mode_.vtotal)
		return mode_.vrefresh * 1000;
	return std::uint32_t(std::uint64_t(mode_.clock) * 1000000 / mode_.htotal / mode_.vtotal);
}

std::uint32_t Output::propId(std::uint32_t object, std::uint32_t type, const char *name)
{
	auto cached = propIds_.find({ object, name });
	if (cached != propIds_.end())
		return cached->second;
	std::uint32_t id = 0;
	drmModeObjectPropertiesPtr props = drmModeObjectGetProperties(device_->fd(), object, type);
	for (std::uint32_t i = 0; props && i < props->count_props && !id; i++) {
		drmModePropertyPtr prop = drmModeGetProperty(device_->fd(), props->props[i]);
		if (prop && std::string(prop->name) == name)
			id = prop->prop_id;
		drmModeFreeProperty(prop);
	}
	drmModeFreeObjectProperties(props);
	propIds_[{ object, name }] = id;
	return id;
}

Result<void> Output::commitAtomic(const Framebuffer *fb, const Rect &dst, std::uint32_t flags)
{
	std::unique_ptr<drmModeAtomicReq, decltype(&drmModeAtomicFree)> req(drmModeAtomicAlloc(),
									    drmModeAtomicFree);
	auto add = [&](std::uint32_t object, std::uint32_t type, const char *name,
		       std::uint64_t value) {
		drmModeAtomicAddProperty(req.get(), object, propId(object, type, name), value);
	};
	auto placePlane = [&](std::uint32_t plane, const Framebuffer *f, const Rect &r) {
		add(plane, DRM_MODE_OBJECT_PLANE, "FB_ID", f ? f->id() : 0);
		add(plane, DRM_MODE_OBJECT_PLANE, "CRTC_ID", f ? crtcId_ : 0);
		add(plane, DRM_MODE_OBJECT_PLANE, "SRC_X", 0);
		add(plane, DRM_MODE_OBJECT_PLANE, "SRC_Y", 0);
		add(plane, DRM_MODE_OBJECT_PLANE, "SRC_W", f ? std::uint64_t(f->width()) << 16 : 0);
		add(plane, DRM_MODE_OBJECT_PLANE, "SRC_H", f ? std::uint64_t(f->height()) << 16 : 0);
		add(plane, DRM_MODE_OBJECT_PLANE, "CRTC_X", std::uint64_t(std::int64_t(r.x)));
		add(plane, DRM_MODE_OBJECT_PLANE, "CRTC_Y", std::uint64_t(std::int64_t(r.y)));
		add(plane, DRM_MODE_OBJECT_PLANE, "CRTC_W", r.width);
		add(plane, DRM_MODE_OBJECT_PLANE, "CRTC_H", r.height);
	};
	if (!modeSet_) {
		if (!modeBlob_ &&
		    drmModeCreatePropertyBlob(device_->fd(), &mode_, sizeof(mode_), &modeBlob_) < 0)
			return Error::fromErrno(errno, "cannot make a mode blob");
		add(connectorId_, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID", crtcId_);
		add(crtcId_, DRM_MODE_OBJECT_CRTC, "MODE_ID", modeBlob_);
		add(crtcId_, DRM_MODE_OBJECT_CRTC, "ACTIVE", 1);
		if (!primary_ && primaryPlaneId_) {
			if (!background_) {
				Result<std::unique_ptr<Framebuffer>> bg = Framebuffer::dumb(
					device_, DRM_FORMAT_XRGB8888, 32, mode_.hdisplay, mode_.vdisplay);
				if (!bg)
					return bg.error();
				background_ = std::move(bg).value();
			}
			placePlane(primaryPlaneId_, background_.get(),
				   Rect{ 0, 0, mode_.hdisplay, mode_.vdisplay });
		}
		flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
	}
	placePlane(planeId_, fb, dst);
	if (drmModeAtomicCommit(device_->fd(), req.get(), flags, &flipPending_) < 0)
		return Error::fromErrno(errno, device_->driver() + " refused the atomic commit of " +
						       (fb ? std::to_string(fb->width()) + "x" +
								     std::to_string(fb->height())
							   : std::string("nothing")) +
						       " at " + std::to_string(dst.x) + "," +
						       std::to_string(dst.y) + " " +
						       std::to_string(dst.width) + "x" +
						       std::to_string(dst.height) + " on plane " +
						       std::to_string(planeId_) + ", mode " +
						       modeName(mode_));
	return {};
}

Result<void> Output::test(const Framebuffer &fb, const Rect &dst)
{
	if (!atomic_)
		return {};
	return commitAtomic(&fb, dst, DRM_MODE_ATOMIC_TEST_ONLY);
}

Result<void> Output::showLegacy(const Framebuffer &fb, const Rect &dst)
{
	int fd = device_->fd();
	if (primary_) {
		if (!modeSet_) {
			if (drmModeSetCrtc(fd, crtcId_, fb.id(), 0, 0, &connectorId_, 1, &mode_) < 0)
				return Error::fromErrno(errno, device_->driver() + " refused SetCrtc " +
								       modeName(mode_));
			modeSet_ = true;
			return {};
		}
		if (drmModePageFlip(fd, crtcId_, fb.id(), DRM_MODE_PAGE_FLIP_EVENT, &flipPending_) < 0)
			return Error::fromErrno(errno, device_->driver() + " refused the page flip");
		flipPending_ = true;
		return {};
	}
	if (!modeSet_) {
		Result<std::unique_ptr<Framebuffer>> bg = Framebuffer::dumb(
			device_, DRM_FORMAT_XRGB8888, 32, mode_.hdisplay, mode_.vdisplay);
		if (!bg)
			return bg.error();
		background_ = std::move(bg).value();
		if (drmModeSetCrtc(fd, crtcId_, background_->id(), 0, 0, &connectorId_, 1, &mode_) < 0)
			return Error::fromErrno(errno, device_->driver() + " refused SetCrtc " +
							       modeName(mode_));
		modeSet_ = true;
	}
	/* SetPlane completes before it returns: nothing to wait for. */
	if (drmModeSetPlane(fd, planeId_, crtcId_, fb.id(), 0, dst.x, dst.y, dst.width, dst.height,
			    0, 0, fb.width() << 16, fb.height() << 16) < 0)
		return Error::fromErrno(errno, device_->driver() + " refused SetPlane on plane " +
						       std::to_string(planeId_));
	return {};
}

Result<void> Output::show(const Framebuffer &fb, const Rect &dst)
{
	if (flipPending_)
		return Error(EBUSY, "a page flip is still outstanding");
	if (!atomic_)
		return showLegacy(fb, dst);
	Result<void> ok = commitAtomic(&fb, dst,
				       DRM_MODE_PAGE_FLIP_EVENT | DRM_MODE_ATOMIC_NONBLOCK);
	if (!ok)
		return ok;
	modeSet_ = true;
	flipPending_ = true;
	return {};
}

Result<void> Output::waitFlip(int timeoutMs)
{
	using Clock = std::chrono::steady_clock;
	Clock::time_point end = Clock::now() + std::chrono::milliseconds(timeoutMs);
	drmEventContext ctx = {};
	ctx.version = 2;
	ctx.page_flip_handler = onFlip;
	while (flipPending_) {
		int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now())
				       .count());
		if (left <= 0)
			return Error(ETIMEDOUT, "no page-flip event from " + device_->driver() +
							" within " + std::to_string(timeoutMs) + " ms");
		struct pollfd pfd = { device_->fd(), POLLIN, 0 };
		int n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return Error::fromErrno(errno, "waiting for a page flip");
		if (n == 0)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
			return Error(ENODEV, device_->node() + " went away while a page flip was outstanding");
		if (drmHandleEvent(device_->fd(), &ctx) < 0)
			return Error::fromErrno(errno, "reading the page-flip event");
	}
	return {};
}

void Output::restore()
{
	if (flipPending_ && !waitFlip(1000))
		flipPending_ = false;
	if (!modeSet_)
		return;
	int fd = device_->fd();
	if (!primary_)
		drmModeSetPlane(fd, planeId_, crtcId_, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	if (saved_ && saved_->buffer_id && saved_->mode_valid) {
		drmModeSetCrtc(fd, crtcId_, saved_->buffer_id, saved_->x, saved_->y, &connectorId_, 1,
			       &saved_->mode);
	} else if (atomic_) {
		std::unique_ptr<drmModeAtomicReq, decltype(&drmModeAtomicFree)> req(
			drmModeAtomicAlloc(), drmModeAtomicFree);
		drmModeAtomicAddProperty(req.get(), planeId_,
					 propId(planeId_, DRM_MODE_OBJECT_PLANE, "FB_ID"), 0);
		drmModeAtomicAddProperty(req.get(), planeId_,
					 propId(planeId_, DRM_MODE_OBJECT_PLANE, "CRTC_ID"), 0);
		if (primaryPlaneId_ != planeId_) {
			drmModeAtomicAddProperty(req.get(), primaryPlaneId_,
						 propId(primaryPlaneId_, DRM_MODE_OBJECT_PLANE, "FB_ID"), 0);
			drmModeAtomicAddProperty(req.get(), primaryPlaneId_,
						 propId(primaryPlaneId_, DRM_MODE_OBJECT_PLANE, "CRTC_ID"), 0);
		}
		drmModeAtomicAddProperty(req.get(), connectorId_,
					 propId(connectorId_, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID"), 0);
		drmModeAtomicAddProperty(req.get(), crtcId_,
					 propId(crtcId_, DRM_MODE_OBJECT_CRTC, "MODE_ID"), 0);
		drmModeAtomicAddProperty(req.get(), crtcId_,
					 propId(crtcId_, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 0);
		drmModeAtomicCommit(fd, req.get(), DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr);
	} else {
		drmModeSetCrtc(fd, crtcId_, 0, 0, 0, nullptr, 0, nullptr);
	}
	modeSet_ = false;
	background_.reset();
}

} /* namespace zcbuf::kms */
