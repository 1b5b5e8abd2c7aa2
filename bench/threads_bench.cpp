// threads_bench.cpp — asyncio/threads.hpp and call_soon_threadsafe costs.
// The same scenarios run under CPython in bench/compare/scenarios.py (T1-T4).
//
//   BM_threadsafe_round_trip/N    T1: a worker thread does N x
//                                 run_coroutine_threadsafe(trivial(), loop)
//                                 .result(): submit, run a task, wake the
//                                 worker. Per item = one round trip.
//   BM_to_thread_empty/N          T2: one task does N x co_await
//                                 to_thread(noop) on the default executor.
//   BM_call_soon_threadsafe_1thread/N   T3: one producer thread posts N
//   BM_call_soon_threadsafe_4threads/N  T4: (4 threads post N/4 each)
//                                 callbacks; timed from the start until the
//                                 loop ran the last one. Per item = N.
//
// Manual time: each iteration times the scenario inside the running loop,
// not the loop's start-up.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "asyncio.hpp"

namespace {

using Clock = std::chrono::steady_clock;

asyncio::Coro<int> trivial() {
    co_return 1;
}

double round_trips(asyncio::EventLoop* loop, std::int64_t n) {
    const auto t0 = Clock::now();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < n; ++i)
        sum += asyncio::run_coroutine_threadsafe(trivial(), *loop).result();
    const auto t1 = Clock::now();
    if (sum != n) std::abort();
    return std::chrono::duration<double>(t1 - t0).count();
}

asyncio::Coro<double> round_trip_main(std::int64_t n) {
    co_return co_await asyncio::to_thread(&round_trips, &asyncio::get_running_loop(), n);
}

void BM_threadsafe_round_trip(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    for (auto _ : state) state.SetIterationTime(runner.run(round_trip_main(n)));
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_threadsafe_round_trip)->Arg(20'000)->UseManualTime()->Unit(benchmark::kMillisecond);

void noop() {}

asyncio::Coro<double> to_thread_loop(std::int64_t n) {
    co_await asyncio::to_thread(&noop);  // the worker exists before timing
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) co_await asyncio::to_thread(&noop);
    const auto t1 = Clock::now();
    co_return std::chrono::duration<double>(t1 - t0).count();
}

void BM_to_thread_empty(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    for (auto _ : state) state.SetIterationTime(runner.run(to_thread_loop(n)));
    runner.close();
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_to_thread_empty)->Arg(20'000)->UseManualTime()->Unit(benchmark::kMillisecond);

asyncio::Coro<double> post_from_threads(std::int64_t n, int threads) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    asyncio::Future<void> done = loop.create_future<void>();
    std::int64_t count = 0;
    const std::int64_t total = n / threads * threads;
    const auto t0 = Clock::now();
    std::vector<std::thread> producers;
    for (int t = 0; t < threads; ++t) {
        producers.emplace_back([&loop, &count, &done, total, per = n / threads] {
            for (std::int64_t i = 0; i < per; ++i)
                loop.call_soon_threadsafe([&count, &done, total] {
                    if (++count == total) done.set_result();
                });
        });
    }
    co_await done;
    const auto t1 = Clock::now();
    for (auto& p : producers) p.join();
    co_return std::chrono::duration<double>(t1 - t0).count();
}

void call_soon_threadsafe_bench(benchmark::State& state, int threads) {
    const std::int64_t n = state.range(0);
    asyncio::Runner runner;
    for (auto _ : state) state.SetIterationTime(runner.run(post_from_threads(n, threads)));
    runner.close();
    state.SetItemsProcessed(state.iterations() * (n / threads * threads));
}

void BM_call_soon_threadsafe_1thread(benchmark::State& state) {
    call_soon_threadsafe_bench(state, 1);
}
BENCHMARK(BM_call_soon_threadsafe_1thread)
    ->Arg(200'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_call_soon_threadsafe_4threads(benchmark::State& state) {
    call_soon_threadsafe_bench(state, 4);
}
BENCHMARK(BM_call_soon_threadsafe_4threads)
    ->Arg(200'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
