/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "producer.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_EXTERN(gst_zc_ipc_sink_debug);
#define GST_CAT_DEFAULT gst_zc_ipc_sink_debug

namespace zcbuf::ipcsink {

Result<void> Producer::start(const std::string &path, mode_t mode, unsigned int maxPending)
{
	path_ = path;
	mode_ = mode;
	maxPending_ = maxPending;
	Result<UniqueFD> listener = ipc::listenAt(path, mode);
	if (!listener)
		return listener.error();
	listener_ = std::move(listener).value();
	wakeFd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!wakeFd_.isValid())
		return Error::fromErrno(errno, "eventfd");
	stopping_ = false;
	try {
		thread_ = std::thread([this] {
			pthread_setname_np(pthread_self(), "zcipcsink");
			serve();
		});
	} catch (const std::system_error &error) {
		ipc::unlinkSocket(path_);
		listener_.reset();
		return Error(EAGAIN, std::string("no thread for the socket: ") + error.what());
	}
	return {};
}

void Producer::stop()
{
	if (thread_.joinable()) {
		stopping_ = true;
		wake();
		thread_.join();
	}
	std::vector<GstBuffer *> unref;
	{
		std::lock_guard lock(mutex_);
		for (auto &consumer : consumers_)
			consumer->dead = true;
		reapLocked(unref);
		if (last_.buffer)
			unref.push_back(last_.buffer);
		last_ = Outgoing();
		hasEpoch_ = false;
		ended_ = false;
	}
	for (GstBuffer *buffer : unref)
		gst_buffer_unref(buffer);
	if (listener_.isValid())
		ipc::unlinkSocket(path_);
	listener_.reset();
	wakeFd_.reset();
}

void Producer::wake()
{
	std::uint64_t one = 1;
	if (wakeFd_.isValid())
		(void)!write(wakeFd_.get(), &one, sizeof(one));
}

unsigned int Producer::consumers()
{
	std::lock_guard lock(mutex_);
	unsigned int alive = 0;
	for (auto &consumer : consumers_)
		alive += !consumer->dead;
	return alive;
}

std::uint32_t Producer::newEpoch(const std::string &caps)
{
	std::vector<GstBuffer *> unref;
	std::uint32_t epoch;
	bool lost = false;
	{
		std::lock_guard lock(mutex_);
		std::uint32_t old = epoch_;
		bool had = hasEpoch_;
		epoch = epoch_ = had ? epoch_ + 1 : 1;
		hasEpoch_ = true;
		caps_ = caps;
		ended_ = false;
		if (last_.buffer)
			unref.push_back(last_.buffer);
		last_ = Outgoing();
		for (auto &consumer : consumers_) {
			if (consumer->dead)
				continue;
			/* Holds of the old epoch stay until released: the
			 * consumer may still be reading them. */
			bool ok = !had || consumer->channel.send(ipc::ForgetEpoch{ old }).ok();
			ok = ok && consumer->channel.send(ipc::Epoch{ epoch, caps }).ok();
			consumer->session.startEpoch(epoch);
			if (!ok) {
				GST_WARNING_OBJECT(owner_, "consumer pid %d cannot take the new epoch: "
							   "disconnected", consumer->peer.pid);
				consumer->dead = true;
				lost = true;
			}
		}
	}
	for (GstBuffer *buffer : unref)
		gst_buffer_unref(buffer);
	if (lost)
		wake();
	return epoch;
}

void Producer::deliver(Consumer &consumer, const Outgoing &frame)
{
	if (consumer.dead)
		return;
	if (consumer.holds.size() >= maxPending_) {
		dropped_++;
		GST_LOG_OBJECT(owner_, "consumer pid %d holds %zu frames: frame %" G_GUINT64_FORMAT
				       " dropped for it", consumer.peer.pid, consumer.holds.size(),
			       frame.frame.number);
		return;
	}
	/* A full queue costs this consumer the frame; any other failure is
	 * the consumer gone. */
	auto sent = [&](const ipc::Message &message, std::span<const int> fds) {
		Result<void> result = consumer.channel.send(message, fds);
		if (result)
			return true;
		if (result.error().code() == EAGAIN)
			dropped_++;
		else {
			GST_INFO_OBJECT(owner_, "consumer pid %d gone: %s", consumer.peer.pid,
					result.error().message().c_str());
			consumer.dead = true;
		}
		return false;
	};
	if (!consumer.session.hasEntry(frame.entry.id, frame.entry.generation)) {
		if (!sent(frame.entry, frame.fds))
			return;
		consumer.session.tableEntry(frame.entry.id, frame.entry.generation);
	}
	if (!sent(frame.frame, {}))
		return;
	consumer.session.frameSent(frame.entry.id);
	consumer.holds.push_back(Hold{ frame.entry.epoch, frame.entry.id, frame.entry.generation,
				       gst_buffer_ref(frame.buffer) });
}

void Producer::send(Outgoing frame)
{
	std::vector<GstBuffer *> unref;
	bool lost = false;
	{
		std::lock_guard lock(mutex_);
		for (auto &consumer : consumers_) {
			bool wasDead = consumer->dead;
			deliver(*consumer, frame);
			lost = lost || (consumer->dead && !wasDead);
		}
		if (last_.buffer)
			unref.push_back(last_.buffer);
		frame.buffer = gst_buffer_ref(frame.buffer);
		last_ = std::move(frame);
	}
	for (GstBuffer *buffer : unref)
		gst_buffer_unref(buffer);
	/* The serve thread reaps, and returns the consumer's holds to the
	 * pool, as soon as it wakes. */
	if (lost)
		wake();
}

void Producer::eos()
{
	std::lock_guard lock(mutex_);
	ended_ = true;
	bool lost = false;
	for (auto &consumer : consumers_) {
		if (!consumer->dead && !consumer->channel.send(ipc::Eos{}).ok()) {
			consumer->dead = true;
			lost = true;
		}
	}
	if (lost)
		wake();
}

bool Producer::greet(Consumer &consumer)
{
	if (!consumer.channel.send(ipc::Hello{ ipc::kVersionMajor, ipc::kVersionMinor,
					       ipc::Role::Producer })
		     .ok())
		return false;
	if (!hasEpoch_)
		return true;
	/* A late joiner gets the caps, and the last frame with its entry. */
	if (!consumer.channel.send(ipc::Epoch{ epoch_, caps_ }).ok())
		return false;
	consumer.session.startEpoch(epoch_);
	if (last_.buffer && last_.entry.epoch == epoch_)
		deliver(consumer, last_);
	if (ended_ && !consumer.channel.send(ipc::Eos{}).ok())
		return false;
	return !consumer.dead;
}

void Producer::accept()
{
	for (;;) {
		int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		auto consumer = std::make_unique<Consumer>(UniqueFD(fd));
		Result<ipc::PeerCredentials> peer = ipc::peerCredentials(fd);
		Result<void> allowed = peer ? ipc::checkPeer(peer.value(), mode_) : Result<void>(peer.error());
		if (!allowed) {
			GST_ELEMENT_WARNING(owner_, RESOURCE, OPEN_READ,
					    ("A consumer was refused: %s", allowed.error().message().c_str()),
					    ("socket %s", path_.c_str()));
			consumer->channel.sendError(allowed.error());
			continue;
		}
		consumer->peer = peer.value();
		std::lock_guard lock(mutex_);
		if (!greet(*consumer)) {
			GST_WARNING_OBJECT(owner_, "consumer pid %d could not be greeted", consumer->peer.pid);
			consumer->dead = true;
		}
		GST_INFO_OBJECT(owner_, "consumer pid %d (uid %u) joined", consumer->peer.pid,
				consumer->peer.uid);
		consumers_.push_back(std::move(consumer));
	}
}

void Producer::readFrom(Consumer &consumer, std::vector<GstBuffer *> &unref)
{
	while (!consumer.dead) {
		Result<ipc::Received> got = consumer.channel.receive();
		if (!got) {
			int code = got.error().code();
			if (code == EAGAIN || code == EWOULDBLOCK)
				return;
			if (code == ECONNRESET)
				GST_INFO_OBJECT(owner_, "consumer pid %d left", consumer.peer.pid);
			else {
				GST_WARNING_OBJECT(owner_, "consumer pid %d disconnected: %s",
						   consumer.peer.pid, got.error().message().c_str());
				consumer.channel.sendError(got.error());
			}
			consumer.dead = true;
			return;
		}
		Result<std::optional<std::uint32_t>> applied = consumer.session.receive(got->parsed);
		if (!applied) {
			GST_WARNING_OBJECT(owner_, "consumer pid %d disconnected: %s", consumer.peer.pid,
					   applied.error().message().c_str());
			consumer.channel.sendError(applied.error());
			consumer.dead = true;
			return;
		}
		const ipc::Release *release = std::get_if<ipc::Release>(&got->parsed.message);
		if (!release)
			continue;
		for (auto it = consumer.holds.begin(); it != consumer.holds.end(); ++it) {
			if (it->epoch == release->epoch && it->id == release->id &&
			    it->generation == release->generation) {
				unref.push_back(it->buffer);
				consumer.holds.erase(it);
				break;
			}
		}
	}
}

/* Only the serve thread reaps while it runs (stop() reaps after joining
 * it): serve() polls on a snapshot of raw Consumer pointers taken under
 * the lock, so a consumer freed by another thread in between would be
 * read after free. Other threads mark a consumer dead and wake() serve. */
void Producer::reapLocked(std::vector<GstBuffer *> &unref)
{
	for (auto it = consumers_.begin(); it != consumers_.end();) {
		if (!(*it)->dead) {
			++it;
			continue;
		}
		/* Whatever a dead consumer held goes back to the pool. */
		for (Hold &hold : (*it)->holds)
			unref.push_back(hold.buffer);
		it = consumers_.erase(it);
	}
}

void Producer::serve()
{
	while (!stopping_) {
		std::vector<struct pollfd> fds;
		std::vector<Consumer *> order;
		{
			std::lock_guard lock(mutex_);
			fds.push_back({ wakeFd_.get(), POLLIN, 0 });
			fds.push_back({ listener_.get(), POLLIN, 0 });
			for (auto &consumer : consumers_) {
				fds.push_back({ consumer->channel.fd(), POLLIN, 0 });
				order.push_back(consumer.get());
			}
		}
		if (poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR)
			break;
		if (fds[0].revents) {
			std::uint64_t count;
			(void)!read(wakeFd_.get(), &count, sizeof(count));
		}
		if (fds[1].revents & POLLIN)
			accept();
		std::vector<GstBuffer *> unref;
		{
			std::lock_guard lock(mutex_);
			for (std::size_t i = 0; i < order.size(); i++)
				if (fds[i + 2].revents)
					readFrom(*order[i], unref);
			reapLocked(unref);
		}
		for (GstBuffer *buffer : unref)
			gst_buffer_unref(buffer);
	}
}

} /* namespace zcbuf::ipcsink */
