/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Producers choose the backend of their own pool from what the consumers
 * need (docs/gstreamer.md, "Who chooses the memory"), and say what they
 * chose in the read-only chosen-backend property. The same program runs on
 * the build machine (no dma-buf exporter: a dma-buf need is an error) and
 * in the guest (the module, the heaps and udmabuf: the module is chosen).
 */
#include <cstdlib>
#include <string>
#include <vector>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <zcbuf/backend.h>

namespace {

struct Outcome {
	std::string chosen;
	/* Errors the element named "under-test" posted. */
	std::vector<std::string> errors;
	bool eos = false;
};

Outcome run(const std::string &launch)
{
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(launch.c_str(), &error);
	EXPECT_NE(pipeline, nullptr) << (error ? error->message : "");
	g_clear_error(&error);
	Outcome outcome;
	if (!pipeline)
		return outcome;
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstBus *bus = gst_element_get_bus(pipeline);
	while (GstMessage *message = gst_bus_timed_pop_filtered(
		       bus, 20 * GST_SECOND,
		       static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS))) {
		bool eos = GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
		if (!eos) {
			GError *posted = nullptr;
			gst_message_parse_error(message, &posted, nullptr);
			if (g_strcmp0(GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), "under-test") == 0)
				outcome.errors.push_back(posted->message);
			g_clear_error(&posted);
		}
		outcome.eos = eos;
		gst_message_unref(message);
		break;
	}
	/* Errors already queued behind the first one. */
	while (GstMessage *more = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
		GError *posted = nullptr;
		gst_message_parse_error(more, &posted, nullptr);
		if (g_strcmp0(GST_OBJECT_NAME(GST_MESSAGE_SRC(more)), "under-test") == 0)
			outcome.errors.push_back(posted->message);
		g_clear_error(&posted);
		gst_message_unref(more);
	}
	gst_object_unref(bus);
	GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline), "under-test");
	EXPECT_NE(element, nullptr);
	if (element) {
		gchar *chosen = nullptr;
		g_object_get(element, "chosen-backend", &chosen, nullptr);
		outcome.chosen = chosen ? chosen : "";
		g_free(chosen);
		gst_object_unref(element);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(pipeline);
	return outcome;
}

/* The system-memory dma-buf exporter rule 3 takes here, found by opening
 * them in the rule's order; empty where none opens (the build machine). */
std::string firstSystemExporter(bool contiguous)
{
	for (const char *spec : { "module", "dma-heap", "dma-heap:linux,cma", "udmabuf" }) {
		zcbuf::Result<std::shared_ptr<zcbuf::Backend>> backend = zcbuf::openBackend(spec);
		if (backend && (!contiguous || backend.value()->capabilities().maxContiguous))
			return spec;
	}
	return "";
}

/* The guest loads the module (tests/vm): there it must be the choice. */
bool moduleRequired()
{
	const char *required = std::getenv("ZCBUF_TEST_REQUIRE");
	return required && std::string(required).find("module") != std::string::npos;
}

bool startsWith(const std::string &text, const std::string &prefix)
{
	return text.rfind(prefix, 0) == 0;
}

const std::string kSource = "videotestsrc num-buffers=2 ! "
			    "video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! ";
const std::string kRgba = " ! video/x-raw,format=RGBA ! fakesink";

class BackendChoice : public ::testing::Test
{
protected:
	void SetUp() override
	{
		/* The rules, not the environment, choose here. */
		const char *env = std::getenv("ZCBUF_BACKEND");
		saved_ = env ? env : "";
		hadEnv_ = env != nullptr;
		g_unsetenv("ZCBUF_BACKEND");
	}
	void TearDown() override
	{
		if (hadEnv_)
			g_setenv("ZCBUF_BACKEND", saved_.c_str(), TRUE);
	}

private:
	std::string saved_;
	bool hadEnv_ = false;
};

TEST_F(BackendChoice, NoConsumerNeedGivesMemfd)
{
	Outcome outcome = run(kSource + "zcconvert name=under-test" + kRgba);
	EXPECT_TRUE(outcome.eos);
	EXPECT_TRUE(startsWith(outcome.chosen, "memfd: no consumer states a need")) << outcome.chosen;
}

TEST_F(BackendChoice, DownstreamsZcbufPoolIsReported)
{
	/* zcthumbnail proposes a zcbuf pool (memfd: it reads with the
	 * CPU); zcconvert writes into it and says so. */
	std::string dir = std::string(g_get_tmp_dir()) + "/zcbuf-choice-XXXXXX";
	ASSERT_NE(g_mkdtemp(dir.data()), nullptr);
	Outcome outcome = run(kSource + "zcconvert name=under-test ! video/x-raw,format=RGBA ! "
					"zcthumbnail location=" + dir + "/%05d.jpg ! fakesink");
	EXPECT_TRUE(outcome.eos);
	if (GDir *files = g_dir_open(dir.c_str(), 0, nullptr)) {
		while (const gchar *name = g_dir_read_name(files))
			g_remove((dir + "/" + name).c_str());
		g_dir_close(files);
	}
	g_rmdir(dir.c_str());
	EXPECT_TRUE(startsWith(outcome.chosen, "memfd: downstream's pool ")) << outcome.chosen;
}

TEST_F(BackendChoice, DecoderWithNoConsumerNeedGivesMemfd)
{
	Outcome outcome = run("videotestsrc num-buffers=2 ! video/x-raw,width=64,height=48 ! "
			      "jpegenc ! zcjpegdec name=under-test ! fakesink");
	EXPECT_TRUE(outcome.eos);
	EXPECT_TRUE(startsWith(outcome.chosen, "memfd: ")) << outcome.chosen;
}

TEST_F(BackendChoice, DmabufConstraintTakesTheFirstSystemExporter)
{
	std::string expected = firstSystemExporter(false);
	if (moduleRequired()) {
		EXPECT_EQ(expected, "module");
	}
	Outcome outcome = run(kSource + "zcconvert name=under-test constraints=dmabuf" + kRgba);
	if (expected.empty()) {
		ASSERT_EQ(outcome.errors.size(), 1u) << outcome.chosen;
		EXPECT_NE(outcome.errors[0].find("under-test's constraints needs a dma-buf and no "
						 "exporter meets it (module: "),
			  std::string::npos)
			<< outcome.errors[0];
	} else {
		EXPECT_TRUE(outcome.eos);
		EXPECT_TRUE(outcome.errors.empty());
		EXPECT_TRUE(startsWith(outcome.chosen,
				       expected + ": under-test's constraints needs a dma-buf"))
			<< outcome.chosen;
	}
}

TEST_F(BackendChoice, ContiguousConstraintTakesAContiguousExporter)
{
	std::string expected = firstSystemExporter(true);
	if (moduleRequired()) {
		EXPECT_EQ(expected, "module");
	}
	Outcome outcome =
		run(kSource + "zcupload name=under-test constraints=contiguous ! fakesink");
	if (expected.empty()) {
		ASSERT_EQ(outcome.errors.size(), 1u) << outcome.chosen;
		EXPECT_NE(outcome.errors[0].find("needs a contiguous dma-buf"), std::string::npos)
			<< outcome.errors[0];
	} else {
		EXPECT_TRUE(outcome.eos);
		EXPECT_TRUE(startsWith(outcome.chosen, expected + ": ")) << outcome.chosen;
		EXPECT_NE(outcome.chosen.find("contiguous dma-buf"), std::string::npos);
	}
}

TEST_F(BackendChoice, ForcedBackendThatCannotMeetANeedNamesBoth)
{
	Outcome outcome =
		run(kSource + "zcconvert name=under-test backend=memfd constraints=dmabuf" + kRgba);
	ASSERT_EQ(outcome.errors.size(), 1u);
	EXPECT_EQ(outcome.errors[0], "zcbuf backend 'memfd' (asked for by the backend property) "
				     "cannot meet the need of under-test's constraints: a dma-buf");
}

TEST_F(BackendChoice, ForcedBackendIsReported)
{
	Outcome outcome = run(kSource + "zcconvert name=under-test backend=memfd" + kRgba);
	EXPECT_TRUE(outcome.eos);
	EXPECT_EQ(outcome.chosen, "memfd: forced by the backend property");
}

TEST_F(BackendChoice, EnvironmentForcesToo)
{
	g_setenv("ZCBUF_BACKEND", "memfd", TRUE);
	Outcome outcome = run(kSource + "zcconvert name=under-test" + kRgba);
	g_unsetenv("ZCBUF_BACKEND");
	EXPECT_EQ(outcome.chosen, "memfd: forced by the ZCBUF_BACKEND environment variable");
}

TEST_F(BackendChoice, MalformedConstraintsAreOneError)
{
	Outcome outcome = run(kSource + "zcconvert name=under-test constraints=dmabuf,bogus" + kRgba);
	ASSERT_EQ(outcome.errors.size(), 1u);
	EXPECT_EQ(outcome.errors[0].rfind("constraints: 'bogus' is not a constraint", 0), 0u)
		<< outcome.errors[0];
	EXPECT_EQ(outcome.chosen, "");
}

/* The pool a zcbuf consumer proposes upstream follows the same rules. */
GstAllocator *proposedAllocator(const char *constraints, bool *proposed)
{
	GstCaps *caps = gst_caps_from_string("video/x-raw,format=NV12,width=64,height=48");
	GstQuery *query = gst_query_new_allocation(caps, TRUE);
	*proposed = gst_zcbuf_propose_allocation_full(query, 1, nullptr, constraints);
	GstAllocator *allocator = nullptr;
	if (*proposed && gst_query_get_n_allocation_params(query) > 0)
		gst_query_parse_nth_allocation_param(query, 0, &allocator, nullptr);
	gst_query_unref(query);
	gst_caps_unref(caps);
	return allocator;
}

TEST_F(BackendChoice, ProposedPoolWithoutNeedsIsMemfd)
{
	bool proposed = false;
	GstAllocator *allocator = proposedAllocator(nullptr, &proposed);
	ASSERT_TRUE(proposed);
	ASSERT_NE(allocator, nullptr);
	gchar *backend = gst_zcbuf_allocator_get_backend(allocator);
	EXPECT_STREQ(backend, "memfd");
	g_free(backend);
	gst_object_unref(allocator);
}

TEST_F(BackendChoice, ProposedPoolFollowsTheConstraints)
{
	std::string expected = firstSystemExporter(true);
	bool proposed = false;
	GstAllocator *allocator = proposedAllocator("contiguous", &proposed);
	if (expected.empty()) {
		EXPECT_FALSE(proposed);
		EXPECT_EQ(allocator, nullptr);
		return;
	}
	ASSERT_TRUE(proposed);
	ASSERT_NE(allocator, nullptr);
	EXPECT_TRUE(gst_zcbuf_allocator_is_dmabuf(allocator));
	gchar *backend = gst_zcbuf_allocator_get_backend(allocator);
	std::string kind = expected.substr(0, expected.find(':'));
	EXPECT_EQ(std::string(backend).rfind(kind, 0), 0u) << backend;
	g_free(backend);
	gst_object_unref(allocator);
}

} /* namespace */
