/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Holding a stream's EOS back from a V4L2 stateful decoder until the decoder
 * has pushed its first frame.
 *
 * Why: upstream v4l2videodec 1.22.0 drains at EOS with V4L2_DEC_CMD_STOP and
 * then waits, without a limit, for the capture buffer flagged LAST. It sets
 * its capture queue up twice: once when the first frame arrives and again
 * when it dequeues the driver's SOURCE_CHANGE event (STREAMOFF, new buffers,
 * STREAMON). A STOP that the driver receives before that second STREAMON is
 * lost: the stateful decoder interface starts no drain while the capture
 * queue is not streaming (vicodec returns 0 and does nothing), so no LAST
 * buffer ever comes and the pipeline never ends. A three-frame stream gets
 * its EOS to the decoder that early whenever the source-change handling
 * runs late (seen 2 to 3 times in 80 runs under a loaded TCG guest, the
 * decoder's src thread in ppoll for ever). Once the decoder has pushed a
 * frame its capture queue is set up for good, and the STOP drains.
 */
#pragma once

#include <gst/gst.h>

#include <string>

namespace zcbuf::test {

/* Gates EOS at the sink pad of the element @name in @pipeline until that
 * element's src pad has pushed a buffer since the last stream-start; the
 * gate opens anyway when the sink pad flushes (the pipeline stops) or after
 * 30 s (the decoder then hangs as it would without the gate, and the test
 * reports it). Returns false, and gates nothing, without such an element. */
bool holdEosUntilFirstOutput(GstElement *pipeline, const std::string &name);

/* The environment variable that makes runWithTracer()'s child gate the
 * element it names. */
constexpr const char *kEosGateVar = "ZCBUF_TEST_EOS_GATE";

} /* namespace zcbuf::test */
