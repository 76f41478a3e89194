/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which backend a producer allocates from, decided by what its consumers
 * need: the dma-buf RFC's attach, collated before the first allocation.
 *
 * The rules, first match wins (docs/gstreamer.md has the table):
 *  1. a forced backend (a property, ZCBUF_BACKEND) is opened and must meet
 *     every need but the optional ones; one it cannot meet is an error
 *     naming backend and need;
 *  2. consumers that import only memory allocated on their own device
 *     (virtio-gpu) get DRM dumb buffers on that device: the only rule that
 *     opens a DRM primary node;
 *  3. consumers that need a dma-buf (a device import, memory:DMABuf caps,
 *     contiguity) get system-memory dma-bufs: the module, then the system
 *     dma-heap (a CMA heap when contiguity is needed), then udmabuf; dumb
 *     buffers on the consumer's own DRM card only when none of those opens;
 *  4. everyone else (the CPU, another process, nobody stating a need) gets
 *     memfd: cached pages, sealable, and no device node opened.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <zcbuf/backend.h>
#include <zcbuf/result.h>

namespace zcbuf {

struct ConsumerNeed {
	/* Who, for errors and the reason: an element name. */
	std::string consumer;
	/* A device node ("/dev/dri/card0", "/dev/video3"), "cpu",
	 * "other-process", or empty. */
	std::string device;
	/* The device imports only memory allocated on it. */
	bool ownDeviceMemory = false;
	bool dmabuf = false;
	bool contiguous = false;
	std::size_t alignment = 0;
	std::size_t strideAlignment = 0;
	/* Largest scatter-gather segment the consumer's device takes, 0 for
	 * any. Not part of the choice (the module, first for any device
	 * need, splits at the device's own limit when it maps): it becomes a
	 * pool constraint, so that it conflicts with a contiguity need on a
	 * larger buffer, naming both. */
	std::size_t maxSegment = 0;
	/* The consumer copies what it cannot import (zckmssink allow-copy):
	 * a forced backend need not meet this need. */
	bool optional = false;

	/* A device node: the need is an import by a device. */
	bool namesDeviceNode() const { return device.rfind("/dev/", 0) == 0; }
	/* "zckmssink0 (/dev/dri/card0)". */
	std::string describe() const;
};

struct BackendChoice {
	/* The spec the pool opens ("memfd", "module", "drm:/dev/dri/card0"). */
	std::string spec;
	/* Why, in one sentence: logged, readable from the element. */
	std::string reason;
	std::shared_ptr<Backend> backend;
};

using BackendOpener = std::function<Result<std::shared_ptr<Backend>>(std::string_view spec)>;

/*
 * Applies the rules above. @forced is a backend spec or empty, @origin says
 * where it came from ("the backend property"). Opens only what the chosen
 * rule needs, through @open. An unmet need is an error that names it.
 */
Result<BackendChoice> chooseBackend(const std::vector<ConsumerNeed> &needs,
				    std::string_view forced, std::string_view origin,
				    const BackendOpener &open = openBackend);

/*
 * Parses a constraints property ("contiguous", "dmabuf", "align=4096",
 * "stride-align=64", "device=/dev/video0", comma-separated) into the need
 * of a consumer that cannot state its own, named @consumer.
 */
Result<ConsumerNeed> parseConstraints(std::string_view text, std::string consumer);

} /* namespace zcbuf */
