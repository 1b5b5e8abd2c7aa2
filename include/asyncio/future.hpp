// asyncio/future.hpp — asyncio.Future.
//
// Mirrors Lib/asyncio/futures.py.
//
// A Future<T> is a cheap, copyable handle (refcounted, identity-compared) on
// a result that some callback will set. Done callbacks are scheduled with
// call_soon semantics in registration order, never called inline. An
// exception nobody retrieved is reported through the loop's exception handler
// ("Future exception was never retrieved") when the last handle goes.
//
// Thread-safety: a future belongs to its loop's thread.
//
// Differences from Python:
//   * Future<void> for `None` results; set_result() takes no argument there.
//   * Done callbacks are identified by the CallbackId that add_done_callback()
//     returns (C++ callables have no equality), so remove_done_callback()
//     takes that id and returns 1 or 0.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/core.hpp"

namespace asyncio {

namespace detail {

template <class T>
struct ValueSlot {
    std::optional<T> value;
};
template <>
struct ValueSlot<void> {};

template <class T>
class FutureState : public FutureStateBase, public FrameAllocated {  // gather's state derives
public:
    explicit FutureState(EventLoop& loop, FKind kind = kHeapFuture) noexcept
        : FutureStateBase(loop, kind) {
        deleter_ = [](FutureStateBase* f) noexcept { delete static_cast<FutureState*>(f); };
    }
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    ValueSlot<T> slot;
};

template <class Handle, class F>
struct DoneCallback final : DoneCallbackNode, FrameAllocated {
    template <class G>
    explicit DoneCallback(G&& g) : f(std::forward<G>(g)) {}
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    void invoke(FutureBase* fut) override {
        fut->add_ref();
        const Handle h = Handle::adopt(static_cast<typename Handle::state_type*>(fut));
        const ContextScope scope(context);  // Python: context.run(callback, fut)
        f(h);
    }
    F f;
    // A user callback runs in a context (capture_context); the library's own
    // nodes (task groups, shield, gather) need none and stay small.
    ContextSlot context;
};

/// Reads a Future<T>'s result for FutureAwaiter.
template <class T>
struct FutureGet {
    static T get(FutureBase* f) {
        f->check_result();
        if constexpr (!std::is_void_v<T>) return *static_cast<FutureState<T>*>(f)->slot.value;
    }
};

}  // namespace detail

template <class T = void>
class Future {
public:
    using state_type = detail::FutureState<T>;

    /// An empty handle; loop.create_future<T>() makes a real one.
    Future() = default;
    Future(const Future& o) noexcept : s_(o.s_) {
        if (s_) s_->add_ref();
    }
    Future(Future&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Future& operator=(Future o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~Future() {
        if (s_) s_->release();
    }
    static Future adopt(state_type* s) noexcept { return Future(s); }

    explicit operator bool() const noexcept { return s_ != nullptr; }

    bool done() const noexcept { return s_->done(); }
    bool cancelled() const noexcept { return s_->cancelled(); }
    /// Python's Future.cancel(msg): false if already done.
    bool cancel(std::optional<std::string> msg = std::nullopt) { return s_->cancel(msg); }

    /// The value; rethrows the exception; CancelledError if cancelled;
    /// InvalidStateError("Result is not set.") while pending.
    detail::result_ref_t<T> result() const {
        s_->check_result();
        if constexpr (!std::is_void_v<T>) return *s_->slot.value;
    }
    /// Null if the future has a result; InvalidStateError("Exception is not set.")
    /// while pending; CancelledError if cancelled.
    std::exception_ptr exception() const { return s_->exception(); }

    template <class U = T>
    requires(!std::is_void_v<T> &&
             std::is_constructible_v<T, U&&>) void set_result(U&& value) const {
        if (s_->done()) detail::throw_invalid_state("invalid state");
        s_->slot.value.emplace(std::forward<U>(value));
        s_->finish_with_value();
    }
    void set_result() const requires std::is_void_v<T> {
        if (s_->done()) detail::throw_invalid_state("invalid state");
        s_->finish_with_value();
    }
    void set_exception(std::exception_ptr e) const { s_->set_exception(std::move(e)); }

    /// Schedules fn(const Future&) through the loop once the future is done
    /// (at once if it already is).
    template <class F>
    requires std::is_invocable_v<F&, const Future&> CallbackId
    add_done_callback(F&& fn, CallbackOptions options = {})
    const {
        auto* n = new detail::DoneCallback<Future, std::decay_t<F>>(std::forward<F>(fn));
        detail::capture_context(n->context, options.context);
        return s_->add_done_callback_node(n);
    }
    std::size_t remove_done_callback(CallbackId id) const noexcept {
        return s_->remove_done_callback(id);
    }

    EventLoop& get_loop() const { return s_->get_loop(); }

    /// Suspends: until the future is done (not if it already is); resumed by
    /// set_result/set_exception/cancel through the ready queue.
    /// Cancellation: cancelling the awaiting task cancels this future.
    /// Throws: the future's exception, or CancelledError.
    auto operator co_await() const noexcept {
        return detail::FutureAwaiter<detail::FutureGet<T>>{s_};
    }

    friend bool operator==(const Future& a, const Future& b) noexcept { return a.s_ == b.s_; }
    const void* identity() const noexcept { return s_; }
    detail::FutureBase* base() const noexcept { return s_; }

private:
    explicit Future(state_type* s) noexcept : s_(s) {}
    state_type* s_ = nullptr;
};

template <class T>
Future<T> EventLoop::create_future() {
    check_closed();
    return Future<T>::adopt(new detail::FutureState<T>(*this));
}

template <class T>
T EventLoop::run_until_complete(Future<T> future) {
    check_runnable();
    const CallbackId id = future.add_done_callback(
        [](const Future<T>& f) { detail::stop_loop_when_done(*f.base()); });
    run_forever();
    future.remove_done_callback(id);
    if (!future.done()) throw RuntimeError("Event loop stopped before Future completed.");
    if constexpr (std::is_void_v<T>)
        future.result();
    else
        return future.result();
}

}  // namespace asyncio

template <class T>
struct std::hash<asyncio::Future<T>> {
    std::size_t operator()(const asyncio::Future<T>& f) const noexcept {
        return std::hash<const void*>{}(f.identity());
    }
};
