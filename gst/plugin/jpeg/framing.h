/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finds JPEG images in a byte stream (zcjpegdec's input when it is not
 * packetized: a file, a pipe, concatenated MJPEG). It walks the marker
 * segments from SOI, skips the entropy-coded data after each SOS (stuffed
 * 0xFF00 bytes and RSTn markers included) and stops after EOI. The scan
 * resumes where it stopped when more data arrives, so every byte is
 * looked at once. A damaged region is resynchronised on as jpegdec does: a
 * "segment" whose length does not end at a marker, a reserved marker, or a
 * scan header of the wrong length is hunted through for the next marker
 * instead of skipped, and at the end of the stream a length running past
 * the end is too, so the pictures after the damage are found.
 */
#pragma once

#include <cstddef>
#include <cstdint>

namespace zcbuf::jpeg {

class Framer
{
public:
	enum class Result {
		/* No complete image yet. */
		NeedData,
		/* The first *length bytes precede any SOI: skip them. */
		Garbage,
		/* The first *length bytes are one image (up to its EOI, or up
		 * to the SOI of the next image when its EOI is missing). */
		Frame,
	};

	/* @data is everything not yet consumed; after Garbage or Frame the
	 * caller consumes *length bytes and calls reset(). @final: no more
	 * data will come (EOS), so a segment length that runs past the end
	 * is damage, not a reason to wait. */
	Result scan(const std::uint8_t *data, std::size_t size, std::size_t *length,
		    bool final = false);

	/* Starts over at the beginning of the (remaining) stream. */
	void reset();

private:
	std::size_t pos_ = 0;
	bool started_ = false;
	bool entropy_ = false;
};

} /* namespace zcbuf::jpeg */
