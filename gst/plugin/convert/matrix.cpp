/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Matrix derivation. The steps and their order follow GStreamer 1.22's
 * video converter (video-converter.c: compute_matrix_to_RGB,
 * compute_matrix_to_YUV, prepare_matrix): every step is a left
 * multiplication in double precision, range scales go through float, and
 * the result is scaled by 256 and rounded with rint(). Doing the same
 * arithmetic gives the same integer coefficients, which is what keeps the
 * output within a least significant bit of videoconvert's.
 */
#include "convert/matrix.h"

#include <cmath>

namespace zcbuf::convert {

namespace {

using Matrix = std::array<std::array<double, 4>, 4>;

Matrix identity()
{
	Matrix m{};
	for (int i = 0; i < 4; i++)
		m[i][i] = 1.0;
	return m;
}

/* Returns a * b. */
Matrix multiply(const Matrix &a, const Matrix &b)
{
	Matrix r{};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			double x = 0;
			for (int k = 0; k < 4; k++)
				x += a[i][k] * b[k][j];
			r[i][j] = x;
		}
	return r;
}

void offsetComponents(Matrix &m, double a0, double a1, double a2)
{
	Matrix a = identity();
	a[0][3] = a0;
	a[1][3] = a1;
	a[2][3] = a2;
	m = multiply(a, m);
}

void scaleComponents(Matrix &m, double a0, double a1, double a2)
{
	Matrix a = identity();
	a[0][0] = a0;
	a[1][1] = a1;
	a[2][2] = a2;
	m = multiply(a, m);
}

void yuvToRgb(Matrix &m, double kr, double kb)
{
	double kg = 1.0 - kr - kb;
	Matrix k = { { { 1., 0., 2 * (1 - kr), 0. },
		       { 1., -2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg, 0. },
		       { 1., 2 * (1 - kb), 0., 0. },
		       { 0., 0., 0., 1. } } };
	m = multiply(k, m);
}

void rgbToYuv(Matrix &m, double kr, double kb)
{
	double kg = 1.0 - kr - kb;
	Matrix k{};
	k[0] = { kr, kg, kb, 0 };
	double x = 1 / (2 * (1 - kb));
	k[1] = { -x * kr, -x * kg, x * (1 - kb), 0 };
	x = 1 / (2 * (1 - kr));
	k[2] = { x * (1 - kr), -x * kg, -x * kb, 0 };
	k[3] = { 0, 0, 0, 1 };
	m = multiply(k, m);
}

/* The 8-bit format a frame is unpacked to: AYUV for YUV and gray, ARGB for
 * RGB; its range offsets describe where black and the chroma zero are. */
const GstVideoFormatInfo *unpackInfo(const GstVideoInfo &info)
{
	return gst_video_format_get_info(info.finfo->unpack_format);
}

bool isRgb(const GstVideoInfo &info)
{
	return GST_VIDEO_INFO_IS_RGB(&info);
}

/* Outputs of a YUV-to-RGB matrix that share the luma coefficient and leave
 * out the cross terms the AYUV-to-ARGB form does not have. */
bool isYuvToRgbForm(const std::array<std::array<int, 4>, 3> &c)
{
	return c[0][0] == c[1][0] && c[1][0] == c[2][0] && c[0][1] == 0 && c[2][2] == 0;
}

/* Whether no corner of the RGB cube gives a result outside 0..255. */
bool isNoClip(const std::array<std::array<int, 4>, 3> &c)
{
	for (int corner = 0; corner < 8; corner++) {
		int in[3] = { corner & 4 ? 255 : 0, corner & 2 ? 255 : 0, corner & 1 ? 255 : 0 };
		for (int row = 0; row < 3; row++) {
			int v = (c[row][0] * in[0] + c[row][1] * in[1] + c[row][2] * in[2] +
				 c[row][3]) >>
				8;
			if (v < 0 || v > 255)
				return false;
		}
	}
	return true;
}

} /* namespace */

bool computeMatrix(const GstVideoInfo &in, const GstVideoInfo &out, ColorMatrix &matrix,
		   std::string &error)
{
	matrix = ColorMatrix{};
	GstVideoColorMatrix inMatrix = in.colorimetry.matrix;
	GstVideoColorMatrix outMatrix = out.colorimetry.matrix;
	if (inMatrix == outMatrix)
		return true;

	double kr = 0, kb = 0;
	Matrix m = identity();

	/* Input components to 0..1 (luma) and -0.5..0.5 (chroma). */
	gint offset[4], scale[4];
	gst_video_color_range_offsets(in.colorimetry.range, unpackInfo(in), offset, scale);
	offsetComponents(m, -offset[0], -offset[1], -offset[2]);
	scaleComponents(m, 1 / static_cast<float>(scale[0]), 1 / static_cast<float>(scale[1]),
			1 / static_cast<float>(scale[2]));
	if (!isRgb(in)) {
		if (!gst_video_color_matrix_get_Kr_Kb(inMatrix, &kr, &kb)) {
			error = "the input's colour matrix is unknown";
			return false;
		}
		yuvToRgb(m, kr, kb);
	}

	if (!isRgb(out)) {
		if (!gst_video_color_matrix_get_Kr_Kb(outMatrix, &kr, &kb)) {
			error = "the output's colour matrix is unknown";
			return false;
		}
		rgbToYuv(m, kr, kb);
	}
	gst_video_color_range_offsets(out.colorimetry.range, unpackInfo(out), offset, scale);
	scaleComponents(m, static_cast<float>(scale[0]), static_cast<float>(scale[1]),
			static_cast<float>(scale[2]));
	offsetComponents(m, offset[0], offset[1], offset[2]);

	/* To 8.8 fixed point, as prepare_matrix() does. */
	scaleComponents(m, 256.0f, 256.0f, 256.0f);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			matrix.coefficients[i][j] = static_cast<int>(std::rint(m[i][j]));

	if (!isRgb(in) && isRgb(out) && isYuvToRgbForm(matrix.coefficients))
		matrix.kind = MatrixKind::YuvToRgb;
	else if (isNoClip(matrix.coefficients))
		matrix.kind = MatrixKind::NoClip;
	else
		matrix.kind = MatrixKind::Clipping;
	return true;
}

} /* namespace zcbuf::convert */
