#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libgstzcbuf from Python through GObject introspection (GstZcbuf-1.0):
make a zcbuf pool, acquire a buffer, check that it is zcbuf memory, write
into it, push it through appsrc and find the same bytes and the same
memory at the appsink; an unknown backend is a GLib.Error. Prints TAP.

Run by meson with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing into the
build (tests/gst/meson.build).
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstVideo", "1.0")
gi.require_version("GstZcbuf", "1.0")
from gi.repository import GLib, Gst, GstApp, GstVideo, GstZcbuf  # noqa: E402

checks = []


def check(ok, name):
    checks.append(bool(ok))
    print(f"{'ok' if ok else 'not ok'} {len(checks)} - {name}", flush=True)


def main():
    Gst.init(None)
    caps = Gst.Caps.from_string("video/x-raw,format=NV12,width=320,height=240,framerate=30/1")
    info = GstVideo.VideoInfo.new_from_caps(caps)

    pool = GstZcbuf.BufferPool.new(None)
    check(isinstance(pool, Gst.BufferPool), "GstZcbuf.BufferPool.new() makes a GstBufferPool")
    config = pool.get_config()
    Gst.BufferPool.config_set_params(config, caps, info.size, 2, 4)
    check(pool.set_config(config), "the pool takes an NV12 320x240 configuration")
    check(pool.set_active(True), "and starts")
    allocator = pool.get_allocator()
    check(allocator is not None and GstZcbuf.is_zcbuf_allocator(allocator),
          "its allocator is a zcbuf allocator: " + (GstZcbuf.allocator_get_backend(allocator)
                                                    if allocator else "none"))

    result, buffer = pool.acquire_buffer(None)
    check(result == Gst.FlowReturn.OK and buffer is not None, "acquire_buffer gives a buffer")
    memory = buffer.peek_memory(0)
    check(GstZcbuf.is_zcbuf_memory(memory), "whose memory is zcbuf memory")
    pattern = bytes(range(256)) * (info.size // 256) + bytes(info.size % 256)
    check(buffer.fill(0, pattern) == info.size, "Python writes a frame into it")

    pipeline = Gst.parse_launch(
        'appsrc name=src format=time caps="' + caps.to_string() + '" ! appsink name=out')
    src = pipeline.get_by_name("src")
    out = pipeline.get_by_name("out")
    pipeline.set_state(Gst.State.PLAYING)
    buffer.pts = 0
    buffer.duration = Gst.SECOND // 30
    check(src.emit("push-buffer", buffer) == Gst.FlowReturn.OK, "appsrc takes it")
    src.emit("end-of-stream")
    sample = out.emit("try-pull-sample", 10 * Gst.SECOND)
    check(sample is not None, "the appsink gets a sample")
    if sample is not None:
        received = sample.get_buffer()
        ok, map_info = received.map(Gst.MapFlags.READ)
        same = ok and bytes(map_info.data) == pattern
        if ok:
            received.unmap(map_info)
        check(same, "with the bytes Python wrote")
        check(GstZcbuf.is_zcbuf_memory(received.peek_memory(0)),
              "and it is still zcbuf memory at the appsink")
    pipeline.set_state(Gst.State.NULL)
    del buffer, sample
    pool.set_active(False)

    try:
        GstZcbuf.allocator_new("no-such-backend")
        check(False, "an unknown backend is a GLib.Error")
    except GLib.Error as error:
        check("no-such-backend" in error.message,
              "an unknown backend is a GLib.Error naming it: " + error.message)
        check(error.matches(GstZcbuf.error_quark(), GstZcbuf.Error.BACKEND),
              "in libgstzcbuf's own domain, GstZcbuf.Error.BACKEND: " + error.domain)

    print(f"1..{len(checks)}")
    return 0 if all(checks) else 1


sys.exit(main())
