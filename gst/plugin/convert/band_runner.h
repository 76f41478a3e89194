/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small persistent thread pool for splitting one frame's work into
 * bands: the threads are started once (when the thread count is set) and
 * wait on a condition variable between frames, so a frame costs two
 * wake-ups, not thread creations. The calling thread takes part.
 */
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zcbuf::convert {

class BandRunner
{
public:
	/* A job: band @band of @bands, run by worker @worker (0 is the
	 * caller) so that it can use that worker's scratch memory. */
	using Job = std::function<void(int band, int worker)>;

	BandRunner() = default;
	virtual ~BandRunner();
	BandRunner(const BandRunner &) = delete;
	BandRunner &operator=(const BandRunner &) = delete;

	/* Total threads including the caller (at least 1). Not while run()
	 * is running. False with @error when a thread cannot be created: the
	 * runner then has the caller's thread only (and stays usable), and
	 * tries again at the next call. */
	bool setThreads(unsigned threads, std::string &error);
	unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

	/* Runs @bands jobs, at most threads() at a time, and returns when
	 * all are done. */
	void run(int bands, const Job &job);

protected:
	/* Starts the thread of @worker running workerLoop(); throws
	 * std::system_error as std::thread does when it cannot (a test
	 * overrides it to fail). */
	virtual std::thread startThread(int worker);
	void workerLoop(int worker);

private:
	void stop();
	/* Takes bands until none is left; returns how many it ran. */
	int take(int worker);

	std::vector<std::thread> workers_;
	std::mutex mutex_;
	std::condition_variable wake_, done_;
	const Job *job_ = nullptr;
	int bands_ = 0;
	int next_ = 0;
	int finished_ = 0;
	unsigned generation_ = 0;
	bool quit_ = false;
	/* The last setThreads() failed: the next one tries again. */
	bool failed_ = false;
};

} /* namespace zcbuf::convert */
