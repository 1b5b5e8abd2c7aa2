// context_bench.cpp — context variables (scenarios C1..C5 of
// bench/compare/scenarios.py, "Context variables" section).
//
// Same protocol as core_bench.cpp: each benchmark times a region inside the
// coroutine (manual time), one Runner reused for every iteration, one
// runner.run(scenario(...)) per iteration; items_per_second comes from the
// manual time, so compare.py reads ns/item as 1e9 / items_per_second.
//
//   C1 create_task_ctx0   N x create_task(trivial()) then await each; no
//                         variable set (the common case: no allocation, no
//                         atomic for the context)
//   C2 create_task_ctx20  the same with 20 variables set in the creating task
//                         (each task copies a 20-entry context: O(1))
//   C3 var_get            N x var.get() of a variable set in the task
//   C4 var_set            N x var.set(i) (the token dropped at once)
//   C5 copy_context       N x copy_context() with 20 variables set
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "asyncio.hpp"
#include "support/region_timer.hpp"

namespace {

using bench_support::Region;
using bench_support::Regions;
using bench_support::RegionTimer;

// Twenty variables that live as long as the program, as module-level
// ContextVars do in Python.
std::vector<std::unique_ptr<asyncio::ContextVar<int>>>& twenty_vars() {
    static auto* vars = [] {
        auto* v = new std::vector<std::unique_ptr<asyncio::ContextVar<int>>>;
        for (int i = 0; i < 20; ++i)
            v->push_back(std::make_unique<asyncio::ContextVar<int>>("v" + std::to_string(i)));
        return v;
    }();
    return *vars;
}

void set_twenty() {
    int i = 0;
    for (auto& v : twenty_vars()) v->set(i++);
}

asyncio::Coro<int> trivial() {
    co_return 1;
}

// ---------------------------------------------------------------- C1, C2
asyncio::Coro<void> create_task_await(std::int64_t n, int vars, Region* out) {
    if (vars) set_twenty();  // in the main task's own context: children copy it
    std::vector<asyncio::Task<int>> tasks;
    const RegionTimer timer;
    tasks.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(trivial()));
    int sum = 0;
    for (auto& t : tasks) sum += co_await t;
    *out = timer.stop();
    if (sum != n) std::abort();
}

/// One Runner; each iteration runs scenario(n, &region) in a fresh empty
/// context (so values set by one run do not pile up in the runner's shared
/// context; Python: one Runner per repetition), timed by its region.
template <class Scenario>
void run_in_fresh_context(benchmark::State& state, Scenario scenario) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    Regions regions;
    for (auto _ : state) {
        Region r;
        runner.run(scenario(n, &r), {.context = asyncio::Context()});
        regions.add(state, r);
    }
    runner.close();
    regions.report(state, n);
}

void BM_create_task_ctx(benchmark::State& state) {
    const int vars = static_cast<int>(state.range(1));
    run_in_fresh_context(
        state, [vars](std::int64_t n, Region* r) { return create_task_await(n, vars, r); });
}
// compare.py matches instances by name prefix and N; the variable count is
// the second argument.
BENCHMARK(BM_create_task_ctx)
    ->Args({100'000, 0})
    ->Args({20'000, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Name("BM_create_task_ctx0");
BENCHMARK(BM_create_task_ctx)
    ->Args({100'000, 20})
    ->Args({20'000, 20})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Name("BM_create_task_ctx20");

// ---------------------------------------------------------------- C3
asyncio::ContextVar<int> g_var("var");

asyncio::Coro<void> var_get(std::int64_t n, Region* out) {
    g_var.set(1);
    std::int64_t acc = 0;
    const RegionTimer timer;
    for (std::int64_t i = 0; i < n; ++i) {
        acc += g_var.get();
        benchmark::DoNotOptimize(acc);
    }
    *out = timer.stop();
    if (acc != n) std::abort();
    co_return;
}

void BM_var_get(benchmark::State& state) {
    run_in_fresh_context(state, var_get);
}
BENCHMARK(BM_var_get)->Arg(1'000'000)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- C4
asyncio::Coro<void> var_set(std::int64_t n, Region* out) {
    const RegionTimer timer;
    for (std::int64_t i = 0; i < n; ++i) g_var.set(static_cast<int>(i));
    *out = timer.stop();
    if (g_var.get() != static_cast<int>(n - 1)) std::abort();
    co_return;
}

void BM_var_set(benchmark::State& state) {
    run_in_fresh_context(state, var_set);
}
BENCHMARK(BM_var_set)->Arg(1'000'000)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- C5
asyncio::Coro<void> copy_context_n(std::int64_t n, Region* out) {
    set_twenty();
    std::size_t total = 0;
    const RegionTimer timer;
    for (std::int64_t i = 0; i < n; ++i) {
        asyncio::Context c = asyncio::copy_context();
        total += c.size();
    }
    *out = timer.stop();
    if (total != static_cast<std::size_t>(n) * 20) std::abort();
    co_return;
}

void BM_copy_context(benchmark::State& state) {
    run_in_fresh_context(state, copy_context_n);
}
BENCHMARK(BM_copy_context)
    ->Arg(1'000'000)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
