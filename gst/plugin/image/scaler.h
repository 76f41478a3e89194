/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shrinks one mapped video frame into a ThumbnailImage with libyuv: planar
 * and semi-planar YUV plane by plane, packed YUV and RGB as 4-byte pixels
 * first and converted at thumbnail size. Only thumbnail-sized data is
 * written; the frame is only read.
 */
#pragma once

#include <gst/video/video.h>

#include "image/image.h"

namespace zcbuf::image {

/* The raw formats shrinkFrame() reads. */
#define ZC_THUMBNAIL_FORMATS                                                             \
	"{ NV12, NV21, I420, YV12, Y42B, Y444, YUY2, UYVY, BGRx, BGRA, RGBx, RGBA, GRAY8 }"

/*
 * The thumbnail size for frames of @info: the frame's display size (pixel
 * aspect ratio applied) scaled down to fit @maxWidth x @maxHeight, never
 * up; at least 1x1, even widths for packed 4:2:2 sources.
 */
void thumbnailSize(const GstVideoInfo *info, unsigned maxWidth, unsigned maxHeight, int *width,
		   int *height);

/* Fills @image (allocated here at @width x @height) from @frame, mapped
 * for reading, as full-range I420, or grey for GRAY8 frames. */
void shrinkFrame(const GstVideoFrame *frame, int width, int height, ThumbnailImage *image);

} /* namespace zcbuf::image */
