// asyncio/sleep.hpp — asyncio.sleep.
//
// Mirrors asyncio.tasks.sleep (3.13).
//
// sleep(d) waits d seconds of loop time; sleep(0) (or any d <= 0) gives up
// the loop for exactly one iteration; NaN is ValueError("Invalid delay: NaN
// (not a number)"). Like Python, a sleep is a future completed by a timer,
// so its wake-up takes the same iterations as CPython's.
//
// Suspends: until the deadline; resumed through the ready queue.
// Cancellation: cancelling the sleeping task cancels the sleep and removes
// its timer from the heap (O(log n)).
#pragma once

#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/core.hpp"

namespace asyncio {

namespace detail {
Coro<void> sleep_for(Delay delay);
template <class T>
Coro<T> sleep_for(Delay delay, T result) {
    co_await sleep_for(delay);
    co_return std::move(result);
}
}  // namespace detail

// sleep is a constrained template rather than a function taking Delay, so
// that `sleep(1)` under `using namespace asyncio;` is an exact match and wins
// over POSIX ::sleep(unsigned).

/// Waits `delay` (seconds or a std::chrono::duration) of loop time.
template <class D>
requires std::is_convertible_v<D, Delay> Coro<void> sleep(D delay) {
    return detail::sleep_for(Delay(delay));
}

/// Waits `delay`, then returns `result`.
template <class D, class T>
requires std::is_convertible_v<D, Delay> Coro<T> sleep(D delay, T result) {
    return detail::sleep_for(Delay(delay), std::move(result));
}

}  // namespace asyncio
