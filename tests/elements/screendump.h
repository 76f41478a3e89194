/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What QEMU shows on the guest's virtio-gpu display, asked for from inside
 * the guest: vm-run answers NAME.request files in $ZCBUF_VM_SCREENDUMP_DIR
 * with the monitor's `screendump` (tests/vm/vm-run.py).
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zcbuf::test {

struct Screendump {
	int width = 0, height = 0;
	std::vector<std::uint8_t> rgb; /* width * height * 3, rows top down */
	std::string error;	       /* empty when the image came */
};

/* Asks for NAME.ppm and waits (up to 120 s: TCG) for it or its error. */
Screendump screendump(const std::string &name);

/* The RGB bytes of BGRx/BGRA rows (the first width * 4 bytes of each). */
std::vector<std::uint8_t> rgbOfBgrx(const std::vector<std::uint8_t> &bgrx, int width, int height);

} /* namespace zcbuf::test */
