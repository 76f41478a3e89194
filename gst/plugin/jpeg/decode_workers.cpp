/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg/decode_workers.h"

#include <algorithm>
#include <string>

#include <pthread.h>

namespace zcbuf::jpeg {

void runDecodeJob(Decompressor &decompressor, DecodeJob &job)
{
	if (job.band) {
		job.ok = decompressor.decode(job.band->jpeg.data(), job.band->jpeg.size(),
					     job.options, &job.band->rows, &job.report,
					     &job.error);
		return;
	}
	GstBuffer *input = job.frame->input_buffer;
	GstBuffer *output = job.frame->output_buffer;
	GstMapInfo in;
	if (!gst_buffer_map(input, &in, GST_MAP_READ)) {
		job.error = "cannot map the input buffer for reading";
		return;
	}
	GstVideoFrame out;
	if (!gst_video_frame_map(&out, &job.info, output, GST_MAP_WRITE)) {
		gst_buffer_unmap(input, &in);
		job.error = "cannot map the output buffer for writing";
		return;
	}
	job.ok = decompressor.decode(in.data, in.size, job.options, &out, &job.report, &job.error);
	gst_video_frame_unmap(&out);
	gst_buffer_unmap(input, &in);
}

DecodeWorkers::DecodeWorkers(unsigned threads)
{
	/* "zcjpegdec-w3" in top -H and gdb (at most 15 characters). */
	for (unsigned i = 0; i < threads; i++)
		names_.push_back("zcjpegdec-w" + std::to_string(i));
	try {
		for (unsigned i = 0; i < threads; i++)
			threads_.emplace_back([this, i] {
				pthread_setname_np(pthread_self(), names_[i].c_str());
				run(names_[i].c_str());
			});
	} catch (...) {
		/* A thread that cannot be made (std::system_error): the
		 * ones already running must be joined before the members
		 * go, or std::thread's destructor terminates the process. */
		stop();
		throw;
	}
}

DecodeWorkers::~DecodeWorkers()
{
	stop();
}

void DecodeWorkers::stop()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		quit_ = true;
	}
	queued_.notify_all();
	for (std::thread &thread : threads_)
		if (thread.joinable())
			thread.join();
}

void DecodeWorkers::submit(std::shared_ptr<DecodeJob> job)
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		busy_.push_back(job.get());
		queue_.push_back(std::move(job));
	}
	queued_.notify_one();
}

bool DecodeWorkers::isDone(const std::shared_ptr<DecodeJob> &job)
{
	std::lock_guard<std::mutex> lock(mutex_);
	return std::find(busy_.begin(), busy_.end(), job.get()) == busy_.end();
}

void DecodeWorkers::wait(const std::shared_ptr<DecodeJob> &job)
{
	std::unique_lock<std::mutex> lock(mutex_);
	finished_.wait(lock, [&] {
		return std::find(busy_.begin(), busy_.end(), job.get()) == busy_.end();
	});
}

void DecodeWorkers::run(const char *name)
{
	/* Each thread has its own libjpeg state, reused from frame to frame. */
	Decompressor decompressor;
	std::unique_lock<std::mutex> lock(mutex_);
	for (;;) {
		queued_.wait(lock, [&] { return quit_ || !queue_.empty(); });
		if (queue_.empty())
			return;
		std::shared_ptr<DecodeJob> job = std::move(queue_.front());
		queue_.pop_front();
		lock.unlock();
		job->worker = name;
		runDecodeJob(decompressor, *job);
		lock.lock();
		busy_.erase(std::find(busy_.begin(), busy_.end(), job.get()));
		finished_.notify_all();
	}
}

} /* namespace zcbuf::jpeg */
