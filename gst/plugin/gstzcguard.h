/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The boundary between the elements' C++ and GStreamer's C frames. An
 * exception unwinding into GStreamer ends the process (std::terminate) or,
 * at best, skips GStreamer's own unlocking; so every vfunc and callback of
 * the plugin's elements runs its body through guarded(), which turns an
 * exception (std::bad_alloc, std::system_error from a thread that cannot
 * be made, anything else) into an element error that names it and where it
 * happened, and returns the vfunc's failure value (FALSE, GST_FLOW_ERROR,
 * GST_STATE_CHANGE_FAILURE).
 */
#pragma once

#include <type_traits>
#include <utility>

#include <gst/gst.h>

#include "gstzcbufguard-private.h"

namespace zcbuf::plugin {

/* Posts an element error for the exception being handled, logged in
 * @category; call only from a catch block. */
void postCurrentException(GstElement *element, GstDebugCategory *category,
			  const char *where) noexcept;

template <typename Result, typename Body>
Result guarded(gpointer element, GstDebugCategory *category, const char *where, Result failure,
	       Body &&body) noexcept
{
	try {
		return std::forward<Body>(body)();
	} catch (...) {
		postCurrentException(GST_ELEMENT(element), category, where);
		return failure;
	}
}

/* For callbacks that return nothing. */
template <typename Body>
void guardedVoid(gpointer element, GstDebugCategory *category, const char *where,
		 Body &&body) noexcept
{
	try {
		std::forward<Body>(body)();
	} catch (...) {
		postCurrentException(GST_ELEMENT(element), category, where);
	}
}

using zcbuf::gstlib::vfuncFailure;

/* Posts an element error for the exception being handled (a vfunc's
 * report, see gstzcbufguard-private.h). */
inline void postException(gpointer element, GstDebugCategory *category) noexcept
{
	postCurrentException(GST_ELEMENT(element), category, "a vfunc");
}

/* guardedVfunc<function, &category> is @function behind guarded(), with the
 * same signature, for assigning straight to a class's vfunc pointer. */
template <auto Vfunc, GstDebugCategory **Category>
constexpr auto guardedVfunc =
	&zcbuf::gstlib::VfuncGuard<Vfunc, Category, postException>::call;

} /* namespace zcbuf::plugin */
