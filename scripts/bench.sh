#!/usr/bin/env bash
# Sets everything up and runs every benchmark side by side with its upstream
# counterpart; writes docs/benchmarks.md and docs/bench/*.png.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
python3 "$root/bench/run.py" --build "$build" --out "$root/docs" "$@"
