#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the benchmark driver's judgement (bench/harness.py): the load it
measures, which runs it calls busy and repeats, the limit check and the
targets. Run by Meson in the 'bench' suite."""

import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402


def row(group, case, subject, value, low=None, high=None, better="higher", limit=False,
        unit="frames/s"):
    return {"group": group, "case": case, "subject": subject, "value": value, "unit": unit,
            "better": better, "low": value if low is None else low,
            "high": value if high is None else high, "limit": limit}


def quiet():
    return harness.Load(wall=1.0, others=0.01, loadavg=0.1)


def busy():
    return harness.Load(wall=1.0, others=0.9, loadavg=3.0)


def results_of(rows, load=None):
    results, _ = harness.collect(["p"], 1, lambda _p: (rows, load or quiet()), log=lambda _m: None)
    return results


class LoadTest(unittest.TestCase):
    STAT = "cpu  100 20 30 1000 50 5 5 10 0 0\ncpu0 50 10 15 500 25 2 3 5 0 0\n"

    def test_busy_seconds_count_user_nice_system_irq_softirq_steal(self):
        self.assertAlmostEqual(harness.busy_cpu_seconds(self.STAT, 100), 1.70)

    def test_stat_without_cpu_line_is_an_error(self):
        with self.assertRaises(harness.HarnessError):
            harness.busy_cpu_seconds("intr 1 2 3\n", 100)

    def test_others_exclude_our_own_children(self):
        before = harness.Snapshot(wall=10.0, busy=100.0, own=5.0, loadavg=0.5)
        after = harness.Snapshot(wall=12.0, busy=104.5, own=9.0, loadavg=1.5)
        load = harness.load_between(before, after)
        self.assertAlmostEqual(load.others, 0.5)
        self.assertAlmostEqual(load.share, 0.25)
        self.assertEqual(load.loadavg, 1.5)
        self.assertTrue(load.busy())

    def test_a_machine_used_only_by_us_is_quiet(self):
        before = harness.Snapshot(wall=0.0, busy=50.0, own=0.0, loadavg=0.0)
        after = harness.Snapshot(wall=4.0, busy=57.9, own=7.8, loadavg=0.0)
        self.assertFalse(harness.load_between(before, after).busy())

    def test_load_average_is_the_first_field(self):
        self.assertEqual(harness.load_average("2.84 1.34 0.54 3/412 9999\n"), 2.84)


class CollectTest(unittest.TestCase):
    def test_a_busy_run_is_repeated_once_and_the_quieter_kept(self):
        answers = [([row("g", "c", "s", 1.0)], busy()), ([row("g", "c", "s", 2.0)], quiet())]
        calls = []

        def run_once(program):
            calls.append(program)
            return answers.pop(0)

        results, history = harness.collect(["p"], 1, run_once, log=lambda _m: None)
        self.assertEqual(calls, ["p", "p"])
        result = results[("g", "c", "s")]
        self.assertEqual(result.values, [2.0])
        self.assertFalse(result.busy)
        self.assertEqual([h.rerun for h in history], [False, True])
        self.assertEqual([h.busy for h in history], [True, False])

    def test_busy_twice_stays_marked_busy(self):
        answers = [([row("g", "c", "s", 1.0)], busy()), ([row("g", "c", "s", 2.0)], busy())]
        results, _ = harness.collect(["p"], 1, lambda _p: answers.pop(0), log=lambda _m: None)
        self.assertTrue(results[("g", "c", "s")].busy)

    def test_a_quiet_run_is_not_repeated(self):
        calls = []

        def run_once(program):
            calls.append(program)
            return [row("g", "c", "s", 1.0)], quiet()

        harness.collect(["a", "b"], 2, run_once, log=lambda _m: None)
        self.assertEqual(calls, ["a", "b", "a", "b"])

    def test_ranges_join_the_programs_own_and_the_runs(self):
        answers = [([row("g", "c", "s", 10.0, 9.0, 11.0)], quiet()),
                   ([row("g", "c", "s", 12.0, 11.5, 12.5)], quiet()),
                   ([row("g", "c", "s", 14.0, 13.0, 14.0)], quiet())]
        results, _ = harness.collect(["p"], 3, lambda _p: answers.pop(0), log=lambda _m: None)
        result = results[("g", "c", "s")]
        self.assertEqual((result.median, result.low, result.high, result.runs), (12.0, 9.0, 14.0, 3))


class ParseTest(unittest.TestCase):
    def test_rows_are_read(self):
        line = "BENCH " + json.dumps(row("g", "c", "s", 3.0))
        self.assertEqual(harness.parse_rows("noise\n" + line + "\n", "p")[0]["value"], 3.0)

    def test_no_rows_is_an_error(self):
        with self.assertRaises(harness.HarnessError):
            harness.parse_rows("nothing\n", "p")

    def test_a_broken_row_is_an_error(self):
        with self.assertRaises(harness.HarnessError):
            harness.parse_rows('BENCH {"group": "g"\n', "p")
        with self.assertRaises(harness.HarnessError):
            harness.parse_rows('BENCH {"group": "g", "case": "c"}\n', "p")


class LimitTest(unittest.TestCase):
    def test_a_subject_beating_the_limit_beyond_both_ranges_is_an_error(self):
        results = results_of([row("g", "c", "bound", 100.0, 95.0, 105.0, limit=True),
                              row("g", "c", "fast", 120.0, 110.0, 125.0)])
        violations = harness.limit_violations(results)
        self.assertEqual(len(violations), 1)
        self.assertIn("fast", violations[0])

    def test_overlapping_ranges_are_within_the_spread(self):
        results = results_of([row("g", "c", "bound", 100.0, 95.0, 105.0, limit=True),
                              row("g", "c", "close", 104.0, 103.0, 108.0)])
        self.assertEqual(harness.limit_violations(results), [])

    def test_lower_is_better_limits_are_checked_the_other_way(self):
        results = results_of([row("g", "c", "floor", 10.0, 9.5, 10.5, better="lower", limit=True,
                                  unit="ms"),
                              row("g", "c", "quick", 8.0, 7.5, 9.0, better="lower", unit="ms")])
        self.assertEqual(len(harness.limit_violations(results)), 1)

    def test_limits_only_bind_their_own_case_and_unit(self):
        results = results_of([row("g", "c", "bound", 100.0, limit=True),
                              row("g", "other", "fast", 500.0),
                              row("g", "c", "fraction", 500.0, unit="fraction")])
        self.assertEqual(harness.limit_violations(results), [])


class TargetTest(unittest.TestCase):
    def target(self, **extra):
        target = {"group": "g", "case": "c", "subject": "zc", "baseline": "up",
                  "op": "ratio>=", "value": 2.0, "text": "zc twice up", "why": "because"}
        target.update(extra)
        return target

    def test_met_and_missed(self):
        met = results_of([row("g", "c", "zc", 30.0), row("g", "c", "up", 10.0)])
        missed = results_of([row("g", "c", "zc", 15.0), row("g", "c", "up", 10.0)])
        self.assertEqual(harness.check_targets(met, [self.target()])[0].state, "met")
        self.assertEqual(harness.check_targets(missed, [self.target()])[0].state, "MISSED")

    def test_the_best_of_several_baselines_is_the_one_judged(self):
        results = results_of([row("g", "c", "zc", 30.0), row("g", "c", "a", 10.0),
                              row("g", "c", "b", 20.0)])
        check = harness.check_targets(results, [self.target(baseline=["a", "b"])])[0]
        self.assertEqual(check.baseline, "b")
        self.assertAlmostEqual(check.ratio, 1.5)
        self.assertEqual(check.state, "MISSED")

    def test_an_exact_name_wins_over_names_containing_it(self):
        results = results_of([row("g", "c", "zcjpegdec", 30.0), row("g", "c", "jpegdec", 10.0)])
        check = harness.check_targets(
            results, [self.target(subject="zcjpegdec", baseline="jpegdec")])[0]
        self.assertAlmostEqual(check.ratio, 3.0)

    def test_information_is_never_missed(self):
        results = results_of([row("g", "c", "zc", 1.0), row("g", "c", "up", 10.0)])
        self.assertEqual(harness.check_targets(results, [self.target(info=True)])[0].state, "info")

    def test_a_target_judged_on_busy_results_says_so(self):
        results = results_of([row("g", "c", "zc", 30.0), row("g", "c", "up", 10.0)], busy())
        self.assertTrue(harness.check_targets(results, [self.target()])[0].busy)

    def test_a_target_without_a_reason_is_an_error(self):
        results = results_of([row("g", "c", "zc", 30.0), row("g", "c", "up", 10.0)])
        with self.assertRaises(harness.HarnessError):
            harness.check_targets(results, [self.target(why="")])

    def test_an_absolute_bound_is_judged_on_the_subject_alone(self):
        results = results_of([row("g", "c", "zc", 150.0, unit="us"),
                              row("g", "d", "zc", 250.0, unit="us")])
        bound = self.target(case="", op="value<=", value=200.0, baseline=None)
        checks = sorted(harness.check_targets(results, [bound]), key=lambda c: c.case)
        self.assertEqual([(c.case, c.ratio, c.state) for c in checks],
                         [("c", 150.0, "met"), ("d", 250.0, "MISSED")])

    def test_an_unmeasured_target_is_reported(self):
        results = results_of([row("other", "c", "zc", 30.0)])
        self.assertEqual(harness.check_targets(results, [self.target()])[0].state, "not measured")

    def test_every_target_in_the_repository_says_why(self):
        targets = json.loads((Path(__file__).resolve().parent / "targets.json").read_text())
        for target in targets:
            self.assertTrue(target.get("why", "").strip(), target["text"])


def tests_in(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_in(item)
        else:
            yield item


def main():
    """Every case as a TAP line, which Meson and .ci/summarize.py count."""
    tests = list(tests_in(unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])))
    print(f"1..{len(tests)}")
    failed = 0
    for number, test in enumerate(tests, 1):
        result = unittest.TestResult()
        test.run(result)
        problems = result.failures + result.errors
        name = test.id().split(".", 1)[1]
        if problems:
            failed += 1
            print(f"not ok {number} - {name}")
            for _test, trace in problems:
                print("\n".join("# " + line for line in trace.splitlines()))
        elif result.skipped:
            print(f"ok {number} - {name} # SKIP {result.skipped[0][1]}")
        else:
            print(f"ok {number} - {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
