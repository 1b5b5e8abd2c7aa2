// cancel_test.cpp — Task cancellation as Python 3.13 does it: cancel(msg),
// cancelled(), cancelling()/uncancel(), what cancelling a task does to the
// future or task it awaits, coroutines that catch or ignore CancelledError,
// and the catch -> co_await cleanup -> rethrow pattern.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (3.13).
//
// Known difference (documented in asyncio/errors.hpp): CancelledError keeps
// the cancel message on every retrieval; Python forgets it after the first.
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::Future;
using asyncio::SystemExit;
using asyncio::Task;
using asyncio::TaskRef;
using asyncio::ValueError;
using support::CaptureHandler;
using support::Counted;
using support::Trace;

namespace {

Coro<> sleep_forever() {
    co_await asyncio::sleep(1e9);
}

/// Python's `await asyncio.wait([task])`: waits until `t` is done, without
/// retrieving anything from it.
Coro<> wait_done(TaskRef t) {
    Future<> done = asyncio::get_running_loop().create_future();
    t.add_done_callback([done](const TaskRef&) {
        if (!done.done()) done.set_result();
    });
    co_await done;
}

/// Stops `loop` when its (virtual) clock reaches `limit`: a task that would
/// wait forever makes run_until_complete throw "Event loop stopped before
/// Future completed." instead of hanging the test.
asyncio::TimerHandle watchdog(EventLoop& loop, double limit = 1e6) {
    EventLoop* l = &loop;
    return loop.call_later(limit, [l] { l->stop(); });
}

// ------------------------------------------------------ cancel() and its targets

// CPython: test_tasks.py::BaseTaskTests::test_task_cancel_message_getter
TEST(task, cancel_before_the_first_step_never_runs_the_body) {
    Counted::reset();
    Trace trace;
    auto body = [&](Counted held) -> Coro<> {
        trace("body ", held.value);
        co_await asyncio::sleep(10);
    };
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(body(Counted(1)));
        EXPECT_TRUE(t.cancel("my message"));
        EXPECT_EQ(t.cancelling(), 1);
        EXPECT_FALSE(t.done());
        EXPECT_FALSE(t.cancelled());
        try {
            co_await t;
            trace("no exception");
        } catch (const CancelledError& e) {
            trace("awaiter: ", e.what());
        }
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(t.cancelled());
        EXPECT_EQ(t.cancelling(), 1);
        EXPECT_EQ(asyncio::get_running_loop().time(), 0.0);
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "awaiter: my message");
    EXPECT_EQ(Counted::live(), 0);  // the frame that never ran was destroyed
}

Coro<> cancel_unstarted_then_exception() {
    Task<> task = asyncio::create_task(asyncio::sleep(10));
    // We deliberately leave out the sleep here.
    task.cancel("my message");
    co_await wait_done(task);
    (void)task.exception();
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_with_message_before_starting_task
TEST(task, cancel_with_message_before_starting_task) {
    auto loop = support::new_virtual_loop();
    Task<> task = loop->create_task(cancel_unstarted_then_exception());
    EXPECT_THROW_MSG(loop->run_until_complete(task), CancelledError, "my message");
    EXPECT_TRUE(task.cancelled());  // the CancelledError ended the outer task too
}

// CPython: test_tasks.py::BaseTaskTests::test_task_cancel_waiter_future
TEST(task, cancel_while_awaiting_a_future_cancels_the_future) {
    auto loop = support::new_virtual_loop();
    Future<> fut = loop->create_future();
    Trace trace;
    auto coro = [&]() -> Coro<> {
        try {
            co_await fut;
        } catch (const CancelledError& e) {
            trace("task: ", e.what());
            throw;
        }
    };
    Task<> task = loop->create_task(coro());
    support::run_briefly(*loop);
    EXPECT_FALSE(fut.done());

    EXPECT_TRUE(task.cancel("stop"));
    EXPECT_TRUE(fut.cancelled());  // at once, inside cancel()
    EXPECT_FALSE(task.done());
    support::run_briefly(*loop);
    EXPECT_TRUE(task.done());
    EXPECT_THROW_MSG(loop->run_until_complete(task), CancelledError, "stop");
    EXPECT_TRUE(task.cancelled());
    EXPECT_THROW_MSG((void)fut.exception(), CancelledError, "stop");
    EXPECT_EQ(trace.str(), "task: stop");
}

// In Python the waiting task references its _fut_waiter, so a future that
// only a waiting task knows about is still there to be cancelled.
TEST(task, cancel_while_awaiting_a_future_nobody_else_holds) {
    auto loop = support::new_virtual_loop();
    std::optional<Future<>> fut = loop->create_future();
    auto coro = [&]() -> Coro<> { co_await *fut; };
    Task<> task = loop->create_task(coro());
    support::run_briefly(*loop);
    fut.reset();  // the last handle goes; the task still waits for it
    EXPECT_FALSE(task.done());
    const asyncio::TimerHandle guard = watchdog(*loop);
    EXPECT_TRUE(task.cancel("bye"));
    EXPECT_THROW_MSG(loop->run_until_complete(task), CancelledError, "bye");
    EXPECT_TRUE(task.cancelled());
}

TEST(task, cancel_while_awaiting_another_task_cancels_that_task) {
    Trace trace;
    Future<> fut;
    auto inner = [&]() -> Coro<> {
        try {
            co_await fut;
        } catch (const CancelledError& e) {
            trace("inner got ", e.what());
            throw;
        }
    };
    auto outer = [&](Task<> it) -> Coro<> {
        try {
            co_await it;
        } catch (const CancelledError& e) {
            trace("outer got ", e.what());
            throw;
        }
    };
    auto main = [&]() -> Coro<> {
        fut = asyncio::get_running_loop().create_future();
        Task<> it = asyncio::create_task(inner());
        Task<> ot = asyncio::create_task(outer(it));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(ot.cancel("x"));
        // Passed on at once: outer -> inner -> the future.
        EXPECT_EQ(it.cancelling(), 1);
        EXPECT_EQ(ot.cancelling(), 1);
        EXPECT_TRUE(fut.cancelled());
        try {
            co_await ot;
        } catch (const CancelledError& e) {
            trace("main got ", e.what());
        }
        EXPECT_TRUE(it.cancelled());
        EXPECT_TRUE(ot.cancelled());
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.join("|"), "inner got x|outer got x|main got x");
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_yield
TEST(task, cancel_while_ready_after_sleep_0) {
    auto loop = support::new_virtual_loop();
    Trace trace;
    auto task = [&]() -> Coro<int> {
        co_await asyncio::sleep(0);
        trace("not reached");
        co_await asyncio::sleep(0);
        co_return 12;
    };
    Task<int> t = loop->create_task(task());
    support::run_once(*loop);  // start coro: it is now ready again, not waiting
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_TRUE(trace.empty());
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel
TEST(task, cancel_returns_false_for_a_done_task) {
    auto loop = support::new_virtual_loop();
    auto task = []() -> Coro<int> {
        co_await asyncio::sleep(10.0);
        co_return 12;
    };
    Task<int> t = loop->create_task(task());
    loop->call_soon([&t] { t.cancel(); });
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);  // a refused cancel() is not counted
    EXPECT_EQ(loop->time(), 0.0);  // the sleep was cancelled, not waited for

    Task<int> finished = loop->create_task(task());
    EXPECT_EQ(loop->run_until_complete(finished), 12);
    EXPECT_FALSE(finished.cancel());
    EXPECT_FALSE(finished.cancel("late"));
    EXPECT_FALSE(finished.cancelled());
    EXPECT_EQ(finished.cancelling(), 0);
    EXPECT_EQ(finished.result(), 12);
}

TEST(task, cancelled_is_true_only_once_the_task_ended_cancelled) {
    auto fails = []() -> Coro<> {
        throw ValueError("boom");
        co_return;
    };
    auto swallows = []() -> Coro<int> {
        try {
            co_await asyncio::sleep(10);
        } catch (const CancelledError&) {
        }
        co_return 1;
    };
    auto main = [&]() -> Coro<> {
        Task<> sleeper = asyncio::create_task(sleep_forever());
        Task<> failing = asyncio::create_task(fails());
        Task<int> swallowing = asyncio::create_task(swallows());
        EXPECT_FALSE(sleeper.cancelled());
        co_await asyncio::sleep(0);
        EXPECT_TRUE(sleeper.cancel());
        EXPECT_TRUE(swallowing.cancel());
        EXPECT_FALSE(sleeper.cancelled());  // requested, not yet delivered
        EXPECT_FALSE(sleeper.done());
        co_await wait_done(sleeper);
        co_await wait_done(swallowing);
        EXPECT_TRUE(sleeper.cancelled());
        EXPECT_TRUE(failing.done());
        EXPECT_FALSE(failing.cancelled());
        EXPECT_EQ(support::what(failing.exception()), "boom");
        EXPECT_FALSE(swallowing.cancelled());
        EXPECT_EQ(swallowing.result(), 1);
    };
    support::run_virtual(main());
}

// ------------------------------------------------------- cancelling / uncancel

// CPython: test_tasks.py::BaseTaskTests::test_cancelling
TEST(task, cancelling_counts_cancel_requests) {
    auto loop = support::new_virtual_loop();
    auto task = []() -> Coro<> { co_await asyncio::sleep(10); };
    Task<> t = loop->create_task(task());
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_TRUE(t.cancel());  // a second request is accepted and counted too
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 2);
}

// CPython: test_tasks.py::BaseTaskTests::test_uncancel_basic
TEST(task, uncancel_lets_a_task_go_on_after_catching_the_cancellation) {
    auto loop = support::new_virtual_loop();
    Trace trace;
    auto task = [&]() -> Coro<> {
        bool caught = false;
        try {
            co_await asyncio::sleep(10);
        } catch (const CancelledError&) {
            caught = true;
            trace("uncancel->", asyncio::current_task().uncancel());
        }
        if (caught) co_await asyncio::sleep(10);
    };
    Task<> t = loop->create_task(task());
    loop->run_until_complete(asyncio::sleep(0.01));

    // Cancel first sleep.
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_FALSE(t.cancelled());  // Task is still not complete
    loop->run_until_complete(asyncio::sleep(0.01));

    // After uncancel().
    EXPECT_EQ(trace.str(), "uncancel->0");
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_FALSE(t.cancelled());  // Task is still not complete
    EXPECT_FALSE(t.done());

    // Cancel second sleep.
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_FALSE(t.cancelled());
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_TRUE(t.cancelled());  // Finally, task complete
    EXPECT_TRUE(t.done());

    // uncancel() is no longer effective after the task is complete.
    t.uncancel();
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(t.done());
    EXPECT_NEAR(loop->time(), 0.02, 1e-9);
}

// CPython: test_tasks.py::BaseTaskTests::test_uncancel_resets_must_cancel
TEST(task, uncancel_to_zero_withdraws_a_cancellation_not_yet_delivered) {
    auto loop = support::new_virtual_loop();
    Future<> fut = loop->create_future();
    auto coro = [&]() -> Coro<int> {
        co_await fut;
        co_return 42;
    };
    Task<int> task = loop->create_task(coro());
    loop->run_until_complete(asyncio::sleep(0));  // Get task waiting for fut
    fut.set_result();                             // Make task runnable
    EXPECT_TRUE(task.cancel());                   // Enter cancelled state
    EXPECT_EQ(task.cancelling(), 1);
    EXPECT_EQ(task.uncancel(), 0);  // Undo cancellation
    EXPECT_EQ(task.cancelling(), 0);
    EXPECT_EQ(loop->run_until_complete(task), 42);
    EXPECT_FALSE(task.cancelled());
}

TEST(task, uncancel_above_zero_keeps_the_pending_cancellation) {
    auto coro = []() -> Coro<int> {
        co_await asyncio::sleep(0);
        co_return 42;
    };
    auto main = [&]() -> Coro<> {
        Task<int> t = asyncio::create_task(coro());
        co_await asyncio::sleep(0);
        t.cancel();
        t.cancel();
        EXPECT_EQ(t.uncancel(), 1);
        co_await wait_done(t);
        EXPECT_TRUE(t.cancelled());
        EXPECT_EQ(t.cancelling(), 1);

        Task<int> u = asyncio::create_task(coro());
        co_await asyncio::sleep(0);
        u.cancel();
        u.cancel();
        EXPECT_EQ(u.uncancel(), 1);
        EXPECT_EQ(u.uncancel(), 0);
        EXPECT_EQ(u.uncancel(), 0);  // never below zero
        EXPECT_EQ(co_await u, 42);
        EXPECT_FALSE(u.cancelled());
    };
    support::run_virtual(main());
}

struct Outcome {
    bool timed_out = false;
    bool structured_block_finished = false;
    bool outer_code_reached = false;
};

// Python's `try: ... finally:` with `raise TimeoutError` inside, spelled with
// an exception_ptr since co_await cannot appear in a catch block.
Coro<Outcome> make_request_with_timeout(double sleep, double timeout) {
    TaskRef task = asyncio::current_task();
    EventLoop& loop = task.get_loop();
    Outcome out;
    asyncio::TimerHandle timeout_handle = loop.call_later(timeout, [&out, task]() mutable {
        out.timed_out = true;
        task.cancel();
    });
    bool timeout_error = false;
    std::exception_ptr exc;
    try {
        // Structured block affected by the timeout.
        co_await asyncio::sleep(sleep);
        out.structured_block_finished = true;
    } catch (...) {
        exc = std::current_exception();
    }
    // finally:
    timeout_handle.cancel();
    if (out.timed_out && task.uncancel() == 0 && support::holds<CancelledError>(exc)) {
        timeout_error = true;  // raise TimeoutError ... except TimeoutError: pass
        exc = nullptr;
    }
    if (exc) std::rethrow_exception(exc);
    if (timeout_error) {
        EXPECT_TRUE(out.timed_out);
    }
    // Outer code not affected by the timeout.
    out.outer_code_reached = true;
    co_await asyncio::sleep(0);
    co_return out;
}

// CPython: test_tasks.py::BaseTaskTests::test_uncancel_structured_blocks
TEST(task, uncancel_in_structured_blocks) {
    auto loop = support::new_virtual_loop();

    // Test which timed out.
    Task<Outcome> t1 = loop->create_task(make_request_with_timeout(10.0, 0.1));
    const Outcome o1 = loop->run_until_complete(t1);
    EXPECT_TRUE(o1.timed_out);
    EXPECT_FALSE(o1.structured_block_finished);  // it was cancelled
    EXPECT_TRUE(o1.outer_code_reached);          // uncancelled after leaving the block
    EXPECT_EQ(t1.cancelling(), 0);               // no pending cancellation of the outer task

    // Test which did not time out.
    Task<Outcome> t2 = loop->create_task(make_request_with_timeout(0, 10.0));
    const Outcome o2 = loop->run_until_complete(t2);
    EXPECT_FALSE(o2.timed_out);
    EXPECT_TRUE(o2.structured_block_finished);
    EXPECT_TRUE(o2.outer_code_reached);
    EXPECT_EQ(t2.cancelling(), 0);
}

// ------------------------------------------------------------ messages

TEST(task, cancel_message_reaches_co_await_and_stays_on_every_retrieval) {
    Trace trace;
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(sleep_forever());
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("bye"));
        for (int i = 0; i < 2; ++i) {
            try {
                co_await t;
            } catch (const CancelledError& e) {
                trace("await:", e.what());
            }
        }
        EXPECT_THROW_MSG(t.result(), CancelledError, "bye");
        EXPECT_THROW_MSG(t.result(), CancelledError, "bye");
        EXPECT_THROW_MSG((void)t.exception(), CancelledError, "bye");
        EXPECT_THROW_MSG((void)t.exception(), CancelledError, "bye");
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "await:bye await:bye");
}

// CPython: test_tasks.py::BaseTaskTests::test_task_cancel_message_getter (twice)
TEST(task, the_last_cancel_message_wins) {
    auto body = []() -> Coro<> { co_return; };
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(body());
        t.cancel("a");
        t.cancel("b");
        EXPECT_EQ(t.cancelling(), 2);
        EXPECT_THROW_MSG(co_await t, CancelledError, "b");

        Task<> u = asyncio::create_task(body());
        u.cancel("a");
        u.cancel();  // Python: cancel(None) resets the message
        EXPECT_THROW_MSG(co_await u, CancelledError, "");
    };
    support::run_virtual(main());
}

enum class CancelArg { none, nullopt, message };

Coro<> cancel_then_retrieve(CancelArg arg, bool via_exception) {
    Task<> task = asyncio::create_task(asyncio::sleep(10));
    co_await asyncio::sleep(0);
    switch (arg) {
        case CancelArg::none:
            task.cancel();
            break;
        case CancelArg::nullopt:
            task.cancel(std::nullopt);
            break;
        case CancelArg::message:
            task.cancel("my message");
            break;
    }
    co_await wait_done(task);
    if (via_exception)
        (void)task.exception();
    else
        task.result();
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_with_message_then_future_result
// CPython: test_tasks.py::BaseTaskTests::test_cancel_with_message_then_future_exception
TEST(task, cancel_with_message_then_result_or_exception) {
    struct Case {
        CancelArg arg;
        const char* expected;
    };
    for (const Case c : {Case{CancelArg::none, ""}, Case{CancelArg::nullopt, ""},
                         Case{CancelArg::message, "my message"}}) {
        for (const bool via_exception : {false, true}) {
            SCOPED_TRACE(std::string(c.expected) + (via_exception ? " exception()" : " result()"));
            auto loop = support::new_virtual_loop();
            Task<> task = loop->create_task(cancel_then_retrieve(c.arg, via_exception));
            EXPECT_THROW_MSG(loop->run_until_complete(task), CancelledError, c.expected);
            EXPECT_TRUE(task.cancelled());
        }
    }
}

// CPython: test_tasks.py::BaseTaskTests::test_cancellation_exception_context
// (`raise ValueError("cancelled") from ex` is std::throw_with_nested.)
TEST(task, cancellation_caught_and_turned_into_another_error) {
    auto loop = support::new_virtual_loop();
    Future<> fut = loop->create_future();
    Task<> inner_task;
    auto sleep = [&]() -> Coro<> {
        fut.set_result();
        co_await asyncio::sleep(10);
    };
    auto coro = [&]() -> Coro<> {
        inner_task = asyncio::create_task(sleep());
        co_await fut;
        asyncio::get_running_loop().call_soon([&] { inner_task.cancel("msg"); });
        try {
            co_await inner_task;
        } catch (const CancelledError&) {
            std::throw_with_nested(ValueError("cancelled"));
        }
    };
    Task<> task = loop->create_task(coro());
    std::string message, context = "(none)";
    try {
        loop->run_until_complete(task);
    } catch (const ValueError& e) {
        message = e.what();
        try {
            std::rethrow_if_nested(e);
        } catch (const CancelledError& c) {
            context = c.what();
        } catch (...) {
            context = "(other)";
        }
    }
    EXPECT_EQ(message, "cancelled");
    EXPECT_EQ(context, "msg");
    EXPECT_FALSE(task.cancelled());
    EXPECT_TRUE(inner_task.cancelled());
}

// ------------------------------------- coroutines that catch the cancellation

// CPython: test_tasks.py::BaseTaskTests::test_cancel_inner_future
TEST(task, cancel_inner_future) {
    auto loop = support::new_virtual_loop();
    Future<> f = loop->create_future();
    auto task = [&]() -> Coro<int> {
        co_await f;
        co_return 12;
    };
    Task<int> t = loop->create_task(task());
    support::run_briefly(*loop);  // start task
    EXPECT_TRUE(f.cancel());
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 0);  // nobody called t.cancel()
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_both_task_and_inner_future
TEST(task, cancel_both_task_and_inner_future) {
    auto loop = support::new_virtual_loop();
    Future<> f = loop->create_future();
    auto task = [&]() -> Coro<int> {
        co_await f;
        co_return 12;
    };
    Task<int> t = loop->create_task(task());
    support::run_briefly(*loop);
    EXPECT_TRUE(f.cancel("future"));
    EXPECT_TRUE(t.cancel("task"));
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "task");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(t.cancelled());
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_task_catching
TEST(task, cancel_task_catching) {
    auto loop = support::new_virtual_loop();
    Future<> fut1 = loop->create_future();
    Future<> fut2 = loop->create_future();
    auto task = [&]() -> Coro<int> {
        co_await fut1;
        try {
            co_await fut2;
        } catch (const CancelledError&) {
            co_return 42;
        }
        co_return 0;
    };
    Task<int> t = loop->create_task(task());
    support::run_briefly(*loop);
    fut1.set_result();
    support::run_briefly(*loop);
    EXPECT_FALSE(fut2.done());
    EXPECT_TRUE(t.cancel());
    EXPECT_TRUE(fut2.cancelled());
    EXPECT_EQ(loop->run_until_complete(t), 42);
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1);  // still counted: nobody called uncancel()
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_task_ignoring
TEST(task, cancel_task_ignoring) {
    auto loop = support::new_virtual_loop();
    Future<> fut1 = loop->create_future();
    Future<> fut2 = loop->create_future();
    Future<int> fut3 = loop->create_future<int>();
    auto task = [&]() -> Coro<int> {
        co_await fut1;
        try {
            co_await fut2;
        } catch (const CancelledError&) {
        }
        const int res = co_await fut3;
        co_return res;
    };
    Task<int> t = loop->create_task(task());
    support::run_briefly(*loop);
    fut1.set_result();
    support::run_briefly(*loop);
    EXPECT_TRUE(t.cancel());
    EXPECT_TRUE(fut2.cancelled());
    support::run_briefly(*loop);
    EXPECT_FALSE(t.done());  // now waiting for fut3
    fut3.set_result(42);
    EXPECT_EQ(loop->run_until_complete(t), 42);
    EXPECT_FALSE(fut3.cancelled());
    EXPECT_FALSE(t.cancelled());
}

TEST(task, coroutine_swallowing_the_cancellation_returns_its_value) {
    auto body = []() -> Coro<int> {
        try {
            co_await asyncio::sleep(10);
        } catch (const CancelledError&) {
            co_return 42;
        }
        co_return 0;
    };
    auto main = [&]() -> Coro<> {
        Task<int> t = asyncio::create_task(body());
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancel("m"));
        EXPECT_EQ(co_await t, 42);
        EXPECT_FALSE(t.cancelled());
        EXPECT_EQ(t.result(), 42);
        EXPECT_EQ(t.exception(), nullptr);
        EXPECT_EQ(t.cancelling(), 1);
        EXPECT_EQ(asyncio::get_running_loop().time(), 0.0);
    };
    support::run_virtual(main());
}

TEST(task, cancel_passed_to_an_awaited_task_that_swallows_it_is_spent) {
    auto inner = []() -> Coro<int> {
        try {
            co_await asyncio::sleep(10);
        } catch (const CancelledError&) {
            co_return 42;
        }
        co_return 0;
    };
    auto outer = [](Task<int> it) -> Coro<int> {
        const int r = co_await it;
        co_await asyncio::sleep(0);  // no second CancelledError here
        co_return r + 1;
    };
    auto main = [&]() -> Coro<> {
        Task<int> it = asyncio::create_task(inner());
        Task<int> ot = asyncio::create_task(outer(it));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(ot.cancel());
        EXPECT_EQ(co_await ot, 43);
        EXPECT_FALSE(ot.cancelled());
        EXPECT_EQ(ot.cancelling(), 1);
        EXPECT_FALSE(it.cancelled());
        EXPECT_EQ(it.cancelling(), 1);
    };
    support::run_virtual(main());
}

// CPython: test_tasks.py::BaseTaskTests::test_yield_future_passes_cancel
TEST(task, cancel_passes_through_awaited_coroutines_to_the_future) {
    auto loop = support::new_virtual_loop();
    int proof = 0;
    Future<> waiter = loop->create_future();
    auto inner = [&]() -> Coro<> {
        try {
            co_await waiter;
        } catch (const CancelledError&) {
            proof += 1;
            throw;
        }
        ADD_FAILURE() << "got past the waiter in inner()";
    };
    auto outer = [&]() -> Coro<> {
        try {
            co_await inner();
            proof += 10;
        } catch (const CancelledError&) {
            proof += 100;  // Expect this path.
        }
    };
    Task<> f = loop->create_task(outer());
    support::run_briefly(*loop);
    EXPECT_TRUE(f.cancel());
    loop->run_until_complete(f);
    EXPECT_EQ(proof, 101);
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_FALSE(f.cancelled());
}

// CPython: test_tasks.py::BaseTaskTests::test_task_cancel_sleeping_task
TEST(task, cancel_sleeping_task_from_a_timer) {
    auto loop = support::new_virtual_loop();
    auto doit = []() -> Coro<std::string> {
        Task<> sleeper = asyncio::create_task(asyncio::sleep(5000));
        asyncio::get_running_loop().call_later(0.1, [sleeper]() mutable { sleeper.cancel(); });
        try {
            co_await sleeper;
        } catch (const CancelledError&) {
            co_return "cancelled";
        }
        co_return "slept in";
    };
    EXPECT_EQ(loop->run_until_complete(doit()), "cancelled");
    EXPECT_NEAR(loop->time(), 0.1, 1e-9);
}

// ------------------------------------------------- a task cancelling itself

// CPython: test_tasks.py::BaseTaskTests::test_cancel_current_task
TEST(task, cancel_current_task_cancels_its_next_await_at_once) {
    auto loop = support::new_virtual_loop();
    Task<int> t;
    Trace trace;
    auto task = [&]() -> Coro<int> {
        EXPECT_TRUE(t.cancel());
        // The sleep should be cancelled immediately.
        co_await asyncio::sleep(100);
        trace("not reached");
        co_return 12;
    };
    t = loop->create_task(task());
    EXPECT_FALSE(t.cancelled());
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_TRUE(trace.empty());
    EXPECT_EQ(loop->time(), 0.0);  // the 100 s were not waited for
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_at_end
TEST(task, cancel_at_end_ends_the_task_cancelled) {
    auto loop = support::new_virtual_loop();
    Task<int> t;
    auto task = [&]() -> Coro<int> {
        EXPECT_TRUE(t.cancel("end"));
        co_return 12;
    };
    t = loop->create_task(task());
    EXPECT_FALSE(t.cancelled());
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "end");
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_THROW_MSG(t.result(), CancelledError, "end");
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_awaited_task (bpo-34872)
TEST(task, cancel_current_task_then_await_a_task_cancels_that_task) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);  // a hang leaves tasks pending at close
    Future<> fut = loop->create_future();
    Task<> task, nested_task;
    auto nested = [&]() -> Coro<> { co_await fut; };
    auto coro = [&]() -> Coro<> {
        // Create a sub-task and wait for it to run.
        nested_task = asyncio::create_task(nested());
        co_await asyncio::sleep(0);
        // Request the current task to be cancelled.
        task.cancel();
        // Block on the nested task, which should be immediately cancelled.
        co_await nested_task;
    };
    task = loop->create_task(coro());
    const asyncio::TimerHandle guard = watchdog(*loop);
    EXPECT_THROW_MSG(loop->run_until_complete(task), CancelledError, "");
    EXPECT_TRUE(task.cancelled());
    EXPECT_TRUE(nested_task.cancelled());
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(loop->time(), 0.0);
    loop->close();  // while `fut` is still held, whatever happened above
}

// CPython: test_tasks.py::BaseTaskTests::test_baseexception_during_cancel
TEST(task, base_exception_raised_while_handling_the_cancellation_propagates) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    auto sleeper = []() -> Coro<> { co_await asyncio::sleep(10); };
    auto notmuch = [&]() -> Coro<> {
        try {
            co_await sleeper();
        } catch (const CancelledError&) {
            throw SystemExit("bye");
        }
    };
    Task<> task = loop->create_task(notmuch());
    support::run_briefly(*loop);
    EXPECT_TRUE(task.cancel());
    EXPECT_FALSE(task.done());
    EXPECT_THROW_MSG(support::run_briefly(*loop), SystemExit, "bye");
    EXPECT_TRUE(task.done());
    EXPECT_FALSE(task.cancelled());
    EXPECT_TRUE(support::holds<SystemExit>(task.exception()));
    EXPECT_EQ(support::what(task.exception()), "bye");
    EXPECT_EQ(loop->time(), 0.0);
}

// ----------------------------------------------------------- CancelledError

TEST(CancelledError, is_not_caught_by_catch_std_exception) {
    static_assert(!std::is_base_of_v<std::exception, CancelledError>);
    static_assert(std::is_base_of_v<asyncio::BaseException, CancelledError>);
    Trace trace;
    auto body = [&]() -> Coro<> {
        try {
            try {
                co_await asyncio::sleep(10);
            } catch (const std::exception& e) {
                trace("std::exception ", e.what());
            }
            trace("after inner try");
        } catch (const CancelledError& e) {
            trace("CancelledError ", e.what());
            throw;
        }
    };
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(body());
        co_await asyncio::sleep(0);
        t.cancel("stop");
        co_await wait_done(t);
        EXPECT_TRUE(t.cancelled());
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "CancelledError stop");
}

Coro<> sleep_holding(Counted held, double delay) {
    co_await asyncio::sleep(delay);
    ADD_FAILURE() << "sleeper " << held.value << " woke up";
}

TEST(task, cancelling_many_sleeping_tasks_collects_them_all) {
    constexpr int kTasks = 1000;
    Counted::reset();
    auto main = [&]() -> Coro<> {
        std::vector<Task<>> tasks;
        for (int i = 0; i < kTasks; ++i)
            tasks.push_back(asyncio::create_task(sleep_holding(Counted(i), 100.0 + i)));
        co_await asyncio::sleep(0);
        EXPECT_EQ(Counted::live(), kTasks);
        EXPECT_EQ(asyncio::all_tasks().size(), static_cast<std::size_t>(kTasks) + 1);
        for (Task<>& t : tasks) EXPECT_TRUE(t.cancel());
        int cancelled = 0;
        for (Task<>& t : tasks) {
            try {
                co_await t;
            } catch (const CancelledError&) {
                ++cancelled;
            }
        }
        EXPECT_EQ(cancelled, kTasks);
        EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // only main is left
        EXPECT_EQ(asyncio::get_running_loop().time(), 0.0);
        tasks.clear();
        // (As in Python, the task awaited last may stay referenced until this
        // step ends: CPython's __wakeup(future) holds it.)
        co_await asyncio::sleep(1);  // no stale timer fires
        EXPECT_EQ(Counted::live(), 0);
        EXPECT_EQ(asyncio::get_running_loop().time(), 1.0);
    };
    CaptureHandler cap;
    support::run_virtual(main(), cap);
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_EQ(Counted::destroyed(), Counted::constructed());
    EXPECT_TRUE(cap.empty());
}

// Python's `except CancelledError: await cleanup(); raise`: co_await is not
// allowed in a catch block, so keep the exception and rethrow it afterwards.
TEST(task, cleanup_awaited_after_the_catch_block_then_rethrown) {
    Trace trace;
    auto body = [&]() -> Coro<> {
        std::exception_ptr cancelled;
        try {
            co_await asyncio::sleep(10);
        } catch (const CancelledError& e) {
            trace("caught ", e.what());
            cancelled = std::current_exception();
        }
        if (cancelled) {
            co_await asyncio::sleep(1);  // the cleanup runs to completion
            trace("cleaned");
            std::rethrow_exception(cancelled);
        }
        trace("not reached");
    };
    auto main = [&]() -> Coro<> {
        EventLoop& loop = asyncio::get_running_loop();
        Task<> t = asyncio::create_task(body());
        co_await asyncio::sleep(0);
        t.cancel("stop");
        try {
            co_await t;
        } catch (const CancelledError& e) {
            trace("awaiter ", e.what(), " at ", loop.time());
        }
        EXPECT_TRUE(t.cancelled());
        EXPECT_EQ(t.cancelling(), 1);
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.join("|"), "caught stop|cleaned|awaiter stop at 1");
}

}  // namespace
