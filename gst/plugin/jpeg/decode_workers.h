/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads that decode JPEG frames in parallel for zcjpegdec. MJPEG frames
 * are independent, so any worker may take any frame; the element keeps
 * the jobs in submission order and finishes them in that order, so that
 * output order and timestamps are those of the input. Workers touch only
 * their job's buffers, never the GstVideoDecoder.
 */
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gst/video/gstvideodecoder.h>

#include "jpeg/decompressor.h"

namespace zcbuf::jpeg {

/* A picture of some of a frame's rows (restart_intervals.h) and those
 * rows of the frame's mapped output. */
struct DecodeBand {
	std::vector<std::uint8_t> jpeg;
	GstVideoFrame rows;
};

/* One frame: its input buffer decoded into its (allocated) output buffer;
 * or, with @band, one band of a frame. */
struct DecodeJob {
	/* The reference handle_frame() received; the element passes it on
	 * to finish_frame() or drop_frame(). */
	GstVideoCodecFrame *frame = nullptr;
	DecodeBand *band = nullptr;
	/* The layout the output buffer is mapped with. */
	GstVideoInfo info;
	DecodeOptions options;

	/* Valid once the job is done. */
	/* The worker thread's name, null when decoded on the caller's. */
	const char *worker = nullptr;
	bool ok = false;
	std::string error;
	DecodeReport report;
};

/* Maps the job's input for reading and its output for writing (a CPU
 * access bracket on zcbuf memory) and decodes; fills the job's results. */
void runDecodeJob(Decompressor &decompressor, DecodeJob &job);

class DecodeWorkers
{
public:
	/* Throws std::system_error when a thread cannot be made (the ones
	 * made are joined first). Threads are named zcjpegdec-wN. */
	explicit DecodeWorkers(unsigned threads);
	/* Runs what is queued, then joins the threads. */
	~DecodeWorkers();
	DecodeWorkers(const DecodeWorkers &) = delete;
	DecodeWorkers &operator=(const DecodeWorkers &) = delete;

	void submit(std::shared_ptr<DecodeJob> job);
	bool isDone(const std::shared_ptr<DecodeJob> &job);
	/* Blocks until @job is done. */
	void wait(const std::shared_ptr<DecodeJob> &job);

private:
	void run(const char *name);
	void stop();

	std::mutex mutex_;
	std::condition_variable queued_;
	std::condition_variable finished_;
	std::deque<std::shared_ptr<DecodeJob>> queue_;
	/* Jobs submitted and not yet done. */
	std::vector<const DecodeJob *> busy_;
	bool quit_ = false;
	std::vector<std::thread> threads_;
	/* One per thread, made before the threads (job->worker points here). */
	std::vector<std::string> names_;
};

} /* namespace zcbuf::jpeg */
