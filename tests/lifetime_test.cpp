// lifetime_test.cpp — nothing leaks and nothing dies twice, on every path a
// task can take: it returns, fails, is cancelled (before its first step or
// while suspended), is dropped by a closing loop, or is held by handles that
// outlive the loop. Coroutine parameters and locals are counted.
//
// Python reference: a task's coroutine frame is released when the task ends;
// "Task was destroyed but it is pending!" and "Task exception was never
// retrieved" come from Task.__del__ / Future.__del__ (futures.py, tasks.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Coro;
using support::Trace;

namespace {

struct ParamTag;
struct LocalTag;
using Param = support::BasicCounted<ParamTag>;  // coroutine parameters
using Local = support::BasicCounted<LocalTag>;  // coroutine locals

void reset_counts() {
    Param::reset();
    Local::reset();
}

struct CountedError : std::runtime_error {
    explicit CountedError(const std::string& what) : std::runtime_error(what) {}
    Local payload{99};  // the exception object is counted too
};

Coro<int> leaf(Param p, double delay) {
    Local l(1);
    co_await asyncio::sleep(delay);
    co_return p.value + l.value;
}

Coro<int> middle(Param p, double delay) {
    Local l(10);
    const int r = co_await leaf(Param(p.value), delay);
    co_return r + l.value;
}

Coro<int> fail_after(Param p, double delay) {
    Local l(1);
    co_await asyncio::sleep(delay);
    throw CountedError("failed " + std::to_string(p.value + l.value));
}

// ----------------------------------------------------------- normal paths

Coro<void> finish_normally(Trace& trace) {
    asyncio::Task<int> t = asyncio::create_task(middle(Param(100), 1));
    co_await asyncio::sleep(0.5);
    // Params: middle's, the temporary Param(p.value) (alive until the end of
    // the full-expression that holds the co_await), leaf's. Locals: one each.
    trace("running:", Param::live(), "/", Local::live());
    trace("result:", co_await t);
    trace("done:", Local::live());  // locals are gone once the task is done
}

TEST(lifetime, task_that_returns_releases_parameters_and_locals) {
    reset_counts();
    Trace trace;
    support::run_virtual(finish_normally(trace));
    EXPECT_EQ(trace.str(), "running:3/2 result:111 done:0");
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
    EXPECT_EQ(Param::copies() + Local::copies(), 0);
}

Coro<void> fail_and_retrieve(Trace& trace) {
    asyncio::Task<int> t = asyncio::create_task(fail_after(Param(4), 1));
    try {
        co_await t;
    } catch (const CountedError& e) {
        trace(e.what());
    }
    trace("after:", Local::live());  // only the stored exception's payload
}

TEST(lifetime, task_that_fails_releases_everything) {
    reset_counts();
    Trace trace;
    support::CaptureHandler cap;
    support::run_virtual(fail_and_retrieve(trace), cap);
    EXPECT_EQ(trace.str(), "failed 5 after:1");
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);  // the exception object went with the last handle
    EXPECT_TRUE(cap.empty()) << ::testing::PrintToString(cap.messages());
}

// ------------------------------------------------------------ cancellation

Coro<void> cancel_before_first_step(Trace& trace) {
    bool ran = false;
    asyncio::Task<void> t = asyncio::create_task(asyncio::co_invoke(
        [&ran](Param) -> Coro<void> {
            ran = true;
            Local l;
            co_await asyncio::sleep(1);
        },
        Param(1)));
    trace("params:", Param::live());
    t.cancel();
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
        trace("cancelled");
    }
    trace("ran:", ran, " locals:", Local::live());
}

TEST(lifetime, task_cancelled_before_its_first_step_runs_nothing_and_leaks_nothing) {
    reset_counts();
    Trace trace;
    support::run_virtual(cancel_before_first_step(trace));
    EXPECT_EQ(trace.str(),
              "params:1 cancelled ran:0 locals:0");  // co_invoke's copy of the argument
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

Coro<void> cancel_while_sleeping(Trace& trace) {
    asyncio::Task<int> t = asyncio::create_task(middle(Param(1), 3600));
    co_await asyncio::sleep(1);
    trace("sleeping:", Param::live(), "/", Local::live());
    t.cancel("stop");
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        trace("cancelled:", e.what());
    }
    trace("locals:", Local::live(), " at ", asyncio::get_running_loop().time());
}

TEST(lifetime, task_cancelled_while_sleeping_unwinds_every_frame) {
    reset_counts();
    Trace trace;
    support::run_virtual(cancel_while_sleeping(trace));
    EXPECT_EQ(trace.str(), "sleeping:3/2 cancelled:stop locals:0 at 1");
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

// ----------------------------------------------------------- closing loops

TEST(lifetime, closing_a_loop_destroys_the_frames_of_pending_tasks) {
    reset_counts();
    auto loop = support::new_virtual_loop();
    support::CaptureHandler cap(*loop);
    (void)loop->create_task(middle(Param(1), 3600));  // will be suspended in sleep
    (void)loop->create_task(middle(Param(2), 3600));
    loop->run_until_complete(asyncio::sleep(0));
    (void)loop->create_task(leaf(Param(3), 1));  // never started
    EXPECT_EQ(Param::live(), 7);
    EXPECT_EQ(Local::live(), 4);
    loop->close();
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
    // CPython's Task.__del__ message, once per task.
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 3u)
        << ::testing::PrintToString(cap.messages());
    EXPECT_EQ(cap.size(), 3u);
}

// A task keeps its extras (name, cancel message, context) and the future it
// waits on in its root frame's promise: closing the loop must release each
// of them with the frame. The future's pending callback holds a Local, freed
// only when the task's reference on the future goes; ASan sees the extras.
Coro<void> wait_with_task_state(asyncio::ContextVar<Local>& var, Trace& trace) {
    var.set(Local(5));
    asyncio::Future<int> fut = asyncio::get_running_loop().create_future<int>();
    fut.add_done_callback([l = Local(6)](const asyncio::Future<int>&) { ADD_FAILURE(); });
    trace("waiting");
    co_await std::move(fut);  // the task's reference is then the only one
    ADD_FAILURE() << "the future is never completed";
}

TEST(lifetime, closing_a_loop_frees_what_a_pending_task_keeps_in_its_root_frame) {
    reset_counts();
    Trace trace;
    asyncio::ContextVar<Local> var("var");
    auto loop = support::new_virtual_loop();
    support::CaptureHandler cap(*loop);
    (void)loop->create_task(wait_with_task_state(var, trace),
                            asyncio::TaskOptions{.name = "named"});
    loop->run_until_complete(asyncio::sleep(0));
    asyncio::Task<int> unstarted = loop->create_task(leaf(Param(1), 1));
    EXPECT_TRUE(unstarted.cancel("a message long enough to live on the heap, not inline"));
    EXPECT_EQ(trace.str(), "waiting");
    EXPECT_EQ(Local::live(), 2);  // the context's value and the callback's capture
    loop->close();
    EXPECT_EQ(Local::live(), 0);
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 1u)
        << ::testing::PrintToString(cap.messages());
    unstarted = asyncio::Task<int>();
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 2u);
}

TEST(lifetime, a_kept_handle_keeps_the_frame_of_a_pending_task_until_released) {
    reset_counts();
    auto loop = support::new_virtual_loop();
    support::CaptureHandler cap(*loop);
    asyncio::Task<int> t = loop->create_task(middle(Param(1), 3600));
    loop->run_until_complete(asyncio::sleep(0));
    loop->close();
    EXPECT_FALSE(t.done());
    EXPECT_EQ(Param::live(), 3);  // the frames live as long as the handle
    EXPECT_EQ(Local::live(), 2);
    EXPECT_TRUE(cap.empty());
    t = asyncio::Task<int>();
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 1u);
}

TEST(lifetime, a_pending_task_handle_can_outlive_its_loop) {
    reset_counts();
    auto loop = support::new_virtual_loop();
    asyncio::Task<int> t = loop->create_task(middle(Param(1), 3600));
    loop->run_until_complete(asyncio::sleep(0));
    loop.reset();  // closed and destroyed, with the task suspended in sleep()
    EXPECT_FALSE(t.done());
    EXPECT_EQ(Param::live(), 3);
    ::testing::internal::CaptureStderr();
    t = asyncio::Task<int>();  // no loop left: reported as the default handler would
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Task was destroyed but it is pending!"), std::string::npos) << err;
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

TEST(lifetime, finished_handles_outlive_the_loop) {
    reset_counts();
    asyncio::Task<int> ok, failed, cancelled;
    asyncio::Future<int> fut;
    {
        auto loop = support::new_virtual_loop();
        ok = loop->create_task(middle(Param(1), 1));
        failed = loop->create_task(fail_after(Param(2), 1));
        cancelled = loop->create_task(leaf(Param(3), 5));
        fut = loop->create_future<int>();
        fut.set_result(8);
        loop->run_until_complete(asyncio::sleep(2));
        cancelled.cancel("late");
        loop->run_until_complete(asyncio::sleep(0));
        loop->close();
    }
    ASSERT_TRUE(ok.done());
    EXPECT_EQ(ok.result(), 12);
    EXPECT_EQ(ok.exception(), nullptr);
    ASSERT_TRUE(failed.done());
    EXPECT_THROW_MSG(failed.result(), CountedError, "failed 3");
    EXPECT_TRUE(support::holds<CountedError>(failed.exception()));
    EXPECT_TRUE(cancelled.cancelled());
    EXPECT_THROW_MSG(cancelled.result(), asyncio::CancelledError, "late");
    EXPECT_EQ(fut.result(), 8);
    EXPECT_THROW_MSG(fut.get_loop(), asyncio::RuntimeError,
                     "the event loop of this future no longer exists");
    ok = failed = cancelled = asyncio::Task<int>();
    fut = asyncio::Future<int>();
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

Coro<int> deep(int depth, Param& at_bottom) {
    Local l(depth);
    if (depth == 0) {
        co_await asyncio::sleep(3600);
        co_return at_bottom.value;
    }
    co_return co_await deep(depth - 1, at_bottom);
}

// Destroying a task suspended under 100,000 nested awaits must not recurse
// once per level (each level's frame owns the next one through its Coro).
TEST(lifetime, closing_a_loop_destroys_a_deep_await_chain_without_recursion) {
    reset_counts();
    Param bottom(1);
    auto loop = support::new_virtual_loop();
    support::CaptureHandler cap(*loop);
    (void)loop->create_task(deep(100'000, bottom));
    loop->run_until_complete(asyncio::sleep(1));
    EXPECT_EQ(Local::live(), 100'001);
    loop->close();
    EXPECT_EQ(Local::live(), 0);
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 1u);
}

Coro<void> cancel_deep(Trace& trace, Param& bottom) {
    asyncio::Task<int> t = asyncio::create_task(deep(100'000, bottom));
    co_await asyncio::sleep(1);
    trace("locals:", Local::live());
    t.cancel();
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
        trace("cancelled");
    }
    trace("locals:", Local::live());
}

TEST(lifetime, cancelling_a_deep_await_chain_unwinds_every_frame) {
    reset_counts();
    Param bottom(1);
    Trace trace;
    support::run_virtual(cancel_deep(trace, bottom));
    EXPECT_EQ(trace.str(), "locals:100001 cancelled locals:0");
}

// ------------------------------------------------------------------- volume

Coro<int> small(Param p) {
    Local l(1);
    co_await asyncio::sleep(0);
    co_return p.value + l.value;
}

Coro<long> many_tasks(Trace& trace) {
    constexpr int n = 100'000;
    std::vector<asyncio::Task<int>> tasks;
    tasks.reserve(n);
    for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(small(Param(i))));
    trace("params:", Param::live());
    co_await asyncio::sleep(0);  // every task is now inside its sleep(0)
    trace("locals:", Local::live());
    long sum = 0;
    for (auto& t : tasks) sum += co_await t;
    tasks.clear();
    trace("after:", Param::live(), "/", Local::live());
    co_return sum;
}

TEST(lifetime, hundred_thousand_tasks_leave_no_live_counted) {
    reset_counts();
    Trace trace;
    const long sum = support::run_virtual(many_tasks(trace));
    EXPECT_EQ(sum, 100'000L * 99'999 / 2 + 100'000);
    EXPECT_EQ(trace.str(), "params:100000 locals:100000 after:0/0");
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

Coro<void> many_cancelled(Trace& trace) {
    std::vector<asyncio::Task<int>> tasks;
    for (int i = 0; i < 10'000; ++i) tasks.push_back(asyncio::create_task(middle(Param(i), 10)));
    co_await asyncio::sleep(1);
    for (auto& t : tasks) t.cancel();
    int cancelled = 0;
    for (auto& t : tasks) {
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
            ++cancelled;
        }
    }
    trace("cancelled:", cancelled, " locals:", Local::live());
}

TEST(lifetime, ten_thousand_cancelled_tasks_leave_no_live_counted) {
    reset_counts();
    Trace trace;
    support::run_virtual(many_cancelled(trace));
    EXPECT_EQ(trace.str(), "cancelled:10000 locals:0");
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

// ------------------------------------------------ unretrieved exceptions

Coro<void> drop_failed_handles(Trace& trace) {
    {
        // Dropped before it fails: the report comes when the task ends.
        asyncio::Task<int> early = asyncio::create_task(fail_after(Param(1), 1));
        asyncio::Task<int> copy = early;
    }
    asyncio::Task<int> late = asyncio::create_task(fail_after(Param(10), 1));
    asyncio::Task<int> retrieved = asyncio::create_task(fail_after(Param(20), 1));
    asyncio::Task<int> cancelled = asyncio::create_task(fail_after(Param(30), 1));
    co_await asyncio::sleep(0);
    cancelled.cancel();
    co_await asyncio::sleep(2);
    trace("all done:", late.done() && retrieved.done() && cancelled.done());
    (void)retrieved.exception();
    late = retrieved = cancelled = asyncio::Task<int>();
    co_await asyncio::sleep(0);  // reports come no later than the next iteration
    trace("dropped");
}

TEST(lifetime, unretrieved_task_exceptions_are_reported_once) {
    reset_counts();
    Trace trace;
    support::CaptureHandler cap;
    support::run_virtual(drop_failed_handles(trace), cap);
    EXPECT_EQ(trace.str(), "all done:1 dropped");
    ASSERT_EQ(cap.size(), 2u) << ::testing::PrintToString(cap.messages());
    EXPECT_EQ(cap.count("Task exception was never retrieved"), 2u);
    std::vector<std::string> whats{cap.at(0).what, cap.at(1).what};
    std::sort(whats.begin(), whats.end());
    EXPECT_EQ(whats, (std::vector<std::string>{"failed 11", "failed 2"}));
    EXPECT_TRUE(static_cast<bool>(cap.at(0).task));
    cap.clear();  // the records held the last references
    EXPECT_EQ(Param::live(), 0);
    EXPECT_EQ(Local::live(), 0);
}

TEST(lifetime, unretrieved_future_exception_is_reported_once) {
    auto loop = support::new_virtual_loop();
    support::CaptureHandler cap(*loop);
    {
        asyncio::Future<int> f = loop->create_future<int>();
        asyncio::Future<int> g = f;
        f.set_exception(std::make_exception_ptr(asyncio::ValueError("lost")));
        f = asyncio::Future<int>();
        EXPECT_TRUE(cap.empty());  // g still holds it
    }
    loop->run_until_complete(asyncio::sleep(0));
    ASSERT_EQ(cap.size(), 1u) << ::testing::PrintToString(cap.messages());
    EXPECT_EQ(cap.at(0).message, "Future exception was never retrieved");
    EXPECT_EQ(cap.at(0).what, "lost");
    EXPECT_FALSE(static_cast<bool>(cap.at(0).task));
    loop->close();
    EXPECT_EQ(cap.size(), 1u);
}

}  // namespace
