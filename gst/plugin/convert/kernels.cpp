/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scalar forms of the row kernels (the reference the SIMD forms must equal)
 * and the run-time choice between them.
 *
 * The arithmetic is GStreamer 1.22's, operation for operation, because the
 * element promises videoconvert's pixels to within 2 levels:
 *  - YUV to RGB (video-orc.orc, video_orc_convert_AYUV_ARGB): components
 *    minus 128 as signed bytes, widened by byte splatting (b << 8 | b),
 *    16-bit high multiplies, wrapping 16-bit sums, signed saturation to a
 *    byte, plus 128.
 *  - Clipping matrices (video_orc_matrix8): the same centred form for every
 *    output; the offset column is not used by that ORC program either.
 *  - No-clip matrices (video_converter_matrix8_table): exact sums of the
 *    8.8 coefficients and the offset, truncated.
 *  - Chroma filters: video-chroma.c's, with its edge handling.
 */
#include "convert/kernels.h"

#include <atomic>

#include "convert/kernels_x86.h"

namespace zcbuf::convert::kernels {

namespace {

inline int16_t splat(uint8_t value)
{
	uint8_t centred = static_cast<uint8_t>(value - 128);
	return static_cast<int16_t>(static_cast<uint16_t>(centred << 8 | centred));
}

inline int16_t mulhs(int16_t a, int16_t b)
{
	return static_cast<int16_t>((static_cast<int32_t>(a) * b) >> 16);
}

inline uint8_t saturateCentred(int16_t value)
{
	int v = value < -128 ? -128 : value > 127 ? 127 : value;
	return static_cast<uint8_t>(v + 128);
}

inline int16_t wrap(int value)
{
	return static_cast<int16_t>(static_cast<uint16_t>(value));
}

void yuvToRgbScalar(const YuvToRgb &p, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		    const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width)
{
	for (int i = 0; i < width; i++) {
		uint8_t u = u0[i], v = v0[i];
		if (u1) {
			u = static_cast<uint8_t>((3 * u0[i] + u1[i] + 2) >> 2);
			v = static_cast<uint8_t>((3 * v0[i] + v1[i] + 2) >> 2);
		}
		int16_t wy = mulhs(splat(y[i]), p.yCoeff);
		int16_t wu = splat(u), wv = splat(v);
		uint8_t *out = dst + 4 * i;
		out[p.order.r] = saturateCentred(wrap(wy + mulhs(wv, p.vToR)));
		out[p.order.b] = saturateCentred(wrap(wy + mulhs(wu, p.uToB)));
		out[p.order.g] =
			saturateCentred(wrap(wrap(wy + mulhs(wu, p.uToG)) + mulhs(wv, p.vToG)));
		out[p.order.a] = 255;
	}
}

void matrixPlanarScalar(const ColorMatrix &m, const uint8_t *const in[3], uint8_t *const out[3],
			int width)
{
	const auto &c = m.coefficients;
	if (m.kind == MatrixKind::NoClip) {
		for (int i = 0; i < width; i++) {
			int x0 = in[0][i], x1 = in[1][i], x2 = in[2][i];
			int r[3];
			for (int row = 0; row < 3; row++)
				r[row] = (c[row][0] * x0 + c[row][1] * x1 + c[row][2] * x2 +
					  c[row][3]) >>
					 8;
			for (int row = 0; row < 3; row++)
				out[row][i] = static_cast<uint8_t>(r[row]);
		}
		return;
	}
	for (int i = 0; i < width; i++) {
		int16_t x0 = splat(in[0][i]), x1 = splat(in[1][i]), x2 = splat(in[2][i]);
		uint8_t r[3];
		for (int row = 0; row < 3; row++) {
			int16_t sum = wrap(mulhs(x0, static_cast<int16_t>(c[row][0])) +
					   mulhs(x1, static_cast<int16_t>(c[row][1])));
			sum = wrap(sum + mulhs(x2, static_cast<int16_t>(c[row][2])));
			r[row] = saturateCentred(sum);
		}
		for (int row = 0; row < 3; row++)
			out[row][i] = r[row];
	}
}

void blend31Scalar(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width)
{
	for (int i = 0; i < width; i++)
		dst[i] = static_cast<uint8_t>((3 * a[i] + b[i] + 2) >> 2);
}

void averageScalar(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width)
{
	for (int i = 0; i < width; i++)
		dst[i] = static_cast<uint8_t>((a[i] + b[i] + 1) >> 1);
}

void upsampleHScalar(const uint8_t *c, uint8_t *dst, int width, bool cosited)
{
	/* Pixels the filter leaves alone keep their own sample, as after
	 * videoconvert's nearest unpacking. */
	for (int i = 0; i < width; i++)
		dst[i] = c[i >> 1];
	if (cosited) {
		for (int i = 1; i < width - 1; i += 2)
			dst[i] = static_cast<uint8_t>((c[(i - 1) >> 1] + c[(i + 1) >> 1] + 1) >> 1);
		return;
	}
	for (int i = 1; i < width - 1; i += 2) {
		int a = c[(i - 1) >> 1], b = c[(i + 1) >> 1];
		dst[i] = static_cast<uint8_t>((3 * a + b + 2) >> 2);
		dst[i + 1] = static_cast<uint8_t>((a + 3 * b + 2) >> 2);
	}
}

/* Pixel @i of upsampleH over the samples c[0], c[step], c[2 * step] ... */
inline uint8_t upsampledPixel(const uint8_t *c, int step, int i, int width, bool cosited)
{
	int k = i >> 1;
	int here = c[k * step];
	bool between = (i & 1) && i < width - 1;
	if (cosited)
		return between ? static_cast<uint8_t>((here + c[(k + 1) * step] + 1) >> 1)
			       : static_cast<uint8_t>(here);
	if (between)
		return static_cast<uint8_t>((3 * here + c[(k + 1) * step] + 2) >> 2);
	if (i & 1 || i == 0)
		return static_cast<uint8_t>(here);
	return static_cast<uint8_t>((c[(k - 1) * step] + 3 * here + 2) >> 2);
}

void upsampleHInterleavedScalar(const uint8_t *uv, uint8_t *u, uint8_t *v, int from, int to,
				int width, bool cosited)
{
	for (int i = from; i < to; i++) {
		u[i] = upsampledPixel(uv, 2, i, width, cosited);
		v[i] = upsampledPixel(uv + 1, 2, i, width, cosited);
	}
}

void upsampleNearestScalar(const uint8_t *c, uint8_t *dst, int width)
{
	for (int i = 0; i < width; i++)
		dst[i] = c[i >> 1];
}

void downsampleHScalar(const uint8_t *p, uint8_t *c, int width, bool cosited)
{
	int n = (width + 1) / 2;
	for (int k = 0; k < n; k++)
		c[k] = p[2 * k];
	if (!cosited) {
		for (int k = 0; k < width / 2; k++)
			c[k] = static_cast<uint8_t>((p[2 * k] + p[2 * k + 1] + 1) >> 1);
		return;
	}
	if (width < 2)
		return;
	c[0] = static_cast<uint8_t>((3 * p[0] + p[1] + 2) >> 2);
	int i = 2;
	for (; i < width - 2; i += 2)
		c[i / 2] = static_cast<uint8_t>((p[i - 1] + 2 * p[i] + p[i + 1] + 2) >> 2);
	if (i < width)
		c[i / 2] = static_cast<uint8_t>((p[i - 1] + 3 * p[i] + 2) >> 2);
}

enum class Isa { Scalar, Sse2, Avx2, Avx512 };

Isa detect()
{
#if ZCCONVERT_HAVE_X86
	if (x86::haveAvx512())
		return Isa::Avx512;
	if (x86::haveAvx2())
		return Isa::Avx2;
	return Isa::Sse2;
#else
	return Isa::Scalar;
#endif
}

std::atomic<bool> scalarForced{ false };

Isa isa()
{
	static const Isa detected = detect();
	return scalarForced.load(std::memory_order_relaxed) ? Isa::Scalar : detected;
}

} /* namespace */

YuvToRgb makeYuvToRgb(const ColorMatrix &m, RgbOrder order)
{
	const auto &c = m.coefficients;
	/* Rows are R, G, B; columns Y, U, V. */
	return YuvToRgb{ static_cast<int16_t>(c[0][0]), static_cast<int16_t>(c[0][2]),
			 static_cast<int16_t>(c[2][1]), static_cast<int16_t>(c[1][1]),
			 static_cast<int16_t>(c[1][2]), order };
}

void yuvToRgb(const YuvToRgb &params, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
	      const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width, bool stream)
{
	int done = 0;
#if ZCCONVERT_HAVE_X86
	switch (isa()) {
	case Isa::Avx512:
		done = x86::yuvToRgbAvx512(params, y, u0, v0, u1, v1, dst, width, stream);
		break;
	case Isa::Avx2:
		done = x86::yuvToRgbAvx2(params, y, u0, v0, u1, v1, dst, width, stream);
		break;
	case Isa::Sse2:
		done = x86::yuvToRgbSse2(params, y, u0, v0, u1, v1, dst, width);
		break;
	case Isa::Scalar:
		break;
	}
#endif
	if (done < width)
		yuvToRgbScalar(params, y + done, u0 + done, v0 + done, u1 ? u1 + done : nullptr,
			       v1 ? v1 + done : nullptr, dst + 4 * done, width - done);
}

void matrixPlanar(const ColorMatrix &matrix, const uint8_t *const in[3], uint8_t *const out[3],
		  int width)
{
	matrixPlanarScalar(matrix, in, out, width);
}

void blend31(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width)
{
	int done = 0;
#if ZCCONVERT_HAVE_X86
	if (isa() != Isa::Scalar)
		done = x86::blend31Sse2(a, b, dst, width);
#endif
	blend31Scalar(a + done, b + done, dst + done, width - done);
}

void average(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width)
{
	int done = 0;
#if ZCCONVERT_HAVE_X86
	if (isa() != Isa::Scalar)
		done = x86::averageSse2(a, b, dst, width);
#endif
	averageScalar(a + done, b + done, dst + done, width - done);
}

void upsampleH(const uint8_t *chroma, uint8_t *dst, int width, bool cosited)
{
#if ZCCONVERT_HAVE_X86
	if (isa() != Isa::Scalar && x86::upsampleHSse2(chroma, dst, width, cosited))
		return;
#endif
	upsampleHScalar(chroma, dst, width, cosited);
}

void upsampleHInterleaved(const uint8_t *uv, uint8_t *u, uint8_t *v, int width, bool cosited)
{
	int pairs = 0;
#if ZCCONVERT_HAVE_X86
	switch (isa()) {
	case Isa::Avx512:
		pairs = x86::upsampleHInterleavedAvx512(uv, u, v, width, cosited);
		break;
	case Isa::Avx2:
		pairs = x86::upsampleHInterleavedAvx2(uv, u, v, width, cosited);
		break;
	case Isa::Sse2:
		pairs = x86::upsampleHInterleavedSse2(uv, u, v, width, cosited);
		break;
	case Isa::Scalar:
		break;
	}
#endif
	if (!pairs) {
		upsampleHInterleavedScalar(uv, u, v, 0, width, width, cosited);
		return;
	}
	/* The SIMD forms leave a centred row's first pixel and the tail. */
	int off = cosited ? 0 : 1;
	upsampleHInterleavedScalar(uv, u, v, 0, off, width, cosited);
	upsampleHInterleavedScalar(uv, u, v, 2 * pairs + off, width, width, cosited);
}

void upsampleNearest(const uint8_t *chroma, uint8_t *dst, int width)
{
	int done = 0;
#if ZCCONVERT_HAVE_X86
	if (isa() != Isa::Scalar)
		done = x86::upsampleNearestSse2(chroma, dst, width);
#endif
	upsampleNearestScalar(chroma + done / 2, dst + done, width - done);
}

void downsampleH(const uint8_t *src, uint8_t *chroma, int width, bool cosited)
{
	downsampleHScalar(src, chroma, width, cosited);
}

const char *implementation()
{
	switch (isa()) {
	case Isa::Avx512:
		return "avx512";
	case Isa::Avx2:
		return "avx2";
	case Isa::Sse2:
		return "sse2";
	case Isa::Scalar:
		break;
	}
	return "scalar";
}

void forceScalar(bool scalar)
{
	scalarForced.store(scalar, std::memory_order_relaxed);
}

} /* namespace zcbuf::convert::kernels */
