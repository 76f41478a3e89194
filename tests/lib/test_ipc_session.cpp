/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The zcipc rules between messages: order, epochs, ids, generations and
 * releases, each broken once and refused with an error that names it. */
#include <gtest/gtest.h>

#include <zcbuf/ipc_session.h>

using namespace zcbuf;
using namespace zcbuf::ipc;

namespace {

/* Messages as they come off the wire, numbered in order. */
class Wire
{
public:
	Parsed next(Message message) { return Parsed{ sequence_++, std::move(message) }; }
	Parsed again(Message message) { return Parsed{ sequence_ - 1, std::move(message) }; }

private:
	std::uint32_t sequence_ = 0;
};

BufferEntry entry(std::uint32_t epoch, std::uint32_t id, std::uint32_t generation = 0)
{
	BufferEntry e;
	e.epoch = epoch;
	e.id = id;
	e.generation = generation;
	e.memorySizes = { 4096 };
	e.planes = { Plane{ 0, 64, 0, 4096 } };
	return e;
}

Frame frame(std::uint32_t epoch, std::uint32_t id, std::uint64_t number, std::uint32_t generation = 0)
{
	Frame f;
	f.epoch = epoch;
	f.id = id;
	f.generation = generation;
	f.width = 64;
	f.height = 64;
	f.number = number;
	return f;
}

void expectError(const Result<void> &result, const std::string &words, int code = EPROTO)
{
	ASSERT_FALSE(result.ok()) << "accepted; expected an error saying '" << words << "'";
	EXPECT_EQ(result.error().code(), code);
	EXPECT_NE(result.error().message().find(words), std::string::npos)
		<< "'" << result.error().message() << "' does not say '" << words << "'";
}

class ConsumerRules : public ::testing::Test
{
protected:
	/* A consumer that has the producer's Hello, epoch 1 and buffers 0, 1. */
	void SetUp() override
	{
		ASSERT_TRUE(session.receive(wire.next(Hello{ kVersionMajor, 0, Role::Producer })).ok());
		ASSERT_TRUE(session.receive(wire.next(Epoch{ 1, "video/x-raw" })).ok());
		ASSERT_TRUE(session.receive(wire.next(entry(1, 0))).ok());
		ASSERT_TRUE(session.receive(wire.next(entry(1, 1, 4))).ok());
	}
	Wire wire;
	ConsumerSession session;
};

TEST(ConsumerHello, NothingBeforeHello)
{
	ConsumerSession session;
	Wire wire;
	expectError(session.receive(wire.next(Epoch{ 1, "video/x-raw" })), "before the producer's Hello");
}

TEST(ConsumerHello, AnotherMajorVersionIsNotSpoken)
{
	ConsumerSession session;
	Wire wire;
	expectError(session.receive(wire.next(Hello{ kVersionMajor + 1, 0, Role::Producer })),
		    "version 2.0 is not spoken here", EPROTONOSUPPORT);
}

TEST(ConsumerHello, ANewerMinorIsSpoken)
{
	ConsumerSession session;
	Wire wire;
	EXPECT_TRUE(session.receive(wire.next(Hello{ kVersionMajor, kVersionMinor + 3, Role::Producer })).ok());
}

TEST(ConsumerHello, AConsumerIsNoProducer)
{
	ConsumerSession session;
	Wire wire;
	expectError(session.receive(wire.next(Hello{ kVersionMajor, 0, Role::Consumer })),
		    "the peer is a consumer");
}

TEST_F(ConsumerRules, FramesInKnownBuffersAreAccepted)
{
	EXPECT_TRUE(session.receive(wire.next(frame(1, 0, 10))).ok());
	EXPECT_TRUE(session.receive(wire.next(frame(1, 1, 11, 4))).ok());
	EXPECT_TRUE(session.receive(wire.next(frame(1, 0, 15))).ok());
	EXPECT_EQ(session.dropped(), 3u);
}

TEST_F(ConsumerRules, ReplayedMessageIsRefused)
{
	Parsed first = wire.next(frame(1, 0, 10));
	ASSERT_TRUE(session.receive(first).ok());
	expectError(session.receive(first), "sequence 4, 5 expected (out of order or replayed)");
}

TEST_F(ConsumerRules, OutOfOrderMessageIsRefused)
{
	Parsed skipped = wire.next(frame(1, 0, 10));
	(void)skipped;
	expectError(session.receive(wire.next(frame(1, 0, 11))), "sequence 5, 4 expected");
}

TEST_F(ConsumerRules, AFrameNumberGoingBackIsRefused)
{
	ASSERT_TRUE(session.receive(wire.next(frame(1, 0, 10))).ok());
	expectError(session.receive(wire.next(frame(1, 1, 10, 4))), "frame number 10 after 10");
}

TEST_F(ConsumerRules, UnknownIdIsRefused)
{
	expectError(session.receive(wire.next(frame(1, 7, 1))), "unknown buffer 7 of epoch 1");
}

TEST_F(ConsumerRules, StaleGenerationIsRefused)
{
	expectError(session.receive(wire.next(frame(1, 1, 1, 3))), "generation 3, the table has 4");
}

TEST_F(ConsumerRules, ABufferSentTwiceIsRefused)
{
	expectError(session.receive(wire.next(entry(1, 1, 4))),
		    "buffer 1 of epoch 1 generation 4 sent twice");
}

TEST_F(ConsumerRules, ANewGenerationReplacesTheBufferBehindAnId)
{
	ASSERT_TRUE(session.receive(wire.next(entry(1, 1, 5))).ok());
	expectError(session.receive(wire.next(frame(1, 1, 1, 4))), "generation 4, the table has 5");
}

TEST_F(ConsumerRules, OldEpochsAreRefused)
{
	expectError(session.receive(wire.next(frame(0, 0, 1))), "outside the current epoch");
}

TEST_F(ConsumerRules, EpochsOnlyGoForward)
{
	expectError(session.receive(wire.next(Epoch{ 1, "video/x-raw" })), "epoch 1 after epoch 1");
}

TEST_F(ConsumerRules, ANewEpochEmptiesTheTable)
{
	ASSERT_TRUE(session.receive(wire.next(ForgetEpoch{ 1 })).ok());
	expectError(session.receive(wire.next(frame(1, 0, 1))), "outside the current epoch");
}

TEST_F(ConsumerRules, ANewEpochNeedsItsOwnBuffers)
{
	ASSERT_TRUE(session.receive(wire.next(Epoch{ 2, "video/x-raw,width=2" })).ok());
	expectError(session.receive(wire.next(frame(2, 0, 1))), "unknown buffer 0 of epoch 2");
}

TEST_F(ConsumerRules, ForgettingAFutureEpochIsRefused)
{
	expectError(session.receive(wire.next(ForgetEpoch{ 9 })), "epoch 9 was never started");
}

TEST_F(ConsumerRules, NothingAfterEos)
{
	ASSERT_TRUE(session.receive(wire.next(Eos{})).ok());
	EXPECT_TRUE(session.ended());
	expectError(session.receive(wire.next(frame(1, 0, 1))), "after Eos");
}

TEST_F(ConsumerRules, AProducerDoesNotSendReleases)
{
	expectError(session.receive(wire.next(Release{ 1, 0, 0 })), "a producer does not send it");
}

TEST_F(ConsumerRules, ThePeersErrorIsPassedOn)
{
	expectError(session.receive(wire.next(ErrorReport{ EACCES, "uid 1000 refused" })),
		    "uid 1000 refused", EACCES);
}

class ProducerRules : public ::testing::Test
{
protected:
	void SetUp() override
	{
		ASSERT_TRUE(session.receive(wire.next(Hello{ kVersionMajor, 0, Role::Consumer })).ok());
		session.startEpoch(1);
		session.tableEntry(0, 0);
		session.tableEntry(1, 4);
		session.frameSent(0);
		session.frameSent(0);
		session.frameSent(1);
	}
	Wire wire;
	ProducerSession session;
};

TEST_F(ProducerRules, ReleasesFreeWhatWasHeld)
{
	EXPECT_EQ(session.totalHeld(), 3u);
	Result<std::optional<std::uint32_t>> freed = session.receive(wire.next(Release{ 1, 0, 0 }));
	ASSERT_TRUE(freed.ok()) << freed.error().message();
	EXPECT_EQ(freed.value(), std::optional<std::uint32_t>(0));
	EXPECT_EQ(session.held(0), 1u);
	ASSERT_TRUE(session.receive(wire.next(Release{ 1, 0, 0 })).ok());
	ASSERT_TRUE(session.receive(wire.next(Release{ 1, 1, 4 })).ok());
	EXPECT_EQ(session.totalHeld(), 0u);
}

TEST_F(ProducerRules, AReleaseOfWhatIsNotHeldIsRefused)
{
	ASSERT_TRUE(session.receive(wire.next(Release{ 1, 1, 4 })).ok());
	Result<std::optional<std::uint32_t>> again = session.receive(wire.next(Release{ 1, 1, 4 }));
	ASSERT_FALSE(again.ok());
	EXPECT_NE(again.error().message().find("which the consumer does not hold"), std::string::npos)
		<< again.error().message();
}

TEST_F(ProducerRules, AReleaseOfAnUnknownIdOrGenerationIsRefused)
{
	EXPECT_FALSE(session.receive(wire.next(Release{ 1, 9, 0 })).ok());
	ProducerSession fresh;
	Wire freshWire;
	ASSERT_TRUE(fresh.receive(freshWire.next(Hello{ kVersionMajor, 0, Role::Consumer })).ok());
	fresh.startEpoch(1);
	fresh.tableEntry(1, 4);
	fresh.frameSent(1);
	EXPECT_FALSE(fresh.receive(freshWire.next(Release{ 1, 1, 3 })).ok());
	EXPECT_FALSE(fresh.receive(freshWire.next(Release{ 2, 1, 4 })).ok());
}

TEST_F(ProducerRules, AReleaseAcrossAnEpochChangeIsHarmless)
{
	session.startEpoch(2);
	EXPECT_EQ(session.totalHeld(), 0u);
	Result<std::optional<std::uint32_t>> late = session.receive(wire.next(Release{ 1, 0, 0 }));
	ASSERT_TRUE(late.ok()) << late.error().message();
	EXPECT_FALSE(late.value().has_value());
}

TEST_F(ProducerRules, AConsumerSendsNoFrames)
{
	Result<std::optional<std::uint32_t>> frameFromConsumer = session.receive(wire.next(frame(1, 0, 1)));
	ASSERT_FALSE(frameFromConsumer.ok());
	EXPECT_NE(frameFromConsumer.error().message().find("a consumer sends only"), std::string::npos);
}

TEST_F(ProducerRules, ReplayedReleaseIsRefused)
{
	Parsed release = wire.next(Release{ 1, 0, 0 });
	ASSERT_TRUE(session.receive(release).ok());
	Result<std::optional<std::uint32_t>> replay = session.receive(release);
	ASSERT_FALSE(replay.ok());
	EXPECT_NE(replay.error().message().find("replayed"), std::string::npos);
}

} /* namespace */
