/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zcipc wire protocol: how a producer (zcipcsink) shares frames with
 * consumers in other processes (zcipcsrc, zcbuf-snap) over a SOCK_SEQPACKET
 * Unix socket. Each buffer's fds cross the socket once per pool epoch, in a
 * Buffer message; every frame after that names the buffer by id. The
 * encoding and the structural checks live here, without GStreamer, so that
 * the parser can be fuzzed on its own; what a message may say given the
 * ones before it (epochs, ids, sequence numbers) is checked by
 * zcbuf/ipc_session.h. docs/ipc.md describes the layout byte by byte.
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <zcbuf/result.h>

namespace zcbuf::ipc {

/* A peer speaking another major version is refused; minors are additive
 * (a newer minor only appends fields that an older peer ignores). */
inline constexpr std::uint16_t kVersionMajor = 1;
inline constexpr std::uint16_t kVersionMinor = 0;

/* 'ZCIP' in host byte order: both ends are on one machine. A peer of the
 * other byte order reads it swapped and is told so. */
inline constexpr std::uint32_t kMagic = 0x5a434950;

inline constexpr std::size_t kHeaderBytes = 16;
inline constexpr std::size_t kMaxCapsBytes = 16384;
inline constexpr std::size_t kMaxReasonBytes = 1024;
inline constexpr std::size_t kMaxMemories = 4;
inline constexpr std::size_t kMaxPlanes = 4;
/* Buffer ids of one epoch are below this: a pool larger than this cannot
 * be shared. */
inline constexpr std::uint32_t kMaxBuffersPerEpoch = 64;
/* No message is longer: a receiver reads with this much room, and a longer
 * one arrives truncated and is refused. */
inline constexpr std::size_t kMaxMessageBytes = 32768;
/* A memory (fd) larger than this is refused before it is mapped. */
inline constexpr std::uint64_t kMaxMemoryBytes = std::uint64_t(1) << 32;
/* A timestamp or duration that is not known. */
inline constexpr std::int64_t kNoTime = -1;

enum class MessageType : std::uint16_t {
	Hello = 1,
	Epoch = 2,
	Buffer = 3,
	Frame = 4,
	Eos = 5,
	Release = 6,
	ForgetEpoch = 7,
	Error = 8,
};

const char *toString(MessageType type);

enum class Role : std::uint32_t {
	Producer = 1,
	Consumer = 2,
};

/* The first message each side sends; its layout never changes. */
struct Hello {
	std::uint16_t major = kVersionMajor;
	std::uint16_t minor = kVersionMinor;
	Role role = Role::Consumer;
};

/* Producer: a new epoch starts (first caps, caps change, new pool). Every
 * buffer of the previous epochs is forgotten by the producer; the caps are
 * GStreamer's caps as a string (gst_caps_to_string). */
struct Epoch {
	std::uint32_t epoch = 0;
	std::string caps;
};

struct Plane {
	std::uint32_t memory = 0; /* index into the buffer's memories (fds) */
	std::uint32_t stride = 0;
	std::uint64_t offset = 0;
	std::uint64_t size = 0;
};

/* Producer: one buffer of the current epoch's table, with one fd per
 * memory (SCM_RIGHTS), sent once, before the first frame that uses it. */
struct BufferEntry {
	std::uint32_t epoch = 0;
	std::uint32_t id = 0;
	/* Changes when the producer replaces the buffer behind an id, so a
	 * frame or release of the old one is recognised. */
	std::uint32_t generation = 0;
	std::uint64_t modifier = 0; /* DRM format modifier; 0 is linear */
	std::vector<std::uint64_t> memorySizes;
	std::vector<Plane> planes;
};

/* Where each plane of entry starts when its memories are laid end to end
 * in order, as in a GstBuffer made of them: the plane's offset in its
 * memory plus the sizes of the memories before it. */
std::array<std::uint64_t, kMaxPlanes> planeOffsets(const BufferEntry &entry);

/* Producer: buffer id holds the next frame; the consumer owes one Release. */
struct Frame {
	std::uint32_t epoch = 0;
	std::uint32_t id = 0;
	std::uint32_t generation = 0;
	std::uint32_t bufferFlags = 0; /* GstBufferFlags */
	/* CLOCK_MONOTONIC nanoseconds (the producer's base time plus running
	 * time on a monotonic system clock), so that two processes agree; or
	 * kNoTime. */
	std::int64_t pts = kNoTime;
	std::int64_t dts = kNoTime;
	std::int64_t duration = kNoTime;
	/* The video meta: GstVideoFrameFlags, GstVideoFormat, the size; the
	 * plane layout is the table's. */
	std::uint32_t videoFlags = 0;
	std::uint32_t format = 0;
	std::uint32_t width = 0;
	std::uint32_t height = 0;
	/* The producer's count of frames sent to anyone: a gap is frames
	 * dropped for this consumer. */
	std::uint64_t number = 0;
};

/* Producer: no more frames. */
struct Eos {
};

/* Consumer: done with one frame of buffer id. */
struct Release {
	std::uint32_t epoch = 0;
	std::uint32_t id = 0;
	std::uint32_t generation = 0;
};

/* Producer: the buffers of epochs up to this one will not be sent again;
 * the consumer closes their fds once its downstream lets go of them. */
struct ForgetEpoch {
	std::uint32_t epoch = 0;
};

/* Either side, before it closes the connection: why. */
struct ErrorReport {
	std::uint32_t code = 0; /* errno */
	std::string reason;
};

using Message = std::variant<Hello, Epoch, BufferEntry, Frame, Eos, Release, ForgetEpoch,
			     ErrorReport>;

MessageType typeOf(const Message &message);

/* Fds a message of this content must carry (the Buffer's memory count). */
std::size_t fdsOf(const Message &message);

/* The bytes of message, numbered sequence; an error if its content breaks
 * the limits above (so a sender cannot produce what a receiver refuses). */
Result<std::vector<std::uint8_t>> encode(const Message &message, std::uint32_t sequence);

struct Parsed {
	std::uint32_t sequence = 0;
	Message message;
};

/*
 * Parses one received message that came with fdCount fds. Every field is
 * checked: magic, type, reserved bytes, the size against the bytes that
 * arrived, string lengths and contents, plane extents inside their memory,
 * the fd count against the message. Errors are EPROTO with a message
 * naming the type and the field. A Hello's layout is the same in every
 * version, so one of another major version parses (the session refuses it).
 */
Result<Parsed> parse(std::span<const std::uint8_t> bytes, std::size_t fdCount);

} /* namespace zcbuf::ipc */
