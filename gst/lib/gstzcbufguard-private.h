/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The allocator's and the pool's side of the C++/C boundary: their vfuncs
 * are called from GStreamer's C frames (and, through GObject
 * introspection, from Python), where an exception unwinding would end the
 * process. guardedVfunc<function, &category> is @function with the same
 * signature behind a catch-all that logs the exception (an allocator or a
 * pool is no element, so there is no bus to post to; their callers see the
 * vfunc's failure value: NULL, FALSE, GST_FLOW_ERROR) in @category.
 */
#pragma once

#include <exception>
#include <type_traits>

#include <gst/gst.h>

namespace zcbuf::gstlib {

/* Logs the exception being handled; call only from a catch block. */
inline void logCurrentException(GstDebugCategory *category, gpointer object) noexcept
{
	try {
		throw;
	} catch (const std::exception &e) {
		GST_CAT_ERROR_OBJECT(category, object, "C++ exception in a vfunc: %s", e.what());
	} catch (...) {
		GST_CAT_ERROR_OBJECT(category, object, "unknown C++ exception in a vfunc");
	}
}

/* What a guarded vfunc returns when its body threw. */
template <typename R> R vfuncFailure()
{
	if constexpr (std::is_same_v<R, GstFlowReturn>)
		return GST_FLOW_ERROR;
	else if constexpr (std::is_same_v<R, GstStateChangeReturn>)
		return GST_STATE_CHANGE_FAILURE;
	else if constexpr (std::is_same_v<R, GstCaps *>)
		return gst_caps_new_empty();
	else if constexpr (!std::is_void_v<R>)
		return R{};
}

/* @Vfunc behind a catch-all that calls @Report(object, category) from the
 * catch block and returns vfuncFailure(): the allocator and the pool log,
 * the plugin's elements post an element error (gst/plugin/gstzcguard.h). */
using ExceptionReport = void (*)(gpointer object, GstDebugCategory *category) noexcept;
template <auto Vfunc, GstDebugCategory **Category, ExceptionReport Report> struct VfuncGuard;
template <typename R, typename Object, typename... Args, R (*Vfunc)(Object *, Args...),
	  GstDebugCategory **Category, ExceptionReport Report>
struct VfuncGuard<Vfunc, Category, Report> {
	static R call(Object *object, Args... args) noexcept
	{
		try {
			return Vfunc(object, args...);
		} catch (...) {
			Report(object, *Category);
			return vfuncFailure<R>();
		}
	}
};

inline void logException(gpointer object, GstDebugCategory *category) noexcept
{
	logCurrentException(category, object);
}

/* guardedVfunc<function, &category>: @function with the same signature,
 * for assigning straight to a class's vfunc pointer. */
template <auto Vfunc, GstDebugCategory **Category>
constexpr auto guardedVfunc = &VfuncGuard<Vfunc, Category, logException>::call;

} /* namespace zcbuf::gstlib */
