// locks.cpp — Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier.
// Mirrors Lib/asyncio/locks.py (3.13), function by function.
#include "asyncio/locks.hpp"

#include "asyncio/loop.hpp"

namespace asyncio {

// ---- Lock -------------------------------------------------------------------

Coro<bool> Lock::acquire_slow() {
    auto [fut, err] = co_await waiters_.wait();
    if (err) {
        // Only CancelledError gets here: pass a wake-up we may have had on.
        if (!locked_) waiters_.wake_first();
        std::rethrow_exception(err);
    }
    locked_ = true;
    co_return true;
}

Coro<void> Lock::aenter() {
    co_await acquire();
}

void Lock::release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    locked_ = false;
    waiters_.wake_first();
}

// ---- Event ------------------------------------------------------------------

void Event::set() {
    if (!value_) {
        value_ = true;
        waiters_.wake_all();
    }
}

Coro<bool> Event::wait() {
    if (value_) co_return true;
    auto [fut, err] = co_await waiters_.wait();
    if (err) std::rethrow_exception(err);
    co_return true;
}

// ---- Condition --------------------------------------------------------------

Coro<void> Condition::wait() {
    if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
    release();
    auto [fut, err] = co_await waiters_.wait();
    // Re-acquire, whatever happens; the most recent cancellation wins.
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const CancelledError&) {
            err = std::current_exception();
        }
    }
    if (err) {
        waiters_.wake_n(1);
        std::rethrow_exception(err);
    }
}

void Condition::notify(std::size_t n) {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    waiters_.wake_n(n);
}

// ---- Semaphore --------------------------------------------------------------

Semaphore::Semaphore(long long value) : value_(value) {
    if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

bool Semaphore::wake_up_next() {
    if (waiters_.empty()) return false;
    if (!waiters_.wake_one()) return false;
    --value_;
    return true;
}

Coro<bool> Semaphore::acquire_slow() {
    auto [fut, err] = co_await waiters_.wait();
    // Woken, but cancelled before it could run: undo the bookkeeping.
    if (err && fut.done() && !fut.cancelled()) ++value_;
    // New waiters may have had to queue behind us (FIFO): wake as many as allowed.
    while (value_ > 0) {
        if (!wake_up_next()) break;
    }
    if (err) std::rethrow_exception(err);
    co_return true;
}

Coro<void> Semaphore::aenter() {
    co_await acquire();
}

void Semaphore::release() {
    ++value_;
    wake_up_next();
}

void BoundedSemaphore::release() {
    if (value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
    Semaphore::release();
}

// ---- Barrier ----------------------------------------------------------------

Barrier::Barrier(std::size_t parties) : parties_(parties) {
    if (parties < 1) throw ValueError("parties must be > 0");
}

Coro<std::size_t> Barrier::wait() {
    co_await cond_.acquire();  // async with self._cond
    std::exception_ptr err;
    std::size_t index = 0;
    try {
        co_await block();  // while the barrier drains or resets
        index = count_++;
        std::exception_ptr inner;
        try {
            if (index + 1 == parties_) {
                state_ = kDraining;
                cond_.notify_all();
            } else {
                co_await wait_filled();
            }
        } catch (...) {
            inner = std::current_exception();
        }
        --count_;
        exit();
        if (inner) std::rethrow_exception(inner);
    } catch (...) {
        err = std::current_exception();
    }
    cond_.release();
    if (err) std::rethrow_exception(err);
    co_return index;
}

Coro<void> Barrier::block() {
    co_await cond_.wait_for([this] { return state_ != kDraining && state_ != kResetting; });
    if (state_ == kBroken) throw BrokenBarrierError("Barrier aborted");
}

Coro<void> Barrier::wait_filled() {
    co_await cond_.wait_for([this] { return state_ != kFilling; });
    if (state_ == kBroken || state_ == kResetting)
        throw BrokenBarrierError("Abort or reset of barrier");
}

void Barrier::exit() {
    if (count_ == 0) {
        if (state_ == kResetting || state_ == kDraining) state_ = kFilling;
        cond_.notify_all();
    }
}

Coro<void> Barrier::reset() {
    co_await cond_.acquire();
    if (count_ > 0) {
        state_ = kResetting;
    } else {
        state_ = kFilling;
    }
    cond_.notify_all();
    cond_.release();
}

Coro<void> Barrier::abort() {
    co_await cond_.acquire();
    state_ = kBroken;
    cond_.notify_all();
    cond_.release();
}

}  // namespace asyncio
