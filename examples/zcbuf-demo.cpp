/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A pipeline whose source writes every frame straight into zcbuf pool
 * memory (examples/zcbuf-appsrc.c is an application drawing frames itself). The sink proposes the zcbuf pool in the ALLOCATION
 * query (as a zcbuf consumer element does), videotestsrc renders into it,
 * and the demo reports which backend served the frames and proves from the
 * library's counters that no frame was allocated or mapped anew.
 *
 *   zcbuf-demo [--backend SPEC] [--frames N] [--width W] [--height H]
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include <gst/allocators/allocators.h>
#include <gst/gst.h>

#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufmemory.hpp>
#include <zcbuf/statistics.h>

namespace {

struct Options {
	std::string backend;
	int frames = 300;
	int width = 1920;
	int height = 1080;
};

struct Observed {
	/* What --backend asked for, and what served the frames. */
	std::string requested;
	std::string backend;
	int buffers = 0;
	int zcbufBuffers = 0;
	int dmabufBuffers = 0;
	std::set<GstMemory *> memories;
	bool proposed = false;
};

GstPadProbeReturn proposePool(GstPad *, GstPadProbeInfo *info, gpointer user)
{
	GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
	if (GST_QUERY_TYPE(query) != GST_QUERY_ALLOCATION)
		return GST_PAD_PROBE_OK;
	Observed *observed = static_cast<Observed *>(user);
	const char *backend = observed->requested.empty() ? nullptr : observed->requested.c_str();
	if (!gst_zcbuf_propose_allocation(query, 2, backend))
		return GST_PAD_PROBE_OK;
	observed->proposed = true;
	return GST_PAD_PROBE_HANDLED;
}

void onHandoff(GstElement *, GstBuffer *buffer, GstPad *, gpointer user)
{
	Observed *observed = static_cast<Observed *>(user);
	GstMemory *memory = gst_buffer_peek_memory(buffer, 0);
	observed->buffers++;
	observed->memories.insert(memory);
	if (gst_is_zcbuf_memory(memory)) {
		observed->zcbufBuffers++;
		if (observed->zcbufBuffers == 1) {
			std::shared_ptr<zcbuf::Buffer> zc = gst_zcbuf_memory_get_buffer(memory);
			zcbuf::BackingProperties p = zc->properties();
			observed->backend = zc->backend() ? zc->backend()->description() : p.backend;
		}
	}
	if (gst_is_dmabuf_memory(memory))
		observed->dmabufBuffers++;
}

bool parse(int argc, char **argv, Options &options)
{
	for (int i = 1; i < argc; i++) {
		auto value = [&](const char *name) -> const char * {
			if (std::strcmp(argv[i], name) || i + 1 >= argc)
				return nullptr;
			return argv[++i];
		};
		if (const char *v = value("--backend"))
			options.backend = v;
		else if (const char *v = value("--frames"))
			options.frames = std::atoi(v);
		else if (const char *v = value("--width"))
			options.width = std::atoi(v);
		else if (const char *v = value("--height"))
			options.height = std::atoi(v);
		else {
			std::fprintf(stderr, "usage: %s [--backend SPEC] [--frames N] [--width W] "
					     "[--height H]\n", argv[0]);
			return false;
		}
	}
	return options.frames > 0 && options.width > 0 && options.height > 0;
}

} /* namespace */

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	Options options;
	if (!parse(argc, argv, options))
		return 2;
	gst_zcbuf_init();

	gchar *description = g_strdup_printf(
		"videotestsrc num-buffers=%d pattern=ball ! "
		"video/x-raw,format=NV12,width=%d,height=%d ! fakesink name=sink signal-handoffs=true",
		options.frames, options.width, options.height);
	std::printf("pipeline: %s\n", description);
	GError *error = nullptr;
	GstElement *pipeline = gst_parse_launch(description, &error);
	g_free(description);
	if (!pipeline) {
		std::fprintf(stderr, "zcbuf-demo: %s\n", error->message);
		return 1;
	}

	Observed observed;
	observed.requested = options.backend;
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, proposePool, &observed, nullptr);
	g_signal_connect(sink, "handoff", G_CALLBACK(onHandoff), &observed);
	gst_object_unref(pad);
	gst_object_unref(sink);

	zcbuf::BackendStatistics before = zcbuf::statistics().total();
	gint64 start = g_get_monotonic_time();
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	GstBus *bus = gst_element_get_bus(pipeline);
	GstMessage *message = gst_bus_timed_pop_filtered(
		bus, GST_CLOCK_TIME_NONE,
		static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	double seconds = (g_get_monotonic_time() - start) / 1e6;
	bool failed = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
	if (failed) {
		GError *err = nullptr;
		gchar *debug = nullptr;
		gst_message_parse_error(message, &err, &debug);
		std::fprintf(stderr, "zcbuf-demo: %s\n%s\n", err->message, debug ? debug : "");
		g_clear_error(&err);
		g_free(debug);
	}
	gst_message_unref(message);
	gst_object_unref(bus);
	zcbuf::BackendStatistics during = zcbuf::statistics().total();
	gst_element_set_state(pipeline, GST_STATE_NULL);
	gst_object_unref(pipeline);

	if (observed.zcbufBuffers)
		std::printf("backend: %s (%s)\n", observed.backend.c_str(),
			    observed.dmabufBuffers ? "dma-buf memory" : "fd memory, not a dma-buf");
	else
		std::printf("backend: none (no zcbuf pool for backend '%s')\n",
			    observed.requested.empty() ? "default" : observed.requested.c_str());
	std::printf("frames: %d in %.2f s (%.0f frames/s), %d in zcbuf memory, %d dma-buf\n",
		    observed.buffers, seconds, observed.buffers / seconds, observed.zcbufBuffers,
		    observed.dmabufBuffers);
	std::printf("pool: %zu buffers recycled; %llu backings allocated, %llu mappings made, "
		    "%llu CPU accesses, %llu DMA_BUF_IOCTL_SYNC calls\n",
		    observed.memories.size(),
		    static_cast<unsigned long long>(during.allocations - before.allocations),
		    static_cast<unsigned long long>(during.mappings - before.mappings),
		    static_cast<unsigned long long>(during.accesses - before.accesses),
		    static_cast<unsigned long long>(during.syncs - before.syncs));

	bool zeroCopy = observed.proposed && observed.buffers == options.frames &&
			observed.zcbufBuffers == observed.buffers &&
			during.allocations - before.allocations == observed.memories.size();
	std::printf("zero-copy: %s\n", zeroCopy ? "yes, the source wrote every frame into the "
						 "zcbuf pool; no allocation per frame"
					       : "NO");
	gst_deinit();
	return failed || !zeroCopy ? 1 : 0;
}
