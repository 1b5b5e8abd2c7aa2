// timeout_bench.cpp — what a timeout costs when it does not fire.
//
//   BM_timeout_async_with       co_await async_with(timeout(10), body)  (the usual spelling)
//   BM_timeout_at_async_with    the same with timeout_at(deadline): no clock read to make it
//   BM_timeout_aenter_aexit     the Timeout's own protocol, no async_with frames
//   BM_async_with_null_manager  async_with over a manager that does nothing, with
//                               always-ready awaiters (as Timeout's): the body's frame only
//   BM_async_with_null_coro_manager  the same manager without the always_ready marker:
//                               async_with's generic coroutine (one frame more)
//   BM_wait_for_finished_coro   co_await wait_for(coroutine that returns at once, 10)
//   BM_await_finished_coro      co_await of the same coroutine, without wait_for
//
// Each iteration runs one coroutine that does the operation N times on a real
// (not virtual) loop; the region inside the coroutine is timed by hand
// (UseManualTime), so loop start and shutdown are not counted.
// ns per operation = 1e9 / items_per_second (wall clock); the counter
// cpu_ns_per_item is the same from this thread's CPU time.
//
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DASYNCIO_BUILD_TESTS=OFF
//         -DASYNCIO_BUILD_EXAMPLES=OFF
//   cmake --build build-rel --target timeout_bench
//   build-rel/bench/timeout_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "asyncio.hpp"
#include "support/region_timer.hpp"

namespace {

constexpr std::int64_t kOps = 100000;

/// A manager whose aenter/aexit do nothing and never suspend; `Ready`
/// declares it (always_ready), as Timeout does.
template <bool Ready>
struct NullManager {
    struct Enter {
        static constexpr bool always_ready = Ready;
        NullManager* self;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        NullManager& await_resume() const noexcept { return *self; }
    };
    struct Exit {
        static constexpr bool always_ready = Ready;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        bool await_resume() const noexcept { return false; }
    };
    Enter aenter() noexcept { return {this}; }
    Exit aexit(std::exception_ptr) noexcept { return {}; }
};

asyncio::Coro<int> finished(int v) {
    co_return v;
}

using bench_support::Region;
using bench_support::RegionTimer;

template <class Op>
asyncio::Coro<Region> timed(Op op) {
    const RegionTimer timer;
    for (std::int64_t i = 0; i < kOps; ++i) co_await op();
    co_return timer.stop();
}

/// Wall time per iteration (items_per_second), and this thread's CPU time as
/// the counter cpu_ns_per_item: on a shared machine the wall-clock figure
/// also counts time other processes took.
template <class MakeOp>
void run_bench(benchmark::State& state, MakeOp make_op) {
    asyncio::Runner runner;
    bench_support::Regions regions;
    for (auto _ : state) regions.add(state, runner.run(timed(make_op())));
    regions.report(state, kOps);
}

void BM_timeout_async_with(benchmark::State& state) {
    int sink = 0;
    run_bench(state, [&] {
        return [&]() -> asyncio::Coro<> {
            co_await asyncio::async_with(asyncio::timeout(10),
                                         [&](asyncio::Timeout&) -> asyncio::Coro<> {
                                             ++sink;
                                             co_return;
                                         });
        };
    });
    benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_timeout_async_with)->UseManualTime();

void BM_timeout_at_async_with(benchmark::State& state) {
    int sink = 0;
    run_bench(state, [&] {
        return [&]() -> asyncio::Coro<> {
            const double deadline = 1e9;  // far in the future of the monotonic clock
            co_await asyncio::async_with(asyncio::timeout_at(deadline),
                                         [&](asyncio::Timeout&) -> asyncio::Coro<> {
                                             ++sink;
                                             co_return;
                                         });
        };
    });
    benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_timeout_at_async_with)->UseManualTime();

void BM_timeout_aenter_aexit(benchmark::State& state) {
    run_bench(state, [] {
        return []() -> asyncio::Coro<> {
            asyncio::Timeout cm = asyncio::timeout(10);
            co_await cm.aenter();
            co_await cm.aexit(nullptr);
        };
    });
}
BENCHMARK(BM_timeout_aenter_aexit)->UseManualTime();

template <bool Ready>
void null_manager_bench(benchmark::State& state) {
    int sink = 0;
    run_bench(state, [&] {
        return [&]() -> asyncio::Coro<> {
            co_await asyncio::async_with(NullManager<Ready>{},
                                         [&](NullManager<Ready>&) -> asyncio::Coro<> {
                                             ++sink;
                                             co_return;
                                         });
        };
    });
    benchmark::DoNotOptimize(sink);
}

void BM_async_with_null_manager(benchmark::State& state) {
    null_manager_bench<true>(state);
}
BENCHMARK(BM_async_with_null_manager)->UseManualTime();

void BM_async_with_null_coro_manager(benchmark::State& state) {
    null_manager_bench<false>(state);
}
BENCHMARK(BM_async_with_null_coro_manager)->UseManualTime();

void BM_wait_for_finished_coro(benchmark::State& state) {
    int sink = 0;
    run_bench(state, [&] {
        return [&]() -> asyncio::Coro<> { sink += co_await asyncio::wait_for(finished(1), 10); };
    });
    benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_wait_for_finished_coro)->UseManualTime();

void BM_await_finished_coro(benchmark::State& state) {
    int sink = 0;
    run_bench(state, [&] { return [&]() -> asyncio::Coro<> { sink += co_await finished(1); }; });
    benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_await_finished_coro)->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
