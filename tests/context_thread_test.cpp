// context_thread_test.cpp — context variables across threads: to_thread and
// run_in_executor run the function in a copy of the caller's context.
//
// Python reference: Lib/test/test_asyncio/test_threads.py
// (test_to_thread_contextvars), 3.13: the worker sees the caller's values,
// and what it sets stays in its copy.
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <string>
#include <thread>

#include "support/tsan_suppressions.hpp"

using asyncio::ContextVar;
using asyncio::Coro;

namespace {

ContextVar<std::string> request("request", "-");
ContextVar<int> counter("counter");

std::string read_request() {
    return request.get();
}

std::string set_and_read(std::string value) {
    request.set(std::move(value));
    return request.get();
}

TEST(context_threads, to_thread_sees_the_callers_values) {
    const std::string seen = asyncio::run([]() -> Coro<std::string> {
        request.set("req-7");
        co_return co_await asyncio::to_thread(read_request);
    }());
    EXPECT_EQ(seen, "req-7");
}

TEST(context_threads, to_thread_runs_on_another_thread_with_the_value) {
    const auto main_id = std::this_thread::get_id();
    const bool other = asyncio::run([&]() -> Coro<bool> {
        counter.set(3);
        auto probe = [&] { return std::this_thread::get_id() != main_id && counter.get() == 3; };
        co_return co_await asyncio::to_thread(probe);
    }());
    EXPECT_TRUE(other);
}

TEST(context_threads, what_the_worker_sets_stays_in_its_copy) {
    const std::string after = asyncio::run([]() -> Coro<std::string> {
        request.set("caller");
        const std::string inside = co_await asyncio::to_thread(set_and_read, std::string("worker"));
        EXPECT_EQ(inside, "worker");
        co_return request.get();
    }());
    EXPECT_EQ(after, "caller");
}

TEST(context_threads, a_set_in_an_empty_context_does_not_stick_to_the_worker_thread) {
    // The caller's context is empty (nothing set): the worker's set() must
    // go into a context of the call's own, not into the pool thread's, where
    // the next call would see it.
    auto pair = asyncio::run([]() -> Coro<std::pair<std::string, std::string>> {
        const std::string first = co_await asyncio::to_thread(set_and_read, std::string("leak?"));
        const std::string second = co_await asyncio::to_thread(read_request);
        co_return std::pair{first, second};
    }());
    EXPECT_EQ(pair.first, "leak?");
    EXPECT_EQ(pair.second, "-");
}

TEST(context_threads, run_in_executor_sees_the_callers_values_too) {
    const std::string seen = asyncio::run([]() -> Coro<std::string> {
        request.set("exec-1");
        auto& loop = asyncio::get_running_loop();
        co_return co_await loop.run_in_executor(nullptr, read_request);
    }());
    EXPECT_EQ(seen, "exec-1");
}

TEST(context_threads, each_task_sends_its_own_value_to_its_worker) {
    const auto results = asyncio::run([]() -> Coro<std::vector<std::string>> {
        auto one = [](std::string id) -> Coro<std::string> {
            request.set(id);
            co_await asyncio::sleep(0);
            co_return co_await asyncio::to_thread(read_request);
        };
        std::vector<Coro<std::string>> coros;
        for (int i = 0; i < 8; ++i) coros.push_back(one("task-" + std::to_string(i)));
        co_return co_await asyncio::gather(std::move(coros));
    }());
    ASSERT_EQ(results.size(), 8u);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(results[i], "task-" + std::to_string(i));
}

}  // namespace
