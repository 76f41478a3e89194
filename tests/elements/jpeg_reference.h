/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libjpeg's own raw decode of a JPEG (no upsampling, no colour conversion),
 * the reference zcjpegdec's planes are compared with, also for the scaled
 * IDCT that jpegdec does not have.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gst/gst.h>

#include "media.h"

namespace zcbuf::test {

struct ReferenceImage {
	int width = 0;
	int height = 0;
	/* One plane per JPEG component at the size libjpeg decodes it to
	 * (for scaled 4:2:0 images libjpeg decodes chroma at luma size). */
	std::vector<Plane> components;
	std::string error;
};

/*
 * Encodes a raw I420, Y42B, Y444 or GRAY8 sample as a 4:2:0, 4:2:2, 4:4:4
 * or greyscale JPEG. Unlike jpegenc, which feeds libjpeg the padding
 * beyond odd frame edges (uninitialised bytes to valgrind), it repeats the
 * last row and column into libjpeg's whole blocks. Empty on error.
 */
enum class Coding { Baseline, Progressive, Arithmetic };
/* Restart markers: every @restart.rows MCU rows (libjpeg's
 * restart_in_rows), or every @restart.mcus MCUs; none when both are 0. */
struct Restarts {
	int rows = 0;
	int mcus = 0;
};
std::vector<std::uint8_t> referenceEncode(GstSample *raw, int quality,
					  Coding coding = Coding::Baseline, Restarts restart = {});

/* @dct is a J_DCT_METHOD; jpegdec's and zcjpegdec's default is JDCT_IFAST. */
ReferenceImage referenceDecode(GstBuffer *jpeg, unsigned scaleDenom, int dct);

/* Averages @plane down to @width x @height with factors 1 or 2 (a box
 * over the samples that exist), as a chroma resampling reference. */
Plane boxDown(const Plane &plane, int width, int height);

/* The largest absolute difference between two planes of the same size. */
int maxDifference(const Plane &a, const Plane &b);

} /* namespace zcbuf::test */
