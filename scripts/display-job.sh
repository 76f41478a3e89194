#!/usr/bin/env bash
# The main job on a screen, inside vm-run's guest (scripts/main.sh --display
# starts it): the clip through zcjpegdec ! zcconvert ! zcthumbnail !
# zckmssink on the guest's virtio-gpu display, under the zerocopy tracer.
# sync=false: under TCG decoding is slower than the clip's rate, and with
# sync the decoder would skip the late frames (QoS); every frame is shown.
# Once the clip has played a second (zcthumbnail's second thumbnail), QEMU
# is asked for a PNG of its display (vm-run answers NAME.request files in
# $ZCBUF_VM_SCREENDUMP_DIR); the tracer's table must show zero copies.
#
#   display-job.sh CLIP ROOT
set -euo pipefail
clip=$1
root=$2
work=$(mktemp -d)
dumps=${ZCBUF_VM_SCREENDUMP_DIR:?not in vm-run\'s guest}

pipeline=(filesrc location="$clip" ! parsebin
	! zcjpegdec name=decode n-threads=2
	! zcconvert name=convert
	! capsfilter name=format caps=video/x-raw,format=BGRx
	! zcthumbnail name=thumbnail location="$work/thumbnail-%05d.jpg" interval=1000000000
	! zckmssink name=display enable-last-sample=false sync=false)
echo "main job on the display: gst-launch-1.0 ${pipeline[*]}"
GST_TRACERS="zerocopy(file=$work/zerocopy.tsv)" gst-launch-1.0 -q "${pipeline[@]}" &
job=$!

# The second thumbnail is written at 1 s of stream time: frames are on the
# screen by then and the clip is still playing.
shot=""
for _ in $(seq 1200); do
	if [ -e "$work/thumbnail-00001.jpg" ]; then
		echo png > "$dumps/.main-job.partial"
		mv "$dumps/.main-job.partial" "$dumps/main-job.request"
		for _ in $(seq 1200); do
			[ -e "$dumps/main-job.png" ] && { shot=main-job.png; break; }
			[ -e "$dumps/main-job.error" ] && { cat "$dumps/main-job.error" >&2; break; }
			sleep 0.1
		done
		break
	fi
	kill -0 "$job" 2>/dev/null || break
	sleep 0.1
done

status=0
wait "$job" || status=1
decoded=$(awk -F'\t' '$2 ~ /^decode:src/ { print $3 }' "$work/zerocopy.tsv" 2>/dev/null || true)
echo "main job on the display: ${decoded:-0} frames decoded and shown"
if [ -z "$shot" ]; then
	echo "main job on the display: no screenshot was taken" >&2
	status=1
fi
"$root/scripts/check-zero-copy.py" "$work/zerocopy.tsv" decode convert format thumbnail ||
	status=1
rm -rf "$work"
exit $status
