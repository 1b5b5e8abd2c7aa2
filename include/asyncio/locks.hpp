// asyncio/locks.hpp — asyncio.Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier.
//
// Mirrors Lib/asyncio/locks.py (3.13 semantics, fairness included): every
// waiting primitive parks its tasks in one fair FIFO (detail::WaiterQueue)
// of plain Future<void> waiters, awaited through the public future awaiter.
// A new acquirer never jumps ahead of a waiter already woken; a waiter
// cancelled after it was woken passes the wake-up on.
//
// Each lock-like type (Lock, Condition, Semaphore, BoundedSemaphore) works
// with async_with (aenter/aexit) and also hands out an RAII guard, since its
// release is synchronous:
//
//     auto held = co_await lock.acquire_guard();   // released at scope exit
//
// Barrier's aenter gives the index wait() returns.
//
// Thread-safety: none; a primitive belongs to the thread of the loop that
// runs the tasks using it.
//
// Differences from Python:
//   * No loop binding check (_LoopBoundMixin's "is bound to a different
//     event loop"): waiters are created on the running loop.
//   * Condition.wait returns void (Python's always returns True);
//     Event.wait and acquire() give true as in Python.
#pragma once

#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/waiter_queue.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/future.hpp"

namespace asyncio {

namespace detail {

/// An awaiter that never suspends and gives `false` (aexit: never suppress).
struct ReadyFalse {
    static constexpr bool always_ready = true;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    bool await_resume() const noexcept { return false; }
};

/// acquire()'s awaiter: takes the primitive at once when it is free (no
/// coroutine frame, no suspension), else runs Owner::acquire_slow() as a
/// child coroutine of the awaiting task. Gives true. A class with a
/// constructor, not an aggregate: g++ 12 destroys a temporary aggregate
/// awaited in the same full-expression twice (and this one owns a frame).
template <class Owner>
struct [[nodiscard]] AcquireAwaiter {
    explicit AcquireAwaiter(Owner* o) noexcept : owner(o) {}
    AcquireAwaiter(AcquireAwaiter&&) noexcept = default;
    AcquireAwaiter(const AcquireAwaiter&) = delete;
    AcquireAwaiter& operator=(const AcquireAwaiter&) = delete;
    AcquireAwaiter& operator=(AcquireAwaiter&&) = delete;

    Owner* owner;
    Coro<bool> slow{};

    bool await_ready() {
        if (owner->try_acquire()) return true;
        slow = owner->acquire_slow();
        return slow.operator co_await().await_ready();
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return slow.operator co_await().await_suspend(h);  // false: it already returned
    }
    bool await_resume() {
        if (slow) return slow.operator co_await().await_resume();
        return true;
    }
};

}  // namespace detail

/// Releases a held lock-like primitive when it goes out of scope.
/// Move-only; release() releases early.
template <class L>
class [[nodiscard]] ReleaseGuard {
public:
    explicit ReleaseGuard(L& l) noexcept : l_(&l) {}
    ReleaseGuard(ReleaseGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    ReleaseGuard& operator=(ReleaseGuard&& o) noexcept {
        if (this != &o) {
            reset();
            l_ = std::exchange(o.l_, nullptr);
        }
        return *this;
    }
    ReleaseGuard(const ReleaseGuard&) = delete;
    ReleaseGuard& operator=(const ReleaseGuard&) = delete;
    ~ReleaseGuard() { reset(); }
    /// Releases now (no-op if already released).
    void release() { reset(); }
    /// Still holds the primitive.
    bool owns() const noexcept { return l_ != nullptr; }

private:
    void reset() {
        if (l_) std::exchange(l_, nullptr)->release();
    }
    L* l_;
};

namespace detail {

/// acquire_guard()'s awaiter: acquire() (same fast path), then gives a
/// ReleaseGuard<L> on `held`.
template <class Owner, class L>
struct [[nodiscard]] GuardAwaiter {
    GuardAwaiter(Owner* o, L* l) noexcept : acq(o), held(l) {}
    GuardAwaiter(GuardAwaiter&&) noexcept = default;
    GuardAwaiter(const GuardAwaiter&) = delete;
    GuardAwaiter& operator=(const GuardAwaiter&) = delete;
    GuardAwaiter& operator=(GuardAwaiter&&) = delete;

    AcquireAwaiter<Owner> acq;
    L* held;

    bool await_ready() { return acq.await_ready(); }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
        return acq.await_suspend(h);
    }
    ReleaseGuard<L> await_resume() {
        acq.await_resume();
        return ReleaseGuard<L>(*held);
    }
};

}  // namespace detail

/// asyncio.Lock: a non-reentrant lock not owned by any task.
class Lock {
public:
    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    bool locked() const noexcept { return locked_; }
    /// Suspends: while the lock is held or earlier waiters (even woken ones
    /// that have not run yet) are queued; not at all when it is free.
    /// Cancellation: the waiter leaves the queue; if it had been woken, the
    /// next waiter is woken instead. Throws: CancelledError.
    detail::AcquireAwaiter<Lock> acquire() noexcept { return detail::AcquireAwaiter<Lock>(this); }
    /// Like acquire(), giving a guard that releases the lock.
    detail::GuardAwaiter<Lock, Lock> acquire_guard() noexcept {
        return detail::GuardAwaiter<Lock, Lock>(this, this);
    }
    /// Unlocks and wakes the first waiter (if it was not woken already).
    /// Never suspends. Throws: RuntimeError("Lock is not acquired.") when not locked.
    void release();

    Coro<void> aenter();
    detail::ReadyFalse aexit(const std::exception_ptr&) {
        release();
        return {};
    }

    // For AcquireAwaiter.
    bool try_acquire() noexcept {
        if (!locked_ && (waiters_.empty() || waiters_.all_cancelled())) {
            locked_ = true;
            return true;
        }
        return false;
    }
    Coro<bool> acquire_slow();

private:
    detail::WaiterQueue waiters_;
    bool locked_ = false;
};

/// asyncio.Event.
class Event {
public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    bool is_set() const noexcept { return value_; }
    /// Wakes every waiter (each resumes in its own step, FIFO). Never suspends.
    void set();
    void clear() noexcept { value_ = false; }
    /// Suspends: until set() (not if already set). Cancellation: the waiter
    /// leaves the queue. Throws: CancelledError. Gives true.
    Coro<bool> wait();

private:
    detail::WaiterQueue waiters_;
    bool value_ = false;
};

/// asyncio.Condition: owns a Lock (Condition()) or shares one (Condition(Lock&)).
class Condition {
public:
    Condition() noexcept : lock_(&own_) {}
    explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    bool locked() const noexcept { return lock_->locked(); }
    detail::AcquireAwaiter<Lock> acquire() noexcept { return lock_->acquire(); }
    detail::GuardAwaiter<Lock, Lock> acquire_guard() noexcept { return lock_->acquire_guard(); }
    void release() { lock_->release(); }
    Coro<void> aenter() { return lock_->aenter(); }
    detail::ReadyFalse aexit(const std::exception_ptr& e) { return lock_->aexit(e); }

    /// Releases the lock, waits for a notify, re-acquires the lock.
    /// Suspends: until notified and the lock is re-acquired.
    /// Cancellation: the lock is re-acquired before CancelledError passes on
    /// (further cancellations while re-acquiring are absorbed, the last one
    /// is thrown), and the wake-up goes to the next waiter.
    /// Throws: RuntimeError("cannot wait on un-acquired lock"); CancelledError.
    Coro<void> wait();
    /// Waits until pred() is truthy; returns its final value.
    /// Suspends/Cancellation/Throws: as wait().
    template <class Pred>
    Coro<std::decay_t<std::invoke_result_t<Pred&>>> wait_for(Pred pred) {
        auto result = pred();
        while (!result) {
            co_await wait();
            result = pred();
        }
        co_return result;
    }
    /// Wakes up to n waiters. Throws: RuntimeError("cannot notify on un-acquired lock").
    void notify(std::size_t n = 1);
    void notify_all() { notify(waiters_.size()); }

private:
    Lock own_;
    Lock* lock_;
    detail::WaiterQueue waiters_;
};

/// asyncio.Semaphore.
class Semaphore {
public:
    /// Throws: ValueError("Semaphore initial value must be >= 0").
    explicit Semaphore(long long value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    /// True when acquire() would wait: no value left, or waiters queued.
    bool locked() const noexcept { return value_ == 0 || !waiters_.all_cancelled(); }
    /// Suspends: while locked(). Cancellation: the waiter leaves the queue;
    /// a wake-up it had received goes to the next waiter. Throws: CancelledError.
    detail::AcquireAwaiter<Semaphore> acquire() noexcept {
        return detail::AcquireAwaiter<Semaphore>(this);
    }
    /// Like acquire(), giving a guard that releases the semaphore.
    detail::GuardAwaiter<Semaphore, Semaphore> acquire_guard() noexcept {
        return detail::GuardAwaiter<Semaphore, Semaphore>(this, this);
    }
    /// Adds one unit and wakes the first waiter not yet woken. Never suspends.
    void release();

    Coro<void> aenter();
    detail::ReadyFalse aexit(const std::exception_ptr&) {
        release();
        return {};
    }

    // For AcquireAwaiter.
    bool try_acquire() noexcept {
        if (locked()) return false;
        --value_;
        return true;
    }
    Coro<bool> acquire_slow();

protected:
    bool wake_up_next();
    detail::WaiterQueue waiters_;
    long long value_;
};

/// asyncio.BoundedSemaphore: release() beyond the initial value throws
/// ValueError("BoundedSemaphore released too many times").
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(long long value = 1) : Semaphore(value), bound_(value) {}
    void release();
    detail::GuardAwaiter<Semaphore, BoundedSemaphore> acquire_guard() noexcept {
        return detail::GuardAwaiter<Semaphore, BoundedSemaphore>(this, this);
    }
    Coro<void> aenter() { return Semaphore::aenter(); }
    detail::ReadyFalse aexit(const std::exception_ptr&) {
        release();
        return {};
    }

private:
    long long bound_;
};

/// asyncio.Barrier.
class Barrier {
public:
    /// Throws: ValueError("parties must be > 0").
    explicit Barrier(std::size_t parties);
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    /// Waits until `parties` tasks wait; gives each a distinct index in
    /// [0, parties). Suspends: until the barrier fills (and while a previous
    /// cycle drains or resets). Cancellation: as Condition.wait; the task
    /// leaves the count. Throws: BrokenBarrierError("Barrier aborted") or
    /// ("Abort or reset of barrier"); CancelledError.
    Coro<std::size_t> wait();
    /// Back to empty; current waiters get BrokenBarrierError.
    /// Suspends: only to take the barrier's internal lock.
    /// Cancellation: while taking it, nothing has changed. Throws: CancelledError.
    Coro<void> reset();
    /// Breaks the barrier: current and future waiters get BrokenBarrierError.
    /// Suspends/Cancellation/Throws: as reset().
    Coro<void> abort();
    std::size_t parties() const noexcept { return parties_; }
    std::size_t n_waiting() const noexcept { return state_ == kFilling ? count_ : 0; }
    bool broken() const noexcept { return state_ == kBroken; }

    Coro<std::size_t> aenter() { return wait(); }
    detail::ReadyFalse aexit(const std::exception_ptr&) noexcept { return {}; }

private:
    enum State { kFilling, kDraining, kResetting, kBroken };
    Coro<void> block();
    Coro<void> wait_filled();
    void exit();
    Condition cond_;
    std::size_t parties_;
    State state_ = kFilling;
    std::size_t count_ = 0;
};

}  // namespace asyncio
