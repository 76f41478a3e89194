/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test media made at test time (videotestsrc, jpegenc, the muxers) and the
 * plumbing to push it through pipelines and compare what comes out.
 */
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gst/gst.h>
#include <gst/video/video.h>

namespace zcbuf::test {

/* ZCBUF_TEST_SLOW=1 (set by the valgrind runs): use fewer and smaller frames. */
inline bool slowRun()
{
	const char *slow = std::getenv("ZCBUF_TEST_SLOW");
	return slow && slow[0] == '1';
}

/* Buffers and the caps they came with; owns both. */
struct Stream {
	GstCaps *caps = nullptr;
	std::vector<GstBuffer *> buffers;

	Stream() = default;
	Stream(Stream &&other) noexcept;
	Stream &operator=(Stream &&other) noexcept;
	Stream(const Stream &) = delete;
	~Stream();
	void clear();
};

/* Samples pulled from an appsink; owns them. */
struct Samples {
	std::vector<GstSample *> samples;
	/* The first ERROR message's text and debug text, empty if none. */
	std::string error;
	std::string errorDebug;
	/* WARNING messages seen. */
	int warnings = 0;
	bool eos = false;

	Samples() = default;
	Samples(Samples &&other) noexcept;
	Samples(const Samples &) = delete;
	~Samples();
	std::size_t size() const { return samples.size(); }
	GstBuffer *buffer(std::size_t i) const { return gst_sample_get_buffer(samples[i]); }
};

/*
 * Encodes @count frames of videotestsrc @pattern in raw @format (I420,
 * Y42B, Y444 or GRAY8 give 4:2:0, 4:2:2, 4:4:4 and greyscale JPEGs) at
 * 30 fps with libjpeg (referenceEncode(): jpegenc encodes uninitialised
 * padding at odd sizes, which valgrind rightly reports).
 */
Stream encodeJpegs(const char *format, int width, int height, int count,
		   const char *pattern = "ball", int quality = 85);

/* @count raw frames of videotestsrc @pattern, 30 fps, timestamped. */
Stream rawFrames(const char *format, int width, int height, int count,
		 const char *pattern = "smpte", const char *extraCaps = "");

/*
 * Runs @description, which has "appsrc name=src" (fed @input, then EOS,
 * when @input is given) and ends in "appsink name=sink", and collects
 * what reaches the sink until EOS or an error.
 */
Samples runPipeline(const std::string &description, const Stream *input = nullptr);

/* gst_parse_launch() that fails the test on any error, a missing element
 * included (gst_parse_launch() then returns a partial pipeline). */
GstElement *launch(const std::string &description);

/*
 * Sets @pipeline to NULL, drops the caller's reference and waits (up to
 * 10 s) until it is finalized: GstBin's state-continue thread may hold a
 * reference a moment longer, and the leak checks run right after a test.
 */
void destroyPipeline(GstElement *pipeline);

/* Runs @description (no appsink needed) to EOS; returns the error text,
 * empty on success. */
std::string runToEos(const std::string &description);

/* Writes a buffer's bytes to @path. */
bool writeFile(const std::string &path, GstBuffer *buffer);

/* A fresh empty directory under $TMPDIR, removed with its files by the
 * destructor. */
class TempDir
{
public:
	TempDir();
	~TempDir();
	const std::string &path() const { return path_; }
	std::string file(const std::string &name) const { return path_ + "/" + name; }
	/* Names of the files in it, sorted. */
	std::vector<std::string> list() const;

private:
	std::string path_;
};

/* One component of a video sample as contiguous rows (pixel stride and
 * row stride removed), with its size. */
struct Plane {
	int width = 0;
	int height = 0;
	std::vector<std::uint8_t> data;
	std::uint8_t at(int x, int y) const { return data[static_cast<std::size_t>(y) * width + x]; }
};

Plane component(GstSample *sample, int component);
GstVideoFormat sampleFormat(GstSample *sample);

/* An empty string if the two planes are equal, otherwise where they first
 * differ. */
std::string comparePlanes(const Plane &a, const Plane &b);

/* An empty string if both samples hold the same pixels (same format and
 * size; strides may differ). */
std::string compareFrames(GstSample *a, GstSample *b);

/* Copies out @buffer's bytes. */
std::vector<std::uint8_t> bytesOf(GstBuffer *buffer);

} /* namespace zcbuf::test */
