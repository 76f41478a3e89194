/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "eos_gate.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace zcbuf::test {

namespace {

constexpr auto kLimit = std::chrono::seconds(30);
constexpr auto kSlice = std::chrono::milliseconds(50);

struct Gate {
	std::mutex lock;
	std::condition_variable pushed;
	bool output = false;
};

using GateRef = std::shared_ptr<Gate>;

void dropRef(gpointer data)
{
	delete static_cast<GateRef *>(data);
}

GstPadProbeReturn outputSeen(GstPad *, GstPadProbeInfo *, gpointer data)
{
	Gate &gate = **static_cast<GateRef *>(data);
	{
		std::lock_guard<std::mutex> hold(gate.lock);
		gate.output = true;
	}
	gate.pushed.notify_all();
	return GST_PAD_PROBE_OK;
}

GstPadProbeReturn eventIn(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	Gate &gate = **static_cast<GateRef *>(data);
	GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
	if (GST_EVENT_TYPE(event) == GST_EVENT_STREAM_START) {
		std::lock_guard<std::mutex> hold(gate.lock);
		gate.output = false;
	} else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
		auto until = std::chrono::steady_clock::now() + kLimit;
		std::unique_lock<std::mutex> hold(gate.lock);
		/* in slices: a pipeline going to NULL sets the pad flushing
		 * and then waits for this thread */
		while (!gate.output && !GST_PAD_IS_FLUSHING(pad) &&
		       std::chrono::steady_clock::now() < until)
			gate.pushed.wait_for(hold, kSlice);
	}
	return GST_PAD_PROBE_OK;
}

} /* namespace */

bool holdEosUntilFirstOutput(GstElement *pipeline, const std::string &name)
{
	GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline), name.c_str());
	if (!element)
		return false;
	GstPad *sink = gst_element_get_static_pad(element, "sink");
	GstPad *src = gst_element_get_static_pad(element, "src");
	bool gated = sink && src;
	if (gated) {
		GateRef gate = std::make_shared<Gate>();
		gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, eventIn, new GateRef(gate),
				  dropRef);
		gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, outputSeen, new GateRef(gate), dropRef);
	}
	if (sink)
		gst_object_unref(sink);
	if (src)
		gst_object_unref(src);
	gst_object_unref(element);
	return gated;
}

} /* namespace zcbuf::test */
