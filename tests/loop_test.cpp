// loop_test.cpp — asyncio::EventLoop: scheduling order, timers, handles,
// running and stopping, closing, the exception handler, debug flags.
//
// Ported from the non-I/O parts of Lib/test/test_asyncio/test_base_events.py
// and test_events.py. Most cases run on the virtual clock; the few that need
// a real clock or a real thread say so.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "asyncio.hpp"
#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::CaptureHandler;
using support::Counted;
using support::Trace;

namespace {

Coro<int> answer() {
    co_return 42;
}

Coro<int> fail_with(std::string msg) {
    co_await sleep(0);
    throw std::runtime_error(msg);
}

Coro<void> throw_keyboard_interrupt() {
    co_await sleep(0);
    throw KeyboardInterrupt("ki");
}

/// A task body holding a Counted in its frame, parked for a long time.
Coro<void> hold_counted_and_sleep(double seconds) {
    Counted c(1);
    co_await sleep(seconds);
}

}  // namespace

// ---------------------------------------------------------------- call_soon

// CPython: test_base_events.py::BaseEventLoopTests::test_run_once
TEST(event_loop, call_soon_runs_callbacks_in_fifo_order) {
    auto loop = support::new_virtual_loop();
    Trace t;
    for (int i = 0; i < 5; ++i) loop->call_soon([&t, i] { t(i); });
    EXPECT_TRUE(t.empty()) << "call_soon never runs inline";
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "0 1 2 3 4");
}

TEST(event_loop, callbacks_scheduled_during_an_iteration_run_in_the_next_one) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_soon([&] {
        t("a");
        loop->call_soon([&] { t("b"); });
    });
    loop->call_soon([&] { t("c"); });
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "a c");
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "b");
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "");
}

TEST(event_loop, handle_cancel_prevents_the_callback) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Handle h = loop->call_soon([&] { t("cancelled-one"); });
    loop->call_soon([&] { t("other"); });
    EXPECT_FALSE(h.cancelled());
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    h.cancel();  // idempotent
    EXPECT_TRUE(h.cancelled());
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "other");
}

TEST(event_loop, handle_cancelled_by_an_earlier_callback_of_the_same_iteration_does_not_run) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Handle h2;
    loop->call_soon([&] {
        t("c1");
        h2.cancel();
    });
    h2 = loop->call_soon([&] { t("c2"); });
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "c1");
    EXPECT_TRUE(h2.cancelled());
}

TEST(event_loop, cancel_after_the_callback_ran_is_harmless) {
    auto loop = support::new_virtual_loop();
    int runs = 0;
    Handle h = loop->call_soon([&] { ++runs; });
    TimerHandle th = loop->call_later(1, [&] { ++runs; });
    support::advance(*loop, 2);
    EXPECT_EQ(runs, 2);
    h.cancel();
    th.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_TRUE(th.cancelled());
    support::advance(*loop, 2);
    EXPECT_EQ(runs, 2);
}

TEST(event_loop, default_constructed_handle_is_inert) {
    Handle h;
    EXPECT_FALSE(h.cancelled());
    h.cancel();
    TimerHandle th;
    EXPECT_EQ(th.when(), 0.0);
    th.cancel();
    SUCCEED();
}

// Python's Handle.cancel() drops the callback (`self._callback = None`), so
// what it captured is freed at once even while the handle is kept.
TEST(event_loop, cancelled_handle_releases_its_callable) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    Handle h = loop->call_soon([c = Counted(1)] {});
    TimerHandle th = loop->call_later(10, [c = Counted(2)] {});
    EXPECT_EQ(Counted::live(), 2);
    h.cancel();
    th.cancel();
    EXPECT_EQ(Counted::live(), 0) << "a cancelled handle still owns its callback";
    support::run_once(*loop);
    EXPECT_EQ(Counted::live(), 0);
}

TEST(event_loop, callback_is_destroyed_after_it_runs_even_if_the_handle_is_kept) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    int value = 0;
    Handle h = loop->call_soon([&value, c = Counted(7)] { value = c.value; });
    support::run_once(*loop);
    EXPECT_EQ(value, 7);
    h = Handle();
    EXPECT_EQ(Counted::live(), 0);
}

// ------------------------------------------------------------------ timers

// CPython: test_base_events.py::BaseEventLoopTests::test_call_later
TEST(event_loop, call_later_runs_after_the_delay) {
    auto loop = support::new_virtual_loop();
    Trace t;
    TimerHandle h = loop->call_later(10.0, [&] { t("at ", loop->time()); });
    EXPECT_EQ(h.when(), 10.0);
    EXPECT_FALSE(h.cancelled());
    support::advance(*loop, 9.5);
    EXPECT_TRUE(t.empty());
    support::advance(*loop, 1.0);
    EXPECT_EQ(t.str(), "at 10");
}

TEST(event_loop, call_later_accepts_chrono_durations) {
    using namespace std::chrono_literals;
    auto loop = support::new_virtual_loop();
    TimerHandle a = loop->call_later(1500ms, [] {});
    TimerHandle b = loop->call_later(2min, [] {});
    EXPECT_DOUBLE_EQ(a.when(), 1.5);
    EXPECT_DOUBLE_EQ(b.when(), 120.0);
}

// CPython: test_base_events.py::BaseEventLoopTests::test_time_and_call_at
TEST(event_loop, call_at_runs_at_the_given_loop_time) {
    auto loop = support::new_virtual_loop();
    support::advance(*loop, 3);
    double ran_at = -1;
    TimerHandle h = loop->call_at(loop->time() + 0.1, [&] {
        ran_at = loop->time();
        loop->stop();
    });
    EXPECT_DOUBLE_EQ(h.when(), 3.1);
    loop->run_forever();
    EXPECT_DOUBLE_EQ(ran_at, 3.1);
}

TEST(event_loop, timers_run_by_deadline_then_fifo_for_equal_deadlines) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_later(2, [&] { t("b1"); });
    loop->call_later(1, [&] { t("a"); });
    loop->call_at(2, [&] { t("b2"); });
    loop->call_later(3, [&] { t("c"); });
    loop->call_later(2, [&] { t("b3"); });
    support::advance(*loop, 5);
    EXPECT_EQ(t.str(), "a b1 b2 b3 c");
}

// CPython: test_base_events.py::BaseEventLoopTests::test_call_later_negative_delays
TEST(event_loop, call_later_negative_delays_run_earliest_first) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_later(-1, [&] { t("a"); });
    loop->call_later(-2, [&] { t("b"); });
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "b a");
    EXPECT_EQ(loop->time(), 0.0);
}

TEST(event_loop, due_timers_run_after_callbacks_already_ready) {
    // Python: ['soon', 'later-1', 'later0'] for call_later(0), call_soon, call_later(-1).
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_later(0, [&] { t("later0"); });
    loop->call_soon([&] { t("soon"); });
    loop->call_later(-1, [&] { t("later-1"); });
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "soon later-1 later0");
}

TEST(event_loop, timer_cancel_prevents_running_and_keeps_when) {
    auto loop = support::new_virtual_loop();
    Trace t;
    TimerHandle h1 = loop->call_later(5, [&] { t("h1"); });
    TimerHandle h2 = loop->call_later(10, [&] { t("h2"); });
    h1.cancel();
    EXPECT_TRUE(h1.cancelled());
    EXPECT_EQ(h1.when(), 5.0);
    support::advance(*loop, 20);
    EXPECT_EQ(t.str(), "h2");
}

TEST(event_loop, timer_cancelled_by_an_earlier_timer_of_the_same_deadline_does_not_run) {
    auto loop = support::new_virtual_loop();
    Trace t;
    TimerHandle second;
    loop->call_later(1, [&] {
        t("first");
        second.cancel();
    });
    second = loop->call_later(1, [&] { t("second"); });
    support::advance(*loop, 2);
    EXPECT_EQ(t.str(), "first");
}

TEST(event_loop, clock_does_not_jump_to_a_cancelled_timers_deadline) {
    auto loop = support::new_virtual_loop();
    TimerHandle h = loop->call_later(1000, [] {});
    h.cancel();
    loop->call_later(5, [] {});
    loop->run_until_complete(sleep(0));
    EXPECT_EQ(loop->time(), 0.0) << "sleep(0) must not wait for any timer";
    support::advance(*loop, 7);
    EXPECT_EQ(loop->time(), 7.0);
}

// CPython: test_base_events.py::BaseEventLoopTests::test__run_once_cancelled_event_cleanup
// (behaviourally: cancelled timers leave the heap, so they cost nothing later).
TEST(event_loop, many_cancelled_timers_leave_nothing_behind) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    const auto wall0 = std::chrono::steady_clock::now();
    {
        std::vector<TimerHandle> handles;
        handles.reserve(100000);
        for (int i = 0; i < 100000; ++i)
            handles.push_back(loop->call_later(1 + i % 1000, [c = Counted(i)] {}));
        for (TimerHandle& h : handles) h.cancel();
    }
    EXPECT_EQ(Counted::live(), 0);
    loop->run_until_complete(sleep(0));
    EXPECT_EQ(loop->time(), 0.0);
    double woke = -1;
    loop->call_later(2000, [&] { woke = loop->time(); });
    support::advance(*loop, 3000);
    EXPECT_EQ(woke, 2000.0);
    const auto wall = std::chrono::steady_clock::now() - wall0;
    EXPECT_LT(wall, std::chrono::seconds(10));
}

TEST(event_loop, call_at_nan_is_rejected) {
    auto loop = support::new_virtual_loop();
    EXPECT_THROW(loop->call_at(std::nan(""), [] {}), ValueError);
}

// -------------------------------------------------------------------- time

TEST(event_loop, real_time_is_monotonic) {
    auto loop = new_event_loop();
    EXPECT_FALSE(loop->virtual_time());
    double prev = loop->time();
    for (int i = 0; i < 1000; ++i) {
        const double now = loop->time();
        EXPECT_GE(now, prev);
        prev = now;
    }
    EXPECT_GT(prev, 0.0);
}

TEST(event_loop, real_clock_call_later_waits_at_least_the_delay) {
    // Real clock, 5 ms: wide margins only.
    auto loop = new_event_loop();
    const double t0 = loop->time();
    double fired = 0;
    loop->call_later(0.005, [&] {
        fired = loop->time();
        loop->stop();
    });
    loop->run_forever();
    EXPECT_GE(fired - t0, 0.005 - 1e-3);
    EXPECT_LT(fired - t0, 5.0);
}

// ----------------------------------------------------------- run_* and stop

TEST(event_loop, run_until_complete_returns_the_coroutines_value) {
    auto loop = support::new_virtual_loop();
    EXPECT_EQ(loop->run_until_complete(answer()), 42);
    EXPECT_EQ(loop->run_until_complete(sleep(3, std::string("late"))), "late");
    EXPECT_EQ(loop->time(), 3.0);
}

TEST(event_loop, run_until_complete_accepts_a_task) {
    auto loop = support::new_virtual_loop();
    Task<int> t = loop->create_task(answer());
    EXPECT_EQ(loop->run_until_complete(t), 42);
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), 42);
}

TEST(event_loop, run_until_complete_rethrows_and_the_exception_is_not_reported_again) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    EXPECT_THROW_MSG(loop->run_until_complete(fail_with("bad")), std::runtime_error, "bad");
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty()) << cap.messages().front();
}

// CPython: test_base_events.py::BaseEventLoopTests::test_run_forever_keyboard_interrupt
TEST(event_loop, keyboard_interrupt_from_a_task_leaves_run_until_complete_unreported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    EXPECT_THROW_MSG(loop->run_until_complete(throw_keyboard_interrupt()), KeyboardInterrupt, "ki");
    EXPECT_FALSE(loop->is_running());
    loop->close();
    EXPECT_TRUE(cap.empty()) << cap.messages().front();
}

// Runs the KeyboardInterrupt case from a deep stack frame, so that if the
// loop kept a callback pointing into run_until_complete's (dead) frame, its
// write lands in unused stack and the test fails on its assertions instead of
// crashing.
[[gnu::noinline]] void run_keyboard_interrupt_deep(EventLoop& loop) {
    volatile char pad[8192];
    pad[0] = 0;
    EXPECT_THROW_MSG(loop.run_until_complete(throw_keyboard_interrupt()), KeyboardInterrupt, "ki");
    pad[sizeof pad - 1] = pad[0];
}

// CPython: test_base_events.py::BaseEventLoopTests::test_run_until_complete_baseexception
// Python issue #22429: run_until_complete() must not leave a pending call to
// stop() behind when the future raised KeyboardInterrupt/SystemExit.
TEST(event_loop, loop_is_usable_after_keyboard_interrupt_escaped) {
    auto loop = support::new_virtual_loop();
    run_keyboard_interrupt_deep(*loop);
    bool called = false;
    loop->call_soon([&] {
        loop->call_soon([&] {
            called = true;
            loop->stop();
        });
    });
    loop->run_forever();
    EXPECT_TRUE(called) << "run_forever() was stopped by a stale stop() from run_until_complete";
}

// CPython:
// test_base_events.py::BaseEventLoopTests::test_run_until_complete_loop_orphan_future_close_loop
TEST(event_loop, system_exit_from_a_callback_escapes_and_the_loop_can_run_again) {
    auto loop = support::new_virtual_loop();
    loop->call_soon([] { throw SystemExit("show stopper"); });
    EXPECT_THROW_MSG(loop->run_until_complete(sleep(0.1)), SystemExit, "show stopper");
    EXPECT_FALSE(loop->is_running());
    // Fails if run_until_complete did not clean up its done callback.
    EXPECT_EQ(loop->run_until_complete(sleep(0.2, 5)), 5);
}

TEST(event_loop, callbacks_after_an_escaping_keyboard_interrupt_run_next_time) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_soon([&] { t("a"); });
    loop->call_soon([&] {
        t("ki");
        throw KeyboardInterrupt();
    });
    loop->call_soon([&] { t("c"); });
    EXPECT_THROW(support::run_once(*loop), KeyboardInterrupt);
    EXPECT_EQ(t.take(), "a ki");
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "c");
}

TEST(event_loop, run_forever_runs_until_stop) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_later(1, [&] { t("1"); });
    loop->call_later(2, [&] {
        t("2");
        loop->stop();
    });
    loop->call_later(3, [&] { t("3"); });
    loop->run_forever();
    EXPECT_EQ(t.take(), "1 2");
    EXPECT_EQ(loop->time(), 2.0);
    EXPECT_FALSE(loop->is_running());
    // Running again continues where it stopped.
    loop->call_later(2, [&] { loop->stop(); });
    loop->run_forever();
    EXPECT_EQ(t.take(), "3");
}

TEST(event_loop, stop_lets_the_current_iteration_finish) {
    // Python: a callback that calls stop() does not prevent the rest of its
    // batch; what the batch schedules runs on the next run.
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_soon([&] {
        t("a");
        loop->stop();
    });
    loop->call_soon([&] {
        t("b");
        loop->call_soon([&] { t("c"); });
    });
    loop->run_forever();
    EXPECT_EQ(t.take(), "a b");
    loop->run_until_complete(sleep(0));
    EXPECT_EQ(t.take(), "c");
}

// CPython: test_base_events.py::BaseEventLoopTests::test_run_forever_pre_stopped
TEST(event_loop, stop_before_run_forever_runs_exactly_one_iteration) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_soon([&] {
        t("x");
        loop->call_soon([&] { t("y"); });
    });
    loop->call_later(100, [&] { t("timer"); });
    loop->stop();
    loop->run_forever();
    EXPECT_EQ(t.take(), "x");
    EXPECT_EQ(loop->time(), 0.0) << "a pre-stopped iteration does not wait for timers";
    loop->run_until_complete(sleep(0));
    EXPECT_EQ(t.take(), "y");
}

TEST(event_loop, stop_before_run_forever_does_not_block_a_real_loop) {
    auto loop = new_event_loop();
    loop->call_later(60, [] {});
    const auto t0 = std::chrono::steady_clock::now();
    loop->stop();
    loop->run_forever();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(event_loop, run_until_complete_stopped_early_throws) {
    auto loop = support::new_virtual_loop();
    loop->call_soon([&] { loop->stop(); });
    EXPECT_THROW_MSG(loop->run_until_complete(sleep(10)), RuntimeError,
                     "Event loop stopped before Future completed.");
}

TEST(event_loop, is_running_inside_and_outside) {
    auto loop = support::new_virtual_loop();
    EXPECT_FALSE(loop->is_running());
    bool in_callback = false;
    bool in_task = false;
    loop->call_soon([&] { in_callback = loop->is_running(); });
    auto body = [&]() -> Coro<void> {
        in_task = get_running_loop().is_running();
        co_return;
    };
    loop->run_until_complete(body());
    EXPECT_TRUE(in_callback);
    EXPECT_TRUE(in_task);
    EXPECT_FALSE(loop->is_running());
}

TEST(event_loop, run_until_complete_inside_the_running_loop_throws) {
    auto loop = support::new_virtual_loop();
    Trace t;
    auto body = [&]() -> Coro<void> {
        try {
            loop->run_until_complete(sleep(0));
        } catch (const RuntimeError& e) {
            t(e.what());
        }
        try {
            loop->run_forever();
        } catch (const RuntimeError& e) {
            t(e.what());
        }
        co_return;
    };
    loop->run_until_complete(body());
    EXPECT_EQ(t.join("|"), "This event loop is already running|This event loop is already running");
}

TEST(event_loop, running_a_second_loop_inside_a_running_one_throws) {
    auto loop = support::new_virtual_loop();
    auto other = support::new_virtual_loop();
    std::string msg;
    loop->call_soon([&] {
        try {
            other->run_until_complete(sleep(0));
        } catch (const RuntimeError& e) {
            msg = e.what();
        }
    });
    support::run_once(*loop);
    EXPECT_EQ(msg, "Cannot run the event loop while another loop is running");
    EXPECT_FALSE(other->is_running());
}

TEST(event_loop, get_running_loop_inside_and_outside) {
    EXPECT_THROW_MSG(get_running_loop(), RuntimeError, "no running event loop");
    auto loop = support::new_virtual_loop();
    EventLoop* from_callback = nullptr;
    EventLoop* from_task = nullptr;
    loop->call_soon([&] { from_callback = &get_running_loop(); });
    auto body = [&]() -> Coro<void> {
        from_task = &get_running_loop();
        co_return;
    };
    loop->run_until_complete(body());
    EXPECT_EQ(from_callback, loop.get());
    EXPECT_EQ(from_task, loop.get());
    EXPECT_THROW_MSG(get_running_loop(), RuntimeError, "no running event loop");
}

TEST(event_loop, get_running_loop_is_cleared_after_an_exception_escapes) {
    auto loop = support::new_virtual_loop();
    loop->call_soon([] { throw KeyboardInterrupt(); });
    EXPECT_THROW(loop->run_forever(), KeyboardInterrupt);
    EXPECT_THROW_MSG(get_running_loop(), RuntimeError, "no running event loop");
    EXPECT_FALSE(loop->is_running());
}

// ------------------------------------------------------------------ closing

// CPython: test_base_events.py::BaseEventLoopTests::test_close
TEST(event_loop, close_is_idempotent_and_blocks_further_use) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_FALSE(loop->is_closed());
    loop->close();
    EXPECT_TRUE(loop->is_closed());
    loop->close();
    loop->close();
    EXPECT_THROW_MSG(loop->run_forever(), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->run_until_complete(f), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->run_until_complete(answer()), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->call_soon([] {}), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->call_later(1, [] {}), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->call_at(1, [] {}), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->call_soon_threadsafe([] {}), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->create_future<int>(), RuntimeError, "Event loop is closed");
    EXPECT_THROW_MSG(loop->create_task(answer()), RuntimeError, "Event loop is closed");
}

TEST(event_loop, close_on_a_running_loop_throws) {
    auto loop = support::new_virtual_loop();
    std::string msg;
    loop->call_soon([&] {
        try {
            loop->close();
        } catch (const RuntimeError& e) {
            msg = e.what();
        }
    });
    support::run_once(*loop);
    EXPECT_EQ(msg, "Cannot close a running event loop");
    EXPECT_FALSE(loop->is_closed());
    EXPECT_EQ(loop->run_until_complete(answer()), 42);
}

TEST(event_loop, close_drops_scheduled_callbacks_without_running_them) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    loop->call_soon([c = Counted(1)] { ADD_FAILURE() << "ran after close"; });
    loop->call_later(5, [c = Counted(2)] { ADD_FAILURE() << "ran after close"; });
    loop->call_soon_threadsafe([c = Counted(3)] { ADD_FAILURE() << "ran after close"; });
    EXPECT_EQ(Counted::live(), 3);
    loop->close();
    EXPECT_EQ(Counted::live(), 0);
}

TEST(event_loop, handles_kept_past_close_and_destruction_are_safe) {
    Counted::reset();
    Handle h;
    TimerHandle th;
    {
        auto loop = support::new_virtual_loop();
        h = loop->call_soon([c = Counted(1)] {});
        th = loop->call_later(5, [c = Counted(2)] {});
    }
    EXPECT_FALSE(h.cancelled());
    EXPECT_EQ(th.when(), 5.0);
    h.cancel();
    th.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_TRUE(th.cancelled());
    h = Handle();
    th = TimerHandle();
    EXPECT_EQ(Counted::live(), 0);
}

TEST(event_loop, destroying_an_unclosed_loop_closes_it) {
    Counted::reset();
    {
        auto loop = support::new_virtual_loop();
        loop->call_soon([c = Counted(1)] {});
        loop->call_later(5, [c = Counted(2)] {});
        loop->create_task(hold_counted_and_sleep(10));
        support::run_once(*loop);  // the call_soon callback ran and is gone
        EXPECT_EQ(Counted::live(), 2);
    }
    EXPECT_EQ(Counted::live(), 0);
}

TEST(event_loop, close_destroys_pending_tasks_and_reports_them) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->create_task(hold_counted_and_sleep(100));  // will wait on a timer
    loop->create_task(hold_counted_and_sleep(0));    // will be in the ready queue
    support::run_once(*loop);
    loop->create_task(hold_counted_and_sleep(1));  // never started
    EXPECT_EQ(Counted::live(), 2);
    loop->close();
    EXPECT_EQ(Counted::live(), 0) << "pending task frames must be destroyed at close";
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 3u);
    EXPECT_EQ(cap.size(), 3u);
    for (const auto& r : cap.records()) EXPECT_NE(r.task, nullptr);
}

TEST(event_loop, task_handle_kept_past_close_stays_valid_and_pending) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Task<void> kept = loop->create_task(hold_counted_and_sleep(100), {.name = "kept"});
    support::run_once(*loop);
    loop->close();
    EXPECT_FALSE(kept.done());
    EXPECT_FALSE(kept.cancelled());
    EXPECT_EQ(kept.get_name(), "kept");
    EXPECT_THROW_MSG(kept.exception(), InvalidStateError, "Exception is not set.");
    EXPECT_TRUE(cap.empty()) << "reported while a handle is still alive";
    kept = Task<void>();
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Task was destroyed but it is pending!"});
    EXPECT_EQ(cap.at(0).task_name, "kept");
}

TEST(event_loop, task_handle_kept_past_loop_destruction_stays_valid) {
    Counted::reset();
    Task<void> kept;
    Task<int> finished;
    {
        auto loop = support::new_virtual_loop();
        CaptureHandler cap(*loop);
        finished = loop->create_task(answer());
        kept = loop->create_task(hold_counted_and_sleep(100));
        support::run_once(*loop);
    }
    EXPECT_TRUE(finished.done());
    EXPECT_EQ(finished.result(), 42);
    EXPECT_FALSE(kept.done());
    EXPECT_EQ(Counted::live(), 1);
    ::testing::internal::CaptureStderr();
    kept = Task<void>();
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_NE(err.find("Task was destroyed but it is pending!"), std::string::npos) << err;
}

// --------------------------------------------------------- exception handler

// CPython: test_base_events.py::BaseEventLoopTests::test_set_exc_handler_custom
TEST(event_loop, exception_handler_set_get_and_reset) {
    auto loop = support::new_virtual_loop();
    EXPECT_FALSE(static_cast<bool>(loop->get_exception_handler()));
    std::vector<std::string> seen;
    EventLoop* seen_loop = nullptr;
    loop->set_exception_handler([&](EventLoop& l, const ExceptionContext& ctx) {
        seen_loop = &l;
        seen.push_back(ctx.message + ":" + support::what(ctx.exception));
    });
    EXPECT_TRUE(static_cast<bool>(loop->get_exception_handler()));
    loop->call_soon([] { throw std::runtime_error("zero_error"); });
    support::run_once(*loop);
    EXPECT_EQ(seen, std::vector<std::string>{"Exception in callback:zero_error"});
    EXPECT_EQ(seen_loop, loop.get());

    loop->set_exception_handler(nullptr);
    EXPECT_FALSE(static_cast<bool>(loop->get_exception_handler()));
    ::testing::internal::CaptureStderr();
    loop->call_soon([] { throw std::runtime_error("zero_error"); });
    support::run_once(*loop);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(seen.size(), 1u) << "the old handler must not be called";
    EXPECT_NE(err.find("Exception in callback"), std::string::npos) << err;
    EXPECT_NE(err.find("zero_error"), std::string::npos) << err;
}

TEST(event_loop, exception_in_timer_callback_goes_to_handler_and_loop_continues) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Trace t;
    loop->call_later(1, [] { throw std::logic_error("timer boom"); });
    loop->call_later(2, [&] { t("after"); });
    support::advance(*loop, 3);
    EXPECT_EQ(t.str(), "after");
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Exception in callback");
    EXPECT_EQ(cap.at(0).what, "timer boom");
}

TEST(event_loop, call_exception_handler_passes_the_context_through) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Task<int> task = loop->create_task(answer());
    loop->run_until_complete(task);
    loop->call_exception_handler(
        {"custom message", std::make_exception_ptr(ValueError("v")), task});
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "custom message");
    EXPECT_EQ(cap.at(0).what, "v");
    EXPECT_TRUE(support::holds<ValueError>(cap.at(0).exception));
    EXPECT_TRUE(cap.at(0).task == task);
    EXPECT_EQ(cap.at(0).task, task.identity());
    EXPECT_EQ(cap.at(0).task_name, task.get_name());
}

// CPython: test_base_events.py::BaseEventLoopTests::test_set_exc_handler_broken
TEST(event_loop, handler_that_throws_is_caught_and_reported_by_the_default_handler) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->set_exception_handler(
        [](EventLoop&, const ExceptionContext&) { throw std::runtime_error("ham"); });
    ::testing::internal::CaptureStderr();
    loop->call_soon([] { throw std::runtime_error("zero"); });
    loop->call_soon([&] { t("next"); });
    EXPECT_NO_THROW(support::run_once(*loop));
    EXPECT_NO_THROW(loop->call_exception_handler({"direct", nullptr, {}}));
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(t.str(), "next");
    EXPECT_NE(err.find("Unhandled error in exception handler"), std::string::npos) << err;
    EXPECT_NE(err.find("ham"), std::string::npos) << err;
}

TEST(event_loop, handler_that_throws_a_base_exception_is_caught_too) {
    auto loop = support::new_virtual_loop();
    loop->set_exception_handler(
        [](EventLoop&, const ExceptionContext&) { throw CancelledError("from handler"); });
    ::testing::internal::CaptureStderr();
    EXPECT_NO_THROW(loop->call_exception_handler({"direct", nullptr, {}}));
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Unhandled error in exception handler"), std::string::npos) << err;
}

TEST(event_loop, default_exception_handler_prints_message_and_exception) {
    auto loop = support::new_virtual_loop();
    loop->set_exception_handler([](EventLoop&, const ExceptionContext&) { ADD_FAILURE(); });
    ::testing::internal::CaptureStderr();
    // Called directly, it bypasses the custom handler (a handler may delegate to it).
    loop->default_exception_handler(
        {"something odd", std::make_exception_ptr(std::runtime_error("details")), {}});
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("something odd"), std::string::npos) << err;
    EXPECT_NE(err.find("details"), std::string::npos) << err;
}

TEST(event_loop, custom_handler_can_delegate_to_the_default_one) {
    auto loop = support::new_virtual_loop();
    int calls = 0;
    loop->set_exception_handler([&](EventLoop& l, const ExceptionContext& ctx) {
        ++calls;
        l.default_exception_handler(ctx);
    });
    ::testing::internal::CaptureStderr();
    loop->call_exception_handler({"delegated", nullptr, {}});
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(calls, 1);
    EXPECT_NE(err.find("delegated"), std::string::npos) << err;
}

// ---------------------------------------------------------------- debug etc.

// CPython: test_base_events.py::BaseEventLoopTests::test_set_debug
TEST(event_loop, set_debug_and_get_debug) {
    auto loop = support::new_virtual_loop();
    EXPECT_FALSE(loop->get_debug());
    loop->set_debug(true);
    EXPECT_TRUE(loop->get_debug());
    loop->set_debug(false);
    EXPECT_FALSE(loop->get_debug());
    EXPECT_DOUBLE_EQ(loop->slow_callback_duration, 0.1);
}

TEST(event_loop, run_options_debug_reaches_the_loop) {
    bool debug = false;
    auto body = [&]() -> Coro<void> {
        debug = get_running_loop().get_debug();
        co_return;
    };
    support::run_virtual(body(), {.debug = true});
    EXPECT_TRUE(debug);
}

TEST(event_loop, new_event_loop_gives_distinct_open_loops) {
    auto a = new_event_loop();
    auto b = new_event_loop();
    ASSERT_TRUE(a && b);
    EXPECT_NE(a.get(), b.get());
    EXPECT_FALSE(a->is_closed());
    EXPECT_FALSE(a->is_running());
}

// ------------------------------------------------------- call_soon_threadsafe

TEST(event_loop, call_soon_threadsafe_from_the_loop_thread_behaves_like_call_soon) {
    auto loop = support::new_virtual_loop();
    Trace t;
    loop->call_soon([&] { t("a"); });
    loop->call_soon_threadsafe([&] { t("b"); });
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "a b");
}

// Real clock, one real thread: the loop blocks in epoll with no timers at all
// (only a 10 s safety timer), and the other thread's callback must wake it.
TEST(event_loop, call_soon_threadsafe_wakes_a_loop_blocked_in_run_forever) {
    auto loop = new_event_loop();
    std::atomic<bool> loop_started{false};
    std::atomic<bool> called_on_loop_thread{false};
    bool timed_out = false;
    const std::thread::id loop_thread = std::this_thread::get_id();
    loop->call_soon([&] { loop_started = true; });
    TimerHandle safety = loop->call_later(10.0, [&] {
        timed_out = true;
        loop->stop();
    });
    std::thread other([&] {
        while (!loop_started) std::this_thread::yield();
        // Give the loop time to block in its poll.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        loop->call_soon_threadsafe([&] {
            called_on_loop_thread = std::this_thread::get_id() == loop_thread;
            loop->stop();
        });
    });
    const double t0 = loop->time();
    loop->run_forever();
    other.join();
    EXPECT_FALSE(timed_out);
    EXPECT_TRUE(called_on_loop_thread);
    EXPECT_LT(loop->time() - t0, 5.0);
    safety.cancel();
}

// ------------------------------------------------------- lvalue callables

TEST(event_loop, scheduling_accepts_lvalue_callables_and_copies_them) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    Trace t;
    {
        auto cb = [&t, c = Counted(1)] { t("cb", c.value); };
        const std::function<void()> fn = [&t] { t("fn"); };
        loop->call_soon(cb);
        loop->call_soon(fn);
        loop->call_later(1, cb);
        loop->call_at(2, fn);
        loop->call_soon_threadsafe(cb);
        EXPECT_GE(Counted::copies(), 3);
    }
    support::advance(*loop, 3);
    EXPECT_EQ(t.str(), "cb1 fn cb1 cb1 fn");
    EXPECT_EQ(Counted::live(), 0);
}
