#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs every benchmark program once with short runs (ZCBUF_TEST_SLOW=1) and
checks that it finishes and prints readable BENCH rows for the groups it is
meant to measure: a pipeline that stopped negotiating or a peer element that
went missing fails here, not on the day the report is regenerated. The
numbers of such short runs mean nothing and are not judged. One TAP line per
program.

    smoke.py BUILD
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import run  # noqa: E402

# The groups each program must report.
EXPECTED = {
    "bench_pool_cycle": {"pool-cycle"},
    "bench_jpegdec": {"jpeg-decode", "jpeg-latency", "jpeg-restart-latency", "jpeg-restart-decode"},
    "bench_main_job": {"main-job", "main-job-cpu"},
    "bench_thumbnail": {"thumbnail-cost"},
    "bench_zcconvert": {"zcconvert", "zcconvert-memory-bound", "memory-bandwidth"},
    "bench_ipc": {"ipc-throughput", "ipc-cpu", "ipc-latency-p50", "ipc-latency-p99"},
    "bench_kmssink": {"kms-throughput", "kms-sink-cpu", "kms-copies", "kms-dropped"},
    "bench_v4l2dec": {"v4l2dec-cpu", "v4l2dec-copies", "v4l2dec-throughput"},
}


def main(build):
    paths = run.programs(build)
    env = run.environment(build)
    env["ZCBUF_TEST_SLOW"] = "1"
    print(f"1..{len(paths)}")
    failed = 0
    for number, path in enumerate(paths, 1):
        problem = None
        try:
            result = subprocess.run([str(path)], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, timeout=400)
            if result.returncode != 0:
                problem = f"exited with {result.returncode}: {result.stderr.strip()[-500:]}"
            else:
                rows = harness.parse_rows(result.stdout, path.name)
                missing = EXPECTED.get(path.name, set()) - {r["group"] for r in rows}
                if path.name not in EXPECTED:
                    problem = "not in smoke.py's EXPECTED: say which groups it reports"
                elif missing:
                    problem = f"no rows for {sorted(missing)}"
        except subprocess.TimeoutExpired:
            problem = "did not finish within 400 s"
        except harness.HarnessError as error:
            problem = str(error)
        if problem:
            failed += 1
            print(f"not ok {number} - {path.name}: {problem}")
        else:
            print(f"ok {number} - {path.name}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
