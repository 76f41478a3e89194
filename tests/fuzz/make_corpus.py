#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz_ipc_parser into tests/fuzz/corpus/.

An encoder of its own, from docs/ipc.md's layout (not from the C++ one), so
that the seeds also check the documentation: each seed is a stream of records
[fd count: u8][length: u16 le][message] that the fuzzer feeds to the parser.
"""
import os
import struct
import sys

MAGIC = 0x5A434950
HELLO, EPOCH, BUFFER, FRAME, EOS, RELEASE, FORGET, ERROR = range(1, 9)


def message(kind, sequence, body):
    return struct.pack('<IHHII', MAGIC, kind, 0, 16 + len(body), sequence) + body


def record(fds, data):
    return struct.pack('<BH', fds, len(data)) + data


def hello(seq, role, major=1, minor=0):
    return message(HELLO, seq, struct.pack('<HHII', major, minor, role, 0))


def epoch(seq, number, caps):
    return message(EPOCH, seq, struct.pack('<II', number, len(caps)) + caps)


def buffer(seq, number, ident, generation, memories, planes, modifier=0):
    body = struct.pack('<IIIIIIQ', number, ident, generation, len(memories), len(planes), 0,
                       modifier)
    body += b''.join(struct.pack('<Q', m) for m in memories)
    body += b''.join(struct.pack('<IIQQ', *p) for p in planes)
    return message(BUFFER, seq, body)


def frame(seq, number, ident, generation, count, pts=1000, duration=33):
    return message(FRAME, seq, struct.pack('<IIIIqqqIIIIQ', number, ident, generation, 0, pts,
                                           -1, duration, 0, 23, 64, 48, count))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')
    os.makedirs(out, exist_ok=True)
    caps = b'video/x-raw, format=(string)NV12, width=(int)64, height=(int)48'
    nv12 = [(0, 64, 0, 64 * 48), (0, 64, 64 * 48, 64 * 24)]
    producer_stream = [
        record(0, hello(0, 1)),
        record(0, epoch(1, 1, caps)),
        record(1, buffer(2, 1, 0, 0, [4608], nv12)),
        record(2, buffer(3, 1, 1, 0, [4096, 4096], [(0, 64, 0, 3072), (1, 64, 0, 1536)])),
        record(0, frame(4, 1, 0, 0, 0)),
        record(0, frame(5, 1, 1, 0, 3)),
        record(0, message(FORGET, 6, struct.pack('<II', 1, 0))),
        record(0, epoch(7, 2, caps)),
        record(0, message(EOS, 8, b'')),
    ]
    consumer_stream = [
        record(0, hello(0, 2)),
        record(0, message(RELEASE, 1, struct.pack('<IIII', 1, 0, 0, 0))),
        record(0, message(ERROR, 2, struct.pack('<II', 13, 9) + b'go away!!')),
    ]
    seeds = {
        'producer-stream': producer_stream,
        'consumer-stream': consumer_stream,
        'hello-version-2': [record(0, hello(0, 1, major=2))],
        'truncated-frame': [record(0, frame(0, 1, 0, 0, 0)[:30])],
        'buffer-without-fd': [record(0, buffer(0, 1, 0, 0, [4608], nv12))],
    }
    for name, records in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(b''.join(records))


if __name__ == '__main__':
    main()
