/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The colour matrix of a conversion, derived from the caps' colorimetry the
 * way GStreamer 1.22's video converter derives it (same double-precision
 * steps, same rounding to integers), so that zcconvert's pixels stay within
 * a least significant bit or two of videoconvert's.
 */
#pragma once

#include <array>
#include <string>

#include <gst/video/video.h>

namespace zcbuf::convert {

/* Which integer arithmetic videoconvert applies for this matrix. */
enum class MatrixKind {
	/* Same matrix on both sides: no arithmetic at all. */
	None,
	/* YUV to RGB with one luma coefficient for every output: the 8-bit
	 * "AYUV to ARGB" form (inputs centred on 128, 16-bit high multiplies,
	 * offsets implied by the centring). */
	YuvToRgb,
	/* No output can clip (RGB to YUV): exact integer sums, truncated. */
	NoClip,
	/* Anything else: centred 16-bit high multiplies, saturated. */
	Clipping,
};

struct ColorMatrix {
	MatrixKind kind = MatrixKind::None;
	/* coefficients[row][column] scaled by 256 and rounded, column 3 the
	 * offset; rows are the output components (Y,U,V or R,G,B), columns
	 * the input ones. */
	std::array<std::array<int, 4>, 3> coefficients{};
};

/*
 * The matrix that converts pixels of @in to pixels of @out (colorimetry
 * matrix and range of both; primaries and transfer are not converted, as
 * videoconvert's defaults do not convert them either). Returns false with
 * @error set for a colorimetry that cannot be converted (an unknown YUV
 * matrix).
 */
bool computeMatrix(const GstVideoInfo &in, const GstVideoInfo &out, ColorMatrix &matrix,
		   std::string &error);

} /* namespace zcbuf::convert */
