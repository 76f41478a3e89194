/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <gst/allocators/allocators.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>
#include <zcbuf/statistics.h>

#include "backend_test.h"
#include "sw_sync.h"

using namespace zcbuf;

namespace {

GstCaps *videoCaps(const char *format, int width, int height, bool dmabufFeature = false)
{
	GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format,
					    "width", G_TYPE_INT, width, "height", G_TYPE_INT,
					    height, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
	if (dmabufFeature)
		gst_caps_set_features(caps, 0, gst_caps_features_new("memory:DMABuf", nullptr));
	return caps;
}

class PoolTest : public test::BackendTest
{
protected:
	void SetUp() override
	{
		test::BackendTest::SetUp();
		pool_ = gst_zcbuf_buffer_pool_new(spec());
	}

	void TearDown() override
	{
		if (pool_) {
			gst_buffer_pool_set_active(pool_, FALSE);
			gst_clear_object(&pool_);
		}
		test::BackendTest::TearDown();
	}

	/* Configures the pool; returns what set_config said. */
	bool configure(GstCaps *caps, guint min, guint max,
		       void (*edit)(GstStructure *) = nullptr)
	{
		GstVideoInfo info;
		EXPECT_TRUE(gst_video_info_from_caps(&info, caps));
		GstStructure *config = gst_buffer_pool_get_config(pool_);
		gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), min, max);
		gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
		if (edit)
			edit(config);
		gst_caps_unref(caps);
		return gst_buffer_pool_set_config(pool_, config);
	}

	GstBufferPool *pool_ = nullptr;
};

TEST_P(PoolTest, RecyclesBuffersWithoutReallocating)
{
	ASSERT_TRUE(configure(videoCaps("NV12", 1920, 1080), 2, 4));
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
	BackendStatistics before = statistics()[backend_->kind()];

	std::set<GstMemory *> memories;
	for (int frame = 0; frame < 50; frame++) {
		GstBuffer *buffer = nullptr;
		ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
		ASSERT_EQ(gst_buffer_n_memory(buffer), 1u);
		memories.insert(gst_buffer_peek_memory(buffer, 0));
		GstMapInfo map;
		ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_WRITE));
		map.data[frame] = static_cast<guint8>(frame);
		gst_buffer_unmap(buffer, &map);
		gst_buffer_unref(buffer);
	}
	/* Two preallocated buffers, reused; one mapping each, kept. */
	EXPECT_LE(memories.size(), 2u);
	BackendStatistics after = statistics()[backend_->kind()];
	EXPECT_EQ(after.allocations, before.allocations) << "the pool reallocated";
	EXPECT_EQ(after.mappings, before.mappings + memories.size());
	EXPECT_EQ(after.syncs - before.syncs, dmabuf() ? 100u : 0u);
}

TEST_P(PoolTest, AttachesVideoMetaMatchingTheLayout)
{
	ASSERT_TRUE(configure(videoCaps("I420", 641, 481), 1, 0));
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
	GstBuffer *buffer = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	ASSERT_NE(meta, nullptr);
	EXPECT_EQ(meta->format, GST_VIDEO_FORMAT_I420);
	EXPECT_EQ(meta->width, 641u);
	EXPECT_EQ(meta->height, 481u);
	EXPECT_EQ(meta->n_planes, 3u);

	GstVideoInfo info;
	gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, 641, 481);
	for (guint i = 0; i < 3; i++) {
		EXPECT_GE(meta->stride[i], GST_VIDEO_INFO_PLANE_STRIDE(&info, i));
		EXPECT_LE(meta->offset[i] + static_cast<gsize>(meta->stride[i]) *
						    GST_VIDEO_INFO_COMP_HEIGHT(&info, i),
			  gst_buffer_get_size(buffer));
	}

	/* A video frame maps through the meta. */
	GstVideoFrame frame;
	ASSERT_TRUE(gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE));
	EXPECT_EQ(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 1), meta->stride[1]);
	gst_video_frame_unmap(&frame);
	gst_buffer_unref(buffer);
}

TEST_P(PoolTest, HonoursStrideAlignAndPaddingFromDownstream)
{
	GstCaps *caps = videoCaps("NV12", 1918, 1080);
	GstQuery *query = gst_query_new_allocation(caps, TRUE);
	GstStructure *params = gst_structure_new(
		"video-meta", "padding-top", G_TYPE_UINT, 8, "padding-bottom", G_TYPE_UINT, 8,
		"padding-left", G_TYPE_UINT, 32, "padding-right", G_TYPE_UINT, 0,
		"stride-align0", G_TYPE_UINT, 255, "stride-align1", G_TYPE_UINT, 255,
		"stride-align2", G_TYPE_UINT, 0, "stride-align3", G_TYPE_UINT, 0, nullptr);
	gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, params);
	gst_structure_free(params);

	GstVideoInfo info;
	ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
	GstStructure *config = gst_buffer_pool_get_config(pool_);
	gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), 1, 0);
	EXPECT_TRUE(gst_zcbuf_buffer_pool_config_set_alignment_from_query(config, query));
	gst_query_unref(query);
	gst_caps_unref(caps);
	ASSERT_TRUE(gst_buffer_pool_set_config(pool_, config));
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));

	GstBuffer *buffer = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	ASSERT_NE(meta, nullptr);
	EXPECT_EQ(meta->stride[0] % 256, 0) << meta->stride[0];
	EXPECT_EQ(meta->stride[1] % 256, 0) << meta->stride[1];
	EXPECT_GE(meta->stride[0], 1918 + 32);

	/* The layout is exactly what GStreamer computes for that alignment
	 * (which also aligns the left padding, so the first visible pixel of
	 * each row is aligned too). */
	GstVideoAlignment expected;
	gst_video_alignment_reset(&expected);
	expected.padding_top = 8;
	expected.padding_bottom = 8;
	expected.padding_left = 32;
	expected.stride_align[0] = expected.stride_align[1] = 255;
	GstVideoInfo aligned;
	gst_video_info_set_format(&aligned, GST_VIDEO_FORMAT_NV12, 1918, 1080);
	ASSERT_TRUE(gst_video_info_align(&aligned, &expected));
	for (guint i = 0; i < 2; i++) {
		EXPECT_EQ(meta->stride[i], GST_VIDEO_INFO_PLANE_STRIDE(&aligned, i));
		EXPECT_EQ(meta->offset[i], GST_VIDEO_INFO_PLANE_OFFSET(&aligned, i));
	}
	EXPECT_GE(meta->offset[0], static_cast<gsize>(meta->stride[0]) * 8 + 32);
	EXPECT_EQ(meta->offset[0] % 256, 0u);
	EXPECT_GE(gst_buffer_get_size(buffer), GST_VIDEO_INFO_SIZE(&aligned));
	EXPECT_EQ(meta->alignment.padding_top, 8u);
	EXPECT_EQ(meta->alignment.stride_align[0], 255u);
	gst_buffer_unref(buffer);
}

TEST_P(PoolTest, ConsumerStrideAlignmentShapesTheLayout)
{
	ASSERT_TRUE(configure(videoCaps("BGRx", 1000, 10), 1, 0, [](GstStructure *config) {
		gst_zcbuf_buffer_pool_config_add_constraints(config, "scanout", 0, 512, FALSE,
							     nullptr);
	}));
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
	GstBuffer *buffer = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
	GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	EXPECT_EQ(meta->stride[0], 4096); /* 4000 rounded up to 512 */
	std::shared_ptr<Buffer> zc = gst_zcbuf_memory_get_buffer(gst_buffer_peek_memory(buffer, 0));
	ASSERT_TRUE(zc);
	Constraints late;
	late.consumer = "late 8192";
	late.strideAlignment = 8192;
	Result<void> r = zc->attach(late);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().code(), EBUSY);
	gst_buffer_unref(buffer);
}

/* The pool's ERROR messages (category zcbufpool) while it lives. */
class PoolErrors
{
public:
	/* The threshold too: without GST_DEBUG (the valgrind suite) no
	 * message would be made at all. */
	PoolErrors()
	{
		gst_debug_set_threshold_for_name("zcbufpool", GST_LEVEL_ERROR);
		gst_debug_add_log_function(log, this, nullptr);
	}
	~PoolErrors()
	{
		gst_debug_remove_log_function_by_data(this);
		gst_debug_unset_threshold_for_name("zcbufpool");
	}
	std::string text()
	{
		std::lock_guard<std::mutex> lock(mutex_);
		return text_;
	}

private:
	static void log(GstDebugCategory *category, GstDebugLevel level, const gchar *,
			const gchar *, gint, GObject *, GstDebugMessage *message, gpointer data)
	{
		if (level != GST_LEVEL_ERROR ||
		    std::string(gst_debug_category_get_name(category)) != "zcbufpool")
			return;
		auto *self = static_cast<PoolErrors *>(data);
		std::lock_guard<std::mutex> lock(self->mutex_);
		self->text_ += std::string(gst_debug_message_get(message)) + "\n";
	}
	std::mutex mutex_;
	std::string text_;
};

TEST_P(PoolTest, UnmeetableConstraintFailsActivationNamingIt)
{
	ASSERT_TRUE(configure(videoCaps("NV12", 7680, 4320), 2, 0, [](GstStructure *config) {
		/* 48 MiB physically contiguous: no backend here has that. */
		gst_zcbuf_buffer_pool_config_add_constraints(config, "contiguous isp", 0, 0,
							     TRUE, nullptr);
	}));
	PoolErrors errors;
	EXPECT_FALSE(gst_buffer_pool_set_active(pool_, TRUE));
	/* The reason names the consumer and what it needs. */
	EXPECT_NE(errors.text().find("contiguous isp"), std::string::npos) << errors.text();
	EXPECT_NE(errors.text().find("contiguous"), std::string::npos) << errors.text();
}

/* A device's segment limit is no obstacle on its own: every backend's
 * buffers are split at the importing device's limit when it maps them. */
TEST_P(PoolTest, MaxSegmentAloneIsMet)
{
	ASSERT_TRUE(configure(videoCaps("NV12", 640, 480), 2, 0, [](GstStructure *config) {
		gst_zcbuf_buffer_pool_config_add_constraints_full(config, "dma-engine", 0, 0,
								  65536, FALSE, nullptr);
	}));
	EXPECT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
}

/* One consumer needs the frame contiguous, another takes segments of at
 * most 64 KiB: a 460800-byte frame cannot be both, and the pool does not
 * start. The control, contiguity alone, starts where the backend has
 * contiguous memory (the module in the guest); elsewhere the case skips. */
TEST_P(PoolTest, ContiguityAndASmallerMaxSegmentFailActivation)
{
	auto contiguous = [](GstStructure *config) {
		gst_zcbuf_buffer_pool_config_add_constraints(config, "isp", 0, 0, TRUE, nullptr);
	};
	ASSERT_TRUE(configure(videoCaps("NV12", 640, 480), 2, 0, contiguous));
	if (!gst_buffer_pool_set_active(pool_, TRUE))
		GTEST_SKIP() << spec() << " has no 460800-byte contiguous buffers";
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, FALSE));

	ASSERT_TRUE(configure(videoCaps("NV12", 640, 480), 2, 0, [](GstStructure *config) {
		gst_zcbuf_buffer_pool_config_add_constraints(config, "isp", 0, 0, TRUE, nullptr);
		gst_zcbuf_buffer_pool_config_add_constraints_full(config, "dma-engine", 0, 0,
								  65536, FALSE, nullptr);
	}));
	EXPECT_FALSE(gst_buffer_pool_set_active(pool_, TRUE));
}

TEST_P(PoolTest, ConflictingConstraintsAreRefusedAtConfig)
{
	EXPECT_FALSE(configure(videoCaps("NV12", 64, 64), 1, 0, [](GstStructure *config) {
		gst_zcbuf_buffer_pool_config_add_constraints(config, "a", 0, 0, FALSE, "memfd");
		gst_zcbuf_buffer_pool_config_add_constraints(config, "b", 0, 0, FALSE, "drm");
	}));
}

TEST_P(PoolTest, OneConstraintEntryPerConsumer)
{
	/* An element configuring the same downstream pool on every
	 * renegotiation replaces its entry: the config does not grow. */
	GstStructure *config = gst_buffer_pool_get_config(pool_);
	for (guint stride : { 64u, 128u, 256u })
		gst_zcbuf_buffer_pool_config_add_constraints(config, "zcjpegdec0", 0, stride, FALSE,
							     nullptr);
	gst_zcbuf_buffer_pool_config_add_constraints(config, "kmssink0", 0, 512, FALSE, nullptr);
	gst_zcbuf_buffer_pool_config_add_constraints(config, "zcjpegdec0", 0, 32, FALSE, nullptr);
	const GValue *entries = nullptr;
	for (int i = 0; i < gst_structure_n_fields(config) && !entries; i++) {
		const GValue *value = gst_structure_get_value(config, gst_structure_nth_field_name(config, i));
		if (GST_VALUE_HOLDS_ARRAY(value))
			entries = value;
	}
	ASSERT_NE(entries, nullptr);
	ASSERT_EQ(gst_value_array_get_size(entries), 2u);
	guint decoderStride = 0;
	for (guint i = 0; i < 2; i++) {
		const GstStructure *entry = gst_value_get_structure(gst_value_array_get_value(entries, i));
		if (g_strcmp0(gst_structure_get_string(entry, "consumer"), "zcjpegdec0") == 0)
			gst_structure_get_uint(entry, "stride-alignment", &decoderStride);
	}
	EXPECT_EQ(decoderStride, 32u) << "the latest entry wins";
	gst_structure_free(config);
}

TEST_P(PoolTest, BackendIsSetOnlyWhenThePoolIsMade)
{
	/* set_config reads it and the allocator opened from it stays: a
	 * later write could neither be safe nor take effect. */
	GParamSpec *property = g_object_class_find_property(G_OBJECT_GET_CLASS(pool_), "backend");
	ASSERT_NE(property, nullptr);
	EXPECT_TRUE(property->flags & G_PARAM_CONSTRUCT_ONLY);
	gchar *backend = nullptr;
	g_object_get(pool_, "backend", &backend, nullptr);
	EXPECT_STREQ(backend, spec());
	g_free(backend);
}

TEST_P(PoolTest, RefusesAForeignAllocator)
{
	GstAllocator *sysmem = gst_allocator_find(GST_ALLOCATOR_SYSMEM);
	GstCaps *caps = videoCaps("NV12", 320, 240);
	GstStructure *config = gst_buffer_pool_get_config(pool_);
	gst_buffer_pool_config_set_params(config, caps, 320 * 240 * 3 / 2, 1, 0);
	gst_buffer_pool_config_set_allocator(config, sysmem, nullptr);
	gst_caps_unref(caps);
	EXPECT_FALSE(gst_buffer_pool_set_config(pool_, config));

	config = gst_buffer_pool_get_config(pool_);
	GstAllocator *now = nullptr;
	gst_buffer_pool_config_get_allocator(config, &now, nullptr);
	EXPECT_TRUE(now && gst_is_zcbuf_allocator(now)) << "config was not corrected";
	/* The corrected config is accepted as it stands. */
	EXPECT_TRUE(gst_buffer_pool_set_config(pool_, config));
	gst_object_unref(sysmem);
}

/* memory:DMABuf caps are a promise of dma-buf memory: a dma-buf backend's
 * pool keeps it, an fd-memory (memfd) pool refuses the configuration and
 * says why. */
TEST_P(PoolTest, DmabufCapsFeatureOnlyWithDmabufMemory)
{
	PoolErrors errors;
	bool configured = configure(videoCaps("NV12", 320, 240, true), 1, 0);
	if (!dmabuf()) {
		EXPECT_FALSE(configured);
		EXPECT_NE(errors.text().find("memory:DMABuf need dma-buf memory"),
			  std::string::npos)
			<< errors.text();
		return;
	}
	ASSERT_TRUE(configured);
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
	GstBuffer *buffer = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
	EXPECT_TRUE(gst_is_dmabuf_memory(gst_buffer_peek_memory(buffer, 0)));
	gst_buffer_unref(buffer);
}

TEST_P(PoolTest, BufferOutlivesThePool)
{
	ASSERT_TRUE(configure(videoCaps("NV12", 320, 240), 1, 0));
	ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
	GstBuffer *buffer = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
	gst_buffer_pool_set_active(pool_, FALSE);
	gst_clear_object(&pool_);

	GstMapInfo map;
	ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_WRITE));
	memset(map.data, 0x11, map.size);
	gst_buffer_unmap(buffer, &map);
	gst_buffer_unref(buffer);
}

TEST_P(PoolTest, MissingBackendFailsConfiguration)
{
	gst_clear_object(&pool_);
	pool_ = gst_zcbuf_buffer_pool_new("dma-heap:zcbuf-no-such-heap");
	EXPECT_FALSE(configure(videoCaps("NV12", 64, 64), 1, 0));
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(PoolTest);

/* The recycle gate (dma-buf backends; in the guest, with sw_sync): a
 * buffer a device still reads, by an implicit fence on its dma-buf, is
 * not handed out again until the device is done. */
class PoolFences : public PoolTest
{
protected:
	void SetUp() override
	{
		PoolTest::SetUp();
		if (HasFatalFailure())
			return;
		timeline_ = std::make_unique<test::Timeline>();
		if (!timeline_->ok()) {
			if (test::swSyncRequired())
				FAIL() << test::kNoSwSync;
			GTEST_SKIP() << "no sw_sync here (the guest has it)";
		}
		ASSERT_TRUE(configure(videoCaps("NV12", 320, 240), 1, 1));
		ASSERT_TRUE(gst_buffer_pool_set_active(pool_, TRUE));
	}

	void TearDown() override
	{
		timeline_.reset(); /* signals what is left */
		PoolTest::TearDown();
	}

	/* Acquires the pool's one buffer, leaves a device's pending read on
	 * it (fence at point 1) and gives it back. */
	GstMemory *releaseWhileADeviceReads()
	{
		GstBuffer *buffer = nullptr;
		EXPECT_EQ(gst_buffer_pool_acquire_buffer(pool_, &buffer, nullptr), GST_FLOW_OK);
		if (!buffer)
			return nullptr;
		GstMemory *memory = gst_buffer_peek_memory(buffer, 0);
		EXPECT_TRUE(test::attachFence(gst_fd_memory_get_fd(memory), timeline_->fence(1),
					      false));
		gst_buffer_unref(buffer);
		return memory;
	}

	std::unique_ptr<test::Timeline> timeline_;
};

TEST_P(PoolFences, HandsABufferOutAgainOnlyWhenTheDeviceIsDone)
{
	GstMemory *memory = releaseWhileADeviceReads();
	ASSERT_NE(memory, nullptr);
	std::thread device([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(300));
		EXPECT_TRUE(timeline_->advance());
	});
	auto start = std::chrono::steady_clock::now();
	GstBuffer *again = nullptr;
	GstFlowReturn ret = gst_buffer_pool_acquire_buffer(pool_, &again, nullptr);
	auto waited = std::chrono::steady_clock::now() - start;
	device.join();
	ASSERT_EQ(ret, GST_FLOW_OK);
	EXPECT_EQ(gst_buffer_peek_memory(again, 0), memory) << "not the pool's one buffer";
	EXPECT_GE(waited, std::chrono::milliseconds(250));
	gst_buffer_unref(again);
}

/* A device that never finishes: the acquire fails after
 * zcbuf::Buffer::kFenceTimeoutMs, the buffer stays the pool's, and is
 * handed out once the device is done. */
TEST_P(PoolFences, ADeviceThatNeverFinishesFailsTheAcquire)
{
	ASSERT_NE(releaseWhileADeviceReads(), nullptr);
	auto start = std::chrono::steady_clock::now();
	GstBuffer *again = nullptr;
	EXPECT_EQ(gst_buffer_pool_acquire_buffer(pool_, &again, nullptr), GST_FLOW_ERROR);
	EXPECT_EQ(again, nullptr);
	EXPECT_GE(std::chrono::steady_clock::now() - start,
		  std::chrono::milliseconds(Buffer::kFenceTimeoutMs));
	ASSERT_TRUE(timeline_->advance());
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool_, &again, nullptr), GST_FLOW_OK);
	gst_buffer_unref(again);
}

ZCBUF_INSTANTIATE_FOR_DMABUF_BACKENDS(PoolFences);

} /* namespace */
