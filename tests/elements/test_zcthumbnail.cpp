/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcthumbnail: files at the right intervals and decodable with the right
 * size and colour, buffers passed through untouched, skipping while the
 * encoder is busy, memory that cannot be mapped, unwritable locations,
 * EOS and flushes, and the pool it proposes upstream.
 */
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <gst/allocators/allocators.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <jpeglib.h>

#include <glib/gstdio.h>
#include <gst/zcbuf/gstzcbuf.h>

#include "address_space_limit.h"
#include "backend_test.h"
#include "jpeg_reference.h"
#include "media.h"

using namespace zcbuf;
using namespace zcbuf::test;

namespace {

/* zcthumbnail in a GstHarness, its messages on a bus of the test's. */
class Thumbnailer
{
public:
	Thumbnailer(const std::string &launch, const GstCaps *caps)
	{
		caps_ = gst_caps_copy(caps);
		h_ = gst_harness_new_parse(launch.c_str());
		element_ = gst_harness_find_element(h_, "zcthumbnail");
		bus_ = gst_bus_new();
		gst_element_set_bus(h_->element, bus_);
		gst_harness_set_src_caps(h_, gst_caps_copy(caps));
	}

	~Thumbnailer()
	{
		gst_bus_set_flushing(bus_, TRUE);
		gst_object_unref(element_);
		gst_harness_teardown(h_);
		gst_object_unref(bus_);
		gst_caps_unref(caps_);
	}

	/* Pushes @buffer (a reference of the caller's) and checks that the
	 * same buffer comes out, its pixels unchanged. */
	void pass(GstBuffer *buffer)
	{
		std::vector<std::uint8_t> before = pixels(buffer);
		ASSERT_EQ(gst_harness_push(h_, gst_buffer_ref(buffer)), GST_FLOW_OK);
		GstBuffer *out = gst_harness_pull(h_);
		ASSERT_EQ(out, buffer) << "the buffer was replaced";
		EXPECT_EQ(pixels(out), before) << "the buffer was changed";
		gst_buffer_unref(out);
	}

	/* The visible samples of every component (not the row padding,
	 * which videotestsrc leaves uninitialised, nor the half pair at the
	 * end of odd-width packed 4:2:2 rows, which it does not fill). */
	std::vector<std::uint8_t> pixels(GstBuffer *buffer)
	{
		GstSample *sample = gst_sample_new(buffer, caps_, nullptr, nullptr);
		std::vector<std::uint8_t> all;
		GstVideoFormat format = sampleFormat(sample);
		const GstVideoFormatInfo *info = gst_video_format_get_info(format);
		bool packed422 = format == GST_VIDEO_FORMAT_YUY2 || format == GST_VIDEO_FORMAT_UYVY;
		GstVideoInfo video;
		gst_video_info_from_caps(&video, caps_);
		const int frameWidth = GST_VIDEO_INFO_WIDTH(&video);
		for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(info); c++) {
			Plane plane = component(sample, static_cast<int>(c));
			int width = plane.width;
			if (packed422)
				width = c == 0 ? frameWidth & ~1 : frameWidth / 2;
			for (int y = 0; y < plane.height; y++)
				for (int x = 0; x < width; x++)
					all.push_back(plane.at(x, y));
		}
		gst_sample_unref(sample);
		return all;
	}

	/* The next message of @type, or null after @timeout. */
	GstMessage *next(GstMessageType type, GstClockTime timeout = 30 * GST_SECOND)
	{
		return gst_bus_timed_pop_filtered(bus_, timeout, type);
	}

	/* Waits for the next thumbnail message; returns its file name. */
	std::string nextFile()
	{
		GstMessage *message = next(GST_MESSAGE_ELEMENT);
		if (!message) {
			ADD_FAILURE() << "no thumbnail message";
			return "";
		}
		const GstStructure *s = gst_message_get_structure(message);
		EXPECT_TRUE(gst_structure_has_name(s, "zcthumbnail"));
		std::string file = gst_structure_get_string(s, "filename");
		gst_message_unref(message);
		return file;
	}

	guint64 property(const char *name) const
	{
		guint64 value = 0;
		g_object_get(element_, name, &value, nullptr);
		return value;
	}

	GstHarness *harness() { return h_; }
	GstBus *bus() { return bus_; }

private:
	GstCaps *caps_;
	GstHarness *h_;
	GstElement *element_;
	GstBus *bus_;
};

class ThumbnailTest : public test::BackendTest
{
protected:
	std::string zcthumbnail(const std::string &extra) const
	{
		return "zcthumbnail backend=" + std::string(spec()) + " location=" +
		       dir_.file("thumb-%03d.jpg") + " " + extra;
	}

	std::vector<std::string> expectedFiles(int count) const
	{
		std::vector<std::string> names;
		for (int i = 0; i < count; i++) {
			gchar *name = g_strdup_printf("thumb-%03d.jpg", i);
			names.push_back(name);
			g_free(name);
		}
		return names;
	}

	TempDir dir_;
};

/* Reads a thumbnail file into a buffer. */
GstBuffer *readFile(const std::string &path)
{
	gchar *contents = nullptr;
	gsize length = 0;
	if (!g_file_get_contents(path.c_str(), &contents, &length, nullptr))
		return nullptr;
	return gst_buffer_new_wrapped(contents, length);
}

/* The mean of a plane's central quarter. */
int centre(const Plane &plane)
{
	long sum = 0, count = 0;
	for (int y = plane.height / 4; y < plane.height * 3 / 4 || count == 0; y++)
		for (int x = plane.width / 4; x < plane.width * 3 / 4 || x == plane.width / 4; x++) {
			sum += plane.at(std::min(x, plane.width - 1), std::min(y, plane.height - 1));
			count++;
		}
	return static_cast<int>(sum / count);
}

struct FormatCase {
	const char *format;
	int width, height;
	const char *extraCaps;
	int thumbWidth, thumbHeight;
};

TEST_P(ThumbnailTest, EveryFormatGivesADecodableThumbnailOfTheRightSizeAndColour)
{
	const std::vector<FormatCase> cases = {
		{ "NV12", 640, 480, "", 320, 240 },
		{ "NV21", 640, 360, "", 320, 180 },
		{ "I420", 1280, 720, "", 320, 180 },
		{ "YV12", 322, 242, "", 319, 240 },
		{ "Y42B", 160, 120, "", 160, 120 },
		{ "Y444", 640, 480, ",pixel-aspect-ratio=4/3", 320, 180 },
		{ "YUY2", 640, 480, "", 320, 240 },
		{ "UYVY", 101, 77, "", 100, 77 },
		{ "BGRx", 640, 480, "", 320, 240 },
		{ "BGRA", 480, 640, "", 180, 240 },
		{ "RGBx", 33, 17, "", 33, 17 },
		{ "RGBA", 640, 480, "", 320, 240 },
		{ "GRAY8", 640, 480, "", 320, 240 },
	};
	for (const FormatCase &c : cases) {
		std::string what = std::string(c.format) + " " + std::to_string(c.width) + "x" +
				   std::to_string(c.height) + c.extraCaps;
		Stream frames = rawFrames(c.format, c.width, c.height, 1, "red", c.extraCaps);
		ASSERT_EQ(frames.buffers.size(), 1u);
		Thumbnailer t(zcthumbnail("interval-frames=1"), frames.caps);
		t.pass(frames.buffers[0]);
		std::string path = t.nextFile();
		EXPECT_EQ(path, dir_.file(expectedFiles(1)[0])) << what;
		GstBuffer *jpeg = readFile(path);
		ASSERT_NE(jpeg, nullptr) << what;
		ReferenceImage image = referenceDecode(jpeg, 1, JDCT_ISLOW);
		gst_buffer_unref(jpeg);
		ASSERT_EQ(image.error, "") << what;
		EXPECT_EQ(image.width, c.thumbWidth) << what;
		EXPECT_EQ(image.height, c.thumbHeight) << what;
		bool gray = std::string(c.format) == "GRAY8";
		ASSERT_EQ(image.components.size(), gray ? 1u : 3u) << what;
		int y = centre(image.components[0]);
		if (gray) {
			/* videotestsrc's red as grey. */
			EXPECT_NEAR(y, 81, 12) << what;
		} else {
			/* Red in JFIF's full-range YCbCr: 76, 85, 255. */
			EXPECT_NEAR(y, 76, 8) << what;
			EXPECT_NEAR(centre(image.components[1]), 85, 10) << what;
			EXPECT_GE(centre(image.components[2]), 238) << what;
		}
		EXPECT_EQ(t.property("taken"), 1u);
		g_unlink(path.c_str());
	}
	EXPECT_EQ(dir_.list().size(), 0u);
}

TEST_P(ThumbnailTest, EveryNthFrame)
{
	const int count = slowRun() ? 12 : 31;
	Stream frames = rawFrames("I420", 320, 240, count, "ball");
	Thumbnailer t(zcthumbnail("interval-frames=5"), frames.caps);
	std::vector<std::string> files;
	for (int i = 0; i < count; i++) {
		t.pass(frames.buffers[i]);
		if (i % 5 == 0)
			files.push_back(t.nextFile());
	}
	const int expected = (count + 4) / 5;
	EXPECT_EQ(t.property("taken"), static_cast<guint64>(expected));
	EXPECT_EQ(t.property("skipped"), 0u);
	EXPECT_EQ(dir_.list(), expectedFiles(expected));
	for (std::size_t i = 0; i < files.size(); i++)
		EXPECT_EQ(files[i], dir_.file(expectedFiles(expected)[i]));
}

TEST_P(ThumbnailTest, EveryIntervalOfRunningTime)
{
	/* 3.5 s at 30 fps, a thumbnail every 0.5 s: at 0, 0.5, ... 3.0 s. */
	const int count = 105;
	Stream frames = rawFrames("NV12", 64, 48, count, "ball");
	Thumbnailer t(zcthumbnail("interval=500000000"), frames.caps);
	std::vector<GstClockTime> times;
	for (int i = 0; i < count; i++) {
		t.pass(frames.buffers[i]);
		if (i % 15 == 0) {
			GstMessage *message = t.next(GST_MESSAGE_ELEMENT);
			ASSERT_NE(message, nullptr) << "frame " << i;
			guint64 pts = 0;
			gst_structure_get_uint64(gst_message_get_structure(message), "pts", &pts);
			times.push_back(pts);
			gst_message_unref(message);
		}
	}
	ASSERT_EQ(times.size(), 7u);
	for (std::size_t i = 0; i < times.size(); i++)
		EXPECT_EQ(times[i], GST_BUFFER_PTS(frames.buffers[i * 15]));
	EXPECT_EQ(t.property("taken"), 7u);
	EXPECT_EQ(dir_.list(), expectedFiles(7));
	/* No message for frames in between. */
	EXPECT_EQ(t.next(GST_MESSAGE_ELEMENT, 0), nullptr);
}

/* Holds the worker inside its report (the message is posted from the
 * worker thread) until released: a deterministic "slow encoder". */
struct Gate {
	std::mutex mutex;
	std::condition_variable changed;
	bool open = false;
	int waiting = 0;
};

GstBusSyncReply holdThumbnailMessages(GstBus *, GstMessage *message, gpointer data)
{
	Gate *gate = static_cast<Gate *>(data);
	if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT) {
		std::unique_lock<std::mutex> lock(gate->mutex);
		gate->waiting++;
		gate->changed.notify_all();
		gate->changed.wait(lock, [&] { return gate->open; });
	}
	return GST_BUS_PASS;
}

TEST_P(ThumbnailTest, SkipsAndCountsWhileTheEncoderIsBusy)
{
	Stream frames = rawFrames("I420", 320, 240, 12, "ball");
	Thumbnailer t(zcthumbnail("interval-frames=1"), frames.caps);
	Gate gate;
	gst_bus_set_sync_handler(t.bus(), holdThumbnailMessages, &gate, nullptr);

	t.pass(frames.buffers[0]);
	{
		std::unique_lock<std::mutex> lock(gate.mutex);
		gate.changed.wait(lock, [&] { return gate.waiting == 1; });
	}
	/* The worker is stuck reporting the first thumbnail: it is free to
	 * take one more frame, which then waits for it; the other due frames
	 * pass on without waiting, counted as skipped. */
	for (int i = 1; i <= 10; i++)
		t.pass(frames.buffers[i]);
	EXPECT_EQ(t.property("taken"), 2u);
	EXPECT_EQ(t.property("skipped"), 9u);
	{
		std::lock_guard<std::mutex> lock(gate.mutex);
		gate.open = true;
	}
	gate.changed.notify_all();
	EXPECT_EQ(t.nextFile(), dir_.file("thumb-000.jpg"));
	EXPECT_EQ(t.nextFile(), dir_.file("thumb-001.jpg"));
	gst_bus_set_sync_handler(t.bus(), nullptr, nullptr, nullptr);

	/* EOS waits until the encoder is idle; after a flush the next frame
	 * is due again and taken. */
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_eos()));
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_flush_start()));
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_flush_stop(TRUE)));
	GstSegment segment;
	gst_segment_init(&segment, GST_FORMAT_TIME);
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_segment(&segment)));
	t.pass(frames.buffers[11]);
	EXPECT_EQ(t.nextFile(), dir_.file("thumb-002.jpg"));
	EXPECT_EQ(t.property("taken"), 3u);
	EXPECT_EQ(t.property("skipped"), 9u);
	EXPECT_EQ(dir_.list(), expectedFiles(3));
}

TEST_P(ThumbnailTest, StopFinishesTheThumbnailInHand)
{
	Stream frames = rawFrames("I420", 320, 240, 1, "ball");
	Gate gate;
	{
		Thumbnailer t(zcthumbnail("interval-frames=1"), frames.caps);
		gst_bus_set_sync_handler(t.bus(), holdThumbnailMessages, &gate, nullptr);
		t.pass(frames.buffers[0]);
		{
			std::unique_lock<std::mutex> lock(gate.mutex);
			gate.changed.wait(lock, [&] { return gate.waiting == 1; });
		}
		/* Stopping joins the worker, which is still reporting: let it
		 * go a little later, from another thread. */
		std::thread opener([&] {
			g_usleep(100 * 1000);
			std::lock_guard<std::mutex> lock(gate.mutex);
			gate.open = true;
			gate.changed.notify_all();
		});
		GstElement *element = gst_harness_find_element(t.harness(), "zcthumbnail");
		EXPECT_EQ(gst_element_set_state(element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
		gst_object_unref(element);
		opener.join();
		EXPECT_EQ(t.nextFile(), dir_.file("thumb-000.jpg"));
		gst_bus_set_sync_handler(t.bus(), nullptr, nullptr, nullptr);
	}
	EXPECT_EQ(dir_.list(), expectedFiles(1));
}

/* An allocator whose memory cannot be mapped. */
struct UnmappableAllocator {
	GstAllocator parent;
};
struct UnmappableAllocatorClass {
	GstAllocatorClass parent_class;
};

G_DEFINE_TYPE(UnmappableAllocator, unmappable_allocator, GST_TYPE_ALLOCATOR)

gpointer failMap(GstMemory *, gsize, GstMapFlags)
{
	return nullptr;
}

void noUnmap(GstMemory *) {}

void freeMemory(GstAllocator *, GstMemory *memory)
{
	g_free(memory);
}

void unmappable_allocator_init(UnmappableAllocator *self)
{
	GstAllocator *allocator = GST_ALLOCATOR(self);
	allocator->mem_type = "unmappable";
	allocator->mem_map = failMap;
	allocator->mem_unmap = noUnmap;
	GST_OBJECT_FLAG_SET(allocator, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

void unmappable_allocator_class_init(UnmappableAllocatorClass *klass)
{
	GST_ALLOCATOR_CLASS(klass)->free = freeMemory;
}

TEST_P(ThumbnailTest, UnmappableMemoryWarnsAndPassesThrough)
{
	GstCaps *caps = gst_caps_from_string("video/x-raw,format=GRAY8,width=64,height=48,"
					     "framerate=30/1");
	GstAllocator *allocator =
		GST_ALLOCATOR(g_object_new(unmappable_allocator_get_type(), nullptr));
	gst_object_ref_sink(allocator);
	GstMemory *memory = g_new0(GstMemory, 1);
	gst_memory_init(memory, static_cast<GstMemoryFlags>(0), allocator, nullptr, 64 * 48, 0, 0,
			64 * 48);
	GstBuffer *buffer = gst_buffer_new();
	gst_buffer_append_memory(buffer, memory);
	GST_BUFFER_PTS(buffer) = 0;
	{
		Thumbnailer t(zcthumbnail("interval-frames=1"), caps);
		ASSERT_EQ(gst_harness_push(t.harness(), gst_buffer_ref(buffer)), GST_FLOW_OK);
		GstBuffer *out = gst_harness_pull(t.harness());
		EXPECT_EQ(out, buffer);
		gst_buffer_unref(out);
		GstMessage *warning = t.next(GST_MESSAGE_WARNING);
		ASSERT_NE(warning, nullptr);
		GError *error = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_warning(warning, &error, &debug);
		EXPECT_STREQ(error->message, "Cannot read a frame to make a thumbnail.");
		EXPECT_NE(std::string(debug).find("unmappable"), std::string::npos) << debug;
		g_clear_error(&error);
		g_free(debug);
		gst_message_unref(warning);
		EXPECT_EQ(t.property("taken"), 0u);
	}
	EXPECT_EQ(dir_.list().size(), 0u);
	gst_buffer_unref(buffer);
	gst_object_unref(allocator);
	gst_caps_unref(caps);
}

/* GstVideoMetas whose planes run past the buffer, or with a negative
 * stride: checked before the shrink reads a byte; the frame passes on with
 * a warning and no thumbnail. */
TEST_P(ThumbnailTest, HostileVideoMetaWarnsWithoutReading)
{
	GstCaps *caps = gst_caps_from_string("video/x-raw,format=I420,width=64,height=48,"
					     "framerate=30/1");
	const gsize size = 64 * 48 * 3 / 2;
	struct Case {
		const char *name;
		gsize offset2;
		gint stride0;
		const char *reason;
	};
	const std::vector<Case> cases = {
		{ "plane past the end", size * 4, 64, "plane 2" },
		{ "negative stride", 64 * 48 + 32 * 24, -64, "plane 0 has a stride of -64" },
	};
	for (const Case &c : cases) {
		GstBuffer *buffer = gst_buffer_new_allocate(nullptr, size, nullptr);
		gst_buffer_memset(buffer, 0, 0x80, size);
		gsize offsets[GST_VIDEO_MAX_PLANES] = { 0, 64 * 48, c.offset2 };
		gint strides[GST_VIDEO_MAX_PLANES] = { c.stride0, 32, 32 };
		gst_buffer_add_video_meta_full(buffer, GST_VIDEO_FRAME_FLAG_NONE,
					       GST_VIDEO_FORMAT_I420, 64, 48, 3, offsets, strides);
		GST_BUFFER_PTS(buffer) = 0;
		{
			Thumbnailer t(zcthumbnail("interval-frames=1"), caps);
			ASSERT_EQ(gst_harness_push(t.harness(), gst_buffer_ref(buffer)), GST_FLOW_OK);
			GstBuffer *out = gst_harness_pull(t.harness());
			EXPECT_EQ(out, buffer) << c.name;
			gst_buffer_unref(out);
			GstMessage *warning = t.next(GST_MESSAGE_WARNING, GST_SECOND);
			ASSERT_NE(warning, nullptr) << c.name;
			GError *error = nullptr;
			gchar *debug = nullptr;
			gst_message_parse_warning(warning, &error, &debug);
			EXPECT_STREQ(error->message,
				     "Invalid video frame layout: no thumbnail of this frame.");
			EXPECT_NE(std::string(debug).find(c.reason), std::string::npos)
				<< c.name << ": " << debug;
			g_clear_error(&error);
			g_free(debug);
			gst_message_unref(warning);
			EXPECT_EQ(t.property("taken"), 0u) << c.name;
		}
		gst_buffer_unref(buffer);
	}
	EXPECT_EQ(dir_.list().size(), 0u);
	gst_caps_unref(caps);
}

TEST_P(ThumbnailTest, AnEncoderThreadThatCannotBeMadeIsAnError)
{
	/* No address space left for the encoder thread's stack: start fails
	 * with an error (std::system_error used to end the process). */
	if (slowRun())
		GTEST_SKIP() << "valgrind keeps its own address space limits";
	GstElement *thumb = gst_element_factory_make("zcthumbnail", nullptr);
	ASSERT_NE(thumb, nullptr);
	g_object_set(thumb, "location", dir_.file("thumb-%03d.jpg").c_str(), nullptr);
	std::string error;
	EXPECT_EQ(test::pauseWithoutAddressSpace(thumb, &error), GST_STATE_CHANGE_FAILURE);
	EXPECT_EQ(error.rfind("Cannot start the thumbnail encoder thread. | ", 0), 0u) << error;
	gst_object_unref(thumb);
}

TEST_P(ThumbnailTest, UnwritableOrInvalidLocationIsAnErrorAtStart)
{
	struct Case {
		std::string location;
		std::string error;
	};
	const std::vector<Case> cases = {
		{ "/nonexistent-zcbuf-dir/t-%d.jpg",
		  "Cannot write thumbnails to directory '/nonexistent-zcbuf-dir'." },
		{ dir_.file("t.jpg"), "Invalid thumbnail location '" + dir_.file("t.jpg") + "'." },
		{ dir_.file("t-%s.jpg"), "Invalid thumbnail location '" + dir_.file("t-%s.jpg") + "'." },
		{ dir_.file("%d-%d.jpg"),
		  "Invalid thumbnail location '" + dir_.file("%d-%d.jpg") + "'." },
		{ dir_.file("t-%123d.jpg"),
		  "Invalid thumbnail location '" + dir_.file("t-%123d.jpg") + "'." },
	};
	for (const Case &c : cases) {
		std::string error = runToEos("videotestsrc num-buffers=1 ! zcthumbnail location=\"" +
					     c.location + "\" ! fakesink");
		EXPECT_EQ(error, c.error) << c.location;
	}
	/* %% and flags are fine. */
	EXPECT_EQ(runToEos("videotestsrc num-buffers=1 ! zcthumbnail location=\"" +
			   dir_.file("100%%-%04x.jpg") + "\" ! fakesink"),
		  "");
	EXPECT_EQ(dir_.list(), std::vector<std::string>{ "100%-0000.jpg" });
}

TEST_P(ThumbnailTest, WriteFailureLaterIsAWarning)
{
	TempDir gone;
	Stream frames = rawFrames("I420", 64, 48, 2, "ball");
	std::string location = gone.file("t-%d.jpg");
	Thumbnailer t("zcthumbnail interval-frames=1 location=" + location, frames.caps);
	ASSERT_EQ(g_rmdir(gone.path().c_str()), 0);
	t.pass(frames.buffers[0]);
	GstMessage *warning = t.next(GST_MESSAGE_WARNING);
	ASSERT_NE(warning, nullptr);
	GError *error = nullptr;
	gchar *debug = nullptr;
	gst_message_parse_warning(warning, &error, &debug);
	EXPECT_EQ(std::string(error->message), "Could not write thumbnail '" + gone.file("t-0.jpg") + "'.");
	EXPECT_NE(std::string(debug).find("No such file or directory"), std::string::npos) << debug;
	g_clear_error(&error);
	g_free(debug);
	gst_message_unref(warning);
	/* The stream goes on. */
	t.pass(frames.buffers[1]);
	g_mkdir(gone.path().c_str(), 0700);
}

TEST_P(ThumbnailTest, EosWaitsForThePendingThumbnail)
{
	std::string description = "videotestsrc num-buffers=1 ! video/x-raw,width=1920,height=1080 ! " +
				  zcthumbnail("") + " ! fakesink";
	GstElement *pipeline = launch(description);
	ASSERT_NE(pipeline, nullptr);
	GstBus *bus = gst_element_get_bus(pipeline);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	bool thumbnail = false, eos = false;
	while (!eos) {
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 30 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
						    GST_MESSAGE_ELEMENT));
		ASSERT_NE(message, nullptr);
		ASSERT_NE(GST_MESSAGE_TYPE(message), GST_MESSAGE_ERROR);
		if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT) {
			thumbnail = true;
		} else {
			eos = true;
			EXPECT_TRUE(thumbnail) << "EOS before the thumbnail";
			EXPECT_EQ(dir_.list(), expectedFiles(1)) << "the file is not there at EOS";
		}
		gst_message_unref(message);
	}
	gst_object_unref(bus);
	destroyPipeline(pipeline);
}

TEST_P(ThumbnailTest, FlushRestartsTheSchedule)
{
	Stream frames = rawFrames("I420", 64, 48, 4, "ball");
	Thumbnailer t(zcthumbnail("interval-frames=10"), frames.caps);
	t.pass(frames.buffers[0]);
	EXPECT_EQ(t.nextFile(), dir_.file("thumb-000.jpg"));
	t.pass(frames.buffers[1]);
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_flush_start()));
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_flush_stop(TRUE)));
	GstSegment segment;
	gst_segment_init(&segment, GST_FORMAT_TIME);
	ASSERT_TRUE(gst_harness_push_event(t.harness(), gst_event_new_segment(&segment)));
	t.pass(frames.buffers[2]);
	EXPECT_EQ(t.nextFile(), dir_.file("thumb-001.jpg")) << "the first frame after a flush is due";
	t.pass(frames.buffers[3]);
	EXPECT_EQ(t.property("taken"), 2u);
}

struct Counts {
	int buffers = 0;
	int zcbuf = 0;
};

void countBuffer(GstElement *, GstBuffer *buffer, GstPad *, gpointer user)
{
	Counts *counts = static_cast<Counts *>(user);
	counts->buffers++;
	counts->zcbuf += gst_is_zcbuf_memory(gst_buffer_peek_memory(buffer, 0)) ? 1 : 0;
}

TEST_P(ThumbnailTest, ProposesTheZcbufPoolUpstream)
{
	/* Upstream producers (videotestsrc, zcjpegdec) write into zcbuf
	 * memory when zcthumbnail, in passthrough, has no pool from
	 * downstream to forward. */
	TempDir files;
	const std::vector<std::string> upstreams = {
		"videotestsrc num-buffers=10 ! video/x-raw,format=NV12,width=320,height=240",
		"videotestsrc num-buffers=10 ! video/x-raw,width=320,height=240 ! jpegenc ! zcjpegdec",
	};
	for (const std::string &upstream : upstreams) {
		std::string description = upstream + " ! zcthumbnail backend=" + spec() +
					  " interval-frames=3 location=" + files.file("t-%d.jpg") +
					  " ! fakesink name=sink signal-handoffs=true";
		GstElement *pipeline = launch(description);
		ASSERT_NE(pipeline, nullptr);
		GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
		Counts counts;
		g_signal_connect(sink, "handoff", G_CALLBACK(countBuffer), &counts);
		gst_object_unref(sink);
		gst_element_set_state(pipeline, GST_STATE_PLAYING);
		GstBus *bus = gst_element_get_bus(pipeline);
		GstMessage *done = gst_bus_timed_pop_filtered(
			bus, 60 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
		ASSERT_NE(done, nullptr);
		EXPECT_EQ(GST_MESSAGE_TYPE(done), GST_MESSAGE_EOS) << upstream;
		gst_message_unref(done);
		gst_object_unref(bus);
		destroyPipeline(pipeline);
		EXPECT_EQ(counts.buffers, 10) << upstream;
		EXPECT_EQ(counts.zcbuf, 10) << upstream;
		EXPECT_FALSE(files.list().empty()) << upstream;
		for (const std::string &name : files.list())
			g_unlink(files.file(name).c_str());
	}
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(ThumbnailTest);

} /* namespace */
