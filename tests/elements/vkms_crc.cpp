/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vkms_crc.h"

#include <gst/zcbuf/gstzcbufcopy.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <xf86drm.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <utility>

namespace zcbuf::test {

namespace {

/* Reads crtc-0's CRCs while it lives; opening the file starts capture.
 * Open it on a lit, static screen: a modeset while capturing ends the
 * capture, and under TCG vkms gave one CRC in many seconds, not one per
 * vblank, so one CRC of a screen that no longer changes is what we use. */
class CrcCapture
{
public:
	explicit CrcCapture(const Card &card)
	{
		std::ofstream(card.debugDir + "/crtc-0/crc/control") << "auto";
		fd_ = open((card.debugDir + "/crtc-0/crc/data").c_str(), O_RDONLY | O_NONBLOCK);
		thread_ = std::thread([this] { loop(); });
	}
	~CrcCapture() { stop(); }
	bool opened() const { return fd_ >= 0; }

	/* Waits until n CRCs of frames after `after` came (or 30 s passed),
	 * then stops and returns those. Under TCG vkms can take seconds per
	 * CRC, not one per vblank, and the first CRCs read can be of frames
	 * composed before the capture opened. */
	std::vector<std::uint32_t> collect(std::size_t n, std::uint32_t after)
	{
		auto fresh = [&] {
			std::vector<std::uint32_t> out;
			for (const auto &entry : crcs_)
				if (std::int32_t(entry.first - after) > 0)
					out.push_back(entry.second);
			return out;
		};
		for (int i = 0; i < 600; i++) {
			{
				std::lock_guard<std::mutex> lock(lock_);
				if (fresh().size() >= n)
					break;
			}
			settle(50);
		}
		stop();
		return fresh();
	}

	void stop()
	{
		if (thread_.joinable()) {
			done_ = true;
			thread_.join();
			if (fd_ >= 0)
				close(fd_);
			fd_ = -1;
		}
	}

private:
	void loop()
	{
		std::string pending;
		while (!done_ && fd_ >= 0) {
			struct pollfd p = { fd_, POLLIN, 0 };
			if (poll(&p, 1, 50) <= 0)
				continue;
			char buf[4096];
			ssize_t n = read(fd_, buf, sizeof(buf));
			if (n <= 0)
				continue;
			pending.append(buf, n);
			std::size_t eol;
			while ((eol = pending.find('\n')) != std::string::npos) {
				unsigned frame = 0, crc = 0;
				if (std::sscanf(pending.c_str(), "%x %x", &frame, &crc) == 2) {
					std::lock_guard<std::mutex> lock(lock_);
					crcs_.emplace_back(frame, crc);
				}
				pending.erase(0, eol + 1);
			}
		}
	}

	int fd_ = -1;
	std::atomic<bool> done_{ false };
	std::thread thread_;
	std::mutex lock_;
	std::vector<std::pair<std::uint32_t, std::uint32_t>> crcs_; /* frame, CRC */
};

} /* namespace */

std::uint32_t currentVblank(const Card &card)
{
	int fd = open(card.node.c_str(), O_RDWR | O_CLOEXEC);
	drmVBlank vbl = {};
	vbl.request.type = DRM_VBLANK_RELATIVE;
	vbl.request.sequence = 0;
	int ret = fd >= 0 ? drmWaitVBlank(fd, &vbl) : -1;
	EXPECT_EQ(ret, 0) << "drmWaitVBlank: " << std::strerror(errno);
	if (fd >= 0)
		close(fd);
	return vbl.reply.sequence;
}

std::vector<std::uint32_t> staticCrc(const Card &card)
{
	const std::uint32_t now = currentVblank(card);
	std::vector<std::uint32_t> previous;
	for (int i = 0; i < 5; i++) {
		CrcCapture capture(card);
		std::vector<std::uint32_t> crcs = capture.collect(1, now);
		if (!crcs.empty() && !previous.empty() && crcs.back() == previous.back())
			return crcs;
		previous = crcs;
	}
	return {};
}

Shown show(const Card &card, const std::string &description)
{
	Shown shown;
	std::uint64_t before = 0, after = 0;
	gst_zcbuf_copy_get_totals(&before, nullptr);
	PipelineRun run(description);
	settle(500); /* the last flip is done: the screen is static */
	std::vector<std::uint32_t> crcs = staticCrc(card);
	run.finish();
	gst_zcbuf_copy_get_totals(&after, nullptr);
	shown.error = run.error();
	shown.crc = crcs.empty() ? 0 : crcs.back();
	shown.samples = crcs.size();
	shown.copies = after - before;
	return shown;
}

} /* namespace zcbuf::test */
