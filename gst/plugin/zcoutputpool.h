/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing the pool a zcbuf element writes its output into, from an
 * answered ALLOCATION query (decide_allocation): downstream's pool when it
 * is a zcbuf pool or hands out fd memory (dma-buf memory when the caps say
 * memory:DMABuf), else a zcbuf pool of the element's own backend, laid out
 * as downstream's padding and stride-align requests ask.
 */
#pragma once

#include <string>

#include <gst/gst.h>

namespace zcbuf {

/*
 * Puts the chosen pool first in @query, configured for the query's caps.
 * Returns false after posting an element error on @element (a missing
 * backend, a dma-buf requirement the backend cannot meet).
 */
bool chooseOutputPool(GstElement *element, GstDebugCategory *category, GstQuery *query,
		      const std::string &backend, bool dmabuf);

/* Whether the zcbuf backend @backend (empty: the default) gives dma-bufs. */
bool backendGivesDmabuf(const std::string &backend);

} /* namespace zcbuf */
