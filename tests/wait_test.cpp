// wait_test.cpp — asyncio/wait.hpp: wait() with ALL_COMPLETED,
// FIRST_COMPLETED and FIRST_EXCEPTION, timeouts, duplicates, errors,
// cancellation of the waiter, the iterations a wait takes, and lifetimes.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (3.13): test_wait*.
// CPython's test loops check each timer deadline through a generator; here
// the virtual clock's time after each wait says the same.
#include <gtest/gtest.h>

#include <cmath>
#include <forward_list>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "asyncio.hpp"
#include "support/capture_handler.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::CaptureHandler;
using support::Trace;

namespace {

Coro<> sleeper(double seconds) {
    co_await asyncio::sleep(seconds);
}
Coro<int> value(int v) {
    co_return v;
}
Coro<> raise_after(double seconds, std::string msg) {
    co_await asyncio::sleep(seconds);
    throw std::domain_error(msg);
}
Coro<> raise_now(std::string msg) {
    throw std::domain_error(msg);
    co_return;
}

void run_loop(EventLoop& loop) {
    for (int i = 0; i < 4; ++i) support::run_briefly(loop);
}

}  // namespace

// wait() only takes tasks and futures: coroutines are a compile error.
template <class R>
concept can_wait = requires(R r) {
    asyncio::wait(r);
};
static_assert(can_wait<std::vector<Task<int>>>);
static_assert(can_wait<std::vector<Future<>>>);
static_assert(can_wait<std::list<TaskRef>>);
static_assert(!can_wait<std::vector<Coro<int>>>);
static_assert(!can_wait<Task<int>>);  // one task is not a range (CPython: TypeError)

// CPython: test_tasks.py::BaseTaskTests::test_wait
TEST(wait, all_completed_waits_for_every_future) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(0.1));
    Task<> b = loop->create_task(sleeper(0.15));
    auto foo = [&]() -> Coro<int> {
        std::vector<Task<>> fs{b, a};
        auto [done, pending] = co_await asyncio::wait(fs);
        EXPECT_EQ(done, fs);  // input order
        EXPECT_TRUE(pending.empty());
        co_return 42;
    };
    EXPECT_EQ(loop->run_until_complete(foo()), 42);
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
    // Doing it again takes no time and exercises a different path.
    EXPECT_EQ(loop->run_until_complete(foo()), 42);
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_duplicate_coroutines
TEST(wait, duplicates_are_merged) {
    auto loop = support::new_virtual_loop();
    Task<int> c = loop->create_task(value(1));
    Task<int> d = loop->create_task(value(2));
    std::vector<Task<int>> fs{c, c, d, c};
    auto [done, pending] = loop->run_until_complete(asyncio::wait(fs));
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(done, (std::vector<Task<int>>{c, d}));
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_errors
// CPython: test_tasks.py::BaseTaskTests::test_wait_invalid_args
TEST(wait, empty_set_and_bad_return_when_raise_value_error_when_awaited) {
    auto loop = support::new_virtual_loop();
    std::vector<Task<>> none;
    auto coro = asyncio::wait(none);  // nothing raised yet: wait() is a coroutine
    EXPECT_THROW_MSG(loop->run_until_complete(std::move(coro)), ValueError,
                     "Set of Tasks/Futures is empty.");
    Task<> t = loop->create_task(sleeper(10));
    std::vector<Task<>> one{t};
    EXPECT_THROW_MSG(
        loop->run_until_complete(asyncio::wait(one, {.return_when = static_cast<ReturnWhen>(-1)})),
        ValueError, "Invalid return_when value: -1");
    t.cancel();
    run_loop(*loop);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_first_completed
TEST(wait, first_completed_returns_at_the_first_completion) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(10.0));
    Task<> b = loop->create_task(sleeper(0.1));
    std::vector<Task<>> fs{b, a};
    auto [done, pending] =
        loop->run_until_complete(asyncio::wait(fs, {.return_when = FIRST_COMPLETED}));
    EXPECT_EQ(done, (std::vector<Task<>>{b}));
    EXPECT_EQ(pending, (std::vector<Task<>>{a}));
    EXPECT_FALSE(a.done());
    EXPECT_TRUE(b.done());
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    // move forward to close generator
    loop->run_until_complete(asyncio::wait(fs));
    EXPECT_DOUBLE_EQ(loop->time(), 10.0);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_really_done
TEST(wait, first_completed_sees_what_completed_in_the_same_iterations) {
    auto loop = support::new_virtual_loop();
    auto coro1 = []() -> Coro<> { co_await asyncio::sleep(0); };
    auto coro2 = []() -> Coro<> {
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    };
    Task<> a = loop->create_task(coro1());
    Task<> b = loop->create_task(coro2());
    std::vector<Task<>> fs{b, a};
    auto [done, pending] =
        loop->run_until_complete(asyncio::wait(fs, {.return_when = FIRST_COMPLETED}));
    EXPECT_EQ(done, (std::vector<Task<>>{b, a}));
    EXPECT_TRUE(pending.empty());
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_first_exception
TEST(wait, first_exception_returns_at_once_for_a_task_that_fails_at_once) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(10.0));
    Task<> b = loop->create_task(raise_now("err"));
    std::vector<Task<>> fs{b, a};
    auto [done, pending] =
        loop->run_until_complete(asyncio::wait(fs, {.return_when = FIRST_EXCEPTION}));
    EXPECT_EQ(done, (std::vector<Task<>>{b}));
    EXPECT_EQ(pending, (std::vector<Task<>>{a}));
    EXPECT_DOUBLE_EQ(loop->time(), 0);
    a.cancel();
    run_loop(*loop);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_first_exception_in_wait
TEST(wait, first_exception_returns_when_a_future_fails_during_the_wait) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(10.0));
    Task<> b = loop->create_task(raise_after(0.01, "err"));
    std::vector<Task<>> fs{b, a};
    auto [done, pending] =
        loop->run_until_complete(asyncio::wait(fs, {.return_when = FIRST_EXCEPTION}));
    EXPECT_EQ(done, (std::vector<Task<>>{b}));
    EXPECT_EQ(pending, (std::vector<Task<>>{a}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.01);
    a.cancel();
    run_loop(*loop);
}

TEST(wait, first_exception_is_all_completed_when_nothing_fails) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(0.2));
    Task<> b = loop->create_task(sleeper(0.1));
    Task<> c = loop->create_task(sleeper(5));
    c.cancel();  // a cancellation is not an exception here
    std::vector<Task<>> fs{a, b, c};
    auto [done, pending] =
        loop->run_until_complete(asyncio::wait(fs, {.return_when = FIRST_EXCEPTION}));
    EXPECT_EQ(done, fs);
    EXPECT_TRUE(pending.empty());
    EXPECT_DOUBLE_EQ(loop->time(), 0.2);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_with_exception
TEST(wait, all_completed_never_raises_the_futures_errors) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(0.1));
    Task<> b = loop->create_task(raise_after(0.15, "really"));
    auto foo = [&]() -> Coro<> {
        std::vector<Task<>> fs{b, a};
        auto [done, pending] = co_await asyncio::wait(fs);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
        int errors = 0;
        for (const Task<>& f : done) errors += f.exception() != nullptr;
        EXPECT_EQ(errors, 1);
    };
    loop->run_until_complete(foo());
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
    loop->run_until_complete(foo());
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_with_timeout
TEST(wait, timeout_returns_what_is_pending_without_cancelling_or_raising) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(0.1));
    Task<> b = loop->create_task(sleeper(0.15));
    auto foo = [&]() -> Coro<> {
        std::vector<Task<>> fs{b, a};
        auto [done, pending] = co_await asyncio::wait(fs, {.timeout = 0.11});
        EXPECT_EQ(done, (std::vector<Task<>>{a}));
        EXPECT_EQ(pending, (std::vector<Task<>>{b}));
        EXPECT_FALSE(b.cancelled());
    };
    loop->run_until_complete(foo());
    EXPECT_DOUBLE_EQ(loop->time(), 0.11);
    loop->run_until_complete(b);
    EXPECT_DOUBLE_EQ(loop->time(), 0.15);
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_concurrent_complete
TEST(wait, timeout_and_completion_at_the_same_time) {
    auto loop = support::new_virtual_loop();
    Task<> a = loop->create_task(sleeper(0.1));
    Task<> b = loop->create_task(sleeper(0.15));
    std::vector<Task<>> fs{b, a};
    auto [done, pending] = loop->run_until_complete(asyncio::wait(fs, {.timeout = 0.1}));
    EXPECT_EQ(done, (std::vector<Task<>>{a}));
    EXPECT_EQ(pending, (std::vector<Task<>>{b}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
    loop->run_until_complete(b);
}

TEST(wait, zero_timeout_returns_after_one_iteration) {
    support::run_virtual([]() -> Coro<> {
        Task<> a = create_task(sleeper(1));
        std::vector<Task<>> fs{a};
        auto [done, pending] = co_await asyncio::wait(fs, {.timeout = 0});
        EXPECT_TRUE(done.empty());
        EXPECT_EQ(pending.size(), 1u);
        EXPECT_EQ(get_running_loop().time(), 0);
        co_await a;
    }());
}

TEST(wait, unused_timeout_leaves_no_timer_behind) {
    support::run_virtual([]() -> Coro<> {
        Task<int> a = create_task(value(1));
        std::vector<Task<int>> fs{a};
        auto r = co_await asyncio::wait(fs, {.timeout = std::chrono::hours(1)});
        EXPECT_EQ(r.done.size(), 1u);
        co_await asyncio::sleep(0.5);
        // The clock went to 0.5, not to the dead timeout an hour away.
        EXPECT_EQ(get_running_loop().time(), 0.5);
    }());
}

// CPython: test_tasks.py::BaseTaskTests::test_wait_with_iterator_of_tasks
// CPython: test_tasks.py::BaseTaskTests::test_wait_generator
TEST(wait, takes_any_range_of_tasks_futures_or_task_refs) {
    support::run_virtual([]() -> Coro<> {
        std::forward_list<Task<int>> tasks;  // no size()
        for (int i = 0; i < 10; ++i) tasks.push_front(create_task(value(i)));
        auto r = co_await asyncio::wait(tasks, {.return_when = ALL_COMPLETED});
        EXPECT_EQ(r.done.size(), 10u);
        EXPECT_EQ(r.pending.size(), 0u);

        std::list<TaskRef> refs{create_task(value(1)), create_task(sleeper(1))};
        auto [done, pending] = co_await asyncio::wait(refs, {.return_when = FIRST_COMPLETED});
        static_assert(std::is_same_v<decltype(done), std::vector<TaskRef>>);
        EXPECT_EQ(done.front(), refs.front());
        EXPECT_EQ(pending.front(), refs.back());

        Future<std::string> f = get_running_loop().create_future<std::string>();
        get_running_loop().call_later(0.5, [f] { f.set_result("x"); });
        std::vector<Future<std::string>> futs{f};
        auto fr = co_await asyncio::wait(futs);
        EXPECT_EQ(fr.done.front().result(), "x");
        co_await asyncio::wait(std::move(refs));  // an rvalue vector is moved in
    }());
}

TEST(wait, cancelling_the_waiter_leaves_the_futures_alone) {
    support::run_virtual([]() -> Coro<> {
        Task<> a = create_task(sleeper(1));
        Future<int> f = get_running_loop().create_future<int>();
        auto waiter = [&]() -> Coro<> {
            std::vector<TaskRef> fs{a};
            co_await asyncio::wait(fs);
        };
        Task<> w = create_task(waiter());
        std::vector<Future<int>> futs{f};
        Task<WaitResult<Future<int>>> w2 = create_task(asyncio::wait(futs, {.timeout = 5}));
        co_await asyncio::sleep(0.1);
        EXPECT_TRUE(w.cancel("stop"));
        EXPECT_TRUE(w2.cancel());
        EXPECT_THROW_MSG(co_await w, CancelledError, "stop");
        EXPECT_THROW(co_await w2, CancelledError);
        EXPECT_FALSE(a.done());
        EXPECT_FALSE(f.done());
        co_await a;
        EXPECT_EQ(get_running_loop().time(), 1);  // the timeout of w2 went with it
        f.set_result(1);
    }());
}

TEST(wait, first_exception_marks_the_error_retrieved_as_cpython) {
    // CPython's _on_completion calls exception() only for FIRST_EXCEPTION,
    // and only when the counter has not reached 0.
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    auto run = [&](ReturnWhen rw) {
        Task<> f = loop->create_task(raise_after(0, "e"));
        Task<> s = loop->create_task(sleeper(1));
        std::vector<Task<>> fs{f, s};
        loop->run_until_complete(asyncio::wait(fs, {.return_when = rw}));
        s.cancel();
    };
    run(FIRST_EXCEPTION);
    run_loop(*loop);
    EXPECT_TRUE(cap.empty());
    run(ALL_COMPLETED);
    run_loop(*loop);
    EXPECT_EQ(cap.messages(), (std::vector<std::string>{"Task exception was never retrieved"}));
}

TEST(wait, nan_timeout_is_a_value_error_when_awaited) {
    support::run_virtual([]() -> Coro<> {
        Future<int> f = get_running_loop().create_future<int>();
        std::vector<Future<int>> fs{f};
        EXPECT_THROW_MSG(co_await asyncio::wait(fs, {.timeout = std::nan("")}), ValueError,
                         "call_at(): when is NaN");
        f.set_result(1);  // nothing of the failed wait may run (ASan)
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    }());
}

TEST(wait, braced_options_next_to_co_await) {
    // WaitOptions is trivially destructible: g++ 12's double destruction of
    // a temporary aggregate beside co_await cannot hurt it (ASan run).
    support::run_virtual([]() -> Coro<> {
        std::vector<Task<int>> fs{create_task(value(1)), create_task(value(2))};
        auto r = co_await asyncio::wait(fs, {.timeout = 1.5, .return_when = FIRST_COMPLETED});
        EXPECT_EQ(r.done.size() + r.pending.size(), 2u);
        auto r2 = co_await asyncio::wait(fs, {.timeout = std::chrono::milliseconds(10)});
        EXPECT_EQ(r2.done.size(), 2u);
    }());
}

// ------------------------------------------------ iterations, as CPython

// CPython 3.13 prints, for the same program:
//   tick0 tick1 child1 tick2 tick3 waited 1 1 child2 tick4 tick5 tick6 tick7
TEST(wait, takes_the_same_iterations_as_cpython) {
    Trace trace;
    auto child = [&](int i, int n) -> Coro<int> {
        for (int k = 0; k < n; ++k) co_await asyncio::sleep(0);
        trace("child", i);
        co_return i;
    };
    auto ticker = [&]() -> Coro<> {
        for (int k = 0; k < 8; ++k) {
            trace("tick", k);
            co_await asyncio::sleep(0);
        }
    };
    support::run_virtual([&]() -> Coro<> {
        Task<> t = create_task(ticker());
        std::vector<Task<int>> fs{create_task(child(1, 1)), create_task(child(2, 3))};
        auto [done, pending] = co_await asyncio::wait(fs, {.return_when = FIRST_COMPLETED});
        trace("waited ", done.size(), " ", pending.size());
        co_await t;
        co_await fs[1];
    }());
    EXPECT_EQ(trace.str(),
              "tick0 tick1 child1 tick2 tick3 waited 1 1 child2 tick4 tick5 tick6 tick7");
}

// ------------------------------------------------ lifetimes

TEST(wait, waiter_cancelled_while_a_completion_is_queued) {
    // The waiting task is woken by its cancellation before the completion
    // callback queued behind it runs: the callback must find nothing freed
    // (ASan run).
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    std::vector<Future<int>> fs{f};
    Task<WaitResult<Future<int>>> w = loop->create_task(asyncio::wait(fs));
    support::run_once(*loop);
    w.cancel();       // the task is queued first...
    f.set_result(1);  // ...then the completion callback
    run_loop(*loop);
    EXPECT_TRUE(w.cancelled());
}

TEST(wait, pending_wait_destroyed_with_its_loop) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Future<int> f = loop->create_future<int>();
    std::vector<Future<int>> fs{f};
    loop->create_task(asyncio::wait(fs, {.timeout = 100}));
    run_loop(*loop);
    loop->close();
    EXPECT_FALSE(f.done());
}
