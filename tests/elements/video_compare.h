/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers for comparing video frames made by zcbuf elements with those of
 * the upstream elements: test frames, running one frame through an element
 * in a GstHarness, and the largest difference per component.
 */
#pragma once

#include <array>
#include <string>

#include <gst/gst.h>
#include <gst/video/video.h>

namespace zcbuf::test {

/* Caps for a raw frame; @extra is appended as is (",colorimetry=bt709"). */
std::string videoCaps(const std::string &format, int width, int height,
		      const std::string &extra = "");

/* Content of a test frame. */
enum class Pattern {
	Noise, /* every byte random: the strictest input for filters */
	Smooth, /* slow sinusoids: what bilinear scalers agree on */
};

/* A frame of @caps in system memory, filled with @pattern (seeded). */
GstBuffer *makeFrame(GstCaps *caps, Pattern pattern, unsigned seed = 1);

/* The output of @element (a gst_parse_launch description) for one frame of
 * @inCaps, negotiated to @outCaps. Null when nothing came out. With
 * @negotiated, the output caps are returned there (transfer full). */
GstBuffer *convertOne(const std::string &element, const std::string &inCaps,
		      const std::string &outCaps, GstBuffer *input,
		      GstCaps **negotiated = nullptr);

/* Largest absolute difference per component (A, Y/R, U/G, V/B as
 * GStreamer's unpacking gives them) between two frames of @caps; only the
 * frame's pixels count, never padding. */
std::array<int, 4> maxDifference(GstCaps *caps, GstBuffer *a, GstBuffer *b);
int maxOf(const std::array<int, 4> &d);

/* "A 0 Y 1 U 2 V 0" for messages. */
std::string describe(const std::array<int, 4> &d);

/* ZCBUF_TEST_SLOW=1 (the valgrind runs): fewer and smaller frames. */
bool slowRun();

/* How a pipeline run ended. */
struct RunResult {
	bool eos = false;
	/* The first ERROR message: its text and debug text. */
	std::string error, debug;
};

/* Plays @pipeline (taken over: stopped and unreffed here) to EOS or an
 * error, at most @seconds. */
RunResult runPipeline(GstElement *pipeline, int seconds = 60);

/* Whether every memory of @buffer is zcbuf memory. */
bool allZcbuf(GstBuffer *buffer);

} /* namespace zcbuf::test */
