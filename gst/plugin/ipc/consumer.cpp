/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "consumer.h"

#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>

namespace zcbuf::ipcsrc {

namespace {

/* What a frame's GstBuffer carries to release itself. */
struct ReleaseNote {
	std::weak_ptr<Connection> connection;
	ipc::Release release;
};

} /* namespace */

Result<std::shared_ptr<Connection>> Connection::open(const std::string &path)
{
	Result<UniqueFD> socket = ipc::connectTo(path);
	if (!socket)
		return socket.error();
	std::shared_ptr<Connection> connection(new Connection(std::move(socket).value()));
	Result<void> hello = connection->channel_.send(
		ipc::Hello{ ipc::kVersionMajor, ipc::kVersionMinor, ipc::Role::Consumer });
	if (!hello)
		return hello.error();
	return connection;
}

Connection::~Connection()
{
	clearTable();
}

void Connection::clearTable()
{
	for (Slot &slot : table_) {
		for (GstMemory *memory : slot.memories)
			gst_memory_unref(memory);
		slot = Slot();
	}
}

std::uint64_t Connection::dropped() const
{
	return session_.dropped();
}

Result<void> Connection::fail(const Error &error)
{
	std::lock_guard lock(mutex_);
	if (!broken_)
		channel_.sendError(error);
	broken_ = true;
	return error;
}

Result<void> Connection::import(const ipc::BufferEntry &entry, std::vector<UniqueFD> &fds)
{
	Slot slot;
	slot.generation = entry.generation;
	slot.entry = entry;
	for (std::size_t m = 0; m < fds.size(); m++) {
		GError *error = nullptr;
		GstMemory *memory = gst_zcbuf_allocator_import_fd(fds[m].get(), entry.memorySizes[m], &error);
		if (!memory) {
			std::string message = "memory " + std::to_string(m) + " of buffer " +
					      std::to_string(entry.id) + ": " + error->message;
			g_clear_error(&error);
			for (GstMemory *made : slot.memories)
				gst_memory_unref(made);
			return Error(EPROTO, message);
		}
		/* The producer writes it; we only read. */
		GST_MINI_OBJECT_FLAG_SET(memory, GST_MEMORY_FLAG_READONLY);
		slot.memories.push_back(memory);
	}
	/* The received fds were duplicated by the import; ours close here. */
	fds.clear();
	Slot &old = table_[entry.id];
	for (GstMemory *memory : old.memories)
		gst_memory_unref(memory);
	old = std::move(slot);
	return {};
}

GstBuffer *Connection::frameBuffer(const ipc::Frame &frame)
{
	const Slot &slot = table_[frame.id];
	GstBuffer *buffer = gst_buffer_new();
	for (GstMemory *memory : slot.memories)
		gst_buffer_append_memory(buffer, gst_memory_ref(memory));
	std::array<std::uint64_t, ipc::kMaxPlanes> starts = ipc::planeOffsets(slot.entry);
	gsize offsets[GST_VIDEO_MAX_PLANES] = {};
	gint strides[GST_VIDEO_MAX_PLANES] = {};
	guint planes = static_cast<guint>(slot.entry.planes.size());
	for (guint p = 0; p < planes; p++) {
		offsets[p] = starts[p];
		strides[p] = static_cast<gint>(slot.entry.planes[p].stride);
	}
	gst_buffer_add_video_meta_full(buffer, GstVideoFrameFlags(frame.videoFlags),
				       GstVideoFormat(frame.format), frame.width, frame.height, planes,
				       offsets, strides);
	GST_BUFFER_FLAGS(buffer) = frame.bufferFlags &
				   ~(GST_MINI_OBJECT_FLAG_LOCKABLE | GST_MINI_OBJECT_FLAG_LOCK_READONLY |
				     GST_MINI_OBJECT_FLAG_MAY_BE_LEAKED);
	if (frame.duration != ipc::kNoTime)
		GST_BUFFER_DURATION(buffer) = static_cast<GstClockTime>(frame.duration);

	ReleaseNote *note = new ReleaseNote{ weak_from_this(),
					     ipc::Release{ frame.epoch, frame.id, frame.generation } };
	gst_mini_object_weak_ref(GST_MINI_OBJECT_CAST(buffer),
				 [](gpointer data, GstMiniObject *) {
					 ReleaseNote *dying = static_cast<ReleaseNote *>(data);
					 if (std::shared_ptr<Connection> connection = dying->connection.lock())
						 connection->release(dying->release);
					 delete dying;
				 },
				 note);
	return buffer;
}

void Connection::release(const ipc::Release &release)
{
	std::lock_guard lock(mutex_);
	if (broken_)
		return;
	pendingReleases_.push_back(release);
	while (!pendingReleases_.empty()) {
		Result<void> sent = channel_.send(pendingReleases_.front());
		if (!sent) {
			if (sent.error().code() != EAGAIN)
				broken_ = true;
			return;
		}
		pendingReleases_.erase(pendingReleases_.begin());
	}
}

void Connection::flushReleases()
{
	std::unique_lock lock(mutex_);
	if (pendingReleases_.empty())
		return;
	ipc::Release first = pendingReleases_.front();
	pendingReleases_.erase(pendingReleases_.begin());
	lock.unlock();
	release(first);
}

Result<Event> Connection::next()
{
	for (;;) {
		flushReleases();
		Result<ipc::Received> got = channel_.receive();
		if (!got) {
			if (got.error().code() == ECONNRESET)
				return Error(ECONNRESET, "the producer closed the connection");
			Result<void> failed = fail(got.error());
			return failed.error();
		}
		Result<void> applied = session_.receive(got->parsed);
		if (!applied) {
			/* The producer's own Error is its reason, not ours. */
			if (std::holds_alternative<ipc::ErrorReport>(got->parsed.message)) {
				std::lock_guard lock(mutex_);
				broken_ = true;
				return applied.error();
			}
			return fail(applied.error()).error();
		}
		const ipc::Message &message = got->parsed.message;
		if (const ipc::Epoch *epoch = std::get_if<ipc::Epoch>(&message)) {
			clearTable();
			Event event;
			event.kind = Event::Kind::Caps;
			event.caps = epoch->caps;
			return event;
		}
		if (const ipc::BufferEntry *entry = std::get_if<ipc::BufferEntry>(&message)) {
			Result<void> imported = import(*entry, got->fds);
			if (!imported)
				return fail(imported.error()).error();
			continue;
		}
		if (const ipc::Frame *frame = std::get_if<ipc::Frame>(&message)) {
			Event event;
			event.kind = Event::Kind::Frame;
			event.buffer = frameBuffer(*frame);
			event.pts = frame->pts;
			event.dts = frame->dts;
			return event;
		}
		if (std::holds_alternative<ipc::ForgetEpoch>(message)) {
			if (!session_.hasEpoch() ||
			    std::get<ipc::ForgetEpoch>(message).epoch == session_.epoch())
				clearTable();
			continue;
		}
		if (std::holds_alternative<ipc::Eos>(message))
			return Event{};
	}
}

} /* namespace zcbuf::ipcsrc */
