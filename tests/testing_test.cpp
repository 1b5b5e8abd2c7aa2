// testing_test.cpp — asyncio::testing: the virtual-clock loop. When nothing
// is ready its clock jumps to the next timer; otherwise it behaves exactly
// like a real loop.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "asyncio.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"
#include "support/watchdog.hpp"

using namespace asyncio;
using namespace std::chrono_literals;
using support::Trace;

namespace {

Coro<double> sleep_and_report(double seconds) {
    co_await sleep(seconds);
    co_return get_running_loop().time();
}

Coro<void> sleeper(Trace& t, std::string name, double seconds) {
    co_await sleep(seconds);
    t(name, "@", get_running_loop().time());
}

}  // namespace

TEST(testing_run, sleep_of_an_hour_is_instant_and_advances_loop_time) {
    const auto wall0 = std::chrono::steady_clock::now();
    const double t = asyncio::testing::run(sleep_and_report(3600));
    const auto wall = std::chrono::steady_clock::now() - wall0;
    EXPECT_EQ(t, 3600.0);
    EXPECT_LT(wall, 1s);
}

TEST(testing_run, returns_the_value_and_rethrows) {
    auto ok = []() -> Coro<int> {
        co_await sleep(10);
        co_return 7;
    };
    EXPECT_EQ(asyncio::testing::run(ok()), 7);
    auto bad = []() -> Coro<int> {
        co_await sleep(10);
        throw ValueError("late failure");
    };
    EXPECT_THROW_MSG(asyncio::testing::run(bad()), ValueError, "late failure");
}

TEST(testing_run, clock_starts_at_zero_on_a_virtual_loop) {
    auto body = []() -> Coro<bool> {
        EventLoop& loop = get_running_loop();
        EXPECT_EQ(loop.time(), 0.0);
        co_return loop.virtual_time();
    };
    EXPECT_TRUE(asyncio::testing::run(body()));
}

TEST(new_virtual_event_loop, is_virtual_and_real_loops_are_not) {
    auto v = asyncio::testing::new_virtual_event_loop();
    auto r = new_event_loop();
    EXPECT_TRUE(v->virtual_time());
    EXPECT_FALSE(r->virtual_time());
    EXPECT_EQ(v->time(), 0.0);
    EXPECT_GT(r->time(), 0.0);
}

TEST(new_virtual_event_loop, time_stands_still_without_timers_to_jump_to) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    for (int i = 0; i < 10; ++i) loop->call_soon([] {});
    support::run_briefly(*loop);
    EXPECT_EQ(loop->time(), 0.0);
}

TEST(new_virtual_event_loop, several_sleeps_wake_in_deadline_order_at_their_deadlines) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    Trace t;
    Task<void> c = loop->create_task(sleeper(t, "c", 3));
    Task<void> a = loop->create_task(sleeper(t, "a", 1));
    Task<void> b = loop->create_task(sleeper(t, "b", 2));
    Task<void> a2 = loop->create_task(sleeper(t, "a2", 1));  // same deadline: FIFO
    loop->run_until_complete(c);
    EXPECT_EQ(t.str(), "a@1 a2@1 b@2 c@3");
    EXPECT_TRUE(a.done() && b.done() && a2.done());
    EXPECT_EQ(loop->time(), 3.0);
}

TEST(new_virtual_event_loop, time_jumps_exactly_to_the_next_deadline) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    std::vector<double> seen;
    loop->call_later(0.25, [&] { seen.push_back(loop->time()); });
    loop->call_later(1e-6, [&] { seen.push_back(loop->time()); });
    loop->call_later(2h, [&] { seen.push_back(loop->time()); });
    support::advance(*loop, 3 * 3600);
    EXPECT_EQ(seen, (std::vector<double>{1e-6, 0.25, 7200.0}));
}

TEST(new_virtual_event_loop, time_does_not_move_while_tasks_are_ready) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    Trace t;
    auto busy = [&]() -> Coro<void> {
        for (int i = 0; i < 1000; ++i) {
            co_await sleep(0);
            if (get_running_loop().time() != 0.0) {
                t("moved at iteration ", i);
                co_return;
            }
        }
        t("busy done @", get_running_loop().time());
    };
    Task<void> s = loop->create_task(sleeper(t, "sleeper", 1));
    loop->run_until_complete(busy());
    EXPECT_EQ(t.take(), "busy done @0");
    EXPECT_FALSE(s.done());
    loop->run_until_complete(s);
    EXPECT_EQ(t.take(), "sleeper@1");
}

TEST(new_virtual_event_loop, time_does_not_move_while_callbacks_keep_rescheduling) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    int hops = 0;
    bool timer_fired_early = false;
    std::function<void()> hop = [&] {
        if (++hops < 500) loop->call_soon([&hop] { hop(); });
    };
    loop->call_later(5, [&] { timer_fired_early = hops < 500; });
    loop->call_soon([&hop] { hop(); });
    support::advance(*loop, 10);
    EXPECT_EQ(hops, 500);
    EXPECT_FALSE(timer_fired_early);
    EXPECT_EQ(loop->time(), 10.0);
}

TEST(new_virtual_event_loop, sequential_sleeps_accumulate_exactly) {
    auto body = []() -> Coro<double> {
        for (int i = 0; i < 1000; ++i) co_await sleep(1);
        co_return get_running_loop().time();
    };
    EXPECT_EQ(asyncio::testing::run(body()), 1000.0);
}

TEST(new_virtual_event_loop, a_year_of_sleep_in_chrono_units_is_instant) {
    // Deadlines past ~2^23 s (97 days) are where `now + 1e-9` stops being
    // larger than `now` in double precision; the timer must still come due.
    auto loop = asyncio::testing::new_virtual_event_loop();
    support::Watchdog dog(*loop, 2s);
    auto body = []() -> Coro<double> {
        co_await sleep(std::chrono::hours(24 * 365));
        co_return get_running_loop().time();
    };
    double woke = -1;
    try {
        woke = loop->run_until_complete(body());
    } catch (const RuntimeError& e) {
        ADD_FAILURE() << "the loop spun without running the due timer: " << e.what();
    }
    EXPECT_FALSE(dog.fired());
    EXPECT_EQ(woke, 365.0 * 24 * 3600);
}

TEST(new_virtual_event_loop, huge_deadlines_come_due) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    support::Watchdog dog(*loop, 2s);
    std::vector<double> seen;
    for (double when : {1e7, 1e9, 1e12}) loop->call_at(when, [&] { seen.push_back(loop->time()); });
    loop->call_at(1e12, [&] { loop->stop(); });
    loop->run_forever();
    EXPECT_FALSE(dog.fired()) << "the loop spun without running a due timer";
    EXPECT_EQ(seen, (std::vector<double>{1e7, 1e9, 1e12}));
}

TEST(new_virtual_event_loop, works_as_a_runner_loop_factory) {
    Runner runner({.loop_factory = asyncio::testing::new_virtual_event_loop});
    EXPECT_EQ(runner.run(sleep_and_report(50)), 50.0);
    EXPECT_EQ(runner.run(sleep_and_report(25)), 75.0) << "the same loop and clock";
    EXPECT_TRUE(runner.get_loop().virtual_time());
}

TEST(new_virtual_event_loop, sleeps_and_timers_share_one_ordering) {
    auto loop = asyncio::testing::new_virtual_event_loop();
    Trace t;
    Task<void> s = loop->create_task(sleeper(t, "sleep", 2));
    support::run_once(*loop);  // the sleep's timer is now scheduled for 2.0
    loop->call_at(2, [&] { t("timer@", loop->time()); });
    loop->call_at(1, [&] { t("early@", loop->time()); });
    loop->run_until_complete(s);
    // The sleep's timer was scheduled first; its task wakes one iteration later.
    EXPECT_EQ(t.str(), "early@1 timer@2 sleep@2");
}

TEST(support_helpers, run_once_runs_exactly_one_iteration) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_soon([&] {
        t("1");
        loop->call_soon([&] { t("2"); });
    });
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "1");
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "2");
}

TEST(support_helpers, advance_moves_the_virtual_clock_by_the_amount) {
    auto loop = support::new_virtual_loop();
    support::advance(*loop, 2.5);
    EXPECT_EQ(loop->time(), 2.5);
    support::advance(*loop, 0.5);
    EXPECT_EQ(loop->time(), 3.0);
}
