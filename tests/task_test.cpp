// task_test.cpp — asyncio/task.hpp: Task<T>, TaskRef, create_task,
// ensure_future, current_task, all_tasks: scheduling, results and errors,
// names, identity, done callbacks, unretrieved exceptions, lifetimes, and
// KeyboardInterrupt/SystemExit propagation.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (3.13). Cancellation
// is in cancel_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio.hpp>
#include <cstdint>
#include <exception>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <unordered_set>
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
using asyncio::InvalidStateError;
using asyncio::KeyboardInterrupt;
using asyncio::RuntimeError;
using asyncio::SystemExit;
using asyncio::Task;
using asyncio::TaskRef;
using asyncio::ValueError;
using support::CaptureHandler;
using support::Counted;
using support::Trace;

namespace {

Coro<> noop() {
    co_return;
}

Coro<> record(Trace& trace, std::string what) {
    trace(what);
    co_return;
}

Coro<int> value(int v) {
    co_return v;
}

Coro<int> value_after(Future<> gate, int v) {
    co_await gate;
    co_return v;
}

Coro<> fail(std::string msg) {
    throw ValueError(msg);
    co_return;
}

Coro<> sleep_forever() {
    co_await asyncio::sleep(1e9);
}

/// The captured reports, for failure output.
std::string messages(const CaptureHandler& cap) {
    std::string out;
    for (const CaptureHandler::Record& r : cap.records()) {
        out += r.message + " (" + r.what + ")";
        if (r.task) out += " task " + r.task_name;
        out += "\n";
    }
    return out;
}

std::uint64_t task_number(const TaskRef& t) {
    const std::string name = t.get_name();
    EXPECT_EQ(name.rfind("Task-", 0), 0u) << name;
    return std::stoull(name.substr(5));
}

// ------------------------------------------------------------- scheduling

TEST(create_task, runs_the_coroutine_on_the_next_iteration_not_inline) {
    Trace trace;
    auto main = [&]() -> Coro<> {
        Task<> a = asyncio::create_task(record(trace, "a"));
        Task<> b = asyncio::get_running_loop().create_task(record(trace, "b"));
        trace("created");
        EXPECT_FALSE(a.done());
        EXPECT_FALSE(b.done());
        co_await asyncio::sleep(0);
        trace("resumed");
        EXPECT_TRUE(a.done());
        EXPECT_TRUE(b.done());
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "created a b resumed");
}

// CPython: test_tasks.py::BaseTaskTests::test_task_basics
TEST(task, co_await_gives_the_value_of_nested_coroutines) {
    auto inner1 = []() -> Coro<int> { co_return 42; };
    auto inner2 = []() -> Coro<int> { co_return 1000; };
    auto outer = [&]() -> Coro<int> {
        const int a = co_await inner1();
        const int b = co_await inner2();
        co_return a + b;
    };
    auto loop = support::new_virtual_loop();
    EXPECT_EQ(loop->run_until_complete(outer()), 1042);
}

// CPython: test_tasks.py::BaseTaskTests::test_bare_create_task
TEST(task, co_await_task_gives_its_value) {
    auto main = []() -> Coro<int> {
        Task<int> t = asyncio::create_task(value(1));
        const int v = co_await t;
        EXPECT_EQ(t.result(), 1);
        // Not `co_await create_task(...)` in one expression: g++ 12 destroys
        // the TaskOptions temporary twice (see API.md, compiler facts).
        Task<int> u = asyncio::create_task(value(10));
        co_return v + co_await u;
    };
    EXPECT_EQ(support::run_virtual(main()), 11);
}

// CPython: test_tasks.py::BaseTaskTests::test_task_class
TEST(task, result_after_done_and_get_loop) {
    auto loop = support::new_virtual_loop();
    auto notmuch = []() -> Coro<std::string> { co_return "ok"; };
    Task<std::string> t = loop->create_task(notmuch());
    EXPECT_EQ(loop->run_until_complete(t), "ok");
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.result(), "ok");
    EXPECT_EQ(t.exception(), nullptr);
    EXPECT_EQ(&t.get_loop(), loop.get());
}

TEST(task, result_and_exception_of_a_pending_task_throw_invalid_state) {
    auto main = []() -> Coro<> {
        Future<> gate = asyncio::get_running_loop().create_future();
        Task<int> t = asyncio::create_task(value_after(gate, 7));
        EXPECT_THROW_MSG(t.result(), InvalidStateError, "Result is not set.");
        EXPECT_THROW_MSG((void)t.exception(), InvalidStateError, "Exception is not set.");
        co_await asyncio::sleep(0);  // now waiting for the gate
        EXPECT_FALSE(t.done());
        EXPECT_THROW_MSG(t.result(), InvalidStateError, "Result is not set.");
        gate.set_result();
        EXPECT_EQ(co_await t, 7);
        EXPECT_EQ(t.result(), 7);
        EXPECT_EQ(t.exception(), nullptr);
    };
    support::run_virtual(main());
}

// CPython: test_tasks.py::BaseTaskTests::test_exception_traceback
TEST(task, exception_returns_the_error_and_result_rethrows_it) {
    CaptureHandler cap;
    auto main = []() -> Coro<> {
        Task<> t = asyncio::create_task(fail("boom"));
        co_await asyncio::sleep(0);  // skip one loop iteration
        EXPECT_TRUE(t.done());
        EXPECT_FALSE(t.cancelled());
        const std::exception_ptr e = t.exception();
        EXPECT_TRUE(support::holds<ValueError>(e)) << support::describe(e);
        EXPECT_EQ(support::what(e), "boom");
        EXPECT_EQ(t.exception(), e);  // the same object every time
        EXPECT_THROW_MSG(t.result(), ValueError, "boom");
        EXPECT_THROW_MSG(t.result(), ValueError, "boom");
    };
    support::run_virtual(main(), cap);
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

TEST(task, awaiting_a_failed_task_rethrows_its_exception) {
    CaptureHandler cap;
    Trace trace;
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(fail("boom"));
        try {
            co_await t;
            trace("no exception");
        } catch (const ValueError& e) {
            trace("caught ", e.what());
        }
        // Awaiting a done task rethrows again.
        try {
            co_await t;
        } catch (const ValueError& e) {
            trace("again ", e.what());
        }
    };
    support::run_virtual(main(), cap);
    EXPECT_EQ(trace.str(), "caught boom again boom");
    EXPECT_TRUE(cap.empty());  // awaiting retrieved it
}

// CPython: test_tasks.py::BaseTaskTests::test_task_awaits_on_itself
TEST(task, awaiting_itself_fails_with_runtime_error) {
    auto loop = support::new_virtual_loop();
    Task<> task;
    auto test = [&]() -> Coro<> { co_await task; };
    task = loop->create_task(test(), {.name = "selfish"});
    std::string message;
    try {
        loop->run_until_complete(task);
    } catch (const RuntimeError& e) {
        message = e.what();
    }
    EXPECT_EQ(message.rfind("Task cannot await on itself: ", 0), 0u) << message;
    EXPECT_NE(message.find("name='selfish'"), std::string::npos) << message;
    EXPECT_TRUE(task.done());
    EXPECT_FALSE(task.cancelled());
    EXPECT_TRUE(support::holds<RuntimeError>(task.exception()));
}

// CPython: test_tasks.py::BaseTaskTests::test_other_loop_future
TEST(task, awaiting_a_future_of_another_loop_fails_with_runtime_error) {
    auto loop = support::new_virtual_loop();
    auto other_loop = support::new_virtual_loop();
    Future<> fut = other_loop->create_future();
    auto run = [&]() -> Coro<> { co_await fut; };
    std::string message;
    try {
        loop->run_until_complete(run());
    } catch (const RuntimeError& e) {
        message = e.what();
    }
    EXPECT_EQ(message.rfind("Task <Task pending name='Task-", 0), 0u) << message;
    EXPECT_NE(message.find(" got Future"), std::string::npos) << message;
    const std::string tail = " attached to a different loop";
    ASSERT_GE(message.size(), tail.size()) << message;
    EXPECT_EQ(message.substr(message.size() - tail.size()), tail);
    EXPECT_FALSE(fut.done());
    other_loop->close();
}

// CPython: test_tasks.py::BaseTaskTests::test_stop_while_run_in_complete
TEST(task, loop_stopped_before_the_task_completed) {
    auto loop = support::new_virtual_loop();
    int x = 0;
    EventLoop* l = loop.get();
    auto task = [&]() -> Coro<> {
        while (x < 10) {
            co_await asyncio::sleep(0.1);
            ++x;
            if (x == 2) l->stop();
        }
    };
    Task<> t = loop->create_task(task());
    EXPECT_THROW_MSG(loop->run_until_complete(t), RuntimeError,
                     "Event loop stopped before Future completed.");
    EXPECT_FALSE(t.done());
    EXPECT_EQ(x, 2);
    // CPython's TestLoop reads 0.3 here (its clock advances on the next
    // select); a virtual loop stops where the last timer fired.
    EXPECT_NEAR(loop->time(), 0.2, 1e-9);

    t.cancel();
    EXPECT_THROW_MSG(loop->run_until_complete(t), CancelledError, "");
    EXPECT_EQ(x, 2);
}

// ------------------------------------------------------------------ names

TEST(task, default_names_are_task_n_with_increasing_n) {
    auto main = []() -> Coro<> {
        const TaskRef self = asyncio::current_task();
        Task<> a = asyncio::create_task(noop());
        Task<> b = asyncio::create_task(noop());
        Task<> c = asyncio::get_running_loop().create_task(noop());
        const std::uint64_t n = task_number(a);
        EXPECT_LT(task_number(self), n);
        EXPECT_EQ(task_number(b), n + 1);
        EXPECT_EQ(task_number(c), n + 2);
        co_await a;
        co_await b;
        co_await c;
        EXPECT_EQ(a.get_name(), "Task-" + std::to_string(n));  // kept when done
    };
    support::run_virtual(main());
}

// CPython: test_tasks.py::BaseTaskTests::test_bare_create_named_task
TEST(task, name_option_sets_the_name) {
    auto main = []() -> Coro<> {
        Task<> task = asyncio::create_task(noop(), {.name = "No-op"});
        EXPECT_EQ(task.get_name(), "No-op");
        co_await task;
        EXPECT_EQ(task.get_name(), "No-op");
        task.set_name("renamed");
        EXPECT_EQ(task.get_name(), "renamed");
    };
    support::run_virtual(main());
}

struct BraceSix {};
std::ostream& operator<<(std::ostream& os, const BraceSix&) {
    return os << "{6}";
}

// CPython: test_tasks.py::BaseTaskTests::test_task_set_name_pylong
// CPython: test_tasks.py::BaseTaskTests::test_task_repr_name_not_str
TEST(task, set_name_streams_a_non_string_value) {
    auto loop = support::new_virtual_loop();
    auto notmuch = []() -> Coro<int> { co_return 123; };
    Task<int> t = loop->create_task(notmuch(), {.name = "987654321"});
    EXPECT_EQ(t.get_name(), "987654321");
    t.set_name(123456789);
    EXPECT_EQ(t.get_name(), "123456789");
    t.set_name(BraceSix{});
    EXPECT_EQ(t.get_name(), "{6}");
    TaskRef ref = t;
    ref.set_name(std::string("via ref"));
    EXPECT_EQ(t.get_name(), "via ref");
    EXPECT_EQ(loop->run_until_complete(t), 123);
}

// ----------------------------------------------------- current_task, all_tasks

// CPython: test_tasks.py::BaseTaskTests::test_current_task
TEST(current_task, inside_a_task_is_that_task) {
    auto loop = support::new_virtual_loop();
    EXPECT_FALSE(asyncio::current_task(loop.get()));
    Task<> task;
    TaskRef seen, seen_null, seen_in_coro, seen_after_await;
    auto inner = [&]() -> Coro<> {
        seen_in_coro = asyncio::current_task();  // a Coro runs in the awaiting task
        co_return;
    };
    auto coro = [&]() -> Coro<> {
        seen = asyncio::current_task();
        seen_null = asyncio::current_task(nullptr);
        co_await inner();
        co_await asyncio::sleep(0);
        seen_after_await = asyncio::current_task(&asyncio::get_running_loop());
    };
    task = loop->create_task(coro());
    loop->run_until_complete(task);
    EXPECT_TRUE(seen == task);
    EXPECT_TRUE(seen_null == task);
    EXPECT_TRUE(seen_in_coro == task);
    EXPECT_TRUE(seen_after_await == task);
    EXPECT_FALSE(asyncio::current_task(loop.get()));
}

// CPython: test_tasks.py::BaseTaskTests::test_current_task_with_interleaving_tasks
TEST(current_task, with_interleaving_tasks) {
    auto loop = support::new_virtual_loop();
    Future<bool> fut1 = loop->create_future<bool>();
    Future<bool> fut2 = loop->create_future<bool>();
    Task<> task1, task2;
    Trace trace;
    auto coro1 = [&]() -> Coro<> {
        trace("1:", asyncio::current_task() == task1);
        co_await fut1;
        trace("1:", asyncio::current_task() == task1);
        fut2.set_result(true);
    };
    auto coro2 = [&]() -> Coro<> {
        trace("2:", asyncio::current_task() == task2);
        fut1.set_result(true);
        co_await fut2;
        trace("2:", asyncio::current_task() == task2);
    };
    task1 = loop->create_task(coro1());
    task2 = loop->create_task(coro2());
    loop->run_until_complete(task2);
    loop->run_until_complete(task1);
    EXPECT_EQ(trace.str(), "1:1 2:1 1:1 2:1");
    EXPECT_FALSE(asyncio::current_task(loop.get()));
}

TEST(current_task, in_a_plain_loop_callback_is_empty) {
    bool called = false, done_called = false;
    TaskRef in_callback, in_done_callback;
    auto main = [&]() -> Coro<> {
        EXPECT_TRUE(asyncio::current_task());
        asyncio::get_running_loop().call_soon([&] {
            called = true;
            in_callback = asyncio::current_task();
        });
        Task<> t = asyncio::create_task(noop());
        t.add_done_callback([&](const Task<>&) {
            done_called = true;
            in_done_callback = asyncio::current_task();
        });
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    };
    support::run_virtual(main());
    EXPECT_TRUE(called);
    EXPECT_TRUE(done_called);
    EXPECT_FALSE(in_callback);
    EXPECT_FALSE(in_done_callback);
}

// CPython: test_tasks.py::BaseCurrentLoopTests::test_current_task_no_running_loop_implicit
// CPython: test_tasks.py::BaseCurrentLoopTests::test_current_task_no_running_loop
TEST(current_task, without_a_running_loop_throws) {
    EXPECT_THROW_MSG(asyncio::current_task(), RuntimeError, "no running event loop");
    EXPECT_THROW_MSG(asyncio::all_tasks(), RuntimeError, "no running event loop");
    auto loop = support::new_virtual_loop();
    EXPECT_FALSE(asyncio::current_task(loop.get()));
}

TEST(all_tasks, lists_pending_tasks_not_finished_ones) {
    auto as_set = [](const std::vector<TaskRef>& v) {
        return std::unordered_set<TaskRef>(v.begin(), v.end());
    };
    auto main = [&]() -> Coro<> {
        const TaskRef self = asyncio::current_task();
        Task<> sleeper = asyncio::create_task(asyncio::sleep(10));
        Task<> quick = asyncio::create_task(noop());
        const std::vector<TaskRef> all = asyncio::all_tasks();
        EXPECT_EQ(all.size(), 3u);
        EXPECT_EQ(as_set(all), (std::unordered_set<TaskRef>{self, sleeper, quick}));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(quick.done());
        EXPECT_EQ(as_set(asyncio::all_tasks()), (std::unordered_set<TaskRef>{self, sleeper}));
        co_await sleeper;
        EXPECT_EQ(as_set(asyncio::all_tasks()), (std::unordered_set<TaskRef>{self}));
    };
    support::run_virtual(main());
}

TEST(all_tasks, of_a_loop_that_is_not_running) {
    auto loop = support::new_virtual_loop();
    EXPECT_TRUE(asyncio::all_tasks(loop.get()).empty());
    Task<> t = loop->create_task(noop());
    const std::vector<TaskRef> all = asyncio::all_tasks(loop.get());
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(all[0] == t);
    loop->run_until_complete(t);
    EXPECT_TRUE(asyncio::all_tasks(loop.get()).empty());
}

// ------------------------------------------------------------- lifetimes

Coro<> detached(bool& finished, Counted held) {
    co_await asyncio::sleep(1);
    finished = held.value == 7;
}

TEST(task, loop_keeps_a_task_alive_when_every_handle_is_dropped) {
    Counted::reset();
    bool finished = false;
    auto main = [&]() -> Coro<> {
        asyncio::create_task(detached(finished, Counted(7)));  // handle dropped at once
        EXPECT_EQ(Counted::live(), 1);
        co_await asyncio::sleep(2);
        EXPECT_TRUE(finished);
        EXPECT_EQ(Counted::live(), 0);  // the frame went with the task
    };
    support::run_virtual(main());
    EXPECT_TRUE(finished);
    EXPECT_EQ(Counted::live(), 0);
}

Coro<Counted> make_counted(int v) {
    co_return Counted(v);
}

TEST(task, result_lives_until_the_last_handle_goes) {
    Counted::reset();
    auto main = []() -> Coro<> {
        Task<Counted> t = asyncio::create_task(make_counted(5));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.done());
        EXPECT_EQ(Counted::live(), 1);  // stored in the task
        EXPECT_EQ(t.result().value, 5);
        EXPECT_EQ(&t.result(), &t.result());  // result() is a reference, no copy
        {
            TaskRef other = t;
            t = Task<Counted>();
            EXPECT_EQ(Counted::live(), 1);  // `other` still holds the task
        }
        EXPECT_EQ(Counted::live(), 0);
    };
    support::run_virtual(main());
    EXPECT_EQ(Counted::live(), 0);
}

// CPython: test_tasks.py::BaseTaskTests::test_log_destroyed_pending_task
TEST(task, destroyed_while_pending_is_reported_when_the_loop_closes) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    auto kill_me = []() -> Coro<> {
        Future<> future = asyncio::get_running_loop().create_future();
        co_await future;
        throw std::runtime_error("code never reached");
    };
    const void* id = nullptr;
    {
        Task<> task = loop->create_task(kill_me(), {.name = "kill_me"});
        id = task.identity();
        const std::vector<TaskRef> all = asyncio::all_tasks(loop.get());
        ASSERT_EQ(all.size(), 1u);
        EXPECT_TRUE(all[0] == task);
        support::run_once(*loop);  // the task now waits for its future
        EXPECT_FALSE(task.done());
    }
    // Unlike Python, the loop keeps the task: nothing is destroyed yet.
    EXPECT_EQ(asyncio::all_tasks(loop.get()).size(), 1u);
    EXPECT_TRUE(cap.empty());
    loop->close();
    EXPECT_TRUE(asyncio::all_tasks(loop.get()).empty());
    ASSERT_EQ(cap.messages(), (std::vector<std::string>{"Task was destroyed but it is pending!"}));
    EXPECT_EQ(cap.at(0).exception, nullptr);
    EXPECT_EQ(cap.at(0).task, id);
    EXPECT_EQ(cap.at(0).task_name, "kill_me");
}

TEST(task, closing_the_loop_with_a_task_awaiting_another_pending_task) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    auto b = []() -> Coro<> { co_await asyncio::get_running_loop().create_future(); };
    auto a = [&]() -> Coro<> {
        Task<> child = asyncio::create_task(b(), {.name = "B"});
        co_await child;
    };
    loop->create_task(a(), {.name = "A"});
    loop->run_until_complete(asyncio::sleep(0));
    EXPECT_EQ(asyncio::all_tasks(loop.get()).size(), 2u);
    loop->close();  // drops both: neither may outlive what it awaits
    std::vector<std::string> names;
    for (const CaptureHandler::Record& r : cap.records()) {
        EXPECT_EQ(r.message, "Task was destroyed but it is pending!");
        names.push_back(r.task_name);
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"A", "B"}));
}

// As in Python, a task keeps what it awaits alive (its _fut_waiter), even
// when no handle to it is left anywhere else.
TEST(task, closing_the_loop_when_only_the_waiting_task_knows_the_awaited_task) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    auto b = []() -> Coro<> { co_await asyncio::get_running_loop().create_future(); };
    std::optional<Task<>> child;
    auto a = [&]() -> Coro<> { co_await *child; };
    loop->create_task(a(), {.name = "A"});
    child = loop->create_task(b(), {.name = "B"});  // the newer one
    support::run_once(*loop);                       // A waits for B
    child.reset();
    EXPECT_EQ(asyncio::all_tasks(loop.get()).size(), 2u);
    loop->close();
    std::vector<std::string> names;
    for (const CaptureHandler::Record& r : cap.records()) names.push_back(r.task_name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"A", "B"}));
}

// CPython: test_tasks.py::BaseTaskTests::test_log_traceback (what it guards)
TEST(task, exception_never_retrieved_is_reported_when_the_last_handle_goes) {
    CaptureHandler cap;
    auto main = [&]() -> Coro<> {
        {
            Task<> t = asyncio::create_task(fail("boom"), {.name = "failing"});
            co_await asyncio::sleep(0);
            EXPECT_TRUE(t.done());
            co_await asyncio::sleep(0);
            EXPECT_TRUE(cap.empty());  // a handle still exists
        }
        co_await asyncio::sleep(0);
        EXPECT_EQ(cap.messages(), (std::vector<std::string>{"Task exception was never retrieved"}));
    };
    support::run_virtual(main(), cap);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Task exception was never retrieved");
    EXPECT_TRUE(support::holds<ValueError>(cap.at(0).exception));
    EXPECT_EQ(cap.at(0).what, "boom");
    EXPECT_NE(cap.at(0).task, nullptr);
    EXPECT_EQ(cap.at(0).task_name, "failing");
}

TEST(task, exception_dropped_with_the_handle_before_it_finished_is_reported) {
    CaptureHandler cap;
    auto main = [&]() -> Coro<> {
        asyncio::create_task(fail("lost"));  // nobody ever holds it
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        EXPECT_EQ(cap.messages(), (std::vector<std::string>{"Task exception was never retrieved"}));
    };
    support::run_virtual(main(), cap);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).what, "lost");
}

TEST(task, retrieved_exception_is_not_reported) {
    CaptureHandler cap;
    auto main = [&]() -> Coro<> {
        Task<> by_exception = asyncio::create_task(fail("a"));
        Task<> by_result = asyncio::create_task(fail("b"));
        Task<> by_await = asyncio::create_task(fail("c"));
        co_await asyncio::sleep(0);
        EXPECT_EQ(support::what(by_exception.exception()), "a");
        EXPECT_THROW_MSG(by_result.result(), ValueError, "b");
        try {
            co_await by_await;
        } catch (const ValueError&) {
        }
        by_exception = {};
        by_result = {};
        by_await = {};
        co_await asyncio::sleep(0);
    };
    support::run_virtual(main(), cap);
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

// CPython: test_tasks.py::BaseTaskTests::test_tb_logger_not_called_after_cancel
// (Task.cancel() clears _log_traceback first, even on a done task.)
TEST(task, cancel_of_a_failed_task_counts_as_retrieving_its_exception) {
    CaptureHandler cap;
    auto runner = [&]() -> Coro<> {
        Task<> task = asyncio::create_task(fail("type error"));
        co_await asyncio::sleep(0.05);
        EXPECT_TRUE(task.done());
        EXPECT_FALSE(task.cancel());
        task = {};
        co_await asyncio::sleep(0);
    };
    support::run_virtual(runner(), cap);
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

TEST(task, handles_stay_valid_after_run_returned) {
    CaptureHandler cap;
    Task<int> ok;
    Task<> failed;
    Task<> pending;
    auto main = [&]() -> Coro<> {
        ok = asyncio::create_task(value(5));
        failed = asyncio::create_task(fail("kept"));
        pending = asyncio::create_task(sleep_forever());
        co_await asyncio::sleep(0);
    };
    support::run_virtual(main(), cap);
    EXPECT_TRUE(ok.done());
    EXPECT_FALSE(ok.cancelled());
    EXPECT_EQ(ok.result(), 5);
    EXPECT_EQ(ok.exception(), nullptr);

    EXPECT_TRUE(failed.done());
    EXPECT_FALSE(failed.cancelled());
    EXPECT_EQ(support::what(failed.exception()), "kept");
    EXPECT_THROW_MSG((void)failed.result(), ValueError, "kept");

    EXPECT_TRUE(pending.done());  // run() cancelled what was left
    EXPECT_TRUE(pending.cancelled());
    EXPECT_THROW_MSG((void)pending.exception(), CancelledError, "");
    EXPECT_THROW_MSG(pending.result(), CancelledError, "");
    EXPECT_FALSE(pending.cancel());

    ok = {};
    failed = {};
    pending = {};
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

// ------------------------------------------------------------ identity

TEST(task, handles_compare_by_identity_and_hash) {
    auto main = []() -> Coro<> {
        Task<int> a = asyncio::create_task(value(1));
        Task<int> b = asyncio::create_task(value(1));
        Task<int> a2 = a;
        const TaskRef ra = a;
        EXPECT_TRUE(a == a2);
        EXPECT_TRUE(ra == a);
        EXPECT_TRUE(a == ra);
        EXPECT_FALSE(a == b);
        EXPECT_TRUE(a != b);
        EXPECT_FALSE(ra == b);
        EXPECT_EQ(std::hash<Task<int>>{}(a), std::hash<Task<int>>{}(a2));
        EXPECT_EQ(std::hash<Task<int>>{}(a), std::hash<TaskRef>{}(ra));
        const std::unordered_set<TaskRef> refs{a, a2, ra, b};
        EXPECT_EQ(refs.size(), 2u);
        const std::unordered_set<Task<int>> tasks{a, a2, b, b};
        EXPECT_EQ(tasks.size(), 2u);

        const TaskRef empty;
        EXPECT_FALSE(empty);
        EXPECT_TRUE(ra);
        EXPECT_TRUE(empty == TaskRef());
        EXPECT_FALSE(empty == ra);

        TaskRef moved = std::move(a2);
        EXPECT_TRUE(moved == a);
        co_await a;
        co_await b;
        EXPECT_TRUE(ra == a);  // identity does not change when done
    };
    support::run_virtual(main());
}

// --------------------------------------------------------- ensure_future

// CPython: test_tasks.py::BaseTaskTests::test_ensure_future_coroutine
TEST(ensure_future, of_a_coroutine_makes_a_task) {
    auto notmuch = []() -> Coro<std::string> { co_return "ok"; };
    auto main = [&]() -> Coro<> {
        Task<std::string> t = asyncio::ensure_future(notmuch());
        EXPECT_FALSE(t.done());
        EXPECT_EQ(&t.get_loop(), &asyncio::get_running_loop());
        EXPECT_EQ(asyncio::all_tasks().size(), 2u);
        EXPECT_EQ(co_await t, "ok");
        EXPECT_TRUE(t.done());
        EXPECT_EQ(t.result(), "ok");
    };
    support::run_virtual(main());
}

// CPython: test_tasks.py::BaseTaskTests::test_ensure_future_task
// CPython: test_tasks.py::BaseTaskTests::test_ensure_future_future
TEST(ensure_future, of_a_task_or_future_returns_it) {
    auto notmuch = []() -> Coro<std::string> { co_return "ok"; };
    auto main = [&]() -> Coro<> {
        Task<std::string> t1 = asyncio::create_task(notmuch());
        Task<std::string> t2 = asyncio::ensure_future(t1);
        EXPECT_TRUE(t1 == t2);
        EXPECT_EQ(asyncio::all_tasks().size(), 2u);  // no new task
        EXPECT_EQ(co_await t2, "ok");

        Future<std::string> f1 = asyncio::get_running_loop().create_future<std::string>();
        Future<std::string> f2 = asyncio::ensure_future(f1);
        EXPECT_TRUE(f1 == f2);
        f1.set_result("ko");
        EXPECT_EQ(co_await f2, "ko");
    };
    support::run_virtual(main());
}

// ------------------------------------------------------- single use of Coro

TEST(create_task, of_an_already_awaited_coroutine_throws) {
    auto main = []() -> Coro<> {
        Coro<int> c = value(1);
        EXPECT_EQ(co_await c, 1);
        EXPECT_TRUE(c.awaited());
        EXPECT_THROW_MSG(asyncio::create_task(std::move(c)), RuntimeError,
                         "cannot reuse already awaited coroutine");
        EXPECT_EQ(asyncio::all_tasks().size(), 1u);  // nothing was scheduled
    };
    support::run_virtual(main());
}

TEST(coro, awaited_twice_throws_runtime_error) {
    Trace trace;
    auto main = [&]() -> Coro<> {
        Coro<int> c = value(3);
        trace("first ", co_await c);
        try {
            trace("second ", co_await c);
        } catch (const RuntimeError& e) {
            trace(e.what());
        }
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.join("|"), "first 3|cannot reuse already awaited coroutine");
}

// ---------------------------------------------------------- done callbacks

TEST(task, add_done_callback_is_scheduled_not_inline_and_gets_the_task) {
    Trace trace;
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(record(trace, "body"));
        t.add_done_callback([&](const Task<>& done) {
            trace("cb1 same=", done == t, " done=", done.done(),
                  " current=", static_cast<bool>(asyncio::current_task()));
        });
        const TaskRef ref = t;
        ref.add_done_callback([&](const TaskRef& done) { trace("cb2 same=", done == t); });
        co_await asyncio::sleep(0);
        trace("main");
        co_await asyncio::sleep(0);
        trace("main2");
        t.add_done_callback([&](const Task<>&) { trace("late"); });
        trace("added");  // already done: scheduled, not called inline
        co_await asyncio::sleep(0);
        trace("main3");
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.join("|"),
              "body|main|cb1 same=1 done=1 current=0|cb2 same=1|main2|added|late|main3");
}

TEST(task, remove_done_callback_returns_1_then_0) {
    Trace trace;
    auto main = [&]() -> Coro<> {
        Task<> t = asyncio::create_task(noop());
        const asyncio::CallbackId removed =
            t.add_done_callback([&](const Task<>&) { trace("removed"); });
        t.add_done_callback([&](const Task<>&) { trace("kept"); });
        EXPECT_EQ(t.remove_done_callback(removed), 1u);
        EXPECT_EQ(t.remove_done_callback(removed), 0u);
        co_await t;
        co_await asyncio::sleep(0);
        EXPECT_EQ(t.remove_done_callback(removed), 0u);
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "kept");
}

// ------------------------------------------- KeyboardInterrupt, SystemExit

// CPython: test_base_events.py::BaseEventLoopTests::test_run_until_complete_baseexception
TEST(task, keyboard_interrupt_is_stored_and_propagates_out_of_run_until_complete) {
    auto loop = support::new_virtual_loop();
    Trace trace;
    auto ki = [&]() -> Coro<> {
        trace("ki");
        throw KeyboardInterrupt("ctrl-c");
        co_return;
    };
    Task<> t = loop->create_task(ki());
    EXPECT_THROW_MSG(loop->run_until_complete(t), KeyboardInterrupt, "ctrl-c");
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_TRUE(support::holds<KeyboardInterrupt>(t.exception()));
    EXPECT_EQ(support::what(t.exception()), "ctrl-c");

    // The loop is still usable afterwards.
    EventLoop* l = loop.get();
    loop->call_soon([&trace, l] {
        l->call_soon([&trace, l] {
            trace("func");
            l->stop();
        });
    });
    loop->run_forever();
    EXPECT_EQ(trace.str(), "ki func");
}

TEST(task, system_exit_in_another_task_propagates_out_of_run_until_complete) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Task<> other;
    auto other_body = []() -> Coro<> {
        co_await asyncio::sleep(0);
        throw SystemExit("3");
    };
    auto main = [&]() -> Coro<std::string> {
        other = asyncio::create_task(other_body());
        co_await asyncio::sleep(10);
        co_return "main done";
    };
    Task<std::string> m = loop->create_task(main());
    EXPECT_THROW_MSG(loop->run_until_complete(m), SystemExit, "3");
    EXPECT_FALSE(m.done());
    EXPECT_TRUE(other.done());
    EXPECT_EQ(support::what(other.exception()), "3");
    EXPECT_TRUE(m.cancel());
    EXPECT_THROW_MSG(loop->run_until_complete(m), CancelledError, "");
    EXPECT_TRUE(m.cancelled());
    EXPECT_NEAR(loop->time(), 0.0, 1e-9);
    EXPECT_TRUE(cap.empty());  // `other`'s exception was retrieved above
}

TEST(task, unretrieved_system_exit_of_another_task_is_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    auto other_body = []() -> Coro<> {
        co_await asyncio::sleep(0);
        throw SystemExit("3");
    };
    auto main = [&]() -> Coro<> {
        asyncio::create_task(other_body(), {.name = "other"});
        co_await asyncio::sleep(10);
    };
    Task<> m = loop->create_task(main());
    EXPECT_THROW_MSG(loop->run_until_complete(m), SystemExit, "3");
    // As in Python: stored on a task nobody retrieves it from, so reported too.
    support::run_briefly(*loop);
    EXPECT_EQ(cap.messages(), (std::vector<std::string>{"Task exception was never retrieved"}));
    if (!cap.empty()) {
        EXPECT_EQ(cap.at(0).what, "3");
        EXPECT_EQ(cap.at(0).task_name, "other");
    }
    m.cancel();
    EXPECT_THROW_MSG(loop->run_until_complete(m), CancelledError, "");
}

TEST(task, system_exit_raised_in_the_main_task_propagates_out_of_run) {
    CaptureHandler cap;
    auto se = []() -> Coro<int> {
        throw SystemExit("5");
        co_return 0;
    };
    EXPECT_THROW_MSG(support::run_virtual(se(), cap), SystemExit, "5");
    // Python does not report it either: the caller never sees the task.
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

}  // namespace
