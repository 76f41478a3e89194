/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "display.h"

#include "eos_gate.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>

namespace zcbuf::test {

Card findCard(const char *driver)
{
	for (int i = 0; i < 16; i++) {
		std::string node = "/dev/dri/card" + std::to_string(i);
		int fd = open(node.c_str(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		drmVersionPtr v = drmGetVersion(fd);
		bool match = v && std::string(v->name, v->name_len) == driver;
		drmFreeVersion(v);
		close(fd);
		if (match)
			return { node, "/sys/kernel/debug/dri/" + std::to_string(i) };
	}
	return {};
}

void settle(int ms)
{
	std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

PipelineRun::PipelineRun(const std::string &description)
{
	GError *error = nullptr;
	pipeline_ = gst_parse_launch(description.c_str(), &error);
	if (!pipeline_) {
		error_ = error ? error->message : "parse failed";
		g_clear_error(&error);
		return;
	}
	/* a V4L2 decoder's drain, when there is one named "dec" (eos_gate.h) */
	holdEosUntilFirstOutput(pipeline_, "dec");
	/* Starting (the elements' start(), the first commit) as well as the
	 * run itself: a stop here printed nothing in CI. */
	watched("starting and playing", 90, [&] {
		if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
			collectError(0);
		else
			collectError(60 * GST_SECOND);
	});
}

namespace {

/* Every thread of this process: its name, what it waits in (wchan) and,
 * where the kernel shows it (root in the guest), its kernel stack. */
void printThreads()
{
	DIR *tasks = opendir("/proc/self/task");
	if (!tasks)
		return;
	while (struct dirent *task = readdir(tasks)) {
		if (task->d_name[0] == '.')
			continue;
		std::string dir = std::string("/proc/self/task/") + task->d_name;
		auto read = [&](const char *file) {
			std::ifstream in(dir + "/" + file);
			return std::string(std::istreambuf_iterator<char>(in), {});
		};
		std::fprintf(stderr, "thread %s %s wchan %s\n%s", task->d_name,
			     read("comm").c_str(), read("wchan").c_str(), read("stack").c_str());
	}
	closedir(tasks);
}

} /* namespace */

/* A start/stop cycle hung once in a few hundred under TCG (the guest
 * timed out with nothing to show): @step has @seconds, then every
 * thread's state is printed and the program aborts, so a hang names where
 * it is instead of costing the suite its whole timeout. */
void PipelineRun::watched(const char *step, int seconds, const std::function<void()> &work)
{
	std::mutex lock;
	std::condition_variable changed;
	bool done = false;
	std::thread watchdog([&] {
		std::unique_lock<std::mutex> guard(lock);
		if (!changed.wait_for(guard, std::chrono::seconds(seconds), [&] { return done; })) {
			std::fprintf(stderr, "PipelineRun: %s took over %d s\n", step, seconds);
			printThreads();
			std::abort();
		}
	});
	work();
	{
		std::lock_guard<std::mutex> guard(lock);
		done = true;
	}
	changed.notify_one();
	watchdog.join();
}

void PipelineRun::finish()
{
	if (pipeline_) {
		watched("going to NULL", 60, [&] { gst_element_set_state(pipeline_, GST_STATE_NULL); });
		gst_object_unref(pipeline_);
		pipeline_ = nullptr;
	}
}

GstElement *PipelineRun::element(const char *name)
{
	return pipeline_ ? gst_bin_get_by_name(GST_BIN(pipeline_), name) : nullptr;
}

void PipelineRun::collectError(GstClockTime timeout)
{
	GstBus *bus = gst_element_get_bus(pipeline_);
	GstMessage *msg = gst_bus_timed_pop_filtered(
		bus, timeout, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	if (!msg) {
		error_ = timeout ? "no EOS within 60 s" : "state change failed";
		msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	}
	if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
		GError *err = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_error(msg, &err, &debug);
		error_ = std::string(err->message) + " | " + (debug ? debug : "");
		g_clear_error(&err);
		g_free(debug);
	}
	if (msg)
		gst_message_unref(msg);
	gst_object_unref(bus);
}

std::vector<std::uint8_t> expectedFrame(const std::string &source, int width, int height)
{
	std::string description = source + " ! zcconvert ! video/x-raw,format=BGRx,width=" +
				  std::to_string(width) + ",height=" + std::to_string(height) +
				  " ! appsink name=out sync=false";
	GstElement *pipeline = gst_parse_launch(description.c_str(), nullptr);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
	std::vector<std::uint8_t> bytes;
	if (sample) {
		GstVideoInfo info;
		gst_video_info_from_caps(&info, gst_sample_get_caps(sample));
		GstVideoFrame frame;
		if (gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
			for (int y = 0; y < height; y++) {
				const guint8 *row = static_cast<const guint8 *>(
							    GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)) +
						    y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
				bytes.insert(bytes.end(), row, row + width * 4);
			}
			gst_video_frame_unmap(&frame);
		}
		gst_sample_unref(sample);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	return bytes;
}

} /* namespace zcbuf::test */
