/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcbuf beside the display's other users, on virtio-gpu in the guest
 * (elements-in-vm): zcbuf opens a DRM primary node only to allocate on it
 * and never keeps DRM master there (lib/src/backend_drm.cpp drops it), so
 *  - the application's own modeset works after every zcbuf element was
 *    created and while zcbuf holds dumb buffers on the same card;
 *  - upstream kmssink (the kms plugin) in the same process shows zcbuf
 *    memory: a dumb buffer zcconvert wrote on that card, imported by
 *    kmssink without its "frame copy".
 * On a machine without virtio-gpu (the build machine) the cases skip,
 * unless ZCBUF_TEST_REQUIRE names drm (the guest), where they fail.
 */
#include <gst/gst.h>
#include <gst/zcbuf/gstzcbufcopy.h>
#include <gtest/gtest.h>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "display.h"

namespace {

using zcbuf::test::Card;
using zcbuf::test::PipelineRun;

/* The mode QEMU's virtio-gpu offers first (docs: ../shared/guide/VM.md);
 * its primary plane cannot scale, so kmssink needs frames of this size. */
constexpr int kWidth = 1280, kHeight = 800;

bool drmRequired()
{
	const char *required = std::getenv("ZCBUF_TEST_REQUIRE");
	return required && std::string(required).find("drm") != std::string::npos;
}

/* This process's fds open on @node, and how many of them are the card's
 * DRM master. */
struct FdsOnCard {
	int open = 0, masters = 0;
};

FdsOnCard fdsOn(const std::string &node)
{
	FdsOnCard fds;
	for (int fd = 0; fd < 1024; fd++) {
		char link[64], target[256];
		std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (node != target)
			continue;
		fds.open++;
		fds.masters += drmIsMaster(fd);
	}
	return fds;
}

/* The card's first connected connector, its preferred mode and a CRTC. */
struct Output {
	std::uint32_t connector = 0, crtc = 0;
	drmModeModeInfo mode = {};
};

Output findOutput(int fd)
{
	Output out;
	drmModeResPtr res = drmModeGetResources(fd);
	if (!res)
		return out;
	for (int i = 0; i < res->count_connectors && !out.connector; i++) {
		drmModeConnectorPtr conn = drmModeGetConnector(fd, res->connectors[i]);
		if (conn && conn->connection == DRM_MODE_CONNECTED && conn->count_modes > 0) {
			out.connector = conn->connector_id;
			out.mode = conn->modes[0];
			for (int m = 0; m < conn->count_modes; m++)
				if (conn->modes[m].type & DRM_MODE_TYPE_PREFERRED)
					out.mode = conn->modes[m];
			out.crtc = res->crtcs[0];
		}
		drmModeFreeConnector(conn);
	}
	drmModeFreeResources(res);
	return out;
}

/* kmssink logs "frame copy" in GST_PERFORMANCE (INFO) for each frame it
 * copies into a dumb buffer of its own because it could not import it. */
std::atomic<int> kmssinkFrameCopies{ 0 };

void countFrameCopies(GstDebugCategory *category, GstDebugLevel level, const gchar *, const gchar *,
		      gint, GObject *, GstDebugMessage *message, gpointer)
{
	if (level == GST_LEVEL_INFO &&
	    std::strcmp(gst_debug_category_get_name(category), "GST_PERFORMANCE") == 0 &&
	    std::strcmp(gst_debug_message_get(message), "frame copy") == 0)
		kmssinkFrameCopies++;
}

/* Why two frames differ, for a failure message. */
std::string difference(const std::vector<std::uint8_t> &shown, const std::vector<std::uint8_t> &expected)
{
	std::size_t n = 0, first = shown.size();
	for (std::size_t i = 0; i < shown.size() && i < expected.size(); i++)
		if (shown[i] != expected[i]) {
			n++;
			first = std::min(first, i);
		}
	if (!n)
		return "same bytes";
	char text[160];
	std::snprintf(text, sizeof(text), "%zu bytes differ, first at pixel %zu: %02x%02x%02x%02x, expected %02x%02x%02x%02x",
		      n, first / 4, shown[first / 4 * 4], shown[first / 4 * 4 + 1], shown[first / 4 * 4 + 2],
		      shown[first / 4 * 4 + 3], expected[first / 4 * 4], expected[first / 4 * 4 + 1],
		      expected[first / 4 * 4 + 2], expected[first / 4 * 4 + 3]);
	return text;
}

class DisplaySharing : public ::testing::Test
{
protected:
	void SetUp() override
	{
		card_ = zcbuf::test::findCard("virtio_gpu");
		if (card_.node.empty()) {
			if (drmRequired())
				FAIL() << "no virtio_gpu card: boot the guest with --modprobe virtio_gpu";
			GTEST_SKIP() << "no virtio-gpu card here (the guest has one)";
		}
		/* Every element the plugin registers, created and kept. */
		GList *features = gst_registry_get_feature_list_by_plugin(gst_registry_get(), "zcbuf");
		for (GList *l = features; l; l = l->next)
			if (GST_IS_ELEMENT_FACTORY(l->data))
				elements_.push_back(gst_element_factory_create(
					GST_ELEMENT_FACTORY(l->data), nullptr));
		gst_plugin_feature_list_free(features);
		ASSERT_GE(elements_.size(), 7u) << "the zcbuf plugin did not load";
		for (GstElement *element : elements_)
			ASSERT_NE(element, nullptr);
	}

	void TearDown() override
	{
		for (GstElement *element : elements_)
			if (element)
				gst_object_unref(element);
	}

	/* A pipeline writing BGRx frames with zcconvert into dumb buffers on
	 * the card, from @source. */
	std::string onTheCard(const std::string &source, const std::string &backend) const
	{
		return source + " ! zcconvert name=conv backend=" + backend +
		       " ! video/x-raw,format=BGRx";
	}

	Card card_;
	std::vector<GstElement *> elements_;
};

TEST_F(DisplaySharing, ApplicationModesetsWhileZcbufHoldsTheCard)
{
	/* zcbuf first: a converter allocating dumb buffers on the card,
	 * still PLAYING (its pool and the sink's last frame keep them). */
	PipelineRun zc(onTheCard("videotestsrc num-buffers=2 ! "
				 "video/x-raw,format=I420,width=64,height=48",
				 "drm:" + card_.node) +
		       " ! fakesink");
	ASSERT_EQ(zc.error(), "");
	GstElement *conv = zc.element("conv");
	gchar *chosen = nullptr;
	g_object_get(conv, "chosen-backend", &chosen, nullptr);
	EXPECT_EQ(std::string(chosen ? chosen : "").rfind("drm:" + card_.node, 0), 0u) << chosen;
	g_free(chosen);
	gst_object_unref(conv);
	FdsOnCard zcbufFds = fdsOn(card_.node);
	ASSERT_GE(zcbufFds.open, 1) << "zcbuf should hold the card open now";
	EXPECT_EQ(zcbufFds.masters, 0) << "zcbuf's fd on the card is its DRM master";

	/* Then the application: the first master of the card. */
	int fd = open(card_.node.c_str(), O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_TRUE(drmIsMaster(fd)) << "zcbuf kept the card's master";
	Output out = findOutput(fd);
	ASSERT_NE(out.connector, 0u) << "virtio-gpu shows no connected output";
	struct drm_mode_create_dumb create = {};
	create.width = out.mode.hdisplay;
	create.height = out.mode.vdisplay;
	create.bpp = 32;
	ASSERT_EQ(drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create), 0);
	std::uint32_t handles[4] = { create.handle }, pitches[4] = { create.pitch }, offsets[4] = {};
	std::uint32_t fb = 0;
	ASSERT_EQ(drmModeAddFB2(fd, create.width, create.height, DRM_FORMAT_XRGB8888, handles,
				pitches, offsets, &fb, 0),
		  0);
	EXPECT_EQ(drmModeSetCrtc(fd, out.crtc, fb, 0, 0, &out.connector, 1, &out.mode), 0)
		<< "the application's modeset: " << std::strerror(errno);
	drmModeCrtcPtr crtc = drmModeGetCrtc(fd, out.crtc);
	ASSERT_NE(crtc, nullptr);
	EXPECT_EQ(crtc->buffer_id, fb);
	drmModeFreeCrtc(crtc);

	/* and zcbuf allocating on the card again beside a master that is
	 * not zcbuf: it neither fails nor takes the master away. */
	PipelineRun again(onTheCard("videotestsrc num-buffers=2 ! "
				    "video/x-raw,format=I420,width=64,height=48",
				    "drm:" + card_.node) +
			  " ! fakesink");
	EXPECT_EQ(again.error(), "");
	EXPECT_TRUE(drmIsMaster(fd));
	again.finish();
	drmModeRmFB(fd, fb);
	close(fd); /* the dumb buffer goes with the fd */
}

TEST_F(DisplaySharing, UpstreamKmssinkShowsZcbufMemoryWithoutACopy)
{
	const std::string source = "videotestsrc num-buffers=3 pattern=smpte75 ! "
				   "video/x-raw,format=I420,width=" + std::to_string(kWidth) +
				   ",height=" + std::to_string(kHeight) + ",framerate=30/1";
	std::vector<std::uint8_t> expected = zcbuf::test::expectedFrame(source, kWidth, kHeight);
	ASSERT_EQ(expected.size(), std::size_t(kWidth * kHeight * 4));

	gst_debug_set_threshold_for_name("GST_PERFORMANCE", GST_LEVEL_INFO);
	gst_debug_add_log_function(countFrameCopies, nullptr, nullptr);
	/* smpte75: smpte's bottom corner is noise, new in every frame. */
	/* skip-vsync: virtio-gpu has no vblank counter (drmWaitVBlank
	 * fails with EOPNOTSUPP). */
	const std::string kmssink = " ! kmssink name=sink driver-name=virtio_gpu skip-vsync=true "
				    "sync=false";
	struct Played {
		std::string error;
		int frameCopies;
		std::uint64_t zcbufCopies;
		std::vector<std::uint8_t> shown;
	};
	auto play = [&](const std::string &backend) {
		Played played;
		std::uint64_t before = 0, after = 0;
		gst_zcbuf_copy_get_totals(&before, nullptr);
		kmssinkFrameCopies = 0;
		PipelineRun run(onTheCard(source, backend) + kmssink);
		played.error = run.error();
		played.frameCopies = kmssinkFrameCopies;
		gst_zcbuf_copy_get_totals(&after, nullptr);
		played.zcbufCopies = after - before;
		/* What is scanned out while the last frame is shown: the
		 * CRTC's framebuffer, read through a handle of our own (root
		 * may GETFB on a card it is not master of). */
		int fd = open(card_.node.c_str(), O_RDWR | O_CLOEXEC);
		Output out = findOutput(fd);
		drmModeCrtcPtr crtc = out.crtc ? drmModeGetCrtc(fd, out.crtc) : nullptr;
		drmModeFBPtr fb = crtc && crtc->buffer_id ? drmModeGetFB(fd, crtc->buffer_id) : nullptr;
		if (fb && fb->handle && fb->width == unsigned(kWidth) && fb->height == unsigned(kHeight)) {
			struct drm_mode_map_dumb map = {};
			map.handle = fb->handle;
			std::size_t size = std::size_t(fb->pitch) * fb->height;
			if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) == 0) {
				void *p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, map.offset);
				if (p != MAP_FAILED) {
					for (int y = 0; y < kHeight; y++) {
						auto *row = static_cast<const std::uint8_t *>(p) +
							    std::size_t(y) * fb->pitch;
						played.shown.insert(played.shown.end(), row,
								    row + kWidth * 4);
					}
					munmap(p, size);
				}
			}
			drmCloseBufferHandle(fd, fb->handle);
		}
		drmModeFreeFB(fb);
		drmModeFreeCrtc(crtc);
		close(fd);
		return played;
	};

	Played zcbuf = play("drm:" + card_.node);
	/* The control: memfd cannot be imported, so kmssink copies, and the
	 * log function must see it (or it proves nothing above). */
	Played memfd = play("memfd");
	gst_debug_remove_log_function(countFrameCopies);
	gst_debug_unset_threshold_for_name("GST_PERFORMANCE");

	ASSERT_EQ(zcbuf.error, "");
	EXPECT_EQ(zcbuf.frameCopies, 0) << "kmssink copied zcbuf's frames";
	EXPECT_EQ(zcbuf.zcbufCopies, 0u);
	ASSERT_EQ(zcbuf.shown.size(), expected.size()) << "no mode-sized framebuffer on the CRTC";
	EXPECT_TRUE(zcbuf.shown == expected) << "the screen shows other pixels than zcconvert made: " << difference(zcbuf.shown, expected);

	ASSERT_EQ(memfd.error, "");
	EXPECT_GE(memfd.frameCopies, 3) << "kmssink's copies of memfd frames were not all seen";
	EXPECT_TRUE(memfd.shown == expected) << difference(memfd.shown, expected);
}

} /* namespace */
