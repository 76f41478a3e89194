/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A JPEG's restart intervals as independent pictures. At a restart marker
 * (RSTn) the entropy decoder starts afresh: DC predictions reset, the bit
 * buffer is byte-aligned. When every interval covers whole MCU rows, the
 * rows of a run of intervals are a picture of their own: the same headers
 * with the frame height of those rows, the intervals' entropy data with
 * their markers renumbered from RST0, and an EOI. libjpeg decodes each such
 * band exactly as it decodes those rows of the whole image (the raw output
 * zcjpegdec uses has no filter across blocks), so bands can be decoded on
 * several threads into their rows of one frame.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace zcbuf::jpeg {

struct RestartIntervals {
	unsigned width = 0;
	unsigned height = 0;
	/* Rows of pixels per interval (whole MCU rows). */
	unsigned rowsPerInterval = 0;
	/* Everything before the entropy data: SOI up to the end of SOS. */
	std::size_t headerEnd = 0;
	/* Offset of the SOF's 16-bit height field. */
	std::size_t heightField = 0;
	/* Offset of each RST marker's 0xFF, in order. */
	std::vector<std::size_t> markers;
	/* Offset of the EOI marker's 0xFF (the end of the entropy data). */
	std::size_t end = 0;

	unsigned count() const { return static_cast<unsigned>(markers.size() + 1); }
};

/*
 * Finds the restart intervals of the baseline (or extended sequential,
 * Huffman-coded) single-scan image in @data. False, with the reason in
 * @why, when the image cannot be split: no DRI, intervals that are not
 * whole MCU rows, progressive or arithmetic coding, several scans, or
 * markers missing or out of sequence (damage: the whole-image decode
 * reports it).
 */
bool findRestartIntervals(const std::uint8_t *data, std::size_t size, RestartIntervals *out,
			  std::string *why);

/* The picture of intervals [@first, @end): written to @jpeg; its rows
 * start at *@top and number *@rows (coded size, before any IDCT scaling). */
void restartBand(const std::uint8_t *data, const RestartIntervals &intervals, unsigned first,
		 unsigned end, std::vector<std::uint8_t> *jpeg, unsigned *top, unsigned *rows);

} /* namespace zcbuf::jpeg */
