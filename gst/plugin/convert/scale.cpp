/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/scale.h"

#include <algorithm>

#include <libyuv.h>

namespace zcbuf::convert {

namespace {

constexpr libyuv::FilterMode kFilter = libyuv::kFilterBilinear;
/* Row bands of the split and merge stages. */
constexpr int kBands = 4;

int half(int size)
{
	return (size + 1) / 2;
}

/* ScalePlane's test for its 3/8 box path (ScalePlaneDown38). */
bool isDown38(int srcW, int srcH, int dstW, int dstH)
{
	return srcW > 0 && 8 * dstW == 3 * srcW && dstH == (srcH * 3 + 7) / 8;
}

/* Rows [y0, y1) of band @band of @bands over @rows rows. */
void bandRows(int band, int bands, int rows, int &y0, int &y1)
{
	int per = (rows + bands - 1) / bands;
	y0 = std::min(rows, band * per);
	y1 = std::min(rows, y0 + per);
}

} /* namespace */

bool Scaler::configure(GstVideoFormat format, int inWidth, int inHeight, int outWidth,
		       int outHeight, ScratchBudget &budget, std::string &error)
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
	stages_ = 1;
	jobs_[0] = jobs_[1] = jobs_[2] = 1;
	components_ = 0;
	GstVideoFormat scratchIn = GST_VIDEO_FORMAT_GRAY8, scratchOut = GST_VIDEO_FORMAT_GRAY8;
	switch (traits_.layout) {
	case Layout::I420:
	case Layout::I422:
	case Layout::I444:
		jobs_[0] = 3;
		break;
	case Layout::Nv12:
		/* Luma and the split of UV; U and V; the merge. */
		components_ = 2;
		planeInW_ = half(inWidth);
		planeInH_ = half(inHeight);
		planeOutW_ = half(outWidth);
		planeOutH_ = half(outHeight);
		stages_ = 3;
		jobs_[0] = 2;
		jobs_[1] = 2;
		jobs_[2] = kBands;
		break;
	case Layout::Rgb4:
		/* Row bands of the output, each with its own scalers. */
		jobs_[0] = kBands;
		break;
	case Layout::Packed422:
		scratchIn = scratchOut = GST_VIDEO_FORMAT_Y42B;
		planeInW_ = inWidth;
		planeInH_ = inHeight;
		planeOutW_ = outWidth;
		planeOutH_ = outHeight;
		break;
	case Layout::Gray:
		break;
	}
	for (Slot &slot : slots_)
		slot = Slot{};
	for (Slot &band : bands_)
		band = Slot{};
	int chromaInW = traits_.layout == Layout::I444 ? inWidth : half(inWidth);
	int chromaOutW = traits_.layout == Layout::I444 ? outWidth : half(outWidth);
	int chromaInH = traits_.layout == Layout::I420 ? half(inHeight) : inHeight;
	int chromaOutH = traits_.layout == Layout::I420 ? half(outHeight) : outHeight;
	switch (traits_.layout) {
	case Layout::Gray:
		planFor(0, inWidth, inHeight, outWidth, outHeight);
		break;
	case Layout::I420:
	case Layout::I422:
	case Layout::I444:
	case Layout::Packed422:
		planFor(0, inWidth, inHeight, outWidth, outHeight);
		planFor(1, chromaInW, chromaInH, chromaOutW, chromaOutH);
		planFor(2, chromaInW, chromaInH, chromaOutW, chromaOutH);
		break;
	case Layout::Nv12:
		planFor(0, inWidth, inHeight, outWidth, outHeight);
		planFor(1, planeInW_, planeInH_, planeOutW_, planeOutH_);
		planFor(2, planeInW_, planeInH_, planeOutW_, planeOutH_);
		break;
	case Layout::Rgb4:
		for (Slot &band : bands_) {
			band = Slot{ inWidth, inHeight, outWidth, outHeight, nullptr, nullptr };
			if (!makeLinearScalers(band)) {
				error = "cannot make GStreamer's linear scalers";
				return false;
			}
		}
		break;
	}
	for (const Slot &slot : slots_) {
		if (isDown38(slot.srcW, slot.srcH, slot.dstW, slot.dstH) &&
		    !((slot.srcW == slot.dstW || slot.h) && (slot.srcH == slot.dstH || slot.v))) {
			error = "cannot make GStreamer's linear scalers";
			return false;
		}
	}
	if (components_ || traits_.layout == Layout::Packed422) {
		/* Component planes are stacked in one GRAY8 image. */
		int stack = std::max(components_, 1);
		std::size_t inBytes = 0, outBytes = 0;
		if (!OwnedImage::sizeOf(scratchIn, planeInW_, planeInH_ * stack, inBytes, error) ||
		    !OwnedImage::sizeOf(scratchOut, planeOutW_, planeOutH_ * stack, outBytes, error) ||
		    !budget.reserve(inBytes, error) || !budget.reserve(outBytes, error) ||
		    !planesIn_.allocate(scratchIn, planeInW_, planeInH_ * stack, error) ||
		    !planesOut_.allocate(scratchOut, planeOutW_, planeOutH_ * stack, error))
			return false;
	}
	return true;
}

void Scaler::planFor(int index, int srcW, int srcH, int dstW, int dstH)
{
	Slot &slot = slots_[index];
	slot.srcW = srcW;
	slot.srcH = srcH;
	slot.dstW = dstW;
	slot.dstH = dstH;
	if (!isDown38(srcW, srcH, dstW, dstH))
		return;
	makeLinearScalers(slot);
}

bool Scaler::makeLinearScalers(Slot &slot)
{
	/* Two taps, as libyuv's bilinear filter has; none for a direction
	 * that keeps its size. */
	if (slot.srcW != slot.dstW)
		slot.h.reset(gst_video_scaler_new(GST_VIDEO_RESAMPLER_METHOD_LINEAR,
						  GST_VIDEO_SCALER_FLAG_NONE, 2,
						  static_cast<guint>(slot.srcW),
						  static_cast<guint>(slot.dstW), nullptr));
	if (slot.srcH != slot.dstH)
		slot.v.reset(gst_video_scaler_new(GST_VIDEO_RESAMPLER_METHOD_LINEAR,
						  GST_VIDEO_SCALER_FLAG_NONE, 2,
						  static_cast<guint>(slot.srcH),
						  static_cast<guint>(slot.dstH), nullptr));
	return (slot.srcW == slot.dstW || slot.h) && (slot.srcH == slot.dstH || slot.v);
}

void Scaler::scalePlane(int index, const uint8_t *src, int srcStride, uint8_t *dst,
			int dstStride) const
{
	const Slot &slot = slots_[index];
	if (slot.h || slot.v) {
		/* gst_video_scaler_2d() takes the end line, not a count. */
		gst_video_scaler_2d(slot.h.get(), slot.v.get(), GST_VIDEO_FORMAT_GRAY8,
				    const_cast<uint8_t *>(src), srcStride, dst, dstStride, 0, 0,
				    static_cast<guint>(slot.dstW), static_cast<guint>(slot.dstH));
		return;
	}
	libyuv::ScalePlane(src, srcStride, slot.srcW, slot.srcH, dst, dstStride, slot.dstW, slot.dstH,
			   kFilter);
}

void Scaler::split(const Image &in) const
{
	const Image &pi = planesIn_.image();
	int s = pi.stride[0];
	libyuv::SplitUVPlane(in.data[1], in.stride[1], plane(pi, 0, planeInH_), s,
			     plane(pi, 1, planeInH_), s, planeInW_, planeInH_);
}

void Scaler::merge(const Image &out, int job) const
{
	const Image &po = planesOut_.image();
	int s = po.stride[0];
	int y0, y1;
	bandRows(job, kBands, planeOutH_, y0, y1);
	if (y0 < y1)
		libyuv::MergeUVPlane(plane(po, 0, planeOutH_) + y0 * s, s,
				     plane(po, 1, planeOutH_) + y0 * s, s, out.row(1, y0),
				     out.stride[1], planeOutW_, y1 - y0);
}

void Scaler::run(const Image &in, const Image &out, int stage, int job) const
{
	switch (traits_.layout) {
	case Layout::Gray:
	case Layout::I420:
	case Layout::I422:
	case Layout::I444:
		scalePlane(job, in.data[job], in.stride[job], out.data[job], out.stride[job]);
		return;
	case Layout::Nv12: {
		const Image &pi = planesIn_.image(), &po = planesOut_.image();
		if (stage == 0 && job == 0)
			scalePlane(0, in.data[0], in.stride[0], out.data[0], out.stride[0]);
		else if (stage == 0)
			split(in);
		else if (stage == 1)
			scalePlane(job + 1, plane(pi, job, planeInH_), pi.stride[0],
				   plane(po, job, planeOutH_), po.stride[0]);
		else
			merge(out, job);
		return;
	}
	case Layout::Rgb4: {
		/* All four bytes of each pixel, alpha and the padding of BGRx
		 * and RGBx included, as videoscale scales them.
		 * gst_video_scaler_2d() takes the end line, not a count. */
		int y0, y1;
		bandRows(job, kBands, outHeight_, y0, y1);
		const Slot &band = bands_[job];
		if (y0 < y1)
			gst_video_scaler_2d(band.h.get(), band.v.get(), in.format, in.data[0],
					    in.stride[0], out.data[0], out.stride[0], 0,
					    static_cast<guint>(y0), static_cast<guint>(outWidth_),
					    static_cast<guint>(y1));
		return;
	}
	case Layout::Packed422: {
		const Image &pi = planesIn_.image(), &po = planesOut_.image();
		(traits_.yuyv ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
			in.data[0], in.stride[0], pi.data[0], pi.stride[0], pi.data[1], pi.stride[1],
			pi.data[2], pi.stride[2], inWidth_, inHeight_);
		for (int p = 0; p < 3; p++)
			scalePlane(p, pi.data[p], pi.stride[p], po.data[p], po.stride[p]);
		(traits_.yuyv ? libyuv::I422ToYUY2 : libyuv::I422ToUYVY)(
			po.data[0], po.stride[0], po.data[1], po.stride[1], po.data[2], po.stride[2],
			out.data[0], out.stride[0], outWidth_, outHeight_);
		return;
	}
	}
}

} /* namespace zcbuf::convert */
