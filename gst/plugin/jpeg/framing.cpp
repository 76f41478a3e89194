/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg/framing.h"

namespace zcbuf::jpeg {

namespace {

constexpr std::uint8_t kSoi = 0xd8;
constexpr std::uint8_t kEoi = 0xd9;
constexpr std::uint8_t kSos = 0xda;
constexpr std::uint8_t kTem = 0x01;

bool isRestart(std::uint8_t marker)
{
	return marker >= 0xd0 && marker <= 0xd7;
}

} /* namespace */

void Framer::reset()
{
	pos_ = 0;
	started_ = false;
	entropy_ = false;
}

Framer::Result Framer::scan(const std::uint8_t *data, std::size_t size, std::size_t *length)
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
		if (pos_ + 3 >= size)
			return Result::NeedData;
		std::size_t segment = static_cast<std::size_t>(data[pos_ + 2]) << 8 | data[pos_ + 3];
		if (segment < 2) {
			pos_ += 2;
			continue;
		}
		if (pos_ + 2 + segment > size)
			return Result::NeedData;
		pos_ += 2 + segment;
		if (marker == kSos)
			entropy_ = true;
	}
}

} /* namespace zcbuf::jpeg */
