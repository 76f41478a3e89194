/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcipcsrc's engine: one connection to a producer, its buffer table as
 * GstMemory (one per memory of each buffer, kept across frames so that
 * downstream import caches keep hitting), frames as GstBuffers that release
 * themselves to the producer when freed, from whatever thread frees them.
 */
#pragma once

#include <gst/gst.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <zcbuf/ipc_channel.h>
#include <zcbuf/ipc_session.h>

namespace zcbuf::ipcsrc {

struct Event {
	enum class Kind { Caps, Frame, Eos };
	Kind kind = Kind::Eos;
	std::string caps;
	GstBuffer *buffer = nullptr; /* Frame: owned by the receiver */
	/* Frame: CLOCK_MONOTONIC times as sent, kNoTime when none. */
	std::int64_t pts = ipc::kNoTime;
	std::int64_t dts = ipc::kNoTime;
};

class Connection : public std::enable_shared_from_this<Connection>
{
public:
	static Result<std::shared_ptr<Connection>> open(const std::string &path);
	~Connection();

	int fd() const { return channel_.fd(); }

	/* Receives until the next caps, frame or end. A producer that closes
	 * is ECONNRESET; anything malformed is an error naming it, after which
	 * the producer has been told and the connection is unusable. */
	Result<Event> next();

	std::uint64_t dropped() const;

	/* Releases still to send (the socket was full): sent on next(). */
	void flushReleases();

private:
	explicit Connection(UniqueFD socket) : channel_(std::move(socket)) {}

	struct Slot {
		std::uint32_t generation = 0;
		ipc::BufferEntry entry;
		std::vector<GstMemory *> memories;
	};

	Result<void> import(const ipc::BufferEntry &entry, std::vector<UniqueFD> &fds);
	GstBuffer *frameBuffer(const ipc::Frame &frame);
	void release(const ipc::Release &release);
	void clearTable();
	Result<void> fail(const Error &error);

	mutable std::mutex mutex_;
	ipc::Channel channel_;
	ipc::ConsumerSession session_;
	std::array<Slot, ipc::kMaxBuffersPerEpoch> table_;
	std::vector<ipc::Release> pendingReleases_;
	bool broken_ = false;
};

} /* namespace zcbuf::ipcsrc */
