/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The seed corpus, written by make_corpus.py from docs/ipc.md's layout,
 * read by the C++ parser and sessions: the document and the code agree. */
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include <zcbuf/ipc_protocol.h>
#include <zcbuf/ipc_session.h>

using namespace zcbuf;
using namespace zcbuf::ipc;

namespace {

struct Record {
	std::size_t fds;
	std::vector<std::uint8_t> bytes;
};

std::vector<Record> readSeed(const std::string &name)
{
	std::ifstream file(std::string(ZCBUF_IPC_CORPUS) + "/" + name, std::ios::binary);
	std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(file)), {});
	std::vector<Record> records;
	std::size_t at = 0;
	while (at + 3 <= data.size()) {
		std::size_t length = data[at + 1] | (std::size_t(data[at + 2]) << 8);
		std::size_t fds = data[at];
		at += 3;
		length = std::min(length, data.size() - at);
		records.push_back({ fds, std::vector<std::uint8_t>(data.begin() + at,
								   data.begin() + at + length) });
		at += length;
	}
	return records;
}

TEST(IpcCorpus, TheDocumentedProducerStreamIsAccepted)
{
	std::vector<Record> records = readSeed("producer-stream");
	ASSERT_EQ(records.size(), 9u);
	ConsumerSession session;
	for (const Record &record : records) {
		Result<Parsed> parsed = parse(record.bytes, record.fds);
		ASSERT_TRUE(parsed.ok()) << parsed.error().message();
		Result<void> applied = session.receive(parsed.value());
		ASSERT_TRUE(applied.ok()) << applied.error().message();
	}
	EXPECT_TRUE(session.ended());
	EXPECT_EQ(session.epoch(), 2u);
	EXPECT_EQ(session.dropped(), 2u);
}

TEST(IpcCorpus, TheDocumentedConsumerStreamIsAccepted)
{
	std::vector<Record> records = readSeed("consumer-stream");
	ASSERT_EQ(records.size(), 3u);
	ProducerSession session;
	session.startEpoch(1);
	session.tableEntry(0, 0);
	session.frameSent(0);
	for (std::size_t i = 0; i < 2; i++) {
		Result<Parsed> parsed = parse(records[i].bytes, records[i].fds);
		ASSERT_TRUE(parsed.ok()) << parsed.error().message();
		ASSERT_TRUE(session.receive(parsed.value()).ok());
	}
	Result<Parsed> report = parse(records[2].bytes, records[2].fds);
	ASSERT_TRUE(report.ok()) << report.error().message();
	Result<std::optional<std::uint32_t>> closed = session.receive(report.value());
	ASSERT_FALSE(closed.ok());
	EXPECT_EQ(closed.error().code(), EACCES);
	EXPECT_NE(closed.error().message().find("go away!!"), std::string::npos);
}

TEST(IpcCorpus, TheBrokenSeedsAreRefused)
{
	for (const char *name : { "hello-version-2", "truncated-frame", "buffer-without-fd" }) {
		std::vector<Record> records = readSeed(name);
		ASSERT_EQ(records.size(), 1u) << name;
		Result<Parsed> parsed = parse(records[0].bytes, records[0].fds);
		if (!parsed.ok())
			continue;
		ConsumerSession session;
		EXPECT_FALSE(session.receive(parsed.value()).ok()) << name << " was accepted";
	}
}

} /* namespace */
