#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs every test suite: lib, gst,
# elements, and the VM suite that boots a real 6.1 kernel in QEMU.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
