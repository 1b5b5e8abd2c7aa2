// asyncio/timeout.hpp — asyncio.timeout, asyncio.timeout_at, asyncio.Timeout.
//
// Mirrors Lib/asyncio/timeouts.py (3.13 semantics).
//
// A Timeout cancels the task that entered it when the deadline passes, and
// turns that cancellation into TimeoutError on the way out; uncancel() keeps
// an outer cancellation from being swallowed: on exit, only a scope whose
// deadline fired and for which `task.uncancel()` comes back to the task's
// cancelling() count at entry converts, so nested scopes, and a cancel() from
// outside arriving in the same iteration as the deadline, behave as in Python.
//
//     co_await asyncio::async_with(asyncio::timeout(10s), [&](asyncio::Timeout& cm) ->
//     asyncio::Coro<> {
//         co_await long_running_task();
//     });
//
// States (Python's _State): created -> active (entered) -> expiring (the
// deadline fired; the task was cancelled) -> expired, or active -> finished.
//
// Cost: entering and leaving a scope that does not fire allocates nothing:
// the timer is a node embedded in the Timeout, pushed to and removed from
// the loop's timer heap (O(log n)); aenter()/aexit() are ready awaitables,
// not coroutine frames. A deadline already passed at entry (or at
// reschedule()) fires through call_soon, as in Python, which allocates.
//
// Differences from Python:
//   * `async with` is spelled asyncio::async_with(...) (see async_with.hpp).
//   * The TimeoutError is chained to the CancelledError with
//     std::throw_with_nested: catch TimeoutError as usual, and
//     std::rethrow_if_nested(e) gives the CancelledError (Python's
//     `__cause__`). C++ has no `__context__`, so when the block ends with
//     another exception after the deadline fired, that exception passes
//     unchanged (Python inserts a TimeoutError into its context chain only).
//   * A Timeout is movable until entered (and after it is exited); moving an
//     active one throws RuntimeError("Timeout cannot be moved while active").
//   * A NaN deadline throws ValueError("Invalid deadline: NaN (not a number)")
//     where the timer would be scheduled (Python's loop crashes on it).
//   * when() is a double: `timeout_at(12)` reports `when=12.0` in repr().
//   * aexit() without aenter (or twice) throws RuntimeError where Python asserts.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include "asyncio/detail/core.hpp"
#include "asyncio/loop.hpp"

namespace asyncio {

namespace detail {
struct TimeoutAccess;
}

class Timeout {
public:
    /// Python's Timeout(when): absolute loop time, or nullopt for never.
    explicit Timeout(std::optional<double> when) noexcept : when_(when) {}
    Timeout(Timeout&& other)
        : when_(other.when_),
          task_(other.task_),
          cancelling_(other.cancelling_),
          state_(other.state_) {
        if (other.pinned()) [[unlikely]]
            throw_pinned();
    }
    Timeout& operator=(Timeout&& other);
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    /// Withdraws a pending timer; never uncancels anything.
    ~Timeout() {
        if (timer_.heap_index != detail::TimerNode::npos || has_soon_) [[unlikely]]
            cancel_handler();
    }

    /// The current deadline (loop time), nullopt when none.
    std::optional<double> when() const noexcept { return when_; }

    /// Moves the deadline (nullopt: never); a deadline already passed fires
    /// at the next iteration (through call_soon).
    /// Throws: RuntimeError "Timeout has not been entered" before aenter;
    /// "Cannot change state of expiring Timeout" (or expired, finished)
    /// after the deadline fired or the block ended.
    void reschedule(std::optional<double> when);

    /// True once the deadline fired (expiring or expired).
    bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    /// Python's repr(): "<Timeout [active] when=12.346>", "<Timeout [expired]>".
    std::string repr() const;

    /// Awaitable of aenter(): never suspends.
    struct EnterAwaiter {
        static constexpr bool always_ready = true;  // see async_with.hpp
        Timeout* self;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        Timeout& await_resume() const {
            self->enter(nullptr);
            return *self;
        }
    };
    /// Awaitable of aexit(): never suspends.
    struct ExitAwaiter {
        static constexpr bool always_ready = true;
        Timeout* self;
        std::exception_ptr exc;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        bool await_resume() const { return self->exit(exc); }
    };

    /// Python's __aenter__: binds the Timeout to the running task and
    /// schedules the deadline. Suspends: never.
    /// Throws: RuntimeError "Timeout has already been entered"; RuntimeError
    /// "Timeout should be used inside a task" when no task is running;
    /// RuntimeError "no running event loop".
    EnterAwaiter aenter() noexcept { return {this}; }

    /// Python's __aexit__: withdraws the timer; if the deadline fired and
    /// no other cancellation of the task is pending, turns the block's
    /// CancelledError into TimeoutError. Never suppresses (returns false).
    /// Suspends: never. Cancellation: a cancellation requested from outside
    /// (the task's cancelling() is above its value at entry) is left alone.
    /// Throws: TimeoutError (nested: the CancelledError); RuntimeError
    /// "Timeout has not been entered" when it was not.
    ExitAwaiter aexit(std::exception_ptr exc) noexcept { return {this, std::move(exc)}; }

private:
    enum class State : std::uint8_t { created, active, expiring, expired, finished };

    /// The deadline's node in the loop's timer heap; `owner` is set while
    /// it is there (the Timeout is pinned then: moving it throws).
    struct Timer : detail::TimerNode {
        Timeout* owner = nullptr;
    };

    friend struct detail::TimeoutAccess;
    /// __aenter__; `now`: the loop time to compare the deadline with
    /// (null: read the clock, as Python does).
    void enter(const double* now);
    void schedule(EventLoop& loop, double now);
    bool exit(const std::exception_ptr& exc);
    void on_timeout();
    void cancel_handler() noexcept;
    static void fire(detail::ReadyNode* n, detail::Run mode);
    bool pinned() const noexcept { return state_ == State::active || state_ == State::expiring; }
    [[noreturn]] static void throw_pinned();
    static const char* state_name(State s) noexcept;

    Timer timer_;
    std::optional<double> when_;
    detail::TaskBase* task_ = nullptr;  // the task that entered (Python's _task)
    EventLoop* loop_ = nullptr;         // whose heap holds timer_
    Handle soon_;                       // call_soon(on_timeout) for a passed deadline
    int cancelling_ = 0;                // task_->cancelling() at entry
    State state_ = State::created;
    bool has_soon_ = false;  // soon_ is scheduled and has not run
};

/// Python's asyncio.timeout(delay): a Timeout at loop.time() + delay, or
/// never for nullopt. Use it with async_with.
/// Throws: RuntimeError "no running event loop".
Timeout timeout(std::optional<Delay> delay);

/// Python's asyncio.timeout_at(when): a Timeout at absolute loop time
/// `when`, or never for nullopt.
Timeout timeout_at(std::optional<double> when) noexcept;

namespace detail {
/// Library-internal access to Timeout (not API).
struct TimeoutAccess {
    /// `co_await cm.aenter()` for a Timeout its caller made at loop time
    /// `now`, running nothing in between: the entry compares the deadline
    /// with that reading instead of reading the clock again (see wait_for).
    static void enter_made_at(Timeout& cm, double now) { cm.enter(&now); }
};

/// Python's `raise TimeoutError from cause`: throws a TimeoutError whose
/// nested exception (std::nested_exception) is `cause`.
[[noreturn]] void throw_timeout_from(const std::exception_ptr& cause);
/// True when `e` holds a CancelledError (or a subclass).
bool holds_cancelled_error(const std::exception_ptr& e) noexcept;
}  // namespace detail

}  // namespace asyncio
