/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SSE2, AVX2 and AVX-512BW forms of the hot row kernels (zcconvert-kernels.h
 * says what they compute). Each returns how many pixels it did; the caller
 * finishes the row with the scalar form. AVX2 and AVX-512 are used only
 * where the CPU has them.
 */
#pragma once

#include <cstdint>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
#define ZCCONVERT_HAVE_X86 1
#else
#define ZCCONVERT_HAVE_X86 0
#endif

#if ZCCONVERT_HAVE_X86

#include "convert/kernels.h"

namespace zcbuf::convert::kernels::x86 {

bool haveAvx2();
bool haveAvx512();

int yuvToRgbSse2(const YuvToRgb &params, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		 const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width);
/* @stream: non-temporal stores where the row is aligned for them. */
int yuvToRgbAvx2(const YuvToRgb &params, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		 const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width, bool stream);

int yuvToRgbAvx512(const YuvToRgb &params, const uint8_t *y, const uint8_t *u0,
		   const uint8_t *v0, const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width,
		   bool stream);

/*
 * upsampleH of an interleaved (NV12) chroma row into a U and a V row. They
 * return how many leading pairs k they did; that is pixels off to
 * 2k + off - 1, off being 0 cosited and 1 centred (whose first pixel is
 * left to the caller); 0 when the row is too short for a step.
 */
int upsampleHInterleavedSse2(const uint8_t *uv, uint8_t *u, uint8_t *v, int width, bool cosited);
int upsampleHInterleavedAvx2(const uint8_t *uv, uint8_t *u, uint8_t *v, int width, bool cosited);
int upsampleHInterleavedAvx512(const uint8_t *uv, uint8_t *u, uint8_t *v, int width,
			       bool cosited);

int blend31Sse2(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width);
int averageSse2(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width);

/* Does an even number of pixels. */
int upsampleNearestSse2(const uint8_t *chroma, uint8_t *dst, int width);

/* The whole row, or false for rows too short to be worth it. */
bool upsampleHSse2(const uint8_t *chroma, uint8_t *dst, int width, bool cosited);

} /* namespace zcbuf::convert::kernels::x86 */

#endif
