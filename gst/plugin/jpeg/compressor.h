/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One libjpeg compressor encoding ThumbnailImages (4:2:0 or greyscale
 * JFIF) through the raw-data interface, into memory. One object per
 * thread; reused from image to image.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image/image.h"

namespace zcbuf::jpeg {

class Compressor
{
public:
	Compressor();
	~Compressor();
	Compressor(const Compressor &) = delete;
	Compressor &operator=(const Compressor &) = delete;

	/* Encodes @image at @quality (1-100) into @out (replaced). */
	bool compress(const zcbuf::image::ThumbnailImage &image, int quality, std::vector<std::uint8_t> *out,
		      std::string *error);

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} /* namespace zcbuf::jpeg */
