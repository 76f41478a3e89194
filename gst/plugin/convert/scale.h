/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scaling one format to another size with libyuv's bilinear filter
 * (kFilterBilinear: two taps per direction, box averaging when shrinking
 * by more than two). Each plane is an independent job, so that scaling
 * can use several threads and still give the same bytes as one. Packed
 * 4:2:2 has no libyuv scaler: it goes through planar 4:2:2 scratch images
 * sized once per configuration.
 */
#pragma once

#include <string>

#include "convert/image.h"

namespace zcbuf::convert {

class Scaler
{
public:
	bool configure(GstVideoFormat format, int inWidth, int inHeight, int outWidth,
		       int outHeight, std::string &error);

	/* Independent jobs per frame (one per plane, or one). */
	int jobs() const { return jobs_; }
	void run(const Image &in, const Image &out, int job) const;

private:
	FormatTraits traits_{};
	int inWidth_ = 0, inHeight_ = 0, outWidth_ = 0, outHeight_ = 0;
	int jobs_ = 1;
	/* Packed 4:2:2 goes through these. */
	mutable OwnedImage planarIn_, planarOut_;
};

} /* namespace zcbuf::convert */
