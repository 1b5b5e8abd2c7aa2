// concurrent_future.cpp — ConcurrentStateBase: transitions, waiting, done
// callbacks. Mirrors Lib/concurrent/futures/_base.py (Future).
#include "asyncio/concurrent_future.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "describe.hpp"

namespace asyncio::detail {

ConcurrentStateBase::~ConcurrentStateBase() {
    // Callbacks of a future that never completed die with it (no thread can
    // complete it any more: this was the last handle).
    ConcurrentCallbackNode* n = callbacks_;
    while (n) {
        ConcurrentCallbackNode* next = n->next;
        delete n;
        n = next;
    }
}

bool ConcurrentStateBase::cancel() {
    std::unique_lock<std::mutex> lock(mutex_);
    const State s = state();
    if (s == kRunning || s == kFinished) return false;
    if (s == kCancelled) return true;
    exc_ = std::make_exception_ptr(CancelledError());
    finish(lock, kCancelled);
    return true;
}

bool ConcurrentStateBase::set_running_or_notify_cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    const State s = state();
    if (s == kCancelled) return false;
    if (s != kPending) throw RuntimeError("Future in unexpected state");
    state_.store(kRunning, std::memory_order_release);
    return true;
}

std::unique_lock<std::mutex> ConcurrentStateBase::begin_set() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (state() >= kCancelled) throw InvalidStateError("invalid state");
    return lock;
}

void ConcurrentStateBase::set_exception(std::exception_ptr e) {
    if (!e) throw ValueError("set_exception() needs an exception");
    std::unique_lock<std::mutex> lock = begin_set();
    exc_ = std::move(e);
    finish(lock, kFinished);
}

void ConcurrentStateBase::finish(std::unique_lock<std::mutex>& lock, State to) {
    // The value/exception were written under the lock; the release store
    // publishes them to lock-free readers of done().
    state_.store(to, std::memory_order_release);
    ConcurrentCallbackNode* n = std::exchange(callbacks_, nullptr);
    lock.unlock();
    cv_.notify_all();
    // Reverse to registration order.
    ConcurrentCallbackNode* ordered = nullptr;
    while (n) {
        ConcurrentCallbackNode* next = n->next;
        n->next = ordered;
        ordered = n;
        n = next;
    }
    run_callbacks(*this, ordered);
}

void ConcurrentStateBase::run_callbacks(ConcurrentStateBase& s,
                                        ConcurrentCallbackNode* n) noexcept {
    // A callback may drop the last other handle: keep the state alive.
    s.add_ref();
    while (n) {
        ConcurrentCallbackNode* next = n->next;
        try {
            n->invoke(s);
        } catch (...) {
            // concurrent.futures: LOGGER.exception('exception calling callback for %r', self)
            try {
                std::cerr << "exception calling callback for <ConcurrentFuture at " << &s << ">\n"
                          << describe_exception(std::current_exception()) << std::endl;
            } catch (...) {
            }
        }
        delete n;
        n = next;
    }
    s.release();
}

void ConcurrentStateBase::add_done_callback_node(ConcurrentCallbackNode* n) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!done()) {
            n->next = callbacks_;
            callbacks_ = n;
            return;
        }
    }
    n->next = nullptr;
    run_callbacks(*this, n);
}

bool ConcurrentStateBase::wait(std::optional<Delay> timeout) const {
    if (done()) return true;
    std::unique_lock<std::mutex> lock(mutex_);
    if (!timeout) {
        cv_.wait(lock, [this] { return done(); });
        return true;
    }
    const auto limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        Seconds(std::min(std::max(0.0, timeout->seconds()), 1e9)));  // ~31 years: no overflow
    return cv_.wait_until(lock, std::chrono::steady_clock::now() + limit,
                          [this] { return done(); });
}

void ConcurrentStateBase::check_result(std::optional<Delay> timeout) const {
    if (!wait(timeout)) throw TimeoutError();
    if (exc_) std::rethrow_exception(exc_);
}

std::exception_ptr ConcurrentStateBase::exception(std::optional<Delay> timeout) const {
    if (!wait(timeout)) throw TimeoutError();
    if (state() == kCancelled) std::rethrow_exception(exc_);
    return exc_;
}

}  // namespace asyncio::detail
