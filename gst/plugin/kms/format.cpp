/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kms/format.h"

#include <drm_fourcc.h>

namespace zcbuf::kms {

namespace {

/* DRM fourccs name the bytes of a little-endian word, GStreamer the bytes
 * in memory: DRM's XRGB8888 is GStreamer's BGRx. */
struct FormatPair {
	GstVideoFormat gst;
	std::uint32_t drm;
};
constexpr FormatPair kFormats[] = {
	{ GST_VIDEO_FORMAT_BGRx, DRM_FORMAT_XRGB8888 },
	{ GST_VIDEO_FORMAT_BGRA, DRM_FORMAT_ARGB8888 },
	{ GST_VIDEO_FORMAT_RGBx, DRM_FORMAT_XBGR8888 },
	{ GST_VIDEO_FORMAT_RGBA, DRM_FORMAT_ABGR8888 },
	{ GST_VIDEO_FORMAT_xRGB, DRM_FORMAT_BGRX8888 },
	{ GST_VIDEO_FORMAT_ARGB, DRM_FORMAT_BGRA8888 },
	{ GST_VIDEO_FORMAT_xBGR, DRM_FORMAT_RGBX8888 },
	{ GST_VIDEO_FORMAT_ABGR, DRM_FORMAT_RGBA8888 },
	{ GST_VIDEO_FORMAT_RGB16, DRM_FORMAT_RGB565 },
	{ GST_VIDEO_FORMAT_NV12, DRM_FORMAT_NV12 },
	{ GST_VIDEO_FORMAT_NV21, DRM_FORMAT_NV21 },
	{ GST_VIDEO_FORMAT_I420, DRM_FORMAT_YUV420 },
	{ GST_VIDEO_FORMAT_YV12, DRM_FORMAT_YVU420 },
	{ GST_VIDEO_FORMAT_YUY2, DRM_FORMAT_YUYV },
	{ GST_VIDEO_FORMAT_UYVY, DRM_FORMAT_UYVY },
};

} /* namespace */

std::uint32_t fourccOf(GstVideoFormat format)
{
	for (const FormatPair &pair : kFormats)
		if (pair.gst == format)
			return pair.drm;
	return 0;
}

GstVideoFormat formatOf(std::uint32_t fourcc)
{
	for (const FormatPair &pair : kFormats)
		if (pair.drm == fourcc)
			return pair.gst;
	return GST_VIDEO_FORMAT_UNKNOWN;
}

GstCaps *capsOf(const std::vector<std::uint32_t> &fourccs)
{
	GValue list = G_VALUE_INIT;
	g_value_init(&list, GST_TYPE_LIST);
	for (std::uint32_t fourcc : fourccs) {
		GstVideoFormat format = formatOf(fourcc);
		if (format == GST_VIDEO_FORMAT_UNKNOWN)
			continue;
		GValue item = G_VALUE_INIT;
		g_value_init(&item, G_TYPE_STRING);
		g_value_set_string(&item, gst_video_format_to_string(format));
		gst_value_list_append_and_take_value(&list, &item);
	}
	GstCaps *caps = gst_caps_new_empty();
	if (gst_value_list_get_size(&list) > 0) {
		GstStructure *s = gst_structure_new("video/x-raw", "width", GST_TYPE_INT_RANGE, 1,
						    G_MAXINT, "height", GST_TYPE_INT_RANGE, 1,
						    G_MAXINT, "framerate", GST_TYPE_FRACTION_RANGE, 0,
						    1, G_MAXINT, 1, nullptr);
		gst_structure_take_value(s, "format", &list);
		gst_caps_append_structure(caps, s);
	} else {
		g_value_unset(&list);
	}
	return caps;
}

GstCaps *templateCaps()
{
	std::vector<std::uint32_t> all;
	for (const FormatPair &pair : kFormats)
		all.push_back(pair.drm);
	return capsOf(all);
}

} /* namespace zcbuf::kms */
