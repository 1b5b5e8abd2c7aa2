// shield_test.cpp — asyncio/shield.hpp: shield() over futures, tasks and
// coroutines; what cancelling either side does; the "never retrieved"
// reports; the iterations a shield takes; the shield-with-try pattern.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (3.13),
// BaseTaskTests::test_shield_*, test_gather_shield. The traces were recorded
// by running the same scenarios on CPython 3.13.0.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "asyncio.hpp"
#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::CaptureHandler;
using support::Trace;

namespace {

Trace T;  // each test starts with T.clear()

const char* py(bool b) {
    return b ? "True" : "False";
}

Coro<int> value_after(double d, int v) {
    co_await asyncio::sleep(d);
    co_return v;
}

Coro<int> fail_after(double d, std::string msg) {
    co_await asyncio::sleep(d);
    throw ValueError(msg);
}

}  // namespace

// ----------------------------------------------------------- the inner's outcome

// CPython: test_tasks.py::BaseTaskTests::test_shield_result
TEST(shield, outer_gets_the_inner_result) {
    auto loop = support::new_virtual_loop();
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    inner.set_result(42);
    EXPECT_EQ(loop->run_until_complete(outer), 42);
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_exception
TEST(shield, outer_gets_the_inner_exception_itself) {
    auto loop = support::new_virtual_loop();
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    support::run_briefly(*loop);
    std::exception_ptr exc = std::make_exception_ptr(RuntimeError("expected"));
    inner.set_exception(exc);
    support::run_briefly(*loop);
    EXPECT_EQ(outer.exception(), exc);
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_cancel_inner
TEST(shield, cancelling_the_inner_cancels_the_outer) {
    auto loop = support::new_virtual_loop();
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    support::run_briefly(*loop);
    inner.cancel("inner msg");
    support::run_briefly(*loop);
    EXPECT_TRUE(outer.cancelled());
    // CPython calls outer.cancel() without the inner's message.
    EXPECT_THROW_MSG(outer.result(), CancelledError, "");
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_cancel_outer
TEST(shield, cancelling_the_outer_leaves_the_inner_alone) {
    auto loop = support::new_virtual_loop();
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    support::run_briefly(*loop);
    outer.cancel();
    support::run_briefly(*loop);
    EXPECT_TRUE(outer.cancelled());
    EXPECT_FALSE(inner.done());
    EXPECT_EQ(inner.base()->last_callback(), nullptr);  // the shield's callback is gone
    EXPECT_EQ(outer.base()->last_callback(), nullptr);
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_shortcut
TEST(shield, done_future_is_returned_as_is) {
    auto loop = support::new_virtual_loop();
    Future<int> fut = loop->create_future<int>();
    fut.set_result(42);
    Future<int> outer = shield(fut);
    EXPECT_TRUE(outer == fut);
    EXPECT_EQ(loop->run_until_complete(shield(fut)), 42);
}

TEST(shield, done_task_comes_back_as_a_done_future) {
    CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Task<int> ok = loop->create_task(value_after(0, 7));
    Task<int> bad = loop->create_task(fail_after(0, "bad"));
    Task<int> gone = loop->create_task(value_after(1, 0));
    gone.cancel("bye");
    support::advance(*loop, 0.5);

    Future<int> a = shield(ok), b = shield(bad), c = shield(gone);
    ASSERT_TRUE(a.done() && b.done() && c.done());
    EXPECT_EQ(a.result(), 7);
    EXPECT_THROW_MSG(b.result(), ValueError, "bad");
    EXPECT_TRUE(c.cancelled());
    EXPECT_THROW_MSG(c.result(), CancelledError, "bye");
    // Its error moved to the new future: the task does not report it.
    bad = Task<int>();
    loop->close();
    EXPECT_TRUE(cap.empty());
}

TEST(shield, done_task_with_an_error_nobody_retrieves_is_reported_by_the_new_future) {
    CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Task<int> bad = loop->create_task(fail_after(0, "bad"));
    support::advance(*loop, 0.5);
    (void)shield(bad);
    bad = Task<int>();
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Future exception was never retrieved"});
    EXPECT_EQ(cap.at(0).what, "bad");
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_effect
TEST(shield, cancelling_the_awaiting_task_does_not_cancel_the_inner) {
    auto loop = support::new_virtual_loop();
    int proof = 0;
    Future<> waiter = loop->create_future();
    auto inner = [](Future<> w, int& proof) -> Coro<> {
        co_await w;
        proof += 1;
    };
    auto outer = [&]() -> Coro<> {
        co_await shield(inner(waiter, proof));
        proof += 100;
    };
    Task<> f = loop->create_task(outer());
    support::run_briefly(*loop);
    f.cancel();
    EXPECT_THROW(loop->run_until_complete(f), CancelledError);
    waiter.set_result();
    support::run_briefly(*loop);
    EXPECT_EQ(proof, 1);
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_gather
TEST(shield, shielded_gather_survives_the_outer_cancel) {
    auto loop = support::new_virtual_loop();
    Future<int> child1 = loop->create_future<int>();
    Future<int> child2 = loop->create_future<int>();
    auto parent = gather(child1, child2);
    auto outer = shield(parent);
    support::run_briefly(*loop);
    outer.cancel();
    support::run_briefly(*loop);
    EXPECT_TRUE(outer.cancelled());
    child1.set_result(1);
    child2.set_result(2);
    support::run_briefly(*loop);
    EXPECT_EQ(parent.result(), std::make_tuple(1, 2));
}

// CPython: test_tasks.py::BaseTaskTests::test_gather_shield
TEST(shield, gather_of_shields_cancels_the_shields_only) {
    auto loop = support::new_virtual_loop();
    Future<int> child1 = loop->create_future<int>();
    Future<int> child2 = loop->create_future<int>();
    Future<int> inner1 = shield(child1);
    Future<int> inner2 = shield(child2);
    auto parent = gather(inner1, inner2);
    support::run_briefly(*loop);
    parent.cancel();
    // This should cancel inner1 and inner2 but not child1 and child2.
    support::run_briefly(*loop);
    EXPECT_TRUE(support::holds<CancelledError>(parent.exception()));
    EXPECT_TRUE(inner1.cancelled());
    EXPECT_TRUE(inner2.cancelled());
    EXPECT_FALSE(child1.done());
    child1.set_result(1);
    child2.set_result(2);
    support::run_briefly(*loop);
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_coroutine_use_running_loop
TEST(shield, coroutine_becomes_a_task_of_the_running_loop) {
    auto loop = support::new_virtual_loop();
    Future<int> outer = loop->run_until_complete(
        []() -> Coro<Future<int>> { co_return shield(value_after(0, 42)); }());
    EXPECT_EQ(&outer.get_loop(), loop.get());
    EXPECT_EQ(loop->run_until_complete(outer), 42);
}

// CPython: test_tasks.py::BaseTaskTests::test_shield_coroutine_without_loop
// (there is no global loop here: "no running event loop")
TEST(shield, coroutine_without_a_running_loop_is_refused_and_destroyed) {
    support::Counted::reset();
    auto coro = [](support::Counted c) -> Coro<int> { co_return c.value; };
    EXPECT_THROW_MSG((void)shield(coro(support::Counted(42))), RuntimeError,
                     "no running event loop");
    EXPECT_EQ(support::Counted::live(), 0);
}

TEST(shield, task_ref_gives_a_void_future) {
    auto loop = support::new_virtual_loop();
    TaskRef t = loop->create_task(value_after(0.1, 1));
    Future<void> outer = shield(t);
    loop->run_until_complete(outer);
    EXPECT_TRUE(outer.done());
    EXPECT_FALSE(outer.exception());
}

// ------------------------------------------------------- cancellation, inside out

TEST(shield, inner_cancelled_from_inside_cancels_the_outer_and_its_waiter) {
    std::string got;
    support::run_virtual([&]() -> Coro<> {
        Future<> o = shield([]() -> Coro<> {
            co_await asyncio::sleep(0.1);
            throw CancelledError("inside");
        }());
        try {
            co_await o;
        } catch (const CancelledError& e) {
            std::ostringstream os;
            os << "cancelled msg='" << e.what() << "' outer.cancelled=" << py(o.cancelled())
               << " cancelling=" << current_task().cancelling();
            got = os.str();
        }
    }());
    EXPECT_EQ(got, "cancelled msg='' outer.cancelled=True cancelling=0");
}

// --------------------------------------------------------- "never retrieved"

TEST(shield, inner_error_after_the_outer_was_cancelled_is_never_retrieved) {
    CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    support::run_briefly(*loop);
    outer.cancel();
    support::run_briefly(*loop);
    inner.set_exception(std::make_exception_ptr(ValueError("late")));
    support::run_briefly(*loop);
    EXPECT_TRUE(outer.cancelled());
    EXPECT_TRUE(cap.empty());
    inner = Future<int>();
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Future exception was never retrieved"});
    EXPECT_EQ(cap.at(0).what, "late");
}

TEST(shield, inner_error_before_the_outer_callback_ran_is_retrieved) {
    CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    support::run_briefly(*loop);
    outer.cancel();
    inner.set_exception(std::make_exception_ptr(ValueError("same")));
    support::run_briefly(*loop);
    inner = Future<int>();
    outer = Future<int>();
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty());
}

TEST(shield, inner_task_failing_after_its_waiter_was_cancelled_is_reported) {
    T.clear();
    CaptureHandler cap;
    support::run_virtual(
        []() -> Coro<> {
            auto waiter = []() -> Coro<> {
                Task<int> task = create_task(fail_after(0.1, "task late"));
                try {
                    co_await shield(task);
                } catch (const CancelledError&) {
                    T("waiter cancelled, task done=", py(task.done()));
                    throw;
                }
            };
            Task<> w = create_task(waiter());
            co_await asyncio::sleep(0.05);
            w.cancel();
            try {
                co_await w;
            } catch (const CancelledError&) {
                T("w cancelled");
            }
            co_await asyncio::sleep(0.2);
            co_await asyncio::sleep(0);
        }(),
        cap);
    EXPECT_EQ(T.str(), "waiter cancelled, task done=False w cancelled");
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Task exception was never retrieved"});
    EXPECT_EQ(cap.at(0).what, "task late");
}

TEST(shield, outer_set_by_hand_makes_the_inner_callback_fail) {
    CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Future<int> inner = loop->create_future<int>();
    Future<int> outer = shield(inner);
    outer.set_result(5);
    inner.set_result(1);
    support::run_briefly(*loop);
    EXPECT_EQ(outer.result(), 5);
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Exception in callback"});
    EXPECT_EQ(cap.at(0).what, "invalid state");
}

// ------------------------------------------------------------- iterations

namespace {
Coro<> ticker(int n) {
    for (int i = 0; i < n; ++i) {
        T("tick", i);
        co_await asyncio::sleep(0);
    }
}
Coro<int> inner_coro() {
    co_await asyncio::sleep(0);
    T("inner-return");
    co_return 7;
}
}  // namespace

// A shield costs CPython's two extra iterations: the inner's done callback
// sets the outer, whose completion wakes the waiter.
TEST(shield, takes_the_iterations_cpython_takes) {
    T.clear();
    support::run_virtual([]() -> Coro<> {
        Task<> tk = create_task(ticker(6));
        int r = co_await shield(inner_coro());
        T("got ", r);
        co_await tk;
    }());
    EXPECT_EQ(T.str(), "tick0 tick1 inner-return tick2 tick3 got 7 tick4 tick5");

    T.clear();
    support::run_virtual([]() -> Coro<> {
        Task<> tk = create_task(ticker(6));
        int r = co_await create_task(inner_coro());
        T("got ", r);
        co_await tk;
    }());
    EXPECT_EQ(T.str(), "tick0 tick1 inner-return tick2 got 7 tick3 tick4 tick5");
}

// ------------------------------------------------------ the shield-with-try pattern

namespace {
Coro<int> something() {
    co_await asyncio::sleep(1);
    T("something done");
    co_return 42;
}
Coro<std::optional<int>> worker(Task<int> task) {
    std::optional<int> res;
    try {
        res = co_await shield(task);
    } catch (const CancelledError&) {
        res = std::nullopt;
    }
    T("res=", res ? std::to_string(*res) : "None", " cancelling=", current_task().cancelling(),
      " task.done=", py(task.done()));
    co_await asyncio::sleep(0);
    T("worker continues");
    co_return res;
}
}  // namespace

// The docs' "shield() combined with a try/except clause": the waiter ignores
// its cancellation (its cancelling() count stays 1, as in CPython), the
// inner runs to the end.
TEST(shield, with_try_ignores_the_cancellation_and_the_inner_completes) {
    T.clear();
    support::run_virtual([]() -> Coro<> {
        Task<int> task = create_task(something());
        Task<std::optional<int>> w = create_task(worker(task));
        co_await asyncio::sleep(0.5);
        w.cancel();
        std::optional<int> r = co_await w;
        T("w result=", r ? "value" : "None", " cancelled=", py(w.cancelled()));
        const int v = co_await task;
        std::ostringstream at;
        at << get_running_loop().time();
        T("task=", v, "@", at.str());
    }());
    EXPECT_EQ(T.str(),
              "res=None cancelling=1 task.done=False worker continues w result=None "
              "cancelled=False something done task=42@1");
}

// ------------------------------------------------------------- values, lifetimes

TEST(shield, move_only_result_of_a_coroutine_is_moved_through) {
    auto loop = support::new_virtual_loop();
    Future<std::unique_ptr<int>> outer =
        loop->run_until_complete([]() -> Coro<Future<std::unique_ptr<int>>> {
            co_return shield([]() -> Coro<std::unique_ptr<int>> {
                co_await asyncio::sleep(0.1);
                co_return std::make_unique<int>(5);
            }());
        }());
    support::advance(*loop, 0.2);  // (awaiting a Future copies its value)
    ASSERT_TRUE(outer.done());
    ASSERT_TRUE(outer.result());
    EXPECT_EQ(*outer.result(), 5);
}

TEST(shield, value_of_a_task_is_copied_once_of_a_coroutine_moved) {
    support::Counted::reset();
    {
        auto loop = support::new_virtual_loop();
        auto make = []() -> Coro<support::Counted> {
            co_await asyncio::sleep(0.1);
            co_return support::Counted(3);
        };
        Task<support::Counted> task = loop->create_task(make());
        Future<support::Counted> a = shield(task);
        support::advance(*loop, 0.2);  // (run_until_complete would return a copy)
        EXPECT_EQ(a.result().value, 3);
        EXPECT_EQ(support::Counted::copies(), 1);
        Future<support::Counted> b = loop->run_until_complete(
            [&]() -> Coro<Future<support::Counted>> { co_return shield(make()); }());
        support::advance(*loop, 0.2);
        EXPECT_EQ(b.result().value, 3);
        EXPECT_EQ(support::Counted::copies(), 1);
    }
    EXPECT_EQ(support::Counted::live(), 0);
}

TEST(shield, pending_pair_nobody_can_complete_is_freed) {
    support::Counted::reset();
    {
        auto loop = support::new_virtual_loop();
        Future<support::Counted> inner = loop->create_future<support::Counted>();
        Future<support::Counted> outer = shield(inner);
        inner = Future<support::Counted>();  // the outer alone cannot keep it
        outer = Future<support::Counted>();
    }
    // ASan's leak check proves both futures and both callbacks went.
    EXPECT_EQ(support::Counted::live(), 0);
}

TEST(shield, outer_dropped_first_lets_the_inner_finish_unobserved) {
    CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Task<int> task = loop->create_task(value_after(0.1, 1));
    (void)shield(task);  // the outer is kept only by the inner's callback
    loop->run_until_complete(task);
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty());
}

TEST(shield, loop_closed_with_the_inner_pending_frees_both) {
    CaptureHandler cap;
    {
        auto loop = support::new_virtual_loop();
        cap.install(*loop);
        Future<int> outer = loop->run_until_complete(
            []() -> Coro<Future<int>> { co_return shield(value_after(10, 1)); }());
        loop->close();
        EXPECT_FALSE(outer.done());
    }
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Task was destroyed but it is pending!"});
}
