// locks_bench.cpp — asyncio/locks.hpp: Lock and Semaphore costs.
//
//   BM_lock_uncontended/N      N x (co_await lock.acquire(); lock.release())
//                              in one coroutine: the fast path (no frame, no
//                              suspension). Target: <= 10 ns per item.
//   BM_lock_guard_uncontended  the same through acquire_guard() (a Coro frame).
//   BM_semaphore_shared/T      Semaphore(10) shared by T tasks, each
//                              acquire -> sleep(0) -> release; items = T.
//
// Manual time: each iteration times one run of the loop body inside the
// running loop, not the loop's start-up.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "asyncio.hpp"

namespace {

using Clock = std::chrono::steady_clock;

asyncio::Coro<double> lock_loop(std::int64_t n) {
    asyncio::Lock lock;
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
        co_await lock.acquire();
        lock.release();
    }
    const auto t1 = Clock::now();
    if (lock.locked()) std::abort();
    co_return std::chrono::duration<double>(t1 - t0).count();
}

void BM_lock_uncontended(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    for (auto _ : state) state.SetIterationTime(runner.run(lock_loop(n)));
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_lock_uncontended)->Arg(1'000'000)->UseManualTime()->Unit(benchmark::kMillisecond);

asyncio::Coro<double> lock_guard_loop(std::int64_t n) {
    asyncio::Lock lock;
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
        auto held = co_await lock.acquire_guard();
    }
    const auto t1 = Clock::now();
    if (lock.locked()) std::abort();
    co_return std::chrono::duration<double>(t1 - t0).count();
}

void BM_lock_guard_uncontended(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    for (auto _ : state) state.SetIterationTime(runner.run(lock_guard_loop(n)));
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_lock_guard_uncontended)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

asyncio::Coro<void> sem_worker(asyncio::Semaphore& sem, int* inside, int* max_inside) {
    co_await sem.acquire();
    if (++*inside > *max_inside) *max_inside = *inside;
    co_await asyncio::sleep(0);
    --*inside;
    sem.release();
}

asyncio::Coro<double> sem_shared(std::int64_t tasks) {
    asyncio::Semaphore sem(10);
    int inside = 0, max_inside = 0;
    const auto t0 = Clock::now();
    std::vector<asyncio::Task<>> ts;
    ts.reserve(static_cast<std::size_t>(tasks));
    for (std::int64_t i = 0; i < tasks; ++i)
        ts.push_back(asyncio::create_task(sem_worker(sem, &inside, &max_inside)));
    for (auto& t : ts) co_await t;
    const auto t1 = Clock::now();
    if (max_inside != 10 || sem.locked()) std::abort();
    co_return std::chrono::duration<double>(t1 - t0).count();
}

void BM_semaphore_shared(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    for (auto _ : state) state.SetIterationTime(runner.run(sem_shared(n)));
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_semaphore_shared)->Arg(1'000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
