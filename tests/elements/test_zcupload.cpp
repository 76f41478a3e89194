/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcupload: what passes, what is wrapped without a copy (and how long it
 * stays valid), what is copied and counted, and what is refused.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>
#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <gst/zcbuf/gstzcbuf.h>
#include <zcbuf/buffer.h>
#include <zcbuf/statistics.h>
#include <zcbuf/unique_fd.h>

#include "backend_test.h"
#include "bus_error.h"
#include "memfd.h"
#include "leak_checked_test.h"
#include "video_compare.h"

using namespace zcbuf;

namespace {

constexpr int kWidth = 64, kHeight = 48;

/* Imports of fd memory that is no dma-buf need plain output caps: with a
 * dma-buf backend zcupload offers memory:DMABuf output and copies such
 * memory instead (ZcuploadBackend covers that). */
constexpr const char *kPlainOutput = "backend=memfd";

std::string nv12Caps()
{
	return test::videoCaps("NV12", kWidth, kHeight);
}

gsize nv12Size()
{
	return kWidth * kHeight * 3 / 2;
}

struct CopyCount {
	int copies = 0;
	gsize bytes = 0;
	std::string element;
};

void onCopy(GstObject *element, gsize bytes, const gchar *, gpointer user)
{
	CopyCount *count = static_cast<CopyCount *>(user);
	count->copies++;
	count->bytes += bytes;
	if (element)
		count->element = GST_OBJECT_NAME(element);
}

guint64 statsField(GstElement *element, const char *field)
{
	GstStructure *stats = nullptr;
	g_object_get(element, "stats", &stats, nullptr);
	guint64 value = 0;
	gst_structure_get_uint64(stats, field, &value);
	gst_structure_free(stats);
	return value;
}

/* A harness around zcupload for NV12 frames; the bus collects errors. */
struct Upload {
	GstHarness *h;
	GstElement *upload; /* inside the harness's bin */
	GstBus *bus;
	CopyCount copies;
	gulong listener;

	Upload(const std::string &caps = nv12Caps(), const std::string &properties = "")
	{
		h = gst_harness_new_parse(("zcupload " + properties).c_str());
		bus = gst_bus_new();
		gst_element_set_bus(h->element, bus);
		gst_harness_set_src_caps_str(h, caps.c_str());
		listener = gst_zcbuf_copy_listener_add(onCopy, &copies);
		upload = gst_harness_find_element(h, "zcupload");
	}
	~Upload()
	{
		gst_object_unref(upload);
		gst_zcbuf_copy_listener_remove(listener);
		gst_element_set_bus(h->element, nullptr);
		gst_object_unref(bus);
		gst_harness_teardown(h);
	}
	GstElement *element() const { return upload; }
	std::string error() { return test::popError(bus); }
};

/* A memfd of @size bytes, every byte @value. */
UniqueFD makeMemfd(gsize size, guint8 value)
{
	UniqueFD fd = test::makeMemfd(size, F_SEAL_SHRINK | F_SEAL_GROW, "zcupload-test");
	if (!fd.isValid())
		return UniqueFD();
	void *map = mmap(nullptr, size, PROT_WRITE, MAP_SHARED, fd.get(), 0);
	if (map == MAP_FAILED)
		return UniqueFD();
	std::memset(map, value, size);
	munmap(map, size);
	return fd;
}

bool sameFile(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

class Zcupload : public test::LeakCheckedTest
{
protected:
	void SetUp() override
	{
		test::LeakCheckedTest::SetUp();
		fdAllocator_ = gst_fd_allocator_new();
	}
	void TearDown() override
	{
		gst_object_unref(fdAllocator_);
		test::LeakCheckedTest::TearDown();
	}
	/* GstFdAllocator memory around @fd (which the test keeps). */
	GstMemory *fdMemory(int fd, gsize size)
	{
		return gst_fd_allocator_alloc(fdAllocator_, fd, size, GST_FD_MEMORY_FLAG_DONT_CLOSE);
	}
	GstAllocator *fdAllocator_ = nullptr;
};

TEST_F(Zcupload, SystemMemoryIsCopiedIntoZcbufAndCounted)
{
	Upload upload;
	GstCaps *caps = gst_caps_from_string(nv12Caps().c_str());
	GstBuffer *input = test::makeFrame(caps, test::Pattern::Noise, 3);
	ASSERT_EQ(gst_harness_push(upload.h, gst_buffer_ref(input)), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	ASSERT_NE(output, nullptr);
	EXPECT_NE(output, input);
	EXPECT_TRUE(test::allZcbuf(output));
	EXPECT_EQ(test::maxOf(test::maxDifference(caps, input, output)), 0);
	EXPECT_EQ(upload.copies.copies, 1);
	EXPECT_EQ(upload.copies.bytes, nv12Size());
	EXPECT_EQ(upload.copies.element, GST_OBJECT_NAME(upload.element()));
	EXPECT_EQ(statsField(upload.element(), "copied"), 1u);
	EXPECT_EQ(statsField(upload.element(), "wrapped"), 0u);
	gst_buffer_unref(output);
	gst_buffer_unref(input);
	gst_caps_unref(caps);
}

TEST_F(Zcupload, ZcbufMemoryPassesThrough)
{
	Upload upload;
	GstBufferPool *pool = gst_zcbuf_buffer_pool_new(nullptr);
	GstStructure *config = gst_buffer_pool_get_config(pool);
	GstCaps *caps = gst_caps_from_string(nv12Caps().c_str());
	gst_buffer_pool_config_set_params(config, caps, static_cast<guint>(nv12Size()), 1, 1);
	ASSERT_TRUE(gst_buffer_pool_set_config(pool, config));
	ASSERT_TRUE(gst_buffer_pool_set_active(pool, TRUE));
	GstBuffer *input = nullptr;
	ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool, &input, nullptr), GST_FLOW_OK);

	ASSERT_EQ(gst_harness_push(upload.h, gst_buffer_ref(input)), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	EXPECT_EQ(output, input) << "zcbuf memory was not passed through";
	EXPECT_EQ(upload.copies.copies, 0);
	EXPECT_EQ(statsField(upload.element(), "passed"), 1u);
	gst_buffer_unref(output);
	gst_buffer_unref(input);
	gst_buffer_pool_set_active(pool, FALSE);
	gst_object_unref(pool);
	gst_caps_unref(caps);
}

/* A producer that takes the proposed pool: nothing to copy at all. */
TEST_F(Zcupload, ProducerWritesIntoTheProposedPool)
{
	GstElement *pipeline = gst_parse_launch(
		"videotestsrc num-buffers=10 ! video/x-raw,format=NV12,width=64,height=48 ! "
		"zcupload name=up ! appsink name=sink sync=false",
		nullptr);
	ASSERT_NE(pipeline, nullptr);
	GstElement *up = gst_bin_get_by_name(GST_BIN(pipeline), "up");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	CopyCount copies;
	gulong listener = gst_zcbuf_copy_listener_add(onCopy, &copies);
	ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
	int samples = 0, zcbuf = 0;
	while (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND)) {
		samples++;
		zcbuf += test::allZcbuf(gst_sample_get_buffer(sample)) ? 1 : 0;
		gst_sample_unref(sample);
	}
	gst_zcbuf_copy_listener_remove(listener);
	EXPECT_EQ(samples, 10);
	EXPECT_EQ(zcbuf, 10);
	EXPECT_EQ(copies.copies, 0);
	EXPECT_EQ(statsField(up, "passed"), 10u);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(up);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
}

/* fd memory of another allocator: the same file, no bytes copied, and it
 * outlives the upstream buffer and fd. */
TEST_F(Zcupload, ForeignFdMemoryIsWrappedWithoutACopy)
{
	Upload upload(nv12Caps(), kPlainOutput);
	UniqueFD memfd = makeMemfd(nv12Size(), 0x42);
	ASSERT_TRUE(memfd.isValid());
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, fdMemory(memfd.get(), nv12Size()));
	GST_BUFFER_PTS(input) = 7 * GST_SECOND;

	/* Tell when zcupload lets go of the upstream buffer. */
	bool released = false;
	gst_mini_object_weak_ref(GST_MINI_OBJECT(input),
				 [](gpointer data, GstMiniObject *) { *static_cast<bool *>(data) = true; },
				 &released);
	ASSERT_EQ(gst_harness_push(upload.h, input), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	ASSERT_NE(output, nullptr);
	EXPECT_EQ(upload.copies.copies, 0);
	EXPECT_EQ(statsField(upload.element(), "wrapped"), 1u);
	EXPECT_EQ(GST_BUFFER_PTS(output), 7 * GST_SECOND);
	ASSERT_EQ(gst_buffer_n_memory(output), 1u);
	GstMemory *memory = gst_buffer_peek_memory(output, 0);
	EXPECT_TRUE(gst_is_zcbuf_memory(memory));
	EXPECT_TRUE(sameFile(gst_fd_memory_get_fd(memory), memfd.get()));
	/* The upstream buffer stays referenced as long as the wrapped one:
	 * its pool cannot recycle the memory under a reader. */
	EXPECT_FALSE(released);

	/* The fd the upstream allocator used goes away; the data stays. */
	Result<UniqueFD> upstreamFile = UniqueFD::duplicate(memfd.get());
	ASSERT_TRUE(upstreamFile.ok());
	memfd.reset();
	GstMapInfo map;
	ASSERT_TRUE(gst_buffer_map(output, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[0], 0x42);
	gst_buffer_unmap(output, &map);

	/* The bytes are still upstream's, which holds the buffer and may read
	 * it: a writer downstream gets a copy, counted, and upstream's bytes
	 * stay as they were. */
	ASSERT_TRUE(gst_buffer_map(output, &map, GST_MAP_WRITE));
	map.data[100] = 0x99;
	gst_buffer_unmap(output, &map);
	guint8 byte = 0;
	ASSERT_EQ(pread(upstreamFile->get(), &byte, 1, 100), 1);
	EXPECT_EQ(byte, 0x42) << "a downstream writer wrote into upstream's memory";
	EXPECT_EQ(upload.copies.copies, 1);
	ASSERT_TRUE(gst_buffer_map(output, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[100], 0x99);
	gst_buffer_unmap(output, &map);
	gst_buffer_unref(output);
	EXPECT_TRUE(released);
}

/* Memories with offsets, several memories, a GstVideoMeta: the layout goes
 * through unchanged, and a recycled upstream memory gives the same zcbuf
 * memory object again. */
TEST_F(Zcupload, OffsetsAndMultiMemoryBuffersKeepTheirLayout)
{
	Upload upload(nv12Caps(), kPlainOutput);
	gsize luma = kWidth * kHeight, chroma = luma / 2;
	UniqueFD fd = makeMemfd(8192 + luma + chroma + 4096, 0);
	ASSERT_TRUE(fd.isValid());
	/* Luma at 8192 in the fd, chroma right after it, in two memories. */
	GstMemory *whole = fdMemory(fd.get(), 8192 + luma + chroma + 4096);
	GstMemory *y = gst_memory_share(whole, 8192, static_cast<gssize>(luma));
	GstMemory *uv = gst_memory_share(whole, static_cast<gssize>(8192 + luma), static_cast<gssize>(chroma));
	gst_memory_unref(whole);
	/* Shared memories are read-only: fill them through the fd. */
	std::string lumaBytes(luma, '\x10'), chromaBytes(chroma, '\xa0');
	ASSERT_EQ(pwrite(fd.get(), lumaBytes.data(), luma, 8192), static_cast<ssize_t>(luma));
	ASSERT_EQ(pwrite(fd.get(), chromaBytes.data(), chroma, static_cast<off_t>(8192 + luma)),
		  static_cast<ssize_t>(chroma));

	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, y);
	gst_buffer_append_memory(input, uv);
	gsize offsets[4] = { 0, luma, 0, 0 };
	gint strides[4] = { kWidth, kWidth, 0, 0 };
	gst_buffer_add_video_meta_full(input, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_NV12, kWidth,
				       kHeight, 2, offsets, strides);

	GstMemory *first = nullptr;
	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(gst_harness_push(upload.h, gst_buffer_ref(input)), GST_FLOW_OK);
		GstBuffer *output = gst_harness_pull(upload.h);
		ASSERT_NE(output, nullptr);
		ASSERT_EQ(gst_buffer_n_memory(output), 2u);
		GstMemory *m0 = gst_buffer_peek_memory(output, 0);
		EXPECT_TRUE(gst_is_zcbuf_memory(m0));
		EXPECT_EQ(m0->offset, 8192u);
		EXPECT_EQ(m0->size, luma);
		EXPECT_EQ(gst_buffer_peek_memory(output, 1)->offset, 8192 + luma);
		GstVideoMeta *meta = gst_buffer_get_video_meta(output);
		ASSERT_NE(meta, nullptr);
		EXPECT_EQ(meta->offset[1], luma);
		GstVideoInfo info;
		GstCaps *caps = gst_caps_from_string(nv12Caps().c_str());
		gst_video_info_from_caps(&info, caps);
		gst_caps_unref(caps);
		GstVideoFrame frame;
		ASSERT_TRUE(gst_video_frame_map(&frame, &info, output, GST_MAP_READ));
		EXPECT_EQ(static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0))[0], 0x10);
		EXPECT_EQ(static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 1))[chroma - 1], 0xa0);
		gst_video_frame_unmap(&frame);
		if (round == 0)
			first = m0;
		else
			EXPECT_EQ(m0, first) << "the import of a recycled memory was not reused";
		gst_buffer_unref(output);
	}
	EXPECT_EQ(upload.copies.copies, 0);
	EXPECT_EQ(statsField(upload.element(), "wrapped"), 2u);
	gst_buffer_unref(input);
}

/* Upstream memory whose fd is unusable: an error naming the fd, no crash. */
TEST_F(Zcupload, ClosedFdIsAnError)
{
	Upload upload(nv12Caps(), kPlainOutput);
	int number;
	{
		UniqueFD memfd = makeMemfd(nv12Size(), 1);
		ASSERT_TRUE(memfd.isValid());
		number = memfd.get();
	}
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, fdMemory(number, nv12Size()));
	EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR);
	std::string error = upload.error();
	EXPECT_NE(error.find("fd " + std::to_string(number)), std::string::npos) << error;
	EXPECT_EQ(gst_harness_try_pull(upload.h), nullptr);
}

TEST_F(Zcupload, PipeAsFdMemoryIsAnError)
{
	Upload upload(nv12Caps(), kPlainOutput);
	int pipes[2];
	ASSERT_EQ(pipe2(pipes, O_CLOEXEC), 0);
	UniqueFD reader(pipes[0]), writer(pipes[1]);
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, fdMemory(reader.get(), nv12Size()));
	EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR);
	std::string error = upload.error();
	EXPECT_NE(error.find("pipe"), std::string::npos) << error;
}

TEST_F(Zcupload, TooSmallFdIsAnError)
{
	Upload upload(nv12Caps(), kPlainOutput);
	UniqueFD memfd = makeMemfd(100, 1);
	ASSERT_TRUE(memfd.isValid());
	GstBuffer *input = gst_buffer_new();
	/* The allocator believes the size it is told. */
	gst_buffer_append_memory(input, fdMemory(memfd.get(), nv12Size()));
	EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR);
	std::string error = upload.error();
	EXPECT_NE(error.find("fd " + std::to_string(memfd.get())), std::string::npos) << error;
	EXPECT_EQ(upload.copies.copies, 0);
}

/* A shm_open() segment (a tmpfs file, neither a dma-buf nor a memfd): zcbuf
 * does not import it, zcupload copies it like system memory. */
TEST_F(Zcupload, PlainFileFdMemoryIsCopied)
{
	Upload upload(nv12Caps(), kPlainOutput);
	std::string name = "/zcupload-test-" + std::to_string(getpid());
	UniqueFD file(shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
	ASSERT_TRUE(file.isValid()) << g_strerror(errno);
	shm_unlink(name.c_str());
	ASSERT_EQ(ftruncate(file.get(), static_cast<off_t>(nv12Size())), 0);
	std::vector<guint8> bytes(nv12Size(), 0x42);
	ASSERT_EQ(pwrite(file.get(), bytes.data(), bytes.size(), 0),
		  static_cast<ssize_t>(bytes.size()));
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, fdMemory(file.get(), nv12Size()));
	ASSERT_EQ(gst_harness_push(upload.h, input), GST_FLOW_OK) << upload.error();
	GstBuffer *output = gst_harness_pull(upload.h);
	ASSERT_NE(output, nullptr);
	EXPECT_TRUE(gst_is_zcbuf_memory(gst_buffer_peek_memory(output, 0)));
	EXPECT_FALSE(sameFile(gst_fd_memory_get_fd(gst_buffer_peek_memory(output, 0)), file.get()));
	EXPECT_EQ(upload.copies.copies, 1);
	EXPECT_EQ(statsField(upload.element(), "copied"), 1u);
	GstMapInfo map;
	ASSERT_TRUE(gst_buffer_map(output, &map, GST_MAP_READ));
	EXPECT_EQ(map.data[0], 0x42);
	EXPECT_EQ(map.data[nv12Size() - 1], 0x42);
	gst_buffer_unmap(output, &map);
	gst_buffer_unref(output);
}

/* GstVideoMetas that lie: planes past the end of the buffer, a negative
 * stride, a stride narrower than a row. Refused before any byte is read
 * (the copy) or handed on (the wrap), for system and fd memory. */
TEST_F(Zcupload, HostileVideoMetaIsRefusedBeforeReading)
{
	struct Case {
		const char *name;
		gsize offset1;
		gint stride0;
		const char *reason;
	};
	const gsize luma = kWidth * kHeight;
	const std::vector<Case> cases = {
		{ "chroma past the end", nv12Size(), kWidth, "plane 1" },
		{ "negative stride", luma, -kWidth, "plane 0 has a stride of -64" },
		{ "narrow stride", luma, kWidth / 2, "plane 0 has a stride of 32" },
		{ "huge stride", luma, 1 << 30, "plane 0" },
	};
	for (bool fdBacked : { false, true }) {
		for (const Case &c : cases) {
			std::string what = std::string(c.name) + (fdBacked ? ", memfd" : ", system");
			Upload upload(nv12Caps(), kPlainOutput);
			UniqueFD memfd = makeMemfd(nv12Size(), 1);
			ASSERT_TRUE(memfd.isValid());
			GstBuffer *input = fdBacked ? gst_buffer_new()
						    : gst_buffer_new_allocate(nullptr, nv12Size(),
									      nullptr);
			if (fdBacked)
				gst_buffer_append_memory(input, fdMemory(memfd.get(), nv12Size()));
			gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, c.offset1 };
			gint strides[GST_VIDEO_MAX_PLANES] = { c.stride0, kWidth };
			gst_buffer_add_video_meta_full(input, GST_VIDEO_FRAME_FLAG_NONE,
						       GST_VIDEO_FORMAT_NV12, kWidth, kHeight, 2,
						       offsets, strides);
			EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR) << what;
			std::string error = upload.error();
			EXPECT_NE(error.find("Invalid video frame layout."), std::string::npos)
				<< what << ": " << error;
			EXPECT_NE(error.find(c.reason), std::string::npos) << what << ": " << error;
			EXPECT_EQ(gst_harness_try_pull(upload.h), nullptr) << what;
			EXPECT_EQ(upload.copies.copies, 0) << what;
		}
	}
}

/* Upstream memfd memory that its owner could shrink under our mapping
 * (SIGBUS) is refused, naming the missing seal, and nothing is copied. */
TEST_F(Zcupload, UnsealedMemfdIsAnErrorNamingTheSeal)
{
	Upload upload(nv12Caps(), kPlainOutput);
	UniqueFD memfd = test::makeMemfd(nv12Size(), 0, "unsealed");
	ASSERT_TRUE(memfd.isValid());
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, fdMemory(memfd.get(), nv12Size()));
	EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR);
	std::string error = upload.error();
	EXPECT_NE(error.find("F_SEAL_SHRINK"), std::string::npos) << error;
	EXPECT_EQ(upload.copies.copies, 0);
}

/* A buffer too small for its caps, in system memory: the copy refuses it. */
TEST_F(Zcupload, TruncatedSystemFrameIsAnError)
{
	Upload upload;
	GstBuffer *input = gst_buffer_new_allocate(nullptr, 100, nullptr);
	gst_buffer_memset(input, 0, 0, 100);
	EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR);
	std::string error = upload.error();
	EXPECT_NE(error.find("100 bytes"), std::string::npos) << error;
	EXPECT_EQ(upload.copies.copies, 0);
}

/* An empty buffer is no frame: it goes on untouched. */
TEST_F(Zcupload, EmptyBufferPasses)
{
	Upload upload;
	GstBuffer *empty = gst_buffer_new();
	ASSERT_EQ(gst_harness_push(upload.h, gst_buffer_ref(empty)), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	EXPECT_EQ(output, empty);
	gst_buffer_unref(output);
	gst_buffer_unref(empty);
}

/* Per backend: memory:DMABuf output caps exactly when the output is dma-buf
 * memory; with such caps, a memfd from elsewhere must be copied (it is no
 * dma-buf), and a dma-buf from another exporter is wrapped. */
class ZcuploadBackend : public test::BackendTest
{
};

/* What zcupload does with real dma-bufs: only where a backend gives them. */
class ZcuploadDmabufBackend : public test::BackendTest
{
};

TEST_P(ZcuploadBackend, CapsAndMemoryFollowTheBackend)
{
	Upload upload(nv12Caps(), "backend=" + GetParam());
	GstCaps *caps = gst_caps_from_string(nv12Caps().c_str());
	GstBuffer *input = test::makeFrame(caps, test::Pattern::Noise, 9);
	gst_caps_unref(caps);
	ASSERT_EQ(gst_harness_push(upload.h, input), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	ASSERT_NE(output, nullptr);
	GstCaps *negotiated = gst_pad_get_current_caps(upload.h->sinkpad);
	bool dmabufCaps = gst_caps_features_contains(gst_caps_get_features(negotiated, 0),
						     GST_CAPS_FEATURE_MEMORY_DMABUF);
	EXPECT_EQ(dmabufCaps, dmabuf());
	EXPECT_EQ(static_cast<bool>(gst_is_dmabuf_memory(gst_buffer_peek_memory(output, 0))), dmabuf());
	gst_caps_unref(negotiated);
	gst_buffer_unref(output);
}

TEST_P(ZcuploadDmabufBackend, DmabufFromAnotherExporterIsWrapped)
{
	/* Exported by libzcbuf directly and wrapped by GStreamer's own
	 * dma-buf allocator: foreign dma-buf memory to zcupload. */
	std::shared_ptr<Buffer> exported = Buffer::create(backend_, nv12Size(), "exporter");
	ASSERT_TRUE(exported->allocate());
	Result<int> fd = exported->fd();
	ASSERT_TRUE(fd);
	GstAllocator *dmabufAllocator = gst_dmabuf_allocator_new();
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, gst_dmabuf_allocator_alloc_with_flags(
						dmabufAllocator, fd.value(), nv12Size(),
						GST_FD_MEMORY_FLAG_DONT_CLOSE));
	Upload upload(nv12Caps(), "backend=" + GetParam());
	ASSERT_EQ(gst_harness_push(upload.h, input), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	ASSERT_NE(output, nullptr);
	GstMemory *memory = gst_buffer_peek_memory(output, 0);
	EXPECT_TRUE(gst_is_zcbuf_memory(memory));
	EXPECT_TRUE(gst_is_dmabuf_memory(memory));
	EXPECT_TRUE(sameFile(gst_fd_memory_get_fd(memory), fd.value()));
	EXPECT_EQ(upload.copies.copies, 0);
	gst_buffer_unref(output);
	gst_object_unref(dmabufAllocator);
}

TEST_P(ZcuploadDmabufBackend, MemfdIsCopiedForDmabufCaps)
{
	UniqueFD memfd = makeMemfd(nv12Size(), 0x33);
	ASSERT_TRUE(memfd.isValid());
	GstAllocator *fdAllocator = gst_fd_allocator_new();
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, gst_fd_allocator_alloc(fdAllocator, memfd.get(), nv12Size(),
							       GST_FD_MEMORY_FLAG_DONT_CLOSE));
	Upload upload(nv12Caps(), "backend=" + GetParam());
	ASSERT_EQ(gst_harness_push(upload.h, input), GST_FLOW_OK);
	GstBuffer *output = gst_harness_pull(upload.h);
	ASSERT_NE(output, nullptr);
	EXPECT_TRUE(gst_is_dmabuf_memory(gst_buffer_peek_memory(output, 0)));
	EXPECT_EQ(upload.copies.copies, 1);
	gst_buffer_unref(output);
	gst_object_unref(fdAllocator);
}

/* With memory:DMABuf output an fd that is no dma-buf is copied, so a bad
 * one fails the copy: the error still names the fd. */
TEST_P(ZcuploadDmabufBackend, ClosedFdIsAnErrorForDmabufCaps)
{
	int number;
	{
		UniqueFD memfd = makeMemfd(nv12Size(), 1);
		ASSERT_TRUE(memfd.isValid());
		number = memfd.get();
	}
	GstAllocator *fdAllocator = gst_fd_allocator_new();
	GstBuffer *input = gst_buffer_new();
	gst_buffer_append_memory(input, gst_fd_allocator_alloc(fdAllocator, number, nv12Size(),
							       GST_FD_MEMORY_FLAG_DONT_CLOSE));
	Upload upload(nv12Caps(), "backend=" + GetParam());
	EXPECT_EQ(gst_harness_push(upload.h, input), GST_FLOW_ERROR);
	std::string error = upload.error();
	EXPECT_NE(error.find("fd " + std::to_string(number)), std::string::npos) << error;
	EXPECT_EQ(upload.copies.copies, 0);
	gst_object_unref(fdAllocator);
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(ZcuploadBackend);
ZCBUF_INSTANTIATE_FOR_DMABUF_BACKENDS(ZcuploadDmabufBackend);

} /* namespace */
