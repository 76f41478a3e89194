/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A whole frame conversion: colour conversion, scaling, or both through an
 * intermediate image (scaled first when shrinking, so that the colour
 * conversion works on fewer pixels; converted first when enlarging). The
 * work is split over a BandRunner: row bands for the colour conversion,
 * planes for the scaling; either way the bytes do not depend on the
 * number of threads.
 */
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gst/video/video.h>

#include "convert/band_runner.h"
#include "convert/color.h"
#include "convert/image.h"
#include "convert/scale.h"

namespace zcbuf::convert {

class Converter
{
public:
	/* False with @error when @in cannot be converted to @out, or when
	 * the scratch images the plan needs would exceed kMaxScratchBytes
	 * or cannot be allocated. */
	bool configure(const GstVideoInfo &in, const GstVideoInfo &out, std::string &error);

	/* Converts @in into @out, using every thread of @runner. */
	void convert(const Image &in, const Image &out, zcbuf::convert::BandRunner &runner);

	/* False when the caps differ in nothing the pixels depend on. */
	bool hasWork() const { return color_ || scale_; }
	std::string describe() const;
	/* Bytes of scratch images the plan holds. */
	std::size_t scratchBytes() const { return scratchBytes_; }

private:
	void runColor(const Image &in, const Image &out, zcbuf::convert::BandRunner &runner);
	void runScale(const Image &in, const Image &out, zcbuf::convert::BandRunner &runner);

	bool color_ = false, scale_ = false, scaleFirst_ = false;
	ColorConverter colorConverter_;
	Scaler scaler_;
	OwnedImage intermediate_;
	std::vector<ColorConverter::Workspace> workspaces_;
	int height_ = 0; /* rows the colour conversion covers */
	std::size_t scratchBytes_ = 0;
};

} /* namespace zcbuf::convert */
