/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frames between two processes: zcipcsink ! ... ! zcipcsrc against
 * shmsink ! ... ! shmsrc, NV12 at 1080p and 4K, in two cases:
 *
 *   "pool memory":   the producer's frames already live in fd memory of
 *                    its own zcbuf pool (what zcjpegdec and zcconvert
 *                    give); an appsrc hands out pre-filled pool buffers,
 *                    so producing costs nothing and the transport is all
 *                    that is measured. zcipcsink passes the fds; shmsink
 *                    copies every frame into its segment.
 *   "system memory": videotestsrc pattern=solid-color writing into the
 *                    memory the sink proposes (zcipcsink a zcbuf pool,
 *                    shmsink its shm allocator): neither copies.
 *
 * The consumer is this program again (--consumer), a process of its own:
 * `zcipcsrc ! fakesink` or `shmsrc ! caps ! fakesink`. Every frame carries
 * its index in its first 8 bytes (written by the producer as the frame
 * enters its sink, read by the consumer as it reaches fakesink), so both
 * transports are timed the same way, whatever they do with timestamps.
 *
 * Per subject and repetition, two runs:
 *   unpaced: the producer pushes as fast as the transport lets it; frames
 *            per second between the consumer's first and last frame, and
 *            CPU seconds per delivered frame of both processes (each
 *            process's own getrusage over its part of the run);
 *   paced:   one frame every 10 ms; latency from the frame entering the
 *            producer's sink to reaching the consumer's fakesink
 *            (CLOCK_MONOTONIC in both), median and p99 over the frames
 *            after the first 5.
 * The subjects alternate within every repetition; throughput and CPU
 * report the best repetition, latencies the median of the repetitions.
 */
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>

#include "bench_gst_common.h"
#include "bench_output.h"

extern char **environ;

namespace {

double cpuNow()
{
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
	       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void writeIndex(GstBuffer *buffer, guint64 index)
{
	GstMapInfo map;
	if (!gst_buffer_map(buffer, &map, GST_MAP_WRITE))
		bench::fail("cannot map a frame to stamp it");
	std::memcpy(map.data, &index, sizeof(index));
	gst_buffer_unmap(buffer, &map);
}

guint64 readIndex(GstBuffer *buffer)
{
	GstMapInfo map;
	guint64 index = G_MAXUINT64;
	if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
		if (map.size >= sizeof(index))
			std::memcpy(&index, map.data, sizeof(index));
		gst_buffer_unmap(buffer, &map);
	}
	return index;
}

/* ---- the consumer process ---- */

struct Received {
	std::mutex lock;
	std::vector<std::pair<guint64, gint64>> frames; /* index, monotonic us */
	double cpuFirst = 0, cpuLast = 0;
	std::atomic<bool> done{ false };
	guint64 last = 0;
};

GstPadProbeReturn onReceived(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *r = static_cast<Received *>(data);
	gint64 now = g_get_monotonic_time();
	guint64 index = readIndex(GST_PAD_PROBE_INFO_BUFFER(info));
	std::lock_guard<std::mutex> lock(r->lock);
	if (r->frames.empty())
		r->cpuFirst = cpuNow();
	r->cpuLast = cpuNow();
	r->frames.emplace_back(index, now);
	if (index == r->last)
		r->done = true;
	return GST_PAD_PROBE_OK;
}

/* --consumer KIND SOCKET CAPS LAST: prints "RECV index us" per frame and
 * "CPU seconds" between its first and last frame, then exits. */
int consumer(const std::string &kind, const std::string &socket, const std::string &caps,
	     guint64 last)
{
	std::string description =
		kind == "zcipc" ? "zcipcsrc socket-path=" + socket + " ! fakesink name=out sync=false"
				: "shmsrc socket-path=" + socket + " is-live=true ! " + caps +
					  " ! fakesink name=out sync=false";
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		bench::fail(std::string("consumer: ") + (error ? error->message : description));
	Received received;
	received.last = last;
	GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	GstPad *pad = gst_element_get_static_pad(out, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, onReceived, &received, nullptr);
	gst_object_unref(pad);
	gst_object_unref(out);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	/* Until the last frame, an error, or 10 s without a frame: the first
	 * frame can take seconds when the whole test suite shares 2 cores. */
	GstBus *bus = gst_element_get_bus(pipeline);
	std::size_t seen = 0;
	gint64 quietSince = g_get_monotonic_time();
	while (!received.done) {
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 20 * GST_MSECOND,
			static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
		if (message) {
			gst_message_unref(message);
			break;
		}
		std::lock_guard<std::mutex> lock(received.lock);
		if (received.frames.size() != seen) {
			seen = received.frames.size();
			quietSince = g_get_monotonic_time();
		} else if (g_get_monotonic_time() - quietSince > 10 * G_USEC_PER_SEC) {
			break;
		}
	}
	gst_object_unref(bus);
	{
		std::lock_guard<std::mutex> lock(received.lock);
		for (const auto &[index, us] : received.frames)
			std::printf("RECV %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT "\n", index, us);
		std::printf("CPU %.6f\n", received.cpuLast - received.cpuFirst);
	}
	std::fflush(stdout);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(pipeline);
	return 0;
}

/* ---- the producer, in this process ---- */

struct Child {
	pid_t pid = -1;
	int out = -1; /* its stdout */
};

Child spawnConsumer(const std::string &kind, const std::string &socket, const std::string &caps,
		    guint64 last)
{
	int pipeFds[2];
	if (pipe(pipeFds) != 0)
		bench::fail("pipe failed");
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
	std::string lastText = std::to_string(last);
	std::string self = "/proc/self/exe";
	std::vector<char *> argv = { self.data(), const_cast<char *>("--consumer"),
				     const_cast<char *>(kind.c_str()),
				     const_cast<char *>(socket.c_str()),
				     const_cast<char *>(caps.c_str()), lastText.data(), nullptr };
	Child child;
	if (posix_spawn(&child.pid, self.c_str(), &actions, nullptr, argv.data(), environ) != 0)
		bench::fail("cannot start the consumer process");
	posix_spawn_file_actions_destroy(&actions);
	close(pipeFds[1]);
	child.out = pipeFds[0];
	return child;
}

struct ConsumerReport {
	std::map<guint64, gint64> received; /* first arrival of each index */
	gint64 first = 0, last = 0;
	double cpu = 0;
};

ConsumerReport collect(Child &child)
{
	std::string text;
	char chunk[65536];
	ssize_t n;
	while ((n = read(child.out, chunk, sizeof(chunk))) > 0)
		text.append(chunk, static_cast<std::size_t>(n));
	close(child.out);
	int status = 0;
	waitpid(child.pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench::fail("the consumer process failed");
	ConsumerReport report;
	std::size_t at = 0;
	while (at < text.size()) {
		std::size_t end = text.find('\n', at);
		std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
		at = end == std::string::npos ? text.size() : end + 1;
		guint64 index;
		gint64 us;
		double cpu;
		if (std::sscanf(line.c_str(), "RECV %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT, &index,
				&us) == 2) {
			report.received.emplace(index, us);
			report.first = report.first ? std::min(report.first, us) : us;
			report.last = std::max(report.last, us);
		} else if (std::sscanf(line.c_str(), "CPU %lf", &cpu) == 1) {
			report.cpu = cpu;
		}
	}
	return report;
}

struct Pushed {
	std::mutex lock;
	std::map<guint64, gint64> at;
	guint64 next = 0;
	double cpuFirst = 0, cpuLast = 0;
};

/* On the producer's sink pad: stamp the frame's index (system-memory case,
 * where videotestsrc made the frame) and note when it entered. */
GstPadProbeReturn onPushed(GstPad *, GstPadProbeInfo *info, gpointer data)
{
	auto *p = static_cast<Pushed *>(data);
	GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
	std::lock_guard<std::mutex> lock(p->lock);
	guint64 index = p->next++;
	if (gst_buffer_is_writable(buffer))
		writeIndex(buffer, index);
	if (p->at.empty())
		p->cpuFirst = cpuNow();
	p->cpuLast = cpuNow();
	p->at[index] = g_get_monotonic_time();
	return GST_PAD_PROBE_OK;
}

struct Size {
	const char *name;
	int width, height;
};

struct RunResult {
	double fps = 0, cpuPerFrame = 0;
	std::vector<double> latencies; /* us */
	guint64 delivered = 0;
};

std::string sinkOf(const std::string &subject, const std::string &socket, gsize frameSize)
{
	if (subject == "zcipcsink/zcipcsrc")
		return "zcipcsink name=sink sync=false socket-path=" + socket;
	return "shmsink name=sink sync=false wait-for-connection=true shm-size=" +
	       std::to_string(frameSize * 8) + " socket-path=" + socket;
}

void waitForConsumer(GstElement *sink, const std::string &subject)
{
	if (subject != "zcipcsink/zcipcsrc")
		return; /* shmsink waits for its connection itself */
	/* 30 s: a process starting GStreamer on a loaded machine. */
	for (int i = 0; i < 3000; i++) {
		guint n = 0;
		g_object_get(sink, "consumers", &n, nullptr);
		if (n > 0)
			return;
		g_usleep(10000);
	}
	bench::fail("the zcipcsrc consumer never connected");
}

RunResult runOnce(const std::string &subject, const std::string &memory, const Size &size,
		  int frames, bool paced)
{
	static int serial = 0;
	const std::string socket = "/tmp/zcbuf-bench-ipc-" + std::to_string(getpid()) + "-" +
				   std::to_string(serial++);
	const std::string caps = "video/x-raw,format=NV12,width=" + std::to_string(size.width) +
				 ",height=" + std::to_string(size.height) + ",framerate=100/1";
	GstVideoInfo info;
	GstCaps *parsed = gst_caps_from_string(caps.c_str());
	gst_video_info_from_caps(&info, parsed);
	const gsize frameSize = GST_VIDEO_INFO_SIZE(&info);

	const bool fromPool = memory == "pool memory";
	std::string source = fromPool ? "appsrc name=src format=time caps=\"" + caps + "\""
				      : "videotestsrc pattern=solid-color num-buffers=" +
						std::to_string(frames) +
						(paced ? " is-live=true" : "") + " ! " + caps;
	std::string description = source + " ! " + sinkOf(subject, socket, frameSize);
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline)
		bench::fail("producer: " + std::string(error ? error->message : description));
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	Pushed pushed;
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, onPushed, &pushed, nullptr);
	gst_object_unref(pad);

	/* The pre-filled pool: enough buffers for the sink and its consumer
	 * to hold some (zcipcsink's default max-pending is 4). */
	GstBufferPool *pool = nullptr;
	if (fromPool) {
		pool = gst_zcbuf_buffer_pool_new(nullptr);
		GstStructure *config = gst_buffer_pool_get_config(pool);
		gst_buffer_pool_config_set_params(config, parsed, frameSize, 8, 8);
		gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
		if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE))
			bench::fail("cannot start the zcbuf pool");
		std::vector<GstBuffer *> all;
		for (int i = 0; i < 8; i++) {
			GstBuffer *b = nullptr;
			gst_buffer_pool_acquire_buffer(pool, &b, nullptr);
			gst_buffer_memset(b, 0, 0x80, frameSize);
			all.push_back(b);
		}
		for (GstBuffer *b : all)
			gst_buffer_unref(b);
	}
	gst_caps_unref(parsed);

	/* The socket exists once the sink has started: PAUSED first. */
	gst_element_set_state(pipeline, GST_STATE_PAUSED);
	for (int i = 0; i < 3000 && access(socket.c_str(), F_OK) != 0; i++)
		g_usleep(10000);
	Child child = spawnConsumer(subject == "zcipcsink/zcipcsrc" ? "zcipc" : "shm", socket,
				    caps, static_cast<guint64>(frames - 1));
	waitForConsumer(sink, subject);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);

	if (fromPool) {
		GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
		gint64 start = g_get_monotonic_time();
		for (int i = 0; i < frames; i++) {
			if (paced) {
				gint64 due = start + i * 10000;
				gint64 now = g_get_monotonic_time();
				if (due > now)
					g_usleep(static_cast<gulong>(due - now));
			}
			GstBuffer *buffer = nullptr;
			if (gst_buffer_pool_acquire_buffer(pool, &buffer, nullptr) != GST_FLOW_OK)
				bench::fail("the zcbuf pool stopped");
			writeIndex(buffer, static_cast<guint64>(i));
			GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(i) * GST_SECOND / 100;
			GST_BUFFER_DURATION(buffer) = GST_SECOND / 100;
			if (gst_app_src_push_buffer(GST_APP_SRC(src), buffer) != GST_FLOW_OK)
				bench::fail("the producer stopped");
		}
		gst_app_src_end_of_stream(GST_APP_SRC(src));
		gst_object_unref(src);
	}
	bench::waitForEos(pipeline, description);
	ConsumerReport report = collect(child);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	if (pool) {
		gst_buffer_pool_set_active(pool, FALSE);
		gst_object_unref(pool);
	}
	unlink(socket.c_str());

	RunResult result;
	result.delivered = report.received.size();
	if (result.delivered < 2 || report.last <= report.first)
		bench::fail(subject + ": the consumer received " + std::to_string(result.delivered) +
			    " frames");
	std::fprintf(stderr, "%s, %s %dx%d%s: %" G_GUINT64_FORMAT " of %d frames delivered\n",
		     subject.c_str(), memory.c_str(), size.width, size.height,
		     paced ? " paced" : "", result.delivered, frames);
	result.fps = (result.delivered - 1) * 1e6 / static_cast<double>(report.last - report.first);
	result.cpuPerFrame = (pushed.cpuLast - pushed.cpuFirst + report.cpu) / result.delivered;
	for (const auto &[index, at] : report.received) {
		auto sent = pushed.at.find(index);
		if (index >= 5 && sent != pushed.at.end())
			result.latencies.push_back(static_cast<double>(at - sent->second));
	}
	return result;
}

double percentile(std::vector<double> values, double p)
{
	if (values.empty())
		return 0;
	std::sort(values.begin(), values.end());
	std::size_t at = static_cast<std::size_t>(p * (values.size() - 1) + 0.5);
	return values[std::min(at, values.size() - 1)];
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	if (argc == 6 && std::string(argv[1]) == "--consumer")
		return consumer(argv[2], argv[3], argv[4], std::stoull(argv[5]));
	for (const char *element : { "zcipcsink", "zcipcsrc", "shmsink", "shmsrc", "appsrc",
				     "videotestsrc", "fakesink" })
		bench::requireElement(element);

	const int repetitions = bench::slow() ? 1 : 3;
	std::vector<Size> sizes = { { "1080p", 1920, 1080 }, { "4K", 3840, 2160 } };
	if (bench::slow())
		sizes.resize(1);
	const std::vector<std::string> subjects = { "zcipcsink/zcipcsrc", "shmsink/shmsrc" };
	for (const Size &size : sizes)
		for (const std::string memory : { "pool memory", "system memory" }) {
			const std::string name = std::string(size.name) + " NV12, " + memory;
			const int frames = bench::slow() ? 30 : size.width > 1920 ? 150 : 300;
			const int pacedFrames = bench::slow() ? 20 : 100;
			std::map<std::string, std::vector<double>> fps, cpu, p50, p99;
			for (int r = 0; r < repetitions; r++)
				for (const std::string &subject : subjects) {
					RunResult fast = runOnce(subject, memory, size, frames, false);
					fps[subject].push_back(fast.fps);
					cpu[subject].push_back(fast.cpuPerFrame * 1e3);
					RunResult paced = runOnce(subject, memory, size, pacedFrames, true);
					p50[subject].push_back(percentile(paced.latencies, 0.5));
					p99[subject].push_back(percentile(paced.latencies, 0.99));
				}
			for (const std::string &subject : subjects) {
				bench::report("ipc-throughput", name, subject,
					      bench::bestOf(fps[subject]), "frames/s", "higher");
				bench::report("ipc-cpu", name, subject,
					      bench::bestOf(cpu[subject], false), "ms/frame", "lower");
				bench::report("ipc-latency-p50", name, subject,
					      bench::medianOf(p50[subject]), "us", "lower");
				bench::report("ipc-latency-p99", name, subject,
					      bench::medianOf(p99[subject]), "us", "lower");
			}
		}
	return 0;
}
