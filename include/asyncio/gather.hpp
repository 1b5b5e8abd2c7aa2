// asyncio/gather.hpp — asyncio.gather, and Outcome<T> for return_exceptions.
//
// Mirrors gather() and _GatheringFuture in Lib/asyncio/tasks.py (3.13).
//
//     auto [a, b] = co_await asyncio::gather(f(), g());          // std::tuple
//     std::vector<int> v = co_await asyncio::gather(std::move(coros));
//     auto [x, y] = co_await asyncio::gather(asyncio::return_exceptions, f(), g());
//
// gather() returns at once a Future of the results, in argument order:
// coroutines become tasks at the call (in argument order, through the loop's
// task factory), tasks and futures are watched as they are. A `void` result
// is a std::monostate; gather() of nothing is a future already done.
//
//   * Without return_exceptions, the first child to fail (or be cancelled)
//     fails the gather at once with that exception; the other children keep
//     running and are not cancelled. A cancelled child makes the gather fail
//     with CancelledError; the gather itself is not cancelled.
//   * With asyncio::return_exceptions, every slot is an Outcome<R>: a value,
//     or the exception (a cancelled child's CancelledError, with its message).
//   * Cancelling the gather's future (or the task awaiting it) cancels every
//     child not done yet; the gather then ends in CancelledError even with
//     return_exceptions (as CPython 3.7+, it fails with CancelledError rather
//     than becoming cancelled(): cancelled() stays false, exception() returns
//     the CancelledError). cancel() returns false once the gather is done,
//     e.g. after it propagated a child's error: then nothing is cancelled.
//   * The same task or future passed twice is watched once and its result
//     fills both slots.
//
// Cost: one callback node per child (one block for all), no allocation per
// child beyond the task a coroutine becomes. A value is moved out of a task
// gather() made itself as soon as that task completes (the task is freed
// then, while still in cache); the tuple or vector is built once, in the
// future's own slot.
//
// Differences from Python:
//   * Coroutines are passed as rvalues (a Coro is move-only), so the "same
//     coroutine twice" case of Python is spelled with a task.
//   * A gather's future dropped while children are pending stops watching
//     them (it holds no reference cycle): a child failing later is then
//     reported as "Task exception was never retrieved" rather than as the
//     gather's "_GatheringFuture exception was never retrieved".
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "asyncio/detail/gather_impl.hpp"

namespace asyncio {

/// One slot of gather(return_exceptions, ...): the child's value or its error.
template <class T>
class Outcome {
    static_assert(!std::is_void_v<T> && !std::is_reference_v<T>,
                  "Outcome<void> is spelled Outcome<std::monostate>");

public:
    template <class... A>
    explicit Outcome(std::in_place_t, A&&... args)
        : v_(std::in_place_index<0>, std::forward<A>(args)...) {}
    Outcome(detail::outcome_error_t, std::exception_ptr e) noexcept
        : v_(std::in_place_index<1>, std::move(e)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    /// The value; rethrows the exception if there is one.
    T& value() & {
        check();
        return std::get<0>(v_);
    }
    const T& value() const& {
        check();
        return std::get<0>(v_);
    }
    T&& value() && {
        check();
        return std::get<0>(std::move(v_));
    }
    /// The exception; null when there is a value.
    std::exception_ptr exception() const noexcept {
        return v_.index() == 1 ? std::get<1>(v_) : nullptr;
    }

private:
    void check() const {
        if (v_.index() == 1) std::rethrow_exception(std::get<1>(v_));
    }
    std::variant<T, std::exception_ptr> v_;
};

/// Tag: gather(asyncio::return_exceptions, ...) is Python's return_exceptions=True.
struct return_exceptions_t {
    explicit constexpr return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

/// Runs the awaitables concurrently; a Future of their results, in order.
/// Each argument is a Coro<T> (an rvalue: it becomes a Task), a Task<T>, a
/// Future<T> or a TaskRef (result std::monostate).
/// Suspends: awaiting the future suspends until every child is done, or
/// until the first failure.
/// Cancellation: cancelling the awaiting task cancels the gather, which
/// cancels every child not done yet.
/// Throws: (at the call) RuntimeError("no running event loop") when the
/// first argument is a coroutine and no loop runs; ValueError("The future
/// belongs to a different loop than the one specified as the loop argument").
/// (Awaited) the first child's exception, or CancelledError.
template <class... A>
requires(detail::is_awaitable_input_v<A>&&...) auto gather(A&&... aws) {
    static_assert(((!detail::awaitable_traits<std::remove_cvref_t<A>>::is_coro ||
                    !std::is_lvalue_reference_v<A>)&&...),
                  "gather() takes coroutines as rvalues: gather(f()) or gather(std::move(coro))");
    return detail::gather_args<false>(std::forward<A>(aws)...);
}

/// gather(asyncio::return_exceptions, ...): each slot an Outcome<R>.
template <class... A>
requires(detail::is_awaitable_input_v<A>&&...) auto gather(return_exceptions_t, A&&... aws) {
    static_assert(((!detail::awaitable_traits<std::remove_cvref_t<A>>::is_coro ||
                    !std::is_lvalue_reference_v<A>)&&...),
                  "gather() takes coroutines as rvalues: gather(f()) or gather(std::move(coro))");
    return detail::gather_args<true>(std::forward<A>(aws)...);
}

/// gather(range): a Future<std::vector<R>> in the range's order. A range of
/// coroutines is taken as an rvalue and the coroutines are moved out.
template <class Range>
requires detail::walkable_range<Range> &&
    detail::is_awaitable_input_v<detail::range_element_t<Range>>
auto gather(Range&& aws) {
    return detail::gather_range<false>(std::forward<Range>(aws));
}

/// gather(asyncio::return_exceptions, range): a Future<std::vector<Outcome<R>>>.
template <class Range>
requires detail::walkable_range<Range> &&
    detail::is_awaitable_input_v<detail::range_element_t<Range>>
auto gather(return_exceptions_t, Range&& aws) {
    return detail::gather_range<true>(std::forward<Range>(aws));
}

}  // namespace asyncio
