// debug_mode_test.cpp — debug mode: loop.set_debug / get_debug,
// RunOptions::debug (asyncio::run, Runner), the ASYNCIO_DEBUG environment
// variable; coroutines destroyed without being awaited ("coroutine 'f' was
// never awaited" with where they were created), and callbacks or task steps
// slower than loop.slow_callback_duration ("Executing <...> took N seconds").
//
// Python reference (3.13): Lib/test/test_asyncio/test_base_events.py
// (test_set_debug, test_env_var_debug, test_log_slow_callbacks),
// Lib/asyncio/coroutines.py and base_events.py (_run_once's warning),
// Lib/asyncio/taskgroups.py (a refused coroutine is closed, not warned about).
//
// Timing: slow callbacks busy-wait 30 ms on the real clock against a 10 ms
// threshold, so a report is certain (the measurement includes the wait);
// checks that nothing is reported use debug off, or a 5 s threshold, never a
// tight one (2 loaded cores may preempt anything for a few ms).
//
// The environment variable is read once per process: it is tested in a child
// process (this binary re-executed with a filter), never set in this one.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asyncio.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/capture_handler.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

extern char** environ;

using asyncio::AnyCoro;
using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::Task;
using asyncio::TaskGroup;
using asyncio::TaskOptions;
using support::CaptureHandler;

namespace {

constexpr std::string_view kThisFile = __FILE__;

void busy_wait(std::chrono::milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
}

constexpr auto kSlow = std::chrono::milliseconds(30);

std::string file_line(std::uint32_t line, std::string_view function) {
    return "\n  File \"" + std::string(kThisFile) + "\", line " + std::to_string(line) + ", in " +
           std::string(function);
}

/// The records whose message starts with `prefix`.
std::vector<CaptureHandler::Record> starting_with(const CaptureHandler& cap,
                                                  std::string_view prefix) {
    std::vector<CaptureHandler::Record> out;
    for (const CaptureHandler::Record& r : cap.records())
        if (std::string_view(r.message).substr(0, prefix.size()) == prefix) out.push_back(r);
    return out;
}

std::string messages(const CaptureHandler& cap) {
    std::string out;
    for (const CaptureHandler::Record& r : cap.records()) out += r.message + "\n";
    return out;
}

/// "Executing X took 0.123 seconds" (Python's 'Executing %s took %.3f
/// seconds'): X and the seconds; nullopt if the message has another form.
/// (No std::regex: g++ 12 warns inside it under -O1 with sanitizers.)
std::optional<std::pair<std::string, double>> parse_slow(const std::string& message) {
    const std::string_view m(message);
    constexpr std::string_view head = "Executing ", took = " took ", tail = " seconds";
    if (m.substr(0, head.size()) != head || m.size() < head.size() + tail.size() ||
        m.substr(m.size() - tail.size()) != tail)
        return std::nullopt;
    const std::size_t t = m.rfind(took);
    if (t == std::string_view::npos || t < head.size()) return std::nullopt;
    const std::string what(m.substr(head.size(), t - head.size()));
    const std::string_view num =
        m.substr(t + took.size(), m.size() - tail.size() - t - took.size());
    // \d+\.\d{3}
    const std::size_t dot = num.find('.');
    if (dot == 0 || dot == std::string_view::npos || num.size() - dot - 1 != 3) return std::nullopt;
    for (std::size_t i = 0; i < num.size(); ++i)
        if (i != dot && (num[i] < '0' || num[i] > '9')) return std::nullopt;
    if (what.size() < 2 || what.front() != '<' || what.back() != '>') return std::nullopt;
    return std::make_pair(what, std::stod(std::string(num)));
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

Coro<int> returns(int v) {
    co_return v;
}

// ============================================================ get/set_debug

// CPython: test_base_events.py::BaseEventLoopTests::test_set_debug
TEST(debug_mode, set_debug_and_get_debug) {
    auto loop = support::new_virtual_loop();
    loop->set_debug(true);
    EXPECT_TRUE(loop->get_debug());
    loop->set_debug(false);
    EXPECT_FALSE(loop->get_debug());
}

TEST(debug_mode, is_off_by_default_and_slow_callback_duration_is_a_tenth_of_a_second) {
    if (asyncio::detail::debug_from_environment()) GTEST_SKIP() << "ASYNCIO_DEBUG is set";
    EventLoop loop;
    EXPECT_FALSE(loop.get_debug());
    EXPECT_DOUBLE_EQ(loop.slow_callback_duration, 0.1);
    EXPECT_FALSE(support::new_virtual_loop()->get_debug());
}

TEST(debug_mode, run_with_debug_true_runs_a_loop_in_debug_mode) {
    auto main = []() -> Coro<bool> { co_return asyncio::get_running_loop().get_debug(); };
    EXPECT_TRUE(support::run_virtual(main(), {.debug = true}));
    EXPECT_TRUE(asyncio::run(main(), {.debug = true}));
    if (!asyncio::detail::debug_from_environment()) {
        EXPECT_FALSE(support::run_virtual(main()));
    }
    EXPECT_FALSE(support::run_virtual(main(), {.debug = false}));
}

TEST(debug_mode, runner_with_debug_sets_its_loop_s_debug_mode) {
    asyncio::Runner on({.debug = true});
    EXPECT_TRUE(on.get_loop().get_debug());
    on.close();
    asyncio::Runner off({.debug = false});
    EXPECT_FALSE(off.get_loop().get_debug());
    off.close();
}

// ------------------------------------------- ASYNCIO_DEBUG, in a child process

/// Run in a child process only (see environment_variable below): a new loop's
/// debug mode is what ASYNCIO_TEST_EXPECT_DEBUG says; debug = false in
/// RunOptions overrides the environment (Python: Runner(debug=False)).
TEST(DISABLED_environment_child, new_loop_debug_mode_follows_asyncio_debug) {
    const char* expect = std::getenv("ASYNCIO_TEST_EXPECT_DEBUG");
    ASSERT_NE(expect, nullptr) << "run by environment_variable.* only";
    const bool on = std::string(expect) == "1";
    EXPECT_EQ(asyncio::detail::debug_from_environment(), on);
    EventLoop loop;
    EXPECT_EQ(loop.get_debug(), on);
    EXPECT_EQ(asyncio::new_event_loop()->get_debug(), on);
    auto main = []() -> Coro<bool> { co_return asyncio::get_running_loop().get_debug(); };
    EXPECT_EQ(asyncio::run(main()), on);
    EXPECT_FALSE(asyncio::run(main(), {.debug = false}));
    EXPECT_TRUE(asyncio::run(main(), {.debug = true}));
}

struct ChildResult {
    int status = -1;
    std::string output;
};

/// Re-executes this test binary with only the child test above, with
/// ASYNCIO_DEBUG set to `value` (removed if nullopt).
ChildResult run_child(const std::optional<std::string>& value, bool expect) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        const std::string_view v(*e);
        if (v.rfind("ASYNCIO_DEBUG=", 0) == 0 || v.rfind("ASYNCIO_TEST_EXPECT_DEBUG=", 0) == 0 ||
            v.rfind("GTEST_", 0) == 0)
            continue;
        env.emplace_back(v);
    }
    if (value) env.push_back("ASYNCIO_DEBUG=" + *value);
    env.push_back(std::string("ASYNCIO_TEST_EXPECT_DEBUG=") + (expect ? "1" : "0"));
    std::vector<char*> envp;
    for (std::string& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string arg0 = "debug_mode_test";
    std::string filter = "--gtest_filter=DISABLED_environment_child.*";
    std::string disabled = "--gtest_also_run_disabled_tests";
    char* argv[] = {arg0.data(), filter.data(), disabled.data(), nullptr};

    ChildResult result;
    int fds[2];
    if (::pipe(fds) != 0) return result;
    const pid_t pid = ::fork();
    if (pid < 0) return result;
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execve(exe.c_str(), argv, envp.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            result.output.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = status;
    return result;
}

void expect_child_passes(const ChildResult& r) {
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
    EXPECT_NE(r.output.find("[  PASSED  ] 1 test."), std::string::npos) << r.output;
}

// CPython: test_base_events.py::BaseEventLoopTests::test_env_var_debug
TEST(environment_variable, asyncio_debug_non_empty_turns_debug_mode_on) {
    expect_child_passes(run_child(std::string("1"), true));
}

TEST(environment_variable, asyncio_debug_empty_or_unset_leaves_debug_mode_off) {
    expect_child_passes(run_child(std::string(""), false));
    expect_child_passes(run_child(std::nullopt, false));
}

// ================================================== never-awaited coroutines

constexpr std::uint32_t kDrops = __LINE__ + 1;
Coro<> drops_a_coroutine() {
    co_await asyncio::sleep(0);         // kDrops + 1
    { Coro<int> unused = returns(1); }  // kDrops + 2
}

constexpr std::uint32_t kDropsOuter = __LINE__ + 1;
Coro<> drops_outer() {
    co_await drops_a_coroutine();  // kDropsOuter + 1
}

const std::string kNeverAwaited = "coroutine 'returns' was never awaited";

TEST(never_awaited, coroutine_destroyed_unawaited_in_debug_mode_is_reported_with_its_creator) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    TaskOptions options{.name = "creator"};
    Task<> t = loop->create_task(drops_outer(), options);
    loop->run_until_complete(t);
    ASSERT_EQ(cap.size(), 1u) << messages(cap);
    EXPECT_EQ(cap.at(0).message,
              kNeverAwaited + "\nCoroutine created at (most recent call last), in task 'creator'" +
                  file_line(kDropsOuter + 1, "drops_outer") +
                  file_line(kDrops + 1, "drops_a_coroutine"));
    EXPECT_FALSE(cap.at(0).exception);
    EXPECT_FALSE(cap.at(0).task);
}

TEST(never_awaited, is_reported_when_the_coroutine_is_destroyed_not_when_created) {
    support::Trace trace;
    CaptureHandler cap;
    auto main = [&]() -> Coro<> {
        std::optional<Coro<int>> kept(returns(1));
        co_await asyncio::sleep(0);
        trace("reports-before-drop:", cap.size());
        Coro<int> moved = std::move(*kept);  // moving it is not destroying it
        kept.reset();
        trace("after-move:", cap.size());
        { Coro<int> gone = std::move(moved); }
        trace("after-drop:", cap.size());
    };
    support::run_virtual(main(), cap, {.debug = true});
    EXPECT_EQ(trace.str(), "reports-before-drop:0 after-move:0 after-drop:1");
    EXPECT_EQ(starting_with(cap, kNeverAwaited).size(), 1u) << messages(cap);
}

TEST(never_awaited, is_not_reported_when_debug_mode_is_off) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(false);
    loop->run_until_complete(drops_outer());
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

TEST(never_awaited, awaited_coroutines_and_coroutines_wrapped_in_tasks_are_not_reported) {
    CaptureHandler cap;
    auto main = []() -> Coro<> {
        Coro<int> c = returns(1);
        EXPECT_EQ(co_await c, 1);  // awaited, then destroyed here
        Task<int> t = asyncio::create_task(returns(2));
        EXPECT_EQ(co_await t, 2);
        // A task cancelled before it started never runs its coroutine, but
        // the coroutine was handed to a task: not "never awaited" (Python:
        // the task throws CancelledError into it).
        Task<int> cancelled = asyncio::create_task(returns(3));
        cancelled.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(cancelled.cancelled());
        co_await asyncio::gather(returns(4), returns(5));
        co_await asyncio::wait_for(returns(6), 1.0);
        co_await asyncio::shield(returns(7));
    };
    support::run_virtual(main(), cap, {.debug = true});
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

TEST(never_awaited, coroutine_made_outside_any_task_says_so) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->call_soon([] { Coro<int> unused = returns(1); });
    support::run_once(*loop);
    ASSERT_EQ(cap.size(), 1u) << messages(cap);
    EXPECT_EQ(cap.at(0).message, kNeverAwaited + "\nCoroutine created outside any task");
}

TEST(never_awaited, set_debug_while_running_turns_tracking_on_and_off_for_new_coroutines) {
    support::Trace trace;
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(false);  // (whatever ASYNCIO_DEBUG says)
    auto main = [&]() -> Coro<> {
        EventLoop& l = asyncio::get_running_loop();
        { Coro<int> off = returns(1); }
        trace("off:", cap.size());
        l.set_debug(true);
        { Coro<int> on = returns(2); }
        trace("on:", cap.size());
        // Made while debug mode was off: not on record, so not reported even
        // if destroyed once it is on.
        std::optional<Coro<int>> early;
        l.set_debug(false);
        early.emplace(returns(3));
        l.set_debug(true);
        early.reset();
        trace("early:", cap.size());
        l.set_debug(false);
        { Coro<int> off_again = returns(4); }
        trace("off-again:", cap.size());
        co_return;
    };
    loop->run_until_complete(main());
    EXPECT_EQ(trace.str(), "off:0 on:1 early:1 off-again:1");
}

TEST(never_awaited, coroutine_destroyed_after_the_loop_stopped_is_reported_on_stderr) {
    std::optional<Coro<int>> kept;
    auto main = [&]() -> Coro<> {
        kept.emplace(returns(1));
        co_return;
    };
    support::run_virtual(main(), {.debug = true});
    ASSERT_TRUE(kept.has_value());
    ::testing::internal::CaptureStderr();
    kept.reset();
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(
        err.rfind(kNeverAwaited + "\nCoroutine created at (most recent call last), in task '", 0),
        0u)
        << err;
}

TEST(never_awaited, coroutine_dropped_by_a_task_factory_is_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    auto main = [&]() -> Coro<> {
        EventLoop& l = asyncio::get_running_loop();
        l.set_task_factory([](EventLoop&, AnyCoro, TaskOptions) { return asyncio::TaskRef(); });
        EXPECT_THROW(l.create_task(returns(1)), asyncio::TypeError);
        l.set_task_factory(nullptr);
        co_return;
    };
    loop->run_until_complete(main());
    EXPECT_EQ(starting_with(cap, kNeverAwaited).size(), 1u) << messages(cap);
}

// The coroutine is created while an eager task runs its first step inside
// create_task: that task is the current one, so it is the creator on record.
constexpr std::uint32_t kEagerDrops = __LINE__ + 1;
Coro<> eager_drops() {
    { Coro<int> unused = returns(1); }  // kEagerDrops + 1
    co_return;
}  // kEagerDrops + 3

TEST(never_awaited, coroutine_made_in_an_eager_step_names_the_eager_task) {
    CaptureHandler cap;
    auto main = []() -> Coro<> {
        TaskOptions options{.name = "eager-child", .eager_start = true};
        Task<> t = asyncio::create_task(eager_drops(), options);
        EXPECT_TRUE(t.done());
        co_return;
    };
    support::run_virtual(main(), cap, {.debug = true});
    const std::vector<CaptureHandler::Record> reports = starting_with(cap, kNeverAwaited);
    ASSERT_EQ(reports.size(), 1u) << messages(cap);
    // Not started yet when it created the coroutine: at its definition (the
    // line depends on the compiler, see task_stack_test.cpp).
#if defined(__clang__)
    const std::uint32_t line = kEagerDrops;
#else
    const std::uint32_t line = kEagerDrops + 3;
#endif
    EXPECT_EQ(reports[0].message,
              kNeverAwaited +
                  "\nCoroutine created at (most recent call last), in task 'eager-child'" +
                  file_line(line, "eager_drops"));
}

// Python's TaskGroup.create_task closes a coroutine it refuses (coro.close()),
// which keeps it from being reported as never awaited.
TEST(never_awaited, coroutine_refused_by_a_finished_task_group_is_not_reported) {
    CaptureHandler cap;
    auto main = []() -> Coro<> {
        TaskGroup tg;
        co_await asyncio::async_with(tg, [](TaskGroup&) -> Coro<> { co_return; });
        EXPECT_THROW(tg.create_task(returns(1)), asyncio::RuntimeError);
    };
    support::run_virtual(main(), cap, {.debug = true});
    EXPECT_TRUE(starting_with(cap, "coroutine '").empty()) << messages(cap);
}

TEST(never_awaited, is_reported_under_run_with_debug_true) {
    CaptureHandler cap;
    auto main = []() -> Coro<> {
        co_await asyncio::sleep(0);
        { Coro<int> unused = returns(1); }
    };
    support::run_virtual(main(), cap, {.debug = true});
    ASSERT_EQ(starting_with(cap, kNeverAwaited).size(), 1u) << messages(cap);
    EXPECT_NE(cap.at(0).message.find("\nCoroutine created at (most recent call last), in task '"),
              std::string::npos);
}

// ========================================================== slow callbacks

struct StopLoopCb {
    EventLoop* loop;
    void operator()() const { loop->stop(); }
};

Coro<> stop_loop_coro(EventLoop* loop) {
    loop->stop();
    co_return;
}

// CPython: test_base_events.py::BaseEventLoopTests::test_log_slow_callbacks
// (slow_callback_duration = 0: everything is "slow"), the callback half
TEST(slow_callback, report_of_a_slow_callback_names_the_callable) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->slow_callback_duration = 0.0;
    loop->call_soon(StopLoopCb{loop.get()});
    loop->run_forever();
    ASSERT_EQ(cap.size(), 1u) << messages(cap);
    // Python: "^Executing <Handle.*stop_loop_cb.*> took .* seconds$"
    const auto parsed = parse_slow(cap.at(0).message);
    ASSERT_TRUE(parsed) << cap.at(0).message;
    EXPECT_EQ(parsed->first.rfind("<Handle ", 0), 0u) << cap.at(0).message;
    EXPECT_TRUE(contains(parsed->first, "StopLoopCb")) << cap.at(0).message;
}

// CPython: test_base_events.py::BaseEventLoopTests::test_log_slow_callbacks,
// the task half: the step finishes the task, and Python's report still names
// the coroutine ("Executing <Task finished name='Task-2' coro=<stop_loop_coro()
// done, defined at f.py:3> result=None> took 0.000 seconds").
TEST(slow_callback, report_of_a_slow_step_that_finished_the_task_names_its_coroutine) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->slow_callback_duration = 0.0;
    Task<> t = loop->create_task(stop_loop_coro(loop.get()));
    loop->run_forever();
    ASSERT_TRUE(t.done());
    ASSERT_EQ(cap.size(), 1u) << messages(cap);
    // Python: "^Executing <Task.*stop_loop_coro.*> took .* seconds$"
    const auto parsed = parse_slow(cap.at(0).message);
    ASSERT_TRUE(parsed) << cap.at(0).message;
    EXPECT_EQ(parsed->first.rfind("<Task ", 0), 0u) << cap.at(0).message;
    EXPECT_TRUE(contains(parsed->first, "stop_loop_coro")) << cap.at(0).message;
}

TEST(slow_callback, slow_call_soon_callback_is_reported_with_its_duration) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->slow_callback_duration = 0.01;
    loop->call_soon([] { busy_wait(kSlow); });
    support::run_once(*loop);
    ASSERT_EQ(cap.size(), 1u) << messages(cap);
    const auto parsed = parse_slow(cap.at(0).message);
    ASSERT_TRUE(parsed) << cap.at(0).message;
    EXPECT_EQ(parsed->first.rfind("<Handle ", 0), 0u) << cap.at(0).message;
    EXPECT_GE(parsed->second, 0.030) << cap.at(0).message;
    EXPECT_FALSE(cap.at(0).exception);
}

TEST(slow_callback, slow_timer_callback_is_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->slow_callback_duration = 0.01;
    loop->call_later(5.0, [] { busy_wait(kSlow); });
    support::advance(*loop, 10.0);
    const std::vector<CaptureHandler::Record> slow = starting_with(cap, "Executing <Handle ");
    ASSERT_EQ(slow.size(), 1u) << messages(cap);
    const auto parsed = parse_slow(slow[0].message);
    ASSERT_TRUE(parsed) << slow[0].message;
    EXPECT_GE(parsed->second, 0.030);
}

constexpr std::uint32_t kBusy = __LINE__ + 1;
Coro<> busy_then_block() {
    busy_wait(kSlow);
    co_await asyncio::sleep(1);  // kBusy + 2
}

TEST(slow_callback, slow_task_step_is_reported_with_the_task_repr) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->slow_callback_duration = 0.01;
    TaskOptions options{.name = "slow"};
    Task<> t = loop->create_task(busy_then_block(), options);
    support::run_once(*loop);
    ASSERT_EQ(cap.size(), 1u) << messages(cap);
    const auto parsed = parse_slow(cap.at(0).message);
    ASSERT_TRUE(parsed) << cap.at(0).message;
    EXPECT_EQ(parsed->first, "<Task pending name='slow' coro=<busy_then_block() running at " +
                                 std::string(kThisFile) + ":" + std::to_string(kBusy + 2) + ">>");
    EXPECT_GE(parsed->second, 0.030);
    loop->run_until_complete(t);  // the next step is fast
    EXPECT_EQ(cap.size(), 1u) << messages(cap);
}

TEST(slow_callback, fast_callbacks_and_steps_are_not_reported) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(true);
    loop->slow_callback_duration = 5.0;  // nothing here comes near
    int calls = 0;
    loop->call_soon([&calls] { ++calls; });
    loop->call_later(1.0, [&calls] { ++calls; });
    auto main = []() -> Coro<int> {
        co_await asyncio::sleep(2);
        Task<int> t = asyncio::create_task(returns(4));
        co_return co_await t;
    };
    EXPECT_EQ(loop->run_until_complete(main()), 4);
    EXPECT_EQ(calls, 2);
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

TEST(slow_callback, nothing_is_reported_when_debug_mode_is_off) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(false);
    loop->slow_callback_duration = 0.0;
    loop->call_soon([] { busy_wait(kSlow); });
    Task<> t = loop->create_task(busy_then_block());
    support::run_once(*loop);
    t.cancel();
    support::run_briefly(*loop);
    EXPECT_TRUE(cap.empty()) << messages(cap);
}

TEST(slow_callback, set_debug_toggles_the_reports_between_iterations) {
    auto loop = support::new_virtual_loop();
    CaptureHandler cap(*loop);
    loop->set_debug(false);  // (whatever ASYNCIO_DEBUG says)
    loop->slow_callback_duration = 0.01;
    EventLoop* l = loop.get();
    loop->call_soon([] { busy_wait(kSlow); });  // debug off: not measured
    loop->call_soon([l] { l->set_debug(true); });
    support::run_once(*loop);
    EXPECT_TRUE(cap.empty()) << messages(cap);
    loop->call_soon([] { busy_wait(kSlow); });  // debug on
    support::run_once(*loop);
    EXPECT_EQ(starting_with(cap, "Executing <Handle ").size(), 1u) << messages(cap);
    loop->set_debug(false);
    loop->call_soon([] { busy_wait(kSlow); });
    support::run_once(*loop);
    EXPECT_EQ(cap.size(), 1u) << messages(cap);
}

TEST(slow_callback, run_with_debug_true_reports_a_slow_step) {
    CaptureHandler cap;
    auto main = []() -> Coro<> {
        asyncio::get_running_loop().slow_callback_duration = 0.01;
        co_await asyncio::sleep(0);
        busy_wait(kSlow);
        co_await asyncio::sleep(0);
    };
    support::run_virtual(main(), cap, {.debug = true});
    const std::vector<CaptureHandler::Record> slow = starting_with(cap, "Executing <Task pending ");
    ASSERT_EQ(slow.size(), 1u) << messages(cap);
    EXPECT_TRUE(parse_slow(slow[0].message)) << slow[0].message;
}

}  // namespace
