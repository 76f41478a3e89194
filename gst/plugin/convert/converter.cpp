/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/converter.h"

#include <algorithm>

namespace zcbuf::convert {

bool Converter::configure(const GstVideoInfo &in, const GstVideoInfo &out, std::string &error)
{
	int inW = GST_VIDEO_INFO_WIDTH(&in), inH = GST_VIDEO_INFO_HEIGHT(&in);
	int outW = GST_VIDEO_INFO_WIDTH(&out), outH = GST_VIDEO_INFO_HEIGHT(&out);
	scale_ = inW != outW || inH != outH;
	/* Anything but the size differing (format, matrix, range, siting)
	 * is the colour converter's job. */
	GstVideoInfo sized = out;
	if (scale_) {
		gst_video_info_set_format(&sized, GST_VIDEO_INFO_FORMAT(&out), inW, inH);
		sized.colorimetry = out.colorimetry;
		sized.chroma_site = out.chroma_site;
	}
	color_ = GST_VIDEO_INFO_FORMAT(&in) != GST_VIDEO_INFO_FORMAT(&out) ||
		 !gst_video_colorimetry_is_equal(&in.colorimetry, &out.colorimetry) ||
		 in.chroma_site != out.chroma_site;
	if (color_ && scale_) {
		GstVideoInfo fromInfo = in;
		scaleFirst_ = static_cast<long>(outW) * outH < static_cast<long>(inW) * inH;
		if (scaleFirst_) {
			/* Scale in the input format, then convert at the
			 * output size. */
			gst_video_info_set_format(&fromInfo, GST_VIDEO_INFO_FORMAT(&in), outW, outH);
			fromInfo.colorimetry = in.colorimetry;
			fromInfo.chroma_site = in.chroma_site;
			if (!scaler_.configure(GST_VIDEO_INFO_FORMAT(&in), inW, inH, outW, outH, error) ||
			    !colorConverter_.configure(fromInfo, out, error))
				return false;
			intermediate_.allocate(GST_VIDEO_INFO_FORMAT(&in), outW, outH);
			height_ = outH;
		} else {
			if (!colorConverter_.configure(in, sized, error) ||
			    !scaler_.configure(GST_VIDEO_INFO_FORMAT(&out), inW, inH, outW, outH, error))
				return false;
			intermediate_.allocate(GST_VIDEO_INFO_FORMAT(&out), inW, inH);
			height_ = inH;
		}
	} else if (color_) {
		if (!colorConverter_.configure(in, out, error))
			return false;
		height_ = inH;
	} else if (scale_) {
		if (!scaler_.configure(GST_VIDEO_INFO_FORMAT(&in), inW, inH, outW, outH, error))
			return false;
	}
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
	runner.run(scaler_.jobs(), [&](int job, int) { scaler_.run(in, out, job); });
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
