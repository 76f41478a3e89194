/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GStreamer video formats and the DRM fourccs that scan them out. */
#pragma once

#include <cstdint>
#include <vector>

#include <gst/video/video.h>

namespace zcbuf::kms {

/* 0 when KMS has no fourcc for the format. */
std::uint32_t fourccOf(GstVideoFormat format);
/* GST_VIDEO_FORMAT_UNKNOWN when GStreamer has no format for the fourcc. */
GstVideoFormat formatOf(std::uint32_t fourcc);

/* "video/x-raw" caps of every format in fourccs that GStreamer knows, in
 * their order (the driver's preference); an empty caps when none is known. */
GstCaps *capsOf(const std::vector<std::uint32_t> &fourccs);
/* The formats the element's template lists. */
GstCaps *templateCaps();

} /* namespace zcbuf::kms */
