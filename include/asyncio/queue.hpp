// asyncio/queue.hpp — asyncio.Queue, asyncio.PriorityQueue, asyncio.LifoQueue.
//
// Mirrors Lib/asyncio/queues.py (3.13, with shutdown()).
//
// Every wait goes through detail::WaiterQueue (the fair FIFO under all
// primitives): getters, putters and join()ers each have one. Waiters are
// woken in FIFO order; a getter or putter cancelled after it was woken (its
// waiter completed, its task not yet run) passes the wake-up to the next one
// in line if the queue can still serve it, as CPython does, so no wake-up is
// lost or duplicated.
//
// T may be move-only: items are moved in and moved out.
//
// Thread-safety: none; a queue belongs to the loop of the tasks using it.
//
// Lifetime: a queue must outlive every task blocked in put(), get() or
// join() — including a cancelled one that has not run yet: it touches the
// queue when it wakes. Await (or otherwise finish) such tasks before the
// queue goes; Python's garbage collector does this for you.
//
// Differences from Python:
//   * The element type is fixed (T); PriorityQueue<T, Compare> orders with
//     Compare (default std::less<T>) and yields the smallest item first, as
//     heapq does. Equal items come out in an unspecified order (heapq too).
//   * maxsize is std::size_t: 0 means unbounded (Python also treats
//     negative values as unbounded; there are none here).
//   * No __repr__/_format, no __class_getitem__.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/waiter_queue.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/future.hpp"
#include "asyncio/loop.hpp"

namespace asyncio {

namespace detail {

/// Queue._init/_put/_get/qsize of the FIFO Queue.
template <class T>
class FifoStorage {
public:
    void put(T&& item) { items_.push_back(std::move(item)); }
    T get() {
        T item = std::move(items_.front());
        items_.pop_front();
        return item;
    }
    void pop() { items_.pop_front(); }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::deque<T> items_;
};

/// LifoQueue's list: the last item put is the first out.
template <class T>
class LifoStorage {
public:
    void put(T&& item) { items_.push_back(std::move(item)); }
    T get() {
        T item = std::move(items_.back());
        items_.pop_back();
        return item;
    }
    void pop() { items_.pop_back(); }
    std::size_t size() const noexcept { return items_.size(); }

private:
    std::vector<T> items_;
};

/// PriorityQueue's heap (heapq.heappush/heappop): the smallest item by
/// Compare is the first out.
template <class T, class Compare>
class HeapStorage {
public:
    void put(T&& item) {
        items_.push_back(std::move(item));
        std::push_heap(items_.begin(), items_.end(), greater());
    }
    T get() {
        std::pop_heap(items_.begin(), items_.end(), greater());
        T item = std::move(items_.back());
        items_.pop_back();
        return item;
    }
    void pop() {
        std::pop_heap(items_.begin(), items_.end(), greater());
        items_.pop_back();
    }
    std::size_t size() const noexcept { return items_.size(); }

private:
    // std heap functions build a max-heap for `less`; swapping the
    // arguments makes it a min-heap, as heapq is.
    auto greater() const {
        return [this](const T& a, const T& b) { return comp_(b, a); };
    }
    std::vector<T> items_;
    [[no_unique_address]] Compare comp_{};
};

/// The whole of queues.Queue over a Storage (_init/_put/_get).
template <class T, class Storage>
class BasicQueue {
public:
    using value_type = T;

    /// maxsize 0: unbounded.
    explicit BasicQueue(std::size_t maxsize = 0) : maxsize_(maxsize) {}
    BasicQueue(const BasicQueue&) = delete;
    BasicQueue& operator=(const BasicQueue&) = delete;

    /// Number of items in the queue.
    std::size_t qsize() const noexcept { return items_.size(); }
    /// Number of items allowed in the queue (0: unbounded).
    std::size_t maxsize() const noexcept { return maxsize_; }
    bool empty() const noexcept { return items_.size() == 0; }
    /// True when maxsize items are queued (never for maxsize 0).
    bool full() const noexcept { return maxsize_ != 0 && items_.size() >= maxsize_; }

    /// Puts an item, waiting while the queue is full.
    /// Suspends: while full(); resumed (through the ready queue) by a get
    /// that makes room, or by shutdown().
    /// Cancellation: the item is not put. If the putter had been woken, the
    /// wake-up goes to the next putter when there is still room.
    /// Throws: QueueShutDown once shutdown() was called (before or while
    /// waiting); CancelledError.
    Coro<void> put(T item) {
        while (full()) {
            if (is_shutdown_) throw QueueShutDown();
            co_await wait_on(putters_, /*for_put=*/true);
        }
        put_nowait(std::move(item));
    }

    /// Puts an item without waiting.
    /// Throws: QueueShutDown after shutdown(); QueueFull when full().
    void put_nowait(T item) {
        if (is_shutdown_) throw QueueShutDown();
        if (full()) throw QueueFull();
        items_.put(std::move(item));
        ++unfinished_tasks_;
        getters_.wake_one();
    }

    /// Removes and returns an item, waiting while the queue is empty.
    /// Suspends: while empty(); resumed (through the ready queue) by a put,
    /// or by shutdown().
    /// Cancellation: no item is taken. If the getter had been woken, the
    /// wake-up goes to the next getter when items remain.
    /// Throws: QueueShutDown when the queue is shut down and empty;
    /// CancelledError.
    Coro<T> get() {
        while (empty()) {
            if (is_shutdown_) throw QueueShutDown();
            co_await wait_on(getters_, /*for_put=*/false);
        }
        co_return get_nowait();
    }

    /// Removes and returns an item if one is immediately available.
    /// Throws: QueueShutDown when empty and shut down; QueueEmpty when empty.
    T get_nowait() {
        if (empty()) {
            if (is_shutdown_) throw QueueShutDown();
            throw QueueEmpty();
        }
        T item = items_.get();
        putters_.wake_one();
        return item;
    }

    /// Marks one formerly enqueued item as processed; join() returns when
    /// every item put has been marked.
    /// Throws: ValueError("task_done() called too many times").
    void task_done() {
        if (unfinished_tasks_ == 0) throw ValueError("task_done() called too many times");
        if (--unfinished_tasks_ == 0) finished_.wake_all();
    }

    /// Waits until every item put has been processed (task_done()).
    /// Suspends: while items are unfinished; resumed when task_done() (or
    /// shutdown(true)) brings the count to zero.
    /// Cancellation: cancel-safe; nothing changes.
    /// Throws: CancelledError.
    Coro<void> join() {
        if (unfinished_tasks_ > 0) {
            // Event.wait on self._finished: one wait, however the count moves after.
            auto [w, err] = co_await finished_.wait();
            if (err) std::rethrow_exception(err);
        }
    }

    /// Shuts the queue down: put() and put_nowait() raise QueueShutDown from
    /// now on, and get()/get_nowait() do once the queue is empty. Every
    /// blocked putter and getter is woken to re-check (and so raises).
    /// With `immediate`, the queued items are dropped (counted as done, so
    /// join() returns) and getters raise at once.
    void shutdown(bool immediate = false) {
        is_shutdown_ = true;
        if (immediate) {
            while (!empty()) {
                items_.pop();
                if (unfinished_tasks_ > 0) --unfinished_tasks_;
            }
            if (unfinished_tasks_ == 0) finished_.wake_all();
        }
        getters_.wake_all();
        putters_.wake_all();
    }

private:
    /// One wait of queues.py's put()/get() loop (WaiterQueue protocol).
    Coro<void> wait_on(WaiterQueue& waiters, bool for_put) {
        auto [w, err] = co_await waiters.wait();
        if (err) {
            w.cancel();  // just in case it is not done yet (as CPython)
            // Woken, then cancelled: we can't take the call; wake the next in line.
            const bool can_serve = for_put ? !full() : !empty();
            if (can_serve && !w.cancelled()) waiters.wake_one();
            std::rethrow_exception(err);
        }
    }

    Storage items_;
    std::size_t maxsize_;
    std::size_t unfinished_tasks_ = 0;
    bool is_shutdown_ = false;
    WaiterQueue getters_;
    WaiterQueue putters_;
    WaiterQueue finished_;  // join()ers: Python's self._finished Event
};

}  // namespace detail

/// asyncio.Queue: first in, first out.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStorage<T>> {
public:
    using detail::BasicQueue<T, detail::FifoStorage<T>>::BasicQueue;
};

/// asyncio.PriorityQueue: the smallest item (by Compare) first.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStorage<T, Compare>> {
public:
    using detail::BasicQueue<T, detail::HeapStorage<T, Compare>>::BasicQueue;
};

/// asyncio.LifoQueue: last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStorage<T>> {
public:
    using detail::BasicQueue<T, detail::LifoStorage<T>>::BasicQueue;
};

}  // namespace asyncio
