/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a zcipc message may say given the ones before it. Each end keeps one
 * session per connection and passes it every parsed message it receives; a
 * message that breaks the rules (out of order or replayed, before Hello, an
 * unknown buffer id, a stale generation, an epoch that goes back, a release
 * of a frame that was not held) is an error naming the rule, after which the
 * connection is to be closed. Nothing here touches a socket or an fd.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <zcbuf/ipc_protocol.h>

namespace zcbuf::ipc {

/* The numbering of one direction of a connection: the sender numbers its
 * messages 0, 1, 2, ...; the receiver refuses any other number. */
class Sequence
{
public:
	std::uint32_t next() { return sent_++; }
	Result<void> expect(MessageType type, std::uint32_t sequence);

private:
	std::uint32_t sent_ = 0;
	std::uint32_t expected_ = 0;
};

/* The peer's Hello: the right role and a major version we speak
 * (EPROTONOSUPPORT otherwise). */
Result<void> checkHello(const Hello &hello, Role expected);

/* A consumer's view of its producer. */
class ConsumerSession
{
public:
	/* Applies one message from the producer. An ErrorReport is returned as
	 * an error carrying the producer's reason. */
	Result<void> receive(const Parsed &parsed);

	bool hasEpoch() const { return epoch_.has_value(); }
	std::uint32_t epoch() const { return epoch_.value_or(0); }
	bool ended() const { return ended_; }
	/* Frames the producer numbered but did not send us (dropped). */
	std::uint64_t dropped() const { return dropped_; }

private:
	Sequence sequence_;
	bool hello_ = false;
	bool ended_ = false;
	std::optional<std::uint32_t> epoch_;
	bool forgotten_ = false;
	/* Generation per id of the current epoch; unset: not in the table. */
	std::array<std::optional<std::uint32_t>, kMaxBuffersPerEpoch> table_;
	std::optional<std::uint64_t> lastNumber_;
	std::uint64_t dropped_ = 0;
};

/* A producer's view of one consumer: what it holds. */
class ProducerSession
{
public:
	/* Applies one message from the consumer. Returns the release's buffer
	 * id when it frees one of the current epoch, nothing otherwise. */
	Result<std::optional<std::uint32_t>> receive(const Parsed &parsed);

	/* The producer's own steps, which the consumer's messages must match. */
	void startEpoch(std::uint32_t epoch);
	void tableEntry(std::uint32_t id, std::uint32_t generation);
	/* Whether the consumer has buffer id of this generation in its table. */
	bool hasEntry(std::uint32_t id, std::uint32_t generation) const
	{
		return id < kMaxBuffersPerEpoch && table_[id] == generation;
	}
	void frameSent(std::uint32_t id);

	bool greeted() const { return hello_; }
	/* Frames of buffer id the consumer has not released yet. */
	std::uint32_t held(std::uint32_t id) const { return id < kMaxBuffersPerEpoch ? held_[id] : 0; }
	std::uint32_t totalHeld() const;

private:
	Sequence sequence_;
	bool hello_ = false;
	std::optional<std::uint32_t> epoch_;
	std::array<std::optional<std::uint32_t>, kMaxBuffersPerEpoch> table_;
	std::array<std::uint32_t, kMaxBuffersPerEpoch> held_{};
};

} /* namespace zcbuf::ipc */
