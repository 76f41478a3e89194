/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcipcsink's engine: the listening socket, its consumers and what each one
 * holds. A thread accepts consumers and reads their releases; the streaming
 * thread hands frames in with send(). Sends never block: a consumer whose
 * queue is full, or who holds max-pending frames, misses that frame (counted);
 * one whose queue is full for a control message is disconnected.
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zcbuf/ipc_channel.h>
#include <zcbuf/ipc_session.h>

namespace zcbuf::ipcsink {

/* One frame as it goes out: the buffer (held for every consumer that gets
 * it), its table entry and fds, and the frame message. */
struct Outgoing {
	GstBuffer *buffer = nullptr;
	ipc::BufferEntry entry;
	std::vector<int> fds;
	ipc::Frame frame;
};

class Producer
{
public:
	explicit Producer(GstElement *owner) : owner_(owner) {}
	~Producer() { stop(); }

	Result<void> start(const std::string &path, mode_t mode, unsigned int maxPending);
	void stop();

	/* A new epoch (caps or pool change): consumers forget the old table. */
	std::uint32_t newEpoch(const std::string &caps);
	/* Sends frame to every consumer; takes no reference of its own beyond
	 * the consumers' holds and the last frame kept for late joiners. */
	void send(Outgoing frame);
	void eos();

	std::uint64_t dropped() const { return dropped_.load(); }
	unsigned int consumers();

private:
	struct Hold {
		std::uint32_t epoch, id, generation;
		GstBuffer *buffer;
	};
	struct Consumer {
		explicit Consumer(UniqueFD fd) : channel(std::move(fd)) {}
		ipc::Channel channel;
		ipc::ProducerSession session;
		ipc::PeerCredentials peer;
		std::deque<Hold> holds;
		bool dead = false;
	};

	void serve();
	void accept();
	void readFrom(Consumer &consumer, std::vector<GstBuffer *> &unref);
	/* Under mutex_. False when the consumer is to be dropped. */
	bool greet(Consumer &consumer);
	void deliver(Consumer &consumer, const Outgoing &frame);
	void reapLocked(std::vector<GstBuffer *> &unref);
	void wake();

	GstElement *owner_;
	std::string path_;
	mode_t mode_ = 0600;
	unsigned int maxPending_ = 4;
	UniqueFD listener_;
	UniqueFD wakeFd_;
	std::thread thread_;
	std::atomic<bool> stopping_{ false };
	std::atomic<std::uint64_t> dropped_{ 0 };

	std::mutex mutex_;
	std::vector<std::unique_ptr<Consumer>> consumers_;
	std::uint32_t epoch_ = 0;
	bool hasEpoch_ = false;
	std::string caps_;
	bool ended_ = false;
	Outgoing last_;
};

} /* namespace zcbuf::ipcsink */
