/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The small image a thumbnail is encoded from: full-range I420 (JFIF
 * YCbCr) or grey, its planes padded to whole JPEG blocks (16x16 luma,
 * 8x8 chroma) with the edges repeated into the padding, which is what
 * libjpeg's raw-data input reads.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zcbuf::image {

struct ThumbnailImage {
	int width = 0;
	int height = 0;
	bool gray = false;
	int lumaStride = 0;
	int lumaRows = 0;
	int chromaStride = 0;
	int chromaRows = 0;
	std::vector<std::uint8_t> y;
	std::vector<std::uint8_t> u;
	std::vector<std::uint8_t> v;
	/* Work space of the scaler (an intermediate the size of the
	 * thumbnail, for packed and semi-planar sources). */
	std::vector<std::uint8_t> scratch;

	int chromaWidth() const { return (width + 1) / 2; }
	int chromaHeight() const { return (height + 1) / 2; }

	/* Sizes the planes for @width x @height, keeping the storage. */
	void allocate(int width, int height, bool gray);
	/* Repeats the last column and row of each plane into its padding. */
	void repeatEdges();
};

} /* namespace zcbuf::image */
