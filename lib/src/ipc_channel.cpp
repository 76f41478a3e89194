/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/ipc_channel.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <zcbuf/fd_passing.h>

namespace zcbuf::ipc {

namespace {

bool isAbstract(const std::string &path)
{
	return !path.empty() && path[0] == '@';
}

std::string modeString(mode_t mode)
{
	char text[8];
	snprintf(text, sizeof(text), "%04o", static_cast<unsigned int>(mode & 07777));
	return text;
}

Result<socklen_t> addressOf(const std::string &path, struct sockaddr_un &address)
{
	std::memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	if (path.empty() || path == "@")
		return Error(EINVAL, "an empty socket path");
	if (path.size() >= sizeof(address.sun_path))
		return Error(ENAMETOOLONG, "socket path '" + path + "' is longer than " +
						   std::to_string(sizeof(address.sun_path) - 1) +
						   " bytes");
	std::memcpy(address.sun_path, path.data(), path.size());
	/* Abstract: a leading NUL, and the name is exactly the bytes given. */
	if (isAbstract(path)) {
		address.sun_path[0] = '\0';
		return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size());
	}
	return static_cast<socklen_t>(sizeof(address));
}

Result<UniqueFD> seqpacketSocket(int extraFlags)
{
	UniqueFD fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | extraFlags, 0));
	if (!fd.isValid())
		return Error::fromErrno(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
	return fd;
}

} /* namespace */

Result<UniqueFD> listenAt(const std::string &path, mode_t mode)
{
	struct sockaddr_un address;
	Result<socklen_t> length = addressOf(path, address);
	if (!length)
		return length.error();
	Result<UniqueFD> fd = seqpacketSocket(SOCK_NONBLOCK);
	if (!fd)
		return fd.error();

	if (bind(fd->get(), reinterpret_cast<struct sockaddr *>(&address), length.value()) < 0) {
		int error = errno;
		/* A socket file left by a producer that died: replace it only
		 * when nobody answers on it. */
		if (error != EADDRINUSE || isAbstract(path))
			return Error::fromErrno(error, "binding the socket " + path);
		Result<UniqueFD> probe = connectTo(path);
		if (probe)
			return Error(EADDRINUSE, "another producer listens at " + path);
		struct stat st;
		if (lstat(path.c_str(), &st) < 0 || !S_ISSOCK(st.st_mode))
			return Error(EADDRINUSE, path + " exists and is not a socket");
		if (unlink(path.c_str()) < 0)
			return Error::fromErrno(errno, "removing the stale socket " + path);
		if (bind(fd->get(), reinterpret_cast<struct sockaddr *>(&address),
			 length.value()) < 0)
			return Error::fromErrno(errno, "binding the socket " + path);
	}
	if (!isAbstract(path) && chmod(path.c_str(), mode & 0777) < 0) {
		int error = errno;
		unlink(path.c_str());
		return Error::fromErrno(error, "chmod " + modeString(mode) + " of " + path);
	}
	if (listen(fd->get(), 16) < 0)
		return Error::fromErrno(errno, "listen on " + path);
	return fd;
}

void unlinkSocket(const std::string &path)
{
	if (!isAbstract(path) && !path.empty())
		unlink(path.c_str());
}

Result<UniqueFD> connectTo(const std::string &path)
{
	struct sockaddr_un address;
	Result<socklen_t> length = addressOf(path, address);
	if (!length)
		return length.error();
	Result<UniqueFD> fd = seqpacketSocket(0);
	if (!fd)
		return fd.error();
	int result;
	do {
		result = connect(fd->get(), reinterpret_cast<struct sockaddr *>(&address),
				 length.value());
	} while (result < 0 && errno == EINTR);
	if (result < 0) {
		int error = errno;
		if (error == ENOENT || error == ECONNREFUSED)
			return Error(error, "no producer at " + path + " (" + std::strerror(error) + ")");
		if (error == EACCES || error == EPERM)
			return Error(EACCES, "permission denied connecting to " + path);
		return Error::fromErrno(error, "connecting to " + path);
	}
	return fd;
}

Result<PeerCredentials> peerCredentials(int socket)
{
	struct ucred credentials;
	socklen_t length = sizeof(credentials);
	if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0)
		return Error::fromErrno(errno, "SO_PEERCRED");
	return PeerCredentials{ credentials.pid, credentials.uid, credentials.gid };
}

Result<void> checkPeer(const PeerCredentials &peer, mode_t mode)
{
	if ((mode & S_IWUSR) && (peer.uid == geteuid() || peer.uid == 0))
		return {};
	if ((mode & S_IWGRP) && peer.gid == getegid())
		return {};
	if (mode & S_IWOTH)
		return {};
	return Error(EACCES, "peer pid " + std::to_string(peer.pid) + " (uid " +
				     std::to_string(peer.uid) + ", gid " + std::to_string(peer.gid) +
				     ") refused by socket-mode " + modeString(mode) + " (owner uid " +
				     std::to_string(geteuid()) + ")");
}

Result<void> Channel::send(const Message &message, std::span<const int> fds)
{
	if (fds.size() != fdsOf(message))
		return Error(EINVAL, std::string("a ") + toString(typeOf(message)) + " message with " +
					     std::to_string(fds.size()) + " fds, " +
					     std::to_string(fdsOf(message)) + " expected");
	/* The number is taken only when the message went out. */
	Sequence attempt = sequence_;
	Result<std::vector<std::uint8_t>> bytes = encode(message, attempt.next());
	if (!bytes)
		return bytes.error();
	Result<void> sent = sendWithFds(socket_.get(), bytes.value(), fds, MSG_DONTWAIT);
	if (!sent)
		return sent;
	sequence_ = attempt;
	return {};
}

Result<Received> Channel::receive()
{
	Result<ReceivedMessage> got = receiveWithFds(socket_.get(), kMaxMessageBytes + 1,
						     kMaxFdsPerMessage);
	if (!got)
		return got.error();
	Result<Parsed> parsed = parse(got->payload, got->fds.size());
	if (!parsed)
		return parsed.error();
	return Received{ std::move(parsed).value(), std::move(got->fds) };
}

void Channel::sendError(const Error &error)
{
	std::string reason = error.message().substr(0, kMaxReasonBytes);
	for (char &c : reason)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = ' ';
	(void)send(ErrorReport{ static_cast<std::uint32_t>(error.code()), reason });
}

Result<std::vector<std::shared_ptr<Buffer>>> importMemories(const BufferEntry &entry,
							    std::span<const UniqueFD> fds)
{
	if (fds.size() != entry.memorySizes.size())
		return Error(EPROTO, "buffer " + std::to_string(entry.id) + " came with " +
					     std::to_string(fds.size()) + " fds for " +
					     std::to_string(entry.memorySizes.size()) + " memories");
	std::vector<std::shared_ptr<Buffer>> memories;
	for (std::size_t m = 0; m < fds.size(); m++) {
		Result<std::shared_ptr<Buffer>> imported =
			Buffer::import(fds[m].get(), entry.memorySizes[m],
				       "zcipc-" + std::to_string(entry.epoch) + "-" +
					       std::to_string(entry.id));
		if (!imported)
			return Error(imported.error().code(),
				     "memory " + std::to_string(m) + " of buffer " +
					     std::to_string(entry.id) + " of epoch " +
					     std::to_string(entry.epoch) + ": " +
					     imported.error().message());
		memories.push_back(std::move(imported).value());
	}
	return memories;
}

} /* namespace zcbuf::ipc */
