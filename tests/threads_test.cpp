// threads_test.cpp — asyncio/threads.hpp: to_thread, loop.run_in_executor,
// wrap_future (and co_await on a ConcurrentFuture), the default executor
// and shutdown_default_executor.
//
// Python reference: Lib/test/test_asyncio/test_threads.py,
// test_futures.py (wrap_future), test_base_events.py (run_in_executor,
// shutdown_default_executor), 3.13. Real threads and a real clock; short
// sleeps only where a thread must be seen to be blocked, generous bounds.
#include <gtest/gtest.h>
#include <pthread.h>

#include <asyncio.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/gate.hpp"
#include "support/tsan_suppressions.hpp"

using asyncio::ConcurrentFuture;
using asyncio::Coro;
using asyncio::Future;
using namespace std::chrono_literals;

namespace {

using support::Gate;
using support::this_thread_name;

int sum(std::vector<int> v) {
    return std::accumulate(v.begin(), v.end(), 0);
}

// ---------------------------------------------------------------- to_thread

// CPython: test_threads.py::ToThreadTests::test_to_thread
TEST(to_thread, returns_the_result) {
    auto main = []() -> Coro<int> {
        std::vector<int> v{40, 2};  // g++ 12: no braced list inside co_await
        co_return co_await asyncio::to_thread(&sum, v);
    };
    EXPECT_EQ(asyncio::run(main()), 42);
}

// CPython: test_threads.py::ToThreadTests::test_to_thread_exception
TEST(to_thread, rethrows_the_very_exception_object) {
    static std::atomic<const void*> thrown{nullptr};
    auto raise_runtime = []() -> int {
        try {
            throw asyncio::RuntimeError("test");
        } catch (const asyncio::RuntimeError& e) {
            thrown = &e;
            throw;
        }
    };
    auto main = [&]() -> Coro<const void*> {
        try {
            co_await asyncio::to_thread(raise_runtime);
        } catch (const asyncio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "test");
            co_return &e;
        }
        co_return nullptr;
    };
    const void* caught = asyncio::run(main());
    EXPECT_NE(caught, nullptr);
    EXPECT_EQ(caught, thrown.load());
}

// CPython: test_threads.py::ToThreadTests::test_to_thread_once
TEST(to_thread, calls_the_function_once_in_another_thread) {
    std::atomic<int> calls{0};
    std::atomic<bool> other_thread{false};
    const auto main_id = std::this_thread::get_id();
    auto main = [&]() -> Coro<std::string> {
        co_return co_await asyncio::to_thread([&] {
            ++calls;
            other_thread = std::this_thread::get_id() != main_id;
            return this_thread_name();
        });
    };
    EXPECT_EQ(asyncio::run(main()), "asyncio_0");  // the default executor's prefix
    EXPECT_EQ(calls.load(), 1);
    EXPECT_TRUE(other_thread.load());
}

// CPython: test_threads.py::ToThreadTests::test_to_thread_concurrent
TEST(to_thread, many_calls_gathered) {
    std::atomic<int> calls{0};
    auto func = [&calls] { ++calls; };
    auto main = [&]() -> Coro<void> {
        std::vector<Coro<void>> cs;
        for (int i = 0; i < 10; ++i) cs.push_back(asyncio::to_thread(func));
        auto all = asyncio::gather(std::move(cs));
        co_await all;
    };
    asyncio::run(main());
    EXPECT_EQ(calls.load(), 10);
}

// CPython: test_threads.py::ToThreadTests::test_to_thread_args_kwargs
TEST(to_thread, move_only_and_reference_arguments) {
    int out = 0;
    auto f = [](std::unique_ptr<int> p, int& r, std::string s) {
        r = *p + static_cast<int>(s.size());
        return std::make_unique<int>(r);
    };
    auto main = [&]() -> Coro<int> {
        std::unique_ptr<int> r = co_await asyncio::to_thread(f, std::make_unique<int>(40),
                                                             std::ref(out), std::string("ab"));
        co_return *r;
    };
    EXPECT_EQ(asyncio::run(main()), 42);
    EXPECT_EQ(out, 42);
}

TEST(to_thread, arguments_are_moved_never_copied) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    auto main = []() -> Coro<int> {
        C c(5);
        co_return co_await asyncio::to_thread([](C x) { return x.value; }, std::move(c));
    };
    EXPECT_EQ(asyncio::run(main()), 5);
    EXPECT_EQ(C::copies(), 0);
    EXPECT_EQ(C::live(), 0);
}

// NOTE(compiler): g++ 12 destroys twice a temporary lambda with value
// captures in a full-expression with co_await (a double free under ASan,
// seen with `co_await to_thread([s] { ... })`). Both safe spellings: the
// arguments passed to to_thread, or the lambda named in its own statement.
TEST(to_thread, arguments_instead_of_a_capturing_lambda) {
    auto main = []() -> Coro<std::size_t> {
        std::string s(100, 'x');  // heap-allocated: a double free would show
        co_return co_await asyncio::to_thread([](const std::string& v) { return v.size(); }, s);
    };
    EXPECT_EQ(asyncio::run(main()), 100u);
}

TEST(to_thread, a_capturing_lambda_named_first) {
    auto main = []() -> Coro<std::size_t> {
        std::string s(100, 'x');
        auto size_of_s = [s] { return s.size(); };
        co_return co_await asyncio::to_thread(size_of_s);
    };
    EXPECT_EQ(asyncio::run(main()), 100u);
}

TEST(to_thread, cancelling_the_waiting_task_drops_the_result_but_the_call_finishes) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    Gate gate, started;
    std::atomic<bool> finished{false};
    auto main = [&]() -> Coro<bool> {
        auto task = asyncio::create_task(asyncio::to_thread([&] {
            started.open();
            gate.wait();
            finished = true;
            return C(1);
        }));
        while (!started.wait_for(0ms)) co_await asyncio::sleep(0.001);
        task.cancel();
        try {
            co_await task;
        } catch (const asyncio::CancelledError&) {
            gate.open();
            co_return true;
        }
        gate.open();
        co_return false;
    };
    support::CaptureHandler cap;
    EXPECT_TRUE(asyncio::run(main(), {.loop_factory = [&] {
                                 auto l = asyncio::new_event_loop();
                                 cap.install(*l);
                                 return l;
                             }}));
    // run() joined the default executor: the call finished, its result is gone.
    EXPECT_TRUE(finished.load());
    EXPECT_EQ(C::live(), 0);
    EXPECT_TRUE(cap.empty());
}

// ---------------------------------------------------------- run_in_executor

TEST(run_in_executor, uses_the_given_executor) {
    asyncio::ThreadPoolExecutor pool({.max_workers = 1, .thread_name_prefix = "mine"});
    auto main = [&]() -> Coro<std::string> {
        Future<std::string> f =
            asyncio::get_running_loop().run_in_executor(&pool, &this_thread_name);
        co_return co_await f;
    };
    EXPECT_EQ(asyncio::run(main()), "mine_0");
}

TEST(run_in_executor, nullptr_uses_the_default_executor_made_on_first_use) {
    auto main = []() -> Coro<std::string> {
        auto& loop = asyncio::get_running_loop();
        Future<std::string> a = loop.run_in_executor(nullptr, &this_thread_name);
        std::string first = co_await a;
        Future<int> b = loop.run_in_executor(
            nullptr, [](int x) { return x * 2; }, 21);
        EXPECT_EQ(co_await b, 42);
        co_return first;
    };
    EXPECT_EQ(asyncio::run(main()), "asyncio_0");
}

// CPython drops the result of a cancelled run_in_executor future
// (futures._chain_future: _set_state is skipped for a cancelled destination).
TEST(run_in_executor, cancelling_the_future_drops_the_result_of_a_running_call) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    asyncio::ThreadPoolExecutor pool(1);
    Gate gate, started;
    std::atomic<bool> finished{false};
    auto main = [&]() -> Coro<void> {
        auto& loop = asyncio::get_running_loop();
        Future<C> f = loop.run_in_executor(&pool, [&] {
            started.open();
            gate.wait();
            finished = true;
            return C(7);
        });
        while (!started.wait_for(0ms)) co_await asyncio::sleep(0.001);
        EXPECT_TRUE(f.cancel());
        gate.open();
        // Give the result time to arrive at the loop and be dropped there.
        while (!finished) co_await asyncio::sleep(0.001);
        co_await asyncio::sleep(0.02);
        EXPECT_TRUE(f.cancelled());
    };
    asyncio::run(main());
    pool.shutdown(true);
    EXPECT_TRUE(finished.load());
    EXPECT_EQ(C::live(), 0);
}

TEST(run_in_executor, cancelling_before_the_call_starts_keeps_it_from_running) {
    asyncio::ThreadPoolExecutor pool(1);
    Gate gate, started;
    std::atomic<bool> second_ran{false};
    auto main = [&]() -> Coro<void> {
        auto& loop = asyncio::get_running_loop();
        Future<void> first = loop.run_in_executor(&pool, [&] {
            started.open();
            gate.wait();
        });
        Future<void> second = loop.run_in_executor(&pool, [&] { second_ran = true; });
        while (!started.wait_for(0ms)) co_await asyncio::sleep(0.001);
        second.cancel();
        co_await asyncio::sleep(0);  // the cancel reaches the work item
        gate.open();
        co_await first;
    };
    asyncio::run(main());
    pool.shutdown(true);
    EXPECT_FALSE(second_ran.load());
}

TEST(run_in_executor, a_result_arriving_after_the_loop_closed_is_dropped) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    asyncio::ThreadPoolExecutor pool(1);
    Gate gate, started;
    {
        auto loop = asyncio::new_event_loop();
        Future<C> f = loop->run_in_executor(&pool, [&] {
            started.open();
            gate.wait();
            return C(3);
        });
        started.wait();
        loop->close();
        gate.open();
        pool.shutdown(true);  // the worker finished and found the loop closed
        EXPECT_FALSE(f.done());
    }
    EXPECT_EQ(C::live(), 0);
}

TEST(run_in_executor, throws_on_a_closed_loop) {
    auto loop = asyncio::new_event_loop();
    loop->close();
    EXPECT_THROW_MSG(loop->run_in_executor(nullptr, [] {}), asyncio::RuntimeError,
                     "Event loop is closed");
}

// ------------------------------------------------------------- wrap_future

// CPython: test_futures.py::BaseFutureTests::test_wrap_future
TEST(wrap_future, a_concurrent_result_set_by_another_thread) {
    auto cf = ConcurrentFuture<int>::create();
    std::thread setter;
    auto main = [&]() -> Coro<int> {
        Future<int> f = asyncio::wrap_future(cf);
        setter = std::thread([cf] {
            std::this_thread::sleep_for(2ms);
            cf.set_result(42);
        });
        co_return co_await f;
    };
    EXPECT_EQ(asyncio::run(main()), 42);
    setter.join();
}

TEST(wrap_future, co_await_a_concurrent_future_directly) {
    asyncio::ThreadPoolExecutor pool(1);
    auto main = [&]() -> Coro<int> {
        ConcurrentFuture<int> cf = pool.submit([] { return 6 * 7; });
        co_return co_await cf;
    };
    EXPECT_EQ(asyncio::run(main()), 42);
}

TEST(wrap_future, an_already_done_future_and_its_exception) {
    auto ok = ConcurrentFuture<std::string>::create();
    ok.set_result(std::string("v"));
    auto bad = ConcurrentFuture<void>::create();
    bad.set_exception(std::make_exception_ptr(asyncio::ValueError("bad")));
    auto main = [&]() -> Coro<std::string> {
        std::string v = co_await ok;
        EXPECT_THROW_MSG(bad.result(0), asyncio::ValueError, "bad");
        std::exception_ptr e;
        try {
            co_await bad;
        } catch (...) {
            e = std::current_exception();
        }
        EXPECT_TRUE(e == bad.exception(0));  // the same object
        co_return v;
    };
    EXPECT_EQ(asyncio::run(main()), "v");
    EXPECT_EQ(ok.result(0), "v");  // copied, not consumed
}

// CPython: test_futures.py::BaseFutureTests::test_wrap_future_cancel
TEST(wrap_future, cancelling_the_asyncio_future_cancels_the_concurrent_one) {
    auto cf = ConcurrentFuture<int>::create();
    auto main = [&]() -> Coro<void> {
        Future<int> f = asyncio::wrap_future(cf);
        f.cancel();
        co_await asyncio::sleep(0);  // the done callback runs
        EXPECT_TRUE(cf.cancelled());
    };
    asyncio::run(main());
    EXPECT_TRUE(cf.cancelled());
}

// CPython: test_futures.py::BaseFutureTests::test_wrap_future_cancel2
TEST(wrap_future, a_cancelled_concurrent_future_cancels_the_asyncio_one) {
    auto cf = ConcurrentFuture<int>::create();
    auto main = [&]() -> Coro<bool> {
        Future<int> f = asyncio::wrap_future(cf);
        std::thread t([cf] { cf.cancel(); });
        t.join();
        try {
            co_await f;
        } catch (const asyncio::CancelledError&) {
            co_return f.cancelled();
        }
        co_return false;
    };
    EXPECT_TRUE(asyncio::run(main()));
}

TEST(wrap_future, an_asyncio_future_passes_through) {
    auto main = []() -> Coro<bool> {
        Future<int> f = asyncio::get_running_loop().create_future<int>();
        co_return asyncio::wrap_future(f) == f;
    };
    EXPECT_TRUE(asyncio::run(main()));
}

// ------------------------------------------- default executor and shutdown

TEST(shutdown_default_executor, afterwards_the_default_executor_refuses_work) {
    auto main = []() -> Coro<void> {
        auto& loop = asyncio::get_running_loop();
        co_await asyncio::to_thread([] {});
        co_await loop.shutdown_default_executor();
        EXPECT_THROW_MSG(loop.run_in_executor(nullptr, [] {}), asyncio::RuntimeError,
                         "Executor shutdown has been called");
        bool threw = false;
        try {
            co_await asyncio::to_thread([] {});
        } catch (const asyncio::RuntimeError& e) {
            threw = std::string(e.what()) == "Executor shutdown has been called";
        }
        EXPECT_TRUE(threw);
    };
    asyncio::run(main());
}

TEST(shutdown_default_executor, joins_in_a_helper_thread_while_the_loop_runs) {
    std::atomic<bool> call_done{false};
    auto main = [&]() -> Coro<int> {
        auto& loop = asyncio::get_running_loop();
        // Fire and forget: the executor is busy for 100 ms.
        Future<void> busy = loop.run_in_executor(nullptr, [&] {
            std::this_thread::sleep_for(100ms);
            call_done = true;
        });
        int ticks = 0;
        auto ticker = asyncio::create_task(asyncio::co_invoke([&ticks]() -> Coro<void> {
            for (;;) {
                co_await asyncio::sleep(0.005);
                ++ticks;
            }
        }));
        co_await loop.shutdown_default_executor();
        EXPECT_TRUE(call_done.load());
        ticker.cancel();
        co_return ticks;
    };
    EXPECT_GE(asyncio::run(main()), 3);  // the loop kept running while it joined
}

TEST(shutdown_default_executor, without_a_default_executor_does_nothing) {
    auto main = []() -> Coro<void> {
        co_await asyncio::get_running_loop().shutdown_default_executor();
    };
    asyncio::run(main());
    SUCCEED();
}

TEST(shutdown_default_executor, a_timeout_reports_and_does_not_wait) {
    Gate gate;
    support::CaptureHandler cap;
    auto main = [&]() -> Coro<double> {
        auto& loop = asyncio::get_running_loop();
        Future<void> busy = loop.run_in_executor(nullptr, [&] { gate.wait(); });
        const double t0 = loop.time();
        co_await loop.shutdown_default_executor(0.02);
        const double waited = loop.time() - t0;
        gate.open();
        co_return waited;
    };
    const double waited = asyncio::run(main(), {.loop_factory = [&] {
                                           auto l = asyncio::new_event_loop();
                                           cap.install(*l);
                                           return l;
                                       }});
    EXPECT_LT(waited, 5.0);
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message,
              "The executor did not finishing joining its threads within 0.02 seconds.");
}

TEST(run, shuts_the_default_executor_down_before_returning) {
    std::atomic<bool> call_done{false};
    auto main = [&]() -> Coro<void> {
        // Not awaited: run() must still wait for the call (CPython's Runner.close).
        Future<void> f = asyncio::get_running_loop().run_in_executor(nullptr, [&] {
            std::this_thread::sleep_for(30ms);
            call_done = true;
        });
        co_return;
    };
    asyncio::run(main());
    EXPECT_TRUE(call_done.load());
}

TEST(set_default_executor, to_thread_uses_the_executor_set) {
    auto main = []() -> Coro<std::string> {
        asyncio::get_running_loop().set_default_executor(
            std::make_shared<asyncio::ThreadPoolExecutor>(
                asyncio::ThreadPoolOptions{.max_workers = 1, .thread_name_prefix = "custom"}));
        co_return co_await asyncio::to_thread(&this_thread_name);
    };
    EXPECT_EQ(asyncio::run(main()), "custom_0");
}

}  // namespace
