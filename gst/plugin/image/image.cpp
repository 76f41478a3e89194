/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image/image.h"

#include <cstring>

namespace zcbuf::image {

namespace {

int roundUp(int value, int to)
{
	return (value + to - 1) / to * to;
}

void repeat(std::uint8_t *plane, int stride, int rows, int width, int height)
{
	for (int y = 0; y < height; y++) {
		std::uint8_t *row = plane + static_cast<std::ptrdiff_t>(y) * stride;
		std::memset(row + width, row[width - 1], static_cast<std::size_t>(stride - width));
	}
	for (int y = height; y < rows; y++)
		std::memcpy(plane + static_cast<std::ptrdiff_t>(y) * stride,
			    plane + static_cast<std::ptrdiff_t>(height - 1) * stride,
			    static_cast<std::size_t>(stride));
}

} /* namespace */

void ThumbnailImage::allocate(int newWidth, int newHeight, bool isGray)
{
	width = newWidth;
	height = newHeight;
	gray = isGray;
	lumaStride = roundUp(width, 16);
	lumaRows = roundUp(height, 16);
	chromaStride = gray ? 0 : lumaStride / 2;
	chromaRows = gray ? 0 : lumaRows / 2;
	y.resize(static_cast<std::size_t>(lumaStride) * lumaRows);
	u.resize(static_cast<std::size_t>(chromaStride) * chromaRows);
	v.resize(static_cast<std::size_t>(chromaStride) * chromaRows);
}

void ThumbnailImage::repeatEdges()
{
	repeat(y.data(), lumaStride, lumaRows, width, height);
	if (gray)
		return;
	repeat(u.data(), chromaStride, chromaRows, chromaWidth(), chromaHeight());
	repeat(v.data(), chromaStride, chromaRows, chromaWidth(), chromaHeight());
}

} /* namespace zcbuf::image */
