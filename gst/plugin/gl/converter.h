/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A frame conversion on the GPU: the input's planes sampled as textures
 * (imported dma-bufs), the colour matrix of the CPU path (convert/matrix.h,
 * so that both apply the same coefficients) in a fragment shader, bilinear
 * scaling by the texture sampler, drawn into the output dma-buf bound as a
 * framebuffer, and glFinish() before the buffer goes on.
 *
 * Formats: NV12, I420, Y42B, Y444, RGBA, BGRA, RGBx, BGRx in; RGBA, BGRA, RGBx, BGRx
 * out. Everything else (YUV output, packed YUV, GRAY8) is the
 * CPU path's: supports() says why.
 */
#pragma once

#include <memory>
#include <string>

#include <gst/video/video.h>

#include "gl/context.h"
#include "gl/image_cache.h"

namespace zcbuf::gl {

class Converter
{
public:
	Converter() = default;
	~Converter();
	Converter(const Converter &) = delete;
	Converter &operator=(const Converter &) = delete;

	/* Whether the GPU path converts @in to @out; false with @why. */
	static bool supports(const GstVideoInfo &in, const GstVideoInfo &out, std::string &why);

	/* Plans @in to @out on @context (a new context drops the old one's
	 * cache; the same keeps it). */
	Result<void> configure(std::shared_ptr<Context> context, const GstVideoInfo &in,
			       const GstVideoInfo &out);

	/* Imports every plane of @in (cached), without drawing: whether the
	 * GPU can read it. */
	Result<void> importInput(GstBuffer *in);

	/* Converts @in into @out and waits for the GPU (glFinish): when it
	 * returns, @out holds the frame and neither buffer is in use by GL. */
	Result<void> convert(GstBuffer *in, GstBuffer *out);

	const std::shared_ptr<Context> &context() const { return context_; }
	/* EGLImage imports made and cache hits, this converter's cache. */
	std::uint64_t imports() const { return cache_ ? cache_->imports() : 0; }
	std::uint64_t hits() const { return cache_ ? cache_->hits() : 0; }

private:
	Result<void> bindInput(GstBuffer *in);
	void releaseProgram();

	std::shared_ptr<Context> context_;
	std::unique_ptr<ImageCache> cache_;
	GstVideoInfo in_{}, out_{};
	GLuint program_ = 0;
	GLint positionAttribute_ = -1;
};

} /* namespace zcbuf::gl */
