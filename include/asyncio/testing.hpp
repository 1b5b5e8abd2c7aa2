// asyncio/testing.hpp — running coroutines on a virtual clock.
//
// A virtual-time loop behaves exactly like a real one, except that when
// nothing is ready its clock jumps to the next timer instead of sleeping (it
// still polls with a zero timeout, so other threads are seen). Timeouts and
// sleeps of hours run in microseconds, deterministically:
//
//     asyncio::testing::run(main());                      // like asyncio::run
//     asyncio::Runner r({.loop_factory = asyncio::testing::new_virtual_event_loop});
//
// The virtual clock starts at 0.0. Everything time-based in the library reads
// loop.time(), so nothing else changes.
#pragma once

#include <memory>
#include <utility>

#include "asyncio/loop.hpp"
#include "asyncio/runners.hpp"

namespace asyncio::testing {

/// A new loop whose clock is virtual.
std::unique_ptr<EventLoop> new_virtual_event_loop();

/// asyncio::run on a virtual-time loop.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    options.loop_factory = &new_virtual_event_loop;
    return asyncio::run(std::move(main), std::move(options));
}

}  // namespace asyncio::testing
