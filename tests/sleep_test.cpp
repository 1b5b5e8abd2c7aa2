// sleep_test.cpp — asyncio/sleep.hpp: asyncio.sleep on the virtual clock.
//
// Python reference: Lib/asyncio/tasks.py::sleep and the sleep tests in
// test_tasks.py. Orderings were checked against CPython 3.13 (scenarios in
// the comments).
#include <gtest/gtest.h>
#include <unistd.h>  // POSIX ::sleep(unsigned): must not be what `sleep(1)` picks

#include <asyncio.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Coro;
using support::Trace;
using namespace std::chrono_literals;

namespace {

// -------------------------------------------------------------- sleep(0)

// Python 3.13:
//     ticks = 0
//     def tick(): global ticks; ticks += 1; loop.call_soon(tick)
//     loop.call_soon(tick)
//     for _ in range(4): await asyncio.sleep(0); out.append(ticks)
//     # out == [1, 2, 3, 4]
Coro<std::vector<int>> count_iterations_per_yield(double delay) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    auto ticks = std::make_shared<int>(0);
    auto stop = std::make_shared<bool>(false);
    struct Tick {
        asyncio::EventLoop* loop;
        std::shared_ptr<int> ticks;
        std::shared_ptr<bool> stop;
        void operator()() const {
            if (*stop) return;
            ++*ticks;
            loop->call_soon(Tick(*this));  // a prvalue: call_soon(lvalue) does not compile yet
        }
    };
    loop.call_soon(Tick{&loop, ticks, stop});
    std::vector<int> out;
    for (int i = 0; i < 4; ++i) {
        co_await asyncio::sleep(delay);
        out.push_back(*ticks);
    }
    *stop = true;
    co_return out;
}

TEST(sleep, zero_yields_exactly_one_iteration) {
    EXPECT_EQ(support::run_virtual(count_iterations_per_yield(0)), (std::vector<int>{1, 2, 3, 4}));
}

TEST(sleep, negative_delay_yields_exactly_one_iteration) {
    EXPECT_EQ(support::run_virtual(count_iterations_per_yield(-5)), (std::vector<int>{1, 2, 3, 4}));
}

// Python 3.13:
//     async def worker(name):
//         for i in range(3):
//             trace.append(f"{name}{i}"); await asyncio.sleep(0)
//         trace.append(f"{name}-done")
//     async def main():
//         a = asyncio.create_task(worker("a")); b = asyncio.create_task(worker("b"))
//         trace.append("main"); await asyncio.sleep(0); trace.append("main-after")
//         await a; await b; trace.append("end")
//     # main a0 b0 main-after a1 b1 a2 b2 a-done b-done end
Coro<void> worker(Trace& trace, std::string name) {
    for (int i = 0; i < 3; ++i) {
        trace(name, i);
        co_await asyncio::sleep(0);
    }
    trace(name, "-done");
}

Coro<void> interleave_main(Trace& trace) {
    auto a = asyncio::create_task(worker(trace, "a"));
    auto b = asyncio::create_task(worker(trace, "b"));
    trace("main");
    co_await asyncio::sleep(0);
    trace("main-after");
    co_await a;
    co_await b;
    trace("end");
}

TEST(sleep, zero_interleaves_tasks_exactly_as_python) {
    Trace trace;
    support::run_virtual(interleave_main(trace));
    EXPECT_EQ(trace.str(), "main a0 b0 main-after a1 b1 a2 b2 a-done b-done end");
}

Coro<double> zero_does_not_advance_time() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    const double t0 = loop.time();
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(-1);
    co_await asyncio::sleep(-std::numeric_limits<double>::infinity());
    co_return loop.time() - t0;
}

TEST(sleep, zero_and_negative_do_not_advance_the_clock) {
    EXPECT_EQ(support::run_virtual(zero_does_not_advance_time()), 0.0);
}

// ------------------------------------------------------------------ result

Coro<void> results_main(Trace& trace) {
    trace(co_await asyncio::sleep(0.5, 7));
    trace(co_await asyncio::sleep(0, std::string("zero")));
    trace(co_await asyncio::sleep(-1, std::string("negative")));
    std::unique_ptr<int> p = co_await asyncio::sleep(1, std::make_unique<int>(3));
    trace(p ? *p : -1);
    trace(asyncio::get_running_loop().time());
}

// CPython: test_tasks.py::BaseTaskTests::test_sleep (result=...)
TEST(sleep, returns_the_given_result) {
    Trace trace;
    support::run_virtual(results_main(trace));
    EXPECT_EQ(trace.str(), "7 zero negative 3 1.5");
}

// --------------------------------------------------------------------- NaN

Coro<void> nan_main(Trace& trace) {
    EXPECT_THROW_MSG(co_await asyncio::sleep(std::nan("")), asyncio::ValueError,
                     "Invalid delay: NaN (not a number)");
    EXPECT_THROW_MSG((co_await asyncio::sleep(-std::numeric_limits<double>::quiet_NaN(), 1)),
                     asyncio::ValueError, "Invalid delay: NaN (not a number)");
    EXPECT_THROW_MSG(co_await asyncio::sleep(std::chrono::duration<double>(std::nan(""))),
                     asyncio::ValueError, "Invalid delay: NaN (not a number)");
    trace("after");
}

// CPython: test_tasks.py::BaseTaskTests::test_sleep_when_delay_is_nan
TEST(sleep, nan_raises_value_error) {
    Trace trace;
    support::run_virtual(nan_main(trace));
    EXPECT_EQ(trace.str(), "after");
    static_assert(std::is_base_of_v<std::invalid_argument, asyncio::ValueError>);
}

// --------------------------------------------------------------- durations

Coro<void> durations_main(std::vector<double>& times) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    co_await asyncio::sleep(500ms);
    times.push_back(loop.time());
    co_await asyncio::sleep(0.25);
    times.push_back(loop.time());
    co_await asyncio::sleep(2s);
    times.push_back(loop.time());
    co_await asyncio::sleep(1);
    times.push_back(loop.time());
    co_await asyncio::sleep(0.25f);
    times.push_back(loop.time());
    co_await asyncio::sleep(std::chrono::minutes(1));
    times.push_back(loop.time());
    co_await asyncio::sleep(asyncio::Seconds(0.5));
    times.push_back(loop.time());
    co_await asyncio::sleep(asyncio::Delay(250us));
    times.push_back(loop.time());
}

TEST(sleep, accepts_chrono_durations_and_numbers) {
    std::vector<double> times;
    support::run_virtual(durations_main(times));
    const std::vector<double> expected{0.5, 0.75, 2.75, 3.75, 4.0, 64.0, 64.5, 64.50025};
    ASSERT_EQ(times.size(), expected.size());
    for (std::size_t i = 0; i < times.size(); ++i) EXPECT_NEAR(times[i], expected[i], 1e-9) << i;
}

// ---------------------------------------------------------------- ordering

Coro<void> named_sleep(Trace& trace, std::string name, double delay) {
    co_await asyncio::sleep(delay);
    trace(name);
}

// Python 3.13: tasks sleeping c=0.3, a=0.1, b=0.2, x=0.1, y=0.1, z=0 (created
// in that order) finish as z a x y b c.
Coro<void> ordering_main(Trace& trace) {
    std::vector<asyncio::Task<void>> tasks;
    tasks.push_back(asyncio::create_task(named_sleep(trace, "c", 0.3)));
    tasks.push_back(asyncio::create_task(named_sleep(trace, "a", 0.1)));
    tasks.push_back(asyncio::create_task(named_sleep(trace, "b", 0.2)));
    tasks.push_back(asyncio::create_task(named_sleep(trace, "x", 0.1)));
    tasks.push_back(asyncio::create_task(named_sleep(trace, "y", 0.1)));
    tasks.push_back(asyncio::create_task(named_sleep(trace, "z", 0)));
    for (auto& t : tasks) co_await t;
}

TEST(sleep, different_delays_wake_in_deadline_order) {
    Trace trace;
    support::run_virtual(ordering_main(trace));
    EXPECT_EQ(trace.str(), "z a x y b c");
}

Coro<void> fifo_main(std::vector<int>& order) {
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 200; ++i)
        tasks.push_back(asyncio::create_task(asyncio::co_invoke(
            [&order](int n) -> Coro<void> {
                co_await asyncio::sleep(1);
                order.push_back(n);
            },
            i)));
    for (auto& t : tasks) co_await t;
}

TEST(sleep, equal_delays_wake_in_fifo_order) {
    std::vector<int> order;
    support::run_virtual(fifo_main(order));
    ASSERT_EQ(order.size(), 200u);
    for (int i = 0; i < 200; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

// ------------------------------------------------------------ cancellation

Coro<void> long_sleeper(Trace& trace) {
    try {
        co_await asyncio::sleep(1000);
        trace("woke");
    } catch (const asyncio::CancelledError&) {
        trace("cancelled");
        throw;
    }
}

TEST(sleep, cancelling_a_sleep_removes_its_timer) {
    auto loop = support::new_virtual_loop();
    Trace trace;
    asyncio::Task<void> t = loop->create_task(long_sleeper(trace));
    support::run_briefly(*loop);  // t is now sleeping
    EXPECT_FALSE(t.done());
    EXPECT_TRUE(t.cancel());
    loop->run_until_complete(asyncio::sleep(1));
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(trace.str(), "cancelled");
    // The cancelled sleep's deadline (1000) is gone: nothing keeps the
    // virtual clock from stopping at 1, and nothing is left to jump to.
    EXPECT_NEAR(loop->time(), 1.0, 1e-9);
    support::advance(*loop, 5);
    EXPECT_NEAR(loop->time(), 6.0, 1e-9);
    loop->close();
}

Coro<double> cancel_then_sleep_main(Trace& trace) {
    asyncio::Task<void> t = asyncio::create_task(long_sleeper(trace));
    co_await asyncio::sleep(0);
    t.cancel("stop");
    try {
        co_await t;
    } catch (const asyncio::CancelledError& e) {
        trace("msg=", e.what());
    }
    co_await asyncio::sleep(1);
    co_return asyncio::get_running_loop().time();
}

TEST(sleep, cancelled_sleeper_sees_cancelled_error_and_clock_stays_put) {
    Trace trace;
    const double end = support::run_virtual(cancel_then_sleep_main(trace));
    EXPECT_NEAR(end, 1.0, 1e-9);
    EXPECT_EQ(trace.str(), "cancelled msg=stop");
}

Coro<void> swallow_cancel_in_sleep0(Trace& trace) {
    try {
        co_await asyncio::sleep(0);
    } catch (const asyncio::CancelledError&) {
        trace("cancelled at sleep(0)");
    }
    co_await asyncio::sleep(0.5);
    trace("still running");
}

Coro<void> cancel_during_sleep0_main(Trace& trace) {
    auto t = asyncio::create_task(swallow_cancel_in_sleep0(trace));
    co_await asyncio::sleep(0);  // t is parked in sleep(0)
    t.cancel();
    co_await t;
    trace(asyncio::get_running_loop().time());
}

TEST(sleep, zero_delivers_a_pending_cancellation) {
    Trace trace;
    support::run_virtual(cancel_during_sleep0_main(trace));
    EXPECT_EQ(trace.str(), "cancelled at sleep(0) still running 0.5");
}

Coro<void> short_sleeper(Trace& trace) {
    try {
        co_await asyncio::sleep(0.001);
        trace("woke");
    } catch (const asyncio::CancelledError&) {
        trace("cancelled");
        throw;
    }
}

// The sleeping task is cancelled, and its deadline passes before it gets to
// run: its wake-up and its (now due) timer land in the same iteration. The
// task must not free the timer the iteration is about to run. A real clock:
// the callback busy-waits past the deadline.
TEST(sleep, deadline_passing_between_cancel_and_wake_up_is_harmless) {
    auto loop = asyncio::new_event_loop();
    Trace trace;
    asyncio::Task<void> t = loop->create_task(short_sleeper(trace));
    support::run_once(*loop);  // t is sleeping until now + 1 ms
    loop->call_soon([t]() mutable {
        t.cancel();
        const auto until = std::chrono::steady_clock::now() + 3ms;
        while (std::chrono::steady_clock::now() < until) {
        }
    });
    support::run_once(*loop);  // cancels; the deadline passes meanwhile
    support::run_once(*loop);  // t's step and its due timer, in this order
    support::run_briefly(*loop);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(trace.str(), "cancelled");
    loop->close();
}

// ------------------------------------------------------------------ lookup

TEST(sleep, unqualified_call_under_using_namespace_resolves_to_asyncio) {
    using namespace asyncio;
    // ::sleep(unsigned) from <unistd.h> is visible too; ours must win.
    static_assert(std::is_same_v<decltype(sleep(1)), Coro<void>>);
    static_assert(std::is_same_v<decltype(sleep(1, 2)), Coro<int>>);
    static_assert(std::is_same_v<decltype(sleep(1.5)), Coro<void>>);
    auto start = std::chrono::steady_clock::now();
    const double t = asyncio::testing::run([]() -> Coro<double> {
        co_await sleep(1);
        co_return get_running_loop().time();
    }());
    EXPECT_NEAR(t, 1.0, 1e-9);  // a virtual second, not a real one
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
