#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs every zcbuf benchmark side by side with its upstream counterpart.

Each benchmark program (listed in BUILD/bench/benchmarks.txt by Meson) prints
lines of the form  BENCH {json}  with group, case, subject, value, unit and
better. This driver runs all programs --runs times, interleaved, takes the
median of each (group, case, subject), checks bench/targets.json, and writes
docs/benchmarks.md plus one PNG chart per group (gnuplot).

Timings on these machines are noisy: every comparison is made inside one
program run, subjects alternating, and the tables quote ratios.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(SOURCE / "build"), help="Meson build directory")
    parser.add_argument("--out", default=str(SOURCE / "docs"), help="where benchmarks.md goes")
    parser.add_argument("--runs", type=int, default=3, help="runs of every program")
    parser.add_argument("--only", action="append", default=[],
                        help="run only programs whose name contains this (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="exit non-zero when a target is missed")
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


def run_program(path, env):
    print(f"  {path.name}", flush=True)
    result = subprocess.run([str(path)], env=env, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{path.name} exited with {result.returncode}")
    rows = []
    for line in result.stdout.splitlines():
        if line.startswith("BENCH "):
            rows.append(json.loads(line[len("BENCH "):]))
    if not rows:
        raise RuntimeError(f"{path.name} printed no BENCH line")
    return rows


def collect(paths, env, runs):
    samples = {}   # (group, case, subject) -> [values]
    meta = {}      # same key -> (unit, better, order)
    order = 0
    for run in range(runs):
        print(f"run {run + 1}/{runs}", flush=True)
        for path in paths:
            for row in run_program(path, env):
                key = (row["group"], row["case"], row["subject"])
                samples.setdefault(key, []).append(float(row["value"]))
                if key not in meta:
                    meta[key] = (row["unit"], row["better"], order)
                    order += 1
    return {k: (statistics.median(v), min(v), max(v), len(v)) for k, v in samples.items()}, meta


def find_subject(results, group, case, needle):
    matches = [k for k in results if k[0] == group and k[1] == case and needle in k[2]]
    return matches[0] if len(matches) == 1 else None


def check_targets(results):
    targets = json.loads((SOURCE / "bench" / "targets.json").read_text())
    checks = []
    for target in targets:
        cases = sorted({k[1] for k in results
                        if k[0] == target["group"] and target.get("case", "") in k[1]})
        if not cases:
            checks.append((target, None, None, None, "not measured"))
            continue
        for case in cases:
            subject = find_subject(results, target["group"], case, target["subject"])
            baseline = find_subject(results, target["group"], case, target["baseline"])
            if not subject or not baseline:
                checks.append((target, case, None, None, "subject or baseline missing"))
                continue
            ratio = results[subject][0] / results[baseline][0]
            if target["op"] == "ratio>=":
                met = ratio >= target["value"]
            elif target["op"] == "ratio<=":
                met = ratio <= target["value"]
            else:
                raise ValueError(f"unknown op {target['op']}")
            checks.append((target, case, subject[2], ratio, "met" if met else "MISSED"))
    return checks


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


def write_report(results, meta, checks, out, command):
    out = Path(out)
    charts = out / "bench"
    charts.mkdir(parents=True, exist_ok=True)
    groups = []
    for key in sorted(results, key=lambda k: meta[k][2]):
        if key[0] not in groups:
            groups.append(key[0])

    lines = ["# Benchmarks", "",
             "Generated by `" + command + "` on " + machine_description() + ".",
             "Every program runs the zcbuf subject and its upstream counterpart side by side,"
             " alternating, on the same input; the values are medians over all runs (min-max in"
             " brackets). Ratios matter more than absolute values: the machines are noisy.", ""]

    lines += ["## Targets", "", "| target | case | ratio | result |", "|---|---|---|---|"]
    for target, case, _subject, ratio, state in checks:
        ratio_text = f"{ratio:.2f}" if ratio is not None else "-"
        lines.append(f"| {target['text']} | {case or '-'} | {ratio_text} | {state} |")
    lines.append("")

    for group in groups:
        keys = sorted((k for k in results if k[0] == group), key=lambda k: meta[k][2])
        png = write_chart(group, [(k[1], k[2], results[k][0], meta[k][0]) for k in keys], charts)
        lines += [f"## {group}", "", f"![{group}](bench/{png.name})", "",
                  "| case | subject | median | range | runs |", "|---|---|---|---|---|"]
        for k in keys:
            median, low, high, n = results[k]
            unit, better, _ = meta[k]
            lines.append(f"| {k[1]} | {k[2]} | {median:.4g} {unit} ({better} is better) |"
                         f" {low:.4g}-{high:.4g} | {n} |")
        lines.append("")

    (out / "benchmarks.md").write_text("\n".join(lines))
    print(f"wrote {out / 'benchmarks.md'} and {len(groups)} charts in {charts}")


def main():
    args = parse_args()
    if not shutil.which("gnuplot"):
        sys.exit("gnuplot is missing (Debian package gnuplot-nox)")
    paths = programs(args.build)
    if args.only:
        paths = [p for p in paths if any(o in p.name for o in args.only)]
    results, meta = collect(paths, environment(args.build), args.runs)
    checks = check_targets(results)
    command = "scripts/bench.sh" + (f" --runs {args.runs}" if args.runs != 3 else "")
    write_report(results, meta, checks, args.out, command)
    missed = [c for c in checks if c[4] != "met"]
    for target, case, _s, ratio, state in checks:
        ratio_text = f"{ratio:.2f}" if ratio is not None else "-"
        print(f"{state:>8}  {target['text']}  [{case}]  ratio {ratio_text}")
    if args.check and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
