/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/fd_passing.h>

#include <sys/socket.h>

#include <cstring>

namespace zcbuf {

Result<void> sendWithFds(int socket, std::span<const std::uint8_t> payload,
			 std::span<const int> fds, int sendFlags)
{
	if (payload.empty())
		return Error(EINVAL, "a message needs at least one byte of payload");
	if (fds.size() > kMaxFdsPerMessage)
		return Error(EINVAL, std::to_string(fds.size()) + " fds in one message (at most " +
					     std::to_string(kMaxFdsPerMessage) + ")");

	struct iovec iov = { const_cast<std::uint8_t *>(payload.data()), payload.size() };
	alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
	struct msghdr message = {};
	message.msg_iov = &iov;
	message.msg_iovlen = 1;
	if (!fds.empty()) {
		message.msg_control = control;
		message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
		struct cmsghdr *header = CMSG_FIRSTHDR(&message);
		header->cmsg_level = SOL_SOCKET;
		header->cmsg_type = SCM_RIGHTS;
		header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
		std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
	}

	ssize_t sent;
	do {
		sent = sendmsg(socket, &message, MSG_NOSIGNAL | sendFlags);
	} while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return Error::fromErrno(errno, "sending a message with " +
						       std::to_string(fds.size()) + " fds");
	if (static_cast<std::size_t>(sent) != payload.size())
		return Error(EMSGSIZE, "sent " + std::to_string(sent) + " of " +
					       std::to_string(payload.size()) + " bytes");
	return {};
}

Result<ReceivedMessage> receiveWithFds(int socket, std::size_t maxPayload, std::size_t maxFds)
{
	ReceivedMessage received;
	received.payload.resize(maxPayload ? maxPayload : 1);
	struct iovec iov = { received.payload.data(), received.payload.size() };
	alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
	struct msghdr message = {};
	message.msg_iov = &iov;
	message.msg_iovlen = 1;
	message.msg_control = control;
	message.msg_controllen = CMSG_SPACE(sizeof(int) * std::min(maxFds, kMaxFdsPerMessage));
	if (!maxFds)
		message.msg_controllen = 0;

	ssize_t got;
	do {
		got = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return Error::fromErrno(errno, "receiving a message");

	/* Own every fd that arrived before judging the message. */
	bool foreignControl = false;
	for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header;
	     header = CMSG_NXTHDR(&message, header)) {
		if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
			foreignControl = true;
			continue;
		}
		std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (std::size_t i = 0; i < count; i++) {
			int fd;
			std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
			received.fds.emplace_back(fd);
		}
	}

	if (got == 0 && received.fds.empty())
		return Error(ECONNRESET, "the peer closed the connection");
	/* Control space is rounded up, so more fds than asked for can fit. */
	if ((message.msg_flags & MSG_CTRUNC) || received.fds.size() > maxFds)
		return Error(EMSGSIZE, "a message carried more than " + std::to_string(maxFds) +
					       " fds; the ones that arrived were closed");
	if (message.msg_flags & MSG_TRUNC)
		return Error(EMSGSIZE, "a message was longer than " + std::to_string(maxPayload) +
					       " bytes");
	if (foreignControl)
		return Error(EPROTO, "a message carried control data other than fds");

	received.payload.resize(static_cast<std::size_t>(got));
	return received;
}

} /* namespace zcbuf */
