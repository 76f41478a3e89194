/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "convert/band_runner.h"

#include <pthread.h>

#include <system_error>

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

std::thread BandRunner::startThread(int worker)
{
	return std::thread(&BandRunner::workerLoop, this, worker);
}

bool BandRunner::setThreads(unsigned threads, std::string &error)
{
	if (threads < 1)
		threads = 1;
	if (threads == this->threads() && !failed_)
		return true;
	stop();
	failed_ = true;
	try {
		/* Reserved first: a push_back that reallocated could throw
		 * with a running thread in hand. */
		workers_.reserve(threads - 1);
	} catch (const std::bad_alloc &) {
		error = "cannot allocate " + std::to_string(threads) + " conversion threads";
		return false;
	}
	for (unsigned i = 1; i < threads; i++) {
		std::thread thread;
		try {
			thread = startThread(static_cast<int>(i));
		} catch (const std::system_error &e) {
			error = "cannot start conversion thread " + std::to_string(i) + " of " +
				std::to_string(threads) + ": " + e.what();
			stop();
			return false;
		}
		/* Named for top -H and gdb (15 characters at most), by the
		 * creator, so that the name is there before the thread runs. */
		pthread_setname_np(thread.native_handle(),
				   ("zcconvert-" + std::to_string(i)).substr(0, 15).c_str());
		workers_.push_back(std::move(thread));
	}
	failed_ = false;
	return true;
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
