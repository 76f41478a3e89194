/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/image.h"

namespace zcbuf::convert {

bool formatTraits(GstVideoFormat format, FormatTraits &traits)
{
	switch (format) {
	case GST_VIDEO_FORMAT_NV12:
		traits = { Layout::Nv12 };
		return true;
	case GST_VIDEO_FORMAT_I420:
		traits = { Layout::I420 };
		return true;
	case GST_VIDEO_FORMAT_YUY2:
		traits = { Layout::Packed422, true };
		return true;
	case GST_VIDEO_FORMAT_UYVY:
		traits = { Layout::Packed422, false };
		return true;
	case GST_VIDEO_FORMAT_GRAY8:
		traits = { Layout::Gray };
		return true;
	case GST_VIDEO_FORMAT_BGRx:
		traits = { Layout::Rgb4, false, { 2, 1, 0, 3 }, false };
		return true;
	case GST_VIDEO_FORMAT_BGRA:
		traits = { Layout::Rgb4, false, { 2, 1, 0, 3 }, true };
		return true;
	case GST_VIDEO_FORMAT_RGBx:
		traits = { Layout::Rgb4, false, { 0, 1, 2, 3 }, false };
		return true;
	case GST_VIDEO_FORMAT_RGBA:
		traits = { Layout::Rgb4, false, { 0, 1, 2, 3 }, true };
		return true;
	default:
		return false;
	}
}

Image imageOf(const GstVideoFrame &frame)
{
	Image image;
	image.format = GST_VIDEO_FRAME_FORMAT(&frame);
	image.width = GST_VIDEO_FRAME_WIDTH(&frame);
	image.height = GST_VIDEO_FRAME_HEIGHT(&frame);
	for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(&frame) && i < 3; i++) {
		image.data[i] = static_cast<uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, i));
		image.stride[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, i);
	}
	return image;
}

void OwnedImage::allocate(GstVideoFormat format, int width, int height)
{
	GstVideoInfo info;
	gst_video_info_set_format(&info, format, width, height);
	storage_.assign(GST_VIDEO_INFO_SIZE(&info), 0);
	image_ = Image{};
	image_.format = format;
	image_.width = width;
	image_.height = height;
	for (guint i = 0; i < GST_VIDEO_INFO_N_PLANES(&info) && i < 3; i++) {
		image_.data[i] = storage_.data() + GST_VIDEO_INFO_PLANE_OFFSET(&info, i);
		image_.stride[i] = GST_VIDEO_INFO_PLANE_STRIDE(&info, i);
	}
}

} /* namespace zcbuf::convert */
