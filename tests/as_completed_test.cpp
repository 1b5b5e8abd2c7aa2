// as_completed_test.cpp — asyncio/as_completed.hpp: plain iteration (Coro<R>
// awaitables in completion order), 3.13 async iteration with next() (the
// original tasks), timeouts, resuming after a break, duplicates, errors,
// cancellation of a consumer, the iterations it takes, and lifetimes.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py (3.13): test_as_completed*.
// Each CPython case that runs both iteration styles runs both here too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
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

Coro<std::string> sleep_then(double seconds, std::string v) {
    co_await asyncio::sleep(seconds);
    co_return v;
}
Coro<int> value(int v) {
    co_return v;
}
Coro<int> fail_after(double seconds, std::string msg) {
    co_await asyncio::sleep(seconds);
    throw ValueError(msg);
}

enum class Style { plain, async_ };

/// Collects the results of as_completed(inputs) in the given style.
template <class Range>
Coro<std::vector<std::string>> collect(Style style, Range inputs) {
    std::vector<std::string> values;
    if (style == Style::plain) {
        for (auto next : as_completed(std::move(inputs))) values.push_back(co_await next);
    } else {
        auto it = as_completed(std::move(inputs));
        while (auto f = co_await it.next()) values.push_back(co_await *f);
    }
    co_return values;
}

std::vector<Coro<std::string>> coros(std::vector<std::pair<double, std::string>> specs) {
    std::vector<Coro<std::string>> out;
    for (auto& [d, v] : specs) out.push_back(sleep_then(d, v));
    return out;
}

void run_loop(EventLoop& loop) {
    for (int i = 0; i < 4; ++i) support::run_briefly(loop);
}

}  // namespace

// CPython: test_tasks.py::BaseTaskTests::test_as_completed
TEST(as_completed, yields_in_completion_order_both_styles) {
    for (Style style : {Style::plain, Style::async_}) {
        auto loop = support::new_virtual_loop();
        auto res = loop->run_until_complete(
            collect(style, coros({{0.01, "b"}, {0.15, "c"}, {0.01, "a"}})));
        EXPECT_DOUBLE_EQ(loop->time(), 0.15);
        ASSERT_EQ(res.size(), 3u);
        EXPECT_TRUE(std::count(res.begin(), res.begin() + 2, "a") == 1);
        EXPECT_TRUE(std::count(res.begin(), res.begin() + 2, "b") == 1);
        EXPECT_EQ(res[2], "c");
    }
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_same_tasks_in_as_out
TEST(as_completed, async_iteration_yields_the_original_tasks_and_futures) {
    support::run_virtual([]() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value(1)), create_task(value(2))};
        std::set<const void*> in{tasks[0].identity(), tasks[1].identity()}, out;
        auto it = as_completed(tasks);
        while (std::optional<Task<int>> t = co_await it.next()) out.insert(t->identity());
        EXPECT_EQ(in, out);

        // Coroutines come back as the tasks made for them.
        std::vector<Coro<int>> cs;
        cs.push_back(value(3));
        auto it2 = as_completed(std::move(cs));
        std::optional<Task<int>> t = co_await it2.next();
        static_assert(std::is_same_v<decltype(it2), AsCompleted<Task<int>>>);
        if (!t) {
            ADD_FAILURE() << "no task";  // (ASSERT_* cannot be used in a coroutine)
            co_return;
        }
        EXPECT_TRUE(t->done());
        EXPECT_EQ(t->result(), 3);
        EXPECT_FALSE(co_await it2.next());
    }());
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_with_timeout
TEST(as_completed, timeout_raises_from_the_next_awaitable_plain) {
    auto loop = support::new_virtual_loop();
    Task<std::string> a = loop->create_task(sleep_then(0.1, "a"));
    Task<std::string> b = loop->create_task(sleep_then(0.15, "b"));
    Trace trace;
    auto try_iterator = [&]() -> Coro<> {
        std::vector<Task<std::string>> fs{a, b};
        for (auto f : as_completed(fs, {.timeout = 0.12})) {
            try {
                trace("1:", co_await f);
            } catch (const TimeoutError& e) {
                trace("2:timeout '", e.what(), "' at ", get_running_loop().time());
            }
        }
    };
    loop->run_until_complete(try_iterator());
    EXPECT_EQ(trace.str(), "1:a 2:timeout '' at 0.12");
    EXPECT_FALSE(b.done());  // the timeout does not cancel
    EXPECT_EQ(loop->run_until_complete(b), "b");
}

TEST(as_completed, timeout_raises_from_next_async) {
    auto loop = support::new_virtual_loop();
    Task<std::string> a = loop->create_task(sleep_then(0.1, "a"));
    Task<std::string> b = loop->create_task(sleep_then(0.15, "b"));
    Trace trace;
    auto try_async_iterator = [&]() -> Coro<> {
        std::vector<Task<std::string>> fs{a, b};
        try {
            auto it = as_completed(fs, {.timeout = 0.12});
            while (auto f = co_await it.next()) trace("1:", co_await *f);
        } catch (const TimeoutError&) {
            trace("2:timeout at ", get_running_loop().time());
        }
    };
    loop->run_until_complete(try_async_iterator());
    EXPECT_EQ(trace.str(), "1:a 2:timeout at 0.12");
    loop->run_until_complete(b);
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_with_unused_timeout
TEST(as_completed, unused_timeout_leaves_no_timer_behind) {
    for (Style style : {Style::plain, Style::async_}) {
        support::run_virtual([style]() -> Coro<> {
            std::vector<Coro<std::string>> cs;
            cs.push_back(sleep_then(0.01, "a"));
            if (style == Style::plain) {
                for (auto f : as_completed(std::move(cs), {.timeout = 1}))
                    EXPECT_EQ(co_await f, "a");
            } else {
                auto it = as_completed(std::move(cs), {.timeout = 1});
                while (auto f = co_await it.next()) EXPECT_EQ(co_await *f, "a");
            }
            co_await asyncio::sleep(0.09);
            EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.1);  // not 1
        }());
    }
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_resume_iterator
TEST(as_completed, iteration_resumes_after_a_break) {
    for (Style style : {Style::plain, Style::async_}) {
        auto res = support::run_virtual([style]() -> Coro<std::vector<int>> {
            std::vector<Coro<int>> cs;
            for (int i = 0; i < 4; ++i) cs.push_back(value(i));
            auto iterator = as_completed(std::move(cs));
            std::vector<int> collected;
            int iterations = 0;
            if (style == Style::plain) {
                for (auto f : iterator) {
                    collected.push_back(co_await f);
                    if (++iterations == 2) break;
                }
                EXPECT_EQ(collected.size(), 2u);
                for (auto f : iterator) collected.push_back(co_await f);  // resume
            } else {
                while (auto f = co_await iterator.next()) {
                    collected.push_back(f->result());
                    if (++iterations == 2) break;
                }
                EXPECT_EQ(collected.size(), 2u);
                while (auto f = co_await iterator.next()) collected.push_back(f->result());
            }
            co_return collected;
        }());
        std::sort(res.begin(), res.end());
        EXPECT_EQ(res, (std::vector<int>{0, 1, 2, 3}));
    }
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_reverse_wait
TEST(as_completed, first_awaited_gets_the_first_completion) {
    auto loop = support::new_virtual_loop();
    auto test = [&]() -> Coro<> {
        std::vector<Coro<std::string>> futs;
        for (auto f : as_completed(coros({{0.05, "a"}, {0.10, "b"}}))) futs.push_back(std::move(f));
        EXPECT_EQ(futs.size(), 2u);
        EXPECT_EQ(co_await futs[1], "a");
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.05);
        EXPECT_EQ(co_await futs[0], "b");
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.10);
    };
    loop->run_until_complete(test());
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_concurrent
TEST(as_completed, awaitables_can_be_awaited_concurrently) {
    for (Style style : {Style::plain, Style::async_}) {
        support::run_virtual([style]() -> Coro<> {
            std::vector<TaskRef> tasks;
            std::vector<Task<std::string>> typed;
            if (style == Style::plain) {
                for (auto f : as_completed(coros({{0.05, "a"}, {0.05, "b"}}))) {
                    typed.push_back(create_task(std::move(f)));
                    tasks.push_back(typed.back());
                }
            } else {
                auto it = as_completed(coros({{0.05, "a"}, {0.05, "b"}}));
                while (auto f = co_await it.next()) typed.push_back(*f);
            }
            EXPECT_EQ(typed.size(), 2u);
            auto [done, pending] = co_await asyncio::wait(typed);
            std::set<std::string> got;
            for (auto& f : done) got.insert(f.result());
            EXPECT_EQ(got, (std::set<std::string>{"a", "b"}));
            EXPECT_DOUBLE_EQ(get_running_loop().time(), 0.05);
        }());
    }
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_duplicate_coroutines
// (a Coro is move-only: the same awaitable twice is a task)
TEST(as_completed, duplicates_are_yielded_once) {
    for (Style style : {Style::plain, Style::async_}) {
        auto result = support::run_virtual([style]() -> Coro<std::vector<std::string>> {
            Task<std::string> c = create_task(sleep_then(0, "ham"));
            std::vector<Task<std::string>> fs{c, c, create_task(sleep_then(0, "spam"))};
            co_return co_await collect(style, fs);
        }());
        std::sort(result.begin(), result.end());
        EXPECT_EQ(result, (std::vector<std::string>{"ham", "spam"}));
    }
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_coroutine_without_loop
TEST(as_completed, coroutines_need_a_running_loop) {
    std::vector<Coro<int>> cs;
    cs.push_back(value(42));
    EXPECT_THROW_MSG((void)as_completed(std::move(cs)), RuntimeError, "no running event loop");
}

// CPython: test_tasks.py::BaseTaskTests::test_as_completed_coroutine_use_running_loop
TEST(as_completed, coroutines_become_tasks_of_the_running_loop_at_the_call) {
    support::run_virtual([]() -> Coro<> {
        const std::size_t before = all_tasks().size();
        std::vector<Coro<int>> cs;
        cs.push_back(value(42));
        std::vector<Coro<int>> futs;
        for (auto f : as_completed(std::move(cs))) futs.push_back(std::move(f));
        EXPECT_EQ(all_tasks().size(), before + 1);
        EXPECT_EQ(futs.size(), 1u);
        EXPECT_EQ(co_await futs[0], 42);
    }());
}

TEST(as_completed, plain_awaitable_rethrows_async_iteration_yields_the_failed_task) {
    support::run_virtual([]() -> Coro<> {
        Task<int> x = create_task(fail_after(0.1, "bad"));
        std::vector<Task<int>> fs{x};
        for (auto f : as_completed(fs)) EXPECT_THROW_MSG((void)co_await f, ValueError, "bad");
        auto it = as_completed(fs);
        auto t = co_await it.next();
        if (!t) {
            ADD_FAILURE() << "no task";  // (ASSERT_* cannot be used in a coroutine)
            co_return;
        }
        EXPECT_EQ(*t, x);
        EXPECT_THROW_MSG(std::rethrow_exception(t->exception()), ValueError, "bad");
    }());
}

TEST(as_completed, of_nothing_yields_nothing) {
    support::run_virtual([]() -> Coro<> {
        std::vector<Task<int>> none;
        int n = 0;
        for (auto f : as_completed(none, {.timeout = 1})) {
            (void)f;
            ++n;
        }
        EXPECT_EQ(n, 0);
        EXPECT_FALSE(co_await as_completed(none).next());
    }());
    std::vector<Future<int>> none;  // no loop needed for nothing
    EXPECT_TRUE(as_completed(none).begin() == as_completed(none).end());
}

TEST(as_completed, futures_task_refs_and_void_results) {
    support::run_virtual([]() -> Coro<> {
        EventLoop& loop = get_running_loop();
        Future<> f = loop.create_future();
        Future<> g = loop.create_future();
        loop.call_later(0.2, [f] { f.set_result(); });
        loop.call_later(0.1, [g] { g.set_result(); });
        std::vector<Future<>> fs{f, g};
        std::vector<Future<>> order;
        auto it = as_completed(fs);
        while (auto x = co_await it.next()) order.push_back(*x);
        EXPECT_EQ(order, (std::vector<Future<>>{g, f}));
        std::vector<TaskRef> refs{create_task(value(1))};
        for (auto next : as_completed(refs)) {
            static_assert(std::is_same_v<decltype(next), Coro<void>>);
            co_await next;
        }
    }());
}

// CPython: Queue.get's getters (as test_as_completed_concurrent, plus a
// cancellation): a consumer cancelled while waiting leaves the completion to
// the next one.
TEST(as_completed, cancelled_consumer_leaves_the_completion_to_the_next) {
    support::run_virtual([]() -> Coro<> {
        std::vector<Coro<std::string>> aws;
        for (auto f : as_completed(coros({{1, "a"}, {2, "b"}}))) aws.push_back(std::move(f));
        Task<std::string> t1 = create_task(std::move(aws[0]));
        Task<std::string> t2 = create_task(std::move(aws[1]));
        co_await asyncio::sleep(0.5);
        t1.cancel();
        EXPECT_EQ(co_await t2, "a");
        EXPECT_TRUE(t1.cancelled());
    }());
}

TEST(as_completed, consumer_cancelled_after_its_wake_up_passes_it_on) {
    // The getter is woken, then its task is cancelled before it runs:
    // CPython's Queue.get passes the wake-up to the next getter.
    auto loop = support::new_virtual_loop();
    Future<int> f = loop->create_future<int>();
    Future<int> g = loop->create_future<int>();
    std::vector<Future<int>> fs{f, g};
    auto it = as_completed(fs);
    std::vector<Coro<int>> aws;
    for (auto a : it) aws.push_back(std::move(a));
    Task<int> t1 = loop->create_task(std::move(aws[0]));
    Task<int> t2 = loop->create_task(std::move(aws[1]));
    run_loop(*loop);
    f.set_result(1);
    support::run_once(*loop);  // the completion callback wakes t1's getter
    t1.cancel();               // before t1 runs
    run_loop(*loop);
    EXPECT_TRUE(t1.cancelled());
    ASSERT_TRUE(t2.done());
    EXPECT_EQ(t2.result(), 1);
    g.set_result(2);
    run_loop(*loop);
}

// ------------------------------------------------ iterations, as CPython

// CPython 3.13 prints, for the same program:
//   tick0 tick1 child1 tick2 tick3 got 1 child2 tick4 tick5 got 2 tick6 tick7
TEST(as_completed, takes_the_same_iterations_as_cpython) {
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
        std::vector<Coro<int>> cs;
        cs.push_back(child(1, 1));
        cs.push_back(child(2, 3));
        for (auto f : as_completed(std::move(cs))) trace("got ", co_await f);
        co_await t;
    }());
    EXPECT_EQ(trace.str(),
              "tick0 tick1 child1 tick2 tick3 got 1 child2 tick4 tick5 got 2 tick6 tick7");
}

// ------------------------------------------------ lifetimes

TEST(as_completed, dropped_iterator_stops_watching_and_its_timer_goes) {
    support::run_virtual([]() -> Coro<> {
        Task<std::string> a = create_task(sleep_then(1, "a"));
        {
            std::vector<Task<std::string>> fs{a};
            auto it = as_completed(fs, {.timeout = 100});
        }
        EXPECT_EQ(co_await a, "a");
        co_await asyncio::sleep(0);
        EXPECT_DOUBLE_EQ(get_running_loop().time(), 1);
    }());
}

TEST(as_completed, awaitables_keep_the_queue_alive) {
    support::run_virtual([]() -> Coro<> {
        std::vector<Coro<std::string>> aws;
        for (auto f : as_completed(coros({{0.1, "x"}}))) aws.push_back(std::move(f));
        // The iterator is gone; the awaitable still works.
        EXPECT_EQ(co_await aws[0], "x");
    }());
}

TEST(as_completed, nan_timeout_is_refused_at_the_call_and_leaves_nothing_armed) {
    // As loop.call_later(NaN, ...) in this library (see loop.hpp).
    support::run_virtual([]() -> Coro<> {
        Future<int> f = get_running_loop().create_future<int>();
        std::vector<Future<int>> fs{f};
        EXPECT_THROW_MSG((void)as_completed(fs, {.timeout = std::nan("")}), ValueError,
                         "call_at(): when is NaN");
        f.set_result(1);  // nothing of the failed iterator may run (ASan)
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
    }());
}

TEST(as_completed, loop_closed_while_consumers_wait) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    Future<int> f = loop->create_future<int>();
    std::vector<Future<int>> fs{f};
    auto body = [](std::vector<Future<int>> fs) -> Coro<> {
        for (auto next : as_completed(std::move(fs), {.timeout = 10})) co_await next;
    };
    loop->create_task(body(fs));
    run_loop(*loop);
    loop->close();
}
