/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gl/context.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include <gbm.h>
#include <xf86drm.h>

namespace zcbuf::gl {

namespace {

bool hasExtension(const char *list, const char *name)
{
	if (!list)
		return false;
	std::size_t n = std::strlen(name);
	for (const char *p = list; (p = std::strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

std::string eglError(const char *what)
{
	char code[16];
	std::snprintf(code, sizeof(code), "0x%04x", eglGetError());
	return std::string(what) + " failed (EGL error " + code + ")";
}

std::string driverOf(int fd)
{
	drmVersionPtr version = drmGetVersion(fd);
	std::string name = version && version->name ? version->name : "unknown";
	drmFreeVersion(version);
	return name;
}

} /* namespace */

Result<std::shared_ptr<Context>> Context::open(const std::string &node)
{
	std::shared_ptr<Context> self(new Context());
	self->node_ = node;
	self->fd_ = UniqueFD(::open(node.c_str(), O_RDWR | O_CLOEXEC));
	if (!self->fd_.isValid())
		return Error::fromErrno(errno, "cannot open " + node);
	/* The first opener of a card node is its master by itself: this fd
	 * only renders, and must not keep a display sink from the card. */
	if (drmIsMaster(self->fd_.get()) && drmDropMaster(self->fd_.get()) < 0)
		return Error::fromErrno(errno, "cannot drop DRM master on " + node);
	self->driver_ = driverOf(self->fd_.get());
	std::string where = node + " (" + self->driver_ + ")";

	self->gbm_ = gbm_create_device(self->fd_.get());
	if (!self->gbm_)
		return Error(ENODEV, "no GBM device on " + where);

	const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!hasExtension(client, "EGL_KHR_platform_gbm") &&
	    !hasExtension(client, "EGL_MESA_platform_gbm"))
		return Error(ENOTSUP, "EGL has no GBM platform (EGL_KHR_platform_gbm)");
	auto getPlatformDisplay = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
		eglGetProcAddress("eglGetPlatformDisplayEXT"));
	if (!getPlatformDisplay)
		return Error(ENOTSUP, "EGL has no eglGetPlatformDisplayEXT");
	self->display_ = getPlatformDisplay(EGL_PLATFORM_GBM_KHR, self->gbm_, nullptr);
	if (self->display_ == EGL_NO_DISPLAY)
		return Error(ENODEV, eglError("eglGetPlatformDisplay") + " on " + where);
	EGLint major = 0, minor = 0;
	if (!eglInitialize(self->display_, &major, &minor)) {
		self->display_ = EGL_NO_DISPLAY;
		return Error(ENODEV, eglError("eglInitialize") + " on " + where);
	}

	const char *extensions = eglQueryString(self->display_, EGL_EXTENSIONS);
	for (const char *needed : { "EGL_KHR_image_base", "EGL_EXT_image_dma_buf_import",
				    "EGL_KHR_surfaceless_context" })
		if (!hasExtension(extensions, needed))
			return Error(ENOTSUP, "EGL on " + where + " lacks " + needed);
	self->createImage =
		reinterpret_cast<PFNEGLCREATEIMAGEKHRPROC>(eglGetProcAddress("eglCreateImageKHR"));
	self->destroyImage =
		reinterpret_cast<PFNEGLDESTROYIMAGEKHRPROC>(eglGetProcAddress("eglDestroyImageKHR"));
	self->imageTargetTexture = reinterpret_cast<PFNGLEGLIMAGETARGETTEXTURE2DOESPROC>(
		eglGetProcAddress("glEGLImageTargetTexture2DOES"));
	if (!self->createImage || !self->destroyImage || !self->imageTargetTexture)
		return Error(ENOTSUP, "EGL on " + where + " resolves no EGLImage entry points");

	if (!eglBindAPI(EGL_OPENGL_ES_API))
		return Error(ENOTSUP, eglError("eglBindAPI(EGL_OPENGL_ES_API)") + " on " + where);
	EGLConfig config = EGL_NO_CONFIG_KHR;
	if (!hasExtension(extensions, "EGL_KHR_no_config_context")) {
		const EGLint attributes[] = { EGL_RENDERABLE_TYPE, EGL_OPENGL_ES2_BIT, EGL_NONE };
		EGLint count = 0;
		if (!eglChooseConfig(self->display_, attributes, &config, 1, &count) || count < 1)
			return Error(ENOTSUP, "EGL on " + where + " has no GLES 2 config");
	}
	const EGLint contextAttributes[] = { EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE };
	self->context_ = eglCreateContext(self->display_, config, EGL_NO_CONTEXT, contextAttributes);
	if (self->context_ == EGL_NO_CONTEXT)
		return Error(ENOTSUP, eglError("eglCreateContext(GLES 2)") + " on " + where);

	Current current(*self);
	if (!current.ok())
		return Error(ENOTSUP, eglError("eglMakeCurrent (surfaceless)") + " on " + where);
	const char *glExtensions = reinterpret_cast<const char *>(glGetString(GL_EXTENSIONS));
	if (!hasExtension(glExtensions, "GL_OES_EGL_image"))
		return Error(ENOTSUP, "GLES on " + where + " lacks GL_OES_EGL_image");
	const char *renderer = reinterpret_cast<const char *>(glGetString(GL_RENDERER));
	self->renderer_ = renderer ? renderer : "unknown";
	return self;
}

Context::~Context()
{
	if (display_ != EGL_NO_DISPLAY) {
		eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
		if (context_ != EGL_NO_CONTEXT)
			eglDestroyContext(display_, context_);
		eglTerminate(display_);
	}
	if (gbm_)
		gbm_device_destroy(gbm_);
}

Context::Current::Current(Context &context)
	: context_(context), lock_(context.lock_), previousDisplay_(eglGetCurrentDisplay()),
	  previousContext_(eglGetCurrentContext()), previousDraw_(eglGetCurrentSurface(EGL_DRAW)),
	  previousRead_(eglGetCurrentSurface(EGL_READ))
{
	ok_ = eglMakeCurrent(context_.display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_.context_);
}

Context::Current::~Current()
{
	if (previousContext_ != EGL_NO_CONTEXT && previousContext_ != context_.context_)
		eglMakeCurrent(previousDisplay_, previousDraw_, previousRead_, previousContext_);
	else
		eglMakeCurrent(context_.display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
}

Result<std::shared_ptr<Context>> openFirstCard(const std::string &skipDriver)
{
	std::vector<std::string> cards;
	std::error_code ec;
	for (const auto &entry : std::filesystem::directory_iterator("/dev/dri", ec)) {
		std::string name = entry.path().filename().string();
		if (name.rfind("card", 0) == 0)
			cards.push_back(entry.path().string());
	}
	if (cards.empty())
		return Error(ENODEV, "no DRM card node in /dev/dri");
	std::sort(cards.begin(), cards.end(), [](const std::string &a, const std::string &b) {
		return a.size() != b.size() ? a.size() < b.size() : a < b;
	});
	std::string tried;
	for (const std::string &card : cards) {
		UniqueFD probe(::open(card.c_str(), O_RDWR | O_CLOEXEC));
		if (probe.isValid()) {
			/* A probe must not keep master either. */
			if (drmIsMaster(probe.get()))
				drmDropMaster(probe.get());
			if (driverOf(probe.get()) == skipDriver) {
				tried += (tried.empty() ? "" : "; ") + card + ": " + skipDriver + " (no GPU)";
				continue;
			}
		}
		Result<std::shared_ptr<Context>> context = Context::open(card);
		if (context)
			return context;
		tried += (tried.empty() ? "" : "; ") + context.error().message();
	}
	return Error(ENODEV, "no DRM card gives a GLES context: " + tried);
}

} /* namespace zcbuf::gl */
