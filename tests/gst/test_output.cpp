/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gst_zcbuf_decide_allocation(): the pool every zcbuf producer writes into. */
#include <gst/allocators/allocators.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbuf.h>

#include "backend_test.h"

using namespace zcbuf;

namespace {

/* A downstream pool that refuses every configuration it is given. */
struct RefusingPool {
	GstBufferPool parent;
};
struct RefusingPoolClass {
	GstBufferPoolClass parent_class;
};

GType refusingPoolType()
{
	static GType type = 0;
	if (!type)
		type = g_type_register_static_simple(
			GST_TYPE_BUFFER_POOL, "TestRefusingPool", sizeof(RefusingPoolClass),
			[](gpointer klass, gpointer) {
				GST_BUFFER_POOL_CLASS(klass)->set_config =
					[](GstBufferPool *, GstStructure *) -> gboolean { return FALSE; };
			},
			sizeof(RefusingPool), nullptr, GTypeFlags(0));
	return type;
}

class DecideAllocation : public test::BackendTest
{
protected:
	void SetUp() override
	{
		test::BackendTest::SetUp();
		element_ = gst_element_factory_make("identity", "producer");
		caps_ = gst_caps_from_string("video/x-raw,format=NV12,width=100,height=50");
		query_ = gst_query_new_allocation(caps_, TRUE);
	}

	void TearDown() override
	{
		gst_query_unref(query_);
		gst_caps_unref(caps_);
		gst_object_unref(element_);
		test::BackendTest::TearDown();
	}

	/* Runs the decision; returns the chosen pool (a new ref) and its
	 * minimum. */
	GstBufferPool *decide(guint extra, guint strideAlignment, guint *min = nullptr)
	{
		GstZcbufOutputParams params = {};
		params.backend = spec();
		params.extra_buffers = extra;
		params.stride_alignment = strideAlignment;
		EXPECT_TRUE(gst_zcbuf_decide_allocation(element_, query_, &params));
		EXPECT_EQ(gst_query_get_n_allocation_pools(query_), 1u);
		GstBufferPool *pool = nullptr;
		guint size = 0, minimum = 0, max = 0;
		gst_query_parse_nth_allocation_pool(query_, 0, &pool, &size, &minimum, &max);
		EXPECT_GE(size, 100u * 50 * 3 / 2);
		if (min)
			*min = minimum;
		return pool;
	}

	/* Stride of plane 0 of a buffer from @pool. */
	gint firstStride(GstBufferPool *pool)
	{
		EXPECT_TRUE(gst_buffer_pool_set_active(pool, TRUE));
		GstBuffer *buffer = nullptr;
		EXPECT_EQ(gst_buffer_pool_acquire_buffer(pool, &buffer, nullptr), GST_FLOW_OK);
		gint stride = buffer ? gst_buffer_get_video_meta(buffer)->stride[0] : -1;
		if (buffer)
			gst_buffer_unref(buffer);
		gst_buffer_pool_set_active(pool, FALSE);
		return stride;
	}

	GstElement *element_ = nullptr;
	GstCaps *caps_ = nullptr;
	GstQuery *query_ = nullptr;
};

TEST_P(DecideAllocation, NothingDownstreamGivesAZcbufPoolOfTheBackend)
{
	guint min = 0;
	GstBufferPool *pool = decide(3, 0, &min);
	ASSERT_TRUE(GST_IS_ZCBUF_BUFFER_POOL(pool));
	EXPECT_GE(min, 3u);
	GstAllocator *allocator = gst_zcbuf_buffer_pool_get_allocator(GST_ZCBUF_BUFFER_POOL(pool));
	ASSERT_NE(allocator, nullptr);
	EXPECT_EQ(static_cast<bool>(gst_zcbuf_allocator_is_dmabuf(allocator)), dmabuf());
	/* The allocation params name the same allocator. */
	GstAllocator *param = nullptr;
	ASSERT_GE(gst_query_get_n_allocation_params(query_), 1u);
	gst_query_parse_nth_allocation_param(query_, 0, &param, nullptr);
	EXPECT_EQ(param, allocator);
	gst_object_unref(param);
	gst_object_unref(allocator);
	gst_object_unref(pool);
}

TEST_P(DecideAllocation, DownstreamZcbufPoolIsUsedWithTheProducersNeeds)
{
	GstBufferPool *downstream = gst_zcbuf_buffer_pool_new(spec());
	gst_query_add_allocation_pool(query_, downstream, 0, 2, 0);
	gst_query_add_allocation_meta(query_, GST_VIDEO_META_API_TYPE, nullptr);
	guint min = 0;
	GstBufferPool *pool = decide(4, 64, &min);
	EXPECT_EQ(pool, downstream);
	EXPECT_EQ(min, 6u) << "downstream's 2 and the producer's 4";
	EXPECT_EQ(firstStride(pool) % 64, 0);
	gst_object_unref(pool);
	gst_object_unref(downstream);
}

TEST_P(DecideAllocation, StrideAlignmentOnlyWhenDownstreamReadsTheVideoMeta)
{
	/* No GstVideoMeta downstream: it expects the default layout. */
	GstBufferPool *pool = decide(0, 64);
	EXPECT_EQ(firstStride(pool), 100);
	gst_object_unref(pool);
}

TEST_P(DecideAllocation, SystemMemoryPoolDownstreamIsPassedOver)
{
	GstBufferPool *downstream = gst_video_buffer_pool_new();
	gst_query_add_allocation_pool(query_, downstream, 0, 1, 0);
	GstBufferPool *pool = decide(0, 0);
	EXPECT_NE(pool, downstream);
	EXPECT_TRUE(GST_IS_ZCBUF_BUFFER_POOL(pool));
	gst_object_unref(pool);
	gst_object_unref(downstream);
}

TEST_P(DecideAllocation, FdMemoryPoolDownstreamIsUsed)
{
	GstBufferPool *downstream = gst_video_buffer_pool_new();
	GstStructure *config = gst_buffer_pool_get_config(downstream);
	GError *error = nullptr;
	GstAllocator *fd = gst_zcbuf_allocator_new(spec(), &error);
	ASSERT_NE(fd, nullptr) << error->message;
	gst_buffer_pool_config_set_allocator(config, fd, nullptr);
	gst_buffer_pool_config_set_params(config, caps_, 100 * 50 * 3 / 2, 1, 0);
	ASSERT_TRUE(gst_buffer_pool_set_config(downstream, config));
	gst_query_add_allocation_pool(query_, downstream, 0, 1, 0);
	GstBufferPool *pool = decide(0, 0);
	EXPECT_EQ(pool, downstream);
	gst_object_unref(pool);
	gst_object_unref(downstream);
	gst_object_unref(fd);
}

/* A video pool that counts its starts. */
int startedPools = 0;
GType countingPoolType()
{
	static GType type = 0;
	if (!type)
		type = g_type_register_static_simple(
			GST_TYPE_VIDEO_BUFFER_POOL, "TestCountingPool", sizeof(GstVideoBufferPoolClass),
			[](gpointer klass, gpointer) {
				GST_BUFFER_POOL_CLASS(klass)->start = [](GstBufferPool *pool) -> gboolean {
					startedPools++;
					return GST_BUFFER_POOL_CLASS(g_type_class_peek(GST_TYPE_VIDEO_BUFFER_POOL))
						->start(pool);
				};
			},
			sizeof(GstVideoBufferPool), nullptr, GTypeFlags(0));
	return type;
}

/* A pool whose config names no allocator is never started to learn its
 * memory (a kms or v4l2 pool would allocate for that): it is passed over. */
TEST_P(DecideAllocation, PoolNamingNoAllocatorIsNeverStarted)
{
	GstBufferPool *downstream = GST_BUFFER_POOL(g_object_new(countingPoolType(), nullptr));
	gst_object_ref_sink(downstream);
	startedPools = 0;
	gst_query_add_allocation_pool(query_, downstream, 0, 1, 0);
	GstBufferPool *pool = decide(0, 0);
	EXPECT_NE(pool, downstream);
	EXPECT_EQ(startedPools, 0);
	gst_object_unref(pool);
	gst_object_unref(downstream);
}

/* The pool keeps a config it refused: it must not be freed again. */
TEST_P(DecideAllocation, PoolThatRefusesItsConfigIsPassedOver)
{
	GstBufferPool *downstream = GST_BUFFER_POOL(g_object_new(refusingPoolType(), nullptr));
	gst_object_ref_sink(downstream);
	gst_query_add_allocation_pool(query_, downstream, 0, 1, 0);
	GstBufferPool *pool = decide(0, 0);
	EXPECT_NE(pool, downstream);
	EXPECT_TRUE(GST_IS_ZCBUF_BUFFER_POOL(pool));
	gst_object_unref(pool);
	gst_object_unref(downstream);
}

TEST_P(DecideAllocation, DmabufCapsNeedADmabufBackend)
{
	GstZcbufOutputParams params = {};
	params.backend = spec();
	params.dmabuf = TRUE;
	GstBus *bus = gst_bus_new();
	gst_element_set_bus(element_, bus);
	EXPECT_EQ(static_cast<bool>(gst_zcbuf_decide_allocation(element_, query_, &params)),
		  dmabuf());
	GstMessage *error = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	EXPECT_EQ(error != nullptr, !dmabuf());
	if (error)
		gst_message_unref(error);
	gst_element_set_bus(element_, nullptr);
	gst_object_unref(bus);
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(DecideAllocation);

TEST(DmabufCapsFeature, IsReadFromTheStructure)
{
	GstCaps *caps = gst_caps_from_string("video/x-raw(memory:DMABuf),format=NV12; video/x-raw");
	EXPECT_TRUE(gst_zcbuf_caps_has_dmabuf_feature(caps, 0));
	EXPECT_FALSE(gst_zcbuf_caps_has_dmabuf_feature(caps, 1));
	gst_caps_unref(caps);
}

} /* namespace */
