/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scaling one format to another size, bilinear (two taps per direction)
 * and exact on flat colour. Planes go through libyuv's ScalePlane
 * (kFilterBilinear); NV12's UV pairs are split into planes first and
 * merged after; the 4-byte RGB formats go through GStreamer's linear
 * GstVideoScaler. libyuv's interleaved scalers (ARGBScale, UVScale) blend
 * with 7-bit weights that sum to 127/128, so a flat 255 came out 253 (and
 * flat grey chroma 127). One ratio ScalePlane special-cases is not exact
 * either: 3/8 in both directions divides box sums by 9 with a 16-bit
 * reciprocal (flat 255 came out 254); planes of that ratio go through
 * GstVideoScaler too. Packed 4:2:2 goes through planar 4:2:2. The work is
 * a few stages of independent jobs (planes, row bands), so that it can use
 * several threads and still give the same bytes as one.
 */
#pragma once

#include <memory>
#include <string>

#include <gst/video/video-scaler.h>

#include "convert/image.h"

namespace zcbuf::convert {

class Scaler
{
public:
	/* Plans the scaling and allocates its scratch images, counted
	 * against @budget; false with @error (and nothing allocated beyond
	 * the bound) when it cannot. */
	bool configure(GstVideoFormat format, int inWidth, int inHeight, int outWidth,
		       int outHeight, ScratchBudget &budget, std::string &error);

	/* Stages run one after the other; the jobs of a stage are
	 * independent of each other. */
	int stages() const { return stages_; }
	int jobs(int stage) const { return jobs_[stage]; }
	void run(const Image &in, const Image &out, int stage, int job) const;

private:
	/* Plane @c of a stack of component planes of @rows rows each. */
	static uint8_t *plane(const Image &stack, int c, int rows)
	{
		return stack.row(0, c * rows);
	}
	/* A plane of @slot's sizes (see slots_). */
	void scalePlane(int slot, const uint8_t *src, int srcStride, uint8_t *dst,
			int dstStride) const;
	/* Records @slot's sizes and makes its GStreamer scalers where needed. */
	void planFor(int slot, int srcW, int srcH, int dstW, int dstH);
	void split(const Image &in) const;
	void merge(const Image &out, int job) const;

	FormatTraits traits_{};
	int inWidth_ = 0, inHeight_ = 0, outWidth_ = 0, outHeight_ = 0;
	int stages_ = 1;
	int jobs_[3] = { 1, 1, 1 };
	/* NV12's chroma split into two planes (components_), or packed
	 * 4:2:2 made planar: the size of the planes on either side. */
	int components_ = 0;
	int planeInW_ = 0, planeInH_ = 0, planeOutW_ = 0, planeOutH_ = 0;
	OwnedImage planesIn_, planesOut_;

	/* The planes scaled, one slot per plane (Y, U, V), each scaled by
	 * one job at a time. */
	struct ScalerFree {
		void operator()(GstVideoScaler *scaler) const { gst_video_scaler_free(scaler); }
	};
	struct Slot {
		int srcW = 0, srcH = 0, dstW = 0, dstH = 0;
		/* Set for the ratio libyuv is not exact at. */
		std::unique_ptr<GstVideoScaler, ScalerFree> h, v;
	};
	Slot slots_[4];
	/* RGB: scalers of each row band (GstVideoScaler keeps state). */
	Slot bands_[4];
	static bool makeLinearScalers(Slot &slot);
};

} /* namespace zcbuf::convert */
