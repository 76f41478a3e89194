#!/usr/bin/env bash
# Runs every benchmark side by side with its upstream counterpart and the
# physical limits, and writes the report with its charts.
#
#   scripts/bench.sh [--out DIR | --update-docs] [--runs N] [--only NAME]... [--check]
#
# --out DIR      write DIR/benchmarks.md and DIR/bench/*.png
#                (default: BUILD/bench-results; BUILD is ./build or $ZCBUF_BUILD_DIR)
# --update-docs  write docs/benchmarks.md and docs/bench/*.png instead: on a
#                quiet machine only (the report lists the runs that were busy)
# --runs N       runs of every program (default 3)
# --only NAME    only the programs whose name contains NAME (bench_jpegdec, ...)
# --check        exit 1 when a target is missed
# It sets the machine up first (scripts/setup.sh: packages, configure, build).
# Exit status 2: a harness error (a subject beat a limit; see the report).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZCBUF_BUILD_DIR:-$root/build}

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

out=""
update_docs=0
quoted=("scripts/bench.sh")
passed=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
	--update-docs) update_docs=1; quoted+=("--update-docs"); shift ;;
	--runs|--only) [ $# -ge 2 ] || { usage >&2; exit 2; }
		passed+=("$1" "$2"); quoted+=("$1" "$2"); shift 2 ;;
	--check) passed+=("$1"); quoted+=("$1"); shift ;;
	*) echo "bench.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
if [ -n "$out" ] && [ "$update_docs" = 1 ]; then
	echo "bench.sh: --out and --update-docs exclude each other" >&2
	exit 2
fi
if [ "$update_docs" = 1 ]; then
	out="$root/docs"
fi
out=${out:-$build/bench-results}

"$root/scripts/setup.sh"
python3 "$root/bench/run.py" --build "$build" --out "$out" --command "${quoted[*]}" \
	${passed[@]+"${passed[@]}"}
