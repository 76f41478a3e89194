/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dma-buf planes as GL textures: each plane imported once as an EGLImage
 * (EGL_LINUX_DMA_BUF_EXT) and bound to a texture, and for render targets to
 * a framebuffer object; the imports of one GstMemory kept on that memory
 * (qdata) and destroyed when the memory is freed, so that a pool's buffers
 * are imported the first time they are seen and never again.
 *
 * An import holds the context it was made in (shared_ptr): the memory may
 * outlive the converter (an upstream pool freed after zcconvert), and its
 * GL objects are destroyed in their own context, made current by whichever
 * thread frees the memory.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <gst/gst.h>

#include "gl/context.h"

namespace zcbuf::gl {

/* Where a plane lies in its memory and how it is read. */
struct PlaneLayout {
	gsize offset = 0; /* bytes from the start of the GstMemory */
	int stride = 0;
	std::uint32_t fourcc = 0; /* DRM_FORMAT_R8, _GR88, _ABGR8888 */
	int width = 0, height = 0;
	bool operator==(const PlaneLayout &o) const
	{
		return offset == o.offset && stride == o.stride && fourcc == o.fourcc &&
		       width == o.width && height == o.height;
	}
};

/* What an import gives the converter. */
struct PlaneTexture {
	GLuint texture = 0;
	GLuint framebuffer = 0; /* render targets only */
};

class ImageCache
{
public:
	explicit ImageCache(std::shared_ptr<Context> context);
	~ImageCache() = default;
	ImageCache(const ImageCache &) = delete;
	ImageCache &operator=(const ImageCache &) = delete;

	/* The texture (and, with @renderTarget, the framebuffer) of the plane
	 * of dma-buf memory @memory laid out as @layout: from the memory's
	 * cache, else imported now. Call with the context current. An Error
	 * says why the import failed (memory not dma-buf, the plane outside
	 * the memory, eglCreateImage refused it). */
	Result<PlaneTexture> get(GstMemory *memory, const PlaneLayout &layout, bool renderTarget);

	std::uint64_t imports() const { return imports_; }
	std::uint64_t hits() const { return hits_; }

	/* EGLImages alive in this process, every cache together: what a leak
	 * check counts. */
	static std::uint64_t liveImages();

private:
	std::shared_ptr<Context> context_;
	GQuark quark_;
	std::uint64_t imports_ = 0, hits_ = 0;
};

} /* namespace zcbuf::gl */
