/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcbuf-snap: connects to a running zcipcsink as a consumer, takes the last
 * frame (or the next one, --next), maps it for CPU reading inside a
 * DMA_BUF_IOCTL_SYNC bracket, scales it with libyuv and writes a JPEG with
 * libjpeg-turbo (the code zcthumbnail uses), releases the frame and exits:
 *
 *   zcbuf-snap /run/cam.sock snap.jpg --width 320
 *
 * No pipeline: the protocol is libzcbuf's, and GStreamer's video library
 * only describes the frame.
 */
#include <gst/video/video.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zcbuf/zcbuf.h>

#include "image/scaler.h"
#include "jpeg/compressor.h"

namespace {

using namespace zcbuf;

struct Options {
	std::string socket;
	std::string output;
	unsigned width = 320;
	unsigned height = 0;
	int quality = 85;
	bool next = false;
};

void usage(FILE *to)
{
	std::fprintf(to, "usage: zcbuf-snap SOCKET OUTPUT.jpg [--width N] [--height N] "
			 "[--quality 1-100] [--next]\n"
			 "  SOCKET: a zcipcsink's socket-path (a path or @name)\n"
			 "  --width/--height: the largest thumbnail (aspect kept, never upscaled;\n"
			 "                    default 320 wide, 0 = no bound)\n"
			 "  --next: wait for the next frame instead of taking the last one\n");
}

std::optional<Options> parseOptions(int argc, char **argv)
{
	Options options;
	std::vector<std::string> positional;
	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		auto number = [&](long low, long high) -> std::optional<long> {
			if (i + 1 >= argc)
				return std::nullopt;
			char *end = nullptr;
			long value = std::strtol(argv[++i], &end, 10);
			if (!end || *end || value < low || value > high)
				return std::nullopt;
			return value;
		};
		std::optional<long> value;
		if (arg == "--help" || arg == "-h") {
			usage(stdout);
			std::exit(0);
		} else if (arg == "--next") {
			options.next = true;
		} else if (arg == "--width" && (value = number(0, 16384))) {
			options.width = static_cast<unsigned>(*value);
		} else if (arg == "--height" && (value = number(0, 16384))) {
			options.height = static_cast<unsigned>(*value);
		} else if (arg == "--quality" && (value = number(1, 100))) {
			options.quality = static_cast<int>(*value);
		} else if (!arg.empty() && arg[0] == '-' && arg != "-") {
			std::fprintf(stderr, "zcbuf-snap: bad option or value: %s\n", arg.c_str());
			return std::nullopt;
		} else {
			positional.push_back(arg);
		}
	}
	if (positional.size() != 2)
		return std::nullopt;
	options.socket = positional[0];
	options.output = positional[1];
	return options;
}

struct Table {
	std::optional<GstVideoInfo> info;
	std::vector<ipc::BufferEntry> entries = std::vector<ipc::BufferEntry>(ipc::kMaxBuffersPerEpoch);
	std::vector<std::vector<std::shared_ptr<Buffer>>> memories =
		std::vector<std::vector<std::shared_ptr<Buffer>>>(ipc::kMaxBuffersPerEpoch);
};

/* Encodes the frame in buffer id into options.output. */
Result<void> snapshot(const Options &options, const Table &table, const ipc::Frame &frame)
{
	const ipc::BufferEntry &entry = table.entries[frame.id];
	const std::vector<std::shared_ptr<Buffer>> &memories = table.memories[frame.id];
	GstVideoInfo info = *table.info;

	/* Map every memory for reading; the accesses end (SYNC END) when
	 * they go out of scope, after the frame is scaled. */
	std::vector<CpuAccess> accesses;
	for (const std::shared_ptr<Buffer> &memory : memories) {
		Result<CpuAccess> access = memory->access(Access::Read);
		if (!access)
			return access.error();
		accesses.push_back(std::move(access).value());
	}
	GstBuffer *wrapped = gst_buffer_new();
	for (std::size_t m = 0; m < accesses.size(); m++) {
		gst_buffer_append_memory(wrapped, gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY,
									 accesses[m].data(),
									 entry.memorySizes[m], 0,
									 entry.memorySizes[m], nullptr,
									 nullptr));
	}
	std::array<std::uint64_t, ipc::kMaxPlanes> starts = ipc::planeOffsets(entry);
	gsize offsets[GST_VIDEO_MAX_PLANES] = {};
	gint strides[GST_VIDEO_MAX_PLANES] = {};
	for (std::size_t p = 0; p < entry.planes.size(); p++) {
		offsets[p] = starts[p];
		strides[p] = static_cast<gint>(entry.planes[p].stride);
	}
	gst_buffer_add_video_meta_full(wrapped, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&info),
				       GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info),
				       static_cast<guint>(entry.planes.size()), offsets, strides);
	GstVideoFrame mapped;
	if (!gst_video_frame_map(&mapped, &info, wrapped, GST_MAP_READ)) {
		gst_buffer_unref(wrapped);
		return Error(EINVAL, "the frame does not match its caps");
	}
	int width = 0, height = 0;
	image::thumbnailSize(&info, options.width ? options.width : G_MAXINT,
			     options.height ? options.height : G_MAXINT, &width, &height);
	image::ThumbnailImage thumbnail;
	image::shrinkFrame(&mapped, width, height, &thumbnail);
	gst_video_frame_unmap(&mapped);
	gst_buffer_unref(wrapped);
	accesses.clear();

	std::vector<std::uint8_t> jpeg;
	std::string error;
	jpeg::Compressor compressor;
	if (!compressor.compress(thumbnail, options.quality, &jpeg, &error))
		return Error(EIO, "JPEG encoding: " + error);
	FILE *file = std::fopen(options.output.c_str(), "wb");
	if (!file)
		return Error::fromErrno(errno, "opening " + options.output);
	bool written = std::fwrite(jpeg.data(), 1, jpeg.size(), file) == jpeg.size();
	written = std::fclose(file) == 0 && written;
	if (!written)
		return Error::fromErrno(errno, "writing " + options.output);
	std::printf("%s: %dx%d from a %dx%d %s frame\n", options.output.c_str(), width, height,
		    GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info),
		    gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)));
	return {};
}

Result<void> run(const Options &options)
{
	Result<UniqueFD> socket = ipc::connectTo(options.socket);
	if (!socket)
		return socket.error();
	ipc::Channel channel(std::move(socket).value());
	Result<void> hello = channel.send(ipc::Hello{ ipc::kVersionMajor, ipc::kVersionMinor,
						      ipc::Role::Consumer });
	if (!hello)
		return hello.error();
	ipc::ConsumerSession session;
	Table table;
	bool skip = options.next;
	bool sawFrame = false;

	for (;;) {
		Result<ipc::Received> got = channel.receive();
		if (!got) {
			if (got.error().code() == ECONNRESET)
				return Error(ECONNRESET, "the producer closed the connection before a frame");
			return got.error();
		}
		Result<void> applied = session.receive(got->parsed);
		if (!applied) {
			channel.sendError(applied.error());
			return applied.error();
		}
		const ipc::Message &message = got->parsed.message;
		if (const ipc::Epoch *epoch = std::get_if<ipc::Epoch>(&message)) {
			GstCaps *caps = gst_caps_from_string(epoch->caps.c_str());
			GstVideoInfo info;
			bool ok = caps && gst_video_info_from_caps(&info, caps);
			if (caps)
				gst_caps_unref(caps);
			if (!ok)
				return Error(EINVAL, "the producer's caps are no raw video: " + epoch->caps);
			table = Table();
			table.info = info;
		} else if (const ipc::BufferEntry *entry = std::get_if<ipc::BufferEntry>(&message)) {
			Result<std::vector<std::shared_ptr<Buffer>>> imported =
				ipc::importMemories(*entry, got->fds);
			if (!imported) {
				channel.sendError(imported.error());
				return imported.error();
			}
			table.entries[entry->id] = *entry;
			table.memories[entry->id] = std::move(imported).value();
		} else if (const ipc::Frame *frame = std::get_if<ipc::Frame>(&message)) {
			ipc::Release release{ frame->epoch, frame->id, frame->generation };
			/* The late joiner's first frame is the last one shown. */
			if (skip && !sawFrame) {
				sawFrame = true;
				(void)channel.send(release);
				continue;
			}
			Result<void> taken = snapshot(options, table, *frame);
			(void)channel.send(release);
			return taken;
		} else if (std::holds_alternative<ipc::Eos>(message)) {
			return Error(ENODATA, "the stream ended before a frame");
		}
	}
}

} /* namespace */

int main(int argc, char **argv)
{
	std::optional<Options> options = parseOptions(argc, argv);
	if (!options) {
		usage(stderr);
		return 2;
	}
	/* Caps and video info are GStreamer types; no plugin is loaded. */
	gst_init(nullptr, nullptr);
	Result<void> done = run(*options);
	if (!done) {
		std::fprintf(stderr, "zcbuf-snap: %s\n", done.error().message().c_str());
		return 1;
	}
	return 0;
}
