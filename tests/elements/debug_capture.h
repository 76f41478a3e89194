/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Upstream elements' own word on what they did: while a DebugCapture is
 * alive, the GStreamer debug messages of the named categories (up to the
 * level given) are recorded instead of printed, so that a test can assert
 * what, say, v4l2's allocator and buffer pool logged (the io mode they
 * used, the dma-bufs they imported or exported, the copies they made).
 * Every other message goes to GStreamer's default log function as before.
 * Link debug_capture.cpp.
 */
#pragma once

#include <gst/gst.h>

#include <mutex>
#include <string>
#include <vector>

namespace zcbuf::test {

class DebugCapture
{
public:
	/* @categories: exact category names ("v4l2allocator"). */
	DebugCapture(std::vector<std::string> categories, GstDebugLevel level);
	~DebugCapture();
	DebugCapture(const DebugCapture &) = delete;
	DebugCapture &operator=(const DebugCapture &) = delete;

	/* "CATEGORY <OBJECT> MESSAGE", in the order they were logged. */
	std::vector<std::string> lines() const;
	/* How many recorded lines contain every one of @parts. */
	int count(const std::vector<std::string> &parts) const;

private:
	static void log(GstDebugCategory *category, GstDebugLevel level, const gchar *file,
			const gchar *function, gint line, GObject *object, GstDebugMessage *message,
			gpointer self);

	std::vector<std::string> categories_;
	GstDebugLevel level_;
	bool hadDefault_ = false;
	mutable std::mutex lock_;
	std::vector<std::string> lines_;
};

} /* namespace zcbuf::test */
