// asyncio/runners.hpp — asyncio.run, asyncio.Runner.
//
// Mirrors Lib/asyncio/runners.py (3.13).
//
// run(main) makes a new loop, runs main as a task, then cancels every task
// still pending and waits for them, then closes the loop; it returns main's
// value or rethrows its exception. Under run(), SIGINT (Ctrl-C) cancels the
// main task, and run() then throws KeyboardInterrupt.
//
// Differences from Python:
//   * A second SIGINT while the first is being handled restores the default
//     disposition and re-raises the signal (C++ cannot raise an exception
//     from a signal handler); Python raises KeyboardInterrupt at once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "asyncio/task.hpp"

namespace asyncio {

struct RunOptions {
    std::optional<bool> debug = std::nullopt;
    /// Makes the loop (3.12's loop_factory); default: new_event_loop.
    std::function<std::unique_ptr<EventLoop>()> loop_factory = nullptr;
};

/// Keyword arguments of Runner::run (Python's `context=`).
struct RunnerRunOptions {
    /// The context the main task runs in (that very one); default: the
    /// runner's own, a copy of the context current when its loop was made,
    /// shared by every run() (as in Python).
    std::optional<Context> context = std::nullopt;
};

class Runner {
public:
    explicit Runner(RunOptions options = {});
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Runs coro as a task on the runner's loop and returns its result.
    /// Throws RuntimeError("Runner.run() cannot be called from a running event loop").
    template <class T>
    T run(Coro<T> coro, RunnerRunOptions options = {}) {
        Task<T> task = begin_run(std::move(coro), std::move(options.context));
        SigintScope scope(*this, task);
        try {
            loop_->check_runnable();
            return loop_->run_task_until_complete(task, true);
        } catch (const CancelledError&) {
            if (interrupt_count_.load() > 0 && task.uncancel() == 0) throw KeyboardInterrupt();
            throw;
        }
    }
    EventLoop& get_loop();
    /// Cancels what is left, waits for it, closes the loop. Idempotent.
    void close();

private:
    struct SigintScope {
        SigintScope(Runner& r, const TaskRef& main);
        ~SigintScope();
        Runner& runner;
        bool installed = false;
    };
    template <class T>
    Task<T> begin_run(Coro<T> coro, std::optional<Context> context) {
        check_can_run();
        EventLoop& loop = get_loop();
        TaskOptions options;
        options.context = context ? std::move(context) : context_;
        return loop.create_task(std::move(coro), std::move(options));
    }
    void check_can_run() const;
    void cancel_all_tasks();
    static void on_wakeup(void* self);

public:
    /// Called from the SIGINT handler; async-signal-safe. Not API.
    void signal_interrupt() noexcept;

private:
    RunOptions options_;
    std::unique_ptr<EventLoop> loop_;
    std::optional<Context> context_;  // made with the loop (Python's _lazy_init)
    bool closed_ = false;
    TaskRef main_task_;
    std::atomic<int> interrupt_count_{0};
    bool interrupt_handled_ = false;
};

/// Python's asyncio.run(main): a new loop for main, cleaned up afterwards.
/// Throws RuntimeError("asyncio.run() cannot be called from a running event loop").
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    if (detail::running_loop())
        throw RuntimeError("asyncio.run() cannot be called from a running event loop");
    Runner runner(std::move(options));
    if constexpr (std::is_void_v<T>) {
        runner.run(std::move(main));
        runner.close();
    } else {
        T result = runner.run(std::move(main));
        runner.close();
        return result;
    }
}

}  // namespace asyncio
