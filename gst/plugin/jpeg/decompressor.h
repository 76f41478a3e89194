/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One libjpeg decompressor that decodes JPEG images straight into the
 * planes of a mapped GstVideoFrame, with libjpeg's raw-data interface (no
 * colour conversion, no upsampling) and its DCT-domain scaling. One object
 * per thread; it is reused from image to image.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gst/video/video.h>

#include <jpeglib.h>

namespace zcbuf::jpeg {

/* The chroma sampling of a JPEG, as far as the decoder supports it. */
enum class Sampling {
	Gray,
	Yuv420,
	Yuv422,
	Yuv444,
};

const char *toString(Sampling sampling);

/* The formats an image of @sampling decodes to, the natural one first
 * (GRAY8; I420, NV12; Y42B, I420, NV12; Y444, I420, NV12). */
std::vector<GstVideoFormat> outputFormats(Sampling sampling);

struct DecodeOptions {
	/* 1, 2, 4 or 8: libjpeg's scale_denom, the IDCT makes the image
	 * that many times smaller in each direction. */
	unsigned scaleDenom = 1;
	J_DCT_METHOD dctMethod = JDCT_IFAST;
};

struct Header {
	/* The coded size. */
	unsigned codedWidth = 0;
	unsigned codedHeight = 0;
	/* The decoded size, after scaling. */
	unsigned width = 0;
	unsigned height = 0;
	Sampling sampling = Sampling::Gray;
};

/* How a decode reached the planes, for GST_PERFORMANCE logs. */
struct DecodeReport {
	/* Luma rows went through a block-row buffer because the plane's
	 * stride is narrower than libjpeg's whole blocks. */
	bool stagedLuma = false;
	/* Chroma rows went through a block-row buffer: interleaved for
	 * NV12, resampled, or a narrow stride. */
	bool stagedChroma = false;
	/* libjpeg warnings that do not mean damaged data. */
	int otherWarnings = 0;
};

class Decompressor
{
public:
	Decompressor();
	~Decompressor();
	Decompressor(const Decompressor &) = delete;
	Decompressor &operator=(const Decompressor &) = delete;

	/* What readHeader() found. */
	enum class HeaderResult {
		Ok,
		/* Not a JPEG image, or a damaged one. */
		Damaged,
		/* A valid JPEG whose colour space or chroma sampling this
		 * decoder does not decode (4:1:1, 4:4:0, RGB, CMYK...). */
		Unsupported,
	};

	/*
	 * Reads the markers up to the first scan of the image in @data.
	 * Anything but Ok comes with a message in @error.
	 */
	HeaderResult readHeader(const std::uint8_t *data, std::size_t size,
				const DecodeOptions &options, Header *header, std::string *error);

	/*
	 * Decodes the image in @data into @frame, mapped for writing, whose
	 * size must be the decoded size and whose format one of
	 * outputFormats() of the image's sampling. Damaged or truncated data
	 * is an error (the frame's content is then undefined).
	 */
	bool decode(const std::uint8_t *data, std::size_t size, const DecodeOptions &options,
		    GstVideoFrame *frame, DecodeReport *report, std::string *error);

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} /* namespace zcbuf::jpeg */
