/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An application that writes frames into a zcbuf pool itself and pushes
 * them into a pipeline through appsrc, with GStreamer's C API and
 * libgstzcbuf's only: make the pool, configure it for the caps, acquire a
 * buffer, map it (a CPU-access bracket on zcbuf memory), draw, push. The
 * pool recycles its buffers, so a few memories carry every frame. It checks
 * what reached the sink and exits non-zero if any frame was not zcbuf
 * memory (the tests run it).
 *
 *   zcbuf-appsrc [FRAMES [BACKEND]]
 */
#include <stdio.h>
#include <stdlib.h>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <gst/zcbuf/gstzcbuf.h>

#define WIDTH 320
#define HEIGHT 240

static int received, received_zcbuf;

static void on_handoff(GstElement *sink, GstBuffer *buffer, GstPad *pad, gpointer data)
{
	(void)sink;
	(void)pad;
	(void)data;
	received++;
	if (gst_buffer_n_memory(buffer) == 1 && gst_is_zcbuf_memory(gst_buffer_peek_memory(buffer, 0)))
		received_zcbuf++;
}

/* A moving grey ramp in the luma plane, mid grey chroma. */
static gboolean draw(GstBuffer *buffer, const GstVideoInfo *info, int frame)
{
	GstVideoFrame video;
	if (!gst_video_frame_map(&video, info, buffer, GST_MAP_WRITE))
		return FALSE;
	guint8 *luma = GST_VIDEO_FRAME_PLANE_DATA(&video, 0);
	gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&video, 0);
	for (int y = 0; y < HEIGHT; y++)
		for (int x = 0; x < WIDTH; x++)
			luma[y * stride + x] = (guint8)(x + y + frame);
	guint8 *chroma = GST_VIDEO_FRAME_PLANE_DATA(&video, 1);
	gint chroma_stride = GST_VIDEO_FRAME_PLANE_STRIDE(&video, 1);
	for (int y = 0; y < HEIGHT / 2; y++)
		for (int x = 0; x < WIDTH; x++)
			chroma[y * chroma_stride + x] = 128;
	gst_video_frame_unmap(&video);
	return TRUE;
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 100;
	const char *backend = argc > 2 ? argv[2] : NULL;
	gst_init(&argc, &argv);
	gst_zcbuf_init();

	GstVideoInfo info;
	gst_video_info_set_format(&info, GST_VIDEO_FORMAT_NV12, WIDTH, HEIGHT);
	GST_VIDEO_INFO_FPS_N(&info) = 30;
	GST_VIDEO_INFO_FPS_D(&info) = 1;
	GstCaps *caps = gst_video_info_to_caps(&info);

	/* The pool: 4 buffers, recycled. */
	GstBufferPool *pool = gst_zcbuf_buffer_pool_new(backend);
	GstStructure *config = gst_buffer_pool_get_config(pool);
	gst_buffer_pool_config_set_params(config, caps, (guint)GST_VIDEO_INFO_SIZE(&info), 4, 4);
	if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE)) {
		fprintf(stderr, "zcbuf-appsrc: cannot configure a zcbuf pool (backend %s)\n",
			backend ? backend : "default");
		return 1;
	}

	GstElement *pipeline = gst_parse_launch(
		"appsrc name=src format=time ! queue max-size-buffers=2 ! fakesink name=sink "
		"signal-handoffs=true", NULL);
	GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	g_object_set(src, "caps", caps, NULL);
	g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), NULL);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);

	int status = 0;
	for (int i = 0; i < frames; i++) {
		GstBuffer *buffer = NULL;
		if (gst_buffer_pool_acquire_buffer(pool, &buffer, NULL) != GST_FLOW_OK ||
		    !draw(buffer, &info, i)) {
			fprintf(stderr, "zcbuf-appsrc: frame %d: no buffer to draw into\n", i);
			gst_clear_buffer(&buffer);
			status = 1;
			break;
		}
		GST_BUFFER_PTS(buffer) = gst_util_uint64_scale(i, GST_SECOND, 30);
		GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
		/* appsrc takes the reference; the buffer returns to the pool
		 * when the sink is done with it. */
		if (gst_app_src_push_buffer(GST_APP_SRC(src), buffer) != GST_FLOW_OK) {
			status = 1;
			break;
		}
	}
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	GstBus *bus = gst_element_get_bus(pipeline);
	GstMessage *message = gst_bus_timed_pop_filtered(
		bus, 30 * GST_SECOND, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
	if (!message || GST_MESSAGE_TYPE(message) != GST_MESSAGE_EOS)
		status = 1;
	gst_clear_message(&message);
	gst_object_unref(bus);
	gst_element_set_state(pipeline, GST_STATE_NULL);

	printf("zcbuf-appsrc: %d of %d frames reached the sink, %d of them in zcbuf memory\n",
	       received, frames, received_zcbuf);
	if (received != frames || received_zcbuf != frames)
		status = 1;

	gst_object_unref(src);
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	gst_buffer_pool_set_active(pool, FALSE);
	gst_object_unref(pool);
	gst_caps_unref(caps);
	return status;
}
