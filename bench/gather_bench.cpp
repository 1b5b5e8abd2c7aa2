// gather_bench.cpp — gather(), wait() and as_completed() at scale.
//
//   BM_tasks_baseline/N          create N trivial tasks, await each: the cost
//                                of the tasks themselves, to subtract
//   BM_gather_coroutines/N       co_await gather(N trivial coroutines): the
//                                same tasks plus gather (ns/item - baseline =
//                                gather's cost per child; target <= 80 ns)
//   BM_gather_tasks/N            gather over N tasks made beforehand (the
//                                duplicate check runs on every child)
//   BM_wait_first_completed_until_done/N
//                                N tasks finishing one at a time (task i
//                                sleeps i ms, virtual clock); loop
//                                `wait(pending, FIRST_COMPLETED)` until none
//                                is pending: N calls, over N, N-1, ... 1
//                                futures. items = N; the counter
//                                cpu_ns_per_future_per_call = CPU time /
//                                (N(N+1)/2): the cost of one call per future
//                                passed (flat in N: each call is linear)
//   BM_wait_first_completed_batches/N
//                                the same, tasks finishing 100 at a time
//                                (N/100 calls)
//   BM_as_completed/N            plain iteration over N trivial coroutines
//   BM_as_completed_next/N       3.13 async iteration (next()) over N tasks
//
// Timing, as in core_bench.cpp: each iteration is one runner.run() of a
// scenario on one reused Runner (virtual clock); only a region inside the
// coroutine is timed (UseManualTime), so loop set-up and the teardown of what
// the scenario leaves are not counted. ns/item = 1e9 / items_per_second
// (wall clock). The counter cpu_ns_per_item measures the same region in this
// thread's CPU time, which time stolen by other processes on a shared
// machine does not inflate.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include "asyncio.hpp"
#include "support/region_timer.hpp"

namespace {

using bench_support::Region;
using bench_support::RegionTimer;

asyncio::RunOptions virtual_clock() {
    return {.loop_factory = asyncio::testing::new_virtual_event_loop};
}

asyncio::Coro<int> trivial() {
    co_return 1;
}

/// Runs `scenario(n, &region)` once per benchmark iteration on one Runner;
/// returns the thread CPU seconds of all the timed regions.
template <class Scenario>
double run_scenario(benchmark::State& state, Scenario scenario, std::int64_t items_per_iteration) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner(virtual_clock());
    double cpu = 0;
    for (auto _ : state) {
        Region r;
        runner.run(scenario(n, &r));
        state.SetIterationTime(r.wall);
        cpu += r.cpu;
    }
    runner.close();
    const auto items = state.iterations() * items_per_iteration;
    state.SetItemsProcessed(items);
    state.counters["cpu_ns_per_item"] = cpu * 1e9 / static_cast<double>(items);
    return cpu;
}

// ------------------------------------------------------------ gather

asyncio::Coro<void> tasks_baseline(std::int64_t n, Region* out) {
    std::vector<asyncio::Task<int>> tasks;
    const RegionTimer timer;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(trivial()));
    std::int64_t sum = 0;
    for (auto& t : tasks) sum += co_await t;
    tasks = {};  // gather frees its children before it returns: so do we
    *out = timer.stop();
    if (sum != n) std::abort();
}

void BM_tasks_baseline(benchmark::State& state) {
    run_scenario(state, tasks_baseline, state.range(0));
}
BENCHMARK(BM_tasks_baseline)
    ->Arg(100'000)
    ->Arg(1'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

asyncio::Coro<void> gather_coroutines(std::int64_t n, Region* out) {
    std::vector<asyncio::Coro<int>> coros;
    const RegionTimer timer;
    coros.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) coros.push_back(trivial());
    std::int64_t sum = 0;
    {
        asyncio::Future<std::vector<int>> all = asyncio::gather(std::move(coros));
        co_await all;
        for (int v : all.result()) sum += v;  // result() is a reference: no copy
    }
    *out = timer.stop();
    if (sum != n) std::abort();
}

void BM_gather_coroutines(benchmark::State& state) {
    run_scenario(state, gather_coroutines, state.range(0));
}
BENCHMARK(BM_gather_coroutines)
    ->Arg(100'000)
    ->Arg(1'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

asyncio::Coro<void> gather_tasks(std::int64_t n, Region* out) {
    std::vector<asyncio::Task<int>> tasks;
    const RegionTimer timer;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(trivial()));
    std::int64_t sum = 0;
    {
        auto all = asyncio::gather(tasks);
        co_await all;
        for (int v : all.result()) sum += v;
    }
    tasks = {};
    *out = timer.stop();
    if (sum != n) std::abort();
}

void BM_gather_tasks(benchmark::State& state) {
    run_scenario(state, gather_tasks, state.range(0));
}
BENCHMARK(BM_gather_tasks)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

// ------------------------------------------------------------ wait

asyncio::Coro<void> finish_at(double seconds) {
    co_await asyncio::sleep(seconds);
}

/// N tasks finishing `per_round` at a time, 1 ms apart; wait(FIRST_COMPLETED)
/// until all are done. Times only the wait loop.
asyncio::Coro<void> wait_until_done(std::int64_t n, std::int64_t per_round, Region* out,
                                    std::int64_t* calls) {
    std::vector<asyncio::Task<>> pending;
    pending.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        pending.push_back(
            asyncio::create_task(finish_at(1e-3 * static_cast<double>(1 + i / per_round))));
    const RegionTimer timer;
    std::int64_t done = 0;
    *calls = 0;
    while (!pending.empty()) {
        auto r =
            co_await asyncio::wait(std::move(pending), {.return_when = asyncio::FIRST_COMPLETED});
        done += static_cast<std::int64_t>(r.done.size());
        pending = std::move(r.pending);
        ++*calls;
    }
    *out = timer.stop();
    if (done != n) std::abort();
}

void BM_wait_first_completed_until_done(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    std::int64_t calls = 0;
    const double cpu = run_scenario(
        state, [&](std::int64_t m, Region* out) { return wait_until_done(m, 1, out, &calls); }, n);
    // Futures passed over all the calls: N + (N-1) + ... + 1.
    const double passed = static_cast<double>(n) * static_cast<double>(n + 1) / 2 *
                          static_cast<double>(state.iterations());
    state.counters["calls"] = static_cast<double>(calls);
    state.counters["cpu_ns_per_future_per_call"] = cpu * 1e9 / passed;
}
BENCHMARK(BM_wait_first_completed_until_done)
    ->Arg(1'000)
    ->Arg(2'000)
    ->Arg(5'000)
    ->Arg(10'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_wait_first_completed_batches(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    std::int64_t calls = 0;
    run_scenario(
        state, [&](std::int64_t m, Region* out) { return wait_until_done(m, 100, out, &calls); },
        n);
    state.counters["calls"] = static_cast<double>(calls);
}
BENCHMARK(BM_wait_first_completed_batches)
    ->Arg(10'000)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ------------------------------------------------------------ as_completed

asyncio::Coro<void> as_completed_plain(std::int64_t n, Region* out) {
    std::vector<asyncio::Coro<int>> coros;
    const RegionTimer timer;
    coros.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) coros.push_back(trivial());
    std::int64_t sum = 0;
    for (auto next : asyncio::as_completed(std::move(coros))) sum += co_await next;
    *out = timer.stop();
    if (sum != n) std::abort();
}

void BM_as_completed(benchmark::State& state) {
    run_scenario(state, as_completed_plain, state.range(0));
}
BENCHMARK(BM_as_completed)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

asyncio::Coro<void> as_completed_next(std::int64_t n, Region* out) {
    std::vector<asyncio::Task<int>> tasks;
    const RegionTimer timer;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(trivial()));
    std::int64_t sum = 0;
    {
        auto it = asyncio::as_completed(tasks);
        while (auto t = co_await it.next()) sum += t->result();
    }
    tasks = {};
    *out = timer.stop();
    if (sum != n) std::abort();
}

void BM_as_completed_next(benchmark::State& state) {
    run_scenario(state, as_completed_next, state.range(0));
}
BENCHMARK(BM_as_completed_next)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
