/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gl/image_cache.h"

#include <string>
#include <vector>

#include <drm_fourcc.h>
#include <gst/allocators/gstdmabuf.h>

namespace zcbuf::gl {

namespace {

std::atomic<std::uint64_t> gLiveImages{ 0 };
std::atomic<std::uint64_t> gNextCache{ 0 };

/* A memory keeps imports of a few layouts at most (renegotiation to other
 * sizes); the oldest goes when another is needed. */
constexpr std::size_t kMaxImportsPerMemory = 4;

int bytesPerPixel(std::uint32_t fourcc)
{
	switch (fourcc) {
	case DRM_FORMAT_R8:
		return 1;
	case DRM_FORMAT_GR88:
		return 2;
	default:
		return 4;
	}
}

/* One plane's EGLImage, texture and framebuffer. release() with the
 * context current. */
struct Import {
	PlaneLayout layout;
	EGLImageKHR image = EGL_NO_IMAGE_KHR;
	PlaneTexture gl;

	void release(Context &context)
	{
		if (gl.framebuffer)
			glDeleteFramebuffers(1, &gl.framebuffer);
		if (gl.texture)
			glDeleteTextures(1, &gl.texture);
		if (image != EGL_NO_IMAGE_KHR) {
			context.destroyImage(context.display(), image);
			gLiveImages--;
		}
		*this = Import();
	}
};

/* The imports on one GstMemory (its qdata). */
struct MemoryImports {
	std::shared_ptr<Context> context;
	std::vector<Import> imports;

	static void destroy(gpointer data)
	{
		auto *self = static_cast<MemoryImports *>(data);
		{
			Context::Current current(*self->context);
			for (Import &import : self->imports)
				import.release(*self->context);
		}
		/* Last: this may hold the last reference to the context. */
		delete self;
	}
};

std::string glError(const char *what)
{
	char code[16];
	std::snprintf(code, sizeof(code), "0x%04x", glGetError());
	return std::string(what) + " failed (GL error " + code + ")";
}

Result<void> makeImport(Context &context, GstMemory *memory, const PlaneLayout &layout,
			bool renderTarget, Import &import)
{
	import.layout = layout;
	int fd = gst_dmabuf_memory_get_fd(memory);
	gsize offset = memory->offset + layout.offset;
	if (fd < 0)
		return Error(EINVAL, "the memory has no dma-buf fd");
	if (offset > static_cast<gsize>(G_MAXINT32))
		return Error(EINVAL, "plane offset " + std::to_string(offset) +
					     " does not fit EGL's attribute");
	const EGLint attributes[] = {
		EGL_WIDTH, layout.width,
		EGL_HEIGHT, layout.height,
		EGL_LINUX_DRM_FOURCC_EXT, static_cast<EGLint>(layout.fourcc),
		EGL_DMA_BUF_PLANE0_FD_EXT, fd,
		EGL_DMA_BUF_PLANE0_OFFSET_EXT, static_cast<EGLint>(offset),
		EGL_DMA_BUF_PLANE0_PITCH_EXT, layout.stride,
		EGL_NONE,
	};
	import.image = context.createImage(context.display(), EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT,
					   nullptr, attributes);
	if (import.image == EGL_NO_IMAGE_KHR) {
		char code[16];
		std::snprintf(code, sizeof(code), "0x%04x", eglGetError());
		return Error(EINVAL, "eglCreateImage refused dma-buf fd " + std::to_string(fd) + " (" +
					     std::to_string(layout.width) + "x" +
					     std::to_string(layout.height) + ", pitch " +
					     std::to_string(layout.stride) + ") on " + context.node() +
					     ": EGL error " + code);
	}
	gLiveImages++;
	glGenTextures(1, &import.gl.texture);
	glBindTexture(GL_TEXTURE_2D, import.gl.texture);
	context.imageTargetTexture(GL_TEXTURE_2D, static_cast<GLeglImageOES>(import.image));
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
	if (glGetError() != GL_NO_ERROR)
		return Error(EINVAL, glError("binding the EGLImage to a texture"));
	if (renderTarget) {
		glGenFramebuffers(1, &import.gl.framebuffer);
		glBindFramebuffer(GL_FRAMEBUFFER, import.gl.framebuffer);
		glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D,
				       import.gl.texture, 0);
		GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
		if (status != GL_FRAMEBUFFER_COMPLETE)
			return Error(EINVAL, "the output dma-buf is no complete framebuffer (status " +
						     std::to_string(status) + ")");
	}
	return {};
}

} /* namespace */

ImageCache::ImageCache(std::shared_ptr<Context> context) : context_(std::move(context))
{
	std::string name = "zcbuf-gl-imports-" + std::to_string(gNextCache++);
	quark_ = g_quark_from_string(name.c_str());
}

std::uint64_t ImageCache::liveImages()
{
	return gLiveImages;
}

Result<PlaneTexture> ImageCache::get(GstMemory *memory, const PlaneLayout &layout,
				     bool renderTarget)
{
	if (!gst_is_dmabuf_memory(memory))
		return Error(EINVAL, std::string("memory of allocator ") +
					     (memory->allocator ? memory->allocator->mem_type : "(none)") +
					     " is not dma-buf memory");
	gsize rowBytes = static_cast<gsize>(layout.width) * bytesPerPixel(layout.fourcc);
	if (layout.width <= 0 || layout.height <= 0 || layout.stride <= 0 ||
	    static_cast<gsize>(layout.stride) < rowBytes ||
	    layout.offset + static_cast<gsize>(layout.stride) * (layout.height - 1) + rowBytes >
		    memory->size)
		return Error(EINVAL, "a plane of " + std::to_string(layout.width) + "x" +
					     std::to_string(layout.height) + " with pitch " +
					     std::to_string(layout.stride) + " at offset " +
					     std::to_string(layout.offset) +
					     " does not fit a memory of " + std::to_string(memory->size) +
					     " bytes");

	auto *imports = static_cast<MemoryImports *>(
		gst_mini_object_get_qdata(GST_MINI_OBJECT(memory), quark_));
	if (imports) {
		for (Import &import : imports->imports)
			if (import.layout == layout && (!renderTarget || import.gl.framebuffer)) {
				hits_++;
				return import.gl;
			}
	} else {
		imports = new MemoryImports{ context_, {} };
		gst_mini_object_set_qdata(GST_MINI_OBJECT(memory), quark_, imports,
					  MemoryImports::destroy);
	}
	if (imports->imports.size() >= kMaxImportsPerMemory) {
		imports->imports.front().release(*context_);
		imports->imports.erase(imports->imports.begin());
	}
	Import import;
	Result<void> made = makeImport(*context_, memory, layout, renderTarget, import);
	if (!made) {
		import.release(*context_);
		return made.error();
	}
	imports_++;
	imports->imports.push_back(import);
	return import.gl;
}

} /* namespace zcbuf::gl */
