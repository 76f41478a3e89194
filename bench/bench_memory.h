/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What memory can do on this machine, for the limit rows: the size of the
 * last-level cache (sysfs), and on buffers twice that size (so that nothing
 * is served from a cache), on a given number of threads:
 *   - read bandwidth, and write bandwidth with regular stores (which pay a
 *     read-for-ownership of every line) and with non-temporal stores (which
 *     do not), each measured alone;
 *   - the stream bound: a loop that reads input and writes output in a
 *     converter's proportions and computes nothing, with either kind of
 *     store. A core overlaps its reads with its writes, so a converter can
 *     beat (input / read bandwidth + output / write bandwidth), measured
 *     separately; it cannot beat a loop that moves the same bytes and does
 *     nothing else.
 */
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "bench_gst_common.h"

namespace bench {

/* The largest data or unified cache cpu0 has, in bytes; exits when sysfs
 * says nothing, as a bound computed without it would be no bound. */
inline std::size_t lastLevelCacheBytes()
{
	std::size_t best = 0;
	int bestLevel = 0;
	for (int index = 0; index < 16; index++) {
		std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
		std::ifstream levelFile(dir + "/level"), typeFile(dir + "/type"), sizeFile(dir + "/size");
		int level = 0;
		std::string type, size;
		if (!(levelFile >> level) || !(typeFile >> type) || !(sizeFile >> size))
			continue;
		if (type == "Instruction" || size.empty())
			continue;
		std::size_t bytes = std::strtoull(size.c_str(), nullptr, 10);
		switch (size.back()) {
		case 'G':
			bytes <<= 10;
			[[fallthrough]];
		case 'M':
			bytes <<= 10;
			[[fallthrough]];
		case 'K':
			bytes <<= 10;
			break;
		default:
			break;
		}
		if (level > bestLevel || (level == bestLevel && bytes > best)) {
			best = bytes;
			bestLevel = level;
		}
	}
	if (!best)
		fail("cannot read the cache sizes from /sys/devices/system/cpu/cpu0/cache: "
		     "no memory bound without them");
	return best;
}

/* Bytes per second of each kind of access, all threads together. */
struct Bandwidth {
	double read = 0.0;
	double writeRegular = 0.0;
	double writeNonTemporal = 0.0; /* 0 where the CPU has no such store */

	double bestWrite() const { return std::max(writeRegular, writeNonTemporal); }
};

class BandwidthMeter {
public:
	/* Buffers of twice @cacheBytes, touched once so that no page fault is
	 * timed. */
	explicit BandwidthMeter(std::size_t cacheBytes)
		: size_((2 * cacheBytes + 4095) & ~std::size_t(4095)),
		  memory_(static_cast<std::uint8_t *>(std::aligned_alloc(4096, size_)))
	{
		if (!memory_)
			fail("cannot allocate " + std::to_string(size_ >> 20) + " MiB for the bandwidth");
		for (std::size_t i = 0; i < size_; i += 4096)
			memory_[i] = static_cast<std::uint8_t>(i >> 12);
	}
	BandwidthMeter(const BandwidthMeter &) = delete;
	~BandwidthMeter()
	{
		std::free(memory_);
		std::free(output_);
	}

	std::size_t bytes() const { return size_; }

	/* Frames per second of the stream bound for frames of @inBytes in and
	 * @outBytes out: the better of regular and non-temporal stores. The
	 * whole input buffer is read once; the output wraps in a second buffer
	 * of the same size. */
	double streamFramesPerSecond(int threads, double inBytes, double outBytes)
	{
		if (!output_) {
			output_ = static_cast<std::uint8_t *>(std::aligned_alloc(4096, size_));
			if (!output_)
				fail("cannot allocate " + std::to_string(size_ >> 20) +
				     " MiB for the stream bound");
			for (std::size_t i = 0; i < size_; i += 4096)
				output_[i] = 0;
		}
		const double ratio = outBytes / inBytes;
		double best = timed(threads, [&](std::size_t offset, std::size_t n) {
			sink_ += stream(memory_ + offset, n, output_ + offset, ratio, false);
		});
#if defined(__SSE2__)
		best = std::max(best, timed(threads, [&](std::size_t offset, std::size_t n) {
			sink_ += stream(memory_ + offset, n, output_ + offset, ratio, true);
		}));
#endif
		return best / inBytes;
	}

	Bandwidth measure(int threads)
	{
		Bandwidth b;
		b.read = timed(threads,
			       [this](std::size_t o, std::size_t n) { sink_ += readAll(memory_ + o, n); });
		b.writeRegular =
			timed(threads, [this](std::size_t o, std::size_t n) { writeRegular(memory_ + o, n); });
#if defined(__SSE2__)
		b.writeNonTemporal = timed(
			threads, [this](std::size_t o, std::size_t n) { writeNonTemporal(memory_ + o, n); });
#endif
		return b;
	}

private:
	/* @threads threads each doing @work(offset, bytes) on their slice at
	 * once; bytes of the whole buffer per second from the common start to
	 * the last end. */
	template <typename Work> double timed(int threads, Work work)
	{
		std::size_t slice = (size_ / threads) & ~std::size_t(63);
		std::atomic<int> ready{ 0 };
		std::atomic<bool> go{ false };
		std::vector<std::thread> workers;
		for (int t = 0; t < threads; t++)
			workers.emplace_back([&, t] {
				ready++;
				while (!go.load(std::memory_order_acquire))
					std::this_thread::yield();
				work(t * slice, slice);
			});
		while (ready.load() != threads)
			std::this_thread::yield();
		auto start = std::chrono::steady_clock::now();
		go.store(true, std::memory_order_release);
		for (std::thread &w : workers)
			w.join();
		std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
		return slice * threads / elapsed.count();
	}

	static std::uint64_t readAll(const std::uint8_t *p, std::size_t n)
	{
#if defined(__SSE2__)
		__m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
		for (std::size_t i = 0; i < n; i += 64) {
			a = _mm_add_epi64(a, _mm_load_si128(reinterpret_cast<const __m128i *>(p + i)));
			b = _mm_add_epi64(b, _mm_load_si128(reinterpret_cast<const __m128i *>(p + i + 16)));
			c = _mm_add_epi64(c, _mm_load_si128(reinterpret_cast<const __m128i *>(p + i + 32)));
			d = _mm_add_epi64(d, _mm_load_si128(reinterpret_cast<const __m128i *>(p + i + 48)));
		}
		a = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
		return static_cast<std::uint64_t>(_mm_cvtsi128_si64(a));
#else
		std::uint64_t sum = 0;
		const std::uint64_t *q = reinterpret_cast<const std::uint64_t *>(p);
		for (std::size_t i = 0; i < n / 8; i++)
			sum += q[i];
		return sum;
#endif
	}

	/* Explicit stores: memset switches to non-temporal stores on large
	 * buffers by itself, which would mix the two kinds. */
	static void writeRegular(std::uint8_t *p, std::size_t n)
	{
#if defined(__SSE2__)
		__m128i v = _mm_set1_epi8(1);
		for (std::size_t i = 0; i < n; i += 64) {
			_mm_store_si128(reinterpret_cast<__m128i *>(p + i), v);
			_mm_store_si128(reinterpret_cast<__m128i *>(p + i + 16), v);
			_mm_store_si128(reinterpret_cast<__m128i *>(p + i + 32), v);
			_mm_store_si128(reinterpret_cast<__m128i *>(p + i + 48), v);
		}
#else
		volatile std::uint64_t *q = reinterpret_cast<std::uint64_t *>(p);
		for (std::size_t i = 0; i < n / 8; i++)
			q[i] = i;
#endif
	}

	/* Reads @n bytes of @in and writes @ratio times as many into @out
	 * (wrapping at @n), a line written as soon as the lines read call for
	 * it, as a converter does. */
	static std::uint64_t stream(const std::uint8_t *in, std::size_t n, std::uint8_t *out,
				    double ratio, [[maybe_unused]] bool nonTemporal)
	{
		const std::size_t lines = n / 64;
		const std::size_t outLines = static_cast<std::size_t>(lines * ratio);
		std::size_t written = 0;
#if defined(__SSE2__)
		__m128i sum = _mm_setzero_si128(), v = _mm_set1_epi8(3);
		for (std::size_t i = 0; i < lines; i++) {
			const __m128i *p = reinterpret_cast<const __m128i *>(in + i * 64);
			sum = _mm_add_epi64(sum, _mm_add_epi64(_mm_add_epi64(_mm_load_si128(p),
									     _mm_load_si128(p + 1)),
							       _mm_add_epi64(_mm_load_si128(p + 2),
									     _mm_load_si128(p + 3))));
			std::size_t due = (i + 1) * outLines / lines;
			for (; written < due; written++) {
				__m128i *q = reinterpret_cast<__m128i *>(out + (written % lines) * 64);
				if (nonTemporal) {
					_mm_stream_si128(q, v);
					_mm_stream_si128(q + 1, v);
					_mm_stream_si128(q + 2, v);
					_mm_stream_si128(q + 3, v);
				} else {
					_mm_store_si128(q, v);
					_mm_store_si128(q + 1, v);
					_mm_store_si128(q + 2, v);
					_mm_store_si128(q + 3, v);
				}
			}
		}
		_mm_sfence();
		return static_cast<std::uint64_t>(_mm_cvtsi128_si64(sum));
#else
		std::uint64_t sum = 0;
		for (std::size_t i = 0; i < lines; i++) {
			const std::uint64_t *p = reinterpret_cast<const std::uint64_t *>(in + i * 64);
			for (int k = 0; k < 8; k++)
				sum += p[k];
			std::size_t due = (i + 1) * outLines / lines;
			for (; written < due; written++) {
				volatile std::uint64_t *q =
					reinterpret_cast<std::uint64_t *>(out + (written % lines) * 64);
				for (int k = 0; k < 8; k++)
					q[k] = i;
			}
		}
		return sum;
#endif
	}

#if defined(__SSE2__)
	static void writeNonTemporal(std::uint8_t *p, std::size_t n)
	{
		__m128i v = _mm_set1_epi8(2);
		for (std::size_t i = 0; i < n; i += 64) {
			_mm_stream_si128(reinterpret_cast<__m128i *>(p + i), v);
			_mm_stream_si128(reinterpret_cast<__m128i *>(p + i + 16), v);
			_mm_stream_si128(reinterpret_cast<__m128i *>(p + i + 32), v);
			_mm_stream_si128(reinterpret_cast<__m128i *>(p + i + 48), v);
		}
		_mm_sfence();
	}
#endif

	std::size_t size_;
	std::uint8_t *memory_;
	std::uint8_t *output_ = nullptr;
	std::atomic<std::uint64_t> sink_{ 0 };
};

} /* namespace bench */
