// SPDX-License-Identifier: GPL-2.0
/*
 * dma-heap.c is built into the kernel upstream (CONFIG_DMABUF_HEAPS is a
 * bool): its API is not exported, since the heaps link against it, and it
 * never imports the DMA_BUF namespace. As a module of its own, the heap
 * modules need its API exported, and it needs the namespace and a license
 * tag. This file is ours; dma-heap-main.c is Debian's file, unmodified.
 */
#include <linux/dma-heap.h>
#include <linux/export.h>
#include <linux/module.h>

EXPORT_SYMBOL_GPL(dma_heap_add);
EXPORT_SYMBOL_GPL(dma_heap_get_drvdata);
EXPORT_SYMBOL_GPL(dma_heap_get_name);

MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
