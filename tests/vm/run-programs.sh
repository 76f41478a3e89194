#!/bin/sh
# Runs several test programs one after the other in one guest boot (a boot
# costs seconds under TCG, a GStreamer registry scan more); exits non-zero
# if any of them failed. Their output goes through unchanged, so gtest and
# TAP lines reach the test log for CI's count.
failed=0
for program in "$@"; do
	echo "# run-programs: $program"
	"$program"
	status=$?
	if [ $status -ne 0 ]; then
		echo "# run-programs: $program failed with status $status"
		failed=1
	fi
done
exit $failed
