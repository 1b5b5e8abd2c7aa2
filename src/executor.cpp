// executor.cpp — ThreadPoolExecutor: lazy workers, the work queue, shutdown.
// Mirrors Lib/concurrent/futures/thread.py (3.13).
#include "asyncio/executor.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>

namespace asyncio {

namespace {

// Python: itertools.count() behind "ThreadPoolExecutor-%d".
std::atomic<std::size_t> g_pool_counter{0};

// Linux keeps 15 bytes of a thread's name: keep the "_<n>" suffix whole.
std::string os_thread_name(const std::string& prefix, std::size_t index) {
    const std::string suffix = "_" + std::to_string(index);
    constexpr std::size_t kMax = 15;
    if (prefix.size() + suffix.size() <= kMax) return prefix + suffix;
    if (suffix.size() >= kMax) return suffix.substr(0, kMax);
    return prefix.substr(0, kMax - suffix.size()) + suffix;
}

}  // namespace

std::size_t ThreadPoolExecutor::default_max_workers() noexcept {
    // Python 3.13: min(32, (os.process_cpu_count() or 1) + 4).
    std::size_t cpus = 0;
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = static_cast<std::size_t>(CPU_COUNT(&set));
    if (cpus == 0) cpus = std::max(1u, std::thread::hardware_concurrency());
    return std::min<std::size_t>(32, cpus + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options)
    : max_workers_(options.max_workers.value_or(default_max_workers())),
      prefix_(std::move(options.thread_name_prefix)) {
    if (max_workers_ == 0) throw ValueError("max_workers must be greater than 0");
    if (prefix_.empty()) prefix_ = "ThreadPoolExecutor-" + std::to_string(g_pool_counter++);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
    shutdown(true);
}

std::size_t ThreadPoolExecutor::thread_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return started_;
}

void ThreadPoolExecutor::execute(WorkItem* item) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
        // Before queueing: if starting a thread throws, the item is not taken.
        adjust_thread_count();
        item->next_work = nullptr;
        if (tail_)
            tail_->next_work = item;
        else
            head_ = item;
        tail_ = item;
    }
    // Outside the lock, so the woken worker does not block on it at once.
    work_cv_.notify_one();
}

void ThreadPoolExecutor::adjust_thread_count() {
    // Python: if idle threads are available, don't spin new threads.
    if (idle_tokens_ > 0) {
        --idle_tokens_;
        return;
    }
    if (started_ < max_workers_) {
        const std::size_t index = started_;
        threads_.emplace_back([this, index] { worker_main(index); });
        ++started_;
    }
}

void ThreadPoolExecutor::worker_main(std::size_t index) {
    ::pthread_setname_np(::pthread_self(), os_thread_name(prefix_, index).c_str());
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        if (WorkItem* item = head_) {
            head_ = item->next_work;
            if (!head_) tail_ = nullptr;
            lock.unlock();
            item->run();
            lock.lock();
            continue;
        }
        // The queue is drained: after shutdown, the worker ends (Python puts
        // None back for the next one; notify_all in shutdown() does that).
        if (shutdown_) return;
        ++idle_tokens_;  // Python: executor._idle_semaphore.release()
        work_cv_.wait(lock, [this] { return head_ != nullptr || shutdown_; });
    }
}

void ThreadPoolExecutor::shutdown(bool wait, ShutdownOptions options) {
    WorkItem* cancelled = nullptr;
    std::vector<std::thread> to_join;
    bool join_here = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        shutdown_ = true;
        if (options.cancel_futures) {
            cancelled = std::exchange(head_, nullptr);
            tail_ = nullptr;
        }
        work_cv_.notify_all();  // Python: work_queue.put(None)
        if (wait && !joining_) {
            joining_ = join_here = true;
            to_join.swap(threads_);
        }
    }
    // Cancelling runs done callbacks: outside the lock.
    while (cancelled) {
        WorkItem* next = cancelled->next_work;
        cancelled->cancel();
        cancelled = next;
    }
    if (!wait) return;
    if (join_here) {
        for (std::thread& t : to_join) t.join();
        std::lock_guard<std::mutex> lock(mutex_);
        joined_ = true;
        joined_cv_.notify_all();
    } else {
        // Another caller is joining the workers: wait until it is done.
        std::unique_lock<std::mutex> lock(mutex_);
        joined_cv_.wait(lock, [this] { return joined_; });
    }
}

}  // namespace asyncio
