/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A backend asked for and missing is an error, never a silent substitute:
 * zcconvert (converting and in passthrough), zcupload and zcthumbnail post
 * one error that names the backend, where the request came from (the
 * property or ZCBUF_BACKEND) and the reason (errno text).
 */
#include <cstdlib>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

namespace {

constexpr const char *kMissing = "dma-heap:zcbuf-no-such-heap";

struct Errors {
	/* Messages of the errors the element named "under-test" posted. */
	std::vector<std::string> fromElement;
	bool any = false;
};

Errors run(const std::string &launch)
{
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(launch.c_str(), &error);
	EXPECT_NE(pipeline, nullptr) << (error ? error->message : "");
	g_clear_error(&error);
	Errors errors;
	if (!pipeline)
		return errors;
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstBus *bus = gst_element_get_bus(pipeline);
	for (;;) {
		GstMessage *message = gst_bus_timed_pop_filtered(
			bus, 10 * GST_SECOND,
			static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
		if (!message)
			break;
		bool eos = GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
		if (!eos) {
			errors.any = true;
			GError *posted = nullptr;
			gst_message_parse_error(message, &posted, nullptr);
			if (g_strcmp0(GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), "under-test") == 0)
				errors.fromElement.push_back(posted->message);
			g_clear_error(&posted);
		}
		gst_message_unref(message);
		/* After the first error, collect what else is already queued. */
		if (eos || errors.any) {
			while (GstMessage *more = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
				GError *posted = nullptr;
				gst_message_parse_error(more, &posted, nullptr);
				if (g_strcmp0(GST_OBJECT_NAME(GST_MESSAGE_SRC(more)), "under-test") == 0)
					errors.fromElement.push_back(posted->message);
				g_clear_error(&posted);
				gst_message_unref(more);
			}
			break;
		}
	}
	gst_object_unref(bus);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(pipeline);
	return errors;
}

void expectOneError(const Errors &errors, const char *origin)
{
	ASSERT_EQ(errors.fromElement.size(), 1u);
	const std::string &message = errors.fromElement[0];
	EXPECT_NE(message.find(kMissing), std::string::npos) << message;
	EXPECT_NE(message.find(origin), std::string::npos) << message;
	EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
}

const std::string kSource =
	"videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! ";

TEST(MissingBackend, ZcconvertPropertyIsAnError)
{
	expectOneError(run(kSource + "zcconvert name=under-test backend=" + kMissing +
			   " ! video/x-raw,format=BGRx ! fakesink"),
		       "backend property");
}

TEST(MissingBackend, ZcconvertInPassthroughIsAnError)
{
	expectOneError(run(kSource + "zcconvert name=under-test backend=" + kMissing +
			   " ! video/x-raw,format=I420,width=64,height=48 ! fakesink"),
		       "backend property");
}

TEST(MissingBackend, ZcuploadPropertyIsAnError)
{
	expectOneError(run(kSource + "zcupload name=under-test backend=" + kMissing + " ! fakesink"),
		       "backend property");
}

TEST(MissingBackend, ZcthumbnailPropertyIsAnError)
{
	gchar *dir = g_dir_make_tmp("zcbuf-thumbnail-XXXXXX", nullptr);
	ASSERT_NE(dir, nullptr);
	expectOneError(run(kSource + "zcthumbnail name=under-test backend=" + kMissing +
			   " location=" + dir + "/thumb-%05d.jpg ! fakesink"),
		       "backend property");
	/* The first frame may have gone through before the error stopped the
	 * pipeline. */
	GDir *listing = g_dir_open(dir, 0, nullptr);
	while (const gchar *name = listing ? g_dir_read_name(listing) : nullptr) {
		gchar *path = g_build_filename(dir, name, nullptr);
		g_unlink(path);
		g_free(path);
	}
	if (listing)
		g_dir_close(listing);
	EXPECT_EQ(g_rmdir(dir), 0) << dir;
	g_free(dir);
}

TEST(MissingBackend, EnvironmentIsNamed)
{
	setenv("ZCBUF_BACKEND", kMissing, 1);
	Errors errors = run(kSource + "zcconvert name=under-test ! video/x-raw,format=BGRx ! fakesink");
	unsetenv("ZCBUF_BACKEND");
	expectOneError(errors, "ZCBUF_BACKEND");
}

} /* namespace */
