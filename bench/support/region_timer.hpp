// bench/support/region_timer.hpp — timing one region of a benchmark in wall
// time and in this thread's CPU time.
//
// The timed regions are reported as manual time (wall clock, what
// bench/compare uses, as Python's perf_counter_ns does) and as the counter
// `cpu_ns_per_item`: on a shared machine (2 cores, other jobs running) the
// wall-clock figure includes time other processes took, the thread CPU time
// does not.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdint>

namespace bench_support {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

/// This thread's CPU time, in seconds.
inline double thread_cpu_seconds() {
    timespec ts;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Wall-clock and thread-CPU seconds of one timed region.
struct Region {
    double wall = 0;
    double cpu = 0;
};

/// Starts timing when constructed; stop() gives the region so far.
class RegionTimer {
public:
    RegionTimer() : cpu0_(thread_cpu_seconds()), wall0_(Clock::now()) {}
    Region stop() const {
        const auto w = Clock::now();
        const double c = thread_cpu_seconds();
        return {seconds_between(wall0_, w), c - cpu0_};
    }

private:
    double cpu0_;
    Clock::time_point wall0_;
};

/// Accumulates the regions of a benchmark's iterations; reports the manual
/// time per iteration and, at the end, items and cpu_ns_per_item.
struct Regions {
    double cpu = 0;
    void add(benchmark::State& state, const Region& r) {
        state.SetIterationTime(r.wall);
        cpu += r.cpu;
    }
    void report(benchmark::State& state, std::int64_t items_per_iteration) const {
        const auto items = state.iterations() * items_per_iteration;
        state.SetItemsProcessed(items);
        state.counters["cpu_ns_per_item"] = cpu * 1e9 / static_cast<double>(items);
    }
};

}  // namespace bench_support
