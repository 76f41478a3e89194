/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dma-buf RFC's late attach, through zcbuf's GStreamer pool with the
 * module backend: a device that attaches after the pool handed a buffer
 * out still decides its backing, because the module allocates at the first
 * map, fault or access, not when the pool allocates. The device is one of
 * zcbuf_test.ko's virtual importers that can only address one contiguous
 * range; the module's ZCBUF_IOC_STATS counts what is deferred, contiguous
 * and migrated. With debug_discontiguous=1 scattered backing is never
 * contiguous by chance, so a contiguous result is a decision, not luck.
 *
 * In the guest (capture-constraints-in-vm loads zcbuf_test); on a machine
 * without /dev/zcbuf_test the cases skip, unless ZCBUF_TEST_REQUIRE names
 * the module (the guest), where they fail.
 */
#include <gst/allocators/allocators.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <linux/zcbuf.h>
#include <linux/zcbuf_test.h>

#include <gst/zcbuf/gstzcbuf.h>

#include "guest.h"
#include "media.h"

namespace test = zcbuf::test;
using test::DiscontiguousBacking;
using test::inTheGuest;

namespace {

/* An open device node, closed on destruction. */
class Node
{
public:
	explicit Node(const char *path) : fd_(open(path, O_RDWR | O_CLOEXEC)), errno_(errno) {}
	~Node()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	Node(const Node &) = delete;
	Node &operator=(const Node &) = delete;
	int fd() const { return fd_; }
	std::string error() const { return std::strerror(errno_); }

private:
	int fd_;
	int errno_;
};

zcbuf_stats moduleStats(const Node &zcbuf)
{
	zcbuf_stats stats = {};
	EXPECT_EQ(ioctl(zcbuf.fd(), ZCBUF_IOC_STATS, &stats), 0) << std::strerror(errno);
	return stats;
}

/* A virtual importer that addresses one contiguous range, and its
 * attachments; all go when the file closes. */
class ContiguousDevice
{
public:
	ContiguousDevice() : node_("/dev/zcbuf_test")
	{
		if (node_.fd() < 0)
			return;
		zcbuf_test_device_create create = {};
		create.flags = ZCBUF_TEST_DEVICE_CONTIGUOUS;
		/* Segments as large as the uapi allows, so that a contiguous
		 * mapping is one segment (the default splits at 64 KiB). */
		create.max_segment_size = 0xffffffffu;
		std::strncpy(create.name, "late-contiguous", sizeof(create.name) - 1);
		if (ioctl(node_.fd(), ZCBUF_TEST_IOC_DEVICE_CREATE, &create) == 0)
			id_ = create.id;
		else
			error_ = std::string("DEVICE_CREATE: ") + std::strerror(errno);
	}
	bool ok() const { return node_.fd() >= 0 && error_.empty(); }
	std::string error() const { return node_.fd() < 0 ? node_.error() : error_; }

	/* Attaches @dmabuf; returns the attachment id, or -errno. */
	long attach(int dmabuf)
	{
		zcbuf_test_attach a = {};
		a.dmabuf_fd = dmabuf;
		a.device_id = id_;
		return ioctl(node_.fd(), ZCBUF_TEST_IOC_ATTACH, &a) == 0 ? a.id : -errno;
	}
	/* Maps attachment @id both ways; 0 or -errno, the segment count in @nents. */
	int map(long id, unsigned *nents)
	{
		zcbuf_test_map m = {};
		m.id = static_cast<__u32>(id);
		m.direction = ZCBUF_TEST_DIR_BIDIRECTIONAL;
		int ret = ioctl(node_.fd(), ZCBUF_TEST_IOC_MAP, &m) == 0 ? 0 : -errno;
		*nents = m.nents;
		return ret;
	}
	/* The device writes the counter pattern over [0, @length). */
	int fill(long id, __u64 length, __u32 pattern)
	{
		zcbuf_test_fill f = {};
		f.id = static_cast<__u32>(id);
		f.mode = ZCBUF_TEST_FILL_COUNTER;
		f.pattern = pattern;
		f.length = length;
		return ioctl(node_.fd(), ZCBUF_TEST_IOC_FILL, &f) == 0 ? 0 : -errno;
	}
	int unmap(long id)
	{
		zcbuf_test_id u = { static_cast<__u32>(id), 0 };
		return ioctl(node_.fd(), ZCBUF_TEST_IOC_UNMAP, &u) == 0 ? 0 : -errno;
	}

private:
	Node node_;
	__u32 id_ = 0;
	std::string error_;
};

/* Each case: scattered backing made of single pages, the module's
 * counters, and a contiguous-only device. */
class LateAttach : public ::testing::Test
{
protected:
	void SetUp() override
	{
		if (access("/dev/zcbuf_test", F_OK) != 0 || access("/dev/zcbuf", F_OK) != 0) {
			if (inTheGuest())
				FAIL() << "the guest has no /dev/zcbuf or /dev/zcbuf_test";
			GTEST_SKIP() << "needs zcbuf.ko and zcbuf_test.ko (the VM suite)";
		}
		scattered_ = std::make_unique<DiscontiguousBacking>();
		zcbuf_ = std::make_unique<Node>("/dev/zcbuf");
		ASSERT_GE(zcbuf_->fd(), 0) << zcbuf_->error();
		device_ = std::make_unique<ContiguousDevice>();
		ASSERT_TRUE(device_->ok()) << device_->error();
	}

	zcbuf_stats stats() { return moduleStats(*zcbuf_); }

	std::unique_ptr<DiscontiguousBacking> scattered_;
	std::unique_ptr<Node> zcbuf_;
	std::unique_ptr<ContiguousDevice> device_;
};

GstCaps *nv12(int width, int height)
{
	return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "NV12", "width",
				   G_TYPE_INT, width, "height", G_TYPE_INT, height, "framerate",
				   GST_TYPE_FRACTION, 30, 1, nullptr);
}

/* The pool allocates 2 buffers at activation; the module gives them no
 * backing. A contiguous device attaches to one after the pool handed it
 * out: attaching allocates nothing, the first map allocates it contiguous
 * (one segment), without a migration, and the CPU then reads through the
 * buffer's GstMemory what the device wrote. The other buffer stays deferred. */
TEST_F(LateAttach, PoolBufferGetsContiguousBackingFromADeviceThatAttachesLate)
{
	ContiguousDevice &device = *device_;
	GstBufferPool *pool = gst_zcbuf_buffer_pool_new("module");
	ASSERT_NE(pool, nullptr);
	GstCaps *caps = nv12(640, 480);
	GstVideoInfo info;
	ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
	GstStructure *config = gst_buffer_pool_get_config(pool);
	gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), 2, 2);
	gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
	gst_caps_unref(caps);
	ASSERT_TRUE(gst_buffer_pool_set_config(pool, config));

	zcbuf_stats before = stats();
	ASSERT_TRUE(gst_buffer_pool_set_active(pool, TRUE));
	zcbuf_stats active = stats();
	EXPECT_EQ(active.buffers - before.buffers, 2u);
	EXPECT_EQ(active.deferred - before.deferred, 2u) << "the pool's buffers have backing";
	EXPECT_EQ(active.bytes, before.bytes);

	GstBuffer *buffer = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool, &buffer, nullptr), GST_FLOW_OK);
	GstMemory *memory = gst_buffer_peek_memory(buffer, 0);
	ASSERT_TRUE(gst_is_dmabuf_memory(memory));
	int fd = gst_dmabuf_memory_get_fd(memory);
	EXPECT_EQ(stats().deferred, active.deferred) << "acquiring allocated it";

	long attachment = device.attach(fd);
	ASSERT_GE(attachment, 0) << std::strerror(static_cast<int>(-attachment));
	EXPECT_EQ(stats().deferred, active.deferred) << "attaching allocated it";
	unsigned nents = 0;
	ASSERT_EQ(device.map(attachment, &nents), 0);
	EXPECT_EQ(nents, 1u) << "the device's mapping is not one contiguous range";
	zcbuf_stats mapped = stats();
	EXPECT_EQ(active.deferred - mapped.deferred, 1u) << "the other buffer lost its deferral";
	EXPECT_EQ(mapped.contiguous - active.contiguous, 1u);
	EXPECT_EQ(mapped.migrations, active.migrations) << "the first map migrated";

	gsize size = gst_memory_get_sizes(memory, nullptr, nullptr);
	__u64 words = size / 4 * 4;
	ASSERT_EQ(device.fill(attachment, words, 0x5a000000u), 0);
	ASSERT_EQ(device.unmap(attachment), 0);
	GstMapInfo map;
	ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_READ));
	std::size_t wrong = 0;
	for (std::size_t o = 0; o + 4 <= words; o += 4) {
		std::uint32_t word;
		std::memcpy(&word, map.data + o, 4);
		wrong += word != 0x5a000000u + o / 4 ? 1 : 0;
	}
	gst_buffer_unmap(buffer, &map);
	EXPECT_EQ(wrong, 0u) << "the CPU does not see what the device wrote";
	EXPECT_EQ(stats().migrations, active.migrations);

	gst_buffer_unref(buffer);
	gst_buffer_pool_set_active(pool, FALSE);
	gst_object_unref(pool);
}

/* A frame that zcconvert already wrote (scattered backing, from its CPU
 * access) meets a contiguous device that attaches late: its first map
 * migrates the backing to one contiguous range, and the frame is intact. */
TEST_F(LateAttach, AWrittenFrameMigratesToContiguousBackingOnALateAttach)
{
	ContiguousDevice &device = *device_;
	test::Samples out = test::runPipeline(
		"videotestsrc num-buffers=1 pattern=smpte ! "
		"video/x-raw,format=NV12,width=640,height=480 ! zcconvert backend=module ! "
		"video/x-raw,format=BGRx ! appsink name=sink");
	ASSERT_EQ(out.size(), 1u) << out.error << " " << out.errorDebug;
	GstBuffer *frame = out.buffer(0);
	GstMemory *memory = gst_buffer_peek_memory(frame, 0);
	ASSERT_TRUE(gst_is_dmabuf_memory(memory));
	std::vector<std::uint8_t> written = test::bytesOf(frame);
	ASSERT_FALSE(written.empty());
	zcbuf_stats before = stats();

	long attachment = device.attach(gst_dmabuf_memory_get_fd(memory));
	ASSERT_GE(attachment, 0) << std::strerror(static_cast<int>(-attachment));
	unsigned nents = 0;
	ASSERT_EQ(device.map(attachment, &nents), 0);
	EXPECT_EQ(nents, 1u);
	zcbuf_stats mapped = stats();
	EXPECT_EQ(mapped.migrations - before.migrations, 1u);
	EXPECT_EQ(mapped.contiguous - before.contiguous, 1u);
	ASSERT_EQ(device.unmap(attachment), 0);

	EXPECT_EQ(test::bytesOf(frame), written) << "the migration lost the frame";
}

} /* namespace */
