/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the converter needs to know about a frame: its format's layout and
 * where its planes are. Mapped GstVideoFrames and the converter's own
 * intermediate images both become an Image, so the row code never sees
 * GStreamer types.
 */
#pragma once

#include <cstdint>
#include <vector>

#include <gst/video/video.h>

#include "convert/kernels.h"

namespace zcbuf::convert {

enum class Layout {
	Nv12, /* Y plane, interleaved UV plane, 4:2:0 */
	I420, /* Y, U and V planes, 4:2:0 */
	Packed422, /* YUY2 or UYVY */
	Gray, /* GRAY8 */
	Rgb4, /* BGRx, RGBx, BGRA, RGBA */
};

struct FormatTraits {
	Layout layout;
	/* Packed422: luma at even bytes (YUY2) or odd bytes (UYVY). */
	bool yuyv = false;
	/* Rgb4: byte positions of the components. */
	kernels::RgbOrder order{ 0, 0, 0, 0 };
	bool alpha = false;
};

/* The traits of a format zcconvert handles, or false. */
bool formatTraits(GstVideoFormat format, FormatTraits &traits);

/* The formats zcconvert converts between, as a caps list string. */
#define ZCCONVERT_FORMATS "{ NV12, I420, YUY2, UYVY, BGRx, RGBx, BGRA, RGBA, GRAY8 }"

struct Image {
	GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
	int width = 0, height = 0;
	uint8_t *data[3] = {};
	int stride[3] = {};

	uint8_t *row(int plane, int y) const { return data[plane] + static_cast<std::ptrdiff_t>(y) * stride[plane]; }
};

/* An Image over a mapped frame. */
Image imageOf(const GstVideoFrame &frame);

/* An image of its own memory (intermediate results). */
class OwnedImage
{
public:
	void allocate(GstVideoFormat format, int width, int height);
	const Image &image() const { return image_; }

private:
	std::vector<uint8_t> storage_;
	Image image_;
};

} /* namespace zcbuf::convert */
