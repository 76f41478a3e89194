#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the main job: a pipeline
# whose frames are written straight into zcbuf memory, reporting which
# backend served it. Arguments go to the demo (--backend, --frames, ...).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
export GST_PLUGIN_PATH_1_0="$build/gst/plugin${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"
exec "$build/examples/zcbuf-demo" "$@"
