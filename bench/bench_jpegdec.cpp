/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcjpegdec against jpegdec: frames per second decoding a 1080p MJPEG clip
 * held in memory (videotestsrc's zone plate, moving, through jpegenc at
 * quality 85: about 300 KB a frame, as a detailed camera picture), 4:2:0
 * and 4:2:2 (what webcams send), into fakesink. zcjpegdec runs with one and
 * with two decoding threads; jpegdec has no threads, so its one measurement
 * is the baseline of both cases. The subjects alternate within every
 * repetition, on the same buffers; each reports its best repetition.
 */
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gst/gst.h>

#include "bench_gst_common.h"
#include "bench_output.h"

namespace {

/* The best of the alternating repetitions: this 2-core machine is shared,
 * and interference only ever makes a run slower, so the fastest run of
 * each subject is the one least disturbed. */
double best(const std::vector<double> &values)
{
	return *std::max_element(values.begin(), values.end());
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	bench::requireElement("zcjpegdec");
	bench::requireElement("jpegdec");

	const int frames = bench::slow() ? 20 : 200;
	const int repetitions = bench::slow() ? 1 : 5;
	const std::vector<std::pair<std::string, std::string>> samplings = {
		{ "4:2:0", "I420" },
		{ "4:2:2", "Y42B" },
	};
	const std::vector<std::pair<std::string, std::string>> subjects = {
		{ "jpegdec", "jpegdec" },
		{ "zcjpegdec 1", "zcjpegdec n-threads=1" },
		{ "zcjpegdec 2", "zcjpegdec n-threads=2" },
	};

	for (const auto &[sampling, format] : samplings) {
		bench::Clip clip;
		bench::record("videotestsrc num-buffers=" + std::to_string(frames) +
				      " pattern=zone-plate kx2=8 ky2=8 kt=2 ! video/x-raw,format=" +
				      format + ",width=1920,height=1080,framerate=30/1 ! jpegenc quality=85",
			      &clip);
		std::map<std::string, std::vector<double>> rates;
		for (int r = 0; r < repetitions; r++)
			for (const auto &[name, chain] : subjects)
				rates[name].push_back(bench::framesPerSecond(clip, chain));

		const std::string clipName = "1080p " + sampling + " MJPEG";
		const double jpegdec = best(rates["jpegdec"]);
		for (int threads : { 1, 2 }) {
			std::string name = clipName + ", " + std::to_string(threads) +
					   (threads == 1 ? " thread" : " threads");
			bench::report("jpeg-decode", name, "zcjpegdec",
				      best(rates["zcjpegdec " + std::to_string(threads)]),
				      "frames/s", "higher");
			bench::report("jpeg-decode", name, "upstream jpegdec", jpegdec, "frames/s", "higher");
		}
	}
	gst_deinit();
	return 0;
}
