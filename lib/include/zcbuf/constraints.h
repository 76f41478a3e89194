/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Constraints, as the dma-buf RFC's attach: every consumer of a buffer states
 * what its device needs before the backing exists, and the backing is chosen
 * to satisfy all of them at once.
 */
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <zcbuf/result.h>

namespace zcbuf {

struct Constraints {
	/* Who asks, named in every error about these constraints. */
	std::string consumer;
	/* Start alignment of the backing in bytes: 0 or a power of two. More
	 * than the page size can only be met by contiguous backing. */
	std::size_t alignment = 0;
	/* Row pitch alignment of images in the buffer: 0 or a power of two. */
	std::size_t strideAlignment = 0;
	/* The device addresses one physically contiguous range only. */
	bool contiguous = false;
	/* Largest DMA segment the device handles: 0 for no limit, else at
	 * least the page size (scattered pages are split to pages). */
	std::size_t maxSegmentSize = 0;
	/* Required backend ("module", "drm", ...) and device node; empty for
	 * any. */
	std::string backend;
	std::string device;
};

/* The constraints of every consumer merged into one set, each field
 * remembering which consumer imposed it. */
struct CollatedConstraints {
	Constraints merged;
	std::string alignmentFrom;
	std::string strideAlignmentFrom;
	std::string contiguousFrom;
	std::string maxSegmentSizeFrom;
	std::string backendFrom;
	std::string deviceFrom;
};

/* Checks one consumer's constraints on their own (powers of two, segment
 * size at least a page). */
Result<void> validate(const Constraints &constraints);

/* Merges the constraints of several consumers: the strictest alignment, the
 * smallest segment limit, contiguous if anyone needs it; conflicting
 * required backends or devices are an error naming both consumers. */
Result<CollatedConstraints> collate(const std::vector<Constraints> &all);

/* The properties a backing actually has, to check late attachments. */
struct BackingProperties {
	bool contiguous = false;
	/* Guaranteed start alignment (the page size for page-granular
	 * backings). */
	std::size_t alignment = 0;
	std::size_t size = 0;
	std::string backend;
	std::string device;
	/* Row pitches of the images laid out in the buffer, if known. */
	std::vector<std::size_t> strides;
};

/* Whether an existing backing meets a consumer's constraints; the error
 * names the first constraint it does not meet. */
Result<void> satisfies(const BackingProperties &backing,
		       const Constraints &constraints);

} /* namespace zcbuf */
