// support/virtual_run.hpp — running coroutines and loops on the virtual clock.
//
//     int v = support::run_virtual(main());             // asyncio::testing::run
//
//     auto loop = support::new_virtual_loop();          // drive a loop by hand
//     loop->call_soon([&] { ... });
//     support::run_once(*loop);                         // exactly one iteration
//     support::run_briefly(*loop);                      // CPython's test_utils.run_briefly
//     support::advance(*loop, 10.0);                    // run until loop time +10 s
//     loop->run_until_complete(coro());
//
// On a virtual loop, when nothing is ready, the clock jumps to the next timer
// instead of sleeping; it starts at 0.0.
#pragma once

#include <memory>
#include <utility>

#include "asyncio.hpp"

namespace support {

/// asyncio::run on a virtual-time loop (asyncio::testing::run).
template <class T>
T run_virtual(asyncio::Coro<T> main, asyncio::RunOptions options = {}) {
    return asyncio::testing::run(std::move(main), std::move(options));
}

/// A new, not running, virtual-time loop. Close it (or let it go) at the end.
inline std::unique_ptr<asyncio::EventLoop> new_virtual_loop() {
    return asyncio::testing::new_virtual_event_loop();
}

/// Runs exactly one iteration of a loop that is not running: what was ready
/// runs, what it schedules does not. Never waits (the virtual clock does not
/// jump; a real loop does not block), but runs timers already due.
inline void run_once(asyncio::EventLoop& loop) {
    loop.stop();
    loop.run_forever();
}

namespace detail {
inline asyncio::Coro<void> yield_once() {
    co_await asyncio::sleep(0);
}
}  // namespace detail

/// CPython's test_utils.run_briefly: runs a task that yields once, i.e. a few
/// iterations, enough for callbacks scheduled now (and what they schedule
/// directly) to run.
inline void run_briefly(asyncio::EventLoop& loop) {
    loop.run_until_complete(detail::yield_once());
}

/// Runs the loop until its clock has advanced by `seconds` (instant on a
/// virtual loop): everything due until then runs.
inline void advance(asyncio::EventLoop& loop, double seconds) {
    asyncio::EventLoop* l = &loop;
    loop.call_later(seconds, [l] { l->stop(); });
    loop.run_forever();
}

}  // namespace support
