/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the converter needs to know about a frame: its format's layout and
 * where its planes are. Mapped GstVideoFrames and the converter's own
 * intermediate images both become an Image, so the row code never sees
 * GStreamer types.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <gst/video/video.h>

#include "convert/kernels.h"

namespace zcbuf::convert {

enum class Layout {
	Nv12, /* Y plane, interleaved UV plane, 4:2:0 */
	I420, /* Y, U and V planes, 4:2:0 */
	I422, /* Y42B: Y, U and V planes, 4:2:2 */
	I444, /* Y444: Y, U and V planes, 4:4:4 */
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
#define ZCCONVERT_FORMATS "{ NV12, I420, Y42B, Y444, YUY2, UYVY, BGRx, RGBx, BGRA, RGBA, GRAY8 }"

struct Image {
	GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN;
	int width = 0, height = 0;
	uint8_t *data[3] = {};
	int stride[3] = {};

	uint8_t *row(int plane, int y) const { return data[plane] + static_cast<std::ptrdiff_t>(y) * stride[plane]; }
};

/* An Image over a mapped frame. */
Image imageOf(const GstVideoFrame &frame);

/*
 * The most scratch memory one conversion plan may hold for whole images
 * (the intermediate of a conversion with scaling, the planar images the
 * scaler works through): 1 GiB, a 16384x16384 RGBA frame. Caps that need
 * more are refused at negotiation, before anything is allocated.
 */
constexpr std::size_t kMaxScratchBytes = std::size_t{ 1 } << 30;

/*
 * Counts the scratch bytes a plan asks for against kMaxScratchBytes, so
 * that a plan is refused as a whole before any of it is allocated.
 */
class ScratchBudget
{
public:
	/* False with @error when @bytes more would exceed the bound. */
	bool reserve(std::size_t bytes, std::string &error);
	std::size_t used() const { return used_; }

private:
	std::size_t used_ = 0;
};

/*
 * Anonymous memory mapped for a scratch image: its pages cost nothing until
 * they are written (malloc would hand them to MALLOC_PERTURB_ or a
 * calloc-style fill first), and a size the process cannot have is a clean
 * failure, not an exception.
 */
class ScratchMemory
{
public:
	ScratchMemory() = default;
	~ScratchMemory() { release(); }
	ScratchMemory(ScratchMemory &&other) noexcept;
	ScratchMemory &operator=(ScratchMemory &&other) noexcept;
	ScratchMemory(const ScratchMemory &) = delete;
	ScratchMemory &operator=(const ScratchMemory &) = delete;

	/* False (and no memory) when @bytes cannot be mapped. */
	bool map(std::size_t bytes);
	void release();
	uint8_t *data() const { return data_; }

private:
	uint8_t *data_ = nullptr;
	std::size_t bytes_ = 0;
};

/* An image of its own memory (intermediate results). The memory is not
 * filled: every byte is written before it is read. */
class OwnedImage
{
public:
	/* The bytes an image of @format at @width x @height takes, or false
	 * with @error when GstVideoInfo cannot describe it. */
	static bool sizeOf(GstVideoFormat format, int width, int height, std::size_t &bytes,
			   std::string &error);
	/* False with @error (and no image) when the format and size are not
	 * a frame or the memory cannot be had. */
	bool allocate(GstVideoFormat format, int width, int height, std::string &error);
	const Image &image() const { return image_; }

private:
	ScratchMemory storage_;
	Image image_;
};

} /* namespace zcbuf::convert */
