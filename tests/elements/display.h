/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the display tests share (test_zckmssink on vkms, test_display_sharing
 * on virtio-gpu, both in the guest): finding a DRM card by driver, a
 * pipeline played to EOS and kept showing its last frame, and the frame
 * zcconvert makes of a source as tight BGRx bytes. Link display.cpp and
 * eos_gate.cpp.
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zcbuf::test {

struct Card {
	std::string node;     /* /dev/dri/cardN */
	std::string debugDir; /* /sys/kernel/debug/dri/N */
};

/* The first primary node whose driver is @driver; empty if none. */
Card findCard(const char *driver);

/* A pipeline played to EOS (or an error) and kept PLAYING until finish(),
 * so that its last frame is still on screen while the test looks. */
class PipelineRun
{
public:
	explicit PipelineRun(const std::string &description);
	~PipelineRun() { finish(); }
	PipelineRun(const PipelineRun &) = delete;
	PipelineRun &operator=(const PipelineRun &) = delete;

	void finish();
	/* A new reference to the element named @name, or nullptr. */
	GstElement *element(const char *name);
	bool ok() const { return error_.empty(); }
	/* "message | debug" of the first error, or why EOS never came. */
	const std::string &error() const { return error_; }

private:
	void collectError(GstClockTime timeout);
	/* Runs @work; aborts with every thread's state after @seconds. */
	static void watched(const char *step, int seconds, const std::function<void()> &work);

	GstElement *pipeline_ = nullptr;
	std::string error_;
};

/* The first frame zcconvert makes of @source at @width x @height, BGRx with
 * tight rows (width * 4 bytes each). */
std::vector<std::uint8_t> expectedFrame(const std::string &source, int width, int height);

void settle(int ms);

} /* namespace zcbuf::test */
