/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A GLES context on a DRM device, without a window: EGL on the GBM platform
 * of one device node, a surfaceless GLES 2 context, and the extensions the
 * converter needs (dma-buf import as EGLImages, EGLImages as textures).
 *
 * The device node is opened here and never holds DRM master: a card node
 * makes its first opener master, so master is dropped before anything else
 * is done with the fd (a display sink in the same process would otherwise
 * be refused). Mesa's kms_swrast (virtio-gpu, vkms) needs the card node:
 * it maps dumb buffers, which render nodes refuse.
 *
 * The context is current on no thread between uses: Current makes it
 * current on the calling thread under the context's lock and releases it
 * again, so that the streaming thread, the state change thread and the
 * thread that frees a cached memory can each use it in turn.
 */
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>

#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

struct gbm_device;

namespace zcbuf::gl {

class Context
{
public:
	/* Opens @node ("/dev/dri/card0"), EGL on its GBM device and a
	 * surfaceless GLES 2 context. An Error names the missing piece (the
	 * node, EGL, an extension) when any is missing. */
	static Result<std::shared_ptr<Context>> open(const std::string &node);

	~Context();
	Context(const Context &) = delete;
	Context &operator=(const Context &) = delete;

	const std::string &node() const { return node_; }
	/* The DRM driver of the node ("virtio_gpu"). */
	const std::string &driver() const { return driver_; }
	/* GL_RENDERER, for the log. */
	const std::string &renderer() const { return renderer_; }
	EGLDisplay display() const { return display_; }

	/* The context current on this thread while alive (under the lock). */
	class Current
	{
	public:
		explicit Current(Context &context);
		~Current();
		Current(const Current &) = delete;
		Current &operator=(const Current &) = delete;
		/* False when eglMakeCurrent failed (a lost context). */
		bool ok() const { return ok_; }

	private:
		Context &context_;
		std::unique_lock<std::recursive_mutex> lock_;
		bool ok_ = false;
		/* What was current on this thread before (another element's
		 * GL context), restored afterwards. */
		EGLDisplay previousDisplay_;
		EGLContext previousContext_;
		EGLSurface previousDraw_, previousRead_;
	};

	/* Extension entry points, resolved by open(). */
	PFNEGLCREATEIMAGEKHRPROC createImage = nullptr;
	PFNEGLDESTROYIMAGEKHRPROC destroyImage = nullptr;
	PFNGLEGLIMAGETARGETTEXTURE2DOESPROC imageTargetTexture = nullptr;

private:
	Context() = default;

	std::string node_, driver_, renderer_;
	UniqueFD fd_;
	gbm_device *gbm_ = nullptr;
	EGLDisplay display_ = EGL_NO_DISPLAY;
	EGLContext context_ = EGL_NO_CONTEXT;
	/* Recursive: a GstMemory freed while this thread has the context
	 * current releases its imports under a nested Current. */
	std::recursive_mutex lock_;
};

/* The first DRM card node (/dev/dri/cardN, N ascending) whose driver is not
 * @skipDriver and on which Context::open() succeeds; an Error listing what
 * every node said when none does. */
Result<std::shared_ptr<Context>> openFirstCard(const std::string &skipDriver);

} /* namespace zcbuf::gl */
