/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zckmssink on vkms, in the guest (vm-run --modprobe vkms:enable_overlay=1).
 *
 * What is displayed is checked through vkms's CRC capture (debugfs
 * crtc-0/crc/data, as IGT does): the CRC of the composed screen while the
 * sink shows a frame must equal, exactly, the CRC of the same bytes put on
 * the screen by this test with a plain dumb buffer and SetCrtc, and the
 * CRC upstream kmssink gives for the same frame.
 *
 * On virtio-gpu (always in the guest; --modprobe virtio_gpu) what is
 * displayed is QEMU's own view of the display, its monitor's screendump
 * (vm-run answers the request), compared with the expected frame byte for
 * byte.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbufconsumer.h>
#include <gst/zcbuf/gstzcbufcopy.h>
#include <gtest/gtest.h>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "backend_params.h"
#include "debug_capture.h"
#include "display.h"
#include "fd_count.h"
#include "screendump.h"
#include "tracer_run.h"
#include "vkms_crc.h"

namespace {

using zcbuf::test::Card;
using zcbuf::test::expectedFrame;
using zcbuf::test::findCard;
using zcbuf::test::PipelineRun;
using zcbuf::test::settle;
using zcbuf::test::show;
using zcbuf::test::Shown;
using zcbuf::test::staticCrc;

/* vkms's preferred mode, which upstream kmssink keeps. */
constexpr int kWidth = 1024, kHeight = 768;

int countLines(const std::string &path, const std::string &prefix)
{
	std::ifstream in(path);
	int n = 0;
	for (std::string line; std::getline(in, line);)
		n += line.rfind(prefix, 0) == 0;
	return n;
}

/* Framebuffers alive on the device (debugfs "framebuffer" lists one
 * "framebuffer[id]:" block each) and DRM clients (open fds). */
struct DeviceCounts {
	int framebuffers, clients;
	bool operator==(const DeviceCounts &o) const
	{
		return framebuffers == o.framebuffers && clients == o.clients;
	}
};

DeviceCounts deviceCounts(const Card &card)
{
	return { countLines(card.debugDir + "/framebuffer", "framebuffer["),
		 countLines(card.debugDir + "/clients", " ") };
}

/* Shows a mode-sized XRGB8888 screen of our own with SetCrtc (black, the
 * frame at x,y) and returns its CRC: the reference. The fd closes after,
 * so the console takes the screen back. */
std::uint32_t referenceCrc(const Card &card, const std::vector<std::uint8_t> &frame, int fw,
			   int fh, int x, int y)
{
	int fd = open(card.node.c_str(), O_RDWR | O_CLOEXEC);
	EXPECT_GE(fd, 0);
	drmModeResPtr res = drmModeGetResources(fd);
	drmModeConnectorPtr conn = drmModeGetConnector(fd, res->connectors[0]);
	drmModeModeInfo mode = {};
	for (int i = 0; i < conn->count_modes; i++)
		if (conn->modes[i].hdisplay == kWidth && conn->modes[i].vdisplay == kHeight) {
			mode = conn->modes[i];
			break;
		}
	EXPECT_EQ(mode.hdisplay, kWidth);
	struct drm_mode_create_dumb create = {};
	create.width = kWidth;
	create.height = kHeight;
	create.bpp = 32;
	EXPECT_EQ(drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create), 0);
	std::uint32_t handles[4] = { create.handle }, pitches[4] = { create.pitch }, offsets[4] = {};
	std::uint32_t fb = 0;
	EXPECT_EQ(drmModeAddFB2(fd, kWidth, kHeight, DRM_FORMAT_XRGB8888, handles, pitches, offsets,
				&fb, 0), 0);
	struct drm_mode_map_dumb map = {};
	map.handle = create.handle;
	EXPECT_EQ(drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map), 0);
	auto *pixels = static_cast<std::uint8_t *>(
		mmap(nullptr, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, map.offset));
	std::memset(pixels, 0, create.size);
	for (int row = 0; row < fh; row++)
		std::memcpy(pixels + (y + row) * create.pitch + x * 4, frame.data() + row * fw * 4,
			    fw * 4);
	std::uint32_t connector = conn->connector_id;
	EXPECT_EQ(drmModeSetCrtc(fd, res->crtcs[0], fb, 0, 0, &connector, 1, &mode), 0);
	settle(500);
	std::vector<std::uint32_t> crcs = staticCrc(card);
	munmap(pixels, create.size);
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
	close(fd); /* the fb and the dumb buffer go with the fd */
	EXPECT_GE(crcs.size(), 1u);
	return crcs.empty() ? 0 : crcs.back();
}

/* The first overlay plane (vkms has one with enable_overlay=1). */
std::uint32_t overlayPlane(const Card &card)
{
	int fd = open(card.node.c_str(), O_RDWR | O_CLOEXEC);
	drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
	drmModePlaneResPtr planes = drmModeGetPlaneResources(fd);
	std::uint32_t overlay = 0;
	for (std::uint32_t i = 0; i < planes->count_planes && !overlay; i++) {
		drmModeObjectPropertiesPtr props =
			drmModeObjectGetProperties(fd, planes->planes[i], DRM_MODE_OBJECT_PLANE);
		for (std::uint32_t p = 0; p < props->count_props; p++) {
			drmModePropertyPtr prop = drmModeGetProperty(fd, props->props[p]);
			if (std::string(prop->name) == "type" && props->prop_values[p] == 0)
				overlay = planes->planes[i];
			drmModeFreeProperty(prop);
		}
		drmModeFreeObjectProperties(props);
	}
	drmModeFreePlaneResources(planes);
	close(fd);
	return overlay;
}

/* smpte75, not smpte: smpte's bottom-right block is noise that changes
 * every frame, so the last frame shown is not the first that
 * expectedFrame() takes (that made the exact comparisons fail whenever the
 * sink got past the first frame before the CRC was read). */
const char *kPattern = "videotestsrc pattern=smpte75 num-buffers=5 ! "
		       "video/x-raw,format=I420,width=1024,height=768,framerate=30/1";

class ZcKmsSink : public ::testing::Test
{
protected:
	void SetUp() override
	{
		card_ = findCard("vkms");
		ASSERT_FALSE(card_.node.empty()) << "no vkms card: boot with --modprobe vkms";
		vgem_ = findCard("vgem");
	}

	std::string sink(const std::string &extra = "") const
	{
		return " ! zckmssink name=sink device=" + card_.node + " mode=1024x768 " + extra;
	}

	Card card_, vgem_;
};

TEST_F(ZcKmsSink, ShowsThePatternExactlyAsAReferenceAndKmssink)
{
	std::vector<std::uint8_t> frame = expectedFrame(kPattern, kWidth, kHeight);
	ASSERT_EQ(frame.size(), std::size_t(kWidth * kHeight * 4));
	std::uint32_t reference = referenceCrc(card_, frame, kWidth, kHeight, 0, 0);

	Shown ours = show(card_, std::string(kPattern) + " ! zcconvert ! video/x-raw,format=BGRx" +
					 sink());
	ASSERT_EQ(ours.error, "");
	EXPECT_GE(ours.samples, 1u);
	EXPECT_EQ(ours.crc, reference) << "zckmssink shows other pixels than the reference";
	EXPECT_EQ(ours.copies, 0u);

	Shown upstream = show(card_, std::string(kPattern) +
					     " ! zcconvert ! video/x-raw,format=BGRx ! kmssink "
					     "driver-name=vkms");
	ASSERT_EQ(upstream.error, "");
	EXPECT_EQ(upstream.crc, reference) << "kmssink shows other pixels than the reference";
	EXPECT_GE(upstream.samples, 1u);

	Shown legacy = show(card_, std::string(kPattern) + " ! zcconvert ! video/x-raw,format=BGRx" +
					   sink("atomic=false"));
	ASSERT_EQ(legacy.error, "");
	EXPECT_EQ(legacy.crc, reference) << "the legacy path shows other pixels";
}

TEST_F(ZcKmsSink, FindsTheCardItself)
{
	/* vgem (no KMS), vkms and virtio-gpu are loaded: without a device the
	 * sink must pass over vgem and show on a KMS card (on vgem it would
	 * fail: no CRTC, no connector). */
	PipelineRun run(std::string(kPattern) + " ! zcconvert ! zckmssink name=sink mode=1024x768");
	ASSERT_EQ(run.error(), "");
	GstElement *sink = run.element("sink");
	gchar *device = nullptr;
	g_object_get(sink, "device", &device, nullptr);
	EXPECT_STREQ(device, "");
	g_free(device);
	gst_object_unref(sink);
}

/* A frame smaller than the mode on the overlay plane, at a position, over
 * a cleared primary plane: the screen is black with the frame there. */
TEST_F(ZcKmsSink, OverlayPlaneAtARenderRectangle)
{
	const char *small = "videotestsrc pattern=smpte75 num-buffers=3 ! "
			    "video/x-raw,format=I420,width=320,height=240,framerate=30/1";
	std::vector<std::uint8_t> frame = expectedFrame(small, 320, 240);
	ASSERT_EQ(frame.size(), std::size_t(320 * 240 * 4));
	std::uint32_t reference = referenceCrc(card_, frame, 320, 240, 100, 50);

	std::uint32_t overlay = overlayPlane(card_);
	ASSERT_NE(overlay, 0u) << "no overlay plane: load vkms with enable_overlay=1";

	Shown shown = show(card_, std::string(small) + " ! zcconvert ! video/x-raw,format=BGRx" +
					  sink("plane-id=" + std::to_string(overlay) +
					       " render-rectangle=<100,50,320,240>"));
	ASSERT_EQ(shown.error, "");
	EXPECT_EQ(shown.crc, reference);
}

TEST_F(ZcKmsSink, StatesItsNeedsInTheAllocationQuery)
{
	GstElement *sink = gst_element_factory_make("zckmssink", "display");
	g_object_set(sink, "device", card_.node.c_str(), nullptr);
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	GstCaps *caps = gst_caps_from_string("video/x-raw,format=BGRx,width=1024,height=768");
	GstQuery *query = gst_query_new_allocation(caps, TRUE);
	/* In NULL the card is not open: nothing to say about it. */
	ASSERT_TRUE(gst_pad_query(pad, query));
	EXPECT_EQ(gst_zcbuf_query_get_n_consumer_needs(query), 0u);
	gst_query_unref(query);

	ASSERT_EQ(gst_element_set_state(sink, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
	query = gst_query_new_allocation(caps, TRUE);
	ASSERT_TRUE(gst_pad_query(pad, query));
	ASSERT_EQ(gst_zcbuf_query_get_n_consumer_needs(query), 1u);
	const GstStructure *needs = gst_zcbuf_query_get_consumer_needs(query, 0);
	EXPECT_STREQ(gst_structure_get_string(needs, "device"), card_.node.c_str());
	EXPECT_STREQ(gst_structure_get_string(needs, "consumer"), "display");
	gboolean dmabuf = FALSE, own = TRUE;
	EXPECT_TRUE(gst_structure_get_boolean(needs, "dmabuf", &dmabuf));
	EXPECT_TRUE(dmabuf);
	EXPECT_TRUE(gst_structure_get_boolean(needs, "own-device-memory", &own));
	EXPECT_FALSE(own) << "vkms imports foreign dma-bufs";
	gst_query_unref(query);
	gst_caps_unref(caps);
	gst_element_set_state(sink, GST_STATE_NULL);
	gst_object_unref(pad);
	gst_object_unref(sink);
}

TEST_F(ZcKmsSink, RestoresTheCrtcOnStop)
{
	int fd = open(card_.node.c_str(), O_RDWR | O_CLOEXEC);
	drmDropMaster(fd); /* only to read the CRTC: the sink must be master */
	drmModeResPtr res = drmModeGetResources(fd);
	drmModeCrtcPtr before = drmModeGetCrtc(fd, res->crtcs[0]);
	{
		PipelineRun run(std::string(kPattern) + " ! zcconvert" + sink());
		EXPECT_EQ(run.error(), "");
	}
	drmModeCrtcPtr after = drmModeGetCrtc(fd, res->crtcs[0]);
	EXPECT_EQ(after->buffer_id, before->buffer_id);
	EXPECT_EQ(after->mode_valid, before->mode_valid);
	EXPECT_EQ(after->mode.hdisplay, before->mode.hdisplay);
	drmModeFreeCrtc(before);
	drmModeFreeCrtc(after);
	drmModeFreeResources(res);
	close(fd);
}

TEST_F(ZcKmsSink, AnotherMasterIsAClearError)
{
	int fd = open(card_.node.c_str(), O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	if (!drmIsMaster(fd)) {
		close(fd);
		FAIL() << "the test's fd should be the device's master";
	}
	PipelineRun run(std::string(kPattern) + " ! zcconvert" + sink());
	EXPECT_NE(run.error().find("is its DRM master"), std::string::npos)
		<< run.error();
	close(fd);
}

TEST_F(ZcKmsSink, MissingDeviceIsAClearError)
{
	PipelineRun run(std::string(kPattern) +
			" ! zcconvert ! zckmssink device=/dev/dri/card42 mode=1024x768");
	EXPECT_NE(run.error().find("/dev/dri/card42"), std::string::npos) << run.error();
	EXPECT_NE(run.error().find("No such file or directory"), std::string::npos) << run.error();
}

/* vkms's planes scan out RGB only: NV12 straight into the sink is a
 * negotiation error, not a commit that fails at run time. */
TEST_F(ZcKmsSink, AFormatThePlaneLacksIsANegotiationError)
{
	PipelineRun run("videotestsrc num-buffers=2 ! video/x-raw,format=NV12,width=1024,height=768" +
			sink());
	EXPECT_NE(run.error().find("not-negotiated"), std::string::npos) << run.error();
}

TEST_F(ZcKmsSink, NothingLeftAfterStartStopCycles)
{
	/* The guest hung twice at the start of this case in CI, beside another
	 * TCG guest, before the first cycle; cause not yet found, see
	 * docs/elements/zckmssink.md. PipelineRun::finish() prints every
	 * thread's kernel stack and aborts after 60 s, and vm-run's guest
	 * watchdog lists every task before the time limit. */
	{
		PipelineRun warm(std::string(kPattern) + " ! zcconvert" + sink());
		ASSERT_EQ(warm.error(), "");
	}
	DeviceCounts counts = deviceCounts(card_);
	int fds = zcbuf::test::openFdCount();
	for (int i = 0; i < 100; i++) {
		PipelineRun run("videotestsrc num-buffers=3 ! video/x-raw,format=I420,width=1024,height=768 "
			"! zcconvert" + sink());
		ASSERT_EQ(run.error(), "") << "cycle " << i;
	}
	EXPECT_EQ(zcbuf::test::openFdCount(), fds);
	DeviceCounts now = deviceCounts(card_);
	EXPECT_EQ(now.framebuffers, counts.framebuffers);
	EXPECT_EQ(now.clients, counts.clients);
}

TEST_F(ZcKmsSink, ResolutionChangeMidStream)
{
	/* An overlay plane takes any size that fits: 320x240 frames, then
	 * 160x120 ones, in one stream through zcconvert. */
	std::uint32_t overlay = overlayPlane(card_);
	ASSERT_NE(overlay, 0u);
	GstElement *pipeline = gst_parse_launch(
		/* sync=false: a late frame on a busy host must not be dropped
		 * (the case is about the size change, not the clock). */
		("appsrc name=src format=time ! zcconvert ! video/x-raw,format=BGRx ! zckmssink "
		 "name=sink sync=false device=" + card_.node + " mode=1024x768 plane-id=" +
		 std::to_string(overlay)).c_str(), nullptr);
	ASSERT_NE(pipeline, nullptr);
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	int pts = 0;
	for (int size : { 320, 160 }) {
		GstVideoInfo info;
		gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, size, size * 3 / 4);
		GstCaps *caps = gst_video_info_to_caps(&info);
		gst_caps_set_simple(caps, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
		gst_app_src_set_caps(GST_APP_SRC(src), caps);
		gst_caps_unref(caps);
		for (int i = 0; i < 3; i++) {
			GstBuffer *buffer = gst_buffer_new_allocate(nullptr, info.size, nullptr);
			gst_buffer_memset(buffer, 0, 0x40 + size / 4, info.size);
			GST_BUFFER_PTS(buffer) = gst_util_uint64_scale(pts++, GST_SECOND, 30);
			GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
			ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), buffer), GST_FLOW_OK);
		}
	}
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	GstBus *bus = gst_element_get_bus(pipeline);
	GstMessage *msg = gst_bus_timed_pop_filtered(
		bus, 60 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	ASSERT_NE(msg, nullptr);
	EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
	gst_message_unref(msg);
	gst_object_unref(bus);
	GstSample *last = nullptr;
	g_object_get(sink, "last-sample", &last, nullptr);
	ASSERT_NE(last, nullptr);
	GstVideoInfo shown;
	gst_video_info_from_caps(&shown, gst_sample_get_caps(last));
	EXPECT_EQ(shown.width, 160);
	gst_sample_unref(last);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(src);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
}

/* Every zcbuf backend into zckmssink, as the matrix in
 * docs/elements/zckmssink.md says. */
struct BackendCase {
	const char *backend; /* zcconvert's backend; "vgem"/"vkms": drm on that card */
	const char *outcome; /* "zero-copy", or a substring of the error */
};

/* The test name of a backend: '-' is not allowed there. */
std::string caseName(const ::testing::TestParamInfo<BackendCase> &info)
{
	return zcbuf::test::paramName(info.param.backend);
}

class ZcKmsSinkBackends : public ZcKmsSink, public ::testing::WithParamInterface<BackendCase>
{
protected:
	/* zcconvert's backend for @name: "vgem", "vkms" and "virtio_gpu"
	 * are drm on that card; empty when the card is missing */
	std::string backendSpec(const std::string &name) const
	{
		if (name == "vgem")
			return vgem_.node.empty() ? "" : "drm:" + vgem_.node;
		if (name == "vkms")
			return "drm:" + card_.node;
		if (name == "virtio_gpu") {
			Card gpu = findCard("virtio_gpu");
			return gpu.node.empty() ? "" : "drm:" + gpu.node;
		}
		return name;
	}
};

TEST_P(ZcKmsSinkBackends, ShowsOrFailsAsDocumented)
{
	std::string backend = backendSpec(GetParam().backend);
	ASSERT_FALSE(backend.empty()) << "no " << GetParam().backend << " card";
	std::string pipeline = std::string(kPattern) + " ! zcconvert backend=" + backend +
			       " ! video/x-raw,format=BGRx";
	/* sync=false: every frame is shown, none dropped as late under TCG.
	 * No CRC here (the pixels are ShowsThePattern's business): the
	 * outcome and the copies. */
	auto play = [&](const std::string &extra, std::uint64_t &copies) {
		std::uint64_t before = 0, after = 0;
		gst_zcbuf_copy_get_totals(&before, nullptr);
		PipelineRun run(pipeline + sink(extra));
		run.finish();
		gst_zcbuf_copy_get_totals(&after, nullptr);
		copies = after - before;
		return run.error();
	};
	std::uint64_t copies = 0;
	std::string outcome = GetParam().outcome;
	/* async=false where the first frame is refused: GstBaseSink 1.22
	 * keeps the negotiated caps when a failed preroll leaves it in
	 * READY and it goes on to NULL (only PAUSED->READY drops them), a
	 * leak the leaks tracer would pin on this test. Without async the
	 * sink reaches PAUSED before the frame, so the refusal is the same
	 * and the way down drops the caps. */
	std::string error = play(outcome == "zero-copy" ? "sync=false" : "sync=false async=false",
				 copies);
	if (outcome == "zero-copy") {
		EXPECT_EQ(error, "");
		EXPECT_EQ(copies, 0u);
	} else {
		EXPECT_NE(error.find(outcome), std::string::npos) << error;
		/* and with allow-copy=true (the sink's dma-buf need becomes
		 * optional, so a forced memfd is no error): one recorded copy
		 * per frame */
		EXPECT_EQ(play("sync=false allow-copy=true", copies), "");
		EXPECT_EQ(copies, 5u);
	}
}

INSTANTIATE_TEST_SUITE_P(Matrix, ZcKmsSinkBackends,
			 ::testing::Values(BackendCase{ "module", "zero-copy" },
					   BackendCase{ "dma-heap", "zero-copy" },
					   BackendCase{ "udmabuf", "vkms cannot scan it out" },
					   BackendCase{ "vgem", "zero-copy" },
					   BackendCase{ "vkms", "zero-copy" },
					   BackendCase{ "virtio_gpu", "zero-copy" },
					   BackendCase{ "memfd", "cannot meet the need of sink (/dev/dri/" }),
			 caseName);

/* Upstream kmssink (driver-name=vkms) showing every zcbuf backend, as
 * docs/interop.md says: what vkms imports (PRIME, AddFB2) is shown as it
 * is; what kmssink cannot import it copies into a dumb buffer of its own,
 * logging "frame copy" (GST_PERFORMANCE, INFO) for each frame; either
 * way the screen's CRC is the reference's. What it imports and vkms then
 * refuses is a stream error. */
class KmssinkBackends : public ZcKmsSinkBackends
{
};

TEST_P(KmssinkBackends, ShowsWithOrWithoutItsCopyAsDocumented)
{
	std::string backend = backendSpec(GetParam().backend);
	ASSERT_FALSE(backend.empty()) << "no " << GetParam().backend << " card";
	const std::string outcome = GetParam().outcome;
	std::vector<std::uint8_t> frame = expectedFrame(kPattern, kWidth, kHeight);
	ASSERT_EQ(frame.size(), std::size_t(kWidth * kHeight * 4));
	std::uint32_t reference = referenceCrc(card_, frame, kWidth, kHeight, 0, 0);

	zcbuf::test::DebugCapture performance({ "GST_PERFORMANCE" }, GST_LEVEL_INFO);
	Shown shown = show(card_, std::string(kPattern) + " ! zcconvert backend=" + backend +
					  " ! video/x-raw,format=BGRx ! kmssink driver-name=vkms");
	const int frameCopies = performance.count({ "frame copy" });
	std::printf("# kmssink's frame copies: %d\n", frameCopies);
	if (outcome != "zero-copy" && outcome != "copies") {
		EXPECT_NE(shown.error.find(outcome), std::string::npos) << shown.error;
		return;
	}
	ASSERT_EQ(shown.error, "");
	EXPECT_EQ(shown.crc, reference) << "kmssink shows other pixels than the reference";
	EXPECT_EQ(shown.copies, 0u) << "zcbuf copied";
	if (outcome == "zero-copy")
		EXPECT_EQ(frameCopies, 0) << "kmssink copied the frames";
	else
		EXPECT_GE(frameCopies, 1) << "kmssink's copies were not seen";
}

INSTANTIATE_TEST_SUITE_P(Matrix, KmssinkBackends,
			 ::testing::Values(BackendCase{ "module", "zero-copy" },
					   BackendCase{ "dma-heap", "zero-copy" },
					   /* imported, then vkms cannot vmap it
					    * for composing; no copy instead */
					   BackendCase{ "udmabuf",
							"drmModeSetPlane failed: Invalid argument (22)" },
					   BackendCase{ "vgem", "zero-copy" },
					   BackendCase{ "vkms", "zero-copy" },
					   BackendCase{ "virtio_gpu", "zero-copy" },
					   BackendCase{ "memfd", "copies" }),
			 caseName);

TEST(ZcKmsSinkTracer, ZeroCopiesFromDecoderToScreen)
{
	Card card = findCard("vkms");
	ASSERT_FALSE(card.node.empty());
	zcbuf::test::TracerReport report = zcbuf::test::runWithTracer(
		"videotestsrc num-buffers=5 ! video/x-raw,format=I420,width=1024,height=768 ! jpegenc "
		"! zcjpegdec ! zcconvert ! video/x-raw,format=BGRx ! zckmssink device=" + card.node +
		" mode=1024x768", "null");
	EXPECT_EQ(report.exitStatus, 0) << report.stderrText;
	int links = 0;
	for (const auto &[link, row] : report.rows) {
		/* The links out of the decoder and the converter (into the
		 * decoder go JPEG bytes in system memory). */
		if (link.rfind("zcjpegdec", 0) != 0 && link.rfind("zcconvert", 0) != 0)
			continue;
		links++;
		EXPECT_EQ(row.copies, 0) << link;
		/* The display's attach makes zcconvert's output dma-bufs;
		 * between decoder and converter both sides use the CPU, and
		 * zcconvert's proposed pool is memfd (docs/gstreamer.md). */
		if (link.rfind("zcconvert", 0) == 0) {
			EXPECT_GT(row.dmabuf, 99.0) << link;
		} else {
			EXPECT_EQ(row.dmabuf, 0.0) << link;
		}
	}
	EXPECT_GE(links, 2) << report.stderrText;
	EXPECT_NE(report.copiesLine.find("copies: 0"), std::string::npos) << report.copiesLine;
}

/* ---- virtio-gpu: what QEMU displays ---- */

/* The preferred mode of the card's first connected connector. */
std::pair<int, int> preferredMode(const Card &card)
{
	std::pair<int, int> size{ 0, 0 };
	int fd = open(card.node.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return size;
	drmModeResPtr res = drmModeGetResources(fd);
	for (int c = 0; res && c < res->count_connectors && !size.first; c++) {
		drmModeConnectorPtr conn = drmModeGetConnector(fd, res->connectors[c]);
		if (conn && conn->connection == DRM_MODE_CONNECTED)
			for (int m = 0; m < conn->count_modes && !size.first; m++)
				if (conn->modes[m].type & DRM_MODE_TYPE_PREFERRED)
					size = { conn->modes[m].hdisplay, conn->modes[m].vdisplay };
		drmModeFreeConnector(conn);
	}
	drmModeFreeResources(res);
	close(fd);
	return size;
}

/* How many pixels of two RGB images differ (all when the sizes differ). */
std::size_t differingPixels(const std::vector<std::uint8_t> &a, const std::vector<std::uint8_t> &b)
{
	if (a.size() != b.size())
		return std::max(a.size(), b.size()) / 3;
	std::size_t n = 0;
	for (std::size_t i = 0; i < a.size(); i += 3)
		n += a[i] != b[i] || a[i + 1] != b[i + 1] || a[i + 2] != b[i + 2];
	return n;
}

class ZcKmsSinkOnVirtioGpu : public ::testing::Test
{
protected:
	void SetUp() override
	{
		card_ = findCard("virtio_gpu");
		ASSERT_FALSE(card_.node.empty()) << "no virtio-gpu card: boot with --modprobe virtio_gpu";
		std::tie(width_, height_) = preferredMode(card_);
		ASSERT_GT(width_, 0) << "no connected connector with a preferred mode";
		/* Frames of the mode's size: kmssink needs them (the primary
		 * plane cannot scale). */
		pattern_ = "videotestsrc pattern=smpte75 num-buffers=5 ! video/x-raw,format=I420,width=" +
			   std::to_string(width_) + ",height=" + std::to_string(height_) +
			   ",framerate=30/1 ! zcconvert";
		expected_ = zcbuf::test::rgbOfBgrx(expectedFrame(pattern_.substr(0, pattern_.rfind(" !")),
								 width_, height_),
						   width_, height_);
		ASSERT_EQ(expected_.size(), std::size_t(width_) * height_ * 3);
	}

	struct Dumped {
		std::string error;
		std::uint64_t copies = 0;
		zcbuf::test::Screendump screen;
	};

	/* Plays to EOS, keeps the last frame on the screen and asks QEMU
	 * what it displays. */
	Dumped showAndDump(const std::string &description, const std::string &name)
	{
		Dumped dumped;
		std::uint64_t before = 0, after = 0;
		gst_zcbuf_copy_get_totals(&before, nullptr);
		PipelineRun run(description);
		dumped.error = run.error();
		if (dumped.error.empty()) {
			settle(500);
			dumped.screen = zcbuf::test::screendump(name);
		}
		run.finish();
		gst_zcbuf_copy_get_totals(&after, nullptr);
		dumped.copies = after - before;
		return dumped;
	}

	std::string sink(const std::string &extra = "") const
	{
		return " ! video/x-raw,format=BGRx ! zckmssink device=" + card_.node + " " + extra;
	}

	void expectTheFrame(const Dumped &dumped)
	{
		ASSERT_EQ(dumped.screen.error, "");
		EXPECT_EQ(dumped.screen.width, width_);
		EXPECT_EQ(dumped.screen.height, height_);
		EXPECT_EQ(differingPixels(dumped.screen.rgb, expected_), 0u)
			<< "of " << width_ * height_ << " pixels";
	}

	Card card_;
	int width_ = 0, height_ = 0;
	std::string pattern_;
	std::vector<std::uint8_t> expected_; /* RGB */
};

/* virtio-gpu imports no foreign dma-buf (6.1: ENODEV), so the sink states
 * own-device-memory=true and zcconvert must allocate dumb buffers on its
 * card: no error (without allow-copy an unimportable buffer is one) and
 * no copy prove it did, the screendump that it shows the frame. */
TEST_F(ZcKmsSinkOnVirtioGpu, ShowsThePatternExactlyWithNoCopy)
{
	Dumped dumped = showAndDump(pattern_ + sink(), "zckmssink");
	ASSERT_EQ(dumped.error, "");
	EXPECT_EQ(dumped.copies, 0u);
	expectTheFrame(dumped);
}

TEST_F(ZcKmsSinkOnVirtioGpu, ForeignMemoryIsCopiedOnlyWithAllowCopy)
{
	/* zcbuf.ko's dma-bufs: virtio-gpu cannot import them. */
	std::string foreign = pattern_ + " backend=module" + sink("sync=false async=false");
	Dumped refused = showAndDump(foreign, "refused");
	EXPECT_NE(refused.error, "") << "virtio-gpu showed a foreign dma-buf";
	Dumped copied = showAndDump(pattern_ + " backend=module" + sink("sync=false allow-copy=true"),
				    "allow-copy");
	ASSERT_EQ(copied.error, "");
	EXPECT_EQ(copied.copies, 5u) << "one recorded copy per frame";
	expectTheFrame(copied);
}

/* Upstream kmssink 1.22 from a dark CRTC (no console here): it sets the
 * mode with a framebuffer of its own and removes that framebuffer at once,
 * which switches the CRTC off (the kernel logs a commit with "nofb"), and
 * no later frame reaches QEMU's display, though the pipeline runs without
 * an error. The case holds that comparison; were kmssink to start showing
 * the frame, this fails and docs/elements/zckmssink.md must change. */
TEST_F(ZcKmsSinkOnVirtioGpu, UpstreamKmssinkShowsNothingFromADarkCrtc)
{
	/* skip-vsync: virtio-gpu has no vblank counter for kmssink's
	 * drmWaitVBlank (EOPNOTSUPP). */
	Dumped dumped = showAndDump(pattern_ + " ! video/x-raw,format=BGRx ! kmssink "
					       "driver-name=virtio_gpu skip-vsync=true",
				    "kmssink");
	ASSERT_EQ(dumped.error, "");
	ASSERT_EQ(dumped.screen.error, "");
	EXPECT_GT(differingPixels(dumped.screen.rgb, expected_), std::size_t(width_) * height_ / 2)
		<< "kmssink showed the frame";
}

/* The device goes away mid-stream: virtio-gpu's PCI device is unbound from
 * virtio-pci while the sink shows a live stream. The sink must end the
 * stream with an error that names the cause (the kernel answers ENODEV),
 * not hang or crash, and going to NULL must give every fd back. The
 * device is bound again afterwards (a new card) for whatever runs next;
 * nothing after this case uses virtio-gpu. */
TEST_F(ZcKmsSinkOnVirtioGpu, DeviceUnboundMidStreamIsAClearError)
{
	const std::string cardName = card_.node.substr(card_.node.rfind('/') + 1);
	char *device = realpath(("/sys/class/drm/" + cardName + "/device").c_str(), nullptr);
	ASSERT_NE(device, nullptr);
	const std::string pci = std::string(device).substr(std::string(device).rfind('/') + 1);
	std::free(device);

	const int fds = zcbuf::test::openFdCount();
	GstElement *pipeline = gst_parse_launch(
		("videotestsrc is-live=true num-buffers=3000 ! video/x-raw,format=I420,width=" +
		 std::to_string(width_) + ",height=" + std::to_string(height_) +
		 ",framerate=30/1 ! zcconvert" + sink("name=display sync=false")).c_str(),
		nullptr);
	ASSERT_NE(pipeline, nullptr);
	GstBus *bus = gst_element_get_bus(pipeline);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	ASSERT_EQ(gst_element_get_state(pipeline, nullptr, nullptr, 60 * GST_SECOND),
		  GST_STATE_CHANGE_SUCCESS);
	settle(1000); /* frames on the screen */

	std::ofstream(std::string("/sys/bus/pci/drivers/virtio-pci/unbind")) << pci << std::flush;
	GstMessage *message = gst_bus_timed_pop_filtered(
		bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
	ASSERT_NE(message, nullptr) << "no error 30 s after the device went away";
	EXPECT_EQ(GST_MESSAGE_TYPE(message), GST_MESSAGE_ERROR);
	if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
		GError *error = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_error(message, &error, &debug);
		EXPECT_STREQ(GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), "display");
		EXPECT_NE(std::string(debug ? debug : "").find("ENODEV"), std::string::npos)
			<< error->message << " | " << (debug ? debug : "");
		g_error_free(error);
		g_free(debug);
	}
	gst_message_unref(message);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(bus);
	gst_object_unref(pipeline);
	EXPECT_EQ(zcbuf::test::openFdCount(), fds);

	std::ofstream(std::string("/sys/bus/pci/drivers/virtio-pci/bind")) << pci << std::flush;
	for (int i = 0; i < 100 && findCard("virtio_gpu").node.empty(); i++)
		settle(100);
	EXPECT_FALSE(findCard("virtio_gpu").node.empty()) << "virtio-gpu did not come back";
}

} /* namespace */
