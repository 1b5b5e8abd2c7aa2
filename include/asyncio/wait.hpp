// asyncio/wait.hpp — asyncio.wait, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED.
//
// Mirrors wait() and _wait() in Lib/asyncio/tasks.py (3.13).
//
//     auto [done, pending] = co_await asyncio::wait(tasks, {.return_when =
//     asyncio::FIRST_COMPLETED});
//
// wait() takes a range of Task<T>, Future<T> or TaskRef and waits until the
// condition holds: ALL_COMPLETED (the default), FIRST_COMPLETED, or
// FIRST_EXCEPTION (the first to fail, not counting cancellations; the same as
// ALL_COMPLETED when nothing fails). It then returns WaitResult{done, pending},
// each in input order with duplicates merged. It never raises for the
// futures' errors and never cancels them: a timeout just returns what is
// still pending. Passing coroutines does not compile (Python 3.11+ forbids
// it: wrap them in tasks, so that you can look at what is pending).
//
// Like CPython, wait() watches each future with a callback: one node per
// future, linked into its callback list, all in one block; the waiting task
// parks on a future inside the wait's own frame. Cost of one call: O(n) for n
// futures (linking, unlinking, one pass to split done from pending), whatever
// return_when is.
//
// Differences from Python:
//   * done and pending are vectors in input order, not sets.
//   * return_when is an enum (ReturnWhen); FIRST_COMPLETED etc. are constants.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/watch.hpp"

namespace asyncio {

enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// wait()'s keyword arguments. Trivially destructible, so that a braced
/// temporary next to co_await is safe on g++ 12 (see docs/python_mapping.md).
struct WaitOptions {
    std::optional<Delay> timeout = std::nullopt;
    ReturnWhen return_when = ALL_COMPLETED;
};
static_assert(std::is_trivially_destructible_v<WaitOptions>);

template <class F>
struct WaitResult {
    std::vector<F> done;
    std::vector<F> pending;
};

namespace detail {

/// One wait() call, in its coroutine frame (CPython's _wait).
class WaitCore {
public:
    WaitCore(EventLoop& loop, std::size_t n, ReturnWhen return_when);
    ~WaitCore();
    WaitCore(const WaitCore&) = delete;
    WaitCore& operator=(const WaitCore&) = delete;

    /// Watches `f` with node i; false for a future already watched.
    bool watch(std::size_t i, FutureBase* f) noexcept { return block_->arm(i, f); }
    /// After the last watch(): CPython's add_done_callback on the futures
    /// already done, and the timeout.
    void start(std::optional<Delay> timeout);

    /// Suspends: until the condition holds or the timeout passes; resumed
    /// through the ready queue. Cancellation: the task's cancellation cancels
    /// only the waiter, never the watched futures. Throws: CancelledError.
    EmbeddedAwaiter operator co_await() noexcept { return {&waiter_}; }

private:
    static void on_fire(void* self, WatchCell& cell, FutureBase* f);  // CPython's _on_completion
    static void on_timeout(void* self);                               // CPython's _release_waiter
    void release_waiter() noexcept;

    EmbeddedFuture waiter_;
    OwnedTimer timer_;
    WatchBlock* block_;
    std::size_t counter_ = 0;
    ReturnWhen return_when_;
};

[[noreturn]] void throw_wait_empty();
[[noreturn]] void throw_bad_return_when(ReturnWhen r);

template <class F>
Coro<WaitResult<F>> wait_impl(std::vector<F> fs, WaitOptions options) {
    if (fs.empty()) throw_wait_empty();
    const ReturnWhen rw = options.return_when;
    if (rw != FIRST_COMPLETED && rw != FIRST_EXCEPTION && rw != ALL_COMPLETED)
        throw_bad_return_when(rw);
    {
        WaitCore core(get_running_loop(), fs.size(), rw);
        // Merge duplicates (CPython: fs = set(fs)), keeping the input order.
        // A duplicate's handle may go at once: the first occurrence keeps
        // the future alive for the core, which unlinks from it at the end.
        std::size_t unique = 0;
        for (std::size_t i = 0; i < fs.size(); ++i) {
            if (!fs[i].base()) throw ValueError("wait() got an empty Task/Future handle");
            if (core.watch(i, fs[i].base())) {
                if (unique != i) fs[unique] = std::move(fs[i]);
                ++unique;
            }
        }
        fs.erase(fs.begin() + static_cast<std::ptrdiff_t>(unique), fs.end());
        core.start(options.timeout);
        co_await core;
    }
    // Split after the callbacks are gone, as CPython does after its `finally`.
    WaitResult<F> out;
    std::size_t n_done = 0;
    for (const F& f : fs) n_done += f.base()->done();
    out.done.reserve(n_done);
    out.pending.reserve(fs.size() - n_done);
    for (F& f : fs) (f.base()->done() ? out.done : out.pending).push_back(std::move(f));
    co_return out;
}

template <class Range>
auto wait_collect(Range&& fs) {
    using F = range_element_t<Range>;
    if constexpr (std::is_same_v<std::remove_cvref_t<Range>, std::vector<F>> &&
                  !std::is_lvalue_reference_v<Range> &&
                  !std::is_const_v<std::remove_reference_t<Range>>) {
        return std::vector<F>(std::move(fs));
    } else {
        std::vector<F> v;
        v.reserve(range_size_hint(fs));
        for (auto&& f : fs) v.push_back(f);
        return v;
    }
}

template <class F>
concept wait_handle = awaitable_traits<F>::valid && !awaitable_traits<F>::is_coro;

}  // namespace detail

/// Waits for the tasks/futures of `fs` (any range of Task<T>, Future<T> or
/// TaskRef) until options.return_when holds or options.timeout passes.
/// Suspends: until then; resumed through the ready queue.
/// Cancellation: cancelling the awaiting task leaves the futures alone.
/// Throws: ValueError("Set of Tasks/Futures is empty.") for an empty range,
/// ValueError("Invalid return_when value: N") for a bad enum value; never
/// TimeoutError. Both are thrown when the result is awaited, as in Python.
template <class Range>
requires detail::walkable_range<Range> && detail::wait_handle<detail::range_element_t<Range>>
    Coro<WaitResult<detail::range_element_t<Range>>> wait(Range&& fs, WaitOptions options = {}) {
    return detail::wait_impl(detail::wait_collect(std::forward<Range>(fs)), options);
}

/// Passing coroutines is forbidden (Python 3.11+: "Passing coroutines is
/// forbidden, use tasks explicitly."): wrap them in tasks first.
template <class Range>
requires detail::walkable_range<Range> && is_coroutine_v<detail::range_element_t<Range>>
void wait(Range&& fs, WaitOptions options = {}) = delete;

}  // namespace asyncio
