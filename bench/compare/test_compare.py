#!/usr/bin/env python3
"""Tests for compare.py's Google Benchmark JSON parsing (stdlib unittest only).

    python3 bench/compare/test_compare.py
"""

import io
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402

SAMPLE = os.path.join(HERE, "testdata", "core_bench_sample.json")
ITER_SAMPLE = os.path.join(HERE, "testdata", "core_bench_iterations_sample.json")
# Real output of libbenchmark 1.7.1 (Debian 12) from a dummy binary that uses
# the contract's benchmark names, Arg(N), SetItemsProcessed and bytes_per_task.
REAL_171 = os.path.join(HERE, "testdata", "core_bench_gbench171_dummy.json")


def load(path):
    with open(path) as f:
        return json.load(f)


class ParseTest(unittest.TestCase):
    def test_median_aggregates(self):
        r = compare.parse_cxx_json(load(SAMPLE), {"S1": 1_000_000})
        self.assertEqual(set(r), {"S1", "S2", "S3", "S4", "S5"})
        self.assertAlmostEqual(r["S1"]["value"], 79.2, places=6)
        self.assertEqual(r["S1"]["n"], 1_000_000)
        self.assertEqual(r["S1"]["aggregate"], "median")
        self.assertAlmostEqual(r["S2"]["value"], 9.9, places=6)
        self.assertAlmostEqual(r["S3"]["value"], 39.6, places=6)  # /iterations:1 suffix
        self.assertAlmostEqual(r["S4"]["value"], 59.4, places=6)  # /real_time suffix
        self.assertAlmostEqual(r["S5"]["value"], 256.0)           # bytes_per_task counter

    def test_instance_selection(self):
        doc = load(SAMPLE)
        self.assertAlmostEqual(compare.parse_cxx_json(doc, {"S1": 100_000})["S1"]["value"], 74.25)
        # no wanted N matches -> largest N
        self.assertEqual(compare.parse_cxx_json(doc, {"S1": 7})["S1"]["n"], 1_000_000)
        self.assertEqual(compare.parse_cxx_json(doc)["S1"]["n"], 1_000_000)

    def test_mean_fallback(self):
        doc = load(SAMPLE)
        doc["benchmarks"] = [e for e in doc["benchmarks"] if e.get("aggregate_name") != "median"]
        r = compare.parse_cxx_json(doc)
        self.assertEqual(r["S2"]["aggregate"], "mean")
        self.assertAlmostEqual(r["S2"]["value"], 10.0)

    def test_iteration_only(self):
        r = compare.parse_cxx_json(load(ITER_SAMPLE))
        for sid, v in (("S1", 80.0), ("S2", 10.0), ("S3", 40.0), ("S4", 60.0), ("S5", 256.0)):
            self.assertAlmostEqual(r[sid]["value"], v, places=6, msg=sid)

    def test_real_171_output(self):
        doc = load(REAL_171)
        r = compare.parse_cxx_json(doc, {"S1": 1_000_000})
        self.assertEqual(set(r), {"S1", "S2", "S3", "S4", "S5"})
        for sid, name in (("S1", "BM_create_task_await/1000000"),
                          ("S3", "BM_task_switch/200000/iterations:1"),
                          ("S4", "BM_cancel_sleeping/100000/real_time")):
            self.assertEqual(r[sid]["name"], name)
            med = next(e for e in doc["benchmarks"]
                       if e["run_name"] == name and e["aggregate_name"] == "median")
            self.assertAlmostEqual(r[sid]["value"], 1e9 / med["items_per_second"])
        self.assertEqual(r["S5"]["value"], 312.0)
        self.assertEqual(compare.parse_cxx_json(doc, {"S1": 100_000})["S1"]["n"], 100_000)

    def test_no_run_name_and_error(self):
        doc = {"benchmarks": [
            {"name": "BM_chained_await/1000000_median", "run_type": "aggregate",
             "aggregate_name": "median", "real_time": 1, "cpu_time": 1, "time_unit": "ms",
             "items_per_second": 2e8},
            {"name": "BM_task_switch/200000", "run_type": "iteration", "error_occurred": True,
             "error_message": "boom", "real_time": 0, "cpu_time": 0, "time_unit": "ns"},
        ]}
        r = compare.parse_cxx_json(doc)
        self.assertAlmostEqual(r["S2"]["value"], 5.0)
        self.assertEqual(r["S3"]["error"], "boom")
        self.assertNotIn("S1", r)


class CliTest(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_table_from_json(self):
        p = self.run_cli("--cxx-json", SAMPLE, "--no-python", "--no-uvloop")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("S1 create_task_await", p.stdout)
        self.assertIn("79.2", p.stdout)
        self.assertIn("256 B", p.stdout)

    def test_only_filter(self):
        p = self.run_cli("--cxx-json", SAMPLE, "--no-python", "--no-uvloop", "--only", "s1,S3")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("S3 task_switch", p.stdout)
        self.assertNotIn("S2 chained_await", p.stdout)

    def test_missing_binary_hint(self):
        p = self.run_cli("--cxx-bench", "/nonexistent/core_bench", "--no-python", "--no-uvloop")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("cmake --workflow --preset release", p.stderr)
        self.assertIn("[no C++ results]", p.stdout)


if __name__ == "__main__":
    unittest.main()
