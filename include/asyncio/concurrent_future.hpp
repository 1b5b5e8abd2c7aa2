// asyncio/concurrent_future.hpp — concurrent.futures.Future, as
// run_coroutine_threadsafe and executors return it.
//
// Mirrors Lib/concurrent/futures/_base.py (Future).
//
// A ConcurrentFuture<T> is a cheap, copyable handle on a result that some
// thread will set; unlike asyncio's Future it belongs to no loop, and every
// method may be called from any thread. result() and exception() block the
// calling thread (with an optional timeout); awaiting one from a coroutine
// goes through asyncio::wrap_future (asyncio/threads.hpp), or simply
// `co_await cf`.
//
// Thread-safety and memory ordering: the state is shared by an atomic
// refcount (relaxed increments, acq_rel decrements). Every transition
// (pending -> running -> finished, pending -> cancelled) happens under the
// state's mutex, which also guards the value, the exception and the callback
// list; the state byte is published with a release store, so done(),
// cancelled() and running() read it without the lock (acquire) and a thread
// that sees done() == true also sees the value. result() waits on a
// condition variable under the same mutex.
//
// Done callbacks run on the thread that completes the future (the loop's
// thread for run_coroutine_threadsafe, a worker for an executor, the caller
// of cancel()), in registration order, outside the lock; or at once in the
// thread calling add_done_callback() if the future is already done. An
// exception escaping a callback is printed to stderr ("exception calling
// callback for ..."), as concurrent.futures logs it, and otherwise ignored.
//
// Differences from Python:
//   * A cancelled future throws asyncio::CancelledError (concurrent.futures
//     has its own class; C++ needs only one).
//   * Timeouts are asyncio::Delay (seconds or a std::chrono duration).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/core.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/loop.hpp"

namespace asyncio {

template <class T>
class ConcurrentFuture;

namespace detail {

class ConcurrentStateBase;

/// A done callback in a ConcurrentFuture's list; runs at most once.
struct ConcurrentCallbackNode {
    ConcurrentCallbackNode* next = nullptr;
    virtual void invoke(ConcurrentStateBase& state) = 0;
    virtual ~ConcurrentCallbackNode() = default;
};

/// concurrent.futures.Future, untyped.
///
/// States (CPython's _state): pending -> running (set_running_or_notify_cancel)
/// -> finished; pending -> cancelled (cancel) ; pending -> finished (a result
/// set without running first, as _chain_future does). Never back.
class ConcurrentStateBase {
public:
    enum State : std::uint8_t { kPending, kRunning, kCancelled, kFinished };

    ConcurrentStateBase() = default;
    ConcurrentStateBase(const ConcurrentStateBase&) = delete;
    ConcurrentStateBase& operator=(const ConcurrentStateBase&) = delete;

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    State state() const noexcept {
        return static_cast<State>(state_.load(std::memory_order_acquire));
    }
    bool done() const noexcept { return state() >= kCancelled; }

    /// Python's cancel(): false if running or finished; true if cancelled.
    bool cancel();
    /// Python's set_running_or_notify_cancel(): false if cancelled; true
    /// once marked running. Throws RuntimeError("Future in unexpected state").
    bool set_running_or_notify_cancel();
    /// Throws InvalidStateError if already finished or cancelled.
    void set_exception(std::exception_ptr e);
    /// Waits until done; false if `timeout` passed first.
    bool wait(std::optional<Delay> timeout) const;
    /// Waits, then throws TimeoutError, CancelledError or the exception.
    void check_result(std::optional<Delay> timeout) const;
    /// Waits, then returns the exception (null if none); throws TimeoutError
    /// or CancelledError.
    std::exception_ptr exception(std::optional<Delay> timeout) const;
    /// The exception, without waiting (only once done()).
    const std::exception_ptr& stored_exception() const noexcept { return exc_; }
    /// Takes ownership of n; runs it now (in this thread) if already done.
    void add_done_callback_node(ConcurrentCallbackNode* n);

protected:
    virtual ~ConcurrentStateBase();
    /// Locks for setting a result; throws InvalidStateError if done.
    std::unique_lock<std::mutex> begin_set();
    /// Publishes `to` and runs the callbacks (unlocks first).
    void finish(std::unique_lock<std::mutex>& lock, State to);

private:
    static void run_callbacks(ConcurrentStateBase& s, ConcurrentCallbackNode* n) noexcept;

    std::atomic<std::size_t> refs_{1};
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    std::atomic<std::uint8_t> state_{kPending};
    std::exception_ptr exc_;
    ConcurrentCallbackNode* callbacks_ = nullptr;  // newest first; reversed when run
};

template <class T>
struct ConcurrentValue {
    std::optional<T> value;
};
template <>
struct ConcurrentValue<void> {};

template <class T>
class ConcurrentState : public ConcurrentStateBase {
public:
    template <class... U>
    void set_result(U&&... v) {
        std::unique_lock<std::mutex> lock = begin_set();
        if constexpr (!std::is_void_v<T>) slot_.value.emplace(std::forward<U>(v)...);
        finish(lock, kFinished);
    }
    /// The value, once finished (after check_result()).
    result_ref_t<T> value() const noexcept {
        if constexpr (!std::is_void_v<T>) return *slot_.value;
    }
    /// Moves the value out (for a future nobody else can read).
    T take_value() noexcept(std::is_void_v<T> || std::is_nothrow_move_constructible_v<T>) {
        if constexpr (!std::is_void_v<T>) return std::move(*slot_.value);
    }

private:
    ConcurrentValue<T> slot_;
};

template <class T, class F>
struct ConcurrentDoneCallback final : ConcurrentCallbackNode {
    template <class G>
    explicit ConcurrentDoneCallback(G&& g) : f(std::forward<G>(g)) {}
    void invoke(ConcurrentStateBase& s) override {
        s.add_ref();
        const ConcurrentFuture<T> h =
            ConcurrentFuture<T>::adopt(static_cast<ConcurrentState<T>*>(&s));
        f(h);
    }
    F f;
};

template <class T>
struct ConcurrentAwaiter;  // asyncio/threads.hpp

}  // namespace detail

template <class T = void>
class ConcurrentFuture {
public:
    using state_type = detail::ConcurrentState<T>;

    /// An empty handle; ConcurrentFuture<T>::create() makes a pending one.
    ConcurrentFuture() = default;
    ConcurrentFuture(const ConcurrentFuture& o) noexcept : s_(o.s_) {
        if (s_) s_->add_ref();
    }
    ConcurrentFuture(ConcurrentFuture&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    ConcurrentFuture& operator=(ConcurrentFuture o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~ConcurrentFuture() {
        if (s_) s_->release();
    }
    /// Python's concurrent.futures.Future(): a new pending future.
    static ConcurrentFuture create() { return ConcurrentFuture(new state_type()); }
    static ConcurrentFuture adopt(state_type* s) noexcept { return ConcurrentFuture(s); }

    explicit operator bool() const noexcept { return s_ != nullptr; }

    /// False if the call is running or done; otherwise cancels, wakes the
    /// waiters and runs the done callbacks in this thread.
    bool cancel() const { return s_->cancel(); }
    bool cancelled() const noexcept { return s_->state() == state_type::kCancelled; }
    bool running() const noexcept { return s_->state() == state_type::kRunning; }
    bool done() const noexcept { return s_->done(); }

    /// Blocks until done (or `timeout` passes) and returns the value.
    /// Throws: TimeoutError on timeout; CancelledError if cancelled; the
    /// exception the call ended with (the same object).
    detail::result_ref_t<T> result(std::optional<Delay> timeout = std::nullopt) const {
        s_->check_result(timeout);
        if constexpr (!std::is_void_v<T>) return s_->value();
    }
    /// Blocks like result(); returns the exception, null if there is none.
    /// Throws: TimeoutError; CancelledError if cancelled.
    std::exception_ptr exception(std::optional<Delay> timeout = std::nullopt) const {
        return s_->exception(timeout);
    }

    /// Calls fn(const ConcurrentFuture&) once done: in the thread that
    /// completes the future, or at once in this thread if it already is.
    template <class F>
    requires std::is_invocable_v<F&, const ConcurrentFuture&>
    void add_done_callback(F&& fn) const {
        s_->add_done_callback_node(
            new detail::ConcurrentDoneCallback<T, std::decay_t<F>>(std::forward<F>(fn)));
    }

    // For executors (Python documents these for Executor implementations).
    bool set_running_or_notify_cancel() const { return s_->set_running_or_notify_cancel(); }
    template <class U = T>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U&&>) void set_result(U&& v) const {
        s_->set_result(std::forward<U>(v));
    }
    void set_result() const requires std::is_void_v<T> { s_->set_result(); }
    void set_exception(std::exception_ptr e) const { s_->set_exception(std::move(e)); }

    /// co_await cf: asyncio::wrap_future(cf) on the running loop, awaited.
    /// Suspends: until the future is done (the result crosses to the loop
    /// through call_soon_threadsafe). Cancellation: cancelling the awaiting
    /// task cancels this future. Throws: as result().
    detail::ConcurrentAwaiter<T> operator co_await() const;

    friend bool operator==(const ConcurrentFuture& a, const ConcurrentFuture& b) noexcept {
        return a.s_ == b.s_;
    }
    const void* identity() const noexcept { return s_; }
    state_type* state() const noexcept { return s_; }

private:
    explicit ConcurrentFuture(state_type* s) noexcept : s_(s) {}
    state_type* s_ = nullptr;
};

}  // namespace asyncio

template <class T>
struct std::hash<asyncio::ConcurrentFuture<T>> {
    std::size_t operator()(const asyncio::ConcurrentFuture<T>& f) const noexcept {
        return std::hash<const void*>{}(f.identity());
    }
};
