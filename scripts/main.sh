#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the main job: an MJPEG clip
# through zcjpegdec ! zcconvert ! zcthumbnail into a sink, every frame in
# zcbuf memory, one JPEG thumbnail a second, and the zerocopy tracer's table
# to prove that nothing was copied. Then the same pipeline on a short clip
# whose frames change size twice mid-stream, which must be zero-copy too:
# each change renegotiates every link and replaces every pool.
#
#   scripts/main.sh [--input CLIP] [--out DIR] [--backend SPEC] [--frames N] [--two-process]
#                   [--display]
#
# --two-process: the same job split over two processes: the decoder and
# converter hand their frames to zcipcsink, a second gst-launch-1.0 takes
# them with zcipcsrc and thumbnails them, zcbuf-snap takes a snapshot from
# outside while the clip plays (at its frame rate), and both processes'
# tracer tables must show zero copies.
#
# --display: the same job ending on a screen instead of fakesink: in the
# test suite's QEMU guest (virtio-gpu display), zckmssink shows the frames,
# a PNG of what QEMU displayed is saved as DIR/display/main-job.png, and the
# tracer's table must show zero copies (zcconvert writes straight into the
# display's own buffers). Default clip: 60 frames of 1280x720 (TCG is slow).
#
# CLIP: any container parsebin understands with MJPEG in it (AVI, Matroska,
# QuickTime, raw JPEG frames); without one, a 1080p clip is generated.
# SPEC: a zcbuf backend (module, dma-heap, udmabuf, drm, memfd); the default
# is the best available here.
# ZCBUF_SKIP_SETUP=1 skips scripts/setup.sh (the test suite's run of this
# script, inside a build that is already done).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

input=""
out="$build/main-job"
backend=""
frames=300
frames_given=0
two_process=0
display=0
while [ $# -gt 0 ]; do
	case "$1" in
	--input) input=$(realpath "$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--frames) frames=$2; frames_given=1; shift 2 ;;
	--two-process) two_process=1; shift ;;
	--display) display=1; shift ;;
	*) sed -n '2,29p' "$0" >&2; exit 2 ;;
	esac
done

if [ "${ZCBUF_SKIP_SETUP:-0}" != 1 ]; then
	"$root/scripts/setup.sh"
fi

export GST_PLUGIN_PATH_1_0="$build/gst/plugin"
export GST_REGISTRY="$build/main-job-registry.bin"
if [ -n "$backend" ]; then
	export ZCBUF_BACKEND="$backend"
fi
mkdir -p "$out/thumbnails"
rm -f "$out"/thumbnails/thumbnail-*.jpg "$out"/zerocopy*.tsv

if [ -z "$input" ]; then
	width=1920 height=1080
	if [ "$display" = 1 ]; then
		width=1280 height=720
		[ "$frames_given" = 1 ] || frames=60
	fi
	input="$out/clip-${width}x${height}-$frames.avi"
	echo "main job: generating a ${frames}-frame ${width}x${height} MJPEG clip in $input"
	gst-launch-1.0 -q videotestsrc num-buffers="$frames" pattern=smpte horizontal-speed=6 \
		! video/x-raw,width=$width,height=$height,framerate=30/1 \
		! jpegenc quality=85 ! avimux ! filesink location="$input"
fi

if [ "$display" = 1 ]; then
	# vm-run keeps the guest's view of the working directory: the clip
	# must be under it (the guest's /tmp is its own).
	mkdir -p "$out/display"
	rm -f "$out/display/main-job.png"
	cd "$(dirname "$input")"
	status=0
	"$build/tests/vm/vm-run" --modprobe virtio_gpu \
		--env GST_PLUGIN_SYSTEM_PATH_1_0="$build/tests/elements/vm-kms-plugins" \
		--env GST_PLUGIN_PATH_1_0="$build/gst/plugin" \
		--screendump-dir "$out/display" --timeout 900 \
		-- "$root/scripts/display-job.sh" "$input" "$root" || status=1
	if [ -s "$out/display/main-job.png" ]; then
		echo "main job on the display: what QEMU displayed is in $out/display/main-job.png"
	else
		echo "main job on the display: no screenshot came back" >&2
		status=1
	fi
	exit $status
fi

# One run of the job on $1, the tracer's table in $2, thumbnails named $3.
# The sink keeps no last sample: basesink deep-copies the one it keeps
# whenever upstream asks for a new pool (at every size change), a copy
# nobody here needs (docs/tracer.md).
run_job() {
	local pipeline=(filesrc location="$1" ! parsebin
		! zcjpegdec name=decode n-threads=2
		! zcconvert name=convert
		! capsfilter name=format caps=video/x-raw,format=BGRx
		! zcthumbnail name=thumbnail location="$3" interval=1000000000
		! fakesink name=sink enable-last-sample=false)
	echo "main job: gst-launch-1.0 ${pipeline[*]}"
	GST_TRACERS="zerocopy(file=$2)" gst-launch-1.0 -q "${pipeline[@]}"
}

if [ "$two_process" = 1 ]; then
	socket="$out/frames.sock"
	rm -f "$socket" "$out"/zerocopy-*.tsv "$out/snapshot.jpg"
	producer=(filesrc location="$input" ! parsebin ! zcjpegdec name=decode n-threads=2
		! zcconvert name=convert ! capsfilter name=format caps=video/x-raw,format=BGRx
		! zcipcsink name=share socket-path="$socket")
	consumer=(zcipcsrc name=receive socket-path="$socket"
		! zcthumbnail name=thumbnail location="$out/thumbnails/thumbnail-%05d.jpg"
			interval=1000000000
		! fakesink name=sink enable-last-sample=false)
	echo "main job, producer: gst-launch-1.0 ${producer[*]}"
	GST_TRACERS="zerocopy(file=$out/zerocopy-producer.tsv)" gst-launch-1.0 -q "${producer[@]}" &
	producer_pid=$!
	for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
	echo "main job, consumer: gst-launch-1.0 ${consumer[*]}"
	GST_TRACERS="zerocopy(file=$out/zerocopy-consumer.tsv)" gst-launch-1.0 -q "${consumer[@]}" &
	consumer_pid=$!
	sleep 0.5
	echo "main job, from outside: zcbuf-snap $socket $out/snapshot.jpg --width 320"
	status=0
	"$build/gst/tools/zcbuf-snap" "$socket" "$out/snapshot.jpg" --width 320 || status=1
	wait "$producer_pid" || status=1
	wait "$consumer_pid" || status=1
	received=$(awk -F'\t' '$2 ~ /^receive:src/ { print $3 }' "$out/zerocopy-consumer.tsv")
	echo "main job: the consumer received ${received:-0} of $frames frames;" \
		"$(find "$out/thumbnails" -name 'thumbnail-*.jpg' | wc -l) thumbnails in $out/thumbnails"
	"$root/scripts/check-zero-copy.py" "$out/zerocopy-producer.tsv" decode convert format ||
		status=1
	"$root/scripts/check-zero-copy.py" "$out/zerocopy-consumer.tsv" receive thumbnail ||
		status=1
	exit $status
fi

start=$(date +%s.%N)
run_job "$input" "$out/zerocopy.tsv" "$out/thumbnails/thumbnail-%05d.jpg"
end=$(date +%s.%N)

decoded=$(awk -F'\t' '$2 ~ /^decode:src/ { print $3 }' "$out/zerocopy.tsv")
thumbnails=$(find "$out/thumbnails" -name 'thumbnail-*.jpg' | wc -l)
awk -v n="${decoded:-0}" -v a="$start" -v b="$end" \
	'BEGIN { printf "main job: %d frames in %.2f s (%.0f frames/s)\n", n, b - a, n / (b - a) }'
echo "main job: $thumbnails thumbnails in $out/thumbnails"
status=0
"$root/scripts/check-zero-copy.py" "$out/zerocopy.tsv" decode convert format thumbnail || status=1

# The size changes: 10 frames each of 640x360, 1280x720 and 320x240, as
# concatenated JPEGs (parsebin finds jpegparse for them).
changes="$out/size-changes.mjpeg"
rm -f "$changes"
for size in 640x360 1280x720 320x240; do
	gst-launch-1.0 -q videotestsrc num-buffers=10 pattern=ball \
		! video/x-raw,width=${size%x*},height=${size#*x},framerate=30/1 \
		! jpegenc quality=85 ! filesink location="$changes.part"
	cat "$changes.part" >> "$changes"
done
rm -f "$changes.part"
echo "main job: a clip that changes size twice (640x360, 1280x720, 320x240)"
run_job "$changes" "$out/zerocopy-size-changes.tsv" "$out/size-changes-%05d.jpg"
changed=$(awk -F'\t' '$2 ~ /^decode:src/ { print $3 }' "$out/zerocopy-size-changes.tsv")
if [ "${changed:-0}" -ne 30 ]; then
	echo "main job: the size-change clip decoded ${changed:-0} frames, not 30" >&2
	status=1
fi
"$root/scripts/check-zero-copy.py" "$out/zerocopy-size-changes.tsv" \
	decode convert format thumbnail || status=1
rm -f "$out"/size-changes-*.jpg
exit $status
