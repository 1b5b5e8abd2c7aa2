// coro_test.cpp — asyncio/coro.hpp: Coro<T> (laziness, results, exceptions,
// single use, frame lifetimes, bounded stack), co_invoke, is_coroutine_v.
//
// Python reference: PEP 492 coroutines as asyncio drives them
// (test_pep492.py, test_tasks.py).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"

using asyncio::Coro;
using support::Counted;
using support::Trace;

namespace {

struct SpamError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Coro<int> answer(Trace& trace) {
    trace("answer");
    co_return 42;
}

Coro<void> note(Trace& trace, std::string what) {
    trace(what);
    co_return;
}

// ---------------------------------------------------------- laziness, results

Coro<int> lazy_main(Trace& trace) {
    Coro<int> c = answer(trace);
    trace("called");
    const int v = co_await c;
    trace("awaited");
    co_return v;
}

TEST(coro, calling_runs_nothing_until_awaited) {
    Trace trace;
    Coro<int> c = answer(trace);
    EXPECT_TRUE(trace.empty());
    EXPECT_FALSE(c.awaited());
    c = Coro<int>();  // destroyed without running
    EXPECT_TRUE(trace.empty());

    EXPECT_EQ(asyncio::testing::run(lazy_main(trace)), 42);
    EXPECT_EQ(trace.str(), "called answer awaited");
}

Coro<int> throws_before_first_await() {
    throw SpamError("early");
    co_return 0;
}

Coro<std::string> lazy_exception_main(Trace& trace) {
    Coro<int> c = throws_before_first_await();  // must not throw here
    trace("called");
    try {
        co_await c;
    } catch (const SpamError& e) {
        trace("caught");
        co_return e.what();
    }
    co_return "nothing thrown";
}

TEST(coro, body_exception_surfaces_at_await_not_at_call) {
    Trace trace;
    EXPECT_EQ(asyncio::testing::run(lazy_exception_main(trace)), "early");
    EXPECT_EQ(trace.str(), "called caught");
}

Coro<std::string> greet(std::string who) {
    co_await asyncio::sleep(0);
    co_return "hello " + who;
}

Coro<void> void_main(Trace& trace) {
    co_await note(trace, "one");
    co_await asyncio::sleep(0);
    co_await note(trace, "two");
    trace(co_await greet("world"));
}

TEST(coro, returns_values_and_void) {
    Trace trace;
    asyncio::testing::run(void_main(trace));
    EXPECT_EQ(trace.str(), "one two hello world");
    EXPECT_EQ(asyncio::testing::run(greet("you")), "hello you");
}

// ----------------------------------------------------------------- exceptions

Coro<int> level3() {
    co_await asyncio::sleep(0);
    throw SpamError("spam from level 3");
}
Coro<int> level2() {
    co_return co_await level3() + 1;
}
Coro<int> level1() {
    co_return co_await level2() + 1;
}

Coro<std::string> catch_at_top() {
    try {
        co_await level1();
    } catch (const SpamError& e) {
        co_return std::string("caught: ") + e.what();
    }
    co_return "nothing thrown";
}

TEST(coro, exception_propagates_through_levels_with_type_and_message) {
    EXPECT_EQ(asyncio::testing::run(catch_at_top()), "caught: spam from level 3");
    // And out of run() itself, still a SpamError.
    EXPECT_THROW_MSG(asyncio::testing::run(level1()), SpamError, "spam from level 3");
}

Coro<int> non_std_thrower() {
    co_await asyncio::sleep(0);
    throw 7;
}
Coro<int> non_std_middle() {
    co_return co_await non_std_thrower();
}

TEST(coro, non_standard_exception_object_propagates) {
    bool caught = false;
    try {
        asyncio::testing::run(non_std_middle());
    } catch (int v) {
        caught = (v == 7);
    }
    EXPECT_TRUE(caught);
}

// ------------------------------------------------------------------ reuse

Coro<void> await_twice(Trace& trace) {
    Coro<int> c = answer(trace);
    trace(co_await c);
    EXPECT_TRUE(c.awaited());
    EXPECT_THROW_MSG(co_await c, asyncio::RuntimeError, "cannot reuse already awaited coroutine");
    // Nor can an awaited coroutine become a task.
    EXPECT_THROW_MSG(asyncio::create_task(std::move(c)), asyncio::RuntimeError,
                     "cannot reuse already awaited coroutine");
}

TEST(coro, awaiting_twice_raises_runtime_error) {
    Trace trace;
    asyncio::testing::run(await_twice(trace));
    EXPECT_EQ(trace.str(), "answer 42");  // the body ran once
}

// --------------------------------------------------------- move-only results

Coro<std::unique_ptr<int>> make_box(int v) {
    co_await asyncio::sleep(0);
    co_return std::make_unique<int>(v);
}
Coro<std::unique_ptr<int>> pass_box(int v) {
    std::unique_ptr<int> p = co_await make_box(v);
    *p += 1;
    co_return p;  // implicit move
}
Coro<int> unbox() {
    std::unique_ptr<int> p = co_await pass_box(41);
    co_return p ? *p : -1;
}

TEST(coro, move_only_results_pass_through_co_await) {
    static_assert(!std::is_copy_constructible_v<std::unique_ptr<int>>);
    EXPECT_EQ(asyncio::testing::run(unbox()), 42);
}

Coro<int> counted_result_main() {
    Counted c = co_await [](int v) -> Coro<Counted> { co_return Counted(v); }(5);
    co_return c.value;
}

TEST(coro, result_is_moved_not_copied) {
    Counted::reset();
    EXPECT_EQ(asyncio::testing::run(counted_result_main()), 5);
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_EQ(Counted::copies(), 0);
}

// -------------------------------------------------------------- frame lifetime

Coro<int> uses_counted(Counted param, bool& ran) {
    ran = true;
    Counted local(2);
    co_return param.value + local.value;
}

TEST(coro, destroying_an_unawaited_coro_destroys_its_parameters_and_runs_nothing) {
    Counted::reset();
    bool ran = false;
    {
        Coro<int> c = uses_counted(Counted(1), ran);
        EXPECT_EQ(Counted::live(), 1);  // the frame's copy of the parameter
        EXPECT_FALSE(ran);
    }
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_FALSE(ran);

    // Move assignment destroys the frame it replaces.
    Coro<int> a = uses_counted(Counted(1), ran);
    Coro<int> b = uses_counted(Counted(2), ran);
    EXPECT_EQ(Counted::live(), 2);
    a = std::move(b);
    EXPECT_EQ(Counted::live(), 1);
    EXPECT_FALSE(static_cast<bool>(b));  // NOLINT(bugprone-use-after-move)
    a = Coro<int>();
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_FALSE(ran);
}

Coro<int> await_counted(bool& ran) {
    co_return co_await uses_counted(Counted(40), ran);
}

TEST(coro, awaited_coro_frame_is_destroyed_after_it_returns) {
    Counted::reset();
    bool ran = false;
    EXPECT_EQ(asyncio::testing::run(await_counted(ran)), 42);
    EXPECT_TRUE(ran);
    EXPECT_EQ(Counted::live(), 0);
}

// ------------------------------------------------------------ bounded stack

// The address of a frame on the machine stack, from a function that cannot be
// inlined into a coroutine's resume function.
[[gnu::noinline]] std::uintptr_t stack_mark() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

struct StackSpread {
    std::uintptr_t lo = UINTPTR_MAX;
    std::uintptr_t hi = 0;
    void mark() {
        const std::uintptr_t p = stack_mark();
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    std::uintptr_t spread() const { return hi - lo; }
};

Coro<int> leaf(int i, StackSpread& s) {
    if ((i & 0xFFFF) == 0) s.mark();
    co_return i & 1;
}

Coro<long> million_awaits(StackSpread& s) {
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await leaf(i, s);
    co_return sum;
}

TEST(coro, million_synchronous_awaits_do_not_grow_the_stack) {
    StackSpread s;
    EXPECT_EQ(asyncio::testing::run(million_awaits(s)), 500'000);
    // Each leaf runs at the same depth: a symmetric-transfer chain compiled as
    // real calls would have moved by ~100 bytes per await.
    EXPECT_LT(s.spread(), 4096u);
}

Coro<int> nested(int depth, StackSpread& s) {
    s.mark();
    if (depth == 0) co_return 0;
    co_return 1 + co_await nested(depth - 1, s);
}

TEST(coro, hundred_thousand_nested_awaits_do_not_grow_the_stack) {
    StackSpread s;
    EXPECT_EQ(asyncio::testing::run(nested(100'000, s)), 100'000);
    // Up to kMaxEagerDepth levels run as nested calls (about 400 bytes each
    // at -O0 and under ASan, 100 at -O2); the 100,000 levels as calls would
    // take megabytes.
    EXPECT_LT(s.spread(), 4096u + asyncio::detail::kMaxEagerDepth * 1024u);
}

Coro<int> nested_throw(int depth) {
    if (depth == 0) {
        co_await asyncio::sleep(0);
        throw SpamError("bottom");
    }
    co_return co_await nested_throw(depth - 1);
}

TEST(coro, exception_unwinds_hundred_thousand_nested_awaits) {
    EXPECT_THROW_MSG(asyncio::testing::run(nested_throw(100'000)), SpamError, "bottom");
}

// ----------------------------------------- awaiting a Coro runs it as a call
// CoroAwaiter runs an awaited Coro from the parent's await_suspend, up to
// kMaxEagerDepth levels of such calls, and hands deeper ones to the task's
// trampoline. These chains cross that limit several times and suspend at
// different depths; what Python does is the reference for each.

constexpr int kDeep = 3 * static_cast<int>(asyncio::detail::kMaxEagerDepth) + 5;

Coro<int> rec_yielding(int n, std::string& log) {
    if (n == 0) {
        co_await asyncio::sleep(0);
        log += 'a';
        co_return 0;
    }
    const int r = co_await rec_yielding(n - 1, log);
    co_await asyncio::sleep(0);
    log += 'a';
    co_return r + 1;
}

Coro<void> other_yielding(int k, std::string& log) {
    for (int i = 0; i < k; ++i) {
        log += 'b';
        co_await asyncio::sleep(0);
    }
}

Coro<int> interleave_main(std::string& log) {
    asyncio::Task<int> t = asyncio::create_task(rec_yielding(kDeep, log));
    asyncio::Task<> u = asyncio::create_task(other_yielding(kDeep + 5, log));
    const int r = co_await t;
    co_await u;
    co_return r;
}

// Python 3.13, kDeep = 40: "b" + "ab" * 41 + "bbb". Awaiting a coroutine
// never gives up the loop by itself; only the sleeps do, once per level.
TEST(coro, chain_yielding_at_every_level_interleaves_with_another_task_as_python) {
    std::string log;
    EXPECT_EQ(asyncio::testing::run(interleave_main(log)), kDeep);
    std::string expected = "b";
    for (int i = 0; i <= kDeep; ++i) expected += "ab";
    expected += "bbb";
    EXPECT_EQ(log, expected);
}

Coro<int> rec_on_future(int n, asyncio::Future<int> f) {
    if (n == 0) co_return co_await f;
    co_return 1 + co_await rec_on_future(n - 1, f);
}

Coro<int> bottom_future_main() {
    asyncio::Future<int> f = asyncio::get_running_loop().create_future<int>();
    asyncio::Task<int> t = asyncio::create_task(rec_on_future(kDeep, f));
    co_await asyncio::sleep(0);
    EXPECT_FALSE(t.done());
    f.set_result(100);
    co_return co_await t;
}

TEST(coro, chain_suspended_at_the_bottom_returns_through_every_level) {
    EXPECT_EQ(asyncio::testing::run(bottom_future_main()), 100 + kDeep);
}

Coro<void> rec_cancelled(int n, asyncio::Future<void> f, std::vector<int>& order) {
    try {
        if (n == 0)
            co_await f;
        else
            co_await rec_cancelled(n - 1, f, order);
    } catch (const asyncio::CancelledError&) {
        order.push_back(n);
        throw;
    }
}

Coro<std::vector<int>> deep_cancel_main() {
    std::vector<int> order;
    asyncio::Future<void> f = asyncio::get_running_loop().create_future<void>();
    asyncio::Task<> t = asyncio::create_task(rec_cancelled(kDeep, f, order));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancel());
    try {
        co_await t;
        ADD_FAILURE() << "the task was not cancelled";
    } catch (const asyncio::CancelledError&) {
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(f.cancelled());  // a task cancels the future it waits on
    co_return order;
}

TEST(coro, cancelling_a_task_deep_in_a_chain_unwinds_every_level_innermost_first) {
    const std::vector<int> order = asyncio::testing::run(deep_cancel_main());
    std::vector<int> expected;
    for (int i = 0; i <= kDeep; ++i) expected.push_back(i);
    EXPECT_EQ(order, expected);
}

// A child that suspends, is resumed by the trampoline, then awaits more
// children that return at once: each level's result arrives once, in order.
Coro<int> sync_child(int i, Trace& trace) {
    trace("sync", i);
    co_return i;
}

Coro<int> mixed(int n, Trace& trace) {
    if (n == 0) {
        co_await asyncio::sleep(0);
        co_return co_await sync_child(0, trace);
    }
    int r = co_await mixed(n - 1, trace);
    r += co_await sync_child(n, trace);
    co_return r;
}

TEST(coro, children_awaited_after_a_suspension_run_once_each_in_order) {
    Trace trace;
    constexpr int n = static_cast<int>(asyncio::detail::kMaxEagerDepth) + 3;
    EXPECT_EQ(asyncio::testing::run(mixed(n, trace)), n * (n + 1) / 2);
    std::vector<std::string> expected;
    for (int i = 0; i <= n; ++i) expected.push_back("sync" + std::to_string(i));
    EXPECT_EQ(trace.events(), expected);
}

// ------------------------------------------------------------------ co_invoke

Coro<int> co_invoke_reference_capture() {
    int base = 40;
    Trace trace;
    // Reference captures may share a full-expression with co_await.
    const int r = co_await asyncio::co_invoke([&]() -> Coro<int> {
        co_await asyncio::sleep(0);
        trace("ran");
        co_return base + 2;
    });
    EXPECT_EQ(trace.str(), "ran");
    co_return r;
}

TEST(co_invoke, lambda_capturing_by_reference) {
    EXPECT_EQ(asyncio::testing::run(co_invoke_reference_capture()), 42);
}

Coro<int> co_invoke_value_capture_task() {
    int x = 40;
    // The lambda temporary dies at the end of this statement; the task must
    // run on co_invoke's copy (captures included).
    asyncio::Task<int> t =
        asyncio::create_task(asyncio::co_invoke([x, c = Counted(2)]() -> Coro<int> {
            co_await asyncio::sleep(0);
            co_await asyncio::sleep(0);
            co_return x + c.value;
        }));
    EXPECT_GE(Counted::live(), 1);
    co_return co_await t;
}

TEST(co_invoke, lambda_with_value_captures_handed_to_create_task) {
    Counted::reset();
    EXPECT_EQ(asyncio::testing::run(co_invoke_value_capture_task()), 42);
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_EQ(Counted::constructed(), Counted::destroyed());
}

Coro<int> co_invoke_value_capture_awaited() {
    int x = 40;
    // Awaited directly: make the Coro in its own statement. (Writing
    // `co_await co_invoke([x, c] ...)` puts the value-capturing lambda
    // temporary in the co_await's full-expression, which g++ 12 destroys
    // twice; co_invoke cannot help there.)
    Coro<int> c = asyncio::co_invoke([x, k = Counted(2)]() -> Coro<int> {
        co_await asyncio::sleep(0);
        co_return x + k.value;
    });
    co_return co_await c;
}

TEST(co_invoke, lambda_with_value_captures_awaited_from_a_named_coro) {
    Counted::reset();
    EXPECT_EQ(asyncio::testing::run(co_invoke_value_capture_awaited()), 42);
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_EQ(Counted::constructed(), Counted::destroyed());
}

Coro<int> add_counted(Counted a, int b) {
    co_await asyncio::sleep(0);
    co_return a.value + b;
}

Coro<int> co_invoke_function_and_args() {
    // f, args... spelling: no capturing lambda at all.
    asyncio::Task<int> t = asyncio::create_task(asyncio::co_invoke(add_counted, Counted(40), 2));
    const int direct = co_await asyncio::co_invoke(add_counted, Counted(1), 1);
    auto lambda = [](Counted c, std::string s) -> Coro<int> {
        co_await asyncio::sleep(0);
        co_return c.value + static_cast<int>(s.size());
    };
    asyncio::Task<int> t2 =
        asyncio::create_task(asyncio::co_invoke(lambda, Counted(3), std::string("abcd")));
    co_return co_await t + direct + co_await t2;  // 42 + 2 + 7
}

TEST(co_invoke, function_with_arguments) {
    Counted::reset();
    EXPECT_EQ(asyncio::testing::run(co_invoke_function_and_args()), 51);
    EXPECT_EQ(Counted::live(), 0);
}

Coro<void> co_invoke_void(Trace& trace) {
    asyncio::Task<void> t = asyncio::create_task(asyncio::co_invoke(
        [&trace](int n) -> Coro<void> {
            co_await asyncio::sleep(0);
            trace("void", n);
        },
        7));
    co_await t;
}

TEST(co_invoke, void_coroutine) {
    Trace trace;
    asyncio::testing::run(co_invoke_void(trace));
    EXPECT_EQ(trace.str(), "void7");
}

TEST(co_invoke, frame_owns_callable_until_destroyed_unrun) {
    Counted::reset();
    bool ran = false;
    {
        Coro<int> c = asyncio::co_invoke([&ran, k = Counted(1)]() -> Coro<int> {
            ran = true;
            co_return k.value;
        });
        EXPECT_EQ(Counted::live(), 1);  // the lambda temporary is gone; the copy remains
    }
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_FALSE(ran);
}

// ----------------------------------------------------------- is_coroutine_v

Coro<int> plain() {
    co_return 1;
}

TEST(coro, is_coroutine_recognises_coro_only) {
    static_assert(asyncio::is_coroutine_v<Coro<int>>);
    static_assert(asyncio::is_coroutine_v<Coro<>>);
    static_assert(asyncio::is_coroutine_v<const Coro<std::string>&>);
    static_assert(!asyncio::is_coroutine_v<int>);
    static_assert(!asyncio::is_coroutine_v<asyncio::Task<int>>);
    static_assert(!asyncio::is_coroutine_v<asyncio::Future<int>>);
    static_assert(!asyncio::is_coroutine_v<decltype(&plain)>);

    Coro<int> c = plain();
    EXPECT_TRUE(asyncio::iscoroutine(c));
    EXPECT_FALSE(asyncio::iscoroutine(42));
    EXPECT_FALSE(asyncio::iscoroutine(&plain));  // the function is not a coroutine object
    EXPECT_FALSE(asyncio::iscoroutine(asyncio::Task<int>()));
}

// --------------------------------------------------------- runs in its task

Coro<bool> child_sees_task(const asyncio::TaskRef& expected, Trace& trace) {
    const bool before = asyncio::current_task() == expected;
    co_await asyncio::sleep(0);  // and still after a suspension
    const bool after = asyncio::current_task() == expected;
    trace("child", before, after);
    co_return before&& after;
}

Coro<bool> parent_of_child(Trace& trace) {
    asyncio::TaskRef me = asyncio::current_task();
    EXPECT_TRUE(static_cast<bool>(me));
    const std::size_t tasks_before = asyncio::all_tasks().size();
    const bool ok = co_await child_sees_task(me, trace);
    EXPECT_LE(asyncio::all_tasks().size(), tasks_before);  // no task was made
    co_return ok;
}

Coro<void> two_tasks_two_children(Trace& trace, bool& ok) {
    auto a = asyncio::create_task(parent_of_child(trace));
    auto b = asyncio::create_task(parent_of_child(trace));
    ok = (co_await a) && (co_await b);
}

TEST(coro, awaited_coro_runs_in_the_awaiting_task) {
    Trace trace;
    EXPECT_TRUE(asyncio::testing::run(parent_of_child(trace)));
    EXPECT_EQ(trace.str(), "child11");

    bool ok = false;
    trace.clear();
    asyncio::testing::run(two_tasks_two_children(trace, ok));
    EXPECT_TRUE(ok);
    EXPECT_EQ(trace.str(), "child11 child11");
}

}  // namespace
