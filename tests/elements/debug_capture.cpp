/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug_capture.h"

#include <algorithm>

namespace zcbuf::test {

DebugCapture::DebugCapture(std::vector<std::string> categories, GstDebugLevel level)
	: categories_(std::move(categories)), level_(level)
{
	for (const std::string &name : categories_)
		gst_debug_set_threshold_for_name(name.c_str(), level_);
	/* Ours first, then the default one out, so that no message is lost
	 * in between; the default one comes back when the capture ends. */
	gst_debug_add_log_function(&DebugCapture::log, this, nullptr);
	hadDefault_ = gst_debug_remove_log_function(gst_debug_log_default) > 0;
}

DebugCapture::~DebugCapture()
{
	if (hadDefault_)
		gst_debug_add_log_function(gst_debug_log_default, nullptr, nullptr);
	gst_debug_remove_log_function(&DebugCapture::log);
	for (const std::string &name : categories_)
		gst_debug_unset_threshold_for_name(name.c_str());
}

void DebugCapture::log(GstDebugCategory *category, GstDebugLevel level, const gchar *file,
		       const gchar *function, gint line, GObject *object, GstDebugMessage *message,
		       gpointer self)
{
	auto *capture = static_cast<DebugCapture *>(self);
	const char *name = gst_debug_category_get_name(category);
	const auto &cats = capture->categories_;
	bool ours = std::find(cats.begin(), cats.end(), name) != cats.end();
	/* What the environment's GST_DEBUG asked for is still printed:
	 * warnings and errors of our categories too. */
	if (!ours || level <= GST_LEVEL_WARNING) {
		if (capture->hadDefault_)
			gst_debug_log_default(category, level, file, function, line, object,
					      message, nullptr);
		if (!ours)
			return;
	}
	std::string text = std::string(name) + " <";
	if (object && GST_IS_OBJECT(object))
		text += GST_OBJECT_NAME(object) ? GST_OBJECT_NAME(object) : "";
	text += "> ";
	const gchar *body = gst_debug_message_get(message);
	text += body ? body : "";
	std::lock_guard<std::mutex> hold(capture->lock_);
	capture->lines_.push_back(std::move(text));
}

std::vector<std::string> DebugCapture::lines() const
{
	std::lock_guard<std::mutex> hold(lock_);
	return lines_;
}

int DebugCapture::count(const std::vector<std::string> &parts) const
{
	std::lock_guard<std::mutex> hold(lock_);
	return static_cast<int>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string &l) {
		return std::all_of(parts.begin(), parts.end(), [&](const std::string &p) {
			return l.find(p) != std::string::npos;
		});
	}));
}

} /* namespace zcbuf::test */
