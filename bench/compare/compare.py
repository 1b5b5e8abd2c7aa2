#!/usr/bin/env python3
"""Side-by-side comparison: asyncio for C++ vs CPython 3.13 asyncio vs uvloop.

Runs, in one invocation:
  * the C++ Google Benchmark binary (default build/release/bench/core_bench)
    with --benchmark_format=json and 5 repetitions (aggregates only, median);
  * bench/compare/scenarios.py under CPython 3.13 (default asyncio loop);
  * bench/compare/scenarios.py under /usr/bin/python3 with --loop uvloop
    (when `import uvloop` works there);
and prints one table.  Needs only the Python standard library (>= 3.11).

Examples:
    python3 bench/compare/compare.py
    python3 bench/compare/compare.py --quick --only S1,S3
    python3 bench/compare/compare.py --cxx-json bench/compare/testdata/core_bench_sample.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCENARIOS_PY = os.path.join(HERE, "scenarios.py")
DEFAULT_CXX_BENCH = os.path.join("build", "release", "bench", "core_bench")

# id -> (scenario name, C++ benchmark name, unit, default N, quick N)
# N values mirror scenarios.SCENARIOS (kept here so compare.py needs no import).
SCENARIOS = {
    "S1": ("create_task_await", "BM_create_task_await", "ns/item", 1_000_000, 100_000),
    "S2": ("chained_await", "BM_chained_await", "ns/item", 1_000_000, 100_000),
    "S3": ("task_switch", "BM_task_switch", "ns/switch", 200_000, 50_000),
    "S4": ("cancel_sleeping", "BM_cancel_sleeping", "ns/item", 100_000, 20_000),
    "S5": ("memory_per_task", "BM_memory_per_task", "bytes/task", 100_000, 20_000),
}
# Context variables: bench/context_bench.cpp and the C section of scenarios.py.
# Run with --cxx-bench build/release/bench/context_bench (the default scenario
# list follows the binary: C1..C5 for context_bench, S1..S5 otherwise).
CONTEXT_SCENARIOS = {
    "C1": ("create_task_ctx0", "BM_create_task_ctx0", "ns/item", 100_000, 20_000),
    "C2": ("create_task_ctx20", "BM_create_task_ctx20", "ns/item", 100_000, 20_000),
    "C3": ("var_get", "BM_var_get", "ns/item", 1_000_000, 100_000),
    "C4": ("var_set", "BM_var_set", "ns/item", 1_000_000, 100_000),
    "C5": ("copy_context", "BM_copy_context", "ns/item", 1_000_000, 100_000),
}
# Threads: bench/threads_bench.cpp and the T section of scenarios.py.
THREAD_SCENARIOS = {
    "T1": ("threadsafe_round_trip", "BM_threadsafe_round_trip", "ns/item", 20_000, 5_000),
    "T2": ("to_thread_empty", "BM_to_thread_empty", "ns/item", 20_000, 5_000),
    "T3": ("call_soon_threadsafe_1thread", "BM_call_soon_threadsafe_1thread", "ns/item",
           200_000, 50_000),
    "T4": ("call_soon_threadsafe_4threads", "BM_call_soon_threadsafe_4threads", "ns/item",
           200_000, 50_000),
}
# Eager tasks: bench/eager_bench.cpp and the E section of scenarios.py.
EAGER_SCENARIOS = {
    "E1": ("create_task_lazy", "BM_create_task_lazy", "ns/item", 100_000, 100_000),
    "E2": ("create_task_eager", "BM_create_task_eager", "ns/item", 100_000, 100_000),
}
CORE_IDS = list(SCENARIOS)
SCENARIOS.update(CONTEXT_SCENARIOS)
SCENARIOS.update(THREAD_SCENARIOS)
SCENARIOS.update(EAGER_SCENARIOS)


def default_ids(cxx_bench: str) -> list[str]:
    """The scenarios a binary implements: C1..C5 for context_bench, T1..T4
    for threads_bench, E1..E2 for eager_bench, else S1..S5."""
    name = os.path.basename(cxx_bench)
    if name.startswith("context_bench"):
        return list(CONTEXT_SCENARIOS)
    if name.startswith("threads_bench"):
        return list(THREAD_SCENARIOS)
    if name.startswith("eager_bench"):
        return list(EAGER_SCENARIOS)
    return CORE_IDS
AGG_ORDER = ("median", "mean")  # preferred aggregate, then fallback

_TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# C++ side: Google Benchmark JSON
# ---------------------------------------------------------------------------


def _run_name(entry: dict) -> str:
    """Benchmark instance name without the aggregate suffix."""
    rn = entry.get("run_name")
    if rn:
        return rn
    name = entry.get("name", "")
    agg = entry.get("aggregate_name")
    if agg and name.endswith("_" + agg):
        name = name[: -len(agg) - 1]
    return name


def _first_arg(run_name: str) -> int | None:
    """First numeric /N argument of 'BM_x/1000000/iterations:1' -> 1000000."""
    for part in run_name.split("/")[1:]:
        if part.isdigit():
            return int(part)
    return None


def _entry_value(cxx_name: str, entry: dict) -> float | None:
    if cxx_name == "BM_memory_per_task":
        v = entry.get("bytes_per_task")
        return float(v) if v is not None else None
    ips = entry.get("items_per_second")
    if ips:
        return 1e9 / float(ips)
    return None


def parse_cxx_json(doc: dict, want_n: dict[str, int] | None = None) -> dict:
    """Return {sid: {"value", "n", "name", "aggregate"} or {"error"}}.

    For each scenario, entries are matched by prefix (the part of the run name
    before the first '/').  If several instances exist (e.g. /100000 and
    /1000000) the one whose N equals want_n[sid] wins, else the largest N.
    The `median` aggregate is used when present, else `mean`, else the median
    of the per-repetition iteration entries.
    """
    want_n = want_n or {}
    out: dict = {}
    benches = doc.get("benchmarks", [])
    for sid, (_, cxx_name, _, _, _) in SCENARIOS.items():
        # group entries by instance (run name)
        inst: dict[str, list[dict]] = {}
        for e in benches:
            rn = _run_name(e)
            if rn.split("/")[0] == cxx_name:
                inst.setdefault(rn, []).append(e)
        if not inst:
            continue
        names = list(inst)
        wn = want_n.get(sid)
        chosen = next((rn for rn in names if wn is not None and _first_arg(rn) == wn), None)
        if chosen is None:
            chosen = max(names, key=lambda rn: (_first_arg(rn) or 0))
        entries = inst[chosen]
        errs = [e for e in entries if e.get("error_occurred")]
        if errs:
            out[sid] = {"error": errs[0].get("error_message", "error"), "name": chosen}
            continue
        value = None
        used = None
        for agg in AGG_ORDER:
            for e in entries:
                if e.get("run_type") == "aggregate" and e.get("aggregate_name") == agg:
                    value = _entry_value(cxx_name, e)
                    used = agg
                    break
            if value is not None:
                break
        if value is None:
            vals = [_entry_value(cxx_name, e) for e in entries
                    if e.get("run_type", "iteration") == "iteration"]
            vals = sorted(v for v in vals if v is not None)
            if vals:
                mid = len(vals) // 2
                value = vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
                used = f"median of {len(vals)} runs"
        if value is None:
            missing = "bytes_per_task" if sid == "S5" else "items_per_second"
            out[sid] = {"error": f"no {missing} in {chosen}", "name": chosen}
            continue
        res = {"value": value, "n": _first_arg(chosen), "name": chosen, "aggregate": used}
        if sid == "S5":
            # optional extra counter, shown for information if the C++ side reports it
            for e in entries:
                if e.get("aggregate_name") == used and "rss_bytes_per_task" in e:
                    res["rss"] = float(e["rss_bytes_per_task"])
        out[sid] = res
    return out


def run_cxx(args, ids: list[str]) -> tuple[dict | None, str]:
    """Returns (json_doc or None, description)."""
    if args.cxx_json:
        with open(args.cxx_json) as f:
            return json.load(f), f"C++: {args.cxx_json}"
    path = args.cxx_bench
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(REPO, path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        note(f"C++: benchmark binary not found at {args.cxx_bench}\n"
             f"     build it with:  cmake --workflow --preset release\n"
             f"     (produces build/release/bench/core_bench), or pass --cxx-bench PATH.")
        return None, "C++: not built"
    reps = args.reps if args.reps is not None else (3 if args.quick else 5)
    cmd = [path, "--benchmark_format=json", f"--benchmark_repetitions={reps}",
           "--benchmark_report_aggregates_only=true"]
    if set(ids) != set(SCENARIOS):
        cmd.append("--benchmark_filter=^(" + "|".join(SCENARIOS[s][1] for s in ids) + ")")
    cmd += args.cxx_arg
    note("C++: " + " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        note(f"C++: {path} exited with {p.returncode}")
    try:
        return json.loads(p.stdout), f"C++: {path}"
    except json.JSONDecodeError as e:
        note(f"C++: could not parse JSON output ({e})")
        return None, "C++: failed"


# ---------------------------------------------------------------------------
# Python side
# ---------------------------------------------------------------------------


def _py_version(cmd: list[str], env: dict) -> tuple[int, int] | None:
    try:
        p = subprocess.run(cmd + ["-c", "import sys; print(*sys.version_info[:2])"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    try:
        major, minor = map(int, p.stdout.split())
        return major, minor
    except ValueError:
        return None


def find_python313(explicit: str | None) -> tuple[list[str], dict] | None:
    """Locate CPython 3.13: `PYENV_VERSION=3.13.0 python3` first, then python3.13.

    When compare.py itself runs under a pyenv interpreter, pyenv has put that
    version's bin/ first on PATH, so the pyenv shims are also tried directly.
    """
    if explicit:
        return [explicit], dict(os.environ)
    pyenv_env = dict(os.environ, PYENV_VERSION="3.13.0")
    plain_env = dict(os.environ)
    shims = os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "shims")
    candidates = [
        (shutil.which("python3"), pyenv_env),
        (os.path.join(shims, "python3"), pyenv_env),
        (shutil.which("python3.13"), plain_env),
        (shutil.which("python3.13"), pyenv_env),
        (os.path.join(shims, "python3.13"), pyenv_env),
    ]
    seen = set()
    for exe, env in candidates:
        if not exe or not os.access(exe, os.X_OK) or (exe, id(env)) in seen:
            continue
        seen.add((exe, id(env)))
        if _py_version([exe], env) == (3, 13):
            return [exe], env
    return None


def uvloop_python(explicit: str | None) -> list[str] | None:
    py = explicit or "/usr/bin/python3"
    try:
        p = subprocess.run([py, "-c", "import uvloop"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [py] if p.returncode == 0 else None


def run_scenarios(cmd: list[str], env: dict, args, ids: list[str], loop: str) -> dict | None:
    full = cmd + [SCENARIOS_PY, "--json", "--loop", loop, "--only", ",".join(ids)]
    if args.quick:
        full.append("--quick")
    if args.reps is not None:
        full += ["--reps", str(args.reps)]
    if args.no_gc:
        full.append("--no-gc")
    note(f"{loop}: " + " ".join(full))
    p = subprocess.run(full, env=env, stdout=subprocess.PIPE, text=True)
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError:
        note(f"{loop}: scenarios.py failed (exit {p.returncode})")
        return None
    if p.returncode != 0:
        note(f"{loop}: scenarios.py exited with {p.returncode}; partial results")
    return doc


# ---------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "bytes/task":
        return f"{v:,.0f} B"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}"


def _ratio(py: float | None, cxx: float | None) -> str:
    if py is None or cxx is None or cxx <= 0 or math.isnan(cxx):
        return "-"
    r = py / cxx
    return f"{r:.1f}x" if r < 100 else f"{r:,.0f}x"


def _py_value(doc: dict | None, sid: str) -> tuple[float | None, dict | None]:
    if not doc:
        return None, None
    r = doc.get("results", {}).get(sid)
    if not r or "error" in r:
        return None, r
    return r.get("median"), r


def render_table(ids, cxx: dict, py: dict | None, uv: dict | None, py_label: str,
                 uv_label: str) -> str:
    headers = ["scenario", "unit", "C++", py_label, "ratio (Py/C++)", uv_label, "ratio (uv/C++)"]
    rows = []
    for sid in ids:
        name, _, unit, _, _ = SCENARIOS[sid]
        c = cxx.get(sid, {})
        cv = c.get("value")
        pv, _ = _py_value(py, sid)
        uvv, _ = _py_value(uv, sid)
        cxx_cell = _fmt(cv, unit) if "error" not in c else "error"
        rows.append([f"{sid} {name}", unit, cxx_cell, _fmt(pv, unit), _ratio(pv, cv),
                     _fmt(uvv, unit), _ratio(uvv, cv)])
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]

    def line(cells):
        return " | ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                          for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(headers), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def render_notes(ids, cxx: dict, py: dict | None, uv: dict | None) -> str:
    lines = []
    for sid in ids:
        name, _, unit, _, _ = SCENARIOS[sid]
        parts = []
        c = cxx.get(sid)
        if c:
            if "error" in c:
                parts.append(f"C++ {c['name']}: ERROR {c['error']}")
            else:
                parts.append(f"C++ {c['name']} ({c['aggregate']})")
        for label, doc in (("asyncio", py), ("uvloop", uv)):
            _, r = _py_value(doc, sid)
            if r and "error" in r:
                parts.append(f"{label}: ERROR {r['error']}")
            elif r:
                parts.append(f"{label} N={r['n']:,} x{r['reps']}")
        lines.append(f"  {sid}: " + "; ".join(parts) if parts else f"  {sid}: no data")
    # RSS info for S5
    if "S5" in ids:
        rss = []
        c = cxx.get("S5") or {}
        if "rss" in c:
            rss.append(f"C++ {c['rss']:,.0f} B")
        for label, doc in (("asyncio", py), ("uvloop", uv)):
            _, r = _py_value(doc, "S5")
            if r and "rss_bytes_per_task" in r:
                rss.append(f"{label} {r['rss_bytes_per_task']:,.0f} B")
        if rss:
            lines.append("  S5 RSS delta per task (info, /proc/self/statm): " + ", ".join(rss))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="asyncio for C++ vs Python asyncio / uvloop")
    ap.add_argument("--cxx-bench", default=DEFAULT_CXX_BENCH,
                    help=f"C++ benchmark binary (default {DEFAULT_CXX_BENCH}, relative to "
                         "the current directory or the repo root)")
    ap.add_argument("--cxx-json", metavar="FILE",
                    help="read Google Benchmark JSON from FILE instead of running the binary")
    ap.add_argument("--cxx-arg", action="append", default=[], metavar="ARG",
                    help="extra argument passed to the C++ binary (repeatable)")
    ap.add_argument("--python313", metavar="PATH",
                    help="CPython 3.13 interpreter (default: PYENV_VERSION=3.13.0 python3, "
                         "then python3.13 on PATH)")
    ap.add_argument("--uvloop-python", metavar="PATH",
                    help="interpreter that has uvloop (default /usr/bin/python3)")
    ap.add_argument("--no-python", action="store_true", help="skip the asyncio 3.13 column")
    ap.add_argument("--no-uvloop", action="store_true", help="skip the uvloop column")
    ap.add_argument("--quick", action="store_true", help="smaller N, fewer repetitions")
    ap.add_argument("--only", default="", help="comma-separated scenarios, e.g. S1,S3")
    ap.add_argument("--reps", type=int, default=None,
                    help="repetitions for every side (default 5, --quick 3)")
    ap.add_argument("--no-gc", action="store_true",
                    help="Python: disable the cyclic GC during timed repetitions")
    ap.add_argument("--save", metavar="FILE", help="write all raw results as JSON to FILE")
    args = ap.parse_args(argv)

    ids = ([s.strip().upper() for s in args.only.split(",") if s.strip()]
           or default_ids(args.cxx_bench))
    for sid in ids:
        if sid not in SCENARIOS:
            ap.error(f"unknown scenario {sid!r}; choose from {', '.join(SCENARIOS)}")
    want_n = {sid: SCENARIOS[sid][4 if args.quick else 3] for sid in ids}

    # 1. C++ (run first and alone: the machine has few cores)
    cxx_doc, cxx_desc = run_cxx(args, ids)
    cxx = parse_cxx_json(cxx_doc, want_n) if cxx_doc else {}
    cxx = {k: v for k, v in cxx.items() if k in ids}

    # 2. CPython 3.13 asyncio
    py_doc = None
    py_label = "asyncio 3.13"
    if not args.no_python:
        found = find_python313(args.python313)
        if found is None:
            note("asyncio 3.13: no CPython 3.13 found (tried PYENV_VERSION=3.13.0 python3 "
                 "and python3.13); skipping")
        else:
            py_doc = run_scenarios(found[0], found[1], args, ids, "asyncio")
            if py_doc:
                py_label = f"asyncio {py_doc['context']['python']}"

    # 3. uvloop
    uv_doc = None
    uv_label = "uvloop"
    if not args.no_uvloop:
        uvpy = uvloop_python(args.uvloop_python)
        if uvpy is None:
            note("uvloop: not installed (apt-get install python3-uvloop)")
        else:
            uv_doc = run_scenarios(uvpy, dict(os.environ), args, ids, "uvloop")
            if uv_doc:
                ctx = uv_doc["context"]
                uv_label = f"uvloop {ctx.get('loop_version')} (py {ctx['python']})"

    print()
    print(f"{cxx_desc}" + ("" if cxx else "  [no C++ results]"))
    print(render_table(ids, cxx, py_doc, uv_doc, py_label, uv_label))
    print(render_notes(ids, cxx, py_doc, uv_doc))
    print("  Values are medians; time rows are ns per item (S3: per switch), "
          "S5 is bytes/task (tracemalloc for Python).")

    if args.save:
        with open(args.save, "w") as f:
            json.dump({"cxx_source": cxx_desc, "cxx": cxx, "cxx_raw": cxx_doc,
                       "asyncio": py_doc, "uvloop": uv_doc}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
