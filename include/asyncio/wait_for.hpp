// asyncio/wait_for.hpp — asyncio.wait_for.
//
// Mirrors asyncio.tasks.wait_for and _cancel_and_wait (3.13; the 3.12
// rewrite over asyncio.timeout):
//
//     if timeout is not None and timeout <= 0:
//         fut = ensure_future(fut)
//         if fut.done(): return fut.result()
//         await _cancel_and_wait(fut)
//         try: return fut.result()
//         except CancelledError as exc: raise TimeoutError from exc
//     async with timeouts.timeout(timeout):
//         return await fut
//
// So a coroutine runs inline in the awaiting task, under a Timeout scope (no
// new task), and a task or future is awaited there; when the deadline passes
// the awaiting task is cancelled, which cancels the awaited task or future,
// and wait_for waits until that has really finished before it raises
// TimeoutError (an error raised while the inner cleans up propagates
// instead; a value returned by an inner that swallowed the cancellation is
// returned). A timeout <= 0 never starts a coroutine: it becomes a task that
// is cancelled before its first step. Cancelling the task that awaits
// wait_for cancels the awaited task or future too; that cancellation is
// never turned into TimeoutError, even when the deadline fires in the same
// iteration.
//
// Differences from Python:
//   * The TimeoutError carries the CancelledError as its nested exception
//     (std::throw_with_nested; see timeout.hpp), not as __cause__.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"
#include "asyncio/task.hpp"
#include "asyncio/timeout.hpp"

namespace asyncio {

namespace detail {

/// CPython's _cancel_and_wait: cancels `fut` and waits, through a separate
/// waiter future, until it is done, so that cancelling this wait cancels
/// only the waiter.
template <class F>
Coro<void> cancel_and_wait(F fut) {
    EventLoop& loop = get_running_loop();
    Future<void> waiter = loop.create_future<void>();
    // CPython's _release_waiter.
    const CallbackId id = fut.add_done_callback([waiter](const auto&) {
        if (!waiter.done()) waiter.set_result();
    });
    std::exception_ptr error;
    try {
        fut.cancel();
        co_await waiter;
    } catch (...) {
        error = std::current_exception();
    }
    fut.remove_done_callback(id);  // finally:
    if (error) std::rethrow_exception(error);
}

/// fut.result() for a done Task<T> or Future<T>, as a value.
template <class T, class F>
T result_value(const F& fut) {
    if constexpr (std::is_void_v<T>)
        fut.result();
    else
        return fut.result();
}

/// The body of every wait_for overload: A is Coro<T>, Task<T> or Future<T>.
template <class T, class A>
Coro<T> wait_for_impl(A aw, std::optional<Delay> delay) {
    static_assert(!std::is_reference_v<T>,
                  "wait_for: the awaitable must give a value (a timeout <= 0 makes it a task)");
    if (delay && delay->seconds() <= 0) {
        auto fut = ensure_future(std::move(aw));
        if (!fut.done()) {
            co_await cancel_and_wait(fut);
            try {
                if constexpr (std::is_void_v<T>) {
                    fut.result();
                } else {
                    co_return result_value<T>(fut);
                }
            } catch (const CancelledError&) {
                throw_timeout_from(std::current_exception());
            }
            if constexpr (std::is_void_v<T>) co_return;
        } else {
            if constexpr (std::is_void_v<T>) {
                fut.result();
                co_return;
            } else {
                co_return result_value<T>(fut);
            }
        }
    }
    // async with timeouts.timeout(timeout): return await fut
    // timeout() reads loop.time(), and so does entering: Python reads the
    // clock twice. Nothing runs between the two here but these lines, so the
    // entry reuses the first reading (a clock read is ~25 ns, a quarter of
    // the cost): with delay > 0 the deadline is always ahead of it. A deadline
    // passing in these nanoseconds (a preemption) is a race Python has too;
    // either way the timeout fires at the next iteration.
    EventLoop& loop = get_running_loop();
    const double now = loop.time();
    Timeout cm(delay ? std::optional<double>(now + delay->seconds()) : std::nullopt);
    TimeoutAccess::enter_made_at(cm, now);
    std::exception_ptr error;
    [[maybe_unused]] std::optional<std::conditional_t<std::is_void_v<T>, int, T>> result;
    try {
        if constexpr (std::is_void_v<T>)
            co_await aw;
        else
            result.emplace(co_await aw);
    } catch (...) {
        error = std::current_exception();
    }
    co_await cm.aexit(error);  // throws TimeoutError when the deadline fired
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

}  // namespace detail

/// Waits for `coro` (run inline in this task), giving up after `timeout`
/// seconds (nullopt: never), and returns its result.
/// Suspends: while the coroutine runs; resumed by it, or by the deadline
/// (then only once the coroutine has finished its cleanup).
/// Cancellation: cancelling the awaiting task cancels the coroutine (it
/// runs in this task); the CancelledError propagates, not TimeoutError.
/// Throws: TimeoutError (nested: the CancelledError) when the deadline
/// passed; what the coroutine throws; RuntimeError "no running event loop".
template <class T>
Coro<T> wait_for(Coro<T> coro, std::optional<Delay> timeout) {
    return detail::wait_for_impl<T>(std::move(coro), timeout);
}

/// Waits for `task`, cancelling it after `timeout` seconds (nullopt: never),
/// and returns its result.
/// Suspends: until the task is done (after the deadline: until the task has
/// finished handling its cancellation).
/// Cancellation: cancelling the awaiting task cancels `task` too.
/// Throws: TimeoutError (nested: the task's CancelledError); the task's
/// exception, including one raised while it handled the cancellation.
template <class T>
Coro<T> wait_for(Task<T> task, std::optional<Delay> timeout) {
    return detail::wait_for_impl<T>(std::move(task), timeout);
}

/// Waits for `fut`, cancelling it after `timeout` seconds (nullopt: never),
/// and returns its result.
/// Suspends: until the future is done. Cancellation: cancels `fut` too.
/// Throws: TimeoutError (nested: the CancelledError); the future's exception.
template <class T>
Coro<T> wait_for(Future<T> fut, std::optional<Delay> timeout) {
    return detail::wait_for_impl<T>(std::move(fut), timeout);
}

}  // namespace asyncio
