/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SSE2, AVX2 and AVX-512BW row kernels. The YUV-to-RGB kernel is the ORC program of
 * videoconvert (video_orc_convert_AYUV_ARGB) in intrinsics: splatting a
 * centred byte into a word is an unpack of the byte with itself, the high
 * multiply is pmulhw, the sums wrap (paddw) and the result saturates with
 * packsswb; so these forms equal the scalar one bit for bit.
 */
#include "convert/kernels_x86.h"

#if ZCCONVERT_HAVE_X86

#include <immintrin.h>

namespace zcbuf::convert::kernels::x86 {

bool haveAvx2()
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

namespace {

/* (3 * a + b + 2) >> 2 on 16 bytes, through 16-bit lanes. */
inline __m128i blend31x16(__m128i a, __m128i b)
{
	const __m128i zero = _mm_setzero_si128(), two = _mm_set1_epi16(2);
	__m128i lo = _mm_unpacklo_epi8(a, zero), hi = _mm_unpackhi_epi8(a, zero);
	lo = _mm_add_epi16(_mm_add_epi16(lo, _mm_add_epi16(lo, lo)),
			   _mm_add_epi16(_mm_unpacklo_epi8(b, zero), two));
	hi = _mm_add_epi16(_mm_add_epi16(hi, _mm_add_epi16(hi, hi)),
			   _mm_add_epi16(_mm_unpackhi_epi8(b, zero), two));
	return _mm_packus_epi16(_mm_srli_epi16(lo, 2), _mm_srli_epi16(hi, 2));
}

/* (3 * a + b + 2) >> 2 on 32 bytes without leaving bytes: with
 * t = avg(a, b) (rounding up), avg(a, t) is the blend except that it is one
 * too high exactly when a + b is odd and a + t is odd (checked for all
 * 65536 pairs by the kernel test), so it costs two pavgb, the parity
 * correction and a subtraction instead of widening to words. */
__attribute__((target("avx2"))) inline __m256i blend31x32(__m256i a, __m256i b)
{
	const __m256i one = _mm256_set1_epi8(1);
	__m256i t = _mm256_avg_epu8(a, b);
	__m256i odd = _mm256_and_si256(_mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(a, t)),
				       one);
	return _mm256_sub_epi8(_mm256_avg_epu8(a, t), odd);
}

} /* namespace */

namespace {

/* The byte order is a template parameter: with it known at compile time
 * the four component vectors stay in registers. BGRx/BGRA put blue first,
 * RGBx/RGBA red; alpha is always last. */
template <bool RedFirst>
int yuvToRgbSse2T(const YuvToRgb &p, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		  const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width)
{
	const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
	const __m128i alpha = _mm_set1_epi8(static_cast<char>(0xff));
	const __m128i cy = _mm_set1_epi16(p.yCoeff), cvr = _mm_set1_epi16(p.vToR),
		      cub = _mm_set1_epi16(p.uToB), cug = _mm_set1_epi16(p.uToG),
		      cvg = _mm_set1_epi16(p.vToG);
	int i = 0;
	for (; i + 16 <= width; i += 16) {
		__m128i vy = _mm_loadu_si128(reinterpret_cast<const __m128i *>(y + i));
		__m128i vu = _mm_loadu_si128(reinterpret_cast<const __m128i *>(u0 + i));
		__m128i vv = _mm_loadu_si128(reinterpret_cast<const __m128i *>(v0 + i));
		if (u1) {
			vu = blend31x16(vu, _mm_loadu_si128(reinterpret_cast<const __m128i *>(u1 + i)));
			vv = blend31x16(vv, _mm_loadu_si128(reinterpret_cast<const __m128i *>(v1 + i)));
		}
		vy = _mm_xor_si128(vy, bias);
		vu = _mm_xor_si128(vu, bias);
		vv = _mm_xor_si128(vv, bias);

		__m128i rgb[3][2];
		for (int half = 0; half < 2; half++) {
			__m128i sy = half ? _mm_unpackhi_epi8(vy, vy) : _mm_unpacklo_epi8(vy, vy);
			__m128i su = half ? _mm_unpackhi_epi8(vu, vu) : _mm_unpacklo_epi8(vu, vu);
			__m128i sv = half ? _mm_unpackhi_epi8(vv, vv) : _mm_unpacklo_epi8(vv, vv);
			__m128i wy = _mm_mulhi_epi16(sy, cy);
			rgb[0][half] = _mm_add_epi16(wy, _mm_mulhi_epi16(sv, cvr));
			rgb[1][half] = _mm_add_epi16(_mm_add_epi16(wy, _mm_mulhi_epi16(su, cug)),
						     _mm_mulhi_epi16(sv, cvg));
			rgb[2][half] = _mm_add_epi16(wy, _mm_mulhi_epi16(su, cub));
		}
		__m128i r = _mm_xor_si128(_mm_packs_epi16(rgb[0][0], rgb[0][1]), bias);
		__m128i g = _mm_xor_si128(_mm_packs_epi16(rgb[1][0], rgb[1][1]), bias);
		__m128i b = _mm_xor_si128(_mm_packs_epi16(rgb[2][0], rgb[2][1]), bias);

		__m128i first = RedFirst ? r : b, third = RedFirst ? b : r;
		__m128i lo01 = _mm_unpacklo_epi8(first, g), hi01 = _mm_unpackhi_epi8(first, g);
		__m128i lo23 = _mm_unpacklo_epi8(third, alpha), hi23 = _mm_unpackhi_epi8(third, alpha);
		__m128i *out = reinterpret_cast<__m128i *>(dst + 4 * i);
		_mm_storeu_si128(out + 0, _mm_unpacklo_epi16(lo01, lo23));
		_mm_storeu_si128(out + 1, _mm_unpackhi_epi16(lo01, lo23));
		_mm_storeu_si128(out + 2, _mm_unpacklo_epi16(hi01, hi23));
		_mm_storeu_si128(out + 3, _mm_unpackhi_epi16(hi01, hi23));
	}
	return i;
}

} /* namespace */

int yuvToRgbSse2(const YuvToRgb &p, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		 const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width)
{
	return p.order.r == 0 ? yuvToRgbSse2T<true>(p, y, u0, v0, u1, v1, dst, width)
			      : yuvToRgbSse2T<false>(p, y, u0, v0, u1, v1, dst, width);
}

namespace {

/* A non-temporal store (the row is aligned for it) or a plain one. */
template <bool Stream>
__attribute__((target("avx2"))) inline void store(__m256i *at, __m256i value)
{
	if (Stream)
		_mm256_stream_si256(at, value);
	else
		_mm256_storeu_si256(at, value);
}

template <bool RedFirst, bool Stream, bool Blend>
__attribute__((target("avx2"))) int yuvToRgbAvx2T(const YuvToRgb &p, const uint8_t *y,
						   const uint8_t *u0, const uint8_t *v0,
						   const uint8_t *u1, const uint8_t *v1,
						   uint8_t *dst, int width)
{
	const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
	const __m256i alpha = _mm256_set1_epi8(static_cast<char>(0xff));
	const __m256i cy = _mm256_set1_epi16(p.yCoeff), cvr = _mm256_set1_epi16(p.vToR),
		      cub = _mm256_set1_epi16(p.uToB), cug = _mm256_set1_epi16(p.uToG),
		      cvg = _mm256_set1_epi16(p.vToG);
	int i = 0;
	for (; i + 32 <= width; i += 32) {
		__m256i vy = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y + i));
		__m256i vu = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(u0 + i));
		__m256i vv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(v0 + i));
		if (Blend) {
			vu = blend31x32(vu, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(u1 + i)));
			vv = blend31x32(vv, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(v1 + i)));
		}
		vu = _mm256_xor_si256(vu, bias);
		vv = _mm256_xor_si256(vv, bias);
		const __m256i su2[2] = { _mm256_unpacklo_epi8(vu, vu), _mm256_unpackhi_epi8(vu, vu) };
		const __m256i sv2[2] = { _mm256_unpacklo_epi8(vv, vv), _mm256_unpackhi_epi8(vv, vv) };
		vy = _mm256_xor_si256(vy, bias);

		/* Unpacks and packs work inside 128-bit lanes: the pair keeps
		 * the pixel order. */
		__m256i rgb[3][2];
		for (int half = 0; half < 2; half++) {
			__m256i sy = half ? _mm256_unpackhi_epi8(vy, vy) : _mm256_unpacklo_epi8(vy, vy);
			__m256i su = su2[half];
			__m256i sv = sv2[half];
			__m256i wy = _mm256_mulhi_epi16(sy, cy);
			rgb[0][half] = _mm256_add_epi16(wy, _mm256_mulhi_epi16(sv, cvr));
			rgb[1][half] =
				_mm256_add_epi16(_mm256_add_epi16(wy, _mm256_mulhi_epi16(su, cug)),
						 _mm256_mulhi_epi16(sv, cvg));
			rgb[2][half] = _mm256_add_epi16(wy, _mm256_mulhi_epi16(su, cub));
		}
		__m256i r = _mm256_xor_si256(_mm256_packs_epi16(rgb[0][0], rgb[0][1]), bias);
		__m256i g = _mm256_xor_si256(_mm256_packs_epi16(rgb[1][0], rgb[1][1]), bias);
		__m256i b = _mm256_xor_si256(_mm256_packs_epi16(rgb[2][0], rgb[2][1]), bias);

		__m256i first = RedFirst ? r : b, third = RedFirst ? b : r;
		__m256i lo01 = _mm256_unpacklo_epi8(first, g);
		__m256i hi01 = _mm256_unpackhi_epi8(first, g);
		__m256i lo23 = _mm256_unpacklo_epi8(third, alpha);
		__m256i hi23 = _mm256_unpackhi_epi8(third, alpha);
		/* Per lane: pixels 0-3, 4-7, 8-11, 12-15 of that lane. */
		__m256i q0 = _mm256_unpacklo_epi16(lo01, lo23);
		__m256i q1 = _mm256_unpackhi_epi16(lo01, lo23);
		__m256i q2 = _mm256_unpacklo_epi16(hi01, hi23);
		__m256i q3 = _mm256_unpackhi_epi16(hi01, hi23);
		__m256i *out = reinterpret_cast<__m256i *>(dst + 4 * i);
		__m256i o0 = _mm256_permute2x128_si256(q0, q1, 0x20);
		__m256i o1 = _mm256_permute2x128_si256(q2, q3, 0x20);
		__m256i o2 = _mm256_permute2x128_si256(q0, q1, 0x31);
		__m256i o3 = _mm256_permute2x128_si256(q2, q3, 0x31);
		store<Stream>(out + 0, o0);
		store<Stream>(out + 1, o1);
		store<Stream>(out + 2, o2);
		store<Stream>(out + 3, o3);
	}
	/* The SSE2 form takes what is left in blocks of 16. */
	return i + yuvToRgbSse2(p, y + i, u0 + i, v0 + i, u1 ? u1 + i : nullptr,
				v1 ? v1 + i : nullptr, dst + 4 * i, width - i);
}

} /* namespace */

namespace {

#define ZC_AVX512 __attribute__((target("avx512f,avx512bw")))

template <bool Stream>
ZC_AVX512 inline void store(__m512i *at, __m512i value)
{
	if (Stream)
		_mm512_stream_si512(at, value);
	else
		_mm512_storeu_si512(at, value);
}

/* blend31x32 at 64 bytes; one ternary-logic op makes (a ^ b) & (a ^ t). */
ZC_AVX512 inline __m512i blend31x64(__m512i a, __m512i b)
{
	const __m512i one = _mm512_set1_epi8(1);
	__m512i t = _mm512_avg_epu8(a, b);
	/* 0x18 is (A ^ B) & (A ^ C) of the operands A, B, C. */
	__m512i odd = _mm512_and_si512(_mm512_ternarylogic_epi32(a, b, t, 0x18), one);
	return _mm512_sub_epi8(_mm512_avg_epu8(a, t), odd);
}

/* The AVX2 kernel at 64 pixels a step; the interleaved pixels come out of
 * the lane-wise unpacks as a 4x4 matrix of 128-bit lanes, transposed with
 * two rounds of two-source qword permutes. */
template <bool RedFirst, bool Stream, bool Blend>
ZC_AVX512 int yuvToRgbAvx512T(const YuvToRgb &p, const uint8_t *y, const uint8_t *u0,
			      const uint8_t *v0, const uint8_t *u1, const uint8_t *v1, uint8_t *dst,
			      int width)
{
	const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
	const __m512i alpha = _mm512_set1_epi8(static_cast<char>(0xff));
	const __m512i cy = _mm512_set1_epi16(p.yCoeff), cvr = _mm512_set1_epi16(p.vToR),
		      cub = _mm512_set1_epi16(p.uToB), cug = _mm512_set1_epi16(p.uToG),
		      cvg = _mm512_set1_epi16(p.vToG);
	/* Qword indices: lanes 0-1 (2-3) of both sources; then lanes 0 and 2
	 * (1 and 3) of both. */
	const __m512i lanes01 = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
	const __m512i lanes23 = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
	const __m512i evenLanes = _mm512_set_epi64(13, 12, 9, 8, 5, 4, 1, 0);
	const __m512i oddLanes = _mm512_set_epi64(15, 14, 11, 10, 7, 6, 3, 2);
	int i = 0;
	for (; i + 64 <= width; i += 64) {
		__m512i vy = _mm512_loadu_si512(y + i);
		__m512i vu = _mm512_loadu_si512(u0 + i);
		__m512i vv = _mm512_loadu_si512(v0 + i);
		if (Blend) {
			vu = blend31x64(vu, _mm512_loadu_si512(u1 + i));
			vv = blend31x64(vv, _mm512_loadu_si512(v1 + i));
		}
		vu = _mm512_xor_si512(vu, bias);
		vv = _mm512_xor_si512(vv, bias);
		const __m512i su2[2] = { _mm512_unpacklo_epi8(vu, vu), _mm512_unpackhi_epi8(vu, vu) };
		const __m512i sv2[2] = { _mm512_unpacklo_epi8(vv, vv), _mm512_unpackhi_epi8(vv, vv) };
		vy = _mm512_xor_si512(vy, bias);
		__m512i rgb[3][2];
		for (int half = 0; half < 2; half++) {
			__m512i sy = half ? _mm512_unpackhi_epi8(vy, vy) : _mm512_unpacklo_epi8(vy, vy);
			__m512i su = su2[half], sv = sv2[half];
			__m512i wy = _mm512_mulhi_epi16(sy, cy);
			rgb[0][half] = _mm512_add_epi16(wy, _mm512_mulhi_epi16(sv, cvr));
			rgb[1][half] = _mm512_add_epi16(_mm512_add_epi16(wy, _mm512_mulhi_epi16(su, cug)),
							_mm512_mulhi_epi16(sv, cvg));
			rgb[2][half] = _mm512_add_epi16(wy, _mm512_mulhi_epi16(su, cub));
		}
		__m512i r = _mm512_xor_si512(_mm512_packs_epi16(rgb[0][0], rgb[0][1]), bias);
		__m512i g = _mm512_xor_si512(_mm512_packs_epi16(rgb[1][0], rgb[1][1]), bias);
		__m512i b = _mm512_xor_si512(_mm512_packs_epi16(rgb[2][0], rgb[2][1]), bias);
		__m512i first = RedFirst ? r : b, third = RedFirst ? b : r;
		__m512i lo01 = _mm512_unpacklo_epi8(first, g), hi01 = _mm512_unpackhi_epi8(first, g);
		__m512i lo23 = _mm512_unpacklo_epi8(third, alpha), hi23 = _mm512_unpackhi_epi8(third, alpha);
		__m512i q0 = _mm512_unpacklo_epi16(lo01, lo23), q1 = _mm512_unpackhi_epi16(lo01, lo23);
		__m512i q2 = _mm512_unpacklo_epi16(hi01, hi23), q3 = _mm512_unpackhi_epi16(hi01, hi23);
		__m512i t0 = _mm512_permutex2var_epi64(q0, lanes01, q1);
		__m512i t1 = _mm512_permutex2var_epi64(q2, lanes01, q3);
		__m512i t2 = _mm512_permutex2var_epi64(q0, lanes23, q1);
		__m512i t3 = _mm512_permutex2var_epi64(q2, lanes23, q3);
		__m512i o0 = _mm512_permutex2var_epi64(t0, evenLanes, t1);
		__m512i o1 = _mm512_permutex2var_epi64(t0, oddLanes, t1);
		__m512i o2 = _mm512_permutex2var_epi64(t2, evenLanes, t3);
		__m512i o3 = _mm512_permutex2var_epi64(t2, oddLanes, t3);
		/* Written out, not looped over an array: GCC 12 kept such an
		 * array on the stack and copied it through memory. */
		__m512i *out = reinterpret_cast<__m512i *>(dst + 4 * i);
		store<Stream>(out + 0, o0);
		store<Stream>(out + 1, o1);
		store<Stream>(out + 2, o2);
		store<Stream>(out + 3, o3);
	}
	return i;
}

} /* namespace */

int yuvToRgbAvx2(const YuvToRgb &p, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		 const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width, bool stream)
{
	/* Streaming stores need 32-byte aligned rows; they skip reading
	 * the destination lines into the cache before writing them. */
	stream = stream && (reinterpret_cast<uintptr_t>(dst) & 31) == 0;
	using Kernel = int (*)(const YuvToRgb &, const uint8_t *, const uint8_t *, const uint8_t *,
			       const uint8_t *, const uint8_t *, uint8_t *, int);
	/* [red first][stream][blend] */
	static const Kernel kernels[2][2][2] = {
		{ { yuvToRgbAvx2T<false, false, false>, yuvToRgbAvx2T<false, false, true> },
		  { yuvToRgbAvx2T<false, true, false>, yuvToRgbAvx2T<false, true, true> } },
		{ { yuvToRgbAvx2T<true, false, false>, yuvToRgbAvx2T<true, false, true> },
		  { yuvToRgbAvx2T<true, true, false>, yuvToRgbAvx2T<true, true, true> } },
	};
	int done = kernels[p.order.r == 0][stream][u1 != nullptr](p, y, u0, v0, u1, v1, dst, width);
	/* Streaming stores are weakly ordered: fence them before anyone
	 * else can look at the row. */
	if (stream)
		_mm_sfence();
	return done;
}

bool haveAvx512()
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

int yuvToRgbAvx512(const YuvToRgb &p, const uint8_t *y, const uint8_t *u0, const uint8_t *v0,
		   const uint8_t *u1, const uint8_t *v1, uint8_t *dst, int width, bool stream)
{
	stream = stream && (reinterpret_cast<uintptr_t>(dst) & 63) == 0;
	using Kernel = int (*)(const YuvToRgb &, const uint8_t *, const uint8_t *, const uint8_t *,
			       const uint8_t *, const uint8_t *, uint8_t *, int);
	static const Kernel kernels[2][2][2] = {
		{ { yuvToRgbAvx512T<false, false, false>, yuvToRgbAvx512T<false, false, true> },
		  { yuvToRgbAvx512T<false, true, false>, yuvToRgbAvx512T<false, true, true> } },
		{ { yuvToRgbAvx512T<true, false, false>, yuvToRgbAvx512T<true, false, true> },
		  { yuvToRgbAvx512T<true, true, false>, yuvToRgbAvx512T<true, true, true> } },
	};
	int done = kernels[p.order.r == 0][stream][u1 != nullptr](p, y, u0, v0, u1, v1, dst, width);
	/* The rest (under 64 pixels) in AVX2 and SSE2, then the scalar tail
	 * by the caller. */
	done += yuvToRgbAvx2(p, y + done, u0 + done, v0 + done, u1 ? u1 + done : nullptr,
			     v1 ? v1 + done : nullptr, dst + 4 * done, width - done, false);
	if (stream)
		_mm_sfence();
	return done;
}

int blend31Sse2(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width)
{
	int i = 0;
	for (; i + 16 <= width; i += 16)
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i),
				 blend31x16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i)),
					    _mm_loadu_si128(reinterpret_cast<const __m128i *>(b + i))));
	return i;
}

int averageSse2(const uint8_t *a, const uint8_t *b, uint8_t *dst, int width)
{
	int i = 0;
	for (; i + 16 <= width; i += 16)
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i),
				 _mm_avg_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i)),
					      _mm_loadu_si128(reinterpret_cast<const __m128i *>(b + i))));
	return i;
}

int upsampleNearestSse2(const uint8_t *c, uint8_t *dst, int width)
{
	int i = 0;
	for (; i + 32 <= width; i += 32) {
		__m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(c + i / 2));
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_unpacklo_epi8(a, a));
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i + 16), _mm_unpackhi_epi8(a, a));
	}
	return i;
}

bool upsampleHSse2(const uint8_t *c, uint8_t *dst, int width, bool cosited)
{
	/* n samples; the vector loop reads c[k + 16], so it stops 17 short. */
	int n = (width + 1) / 2;
	if (n < 34)
		return false;
	int k = 0;
	if (cosited) {
		/* dst[2k] = c[k], dst[2k + 1] = avg(c[k], c[k + 1]). */
		for (; k + 17 <= n; k += 16) {
			__m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(c + k));
			__m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(c + k + 1));
			__m128i m = _mm_avg_epu8(a, b);
			_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 2 * k),
					 _mm_unpacklo_epi8(a, m));
			_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 2 * k + 16),
					 _mm_unpackhi_epi8(a, m));
		}
		for (int i = 2 * k; i < width; i++) {
			bool between = (i & 1) && i < width - 1;
			dst[i] = between ? static_cast<uint8_t>(
						   (c[(i - 1) >> 1] + c[(i + 1) >> 1] + 1) >> 1)
					 : c[i >> 1];
		}
		return true;
	}
	/* Centred: dst[0] = c[0]; dst[2k + 1] = (3 c[k] + c[k + 1] + 2) >> 2,
	 * dst[2k + 2] = (c[k] + 3 c[k + 1] + 2) >> 2. */
	dst[0] = c[0];
	for (; k + 17 <= n; k += 16) {
		__m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(c + k));
		__m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(c + k + 1));
		__m128i odd = blend31x16(a, b), even = blend31x16(b, a);
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 2 * k + 1),
				 _mm_unpacklo_epi8(odd, even));
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dst + 2 * k + 17),
				 _mm_unpackhi_epi8(odd, even));
	}
	/* Pixels from 2k + 1 on: pairs while 2j + 1 < width - 1, then the
	 * untouched last pixel of an even row. */
	int i = 2 * k + 1;
	for (; i < width - 1; i += 2) {
		int a = c[(i - 1) >> 1], b = c[(i + 1) >> 1];
		dst[i] = static_cast<uint8_t>((3 * a + b + 2) >> 2);
		dst[i + 1] = static_cast<uint8_t>((a + 3 * b + 2) >> 2);
	}
	if (i == width - 1)
		dst[i] = c[i >> 1];
	return true;
}


/*
 * upsampleH of both components of an interleaved chroma row. Per block of
 * pairs k.. the filter gives, per component, the value of pixel 2j + off
 * ("first") and of 2j + off + 1 ("second"): cosited, the sample and the
 * average with the next one (off 0); centred, the 3:1 blends towards
 * either neighbour (off 1). Unpacking first with second pairs them up per
 * 16-bit word, alternating U and V words; the rest sorts the words per
 * component.
 */
namespace {

/* Whether a step of @Pairs pairs from pair @k fits in @n pairs: it reads
 * one pair further. */
template <int Pairs>
constexpr bool fits(int k, int n)
{
	return k + Pairs + 1 <= n;
}

inline void firstSecondSse2(__m128i a, __m128i b, bool cosited, __m128i &first, __m128i &second)
{
	if (cosited) {
		first = a;
		second = _mm_avg_epu8(a, b);
	} else {
		first = blend31x16(a, b);
		second = blend31x16(b, a);
	}
}

} /* namespace */

int upsampleHInterleavedSse2(const uint8_t *uv, uint8_t *u, uint8_t *v, int width, bool cosited)
{
	int n = (width + 1) / 2, off = cosited ? 0 : 1, k = 0;
	const __m128i low = _mm_set1_epi16(0xff);
	auto split = [&](const uint8_t *at, __m128i &cu, __m128i &cv) {
		__m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(at));
		__m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(at + 16));
		cu = _mm_packus_epi16(_mm_and_si128(x0, low), _mm_and_si128(x1, low));
		cv = _mm_packus_epi16(_mm_srli_epi16(x0, 8), _mm_srli_epi16(x1, 8));
	};
	for (; fits<16>(k, n); k += 16) {
		__m128i au, av, bu, bv, first, second;
		split(uv + 2 * k, au, av);
		split(uv + 2 * k + 2, bu, bv);
		uint8_t *du = u + 2 * k + off, *dv = v + 2 * k + off;
		firstSecondSse2(au, bu, cosited, first, second);
		_mm_storeu_si128(reinterpret_cast<__m128i *>(du), _mm_unpacklo_epi8(first, second));
		_mm_storeu_si128(reinterpret_cast<__m128i *>(du + 16), _mm_unpackhi_epi8(first, second));
		firstSecondSse2(av, bv, cosited, first, second);
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dv), _mm_unpacklo_epi8(first, second));
		_mm_storeu_si128(reinterpret_cast<__m128i *>(dv + 16), _mm_unpackhi_epi8(first, second));
	}
	return k;
}

__attribute__((target("avx2"))) int upsampleHInterleavedAvx2(const uint8_t *uv, uint8_t *u,
							     uint8_t *v, int width, bool cosited)
{
	int n = (width + 1) / 2, off = cosited ? 0 : 1, k = 0;
	/* Per 128-bit lane: words 0, 2, 4, 6 (U) first, then 1, 3, 5, 7 (V). */
	const __m256i byComponent = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11,
						     14, 15, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7,
						     10, 11, 14, 15);
	for (; fits<16>(k, n); k += 16) {
		__m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(uv + 2 * k));
		__m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(uv + 2 * k + 2));
		__m256i first = cosited ? a : blend31x32(a, b);
		__m256i second = cosited ? _mm256_avg_epu8(a, b) : blend31x32(b, a);
		/* Lane L of lo holds pairs 8L to 8L + 3, of hi 8L + 4 to 8L + 7. */
		__m256i lo = _mm256_shuffle_epi8(_mm256_unpacklo_epi8(first, second), byComponent);
		__m256i hi = _mm256_shuffle_epi8(_mm256_unpackhi_epi8(first, second), byComponent);
		_mm256_storeu_si256(reinterpret_cast<__m256i *>(u + 2 * k + off),
				    _mm256_unpacklo_epi64(lo, hi));
		_mm256_storeu_si256(reinterpret_cast<__m256i *>(v + 2 * k + off),
				    _mm256_unpackhi_epi64(lo, hi));
	}
	return k;
}

ZC_AVX512 int upsampleHInterleavedAvx512(const uint8_t *uv, uint8_t *u, uint8_t *v, int width,
					 bool cosited)
{
	int n = (width + 1) / 2, off = cosited ? 0 : 1, k = 0;
	/* The AVX2 form's byte indices, as dwords. */
	const __m512i byComponent =
		_mm512_set4_epi32(0x0f0e0b0a, 0x07060302, 0x0d0c0908, 0x05040100);
	/* The AVX2 form, lane for lane, at 32 pairs a step. */
	for (; fits<32>(k, n); k += 32) {
		__m512i a = _mm512_loadu_si512(uv + 2 * k);
		__m512i b = _mm512_loadu_si512(uv + 2 * k + 2);
		__m512i first = cosited ? a : blend31x64(a, b);
		__m512i second = cosited ? _mm512_avg_epu8(a, b) : blend31x64(b, a);
		__m512i lo = _mm512_shuffle_epi8(_mm512_unpacklo_epi8(first, second), byComponent);
		__m512i hi = _mm512_shuffle_epi8(_mm512_unpackhi_epi8(first, second), byComponent);
		/* Masked forms with every lane selected: GCC 12's plain
		 * 64-bit unpacks trip -Wmaybe-uninitialized in its header. */
		_mm512_storeu_si512(u + 2 * k + off, _mm512_mask_unpacklo_epi64(lo, 0xff, lo, hi));
		_mm512_storeu_si512(v + 2 * k + off, _mm512_mask_unpackhi_epi64(lo, 0xff, lo, hi));
	}
	/* The rest in AVX2: from pair k on, the row is a row of its own
	 * whose first pixel the loop above has written. */
	return k + upsampleHInterleavedAvx2(uv + 2 * k, u + 2 * k, v + 2 * k, width - 2 * k, cosited);
}

} /* namespace zcbuf::convert::kernels::x86 */

#endif
