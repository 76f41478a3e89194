// SPDX-License-Identifier: GPL-2.0
/*
 * system_heap.c is built into the kernel upstream (CONFIG_DMABUF_HEAPS_SYSTEM
 * is a bool), so it never imports the DMA_BUF symbol namespace; as a module
 * it must.
 */
#include <linux/module.h>

MODULE_IMPORT_NS(DMA_BUF);
