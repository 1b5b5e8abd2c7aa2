// runners_test.cpp — asyncio/runners.hpp and asyncio/testing.hpp:
// asyncio::run, asyncio::Runner, RunOptions, SIGINT handling, testing::run.
//
// Python reference: Lib/test/test_asyncio/test_runners.py (3.13). Cases that
// need Python objects (mock policies, non-coroutine arguments, contextvars)
// do not apply.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <asyncio.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Coro;
using support::Counted;
using support::Trace;

namespace {

// -------------------------------------------------------------------- run()

Coro<int> return_42() {
    co_await asyncio::sleep(0);
    co_return 42;
}

// CPython: test_runners.py::RunTests::test_asyncio_run_return
TEST(run, returns_the_value_of_main) {
    EXPECT_EQ(asyncio::run(return_42()), 42);
}

Coro<int> raise_spam() {
    co_await asyncio::sleep(0);
    throw asyncio::ValueError("spam");
}

// CPython: test_runners.py::RunTests::test_asyncio_run_raises
TEST(run, rethrows_the_exception_of_main) {
    EXPECT_THROW_MSG(asyncio::run(raise_spam()), asyncio::ValueError, "spam");
}

Coro<void> void_main(Trace& trace) {
    trace("start");
    co_await asyncio::sleep(0);
    trace("end");
}

TEST(run, runs_a_void_coroutine) {
    Trace trace;
    asyncio::run(void_main(trace));
    EXPECT_EQ(trace.str(), "start end");
}

Coro<void> cancelled_main() {
    asyncio::current_task().cancel("bye");
    co_await asyncio::sleep(0);
}

TEST(run, rethrows_cancelled_error_of_a_cancelled_main) {
    EXPECT_THROW_MSG(asyncio::run(cancelled_main()), asyncio::CancelledError, "bye");
}

Coro<int> nested_child(Counted c) {
    co_return c.value;
}

Coro<std::string> run_inside_run() {
    try {
        asyncio::run(nested_child(Counted(1)));
    } catch (const asyncio::RuntimeError& e) {
        co_return e.what();
    }
    co_return "nothing thrown";
}

// CPython: test_runners.py::RunTests::test_asyncio_run_from_running_loop
TEST(run, from_a_running_loop_raises_runtime_error) {
    Counted::reset();
    EXPECT_EQ(asyncio::run(run_inside_run()),
              "asyncio.run() cannot be called from a running event loop");
    EXPECT_EQ(Counted::live(), 0);  // the rejected coroutine was destroyed unrun
}

Coro<bool> debug_flag() {
    co_return asyncio::get_running_loop().get_debug();
}

// CPython: test_runners.py::RunTests::test_asyncio_run_debug
TEST(run, debug_option_sets_the_loop_debug_mode) {
    EXPECT_TRUE(asyncio::run(debug_flag(), {.debug = true}));
    EXPECT_FALSE(asyncio::run(debug_flag(), {.debug = false}));
    EXPECT_FALSE(asyncio::run(debug_flag()));
    EXPECT_TRUE(asyncio::testing::run(debug_flag(), {.debug = true}));
}

Coro<asyncio::EventLoop*> running_loop_address() {
    co_return &asyncio::get_running_loop();
}

// CPython: test_runners.py::RunTests::test_asyncio_run_loop_factory
TEST(run, uses_the_loop_factory) {
    int calls = 0;
    asyncio::EventLoop* made = nullptr;
    asyncio::RunOptions options;
    options.loop_factory = [&] {
        ++calls;
        auto loop = asyncio::new_event_loop();
        made = loop.get();
        return loop;
    };
    asyncio::EventLoop* seen = asyncio::run(running_loop_address(), std::move(options));
    EXPECT_EQ(calls, 1);
    EXPECT_NE(made, nullptr);
    EXPECT_EQ(seen, made);
}

// ------------------------------------------------------- leftover tasks

Coro<void> leftover_sleeper(Trace& trace) {
    co_await asyncio::sleep(0.1);
    trace("leftover woke");
}

Coro<int> leave_a_task(asyncio::TaskRef& leftover, Trace& trace) {
    leftover = asyncio::create_task(leftover_sleeper(trace));
    co_return 123;
}

// CPython: test_runners.py::RunTests::test_asyncio_run_cancels_hanging_tasks
TEST(run, cancels_tasks_left_pending) {
    asyncio::TaskRef leftover;
    Trace trace;
    EXPECT_EQ(asyncio::run(leave_a_task(leftover, trace)), 123);
    ASSERT_TRUE(static_cast<bool>(leftover));
    EXPECT_TRUE(leftover.done());
    EXPECT_TRUE(leftover.cancelled());
    EXPECT_TRUE(trace.empty());
}

Coro<void> cleanup_on_cancel(Trace& trace) {
    bool cancelled = false;
    try {
        co_await asyncio::sleep(3600);
    } catch (const asyncio::CancelledError&) {
        trace("caught CancelledError");
        cancelled = true;
    }
    if (cancelled) {
        // Python: except CancelledError: await cleanup()
        co_await asyncio::sleep(1);
        trace("cleaned up at ", asyncio::get_running_loop().time());
    }
}

Coro<int> leave_cleanup_tasks(Trace& trace) {
    asyncio::create_task(cleanup_on_cancel(trace));
    asyncio::create_task(cleanup_on_cancel(trace));
    co_await asyncio::sleep(0);  // both are sleeping now
    trace("main returns");
    co_return 7;
}

TEST(run, waits_for_cancelled_leftover_tasks_before_returning) {
    Trace trace;
    EXPECT_EQ(support::run_virtual(leave_cleanup_tasks(trace)), 7);
    EXPECT_EQ(trace.str(),
              "main returns caught CancelledError caught CancelledError "
              "cleaned up at 1 cleaned up at 1");
}

struct ZeroDivisionError : std::domain_error {
    using std::domain_error::domain_error;
};

Coro<void> fail_on_cancel() {
    bool cancelled = false;
    try {
        co_await asyncio::sleep(0.1);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) throw ZeroDivisionError("division by zero");
}

Coro<int> leave_failing_task(asyncio::TaskRef& leftover) {
    leftover = asyncio::create_task(fail_on_cancel());
    co_await asyncio::sleep(0);
    co_return 123;
}

// CPython: test_runners.py::RunTests::test_asyncio_run_reports_hanging_tasks_errors
TEST(run, reports_errors_of_leftover_tasks_to_the_exception_handler) {
    support::CaptureHandler cap;
    asyncio::TaskRef leftover;
    EXPECT_EQ(support::run_virtual(leave_failing_task(leftover), cap), 123);
    ASSERT_TRUE(static_cast<bool>(leftover));
    EXPECT_TRUE(leftover.done());
    EXPECT_FALSE(leftover.cancelled());
    ASSERT_EQ(cap.size(), 1u) << ::testing::PrintToString(cap.messages());
    EXPECT_EQ(cap.at(0).message, "unhandled exception during asyncio.run() shutdown");
    EXPECT_TRUE(cap.at(0).task == leftover);
    EXPECT_TRUE(support::holds<ZeroDivisionError>(cap.at(0).exception));
    EXPECT_EQ(cap.at(0).what, "division by zero");
    leftover = asyncio::TaskRef();
    EXPECT_EQ(cap.size(), 1u);  // reported once, not again as "never retrieved"
}

Coro<int> main_raises_with_leftover(asyncio::TaskRef& leftover, Trace& trace) {
    leftover = asyncio::create_task(leftover_sleeper(trace));
    co_await asyncio::sleep(0);
    throw asyncio::ValueError("main failed");
}

TEST(run, cancels_leftover_tasks_when_main_raises) {
    asyncio::TaskRef leftover;
    Trace trace;
    EXPECT_THROW_MSG(support::run_virtual(main_raises_with_leftover(leftover, trace)),
                     asyncio::ValueError, "main failed");
    ASSERT_TRUE(static_cast<bool>(leftover));
    EXPECT_TRUE(leftover.cancelled());
    EXPECT_TRUE(trace.empty());
}

// ------------------------------------------------------------------ Runner

Coro<std::string> done_after_yield() {
    co_await asyncio::sleep(0);
    co_return "done";
}

// CPython: test_runners.py::RunnerTests::test_run
TEST(Runner, run_returns_and_close_makes_the_runner_unusable) {
    asyncio::EventLoop* loop = nullptr;
    {
        asyncio::Runner runner;
        EXPECT_EQ(runner.run(done_after_yield()), "done");
        loop = &runner.get_loop();
        runner.close();
        EXPECT_TRUE(loop->is_closed());
        EXPECT_THROW_MSG(runner.get_loop(), asyncio::RuntimeError, "Runner is closed");
    }
}

Coro<asyncio::EventLoop*> record(Trace& trace, int arg) {
    trace(arg);
    co_return &asyncio::get_running_loop();
}

// CPython: test_runners.py::RunnerTests::test_set_event_loop_called_once
TEST(Runner, runs_twice_on_the_same_loop) {
    asyncio::Runner runner;
    Trace trace;
    asyncio::EventLoop& loop = runner.get_loop();
    EXPECT_EQ(runner.run(record(trace, 1)), &loop);
    EXPECT_EQ(runner.run(record(trace, 2)), &loop);
    EXPECT_EQ(&runner.get_loop(), &loop);
    EXPECT_FALSE(loop.is_closed());
    EXPECT_EQ(trace.str(), "1 2");
}

// CPython: test_runners.py::RunnerTests::test_explicit_close / test_double_close
TEST(Runner, close_is_idempotent) {
    asyncio::Runner runner;
    asyncio::EventLoop& loop = runner.get_loop();
    runner.close();
    EXPECT_TRUE(loop.is_closed());
    runner.close();  // no-op
    EXPECT_TRUE(loop.is_closed());
    EXPECT_THROW_MSG(runner.get_loop(), asyncio::RuntimeError, "Runner is closed");

    asyncio::Runner never_used;
    never_used.close();  // no loop was made
    never_used.close();
    EXPECT_THROW_MSG(never_used.get_loop(), asyncio::RuntimeError, "Runner is closed");
}

Coro<void> append(Trace& trace, int v, Counted) {
    trace(v);
    co_return;
}

// CPython: test_runners.py::RunnerTests::test_second_with_block_raises
TEST(Runner, run_after_close_raises) {
    Counted::reset();
    Trace trace;
    asyncio::Runner runner;
    runner.run(append(trace, 1, Counted()));
    runner.close();
    EXPECT_THROW_MSG(runner.run(append(trace, 2, Counted())), asyncio::RuntimeError,
                     "Runner is closed");
    EXPECT_EQ(trace.str(), "1");
    EXPECT_EQ(Counted::live(), 0);
}

// CPython: test_runners.py::RunnerTests::test_debug / test_non_debug
TEST(Runner, debug_option) {
    asyncio::Runner debug({.debug = true});
    EXPECT_TRUE(debug.get_loop().get_debug());
    EXPECT_TRUE(debug.run(debug_flag()));
    asyncio::Runner non_debug({.debug = false});
    EXPECT_FALSE(non_debug.get_loop().get_debug());
    EXPECT_FALSE(non_debug.run(debug_flag()));
}

// CPython: test_runners.py::RunnerTests::test_custom_factory
TEST(Runner, custom_loop_factory) {
    asyncio::EventLoop* made = nullptr;
    asyncio::Runner runner({.loop_factory = [&made] {
        auto loop = asyncio::testing::new_virtual_event_loop();
        made = loop.get();
        return loop;
    }});
    EXPECT_EQ(&runner.get_loop(), made);
    EXPECT_TRUE(runner.get_loop().virtual_time());
    EXPECT_EQ(runner.run(running_loop_address()), made);
}

Coro<void> recursive_runner_run(asyncio::Runner& runner, Trace& trace) {
    try {
        runner.run(record(trace, 2));
    } catch (const asyncio::RuntimeError& e) {
        trace(e.what());
    }
    co_return;
}

// CPython: test_runners.py::RunnerTests::test_recursive_run
TEST(Runner, recursive_run_raises) {
    Trace trace;
    asyncio::Runner runner;
    runner.run(recursive_runner_run(runner, trace));
    EXPECT_EQ(trace.str(), "Runner.run() cannot be called from a running event loop");
}

Coro<void> leftover_in_runner(asyncio::TaskRef& out) {
    out = asyncio::create_task(asyncio::sleep(10));
    co_return;
}

TEST(Runner, tasks_left_by_a_run_survive_until_close) {
    asyncio::TaskRef leftover;
    asyncio::Runner runner({.loop_factory = asyncio::testing::new_virtual_event_loop});
    runner.run(leftover_in_runner(leftover));
    EXPECT_FALSE(leftover.done());  // run() alone does not cancel (Python neither)
    runner.run(asyncio::sleep(1));
    EXPECT_FALSE(leftover.done());
    runner.close();
    EXPECT_TRUE(leftover.cancelled());
}

// --------------------------------------------------------- testing::run

Coro<std::pair<double, double>> virtual_times() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    const double start = loop.time();
    co_await asyncio::sleep(3600);
    co_return std::pair{start, loop.time()};
}

TEST(testing, run_uses_a_virtual_clock) {
    const auto wall = std::chrono::steady_clock::now();
    const auto [start, end] = asyncio::testing::run(virtual_times());
    EXPECT_NEAR(start, 0.0, 1e-9);
    EXPECT_NEAR(end, 3600.0, 1e-9);
    EXPECT_LT(std::chrono::steady_clock::now() - wall, std::chrono::seconds(1));
    // A real loop's clock is the monotonic clock (not near zero).
    auto real = asyncio::new_event_loop();
    EXPECT_FALSE(real->virtual_time());
    EXPECT_GT(real->time(), 0.0);
}

// ------------------------------------------------------------------ SIGINT

// The Runner handles SIGINT only when it is at SIG_DFL and only in the main
// thread (gtest runs tests there). Each SIGINT test sets SIG_DFL and puts the
// previous disposition back afterwards, and raises SIGINT only after checking
// that a handler is installed, so a broken runner fails the test instead of
// killing the test program.
class sigint : public ::testing::Test {
protected:
    void SetUp() override {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ASSERT_EQ(::sigaction(SIGINT, &dfl, &saved_), 0);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        ASSERT_EQ(::pthread_sigmask(SIG_UNBLOCK, &set, &saved_mask_), 0);
    }
    void TearDown() override {
        EXPECT_TRUE(sigint_is_default()) << "the runner did not restore SIGINT";
        ::sigaction(SIGINT, &saved_, nullptr);
        ::pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
    }

public:
    static bool sigint_is_default() {
        struct sigaction cur {};
        ::sigaction(SIGINT, nullptr, &cur);
        return (cur.sa_flags & SA_SIGINFO) == 0 && cur.sa_handler == SIG_DFL;
    }
    /// raise(SIGINT) if someone handles it; otherwise fail and cancel `fallback`.
    static void interrupt_self(asyncio::TaskRef fallback = {}) {
        if (sigint_is_default()) {
            ADD_FAILURE() << "no SIGINT handler installed by the Runner";
            if (fallback) fallback.cancel();
            return;
        }
        ::raise(SIGINT);
    }

private:
    struct sigaction saved_ {};
    sigset_t saved_mask_{};
};

Coro<void> loop_on_sleep0(Trace& trace) {
    bool cancelled = false;
    try {
        for (;;) co_await asyncio::sleep(0);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    trace("main cancelled=", cancelled);
    throw asyncio::CancelledError();
}

// CPython: test_runners.py::RunnerTests::test_interrupt_call_soon
TEST_F(sigint, interrupt_while_yielding_ends_in_keyboard_interrupt) {
    Trace trace;
    // A real clock: a task that never stops yielding keeps a virtual clock
    // from ever reaching a timer.
    asyncio::Runner runner;
    asyncio::EventLoop* loop = &runner.get_loop();
    loop->call_later(0.002, [] { interrupt_self(); });
    // If no signal arrives, this ends the run (and fails the test) instead of hanging.
    loop->call_later(5, [loop] {
        for (asyncio::TaskRef& t : asyncio::all_tasks(loop)) t.cancel();
    });
    EXPECT_THROW(runner.run(loop_on_sleep0(trace)), asyncio::KeyboardInterrupt);
    EXPECT_EQ(trace.str(), "main cancelled=1");
}

Coro<void> wait_on_future(asyncio::Future<int> fut, Trace& trace) {
    bool cancelled = false;
    try {
        co_await fut;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    trace("main cancelled=", cancelled);
    throw asyncio::CancelledError();
}

// CPython: test_runners.py::RunnerTests::test_interrupt_wait
TEST_F(sigint, interrupt_while_waiting_cancels_the_future_and_main) {
    Trace trace;
    asyncio::Runner runner({.loop_factory = asyncio::testing::new_virtual_event_loop});
    asyncio::Future<int> fut = runner.get_loop().create_future<int>();
    runner.get_loop().call_later(0.1, [] { interrupt_self(); });
    // If no signal arrives, this ends the wait (and fails the test) instead of hanging.
    runner.get_loop().call_later(10, [fut]() mutable { fut.cancel(); });
    EXPECT_THROW(runner.run(wait_on_future(fut, trace)), asyncio::KeyboardInterrupt);
    EXPECT_TRUE(fut.cancelled());
    EXPECT_EQ(trace.str(), "main cancelled=1");
}

Coro<void> cancel_main_then_interrupt(asyncio::TaskRef main_task) {
    co_await asyncio::sleep(0);
    main_task.cancel();
    sigint::interrupt_self(main_task);
}

Coro<void> spawn_canceller() {
    asyncio::create_task(cancel_main_then_interrupt(asyncio::current_task()));
    co_await asyncio::sleep(10);
}

// CPython: test_runners.py::RunnerTests::test_interrupt_cancelled_task
TEST_F(sigint, interrupting_an_already_cancelled_main_raises_cancelled_error) {
    asyncio::Runner runner({.loop_factory = asyncio::testing::new_virtual_event_loop});
    bool cancelled = false;
    try {
        runner.run(spawn_canceller());
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    } catch (const asyncio::KeyboardInterrupt&) {
        ADD_FAILURE() << "KeyboardInterrupt instead of CancelledError";
    }
    EXPECT_TRUE(cancelled);
}

Coro<void> raise_sigint_from_task(Trace& trace) {
    asyncio::TaskRef main_task = asyncio::current_task();
    auto child = asyncio::create_task(asyncio::co_invoke([main_task]() -> Coro<void> {
        co_await asyncio::sleep(0);
        sigint::interrupt_self(main_task);
    }));
    bool cancelled = false;
    try {
        co_await asyncio::sleep(3600);
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    trace("main cancelled=", cancelled);
    if (cancelled) throw asyncio::CancelledError();
}

TEST_F(sigint, asyncio_run_turns_sigint_into_keyboard_interrupt) {
    Trace trace;
    EXPECT_THROW(asyncio::testing::run(raise_sigint_from_task(trace)), asyncio::KeyboardInterrupt);
    EXPECT_EQ(trace.str(), "main cancelled=1");
}

struct ThreadSignalState {
    std::atomic<asyncio::EventLoop*> loop{nullptr};
    asyncio::Future<void> never;  // written before `loop` is published
};

Coro<void> wait_for_signal_from_thread(ThreadSignalState& state, Trace& trace) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    state.never = loop.create_future<void>();
    asyncio::Future<void> never = state.never;
    state.loop.store(&loop);
    bool cancelled = false;
    try {
        co_await never;  // the real-time loop blocks in epoll until something wakes it
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    trace("main cancelled=", cancelled);
    if (cancelled) throw asyncio::CancelledError();
}

TEST_F(sigint, sigint_from_another_thread_wakes_a_blocked_loop) {
    Trace trace;
    ThreadSignalState state;
    std::atomic<bool> sent{false};
    std::thread killer([&] {
        asyncio::EventLoop* loop = nullptr;
        while (!(loop = state.loop.load()))
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the loop block
        if (!sigint_is_default()) {
            ::kill(::getpid(), SIGINT);
            sent.store(true);
        } else {
            // No handler: end the run without a signal, so the test fails
            // instead of hanging or killing the program.
            loop->call_soon_threadsafe([&state] { state.never.cancel(); });
        }
    });
    bool interrupted = false;
    try {
        asyncio::run(wait_for_signal_from_thread(state, trace));
    } catch (const asyncio::KeyboardInterrupt&) {
        interrupted = true;
    } catch (const asyncio::CancelledError&) {
    }
    killer.join();
    state.never = asyncio::Future<void>();
    EXPECT_TRUE(sent.load());
    EXPECT_TRUE(interrupted);
    EXPECT_EQ(trace.str(), "main cancelled=1");
}

std::atomic<int> g_custom_sigint_calls{0};
extern "C" void custom_sigint_handler(int) {
    g_custom_sigint_calls.fetch_add(1);
}

Coro<int> raise_sigint_and_finish() {
    ::raise(SIGINT);  // goes to the program's own handler
    co_await asyncio::sleep(0);
    co_return 5;
}

// CPython: test_runners.py::RunnerTests::test_signal_install_not_supported_ok
// (here: a program that handles SIGINT itself keeps its handler).
TEST_F(sigint, program_sigint_handler_is_left_alone) {
    struct sigaction custom {};
    custom.sa_handler = &custom_sigint_handler;
    sigemptyset(&custom.sa_mask);
    struct sigaction dfl {};
    ASSERT_EQ(::sigaction(SIGINT, &custom, &dfl), 0);
    g_custom_sigint_calls.store(0);

    EXPECT_EQ(asyncio::testing::run(raise_sigint_and_finish()), 5);
    EXPECT_EQ(g_custom_sigint_calls.load(), 1);

    struct sigaction cur {};
    ::sigaction(SIGINT, &dfl, &cur);  // back to SIG_DFL for TearDown
    EXPECT_EQ(cur.sa_handler, &custom_sigint_handler);
}

Coro<int> check_handler_installed() {
    co_return sigint::sigint_is_default() ? 0 : 1;
}

TEST_F(sigint, runner_installs_a_handler_only_while_running) {
    asyncio::Runner runner({.loop_factory = asyncio::testing::new_virtual_event_loop});
    EXPECT_TRUE(sigint_is_default());
    EXPECT_EQ(runner.run(check_handler_installed()), 1);
    EXPECT_TRUE(sigint_is_default());
}

TEST_F(sigint, no_handler_outside_the_main_thread) {
    int installed = -1;
    std::thread t([&] { installed = asyncio::testing::run(check_handler_installed()); });
    t.join();
    EXPECT_EQ(installed, 0);
}

}  // namespace
