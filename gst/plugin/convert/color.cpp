/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/color.h"

#include <algorithm>
#include <cstring>
#include <new>

#include <libyuv.h>

namespace zcbuf::convert {

namespace {

/* Workspace rows. */
constexpr int kChromaCache = 0; /* 3 slots of U, V: rows 0-5 */
constexpr int kHalfU = 6, kHalfV = 7;
constexpr int kLine0 = 8; /* 2 line slots of 4 rows: 8-15 */
constexpr int kTempU = 16, kTempV = 17;
constexpr int kGrey = 18;
constexpr int kOutHalfU = 19, kOutHalfV = 20;
constexpr int kRows = 21;

constexpr std::size_t kStreamBytes = 8u << 20;
/* Taps of videoconvert's linear chroma scalers. */
constexpr guint kTaps = 2;

bool subsampled(const GstVideoInfo &info)
{
	const GstVideoFormatInfo *f = info.finfo;
	return GST_VIDEO_FORMAT_INFO_W_SUB(f, 2) || GST_VIDEO_FORMAT_INFO_H_SUB(f, 2);
}

bool is420(const FormatTraits &t)
{
	return t.layout == Layout::Nv12 || t.layout == Layout::I420;
}

bool isPlanarYuv(Layout layout)
{
	return layout == Layout::I420 || layout == Layout::I422 || layout == Layout::I444;
}

/* Pair averages (videoconvert's planar_chroma_444_422) of @width samples. */
void halvePairs(const uint8_t *src, uint8_t *dst, int width)
{
	kernels::downsampleH(src, dst, width, false);
}

/* Copies even samples: the chroma packing keeps when nothing filters. */
void pickEven(const uint8_t *src, uint8_t *dst, uint8_t *odd, int width)
{
	libyuv::SplitUVPlane(src, 0, dst, 0, odd, 0, width / 2, 1);
	if (width & 1)
		dst[width / 2] = src[width - 1];
}

} /* namespace */

void ColorConverter::Workspace::prepare(int width, int rows)
{
	rowBytes_ = (static_cast<std::size_t>(width) + 64 + 63) & ~static_cast<std::size_t>(63);
	storage_.assign(rowBytes_ * rows, 0);
	for (int &line : chromaLine)
		line = -1;
	nextSlot = 0;
}

bool ColorConverter::configure(const GstVideoInfo &in, const GstVideoInfo &out,
			       std::string &error)
{
	if (!formatTraits(GST_VIDEO_INFO_FORMAT(&in), inTraits_) ||
	    !formatTraits(GST_VIDEO_INFO_FORMAT(&out), outTraits_)) {
		error = "unsupported format";
		return false;
	}
	if (GST_VIDEO_INFO_WIDTH(&in) != GST_VIDEO_INFO_WIDTH(&out) ||
	    GST_VIDEO_INFO_HEIGHT(&in) != GST_VIDEO_INFO_HEIGHT(&out)) {
		error = "colour conversion needs equal sizes";
		return false;
	}
	if (!computeMatrix(in, out, matrix_, error))
		return false;

	width_ = GST_VIDEO_INFO_WIDTH(&in);
	height_ = GST_VIDEO_INFO_HEIGHT(&in);
	chromaWidth_ = (width_ + 1) / 2;
	chromaLines_ = is420(inTraits_) ? (height_ + 1) / 2 : height_;
	/* libyuv's 4:2:0 functions take line pairs: bands start on even
	 * lines whenever either side is 4:2:0. */
	rowAlignment_ = is420(inTraits_) || is420(outTraits_) ? 2 : 1;

	/* video_converter_compute_resample(): chroma is resampled when the
	 * subsampling or the siting differs; otherwise it is carried over
	 * sample for sample. */
	const GstVideoFormatInfo *fi = in.finfo;
	const GstVideoFormatInfo *fo = out.finfo;
	bool resample = GST_VIDEO_FORMAT_INFO_W_SUB(fi, 2) != GST_VIDEO_FORMAT_INFO_W_SUB(fo, 2) ||
			GST_VIDEO_FORMAT_INFO_H_SUB(fi, 2) != GST_VIDEO_FORMAT_INFO_H_SUB(fo, 2) ||
			in.chroma_site != out.chroma_site;
	upsample_ = resample && subsampled(in);
	downsample_ = resample && subsampled(out);
	inCositedH_ = in.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED;
	inCositedV_ = in.chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED;
	outCositedH_ = out.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED;
	outCositedV_ = out.chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED;
	nearestChroma_ = !upsample_;
	/* Frames well beyond the last-level cache are written with
	 * streaming stores. */
	stream_ = static_cast<std::size_t>(width_) * height_ * 4 > kStreamBytes;

	Layout li = inTraits_.layout, lo = outTraits_.layout;
	bool sameMatrix = matrix_.kind == MatrixKind::None;
	path_ = Path::Generic;
	if (li == Layout::Rgb4 && lo == Layout::Rgb4) {
		/* Same matrix, no chroma: every byte moves, alpha (or the
		 * padding byte) included, as unpack_BGRA/pack_RGBA do. */
		path_ = Path::ShuffleRgb;
		const int in[4] = { inTraits_.order.r, inTraits_.order.g, inTraits_.order.b,
				    inTraits_.order.a };
		const int outPos[4] = { outTraits_.order.r, outTraits_.order.g, outTraits_.order.b,
					outTraits_.order.a };
		for (int px = 0; px < 4; px++)
			for (int c = 0; c < 4; c++)
				shuffle_[4 * px + outPos[c]] = static_cast<uint8_t>(4 * px + in[c]);
	} else if (li == Layout::Rgb4 || lo == Layout::Rgb4) {
		if (li != Layout::Rgb4 && lo == Layout::Rgb4) {
			if (matrix_.kind != MatrixKind::YuvToRgb) {
				error = "this colorimetry does not give a YUV to RGB matrix";
				return false;
			}
			yuvToRgb_ = kernels::makeYuvToRgb(matrix_, outTraits_.order);
			path_ = Path::YuvToRgb;
			/* videoconvert's I420 to RGB fast paths take the
			 * nearest chroma sample. */
			if (li == Layout::I420)
				nearestChroma_ = true;
		}
	} else if (lo == Layout::Gray && (li == Layout::Packed422 && !inTraits_.yuyv)) {
		/* convert_UYVY_GRAY8 ignores the matrix. */
		path_ = Path::LumaOnly;
	} else if (sameMatrix) {
		if (lo == Layout::Gray && li != Layout::Gray)
			path_ = Path::LumaOnly;
		else if (li == Layout::Nv12 && lo == Layout::I420 && !resample)
			path_ = Path::Nv12ToI420;
		else if (li == Layout::I420 && lo == Layout::Nv12 && !resample)
			path_ = Path::I420ToNv12;
		else if (li == Layout::Packed422 && lo == Layout::Packed422)
			path_ = Path::SwapPacked422;
		else if (li == Layout::Packed422 && lo == Layout::I420)
			path_ = Path::Packed422ToI420;
		else if (li == Layout::I420 && lo == Layout::Packed422)
			path_ = Path::I420ToPacked422;
		else if (isPlanarYuv(li) && isPlanarYuv(lo) && li != lo)
			path_ = Path::ScalePlanes;
		else if (li == Layout::I422 && lo == Layout::Packed422)
			path_ = Path::Planar422ToPacked422;
		else if (li == Layout::Packed422 && lo == Layout::I422)
			path_ = Path::Packed422ToPlanar422;
		else if (li == Layout::Packed422 && lo == Layout::I444)
			path_ = Path::Packed422To444;
		else if (li == Layout::I444 && lo == Layout::Packed422 && width_ % 2 == 0)
			/* convert_Y444_YUY2 is for even widths only. */
			path_ = Path::Planar444ToPacked422;
	}
	if (path_ == Path::ScalePlanes) {
		/* setup_scale() with the chroma resampler videoconvert
		 * defaults to (linear): exact halves are pair averages,
		 * anything else GStreamer's linear scaler. */
		chromaInW_ = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(fi, 1, width_);
		chromaInH_ = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(fi, 1, height_);
		chromaOutW_ = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(fo, 1, width_);
		chromaOutH_ = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(fo, 1, height_);
		bool sameW = chromaInW_ == chromaOutW_, sameH = chromaInH_ == chromaOutH_;
		bool halfW = chromaInW_ == 2 * chromaOutW_, halfH = chromaInH_ == 2 * chromaOutH_;
		if (sameW && sameH)
			chromaOp_ = ChromaOp::Copy;
		else if (sameW)
			chromaOp_ = halfH ? ChromaOp::HalveV : ChromaOp::Scale;
		else if (sameH)
			chromaOp_ = halfW ? ChromaOp::HalveH : ChromaOp::Scale;
		else
			chromaOp_ = halfW && halfH ? ChromaOp::HalveHV : ChromaOp::Scale;
	}
	if (path_ == Path::SwapPacked422) {
		for (int i = 0; i < 16; i += 2) {
			shuffle_[i] = static_cast<uint8_t>(i + 1);
			shuffle_[i + 1] = static_cast<uint8_t>(i);
		}
	}
	return true;
}

std::string ColorConverter::describe() const
{
	static const char *const names[] = { "NV12 to I420",
					      "I420 to NV12",
					      "4:2:2 repacking",
					      "RGB shuffle",
					      "4:2:2 to 4:2:0",
					      "4:2:0 to 4:2:2",
					      "luma only",
					      "YUV to RGB",
					      "planar chroma resampling",
					      "planar to packed 4:2:2",
					      "packed to planar 4:2:2",
					      "packed 4:2:2 to 4:4:4",
					      "4:4:4 to packed 4:2:2",
					      "general chain" };
	std::string text = names[static_cast<int>(path_)];
	if (path_ == Path::YuvToRgb || path_ == Path::Generic) {
		text += nearestChroma_ ? ", nearest chroma" : ", resampled chroma";
		text += matrix_.kind == MatrixKind::None	 ? ", no matrix"
			: matrix_.kind == MatrixKind::YuvToRgb ? ", YUV to RGB matrix"
			: matrix_.kind == MatrixKind::NoClip	 ? ", exact matrix"
								 : ", clipping matrix";
	}
	return text + " (kernels: " + kernels::implementation() + ")";
}

void ColorConverter::prepare(Workspace &workspace) const
{
	workspace.prepare(width_, kRows);
	std::memset(workspace.row(kGrey), 128, static_cast<std::size_t>(width_));
	workspace.hScaler.reset();
	workspace.vScaler.reset();
	if (path_ == Path::ScalePlanes && chromaOp_ == ChromaOp::Scale) {
		/* As videoconvert's setup_scale() makes them: linear with
		 * two taps (what its configuration comes to; without it
		 * the linear resampler widens to more taps when shrinking). */
		if (chromaInW_ != chromaOutW_)
			workspace.hScaler.reset(gst_video_scaler_new(GST_VIDEO_RESAMPLER_METHOD_LINEAR,
								     GST_VIDEO_SCALER_FLAG_NONE, kTaps,
								     chromaInW_, chromaOutW_, nullptr));
		if (chromaInH_ != chromaOutH_)
			workspace.vScaler.reset(gst_video_scaler_new(GST_VIDEO_RESAMPLER_METHOD_LINEAR,
								     GST_VIDEO_SCALER_FLAG_NONE, kTaps,
								     chromaInH_, chromaOutH_, nullptr));
		if ((chromaInW_ != chromaOutW_ && !workspace.hScaler) ||
		    (chromaInH_ != chromaOutH_ && !workspace.vScaler))
			throw std::bad_alloc();
	}
}

void ColorConverter::chromaRowsOf(int y0, int y1, int &k0, int &k1) const
{
	if (is420(outTraits_)) {
		k0 = y0 / 2;
		k1 = (y1 + 1) / 2;
	} else {
		k0 = y0;
		k1 = y1;
	}
}

void ColorConverter::convertScalePlanes(const Image &in, const Image &out, int y0, int y1,
					Workspace &ws) const
{
	libyuv::CopyPlane(in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0], width_, y1 - y0);
	int k0, k1;
	chromaRowsOf(y0, y1, k0, k1);
	uint8_t *both = ws.row(kTempU);
	for (int p = 1; p <= 2; p++) {
		switch (chromaOp_) {
		case ChromaOp::Copy:
			libyuv::CopyPlane(in.row(p, k0), in.stride[p], out.row(p, k0), out.stride[p],
					  chromaOutW_, k1 - k0);
			break;
		case ChromaOp::HalveV:
			for (int k = k0; k < k1; k++)
				kernels::average(in.row(p, 2 * k), in.row(p, 2 * k + 1), out.row(p, k),
						 chromaOutW_);
			break;
		case ChromaOp::HalveH:
			for (int k = k0; k < k1; k++)
				halvePairs(in.row(p, k), out.row(p, k), chromaInW_);
			break;
		case ChromaOp::HalveHV:
			/* planar_chroma_444_420: rows averaged, then pairs. */
			for (int k = k0; k < k1; k++) {
				kernels::average(in.row(p, 2 * k), in.row(p, 2 * k + 1), both, chromaInW_);
				halvePairs(both, out.row(p, k), chromaInW_);
			}
			break;
		case ChromaOp::Scale:
			gst_video_scaler_2d(ws.hScaler.get(), ws.vScaler.get(), GST_VIDEO_FORMAT_GRAY8,
					    in.data[p], in.stride[p], out.data[p], out.stride[p], 0,
					    static_cast<guint>(k0), static_cast<guint>(chromaOutW_),
					    static_cast<guint>(k1 - k0));
			break;
		}
	}
}

ColorConverter::ChromaRows ColorConverter::planarChroma(const Image &in, int y, uint8_t *u,
							  uint8_t *v) const
{
	if (inTraits_.layout == Layout::I444)
		return { in.row(1, y), in.row(2, y) };
	if (upsample_) {
		kernels::upsampleH(in.row(1, y), u, width_, inCositedH_);
		kernels::upsampleH(in.row(2, y), v, width_, inCositedH_);
	} else {
		kernels::upsampleNearest(in.row(1, y), u, width_);
		kernels::upsampleNearest(in.row(2, y), v, width_);
	}
	return { u, v };
}

void ColorConverter::convert(const Image &in, const Image &out, int y0, int y1,
			     Workspace &ws) const
{
	if (y0 >= y1)
		return;
	int n = y1 - y0;
	switch (path_) {
	case Path::Nv12ToI420:
		libyuv::NV12ToI420(in.row(0, y0), in.stride[0], in.row(1, y0 / 2), in.stride[1],
				   out.row(0, y0), out.stride[0], out.row(1, y0 / 2), out.stride[1],
				   out.row(2, y0 / 2), out.stride[2], width_, n);
		return;
	case Path::I420ToNv12:
		libyuv::I420ToNV12(in.row(0, y0), in.stride[0], in.row(1, y0 / 2), in.stride[1],
				   in.row(2, y0 / 2), in.stride[2], out.row(0, y0), out.stride[0],
				   out.row(1, y0 / 2), out.stride[1], width_, n);
		return;
	case Path::SwapPacked422:
		libyuv::ARGBShuffle(in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0],
				    shuffle_, chromaWidth_, n);
		return;
	case Path::ShuffleRgb:
		libyuv::ARGBShuffle(in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0],
				    shuffle_, width_, n);
		return;
	case Path::Packed422ToI420:
		/* convert_YUY2_I420: chroma of a line pair averaged. */
		(inTraits_.yuyv ? libyuv::YUY2ToI420 : libyuv::UYVYToI420)(
			in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0], out.row(1, y0 / 2),
			out.stride[1], out.row(2, y0 / 2), out.stride[2], width_, n);
		return;
	case Path::I420ToPacked422:
		/* convert_I420_YUY2: each chroma line for both of its lines. */
		(outTraits_.yuyv ? libyuv::I420ToYUY2 : libyuv::I420ToUYVY)(
			in.row(0, y0), in.stride[0], in.row(1, y0 / 2), in.stride[1], in.row(2, y0 / 2),
			in.stride[2], out.row(0, y0), out.stride[0], width_, n);
		return;
	case Path::LumaOnly:
		if (inTraits_.layout == Layout::Packed422)
			(inTraits_.yuyv ? libyuv::YUY2ToY : libyuv::UYVYToY)(
				in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0], width_, n);
		else
			libyuv::CopyPlane(in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0],
					  width_, n);
		return;
	case Path::YuvToRgb:
		convertYuvToRgb(in, out, y0, y1, ws);
		return;
	case Path::ScalePlanes:
		convertScalePlanes(in, out, y0, y1, ws);
		return;
	case Path::Planar422ToPacked422:
		(outTraits_.yuyv ? libyuv::I422ToYUY2 : libyuv::I422ToUYVY)(
			in.row(0, y0), in.stride[0], in.row(1, y0), in.stride[1], in.row(2, y0),
			in.stride[2], out.row(0, y0), out.stride[0], width_, n);
		return;
	case Path::Packed422ToPlanar422:
		(inTraits_.yuyv ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
			in.row(0, y0), in.stride[0], out.row(0, y0), out.stride[0], out.row(1, y0),
			out.stride[1], out.row(2, y0), out.stride[2], width_, n);
		return;
	case Path::Packed422To444:
		/* convert_YUY2_Y444: each chroma sample for both pixels. */
		for (int y = y0; y < y1; y++) {
			uint8_t *hu = ws.row(kHalfU), *hv = ws.row(kHalfV);
			(inTraits_.yuyv ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
				in.row(0, y), 0, out.row(0, y), 0, hu, 0, hv, 0, width_, 1);
			kernels::upsampleNearest(hu, out.row(1, y), width_);
			kernels::upsampleNearest(hv, out.row(2, y), width_);
		}
		return;
	case Path::Planar444ToPacked422:
		/* convert_Y444_YUY2: pairs of chroma samples averaged. */
		for (int y = y0; y < y1; y++) {
			uint8_t *hu = ws.row(kHalfU), *hv = ws.row(kHalfV);
			halvePairs(in.row(1, y), hu, width_);
			halvePairs(in.row(2, y), hv, width_);
			(outTraits_.yuyv ? libyuv::I422ToYUY2 : libyuv::I422ToUYVY)(
				in.row(0, y), 0, hu, 0, hv, 0, out.row(0, y), 0, width_, 1);
		}
		return;
	case Path::Generic:
		convertGeneric(in, out, y0, y1, ws);
		return;
	}
}

ColorConverter::ChromaRows ColorConverter::chromaRows(const Image &in, int k,
						      Workspace &ws) const
{
	for (int s = 0; s < 3; s++)
		if (ws.chromaLine[s] == k)
			return { ws.row(kChromaCache + 2 * s), ws.row(kChromaCache + 2 * s + 1) };
	int s = ws.nextSlot;
	ws.nextSlot = (s + 1) % 3;
	uint8_t *u = ws.row(kChromaCache + 2 * s), *v = ws.row(kChromaCache + 2 * s + 1);
	const uint8_t *hu, *hv;
	if (inTraits_.layout == Layout::Nv12 && !nearestChroma_) {
		/* Straight from the interleaved row: one pass, where a
		 * split first costs a pass of its own and scratch rows. */
		kernels::upsampleHInterleaved(in.row(1, k), u, v, width_, inCositedH_);
		ws.chromaLine[s] = k;
		return { u, v };
	}
	if (inTraits_.layout == Layout::Nv12) {
		libyuv::SplitUVPlane(in.row(1, k), 0, ws.row(kHalfU), 0, ws.row(kHalfV), 0,
				     chromaWidth_, 1);
		hu = ws.row(kHalfU);
		hv = ws.row(kHalfV);
	} else {
		hu = in.row(1, k);
		hv = in.row(2, k);
	}
	if (nearestChroma_) {
		kernels::upsampleNearest(hu, u, width_);
		kernels::upsampleNearest(hv, v, width_);
	} else {
		kernels::upsampleH(hu, u, width_, inCositedH_);
		kernels::upsampleH(hv, v, width_, inCositedH_);
	}
	ws.chromaLine[s] = k;
	return { u, v };
}

void ColorConverter::convertYuvToRgb(const Image &in, const Image &out, int y0, int y1,
				     Workspace &ws) const
{
	const uint8_t *grey = ws.row(kGrey);
	bool blend = is420(inTraits_) && !nearestChroma_ && !inCositedV_;
	for (int y = y0; y < y1; y++) {
		const uint8_t *luma;
		const uint8_t *u0 = grey, *v0 = grey, *u1 = nullptr, *v1 = nullptr;
		uint8_t *dst = out.row(0, y);
		switch (inTraits_.layout) {
		case Layout::Gray:
			luma = in.row(0, y);
			break;
		case Layout::Packed422: {
			uint8_t *yRow = ws.row(kLine0);
			uint8_t *hu = ws.row(kHalfU), *hv = ws.row(kHalfV);
			(inTraits_.yuyv ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
				in.row(0, y), 0, yRow, 0, hu, 0, hv, 0, width_, 1);
			luma = yRow;
			u0 = ws.row(kTempU);
			v0 = ws.row(kTempV);
			kernels::upsampleH(hu, ws.row(kTempU), width_, inCositedH_);
			kernels::upsampleH(hv, ws.row(kTempV), width_, inCositedH_);
			break;
		}
		case Layout::I422:
		case Layout::I444: {
			luma = in.row(0, y);
			ChromaRows c = planarChroma(in, y, ws.row(kTempU), ws.row(kTempV));
			u0 = c.u;
			v0 = c.v;
			break;
		}
		default: {
			luma = in.row(0, y);
			int k = y >> 1;
			if (blend) {
				/* up_v2: even lines mix with the chroma line
				 * above, odd lines with the one below. */
				int nb = std::clamp((y & 1) ? k + 1 : k - 1, 0, chromaLines_ - 1);
				ChromaRows other = chromaRows(in, nb, ws);
				u1 = other.u;
				v1 = other.v;
			}
			ChromaRows own = chromaRows(in, k, ws);
			u0 = own.u;
			v0 = own.v;
			break;
		}
		}
		kernels::yuvToRgb(yuvToRgb_, luma, u0, v0, u1, v1, dst, width_, stream_);
	}
}

ColorConverter::Line ColorConverter::processLine(const Image &in, int line, int slot,
						 Workspace &ws) const
{
	/* Rows past the bottom repeat the last one. */
	int y = std::min(line, height_ - 1);
	uint8_t *rows[4];
	for (int i = 0; i < 4; i++)
		rows[i] = ws.row(kLine0 + 4 * slot + i);
	Line result{ { nullptr, nullptr, nullptr }, nullptr };

	if (inTraits_.layout == Layout::Rgb4) {
		/* SplitARGBPlane names libyuv's byte order: B, G, R, A. */
		uint8_t *byteRow[4];
		byteRow[inTraits_.order.r] = rows[0];
		byteRow[inTraits_.order.g] = rows[1];
		byteRow[inTraits_.order.b] = rows[2];
		byteRow[inTraits_.order.a] = rows[3];
		libyuv::SplitARGBPlane(in.row(0, y), 0, byteRow[2], 0, byteRow[1], 0, byteRow[0], 0,
				       byteRow[3], 0, width_, 1);
		result = { { rows[0], rows[1], rows[2] }, rows[3] };
	} else {
		switch (inTraits_.layout) {
		case Layout::Gray:
			result.c[0] = in.row(0, y);
			result.c[1] = result.c[2] = ws.row(kGrey);
			break;
		case Layout::Packed422: {
			uint8_t *hu = ws.row(kHalfU), *hv = ws.row(kHalfV);
			(inTraits_.yuyv ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
				in.row(0, y), 0, rows[0], 0, hu, 0, hv, 0, width_, 1);
			result.c[0] = rows[0];
			if (upsample_) {
				kernels::upsampleH(hu, rows[1], width_, inCositedH_);
				kernels::upsampleH(hv, rows[2], width_, inCositedH_);
			} else {
				kernels::upsampleNearest(hu, rows[1], width_);
				kernels::upsampleNearest(hv, rows[2], width_);
			}
			result.c[1] = rows[1];
			result.c[2] = rows[2];
			break;
		}
		case Layout::I422:
		case Layout::I444: {
			result.c[0] = in.row(0, y);
			ChromaRows c = planarChroma(in, y, rows[1], rows[2]);
			result.c[1] = c.u;
			result.c[2] = c.v;
			break;
		}
		default: {
			result.c[0] = in.row(0, y);
			int k = std::min(line >> 1, chromaLines_ - 1);
			if (upsample_ && !inCositedV_) {
				int nb = std::clamp((line & 1) ? k + 1 : k - 1, 0, chromaLines_ - 1);
				ChromaRows other = chromaRows(in, nb, ws);
				ChromaRows own = chromaRows(in, k, ws);
				kernels::blend31(own.u, other.u, rows[1], width_);
				kernels::blend31(own.v, other.v, rows[2], width_);
				result.c[1] = rows[1];
				result.c[2] = rows[2];
			} else {
				/* Read-only use: the cache rows themselves. */
				ChromaRows own = chromaRows(in, k, ws);
				result.c[1] = own.u;
				result.c[2] = own.v;
			}
			break;
		}
		}
	}

	if (matrix_.kind != MatrixKind::None) {
		uint8_t *const outRows[3] = { rows[0], rows[1], rows[2] };
		kernels::matrixPlanar(matrix_, result.c, outRows, width_);
		result.c[0] = rows[0];
		result.c[1] = rows[1];
		result.c[2] = rows[2];
	}
	return result;
}

void ColorConverter::convertGeneric(const Image &in, const Image &out, int y0, int y1,
				    Workspace &ws) const
{
	uint8_t *hu = ws.row(kOutHalfU), *hv = ws.row(kOutHalfV);
	uint8_t *scratch = ws.row(kHalfU);
	auto horizontal = [&](const uint8_t *u, const uint8_t *v, uint8_t *du, uint8_t *dv) {
		if (downsample_) {
			kernels::downsampleH(u, du, width_, outCositedH_);
			kernels::downsampleH(v, dv, width_, outCositedH_);
		} else {
			pickEven(u, du, scratch, width_);
			pickEven(v, dv, scratch, width_);
		}
	};

	if (is420(outTraits_)) {
		for (int y = y0; y < y1; y += 2) {
			/* With an odd height the pair's second line is the
			 * virtual line below the frame, as videoconvert's
			 * line cache makes it: the last line's pixels, with
			 * chroma upsampled for a line of its parity. */
			Line a = processLine(in, y, 0, ws);
			bool second = y + 1 < height_;
			Line b = processLine(in, y + 1, 1, ws);
			std::memcpy(out.row(0, y), a.c[0], static_cast<std::size_t>(width_));
			if (second)
				std::memcpy(out.row(0, y + 1), b.c[0], static_cast<std::size_t>(width_));

			const uint8_t *u = a.c[1], *v = a.c[2];
			if (downsample_ && !outCositedV_) {
				kernels::average(a.c[1], b.c[1], ws.row(kTempU), width_);
				kernels::average(a.c[2], b.c[2], ws.row(kTempV), width_);
				u = ws.row(kTempU);
				v = ws.row(kTempV);
			}
			int k = y / 2;
			if (outTraits_.layout == Layout::I420) {
				horizontal(u, v, out.row(1, k), out.row(2, k));
			} else {
				horizontal(u, v, hu, hv);
				libyuv::MergeUVPlane(hu, 0, hv, 0, out.row(1, k), 0, chromaWidth_, 1);
			}
		}
		return;
	}

	for (int y = y0; y < y1; y++) {
		Line a = processLine(in, y, 0, ws);
		switch (outTraits_.layout) {
		case Layout::Gray:
			std::memcpy(out.row(0, y), a.c[0], static_cast<std::size_t>(width_));
			break;
		case Layout::Packed422:
			horizontal(a.c[1], a.c[2], hu, hv);
			(outTraits_.yuyv ? libyuv::I422ToYUY2 : libyuv::I422ToUYVY)(
				a.c[0], 0, hu, 0, hv, 0, out.row(0, y), 0, width_, 1);
			break;
		case Layout::I422:
			std::memcpy(out.row(0, y), a.c[0], static_cast<std::size_t>(width_));
			horizontal(a.c[1], a.c[2], out.row(1, y), out.row(2, y));
			break;
		case Layout::I444:
			for (int p = 0; p < 3; p++)
				std::memcpy(out.row(p, y), a.c[p], static_cast<std::size_t>(width_));
			break;
		default:
			break;
		}
	}
}

} /* namespace zcbuf::convert */
