/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a vkms screen shows, as a CRC (debugfs crtc-0/crc/data, as IGT
 * reads it), for the tests that put frames on vkms (test_zckmssink, the
 * V4L2 exports in test_v4l2_interop). Link vkms_crc.cpp, display.cpp and
 * eos_gate.cpp.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "display.h"

namespace zcbuf::test {

/* crtc-0's vblank counter now. vkms numbers each CRC with the vblank of
 * the composition it came from, so a CRC of a later frame shows every
 * commit that completed before this call. */
std::uint32_t currentVblank(const Card &card);

/* The CRC of a static screen: only CRCs of frames composed after this
 * call count (a CRC read first can be of the screen before the last
 * commit: seen once as a wrong reference under load), and captures go on
 * until two in a row agree. Empty when none came. */
std::vector<std::uint32_t> staticCrc(const Card &card);

/* The CRC of the screen while a pipeline's last frame is shown. */
struct Shown {
	std::string error;
	std::uint32_t crc = 0;
	std::size_t samples = 0;
	std::uint64_t copies = 0; /* zcbuf's copy record over the run */
};

/* Plays @description to EOS (PipelineRun), keeps its last frame on
 * @card's screen and reads the screen's CRC. */
Shown show(const Card &card, const std::string &description);

} /* namespace zcbuf::test */
