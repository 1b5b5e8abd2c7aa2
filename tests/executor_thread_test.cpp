// executor_thread_test.cpp — asyncio/executor.hpp and
// asyncio/concurrent_future.hpp: ThreadPoolExecutor, ConcurrentFuture.
//
// Python reference: Lib/test/test_concurrent_futures/test_thread_pool.py,
// executor.py, test_future.py (3.13). Real threads; every wait is bounded.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <asyncio.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/gate.hpp"
#include "support/tsan_suppressions.hpp"

using asyncio::ConcurrentFuture;
using asyncio::ThreadPoolExecutor;
using namespace std::chrono_literals;

namespace {

using support::Gate;
using support::this_thread_name;

struct Boom : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ------------------------------------------------------------ submit, result

TEST(thread_pool_executor, submit_returns_the_result) {
    ThreadPoolExecutor pool(2);
    ConcurrentFuture<int> f = pool.submit([](int a, int b) { return a + b; }, 40, 2);
    EXPECT_EQ(f.result(10), 42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_FALSE(f.running());
    EXPECT_EQ(f.exception(), nullptr);
}

TEST(thread_pool_executor, submit_of_a_void_function) {
    ThreadPoolExecutor pool(1);
    std::atomic<int> calls{0};
    ConcurrentFuture<void> f = pool.submit([&calls] { ++calls; });
    f.result(10);
    EXPECT_EQ(calls.load(), 1);
}

TEST(thread_pool_executor, the_exception_is_the_very_object_thrown) {
    ThreadPoolExecutor pool(1);
    std::atomic<const void*> thrown{nullptr};
    ConcurrentFuture<int> f = pool.submit([&thrown]() -> int {
        try {
            throw Boom("boom");
        } catch (const Boom& e) {
            thrown = &e;
            throw;
        }
    });
    EXPECT_THROW_MSG(f.result(10), Boom, "boom");
    std::exception_ptr e = f.exception(10);
    ASSERT_TRUE(e);
    try {
        std::rethrow_exception(e);
    } catch (const Boom& b) {
        EXPECT_EQ(static_cast<const void*>(&b), thrown.load());
    }
}

TEST(thread_pool_executor, move_only_arguments_and_result) {
    ThreadPoolExecutor pool(1);
    auto f = pool.submit([](std::unique_ptr<int> p) { return std::make_unique<int>(*p + 1); },
                         std::make_unique<int>(41));
    EXPECT_EQ(*f.result(10), 42);
}

TEST(thread_pool_executor, arguments_are_destroyed_before_the_result_is_published) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    {
        ThreadPoolExecutor pool(1);
        auto f = pool.submit([](C c) { return c.value; }, C(7));
        EXPECT_EQ(f.result(10), 7);
        EXPECT_EQ(C::live(), 0);
        EXPECT_EQ(C::copies(), 0);
    }
}

TEST(thread_pool_executor, reference_arguments_through_std_ref) {
    ThreadPoolExecutor pool(1);
    int value = 1;
    pool.submit([](int& v) { v = 42; }, std::ref(value)).result(10);
    EXPECT_EQ(value, 42);
}

// ---------------------------------------------------------------- workers

// CPython: test_thread_pool.py::ThreadPoolExecutorTest::test_default_workers
TEST(thread_pool_executor, default_max_workers_is_cpus_plus_4_at_most_32) {
    ThreadPoolExecutor pool;
    const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_EQ(pool.max_workers(), ThreadPoolExecutor::default_max_workers());
    EXPECT_LE(pool.max_workers(), 32u);
    EXPECT_LE(pool.max_workers(), cpus + 4);
    EXPECT_GE(pool.max_workers(), 5u);
}

TEST(thread_pool_executor, zero_workers_is_a_value_error) {
    EXPECT_THROW_MSG(ThreadPoolExecutor(0), asyncio::ValueError,
                     "max_workers must be greater than 0");
}

// CPython: test_thread_pool.py::test_executor_map_current_future_cancel (spirit), _max_workers
TEST(thread_pool_executor, never_runs_more_than_max_workers_threads) {
    ThreadPoolExecutor pool(3);
    Gate gate;
    std::atomic<int> running{0}, peak{0};
    std::vector<ConcurrentFuture<void>> fs;
    for (int i = 0; i < 10; ++i) {
        fs.push_back(pool.submit([&] {
            const int now = ++running;
            int p = peak.load();
            while (now > p && !peak.compare_exchange_weak(p, now)) {
            }
            gate.wait();
            --running;
        }));
    }
    EXPECT_EQ(pool.thread_count(), 3u);
    // All three workers get busy; no fourth call starts while they are.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (running.load() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(10ms);
    EXPECT_EQ(running.load(), 3);
    gate.open();
    for (auto& f : fs) f.result(10);
    EXPECT_EQ(peak.load(), 3);
    EXPECT_EQ(pool.thread_count(), 3u);
}

TEST(thread_pool_executor, starts_workers_lazily) {
    ThreadPoolExecutor pool(4);
    EXPECT_EQ(pool.thread_count(), 0u);
    pool.submit([] {}).result(10);
    EXPECT_EQ(pool.thread_count(), 1u);
}

// CPython: test_thread_pool.py::ThreadPoolExecutorTest::test_idle_thread_reuse
TEST(thread_pool_executor, reuses_an_idle_worker) {
    ThreadPoolExecutor pool(4);
    pool.submit([] {}).result(10);
    // Let the worker find the queue empty and count itself idle.
    std::this_thread::sleep_for(20ms);
    pool.submit([] {}).result(10);
    EXPECT_EQ(pool.thread_count(), 1u);
}

TEST(thread_pool_executor, names_workers_with_the_prefix) {
    ThreadPoolExecutor pool({.max_workers = 2, .thread_name_prefix = "io"});
    EXPECT_EQ(pool.thread_name_prefix(), "io");
    EXPECT_EQ(pool.submit(&this_thread_name).result(10), "io_0");
}

TEST(thread_pool_executor, default_names_are_truncated_to_what_linux_keeps) {
    ThreadPoolExecutor pool(1);
    EXPECT_EQ(pool.thread_name_prefix().rfind("ThreadPoolExecutor-", 0), 0u);
    const std::string name = pool.submit(&this_thread_name).result(10);
    EXPECT_EQ(name, "ThreadPoolExe_0");
}

// ---------------------------------------------------------------- shutdown

// CPython: executor.py::ExecutorShutdownTest::test_run_after_shutdown
TEST(thread_pool_executor, submit_after_shutdown_throws) {
    ThreadPoolExecutor pool(1);
    pool.shutdown();
    EXPECT_THROW_MSG(pool.submit([] {}), asyncio::RuntimeError,
                     "cannot schedule new futures after shutdown");
}

TEST(thread_pool_executor, shutdown_wait_runs_what_is_queued_and_joins) {
    std::atomic<int> done{0};
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 20; ++i)
        pool.submit([&done] {
            std::this_thread::sleep_for(1ms);
            ++done;
        });
    pool.shutdown(true);
    EXPECT_EQ(done.load(), 20);
}

TEST(thread_pool_executor, shutdown_without_wait_returns_at_once_and_the_destructor_joins) {
    std::atomic<int> done{0};
    Gate gate;
    {
        ThreadPoolExecutor pool(1);
        auto f = pool.submit([&] {
            gate.wait();
            ++done;
        });
        pool.shutdown(false);
        EXPECT_EQ(done.load(), 0);
        gate.open();
    }
    EXPECT_EQ(done.load(), 1);
}

// CPython: executor.py::ExecutorShutdownTest::test_cancel_futures
TEST(thread_pool_executor, shutdown_cancel_futures_cancels_what_has_not_started) {
    ThreadPoolExecutor pool(1);
    Gate gate, started;
    std::atomic<int> ran{0};
    auto first = pool.submit([&] {
        started.open();
        gate.wait();
        return 1;
    });
    started.wait();
    std::vector<ConcurrentFuture<void>> rest;
    for (int i = 0; i < 5; ++i) rest.push_back(pool.submit([&ran] { ++ran; }));
    pool.shutdown(false, {.cancel_futures = true});
    for (auto& f : rest) EXPECT_TRUE(f.cancelled());
    gate.open();
    EXPECT_EQ(first.result(10), 1);
    pool.shutdown(true);
    EXPECT_EQ(ran.load(), 0);
}

TEST(thread_pool_executor, shutdown_from_two_threads_both_wait_for_the_join) {
    ThreadPoolExecutor pool(1);
    Gate gate;
    std::atomic<bool> finished{false};
    pool.submit([&] {
        gate.wait();
        std::this_thread::sleep_for(5ms);
        finished = true;
    });
    std::atomic<bool> other_saw_finished{false};
    std::thread other([&] {
        pool.shutdown(true);
        other_saw_finished = finished.load();
    });
    gate.open();
    pool.shutdown(true);
    EXPECT_TRUE(finished.load());
    other.join();
    EXPECT_TRUE(other_saw_finished.load());
}

// --------------------------------------------------------------- cancel

// CPython: test_future.py::FutureTests::test_cancel (pending and running)
TEST(thread_pool_executor, cancelling_a_pending_item_keeps_it_from_running) {
    ThreadPoolExecutor pool(1);
    Gate gate, started;
    std::atomic<bool> second_ran{false};
    auto first = pool.submit([&] {
        started.open();
        gate.wait();
    });
    auto second = pool.submit([&] { second_ran = true; });
    started.wait();
    EXPECT_TRUE(first.running());
    EXPECT_FALSE(first.cancel());  // running: too late
    EXPECT_TRUE(second.cancel());
    EXPECT_TRUE(second.cancel());  // cancelling twice is still true
    EXPECT_TRUE(second.cancelled());
    EXPECT_TRUE(second.done());
    gate.open();
    first.result(10);
    pool.shutdown(true);
    EXPECT_FALSE(second_ran.load());
    EXPECT_THROW(second.result(0), asyncio::CancelledError);
    EXPECT_THROW(second.exception(0), asyncio::CancelledError);
}

// ------------------------------------------------------ ConcurrentFuture alone

// CPython: test_future.py::FutureTests::test_result_with_timeout
TEST(concurrent_future, result_with_timeout_throws_timeout_error) {
    auto f = ConcurrentFuture<int>::create();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW(f.result(0.02), asyncio::TimeoutError);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 15ms);
    EXPECT_THROW(f.exception(0), asyncio::TimeoutError);
    EXPECT_THROW(f.result(0ms), asyncio::TimeoutError);
}

TEST(concurrent_future, result_waits_for_another_thread) {
    auto f = ConcurrentFuture<std::string>::create();
    std::thread setter([f] {
        std::this_thread::sleep_for(5ms);
        f.set_result(std::string("late"));
    });
    EXPECT_EQ(f.result(), "late");
    setter.join();
}

TEST(concurrent_future, setting_a_done_future_is_an_invalid_state_error) {
    auto f = ConcurrentFuture<int>::create();
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), asyncio::InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(Boom("x"))), asyncio::InvalidStateError);
    EXPECT_EQ(f.result(), 1);
    EXPECT_FALSE(f.cancel());
}

TEST(concurrent_future, set_running_or_notify_cancel) {
    auto f = ConcurrentFuture<int>::create();
    EXPECT_TRUE(f.cancel());
    EXPECT_FALSE(f.set_running_or_notify_cancel());
    auto g = ConcurrentFuture<int>::create();
    EXPECT_TRUE(g.set_running_or_notify_cancel());
    EXPECT_TRUE(g.running());
    EXPECT_THROW_MSG(g.set_running_or_notify_cancel(), asyncio::RuntimeError,
                     "Future in unexpected state");
}

TEST(concurrent_future, done_callback_runs_on_the_completing_thread_in_order) {
    auto f = ConcurrentFuture<int>::create();
    std::vector<int> order;
    std::thread::id where;
    f.add_done_callback([&](const ConcurrentFuture<int>& g) {
        order.push_back(g.result());
        where = std::this_thread::get_id();
    });
    f.add_done_callback([&](const ConcurrentFuture<int>&) { order.push_back(2); });
    std::thread::id setter_id;
    std::thread setter([&] {
        setter_id = std::this_thread::get_id();
        f.set_result(1);
    });
    setter.join();
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_EQ(where, setter_id);
}

TEST(concurrent_future, done_callback_on_a_done_future_runs_at_once_in_the_caller) {
    auto f = ConcurrentFuture<void>::create();
    f.set_result();
    bool called = false;
    f.add_done_callback([&](const ConcurrentFuture<void>& g) { called = g.done(); });
    EXPECT_TRUE(called);
}

TEST(concurrent_future, a_throwing_callback_does_not_stop_the_others) {
    auto f = ConcurrentFuture<int>::create();
    int after = 0;
    f.add_done_callback([](const ConcurrentFuture<int>&) { throw Boom("in callback"); });
    f.add_done_callback([&](const ConcurrentFuture<int>&) { after = 1; });
    testing::internal::CaptureStderr();
    f.set_result(3);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(after, 1);
    EXPECT_NE(err.find("exception calling callback for"), std::string::npos);
}

TEST(concurrent_future, handles_compare_by_identity) {
    auto a = ConcurrentFuture<int>::create();
    auto b = a;
    auto c = ConcurrentFuture<int>::create();
    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a == c);
    EXPECT_EQ(std::hash<ConcurrentFuture<int>>{}(a), std::hash<ConcurrentFuture<int>>{}(b));
    EXPECT_FALSE(ConcurrentFuture<int>());
}

}  // namespace
