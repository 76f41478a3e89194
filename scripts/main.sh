#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the main job: an MJPEG clip
# through zcjpegdec ! zcconvert ! zcthumbnail into a sink, every frame in
# zcbuf memory, one JPEG thumbnail a second, and the zerocopy tracer's table
# to prove that nothing was copied.
#
#   scripts/main.sh [--input CLIP] [--out DIR] [--backend SPEC] [--frames N]
#
# CLIP: any container parsebin understands with MJPEG in it (AVI, Matroska,
# QuickTime, raw JPEG frames); without one, a 1080p clip is generated.
# SPEC: a zcbuf backend (module, dma-heap, udmabuf, drm, memfd); the default
# is the best available here.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

input=""
out="$build/main-job"
backend=""
frames=300
while [ $# -gt 0 ]; do
	case "$1" in
	--input) input=$(realpath "$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--frames) frames=$2; shift 2 ;;
	*) sed -n '2,14p' "$0" >&2; exit 2 ;;
	esac
done

"$root/scripts/setup.sh"

export GST_PLUGIN_PATH_1_0="$build/gst/plugin"
export GST_REGISTRY="$build/main-job-registry.bin"
if [ -n "$backend" ]; then
	export ZCBUF_BACKEND="$backend"
fi
mkdir -p "$out/thumbnails"
rm -f "$out"/thumbnails/thumbnail-*.jpg "$out/zerocopy.tsv"

if [ -z "$input" ]; then
	input="$out/clip.avi"
	echo "main job: generating a ${frames}-frame 1080p MJPEG clip in $input"
	gst-launch-1.0 -q videotestsrc num-buffers="$frames" pattern=smpte horizontal-speed=6 \
		! video/x-raw,width=1920,height=1080,framerate=30/1 \
		! jpegenc quality=85 ! avimux ! filesink location="$input"
fi

pipeline=(filesrc location="$input" ! parsebin
	! zcjpegdec name=decode n-threads=2
	! zcconvert name=convert
	! capsfilter name=format caps=video/x-raw,format=BGRx
	! zcthumbnail name=thumbnail location="$out/thumbnails/thumbnail-%05d.jpg" interval=1000000000
	! fakesink name=sink)
echo "main job: gst-launch-1.0 ${pipeline[*]}"
start=$(date +%s.%N)
GST_TRACERS="zerocopy(file=$out/zerocopy.tsv)" gst-launch-1.0 -q "${pipeline[@]}"
end=$(date +%s.%N)

decoded=$(awk -F'\t' '$2 ~ /^decode:src/ { print $3 }' "$out/zerocopy.tsv")
thumbnails=$(find "$out/thumbnails" -name 'thumbnail-*.jpg' | wc -l)
awk -v n="${decoded:-0}" -v a="$start" -v b="$end" \
	'BEGIN { printf "main job: %d frames in %.2f s (%.0f frames/s)\n", n, b - a, n / (b - a) }'
echo "main job: $thumbnails thumbnails in $out/thumbnails"
"$root/scripts/check-zero-copy.py" "$out/zerocopy.tsv" decode convert format thumbnail
