/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What thumbnailing costs the main pipeline: its frames per second with no
 * thumbnails, with zcthumbnail taking one a second, and with the upstream
 * way of doing the same job, a tee branch that drops to one frame a second
 * and scales and encodes it:
 *
 *   MAIN ! queue ! fakesink
 *   MAIN ! zcthumbnail interval=1s width=320 height=240 ! queue ! fakesink
 *   MAIN ! tee ! queue ! fakesink
 *          t. ! queue leaky=downstream max-size-buffers=2 ! videorate drop-only=true
 *             ! video/x-raw,framerate=1/1 ! videoscale ! video/x-raw,width=320,height=180
 *             ! jpegenc quality=85 ! multifilesink
 *
 * Every main path ends in the same queue ! fakesink, so that the tee's queue
 * (its own thread) is no advantage of its own. The branch's queue is leaky,
 * so it never holds the main path up (as zcthumbnail never waits for its
 * encoder), and both write 320x180 JPEG
 * files at quality 85 for a 1080p stream. MAIN is the README's job before
 * its thumbnailer (zcjpegdec ! zcconvert to BGRx) on a 1080p MJPEG clip in
 * memory. The subjects alternate within every repetition, on the same
 * buffers; each reports its best repetition.
 */
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "bench_gst_common.h"
#include "bench_output.h"

namespace {

/* The main path thumbnails are taken from. */
/* The size is pinned: through a tee the thumbnail branch's 320x180 would
 * otherwise be negotiated for the whole path, zcconvert scaling the main
 * stream down to it. */
const std::string kMain =
	"zcjpegdec n-threads=2 ! zcconvert ! video/x-raw,format=BGRx,width=1920,height=1080";

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	for (const char *element : { "zcjpegdec", "zcconvert", "zcthumbnail", "videorate", "videoscale", "jpegenc",
				     "multifilesink", "tee", "queue" })
		bench::requireElement(element);

	const int frames = bench::slow() ? 30 : 300;
	const int repetitions = bench::slow() ? 1 : 5;
	const std::string dir = bench::makeTempDirectory();

	bench::Clip clip;
	bench::recordZonePlate(frames, "I420", &clip);

	const std::vector<std::pair<std::string, std::string>> subjects = {
		{ "no thumbnails", kMain + " ! queue ! fakesink name=sink sync=false" },
		{ "zcthumbnail", kMain + " ! zcthumbnail interval=1000000000 width=320 height=240 "
					 "quality=85 location=" + dir + "/zc-%05d.jpg ! queue ! "
					 "fakesink name=sink sync=false" },
		{ "tee ! videoscale ! jpegenc",
		  kMain + " ! tee name=t ! queue ! fakesink name=sink sync=false "
			  "t. ! queue leaky=downstream max-size-buffers=2 ! videorate drop-only=true ! "
			  "video/x-raw,framerate=1/1 ! videoscale ! video/x-raw,width=320,height=180 ! "
			  "jpegenc quality=85 ! multifilesink location=" + dir + "/up-%05d.jpg" },
	};
	std::map<std::string, std::vector<double>> rates;
	for (int r = 0; r < repetitions; r++)
		for (const auto &[name, chain] : subjects) {
			rates[name].push_back(bench::framesPerSecond(clip, chain));
			bench::removeFiles(dir);
		}
	g_rmdir(dir.c_str());

	const std::string name = "1080p MJPEG, " + kMain + ", 1 thumbnail/s";
	for (const auto &[subject, chain] : subjects)
		bench::report("thumbnail-cost", name, subject, bench::bestOf(rates[subject]),
			      "frames/s", "higher");
	gst_deinit();
	return 0;
}
