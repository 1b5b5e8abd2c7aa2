// asyncio/detail/waiter_queue.hpp — the one fair wait queue under every
// waiting primitive (Lock, Event, Condition, Semaphore, Barrier, Queue).
// Not API; the API below is kept small and stable for the primitives.
//
// Mirrors the `_waiters` deque of Lib/asyncio/locks.py and queues.py (trio
// calls the idea a ParkingLot): a FIFO of Future<void> waiters. A waiting
// coroutine pushes a waiter and awaits it through the public Future awaiter,
// exactly as a user could; whoever releases completes waiters in FIFO order.
//
// Protocol (as CPython 3.13), with wait() doing the common part:
//   auto [w, err] = co_await q.wait();  // push, await, remove (Python's inner `finally`)
//   if (err) {                          // only CancelledError can get here
//       if (!w.cancelled()) { /* woken, then cancelled: pass it on */ }
//       std::rethrow_exception(err);
//   }
// A waiter stays in the queue after it was woken, until its task runs and
// removes it (so Lock's wake_first() does not wake a second task while the
// first still has to run). A cancelled waiter is done, so no wake_* call
// ever completes it: it never consumes a wake-up.
//
// Thread-safety: none; a queue belongs to its loop's thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"

namespace asyncio::detail {

class WaiterQueue {
public:
    /// How a wait() ended: the waiter (done once woken; cancelled if the
    /// cancellation reached it first) and the CancelledError, if any.
    /// (A class with a constructor, not an aggregate: see docs, g++ 12.)
    struct Waited {
        Waited(Future<void> w, std::exception_ptr e) : waiter(std::move(w)), error(std::move(e)) {}
        Future<void> waiter;
        std::exception_ptr error;
    };

    /// Parks the running task on a new waiter until it is woken or the task
    /// is cancelled, then removes the waiter. The cancellation is returned,
    /// not thrown, so the caller can pass a wake-up on before rethrowing it.
    /// The queue must outlive the wait.
    Coro<Waited> wait() {
        Future<void> w = push(get_running_loop());
        std::exception_ptr err;
        try {
            co_await w;
        } catch (...) {
            err = std::current_exception();
        }
        remove(w);
        co_return Waited(std::move(w), std::move(err));
    }

    /// Appends a new pending waiter (a Future<void> of `loop`) and returns it.
    Future<void> push(EventLoop& loop) {
        q_.push_back(loop.create_future<void>());
        return q_.back();
    }
    /// Removes `w` (no-op if absent). Searches from the front: a woken
    /// waiter, the usual case, is near it.
    void remove(const Future<void>& w) noexcept {
        auto it = std::find(q_.begin(), q_.end(), w);
        if (it != q_.end()) q_.erase(it);
    }
    /// CPython Lock._wake_up_first: completes the first waiter if it is not
    /// done yet (if it was already woken, it has not run yet: wake nobody).
    bool wake_first() {
        if (q_.empty() || q_.front().done()) return false;
        q_.front().set_result();
        return true;
    }
    /// CPython Semaphore._wake_up_next: completes the first waiter that is
    /// not done. Returns whether one was woken.
    bool wake_one() {
        for (auto& w : q_) {
            if (!w.done()) {
                w.set_result();
                return true;
            }
        }
        return false;
    }
    /// Completes up to `n` not-done waiters in FIFO order (Condition.notify);
    /// returns how many.
    std::size_t wake_n(std::size_t n) {
        std::size_t woken = 0;
        for (auto& w : q_) {
            if (woken >= n) break;
            if (!w.done()) {
                w.set_result();
                ++woken;
            }
        }
        return woken;
    }
    /// Completes every not-done waiter; returns how many.
    std::size_t wake_all() {
        std::size_t woken = 0;
        for (auto& w : q_) {
            if (!w.done()) {
                w.set_result();
                ++woken;
            }
        }
        return woken;
    }
    /// Cancels every not-done waiter (Queue.shutdown(immediate)); returns how many.
    std::size_t cancel_all() {
        std::size_t n = 0;
        for (auto& w : q_) n += w.cancel() ? 1 : 0;
        return n;
    }
    /// Every waiter in the queue is cancelled (true when empty).
    bool all_cancelled() const noexcept {
        return std::all_of(q_.begin(), q_.end(),
                           [](const Future<void>& w) { return w.cancelled(); });
    }
    bool empty() const noexcept { return q_.empty(); }
    std::size_t size() const noexcept { return q_.size(); }

private:
    std::deque<Future<void>> q_;
};

}  // namespace asyncio::detail
