/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zcipc wire format: every message survives encode + parse unchanged,
 * and every kind of malformed bytes is refused with an error that names
 * what is wrong. */
#include <cstring>

#include <gtest/gtest.h>

#include <zcbuf/ipc_protocol.h>

using namespace zcbuf;
using namespace zcbuf::ipc;

namespace {

BufferEntry nv12Entry()
{
	BufferEntry entry;
	entry.epoch = 3;
	entry.id = 5;
	entry.generation = 2;
	entry.modifier = 0;
	entry.memorySizes = { 1920 * 1080 * 3 / 2 };
	entry.planes = { Plane{ 0, 1920, 0, 1920 * 1080 },
			 Plane{ 0, 1920, 1920 * 1080, 1920 * 540 } };
	return entry;
}

Frame aFrame()
{
	Frame frame;
	frame.epoch = 3;
	frame.id = 5;
	frame.generation = 2;
	frame.bufferFlags = 0x40;
	frame.pts = 123456789;
	frame.duration = 33333333;
	frame.videoFlags = 1;
	frame.format = 23;
	frame.width = 1920;
	frame.height = 1080;
	frame.number = 77;
	return frame;
}

std::vector<std::uint8_t> bytesOf(const Message &message, std::uint32_t sequence = 9)
{
	Result<std::vector<std::uint8_t>> bytes = encode(message, sequence);
	EXPECT_TRUE(bytes.ok()) << bytes.error().message();
	return bytes.ok() ? bytes.value() : std::vector<std::uint8_t>();
}

void expectRefused(std::span<const std::uint8_t> bytes, std::size_t fds, const std::string &words)
{
	Result<Parsed> parsed = parse(bytes, fds);
	ASSERT_FALSE(parsed.ok()) << "accepted; expected an error saying '" << words << "'";
	EXPECT_EQ(parsed.error().code(), EPROTO);
	EXPECT_NE(parsed.error().message().find(words), std::string::npos)
		<< "'" << parsed.error().message() << "' does not say '" << words << "'";
}

template<typename T> T roundTrip(const T &message, std::size_t fds = 0)
{
	std::vector<std::uint8_t> bytes = bytesOf(Message(message));
	Result<Parsed> parsed = parse(bytes, fds);
	EXPECT_TRUE(parsed.ok()) << parsed.error().message();
	if (!parsed.ok())
		return {};
	EXPECT_EQ(parsed->sequence, 9u);
	EXPECT_TRUE(std::holds_alternative<T>(parsed->message));
	return std::get<T>(parsed->message);
}

void put32(std::vector<std::uint8_t> &bytes, std::size_t at, std::uint32_t value)
{
	std::memcpy(&bytes[at], &value, 4);
}

TEST(IpcProtocol, EveryMessageRoundTrips)
{
	Hello hello = roundTrip(Hello{ 1, 7, Role::Producer });
	EXPECT_EQ(hello.major, 1);
	EXPECT_EQ(hello.minor, 7);
	EXPECT_EQ(hello.role, Role::Producer);

	Epoch epoch = roundTrip(Epoch{ 4, "video/x-raw, format=(string)NV12, width=(int)64" });
	EXPECT_EQ(epoch.epoch, 4u);
	EXPECT_EQ(epoch.caps, "video/x-raw, format=(string)NV12, width=(int)64");

	BufferEntry entry = roundTrip(nv12Entry(), 1);
	EXPECT_EQ(entry.id, 5u);
	EXPECT_EQ(entry.generation, 2u);
	ASSERT_EQ(entry.planes.size(), 2u);
	EXPECT_EQ(entry.planes[1].offset, 1920u * 1080);
	EXPECT_EQ(entry.planes[1].size, 1920u * 540);
	EXPECT_EQ(entry.memorySizes, nv12Entry().memorySizes);

	Frame frame = roundTrip(aFrame());
	EXPECT_EQ(frame.pts, 123456789);
	EXPECT_EQ(frame.dts, kNoTime);
	EXPECT_EQ(frame.duration, 33333333);
	EXPECT_EQ(frame.number, 77u);
	EXPECT_EQ(frame.width, 1920u);
	EXPECT_EQ(frame.bufferFlags, 0x40u);

	roundTrip(Eos{});
	Release release = roundTrip(Release{ 3, 5, 2 });
	EXPECT_EQ(release.id, 5u);
	EXPECT_EQ(roundTrip(ForgetEpoch{ 3 }).epoch, 3u);
	ErrorReport report = roundTrip(ErrorReport{ EPERM, "uid 1000 refused" });
	EXPECT_EQ(report.code, static_cast<std::uint32_t>(EPERM));
	EXPECT_EQ(report.reason, "uid 1000 refused");
}

TEST(IpcProtocol, TruncatedMessagesAreRefused)
{
	expectRefused({}, 0, "truncated");
	std::vector<std::uint8_t> bytes = bytesOf(aFrame());
	for (std::size_t cut : { std::size_t(1), kHeaderBytes - 1, kHeaderBytes, bytes.size() - 1 }) {
		std::vector<std::uint8_t> shorter(bytes.begin(), bytes.begin() + cut);
		expectRefused(shorter, 0, cut < kHeaderBytes ? "truncated" : "arrived");
	}
	/* A header that tells the truth about a body too short for its type. */
	std::vector<std::uint8_t> body(bytes.begin(), bytes.begin() + kHeaderBytes + 8);
	put32(body, 8, static_cast<std::uint32_t>(body.size()));
	expectRefused(body, 0, "expected");

	std::vector<std::uint8_t> entry = bytesOf(nv12Entry());
	entry.resize(entry.size() - 24);
	put32(entry, 8, static_cast<std::uint32_t>(entry.size()));
	expectRefused(entry, 1, "expected");
}

TEST(IpcProtocol, OversizedMessagesAreRefused)
{
	std::vector<std::uint8_t> big(kMaxMessageBytes + 1, 0);
	expectRefused(big, 0, "at most");

	Epoch tooLong{ 1, std::string(kMaxCapsBytes + 1, 'a') };
	Result<std::vector<std::uint8_t>> encoded = encode(tooLong, 0);
	ASSERT_FALSE(encoded.ok()) << "a sender made what a receiver refuses";
	EXPECT_NE(encoded.error().message().find("caps"), std::string::npos);

	/* A text length that claims more than the body holds. */
	std::vector<std::uint8_t> epoch = bytesOf(Epoch{ 1, "video/x-raw" });
	put32(epoch, kHeaderBytes + 4, 1u << 30);
	expectRefused(epoch, 0, "bytes of body");
}

TEST(IpcProtocol, ForeignBytesAreRefused)
{
	std::vector<std::uint8_t> bytes = bytesOf(Eos{});
	std::vector<std::uint8_t> wrong = bytes;
	put32(wrong, 0, 0x12345678);
	expectRefused(wrong, 0, "not a zcipc message");

	wrong = bytes;
	put32(wrong, 0, __builtin_bswap32(kMagic));
	expectRefused(wrong, 0, "byte order");

	wrong = bytes;
	wrong[4] = 99;
	expectRefused(wrong, 0, "unknown type 99");
	wrong[4] = 0;
	expectRefused(wrong, 0, "unknown type 0");

	wrong = bytes;
	wrong[6] = 1;
	expectRefused(wrong, 0, "reserved");

	std::vector<std::uint8_t> release = bytesOf(Release{ 1, 1, 1 });
	release.back() = 1;
	expectRefused(release, 0, "reserved");
}

TEST(IpcProtocol, TextWithNulOrControlBytesIsRefused)
{
	std::vector<std::uint8_t> epoch = bytesOf(Epoch{ 1, "video/x-raw" });
	epoch[kHeaderBytes + 8 + 3] = 0;
	expectRefused(epoch, 0, "NUL or control");
	epoch[kHeaderBytes + 8 + 3] = '\n';
	expectRefused(epoch, 0, "NUL or control");

	/* Empty caps can only come from a hostile encoder. */
	std::vector<std::uint8_t> empty = bytesOf(Epoch{ 1, "x" });
	empty.pop_back();
	put32(empty, 8, static_cast<std::uint32_t>(empty.size()));
	put32(empty, kHeaderBytes + 4, 0);
	expectRefused(empty, 0, "caps of 0 bytes");
}

TEST(IpcProtocol, PlanesOutsideTheirMemoryAreRefused)
{
	BufferEntry entry = nv12Entry();
	entry.planes[1].size += 1;
	Result<std::vector<std::uint8_t>> encoded = encode(entry, 0);
	ASSERT_FALSE(encoded.ok());
	EXPECT_NE(encoded.error().message().find("runs past"), std::string::npos);

	/* Hostile bytes: an offset that overflows offset + size. */
	std::vector<std::uint8_t> bytes = bytesOf(nv12Entry());
	std::size_t plane1 = kHeaderBytes + 32 + 8 + 24;
	std::uint64_t huge = ~std::uint64_t(0) - 10;
	std::memcpy(&bytes[plane1 + 8], &huge, 8);
	expectRefused(bytes, 1, "runs past");

	bytes = bytesOf(nv12Entry());
	put32(bytes, plane1, 1); /* memory 1 of 1 */
	expectRefused(bytes, 1, "memory 1 of 1");

	bytes = bytesOf(nv12Entry());
	put32(bytes, plane1 + 4, 0);
	expectRefused(bytes, 1, "stride 0");

	entry = nv12Entry();
	entry.memorySizes[0] = kMaxMemoryBytes + 1;
	EXPECT_FALSE(encode(entry, 0).ok());

	entry = nv12Entry();
	entry.id = kMaxBuffersPerEpoch;
	EXPECT_FALSE(encode(entry, 0).ok());

	bytes = bytesOf(nv12Entry());
	put32(bytes, kHeaderBytes + 16, 5); /* planes */
	expectRefused(bytes, 1, "at most");
}

TEST(IpcProtocol, WrongFdCountsAreRefused)
{
	std::vector<std::uint8_t> entry = bytesOf(nv12Entry());
	expectRefused(entry, 0, "came with 0 fds, 1 expected");
	expectRefused(entry, 2, "came with 2 fds, 1 expected");
	expectRefused(bytesOf(aFrame()), 1, "came with 1 fds, 0 expected");
	expectRefused(bytesOf(Hello{}), 3, "came with 3 fds");
}

TEST(IpcProtocol, BadFieldValuesAreRefused)
{
	Frame frame = aFrame();
	frame.pts = -5;
	EXPECT_FALSE(encode(frame, 0).ok());
	std::vector<std::uint8_t> bytes = bytesOf(aFrame());
	std::int64_t negative = -7;
	std::memcpy(&bytes[kHeaderBytes + 16], &negative, 8);
	expectRefused(bytes, 0, "pts is -7");

	bytes = bytesOf(aFrame());
	put32(bytes, kHeaderBytes + 48, 0); /* width */
	expectRefused(bytes, 0, "a frame of 0x1080");

	bytes = bytesOf(Hello{});
	put32(bytes, kHeaderBytes + 4, 3);
	expectRefused(bytes, 0, "role 3");
}

} /* namespace */

namespace {

TEST(IpcProtocol, PlaneOffsetsLayMemoriesEndToEnd)
{
	BufferEntry entry;
	entry.memorySizes = { 4096, 8192 };
	entry.planes = { Plane{ 0, 64, 128, 1024 }, Plane{ 1, 64, 256, 1024 } };
	std::array<std::uint64_t, kMaxPlanes> offsets = planeOffsets(entry);
	EXPECT_EQ(offsets[0], 128u);
	EXPECT_EQ(offsets[1], 4096u + 256);
	EXPECT_EQ(planeOffsets(nv12Entry())[1], 1920u * 1080);
}

} /* namespace */
