/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The main job against the upstream pipeline doing the same job, on the
 * same 1080p MJPEG clip in memory: decode, convert to BGRx for the main
 * path, and one 320-wide JPEG thumbnail a second.
 *
 *   zcbuf:    zcjpegdec n-threads=N ! zcconvert n-threads=N ! BGRx
 *             ! zcthumbnail interval=1s ! fakesink
 *   upstream: jpegdec ! videoconvert n-threads=N ! BGRx ! tee ! queue ! fakesink
 *             tee. ! queue leaky ! videorate drop-only ! 1 frame/s
 *               ! videoscale ! 320x180 ! jpegenc ! multifilesink
 *
 * each as its user writes it: a tee needs a queue on every branch (without
 * one the first sink's preroll blocks the others), which also gives the
 * upstream pipeline a thread more than the zcbuf one.
 * at N = 1 and 2 (jpegdec has no threads; it is what a user has), frames
 * per second on the main path and the process's CPU seconds per frame. The
 * subjects alternate within every repetition, on the same buffers; each
 * reports its best repetition.
 */
#include <map>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "bench_gst_common.h"
#include "bench_output.h"

namespace {

/* At least one thumbnail was written: a pipeline that made none did not do
 * the job, however fast. */
void requireThumbnails(const std::string &directory, const std::string &subject)
{
	GDir *dir = g_dir_open(directory.c_str(), 0, nullptr);
	bool any = dir && g_dir_read_name(dir);
	if (dir)
		g_dir_close(dir);
	if (!any)
		bench::fail(subject + " wrote no thumbnail");
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	for (const char *element : { "zcjpegdec", "zcconvert", "zcthumbnail", "jpegdec",
				     "videoconvert", "videorate", "videoscale", "jpegenc",
				     "multifilesink", "tee", "queue" })
		bench::requireElement(element);

	const int frames = bench::slow() ? 40 : 300;
	const int repetitions = bench::slow() ? 1 : 3;
	const std::string dir = bench::makeTempDirectory();

	bench::Clip clip;
	bench::recordZonePlate(frames, "I420", &clip);

	const std::string bgrx = "video/x-raw,format=BGRx,width=1920,height=1080";
	for (int threads : { 1, 2 }) {
		const std::string n = std::to_string(threads);
		const std::vector<std::pair<std::string, std::string>> subjects = {
			{ "zcbuf", "zcjpegdec n-threads=" + n + " ! zcconvert n-threads=" + n + " ! " +
					   bgrx + " ! zcthumbnail interval=1000000000 width=320 "
					   "height=240 quality=85 location=" + dir + "/zc-%05d.jpg ! "
					   "fakesink name=sink sync=false" },
			{ "upstream", "jpegdec ! videoconvert n-threads=" + n + " ! " + bgrx +
					      " ! tee name=t ! queue ! fakesink name=sink sync=false "
					      "t. ! queue leaky=downstream max-size-buffers=2 ! "
					      "videorate drop-only=true ! video/x-raw,framerate=1/1 ! "
					      "videoscale ! video/x-raw,width=320,height=180 ! "
					      "jpegenc quality=85 ! multifilesink location=" + dir +
					      "/up-%05d.jpg" },
		};
		std::map<std::string, std::vector<double>> rates, cpu;
		for (int r = 0; r < repetitions; r++)
			for (const auto &[subject, chain] : subjects) {
				bench::PipelineRun run = bench::runPipeline(clip, chain);
				requireThumbnails(dir, subject);
				bench::removeFiles(dir);
				rates[subject].push_back(run.framesPerSecond);
				cpu[subject].push_back(run.cpuSecondsPerFrame * 1000.0);
			}
		const std::string name = "1080p MJPEG, " + n + (threads == 1 ? " thread" : " threads");
		for (const auto &[subject, chain] : subjects) {
			bench::report("main-job", name, subject, bench::bestOf(rates[subject]),
				      "frames/s", "higher");
			bench::report("main-job-cpu", name, subject,
				      bench::bestOf(cpu[subject], false), "CPU ms a frame", "lower");
		}
	}
	g_rmdir(dir.c_str());
	gst_deinit();
	return 0;
}
