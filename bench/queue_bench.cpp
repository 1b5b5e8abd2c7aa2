// queue_bench.cpp — asyncio::Queue throughput: one producer task and one
// consumer task over Queue<int>(1024), passing N ints (put/get, the
// consumer calling task_done(), the producer ending with join()).
//
// Python equivalent (per item ~1 µs on CPython 3.13):
//
//     async def scenario(n):
//         q = asyncio.Queue(1024)
//         async def producer():
//             for i in range(n): await q.put(i)
//             await q.join()
//         async def consumer():
//             for _ in range(n): await q.get(); q.task_done()
//         await asyncio.gather(producer(), consumer())
//
// The timed region is the scenario inside the coroutine (UseManualTime), so
// loop creation is not counted; items_per_second is per item passed.
//
//     cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release
//     cmake --build build-rel --target queue_bench && build-rel/bench/queue_bench
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "asyncio.hpp"

namespace {

using Clock = std::chrono::steady_clock;

asyncio::Coro<void> producer(asyncio::Queue<int>& q, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) co_await q.put(static_cast<int>(i));
    co_await q.join();
}

asyncio::Coro<void> consumer(asyncio::Queue<int>& q, std::int64_t n, std::int64_t& sum) {
    for (std::int64_t i = 0; i < n; ++i) {
        sum += co_await q.get();
        q.task_done();
    }
}

asyncio::Coro<double> scenario(std::int64_t n, std::int64_t& sum) {
    asyncio::Queue<int> q(1024);
    const auto t0 = Clock::now();
    auto p = asyncio::create_task(producer(q, n));
    auto c = asyncio::create_task(consumer(q, n, sum));
    co_await p;
    co_await c;
    co_return std::chrono::duration<double>(Clock::now() - t0).count();
}

void BM_queue_put_get(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    std::int64_t sum = 0;
    for (auto _ : state) state.SetIterationTime(runner.run(scenario(n, sum)));
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_queue_put_get)->Arg(1'000'000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
