// future_test.cpp — asyncio::Future: states, results, cancellation, done
// callbacks, awaiting, the "never retrieved" report, identity and lifetimes.
//
// Ported from Lib/test/test_asyncio/test_futures.py where a case applies.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_set>
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

std::exception_ptr runtime_error(const char* msg) {
    return std::make_exception_ptr(std::runtime_error(msg));
}

/// Awaits `fut` inside a task and records what came out.
Coro<void> await_into(Future<int> fut, Trace& t) {
    try {
        const int v = co_await fut;
        t("value=", v);
    } catch (const CancelledError& e) {
        t("cancelled=", e.what());
    } catch (const std::exception& e) {
        t("error=", e.what());
    }
}

}  // namespace

// ------------------------------------------------------------------ states

// CPython: test_futures.py::BaseFutureTests::test_initial_state
TEST(future, initial_state_is_pending) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_TRUE(static_cast<bool>(f));
    EXPECT_FALSE(f.done());
    EXPECT_FALSE(f.cancelled());
    f.cancel();
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
}

TEST(future, default_constructed_handle_is_empty) {
    Future<int> f;
    EXPECT_FALSE(static_cast<bool>(f));
    Future<int> g;
    EXPECT_TRUE(f == g);
}

// CPython: test_futures.py::BaseFutureTests::test_uninitialized
TEST(future, result_and_exception_of_pending_future_throw_invalid_state) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_THROW_MSG(f.result(), InvalidStateError, "Result is not set.");
    EXPECT_THROW_MSG(f.exception(), InvalidStateError, "Exception is not set.");
    // Asking does not change anything.
    EXPECT_FALSE(f.done());
}

// CPython: test_futures.py::BaseFutureTests::test_result
TEST(future, set_result_then_result) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    f.set_result(42);
    EXPECT_FALSE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.result(), 42);  // any number of times
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_THROW_MSG(f.set_result(1), InvalidStateError, "invalid state");
    EXPECT_THROW_MSG(f.set_exception(runtime_error("x")), InvalidStateError, "invalid state");
    EXPECT_FALSE(f.cancel());
    EXPECT_EQ(f.result(), 42);
}

TEST(future, void_future_set_result_takes_no_value) {
    auto loop = support::new_virtual_loop();
    Future<void> f = loop->create_future();
    EXPECT_THROW_MSG(f.result(), InvalidStateError, "Result is not set.");
    f.set_result();
    EXPECT_TRUE(f.done());
    EXPECT_NO_THROW(f.result());
    EXPECT_EQ(f.exception(), nullptr);
    EXPECT_THROW_MSG(f.set_result(), InvalidStateError, "invalid state");
}

TEST(future, move_only_result_is_returned_by_reference) {
    auto loop = support::new_virtual_loop();
    Future<std::unique_ptr<int>> f = loop->create_future<std::unique_ptr<int>>();
    f.set_result(std::make_unique<int>(7));
    const std::unique_ptr<int>& a = f.result();
    const std::unique_ptr<int>& b = f.result();
    EXPECT_EQ(&a, &b);
    EXPECT_EQ(*a, 7);
}

// CPython: test_futures.py::BaseFutureTests::test_exception
TEST(future, set_exception_then_exception_and_result_rethrows) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    const std::exception_ptr exc = runtime_error("boom");
    f.set_exception(exc);
    EXPECT_FALSE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_THROW_MSG(f.result(), std::runtime_error, "boom");
    EXPECT_THROW_MSG(f.result(), std::runtime_error, "boom");  // every time
    EXPECT_EQ(f.exception(), exc);
    EXPECT_THROW_MSG(f.set_result(1), InvalidStateError, "invalid state");
    EXPECT_THROW_MSG(f.set_exception(runtime_error("x")), InvalidStateError, "invalid state");
    EXPECT_FALSE(f.cancel());
    EXPECT_EQ(f.exception(), exc);
}

TEST(future, set_exception_keeps_a_base_exception_kind) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    f.set_exception(std::make_exception_ptr(KeyboardInterrupt("ki")));
    EXPECT_FALSE(f.cancelled());
    EXPECT_THROW_MSG(f.result(), KeyboardInterrupt, "ki");
}

// CPython: test_futures.py::BaseFutureTests::test_cancel
TEST(future, cancel_returns_true_then_false) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_THROW_MSG(f.result(), CancelledError, "");
    EXPECT_THROW_MSG(f.exception(), CancelledError, "");
    EXPECT_THROW_MSG(f.set_result(1), InvalidStateError, "invalid state");
    EXPECT_THROW_MSG(f.set_exception(runtime_error("x")), InvalidStateError, "invalid state");
    EXPECT_FALSE(f.cancel());
    EXPECT_FALSE(f.cancel("again"));
}

// CPython: test_futures.py::BaseFutureTests::test_future_cancel_message_getter
TEST(future, cancel_message_is_carried_on_every_retrieval) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_TRUE(f.cancel("my message"));
    // Python forgets the message after the first retrieval; we don't.
    EXPECT_THROW_MSG(f.result(), CancelledError, "my message");
    EXPECT_THROW_MSG(f.result(), CancelledError, "my message");
    EXPECT_THROW_MSG(f.exception(), CancelledError, "my message");
    EXPECT_THROW_MSG(loop->run_until_complete(f), CancelledError, "my message");
    EXPECT_THROW_MSG(f.result(), CancelledError, "my message");
}

TEST(future, second_cancel_does_not_replace_the_message) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_TRUE(f.cancel("first"));
    EXPECT_FALSE(f.cancel("second"));
    EXPECT_THROW_MSG(f.result(), CancelledError, "first");
}

TEST(future, cancel_after_set_result_returns_false_and_keeps_result) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    f.set_result(3);
    EXPECT_FALSE(f.cancel("late"));
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 3);
}

// ------------------------------------------------------------ done callbacks

// CPython: test_futures.py::BaseFutureDoneCallbackTests::test_callbacks_invoked_on_set_result
TEST(future, done_callbacks_run_in_registration_order_after_the_next_iteration) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<std::string> f = loop->create_future<std::string>();
    f.add_done_callback([&](const Future<std::string>&) { t("42"); });
    f.add_done_callback([&](const Future<std::string>&) { t("17"); });
    f.add_done_callback([&](const Future<std::string>&) { t("100"); });
    EXPECT_EQ(t.str(), "");
    f.set_result("foo");
    EXPECT_EQ(t.str(), "") << "callbacks must not run inside set_result";
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "42 17 100");
    EXPECT_EQ(f.result(), "foo");
}

// CPython: test_futures.py::BaseFutureDoneCallbackTests::test_callbacks_invoked_on_set_exception
TEST(future, done_callbacks_run_on_set_exception) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>& g) { t("cb:", support::what(g.exception())); });
    const std::exception_ptr exc = runtime_error("bad");
    f.set_exception(exc);
    EXPECT_TRUE(t.empty());
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "cb:bad");
    EXPECT_EQ(f.exception(), exc);
}

TEST(future, done_callbacks_run_on_cancel) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>& g) { t("cancelled=", g.cancelled()); });
    f.cancel();
    EXPECT_TRUE(t.empty());
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "cancelled=1");
}

TEST(future, done_callback_receives_the_future_itself) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    bool same = false;
    int seen = 0;
    f.add_done_callback([&](const Future<int>& g) {
        same = g == f;
        seen = g.result();
    });
    f.set_result(5);
    support::run_once(*loop);
    EXPECT_TRUE(same);
    EXPECT_EQ(seen, 5);
}

TEST(future, add_done_callback_on_done_future_schedules_it_not_inline) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.set_result(1);
    loop->call_soon([&] { t("soon"); });
    f.add_done_callback([&](const Future<int>&) { t("done-cb"); });
    EXPECT_TRUE(t.empty()) << "must not be called inline";
    support::run_once(*loop);
    // Scheduled like call_soon: after what was already ready.
    EXPECT_EQ(t.str(), "soon done-cb");
}

TEST(future, done_callbacks_are_scheduled_after_already_ready_callbacks) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>&) { t("cb"); });
    loop->call_soon([&] { t("before"); });
    f.set_result(1);
    loop->call_soon([&] { t("after"); });
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "before cb after");
}

TEST(future, callback_scheduled_during_an_iteration_runs_in_the_next_one) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>&) { t("cb"); });
    loop->call_soon([&] {
        t("setter");
        f.set_result(1);
    });
    loop->call_soon([&] { t("sibling"); });
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "setter sibling");
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "cb");
}

// CPython: test_futures.py::BaseFutureDoneCallbackTests::test_callbacks_remove_first_callback
TEST(future, remove_first_done_callback) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<std::string> f = loop->create_future<std::string>();
    const CallbackId cb1 = f.add_done_callback([&](const Future<std::string>&) { t("42"); });
    f.add_done_callback([&](const Future<std::string>&) { t("17"); });
    f.add_done_callback([&](const Future<std::string>&) { t("100"); });
    EXPECT_EQ(f.remove_done_callback(cb1), 1u);
    EXPECT_EQ(f.remove_done_callback(cb1), 0u);
    f.set_result("foo");
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "17 100");
    EXPECT_EQ(f.result(), "foo");
}

// CPython:
// test_futures.py::BaseFutureDoneCallbackTests::test_callbacks_remove_first_and_second_callback
TEST(future, remove_first_and_second_done_callbacks) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<std::string> f = loop->create_future<std::string>();
    const CallbackId cb1 = f.add_done_callback([&](const Future<std::string>&) { t("42"); });
    const CallbackId cb2 = f.add_done_callback([&](const Future<std::string>&) { t("17"); });
    f.add_done_callback([&](const Future<std::string>&) { t("100"); });
    EXPECT_EQ(f.remove_done_callback(cb1), 1u);
    EXPECT_EQ(f.remove_done_callback(cb2), 1u);
    EXPECT_EQ(f.remove_done_callback(cb1), 0u);
    f.set_result("foo");
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "100");
}

// CPython: test_futures.py::BaseFutureDoneCallbackTests::test_callbacks_remove_third_callback
TEST(future, remove_third_done_callback) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<std::string> f = loop->create_future<std::string>();
    f.add_done_callback([&](const Future<std::string>&) { t("42"); });
    f.add_done_callback([&](const Future<std::string>&) { t("17"); });
    const CallbackId cb3 = f.add_done_callback([&](const Future<std::string>&) { t("100"); });
    EXPECT_EQ(f.remove_done_callback(cb3), 1u);
    EXPECT_EQ(f.remove_done_callback(cb3), 0u);
    f.set_result("foo");
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "42 17");
}

// CPython: test_futures.py::BaseFutureDoneCallbackTests::test_remove_done_callback
TEST(future, remove_done_callback_returns_one_then_zero_and_unknown_ids_zero) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    Future<int> other = loop->create_future<int>();
    const CallbackId foreign = other.add_done_callback([](const Future<int>&) {});
    const CallbackId a = f.add_done_callback([&](const Future<int>&) { t("a"); });
    const CallbackId b = f.add_done_callback([&](const Future<int>&) { t("b"); });
    EXPECT_EQ(f.remove_done_callback(foreign), 0u);
    EXPECT_EQ(f.remove_done_callback(b), 1u);
    EXPECT_EQ(f.remove_done_callback(b), 0u);
    const CallbackId c = f.add_done_callback([&](const Future<int>&) { t("c"); });
    EXPECT_NE(c, a);
    EXPECT_NE(c, b);
    f.set_result(0);
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "a c");
    EXPECT_EQ(other.remove_done_callback(foreign), 1u);
}

TEST(future, remove_done_callback_on_empty_future_returns_zero) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_EQ(f.remove_done_callback(CallbackId{12345}), 0u);
}

TEST(future, remove_done_callback_after_done_returns_zero_and_it_still_runs) {
    // Python clears the callback list when it schedules the callbacks.
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    const CallbackId id = f.add_done_callback([&](const Future<int>&) { t("cb"); });
    f.set_result(1);
    EXPECT_EQ(f.remove_done_callback(id), 0u);
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "cb");
}

// CPython: test_futures.py::BaseFutureDoneCallbackTests::test_schedule_callbacks_list_mutation_1
TEST(future, callback_removing_a_scheduled_sibling_does_not_stop_it) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    CallbackId second{};
    std::size_t removed = 99;
    f.add_done_callback([&](const Future<int>& g) {
        removed = g.remove_done_callback(second);
        t("mut");
    });
    second = f.add_done_callback([&](const Future<int>&) { t("second"); });
    f.add_done_callback([&](const Future<int>&) { t("third"); });
    f.set_result(1);
    support::run_briefly(*loop);
    EXPECT_EQ(removed, 0u);
    EXPECT_EQ(t.str(), "mut second third");
}

TEST(future, callback_adding_a_callback_to_its_done_future_runs_it_next_iteration) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>& g) {
        t("first");
        g.add_done_callback([&](const Future<int>&) { t("added"); });
    });
    f.add_done_callback([&](const Future<int>&) { t("second"); });
    f.set_result(1);
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "first second");
    support::run_once(*loop);
    EXPECT_EQ(t.take(), "added");
}

// CPython: test_base_events.py::BaseEventLoopTests::test_default_exc_handler_callback
TEST(future, exception_in_done_callback_goes_to_handler_and_loop_continues) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([&](const Future<int>&) {
        t("bad");
        throw std::runtime_error("zero");
    });
    f.add_done_callback([&](const Future<int>&) { t("good"); });
    f.set_result(1);
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "bad good");
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Exception in callback");
    EXPECT_EQ(cap.at(0).what, "zero");
    EXPECT_TRUE(support::holds<std::runtime_error>(cap.at(0).exception));
    EXPECT_FALSE(cap.at(0).task);
    // The loop still works.
    EXPECT_EQ(loop->run_until_complete(sleep(1, 9)), 9);
}

TEST(future, cancelled_error_thrown_by_done_callback_is_reported_too) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([](const Future<int>&) { throw CancelledError("cb"); });
    f.set_result(1);
    support::run_briefly(*loop);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Exception in callback");
    EXPECT_EQ(cap.at(0).what, "cb");
}

TEST(future, done_callback_add_on_future_of_closed_loop_throws) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    f.set_result(1);
    loop->close();
    EXPECT_THROW_MSG(f.add_done_callback([](const Future<int>&) {}), RuntimeError,
                     "Event loop is closed");
}

// Python: fut.cancel() with callbacks after loop.close() raises from call_soon,
// and the future is cancelled anyway.
TEST(future, cancel_with_callbacks_after_loop_closed_throws_and_still_cancels) {
    auto loop = support::new_virtual_loop();
    Counted::reset();
    Future<int> f = loop->create_future<int>();
    f.add_done_callback([c = Counted(1)](const Future<int>&) { ADD_FAILURE() << "must not run"; });
    loop->close();
    EXPECT_THROW_MSG(f.cancel(), RuntimeError, "Event loop is closed");
    EXPECT_TRUE(f.cancelled());
    EXPECT_EQ(Counted::live(), 0) << "the dropped callback must be destroyed";
}

// --------------------------------------------------------------- awaiting

TEST(future, awaiting_from_a_task_gives_the_result_set_later) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    loop->call_later(5, [&] { f.set_result(42); });
    loop->run_until_complete(await_into(f, t));
    EXPECT_EQ(t.str(), "value=42");
    EXPECT_EQ(loop->time(), 5.0);
}

TEST(future, awaiting_a_failed_future_rethrows_its_exception) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    loop->call_soon([&] { f.set_exception(runtime_error("nope")); });
    loop->run_until_complete(await_into(f, t));
    EXPECT_EQ(t.str(), "error=nope");
}

// CPython: test_futures.py::BaseFutureTests::test_future_cancel_message_getter
TEST(future, awaiting_a_cancelled_future_throws_cancelled_error_with_its_message) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    loop->call_soon([&] { f.cancel("my message"); });
    loop->run_until_complete(await_into(f, t));
    EXPECT_EQ(t.str(), "cancelled=my message");
}

TEST(future, run_until_complete_on_a_future_returns_its_value) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    loop->call_later(2, [&] { f.set_result(8); });
    EXPECT_EQ(loop->run_until_complete(f), 8);
    EXPECT_EQ(loop->time(), 2.0);
}

TEST(future, awaiting_a_done_future_does_not_yield) {
    // Python: `await fut` on a done future returns at once, inside the same step.
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    f.set_result(1);
    auto a = [&]() -> Coro<void> {
        t("a1");
        co_await f;
        t("a2");
    };
    auto b = [&]() -> Coro<void> {
        t("b");
        co_return;
    };
    Task<void> ta = loop->create_task(a());
    Task<void> tb = loop->create_task(b());
    loop->run_until_complete(tb);
    loop->run_until_complete(ta);
    EXPECT_EQ(t.str(), "a1 a2 b");
}

TEST(future, waiters_wake_in_the_order_they_started_waiting) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    auto waiter = [&](std::string name) -> Coro<void> {
        const int v = co_await f;
        t(name, "=", v);
    };
    Task<void> w1 = loop->create_task(waiter("w1"));
    Task<void> w2 = loop->create_task(waiter("w2"));
    Task<void> w3 = loop->create_task(waiter("w3"));
    support::run_once(*loop);  // all three now wait
    f.set_result(4);
    loop->run_until_complete(w3);
    EXPECT_EQ(t.str(), "w1=4 w2=4 w3=4");
    EXPECT_TRUE(w1.done() && w2.done());
}

TEST(future, cancelling_the_awaiting_task_cancels_the_future) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    Task<void> task = loop->create_task(await_into(f, t));
    support::run_once(*loop);
    EXPECT_TRUE(task.cancel("stop"));
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW_MSG(f.result(), CancelledError, "stop");
    loop->run_until_complete(task);
    EXPECT_EQ(t.str(), "cancelled=stop");
}

// -------------------------------------------------- never-retrieved report

// CPython: test_futures.py::BaseFutureTests::test_tb_logger_exception_unretrieved
TEST(future, exception_never_retrieved_is_reported_when_last_handle_goes) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(runtime_error("boom"));
        Future<int> copy = f;
        f = Future<int>();
        support::run_briefly(*loop);
        EXPECT_TRUE(cap.empty()) << "a handle is still alive";
    }
    support::run_briefly(*loop);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Future exception was never retrieved");
    EXPECT_EQ(cap.at(0).what, "boom");
    EXPECT_TRUE(support::holds<std::runtime_error>(cap.at(0).exception));
    EXPECT_FALSE(cap.at(0).task);
}

// CPython: test_futures.py::BaseFutureTests::test_tb_logger_exception_retrieved
TEST(future, exception_retrieved_with_exception_is_not_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(runtime_error("boom"));
        EXPECT_NE(f.exception(), nullptr);
    }
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty()) << cap.messages().front();
}

// CPython: test_futures.py::BaseFutureTests::test_tb_logger_exception_result_retrieved
TEST(future, exception_retrieved_with_result_is_not_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(runtime_error("boom"));
        EXPECT_THROW(f.result(), std::runtime_error);
    }
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty());
}

TEST(future, exception_retrieved_by_awaiting_task_is_not_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Trace t;
    {
        Future<int> f = loop->create_future<int>();
        loop->call_soon([f] { f.set_exception(runtime_error("boom")); });
        loop->run_until_complete(await_into(f, t));
    }
    support::run_briefly(*loop);
    EXPECT_EQ(t.str(), "error=boom");
    EXPECT_TRUE(cap.empty());
}

TEST(future, exception_retrieved_in_done_callback_is_not_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> f = loop->create_future<int>();
        f.add_done_callback([](const Future<int>& g) { (void)g.exception(); });
        f.set_exception(runtime_error("boom"));
    }
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty());
}

// CPython: test_futures.py::BaseFutureTests::test_tb_logger_abandoned
// CPython: test_futures.py::BaseFutureTests::test_tb_logger_result_unretrieved
// CPython: test_futures.py::BaseFutureTests::test_tb_logger_result_retrieved
TEST(future, pending_or_succeeded_or_cancelled_futures_are_not_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> pending = loop->create_future<int>();
        Future<int> unretrieved = loop->create_future<int>();
        unretrieved.set_result(42);
        Future<int> retrieved = loop->create_future<int>();
        retrieved.set_result(42);
        EXPECT_EQ(retrieved.result(), 42);
        Future<int> cancelled = loop->create_future<int>();
        cancelled.cancel("x");
    }
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty());
}

// CPython: test_futures.py::BaseFutureTests::test_tb_logger_not_called_after_cancel
// Python's Future.cancel() clears __log_traceback before checking the state,
// so cancelling a failed future (which returns False) silences the report.
TEST(future, cancel_of_failed_future_silences_never_retrieved_report) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(std::make_exception_ptr(std::runtime_error("x")));
        EXPECT_FALSE(f.cancel());
    }
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty()) << "reported: " << (cap.empty() ? "" : cap.at(0).message);
}

TEST(future, never_retrieved_report_is_made_once) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        Future<int> f = loop->create_future<int>();
        f.set_exception(runtime_error("once"));
        Future<int> g = f;
    }
    support::run_briefly(*loop);
    support::run_briefly(*loop);
    EXPECT_EQ(cap.messages(), std::vector<std::string>{"Future exception was never retrieved"});
}

TEST(future, never_retrieved_after_loop_destroyed_is_printed_to_stderr) {
    Future<int> f;
    {
        auto loop = support::new_virtual_loop();
        f = loop->create_future<int>();
        f.set_exception(runtime_error("orphan"));
    }
    ::testing::internal::CaptureStderr();
    f = Future<int>();
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Future exception was never retrieved"), std::string::npos) << err;
    EXPECT_NE(err.find("orphan"), std::string::npos) << err;
}

// ------------------------------------------------------ identity, lifetimes

TEST(future, compares_and_hashes_by_identity) {
    auto loop = support::new_virtual_loop();
    Future<int> a = loop->create_future<int>();
    Future<int> a2 = a;
    Future<int> b = loop->create_future<int>();
    EXPECT_TRUE(a == a2);
    EXPECT_FALSE(a == b);
    EXPECT_TRUE(a != b);
    EXPECT_EQ(std::hash<Future<int>>{}(a), std::hash<Future<int>>{}(a2));
    std::unordered_set<Future<int>> set{a, a2, b};
    EXPECT_EQ(set.size(), 2u);
    EXPECT_EQ(set.count(a2), 1u);
    a.set_result(1);  // state does not change identity
    EXPECT_TRUE(a == a2);
    EXPECT_EQ(set.count(a), 1u);
}

TEST(future, moved_from_handle_is_empty) {
    auto loop = support::new_virtual_loop();
    Future<int> a = loop->create_future<int>();
    Future<int> b = std::move(a);
    EXPECT_FALSE(static_cast<bool>(a));  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(static_cast<bool>(b));
}

TEST(future, get_loop_returns_its_loop) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    EXPECT_EQ(&f.get_loop(), loop.get());
}

TEST(future, create_future_on_closed_loop_throws) {
    auto loop = support::new_virtual_loop();
    loop->close();
    EXPECT_THROW_MSG(loop->create_future<int>(), RuntimeError, "Event loop is closed");
}

TEST(future, handle_stays_valid_after_loop_closed_and_destroyed) {
    Future<int> done;
    Future<int> pending;
    Future<int> failed;
    {
        auto loop = support::new_virtual_loop();
        done = loop->create_future<int>();
        pending = loop->create_future<int>();
        failed = loop->create_future<int>();
        done.set_result(7);
        failed.set_exception(runtime_error("kept"));
        loop->close();
        EXPECT_TRUE(done.done());
        EXPECT_EQ(done.result(), 7);
    }
    EXPECT_TRUE(done.done());
    EXPECT_EQ(done.result(), 7);
    EXPECT_FALSE(pending.done());
    EXPECT_FALSE(pending.cancelled());
    EXPECT_THROW_MSG(pending.result(), InvalidStateError, "Result is not set.");
    EXPECT_THROW_MSG(failed.result(), std::runtime_error, "kept");
    EXPECT_EQ(support::what(failed.exception()), "kept");
}

TEST(future, result_value_lives_until_last_handle_goes_without_copies) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    {
        Future<Counted> f = loop->create_future<Counted>();
        EXPECT_EQ(Counted::live(), 0) << "no value before set_result";
        f.set_result(Counted(3));
        EXPECT_EQ(Counted::live(), 1);
        Future<Counted> g = f;
        EXPECT_EQ(f.result().value, 3);
        EXPECT_EQ(g.result().value, 3);
        f = Future<Counted>();
        EXPECT_EQ(Counted::live(), 1) << "g still holds it";
    }
    EXPECT_EQ(Counted::live(), 0);
    EXPECT_EQ(Counted::copies(), 0);
}

TEST(future, awaiting_copies_the_result_once_per_waiter) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    {
        Future<Counted> f = loop->create_future<Counted>();
        auto waiter = [&]() -> Coro<int> {
            Counted c = co_await f;
            co_return c.value;
        };
        loop->call_soon([&] { f.set_result(Counted(11)); });
        EXPECT_EQ(loop->run_until_complete(waiter()), 11);
        EXPECT_EQ(Counted::copies(), 1);
    }
    EXPECT_EQ(Counted::live(), 0);
}

TEST(future, done_callbacks_are_destroyed_after_running_or_removal) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    {
        Future<int> f = loop->create_future<int>();
        int ran = 0;
        f.add_done_callback([&ran, c = Counted(1)](const Future<int>&) { ++ran; });
        const CallbackId removed =
            f.add_done_callback([c = Counted(2)](const Future<int>&) { ADD_FAILURE(); });
        EXPECT_EQ(Counted::live(), 2);
        EXPECT_EQ(f.remove_done_callback(removed), 1u);
        EXPECT_EQ(Counted::live(), 1) << "a removed callback is destroyed at once";
        f.set_result(1);
        support::run_briefly(*loop);
        EXPECT_EQ(ran, 1);
        EXPECT_EQ(Counted::live(), 0) << "a callback that ran is destroyed";
    }
}

TEST(future, pending_future_dropped_destroys_its_callbacks) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    {
        Future<int> f = loop->create_future<int>();
        f.add_done_callback([c = Counted(1)](const Future<int>&) { ADD_FAILURE(); });
        EXPECT_EQ(Counted::live(), 1);
    }
    EXPECT_EQ(Counted::live(), 0);
}

TEST(future, scheduled_callback_keeps_the_future_alive_until_it_runs) {
    Counted::reset();
    auto loop = support::new_virtual_loop();
    int seen = 0;
    {
        Future<Counted> f = loop->create_future<Counted>();
        f.add_done_callback([&](const Future<Counted>& g) { seen = g.result().value; });
        f.set_result(Counted(5));
    }
    EXPECT_EQ(Counted::live(), 1) << "the scheduled callback holds the future";
    support::run_once(*loop);
    EXPECT_EQ(seen, 5);
    EXPECT_EQ(Counted::live(), 0);
}

TEST(future, closing_the_loop_drops_scheduled_callbacks_and_frees_the_future) {
    Counted::reset();
    {
        auto loop = support::new_virtual_loop();
        {
            Future<Counted> f = loop->create_future<Counted>();
            f.add_done_callback([c = Counted(0)](const Future<Counted>&) { ADD_FAILURE(); });
            f.set_result(Counted(5));
        }
        EXPECT_EQ(Counted::live(), 2);
        loop->close();
        EXPECT_EQ(Counted::live(), 0);
    }
    EXPECT_EQ(Counted::live(), 0);
}

TEST(future, add_done_callback_accepts_lvalue_callables) {
    auto loop = support::new_virtual_loop();
    Trace t;
    Future<int> f = loop->create_future<int>();
    auto cb = [&t](const Future<int>& g) { t("cb", g.result()); };
    const std::function<void(const Future<int>&)> fn = [&t](const Future<int>&) { t("fn"); };
    f.add_done_callback(cb);
    f.add_done_callback(fn);
    f.set_result(3);
    support::run_once(*loop);
    EXPECT_EQ(t.str(), "cb3 fn");
}
