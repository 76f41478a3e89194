/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/scale.h"

#include <libyuv.h>

namespace zcbuf::convert {

namespace {

constexpr libyuv::FilterMode kFilter = libyuv::kFilterBilinear;

int half(int size)
{
	return (size + 1) / 2;
}

} /* namespace */

bool Scaler::configure(GstVideoFormat format, int inWidth, int inHeight, int outWidth,
		       int outHeight, std::string &error)
{
	if (!formatTraits(format, traits_)) {
		error = "unsupported format";
		return false;
	}
	if (inWidth < 1 || inHeight < 1 || outWidth < 1 || outHeight < 1) {
		error = "empty frames cannot be scaled";
		return false;
	}
	inWidth_ = inWidth;
	inHeight_ = inHeight;
	outWidth_ = outWidth;
	outHeight_ = outHeight;
	switch (traits_.layout) {
	case Layout::I420:
		jobs_ = 3;
		break;
	case Layout::Nv12:
		jobs_ = 2;
		break;
	case Layout::Packed422:
		jobs_ = 1;
		planarIn_.allocate(GST_VIDEO_FORMAT_Y42B, inWidth, inHeight);
		planarOut_.allocate(GST_VIDEO_FORMAT_Y42B, outWidth, outHeight);
		break;
	default:
		jobs_ = 1;
		break;
	}
	return true;
}

void Scaler::run(const Image &in, const Image &out, int job) const
{
	switch (traits_.layout) {
	case Layout::Gray:
		libyuv::ScalePlane(in.data[0], in.stride[0], inWidth_, inHeight_, out.data[0],
				   out.stride[0], outWidth_, outHeight_, kFilter);
		return;
	case Layout::I420: {
		bool chroma = job > 0;
		libyuv::ScalePlane(in.data[job], in.stride[job], chroma ? half(inWidth_) : inWidth_,
				   chroma ? half(inHeight_) : inHeight_, out.data[job], out.stride[job],
				   chroma ? half(outWidth_) : outWidth_,
				   chroma ? half(outHeight_) : outHeight_, kFilter);
		return;
	}
	case Layout::Nv12:
		if (job == 0)
			libyuv::ScalePlane(in.data[0], in.stride[0], inWidth_, inHeight_, out.data[0],
					   out.stride[0], outWidth_, outHeight_, kFilter);
		else
			libyuv::UVScale(in.data[1], in.stride[1], half(inWidth_), half(inHeight_),
					out.data[1], out.stride[1], half(outWidth_), half(outHeight_),
					kFilter);
		return;
	case Layout::Rgb4:
		libyuv::ARGBScale(in.data[0], in.stride[0], inWidth_, inHeight_, out.data[0],
				  out.stride[0], outWidth_, outHeight_, kFilter);
		return;
	case Layout::Packed422: {
		const Image &pi = planarIn_.image(), &po = planarOut_.image();
		(traits_.yuyv ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
			in.data[0], in.stride[0], pi.data[0], pi.stride[0], pi.data[1], pi.stride[1],
			pi.data[2], pi.stride[2], inWidth_, inHeight_);
		libyuv::I422Scale(pi.data[0], pi.stride[0], pi.data[1], pi.stride[1], pi.data[2],
				  pi.stride[2], inWidth_, inHeight_, po.data[0], po.stride[0],
				  po.data[1], po.stride[1], po.data[2], po.stride[2], outWidth_,
				  outHeight_, kFilter);
		(traits_.yuyv ? libyuv::I422ToYUY2 : libyuv::I422ToUYVY)(
			po.data[0], po.stride[0], po.data[1], po.stride[1], po.data[2], po.stride[2],
			out.data[0], out.stride[0], outWidth_, outHeight_);
		return;
	}
	}
}

} /* namespace zcbuf::convert */
