#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Counts test cases in a Meson test log and prints 'N passed, N failed, N skipped'.

Meson counts programs; CI counts cases. Each program's output is read:
GoogleTest result lines, TAP lines ('ok' / 'not ok', '# SKIP'), or, for a
program that prints neither, its Meson result. A program that failed
without a failing case (a crash, a leak report at exit, a timeout) adds one
failure of its own, so nothing that went wrong is lost in the count.
"""
import json
import re
import sys

GTEST = re.compile(r"^\[\s+(OK|FAILED|SKIPPED)\s+\] (.*) \(\d+ ms\)\s*$")
TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def count(output):
    passed = failed = skipped = 0
    failures = []
    for line in output.splitlines():
        m = GTEST.match(line)
        if m:
            state, name = m.groups()
            if state == "OK":
                passed += 1
            elif state == "SKIPPED":
                skipped += 1
            else:
                failed += 1
                failures.append(name)
            continue
        m = TAP.match(line)
        if m:
            state, rest = m.groups()
            if "# SKIP" in rest.upper():
                skipped += 1
            elif state == "ok":
                passed += 1
            else:
                failed += 1
                failures.append(rest.strip(" -"))
    return passed, failed, skipped, failures


def main(path):
    total = [0, 0, 0]
    failures = []
    with open(path) as log:
        for line in log:
            test = json.loads(line)
            output = test.get("stdout", "") + "\n" + (test.get("stderr") or "")
            passed, failed, skipped, names = count(output)
            result = test["result"]
            ok = result in ("OK", "EXPECTEDFAIL")
            if passed + failed + skipped == 0:
                if result == "SKIP":
                    skipped = 1
                elif ok:
                    passed = 1
                else:
                    failed = 1
                    names = [test["name"] + " (" + result + ")"]
            elif not ok and result != "SKIP" and failed == 0:
                failed = 1
                names = [test["name"] + " (" + result + " after its cases passed)"]
            total[0] += passed
            total[1] += failed
            total[2] += skipped
            failures += [test["name"] + ": " + n for n in names]
    for name in failures:
        print("FAILED: " + name)
    print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"))
