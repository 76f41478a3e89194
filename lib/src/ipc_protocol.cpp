/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoding and parsing of zcipc messages: fixed little structures in host
 * byte order, read field by field with every length checked first. */
#include <zcbuf/ipc_protocol.h>

#include <cstring>

namespace zcbuf::ipc {

namespace {

class Writer
{
public:
	template<typename T> void put(T value)
	{
		std::uint8_t raw[sizeof(T)];
		std::memcpy(raw, &value, sizeof(T));
		bytes_.insert(bytes_.end(), raw, raw + sizeof(T));
	}
	void putBytes(const std::string &text) { bytes_.insert(bytes_.end(), text.begin(), text.end()); }
	std::vector<std::uint8_t> take() { return std::move(bytes_); }
	std::size_t size() const { return bytes_.size(); }
	void patch32(std::size_t at, std::uint32_t value) { std::memcpy(&bytes_[at], &value, 4); }

private:
	std::vector<std::uint8_t> bytes_;
};

class Reader
{
public:
	explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
	std::size_t left() const { return bytes_.size() - at_; }
	/* Callers check left() first. */
	template<typename T> T get()
	{
		T value;
		std::memcpy(&value, bytes_.data() + at_, sizeof(T));
		at_ += sizeof(T);
		return value;
	}
	std::string getBytes(std::size_t n)
	{
		std::string text(reinterpret_cast<const char *>(bytes_.data() + at_), n);
		at_ += n;
		return text;
	}

private:
	std::span<const std::uint8_t> bytes_;
	std::size_t at_ = 0;
};

Error protocolError(MessageType type, const std::string &what)
{
	return Error(EPROTO, std::string("zcipc ") + toString(type) + " message: " + what);
}

/* Caps and reasons are text a peer prints: no NUL, no control bytes. */
bool isPrintable(const std::string &text)
{
	for (unsigned char c : text)
		if (c < 0x20 || c == 0x7f)
			return false;
	return true;
}

Result<void> checkText(MessageType type, const char *field, const std::string &text,
		       std::size_t min, std::size_t max)
{
	if (text.size() < min || text.size() > max)
		return protocolError(type, std::string(field) + " of " + std::to_string(text.size()) +
						   " bytes (" + std::to_string(min) + " to " +
						   std::to_string(max) + " allowed)");
	if (!isPrintable(text))
		return protocolError(type, std::string(field) + " holds a NUL or control byte");
	return {};
}

Result<void> checkEntry(const BufferEntry &entry)
{
	constexpr MessageType type = MessageType::Buffer;
	if (entry.id >= kMaxBuffersPerEpoch)
		return protocolError(type, "buffer id " + std::to_string(entry.id) + " (ids are below " +
						   std::to_string(kMaxBuffersPerEpoch) + ")");
	if (entry.memorySizes.empty() || entry.memorySizes.size() > kMaxMemories)
		return protocolError(type, std::to_string(entry.memorySizes.size()) +
						   " memories (1 to " + std::to_string(kMaxMemories) +
						   " allowed)");
	if (entry.planes.empty() || entry.planes.size() > kMaxPlanes)
		return protocolError(type, std::to_string(entry.planes.size()) + " planes (1 to " +
						   std::to_string(kMaxPlanes) + " allowed)");
	for (std::size_t m = 0; m < entry.memorySizes.size(); m++)
		if (entry.memorySizes[m] == 0 || entry.memorySizes[m] > kMaxMemoryBytes)
			return protocolError(type, "memory " + std::to_string(m) + " of " +
							   std::to_string(entry.memorySizes[m]) +
							   " bytes (1 to " +
							   std::to_string(kMaxMemoryBytes) + " allowed)");
	for (std::size_t p = 0; p < entry.planes.size(); p++) {
		const Plane &plane = entry.planes[p];
		std::string name = "plane " + std::to_string(p);
		if (plane.memory >= entry.memorySizes.size())
			return protocolError(type, name + " is in memory " +
							   std::to_string(plane.memory) + " of " +
							   std::to_string(entry.memorySizes.size()));
		if (plane.stride == 0 || plane.size == 0)
			return protocolError(type, name + " has stride " + std::to_string(plane.stride) +
							   " and size " + std::to_string(plane.size));
		std::uint64_t memory = entry.memorySizes[plane.memory];
		/* offset + size without overflow: both are at most 2^64-1. */
		if (plane.offset > memory || plane.size > memory - plane.offset)
			return protocolError(type, name + " (offset " + std::to_string(plane.offset) +
							   ", " + std::to_string(plane.size) +
							   " bytes) runs past its memory of " +
							   std::to_string(memory) + " bytes");
	}
	return {};
}

Result<void> checkTime(MessageType type, const char *field, std::int64_t value)
{
	if (value < kNoTime)
		return protocolError(type, std::string(field) + " is " + std::to_string(value) +
						   " (a time is positive, or -1 for none)");
	return {};
}

Result<void> check(const Message &message)
{
	MessageType type = typeOf(message);
	if (const Epoch *epoch = std::get_if<Epoch>(&message))
		return checkText(type, "caps", epoch->caps, 1, kMaxCapsBytes);
	if (const BufferEntry *entry = std::get_if<BufferEntry>(&message))
		return checkEntry(*entry);
	if (const ErrorReport *report = std::get_if<ErrorReport>(&message))
		return checkText(type, "reason", report->reason, 0, kMaxReasonBytes);
	if (const Hello *hello = std::get_if<Hello>(&message)) {
		if (hello->role != Role::Producer && hello->role != Role::Consumer)
			return protocolError(type, "role " +
							   std::to_string(static_cast<std::uint32_t>(
								   hello->role)));
		return {};
	}
	if (const Frame *frame = std::get_if<Frame>(&message)) {
		for (auto [field, value] : { std::pair{ "pts", frame->pts }, std::pair{ "dts", frame->dts },
					     std::pair{ "duration", frame->duration } }) {
			Result<void> ok = checkTime(type, field, value);
			if (!ok)
				return ok;
		}
		if (frame->width == 0 || frame->height == 0)
			return protocolError(type, "a frame of " + std::to_string(frame->width) + "x" +
							   std::to_string(frame->height));
		return {};
	}
	return {};
}

/* The body's exact size for fixed-size messages, or 0 when it varies. */
std::size_t fixedBodyBytes(MessageType type)
{
	switch (type) {
	case MessageType::Hello:
		return 12;
	case MessageType::Frame:
		return 4 * 4 + 3 * 8 + 4 * 4 + 8;
	case MessageType::Eos:
		return 0;
	case MessageType::Release:
		return 16;
	case MessageType::ForgetEpoch:
		return 8;
	default:
		return 0;
	}
}

bool knownType(std::uint16_t type)
{
	return type >= static_cast<std::uint16_t>(MessageType::Hello) &&
	       type <= static_cast<std::uint16_t>(MessageType::Error);
}

Result<Message> parseBody(MessageType type, Reader &in)
{
	std::size_t fixed = fixedBodyBytes(type);
	bool variable = type == MessageType::Epoch || type == MessageType::Buffer ||
			type == MessageType::Error;
	if (!variable && in.left() != fixed)
		return protocolError(type, "a body of " + std::to_string(in.left()) + " bytes (" +
						   std::to_string(fixed) + " expected)");

	switch (type) {
	case MessageType::Hello: {
		Hello hello;
		hello.major = in.get<std::uint16_t>();
		hello.minor = in.get<std::uint16_t>();
		hello.role = static_cast<Role>(in.get<std::uint32_t>());
		if (in.get<std::uint32_t>() != 0)
			return protocolError(type, "reserved bytes are not zero");
		return Message(hello);
	}
	case MessageType::Epoch:
	case MessageType::Error: {
		if (in.left() < 8)
			return protocolError(type, "truncated: " + std::to_string(in.left()) +
							   " bytes of body, at least 8 expected");
		std::uint32_t first = in.get<std::uint32_t>();
		std::uint32_t length = in.get<std::uint32_t>();
		if (length != in.left())
			return protocolError(type, "a text of " + std::to_string(length) +
							   " bytes in " + std::to_string(in.left()) +
							   " bytes of body");
		std::string text = in.getBytes(length);
		if (type == MessageType::Epoch)
			return Message(Epoch{ first, std::move(text) });
		return Message(ErrorReport{ first, std::move(text) });
	}
	case MessageType::Buffer: {
		if (in.left() < 32)
			return protocolError(type, "truncated: " + std::to_string(in.left()) +
							   " bytes of body, at least 32 expected");
		BufferEntry entry;
		entry.epoch = in.get<std::uint32_t>();
		entry.id = in.get<std::uint32_t>();
		entry.generation = in.get<std::uint32_t>();
		std::uint32_t memories = in.get<std::uint32_t>();
		std::uint32_t planes = in.get<std::uint32_t>();
		if (in.get<std::uint32_t>() != 0)
			return protocolError(type, "reserved bytes are not zero");
		entry.modifier = in.get<std::uint64_t>();
		if (memories > kMaxMemories || planes > kMaxPlanes)
			return protocolError(type, std::to_string(memories) + " memories and " +
							   std::to_string(planes) + " planes (at most " +
							   std::to_string(kMaxMemories) + " and " +
							   std::to_string(kMaxPlanes) + ")");
		std::size_t need = memories * 8 + planes * 24;
		if (in.left() != need)
			return protocolError(type, std::to_string(in.left()) +
							   " bytes for " + std::to_string(memories) +
							   " memories and " + std::to_string(planes) +
							   " planes (" + std::to_string(need) + " expected)");
		for (std::uint32_t m = 0; m < memories; m++)
			entry.memorySizes.push_back(in.get<std::uint64_t>());
		for (std::uint32_t p = 0; p < planes; p++) {
			Plane plane;
			plane.memory = in.get<std::uint32_t>();
			plane.stride = in.get<std::uint32_t>();
			plane.offset = in.get<std::uint64_t>();
			plane.size = in.get<std::uint64_t>();
			entry.planes.push_back(plane);
		}
		return Message(std::move(entry));
	}
	case MessageType::Frame: {
		Frame frame;
		frame.epoch = in.get<std::uint32_t>();
		frame.id = in.get<std::uint32_t>();
		frame.generation = in.get<std::uint32_t>();
		frame.bufferFlags = in.get<std::uint32_t>();
		frame.pts = in.get<std::int64_t>();
		frame.dts = in.get<std::int64_t>();
		frame.duration = in.get<std::int64_t>();
		frame.videoFlags = in.get<std::uint32_t>();
		frame.format = in.get<std::uint32_t>();
		frame.width = in.get<std::uint32_t>();
		frame.height = in.get<std::uint32_t>();
		frame.number = in.get<std::uint64_t>();
		return Message(frame);
	}
	case MessageType::Eos:
		return Message(Eos{});
	case MessageType::Release: {
		Release release;
		release.epoch = in.get<std::uint32_t>();
		release.id = in.get<std::uint32_t>();
		release.generation = in.get<std::uint32_t>();
		if (in.get<std::uint32_t>() != 0)
			return protocolError(type, "reserved bytes are not zero");
		return Message(release);
	}
	case MessageType::ForgetEpoch: {
		ForgetEpoch forget;
		forget.epoch = in.get<std::uint32_t>();
		if (in.get<std::uint32_t>() != 0)
			return protocolError(type, "reserved bytes are not zero");
		return Message(forget);
	}
	}
	return protocolError(type, "unknown type");
}

} /* namespace */

const char *toString(MessageType type)
{
	switch (type) {
	case MessageType::Hello:
		return "Hello";
	case MessageType::Epoch:
		return "Epoch";
	case MessageType::Buffer:
		return "Buffer";
	case MessageType::Frame:
		return "Frame";
	case MessageType::Eos:
		return "Eos";
	case MessageType::Release:
		return "Release";
	case MessageType::ForgetEpoch:
		return "ForgetEpoch";
	case MessageType::Error:
		return "Error";
	}
	return "unknown";
}

std::array<std::uint64_t, kMaxPlanes> planeOffsets(const BufferEntry &entry)
{
	std::array<std::uint64_t, kMaxMemories> before{};
	for (std::size_t m = 1; m < entry.memorySizes.size() && m < kMaxMemories; m++)
		before[m] = before[m - 1] + entry.memorySizes[m - 1];
	std::array<std::uint64_t, kMaxPlanes> offsets{};
	for (std::size_t p = 0; p < entry.planes.size() && p < kMaxPlanes; p++)
		offsets[p] = before[entry.planes[p].memory % kMaxMemories] + entry.planes[p].offset;
	return offsets;
}

MessageType typeOf(const Message &message)
{
	/* The variant's alternatives are in MessageType's order. */
	return static_cast<MessageType>(message.index() + 1);
}

std::size_t fdsOf(const Message &message)
{
	if (const BufferEntry *entry = std::get_if<BufferEntry>(&message))
		return entry->memorySizes.size();
	return 0;
}

Result<std::vector<std::uint8_t>> encode(const Message &message, std::uint32_t sequence)
{
	Result<void> valid = check(message);
	if (!valid)
		return valid.error();

	MessageType type = typeOf(message);
	Writer out;
	out.put(kMagic);
	out.put(static_cast<std::uint16_t>(type));
	out.put(std::uint16_t(0));
	out.put(std::uint32_t(0)); /* size, patched below */
	out.put(sequence);

	std::visit(
		[&out](const auto &m) {
			using T = std::decay_t<decltype(m)>;
			if constexpr (std::is_same_v<T, Hello>) {
				out.put(m.major);
				out.put(m.minor);
				out.put(static_cast<std::uint32_t>(m.role));
				out.put(std::uint32_t(0));
			} else if constexpr (std::is_same_v<T, Epoch>) {
				out.put(m.epoch);
				out.put(static_cast<std::uint32_t>(m.caps.size()));
				out.putBytes(m.caps);
			} else if constexpr (std::is_same_v<T, ErrorReport>) {
				out.put(m.code);
				out.put(static_cast<std::uint32_t>(m.reason.size()));
				out.putBytes(m.reason);
			} else if constexpr (std::is_same_v<T, BufferEntry>) {
				out.put(m.epoch);
				out.put(m.id);
				out.put(m.generation);
				out.put(static_cast<std::uint32_t>(m.memorySizes.size()));
				out.put(static_cast<std::uint32_t>(m.planes.size()));
				out.put(std::uint32_t(0));
				out.put(m.modifier);
				for (std::uint64_t size : m.memorySizes)
					out.put(size);
				for (const Plane &plane : m.planes) {
					out.put(plane.memory);
					out.put(plane.stride);
					out.put(plane.offset);
					out.put(plane.size);
				}
			} else if constexpr (std::is_same_v<T, Frame>) {
				out.put(m.epoch);
				out.put(m.id);
				out.put(m.generation);
				out.put(m.bufferFlags);
				out.put(m.pts);
				out.put(m.dts);
				out.put(m.duration);
				out.put(m.videoFlags);
				out.put(m.format);
				out.put(m.width);
				out.put(m.height);
				out.put(m.number);
			} else if constexpr (std::is_same_v<T, Release>) {
				out.put(m.epoch);
				out.put(m.id);
				out.put(m.generation);
				out.put(std::uint32_t(0));
			} else if constexpr (std::is_same_v<T, ForgetEpoch>) {
				out.put(m.epoch);
				out.put(std::uint32_t(0));
			}
		},
		message);
	out.patch32(8, static_cast<std::uint32_t>(out.size()));
	return out.take();
}

Result<Parsed> parse(std::span<const std::uint8_t> bytes, std::size_t fdCount)
{
	if (bytes.size() < kHeaderBytes)
		return Error(EPROTO, "zcipc message truncated: " + std::to_string(bytes.size()) +
					     " bytes, a header is " + std::to_string(kHeaderBytes));
	if (bytes.size() > kMaxMessageBytes)
		return Error(EPROTO, "zcipc message of " + std::to_string(bytes.size()) +
					     " bytes (at most " + std::to_string(kMaxMessageBytes) + ")");
	Reader in(bytes);
	std::uint32_t magic = in.get<std::uint32_t>();
	if (magic != kMagic)
		return Error(EPROTO, magic == __builtin_bswap32(kMagic)
					     ? std::string("zcipc message from a peer of the other byte order")
					     : "not a zcipc message (magic " + std::to_string(magic) + ")");
	std::uint16_t rawType = in.get<std::uint16_t>();
	if (!knownType(rawType))
		return Error(EPROTO, "zcipc message of unknown type " + std::to_string(rawType));
	MessageType type = static_cast<MessageType>(rawType);
	if (in.get<std::uint16_t>() != 0)
		return protocolError(type, "reserved header bytes are not zero");
	std::uint32_t size = in.get<std::uint32_t>();
	if (size != bytes.size())
		return protocolError(type, "says " + std::to_string(size) + " bytes, " +
						   std::to_string(bytes.size()) + " arrived");
	Parsed parsed;
	parsed.sequence = in.get<std::uint32_t>();

	Result<Message> message = parseBody(type, in);
	if (!message)
		return message.error();
	Result<void> valid = check(message.value());
	if (!valid)
		return valid.error();
	std::size_t expected = fdsOf(message.value());
	if (fdCount != expected)
		return protocolError(type, "came with " + std::to_string(fdCount) + " fds, " +
						   std::to_string(expected) + " expected");
	parsed.message = std::move(message).value();
	return parsed;
}

} /* namespace zcbuf::ipc */
