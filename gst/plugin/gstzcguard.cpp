/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gstzcguard.h"

#include <exception>
#include <new>
#include <string>
#include <system_error>

namespace zcbuf::plugin {

namespace {

void post(GstElement *element, GstDebugCategory *category, GQuark domain, gint code,
	  const char *text, const std::string &debug, const char *where)
{
	GST_CAT_ERROR_OBJECT(category, element, "%s: %s", where, debug.c_str());
	gst_element_message_full(element, GST_MESSAGE_ERROR, domain, code, g_strdup(text),
				 g_strdup_printf("%s: %s", where, debug.c_str()), __FILE__,
				 GST_FUNCTION, __LINE__);
}

} /* namespace */

void postCurrentException(GstElement *element, GstDebugCategory *category,
			  const char *where) noexcept
{
	try {
		try {
			throw;
		} catch (const std::bad_alloc &e) {
			post(element, category, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
			     "Not enough memory.", std::string("out of memory (") + e.what() + ")",
			     where);
		} catch (const std::system_error &e) {
			post(element, category, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
			     "A system resource is exhausted.", e.what(), where);
		} catch (const std::exception &e) {
			post(element, category, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
			     "Internal error.", e.what(), where);
		} catch (...) {
			post(element, category, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
			     "Internal error.", "an unknown exception", where);
		}
	} catch (...) {
		/* Building the message itself ran out of memory: all that is
		 * left is the log. */
		GST_CAT_ERROR_OBJECT(category, element, "%s failed and cannot say why", where);
	}
}

} /* namespace zcbuf::plugin */
