/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Upstream GL taking zcbuf memory without its copy, in the guest on
 * virtio-gpu: `zcupload ! glupload ! glcolorconvert ! gldownload` with the
 * zcbuf pool on the GL device's card (the only memory virtio-gpu imports)
 * takes glupload's dma-buf uploader ("Dmabuf", never "Raw Data"), as
 * glupload's own debug log says (the zerocopy tracer cannot see inside
 * glupload), and gives the bytes of glupload's upload path (videotestsrc
 * writing into glupload's GL pool, uploaded as "GLMemory").
 */
#include <mutex>
#include <string>
#include <vector>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "backend_params.h"
#include "display.h"
#include "guest.h"

namespace {

/* What glupload's category logged while alive: which uploader it took. */
class GluploadLog
{
public:
	GluploadLog()
	{
		/* Only here: the default handler would print every line. */
		gst_debug_remove_log_function(gst_debug_log_default);
		gst_debug_add_log_function(&GluploadLog::log, this, nullptr);
		gst_debug_set_threshold_for_name("glupload", GST_LEVEL_LOG);
	}
	~GluploadLog()
	{
		gst_debug_unset_threshold_for_name("glupload");
		gst_debug_remove_log_function_by_data(this);
		gst_debug_add_log_function(gst_debug_log_default, nullptr, nullptr);
	}

	/* The uploaders glupload changed to ("Changing uploader from None to
	 * DirectDmabuf ..."). */
	std::vector<std::string> changes()
	{
		std::lock_guard<std::mutex> lock(mutex_);
		return changes_;
	}

private:
	static void log(GstDebugCategory *category, GstDebugLevel, const gchar *, const gchar *, gint,
			GObject *, GstDebugMessage *message, gpointer data)
	{
		if (std::string(gst_debug_category_get_name(category)) != "glupload")
			return;
		std::string text = gst_debug_message_get(message);
		const std::string prefix = "Changing uploader from ";
		if (text.rfind(prefix, 0) != 0)
			return;
		auto *self = static_cast<GluploadLog *>(data);
		std::size_t to = text.find(" to ");
		std::size_t end = text.find(" with ", to);
		std::lock_guard<std::mutex> lock(self->mutex_);
		self->changes_.push_back(text.substr(to + 4, end == std::string::npos ? end : end - to - 4));
	}

	std::mutex mutex_;
	std::vector<std::string> changes_;
};

/* The RGBA bytes of every frame @description's appsink "out" got. */
std::vector<std::vector<guint8>> framesOf(const std::string &description, std::string &error)
{
	std::vector<std::vector<guint8>> frames;
	GError *parseError = nullptr;
	GstElement *pipeline = gst_parse_launch(description.c_str(), &parseError);
	if (!pipeline) {
		error = parseError ? parseError->message : "no pipeline";
		g_clear_error(&parseError);
		return frames;
	}
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	while (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 60 * GST_SECOND)) {
		GstMapInfo map;
		GstBuffer *buffer = gst_sample_get_buffer(sample);
		if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
			frames.emplace_back(map.data, map.data + map.size);
			gst_buffer_unmap(buffer, &map);
		}
		gst_sample_unref(sample);
	}
	GstBus *bus = gst_element_get_bus(pipeline);
	if (GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
		GError *e = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_error(message, &e, &debug);
		error = std::string(e->message) + " (" + (debug ? debug : "") + ")";
		g_clear_error(&e);
		g_free(debug);
		gst_message_unref(message);
	}
	gst_object_unref(bus);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	return frames;
}

/* The guest's virtio-gpu card, with GstGL set up on it; empty (and the
 * test skipped) on the host. */
std::string glOnTheCard()
{
	std::string card = zcbuf::test::virtioCard();
	if (card.empty())
		return card;
	/* GstGL 1.22 on a card without a window system: EGL on GBM. */
	g_setenv("GST_GL_PLATFORM", "egl", TRUE);
	g_setenv("GST_GL_API", "gles2", TRUE);
	g_setenv("GST_GL_WINDOW", "gbm", TRUE);
	g_setenv("GST_GL_GBM_DRM_DEVICE", card.c_str(), TRUE);
	return card;
}

#define SKIP_WITHOUT_THE_CARD(card)                                                               \
	do {                                                                                      \
		if ((card).empty()) {                                                             \
			ASSERT_FALSE(zcbuf::test::inTheGuest()) << "no virtio-gpu card in the guest"; \
			GTEST_SKIP() << "no virtio-gpu DRM card (the host): the guest runs this";  \
		}                                                                                 \
	} while (0)

const std::string kSource =
	"videotestsrc num-buffers=5 pattern=smpte ! video/x-raw,format=NV12,width=64,height=48 ! ";
const std::string kGl = "glupload ! glcolorconvert ! video/x-raw(memory:GLMemory),format=RGBA ! "
			"gldownload ! video/x-raw,format=RGBA ! appsink name=out sync=false";

TEST(UpstreamGl, GluploadImportsZcbufMemoryOnTheCard)
{
	std::string card = glOnTheCard();
	SKIP_WITHOUT_THE_CARD(card);
	const std::string &source = kSource;
	const std::string &gl = kGl;
	std::string error;
	std::vector<std::vector<guint8>> imported, copied;
	std::vector<std::string> importChanges, copyChanges;
	{
		GluploadLog log;
		imported = framesOf(source + "zcupload backend=drm:" + card + " ! " + gl, error);
		importChanges = log.changes();
	}
	ASSERT_TRUE(error.empty()) << error;
	{
		GluploadLog log;
		copied = framesOf(source + gl, error);
		copyChanges = log.changes();
	}
	ASSERT_TRUE(error.empty()) << error;

	/* zcbuf memory: a dma-buf uploader and never Raw Data. */
	ASSERT_FALSE(importChanges.empty());
	for (const std::string &to : importChanges) {
		EXPECT_NE(to, "Raw Data");
		EXPECT_NE(to.find("Dmabuf"), std::string::npos) << to;
	}
	/* Without zcupload videotestsrc writes into glupload's GL pool, which
	 * glupload then uploads from ("GLMemory", a texture upload): no
	 * dma-buf uploader, as the check above would have seen. */
	ASSERT_FALSE(copyChanges.empty());
	EXPECT_EQ(copyChanges.back().find("Dmabuf"), std::string::npos) << copyChanges.back();

	ASSERT_EQ(imported.size(), 5u);
	ASSERT_EQ(copied.size(), 5u);
	for (std::size_t i = 0; i < imported.size(); i++)
		EXPECT_EQ(imported[i], copied[i]) << "frame " << i;
	std::cout << "glupload with zcbuf memory: " << importChanges.back()
		  << "; with system memory: " << copyChanges.back() << "\n";
}

/* glupload with every other zcbuf backend (docs/interop.md): virtio-gpu
 * 6.1 imports no foreign dma-buf, so glupload's dma-buf uploaders refuse
 * them all and it uploads the bytes ("Raw Data", a copy into a texture
 * that its log shows); memfd is no dma-buf and goes the same way. The
 * frames are the upload path's either way. */
class GluploadBackends : public ::testing::TestWithParam<const char *>
{
};

TEST_P(GluploadBackends, UploadsWhatDoesNotImportAsRawData)
{
	std::string card = glOnTheCard();
	SKIP_WITHOUT_THE_CARD(card);
	std::string backend = GetParam();
	if (backend == "vgem" || backend == "vkms") {
		zcbuf::test::Card other = zcbuf::test::findCard(backend.c_str());
		ASSERT_FALSE(other.node.empty()) << "no " << backend << " card: boot with --modprobe "
						 << backend;
		backend = "drm:" + other.node;
	}
	std::string error;
	std::vector<std::vector<guint8>> ours, reference;
	std::vector<std::string> changes;
	{
		GluploadLog log;
		ours = framesOf(kSource + "zcupload backend=" + backend + " ! " + kGl, error);
		changes = log.changes();
	}
	ASSERT_TRUE(error.empty()) << error;
	reference = framesOf(kSource + kGl, error);
	ASSERT_TRUE(error.empty()) << error;
	ASSERT_FALSE(changes.empty());
	std::cout << backend << ": glupload's uploaders:";
	for (const std::string &to : changes)
		std::cout << " " << to;
	std::cout << "\n";
	EXPECT_EQ(changes.back(), "Raw Data");
	for (const std::string &to : changes)
		EXPECT_EQ(to.find("Dmabuf"), std::string::npos) << to << " took it";
	ASSERT_EQ(ours.size(), 5u);
	ASSERT_EQ(reference.size(), 5u);
	for (std::size_t i = 0; i < ours.size(); i++)
		EXPECT_EQ(ours[i], reference[i]) << "frame " << i;
}

INSTANTIATE_TEST_SUITE_P(Matrix, GluploadBackends,
			 ::testing::Values("module", "dma-heap", "udmabuf", "vgem", "vkms", "memfd"),
			 [](const auto &info) { return zcbuf::test::paramName(info.param); });

} /* namespace */
