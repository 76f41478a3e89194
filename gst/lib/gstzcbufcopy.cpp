/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/zcbuf/gstzcbufcopy.h>

#include <atomic>
#include <mutex>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(CAT_PERFORMANCE);

namespace {

struct Listener {
	gulong id;
	GstZcbufCopyFunc func;
	gpointer data;
};

struct Registry {
	/* Held while listeners run, so that removal waits for a running
	 * call: a listener removed is never called again. */
	std::mutex mutex;
	std::vector<Listener> listeners;
	gulong nextId = 1;
	std::atomic<guint64> copies{ 0 };
	std::atomic<guint64> bytes{ 0 };
};

Registry &registry()
{
	/* Never destroyed: copies can be recorded from threads still running
	 * at exit. */
	static Registry *r = [] {
		GST_DEBUG_CATEGORY_GET(CAT_PERFORMANCE, "GST_PERFORMANCE");
		return new Registry();
	}();
	return *r;
}

} /* namespace */

void gst_zcbuf_record_copy(GstObject *element, gsize bytes, const gchar *reason)
{
	Registry &r = registry();
	r.copies.fetch_add(1, std::memory_order_relaxed);
	r.bytes.fetch_add(bytes, std::memory_order_relaxed);
	GST_CAT_INFO_OBJECT(CAT_PERFORMANCE, element, "copied %" G_GSIZE_FORMAT " bytes: %s",
			    bytes, reason ? reason : "frame copy");
	std::lock_guard<std::mutex> lock(r.mutex);
	for (const Listener &l : r.listeners)
		l.func(element, bytes, reason, l.data);
}

gulong gst_zcbuf_copy_listener_add(GstZcbufCopyFunc func, gpointer user_data)
{
	g_return_val_if_fail(func != nullptr, 0);
	Registry &r = registry();
	std::lock_guard<std::mutex> lock(r.mutex);
	gulong id = r.nextId++;
	r.listeners.push_back({ id, func, user_data });
	return id;
}

void gst_zcbuf_copy_listener_remove(gulong id)
{
	Registry &r = registry();
	std::lock_guard<std::mutex> lock(r.mutex);
	for (auto it = r.listeners.begin(); it != r.listeners.end(); ++it)
		if (it->id == id) {
			r.listeners.erase(it);
			return;
		}
}

void gst_zcbuf_copy_get_totals(guint64 *copies, guint64 *bytes)
{
	Registry &r = registry();
	if (copies)
		*copies = r.copies.load(std::memory_order_relaxed);
	if (bytes)
		*bytes = r.bytes.load(std::memory_order_relaxed);
}
