/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "thumbnail/worker.h"

#include <pthread.h>

#include "thumbnail/files.h"

namespace zcbuf::thumbnail {

ThumbnailWorker::ThumbnailWorker(Report report)
	: report_(std::move(report)), thread_([this] {
		  /* Its name in top -H and gdb. */
		  pthread_setname_np(pthread_self(), "zcthumbnail");
		  run();
	  })
{
}

ThumbnailWorker::~ThumbnailWorker()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		quit_ = true;
	}
	changed_.notify_all();
	thread_.join();
}

ThumbnailJob *ThumbnailWorker::acquire()
{
	std::lock_guard<std::mutex> lock(mutex_);
	if (state_ != State::Idle)
		return nullptr;
	state_ = State::Filling;
	return &job_;
}

void ThumbnailWorker::submit()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		state_ = State::Queued;
	}
	changed_.notify_all();
}

void ThumbnailWorker::release()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		state_ = State::Idle;
	}
	changed_.notify_all();
}

void ThumbnailWorker::waitIdle()
{
	std::unique_lock<std::mutex> lock(mutex_);
	changed_.wait(lock, [this] {
		return (state_ == State::Idle || state_ == State::Filling) && !reporting_;
	});
}

void ThumbnailWorker::run()
{
	std::unique_lock<std::mutex> lock(mutex_);
	for (;;) {
		changed_.wait(lock, [this] { return quit_ || state_ == State::Queued; });
		if (state_ != State::Queued)
			return;
		state_ = State::Working;
		lock.unlock();

		ThumbnailOutcome outcome;
		try {
			if (compressor_.compress(job_.image, job_.quality, &jpeg_, &outcome.error)) {
				outcome.ok = writeAtomically(job_.path, jpeg_.data(), jpeg_.size(),
							     &outcome.error);
				outcome.bytes = jpeg_.size();
			} else {
				outcome.error = "encoding failed: " + outcome.error;
			}
		} catch (const std::exception &e) {
			/* Out of memory for the JPEG: this thumbnail fails, the
			 * thread (and the process) goes on. */
			outcome.ok = false;
			outcome.error = e.what();
		}
		outcome.path = job_.path;
		outcome.width = job_.image.width;
		outcome.height = job_.image.height;
		outcome.index = job_.index;
		outcome.pts = job_.pts;
		outcome.runningTime = job_.runningTime;
		outcome.streamTime = job_.streamTime;

		lock.lock();
		state_ = State::Idle;
		reporting_ = true;
		changed_.notify_all();
		lock.unlock();
		report_(outcome);
		lock.lock();
		reporting_ = false;
		changed_.notify_all();
	}
}

} /* namespace zcbuf::thumbnail */
