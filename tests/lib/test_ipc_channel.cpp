/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zcipc transport: sockets at paths and in the abstract namespace, the
 * peer-credential policy against a process of another uid, fds of the
 * wrong kind or count, oversized messages and a full queue. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include <zcbuf/zcbuf.h>

#include "leak_checked_test.h"
#include "memfd.h"

using namespace zcbuf;
using namespace zcbuf::ipc;

namespace {

constexpr uid_t kNobody = 65534;

std::string uniqueName(const char *what)
{
	return std::string(what) + "-" + std::to_string(getpid()) + "-" +
	       ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

UniqueFD acceptOne(int listener)
{
	for (int i = 0; i < 500; i++) {
		int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd >= 0)
			return UniqueFD(fd);
		usleep(2000);
	}
	return UniqueFD();
}

BufferEntry entryFor(std::uint32_t id, std::size_t size)
{
	BufferEntry entry;
	entry.epoch = 1;
	entry.id = id;
	entry.memorySizes = { size };
	entry.planes = { Plane{ 0, 64, 0, size } };
	return entry;
}

/* A child process running body; result() is the text body returned
 * (written to a pipe), after the child exited. */
class Child
{
public:
	template<typename Function> explicit Child(Function body)
	{
		int pipes[2];
		if (pipe2(pipes, O_CLOEXEC) < 0)
			return;
		UniqueFD reader(pipes[0]), writer(pipes[1]);
		pid_ = fork();
		if (pid_ == 0) {
			reader.reset();
			std::string text = body();
			if (write(writer.get(), text.data(), text.size()) < 0)
				_exit(2);
			_exit(0);
		}
		reader_ = std::move(reader);
	}
	~Child()
	{
		if (pid_ > 0)
			waitpid(pid_, nullptr, 0);
	}

	std::string result()
	{
		std::string text;
		char chunk[256];
		ssize_t n;
		while ((n = read(reader_.get(), chunk, sizeof(chunk))) > 0)
			text.append(chunk, static_cast<std::size_t>(n));
		reader_.reset();
		return text;
	}

private:
	pid_t pid_ = -1;
	UniqueFD reader_;
};

class IpcChannel : public test::LeakCheckedTest
{
protected:
	void TearDown() override
	{
		if (!path_.empty())
			unlinkSocket(path_);
		producer_.reset();
		consumer_.reset();
		listener_.reset();
		test::LeakCheckedTest::TearDown();
	}

	/* A producer listening at a path in /tmp, and one consumer on it. */
	void connectPair(mode_t mode = 0600)
	{
		path_ = "/tmp/" + uniqueName("zcipc") + ".sock";
		Result<UniqueFD> listening = listenAt(path_, mode);
		ASSERT_TRUE(listening.ok()) << listening.error().message();
		listener_ = std::move(listening).value();
		Result<UniqueFD> consumer = connectTo(path_);
		ASSERT_TRUE(consumer.ok()) << consumer.error().message();
		consumer_ = std::make_unique<Channel>(std::move(consumer).value());
		producer_ = std::make_unique<Channel>(acceptOne(listener_.get()));
		ASSERT_GE(producer_->fd(), 0);
	}

	std::string path_;
	UniqueFD listener_;
	std::unique_ptr<Channel> producer_, consumer_;
};

TEST_F(IpcChannel, ABufferCrossesOnceAndFramesNameIt)
{
	connectPair();
	std::shared_ptr<Buffer> buffer = Buffer::create(openBackend("memfd").value(), 8192, "frame");
	{
		Result<CpuAccess> w = buffer->access(Access::Write);
		ASSERT_TRUE(w.ok());
		std::memset(w->data(), 0x33, w->size());
	}
	int fd = buffer->fd().value();
	ASSERT_TRUE(producer_->send(Hello{ kVersionMajor, kVersionMinor, Role::Producer }).ok());
	ASSERT_TRUE(producer_->send(Epoch{ 1, "video/x-raw" }).ok());
	ASSERT_TRUE(producer_->send(entryFor(0, 8192), std::span<const int>(&fd, 1)).ok());
	Frame frame;
	frame.epoch = 1;
	frame.width = frame.height = 8;
	ASSERT_TRUE(producer_->send(frame).ok());

	ConsumerSession session;
	std::vector<std::shared_ptr<Buffer>> memories;
	for (int i = 0; i < 4; i++) {
		Result<Received> got = consumer_->receive();
		ASSERT_TRUE(got.ok()) << got.error().message();
		ASSERT_TRUE(session.receive(got->parsed).ok());
		if (const BufferEntry *entry = std::get_if<BufferEntry>(&got->parsed.message)) {
			Result<std::vector<std::shared_ptr<Buffer>>> imported =
				importMemories(*entry, got->fds);
			ASSERT_TRUE(imported.ok()) << imported.error().message();
			memories = imported.value();
		}
	}
	ASSERT_EQ(memories.size(), 1u);
	Result<CpuAccess> r = memories[0]->access(Access::Read);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->data()[8191], 0x33);
}

TEST_F(IpcChannel, AbstractNamespaceHasNoFile)
{
	std::string name = "@" + uniqueName("zcipc");
	Result<UniqueFD> listening = listenAt(name, 0600);
	ASSERT_TRUE(listening.ok()) << listening.error().message();
	Result<UniqueFD> consumer = connectTo(name);
	ASSERT_TRUE(consumer.ok()) << consumer.error().message();
	struct stat st;
	EXPECT_NE(stat(name.c_str(), &st), 0);
}

TEST_F(IpcChannel, NoProducerIsAClearError)
{
	Result<UniqueFD> none = connectTo("/tmp/" + uniqueName("nobody-listens"));
	ASSERT_FALSE(none.ok());
	EXPECT_NE(none.error().message().find("no producer at"), std::string::npos)
		<< none.error().message();
	Result<UniqueFD> abstract = connectTo("@" + uniqueName("nobody-listens"));
	ASSERT_FALSE(abstract.ok());
	EXPECT_NE(abstract.error().message().find("no producer at"), std::string::npos);
}

TEST_F(IpcChannel, TheSocketFileGetsItsMode)
{
	connectPair(0600);
	struct stat st;
	ASSERT_EQ(stat(path_.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u);
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST_F(IpcChannel, AStaleSocketIsReplacedALiveOneIsNot)
{
	connectPair();
	Result<UniqueFD> second = listenAt(path_, 0600);
	ASSERT_FALSE(second.ok());
	EXPECT_EQ(second.error().code(), EADDRINUSE);
	/* The producer dies without removing its file. */
	listener_.reset();
	Result<UniqueFD> third = listenAt(path_, 0600);
	EXPECT_TRUE(third.ok()) << third.error().message();
}

TEST_F(IpcChannel, AnotherUidIsRefusedByTheFileMode)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "dropping to another uid needs root";
	connectPair(0600);
	std::string path = path_;
	Child child([path] {
		if (setgid(kNobody) < 0 || setuid(kNobody) < 0)
			return std::string("setuid failed");
		Result<UniqueFD> fd = connectTo(path);
		return fd.ok() ? std::string("connected") : fd.error().message();
	});
	std::string result = child.result();
	EXPECT_NE(result.find("permission denied"), std::string::npos) << result;
}

TEST_F(IpcChannel, AnotherUidIsRefusedByThePolicyOnAnAbstractSocket)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "dropping to another uid needs root";
	std::string name = "@" + uniqueName("zcipc");
	Result<UniqueFD> listening = listenAt(name, 0600);
	ASSERT_TRUE(listening.ok()) << listening.error().message();
	Child child([name] {
		if (setgid(kNobody) < 0 || setuid(kNobody) < 0)
			return std::string("setuid failed");
		Result<UniqueFD> fd = connectTo(name);
		if (!fd)
			return fd.error().message();
		Channel channel(std::move(fd).value());
		Result<Received> got = channel.receive();
		if (!got)
			return got.error().message();
		ConsumerSession session;
		Result<void> applied = session.receive(got->parsed);
		return applied.ok() ? std::string("accepted") : applied.error().message();
	});
	/* The parent is the producer: no file mode stops the peer, the policy
	 * does, and the peer hears why. */
	UniqueFD connection = acceptOne(listening->get());
	ASSERT_TRUE(connection.isValid());
	Result<PeerCredentials> peer = peerCredentials(connection.get());
	ASSERT_TRUE(peer.ok()) << peer.error().message();
	EXPECT_EQ(peer->uid, kNobody);
	Result<void> allowed = checkPeer(peer.value(), 0600);
	ASSERT_FALSE(allowed.ok()) << "uid 65534 passed a 0600 policy";
	EXPECT_EQ(allowed.error().code(), EACCES);
	EXPECT_NE(allowed.error().message().find("uid 65534"), std::string::npos);
	EXPECT_NE(allowed.error().message().find("socket-mode 0600"), std::string::npos);
	Channel channel(std::move(connection));
	channel.sendError(allowed.error());
	std::string result = child.result();
	EXPECT_NE(result.find("refused by socket-mode 0600"), std::string::npos) << result;

	/* The same peer passes when the mode lets others write. */
	EXPECT_TRUE(checkPeer(peer.value(), 0666).ok());
	EXPECT_TRUE(checkPeer(PeerCredentials{ 1, geteuid(), getegid() }, 0600).ok());
	EXPECT_FALSE(checkPeer(PeerCredentials{ 1, kNobody, getegid() }, 0600).ok());
	EXPECT_TRUE(checkPeer(PeerCredentials{ 1, kNobody, getegid() }, 0660).ok());
}

/* Receives on the consumer side and expects an error saying words. */
void expectReceiveRefused(Channel &channel, int code, const std::string &words)
{
	Result<Received> got = channel.receive();
	ASSERT_FALSE(got.ok()) << "accepted; expected '" << words << "'";
	EXPECT_EQ(got.error().code(), code) << got.error().message();
	EXPECT_NE(got.error().message().find(words), std::string::npos) << got.error().message();
}

TEST_F(IpcChannel, AWrongFdCountIsRefusedAndItsFdsClosed)
{
	connectPair();
	Result<std::vector<std::uint8_t>> bytes = encode(entryFor(0, 4096), 0);
	ASSERT_TRUE(bytes.ok());
	UniqueFD a = test::makeMemfd(4096), b = test::makeMemfd(4096);
	int two[] = { a.get(), b.get() };
	ASSERT_TRUE(sendWithFds(producer_->fd(), bytes.value(), two).ok());
	expectReceiveRefused(*consumer_, EPROTO, "came with 2 fds, 1 expected");
	/* The sender cannot make that mistake through a Channel. */
	EXPECT_FALSE(producer_->send(entryFor(0, 4096), two).ok());
}

TEST_F(IpcChannel, AnOversizedMessageIsRefused)
{
	connectPair();
	std::vector<std::uint8_t> huge(kMaxMessageBytes + 100, 0xab);
	ASSERT_TRUE(sendWithFds(producer_->fd(), huge, {}).ok());
	expectReceiveRefused(*consumer_, EMSGSIZE, "longer than");
}

TEST_F(IpcChannel, FdsOfTheWrongKindAreRefusedAtImport)
{
	int pipes[2];
	ASSERT_EQ(pipe2(pipes, O_CLOEXEC), 0);
	UniqueFD reader(pipes[0]), writer(pipes[1]);
	UniqueFD unsealed = test::makeMemfd(4096, 0);
	UniqueFD small = test::makeMemfd(4096);
	struct Case {
		int fd;
		const char *words;
	} cases[] = { { reader.get(), "pipe" },
		      { unsealed.get(), "F_SEAL_SHRINK" },
		      { small.get(), "holds 4096 bytes, 8192 are needed" } };
	for (const Case &c : cases) {
		connectPair();
		ASSERT_TRUE(producer_->send(entryFor(2, 8192), std::span<const int>(&c.fd, 1)).ok());
		Result<Received> got = consumer_->receive();
		ASSERT_TRUE(got.ok()) << got.error().message();
		Result<std::vector<std::shared_ptr<Buffer>>> imported =
			importMemories(std::get<BufferEntry>(got->parsed.message), got->fds);
		ASSERT_FALSE(imported.ok()) << c.words;
		EXPECT_NE(imported.error().message().find(c.words), std::string::npos)
			<< imported.error().message();
		EXPECT_NE(imported.error().message().find("memory 0 of buffer 2"), std::string::npos)
			<< imported.error().message();
		unlinkSocket(path_);
	}
}

TEST_F(IpcChannel, AFullQueueDoesNotBlockAndLosesNoNumber)
{
	connectPair();
	ASSERT_TRUE(producer_->send(Hello{ kVersionMajor, kVersionMinor, Role::Producer }).ok());
	ASSERT_TRUE(producer_->send(Epoch{ 1, "video/x-raw" }).ok());
	std::size_t sent = 0;
	Result<void> last;
	/* The consumer reads nothing: the queue fills and send says EAGAIN. */
	for (; sent < 100000; sent++) {
		last = producer_->send(ForgetEpoch{ 1 });
		if (!last.ok())
			break;
	}
	ASSERT_FALSE(last.ok()) << "the queue never filled";
	EXPECT_EQ(last.error().code(), EAGAIN) << last.error().message();

	ConsumerSession session;
	for (std::size_t i = 0; i < sent + 2; i++) {
		Result<Received> got = consumer_->receive();
		ASSERT_TRUE(got.ok()) << got.error().message();
		ASSERT_TRUE(session.receive(got->parsed).ok());
	}
	/* The refused message took no number: the next one is in order. */
	ASSERT_TRUE(producer_->send(Eos{}).ok());
	Result<Received> eos = consumer_->receive();
	ASSERT_TRUE(eos.ok());
	EXPECT_TRUE(session.receive(eos->parsed).ok());
	EXPECT_TRUE(session.ended());
}

} /* namespace */
