/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/ipc_session.h>

namespace zcbuf::ipc {

namespace {

Error ruleError(MessageType type, const std::string &what)
{
	return Error(EPROTO, std::string("zcipc ") + toString(type) + " message: " + what);
}

std::string bufferName(std::uint32_t epoch, std::uint32_t id)
{
	return "buffer " + std::to_string(id) + " of epoch " + std::to_string(epoch);
}

Error peerError(const ErrorReport &report)
{
	return Error(report.code ? static_cast<int>(report.code) : EPROTO,
		     "the peer closed the connection: " + report.reason);
}

} /* namespace */

Result<void> Sequence::expect(MessageType type, std::uint32_t sequence)
{
	if (sequence != expected_)
		return ruleError(type, "sequence " + std::to_string(sequence) + ", " +
					       std::to_string(expected_) +
					       " expected (out of order or replayed)");
	expected_++;
	return {};
}

Result<void> checkHello(const Hello &hello, Role expected)
{
	if (hello.role != expected)
		return ruleError(MessageType::Hello,
				 std::string("the peer is a ") +
					 (hello.role == Role::Producer ? "producer" : "consumer") +
					 ", a " + (expected == Role::Producer ? "producer" : "consumer") +
					 " was expected");
	if (hello.major != kVersionMajor)
		return Error(EPROTONOSUPPORT,
			     "zcipc protocol version " + std::to_string(hello.major) + "." +
				     std::to_string(hello.minor) + " is not spoken here (version " +
				     std::to_string(kVersionMajor) + "." +
				     std::to_string(kVersionMinor) + ")");
	return {};
}

Result<void> ConsumerSession::receive(const Parsed &parsed)
{
	MessageType type = typeOf(parsed.message);
	Result<void> inOrder = sequence_.expect(type, parsed.sequence);
	if (!inOrder)
		return inOrder;
	if (const ErrorReport *report = std::get_if<ErrorReport>(&parsed.message))
		return peerError(*report);
	if (!hello_) {
		const Hello *hello = std::get_if<Hello>(&parsed.message);
		if (!hello)
			return ruleError(type, "before the producer's Hello");
		Result<void> spoken = checkHello(*hello, Role::Producer);
		if (!spoken)
			return spoken;
		hello_ = true;
		return {};
	}
	if (ended_)
		return ruleError(type, "after Eos");

	return std::visit(
		[&](const auto &m) -> Result<void> {
			using T = std::decay_t<decltype(m)>;
			if constexpr (std::is_same_v<T, Hello>) {
				return ruleError(type, "a second Hello");
			} else if constexpr (std::is_same_v<T, Epoch>) {
				if (epoch_ && m.epoch <= *epoch_)
					return ruleError(type, "epoch " + std::to_string(m.epoch) +
								       " after epoch " +
								       std::to_string(*epoch_));
				epoch_ = m.epoch;
				forgotten_ = false;
				table_.fill(std::nullopt);
				return {};
			} else if constexpr (std::is_same_v<T, BufferEntry>) {
				if (!epoch_ || forgotten_ || m.epoch != *epoch_)
					return ruleError(type, bufferName(m.epoch, m.id) +
								       " outside the current epoch");
				/* A new generation replaces the buffer behind an id. */
				if (table_[m.id] && *table_[m.id] == m.generation)
					return ruleError(type, bufferName(m.epoch, m.id) +
								       " generation " +
								       std::to_string(m.generation) +
								       " sent twice");
				table_[m.id] = m.generation;
				return {};
			} else if constexpr (std::is_same_v<T, Frame>) {
				if (!epoch_ || forgotten_ || m.epoch != *epoch_)
					return ruleError(type, "a frame in " + bufferName(m.epoch, m.id) +
								       " outside the current epoch");
				if (m.id >= kMaxBuffersPerEpoch || !table_[m.id])
					return ruleError(type, "a frame in unknown " +
								       bufferName(m.epoch, m.id));
				if (*table_[m.id] != m.generation)
					return ruleError(type, "a frame in " + bufferName(m.epoch, m.id) +
								       " generation " +
								       std::to_string(m.generation) +
								       ", the table has " +
								       std::to_string(*table_[m.id]));
				if (lastNumber_ && m.number <= *lastNumber_)
					return ruleError(type, "frame number " + std::to_string(m.number) +
								       " after " +
								       std::to_string(*lastNumber_));
				if (lastNumber_)
					dropped_ += m.number - *lastNumber_ - 1;
				lastNumber_ = m.number;
				return {};
			} else if constexpr (std::is_same_v<T, Eos>) {
				ended_ = true;
				return {};
			} else if constexpr (std::is_same_v<T, ForgetEpoch>) {
				if (!epoch_ || m.epoch > *epoch_)
					return ruleError(type, "epoch " + std::to_string(m.epoch) +
								       " was never started");
				if (m.epoch == *epoch_)
					forgotten_ = true;
				return {};
			} else {
				return ruleError(type, "a producer does not send it");
			}
		},
		parsed.message);
}

Result<std::optional<std::uint32_t>> ProducerSession::receive(const Parsed &parsed)
{
	MessageType type = typeOf(parsed.message);
	Result<void> inOrder = sequence_.expect(type, parsed.sequence);
	if (!inOrder)
		return inOrder.error();
	if (const ErrorReport *report = std::get_if<ErrorReport>(&parsed.message))
		return peerError(*report);
	if (!hello_) {
		const Hello *hello = std::get_if<Hello>(&parsed.message);
		if (!hello)
			return ruleError(type, "before the consumer's Hello");
		Result<void> spoken = checkHello(*hello, Role::Consumer);
		if (!spoken)
			return spoken.error();
		hello_ = true;
		return std::optional<std::uint32_t>();
	}
	const Release *release = std::get_if<Release>(&parsed.message);
	if (!release)
		return ruleError(type, "a consumer sends only Hello, Release and Error");
	/* A release that crossed an epoch change: its hold was dropped when the
	 * epoch ended. */
	if (epoch_ && release->epoch < *epoch_)
		return std::optional<std::uint32_t>();
	if (!epoch_ || release->epoch != *epoch_)
		return ruleError(type, "a release in " + bufferName(release->epoch, release->id) +
					       ", which was never sent");
	if (release->id >= kMaxBuffersPerEpoch || !table_[release->id] ||
	    *table_[release->id] != release->generation || held_[release->id] == 0)
		return ruleError(type, "a release of " + bufferName(release->epoch, release->id) +
					       " generation " + std::to_string(release->generation) +
					       ", which the consumer does not hold");
	held_[release->id]--;
	return std::optional<std::uint32_t>(release->id);
}

void ProducerSession::startEpoch(std::uint32_t epoch)
{
	epoch_ = epoch;
	table_.fill(std::nullopt);
	held_.fill(0);
}

void ProducerSession::tableEntry(std::uint32_t id, std::uint32_t generation)
{
	if (id < kMaxBuffersPerEpoch)
		table_[id] = generation;
}

void ProducerSession::frameSent(std::uint32_t id)
{
	if (id < kMaxBuffersPerEpoch)
		held_[id]++;
}

std::uint32_t ProducerSession::totalHeld() const
{
	std::uint32_t total = 0;
	for (std::uint32_t count : held_)
		total += count;
	return total;
}

} /* namespace zcbuf::ipc */
