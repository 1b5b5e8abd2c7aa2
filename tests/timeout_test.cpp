// timeout_test.cpp — asyncio::timeout, timeout_at and Timeout, on the
// virtual clock (two labelled real-time cases where CPython blocks the loop).
//
// Ported from CPython's Lib/test/test_asyncio/test_timeouts.py (3.13); the
// other scenarios were run in Python 3.13 and their output is quoted beside
// each test. C++ has no __context__ chain: where CPython checks one, we check
// the exception that propagates and the TimeoutError's nested CancelledError
// (its __cause__).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "asyncio.hpp"
#include "support/capture_handler.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::Trace;

namespace {

/// The exception nested in `e` (what std::throw_with_nested attached), or null.
std::exception_ptr nested_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::nested_exception& n) {
        return n.nested_ptr();
    } catch (...) {
        return nullptr;
    }
}

/// A body that sleeps `d` seconds.
auto sleeper(double d) {
    return [d](Timeout&) -> Coro<> { co_await sleep(d); };
}

}  // namespace

// ------------------------------------------------------------ basics

TEST(timeout, expires_and_raises_timeout_error) {
    // CPython: test_timeouts.py::test_timeout_basic
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(0.01);
        EXPECT_THROW_MSG(co_await async_with(cm, [](Timeout&) -> Coro<> { co_await sleep(10); }),
                         TimeoutError, "");
        EXPECT_TRUE(cm.expired());
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.01);
    }());
}

TEST(timeout_at, expires_at_the_absolute_deadline) {
    // CPython: test_timeouts.py::test_timeout_at_basic
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        const double deadline = loop.time() + 0.01;
        Timeout cm = timeout_at(deadline);
        EXPECT_THROW_MSG(co_await async_with(cm, [](Timeout&) -> Coro<> { co_await sleep(10); }),
                         TimeoutError, "");
        EXPECT_TRUE(cm.expired());
        EXPECT_EQ(cm.when(), deadline);
    }());
}

TEST(timeout, the_timeout_error_carries_the_cancelled_error_as_its_nested_exception) {
    // Python: `raise TimeoutError from exc_val`; C++: std::throw_with_nested.
    support::run_virtual([]() -> Coro<> {
        std::exception_ptr e;
        try {
            co_await async_with(timeout(1), sleeper(10));
        } catch (const TimeoutError&) {
            e = std::current_exception();
        }
        EXPECT_TRUE(support::holds<std::nested_exception>(e));
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e)));
    }());
}

TEST(timeout, the_body_sees_the_cancellation_first) {
    // CPython: test_timeouts.py::test_waiter_cancelled
    support::run_virtual([]() -> Coro<> {
        bool cancelled = false;
        EXPECT_THROW_MSG(co_await async_with(timeout(0.01),
                                             [&](Timeout&) -> Coro<> {
                                                 std::exception_ptr raised;
                                                 try {
                                                     co_await sleep(10);
                                                 } catch (const CancelledError&) {
                                                     cancelled = true;
                                                     raised = std::current_exception();
                                                 }
                                                 if (raised) std::rethrow_exception(raised);
                                             }),
                         TimeoutError, "");
        EXPECT_TRUE(cancelled);
    }());
}

TEST(timeout, not_reached_leaves_the_block_alone) {
    // CPython: test_timeouts.py::test_timeout_not_called
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Timeout cm = timeout(10);
        co_await async_with(cm, sleeper(0.01));
        const double t1 = loop.time();
        EXPECT_FALSE(cm.expired());
        EXPECT_GT(cm.when().value_or(0.0), t1);
    }());
}

TEST(timeout, none_never_expires) {
    // CPython: test_timeouts.py::test_timeout_disabled, test_timeout_at_disabled
    support::run_virtual([]() -> Coro<> {
        Timeout a = timeout(std::nullopt);
        co_await async_with(a, sleeper(0.01));
        EXPECT_FALSE(a.expired());
        EXPECT_FALSE(a.when());
        Timeout b = timeout_at(std::nullopt);
        co_await async_with(b, sleeper(3600));
        EXPECT_FALSE(b.expired());
        EXPECT_FALSE(b.when());
    }());
}

TEST(timeout, accepts_chrono_durations) {
    using namespace std::chrono_literals;
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(250ms);
        EXPECT_DOUBLE_EQ(*cm.when(), 0.25);
        EXPECT_THROW(co_await async_with(cm, sleeper(1)), TimeoutError);
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.25);
    }());
}

TEST(timeout, zero_expires_at_the_next_iteration) {
    // CPython: test_timeouts.py::test_timeout_zero
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        const double t0 = loop.time();
        Timeout cm = timeout(0);
        EXPECT_THROW(co_await async_with(cm, sleeper(10)), TimeoutError);
        const double t1 = loop.time();
        EXPECT_TRUE(cm.expired());
        EXPECT_TRUE(t0 <= *cm.when() && *cm.when() <= t1);
        EXPECT_EQ(t1, t0);  // no time passed: it fired through call_soon
    }());
}

TEST(timeout, zero_interrupts_a_sleep_zero) {
    // CPython: test_timeouts.py::test_timeout_zero_sleep_zero
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(0);
        EXPECT_THROW(co_await async_with(cm, sleeper(0)), TimeoutError);
        EXPECT_TRUE(cm.expired());
    }());
}

TEST(timeout, in_the_past_interrupts_a_sleep_zero) {
    // CPython: test_timeouts.py::test_timeout_in_the_past_sleep_zero
    support::run_virtual([]() -> Coro<> {
        const double t0 = get_running_loop().time();
        Timeout cm = timeout(-11);
        EXPECT_THROW(co_await async_with(cm, sleeper(0)), TimeoutError);
        EXPECT_TRUE(cm.expired());
        EXPECT_LE(*cm.when(), t0);
    }());
}

TEST(timeout, a_passed_deadline_fires_through_call_soon_in_fifo_order) {
    // Python (tscen.py, scen_a): "before after cancelled TimeoutError True".
    // Through the timer heap it would run after the task's step, and the
    // block would end before the deadline fired.
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        loop.call_soon([&] { t.add("before"); });
        Timeout cm = timeout(-1);
        try {
            co_await async_with(cm, [&](Timeout&) -> Coro<> {
                loop.call_soon([&] { t.add("after"); });
                std::exception_ptr raised;
                try {
                    co_await sleep(0);
                } catch (const CancelledError&) {
                    t.add("cancelled");
                    raised = std::current_exception();
                }
                if (raised) std::rethrow_exception(raised);
                t.add("not-cancelled");
            });
        } catch (const TimeoutError&) {
            t.add("TimeoutError");
        }
        t.add(cm.expired() ? "True" : "False");
    }());
    EXPECT_EQ(t.str(), "before after cancelled TimeoutError True");
}

// ------------------------------------------------------------ what passes through

TEST(timeout, a_foreign_exception_passes_through) {
    // CPython: test_timeouts.py::test_foreign_exception_passed
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(0.01);
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [](Timeout&) -> Coro<> {
                                                 throw ValueError("key");
                                                 co_return;
                                             }),
                         ValueError, "key");
        EXPECT_FALSE(cm.expired());
    }());
}

TEST(timeout, cleanup_after_an_error_that_gets_cancelled_raises_timeout_error) {
    // CPython: test_timeouts.py::test_timeout_exception_context
    //   try: 1/0  finally: await asyncio.sleep(1)   -> TimeoutError from CancelledError
    support::run_virtual([]() -> Coro<> {
        std::exception_ptr e;
        try {
            co_await async_with(timeout(0.01), [](Timeout&) -> Coro<> {
                std::exception_ptr raised;
                try {
                    throw ValueError("division by zero");
                } catch (...) {
                    raised = std::current_exception();
                }
                co_await sleep(1);  // finally:
                std::rethrow_exception(raised);
            });
        } catch (const TimeoutError&) {
            e = std::current_exception();
        }
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e)));
    }());
}

TEST(timeout, an_error_raised_while_handling_the_cancellation_passes_through) {
    // CPython: test_timeouts.py::test_foreign_exception_on_timeout
    //   crash(): try: await sleep(1) finally: 1/0   -> ZeroDivisionError
    auto crash = []() -> Coro<> {
        try {
            co_await sleep(1);
        } catch (...) {
        }
        throw ValueError("division by zero");  // finally: 1/0
    };
    support::run_virtual([&]() -> Coro<> {
        Timeout cm = timeout(0.01);
        EXPECT_THROW_MSG(co_await async_with(cm, [&](Timeout&) -> Coro<> { co_await crash(); }),
                         ValueError, "division by zero");
        EXPECT_TRUE(cm.expired());
    }());
}

TEST(timeout, the_last_error_of_nested_cleanups_passes_through) {
    // CPython: test_timeouts.py::test_foreign_exception_on_timeout_2
    //   try: try: raise ValueError finally: await sleep(1)
    //   finally: try: raise KeyError finally: 1/0            -> ZeroDivisionError
    support::run_virtual([]() -> Coro<> {
        EXPECT_THROW_MSG(co_await async_with(timeout(0.01),
                                             [](Timeout&) -> Coro<> {
                                                 try {
                                                     try {
                                                         throw ValueError("value");
                                                     } catch (...) {
                                                     }
                                                     co_await sleep(1);  // raises CancelledError
                                                 } catch (...) {
                                                 }
                                                 try {
                                                     throw LookupError("key");
                                                 } catch (...) {
                                                 }
                                                 throw RuntimeError("division by zero");
                                             }),
                         RuntimeError, "division by zero");
    }());
}

TEST(timeout, a_foreign_cancel_is_not_a_timeout_when_not_expired) {
    // CPython: test_timeouts.py::test_foreign_cancel_doesnt_timeout_if_not_expired
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(10);
        EXPECT_THROW(co_await async_with(cm,
                                         [](Timeout&) -> Coro<> {
                                             current_task().cancel();
                                             co_await sleep(10);
                                         }),
                     CancelledError);
        EXPECT_FALSE(cm.expired());
        current_task().uncancel();
    }());
}

TEST(timeout, the_task_that_handled_its_timeout_is_not_cancelled) {
    // CPython: test_timeouts.py::test_outer_task_is_not_cancelled
    support::run_virtual([]() -> Coro<> {
        auto outer = []() -> Coro<> {
            EXPECT_THROW(co_await async_with(timeout(0.001), sleeper(10)), TimeoutError);
        };
        Task<> task = create_task(outer());
        co_await task;
        EXPECT_FALSE(task.cancelled());
        EXPECT_TRUE(task.done());
        EXPECT_EQ(task.cancelling(), 0);
    }());
}

// ------------------------------------------------------------ nesting and outer cancellation

TEST(timeout, nested_with_the_same_deadline_only_the_outermost_raises) {
    // CPython: test_timeouts.py::test_nested_timeouts
    support::run_virtual([]() -> Coro<> {
        const double deadline = get_running_loop().time() + 0.01;
        Timeout cm1 = timeout_at(deadline);
        Timeout cm2 = timeout_at(deadline);
        bool cancelled = false;
        EXPECT_THROW(co_await async_with(cm1,
                                         [&](Timeout&) -> Coro<> {
                                             std::exception_ptr raised;
                                             try {
                                                 co_await async_with(cm2, sleeper(10));
                                             } catch (const CancelledError&) {
                                                 cancelled = true;
                                                 raised = std::current_exception();
                                             }
                                             if (raised) std::rethrow_exception(raised);
                                         }),
                     TimeoutError);
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(cm1.expired());
        EXPECT_TRUE(cm2.expired());
        EXPECT_EQ(current_task().cancelling(), 0);
    }());
}

TEST(timeout, nested_inner_deadline_first_is_handled_by_the_inner_scope) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Timeout outer = timeout(5);
        co_await async_with(outer, [&](Timeout&) -> Coro<> {
            try {
                co_await async_with(timeout(1), sleeper(10));
            } catch (const TimeoutError&) {
                t.add("inner TimeoutError at ", loop.time());
            }
            co_await sleep(1);
            t.add("outer continues at ", loop.time());
        });
        t.add(outer.expired() ? "outer expired" : "outer not expired");
    }());
    EXPECT_EQ(t.str(), "inner TimeoutError at 1 outer continues at 2 outer not expired");
}

TEST(timeout, nested_outer_deadline_first_goes_through_the_inner_scope_as_cancellation) {
    // CPython: test_timeouts.py::test_nested_timeouts_concurrent (the outer
    // deadline passes first: the inner scope sees a CancelledError it does not own).
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Timeout outer = timeout(0.002);
        Timeout inner = timeout(0.1);
        try {
            co_await async_with(outer, [&](Timeout&) -> Coro<> {
                std::exception_ptr raised;
                try {
                    co_await async_with(inner, sleeper(1));
                } catch (const CancelledError&) {
                    t.add("inner scope let CancelledError through");
                    raised = std::current_exception();
                }
                if (raised) std::rethrow_exception(raised);
            });
        } catch (const TimeoutError&) {
            t.add("outer TimeoutError");
        }
        t.add(outer.expired(), inner.expired());
    }());
    EXPECT_EQ(t.str(), "inner scope let CancelledError through outer TimeoutError 10");
}

TEST(timeout, real_time_both_deadlines_passed_while_the_loop_was_busy) {
    // Real time (the loop is blocked on purpose): 0.1 s.
    // CPython: test_timeouts.py::test_nested_timeouts_loop_busy; Python
    // (busy.py) shows the inner scope getting CancelledError with
    // cancelling() == 1 (both timers fired), and the outer raising TimeoutError.
    Trace t;
    asyncio::run([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        const double t0 = loop.time();
        Timeout c1 = timeout(0.1);
        Timeout c2 = timeout(0.01);
        try {
            co_await async_with(c1, [&](Timeout&) -> Coro<> {
                std::exception_ptr raised;
                try {
                    co_await async_with(c2, [&](Timeout&) -> Coro<> {
                        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // busy loop
                        co_await sleep(1);
                    });
                } catch (const CancelledError&) {
                    t.add("inner got CancelledError ", current_task().cancelling());
                    raised = std::current_exception();
                }
                if (raised) std::rethrow_exception(raised);
                co_await sleep(10);
            });
        } catch (const TimeoutError&) {
            t.add("outer got TimeoutError");
        }
        const double t1 = loop.time();
        EXPECT_TRUE(t0 <= t1 && t1 <= t0 + 1);
        t.add(c1.expired(), c2.expired());
    }());
    EXPECT_EQ(t.str(), "inner got CancelledError 1 outer got TimeoutError 11");
}

TEST(timeout, an_outer_cancel_in_the_same_iteration_wins) {
    // Python (tscen.py, scen_f / scen_f2): "CancelledError cancelling=1 True",
    // whichever of the deadline and the cancel() runs first.
    for (const bool cancel_first : {false, true}) {
        Trace t;
        support::run_virtual([&]() -> Coro<> {
            EventLoop& loop = get_running_loop();
            TaskRef task = current_task();
            if (cancel_first) loop.call_later(1, [task]() mutable { task.cancel(); });
            Timeout cm = timeout(1);
            try {
                co_await async_with(cm, [&](Timeout&) -> Coro<> {
                    if (!cancel_first) loop.call_later(1, [task]() mutable { task.cancel(); });
                    co_await sleep(10);
                });
            } catch (const TimeoutError&) {
                t.add("TimeoutError");
            } catch (const CancelledError&) {
                t.add("CancelledError cancelling=", task.cancelling());
                task.uncancel();
            }
            t.add(cm.expired() ? "True" : "False", " at ", loop.time());
        }());
        EXPECT_EQ(t.str(), "CancelledError cancelling=1 True at 1")
            << "cancel_first=" << cancel_first;
    }
}

TEST(timeout, a_swallowed_cancel_without_uncancel_keeps_the_deadline_from_converting) {
    // Python (tscen.py, scen_i): "swallowed at +1 cancelling 1", then
    // "CancelledError at +2 cancelling 1" — the docs' reason to call uncancel().
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        TaskRef task = current_task();
        try {
            co_await async_with(timeout(2), [&](Timeout&) -> Coro<> {
                loop.call_later(1, [task]() mutable { task.cancel(); });
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    t.add("swallowed at ", loop.time(), " ", task.cancelling());
                }
                co_await sleep(10);
            });
        } catch (const CancelledError&) {
            t.add("CancelledError at ", loop.time(), " ", task.cancelling());
            task.uncancel();
        }
    }());
    EXPECT_EQ(t.str(), "swallowed at 1 1 CancelledError at 2 1");
}

TEST(timeout, after_the_task_swallowed_a_cancellation_with_uncancel_a_new_scope_still_times_out) {
    // CPython: test_timeouts.py::test_timeout_after_cancellation (3.13: the
    // try/except leaves cancelling() at 1; the scope records it at entry).
    support::run_virtual([]() -> Coro<> {
        try {
            current_task().cancel();
            co_await sleep(1);
        } catch (const CancelledError&) {
        }
        // finally:
        EXPECT_THROW(co_await async_with(timeout(0.0), sleeper(1)), TimeoutError);
        current_task().uncancel();
    }());
}

TEST(timeout, a_cancel_inside_a_scope_entered_after_a_cancellation_propagates) {
    // CPython: test_timeouts.py::test_cancel_in_timeout_after_cancellation
    support::run_virtual([]() -> Coro<> {
        try {
            current_task().cancel();
            co_await sleep(1);
        } catch (const CancelledError&) {
        }
        EXPECT_THROW(co_await async_with(timeout(1.0),
                                         [](Timeout&) -> Coro<> {
                                             current_task().cancel();
                                             co_await sleep(2);
                                         }),
                     CancelledError);
        current_task().uncancel();
        current_task().uncancel();
    }());
}

TEST(timeout, nested_timeout_in_cleanup_after_the_outer_expired) {
    // CPython: test_timeouts.py::test_nested_timeout_in_finally
    support::run_virtual([]() -> Coro<> {
        std::exception_ptr e1;
        std::exception_ptr e2;
        try {
            co_await async_with(timeout(0.01), [&](Timeout&) -> Coro<> {
                std::exception_ptr raised;
                try {
                    co_await sleep(1);
                } catch (...) {
                    raised = std::current_exception();
                }
                // finally:
                try {
                    co_await async_with(timeout(0.01), sleeper(10));
                } catch (const TimeoutError&) {
                    e2 = std::current_exception();
                }
                if (raised) std::rethrow_exception(raised);
            });
        } catch (const TimeoutError&) {
            e1 = std::current_exception();
        }
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e1)));
        EXPECT_TRUE(support::holds<CancelledError>(nested_of(e2)));
    }());
}

// ------------------------------------------------------------ reschedule

TEST(timeout, reschedule_from_another_task) {
    // CPython: test_timeouts.py::test_reschedule
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Future<Timeout*> fut = loop.create_future<Timeout*>();
        const double deadline1 = loop.time() + 10;
        const double deadline2 = deadline1 + 20;
        Timeout cm = timeout_at(deadline1);
        auto f = [&]() -> Coro<> {
            co_await async_with(cm, [&](Timeout& c) -> Coro<> {
                fut.set_result(&c);
                co_await sleep(50);
            });
        };
        Task<> task = create_task(f());
        Timeout* entered = co_await fut;
        EXPECT_EQ(entered, &cm);
        EXPECT_EQ(cm.when(), deadline1);
        cm.reschedule(deadline2);
        EXPECT_EQ(cm.when(), deadline2);
        cm.reschedule(std::nullopt);
        EXPECT_FALSE(cm.when());
        task.cancel();
        EXPECT_THROW(co_await task, CancelledError);
        EXPECT_FALSE(cm.expired());
    }());
}

TEST(timeout, reschedule_none_later_and_earlier) {
    // Python (tscen.py, scen_h): H1 False 2.0; H2 TimeoutError 5.0; H3 TimeoutError 0.75
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        double t0 = loop.time();
        Timeout a = timeout(1);
        co_await async_with(a, [&](Timeout& cm) -> Coro<> {
            cm.reschedule(std::nullopt);
            co_await sleep(2);
        });
        t.add("H1 ", a.expired(), " ", loop.time() - t0);
        t0 = loop.time();
        try {
            co_await async_with(timeout(1), [&](Timeout& cm) -> Coro<> {
                cm.reschedule(loop.time() + 5);
                co_await sleep(10);
            });
        } catch (const TimeoutError&) {
            t.add("H2 ", loop.time() - t0);
        }
        t0 = loop.time();
        try {
            co_await async_with(timeout(5), [&](Timeout& cm) -> Coro<> {
                co_await sleep(0.5);
                cm.reschedule(loop.time() + 0.25);
                co_await sleep(10);
            });
        } catch (const TimeoutError&) {
            t.add("H3 ", loop.time() - t0);
        }
    }());
    EXPECT_EQ(t.str(), "H1 0 2 H2 5 H3 0.75");
}

TEST(timeout, reschedule_into_the_past_fires_at_the_next_iteration) {
    // Python (tscen.py, scen_g): "rescheduled False TimeoutError <t+1>"
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        try {
            co_await async_with(timeout(10), [&](Timeout& cm) -> Coro<> {
                co_await sleep(1);
                cm.reschedule(loop.time() - 5);
                t.add("rescheduled ", cm.expired() ? "True" : "False");
                co_await sleep(0);
                t.add("not reached");
            });
        } catch (const TimeoutError&) {
            t.add("TimeoutError ", loop.time());
        }
    }());
    EXPECT_EQ(t.str(), "rescheduled False TimeoutError 1");
}

TEST(timeout, reschedule_of_a_due_timer_from_an_earlier_callback_withdraws_it) {
    // Two timers due at t=1 in one batch: the first moves the deadline to 3,
    // so the Timeout's own entry (already due) must not run.
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Timeout cm = timeout_at(1);
        loop.call_at(1, [&] {
            cm.reschedule(3);
            t.add("moved");
        });
        try {
            co_await async_with(cm, sleeper(10));
        } catch (const TimeoutError&) {
            t.add("TimeoutError at ", loop.time());
        }
    }());
    EXPECT_EQ(t.str(), "moved TimeoutError at 3");
}

// ------------------------------------------------------------ errors

TEST(timeout, entering_twice_is_a_runtime_error) {
    // CPython: test_timeouts.py::test_timeout_already_entered, test_timeout_double_enter
    support::run_virtual([]() -> Coro<> {
        co_await async_with(timeout(0.01), [](Timeout& cm) -> Coro<> {
            EXPECT_THROW_MSG(co_await async_with(cm, [](Timeout&) -> Coro<> { co_return; }),
                             RuntimeError, "Timeout has already been entered");
        });
        Timeout cm = timeout(0.01);
        co_await async_with(cm, [](Timeout&) -> Coro<> { co_return; });
        EXPECT_THROW_MSG(co_await async_with(cm, [](Timeout&) -> Coro<> { co_return; }),
                         RuntimeError, "Timeout has already been entered");
    }());
}

TEST(timeout, reschedule_messages_name_the_state) {
    // CPython: test_timeouts.py::test_timeout_not_entered, test_timeout_finished,
    // test_timeout_expired, test_timeout_expiring
    support::run_virtual([]() -> Coro<> {
        Timeout created = timeout(0.01);
        EXPECT_THROW_MSG(created.reschedule(0.02), RuntimeError, "Timeout has not been entered");

        Timeout finished = timeout(0.01);
        co_await async_with(finished, [](Timeout&) -> Coro<> { co_return; });
        EXPECT_THROW_MSG(finished.reschedule(0.02), RuntimeError,
                         "Cannot change state of finished Timeout");

        Timeout expired = timeout(0.01);
        EXPECT_THROW(co_await async_with(expired, sleeper(1)), TimeoutError);
        EXPECT_THROW_MSG(expired.reschedule(0.02), RuntimeError,
                         "Cannot change state of expired Timeout");

        co_await async_with(timeout(0.01), [](Timeout& cm) -> Coro<> {
            EXPECT_THROW(co_await sleep(1), CancelledError);
            EXPECT_THROW_MSG(cm.reschedule(0.02), RuntimeError,
                             "Cannot change state of expiring Timeout");
        });
    }());
}

TEST(timeout, entering_outside_a_task_is_a_runtime_error) {
    // CPython: test_timeouts.py::test_timeout_without_task
    std::string message;
    support::run_virtual([&]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Timeout cm = timeout(0.01);
        Future<> done = loop.create_future();
        loop.call_soon([&] {  // a callback: no task is running
            try {
                cm.aenter().await_resume();
            } catch (const RuntimeError& e) {
                message = e.what();
            }
            done.set_result();
        });
        co_await done;
        EXPECT_THROW_MSG(cm.reschedule(0.02), RuntimeError, "Timeout has not been entered");
    }());
    EXPECT_EQ(message, "Timeout should be used inside a task");
}

TEST(timeout, needs_a_running_loop) {
    EXPECT_THROW_MSG(timeout(1), RuntimeError, "no running event loop");
    Timeout cm = timeout_at(1.0);  // timeout_at does not read the clock
    EXPECT_THROW_MSG(cm.aenter().await_resume(), RuntimeError, "no running event loop");
}

TEST(timeout, exiting_without_entering_is_a_runtime_error) {
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(1);
        EXPECT_THROW_MSG(co_await cm.aexit(nullptr), RuntimeError, "Timeout has not been entered");
        co_await cm.aenter();
        EXPECT_FALSE(co_await cm.aexit(nullptr));
        EXPECT_THROW_MSG(co_await cm.aexit(nullptr), RuntimeError,
                         "Cannot change state of finished Timeout");
    }());
}

TEST(timeout, a_nan_deadline_is_a_value_error) {
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout_at(std::nan(""));
        EXPECT_THROW_MSG(co_await async_with(cm, [](Timeout&) -> Coro<> { co_return; }), ValueError,
                         "Invalid deadline: NaN (not a number)");
    }());
}

// ------------------------------------------------------------ repr

TEST(timeout, repr_shows_state_and_rounded_deadline) {
    // CPython: test_timeouts.py::test_repr_active, test_repr_expired,
    // test_repr_finished, test_repr_disabled
    support::run_virtual([]() -> Coro<> {
        Timeout cm = timeout(10);
        EXPECT_EQ(cm.repr(), "<Timeout [created]>");
        co_await async_with(cm, [](Timeout& c) -> Coro<> {
            EXPECT_EQ(c.repr(), "<Timeout [active] when=10.0>");
            co_await sleep(0);
        });
        EXPECT_EQ(cm.repr(), "<Timeout [finished]>");

        Timeout expired = timeout(0.01);
        EXPECT_THROW(co_await async_with(expired, sleeper(10)), TimeoutError);
        EXPECT_EQ(expired.repr(), "<Timeout [expired]>");

        co_await async_with(timeout(std::nullopt), [](Timeout& c) -> Coro<> {
            EXPECT_EQ(c.repr(), "<Timeout [active] when=None>");
            co_return;
        });
        // Python: repr(round(when, 3)) for these deadlines.
        const std::pair<double, const char*> cases[] = {
            {12.34567, "12.346"},
            {1e20, "1e+20"},
            {1e15, "1000000000000000.0"},
            {1e16, "1e+16"},
            {1234567.891234, "1234567.891"},
            {0.0001, "0.0"},
            {0.1 + 0.2, "0.3"},
            {std::numeric_limits<double>::infinity(), "inf"},
        };
        for (const auto& expected : cases) {  // no structured binding: clang 14 cannot capture one
            co_await async_with(timeout_at(expected.first), [&](Timeout& c) -> Coro<> {
                EXPECT_EQ(c.repr(), std::string("<Timeout [active] when=") + expected.second + ">");
                co_return;
            });
        }
    }());
}

// ------------------------------------------------------------ moves and lifetimes

TEST(timeout, moves_until_entered_and_after_exit_but_not_while_active) {
    support::run_virtual([]() -> Coro<> {
        Timeout a = timeout(5);
        Timeout b = std::move(a);  // created: fine
        EXPECT_DOUBLE_EQ(*b.when(), 5);
        co_await async_with(b, [&](Timeout& cm) -> Coro<> {
            EXPECT_THROW_MSG(Timeout moved(std::move(cm)), RuntimeError,
                             "Timeout cannot be moved while active");
            Timeout other = timeout(1);
            EXPECT_THROW_MSG(other = std::move(cm), RuntimeError,
                             "Timeout cannot be moved while active");
            co_return;
        });
        Timeout c = std::move(b);  // finished: fine
        EXPECT_EQ(c.repr(), "<Timeout [finished]>");
        Timeout d = timeout(1);
        d = std::move(c);
        EXPECT_EQ(d.repr(), "<Timeout [finished]>");
    }());
}

TEST(timeout, destroying_a_timeout_whose_timer_is_due_withdraws_it) {
    // A callback due in the same batch, before the Timeout's timer, destroys
    // the Timeout: its due entry must never run (ASan checks the memory).
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        std::optional<Timeout> cm;
        loop.call_at(1, [&] { cm.reset(); });
        cm.emplace(timeout_at(1));
        co_await cm->aenter();
        co_await sleep(5);  // not cancelled: the deadline never fired
        EXPECT_EQ(loop.time(), 5);
        EXPECT_EQ(current_task().cancelling(), 0);
    }());
}

TEST(timeout, a_task_dropped_at_loop_close_takes_its_scope_with_it) {
    auto loop = support::new_virtual_loop();
    support::CaptureHandler cap(*loop);
    bool entered = false;
    auto body = [&]() -> Coro<> {
        co_await async_with(timeout(10), [&](Timeout&) -> Coro<> {
            entered = true;
            co_await sleep(100);
        });
    };
    Task<> task = loop->create_task(body());
    support::run_briefly(*loop);
    EXPECT_TRUE(entered);
    loop->close();  // the timer is dropped first, then the task's frames
    EXPECT_FALSE(task.done());
    task = Task<>();  // the last handle: the frame (and the Timeout) goes now
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 1u);
}

// ------------------------------------------------------------ with a TaskGroup

TEST(timeout, a_task_group_error_raised_after_the_deadline_passes_through) {
    // CPython: test_timeouts.py::test_timeout_taskgroup — the body's cleanup
    // is cancelled by the deadline, the child crashes in its own cleanup: the
    // ExceptionGroup of the child's error propagates, not TimeoutError.
    support::run_virtual([]() -> Coro<> {
        auto task = []() -> Coro<> {
            try {
                co_await sleep(2);  // interrupted after 0.01 s
            } catch (...) {
            }
            throw ValueError("division by zero");  // finally: 1/0
        };
        std::exception_ptr eg;
        try {
            co_await async_with(timeout(0.01), [&](Timeout&) -> Coro<> {
                co_await async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<> {
                    tg.create_task(task());
                    std::exception_ptr raised;
                    try {
                        throw LookupError("value");
                    } catch (...) {
                        raised = std::current_exception();
                    }
                    co_await sleep(1);  // finally:
                    std::rethrow_exception(raised);
                });
            });
        } catch (const ExceptionGroup&) {
            eg = std::current_exception();
        }
        const BaseExceptionGroup* g = detail::as_group(eg);
        EXPECT_TRUE(g != nullptr);
        if (g) {
            EXPECT_EQ(g->exceptions().size(), 1u);
            EXPECT_THROW_MSG(std::rethrow_exception(g->exceptions().at(0)), ValueError,
                             "division by zero");
        }
    }());
}
