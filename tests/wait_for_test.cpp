// wait_for_test.cpp — asyncio::wait_for on coroutines, tasks and futures,
// on the virtual clock.
//
// Ported from CPython's Lib/test/test_asyncio/test_waitfor.py (3.13); the
// interleavings with a ticking task were run in Python 3.13 (wf.py) and
// its output is quoted beside each test.
#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asyncio.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::Trace;

namespace {

// CPython's _EPSILON: passes `timeout > 0`, costs nothing.
constexpr double kEpsilon = 0.0001;

std::exception_ptr nested_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::nested_exception& n) {
        return n.nested_ptr();
    } catch (...) {
        return nullptr;
    }
}

/// Records tick0..tick{n-1}, one per loop iteration.
Coro<> ticker(Trace& t, int n) {
    for (int i = 0; i < n; ++i) {
        t.add("tick", i);
        co_await sleep(0);
    }
}

/// CPython's SlowTask: runs for 0.2 s of loop time, ignoring cancellations.
struct SlowTask {
    static constexpr double kTaskTimeout = 0.2;
    bool exited = false;

    Coro<std::string> run() {
        EventLoop& loop = get_running_loop();
        const double exitat = loop.time() + kTaskTimeout;
        for (;;) {
            const double tosleep = exitat - loop.time();
            if (tosleep <= 0) break;
            try {
                co_await sleep(tosleep);
            } catch (const CancelledError&) {
            }
        }
        exited = true;
        co_return "slow";
    }
};

}  // namespace

// ------------------------------------------------------------ coroutines

TEST(wait_for, returns_the_coroutines_result_with_no_timeout) {
    // CPython: test_waitfor.py::test_wait_for_blocking
    const std::string r = support::run_virtual([]() -> Coro<std::string> {
        auto coro = []() -> Coro<std::string> { co_return "done"; };
        co_return co_await wait_for(coro(), std::nullopt);
    }());
    EXPECT_EQ(r, "done");
}

TEST(wait_for, runs_a_coroutine_inline_in_the_awaiting_task) {
    support::run_virtual([]() -> Coro<> {
        const TaskRef me = current_task();
        auto coro = [&]() -> Coro<bool> {
            co_await sleep(1);
            co_return current_task() == me;
        };
        EXPECT_TRUE(co_await wait_for(coro(), 10));
        EXPECT_EQ(all_tasks().size(), 1u);
    }());
}

TEST(wait_for, a_coroutine_past_its_deadline_raises_timeout_error) {
    // The docs' example: wait_for(eternity(), timeout=1.0) -> "timeout!"
    support::run_virtual([]() -> Coro<> {
        auto eternity = []() -> Coro<> { co_await sleep(3600); };
        std::exception_ptr e;
        try {
            co_await wait_for(eternity(), 1.0);
        } catch (const TimeoutError&) {
            e = std::current_exception();
        }
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e)));
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 1.0);
    }());
}

TEST(wait_for, a_coroutine_that_handles_the_cancellation_and_returns_gives_its_value) {
    // CPython: test_waitfor.py::test_wait_for_cancellation_race_condition
    const int r = support::run_virtual([]() -> Coro<int> {
        auto inner = []() -> Coro<int> {
            EXPECT_THROW(co_await sleep(1), CancelledError);
            co_return 1;
        };
        co_return co_await wait_for(inner(), 0.01);
    }());
    EXPECT_EQ(r, 1);
}

TEST(wait_for, a_coroutine_that_suppresses_the_cancellation_gives_its_value) {
    // CPython: test_waitfor.py::test_wait_for_cancel_suppressed (GH-86296)
    const int r = support::run_virtual([]() -> Coro<int> {
        auto return_42 = []() -> Coro<int> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                co_return 42;
            }
            co_return 0;
        };
        co_return co_await wait_for(return_42(), 0.1);
    }());
    EXPECT_EQ(r, 42);
}

TEST(wait_for, a_coroutine_that_ignores_cancellation_runs_to_its_end) {
    // CPython: test_waitfor.py::test_asyncio_wait_for_timeout; Python (wf.py,
    // scen_slow): wait_for returns the coroutine's value, "slow True".
    support::run_virtual([]() -> Coro<> {
        SlowTask t;
        const std::string r = co_await wait_for(t.run(), SlowTask::kTaskTimeout / 2);
        EXPECT_EQ(r, "slow");
        EXPECT_TRUE(t.exited);
        EXPECT_DOUBLE_EQ(get_running_loop().time(), SlowTask::kTaskTimeout);
    }());
}

TEST(wait_for, cancelling_the_waiting_task_waits_for_a_slow_coroutine) {
    // CPython: test_waitfor.py::test_asyncio_wait_for_cancelled
    support::run_virtual([]() -> Coro<> {
        SlowTask t;
        Task<std::string> waitfortask = create_task(wait_for(t.run(), SlowTask::kTaskTimeout * 2));
        co_await sleep(0);
        waitfortask.cancel();
        const std::vector<Task<std::string>> aws{waitfortask};
        co_await asyncio::wait(aws);
        EXPECT_TRUE(t.exited);
    }());
}

TEST(wait_for, zero_never_starts_a_coroutine) {
    // CPython: test_waitfor.py::test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started
    // Python (wf2.py): "tick0 tick1 tick2 TimeoutError tick3 TimeoutError"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        bool started = false;
        auto foo = [&]() -> Coro<int> {
            started = true;
            co_return 1;
        };
        Task<> tick = create_task(ticker(t, 4));
        for (const double timeout : {0.0, -1.0}) {
            std::exception_ptr e;
            try {
                co_await wait_for(foo(), timeout);
            } catch (const TimeoutError&) {
                t.add("TimeoutError");
                e = std::current_exception();
            }
            EXPECT_TRUE(support::holds<CancelledError>(nested_of(e)));
        }
        EXPECT_FALSE(started);
        co_await tick;
    }());
    EXPECT_EQ(t.str(), "tick0 tick1 tick2 TimeoutError tick3 TimeoutError");
}

TEST(wait_for, an_exception_in_the_coroutine_propagates) {
    support::run_virtual([]() -> Coro<> {
        auto boom = []() -> Coro<int> {
            co_await sleep(0.5);
            throw ValueError("boom");
        };
        EXPECT_THROW_MSG(co_await wait_for(boom(), 1), ValueError, "boom");
    }());
}

// ------------------------------------------------------------ tasks

TEST(wait_for, a_task_past_its_deadline_is_cancelled) {
    // CPython: test_waitfor.py::test_wait_for
    support::run_virtual([]() -> Coro<> {
        std::optional<bool> foo_running;
        auto foo = [&]() -> Coro<std::string> {
            foo_running = true;
            try {
                co_await sleep(3600);
            } catch (...) {
                foo_running = false;
                throw;
            }
            foo_running = false;
            co_return "done";
        };
        Task<std::string> fut = create_task(foo());
        EXPECT_THROW(co_await wait_for(fut, 0.1), TimeoutError);
        EXPECT_TRUE(fut.done());
        EXPECT_TRUE(fut.cancelled());
        EXPECT_EQ(foo_running, false);
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.1);
    }());
}

TEST(wait_for, zero_or_less_cancels_a_running_task) {
    // CPython: test_waitfor.py::test_wait_for_timeout_less_then_0_or_0
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        for (const double timeout : {0.0, -1.0}) {
            std::optional<bool> foo_running;
            Future<> started = loop.create_future();
            auto foo = [&]() -> Coro<std::string> {
                foo_running = true;
                started.set_result();
                try {
                    co_await sleep(10);
                } catch (...) {
                    foo_running = false;
                    throw;
                }
                foo_running = false;
                co_return "done";
            };
            Task<std::string> fut = create_task(foo());
            co_await started;
            EXPECT_THROW(co_await wait_for(fut, timeout), TimeoutError);
            EXPECT_TRUE(fut.done());
            EXPECT_TRUE(fut.cancelled());
            EXPECT_EQ(foo_running, false);
        }
    }());
}

TEST(wait_for, zero_waits_for_the_task_to_finish_its_cancellation) {
    // Python (wf.py, scen_zero_task):
    //   "inner start tick0 inner cancelled tick1 inner cleanup done tick2 tick3
    //    TimeoutError cause=CancelledError"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        auto inner = [&]() -> Coro<> {
            std::exception_ptr raised;
            try {
                t.add("inner start");
                co_await sleep(10);
            } catch (const CancelledError&) {
                t.add("inner cancelled");
                raised = std::current_exception();
            }
            co_await sleep(0);
            t.add("inner cleanup done");
            std::rethrow_exception(raised);
        };
        Task<> task = create_task(inner());
        co_await sleep(0);
        Task<> tick = create_task(ticker(t, 6));
        try {
            co_await wait_for(task, 0);
        } catch (const TimeoutError&) {
            t.add("TimeoutError cause=",
                  support::holds<CancelledError>(nested_of(std::current_exception()))
                      ? "CancelledError"
                      : "?");
        }
        co_await tick;
    }());
    EXPECT_EQ(t.str(),
              "inner start tick0 inner cancelled tick1 inner cleanup done tick2 tick3 "
              "TimeoutError cause=CancelledError tick4 tick5");
}

TEST(wait_for, waits_for_the_task_to_finish_its_cancellation) {
    // CPython: test_waitfor.py::test_wait_for_waits_for_task_cancellation
    // Python (wf.py, scen_timeout_task, 0.5 s of cleanup):
    //   "inner cancelled at 1.0 inner cleanup done TimeoutError at 1.5 True"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        bool task_done = false;
        auto inner = [&]() -> Coro<> {
            std::exception_ptr raised;
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                t.add("inner cancelled at ", loop.time());
                raised = std::current_exception();
            }
            co_await sleep(0.5);
            t.add("inner cleanup done");
            task_done = true;
            std::rethrow_exception(raised);
        };
        Task<> inner_task = create_task(inner());
        std::exception_ptr e;
        try {
            co_await wait_for(inner_task, 1);
        } catch (const TimeoutError&) {
            t.add("TimeoutError at ", loop.time(), " ", inner_task.cancelled() ? "True" : "False");
            e = std::current_exception();
        }
        EXPECT_TRUE(task_done);
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e)));  // Python: __context__
    }());
    EXPECT_EQ(t.str(), "inner cancelled at 1 inner cleanup done TimeoutError at 1.5 True");
}

TEST(wait_for, zero_waits_for_a_started_task_to_finish_its_cancellation) {
    // CPython: test_waitfor.py::test_wait_for_waits_for_task_cancellation_w_timeout_0
    support::run_virtual([]() -> Coro<> {
        bool task_done = false;
        auto foo = [&]() -> Coro<> {
            auto inner = [&]() -> Coro<> {
                std::exception_ptr raised;
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    raised = std::current_exception();
                }
                if (raised) co_await sleep(kEpsilon);
                task_done = true;  // finally:
                if (raised) std::rethrow_exception(raised);
            };
            Task<> inner_task = create_task(inner());
            co_await sleep(kEpsilon);
            co_await wait_for(inner_task, 0);
        };
        std::exception_ptr e;
        try {
            co_await foo();
        } catch (const TimeoutError&) {
            e = std::current_exception();
        }
        EXPECT_TRUE(task_done);
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e)));
    }());
}

TEST(wait_for, an_error_raised_while_the_task_handles_its_cancellation_propagates) {
    // CPython: test_waitfor.py::test_wait_for_reraises_exception_during_cancellation
    support::run_virtual([]() -> Coro<> {
        auto foo = []() -> Coro<> {
            auto inner = []() -> Coro<> {
                try {
                    co_await sleep(0.2);
                } catch (...) {
                }
                throw LookupError("FooException");  // finally: raise FooException
            };
            Task<> inner_task = create_task(inner());
            co_await wait_for(inner_task, kEpsilon);
        };
        EXPECT_THROW_MSG(co_await foo(), LookupError, "FooException");
    }());
}

TEST(wait_for, cancelling_the_wait_cancels_the_task) {
    // CPython: test_waitfor.py::test_cancel_blocking_wait_for, test_cancel_wait_for
    // (Python issue #23219)
    for (const std::optional<Delay> timeout :
         {std::optional<Delay>(), std::optional<Delay>(60.0)}) {
        support::run_virtual([&]() -> Coro<> {
            EventLoop& loop = get_running_loop();
            auto blocking_coroutine = [&]() -> Coro<> {
                Future<> fut = loop.create_future();
                co_await fut;  // never set
            };
            Task<> task = create_task(blocking_coroutine());
            Task<> wait = create_task(wait_for(task, timeout));
            loop.call_soon([wait]() mutable { wait.cancel(); });
            EXPECT_THROW(co_await wait, CancelledError);
            EXPECT_TRUE(task.cancelled());
        }());
    }
}

TEST(wait_for, issue86296_a_cancel_after_the_inner_finished_is_not_lost) {
    // CPython: test_waitfor.py::test_wait_for_issue86296
    support::run_virtual([]() -> Coro<> {
        auto inner = []() -> Coro<std::string> { co_return "done"; };
        Task<std::string> inner_task = create_task(inner());
        bool reached_end = false;
        auto wait_for_coro = [&]() -> Coro<> {
            co_await wait_for(inner_task, 100);
            co_await sleep(1);
            reached_end = true;
        };
        Task<> task = create_task(wait_for_coro());
        EXPECT_FALSE(task.done());
        co_await sleep(0);
        task.cancel();
        EXPECT_THROW(co_await task, CancelledError);
        EXPECT_TRUE(inner_task.done());
        EXPECT_EQ(co_await inner_task, "done");
        EXPECT_FALSE(reached_end);
    }());
}

TEST(wait_for, an_outer_cancel_arriving_as_the_inner_completes_wins) {
    // Python (wf.py, scen_outer_cancel_same_moment): "w cancelled=True inner=x"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        auto inner = []() -> Coro<std::string> {
            co_await sleep(0);
            co_return "x";
        };
        Task<std::string> it = create_task(inner());
        auto waiter = [&]() -> Coro<std::string> { co_return co_await wait_for(it, 10); };
        Task<std::string> w = create_task(waiter());
        it.add_done_callback([w](const Task<std::string>&) mutable { w.cancel(); });
        try {
            t.add("returned ", co_await w);
        } catch (const CancelledError&) {
            t.add("w cancelled=", w.cancelled() ? "True" : "False", " inner=", it.result());
        }
    }());
    EXPECT_EQ(t.str(), "w cancelled=True inner=x");
}

TEST(wait_for, an_outer_cancel_in_the_deadlines_iteration_is_not_a_timeout) {
    // Python (wf.py, scen_outer_cancel_same_iteration_as_deadline):
    //   "CancelledError True True"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Task<> it = create_task(sleep(10));
        auto waiter = [&]() -> Coro<> { co_await wait_for(it, 1); };
        Task<> w = create_task(waiter());
        co_await sleep(0);
        loop.call_later(1, [w]() mutable { w.cancel(); });
        try {
            co_await w;
        } catch (const TimeoutError&) {
            t.add("TimeoutError");
        } catch (const CancelledError&) {
            t.add("CancelledError ", w.cancelled() ? "True" : "False", " ",
                  it.cancelled() ? "True" : "False");
        }
    }());
    EXPECT_EQ(t.str(), "CancelledError True True");
}

// ------------------------------------------------------------ futures

TEST(wait_for, zero_returns_a_done_futures_result) {
    // CPython: test_waitfor.py::test_wait_for_timeout_less_then_0_or_0_future_done
    support::run_virtual([]() -> Coro<> {
        Future<std::string> fut = get_running_loop().create_future<std::string>();
        fut.set_result("done");
        EXPECT_EQ(co_await wait_for(fut, 0), "done");
        EXPECT_TRUE(fut.done());
        Future<> failed = get_running_loop().create_future();
        failed.set_exception(std::make_exception_ptr(ValueError("v")));
        EXPECT_THROW_MSG(co_await wait_for(failed, 0), ValueError, "v");
    }());
}

TEST(wait_for, zero_cancels_a_pending_future) {
    // Python (wf.py, scen_zero_future): "tick0 tick1 TimeoutError True"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Future<int> fut = get_running_loop().create_future<int>();
        Task<> tick = create_task(ticker(t, 4));
        try {
            co_await wait_for(fut, 0);
        } catch (const TimeoutError&) {
            t.add("TimeoutError ", fut.cancelled() ? "True" : "False");
        }
        co_await tick;
    }());
    EXPECT_EQ(t.str(), "tick0 tick1 TimeoutError True tick2 tick3");
}

TEST(wait_for, a_future_set_before_the_deadline_gives_its_value) {
    // CPython: test_waitfor.py::test_wait_for_race_condition
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Future<std::string> fut = loop.create_future<std::string>();
        Coro<std::string> task = wait_for(fut, 0.2);
        loop.call_soon([fut] { fut.set_result("ok"); });
        EXPECT_EQ(co_await task, "ok");
    }());
}

TEST(wait_for, a_future_past_its_deadline_is_cancelled) {
    support::run_virtual([]() -> Coro<> {
        Future<int> fut = get_running_loop().create_future<int>();
        EXPECT_THROW(co_await wait_for(fut, 0.5), TimeoutError);
        EXPECT_TRUE(fut.cancelled());
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.5);
    }());
}

TEST(wait_for, is_lazy) {
    // Like any coroutine, nothing happens until it is awaited.
    Coro<int> c = wait_for([]() -> Coro<int> { co_return 1; }(), 1);
    EXPECT_FALSE(c.awaited());
}

// ------------------------------------------------------------ with shield

TEST(wait_for, zero_cancels_the_shield_not_the_task) {
    // CPython: test_waitfor.py::WaitForShieldTests::test_zero_timeout
    support::run_virtual([]() -> Coro<> {
        auto coro = []() -> Coro<std::string> {
            co_await sleep(0.01);
            co_return "done";
        };
        Task<std::string> task = create_task(coro());
        Future<std::string> shielded_task = shield(task);
        EXPECT_THROW(co_await wait_for(shielded_task, 0), TimeoutError);
        EXPECT_FALSE(task.done());  // running in the background
        EXPECT_FALSE(task.cancelled());
        EXPECT_TRUE(shielded_task.cancelled());
        co_await sleep(0.1);
        EXPECT_TRUE(task.done());
    }());
}

TEST(wait_for, none_waits_for_the_shielded_task) {
    // CPython: test_waitfor.py::WaitForShieldTests::test_none_timeout
    support::run_virtual([]() -> Coro<> {
        auto coro = []() -> Coro<std::string> {
            co_await sleep(0.1);
            co_return "done";
        };
        Task<std::string> task = create_task(coro());
        co_await wait_for(shield(task), std::nullopt);
        EXPECT_TRUE(task.done());
        EXPECT_EQ(co_await task, "done");
    }());
}

TEST(wait_for, a_shielded_task_survives_the_timeout) {
    // CPython: test_waitfor.py::WaitForShieldTests::test_shielded_timeout
    support::run_virtual([]() -> Coro<> {
        auto coro = []() -> Coro<std::string> {
            co_await sleep(0.1);
            co_return "done";
        };
        Task<std::string> task = create_task(coro());
        EXPECT_THROW(co_await wait_for(shield(task), 0.01), TimeoutError);
        EXPECT_FALSE(task.done());
        EXPECT_FALSE(task.cancelled());
        EXPECT_EQ(co_await task, "done");
    }());
}
