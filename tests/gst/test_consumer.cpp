/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gstzcbufconsumer.h: consumers state their needs in propose_allocation and
 * the producer reads all of them from its answered ALLOCATION query, directly,
 * through queues and across every branch of a tee.
 */
#include <gst/base/gstbasesink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbufconsumer.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

/* A sink whose propose_allocation states the needs given to it as
 * g_object_set_data(sink, "needs", "<structure string>"). */
GType needsSinkType()
{
	static GType type = 0;
	if (!type) {
		type = g_type_register_static_simple(
			GST_TYPE_BASE_SINK, "TestNeedsSink", sizeof(GstBaseSinkClass),
			[](gpointer klass, gpointer) {
				static GstStaticPadTemplate sink = GST_STATIC_PAD_TEMPLATE(
					"sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
				gst_element_class_add_static_pad_template(GST_ELEMENT_CLASS(klass), &sink);
				gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "needs sink",
								      "Sink", "states needs", "zcbuf");
				GST_BASE_SINK_CLASS(klass)->propose_allocation =
					[](GstBaseSink *sink, GstQuery *query) -> gboolean {
					auto *text = static_cast<const gchar *>(
						g_object_get_data(G_OBJECT(sink), "needs"));
					if (text) {
						GstStructure *needs = gst_structure_from_string(text, nullptr);
						gst_zcbuf_query_add_consumer_needs(query, needs);
						gst_structure_free(needs);
					}
					return TRUE;
				};
			},
			sizeof(GstBaseSink),
			[](GTypeInstance *instance, gpointer) {
				gst_base_sink_set_async_enabled(GST_BASE_SINK(instance), FALSE);
			},
			GTypeFlags(0));
		gst_element_register(nullptr, "testneedssink", GST_RANK_NONE, type);
	}
	return type;
}

const char *kNeedsA = "zcbuf-consumer-needs, consumer=(string)a, device=(string)/dev/dri/card0, "
		      "own-device-memory=(boolean)true, stride-align=(uint)64";
const char *kNeedsB = "zcbuf-consumer-needs, consumer=(string)b, device=(string)/dev/video3, "
		      "contiguous=(boolean)true";

class ConsumerNeeds : public ::testing::Test
{
protected:
	void SetUp() override { needsSinkType(); }

	void TearDown() override
	{
		if (harness_)
			gst_harness_teardown(harness_);
	}

	/* Starts @launch behind a harness; every testneedssink named in
	 * @needs (name, structure) states that structure. */
	void start(const char *launch, const std::vector<std::pair<const char *, const char *>> &needs)
	{
		harness_ = gst_harness_new_parse(launch);
		for (const auto &[name, text] : needs) {
			GstElement *sink = gst_bin_get_by_name(GST_BIN(harness_->element), name);
			ASSERT_NE(sink, nullptr) << name;
			g_object_set_data(G_OBJECT(sink), "needs", const_cast<char *>(text));
			gst_object_unref(sink);
		}
		gst_harness_play(harness_);
		gst_harness_set_src_caps_str(harness_, "video/x-raw,format=BGRx,width=64,height=32");
	}

	/* The producer's side: a fresh ALLOCATION query, answered downstream. */
	GstQuery *query()
	{
		GstCaps *caps = gst_caps_from_string("video/x-raw,format=BGRx,width=64,height=32");
		GstQuery *query = gst_query_new_allocation(caps, TRUE);
		gst_caps_unref(caps);
		EXPECT_TRUE(gst_pad_peer_query(harness_->srcpad, query));
		return query;
	}

	static std::vector<std::string> consumers(GstQuery *query)
	{
		std::vector<std::string> names;
		guint n = gst_zcbuf_query_get_n_consumer_needs(query);
		for (guint i = 0; i < n; i++) {
			const GstStructure *needs = gst_zcbuf_query_get_consumer_needs(query, i);
			EXPECT_TRUE(gst_structure_has_name(needs, GST_ZCBUF_CONSUMER_NEEDS));
			names.push_back(gst_structure_get_string(needs, "consumer"));
		}
		return names;
	}

	static bool stated(GstQuery *query, const char *text)
	{
		GstStructure *expected = gst_structure_from_string(text, nullptr);
		bool found = false;
		for (guint i = 0; i < gst_zcbuf_query_get_n_consumer_needs(query); i++)
			found |= gst_structure_is_equal(gst_zcbuf_query_get_consumer_needs(query, i),
							expected);
		gst_structure_free(expected);
		return found;
	}

	GstHarness *harness_ = nullptr;
};

TEST_F(ConsumerNeeds, DirectConsumerIsRead)
{
	start("testneedssink name=a", { { "a", kNeedsA } });
	GstQuery *q = query();
	EXPECT_EQ(consumers(q), std::vector<std::string>{ "a" });
	EXPECT_TRUE(stated(q, kNeedsA));
	EXPECT_EQ(gst_zcbuf_query_get_consumer_needs(q, 1), nullptr);
	gst_query_unref(q);
}

TEST_F(ConsumerNeeds, NoConsumerStatesNothing)
{
	start("queue ! testneedssink", {});
	GstQuery *q = query();
	EXPECT_EQ(gst_zcbuf_query_get_n_consumer_needs(q), 0u);
	EXPECT_EQ(gst_zcbuf_query_get_consumer_needs(q, 0), nullptr);
	gst_query_unref(q);
}

TEST_F(ConsumerNeeds, ReachesThroughQueue)
{
	start("queue ! queue ! testneedssink name=b", { { "b", kNeedsB } });
	GstQuery *q = query();
	EXPECT_EQ(consumers(q), std::vector<std::string>{ "b" });
	EXPECT_TRUE(stated(q, kNeedsB));
	gst_query_unref(q);
}

/* Two consumers with different needs and a branch that states none (fakesink
 * would fail the whole query: basesink has no propose_allocation): tee
 * drops every meta entry that not all branches have (so the query's own meta
 * entry is gone), and both needs still reach the producer. */
TEST_F(ConsumerNeeds, EveryTeeBranchIsRead)
{
	start("tee name=t t. ! queue ! testneedssink name=a "
	      "t. ! queue ! testneedssink name=b t. ! queue ! testneedssink",
	      { { "a", kNeedsA }, { "b", kNeedsB } });
	GstQuery *q = query();
	EXPECT_FALSE(gst_query_find_allocation_meta(q, GST_ZCBUF_CONSUMER_NEEDS_META_API_TYPE,
						    nullptr));
	std::vector<std::string> names = consumers(q);
	std::sort(names.begin(), names.end());
	EXPECT_EQ(names, (std::vector<std::string>{ "a", "b" }));
	EXPECT_TRUE(stated(q, kNeedsA));
	EXPECT_TRUE(stated(q, kNeedsB));
	gst_query_unref(q);
}

TEST_F(ConsumerNeeds, NestedTeesAreRead)
{
	start("tee name=t t. ! queue ! tee name=u u. ! queue ! testneedssink name=a "
	      "u. ! testneedssink t. ! testneedssink name=b",
	      { { "a", kNeedsA }, { "b", kNeedsB } });
	GstQuery *q = query();
	std::vector<std::string> names = consumers(q);
	std::sort(names.begin(), names.end());
	EXPECT_EQ(names, (std::vector<std::string>{ "a", "b" }));
	gst_query_unref(q);
}

TEST_F(ConsumerNeeds, IdenticalNeedsAreListedOnce)
{
	start("tee name=t t. ! queue ! testneedssink name=a t. ! queue ! testneedssink name=b",
	      { { "a", kNeedsA }, { "b", kNeedsA } });
	GstQuery *q = query();
	EXPECT_EQ(consumers(q), std::vector<std::string>{ "a" });
	gst_query_unref(q);
}

/* Reading takes the needs off the caps: a later query with the same caps
 * object sees only what its own consumers state, and reading one query
 * twice gives the same answer. */
TEST_F(ConsumerNeeds, ReadingOnceLeavesNothingForTheNextQuery)
{
	start("tee name=t t. ! queue ! testneedssink name=a t. ! testneedssink",
	      { { "a", kNeedsA } });
	GstQuery *first = query();
	EXPECT_EQ(gst_zcbuf_query_get_n_consumer_needs(first), 1u);
	EXPECT_EQ(gst_zcbuf_query_get_n_consumer_needs(first), 1u);

	GstCaps *caps = nullptr;
	gst_query_parse_allocation(first, &caps, nullptr);
	GstQuery *second = gst_query_new_allocation(caps, TRUE);
	EXPECT_EQ(gst_zcbuf_query_get_n_consumer_needs(second), 0u);
	gst_query_unref(second);
	gst_query_unref(first);
}

} /* namespace */
