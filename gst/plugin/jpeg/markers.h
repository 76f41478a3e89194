/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JPEG marker codes, the byte after 0xFF (ITU-T T.81, table B.1). */
#pragma once

#include <cstdint>

namespace zcbuf::jpeg {

constexpr std::uint8_t kSoi = 0xd8;
constexpr std::uint8_t kEoi = 0xd9;
constexpr std::uint8_t kSos = 0xda;
constexpr std::uint8_t kDri = 0xdd;
constexpr std::uint8_t kTem = 0x01;
constexpr std::uint8_t kRst0 = 0xd0;

/* RST0 to RST7. */
inline bool isRestart(std::uint8_t marker)
{
	return marker >= kRst0 && marker <= kRst0 + 7;
}

} /* namespace zcbuf::jpeg */
