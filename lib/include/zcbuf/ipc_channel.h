/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The zcipc transport: the producer's listening socket (a path, or "@name"
 * in the abstract namespace), connecting to it, the peer-credential policy,
 * and a Channel that sends and receives whole parsed messages with their
 * fds over one connection. docs/ipc.md describes the policy.
 */
#pragma once

#include <sys/types.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zcbuf/buffer.h>
#include <zcbuf/ipc_protocol.h>
#include <zcbuf/ipc_session.h>
#include <zcbuf/result.h>
#include <zcbuf/unique_fd.h>

namespace zcbuf::ipc {

/*
 * A listening SOCK_SEQPACKET socket at path (non-blocking, close-on-exec).
 * A path file gets mode (chmod right after bind; created with the umask,
 * which at 022 already denies others the write bit connect needs); a stale
 * socket file nobody listens on is replaced, a live one is EADDRINUSE.
 * "@name" is Linux's abstract namespace: no file, so mode is enforced by
 * checkPeer() alone.
 */
Result<UniqueFD> listenAt(const std::string &path, mode_t mode);

/* Removes the socket file of a path listenAt() created (nothing for "@"). */
void unlinkSocket(const std::string &path);

/* A blocking connection to the producer at path. Errors say which: ENOENT
 * or ECONNREFUSED "no producer at ...", EACCES "permission denied". */
Result<UniqueFD> connectTo(const std::string &path);

struct PeerCredentials {
	pid_t pid = 0;
	uid_t uid = 0;
	gid_t gid = 0;
};

/* SO_PEERCRED of a connected socket. */
Result<PeerCredentials> peerCredentials(int socket);

/*
 * The policy: a peer may connect when the socket's mode would let it write
 * to a file owned by us: its uid is ours (or root's) and mode has the owner
 * write bit, or its gid is our gid and mode has the group write bit, or mode
 * has the others write bit. EACCES otherwise, naming the uid and the mode.
 */
Result<void> checkPeer(const PeerCredentials &peer, mode_t mode);

struct Received {
	Parsed parsed;
	std::vector<UniqueFD> fds;
};

/* One connection: numbers what it sends, parses what it receives. */
class Channel
{
public:
	explicit Channel(UniqueFD socket) : socket_(std::move(socket)) {}

	int fd() const { return socket_.get(); }

	/* Sends message with fds without blocking: EAGAIN when the peer's
	 * queue is full (nothing was sent, the sequence number is kept for the
	 * next message), EPIPE or ECONNRESET when the peer is gone. */
	Result<void> send(const Message &message, std::span<const int> fds = {});

	/* Receives and parses one message (blocking unless the socket is not).
	 * ECONNRESET when the peer closed; EPROTO for a malformed message,
	 * whose fds are closed. */
	Result<Received> receive();

	/* Tells the peer why before the caller closes: best effort. */
	void sendError(const Error &error);

private:
	UniqueFD socket_;
	Sequence sequence_;
};

/* The memories of a received table entry, each fd imported with
 * Buffer::import at the size the entry gives (so a pipe, an unsealed memfd
 * or a too-small buffer is refused with import's error). */
Result<std::vector<std::shared_ptr<Buffer>>> importMemories(const BufferEntry &entry,
							    std::span<const UniqueFD> fds);

} /* namespace zcbuf::ipc */
