/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/image.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

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
	case GST_VIDEO_FORMAT_Y42B:
		traits = { Layout::I422 };
		return true;
	case GST_VIDEO_FORMAT_Y444:
		traits = { Layout::I444 };
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

bool ScratchBudget::reserve(std::size_t bytes, std::string &error)
{
	if (bytes > kMaxScratchBytes - used_) {
		error = "the conversion would need " + std::to_string(used_ + bytes) +
			" bytes of scratch images, more than zcconvert's bound of " +
			std::to_string(kMaxScratchBytes) + " bytes";
		return false;
	}
	used_ += bytes;
	return true;
}

namespace {

/* gst_video_info_set_format() with its result checked. */
bool describe(GstVideoFormat format, int width, int height, GstVideoInfo &info,
	      std::string &error)
{
	gst_video_info_init(&info);
	if (width < 1 || height < 1 || !gst_video_info_set_format(&info, format, width, height)) {
		error = std::string("a ") + std::to_string(width) + "x" + std::to_string(height) + " " +
			gst_video_format_to_string(format) + " image cannot be described";
		return false;
	}
	return true;
}

} /* namespace */

bool OwnedImage::sizeOf(GstVideoFormat format, int width, int height, std::size_t &bytes,
			std::string &error)
{
	GstVideoInfo info;
	if (!describe(format, width, height, info, error))
		return false;
	bytes = GST_VIDEO_INFO_SIZE(&info);
	return true;
}

ScratchMemory::ScratchMemory(ScratchMemory &&other) noexcept
	: data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0))
{
}

ScratchMemory &ScratchMemory::operator=(ScratchMemory &&other) noexcept
{
	if (this != &other) {
		release();
		data_ = std::exchange(other.data_, nullptr);
		bytes_ = std::exchange(other.bytes_, 0);
	}
	return *this;
}

bool ScratchMemory::map(std::size_t bytes)
{
	release();
	void *memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (memory == MAP_FAILED)
		return false;
	data_ = static_cast<uint8_t *>(memory);
	bytes_ = bytes;
	return true;
}

void ScratchMemory::release()
{
	if (data_)
		munmap(data_, bytes_);
	data_ = nullptr;
	bytes_ = 0;
}

bool OwnedImage::allocate(GstVideoFormat format, int width, int height, std::string &error)
{
	storage_.release();
	image_ = Image{};
	GstVideoInfo info;
	if (!describe(format, width, height, info, error))
		return false;
	std::size_t bytes = GST_VIDEO_INFO_SIZE(&info);
	if (!storage_.map(bytes)) {
		error = "cannot map " + std::to_string(bytes) + " bytes for a " +
			std::to_string(width) + "x" + std::to_string(height) + " " +
			gst_video_format_to_string(format) + " scratch image: " + std::strerror(errno);
		return false;
	}
	image_.format = format;
	image_.width = width;
	image_.height = height;
	for (guint i = 0; i < GST_VIDEO_INFO_N_PLANES(&info) && i < 3; i++) {
		image_.data[i] = storage_.data() + GST_VIDEO_INFO_PLANE_OFFSET(&info, i);
		image_.stride[i] = GST_VIDEO_INFO_PLANE_STRIDE(&info, i);
	}
	return true;
}

} /* namespace zcbuf::convert */
