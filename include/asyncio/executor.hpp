// asyncio/executor.hpp — concurrent.futures.Executor and ThreadPoolExecutor.
//
// Mirrors Lib/concurrent/futures/_base.py (Executor) and thread.py
// (ThreadPoolExecutor, _WorkItem, _worker), 3.13.
//
// submit(f, args...) decay-copies f and the arguments into one work item (as
// std::thread does), which is also the ConcurrentFuture's state: one
// allocation per call, no std::function. A worker calls f with the stored
// arguments as rvalues, destroys them, then sets the result or the
// exception (the very object thrown).
//
// ThreadPoolExecutor starts its workers lazily, as Python does: submit()
// starts a new one only when no worker is idle and fewer than max_workers
// run; workers are named "<prefix>_<n>" (default prefix
// "ThreadPoolExecutor-<k>"), truncated to the 15 bytes Linux keeps.
//
// Thread-safety: submit() and shutdown() may be called from any thread.
//
// Differences from Python:
//   * The destructor calls shutdown(true) (Python's `with` block): a pool
//     never leaves threads behind. Don't destroy a pool from one of its own
//     workers.
//   * No initializer/initargs, no map(); Executor is an abstract class whose
//     one hook, execute(WorkItem*), lets users write their own executors.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/concurrent_future.hpp"

namespace asyncio {

/// One submitted call, queued in an executor. An executor must call exactly
/// one of run() and cancel() on each item it accepted, once, from any thread.
class WorkItem {
public:
    /// Python's _WorkItem.run: runs the call unless its future was cancelled,
    /// then frees the item.
    virtual void run() noexcept = 0;
    /// Cancels the item's future (shutdown(cancel_futures=True)), frees the item.
    virtual void cancel() noexcept = 0;

    WorkItem* next_work = nullptr;  // for the executor's intrusive queue

protected:
    ~WorkItem() = default;
};

namespace detail {

template <class R, class F, class... Args>
class BoundWorkItem final : public ConcurrentState<R>, public WorkItem {
public:
    template <class G, class... A>
    explicit BoundWorkItem(G&& f, A&&... args)
        : call_(std::in_place, std::forward<G>(f), std::forward<A>(args)...) {}

    void run() noexcept override {
        if (this->set_running_or_notify_cancel()) {
            try {
                if constexpr (std::is_void_v<R>) {
                    invoke_and_destroy();
                    this->set_result();
                } else {
                    R r = invoke_and_destroy();
                    this->set_result(std::move(r));
                }
            } catch (...) {
                call_.reset();
                this->set_exception(std::current_exception());
            }
        }
        call_.reset();
        this->release();  // the queue's reference
    }
    void cancel() noexcept override {
        this->ConcurrentState<R>::cancel();
        call_.reset();
        this->release();
    }

private:
    // Python drops fn and args with the work item; here they go before the
    // result is published, so a waiter that sees it knows they are gone.
    R invoke_and_destroy() {
        struct Drop {
            std::optional<std::tuple<F, Args...>>& c;
            ~Drop() { c.reset(); }
        } drop{call_};
        return std::apply(
            [](F& f, Args&... args) -> R { return std::invoke(std::move(f), std::move(args)...); },
            *call_);
    }

    std::optional<std::tuple<F, Args...>> call_;
};

}  // namespace detail

/// Keyword arguments of Executor::shutdown.
struct ShutdownOptions {
    bool cancel_futures = false;
};

/// concurrent.futures.Executor: submit calls, shut down.
class Executor {
public:
    virtual ~Executor() = default;

    /// Schedules f(args...) and returns a future for its result.
    /// Throws: RuntimeError("cannot schedule new futures after shutdown").
    template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
        ConcurrentFuture<detail::executor_result_t<F, Args...>> submit(F&& f, Args&&... args) {
        using R = detail::executor_result_t<F, Args...>;
        using Item = detail::BoundWorkItem<R, std::decay_t<F>, std::decay_t<Args>...>;
        auto* item = new Item(std::forward<F>(f), std::forward<Args>(args)...);
        auto fut = ConcurrentFuture<R>::adopt(item);  // the handle's reference
        item->add_ref();                              // the queue's reference
        try {
            execute(item);
        } catch (...) {
            item->release();
            throw;
        }
        return fut;
    }

    /// Python's shutdown(wait=True, *, cancel_futures=False): accepts no more
    /// calls; with cancel_futures, cancels those not started; with wait,
    /// returns once every call has finished and the resources are freed.
    virtual void shutdown(bool wait = true, ShutdownOptions options = {}) = 0;

protected:
    /// Takes `item` (see WorkItem), or throws without taking it.
    virtual void execute(WorkItem* item) = 0;
};

/// Keyword arguments of ThreadPoolExecutor.
struct ThreadPoolOptions {
    /// Default: min(32, CPUs this process may use + 4), as Python 3.13.
    std::optional<std::size_t> max_workers = std::nullopt;
    /// Default: "ThreadPoolExecutor-<k>".
    std::string thread_name_prefix = {};
};

/// concurrent.futures.ThreadPoolExecutor.
class ThreadPoolExecutor final : public Executor {
public:
    /// Throws ValueError("max_workers must be greater than 0").
    explicit ThreadPoolExecutor(ThreadPoolOptions options = {});
    explicit ThreadPoolExecutor(std::size_t max_workers)
        : ThreadPoolExecutor(ThreadPoolOptions{.max_workers = max_workers}) {}
    ~ThreadPoolExecutor() override;
    ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
    ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

    void shutdown(bool wait = true, ShutdownOptions options = {}) override;

    std::size_t max_workers() const noexcept { return max_workers_; }
    const std::string& thread_name_prefix() const noexcept { return prefix_; }
    /// Workers started so far (Python's len(executor._threads)).
    std::size_t thread_count() const;
    /// min(32, CPUs in this process's affinity mask + 4).
    static std::size_t default_max_workers() noexcept;

protected:
    void execute(WorkItem* item) override;

private:
    void worker_main(std::size_t index);
    void adjust_thread_count();  // mutex_ held

    mutable std::mutex mutex_;
    std::condition_variable work_cv_;    // workers wait for items or shutdown
    std::condition_variable joined_cv_;  // shutdown(wait) callers wait for the join
    WorkItem* head_ = nullptr;           // FIFO work queue
    WorkItem* tail_ = nullptr;
    std::size_t idle_tokens_ = 0;  // Python's _idle_semaphore
    bool shutdown_ = false;
    bool joining_ = false;
    bool joined_ = false;
    std::vector<std::thread> threads_;  // handed to the joining shutdown()
    std::size_t started_ = 0;
    std::size_t max_workers_;
    std::string prefix_;
};

}  // namespace asyncio
