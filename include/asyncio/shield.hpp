// asyncio/shield.hpp — asyncio.shield.
//
// Mirrors asyncio.tasks.shield (3.13).
//
// shield(aw) returns an outer future that follows `aw` (the inner): the
// inner's result, exception or cancellation is copied to the outer. Cancelling
// the outer (as cancelling the task that awaits it does) leaves the inner
// running:
//
//     Task<int> task = asyncio::create_task(something());
//     int res = co_await asyncio::shield(task);  // cancelling us does not cancel `task`
//
// To ignore the cancellation altogether (not recommended), catch it; the
// awaiting task still counts the request, so uncancel() it as well if it must
// not show (Python's docs: "it is necessary to also call uncancel()"):
//
//     std::optional<int> res;
//     try {
//         res = co_await asyncio::shield(task);
//     } catch (const asyncio::CancelledError&) {
//         res = std::nullopt;
//     }
//
// Once the outer is cancelled it lets go of the inner: an exception the inner
// raises after that is nobody's, and is reported ("Task exception was never
// retrieved") when the inner goes, as in CPython.
//
// Differences from Python:
//   * shield() returns Future<T>. An inner Future<T> that is already done is
//     returned as is; an inner Task<T> that is already done comes back as a
//     new done Future<T> with its outcome (its exception is then marked
//     retrieved on the task and carried by the new future).
//   * The inner's value is copied to the outer, so shielding a Task<T> or a
//     Future<T> needs a copyable T; a Coro<T> (whose task nobody else sees)
//     has its value moved.
//   * The two callbacks do not keep each other's future alive: an inner that
//     can never complete (all its handles gone) frees the outer, where CPython
//     leaves the cycle to the garbage collector.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

namespace detail {

/// outer.set_result(inner.result()), typed: see shield_value.
using ShieldTransfer = void (*)(FutureBase* inner, FutureStateBase* outer);

struct ShieldOuterWatch;

/// CPython's _inner_done_callback: in the inner's callback list. Holds a
/// reference to the outer. `fut` is set to the inner when the node is made
/// (the core stores the same value when it schedules the node); the inner is
/// alive as long as the node is (the node is in its list, or queued holding
/// a reference).
struct ShieldInnerWatch final : DoneCallbackNode, FrameAllocated {
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    FutureBase* inner() const noexcept { return fut; }
    FutureStateBase* outer = nullptr;
    ShieldOuterWatch* partner = nullptr;  // null once that one is gone
    ShieldTransfer transfer = nullptr;
    void invoke(FutureBase* f) override;
    ~ShieldInnerWatch() override;
};

/// CPython's _outer_done_callback: in the outer's callback list; removes the
/// inner's callback when the outer is done first (cancelled).
struct ShieldOuterWatch final : DoneCallbackNode, FrameAllocated {
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    ShieldInnerWatch* partner = nullptr;  // null once that one is gone
    void invoke(FutureBase* f) override;
    ~ShieldOuterWatch() override;
};

/// Links the two callbacks of a pending inner and its fresh outer.
void shield_link(FutureBase* inner, FutureStateBase* outer, ShieldTransfer transfer);
/// Completes the fresh `outer` as the done `inner` is (the shortcut for a done task).
void shield_copy_done(FutureBase* inner, FutureStateBase* outer, ShieldTransfer transfer);

template <class T>
T& shield_inner_value(FutureBase* f, Task<T>*) noexcept {
    auto* t = static_cast<TaskBase*>(f);
    return *std::coroutine_handle<Promise<T>>::from_address(t->root().address()).promise().value_;
}
template <class T>
T& shield_inner_value(FutureBase* f, Future<T>*) noexcept {
    return *static_cast<FutureState<T>*>(f)->slot.value;
}

/// Sets the outer's value from the inner's (Inner: Task<T> or Future<T>).
template <class T, class Inner, bool Move>
void shield_value(FutureBase* inner, FutureStateBase* outer) {
    auto* o = static_cast<FutureState<T>*>(outer);
    if (o->done()) throw_invalid_state("invalid state");
    if constexpr (!std::is_void_v<T>) {
        T& v = shield_inner_value(inner, static_cast<Inner*>(nullptr));
        if constexpr (Move)
            o->slot.value.emplace(std::move(v));
        else
            o->slot.value.emplace(v);
    }
    o->finish_with_value();
}

template <class T, class Inner, bool Move>
Future<T> shield_impl(FutureBase* inner) {
    // Not loop.create_future(): a done inner may outlive its loop's run.
    auto* outer = new FutureState<T>(inner->get_loop());
    Future<T> result = Future<T>::adopt(outer);
    if (inner->done())
        shield_copy_done(inner, outer, &shield_value<T, Inner, Move>);
    else
        shield_link(inner, outer, &shield_value<T, Inner, Move>);
    return result;
}

template <class T>
inline constexpr bool shield_copyable_v = std::is_void_v<T> || std::is_copy_constructible_v<T>;

}  // namespace detail

/// Protects `inner` from the cancellation of whoever awaits the result.
/// Suspends: awaiting the returned future suspends until the inner is done.
/// Cancellation: cancelling the awaiting task (or the returned future)
/// cancels only the returned future; the inner keeps running.
/// Throws (when awaited): the inner's exception; CancelledError if the outer
/// or the inner was cancelled.
template <class T>
requires detail::shield_copyable_v<T> Future<T> shield(Future<T> inner) {
    if (inner.done()) return inner;  // CPython's shortcut: the inner itself
    return detail::shield_impl<T, Future<T>, false>(inner.base());
}

template <class T>
requires detail::shield_copyable_v<T> Future<T> shield(const Task<T>& inner) {
    return detail::shield_impl<T, Task<T>, false>(inner.base());
}

inline Future<void> shield(const TaskRef& inner) {
    return detail::shield_impl<void, Task<void>, false>(inner.base());
}

/// A coroutine is scheduled as a task of the running loop first (its value
/// is moved to the outer). Throws: RuntimeError("no running event loop").
template <class T>
Future<T> shield(Coro<T> coro) {
    Task<T> inner = create_task(std::move(coro));
    return detail::shield_impl<T, Task<T>, true>(inner.base());
}

}  // namespace asyncio
