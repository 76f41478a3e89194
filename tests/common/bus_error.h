/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The first ERROR message waiting on a bus, as "message | debug". */
#pragma once

#include <string>

#include <gst/gst.h>

namespace zcbuf::test {

/* Pops the first ERROR message on @bus; "" if there is none. */
inline std::string popError(GstBus *bus)
{
	GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	if (!message)
		return "";
	GError *error = nullptr;
	gchar *debug = nullptr;
	gst_message_parse_error(message, &error, &debug);
	std::string text = std::string(error->message) + " | " + (debug ? debug : "");
	g_clear_error(&error);
	g_free(debug);
	gst_message_unref(message);
	return text;
}

} /* namespace zcbuf::test */
