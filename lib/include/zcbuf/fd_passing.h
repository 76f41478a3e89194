/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Passing buffers between processes: a message of bytes with fds attached
 * (SCM_RIGHTS) over a connected Unix socket, SOCK_SEQPACKET so that messages
 * keep their boundaries. What arrives is owned at once
 * (UniqueFD), so a malformed message, one with more fds than expected or a
 * truncated one loses nothing and leaks nothing: its fds are closed and the
 * error says what was wrong.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

namespace zcbuf {

/* The most fds one message carries (the kernel's SCM_MAX_FD is 253). */
inline constexpr std::size_t kMaxFdsPerMessage = 16;

/* Sends payload (at least one byte) with fds on socket; the fds stay the
 * caller's. EPIPE/ECONNRESET mean the peer is gone. sendFlags adds to
 * sendmsg()'s (MSG_DONTWAIT: EAGAIN instead of waiting for room). */
Result<void> sendWithFds(int socket, std::span<const std::uint8_t> payload,
			 std::span<const int> fds, int sendFlags = 0);

struct ReceivedMessage {
	std::vector<std::uint8_t> payload;
	std::vector<UniqueFD> fds;
};

/*
 * Receives one message of at most maxPayload bytes and maxFds fds. Errors:
 * ECONNRESET when the peer closed the connection, EMSGSIZE when the payload
 * or the fds did not fit (what did arrive is closed), EPROTO for control
 * data that is not SCM_RIGHTS.
 */
Result<ReceivedMessage> receiveWithFds(int socket, std::size_t maxPayload, std::size_t maxFds);

} /* namespace zcbuf */
