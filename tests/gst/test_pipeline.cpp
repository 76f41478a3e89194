/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool and allocator inside real pipelines, fed by upstream elements. */
#include <gst/allocators/allocators.h>
#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>
#include <zcbuf/statistics.h>

#include "backend_test.h"
#include "memory_counts.h"

using namespace zcbuf;

namespace {

struct ProbeData {
	std::string backend;
	int answered = 0;
};

/* Answers ALLOCATION queries reaching a sink pad with a zcbuf pool, as a
 * zcbuf consumer element does in propose_allocation. */
GstPadProbeReturn proposeZcbuf(GstPad *, GstPadProbeInfo *info, gpointer user)
{
	GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
	if (GST_QUERY_TYPE(query) != GST_QUERY_ALLOCATION)
		return GST_PAD_PROBE_OK;
	ProbeData *data = static_cast<ProbeData *>(user);
	if (!gst_zcbuf_propose_allocation(query, 2, data->backend.c_str()))
		return GST_PAD_PROBE_OK;
	data->answered++;
	return GST_PAD_PROBE_HANDLED;
}

bool runToEos(GstElement *pipeline)
{
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
		return false;
	GstBus *bus = gst_element_get_bus(pipeline);
	GstMessage *message = gst_bus_timed_pop_filtered(
		bus, 60 * GST_SECOND,
		static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	bool eos = message && GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
	if (message && !eos) {
		GError *error = nullptr;
		gst_message_parse_error(message, &error, nullptr);
		ADD_FAILURE() << "pipeline error: " << error->message;
		g_clear_error(&error);
	}
	if (message)
		gst_message_unref(message);
	gst_object_unref(bus);
	return eos;
}

class PipelineTest : public test::BackendTest
{
protected:
	/* Launches a pipeline whose element named "sink" proposes the zcbuf
	 * pool of the backend under test; returns a new ref to that sink. */
	GstElement *launch(const char *description, GstElement **sink)
	{
		GError *error = nullptr;
		GstElement *pipeline = gst_parse_launch(description, &error);
		EXPECT_NE(pipeline, nullptr) << (error ? error->message : "");
		if (!pipeline)
			return nullptr;
		*sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
		GstPad *pad = gst_element_get_static_pad(*sink, "sink");
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, proposeZcbuf, &probe_,
				  nullptr);
		gst_object_unref(pad);
		return pipeline;
	}

	ProbeData probe_{ GetParam() };
};

TEST_P(PipelineTest, SourceWritesStraightIntoThePool)
{
	GstElement *sink = nullptr;
	GstElement *pipeline = launch(
		"videotestsrc num-buffers=30 ! video/x-raw,format=NV12,width=1920,height=1080 "
		"! fakesink name=sink signal-handoffs=true",
		&sink);
	ASSERT_NE(pipeline, nullptr);
	zcbuf::test::MemoryCounts counts;
	g_signal_connect(sink, "handoff", G_CALLBACK(zcbuf::test::countHandoff), &counts);

	BackendStatistics before = statistics()[backend_->kind()];
	EXPECT_TRUE(runToEos(pipeline));
	BackendStatistics during = statistics()[backend_->kind()];
	gst_element_set_state(pipeline, GST_STATE_NULL);

	EXPECT_GE(probe_.answered, 1);
	EXPECT_EQ(counts.buffers, 30);
	EXPECT_EQ(counts.zcbuf, 30) << "videotestsrc did not write into zcbuf memory";
	EXPECT_EQ(counts.dmabuf, dmabuf() ? 30 : 0);
	EXPECT_LE(counts.memories.size(), 4u) << "memories were not recycled";
	EXPECT_EQ(during.allocations - before.allocations, counts.memories.size())
		<< "one backing per pooled buffer, none per frame";

	gst_object_unref(sink);
	gst_object_unref(pipeline);
}

TEST_P(PipelineTest, SampleOutlivesItsPipeline)
{
	GstElement *sink = nullptr;
	GstElement *pipeline = launch(
		"videotestsrc num-buffers=3 pattern=white ! video/x-raw,format=GRAY8,width=64,height=64 "
		"! appsink name=sink sync=false",
		&sink);
	ASSERT_NE(pipeline, nullptr);

	ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
	GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
	ASSERT_NE(sample, nullptr);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);

	/* Pipeline, pool and allocator are gone; the sample must still work. */
	GstBuffer *buffer = gst_sample_get_buffer(sample);
	EXPECT_TRUE(gst_is_zcbuf_memory(gst_buffer_peek_memory(buffer, 0)));
	GstMapInfo map;
	ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[0], 235); /* white in limited-range GRAY8 */
	EXPECT_EQ(map.data[64 * 63], 235);
	gst_buffer_unmap(buffer, &map);
	gst_sample_unref(sample);
}

TEST_P(PipelineTest, UpstreamPoolWithTheZcbufAllocator)
{
	/* A source that makes its own pool but takes the allocator offered
	 * downstream (what GstHarness proposes) also lands in zcbuf memory. */
	GError *error = nullptr;
	GstAllocator *allocator = gst_zcbuf_allocator_new(spec(), &error);
	ASSERT_NE(allocator, nullptr) << error->message;
	GstHarness *h = gst_harness_new_parse(
		"videotestsrc num-buffers=5 ! capsfilter caps=video/x-raw,format=I420,width=320,height=240");
	gst_harness_set_propose_allocator(h, allocator, nullptr);
	gst_harness_play(h);
	for (int i = 0; i < 5; i++) {
		GstBuffer *buffer = gst_harness_pull(h);
		ASSERT_NE(buffer, nullptr);
		EXPECT_TRUE(gst_is_zcbuf_memory(gst_buffer_peek_memory(buffer, 0)));
		EXPECT_EQ(static_cast<bool>(gst_is_dmabuf_memory(gst_buffer_peek_memory(buffer, 0))),
			  dmabuf());
		gst_buffer_unref(buffer);
	}
	gst_harness_teardown(h);
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(PipelineTest);

} /* namespace */
