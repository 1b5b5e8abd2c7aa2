// task_group_bench.cpp — TaskGroup and shield at scale.
//
//   BM_tasks_baseline/N          create N trivial tasks, await each: the cost
//                                of the tasks themselves, to subtract
//   BM_task_group/N              a TaskGroup of N trivial children, the exit
//                                waiting for all (ns_per_child; minus the
//                                baseline = the group's own cost per child)
//   BM_task_group_cancel/N       N children asleep, one fails: the group
//                                cancels the other N-1 and waits for them
//   BM_await_task/N              N times: co_await create_task(trivial())
//   BM_await_shield/N            N times: co_await shield(create_task(trivial()));
//                                minus BM_await_task = what one shield costs
//                                (the outer future, two callbacks, and the
//                                wake-up's two extra iterations)
//
// Timing, as in core_bench.cpp: each iteration is one runner.run() of a
// scenario on one reused Runner (virtual clock); only a region inside the
// coroutine is timed (UseManualTime). ns per child = 1e9 / items_per_second,
// also shown as the counter ns_per_child.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "asyncio.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

asyncio::Coro<int> trivial() {
    co_return 1;
}

/// Runs `scenario(n, &seconds)` once per benchmark iteration on one Runner.
template <class Scenario>
void run_scenario(benchmark::State& state, Scenario scenario) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner({.loop_factory = asyncio::testing::new_virtual_event_loop});
    for (auto _ : state) {
        double seconds = 0;
        runner.run(scenario(n, &seconds));
        state.SetIterationTime(seconds);
    }
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["ns_per_child"] = benchmark::Counter(
        static_cast<double>(n) * 1e-9,
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

asyncio::Coro<void> tasks_baseline(std::int64_t n, double* out) {
    std::vector<asyncio::Task<int>> tasks;
    const auto t0 = Clock::now();
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(trivial()));
    std::int64_t sum = 0;
    for (auto& t : tasks) sum += co_await t;
    tasks = {};
    *out = seconds_since(t0);
    if (sum != n) std::abort();
}

void BM_tasks_baseline(benchmark::State& state) {
    run_scenario(state, tasks_baseline);
}
BENCHMARK(BM_tasks_baseline)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

asyncio::Coro<void> task_group(std::int64_t n, double* out) {
    const auto t0 = Clock::now();
    co_await asyncio::async_with(asyncio::TaskGroup(),
                                 [&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
                                     for (std::int64_t i = 0; i < n; ++i) tg.create_task(trivial());
                                     co_return;
                                 });
    *out = seconds_since(t0);
}

void BM_task_group(benchmark::State& state) {
    run_scenario(state, task_group);
}
BENCHMARK(BM_task_group)
    ->Arg(100'000)
    ->Arg(10'000)
    ->Arg(1'000)
    ->Arg(100)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

asyncio::Coro<void> sleeper() {
    co_await asyncio::sleep(3600);
}
asyncio::Coro<void> failer() {
    co_await asyncio::sleep(1);
    throw std::runtime_error("boom");
}

asyncio::Coro<void> task_group_cancel(std::int64_t n, double* out) {
    const auto t0 = Clock::now();
    try {
        co_await asyncio::async_with(asyncio::TaskGroup(),
                                     [&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
                                         for (std::int64_t i = 1; i < n; ++i)
                                             tg.create_task(sleeper());
                                         tg.create_task(failer());
                                         co_return;
                                     });
    } catch (const asyncio::ExceptionGroup&) {
        *out = seconds_since(t0);
        co_return;
    }
    std::abort();
}

void BM_task_group_cancel(benchmark::State& state) {
    run_scenario(state, task_group_cancel);
}
BENCHMARK(BM_task_group_cancel)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

asyncio::Coro<void> await_tasks(std::int64_t n, double* out) {
    const auto t0 = Clock::now();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += co_await asyncio::create_task(trivial());
    *out = seconds_since(t0);
    if (sum != n) std::abort();
}

void BM_await_task(benchmark::State& state) {
    run_scenario(state, await_tasks);
}
BENCHMARK(BM_await_task)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

asyncio::Coro<void> await_shields(std::int64_t n, double* out) {
    const auto t0 = Clock::now();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i)
        sum += co_await asyncio::shield(asyncio::create_task(trivial()));
    *out = seconds_since(t0);
    if (sum != n) std::abort();
}

void BM_await_shield(benchmark::State& state) {
    run_scenario(state, await_shields);
}
BENCHMARK(BM_await_shield)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
