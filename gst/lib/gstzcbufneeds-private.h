/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A "zcbuf-consumer-needs" structure (gstzcbufconsumer.h) as the backend
 * choice reads it (zcbuf::chooseBackend()); shared by the producer's
 * decision and the pool a consumer proposes. */
#pragma once

#include <string>
#include <vector>

#include <gst/gst.h>

#include <zcbuf/backend_choice.h>

namespace zcbuf::internal {

ConsumerNeed needFromStructure(const GstStructure *needs);

/* Adds to a pool @config the needs that every buffer must meet, one
 * constraint entry per consumer: contiguity, alignment, stride alignment
 * and maximum segment (with the module, met at first map). */
void addNeedConstraints(GstStructure *config, const std::vector<ConsumerNeed> &needs);

/* The backend a user forces and where it came from: @property when set,
 * else ZCBUF_BACKEND; an empty spec when neither is. */
struct ForcedBackend {
	std::string spec;
	std::string origin;
};
ForcedBackend forcedBackend(const char *property);

} /* namespace zcbuf::internal */
