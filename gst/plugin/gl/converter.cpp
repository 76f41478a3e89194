/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gl/converter.h"

#include <drm_fourcc.h>

#include "convert/matrix.h"
#include "gl/shader.h"

namespace zcbuf::gl {

namespace {

bool isInput(GstVideoFormat f)
{
	switch (f) {
	case GST_VIDEO_FORMAT_NV12:
	case GST_VIDEO_FORMAT_I420:
	case GST_VIDEO_FORMAT_Y42B:
	case GST_VIDEO_FORMAT_Y444:
	case GST_VIDEO_FORMAT_RGBA:
	case GST_VIDEO_FORMAT_BGRA:
	case GST_VIDEO_FORMAT_RGBx:
	case GST_VIDEO_FORMAT_BGRx:
		return true;
	default:
		return false;
	}
}

bool isOutput(GstVideoFormat f)
{
	return isInput(f) && GST_VIDEO_FORMAT_INFO_IS_RGB(gst_video_format_get_info(f));
}

/* How plane @p of a @info frame is imported: R8 luma and planar chroma,
 * GR88 interleaved chroma, the packed formats' bytes as ABGR8888. */
PlaneLayout layoutOf(const GstVideoInfo &info, guint p, gsize offset, int stride)
{
	PlaneLayout layout;
	layout.offset = offset;
	layout.stride = stride;
	const GstVideoFormatInfo *finfo = info.finfo;
	gint comps[GST_VIDEO_MAX_COMPONENTS];
	gst_video_format_info_component(finfo, p, comps);
	layout.width = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(finfo, comps[0], GST_VIDEO_INFO_WIDTH(&info));
	layout.height = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(finfo, comps[0], GST_VIDEO_INFO_HEIGHT(&info));
	if (GST_VIDEO_INFO_IS_RGB(&info))
		layout.fourcc = DRM_FORMAT_ABGR8888;
	else if (GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_NV12 && p == 1)
		layout.fourcc = DRM_FORMAT_GR88;
	else
		layout.fourcc = DRM_FORMAT_R8;
	return layout;
}

/* The memory and layout of plane @p of @buffer (its video meta's offsets
 * and strides, else @info's). */
Result<std::pair<GstMemory *, PlaneLayout>> planeOf(GstBuffer *buffer, const GstVideoInfo &info, guint p)
{
	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	gsize offset = meta ? meta->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET(&info, p);
	int stride = meta ? meta->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE(&info, p);
	guint index = 0, length = 0;
	gsize skip = 0;
	if (!gst_buffer_find_memory(buffer, offset, 1, &index, &length, &skip))
		return Error(EINVAL, "plane " + std::to_string(p) + " at offset " +
					     std::to_string(offset) + " lies outside the buffer");
	return std::make_pair(gst_buffer_peek_memory(buffer, index), layoutOf(info, p, skip, stride));
}

/* Two triangles covering the framebuffer. */
const GLfloat kQuad[] = { -1.f, -1.f, 1.f, -1.f, -1.f, 1.f, 1.f, 1.f };

} /* namespace */

bool Converter::supports(const GstVideoInfo &in, const GstVideoInfo &out, std::string &why)
{
	GstVideoFormat fi = GST_VIDEO_INFO_FORMAT(&in), fo = GST_VIDEO_INFO_FORMAT(&out);
	if (!isInput(fi)) {
		why = std::string("GL reads NV12, I420, Y42B, Y444, RGBA, BGRA, RGBx and BGRx, not ") +
		      gst_video_format_to_string(fi);
		return false;
	}
	if (!isOutput(fo)) {
		why = std::string("GL writes RGBA, BGRA, RGBx and BGRx, not ") +
		      gst_video_format_to_string(fo);
		return false;
	}
	if (GST_VIDEO_INFO_IS_INTERLACED(&in)) {
		why = "GL does not convert interlaced video";
		return false;
	}
	convert::ColorMatrix matrix;
	return convert::computeMatrix(in, out, matrix, why);
}

Converter::~Converter()
{
	releaseProgram();
}

void Converter::releaseProgram()
{
	if (program_ && context_) {
		Context::Current current(*context_);
		glDeleteProgram(program_);
	}
	program_ = 0;
}

Result<void> Converter::configure(std::shared_ptr<Context> context, const GstVideoInfo &in,
				  const GstVideoInfo &out)
{
	std::string why;
	if (!supports(in, out, why))
		return Error(ENOTSUP, why);
	convert::ColorMatrix matrix;
	if (!convert::computeMatrix(in, out, matrix, why))
		return Error(ENOTSUP, why);
	releaseProgram();
	if (context != context_) {
		cache_.reset();
		context_ = std::move(context);
		cache_ = std::make_unique<ImageCache>(context_);
	}
	Context::Current current(*context_);
	if (!current.ok())
		return Error(EIO, "the GL context on " + context_->node() + " cannot be made current");
	Result<GLuint> program =
		buildProgram(in, GST_VIDEO_INFO_FORMAT(&out), matrix);
	if (!program)
		return program.error();
	program_ = program.value();
	in_ = in;
	out_ = out;
	return {};
}

Result<void> Converter::bindInput(GstBuffer *in)
{
	for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&in_); p++) {
		auto plane = planeOf(in, in_, p);
		if (!plane) {
			glActiveTexture(GL_TEXTURE0);
			return plane.error();
		}
		/* Unit p first: an import binds its texture to the active one. */
		glActiveTexture(GL_TEXTURE0 + p);
		Result<PlaneTexture> texture = cache_->get(plane->first, plane->second, false);
		if (!texture) {
			glActiveTexture(GL_TEXTURE0);
			return Error(texture.error().code(),
				     "input plane " + std::to_string(p) + ": " + texture.error().message());
		}
		glBindTexture(GL_TEXTURE_2D, texture->texture);
	}
	glActiveTexture(GL_TEXTURE0);
	return {};
}

Result<void> Converter::importInput(GstBuffer *in)
{
	if (!program_)
		return Error(EINVAL, "the GL converter has no plan");
	Context::Current current(*context_);
	if (!current.ok())
		return Error(EIO, "the GL context on " + context_->node() + " was lost");
	return bindInput(in);
}

Result<void> Converter::convert(GstBuffer *in, GstBuffer *out)
{
	if (!program_)
		return Error(EINVAL, "the GL converter has no plan");
	Context::Current current(*context_);
	if (!current.ok())
		return Error(EIO, "the GL context on " + context_->node() + " was lost");
	/* The output first: importing binds its texture to the active unit,
	 * which must end up holding the input's. */
	auto plane = planeOf(out, out_, 0);
	if (!plane)
		return plane.error();
	Result<PlaneTexture> target = cache_->get(plane->first, plane->second, true);
	if (!target)
		return Error(target.error().code(), "output: " + target.error().message());
	if (Result<void> bound = bindInput(in); !bound)
		return bound;

	glBindFramebuffer(GL_FRAMEBUFFER, target->framebuffer);
	glViewport(0, 0, GST_VIDEO_INFO_WIDTH(&out_), GST_VIDEO_INFO_HEIGHT(&out_));
	glUseProgram(program_);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, kQuad);
	glEnableVertexAttribArray(0);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
	glDisableVertexAttribArray(0);
	glBindFramebuffer(GL_FRAMEBUFFER, 0);
	/* The output goes downstream, and the input back to its pool, when
	 * this returns: nothing may still be drawing. */
	glFinish();
	if (GLenum e = glGetError(); e != GL_NO_ERROR)
		return Error(EIO, "drawing the frame failed (GL error " + std::to_string(e) + ")");
	return {};
}

} /* namespace zcbuf::gl */
