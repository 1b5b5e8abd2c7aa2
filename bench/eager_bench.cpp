// eager_bench.cpp — eager vs lazy tasks (issue #6): create_task of a
// coroutine that returns at once, then await it.
//
// Python (3.12+), same protocol as S1 of bench/compare/scenarios.py:
//     async def trivial(): return 1
//     [loop.set_task_factory(asyncio.eager_task_factory)]   # eager variant
//     timed: tasks = [asyncio.create_task(trivial()) for _ in range(N)]
//            for t in tasks: await t
//
// BM_create_task_lazy is S1 (each task goes through the ready queue);
// BM_create_task_eager sets the loop's task factory to eager_task_factory,
// so each task finishes inside create_task and the await finds it done.
// BM_create_task_eager_option uses TaskOptions{.eager_start = true} instead
// of the factory (no std::function call).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "asyncio.hpp"
#include "support/region_timer.hpp"

namespace {

using bench_support::Region;
using bench_support::Regions;
using bench_support::RegionTimer;

asyncio::Coro<int> trivial() {
    co_return 1;
}

enum class Mode { lazy, factory, option };

asyncio::Coro<void> create_and_await(std::int64_t n, Mode mode, Region* out) {
    if (mode == Mode::factory) asyncio::get_running_loop().set_task_factory(asyncio::eager_task_factory);
    std::vector<asyncio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    const asyncio::TaskOptions eager{.eager_start = true};
    const RegionTimer timer;
    for (std::int64_t i = 0; i < n; ++i) {
        if (mode == Mode::option)
            tasks.push_back(asyncio::create_task(trivial(), eager));
        else
            tasks.push_back(asyncio::create_task(trivial()));
    }
    int sum = 0;
    for (auto& t : tasks) sum += co_await t;
    *out = timer.stop();
    if (sum != n) std::abort();
    asyncio::get_running_loop().set_task_factory(nullptr);
}

void run_mode(benchmark::State& state, Mode mode) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    Regions regions;
    for (auto _ : state) {
        Region r;
        runner.run(create_and_await(n, mode, &r));
        regions.add(state, r);
    }
    runner.close();
    regions.report(state, n);
}

void BM_create_task_lazy(benchmark::State& state) {
    run_mode(state, Mode::lazy);
}
void BM_create_task_eager(benchmark::State& state) {
    run_mode(state, Mode::factory);
}
void BM_create_task_eager_option(benchmark::State& state) {
    run_mode(state, Mode::option);
}

BENCHMARK(BM_create_task_lazy)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_create_task_eager)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_create_task_eager_option)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
