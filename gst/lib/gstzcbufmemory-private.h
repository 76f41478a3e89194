/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How zcbuf allocators map and unmap their memory; used by the allocator. */
#pragma once

#include <gst/gst.h>

/* Installs zcbuf's map/unmap on an allocator instance (from _init). */
void gst_zcbuf_memory_install_functions(GstAllocator *allocator);

void gst_zcbuf_memory_init_debug(void);
