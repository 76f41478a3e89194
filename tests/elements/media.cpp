/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "media.h"

#include "jpeg_reference.h"

#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

namespace zcbuf::test {

Stream::Stream(Stream &&other) noexcept
	: caps(std::exchange(other.caps, nullptr)), buffers(std::move(other.buffers))
{
	other.buffers.clear();
}

Stream &Stream::operator=(Stream &&other) noexcept
{
	if (this != &other) {
		clear();
		caps = std::exchange(other.caps, nullptr);
		buffers = std::move(other.buffers);
		other.buffers.clear();
	}
	return *this;
}

Stream::~Stream()
{
	clear();
}

void Stream::clear()
{
	gst_clear_caps(&caps);
	for (GstBuffer *buffer : buffers)
		gst_buffer_unref(buffer);
	buffers.clear();
}

Samples::Samples(Samples &&other) noexcept
	: samples(std::move(other.samples)), error(std::move(other.error)),
	  errorDebug(std::move(other.errorDebug)), warnings(other.warnings), eos(other.eos)
{
	other.samples.clear();
}

Samples::~Samples()
{
	for (GstSample *sample : samples)
		gst_sample_unref(sample);
}

Stream encodeJpegs(const char *format, int width, int height, int count, const char *pattern,
		   int quality)
{
	gchar *description = g_strdup_printf(
		"videotestsrc num-buffers=%d pattern=%s ! "
		"video/x-raw,format=%s,width=%d,height=%d,framerate=30/1 ! "
		"appsink name=sink sync=false",
		count, pattern, format, width, height);
	Samples raw = runPipeline(description);
	g_free(description);
	EXPECT_EQ(raw.error, "") << raw.errorDebug;
	Stream stream;
	stream.caps = gst_caps_new_simple("image/jpeg", "width", G_TYPE_INT, width, "height",
					  G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 30, 1,
					  nullptr);
	for (GstSample *sample : raw.samples) {
		std::vector<std::uint8_t> jpeg = referenceEncode(sample, quality);
		GstBuffer *buffer = gst_buffer_new_allocate(nullptr, jpeg.size(), nullptr);
		gst_buffer_fill(buffer, 0, jpeg.data(), jpeg.size());
		gst_buffer_copy_into(buffer, gst_sample_get_buffer(sample), GST_BUFFER_COPY_METADATA,
				     0, static_cast<gsize>(-1));
		stream.buffers.push_back(buffer);
	}
	EXPECT_EQ(stream.buffers.size(), static_cast<std::size_t>(count));
	return stream;
}

Stream rawFrames(const char *format, int width, int height, int count, const char *pattern,
		 const char *extraCaps)
{
	gchar *description = g_strdup_printf(
		"videotestsrc num-buffers=%d pattern=%s ! "
		"video/x-raw,format=%s,width=%d,height=%d,framerate=30/1%s ! "
		"appsink name=sink sync=false",
		count, pattern, format, width, height, extraCaps);
	Samples raw = runPipeline(description);
	g_free(description);
	EXPECT_EQ(raw.error, "") << raw.errorDebug;
	Stream stream;
	for (GstSample *sample : raw.samples) {
		if (!stream.caps)
			stream.caps = gst_caps_copy(gst_sample_get_caps(sample));
		stream.buffers.push_back(gst_buffer_ref(gst_sample_get_buffer(sample)));
	}
	EXPECT_EQ(stream.buffers.size(), static_cast<std::size_t>(count));
	return stream;
}

namespace {

void takeMessage(Samples *result, GstMessage *message)
{
	if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR && result->error.empty()) {
		GError *error = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_error(message, &error, &debug);
		result->error = error->message;
		result->errorDebug = debug ? debug : "";
		g_clear_error(&error);
		g_free(debug);
	} else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
		result->warnings++;
	}
}

} /* namespace */

GstElement *launch(const std::string &description)
{
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline || error) {
		ADD_FAILURE() << description << ": " << (error ? error->message : "?");
		g_clear_error(&error);
		if (pipeline)
			destroyPipeline(pipeline);
		return nullptr;
	}
	return pipeline;
}

void destroyPipeline(GstElement *pipeline)
{
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gint finalized = 0;
	g_object_weak_ref(
		G_OBJECT(pipeline),
		[](gpointer data, GObject *) { g_atomic_int_set(static_cast<gint *>(data), 1); },
		&finalized);
	gst_object_unref(pipeline);
	gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
	while (!g_atomic_int_get(&finalized) && g_get_monotonic_time() < deadline)
		g_usleep(1000);
	EXPECT_TRUE(g_atomic_int_get(&finalized)) << "the pipeline is still referenced";
}

Samples runPipeline(const std::string &description, const Stream *input)
{
	Samples result;
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline || error) {
		/* A missing element is a "recoverable" error with a partial
		 * pipeline: fail on it, naming the element. */
		ADD_FAILURE() << description << ": " << error->message;
		result.error = error->message;
		g_clear_error(&error);
		if (pipeline)
			destroyPipeline(pipeline);
		return result;
	}
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	if (src && input) {
		g_object_set(src, "caps", input->caps, "format", GST_FORMAT_TIME, nullptr);
		for (GstBuffer *buffer : input->buffers)
			gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_ref(buffer));
		gst_app_src_end_of_stream(GST_APP_SRC(src));
	}

	GstBus *bus = gst_element_get_bus(pipeline);
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		while (GstMessage *message = gst_bus_pop(bus)) {
			takeMessage(&result, message);
			gst_message_unref(message);
		}
		if (result.error.empty())
			result.error = "the pipeline does not start";
	} else {
		gint64 deadline = g_get_monotonic_time() + 120 * G_TIME_SPAN_SECOND;
		while (g_get_monotonic_time() < deadline) {
			GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
									 50 * GST_MSECOND);
			if (sample) {
				result.samples.push_back(sample);
				continue;
			}
			if (gst_app_sink_is_eos(GST_APP_SINK(sink))) {
				result.eos = true;
				break;
			}
			bool failed = false;
			while (GstMessage *message = gst_bus_pop(bus)) {
				takeMessage(&result, message);
				failed |= GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
				gst_message_unref(message);
			}
			if (failed) {
				/* What reached the sink before the error counts:
				 * a frame finished just before it may have come
				 * after the last pull gave up (seen with 3 decode
				 * threads under TCG). */
				while (GstSample *late = gst_app_sink_try_pull_sample(
					       GST_APP_SINK(sink), 0))
					result.samples.push_back(late);
				break;
			}
		}
		while (GstMessage *message = gst_bus_pop(bus)) {
			takeMessage(&result, message);
			gst_message_unref(message);
		}
		if (!result.eos && result.error.empty())
			ADD_FAILURE() << "no EOS and no error within 120 s: " << description;
	}
	gst_object_unref(bus);
	gst_clear_object(&src);
	gst_object_unref(sink);
	destroyPipeline(pipeline);
	return result;
}

std::string runToEos(const std::string &description)
{
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
	if (!pipeline || error) {
		std::string text = error->message;
		g_clear_error(&error);
		if (pipeline)
			destroyPipeline(pipeline);
		return text;
	}
	std::string result;
	GstBus *bus = gst_element_get_bus(pipeline);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstMessage *message = gst_bus_timed_pop_filtered(
		bus, 120 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	if (!message) {
		result = "no EOS within 120 s";
	} else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
		gst_message_parse_error(message, &error, nullptr);
		result = error->message;
		g_clear_error(&error);
	}
	if (message)
		gst_message_unref(message);
	gst_object_unref(bus);
	destroyPipeline(pipeline);
	return result;
}

bool writeFile(const std::string &path, GstBuffer *buffer)
{
	GstMapInfo map;
	if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
		return false;
	gboolean ok = g_file_set_contents(path.c_str(), reinterpret_cast<const gchar *>(map.data),
					  static_cast<gssize>(map.size), nullptr);
	gst_buffer_unmap(buffer, &map);
	return ok;
}

TempDir::TempDir()
{
	gchar *path = g_dir_make_tmp("zcbuf-test-XXXXXX", nullptr);
	path_ = path ? path : "";
	g_free(path);
}

TempDir::~TempDir()
{
	if (path_.empty())
		return;
	for (const std::string &name : list())
		g_unlink(file(name).c_str());
	g_rmdir(path_.c_str());
}

std::vector<std::string> TempDir::list() const
{
	std::vector<std::string> names;
	if (DIR *dir = opendir(path_.c_str())) {
		while (struct dirent *entry = readdir(dir))
			if (entry->d_name[0] != '.')
				names.push_back(entry->d_name);
		closedir(dir);
	}
	std::sort(names.begin(), names.end());
	return names;
}

GstVideoFormat sampleFormat(GstSample *sample)
{
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample)))
		return GST_VIDEO_FORMAT_UNKNOWN;
	return GST_VIDEO_INFO_FORMAT(&info);
}

Plane component(GstSample *sample, int comp)
{
	Plane plane;
	GstVideoInfo info;
	if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample))) {
		ADD_FAILURE() << "not raw video caps";
		return plane;
	}
	GstVideoFrame frame;
	if (!gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
		ADD_FAILURE() << "cannot map the frame";
		return plane;
	}
	plane.width = GST_VIDEO_FRAME_COMP_WIDTH(&frame, comp);
	plane.height = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, comp);
	const int pixelStride = GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, comp);
	const int stride = GST_VIDEO_FRAME_COMP_STRIDE(&frame, comp);
	const auto *data = static_cast<const std::uint8_t *>(GST_VIDEO_FRAME_COMP_DATA(&frame, comp));
	plane.data.resize(static_cast<std::size_t>(plane.width) * plane.height);
	for (int y = 0; y < plane.height; y++)
		for (int x = 0; x < plane.width; x++)
			plane.data[static_cast<std::size_t>(y) * plane.width + x] =
				data[static_cast<std::ptrdiff_t>(y) * stride + x * pixelStride];
	gst_video_frame_unmap(&frame);
	return plane;
}

std::string comparePlanes(const Plane &a, const Plane &b)
{
	if (a.width != b.width || a.height != b.height)
		return "sizes differ: " + std::to_string(a.width) + "x" + std::to_string(a.height) +
		       " vs " + std::to_string(b.width) + "x" + std::to_string(b.height);
	for (int y = 0; y < a.height; y++)
		for (int x = 0; x < a.width; x++)
			if (a.at(x, y) != b.at(x, y))
				return "first difference at (" + std::to_string(x) + ", " +
				       std::to_string(y) + "): " + std::to_string(a.at(x, y)) +
				       " vs " + std::to_string(b.at(x, y));
	return "";
}

std::string compareFrames(GstSample *a, GstSample *b)
{
	GstVideoFormat fa = sampleFormat(a), fb = sampleFormat(b);
	if (fa != fb)
		return std::string("formats differ: ") + gst_video_format_to_string(fa) + " vs " +
		       gst_video_format_to_string(fb);
	const GstVideoFormatInfo *info = gst_video_format_get_info(fa);
	for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(info); c++) {
		std::string difference = comparePlanes(component(a, static_cast<int>(c)),
						       component(b, static_cast<int>(c)));
		if (!difference.empty())
			return "component " + std::to_string(c) + ": " + difference;
	}
	return "";
}

std::vector<std::uint8_t> bytesOf(GstBuffer *buffer)
{
	std::vector<std::uint8_t> bytes(gst_buffer_get_size(buffer));
	gst_buffer_extract(buffer, 0, bytes.data(), bytes.size());
	return bytes;
}

} /* namespace zcbuf::test */
