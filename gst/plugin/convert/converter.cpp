/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/converter.h"

#include <algorithm>

namespace zcbuf::convert {

namespace {

/* @info as @format at @width x @height, colorimetry and siting kept:
 * false with @error when GstVideoInfo cannot describe that frame. */
bool resized(const GstVideoInfo &info, GstVideoFormat format, int width, int height,
	     GstVideoInfo &result, std::string &error)
{
	result = info;
	if (!gst_video_info_set_format(&result, format, width, height)) {
		error = std::string("a ") + std::to_string(width) + "x" + std::to_string(height) + " " +
			gst_video_format_to_string(format) + " frame cannot be described";
		return false;
	}
	result.colorimetry = info.colorimetry;
	result.chroma_site = info.chroma_site;
	return true;
}

} /* namespace */

bool Converter::configure(const GstVideoInfo &in, const GstVideoInfo &out, std::string &error)
{
	int inW = GST_VIDEO_INFO_WIDTH(&in), inH = GST_VIDEO_INFO_HEIGHT(&in);
	int outW = GST_VIDEO_INFO_WIDTH(&out), outH = GST_VIDEO_INFO_HEIGHT(&out);
	GstVideoFormat inFormat = GST_VIDEO_INFO_FORMAT(&in), outFormat = GST_VIDEO_INFO_FORMAT(&out);
	ScratchBudget budget;
	scale_ = inW != outW || inH != outH;
	/* Anything but the size differing (format, matrix, range, siting)
	 * is the colour converter's job. */
	color_ = inFormat != outFormat ||
		 !gst_video_colorimetry_is_equal(&in.colorimetry, &out.colorimetry) ||
		 in.chroma_site != out.chroma_site;
	scaleFirst_ = false;
	scratchBytes_ = 0;
	if (color_ && scale_) {
		/* Shrinking: scale in the input format, then convert at the
		 * output size; enlarging: convert at the input size, then
		 * scale in the output format. */
		scaleFirst_ = static_cast<long>(outW) * outH < static_cast<long>(inW) * inH;
		GstVideoFormat midFormat = scaleFirst_ ? inFormat : outFormat;
		int midW = scaleFirst_ ? outW : inW, midH = scaleFirst_ ? outH : inH;
		GstVideoInfo mid;
		std::size_t midBytes = 0;
		if (!resized(scaleFirst_ ? in : out, midFormat, midW, midH, mid, error) ||
		    !OwnedImage::sizeOf(midFormat, midW, midH, midBytes, error) ||
		    !budget.reserve(midBytes, error) ||
		    !scaler_.configure(midFormat, inW, inH, outW, outH, budget, error) ||
		    !colorConverter_.configure(scaleFirst_ ? mid : in, scaleFirst_ ? out : mid, error) ||
		    !intermediate_.allocate(midFormat, midW, midH, error))
			return false;
		height_ = midH;
	} else if (color_) {
		if (!colorConverter_.configure(in, out, error))
			return false;
		height_ = inH;
	} else if (scale_) {
		if (!scaler_.configure(inFormat, inW, inH, outW, outH, budget, error))
			return false;
	}
	scratchBytes_ = budget.used();
	workspaces_.clear();
	return true;
}

std::string Converter::describe() const
{
	std::string text;
	if (color_)
		text = colorConverter_.describe();
	if (scale_) {
		if (!text.empty())
			text += scaleFirst_ ? ", after " : ", before ";
		text += "libyuv bilinear scaling";
	}
	return text.empty() ? "nothing" : text;
}

void Converter::runColor(const Image &in, const Image &out, zcbuf::convert::BandRunner &runner)
{
	unsigned threads = runner.threads();
	if (workspaces_.size() < threads) {
		size_t old = workspaces_.size();
		workspaces_.resize(threads);
		for (size_t i = old; i < threads; i++)
			colorConverter_.prepare(workspaces_[i]);
	}
	int align = colorConverter_.rowAlignment();
	int units = (height_ + align - 1) / align;
	int bands = std::min<int>(static_cast<int>(threads), units);
	int perBand = (units + bands - 1) / bands;
	runner.run(bands, [&](int band, int worker) {
		int y0 = band * perBand * align;
		int y1 = std::min(height_, (band + 1) * perBand * align);
		ColorConverter::Workspace &ws = workspaces_[static_cast<size_t>(worker)];
		/* A band starts with an empty chroma cache: what it computes
		 * cannot depend on which band ran before on this worker. */
		for (int &line : ws.chromaLine)
			line = -1;
		ws.nextSlot = 0;
		colorConverter_.convert(in, out, y0, y1, ws);
	});
}

void Converter::runScale(const Image &in, const Image &out, zcbuf::convert::BandRunner &runner)
{
	for (int stage = 0; stage < scaler_.stages(); stage++)
		runner.run(scaler_.jobs(stage), [&](int job, int) { scaler_.run(in, out, stage, job); });
}

void Converter::convert(const Image &in, const Image &out, zcbuf::convert::BandRunner &runner)
{
	if (color_ && scale_) {
		const Image &mid = intermediate_.image();
		if (scaleFirst_) {
			runScale(in, mid, runner);
			runColor(mid, out, runner);
		} else {
			runColor(in, mid, runner);
			runScale(mid, out, runner);
		}
	} else if (color_) {
		runColor(in, out, runner);
	} else if (scale_) {
		runScale(in, out, runner);
	}
}

} /* namespace zcbuf::convert */
