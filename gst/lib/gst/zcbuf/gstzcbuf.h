/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zcbuf GStreamer library: allocator, memory and buffer pool. */
#pragma once

#include <gst/zcbuf/gstzcbufallocator.h>
#include <gst/zcbuf/gstzcbufbufferpool.h>
#include <gst/zcbuf/gstzcbufconsumer.h>
#include <gst/zcbuf/gstzcbufoutput.h>
#include <gst/zcbuf/gstzcbufcopy.h>

G_BEGIN_DECLS

/* Registers the "zcbuf" allocator; safe to call more than once. */
void gst_zcbuf_init(void);

G_END_DECLS
