/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg/restart_intervals.h"

#include <algorithm>
#include <cstdio>

#include "jpeg/markers.h"

namespace zcbuf::jpeg {

namespace {

unsigned be16(const std::uint8_t *p)
{
	return static_cast<unsigned>(p[0]) << 8 | p[1];
}

bool isSof(std::uint8_t marker)
{
	/* C0-CF except DHT (C4), JPG (C8) and DAC (CC). */
	return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
	       marker != 0xcc;
}

struct Frame {
	unsigned components = 0;
	unsigned hMax = 1;
	unsigned vMax = 1;
};

/* The SOF segment at @p (after its length), @length bytes. */
bool readSof(const std::uint8_t *p, unsigned length, RestartIntervals *out, Frame *frame,
	     std::string *why)
{
	if (length < 6) {
		*why = "a short SOF segment";
		return false;
	}
	out->height = be16(p + 1);
	out->width = be16(p + 3);
	frame->components = p[5];
	if (length < 6 + 3 * frame->components || frame->components == 0) {
		*why = "a short SOF segment";
		return false;
	}
	if (out->height == 0) {
		*why = "the height comes in a DNL marker";
		return false;
	}
	for (unsigned c = 0; c < frame->components; c++) {
		unsigned h = p[6 + 3 * c + 1] >> 4;
		unsigned v = p[6 + 3 * c + 1] & 0xf;
		frame->hMax = std::max(frame->hMax, h);
		frame->vMax = std::max(frame->vMax, v);
	}
	return true;
}

} /* namespace */

bool findRestartIntervals(const std::uint8_t *data, std::size_t size, RestartIntervals *out,
			  std::string *why)
{
	*out = RestartIntervals();
	if (size < 4 || data[0] != 0xff || data[1] != kSoi) {
		*why = "no SOI";
		return false;
	}
	Frame frame;
	bool haveSof = false;
	unsigned interval = 0;
	std::size_t i = 2;
	/* The markers up to and including SOS. */
	for (;;) {
		while (i < size && data[i] == 0xff && i + 1 < size && data[i + 1] == 0xff)
			i++;
		if (i + 4 > size || data[i] != 0xff) {
			*why = "the headers are damaged or truncated";
			return false;
		}
		std::uint8_t marker = data[i + 1];
		unsigned length = be16(data + i + 2);
		if (length < 2 || i + 2 + length > size) {
			*why = "the headers are damaged or truncated";
			return false;
		}
		const std::uint8_t *body = data + i + 4;
		unsigned bodyLength = length - 2;
		if (isSof(marker)) {
			if (marker != 0xc0 && marker != 0xc1) {
				char name[8];
				std::snprintf(name, sizeof(name), "0x%02x", marker);
				*why = std::string("not a sequential Huffman-coded image (SOF ") +
				       name + ")";
				return false;
			}
			if (!readSof(body, bodyLength, out, &frame, why))
				return false;
			out->heightField = i + 5;
			haveSof = true;
		} else if (marker == kDri) {
			if (bodyLength < 2) {
				*why = "a short DRI segment";
				return false;
			}
			interval = be16(body);
		} else if (marker == kSos) {
			if (!haveSof || bodyLength < 1 || body[0] != frame.components) {
				*why = "the first scan does not hold every component";
				return false;
			}
			out->headerEnd = i + 2 + length;
			break;
		}
		i += 2 + length;
	}
	if (interval == 0) {
		*why = "no restart interval (DRI)";
		return false;
	}
	unsigned mcuWidth = frame.components == 1 ? 8 : 8 * frame.hMax;
	unsigned mcuHeight = frame.components == 1 ? 8 : 8 * frame.vMax;
	unsigned mcusPerRow = (out->width + mcuWidth - 1) / mcuWidth;
	unsigned mcuRows = (out->height + mcuHeight - 1) / mcuHeight;
	if (interval % mcusPerRow) {
		*why = "a restart interval of " + std::to_string(interval) +
		       " MCUs is not whole rows of " + std::to_string(mcusPerRow);
		return false;
	}
	out->rowsPerInterval = interval / mcusPerRow * mcuHeight;

	/* The entropy data: stuffed zeros, fill bytes, RSTn, then EOI. */
	for (i = out->headerEnd; i + 1 < size; i++) {
		if (data[i] != 0xff)
			continue;
		std::uint8_t next = data[i + 1];
		if (next == 0x00 || next == 0xff)
			continue;
		if (isRestart(next)) {
			if (next != kRst0 + (out->markers.size() & 7)) {
				*why = "restart markers out of sequence";
				return false;
			}
			out->markers.push_back(i);
			i++;
			continue;
		}
		if (next == kEoi) {
			out->end = i;
			break;
		}
		*why = "a marker inside the scan (several scans, or DNL)";
		return false;
	}
	if (!out->end) {
		*why = "no EOI after the scan";
		return false;
	}
	unsigned long long mcus = static_cast<unsigned long long>(mcusPerRow) * mcuRows;
	unsigned long long expected = (mcus + interval - 1) / interval - 1;
	if (out->markers.size() != expected) {
		*why = std::to_string(out->markers.size()) + " restart markers where " +
		       std::to_string(expected) + " were expected";
		return false;
	}
	return true;
}

void restartBand(const std::uint8_t *data, const RestartIntervals &intervals, unsigned first,
		 unsigned end, std::vector<std::uint8_t> *jpeg, unsigned *top, unsigned *rows)
{
	*top = first * intervals.rowsPerInterval;
	unsigned bottom = std::min(end * intervals.rowsPerInterval, intervals.height);
	*rows = bottom - *top;

	std::size_t from = first == 0 ? intervals.headerEnd : intervals.markers[first - 1] + 2;
	std::size_t to = end == intervals.count() ? intervals.end : intervals.markers[end - 1];
	jpeg->assign(data, data + intervals.headerEnd);
	(*jpeg)[intervals.heightField] = static_cast<std::uint8_t>(*rows >> 8);
	(*jpeg)[intervals.heightField + 1] = static_cast<std::uint8_t>(*rows);
	std::size_t base = jpeg->size();
	jpeg->insert(jpeg->end(), data + from, data + to);
	/* The band's decoder expects RST0, RST1, ... from its first interval. */
	for (unsigned j = first; j + 1 < end; j++)
		(*jpeg)[base + intervals.markers[j] - from + 1] =
			static_cast<std::uint8_t>(kRst0 + ((j - first) & 7));
	jpeg->push_back(0xff);
	jpeg->push_back(kEoi);
}

} /* namespace zcbuf::jpeg */
