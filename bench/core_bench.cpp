// core_bench.cpp — the C++ side of bench/compare (scenarios S1..S5).
//
// Each benchmark ports one scenario of bench/compare/scenarios.py step by
// step (read its header comment first); compare.py runs this binary with
// --benchmark_repetitions=5 --benchmark_report_aggregates_only=true and
// reads the medians: ns/item = 1e9 / items_per_second, and the
// `bytes_per_task` counter for S5.
//
// Timing: Python times only a region *inside* the coroutine
// (time.perf_counter_ns around the scenario's steps, with a fresh loop per
// repetition). We do the same: every timed benchmark uses UseManualTime()
// and measures exactly that region with std::chrono::steady_clock inside the
// coroutine, so loop creation, Runner.run()'s main task and the destruction
// of what the scenario leaves behind are not counted, as in Python. One
// Runner (one loop) is reused for all the iterations of a benchmark; each
// iteration is one runner.run(scenario(...)). items_per_second is computed
// by Google Benchmark from the manual time.
//
// Instances: the default N of each scenario (compare.py's full run) and the
// --quick N (compare.py --quick picks the instance whose /N matches), plus
// BM_create_task_await/1000 for the small-N cost (caches warm, everything
// in L1/L2).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include "asyncio.hpp"
#include "support/region_timer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using bench_support::Region;
using bench_support::Regions;
using bench_support::RegionTimer;
using bench_support::seconds_between;

// ---------------------------------------------------------------- S1
// async def trivial(): return 1
// timed: tasks = [create_task(trivial()) for _ in range(N)]; for t in tasks: await t

asyncio::Coro<int> trivial() {
    co_return 1;
}

struct S1Result {
    Region timed;         // creation + awaits (the Python protocol)
    double teardown = 0;  // dropping the N finished tasks (outside Python's timer)
};

asyncio::Coro<void> s1_create_task_await(std::int64_t n, S1Result* out) {
    std::vector<asyncio::Task<int>> tasks;
    const RegionTimer timer;
    // Python's list grows as it goes; we reserve, to measure tasks rather
    // than vector growth (inside the timed region all the same).
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(trivial()));
    int sum = 0;
    for (auto& t : tasks) sum += co_await t;
    out->timed = timer.stop();
    if (sum != n) std::abort();
    // The handles are the last references: this frees every frame and task state.
    const auto t1 = Clock::now();
    tasks = {};
    out->teardown = seconds_between(t1, Clock::now());
}

void BM_create_task_await(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    Regions regions;
    double teardown = 0;
    for (auto _ : state) {
        S1Result r;
        runner.run(s1_create_task_await(n, &r));
        regions.add(state, r.timed);
        teardown += r.teardown;
    }
    runner.close();
    regions.report(state, n);
    // For information: freeing the N tasks, after the timer stopped (as in Python).
    state.counters["teardown_ns_per_task"] =
        teardown * 1e9 / static_cast<double>(state.iterations() * n);
}
BENCHMARK(BM_create_task_await)
    ->Arg(1'000'000)
    ->Arg(100'000)
    ->Arg(1'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- S2
// async def leaf(i): return i
// in one task, timed: acc = 0; for i in range(N): acc += await leaf(i)

asyncio::Coro<std::int64_t> leaf(std::int64_t i) {
    co_return i;
}

asyncio::Coro<void> s2_chained_await(std::int64_t n, Region* out) {
    // Runs inside the Runner's main task: that is the "one task".
    std::int64_t acc = 0;
    const RegionTimer timer;
    for (std::int64_t i = 0; i < n; ++i) acc += co_await leaf(i);
    *out = timer.stop();
    if (acc != n * (n - 1) / 2) std::abort();
}

void BM_chained_await(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    Regions regions;
    for (auto _ : state) {
        Region r;
        runner.run(s2_chained_await(n, &r));
        regions.add(state, r);
    }
    runner.close();
    regions.report(state, n);
}
BENCHMARK(BM_chained_await)
    ->Arg(1'000'000)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- S3
// The ping/pong protocol of scenarios.py, line by line. Python's `await
// state.pong` holds a reference to the future it awaits; our FutureAwaiter
// holds a raw pointer only, and the ponger drops every other reference to
// pong (`pong, state.pong = state.pong, None`, then the end of its iteration)
// while the pinger is still suspended on it. So each await goes through a
// temporary copy of the handle (`co_await Future<void>(state.pong)`), which
// lives until the end of the full-expression, i.e. across the suspension:
// the reference Python's await holds (one refcount increment and decrement).

struct SwitchState {
    asyncio::Future<void> ping;
    asyncio::Future<void> pong;
};

asyncio::Coro<void> ponger(SwitchState& state, asyncio::EventLoop& loop,
                           std::int64_t n) {  // task B
    for (std::int64_t i = 0; i < n; ++i) {
        co_await asyncio::Future<void>(state.ping);  // (1) wait for A
        state.ping = loop.create_future<void>();     // (2) arm next ping BEFORE waking A
        asyncio::Future<void> pong = std::exchange(state.pong, {});
        pong.set_result();  // (3) wake A
    }
}

asyncio::Coro<void> pinger(SwitchState& state, asyncio::EventLoop& loop,
                           std::int64_t n) {  // task A
    for (std::int64_t i = 0; i < n; ++i) {
        state.pong = loop.create_future<void>();     // (4) arm pong BEFORE waking B
        state.ping.set_result();                     // (5) wake B
        co_await asyncio::Future<void>(state.pong);  // (6) wait for B
    }
}

asyncio::Coro<void> s3_task_switch(std::int64_t n, Region* out) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    SwitchState state;
    state.ping = loop.create_future<void>();  // before either task exists
    const RegionTimer timer;
    auto b = asyncio::create_task(ponger(state, loop, n));  // B is created FIRST
    auto a = asyncio::create_task(pinger(state, loop, n));  // then A
    co_await b;
    co_await a;
    *out = timer.stop();
}

void BM_task_switch(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    Regions regions;
    for (auto _ : state) {
        Region r;
        runner.run(s3_task_switch(n, &r));
        regions.add(state, r);
    }
    runner.close();
    regions.report(state, 2 * n);  // 2 switches per round
}
BENCHMARK(BM_task_switch)
    ->Arg(200'000)
    ->Arg(50'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- S4
// untimed: tasks = [create_task(sleep(3600)) ...]; await sleep(0)
// timed:   for t in tasks: t.cancel()
//          for t in tasks: try: await t except CancelledError: pass
// Manual time, so the (large) untimed setup costs no PauseTiming overhead.

asyncio::Coro<void> s4_cancel_sleeping(std::int64_t n, Region* out) {
    std::vector<asyncio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        tasks.push_back(asyncio::create_task(asyncio::sleep(3600)));
    co_await asyncio::sleep(0);  // every task is now suspended inside sleep
    const RegionTimer timer;
    for (auto& t : tasks) t.cancel();
    for (auto& t : tasks) {
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
        }
    }
    *out = timer.stop();
    for (auto& t : tasks)
        if (!t.cancelled()) std::abort();
}

void BM_cancel_sleeping(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    Regions regions;
    for (auto _ : state) {
        Region r;
        runner.run(s4_cancel_sleeping(n, &r));
        regions.add(state, r);
    }
    runner.close();
    regions.report(state, n);
}
BENCHMARK(BM_cancel_sleeping)
    ->Arg(100'000)
    ->Arg(20'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- S5
// fut = loop.create_future()   # shared, never completed
// before = heap in use; tasks = [create_task(waiter(fut)) ...]; await sleep(0)
// bytes/task = (heap in use - before) / N; then cancel all and await them.
//
// How the memory is counted. "Heap in use" is glibc's mallinfo2():
// uordblks + hblkhd (the latter for mmap'd chunks, e.g. a large vector
// buffer): every byte malloc hands out, including its per-chunk overhead
// (8-byte header, 16-byte rounding). Python's tracemalloc counts requested
// sizes only, so if anything the comparison disfavours C++.
//
// The frame cache: frames, task states and futures come from a per-thread
// free list per size class (detail/frame_alloc.hpp) that keeps up to 64 MiB
// (all classes together) of blocks freed earlier, and S1..S4 leave it full.
// A block taken from it is not a malloc, so mallinfo2() would not see it and the figure would
// depend on what ran before. So, for the measurement only, the cached blocks
// are set aside (the per-class lists are detached, not freed) and put back
// afterwards: every frame and task state of the scenario is then a fresh
// allocation that the heap figure counts, as in a fresh process. Nothing is
// freed or reused behind the allocator's back, so this stays valid if the
// cache later carves its blocks out of larger slabs (then the figure counts
// whole slabs, which is the memory really held). `frame_cache_bytes_reused`
// reports bytes that still came from the cache during the measurement
// (expected 0; negative = bytes freed into it, e.g. sleep(0)'s frame).
// The std::vector of N handles (8 bytes a task) is counted, like Python's list.
// One iteration per repetition: the figure is a size, not a time.

std::size_t heap_in_use() {
    const struct mallinfo2 mi = ::mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

std::size_t frame_cache_bytes() {
    return asyncio::detail::frame_cache().cached_bytes;
}

/// Detaches this thread's frame cache lists while alive; re-attaches them
/// (behind whatever was freed meanwhile) when destroyed.
class FrameCacheSetAside {
public:
    FrameCacheSetAside() {
        asyncio::detail::FrameCache& c = asyncio::detail::frame_cache();
        for (std::size_t i = 0; i < asyncio::detail::kFrameClasses; ++i) {
            heads_[i] = std::exchange(c.heads[i], nullptr);
        }
        bytes_ = std::exchange(c.cached_bytes, 0);
    }
    ~FrameCacheSetAside() {
        asyncio::detail::FrameCache& c = asyncio::detail::frame_cache();
        for (std::size_t i = 0; i < asyncio::detail::kFrameClasses; ++i) {
            if (!heads_[i]) continue;
            asyncio::detail::FreeBlock* tail = heads_[i];
            while (tail->next) tail = tail->next;
            tail->next = c.heads[i];
            c.heads[i] = heads_[i];
        }
        c.cached_bytes += bytes_;
    }
    FrameCacheSetAside(const FrameCacheSetAside&) = delete;
    FrameCacheSetAside& operator=(const FrameCacheSetAside&) = delete;

private:
    asyncio::detail::FreeBlock* heads_[asyncio::detail::kFrameClasses];
    std::size_t bytes_ = 0;
};

asyncio::Coro<void> waiter(asyncio::Future<void> f) {
    co_await f;
}

struct S5Result {
    double bytes_per_task = 0;
    double cache_bytes_reused = 0;
};

asyncio::Coro<void> s5_memory_per_task(std::int64_t n, S5Result* out) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    asyncio::Future<void> fut = loop.create_future<void>();  // shared, never completed
    std::vector<asyncio::Task<void>> tasks;
    {
        const FrameCacheSetAside set_aside;
        const std::size_t cache_before = frame_cache_bytes();  // 0
        const std::size_t before = heap_in_use();
        tasks.reserve(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(waiter(fut)));
        co_await asyncio::sleep(0);  // all N are suspended on fut
        const std::size_t after = heap_in_use();
        out->bytes_per_task =
            (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(n);
        out->cache_bytes_reused =
            static_cast<double>(cache_before) - static_cast<double>(frame_cache_bytes());
    }
    // Cleanup as in Python. (In asyncio the first cancel() also cancels the
    // shared fut, since a task cancels the future it waits on; same here.)
    for (auto& t : tasks) t.cancel();
    for (auto& t : tasks) {
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
        }
    }
    for (auto& t : tasks)
        if (!t.cancelled()) std::abort();
}

void BM_memory_per_task(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    S5Result result;
    for (auto _ : state) runner.run(s5_memory_per_task(n, &result));
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["bytes_per_task"] = result.bytes_per_task;
    state.counters["frame_cache_bytes_reused"] = result.cache_bytes_reused;
    // For information: the fixed parts of a task.
    state.counters["task_state_bytes"] = static_cast<double>(sizeof(asyncio::detail::TaskBase));
    state.counters["future_state_bytes"] =
        static_cast<double>(sizeof(asyncio::detail::FutureState<void>));
}
BENCHMARK(BM_memory_per_task)
    ->Arg(100'000)
    ->Arg(20'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
