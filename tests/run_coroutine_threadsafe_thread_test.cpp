// run_coroutine_threadsafe_thread_test.cpp — asyncio::run_coroutine_threadsafe
// and EventLoop::call_soon_threadsafe from other threads, stress included.
//
// Python reference: Lib/test/test_asyncio/test_tasks.py
// (RunCoroutineThreadsafeTests), test_base_events.py (call_soon_threadsafe),
// 3.13. Real threads; the loop runs in the test's thread, other threads
// submit to it. A watchdog turns a hang into a failure.
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/capture_handler.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/tsan_suppressions.hpp"
#include "support/watchdog.hpp"

using asyncio::ConcurrentFuture;
using asyncio::Coro;
using namespace std::chrono_literals;

namespace {

// CPython's RunCoroutineThreadsafeTests.add
Coro<int> add(int a, int b, bool fail = false, bool cancel = false) {
    co_await asyncio::sleep(0.001);
    if (fail) throw asyncio::RuntimeError("Fail!");
    if (cancel) {
        asyncio::current_task().cancel();
        co_await asyncio::sleep(0);
    }
    co_return a + b;
}

/// Runs `body(loop)` in another thread while the loop runs here; stops the
/// loop when body returns, and returns what it returned.
template <class F>
auto with_loop_in_this_thread(asyncio::EventLoop& loop, F body) {
    using R = decltype(body(loop));
    std::promise<R> out;
    std::thread other([&] {
        try {
            if constexpr (std::is_void_v<R>) {
                body(loop);
                out.set_value();
            } else {
                out.set_value(body(loop));
            }
        } catch (...) {
            out.set_exception(std::current_exception());
        }
        loop.call_soon_threadsafe([&loop] { loop.stop(); });
    });
    {
        support::Watchdog dog(loop, std::chrono::seconds(60));
        loop.run_forever();
        EXPECT_FALSE(dog.fired());
    }
    other.join();
    return out.get_future().get();
}

// CPython: test_tasks.py::RunCoroutineThreadsafeTests::test_run_coroutine_threadsafe
TEST(run_coroutine_threadsafe, returns_the_result) {
    auto loop = asyncio::new_event_loop();
    const int r = with_loop_in_this_thread(*loop, [](asyncio::EventLoop& l) {
        ConcurrentFuture<int> f = asyncio::run_coroutine_threadsafe(add(1, 2), l);
        return f.result(30);
    });
    EXPECT_EQ(r, 3);
}

// CPython: ...::test_run_coroutine_threadsafe_with_exception
TEST(run_coroutine_threadsafe, carries_the_exception) {
    auto loop = asyncio::new_event_loop();
    const std::string what = with_loop_in_this_thread(*loop, [](asyncio::EventLoop& l) {
        auto f = asyncio::run_coroutine_threadsafe(add(1, 2, true), l);
        try {
            f.result(30);
        } catch (const asyncio::RuntimeError& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    });
    EXPECT_EQ(what, "Fail!");
}

// CPython: ...::test_run_coroutine_threadsafe_with_timeout
TEST(run_coroutine_threadsafe, timeout_then_cancel_leaves_no_task_pending) {
    auto loop = asyncio::new_event_loop();
    const bool timed_out = with_loop_in_this_thread(*loop, [](asyncio::EventLoop& l) {
        auto f = asyncio::run_coroutine_threadsafe(asyncio::sleep(10, 1), l);
        bool t = false;
        try {
            f.result(0);
        } catch (const asyncio::TimeoutError&) {
            t = true;
        }
        EXPECT_TRUE(f.done() || f.cancel());
        EXPECT_TRUE(f.cancelled());
        return t;
    });
    EXPECT_TRUE(timed_out);
    // The task was cancelled through the loop; let it finish.
    loop->run_until_complete(asyncio::sleep(0.01));
    EXPECT_TRUE(asyncio::all_tasks(loop.get()).empty());
}

// CPython: ...::test_run_coroutine_threadsafe_task_cancelled
TEST(run_coroutine_threadsafe, a_cancelled_task_cancels_the_concurrent_future) {
    auto loop = asyncio::new_event_loop();
    const bool cancelled = with_loop_in_this_thread(*loop, [](asyncio::EventLoop& l) {
        auto f = asyncio::run_coroutine_threadsafe(add(1, 2, false, true), l);
        EXPECT_THROW(f.result(30), asyncio::CancelledError);
        return f.cancelled();
    });
    EXPECT_TRUE(cancelled);
}

// CPython: ...::test_run_coroutine_threadsafe_task_factory_exception (here
// the task cannot be made because the coroutine was already awaited).
TEST(run_coroutine_threadsafe, a_task_that_cannot_be_created_fails_the_future_and_is_reported) {
    auto loop = asyncio::new_event_loop();
    support::CaptureHandler cap(*loop);
    Coro<int> used = add(1, 2);
    loop->run_until_complete(asyncio::co_invoke([&]() -> Coro<void> { (void)co_await used; }));
    const std::string what = with_loop_in_this_thread(*loop, [&](asyncio::EventLoop& l) {
        auto f = asyncio::run_coroutine_threadsafe(std::move(used), l);
        try {
            f.result(30);
        } catch (const asyncio::RuntimeError& e) {
            return std::string(e.what());
        }
        return std::string();
    });
    EXPECT_EQ(what, "cannot reuse already awaited coroutine");
    ASSERT_EQ(cap.size(), 1u);
    EXPECT_EQ(cap.at(0).message, "Exception in callback");
    EXPECT_EQ(cap.at(0).what, "cannot reuse already awaited coroutine");
}

TEST(run_coroutine_threadsafe, cancel_from_the_calling_thread_cancels_the_task) {
    auto loop = asyncio::new_event_loop();
    std::atomic<bool> saw_cancel{false};
    std::promise<void> started;
    auto sleeper = [&]() -> Coro<int> {
        started.set_value();
        try {
            co_await asyncio::sleep(30);
        } catch (const asyncio::CancelledError&) {
            saw_cancel = true;
            throw;
        }
        co_return 0;
    };
    with_loop_in_this_thread(*loop, [&](asyncio::EventLoop& l) {
        auto f = asyncio::run_coroutine_threadsafe(sleeper(), l);
        started.get_future().wait();
        EXPECT_FALSE(f.running());  // as CPython: never marked running while the task runs
        EXPECT_TRUE(f.cancel());
        EXPECT_TRUE(f.cancelled());
        EXPECT_THROW(f.result(0), asyncio::CancelledError);
        // Wait for the cancellation to reach the task.
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!saw_cancel && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
    });
    EXPECT_TRUE(saw_cancel.load());
}

TEST(run_coroutine_threadsafe, the_exception_is_the_very_object_thrown) {
    auto loop = asyncio::new_event_loop();
    static std::atomic<const void*> thrown{nullptr};
    auto raiser = []() -> Coro<void> {
        co_await asyncio::sleep(0);
        try {
            throw asyncio::ValueError("v");
        } catch (const asyncio::ValueError& e) {
            thrown = &e;
            throw;
        }
    };
    const void* caught = with_loop_in_this_thread(*loop, [&](asyncio::EventLoop& l) -> const void* {
        auto f = asyncio::run_coroutine_threadsafe(raiser(), l);
        try {
            f.result(30);
        } catch (const asyncio::ValueError& e) {
            return &e;
        }
        return nullptr;
    });
    EXPECT_NE(caught, nullptr);
    EXPECT_EQ(caught, thrown.load());
}

TEST(run_coroutine_threadsafe, done_callbacks_run_on_the_loop_thread) {
    auto loop = asyncio::new_event_loop();
    const auto loop_thread = std::this_thread::get_id();
    std::promise<std::thread::id> where;
    with_loop_in_this_thread(*loop, [&](asyncio::EventLoop& l) {
        auto f = asyncio::run_coroutine_threadsafe(add(2, 3), l);
        f.add_done_callback(
            [&](const ConcurrentFuture<int>&) { where.set_value(std::this_thread::get_id()); });
        EXPECT_EQ(f.result(30), 5);
    });
    EXPECT_EQ(where.get_future().get(), loop_thread);
}

TEST(run_coroutine_threadsafe, on_a_closed_loop_throws) {
    auto loop = asyncio::new_event_loop();
    loop->close();
    std::string what;
    std::thread t([&] {
        try {
            (void)asyncio::run_coroutine_threadsafe(add(1, 2), *loop);
        } catch (const asyncio::RuntimeError& e) {
            what = e.what();
        }
    });
    t.join();
    EXPECT_EQ(what, "Event loop is closed");
}

TEST(run_coroutine_threadsafe, an_empty_coro_is_a_value_error) {
    auto loop = asyncio::new_event_loop();
    EXPECT_THROW_MSG((void)asyncio::run_coroutine_threadsafe(Coro<int>(), *loop),
                     asyncio::ValueError, "A coroutine object is required");
}

// Deliberate difference: CPython leaves the future pending forever.
TEST(run_coroutine_threadsafe, closing_the_loop_under_a_pending_task_fails_the_future) {
    auto loop = asyncio::new_event_loop();
    support::CaptureHandler cap(*loop);
    ConcurrentFuture<int> f;
    std::thread t([&] { f = asyncio::run_coroutine_threadsafe(asyncio::sleep(30, 1), *loop); });
    t.join();
    loop->run_until_complete(asyncio::sleep(0.01));  // the task starts and sleeps
    EXPECT_FALSE(f.done());
    loop->close();
    EXPECT_THROW_MSG(f.result(1), asyncio::RuntimeError, "Event loop is closed");
    EXPECT_EQ(cap.count("Task was destroyed but it is pending!"), 1u);
}

TEST(run_coroutine_threadsafe, closing_the_loop_before_the_task_starts_fails_the_future) {
    auto loop = asyncio::new_event_loop();
    ConcurrentFuture<int> f;
    std::thread t([&] { f = asyncio::run_coroutine_threadsafe(add(1, 2), *loop); });
    t.join();
    loop->close();  // the starter callback is dropped with the coroutine
    EXPECT_THROW_MSG(f.result(1), asyncio::RuntimeError, "Event loop is closed");
    EXPECT_FALSE(f.cancel());
}

// The loop is destroyed while someone still holds the task (so the future
// stays pending); a cancel() from another thread then posts to a channel
// that refuses it, instead of touching the dead loop (ASan would see it).
TEST(run_coroutine_threadsafe, cancel_after_the_loop_is_destroyed_is_safe) {
    ConcurrentFuture<int> f;
    asyncio::TaskRef keep;
    auto sleeper = [&]() -> Coro<int> {
        keep = asyncio::current_task();
        co_await asyncio::sleep(30);
        co_return 1;
    };
    {
        auto loop = asyncio::new_event_loop();
        support::CaptureHandler cap(*loop);
        std::thread t([&] { f = asyncio::run_coroutine_threadsafe(sleeper(), *loop); });
        t.join();
        loop->run_until_complete(asyncio::sleep(0.01));
        ASSERT_TRUE(keep);
    }
    EXPECT_FALSE(f.done());
    std::thread canceller([f] { EXPECT_TRUE(f.cancel()); });
    canceller.join();
    EXPECT_TRUE(f.cancelled());
    keep = asyncio::TaskRef();  // the task goes; the future stays cancelled
    EXPECT_TRUE(f.cancelled());
}

// A worker thread submitting to a running loop and waiting in coroutine
// land too: the loop awaits a ConcurrentFuture that another thread resolves.
TEST(run_coroutine_threadsafe, from_a_to_thread_call_back_into_the_same_loop) {
    auto main = []() -> Coro<int> {
        asyncio::EventLoop& loop = asyncio::get_running_loop();
        co_return co_await asyncio::to_thread(
            [](asyncio::EventLoop* l) {
                return asyncio::run_coroutine_threadsafe(add(20, 22), *l).result(30);
            },
            &loop);
    };
    EXPECT_EQ(asyncio::run(main()), 42);
}

// ----------------------------------------------------------------- stress

constexpr int kThreads = 8;
// The full count in every build: about 10 s under TSan on 2 cores.
constexpr int kPerThread = 100'000;

TEST(call_soon_threadsafe, stress_8_threads_each_call_runs_once) {
    auto loop = asyncio::new_event_loop();
    std::vector<long> per_thread(kThreads, 0);  // loop thread only
    long total = 0;
    const long expected = static_cast<long>(kThreads) * kPerThread;
    std::vector<std::thread> producers;
    for (int t = 0; t < kThreads; ++t) {
        producers.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                loop->call_soon_threadsafe([&, t] {
                    ++per_thread[t];
                    if (++total == expected) loop->stop();
                });
            }
        });
    }
    {
        support::Watchdog dog(*loop, std::chrono::seconds(100));
        loop->run_forever();
        EXPECT_FALSE(dog.fired());
    }
    for (auto& p : producers) p.join();
    EXPECT_EQ(total, expected);
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_thread[t], kPerThread) << "thread " << t;
}

Coro<long> identity(long v) {
    co_return v;
}

TEST(run_coroutine_threadsafe, stress_8_threads_every_result_accounted_for) {
    auto loop = asyncio::new_event_loop();
    constexpr int kWindow = 1000;
    std::atomic<long> results{0};
    std::atomic<long> mismatches{0};
    std::vector<std::thread> submitters;
    std::atomic<int> finished{0};
    for (int t = 0; t < kThreads; ++t) {
        submitters.emplace_back([&, t] {
            std::vector<ConcurrentFuture<long>> window;
            window.reserve(kWindow);
            long next_check = 0;
            for (int i = 0; i < kPerThread; ++i) {
                const long v = static_cast<long>(t) * kPerThread + i;
                window.push_back(asyncio::run_coroutine_threadsafe(identity(v), *loop));
                if (window.size() == kWindow || i + 1 == kPerThread) {
                    for (auto& f : window) {
                        const long expect = static_cast<long>(t) * kPerThread + next_check++;
                        if (f.result(60) != expect) ++mismatches;
                        ++results;
                    }
                    window.clear();
                }
            }
            if (++finished == kThreads) loop->call_soon_threadsafe([&] { loop->stop(); });
        });
    }
    {
        support::Watchdog dog(*loop, std::chrono::seconds(100));
        loop->run_forever();
        EXPECT_FALSE(dog.fired());
    }
    for (auto& s : submitters) s.join();
    EXPECT_EQ(results.load(), static_cast<long>(kThreads) * kPerThread);
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_TRUE(asyncio::all_tasks(loop.get()).empty());
}

}  // namespace
