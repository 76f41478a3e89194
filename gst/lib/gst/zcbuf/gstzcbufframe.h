/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mapping a video frame whose layout came from someone else. A GstVideoMeta
 * is trusted by gst_video_frame_map(): a meta whose planes run past the
 * buffer, or whose strides are negative or narrower than a row, makes
 * whoever then reads or writes the planes touch memory outside the buffer.
 * This checks every plane's extent against the buffer before mapping.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/**
 * gst_zcbuf_video_frame_layout_is_valid:
 * @info: the negotiated video info
 * @buffer: the buffer, with or without a GstVideoMeta
 * @reason: (out) (optional) (transfer full): why not, for an error message
 *
 * Whether the layout @buffer will be mapped with (its GstVideoMeta's, else
 * @info's) fits inside it: for every plane, a stride that is not negative
 * and covers the plane's row, and offset + (rows - 1) * stride + row bytes
 * within the buffer's size.
 */
gboolean gst_zcbuf_video_frame_layout_is_valid(const GstVideoInfo *info, GstBuffer *buffer,
					       gchar **reason);

/**
 * gst_zcbuf_video_frame_map_checked:
 * @frame: (out caller-allocates): the frame to map
 * @info: the negotiated video info
 * @buffer: the buffer
 * @flags: the map flags
 * @reason: (out) (optional) (transfer full): why it failed
 *
 * gst_video_frame_map() after gst_zcbuf_video_frame_layout_is_valid().
 *
 * Returns: %FALSE with a reason for an invalid layout or a failed map.
 */
gboolean gst_zcbuf_video_frame_map_checked(GstVideoFrame *frame, const GstVideoInfo *info,
					   GstBuffer *buffer, GstMapFlags flags, gchar **reason);

G_END_DECLS
