/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image/scaler.h"

#include <algorithm>
#include <cmath>

#include <libyuv/convert.h>
#include <libyuv/convert_from_argb.h>
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>
#include <libyuv/scale_argb.h>
#include <libyuv/scale_uv.h>

namespace zcbuf::image {

namespace {

const std::uint8_t *compData(const GstVideoFrame *frame, int c)
{
	return static_cast<const std::uint8_t *>(GST_VIDEO_FRAME_COMP_DATA(frame, c));
}

bool isPacked422(GstVideoFormat format)
{
	return format == GST_VIDEO_FORMAT_YUY2 || format == GST_VIDEO_FORMAT_UYVY;
}

void scalePlane(const GstVideoFrame *frame, int c, std::uint8_t *dst, int dstStride, int width,
		int height)
{
	libyuv::ScalePlane(compData(frame, c), GST_VIDEO_FRAME_COMP_STRIDE(frame, c),
			   GST_VIDEO_FRAME_COMP_WIDTH(frame, c),
			   GST_VIDEO_FRAME_COMP_HEIGHT(frame, c), dst, dstStride, width, height,
			   libyuv::kFilterBox);
}

/*
 * The source's Y'CbCr (its matrix and range) to JFIF's: BT.601 matrix,
 * full range. Linear: each chroma pair maps through a 2x2 matrix, and each
 * luma sample gains a term from its chroma pair, so it is done on the
 * thumbnail, not the frame.
 */
void toJfif(ThumbnailImage *image, const GstVideoColorimetry &colorimetry)
{
	const bool limited = colorimetry.range == GST_VIDEO_COLOR_RANGE_16_235;
	gdouble kr = 0.299, kb = 0.114;
	if (!gst_video_color_matrix_get_Kr_Kb(colorimetry.matrix, &kr, &kb)) {
		kr = 0.299;
		kb = 0.114;
	}
	const double kr2 = 0.299, kb2 = 0.114, kg2 = 1.0 - kr2 - kb2;
	const double kg = 1.0 - kr - kb;
	if (!limited && kr == kr2 && kb == kb2)
		return;

	/* R = Y + cr*Cr, B = Y + cb*Cb, G = Y - (kr*cr*Cr + kb*cb*Cb)/kg. */
	const double crToR = 2 * (1 - kr), cbToB = 2 * (1 - kb);
	/* New Y = Y + a*Cb + b*Cr. */
	const double a = kb2 * cbToB - kg2 * kb * cbToB / kg;
	const double b = kr2 * crToR - kg2 * kr * crToR / kg;
	/* New Cb = ((B - Y') / (2 (1 - kb2)), new Cr likewise. */
	const double cbCb = (cbToB - a) / (2 * (1 - kb2)), cbCr = -b / (2 * (1 - kb2));
	const double crCb = -a / (2 * (1 - kr2)), crCr = (crToR - b) / (2 * (1 - kr2));
	const double yOffset = limited ? 16 : 0, yScale = limited ? 219 : 255;
	const double cScale = limited ? 224 : 255;
	auto clamp8 = [](double v) {
		return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
	};

	if (image->gray) {
		for (int y = 0; y < image->height; y++) {
			std::uint8_t *row = image->y.data() + static_cast<std::ptrdiff_t>(y) * image->lumaStride;
			for (int x = 0; x < image->width; x++)
				row[x] = clamp8((row[x] - yOffset) / yScale * 255);
		}
		return;
	}
	for (int cy = 0; cy < image->chromaHeight(); cy++) {
		std::uint8_t *uRow = image->u.data() + static_cast<std::ptrdiff_t>(cy) * image->chromaStride;
		std::uint8_t *vRow = image->v.data() + static_cast<std::ptrdiff_t>(cy) * image->chromaStride;
		for (int cx = 0; cx < image->chromaWidth(); cx++) {
			const double cb = (uRow[cx] - 128) / cScale, cr = (vRow[cx] - 128) / cScale;
			const double lumaShift = a * cb + b * cr;
			for (int y = 2 * cy; y < std::min(2 * cy + 2, image->height); y++) {
				std::uint8_t *row = image->y.data() +
						    static_cast<std::ptrdiff_t>(y) * image->lumaStride;
				for (int x = 2 * cx; x < std::min(2 * cx + 2, image->width); x++)
					row[x] = clamp8(((row[x] - yOffset) / yScale + lumaShift) * 255);
			}
			uRow[cx] = clamp8((cbCb * cb + cbCr * cr) * 255 + 128);
			vRow[cx] = clamp8((crCb * cb + crCr * cr) * 255 + 128);
		}
	}
}

} /* namespace */

void thumbnailSize(const GstVideoInfo *info, unsigned maxWidth, unsigned maxHeight, int *width,
		   int *height)
{
	double parN = GST_VIDEO_INFO_PAR_N(info) > 0 ? GST_VIDEO_INFO_PAR_N(info) : 1;
	double parD = GST_VIDEO_INFO_PAR_D(info) > 0 ? GST_VIDEO_INFO_PAR_D(info) : 1;
	double displayWidth = GST_VIDEO_INFO_WIDTH(info) * parN / parD;
	double displayHeight = GST_VIDEO_INFO_HEIGHT(info);
	double scale = std::min({ maxWidth / displayWidth, maxHeight / displayHeight, 1.0 });
	*width = std::max(1, static_cast<int>(std::lround(displayWidth * scale)));
	*height = std::max(1, static_cast<int>(std::lround(displayHeight * scale)));
	if (isPacked422(GST_VIDEO_INFO_FORMAT(info)))
		*width = std::max(2, *width & ~1);
}

void shrinkFrame(const GstVideoFrame *frame, int width, int height, ThumbnailImage *image)
{
	const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
	image->allocate(width, height, format == GST_VIDEO_FORMAT_GRAY8);
	const int cw = image->chromaWidth(), ch = image->chromaHeight();
	/* YUV and grey sources keep their own matrix and range until the
	 * end; libyuv's J420 conversion of RGB already gives JFIF's. */
	bool convertColours = true;
	std::vector<std::uint8_t> &scratch = image->scratch;

	switch (format) {
	case GST_VIDEO_FORMAT_I420:
	case GST_VIDEO_FORMAT_YV12:
	case GST_VIDEO_FORMAT_Y42B:
	case GST_VIDEO_FORMAT_Y444:
		scalePlane(frame, 0, image->y.data(), image->lumaStride, width, height);
		scalePlane(frame, 1, image->u.data(), image->chromaStride, cw, ch);
		scalePlane(frame, 2, image->v.data(), image->chromaStride, cw, ch);
		break;
	case GST_VIDEO_FORMAT_NV12:
	case GST_VIDEO_FORMAT_NV21: {
		scalePlane(frame, 0, image->y.data(), image->lumaStride, width, height);
		scratch.resize(static_cast<std::size_t>(cw) * 2 * ch);
		libyuv::UVScale(static_cast<const std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(frame, 1)),
				GST_VIDEO_FRAME_PLANE_STRIDE(frame, 1),
				GST_VIDEO_FRAME_COMP_WIDTH(frame, 1),
				GST_VIDEO_FRAME_COMP_HEIGHT(frame, 1), scratch.data(), cw * 2, cw, ch,
				libyuv::kFilterBox);
		bool nv21 = format == GST_VIDEO_FORMAT_NV21;
		libyuv::SplitUVPlane(scratch.data(), cw * 2, nv21 ? image->v.data() : image->u.data(),
				     image->chromaStride, nv21 ? image->u.data() : image->v.data(),
				     image->chromaStride, cw, ch);
		break;
	}
	case GST_VIDEO_FORMAT_GRAY8:
		scalePlane(frame, 0, image->y.data(), image->lumaStride, width, height);
		break;
	case GST_VIDEO_FORMAT_YUY2:
	case GST_VIDEO_FORMAT_UYVY: {
		/* Two pixels (Y0 U Y1 V) are one 4-byte "ARGB" pixel to the
		 * scaler. The last input column of an odd width has no second
		 * luma and is left out. An odd output width needs a pair more
		 * than width / 2: the repacking below reads the last pixel's
		 * Y0 U . V from it (with width / 2 pairs it read past the end
		 * of each scratch row: the next row's first pixel, and past
		 * the scratch for the last row). */
		const int pairs = std::max(1, GST_VIDEO_FRAME_WIDTH(frame) / 2);
		const int outPairs = (width + 1) / 2;
		scratch.resize(static_cast<std::size_t>(outPairs) * 4 * height);
		libyuv::ARGBScale(static_cast<const std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(frame, 0)),
				  GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0), pairs,
				  GST_VIDEO_FRAME_HEIGHT(frame), scratch.data(), outPairs * 4,
				  outPairs, height, libyuv::kFilterBox);
		auto convert = format == GST_VIDEO_FORMAT_YUY2 ? libyuv::YUY2ToI420 : libyuv::UYVYToI420;
		convert(scratch.data(), outPairs * 4, image->y.data(), image->lumaStride,
			image->u.data(), image->chromaStride, image->v.data(), image->chromaStride,
			width, height);
		break;
	}
	case GST_VIDEO_FORMAT_BGRx:
	case GST_VIDEO_FORMAT_BGRA:
	case GST_VIDEO_FORMAT_RGBx:
	case GST_VIDEO_FORMAT_RGBA: {
		scratch.resize(static_cast<std::size_t>(width) * 4 * height);
		libyuv::ARGBScale(static_cast<const std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(frame, 0)),
				  GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0), GST_VIDEO_FRAME_WIDTH(frame),
				  GST_VIDEO_FRAME_HEIGHT(frame), scratch.data(), width * 4, width,
				  height, libyuv::kFilterBox);
		/* libyuv names pixels by little-endian words: GStreamer's
		 * BGRx is its ARGB, RGBx its ABGR. J420 is JFIF's YCbCr. */
		bool bgr = format == GST_VIDEO_FORMAT_BGRx || format == GST_VIDEO_FORMAT_BGRA;
		auto convert = bgr ? libyuv::ARGBToJ420 : libyuv::ABGRToJ420;
		convert(scratch.data(), width * 4, image->y.data(), image->lumaStride, image->u.data(),
			image->chromaStride, image->v.data(), image->chromaStride, width, height);
		convertColours = false;
		break;
	}
	default:
		g_assert_not_reached();
	}
	if (convertColours)
		toJfif(image, GST_VIDEO_INFO_COLORIMETRY(&frame->info));
	image->repeatEdges();
}

} /* namespace zcbuf::image */
