/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg/framing.h"

#include "jpeg/markers.h"

namespace zcbuf::jpeg {

namespace {

/* Markers below SOF0 (0x02-0xBF) are reserved. */
constexpr std::uint8_t kFirstSegmentMarker = 0xc0;

/*
 * Whether the segment at @segment (its marker, then @length bytes from the
 * length field on, then at least one more byte) looks real: a scan header
 * has the length its component count implies, and any other segment is
 * followed by a marker (entropy-coded data follows a scan header).
 */
bool plausibleSegment(const std::uint8_t *segment, std::size_t length)
{
	if (segment[1] == kSos) {
		std::size_t components = segment[4];
		return components >= 1 && components <= 4 && length == 6 + 2 * components;
	}
	return segment[2 + length] == 0xff;
}

} /* namespace */

void Framer::reset()
{
	pos_ = 0;
	started_ = false;
	entropy_ = false;
}

Framer::Result Framer::scan(const std::uint8_t *data, std::size_t size, std::size_t *length,
			    bool final)
{
	if (!started_) {
		std::size_t i = 0;
		while (i + 1 < size && !(data[i] == 0xff && data[i + 1] == kSoi))
			i++;
		if (i + 1 >= size) {
			/* No SOI: all but a last 0xFF (half a marker) is garbage. */
			std::size_t garbage = size && data[size - 1] == 0xff ? size - 1 : size;
			if (!garbage)
				return Result::NeedData;
			*length = garbage;
			return Result::Garbage;
		}
		if (i > 0) {
			*length = i;
			return Result::Garbage;
		}
		started_ = true;
		pos_ = 2;
	}

	for (;;) {
		if (entropy_) {
			/* A marker ends the entropy-coded data, except stuffed
			 * zero bytes, fill bytes and restart markers. */
			while (pos_ + 1 < size) {
				if (data[pos_] != 0xff) {
					pos_++;
					continue;
				}
				std::uint8_t next = data[pos_ + 1];
				if (next == 0xff)
					pos_++;
				else if (next == 0x00 || isRestart(next))
					pos_ += 2;
				else
					break;
			}
			if (pos_ + 1 >= size)
				return Result::NeedData;
			entropy_ = false;
		}

		if (pos_ + 1 >= size)
			return Result::NeedData;
		if (data[pos_] != 0xff) {
			/* Junk between segments: hunt for the next marker, as
			 * libjpeg does (with a warning). */
			pos_++;
			continue;
		}
		std::uint8_t marker = data[pos_ + 1];
		if (marker == 0xff) {
			pos_++;
			continue;
		}
		if (marker == kEoi) {
			*length = pos_ + 2;
			return Result::Frame;
		}
		if (marker == kSoi) {
			*length = pos_;
			return Result::Frame;
		}
		if (marker == 0x00 || marker == kTem || isRestart(marker)) {
			pos_ += 2;
			continue;
		}
		if (marker < kFirstSegmentMarker) {
			/* Reserved: no JPEG has it, so it is damage. */
			pos_ += 2;
			continue;
		}
		if (pos_ + 3 >= size)
			return Result::NeedData;
		std::size_t segment = static_cast<std::size_t>(data[pos_ + 2]) << 8 | data[pos_ + 3];
		if (segment < 2) {
			pos_ += 2;
			continue;
		}
		/* One byte past the segment, to check that a marker follows. */
		if (pos_ + 2 + segment >= size) {
			if (!final)
				return Result::NeedData;
			/* The stream ends inside this "segment": a damaged
			 * length, most likely, that would swallow every
			 * picture after it. Hunt on; a picture really cut
			 * short still ends at the end of the data. */
			pos_ += 2;
			continue;
		}
		if (!plausibleSegment(data + pos_, segment)) {
			/* A damaged region that happens to hold 0xFF and a
			 * length: skipping that length could step over the
			 * next images. Hunt for the next marker instead, as
			 * jpegdec does when it loses sync. */
			pos_ += 2;
			continue;
		}
		pos_ += 2 + segment;
		if (marker == kSos)
			entropy_ = true;
	}
}

} /* namespace zcbuf::jpeg */
