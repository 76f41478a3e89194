/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Colour conversion between two formats of the same size, row band by row
 * band. The plan reproduces what GStreamer 1.22's videoconvert does for the
 * pair: its fast paths where it takes one (I420 to RGB with the chroma of
 * the nearest sample, the 4:2:2/4:2:0 repackings, UYVY to gray), and
 * otherwise its general chain: nearest unpacking, chroma upsampling when
 * the subsampling or chroma siting differs, the colour matrix, chroma
 * downsampling, packing.
 */
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gst/video/video.h>
#include <gst/video/video-scaler.h>

#include "convert/image.h"
#include "convert/kernels.h"
#include "convert/matrix.h"

namespace zcbuf::convert {

class ColorConverter
{
public:
	/* Per-thread rows the conversion works in; one per band runner. */
	class Workspace
	{
	public:
		void prepare(int width, int rows);
		uint8_t *row(int index) { return storage_.data() + static_cast<std::size_t>(index) * rowBytes_; }

		/* Chroma rows (U, V at full width) of the last three chroma
		 * lines made. */
		int chromaLine[3] = { -1, -1, -1 };
		int nextSlot = 0;

		/* GStreamer's linear chroma scalers of a planar to planar
		 * conversion (not thread-safe: one pair per worker). */
		struct ScalerFree {
			void operator()(GstVideoScaler *scaler) const { gst_video_scaler_free(scaler); }
		};
		std::unique_ptr<GstVideoScaler, ScalerFree> hScaler, vScaler;

	private:
		std::vector<uint8_t> storage_;
		std::size_t rowBytes_ = 0;
	};

	/* Plans @in to @out (same width and height, both handled formats);
	 * false with @error for what cannot be converted. */
	bool configure(const GstVideoInfo &in, const GstVideoInfo &out, std::string &error);

	/* Band boundaries must be multiples of this (2 when 4:2:0 is involved). */
	int rowAlignment() const { return rowAlignment_; }

	/* Sets @workspace up for this plan; throws std::bad_alloc when the
	 * memory cannot be had. */
	void prepare(Workspace &workspace) const;

	/* Writes output rows [@y0, @y1) of @out from @in. */
	void convert(const Image &in, const Image &out, int y0, int y1, Workspace &workspace) const;

	/* The path taken, for the debug log. */
	std::string describe() const;

private:
	enum class Path {
		Nv12ToI420,
		I420ToNv12,
		SwapPacked422,
		ShuffleRgb,
		Packed422ToI420,
		I420ToPacked422,
		LumaOnly,
		YuvToRgb,
		/* Planar YUV to planar YUV (I420, Y42B, Y444): luma copied,
		 * chroma planes halved, copied or scaled as videoconvert's
		 * convert_scale_planes does. */
		ScalePlanes,
		Planar422ToPacked422,
		Packed422ToPlanar422,
		Packed422To444,
		Planar444ToPacked422,
		Generic,
	};
	/* What ScalePlanes does to each chroma plane. */
	enum class ChromaOp { Copy, HalveV, HalveH, HalveHV, Scale };

	struct Line {
		const uint8_t *c[3];
		const uint8_t *a;
	};

	void convertGeneric(const Image &in, const Image &out, int y0, int y1,
			    Workspace &ws) const;
	void convertYuvToRgb(const Image &in, const Image &out, int y0, int y1,
			     Workspace &ws) const;
	Line processLine(const Image &in, int y, int slot, Workspace &ws) const;
	struct ChromaRows {
		const uint8_t *u, *v;
	};
	/* Full-width U and V rows of 4:2:0 input chroma line @k: upsampled
	 * horizontally or taken nearest, from a cache of the last three
	 * (a line asks for its own and a neighbour, in order down the
	 * frame, so three never evict one still needed). */
	ChromaRows chromaRows(const Image &in, int k, Workspace &ws) const;
	void convertScalePlanes(const Image &in, const Image &out, int y0, int y1,
				Workspace &ws) const;
	/* Full-width U and V rows of 4:2:2 or 4:4:4 input line @y. */
	ChromaRows planarChroma(const Image &in, int y, uint8_t *u, uint8_t *v) const;
	/* Output chroma rows [@k0, @k1) of the luma rows [@y0, @y1). */
	void chromaRowsOf(int y0, int y1, int &k0, int &k1) const;

	Path path_ = Path::Generic;
	FormatTraits inTraits_{}, outTraits_{};
	int width_ = 0, height_ = 0;
	int chromaWidth_ = 0, chromaLines_ = 0;
	ChromaOp chromaOp_ = ChromaOp::Copy;
	/* Chroma plane sizes on either side (ScalePlanes). */
	int chromaInW_ = 0, chromaInH_ = 0, chromaOutW_ = 0, chromaOutH_ = 0;
	int rowAlignment_ = 1;
	ColorMatrix matrix_;
	kernels::YuvToRgb yuvToRgb_{};
	bool upsample_ = false, downsample_ = false;
	bool inCositedH_ = false, inCositedV_ = false;
	bool outCositedH_ = false, outCositedV_ = false;
	bool nearestChroma_ = false;
	bool stream_ = false;
	uint8_t shuffle_[16] = {};
};

} /* namespace zcbuf::convert */
