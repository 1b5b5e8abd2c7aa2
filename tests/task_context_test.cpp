// task_context_test.cpp — context variables in the runtime: tasks run in a
// copy of their creator's context (or the one given), callbacks in the
// context current when they were scheduled (or the one given), Runner.run's
// context, gather and TaskGroup children, and Context::run around tasks.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (test_context_*,
// test_get_context), test_taskgroups.py::test_taskgroup_task_context,
// test_futures.py / test_events.py (callbacks with context=).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Context;
using asyncio::ContextVar;
using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::Future;
using asyncio::RuntimeError;
using asyncio::Task;
using asyncio::TaskGroup;
using asyncio::TaskOptions;
using support::Trace;

namespace {

// CPython: test_tasks.py::test_context_1
TEST(task_context, child_gets_a_copy_at_creation) {
    ContextVar<std::string> cvar("cvar", "nope");
    auto sub = [&]() -> Coro<> {
        co_await asyncio::sleep(0.01);
        EXPECT_EQ(cvar.get(), "nope");  // not the parent's later "yes"
        cvar.set("something else");
    };
    auto main = [&]() -> Coro<std::string> {
        EXPECT_EQ(cvar.get(), "nope");
        Task<> subtask = asyncio::create_task(sub());
        cvar.set("yes");
        EXPECT_EQ(cvar.get(), "yes");
        co_await subtask;
        co_return cvar.get();  // the child's set() is invisible here
    };
    EXPECT_EQ(support::run_virtual(main()), "yes");
    EXPECT_EQ(cvar.get(), "nope");
}

TEST(task_context, child_sees_parent_values_and_keeps_its_own) {
    ContextVar<int> v("v");
    auto child = [&]() -> Coro<int> {
        const int seen = v.get();
        v.set(seen + 100);
        co_await asyncio::sleep(0);
        co_return v.get();
    };
    auto main = [&]() -> Coro<> {
        v.set(1);
        Task<int> a = asyncio::create_task(child());
        v.set(2);
        Task<int> b = asyncio::create_task(child());
        EXPECT_EQ(co_await a, 101);
        EXPECT_EQ(co_await b, 102);
        EXPECT_EQ(v.get(), 2);
    };
    support::run_virtual(main());
}

// CPython: test_tasks.py::test_context_2 — a done callback's set() does not
// pollute the task, and the task's context reaches its callbacks.
TEST(task_context, done_callback_changes_stay_in_the_callback) {
    ContextVar<std::string> cvar("cvar", "nope");
    Trace trace;
    auto main = [&]() -> Coro<> {
        EventLoop& loop = asyncio::get_running_loop();
        for (int j = 0; j < 2; ++j) {
            Future<> fut = loop.create_future<>();
            fut.add_done_callback([&](const Future<>&) {
                trace("cb:", cvar.get());
                cvar.set("something else");
            });
            cvar.set("yes" + std::to_string(j));
            loop.call_soon([fut] { fut.set_result(); });
            co_await fut;
            EXPECT_EQ(cvar.get(), "yes" + std::to_string(j));
        }
    };
    support::run_virtual(main());
    // Registered before the set(): the snapshot is the earlier value.
    EXPECT_EQ(trace.str(), "cb:nope cb:yes0");
}

// CPython: test_tasks.py::test_context_3 — many tasks, each its own value.
TEST(task_context, parallel_tasks_keep_their_values) {
    ContextVar<int> cvar("cvar", -1);
    auto sub = [&](int num) -> Coro<> {
        for (int i = 0; i < 10; ++i) {
            cvar.set(num + i);
            co_await asyncio::sleep(0.001 * ((num * 7 + i * 3) % 11));
            EXPECT_EQ(cvar.get(), num + i);
        }
    };
    auto main = [&]() -> Coro<> {
        std::vector<Coro<>> coros;
        for (int i = 0; i < 50; ++i) coros.push_back(sub(i));
        co_await asyncio::gather(std::move(coros));
        EXPECT_EQ(cvar.get(), -1);
    };
    support::run_virtual(main());
    EXPECT_EQ(cvar.get(), -1);
}

// CPython: test_tasks.py::test_context_4/5/6 — a given context is the very
// one the task runs in.
TEST(task_context, task_runs_in_the_given_context) {
    ContextVar<int> cvar("cvar");
    auto coro = [&](int val) -> Coro<> {
        co_await asyncio::sleep(0);
        cvar.set(val);
    };
    auto main = [&]() -> Coro<std::vector<int>> {
        std::vector<int> ret;
        Context ctx = asyncio::copy_context();
        ret.push_back(ctx.get(cvar).value_or(0));
        TaskOptions o1;
        o1.context = ctx;
        Task<> t1 = asyncio::create_task(coro(1), o1);
        co_await t1;
        ret.push_back(ctx.get(cvar).value_or(0));
        TaskOptions o2;
        o2.context = ctx;
        Task<> t2 = asyncio::get_running_loop().create_task(coro(2), o2);
        co_await t2;
        ret.push_back(ctx.get(cvar).value_or(0));
        EXPECT_FALSE(cvar.get(0) != 0);  // the parent's own context is untouched
        co_return ret;
    };
    EXPECT_EQ(support::run_virtual(main()), (std::vector<int>{0, 1, 2}));
}

TEST(task_context, two_tasks_sharing_a_context_accumulate) {
    ContextVar<std::string> v("v", "");
    auto append = [&](std::string s) -> Coro<> {
        co_await asyncio::sleep(0);
        v.set(v.get() + s);
    };
    auto main = [&]() -> Coro<> {
        Context ctx;
        TaskOptions o;
        o.context = ctx;
        Task<> a = asyncio::create_task(append("a"), o);
        Task<> b = asyncio::create_task(append("b"), o);
        co_await a;
        co_await b;
        EXPECT_EQ(ctx[v], "ab");
        EXPECT_EQ(v.get(), "");
    };
    support::run_virtual(main());
}

// CPython: test_tasks.py::test_get_context
TEST(task_context, get_context_is_the_given_one_or_the_tasks_own) {
    ContextVar<int> v("v");
    auto set_to = [&](int x) -> Coro<> {
        v.set(x);
        co_return;
    };
    auto main = [&]() -> Coro<> {
        Context ctx;
        TaskOptions o;
        o.context = ctx;
        Task<> given = asyncio::create_task(set_to(1), o);
        Task<> own = asyncio::create_task(set_to(2));
        EXPECT_TRUE(given.get_context() == ctx);
        const Context own_ctx = own.get_context();
        EXPECT_TRUE(own.get_context() == own_ctx);  // stable identity
        EXPECT_FALSE(own_ctx == ctx);
        co_await given;
        co_await own;
        EXPECT_EQ(ctx[v], 1);
        EXPECT_EQ(own_ctx[v], 2);  // the context the task ran in
        EXPECT_TRUE(own.get_context() == own_ctx);
        EXPECT_FALSE(v.get(0) != 0);
    };
    support::run_virtual(main());
}

TEST(task_context, copy_context_in_a_task_sees_its_values) {
    ContextVar<int> v("v");
    auto main = [&]() -> Coro<> {
        v.set(5);
        Context snap = asyncio::copy_context();
        v.set(6);
        EXPECT_EQ(snap[v], 5);
        EXPECT_FALSE(snap == asyncio::current_task().get_context());
        EXPECT_EQ(asyncio::current_task().get_context()[v], 6);
        co_return;
    };
    support::run_virtual(main());
}

// Values set in the thread before run() reach the main task (the runner
// copies the current context), and the main task's changes stay inside.
TEST(task_context, run_copies_the_callers_context) {
    ContextVar<int> v("v");
    auto t = v.set(1);
    auto main = [&]() -> Coro<int> {
        const int seen = v.get();
        v.set(2);
        co_return seen;
    };
    EXPECT_EQ(support::run_virtual(main()), 1);
    EXPECT_EQ(v.get(), 1);
    v.reset(t);
}

// CPython: Runner.run(coro, context=ctx); without one, every run() of a
// runner shares the runner's own context (runners.py, _lazy_init).
TEST(task_context, runner_run_with_a_context) {
    ContextVar<std::string> v("v", "-");
    auto setter = [&](std::string s) -> Coro<std::string> {
        v.set(s);
        co_return v.get();
    };
    auto getter = [&]() -> Coro<std::string> { co_return v.get(); };
    asyncio::Runner runner({.debug = std::nullopt, .loop_factory = &asyncio::testing::new_virtual_event_loop});
    EXPECT_EQ(runner.run(setter("a")), "a");
    EXPECT_EQ(runner.run(getter()), "a");  // the runner's context, shared
    Context ctx;
    EXPECT_EQ(runner.run(setter("b"), {.context = ctx}), "b");
    EXPECT_EQ(ctx[v], "b");
    EXPECT_EQ(runner.run(getter()), "a");
    EXPECT_EQ(runner.run(getter(), {.context = ctx}), "b");
    EXPECT_EQ(v.get(), "-");
    runner.close();
}

// Python's Handle: call_soon copies the current context; the callback's
// set() stays in that copy. With {.context}, it runs in that very context.
TEST(task_context, call_soon_runs_in_a_snapshot_or_the_given_context) {
    ContextVar<std::string> v("v", "-");
    Trace trace;
    auto main = [&]() -> Coro<> {
        EventLoop& loop = asyncio::get_running_loop();
        v.set("main");
        loop.call_soon([&] { trace("cs:", v.get()); });
        loop.call_soon([&] {
            v.set("cb");
            trace("cs2:", v.get());
        });
        v.set("later");  // after scheduling: not seen by the callbacks
        Context ctx;
        asyncio::CallbackOptions with_ctx;
        with_ctx.context = ctx;
        loop.call_soon([&] { v.set("in-ctx"); }, with_ctx);
        co_await asyncio::sleep(0);
        trace("after:", v.get());
        EXPECT_EQ(ctx[v], "in-ctx");
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "cs:main cs2:cb after:later");
}

TEST(task_context, call_later_and_call_at_take_a_context) {
    ContextVar<int> v("v", 0);
    Trace trace;
    auto main = [&]() -> Coro<> {
        EventLoop& loop = asyncio::get_running_loop();
        v.set(1);
        Context ctx;
        ctx.run([&] { v.set(7); });
        asyncio::CallbackOptions with_ctx;
        with_ctx.context = ctx;
        loop.call_later(1.0, [&] { trace("later:", v.get()); });
        loop.call_later(2.0, [&] { trace("later-ctx:", v.get()); }, with_ctx);
        loop.call_at(loop.time() + 3.0, [&] { trace("at:", v.get()); });
        loop.call_at(loop.time() + 4.0, [&] { v.set(8); }, with_ctx);
        v.set(2);
        co_await asyncio::sleep(5);
        EXPECT_EQ(ctx[v], 8);
        EXPECT_EQ(v.get(), 2);
    };
    support::run_virtual(main());
    EXPECT_EQ(trace.str(), "later:1 later-ctx:7 at:1");
}

TEST(task_context, done_callbacks_take_a_context) {
    ContextVar<int> v("v", 0);
    Trace trace;
    auto child = []() -> Coro<int> { co_return 3; };
    auto main = [&]() -> Coro<> {
        EventLoop& loop = asyncio::get_running_loop();
        Context ctx;
        ctx.run([&] { v.set(9); });
        asyncio::CallbackOptions with_ctx;
        with_ctx.context = ctx;
        v.set(1);
        Task<int> t = asyncio::create_task(child());
        t.add_done_callback([&](const Task<int>& task) { trace("task:", v.get(), "/", task.result()); });
        t.add_done_callback([&](const Task<int>&) { trace("task-ctx:", v.get()); }, with_ctx);
        asyncio::TaskRef ref = t;
        ref.add_done_callback([&](const asyncio::TaskRef&) { v.set(10); }, with_ctx);
        Future<> f = loop.create_future<>();
        f.add_done_callback([&](const Future<>&) { trace("fut:", v.get()); });
        f.add_done_callback([&](const Future<>&) { trace("fut-ctx:", v.get()); }, with_ctx);
        v.set(2);
        f.set_result();
        co_await t;
        co_await asyncio::sleep(0);
        EXPECT_EQ(ctx[v], 10);
    };
    support::run_virtual(main());
    // The future completed first (set_result before the task's step), and
    // the TaskRef callback set 10 in ctx only after both ctx callbacks ran.
    EXPECT_EQ(trace.str(), "fut:1 fut-ctx:9 task:1/3 task-ctx:9");
}

// Python's Context.run refuses a context already entered: a callback given
// a context that Context::run entered around the loop is reported, not run.
TEST(task_context, callback_in_an_entered_context_is_reported) {
    ContextVar<int> v("v", 0);
    support::CaptureHandler cap;
    auto loop = support::new_virtual_loop();
    cap.install(*loop);
    Context ctx;
    bool ran = false;
    ctx.run([&] {
        asyncio::CallbackOptions with_ctx;
        with_ctx.context = ctx;
        loop->call_soon([&] { ran = true; }, with_ctx);
        support::run_briefly(*loop);
    });
    EXPECT_FALSE(ran);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Exception in callback");
    EXPECT_EQ(cap.at(0).what, "cannot enter context: " + ctx.repr() + " is already entered");
    loop->close();
}

// The lookup rule: inside Context::run, create_task copies that context,
// not the running task's.
TEST(task_context, create_task_inside_context_run_copies_that_context) {
    ContextVar<std::string> v("v", "-");
    auto get = [&]() -> Coro<std::string> { co_return v.get(); };
    auto main = [&]() -> Coro<> {
        v.set("task");
        Context c3 = asyncio::copy_context();
        c3.run([&] { v.set("c3"); });
        Task<std::string> t = c3.run([&] { return asyncio::create_task(get()); });
        EXPECT_EQ(co_await t, "c3");
        EXPECT_FALSE(t.get_context() == c3);  // a copy of it
        EXPECT_EQ(v.get(), "task");
    };
    support::run_virtual(main());
}

// Python: a task's own context is entered while it runs.
TEST(task_context, running_the_tasks_own_context_inside_it_throws) {
    auto main = []() -> Coro<> {
        Context own = asyncio::current_task().get_context();
        EXPECT_THROW_MSG(own.run([] {}), RuntimeError,
                         "cannot enter context: " + own.repr() + " is already entered");
        co_return;
    };
    support::run_virtual(main());
}

// A loop run inside Context::run: the tasks still see their own contexts.
TEST(task_context, loop_inside_context_run_keeps_task_contexts) {
    ContextVar<int> v("v", 0);
    auto child = [&]() -> Coro<int> {
        co_await asyncio::sleep(0);
        co_return v.get();
    };
    auto main = [&]() -> Coro<int> {
        EXPECT_EQ(v.get(), 4);  // copied from ctx at creation
        v.set(5);
        Task<int> t = asyncio::create_task(child());
        v.set(6);
        co_return co_await t;
    };
    Context ctx;
    ctx.run([&] { v.set(4); });
    auto loop = support::new_virtual_loop();
    const int got = ctx.run([&] { return loop->run_until_complete(main()); });
    EXPECT_EQ(got, 5);
    EXPECT_EQ(ctx[v], 4);  // the task's changes stayed in the task
    loop->close();
}

TEST(task_context, gather_children_inherit) {
    ContextVar<int> v("v", 0);
    auto child = [&](int add) -> Coro<int> {
        co_await asyncio::sleep(0);
        const int seen = v.get();
        v.set(seen + add);
        co_return seen;
    };
    auto main = [&]() -> Coro<> {
        v.set(10);
        auto [a, b] = co_await asyncio::gather(child(1), child(2));
        EXPECT_EQ(a, 10);
        EXPECT_EQ(b, 10);
        EXPECT_EQ(v.get(), 10);
    };
    support::run_virtual(main());
}

// CPython: test_taskgroups.py::test_taskgroup_task_context
TEST(task_context, task_group_children_inherit_or_take_a_context) {
    ContextVar<int> cvar("cvar", 0);
    auto coro = [&](int val) -> Coro<> {
        co_await asyncio::sleep(0);
        cvar.set(val);
    };
    auto read = [&]() -> Coro<int> { co_return cvar.get(); };
    auto main = [&]() -> Coro<> {
        cvar.set(42);
        co_await asyncio::async_with(TaskGroup(), [&](TaskGroup& g) -> Coro<> {
            Context ctx = asyncio::copy_context();
            TaskOptions o;
            o.context = ctx;
            Task<> t1 = g.create_task(coro(1), o);
            co_await t1;
            EXPECT_EQ(ctx[cvar], 1);
            Task<> t2 = g.create_task(coro(2), o);
            co_await t2;
            EXPECT_EQ(ctx[cvar], 2);
            Task<int> r = g.create_task(read());
            EXPECT_EQ(co_await r, 42);
            Task<> t3 = g.create_task(coro(3));
            co_await t3;
        });
        EXPECT_EQ(cvar.get(), 42);
    };
    support::run_virtual(main());
}

// A value lives while a task's context (or a snapshot) holds it.
TEST(task_context, values_are_released_with_the_tasks) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    {
        ContextVar<C> v("v");
        auto child = [&]() -> Coro<int> {
            co_await asyncio::sleep(1);
            co_return v.get().value;
        };
        auto main = [&]() -> Coro<> {
            v.set(C(1));
            Task<int> t = asyncio::create_task(child());
            v.set(C(2));  // the child's copy still holds 1
            EXPECT_EQ(C::live(), 2);
            EXPECT_EQ(co_await t, 1);
        };
        support::run_virtual(main());
    }
    EXPECT_EQ(C::live(), 0);
}

// An eager task's first step runs inside create_task, in the task's own
// copy: what it sets there stays in it, also under Context::run.
TEST(task_context, eager_task_runs_its_first_step_in_its_own_context) {
    ContextVar<int> v("v", 0);
    auto child = [&]() -> Coro<int> {
        const int seen = v.get();
        v.set(seen + 1);
        co_await asyncio::sleep(0);
        co_return v.get();
    };
    auto main = [&]() -> Coro<> {
        v.set(10);
        TaskOptions eager;
        eager.eager_start = true;
        Task<int> a = asyncio::create_task(child(), eager);
        EXPECT_EQ(v.get(), 10);
        Context ctx;
        ctx.run([&] { v.set(20); });
        Task<int> b = ctx.run([&] {
            TaskOptions o;
            o.eager_start = true;
            Task<int> t = asyncio::create_task(child(), o);
            EXPECT_EQ(v.get(), 20);  // the child's set() did not reach ctx
            return t;
        });
        EXPECT_EQ(ctx[v], 20);
        EXPECT_EQ(co_await a, 11);
        EXPECT_EQ(co_await b, 21);
    };
    support::run_virtual(main());
}

TEST(task_context, lookup_error_in_a_task) {
    ContextVar<int> v("v");
    auto main = [&]() -> Coro<> {
        EXPECT_THROW_MSG(v.get(), asyncio::LookupError, v.repr());
        auto t = v.set(1);
        EXPECT_EQ(v.get(), 1);
        v.reset(t);
        EXPECT_THROW(v.get(), asyncio::LookupError);
        co_return;
    };
    support::run_virtual(main());
}

// A token made in one task cannot reset in another (their contexts differ).
TEST(task_context, token_from_another_task_is_refused) {
    ContextVar<int> v("v");
    auto main = [&]() -> Coro<> {
        std::optional<ContextVar<int>::Token> token;
        auto maker = [&]() -> Coro<> {
            token.emplace(v.set(1));
            co_return;
        };
        Task<> t = asyncio::create_task(maker());
        co_await t;
        EXPECT_THROW_MSG(v.reset(*token), asyncio::ValueError,
                         token->repr() + " was created in a different Context");
    };
    support::run_virtual(main());
}

}  // namespace
