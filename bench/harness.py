# SPDX-License-Identifier: LGPL-2.1-or-later
"""The judging half of the benchmark driver, kept free of process handling so
that bench/test_harness.py can feed it made-up measurements:

- the machine's load while a program ran (/proc/stat, /proc/loadavg) and
  whether that makes its results "busy";
- collecting the BENCH rows of several runs, re-running once a program that
  ran on a busy machine;
- the limit check: a subject that beats a physical bound by more than the two
  measurements' ranges is an error of the harness, never a result;
- the targets of bench/targets.json.
"""

import json
import statistics
from dataclasses import dataclass, field

# More CPU than this share of one core used by other processes while a
# program ran makes its results "busy": on a 2-core machine a tenth of a core
# is already a compiler's start-up, enough to move a 2-thread result.
BUSY_SHARE = 0.10


class HarnessError(Exception):
    """The benchmark itself is wrong (a limit beaten, a program's output
    unreadable): its numbers must not be read as results."""


def parse_rows(stdout, program):
    rows = []
    for line in stdout.splitlines():
        if not line.startswith("BENCH "):
            continue
        try:
            row = json.loads(line[len("BENCH "):])
        except json.JSONDecodeError as error:
            raise HarnessError(f"{program}: unreadable BENCH line {line!r}: {error}") from None
        missing = {"group", "case", "subject", "value", "unit", "better"} - row.keys()
        if missing:
            raise HarnessError(f"{program}: BENCH line without {sorted(missing)}: {line!r}")
        if row["better"] not in ("higher", "lower"):
            raise HarnessError(f"{program}: better must be higher or lower: {line!r}")
        rows.append(row)
    if not rows:
        raise HarnessError(f"{program} printed no BENCH line")
    return rows


# --- load -------------------------------------------------------------------

def busy_cpu_seconds(proc_stat, ticks_per_second):
    """CPU seconds all processes of the machine have used since boot, from the
    "cpu" line of /proc/stat: user, nice, system, irq, softirq and steal (a
    hypervisor running someone else is as much in the way as a neighbour);
    idle and iowait are not busy."""
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:]]
            values += [0] * (8 - len(values))
            user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
            return (user + nice + system + irq + softirq + steal) / ticks_per_second
    raise HarnessError("/proc/stat has no cpu line")


def load_average(proc_loadavg):
    return float(proc_loadavg.split()[0])


@dataclass
class Snapshot:
    wall: float           # seconds, monotonic
    busy: float           # busy CPU seconds of the whole machine
    own: float            # CPU seconds of the driver and its finished children
    loadavg: float        # 1-minute load average


@dataclass
class Load:
    wall: float
    others: float         # CPU seconds other processes used meanwhile
    loadavg: float        # the higher of the two 1-minute load averages

    @property
    def share(self):
        """Other processes' CPU as a share of one core."""
        return self.others / self.wall if self.wall > 0 else 0.0

    def busy(self, threshold=BUSY_SHARE):
        return self.share > threshold


def load_between(before, after):
    wall = after.wall - before.wall
    others = (after.busy - before.busy) - (after.own - before.own)
    return Load(wall=wall, others=max(0.0, others), loadavg=max(before.loadavg, after.loadavg))


# --- collecting --------------------------------------------------------------

@dataclass
class Result:
    unit: str
    better: str
    limit: bool
    order: int
    values: list = field(default_factory=list)
    lows: list = field(default_factory=list)
    highs: list = field(default_factory=list)
    busy_runs: int = 0

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def low(self):
        return min(self.lows + self.values)

    @property
    def high(self):
        return max(self.highs + self.values)

    @property
    def runs(self):
        return len(self.values)

    @property
    def busy(self):
        return self.busy_runs > 0


@dataclass
class ProgramRun:
    run: int
    program: str
    load: Load
    busy: bool
    rerun: bool           # this is the repetition of a busy run


def collect(programs, runs, run_once, threshold=BUSY_SHARE, log=print):
    """Runs every program @runs times, interleaved; @run_once(program) gives
    (rows, Load). A run on a busy machine is repeated once at once and the
    quieter of the two kept; its rows stay marked busy when both were.
    Returns ({(group, case, subject): Result}, [ProgramRun])."""
    results = {}
    history = []
    for run in range(runs):
        log(f"run {run + 1}/{runs}")
        for program in programs:
            rows, load = run_once(program)
            busy = load.busy(threshold)
            history.append(ProgramRun(run + 1, program, load, busy, False))
            if busy:
                log(f"  {program}: other processes used {load.share:.2f} of a core "
                    f"(load average {load.loadavg:.2f}): running it again")
                again, again_load = run_once(program)
                again_busy = again_load.busy(threshold)
                history.append(ProgramRun(run + 1, program, again_load, again_busy, True))
                if again_load.share < load.share:
                    rows, load, busy = again, again_load, again_busy
            for row in rows:
                key = (row["group"], row["case"], row["subject"])
                if key not in results:
                    results[key] = Result(row["unit"], row["better"], bool(row.get("limit")),
                                          len(results))
                result = results[key]
                value = float(row["value"])
                result.values.append(value)
                result.lows.append(float(row.get("low", value)))
                result.highs.append(float(row.get("high", value)))
                if busy:
                    result.busy_runs += 1
    return results, history


# --- limits ------------------------------------------------------------------

def beats(subject, limit):
    """Whether @subject is better than @limit beyond both ranges: its worst
    repetition better than the limit's best one."""
    if subject.better == "higher":
        return subject.low > limit.high
    return subject.high < limit.low


def limit_violations(results):
    """Every subject that beats a limit of its (group, case) and unit."""
    violations = []
    for (group, case, name), limit in results.items():
        if not limit.limit:
            continue
        for (g, c, subject_name), subject in results.items():
            if (g, c) != (group, case) or subject.limit or subject.unit != limit.unit:
                continue
            if subject.better != limit.better:
                continue
            if beats(subject, limit):
                violations.append(
                    f"{group} [{case}]: {subject_name} {subject.median:.4g} {subject.unit} "
                    f"(range {subject.low:.4g}-{subject.high:.4g}) beats the limit "
                    f"\"{name}\" {limit.median:.4g} (range {limit.low:.4g}-{limit.high:.4g})")
    return violations


# --- targets -----------------------------------------------------------------

def find_subject(results, group, case, name):
    """The subject called @name in (group, case), else the only one whose name
    contains it (a thread count or a backend in brackets), else None."""
    keys = [k for k in results if k[0] == group and k[1] == case]
    exact = [k for k in keys if k[2] == name]
    if exact:
        return exact[0]
    partial = [k for k in keys if name in k[2]]
    return partial[0] if len(partial) == 1 else None


@dataclass
class Check:
    target: dict
    case: str
    ratio: float
    state: str            # met, MISSED, info, not measured, ...
    busy: bool
    baseline: str = ""


def best_baseline(results, group, case, names):
    """The best of @names measured in (group, case): a target "at least the
    best peer" is judged against whichever peer was fastest here."""
    found = [find_subject(results, group, case, n) for n in names]
    found = [k for k in found if k]
    if len(found) != len(names):
        return None
    better = results[found[0]].better
    pick = max if better == "higher" else min
    return pick(found, key=lambda k: results[k].median)


def check_targets(results, targets):
    checks = []
    for target in targets:
        if "why" not in target or not target["why"].strip():
            raise HarnessError(f"target \"{target['text']}\" does not say why it is what it is")
        cases = sorted({k[1] for k in results
                        if k[0] == target["group"] and target.get("case", "") in k[1]})
        if not cases:
            checks.append(Check(target, "", None, "not measured", False))
            continue
        if target["op"] == "value<=":
            # An absolute bound (a latency), judged on the subject alone;
            # the "ratio" column then holds the subject's value.
            for case in cases:
                subject = find_subject(results, target["group"], case, target["subject"])
                if not subject:
                    checks.append(Check(target, case, None, "subject or baseline missing", False))
                    continue
                value = results[subject].median
                met = value <= target["value"]
                state = "info" if target.get("info") else ("met" if met else "MISSED")
                checks.append(Check(target, case, value, state, results[subject].busy))
            continue
        baselines = target["baseline"]
        if isinstance(baselines, str):
            baselines = [baselines]
        for case in cases:
            subject = find_subject(results, target["group"], case, target["subject"])
            baseline = best_baseline(results, target["group"], case, baselines)
            if not subject or not baseline:
                checks.append(Check(target, case, None, "subject or baseline missing", False))
                continue
            ratio = results[subject].median / results[baseline].median
            if target["op"] == "ratio>=":
                met = ratio >= target["value"]
            elif target["op"] == "ratio<=":
                met = ratio <= target["value"]
            else:
                raise HarnessError(f"unknown op {target['op']} in \"{target['text']}\"")
            if target.get("info"):
                state = "info"
            else:
                state = "met" if met else "MISSED"
            busy = results[subject].busy or results[baseline].busy
            checks.append(Check(target, case, ratio, state, busy, baseline[2]))
    return checks
