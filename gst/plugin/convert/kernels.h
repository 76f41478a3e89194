/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Row kernels of zcconvert that libyuv has no bit-compatible equivalent
 * for: the colour matrices in videoconvert's 8-bit arithmetic (libyuv's
 * YUV-to-RGB rows keep 6-bit chroma coefficients that saturate at 2.0, so
 * BT.709's blue (2.11) comes out up to 12 levels off, and it has no BT.709
 * or BT.2020 RGB-to-YUV rows) and the chroma resampling filters of
 * GStreamer's video-chroma.c. Everything else (plane copies, splitting and
 * merging, packing 4:2:2, averaging rows, scaling) is libyuv's.
 *
 * Each kernel has a portable scalar form; the hot ones also have SSE2, AVX2
 * and (YUV to RGB) AVX-512BW forms (zcconvert-kernels-x86.cpp) chosen once
 * at run time. All forms give identical bytes: the tests compare them.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "convert/matrix.h"

namespace zcbuf::convert::kernels {

/* Byte positions of R, G, B and A inside a 4-byte RGB pixel. */
struct RgbOrder {
	int r, g, b, a;
};

/*
 * YUV to 4-byte RGB with videoconvert's "AYUV to ARGB" arithmetic (the
 * MatrixKind::YuvToRgb coefficients). @u1/@v1 are the neighbouring chroma
 * rows of a vertical 2x upsampling: when not null the chroma used is
 * (3 * u0 + u1 + 2) >> 2, the filter of video-chroma.c. Alpha is 255.
 * @stream asks for non-temporal stores, for frames much larger than the
 * caches (where they save reading every destination line first).
 */
struct YuvToRgb {
	int16_t yCoeff, vToR, uToB, uToG, vToG;
	RgbOrder order;
};
YuvToRgb makeYuvToRgb(const ColorMatrix &matrix, RgbOrder order);
void yuvToRgb(const YuvToRgb &params, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
	      const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width, bool stream = false);

/* Planar 3-component matrix for MatrixKind::NoClip and ::Clipping; @in and
 * @out may be the same rows. */
void matrixPlanar(const ColorMatrix &matrix, const uint8_t *const in[3], uint8_t *const out[3],
		  int width);

/* (3 * a + b + 2) >> 2 per byte: vertical 2x chroma upsampling. */
void blend31(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width);
/* (a + b + 1) >> 1 per byte: vertical 2x chroma downsampling. */
void average(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width);

/*
 * Horizontal 2x chroma upsampling of (@width + 1) / 2 samples to @width
 * (video-chroma.c's up_h2 and up_h2_cs, edges included). Cosited: even
 * pixels take the sample, odd ones the average of their neighbours.
 * Centred: every pixel mixes its sample and the nearer neighbour 3:1.
 */
void upsampleH(const uint8_t *chroma, uint8_t *dst, int width, bool cosited);

/* upsampleH of both components of an interleaved (NV12) chroma row of
 * (@width + 1) / 2 U, V pairs, without splitting it first. */
void upsampleHInterleaved(const uint8_t *uv, uint8_t *u, uint8_t *v, int width, bool cosited);

/* Each of (@width + 1) / 2 samples for two pixels (videoconvert's nearest
 * unpacking of subsampled chroma). */
void upsampleNearest(const uint8_t *chroma, uint8_t *dst, int width);

/* Horizontal 2x chroma downsampling of @width samples to (@width + 1) / 2
 * (down_h2 and down_h2_cs of video-chroma.c, edges included). */
void downsampleH(const uint8_t *src, uint8_t *chroma, int width, bool cosited);

/* What the kernels run on ("avx512", "avx2", "sse2" or "scalar"), and forcing the
 * scalar forms (for the tests). */
const char *implementation();
void forceScalar(bool scalar);

} /* namespace zcbuf::convert::kernels */
