/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcthumbnail's encoder thread: it owns one job at a time, which the
 * streaming thread fills (the downscaled frame) only while the thread is
 * idle, and then encodes it (libjpeg) and writes the file off the
 * streaming thread. The streaming thread never waits for it, except at
 * EOS (waitIdle) and when the element stops.
 */
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <gst/gst.h>

#include "jpeg/compressor.h"
#include "image/image.h"

namespace zcbuf::thumbnail {

struct ThumbnailJob {
	image::ThumbnailImage image;
	int quality = 85;
	std::string path;
	std::uint64_t index = 0;
	GstClockTime pts = GST_CLOCK_TIME_NONE;
	GstClockTime runningTime = GST_CLOCK_TIME_NONE;
	GstClockTime streamTime = GST_CLOCK_TIME_NONE;
};

/* What a finished job reports: the job's particulars (the job itself may
 * be refilled by then) and how it went. */
struct ThumbnailOutcome {
	bool ok = false;
	std::size_t bytes = 0;
	/* Why encoding or writing failed. */
	std::string error;
	std::string path;
	int width = 0;
	int height = 0;
	std::uint64_t index = 0;
	GstClockTime pts = GST_CLOCK_TIME_NONE;
	GstClockTime runningTime = GST_CLOCK_TIME_NONE;
	GstClockTime streamTime = GST_CLOCK_TIME_NONE;
};

class ThumbnailWorker
{
public:
	/* Called on the worker thread after each job. The worker takes new
	 * work as soon as the file is written, before the report: a busy
	 * encoder is never one that only posts a message. */
	using Report = std::function<void(const ThumbnailOutcome &)>;

	explicit ThumbnailWorker(Report report);
	/* Finishes a submitted job, then joins the thread. */
	~ThumbnailWorker();
	/* (The constructor throws std::system_error when the thread, named
	 * zcthumbnail, cannot be made.) */
	ThumbnailWorker(const ThumbnailWorker &) = delete;
	ThumbnailWorker &operator=(const ThumbnailWorker &) = delete;

	/* The job to fill, or null while the previous one is in work. Until
	 * submit() or release(), the caller owns it. */
	ThumbnailJob *acquire();
	void submit();
	/* Gives an acquired job back unsubmitted. */
	void release();
	/* Blocks until no job is in work and every report is made. */
	void waitIdle();

private:
	enum class State { Idle, Filling, Queued, Working };

	void run();

	Report report_;
	std::mutex mutex_;
	std::condition_variable changed_;
	State state_ = State::Idle;
	bool reporting_ = false;
	bool quit_ = false;
	ThumbnailJob job_;
	zcbuf::jpeg::Compressor compressor_;
	std::vector<std::uint8_t> jpeg_;
	std::thread thread_;
};

} /* namespace zcbuf::thumbnail */
