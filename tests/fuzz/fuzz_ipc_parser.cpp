/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the zcipc parser and the session rules. An input is
 * a run of records, each [fd count: 1 byte][length: 2 bytes][message], fed
 * to parse() and then to a consumer's and a producer's session, as a hostile
 * peer's stream would be. Whatever parses must encode back to the same
 * bytes: the parser accepts nothing the encoder would not write.
 */
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <zcbuf/fd_passing.h>
#include <zcbuf/ipc_protocol.h>
#include <zcbuf/ipc_session.h>

using namespace zcbuf::ipc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	ConsumerSession consumer;
	ProducerSession producer;
	producer.startEpoch(1);
	producer.tableEntry(0, 0);
	producer.frameSent(0);

	while (size >= 3) {
		std::size_t fds = data[0] % (zcbuf::kMaxFdsPerMessage + 1);
		std::size_t length = data[1] | (std::size_t(data[2]) << 8);
		data += 3;
		size -= 3;
		length = std::min(length, size);
		std::span<const std::uint8_t> bytes(data, length);
		data += length;
		size -= length;

		zcbuf::Result<Parsed> parsed = parse(bytes, fds);
		if (!parsed) {
			if (parsed.error().message().empty())
				abort();
			continue;
		}
		zcbuf::Result<std::vector<std::uint8_t>> again =
			encode(parsed->message, parsed->sequence);
		if (!again || again->size() != bytes.size() ||
		    std::memcmp(again->data(), bytes.data(), bytes.size()) != 0)
			abort();
		(void)consumer.receive(parsed.value());
		(void)producer.receive(parsed.value());
	}
	return 0;
}
