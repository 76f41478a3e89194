#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs every zcbuf benchmark side by side with its upstream counterpart.

Each benchmark program (listed in BUILD/bench/benchmarks.txt by Meson) prints
lines of the form  BENCH {json}  (bench/bench_output.h). This driver runs all
programs --runs times, interleaved, records the machine's load around each
program and repeats once any program that ran while other processes used
more than --busy-share of a core, takes the median of each (group, case,
subject), checks that no subject beats a physical limit (a harness error,
exit status 2) and the targets of bench/targets.json, and writes
OUT/benchmarks.md plus one PNG chart per group (gnuplot) in OUT/bench/.

Timings on these machines are noisy: every comparison is made inside one
program run, subjects alternating, and the tables quote ratios.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

SOURCE = Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(SOURCE / "build"), help="Meson build directory")
    parser.add_argument("--out", help="where benchmarks.md and bench/*.png go "
                        "(default: BUILD/bench-results)")
    parser.add_argument("--runs", type=int, default=3, help="runs of every program")
    parser.add_argument("--only", action="append", default=[],
                        help="run only programs whose name contains this (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="exit non-zero when a target is missed")
    parser.add_argument("--busy-share", type=float, default=harness.BUSY_SHARE,
                        help="share of one core other processes may use before a run is busy")
    parser.add_argument("--command", default="bench/run.py",
                        help="the command line to quote in the report")
    return parser.parse_args()


def programs(build):
    listing = Path(build) / "bench" / "benchmarks.txt"
    if not listing.exists():
        sys.exit(f"{listing} is missing: configure and build {build} first")
    return [Path(line.strip()) for line in listing.read_text().splitlines() if line.strip()]


def environment(build):
    env = dict(os.environ)
    env["GST_PLUGIN_PATH_1_0"] = str(Path(build) / "gst" / "plugin")
    env["GST_REGISTRY"] = str(Path(build) / "bench" / "registry.bin")
    env.setdefault("GST_DEBUG", "*:1")
    return env


def snapshot():
    # This driver and the programs it waited for: everything else is others'.
    own = sum(u.ru_utime + u.ru_stime
              for u in (resource.getrusage(resource.RUSAGE_SELF),
                        resource.getrusage(resource.RUSAGE_CHILDREN)))
    return harness.Snapshot(
        wall=time.monotonic(),
        busy=harness.busy_cpu_seconds(Path("/proc/stat").read_text(),
                                      os.sysconf("SC_CLK_TCK")),
        own=own,
        loadavg=harness.load_average(Path("/proc/loadavg").read_text()))


def program_runner(paths, env):
    by_name = {p.name: p for p in paths}

    def run_once(name):
        print(f"  {name}", flush=True)
        before = snapshot()
        result = subprocess.run([str(by_name[name])], env=env, stdout=subprocess.PIPE, text=True)
        load = harness.load_between(before, snapshot())
        if result.returncode != 0:
            raise harness.HarnessError(f"{name} exited with {result.returncode}")
        return harness.parse_rows(result.stdout, name), load
    return run_once


def machine_description():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(SOURCE), "rev-parse", "--short", "HEAD"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True).stdout.strip() or "unknown"
    return (f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, "
            f"commit {commit}, {datetime.date.today().isoformat()}")


def write_chart(group, rows, out_dir):
    """Clustered bars, one cluster per case, one bar per subject."""
    cases = []
    subjects = []
    for (case, subject, _value, _unit) in rows:
        if case not in cases:
            cases.append(case)
        if subject not in subjects:
            subjects.append(subject)
    values = {(c, s): v for (c, s, v, _u) in rows}
    unit = rows[0][3]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.tsv"
        with data.open("w") as f:
            f.write("case\t" + "\t".join(f'"{s}"' for s in subjects) + "\n")
            for c in cases:
                cells = [str(values.get((c, s), "NaN")) for s in subjects]
                f.write(f'"{c}"\t' + "\t".join(cells) + "\n")
        png = out_dir / f"{group}.png"
        spread = [v for v in values.values() if v > 0]
        log = max(spread) / min(spread) > 50 if spread else False
        script = f"""
set terminal pngcairo size 1100,520 noenhanced font ",10"
set output '{png}'
set title '{group} ({unit}, median of runs; {"log scale" if log else "linear"})'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right top vertical
set xtics rotate by -20
set ylabel '{unit}'
{"set logscale y" if log else "set yrange [0:*]"}
set grid ytics
plot for [i=2:{len(subjects) + 1}] '{data}' using i:xtic(1) title columnhead(i)
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return png


def ratio_text(check):
    return f"{check.ratio:.2f}" if check.ratio is not None else "-"


def state_text(check):
    return check.state + (" (busy machine)" if check.busy else "")


def write_report(results, history, checks, violations, out, command, threshold):
    out = Path(out)
    charts = out / "bench"
    charts.mkdir(parents=True, exist_ok=True)
    groups = []
    for key in sorted(results, key=lambda k: results[k].order):
        if key[0] not in groups:
            groups.append(key[0])

    busy_runs = [h for h in history if h.busy]
    lines = ["# Benchmarks", "",
             "Generated by `" + command + "` on " + machine_description() + ".",
             "Every program runs the zcbuf subject and its upstream counterpart side by side,"
             " alternating, on the same input; the values are medians over all runs (min-max of"
             " every repetition in brackets). Ratios matter more than absolute values: the"
             " machines are noisy.",
             f"Other processes used more than {threshold:.2f} of a core during"
             f" {len(busy_runs)} of {len(history)} program runs"
             " (see [Machine load](#machine-load)); results and targets measured then are"
             " marked busy.", ""]
    lines += (SOURCE / "bench" / "how-to-read.md").read_text().rstrip().splitlines() + [""]

    if violations:
        lines += ["## Harness errors", "",
                  "A subject beat a physical limit beyond both measurements' ranges: the limit is"
                  " measured wrongly, and these results must not be read as results.", ""]
        lines += [f"- {v}" for v in violations] + [""]

    lines += ["## Targets", "", "| target | case | against | ratio | result | why |",
              "|---|---|---|---|---|---|"]
    for check in checks:
        target = check.target
        lines.append(f"| {target['text']} | {check.case or '-'} | {check.baseline or '-'} |"
                     f" {ratio_text(check)} | {state_text(check)} | {target['why']} |")
    lines.append("")

    for group in groups:
        keys = sorted((k for k in results if k[0] == group), key=lambda k: results[k].order)
        png = write_chart(group, [(k[1], k[2], results[k].median, results[k].unit)
                                  for k in keys], charts)
        lines += [f"## {group}", "", f"![{group}](bench/{png.name})", "",
                  "| case | subject | median | range | runs |", "|---|---|---|---|---|"]
        for k in keys:
            r = results[k]
            name = k[2] + (" (limit)" if r.limit else "")
            busy = f", {r.busy_runs} busy" if r.busy else ""
            lines.append(f"| {k[1]} | {name} | {r.median:.4g} {r.unit} ({r.better} is better) |"
                         f" {r.low:.4g}-{r.high:.4g} | {r.runs}{busy} |")
        lines.append("")

    lines += ["## Machine load", "",
              "CPU time other processes used while each program ran (/proc/stat less this"
              " driver's children), as a share of one core, and the 1-minute load average.", "",
              "| run | program | seconds | others' CPU (cores) | load average | verdict |",
              "|---|---|---|---|---|---|"]
    for h in history:
        verdict = ("busy" if h.busy else "quiet") + (", the repeat" if h.rerun else "")
        lines.append(f"| {h.run} | {h.program} | {h.load.wall:.1f} | {h.load.share:.2f} |"
                     f" {h.load.loadavg:.2f} | {verdict} |")
    lines.append("")

    (out / "benchmarks.md").write_text("\n".join(lines))
    print(f"wrote {out / 'benchmarks.md'} and {len(groups)} charts in {charts}")


def main():
    args = parse_args()
    if not shutil.which("gnuplot"):
        sys.exit("gnuplot is missing (Debian package gnuplot-nox)")
    out = args.out or str(Path(args.build) / "bench-results")
    paths = programs(args.build)
    if args.only:
        paths = [p for p in paths if any(o in p.name for o in args.only)]
    try:
        results, history = harness.collect([p.name for p in paths], args.runs,
                                           program_runner(paths, environment(args.build)),
                                           args.busy_share)
        targets = json.loads((SOURCE / "bench" / "targets.json").read_text())
        checks = harness.check_targets(results, targets)
    except harness.HarnessError as error:
        sys.exit(f"harness error: {error}")
    violations = harness.limit_violations(results)
    write_report(results, history, checks, violations, out, args.command, args.busy_share)

    for check in checks:
        print(f"{state_text(check):>8}  {check.target['text']}  [{check.case}]"
              f"  ratio {ratio_text(check)}")
    busy = [c for c in checks if c.busy]
    if busy:
        print(f"{len(busy)} target(s) judged on results measured on a busy machine:")
        for check in busy:
            print(f"  {check.target['text']}  [{check.case}]")
    if violations:
        print("harness error: a subject beat a physical limit:", file=sys.stderr)
        for v in violations:
            print(f"  {v}", file=sys.stderr)
        sys.exit(2)
    if args.check and any(c.state not in ("met", "info") for c in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
