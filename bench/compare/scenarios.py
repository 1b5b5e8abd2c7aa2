#!/usr/bin/env python3
"""Python asyncio side of the "asyncio for C++" benchmark comparison.

The five scenarios below are the contract; bench/core_bench (C++) implements
exactly the same steps.  Every timed scenario is measured with
time.perf_counter_ns, repeated --reps times (each repetition on a fresh event
loop created by asyncio.Runner), and the MEDIAN per-item time is reported.

S1 create_task_await   (default N = 1,000,000; --quick: 100,000)
    async def trivial(): return 1
    timed: tasks = [asyncio.create_task(trivial()) for _ in range(N)]
           for t in tasks: await t
    per item = timed / N

S2 chained_await       (default N = 1,000,000; --quick: 100,000)
    async def leaf(i): return i
    in one task, timed: acc = 0; for i in range(N): acc += await leaf(i)
    per item = timed / N          (no tasks: plain coroutine awaits)

S3 task_switch         (default N = 200,000; --quick: 50,000)
    Protocol, to be ported line by line:
        state.ping = loop.create_future()    # before either task exists
        state.pong = None
        # --- timer starts ---
        b = create_task(ponger(N))           # B is created FIRST
        a = create_task(pinger(N))           # then A
        await b; await a
        # --- timer stops ---

        async def ponger(n):                 # task B
            for _ in range(n):
                await state.ping             # (1) wait for A
                state.ping = loop.create_future()   # (2) arm next ping BEFORE waking A
                pong, state.pong = state.pong, None
                pong.set_result(None)        # (3) wake A
        async def pinger(n):                 # task A
            for _ in range(n):
                state.pong = loop.create_future()   # (4) arm pong BEFORE waking B
                state.ping.set_result(None)  # (5) wake B
                await state.pong             # (6) wait for B

    Why it is correct (no deadlock, no InvalidStateError):
      * B runs first (FIFO ready queue) and suspends on the initial ping.
      * A arms a fresh pong (4), then completes the ping B waits on (5); the
        wake-up of B goes through loop.call_soon, so B does not run until A
        suspends at (6).
      * B resumes, replaces ping with a fresh pending future (2) *before*
        completing pong (3).  A therefore always finds a pending ping at (5),
        so set_result is never called twice on one future.
      * Every future is completed exactly once and awaited exactly once,
        except the last ping B creates in its final iteration, which is left
        pending and simply dropped.
      * Each iteration is 2 hand-offs through the loop (A->B, B->A);
        per switch = timed / (2*N).

S4 cancel_sleeping     (default N = 100,000; --quick: 20,000)
    untimed: tasks = [create_task(asyncio.sleep(3600)) ...]; await asyncio.sleep(0)
             (all N tasks are now suspended inside sleep)
    timed:   for t in tasks: t.cancel()
             for t in tasks: try: await t except CancelledError: pass
    per item = timed / N

S5 memory_per_task     (default N = 100,000; --quick: 20,000)
    fut = loop.create_future()               # shared, never completed
    tracemalloc.start(); gc.collect(); before = traced current
    tasks = [create_task(waiter(fut)) ...]   # async def waiter(f): await f
    await asyncio.sleep(0)                   # all N suspended on fut
    bytes/task = (traced current - before) / N
    then cancel all tasks and await them (in asyncio the first cancel also
    cancels the shared fut, since a task cancels the future it waits on).
    Also: RSS delta per task (from /proc/self/statm) measured in a separate,
    first pass *without* tracemalloc (tracemalloc's own bookkeeping would
    inflate RSS).  The RSS figure is for information only: it depends on the
    allocator's page reuse, so it is only meaningful in a fresh process (see
    the isolation note below).

Isolation: unless --in-process is given, each selected scenario runs in its
own child process (a fresh interpreter), so heap state left by one scenario
(e.g. 1,000,000 freed tasks) does not distort the next one.

Usage:
    PYENV_VERSION=3.13.0 python3 bench/compare/scenarios.py [--quick] [--only S1,S3]
    /usr/bin/python3 bench/compare/scenarios.py --loop uvloop
    ... --json            machine-readable output (used by compare.py)
    ... --selftest        small-N correctness checks of every scenario
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

# ---------------------------------------------------------------------------
# Scenario bodies (one repetition each).  Each returns a dict of raw figures.
# ---------------------------------------------------------------------------


async def trivial():
    return 1


async def leaf(i):
    return i


async def s1_create_task_await(n: int) -> dict:
    t0 = time.perf_counter_ns()
    tasks = [asyncio.create_task(trivial()) for _ in range(n)]
    for t in tasks:
        await t
    t1 = time.perf_counter_ns()
    return {"total_ns": t1 - t0, "items": n}


async def s2_chained_await(n: int) -> dict:
    # Runs inside the Runner's main task: that is the "one task".
    acc = 0
    t0 = time.perf_counter_ns()
    for i in range(n):
        acc += await leaf(i)
    t1 = time.perf_counter_ns()
    assert acc == n * (n - 1) // 2
    return {"total_ns": t1 - t0, "items": n}


class _SwitchState:
    __slots__ = ("ping", "pong")


async def s3_task_switch(n: int) -> dict:
    loop = asyncio.get_running_loop()
    state = _SwitchState()
    state.ping = loop.create_future()
    state.pong = None

    async def ponger(n):  # task B
        for _ in range(n):
            await state.ping  # wait for A
            state.ping = loop.create_future()
            pong, state.pong = state.pong, None
            pong.set_result(None)  # wake A

    async def pinger(n):  # task A
        for _ in range(n):
            state.pong = loop.create_future()
            state.ping.set_result(None)  # wake B
            await state.pong

    t0 = time.perf_counter_ns()
    b = asyncio.create_task(ponger(n))  # B first
    a = asyncio.create_task(pinger(n))  # then A
    await b
    await a
    t1 = time.perf_counter_ns()
    return {"total_ns": t1 - t0, "items": 2 * n}


async def s4_cancel_sleeping(n: int) -> dict:
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(n)]
    await asyncio.sleep(0)  # every task is now suspended inside sleep
    t0 = time.perf_counter_ns()
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            await t
        except asyncio.CancelledError:
            pass
    t1 = time.perf_counter_ns()
    return {"total_ns": t1 - t0, "items": n}


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


async def _waiter(fut):
    await fut


async def s5_memory_per_task(n: int, use_tracemalloc: bool = True) -> dict:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()  # shared, never completed
    gc.collect()
    if use_tracemalloc:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    rss_before = _rss_bytes()
    tasks = [asyncio.create_task(_waiter(fut)) for _ in range(n)]
    await asyncio.sleep(0)  # all N are suspended on fut
    rss_after = _rss_bytes()
    out: dict = {"items": n}
    if use_tracemalloc:
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        out["traced_bytes"] = after - before
    if rss_before is not None and rss_after is not None:
        out["rss_bytes"] = rss_after - rss_before
    # cleanup: cancel all and await them.  Note: in asyncio, cancelling a task
    # that awaits a bare future also cancels that future, so the first
    # t.cancel() cancels the shared fut too; the rest are cancelled anyway.
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            await t
        except asyncio.CancelledError:
            pass
    assert all(t.cancelled() for t in tasks)
    return out


SCENARIOS = {
    # id: (name, func, default N, quick N, unit)
    "S1": ("create_task_await", s1_create_task_await, 1_000_000, 100_000, "ns/item"),
    "S2": ("chained_await", s2_chained_await, 1_000_000, 100_000, "ns/item"),
    "S3": ("task_switch", s3_task_switch, 200_000, 50_000, "ns/switch"),
    "S4": ("cancel_sleeping", s4_cancel_sleeping, 100_000, 20_000, "ns/item"),
    "S5": ("memory_per_task", s5_memory_per_task, 100_000, 20_000, "bytes/task"),
}
DEFAULT_REPS = 5
QUICK_REPS = 3

# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def make_loop_factory(loop_name: str):
    if loop_name == "asyncio":
        return None, None
    if loop_name == "uvloop":
        import uvloop  # raises ImportError if missing; handled by caller

        return uvloop.new_event_loop, getattr(uvloop, "__version__", "?")
    raise ValueError(loop_name)


def run_once(loop_factory, coro):
    # asyncio.Runner (3.11+) == asyncio.run with an optional loop_factory.
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(coro)


def measure(sid: str, n: int, reps: int, loop_factory, no_gc: bool = False) -> dict:
    name, func, _, _, unit = SCENARIOS[sid]
    res = {"id": sid, "name": name, "n": n, "reps": reps, "unit": unit}
    if sid == "S5":
        # pass 0: RSS only (no tracemalloc), in the still-fresh process
        r0 = run_once(loop_factory, func(n, use_tracemalloc=False))
        if "rss_bytes" in r0:
            res["rss_bytes_per_task"] = r0["rss_bytes"] / n
        samples = []
        for _ in range(reps):
            r = run_once(loop_factory, func(n, use_tracemalloc=True))
            samples.append(r["traced_bytes"] / n)
        res["samples"] = samples
        res["median"] = statistics.median(samples)
        return res

    # short warm-up, not timed
    run_once(loop_factory, func(min(n, 10_000)))
    samples = []
    for _ in range(reps):
        gc.collect()
        if no_gc:
            gc.disable()
        try:
            r = run_once(loop_factory, func(n))
        finally:
            if no_gc:
                gc.enable()
        samples.append(r["total_ns"] / r["items"])
    res["samples"] = samples
    res["median"] = statistics.median(samples)
    return res


def env_info(loop_name: str, loop_version) -> dict:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "loop": loop_name,
        "loop_version": loop_version,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def run_child(sid: str, args) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--in-process", "--json",
           "--only", sid, "--loop", args.loop, "--reps", str(args.reps)]
    if args.quick:
        cmd.append("--quick")
    if args.n is not None:
        cmd += ["--n", str(args.n)]
    if args.no_gc:
        cmd.append("--no-gc")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    try:
        return json.loads(p.stdout)["results"][sid]  # also carries a reported error
    except (ValueError, KeyError):
        return {"id": sid, "name": SCENARIOS[sid][0], "error": f"child exited {p.returncode}"}


def fmt_result(r: dict) -> str:
    if "error" in r:
        return f"{r['id']} {r['name']:<18} ERROR: {r['error']}"
    s = f"{r['id']} {r['name']:<18} N={r['n']:<9} median {r['median']:10.1f} {r['unit']}"
    s += "   (samples: " + ", ".join(f"{x:.1f}" for x in r["samples"]) + ")"
    if "rss_bytes_per_task" in r:
        s += f"   RSS delta {r['rss_bytes_per_task']:.1f} bytes/task"
    return s


# ---------------------------------------------------------------------------
# Self test: small-N correctness checks (protocol traces, final states).
# ---------------------------------------------------------------------------


async def _selftest_body():
    loop = asyncio.get_running_loop()
    # S1
    r = await s1_create_task_await(1000)
    assert r["items"] == 1000
    # S2 (asserts acc internally)
    await s2_chained_await(1000)
    # S3: instrumented copy of the protocol, checks strict alternation.
    n = 50
    trace = []
    state = _SwitchState()
    state.ping = loop.create_future()
    state.pong = None

    async def ponger(n):
        for _ in range(n):
            await state.ping
            trace.append("B")
            state.ping = loop.create_future()
            pong, state.pong = state.pong, None
            pong.set_result(None)

    async def pinger(n):
        for _ in range(n):
            trace.append("A")
            state.pong = loop.create_future()
            state.ping.set_result(None)
            await state.pong

    b = asyncio.create_task(ponger(n))
    a = asyncio.create_task(pinger(n))
    await b
    await a
    assert trace == ["A", "B"] * n, trace[:10]
    assert not state.ping.done() and state.pong is None
    r = await s3_task_switch(1000)
    assert r["items"] == 2000
    # S4
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(100)]
    await asyncio.sleep(0)
    assert not any(t.done() for t in tasks)
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            await t
        except asyncio.CancelledError:
            pass
    assert all(t.cancelled() for t in tasks)
    await s4_cancel_sleeping(1000)
    # S5
    r = await s5_memory_per_task(1000)
    assert r["traced_bytes"] > 0
    return "ok"


def unsupported(sid: str) -> str:
    """Why this Python cannot run scenario `sid`, or "" if it can."""
    if sid == "E2" and not hasattr(asyncio, "eager_task_factory"):
        return f"needs Python >= 3.12 (asyncio.eager_task_factory); this is {platform.python_version()}"
    return ""


def selftest(loop_factory) -> None:
    print("selftest:", run_once(loop_factory, _selftest_body()))
    # Then every registered scenario once at a small N, so that a broken
    # section (T*, C*, E*) fails here rather than in a long compare.py run.
    ran = 0
    for sid in SCENARIOS:
        missing = unsupported(sid)
        if missing:
            print(f"selftest: {sid} skipped ({missing})")
            continue
        r = measure(sid, 200, 1, loop_factory)
        if "error" in r or not r["median"] > 0:
            raise AssertionError(f"{sid}: {r}")
        ran += 1
    print(f"selftest: {ran} scenarios ran at N=200")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--quick", action="store_true", help="smaller N, fewer repetitions")
    ap.add_argument("--only", default="", help="comma-separated scenario ids, e.g. S1,S3")
    ap.add_argument("--reps", type=int, default=None, help="repetitions (median reported)")
    ap.add_argument("--n", type=int, default=None, help="override N for every selected scenario")
    ap.add_argument("--json", action="store_true", help="print JSON to stdout")
    ap.add_argument("--no-gc", action="store_true",
                    help="disable the cyclic GC during timed repetitions (default: enabled)")
    ap.add_argument("--in-process", action="store_true",
                    help="run all scenarios in this process instead of one child per scenario")
    ap.add_argument("--selftest", action="store_true", help="run small-N correctness checks")
    args = ap.parse_args(argv)
    if sys.version_info < (3, 11):
        ap.error("needs Python >= 3.11 (asyncio.Runner)")

    if args.reps is None:
        args.reps = QUICK_REPS if args.quick else DEFAULT_REPS
    try:
        loop_factory, loop_version = make_loop_factory(args.loop)
    except ImportError as e:
        print(f"{args.loop}: not installed ({e}); on Debian: apt-get install python3-uvloop "
              "and run with /usr/bin/python3", file=sys.stderr)
        return 2

    if args.selftest:
        selftest(loop_factory)
        return 0

    ids = [s.strip().upper() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    for sid in ids:
        if sid not in SCENARIOS:
            ap.error(f"unknown scenario {sid!r}; choose from {', '.join(SCENARIOS)}")

    info = env_info(args.loop, loop_version)
    if not args.json:
        print(f"Python {info['python']} ({info['executable']}), loop={args.loop}"
              + (f" {loop_version}" if loop_version else "") + f", reps={args.reps}")

    results = {}
    for sid in ids:
        _, _, n_def, n_quick, _ = SCENARIOS[sid]
        missing = unsupported(sid)
        if missing:
            results[sid] = {"id": sid, "name": SCENARIOS[sid][0], "error": missing}
            if not args.json:
                print(fmt_result(results[sid]), flush=True)
            continue
        n = args.n if args.n is not None else (n_quick if args.quick else n_def)
        if args.in_process:
            r = measure(sid, n, args.reps, loop_factory, args.no_gc)
        else:
            if not args.json:
                print(f"  running {sid} ...", file=sys.stderr, flush=True)
            r = run_child(sid, args)
        results[sid] = r
        if not args.json:
            print(fmt_result(r), flush=True)

    if args.json:
        json.dump({"context": info, "results": results}, sys.stdout, indent=2)
        print()
    return 0 if all("error" not in r for r in results.values()) else 1


# ===========================================================================
# Threads (issue #5): T1-T4, the same steps as bench/threads_bench.cpp.
#
# T1 threadsafe_round_trip  (N = 20,000; --quick: 5,000)
#    a worker thread (asyncio.to_thread) does N x
#    run_coroutine_threadsafe(trivial(), loop).result(); timed in the worker.
# T2 to_thread_empty        (N = 20,000; --quick: 5,000)
#    one task: N x await asyncio.to_thread(noop) (after one untimed call).
# T3 call_soon_threadsafe_1thread  (N = 200,000; --quick: 50,000)
# T4 call_soon_threadsafe_4threads (N = 200,000; --quick: 50,000)
#    1 (T3) or 4 (T4, N/4 each) threads post callbacks; timed from starting
#    the threads until the loop ran the last callback.
# ====================================================================
import threading


def _round_trips(loop, n: int) -> int:
    t0 = time.perf_counter_ns()
    total = 0
    for _ in range(n):
        total += asyncio.run_coroutine_threadsafe(trivial(), loop).result()
    t1 = time.perf_counter_ns()
    assert total == n
    return t1 - t0


async def t1_threadsafe_round_trip(n: int) -> dict:
    loop = asyncio.get_running_loop()
    total_ns = await asyncio.to_thread(_round_trips, loop, n)
    return {"total_ns": total_ns, "items": n}


def _noop():
    pass


async def t2_to_thread_empty(n: int) -> dict:
    await asyncio.to_thread(_noop)  # the worker exists before timing
    t0 = time.perf_counter_ns()
    for _ in range(n):
        await asyncio.to_thread(_noop)
    t1 = time.perf_counter_ns()
    return {"total_ns": t1 - t0, "items": n}


async def _post_from_threads(n: int, threads: int) -> dict:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    per = n // threads
    total = per * threads
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count == total:
            done.set_result(None)

    def producer():
        for _ in range(per):
            loop.call_soon_threadsafe(cb)

    t0 = time.perf_counter_ns()
    ts = [threading.Thread(target=producer) for _ in range(threads)]
    for t in ts:
        t.start()
    await done
    t1 = time.perf_counter_ns()
    for t in ts:
        t.join()
    return {"total_ns": t1 - t0, "items": total}


async def t3_call_soon_threadsafe_1thread(n: int) -> dict:
    return await _post_from_threads(n, 1)


async def t4_call_soon_threadsafe_4threads(n: int) -> dict:
    return await _post_from_threads(n, 4)


SCENARIOS.update({
    "T1": ("threadsafe_round_trip", t1_threadsafe_round_trip, 20_000, 5_000, "ns/item"),
    "T2": ("to_thread_empty", t2_to_thread_empty, 20_000, 5_000, "ns/item"),
    "T3": ("call_soon_threadsafe_1thread", t3_call_soon_threadsafe_1thread, 200_000, 50_000,
           "ns/item"),
    "T4": ("call_soon_threadsafe_4threads", t4_call_soon_threadsafe_4threads, 200_000, 50_000,
           "ns/item"),
})


# ===========================================================================
# Context variables (C1..C5) — bench/context_bench.cpp implements the same
# steps.  Not part of the default S1..S5 run of compare.py: select them with
#   python3 bench/compare/compare.py --cxx-bench build/release/bench/context_bench
# (compare.py then defaults to C1..C5), or --only C1,C3 here.
#
# C1 create_task_ctx0   N tasks of trivial(), created then awaited; no variable set
# C2 create_task_ctx20  the same with 20 ContextVars set in the creating task
# C3 var_get            var.get() N times (var set in the task)
# C4 var_set            var.set(i) N times (the token dropped)
# C5 copy_context       contextvars.copy_context() N times, 20 variables set
# ===========================================================================

import contextvars  # noqa: E402  (kept with its section)

_CTX_TWENTY = [contextvars.ContextVar(f"v{i}") for i in range(20)]
_CTX_VAR = contextvars.ContextVar("var")


def _ctx_set_twenty() -> None:
    for i, v in enumerate(_CTX_TWENTY):
        v.set(i)


async def _ctx_create_task_await(n: int, nvars: int) -> dict:
    if nvars:
        _ctx_set_twenty()  # in the main task's context: the children copy it
    t0 = time.perf_counter_ns()
    tasks = [asyncio.create_task(trivial()) for _ in range(n)]
    total = 0
    for t in tasks:
        total += await t
    t1 = time.perf_counter_ns()
    assert total == n
    return {"total_ns": t1 - t0, "items": n}


async def c1_create_task_ctx0(n: int) -> dict:
    return await _ctx_create_task_await(n, 0)


async def c2_create_task_ctx20(n: int) -> dict:
    return await _ctx_create_task_await(n, 20)


async def c3_var_get(n: int) -> dict:
    var = _CTX_VAR
    var.set(1)
    acc = 0
    t0 = time.perf_counter_ns()
    for _ in range(n):
        acc += var.get()
    t1 = time.perf_counter_ns()
    assert acc == n
    return {"total_ns": t1 - t0, "items": n}


async def c4_var_set(n: int) -> dict:
    var = _CTX_VAR
    t0 = time.perf_counter_ns()
    for i in range(n):
        var.set(i)
    t1 = time.perf_counter_ns()
    assert var.get() == n - 1
    return {"total_ns": t1 - t0, "items": n}


async def c5_copy_context(n: int) -> dict:
    _ctx_set_twenty()
    copy = contextvars.copy_context
    total = 0
    t0 = time.perf_counter_ns()
    for _ in range(n):
        total += len(copy())
    t1 = time.perf_counter_ns()
    assert total == 20 * n
    return {"total_ns": t1 - t0, "items": n}


SCENARIOS.update({
    "C1": ("create_task_ctx0", c1_create_task_ctx0, 100_000, 20_000, "ns/item"),
    "C2": ("create_task_ctx20", c2_create_task_ctx20, 100_000, 20_000, "ns/item"),
    "C3": ("var_get", c3_var_get, 1_000_000, 100_000, "ns/item"),
    "C4": ("var_set", c4_var_set, 1_000_000, 100_000, "ns/item"),
    "C5": ("copy_context", c5_copy_context, 1_000_000, 100_000, "ns/item"),
})


# ===========================================================================
# Eager tasks (issue #6): E1/E2 — bench/eager_bench.cpp, same protocol as S1
# with N = 100,000:
#     timed: tasks = [create_task(trivial()) for _ in range(N)]
#            for t in tasks: await t
# E2 first sets loop.set_task_factory(asyncio.eager_task_factory), so each
# task finishes inside create_task (3.12+).
# ===========================================================================


async def e1_create_task_lazy(n: int) -> dict:
    return await s1_create_task_await(n)


async def e2_create_task_eager(n: int) -> dict:
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    try:
        return await s1_create_task_await(n)
    finally:
        loop.set_task_factory(None)


SCENARIOS.update({
    "E1": ("create_task_lazy", e1_create_task_lazy, 100_000, 100_000, "ns/item"),
    "E2": ("create_task_eager", e2_create_task_eager, 100_000, 100_000, "ns/item"),
})


if __name__ == "__main__":
    sys.exit(main())
