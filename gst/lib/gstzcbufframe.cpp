/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gst/zcbuf/gstzcbufframe.h"

namespace {

void setReason(gchar **reason, gchar *text)
{
	if (reason)
		*reason = text;
	else
		g_free(text);
}

} /* namespace */

gboolean gst_zcbuf_video_frame_layout_is_valid(const GstVideoInfo *info, GstBuffer *buffer,
					       gchar **reason)
{
	const GstVideoFormatInfo *finfo = info->finfo;
	guint planes = GST_VIDEO_INFO_N_PLANES(info);
	gsize offsets[GST_VIDEO_MAX_PLANES];
	gint strides[GST_VIDEO_MAX_PLANES];
	const GstVideoMeta *meta = gst_buffer_get_video_meta(buffer);
	if (meta) {
		if (meta->format != GST_VIDEO_INFO_FORMAT(info) ||
		    meta->width < static_cast<guint>(GST_VIDEO_INFO_WIDTH(info)) ||
		    meta->height < static_cast<guint>(GST_VIDEO_INFO_HEIGHT(info)) ||
		    meta->n_planes != planes) {
			setReason(reason, g_strdup_printf(
						  "the GstVideoMeta describes a %ux%u %s frame of %u "
						  "planes, the caps a %dx%d %s one",
						  meta->width, meta->height,
						  gst_video_format_to_string(meta->format), meta->n_planes,
						  GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info),
						  GST_VIDEO_INFO_NAME(info)));
			return FALSE;
		}
	}
	for (guint p = 0; p < planes; p++) {
		offsets[p] = meta ? meta->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET(info, p);
		strides[p] = meta ? meta->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE(info, p);
	}

	gsize size = gst_buffer_get_size(buffer);
	for (guint p = 0; p < planes; p++) {
		/* The plane's first component gives its size (tiled formats
		 * are not among the elements' formats). */
		guint component = 0;
		gint rowComponents[GST_VIDEO_MAX_COMPONENTS];
		gst_video_format_info_component(finfo, p, rowComponents);
		component = rowComponents[0] >= 0 ? static_cast<guint>(rowComponents[0]) : 0;
		guint64 rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(finfo, component,
								   GST_VIDEO_INFO_HEIGHT(info));
		guint64 width = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(finfo, component,
								  GST_VIDEO_INFO_WIDTH(info));
		guint64 rowBytes = width * static_cast<guint64>(GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, component));
		if (strides[p] < 0 || static_cast<guint64>(strides[p]) < rowBytes) {
			setReason(reason, g_strdup_printf("plane %u has a stride of %d bytes for "
							  "rows of %" G_GUINT64_FORMAT " bytes",
							  p, strides[p], rowBytes));
			return FALSE;
		}
		guint64 end = rows ? offsets[p] + (rows - 1) * static_cast<guint64>(strides[p]) +
					     rowBytes
				   : offsets[p];
		if (end > size) {
			setReason(reason, g_strdup_printf("plane %u (offset %" G_GSIZE_FORMAT
							  ", stride %d, %" G_GUINT64_FORMAT
							  " rows) ends at byte %" G_GUINT64_FORMAT
							  ", past the buffer's %" G_GSIZE_FORMAT " bytes",
							  p, offsets[p], strides[p], rows, end, size));
			return FALSE;
		}
	}
	return TRUE;
}

gboolean gst_zcbuf_video_frame_map_checked(GstVideoFrame *frame, const GstVideoInfo *info,
					   GstBuffer *buffer, GstMapFlags flags, gchar **reason)
{
	if (!gst_zcbuf_video_frame_layout_is_valid(info, buffer, reason))
		return FALSE;
	if (!gst_video_frame_map(frame, info, buffer, flags)) {
		setReason(reason, g_strdup("gst_video_frame_map() failed"));
		return FALSE;
	}
	return TRUE;
}
