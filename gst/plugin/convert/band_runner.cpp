/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/band_runner.h"

namespace zcbuf::convert {

BandRunner::~BandRunner()
{
	stop();
}

void BandRunner::stop()
{
	{
		std::lock_guard<std::mutex> lock(mutex_);
		quit_ = true;
	}
	wake_.notify_all();
	for (std::thread &thread : workers_)
		thread.join();
	workers_.clear();
	quit_ = false;
}

void BandRunner::setThreads(unsigned threads)
{
	if (threads < 1)
		threads = 1;
	if (threads == this->threads())
		return;
	stop();
	for (unsigned i = 1; i < threads; i++)
		workers_.emplace_back(&BandRunner::workerLoop, this, static_cast<int>(i));
}

int BandRunner::take(int worker)
{
	int ran = 0;
	std::unique_lock<std::mutex> lock(mutex_);
	while (job_ && next_ < bands_) {
		int band = next_++;
		const Job *job = job_;
		lock.unlock();
		(*job)(band, worker);
		ran++;
		lock.lock();
		if (++finished_ == bands_)
			done_.notify_all();
	}
	return ran;
}

void BandRunner::workerLoop(int worker)
{
	unsigned seen = 0;
	for (;;) {
		{
			std::unique_lock<std::mutex> lock(mutex_);
			wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
			if (quit_)
				return;
			seen = generation_;
		}
		take(worker);
	}
}

void BandRunner::run(int bands, const Job &job)
{
	if (bands <= 0)
		return;
	if (workers_.empty() || bands == 1) {
		for (int band = 0; band < bands; band++)
			job(band, 0);
		return;
	}
	{
		std::lock_guard<std::mutex> lock(mutex_);
		job_ = &job;
		bands_ = bands;
		next_ = 0;
		finished_ = 0;
		generation_++;
	}
	wake_.notify_all();
	take(0);
	std::unique_lock<std::mutex> lock(mutex_);
	done_.wait(lock, [&] { return finished_ == bands_; });
	job_ = nullptr;
}

} /* namespace zcbuf::convert */
