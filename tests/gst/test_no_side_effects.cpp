/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading the plugin, creating and inspecting every zcbuf element, caps
 * negotiation and READY -> PAUSED open no device node: only allocation
 * does. The test program interposes open/openat/access (the executable's
 * definitions win over libc's for libzcbuf and the plugin) and records every
 * attempt on a device node, failed or not; it also lists the fds left open.
 * In the guest (gst-in-vm) the nodes exist, so a probe would open them.
 */
/* open and open64 (openat, openat64) are distinct symbols, both interposed. */
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstring>
#include <string>
#include <vector>

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <zcbuf/backend.h>

namespace {

std::atomic<int> deviceAttempts{ 0 };
/* ProbingIsSeen ran: attempts since the start are no longer all ours. */
bool probedOnPurpose = false;

bool isDeviceNode(const char *path)
{
	if (!path)
		return false;
	for (const char *prefix : { "/dev/dri", "/dev/zcbuf", "/dev/dma_heap", "/dev/udmabuf",
				    "/dev/video" })
		if (strncmp(path, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

void note(const char *path)
{
	if (isDeviceNode(path))
		deviceAttempts++;
}

template <typename F> F next(const char *name)
{
	return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

/* Device nodes held open by this process now. */
std::vector<std::string> openDeviceFds()
{
	std::vector<std::string> held;
	DIR *dir = opendir("/proc/self/fd");
	while (struct dirent *entry = dir ? readdir(dir) : nullptr) {
		char target[256] = {};
		std::string link = std::string("/proc/self/fd/") + entry->d_name;
		if (readlink(link.c_str(), target, sizeof(target) - 1) > 0 && isDeviceNode(target))
			held.push_back(target);
	}
	if (dir)
		closedir(dir);
	return held;
}

void readEveryProperty(GObject *object)
{
	guint n = 0;
	GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(object), &n);
	for (guint i = 0; i < n; i++) {
		if (!(specs[i]->flags & G_PARAM_READABLE))
			continue;
		GValue value = G_VALUE_INIT;
		g_value_init(&value, specs[i]->value_type);
		g_object_get_property(object, specs[i]->name, &value);
		g_value_unset(&value);
	}
	g_free(specs);
}

} /* namespace */

extern "C" {
#define ZCBUF_INTERPOSE_OPEN(name)                                                         \
	int name(const char *path, int flags, ...)                                         \
	{                                                                                  \
		mode_t mode = 0;                                                           \
		if (flags & (O_CREAT | O_TMPFILE)) {                                       \
			va_list args;                                                      \
			va_start(args, flags);                                             \
			mode = va_arg(args, mode_t);                                       \
			va_end(args);                                                      \
		}                                                                          \
		note(path);                                                                \
		return next<int (*)(const char *, int, ...)>(#name)(path, flags, mode);    \
	}
#define ZCBUF_INTERPOSE_OPENAT(name)                                                       \
	int name(int dirfd, const char *path, int flags, ...)                              \
	{                                                                                  \
		mode_t mode = 0;                                                           \
		if (flags & (O_CREAT | O_TMPFILE)) {                                       \
			va_list args;                                                      \
			va_start(args, flags);                                             \
			mode = va_arg(args, mode_t);                                       \
			va_end(args);                                                      \
		}                                                                          \
		note(path);                                                                \
		return next<int (*)(int, const char *, int, ...)>(#name)(dirfd, path, flags, \
									  mode);           \
	}
ZCBUF_INTERPOSE_OPEN(open)
ZCBUF_INTERPOSE_OPEN(open64)
ZCBUF_INTERPOSE_OPENAT(openat)
ZCBUF_INTERPOSE_OPENAT(openat64)

int access(const char *path, int mode)
{
	note(path);
	return next<int (*)(const char *, int)>("access")(path, mode);
}
}

namespace {

const char *const kElements[] = { "zcjpegdec", "zcthumbnail", "zcconvert", "zcupload" };

TEST(NoSideEffects, LoadInspectNegotiateOpenNoDevice)
{
	/* main() ran gst_init() and gst_zcbuf_init() (the "zcbuf" allocator's
	 * registration) before any test. */
	if (!probedOnPurpose) {
		EXPECT_EQ(deviceAttempts, 0);
	}
	std::vector<std::string> before = openDeviceFds();
	int attempts = deviceAttempts;

	GstPlugin *plugin = gst_plugin_load_by_name("zcbuf");
	ASSERT_NE(plugin, nullptr);
	gst_object_unref(plugin);

	/* What gst-inspect-1.0 does with each element, and READY. */
	for (const char *name : kElements) {
		GstElement *element = gst_element_factory_make(name, nullptr);
		ASSERT_NE(element, nullptr) << name;
		readEveryProperty(G_OBJECT(element));
		EXPECT_EQ(gst_element_set_state(element, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS)
			<< name;
		GstIterator *pads = gst_element_iterate_pads(element);
		GValue item = G_VALUE_INIT;
		while (gst_iterator_next(pads, &item) == GST_ITERATOR_OK) {
			GstCaps *caps = gst_pad_query_caps(GST_PAD(g_value_get_object(&item)), nullptr);
			gst_caps_unref(caps);
			g_value_reset(&item);
		}
		g_value_unset(&item);
		gst_iterator_free(pads);
		gst_element_set_state(element, GST_STATE_NULL);
		gst_object_unref(element);
	}

	/* Caps negotiation through zcconvert and zcupload, and READY -> PAUSED
	 * (no data flows, so nothing is allocated). */
	GstElement *pipeline = gst_parse_launch(
		"appsrc name=src caps=video/x-raw,format=I420,width=64,height=48,framerate=1/1 "
		"! zcconvert ! video/x-raw,format=BGRx ! zcupload ! fakesink name=sink",
		nullptr);
	ASSERT_NE(pipeline, nullptr);
	EXPECT_NE(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	GstPad *sinkPad = gst_element_get_static_pad(sink, "sink");
	GstCaps *caps = gst_pad_peer_query_caps(sinkPad, nullptr);
	EXPECT_FALSE(gst_caps_is_empty(caps)) << caps;
	gst_caps_unref(caps);
	gst_object_unref(sinkPad);
	gst_object_unref(sink);
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(pipeline);

	EXPECT_EQ(deviceAttempts - attempts, 0);
	EXPECT_EQ(openDeviceFds(), before);
}

/* The instrument sees probes: listing the backends tries every node, even
 * where none exists. */
TEST(NoSideEffects, ProbingIsSeen)
{
	probedOnPurpose = true;
	int attempts = deviceAttempts;
	std::vector<std::string> specs = zcbuf::availableBackends();
	EXPECT_FALSE(specs.empty());
	EXPECT_GT(deviceAttempts - attempts, 0);
}

} /* namespace */
