// gather_test.cpp — asyncio/gather.hpp: gather(aws...), gather(range),
// return_exceptions and Outcome, cancellation both ways, duplicates, the
// iterations a gather takes, the "never retrieved" reports and lifetimes.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (3.13): GatherTestsBase,
// FutureGatherTests, CoroutineGatherTests, test_cancel_gather_*. Each
// GatherTestsBase case runs twice, over futures and over coroutines that
// await them, as CPython does.
#include <gtest/gtest.h>

#include <forward_list>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "asyncio.hpp"
#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::CaptureHandler;
using support::Trace;

namespace {

// CPython's _run_loop: run until nothing is ready (a few iterations here).
void run_loop(EventLoop& loop) {
    for (int i = 0; i < 4; ++i) support::run_briefly(loop);
}

Coro<int> await_future(Future<int> f) {
    co_return co_await f;
}

enum class Wrap { futures, coroutines };

// GatherTestsBase.wrap_futures + _gather: the futures themselves, or
// coroutines awaiting them (gathered inside a running loop).
template <class... F>
Coro<Future<std::tuple<int, std::conditional_t<true, int, F>...>>> gather_coroutines(Future<int> a,
                                                                                     F... fs) {
    co_return gather(await_future(a), await_future(fs)...);
}
template <class... F>
Coro<Future<std::tuple<Outcome<int>, std::conditional_t<true, Outcome<int>, F>...>>>
gather_coroutines_re(Future<int> a, F... fs) {
    co_return gather(return_exceptions, await_future(a), await_future(fs)...);
}

template <class... F>
auto gather_wrapped(EventLoop& loop, Wrap wrap, Future<int> a, F... fs) {
    if (wrap == Wrap::futures) return gather(a, fs...);
    return loop.run_until_complete(gather_coroutines(a, fs...));
}
template <class... F>
auto gather_wrapped_re(EventLoop& loop, Wrap wrap, Future<int> a, F... fs) {
    if (wrap == Wrap::futures) return gather(return_exceptions, a, fs...);
    return loop.run_until_complete(gather_coroutines_re(a, fs...));
}

/// Counts the calls of a done callback (CPython's MockCallback).
struct CallCount {
    std::shared_ptr<int> n = std::make_shared<int>(0);
    template <class Fut>
    void watch(const Fut& f) {
        f.add_done_callback([n = n](const Fut&) { ++*n; });
    }
    int operator()() const { return *n; }
};

Coro<int> value(int v) {
    co_return v;
}
Coro<> nothing() {
    co_return;
}
Coro<int> value_after(double seconds, int v) {
    co_await asyncio::sleep(seconds);
    co_return v;
}
Coro<int> fail_after(double seconds, std::string msg) {
    co_await asyncio::sleep(seconds);
    throw ValueError(msg);
}
Coro<int> fail_now(std::string msg) {
    throw ValueError(msg);
    co_return 0;
}
Coro<> sleep_forever() {
    co_await asyncio::sleep(1e9);
}

}  // namespace

// ------------------------------------------------------- GatherTestsBase

// CPython: test_tasks.py::GatherTestsBase::_check_success
void check_success(Wrap wrap, bool return_exceptions_) {
    auto loop = support::new_virtual_loop();
    Future<int> a = loop->create_future<int>(), b = loop->create_future<int>(),
                c = loop->create_future<int>();
    auto run = [&](auto fut) {
        CallCount cb;
        cb.watch(fut);
        b.set_result(1);
        a.set_result(2);
        run_loop(*loop);
        EXPECT_EQ(cb(), 0);
        EXPECT_FALSE(fut.done());
        c.set_result(3);
        run_loop(*loop);
        EXPECT_EQ(cb(), 1);
        return fut;
    };
    if (return_exceptions_) {
        auto fut = run(gather_wrapped_re(*loop, wrap, a, b, c));
        const auto& [x, y, z] = fut.result();
        EXPECT_EQ(x.value(), 2);
        EXPECT_EQ(y.value(), 1);
        EXPECT_EQ(z.value(), 3);
    } else {
        auto fut = run(gather_wrapped(*loop, wrap, a, b, c));
        EXPECT_EQ(fut.result(), std::make_tuple(2, 1, 3));
    }
}

TEST(gather, futures_success_results_in_argument_order) {
    check_success(Wrap::futures, false);
}
TEST(gather, coroutines_success_results_in_argument_order) {
    check_success(Wrap::coroutines, false);
}
// CPython: test_tasks.py::GatherTestsBase::test_result_exception_success
TEST(gather, futures_success_with_return_exceptions) {
    check_success(Wrap::futures, true);
}
TEST(gather, coroutines_success_with_return_exceptions) {
    check_success(Wrap::coroutines, true);
}

// CPython: test_tasks.py::GatherTestsBase::test_one_exception
void check_one_exception(Wrap wrap) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    std::vector<Future<int>> f;
    for (int i = 0; i < 5; ++i) f.push_back(loop->create_future<int>());
    auto fut = gather_wrapped(*loop, wrap, f[0], f[1], f[2], f[3], f[4]);
    CallCount cb;
    cb.watch(fut);
    const auto exc = std::make_exception_ptr(std::domain_error("zero division"));
    f[0].set_result(1);
    f[1].set_exception(exc);
    run_loop(*loop);
    EXPECT_TRUE(fut.done());
    EXPECT_EQ(cb(), 1);
    EXPECT_EQ(fut.exception(), exc);  // the very exception object
    // Does nothing:
    f[2].set_result(3);
    f[3].cancel();
    f[4].set_exception(std::make_exception_ptr(std::runtime_error("late")));
    (void)f[4].exception();
    run_loop(*loop);
    EXPECT_EQ(cb(), 1);
    EXPECT_TRUE(cap.empty()) << cap.at(0).message;
}

TEST(gather, futures_first_exception_fails_the_gather) {
    check_one_exception(Wrap::futures);
}
TEST(gather, coroutines_first_exception_fails_the_gather) {
    check_one_exception(Wrap::coroutines);
}

// CPython: test_tasks.py::GatherTestsBase::test_return_exceptions
void check_return_exceptions(Wrap wrap) {
    auto loop = support::new_virtual_loop();
    std::vector<Future<int>> f;
    for (int i = 0; i < 4; ++i) f.push_back(loop->create_future<int>());
    auto fut = gather_wrapped_re(*loop, wrap, f[0], f[1], f[2], f[3]);
    CallCount cb;
    cb.watch(fut);
    const auto exc = std::make_exception_ptr(std::domain_error("zero division"));
    const auto exc2 = std::make_exception_ptr(std::runtime_error("runtime"));
    f[1].set_result(1);
    f[2].set_exception(exc);
    f[0].set_result(3);
    run_loop(*loop);
    EXPECT_FALSE(fut.done());
    f[3].set_exception(exc2);
    run_loop(*loop);
    EXPECT_TRUE(fut.done());
    EXPECT_EQ(cb(), 1);
    const auto& [r0, r1, r2, r3] = fut.result();
    EXPECT_EQ(r0.value(), 3);
    EXPECT_EQ(r1.value(), 1);
    EXPECT_FALSE(r2.has_value());
    EXPECT_EQ(r2.exception(), exc);
    EXPECT_EQ(r3.exception(), exc2);
    EXPECT_THROW_MSG((void)r3.value(), std::runtime_error, "runtime");
}

TEST(gather, futures_return_exceptions_keeps_each_error_in_its_slot) {
    check_return_exceptions(Wrap::futures);
}
TEST(gather, coroutines_return_exceptions_keeps_each_error_in_its_slot) {
    check_return_exceptions(Wrap::coroutines);
}

// ------------------------------------------------------- FutureGatherTests

// CPython: test_tasks.py::FutureGatherTests::test_constructor_empty_sequence_use_running_loop
TEST(gather, of_nothing_is_a_future_already_done) {
    support::run_virtual([]() -> Coro<> {
        Future<std::tuple<>> fut = gather();
        EXPECT_TRUE(fut.done());
        EXPECT_EQ(fut.result(), std::tuple<>());
        std::vector<Task<int>> none;
        Future<std::vector<int>> fv = gather(none);
        EXPECT_TRUE(fv.done());
        EXPECT_TRUE(fv.result().empty());
        EXPECT_TRUE((co_await gather(return_exceptions, std::vector<Coro<int>>{})).empty());
    }());
}

// CPython: test_tasks.py::FutureGatherTests::test_constructor_empty_sequence_without_loop
TEST(gather, of_nothing_or_of_coroutines_needs_a_running_loop) {
    EXPECT_THROW_MSG((void)gather(), RuntimeError, "no running event loop");
    EXPECT_THROW_MSG((void)gather(value(1)), RuntimeError, "no running event loop");
}

// CPython: test_tasks.py::FutureGatherTests::test_constructor_heterogenous_futures
TEST(gather, futures_of_two_loops_are_a_value_error) {
    auto one = support::new_virtual_loop();
    auto other = support::new_virtual_loop();
    Future<int> f1 = one->create_future<int>();
    Future<int> f2 = other->create_future<int>();
    EXPECT_THROW_MSG(
        (void)gather(f1, f2), ValueError,
        "The future belongs to a different loop than the one specified as the loop argument");
    // Nothing is left watching f1.
    f1.set_result(1);
    run_loop(*one);
}

// CPython: test_tasks.py::FutureGatherTests::test_constructor_homogenous_futures
TEST(gather, of_futures_belongs_to_their_loop_even_outside_it) {
    auto one = support::new_virtual_loop();
    auto other = support::new_virtual_loop();
    std::vector<Future<int>> children;
    for (int i = 0; i < 3; ++i) children.push_back(other->create_future<int>());
    auto fut = gather(children);
    EXPECT_EQ(&fut.get_loop(), other.get());
    run_loop(*other);
    EXPECT_FALSE(fut.done());
    auto fut2 = gather(children[0], children[1], children[2]);
    EXPECT_EQ(&fut2.get_loop(), other.get());
    for (int i = 0; i < 3; ++i) children[i].set_result(i);
    run_loop(*other);
    EXPECT_EQ(fut.result(), (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(fut2.result(), std::make_tuple(0, 1, 2));
}

// CPython: test_tasks.py::FutureGatherTests::test_one_cancellation
TEST(gather, cancelled_child_fails_the_gather_with_cancelled_error_not_cancelled) {
    auto loop = support::new_virtual_loop();
    std::vector<Future<int>> f;
    for (int i = 0; i < 5; ++i) f.push_back(loop->create_future<int>());
    auto fut = gather(f[0], f[1], f[2], f[3], f[4]);
    CallCount cb;
    cb.watch(fut);
    f[0].set_result(1);
    f[1].cancel("child b");
    run_loop(*loop);
    EXPECT_TRUE(fut.done());
    EXPECT_EQ(cb(), 1);
    EXPECT_FALSE(fut.cancelled());
    EXPECT_THROW_MSG(std::rethrow_exception(fut.exception()), CancelledError, "child b");
    // Does nothing:
    f[2].set_result(3);
    f[3].cancel();
    f[4].set_exception(std::make_exception_ptr(std::runtime_error("late")));
    (void)f[4].exception();
    run_loop(*loop);
    EXPECT_EQ(cb(), 1);
}

// CPython: test_tasks.py::FutureGatherTests::test_result_exception_one_cancellation
TEST(gather, return_exceptions_records_cancellations_as_cancelled_error) {
    auto loop = support::new_virtual_loop();
    std::vector<Future<int>> f;
    for (int i = 0; i < 6; ++i) f.push_back(loop->create_future<int>());
    auto fut = gather(return_exceptions, f);
    CallCount cb;
    cb.watch(fut);
    f[0].set_result(1);
    const auto zde = std::make_exception_ptr(std::domain_error("zero division"));
    f[1].set_exception(zde);
    f[2].cancel("third");
    run_loop(*loop);
    EXPECT_FALSE(fut.done());
    f[3].set_result(3);
    f[4].cancel();
    const auto rte = std::make_exception_ptr(std::runtime_error("runtime"));
    f[5].set_exception(rte);
    const std::vector<Outcome<int>> res = loop->run_until_complete(fut);
    ASSERT_EQ(res.size(), 6u);
    EXPECT_EQ(res[0].value(), 1);
    EXPECT_EQ(res[1].exception(), zde);
    EXPECT_THROW_MSG(std::rethrow_exception(res[2].exception()), CancelledError, "third");
    EXPECT_EQ(res[3].value(), 3);
    EXPECT_THROW_MSG((void)res[4].value(), CancelledError, "");
    EXPECT_EQ(res[5].exception(), rte);
    EXPECT_EQ(cb(), 1);
    EXPECT_FALSE(fut.cancelled());
}

// ---------------------------------------------------- CoroutineGatherTests

// CPython: test_tasks.py::CoroutineGatherTests::test_constructor_use_running_loop
TEST(gather, coroutines_become_tasks_of_the_running_loop_at_the_call) {
    auto loop = support::new_virtual_loop();
    Trace trace;
    auto body = [&]() -> Coro<Future<std::tuple<int, int>>> {
        const std::size_t before = all_tasks().size();
        auto fut = gather(value(1), value(2));
        trace("tasks+", all_tasks().size() - before);
        co_return fut;
    };
    auto fut = loop->run_until_complete(body());
    EXPECT_EQ(&fut.get_loop(), loop.get());
    EXPECT_EQ(loop->run_until_complete(fut), std::make_tuple(1, 2));
    EXPECT_EQ(trace.str(), "tasks+2");
}

// CPython: test_tasks.py::CoroutineGatherTests::test_duplicate_coroutines
// (a Coro is move-only: the same awaitable twice is a task or a future)
TEST(gather, same_task_twice_runs_once_and_fills_both_slots) {
    int runs = 0;
    auto coro = [&](std::string s) -> Coro<std::string> {
        ++runs;
        co_return s;
    };
    support::run_virtual([&]() -> Coro<> {
        Task<std::string> c = create_task(coro("abc"));
        auto fut = gather(c, c, coro("def"), c);
        auto res = co_await fut;
        EXPECT_EQ(res, std::make_tuple(std::string("abc"), std::string("abc"), std::string("def"),
                                       std::string("abc")));
        std::vector<Task<std::string>> v{c, c};
        const std::vector<std::string> want{"abc",
                                            "abc"};  // g++ 12: no braced list next to co_await
        EXPECT_EQ(co_await gather(v), want);
    }());
    EXPECT_EQ(runs, 2);
}

TEST(gather, same_pending_future_twice_is_watched_once) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    Future<int> g = loop->create_future<int>();
    auto fut = gather(f, g, f);
    g.set_result(2);
    run_loop(*loop);
    EXPECT_FALSE(fut.done());
    f.set_result(1);
    run_loop(*loop);
    EXPECT_EQ(fut.result(), std::make_tuple(1, 2, 1));
}

// CPython: test_tasks.py::CoroutineGatherTests::test_cancellation_broadcast
TEST(gather, cancelling_the_awaiting_task_cancels_every_child) {
    auto loop = support::new_virtual_loop();
    int proof = 0;
    Future<> waiter = loop->create_future();
    auto inner = [&]() -> Coro<> {
        co_await waiter;
        proof += 1;
    };
    Task<> child1 = loop->create_task(inner());
    Task<> child2 = loop->create_task(inner());
    Future<std::tuple<std::monostate, std::monostate>> gatherer;
    auto outer = [&]() -> Coro<> {
        gatherer = gather(child1, child2);
        co_await gatherer;
        proof += 100;
    };
    Task<> f = loop->create_task(outer());
    support::run_briefly(*loop);
    EXPECT_TRUE(f.cancel());
    EXPECT_THROW(loop->run_until_complete(f), CancelledError);
    EXPECT_FALSE(gatherer.cancel());
    EXPECT_TRUE(waiter.cancelled());
    EXPECT_TRUE(child1.cancelled());
    EXPECT_TRUE(child2.cancelled());
    support::run_briefly(*loop);
    EXPECT_EQ(proof, 0);
}

// CPython: test_tasks.py::CoroutineGatherTests::test_exception_marking
TEST(gather, later_child_errors_are_marked_retrieved) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Future<> a = loop->create_future();
    Future<> b = loop->create_future();
    auto inner = [](Future<> f) -> Coro<> {
        co_await f;
        throw RuntimeError("should not be ignored");
    };
    auto outer = [&]() -> Coro<> { co_await gather(inner(a), inner(b)); };
    Task<> f = loop->create_task(outer());
    support::run_briefly(*loop);
    a.set_result();
    support::run_briefly(*loop);
    b.set_result();
    support::run_briefly(*loop);
    EXPECT_THROW_MSG(std::rethrow_exception(f.exception()), RuntimeError, "should not be ignored");
    f = Task<>();
    run_loop(*loop);
    EXPECT_TRUE(cap.empty()) << cap.at(0).message;
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_gather_1
TEST(gather, refuses_cancellation_once_every_child_is_done) {
    auto loop = support::new_virtual_loop();
    Future<int> fut = loop->create_future<int>();
    auto create = [&]() -> Coro<Future<std::tuple<int>>> {
        // The indirection fut -> child_coro keeps the gather pending one
        // iteration after fut is done.
        co_return gather(await_future(fut));
    };
    auto gather_future = loop->run_until_complete(create());
    std::optional<bool> cancel_result;
    fut.add_done_callback([&](const Future<int>&) { cancel_result = gather_future.cancel(); });
    fut.set_result(42);
    loop->run_until_complete(gather_future);
    // Python issue #26923: asyncio.gather drops cancellation
    EXPECT_EQ(cancel_result, false);
    EXPECT_FALSE(gather_future.cancelled());
    EXPECT_EQ(gather_future.result(), std::make_tuple(42));
}

// CPython: test_tasks.py::BaseTaskTests::test_cancel_gather_2
TEST(gather, cancelling_a_task_inside_gather_with_return_exceptions_propagates_its_message) {
    const std::vector<std::optional<std::string>> messages{std::nullopt, "my message"};
    for (const std::optional<std::string>& msg : messages) {
        auto loop = support::new_virtual_loop();
        auto test = []() -> Coro<> {
            double time = 0;
            for (;;) {
                time += 0.05;
                co_await gather(return_exceptions, asyncio::sleep(0.05));
                if (time > 1) co_return;
            }
        };
        auto main = [&]() -> Coro<> {
            Task<> qwe = create_task(test());
            co_await asyncio::sleep(0.2);
            qwe.cancel(msg);
            co_await qwe;
        };
        EXPECT_THROW_MSG(loop->run_until_complete(main()), CancelledError, msg.value_or(""));
    }
}

// ------------------------------------------------ the contract, case by case

TEST(gather, tuple_form_mixes_coroutines_tasks_futures_and_void) {
    support::run_virtual([]() -> Coro<> {
        Future<std::string> f = get_running_loop().create_future<std::string>();
        f.set_result("fut");
        auto half = []() -> Coro<double> {
            co_await asyncio::sleep(0.5);
            co_return 7.0;
        };
        Task<double> t = create_task(half());
        TaskRef r = create_task(nothing());
        auto [a, b, c, d, e] = co_await gather(value(1), f, t, nothing(), r);
        static_assert(std::is_same_v<decltype(c), double>);
        static_assert(std::is_same_v<decltype(d), std::monostate>);
        static_assert(std::is_same_v<decltype(e), std::monostate>);
        EXPECT_EQ(a, 1);
        EXPECT_EQ(b, "fut");
        EXPECT_EQ(c, 7.0);
        EXPECT_EQ(get_running_loop().time(), 0.5);
    }());
}

TEST(gather, range_of_coroutines_is_moved_out_and_keeps_order) {
    support::run_virtual([]() -> Coro<> {
        std::vector<Coro<int>> coros;
        for (int i = 0; i < 5; ++i) coros.push_back(value_after(0.1 * (5 - i), i));
        std::vector<int> res = co_await gather(std::move(coros));
        EXPECT_EQ(res, (std::vector<int>{0, 1, 2, 3, 4}));  // argument order, not completion order
        std::vector<Coro<>> voids;
        voids.push_back(nothing());
        voids.push_back(nothing());
        std::vector<std::monostate> vres = co_await gather(std::move(voids));
        EXPECT_EQ(vres.size(), 2u);
    }());
}

TEST(gather, range_without_size_and_range_of_task_refs) {
    support::run_virtual([]() -> Coro<> {
        std::forward_list<Coro<int>> coros;  // no size(): walked once, collected
        coros.push_front(value(2));
        coros.push_front(value(1));
        const std::vector<int> want{1, 2}, want9{9};
        EXPECT_EQ(co_await gather(std::move(coros)), want);
        std::list<TaskRef> refs{create_task(nothing()), create_task(nothing())};
        EXPECT_EQ((co_await gather(refs)).size(), 2u);
        std::vector<Future<int>> futs{get_running_loop().create_future<int>()};
        futs[0].set_result(9);
        EXPECT_EQ(co_await gather(futs), want9);
    }());
}

TEST(gather, range_of_coroutines_with_return_exceptions) {
    auto self_cancel = []() -> Coro<int> {
        current_task().cancel("by itself");
        co_await asyncio::sleep(0);
        co_return 0;
    };
    support::run_virtual([&]() -> Coro<> {
        std::vector<Coro<int>> coros;
        coros.push_back(value_after(0.2, 1));
        coros.push_back(fail_after(0.1, "second"));
        coros.push_back(self_cancel());
        coros.push_back(value(4));
        std::vector<Outcome<int>> r = co_await gather(return_exceptions, std::move(coros));
        if (r.size() != 4u) {
            ADD_FAILURE() << r.size();  // (ASSERT_* cannot be used in a coroutine)
            co_return;
        }
        EXPECT_EQ(r[0].value(), 1);
        EXPECT_THROW_MSG((void)r[1].value(), ValueError, "second");
        EXPECT_THROW_MSG((void)r[2].value(), CancelledError, "by itself");
        EXPECT_EQ(r[3].value(), 4);
    }());
}

TEST(gather, cancelled_range_gather_after_some_children_finished) {
    for (bool re : {false, true}) {
        CaptureHandler cap;
        support::run_virtual(
            [re]() -> Coro<> {
                std::vector<Coro<int>> coros;
                coros.push_back(value(1));
                coros.push_back(fail_after(0.1, "early"));
                coros.push_back(value_after(5, 3));
                coros.push_back(value_after(5, 4));
                auto check = [](auto fut) -> Coro<> {
                    co_await asyncio::sleep(0.5);  // the first two are done
                    if (fut.done()) {  // without return_exceptions: failed at 0.1 already
                        EXPECT_FALSE(fut.cancel());
                        EXPECT_THROW_MSG((void)co_await fut, ValueError, "early");
                        co_return;
                    }
                    EXPECT_TRUE(fut.cancel("late"));
                    EXPECT_THROW_MSG((void)co_await fut, CancelledError, "late");
                };
                if (re)
                    co_await check(gather(return_exceptions, std::move(coros)));
                else
                    co_await check(gather(std::move(coros)));
            }(),
            cap);
        EXPECT_TRUE(cap.empty()) << cap.at(0).message << ": " << cap.at(0).what;
    }
}

TEST(gather, first_error_propagates_at_once_and_the_others_keep_running) {
    Trace trace;
    support::run_virtual([&]() -> Coro<> {
        Task<int> slow = create_task(value_after(2, 42));
        auto fut = gather(fail_after(1, "boom"), slow);
        EXPECT_THROW_MSG((void)co_await fut, ValueError, "boom");
        trace("caught at ", get_running_loop().time());
        EXPECT_FALSE(slow.done());
        // Cancelling the gather after it propagated an error cancels nothing.
        EXPECT_FALSE(fut.cancel());
        EXPECT_FALSE(slow.cancelled());
        EXPECT_EQ(co_await slow, 42);
        trace("slow at ", get_running_loop().time());
    }());
    EXPECT_EQ(trace.str(), "caught at 1 slow at 2");
}

TEST(gather, cancelling_one_child_fails_the_gather_but_not_its_siblings) {
    support::run_virtual([]() -> Coro<> {
        Task<int> a = create_task(value_after(1, 1));
        Task<int> b = create_task(value_after(2, 2));
        auto fut = gather(a, b);
        co_await asyncio::sleep(0);
        a.cancel("only a");
        EXPECT_THROW_MSG((void)co_await fut, CancelledError, "only a");
        EXPECT_FALSE(fut.cancelled());
        EXPECT_TRUE(fut.done());
        EXPECT_FALSE(b.cancelled());
        EXPECT_EQ(co_await b, 2);
    }());
}

TEST(gather, cancel_cancels_every_unfinished_child_and_ends_in_cancelled_error) {
    for (bool re : {false, true}) {
        support::run_virtual([re]() -> Coro<> {
            Task<int> done_child = create_task(value(1));
            Task<int> a = create_task(value_after(1, 1));
            Task<> b = create_task(sleep_forever());
            co_await asyncio::sleep(0);
            auto check = [&](auto fut) -> Coro<> {
                EXPECT_TRUE(fut.cancel("stop"));
                EXPECT_FALSE(fut.done());  // like Task.cancel: only a request
                EXPECT_TRUE(a.cancelling() == 1 && b.cancelling() == 1);
                EXPECT_THROW_MSG((void)co_await fut, CancelledError, "stop");
                // CPython sets the CancelledError as the gather's exception:
                // cancelled() stays false, exception() returns it.
                EXPECT_FALSE(fut.cancelled());
                EXPECT_THROW_MSG(std::rethrow_exception(fut.exception()), CancelledError, "stop");
                EXPECT_TRUE(a.cancelled());
                EXPECT_TRUE(b.cancelled());
                EXPECT_FALSE(done_child.cancelled());
                EXPECT_FALSE(fut.cancel());
            };
            if (re)
                co_await check(gather(return_exceptions, done_child, a, b));
            else
                co_await check(gather(done_child, a, b));
        }());
    }
}

TEST(gather, cancel_after_every_child_finished_returns_false) {
    support::run_virtual([]() -> Coro<> {
        Task<int> a = create_task(value(1));
        co_await asyncio::sleep(0);
        auto fut = gather(a);  // done at the call: the gather is done at once
        EXPECT_TRUE(fut.done());
        EXPECT_FALSE(fut.cancel());
        EXPECT_EQ(fut.result(), std::make_tuple(1));
    }());
}

TEST(gather, child_that_ignores_cancellation_still_ends_the_gather_cancelled) {
    // CPython (issue 32684): a cancelled gather raises CancelledError even if
    // every child returned a value.
    auto stubborn = []() -> Coro<std::string> {
        try {
            co_await asyncio::sleep(5);
        } catch (const CancelledError&) {
        }
        co_return "ignored";
    };
    for (bool re : {false, true}) {
        support::run_virtual([&]() -> Coro<> {
            auto fut = re ? gather(return_exceptions, stubborn())
                          : Future<std::tuple<Outcome<std::string>>>();
            if (!re) {
                auto plain = gather(stubborn());
                co_await asyncio::sleep(0);
                EXPECT_TRUE(plain.cancel());
                EXPECT_THROW_MSG((void)co_await plain, CancelledError, "");
                co_return;
            }
            co_await asyncio::sleep(0);
            EXPECT_TRUE(fut.cancel("ignored?"));
            EXPECT_THROW_MSG((void)co_await fut, CancelledError, "");
        }());
    }
}

TEST(gather, cancel_asks_a_child_passed_twice_twice) {
    support::run_virtual([]() -> Coro<> {
        Task<> x = create_task(sleep_forever());
        auto fut = gather(x, x);
        EXPECT_TRUE(fut.cancel());
        EXPECT_EQ(x.cancelling(), 2);  // as CPython
        EXPECT_THROW((void)co_await fut, CancelledError);
        EXPECT_TRUE(x.cancelled());
    }());
}

TEST(gather, cancelling_a_nested_gather_reaches_the_grandchildren) {
    support::run_virtual([]() -> Coro<> {
        Task<> a = create_task(sleep_forever());
        Task<> b = create_task(sleep_forever());
        auto inner = gather(a, b);
        auto outer = gather(inner, value(3));
        co_await asyncio::sleep(0);
        EXPECT_TRUE(outer.cancel("all"));
        EXPECT_THROW_MSG((void)co_await outer, CancelledError, "all");
        EXPECT_TRUE(a.cancelled());
        EXPECT_TRUE(b.cancelled());
        EXPECT_THROW_MSG(std::rethrow_exception(inner.exception()), CancelledError, "all");
    }());
}

TEST(gather, done_children_at_the_call_complete_the_gather_before_it_returns) {
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    f.set_result(3);
    auto fut = gather(f, f);
    EXPECT_TRUE(fut.done());
    EXPECT_EQ(fut.result(), std::make_tuple(3, 3));
    Future<int> bad = loop->create_future<int>();
    bad.set_exception(std::make_exception_ptr(std::out_of_range("k")));
    auto fut2 = gather(f, bad);
    EXPECT_TRUE(fut2.done());
    EXPECT_THROW_MSG(std::rethrow_exception(fut2.exception()), std::out_of_range, "k");
}

TEST(gather, outcome_of_void_child_is_monostate) {
    support::run_virtual([]() -> Coro<> {
        auto [a, b] = co_await gather(return_exceptions, nothing(), fail_now("x"));
        static_assert(std::is_same_v<decltype(a), Outcome<std::monostate>>);
        EXPECT_TRUE(a.has_value());
        EXPECT_EQ(a.exception(), nullptr);
        EXPECT_FALSE(b.has_value());
        EXPECT_THROW_MSG((void)b.value(), ValueError, "x");
    }());
}

// ------------------------------------------------ iterations, as CPython

// The same trace as CPython 3.13 prints for this program (ticks interleave
// exactly, so every wake-up takes the same iterations):
//   tick0 tick1 child1 tick2 tick3 child2 tick4 tick5 gathered tick6 tick7
TEST(gather, takes_the_same_iterations_as_cpython) {
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
    auto failing = [&](int n) -> Coro<int> {
        for (int k = 0; k < n; ++k) co_await asyncio::sleep(0);
        trace("fail", n);
        throw ValueError("e" + std::to_string(n));
    };
    support::run_virtual([&]() -> Coro<> {
        Task<> t = create_task(ticker());
        auto r = co_await gather(child(1, 1), child(2, 3));
        trace("gathered");
        EXPECT_EQ(r, std::make_tuple(1, 2));
        co_await t;
        EXPECT_EQ(trace.take(),
                  "tick0 tick1 child1 tick2 tick3 child2 tick4 tick5 gathered tick6 tick7");

        t = create_task(ticker());
        try {
            co_await gather(failing(1), child(2, 4));
        } catch (const ValueError& e) {
            trace("caught ", e.what());
        }
        co_await t;
        EXPECT_EQ(trace.take(),
                  "tick0 tick1 fail1 tick2 tick3 caught e1 tick4 child2 tick5 tick6 tick7");
    }());
}

// ------------------------------------------------ reports and lifetimes

TEST(gather, unretrieved_error_is_reported_as_gathering_future) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    {
        auto fut = loop->run_until_complete(
            []() -> Coro<Future<std::tuple<int>>> { co_return gather(fail_now("boom")); }());
        run_loop(*loop);
        EXPECT_TRUE(fut.done());
    }
    run_loop(*loop);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "_GatheringFuture exception was never retrieved");
    EXPECT_EQ(cap.at(0).what, "boom");
}

TEST(gather, results_are_moved_out_of_its_own_tasks_and_built_in_place) {
    using C = support::Counted;
    C::reset();
    {
        auto loop = support::new_virtual_loop();
        auto make = [](int v) -> Coro<C> { co_return C(v); };
        auto fut = loop->run_until_complete([&]() -> Coro<Future<std::vector<C>>> {
            std::vector<Coro<C>> coros;
            for (int i = 0; i < 4; ++i) coros.push_back(make(i));
            co_return gather(std::move(coros));
        }());
        run_loop(*loop);
        ASSERT_TRUE(fut.done());
        EXPECT_EQ(fut.result().size(), 4u);
        EXPECT_EQ(fut.result()[3].value, 3);
        EXPECT_EQ(C::copies(), 0);
    }
    EXPECT_EQ(C::live(), 0);
}

TEST(gather, dropped_while_children_pend_lets_them_run_on) {
    Trace trace;
    support::run_virtual([&]() -> Coro<> {
        Task<int> a = create_task(value_after(1, 1));
        { auto fut = gather(a, value_after(2, 2)); }  // nobody holds the gather any more
        EXPECT_EQ(co_await a, 1);
        co_await asyncio::sleep(2);
        trace("ok");
    }());
    EXPECT_EQ(trace.str(), "ok");
}

TEST(gather, dropped_gather_keeps_watching_and_reports_its_error_at_the_end) {
    // CPython prints, for the same program (only the gather's own error,
    // once every child is done, at t=2):
    //   t=2 _GatheringFuture exception was never retrieved ValueError('first')
    CaptureHandler cap;
    std::vector<std::string> when;
    support::run_virtual(
        [&]() -> Coro<> {
            (void)gather(fail_after(1, "first"), asyncio::sleep(2), fail_after(1.5, "second"));
            co_await asyncio::sleep(0.2);  // samples at t = 1.2, 2.2, 3.2
            for (int t = 0; t < 3; ++t) {
                co_await asyncio::sleep(1);
                when.push_back(std::to_string(t + 1) + ":" + std::to_string(cap.size()));
            }
        }(),
        cap);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "_GatheringFuture exception was never retrieved");
    EXPECT_EQ(cap.at(0).what, "first");
    EXPECT_EQ(when, (std::vector<std::string>{"1:0", "2:1", "3:1"}));
}

TEST(gather, dropped_gather_with_pending_children_and_a_closed_loop_leaks_nothing) {
    using C = support::Counted;
    C::reset();
    {
        auto loop = support::new_virtual_loop();
        CaptureHandler cap(*loop);
        auto forever = []() -> Coro<C> {
            co_await asyncio::sleep(1e9);
            co_return C(1);
        };
        Future<int> lost = loop->create_future<int>();
        loop->run_until_complete([&]() -> Coro<> {
            (void)gather(forever(), forever(), lost, value(3));
            co_return;
        }());
        lost = Future<int>();  // nobody can complete it now: it goes, and its node with it
        run_loop(*loop);
        loop->close();  // the pending tasks go, and the gather with them
        // The destroyed tasks are reported (CPython does not log tasks made by
        // gather(); see docs/python_mapping.md).
        EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 2u);
    }
    EXPECT_EQ(C::live(), 0);
}

TEST(gather, failed_call_leaves_its_children_watched_as_cpython) {
    // bpo-46672: gather() raised half-way; the children it had already
    // watched still get their errors marked retrieved.
    auto one = support::new_virtual_loop();
    auto other = support::new_virtual_loop();
    CaptureHandler cap(*one);
    Future<int> a = one->create_future<int>();
    Future<int> b = other->create_future<int>();
    EXPECT_THROW((void)gather(a, b), ValueError);
    a.set_exception(std::make_exception_ptr(std::runtime_error("x")));
    run_loop(*one);
    a = Future<int>();
    run_loop(*one);
    EXPECT_TRUE(cap.empty()) << cap.at(0).message;
}

TEST(gather, dropped_while_a_completion_is_queued) {
    // The child completes, its node is queued for the next iteration, and
    // the gather goes first: the node must still run safely (ASan).
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    Future<int> g = loop->create_future<int>();
    {
        auto fut = gather(f, g);
        f.set_result(1);
    }
    run_loop(*loop);
    g.set_result(2);
    run_loop(*loop);
}

TEST(gather, loop_closed_with_the_gather_pending_leaks_nothing) {
    using C = support::Counted;
    C::reset();
    {
        auto loop = support::new_virtual_loop();
        CaptureHandler cap(*loop);
        auto forever = []() -> Coro<C> {
            co_await asyncio::sleep(1e9);
            co_return C(1);
        };
        auto fut = loop->run_until_complete([&]() -> Coro<Future<std::vector<C>>> {
            std::vector<Coro<C>> v;
            v.push_back(forever());
            v.push_back(forever());
            co_return gather(std::move(v));
        }());
        run_loop(*loop);
        loop->close();
        EXPECT_FALSE(fut.done());
    }
    EXPECT_EQ(C::live(), 0);
}

TEST(gather, waiting_task_destroyed_with_the_loop) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->create_task([]() -> Coro<> { co_await gather(sleep_forever(), sleep_forever()); }());
    run_loop(*loop);
    loop->close();
}

TEST(gather, braced_options_and_value_capture_free_spelling_under_asan) {
    support::run_virtual([]() -> Coro<> {
        auto [a, b] =
            co_await gather(co_invoke([](int x) -> Coro<int> { co_return x; }, 5), value(6));
        EXPECT_EQ(a + b, 11);
    }());
}
