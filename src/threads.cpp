// threads.cpp — the loop's default executor and shutdown_default_executor.
// Mirrors Lib/asyncio/base_events.py (run_in_executor, set_default_executor,
// shutdown_default_executor, _do_shutdown), 3.13.
#include "asyncio/threads.hpp"

#include <sstream>
#include <thread>

#include "asyncio/wait_for.hpp"

namespace asyncio {

void EventLoop::set_default_executor(std::shared_ptr<Executor> executor) {
    default_executor_ = std::move(executor);
}

Executor& EventLoop::default_executor() {
    // Python's _check_default_executor.
    if (executor_shutdown_called_) throw RuntimeError("Executor shutdown has been called");
    if (!default_executor_)
        default_executor_ = std::make_shared<ThreadPoolExecutor>(
            ThreadPoolOptions{.thread_name_prefix = "asyncio"});
    return *default_executor_;
}

namespace {

// Python's _do_shutdown, in the helper thread: join the workers, then report.
void join_executor(std::shared_ptr<Executor> executor, ConcurrentFuture<void> joined) {
    try {
        executor->shutdown(true);
        if (joined.set_running_or_notify_cancel()) joined.set_result();
    } catch (...) {
        if (!joined.done()) {
            try {
                joined.set_exception(std::current_exception());
            } catch (...) {
            }
        }
    }
}

}  // namespace

Coro<void> EventLoop::shutdown_default_executor(std::optional<Delay> timeout) {
    executor_shutdown_called_ = true;
    if (!default_executor_) co_return;
    std::shared_ptr<Executor> executor = default_executor_;
    ConcurrentFuture<void> joined = ConcurrentFuture<void>::create();
    // Joining blocks, so it happens in a helper thread while this loop runs.
    std::thread helper(&join_executor, executor, joined);
    // If this coroutine is cancelled or times out, the helper is left to
    // finish on its own (it holds only shared, thread-safe state).
    struct DetachUnlessJoined {
        std::thread& t;
        ~DetachUnlessJoined() {
            if (t.joinable()) t.detach();
        }
    } guard{helper};
    Future<void> done = wrap_future(joined, this);
    bool timed_out = false;
    if (timeout) {
        try {
            co_await wait_for(done, *timeout);
        } catch (const TimeoutError&) {
            timed_out = true;
        }
    } else {
        co_await done;
    }
    if (timed_out) {
        std::ostringstream msg;
        msg << "The executor did not finishing joining its threads within " << timeout->seconds()
            << " seconds.";  // sic, CPython's RuntimeWarning
        call_exception_handler({msg.str(), nullptr, {}});
        executor->shutdown(false);
        co_return;
    }
    helper.join();
}

}  // namespace asyncio
