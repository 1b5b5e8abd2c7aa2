// task_stack_test.cpp — async stack traces: TaskRef::get_stack(limit),
// print_stack(limit[, out]), asyncio::dump_tasks, and the task repr they print.
//
// Python reference (3.13): Lib/test/test_asyncio/test_tasks.py::test_get_stack
// and Lib/asyncio/base_tasks.py (_task_get_stack, _task_print_stack).
//
// Differences from Python these tests pin down:
//   * A suspended task's stack is its whole await chain, outermost first,
//     each coroutine at its current co_await, library coroutines included
//     (the `sleep_for` frame of a sleep); Python shows the task's own frame.
//   * A finished task has no stack, a failed one included (Python shows the
//     exception's traceback): print_stack prints "No stack for <Task ...>",
//     then the exception line.
//   * Line numbers come from __builtin_LINE() at each co_await. Before a
//     coroutine first runs it is "at its definition": clang gives the line
//     of the function's declarator, g++ the line of its closing brace.
//
// Expected lines are written relative to a __LINE__ taken just above each
// coroutine, so that they follow edits; every co_await they check is on one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio.hpp>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::FrameInfo;
using asyncio::Future;
using asyncio::Task;
using asyncio::TaskOptions;
using asyncio::TaskRef;
using asyncio::ValueError;

namespace {

constexpr std::string_view kThisFile = __FILE__;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// "function@line" for each frame of this file, "function@<file-basename>"
/// for library frames: compact, and exact where the line is ours.
std::vector<std::string> describe(const std::vector<FrameInfo>& frames) {
    std::vector<std::string> out;
    for (const FrameInfo& f : frames) {
        std::string s(f.function);
        if (f.file == kThisFile) {
            s += "@" + std::to_string(f.line);
        } else {
            const std::size_t slash = f.file.rfind('/');
            s += "@" +
                 std::string(slash == std::string_view::npos ? f.file : f.file.substr(slash + 1));
            if (f.line == 0) s += ":0";
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::string at(std::string_view function, std::uint32_t line) {
    return std::string(function) + "@" + std::to_string(line);
}

/// The line a coroutine not started yet reports: see the file comment.
constexpr std::uint32_t definition_line(std::uint32_t declarator, std::uint32_t closing_brace) {
#if defined(__clang__)
    (void)closing_brace;
    return declarator;
#else
    (void)declarator;
    return closing_brace;
#endif
}

std::string print_to_string(const TaskRef& t, std::optional<std::size_t> limit = std::nullopt) {
    std::ostringstream out;
    t.print_stack(limit, out);
    return out.str();
}

std::string file_line(std::uint32_t line, std::string_view function) {
    return "  File \"" + std::string(kThisFile) + "\", line " + std::to_string(line) + ", in " +
           std::string(function) + "\n";
}

/// print_stack of a task without frames: "No stack for <Task ...>" (the repr
/// starting with `repr_start`), then `lines` - 1 more lines.
void expect_no_stack(const std::string& text, const std::string& repr_start, long lines) {
    const std::string header = "No stack for " + repr_start;
    EXPECT_EQ(text.substr(0, header.size()), header) << text;
    const std::size_t eol = text.find('\n');
    ASSERT_NE(eol, std::string::npos) << text;
    EXPECT_EQ(text[eol - 1], '>') << text;  // the header ends with the repr
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), lines) << text;
    EXPECT_EQ(text.find("  File "), std::string::npos) << text;
}

// ---------------------------------------------------------- a three-deep chain

constexpr std::uint32_t kLevel3 = __LINE__ + 1;
Coro<> level3() {
    co_await asyncio::sleep(10);  // kLevel3 + 1
}  // kLevel3 + 2

constexpr std::uint32_t kLevel2 = __LINE__ + 1;
Coro<> level2() {
    co_await level3();  // kLevel2 + 1
}

constexpr std::uint32_t kLevel1 = __LINE__ + 1;
Coro<> level1() {
    co_await level2();  // kLevel1 + 1
}  // kLevel1 + 2

/// A task of level1() suspended in level3's sleep.
struct SuspendedChain {
    std::unique_ptr<EventLoop> loop = support::new_virtual_loop();
    Task<> task;
    SuspendedChain() {
        TaskOptions options{.name = "chain"};
        task = loop->create_task(level1(), options);
        support::run_once(*loop);  // the task runs until it blocks on the sleep
    }
    ~SuspendedChain() {
        task.cancel();
        support::run_briefly(*loop);
    }
};

TEST(get_stack, suspended_task_gives_its_whole_await_chain_outermost_first) {
    SuspendedChain s;
    const std::vector<FrameInfo> frames = s.task.get_stack();
    EXPECT_EQ(describe(frames),
              (std::vector<std::string>{at("level1", kLevel1 + 1), at("level2", kLevel2 + 1),
                                        at("level3", kLevel3 + 1), "sleep_for@sleep.cpp"}));
    ASSERT_EQ(frames.size(), 4u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(frames[i].file, kThisFile);
    // The innermost frame is the library's sleep, at its own co_await.
    EXPECT_TRUE(ends_with(frames[3].file, "src/sleep.cpp")) << frames[3].file;
    EXPECT_GT(frames[3].line, 0u);
}

// A frame keeps its file as a distance from its function name, sharing a
// word with debug mode's "tracked" bit: setting the bit must not move it.
TEST(get_stack, debug_mode_frames_keep_their_file_and_line) {
    auto loop = support::new_virtual_loop();
    loop->set_debug(true);  // level2() and level3() are created, tracked, while it runs
    Task<> task = loop->create_task(level1());
    support::run_once(*loop);
    const std::vector<FrameInfo> frames = task.get_stack();
    EXPECT_EQ(describe(frames),
              (std::vector<std::string>{at("level1", kLevel1 + 1), at("level2", kLevel2 + 1),
                                        at("level3", kLevel3 + 1), "sleep_for@sleep.cpp"}));
    task.cancel();
    support::run_briefly(*loop);
    EXPECT_TRUE(task.cancelled());
}

TEST(get_stack, limit_keeps_the_innermost_frames) {
    SuspendedChain s;
    EXPECT_EQ(describe(s.task.get_stack(2)),
              (std::vector<std::string>{at("level3", kLevel3 + 1), "sleep_for@sleep.cpp"}));
    EXPECT_EQ(describe(s.task.get_stack(1)), (std::vector<std::string>{"sleep_for@sleep.cpp"}));
    EXPECT_TRUE(s.task.get_stack(0).empty());  // Python: limit <= 0 gives nothing
    EXPECT_EQ(s.task.get_stack(4).size(), 4u);
    EXPECT_EQ(s.task.get_stack(100).size(), 4u);
}

TEST(get_stack, is_the_same_through_any_handle_of_the_task) {
    SuspendedChain s;
    const std::vector<TaskRef> tasks = asyncio::all_tasks(s.loop.get());
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(describe(tasks[0].get_stack()), describe(s.task.get_stack()));
}

TEST(print_stack, suspended_task_prints_python_s_header_and_one_line_per_frame) {
    SuspendedChain s;
    const std::string text = print_to_string(s.task);
    const std::vector<FrameInfo> frames = s.task.get_stack();
    ASSERT_EQ(frames.size(), 4u);
    const std::string header = "Stack for <Task pending name='chain' coro=<level1() running at " +
                               std::string(kThisFile) + ":" + std::to_string(kLevel1 + 1) +
                               ">> (most recent call last):\n";
    const std::string sleep_line = "  File \"" + std::string(frames[3].file) + "\", line " +
                                   std::to_string(frames[3].line) + ", in sleep_for\n";
    EXPECT_EQ(text, header + file_line(kLevel1 + 1, "level1") + file_line(kLevel2 + 1, "level2") +
                        file_line(kLevel3 + 1, "level3") + sleep_line);
}

TEST(print_stack, limit_prints_only_the_innermost_frames) {
    SuspendedChain s;
    const std::string text = print_to_string(s.task, 2);
    EXPECT_EQ(text.rfind("Stack for <Task pending name='chain' coro=<level1() running at ", 0), 0u)
        << text;
    EXPECT_EQ(text.find("in level1\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("in level2\n"), std::string::npos) << text;
    EXPECT_NE(text.find(file_line(kLevel3 + 1, "level3")), std::string::npos) << text;
    EXPECT_NE(text.find(", in sleep_for\n"), std::string::npos) << text;
}

TEST(print_stack, writes_to_std_cout_by_default) {
    SuspendedChain s;
    ::testing::internal::CaptureStdout();
    s.task.print_stack();
    const std::string printed = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(printed, print_to_string(s.task));
    ::testing::internal::CaptureStdout();
    s.task.print_stack(1);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), print_to_string(s.task, 1));
}

// ---------------------------------------------- the frame moves as it runs

constexpr std::uint32_t kTwoSleeps = __LINE__ + 1;
Coro<> two_sleeps() {
    co_await asyncio::sleep(1);  // kTwoSleeps + 1
    co_await asyncio::sleep(1);  // kTwoSleeps + 2
}

TEST(get_stack, each_frame_is_at_its_current_co_await) {
    auto loop = support::new_virtual_loop();
    Task<> t = loop->create_task(two_sleeps());
    support::run_once(*loop);
    ASSERT_FALSE(t.done());
    EXPECT_EQ(describe(t.get_stack()),
              (std::vector<std::string>{at("two_sleeps", kTwoSleeps + 1), "sleep_for@sleep.cpp"}));
    support::advance(*loop, 1.5);
    ASSERT_FALSE(t.done());
    EXPECT_EQ(describe(t.get_stack()),
              (std::vector<std::string>{at("two_sleeps", kTwoSleeps + 2), "sleep_for@sleep.cpp"}));
    loop->run_until_complete(t);
    EXPECT_TRUE(t.get_stack().empty());
}

// ------------------------------------------------- a task not started yet

TEST(get_stack, task_not_started_gives_its_coroutine_at_its_definition) {
    auto loop = support::new_virtual_loop();
    TaskOptions options{.name = "new"};
    Task<> t = loop->create_task(level1(), options);
    const std::uint32_t line = definition_line(kLevel1, kLevel1 + 2);
    EXPECT_EQ(describe(t.get_stack()), (std::vector<std::string>{at("level1", line)}));
    EXPECT_EQ(print_to_string(t), "Stack for <Task pending name='new' coro=<level1() running at " +
                                      std::string(kThisFile) + ":" + std::to_string(line) +
                                      ">> (most recent call last):\n" + file_line(line, "level1"));
    EXPECT_TRUE(t.get_stack(0).empty());
    loop->run_until_complete(asyncio::sleep(0));  // t runs to its sleep
    EXPECT_EQ(t.get_stack().size(), 4u);
    t.cancel();
    support::run_briefly(*loop);
}

// ------------------------------------------------------- finished tasks

Coro<int> returns(int v) {
    co_return v;
}

Coro<int> fails(std::string msg) {
    co_await asyncio::sleep(0);
    throw ValueError(msg);
}

TEST(get_stack, finished_task_has_no_stack) {
    auto loop = support::new_virtual_loop();
    TaskOptions options{.name = "done"};
    Task<int> t = loop->create_task(returns(3), options);
    EXPECT_EQ(loop->run_until_complete(t), 3);
    EXPECT_TRUE(t.get_stack().empty());
    EXPECT_TRUE(t.get_stack(5).empty());
    expect_no_stack(print_to_string(t), "<Task finished name='done'", 1);
}

TEST(get_stack, failed_task_has_no_stack_and_print_stack_shows_the_exception) {
    auto loop = support::new_virtual_loop();
    TaskOptions options{.name = "failed"};
    Task<int> t = loop->create_task(fails("boom"), options);
    EXPECT_THROW_MSG(loop->run_until_complete(t), ValueError, "boom");
    EXPECT_TRUE(t.get_stack().empty());
    const std::string text = print_to_string(t);
    expect_no_stack(text, "<Task finished name='failed'", 2);
    // Python: traceback.format_exception_only, "ValueError: boom" (our type
    // names may carry their namespace).
    EXPECT_TRUE(ends_with(text, "ValueError: boom\n")) << text;
}

TEST(get_stack, cancelled_task_has_no_stack) {
    auto loop = support::new_virtual_loop();
    TaskOptions options{.name = "cancelled"};
    Task<> t = loop->create_task(level1(), options);
    support::run_once(*loop);
    EXPECT_EQ(t.get_stack().size(), 4u);
    t.cancel("stop");
    support::run_briefly(*loop);
    ASSERT_TRUE(t.cancelled());
    EXPECT_TRUE(t.get_stack().empty());
    // Python: a cancelled task has no _exception, so no exception line.
    expect_no_stack(print_to_string(t), "<Task cancelled name='cancelled'", 1);
}

TEST(get_stack, task_cancelled_before_it_started_has_no_stack) {
    auto loop = support::new_virtual_loop();
    Task<> t = loop->create_task(level1());
    EXPECT_EQ(t.get_stack().size(), 1u);
    t.cancel();
    support::run_briefly(*loop);
    ASSERT_TRUE(t.cancelled());
    EXPECT_TRUE(t.get_stack().empty());
}

// -------------------------------------------- a task awaiting another task

constexpr std::uint32_t kWaitsForTask = __LINE__ + 1;
Coro<> waits_for_task(Task<> other) {
    co_await other;  // kWaitsForTask + 1
}

constexpr std::uint32_t kOuterOfWaiter = __LINE__ + 1;
Coro<> outer_of_waiter(Task<> other) {
    co_await waits_for_task(other);  // kOuterOfWaiter + 1
}

TEST(get_stack, task_awaiting_another_task_shows_only_its_own_chain) {
    auto loop = support::new_virtual_loop();
    Task<> inner = loop->create_task(level1());
    Task<> outer = loop->create_task(outer_of_waiter(inner));
    support::run_once(*loop);
    EXPECT_EQ(describe(outer.get_stack()),
              (std::vector<std::string>{at("outer_of_waiter", kOuterOfWaiter + 1),
                                        at("waits_for_task", kWaitsForTask + 1)}));
    EXPECT_EQ(inner.get_stack().size(), 4u);
    inner.cancel();
    EXPECT_THROW(loop->run_until_complete(outer), asyncio::CancelledError);
}

// ------------------------------------------- a task blocked on a future

constexpr std::uint32_t kReadReply = __LINE__ + 1;
Coro<int> read_reply(Future<int> reply) {
    co_return co_await reply;  // kReadReply + 1
}

constexpr std::uint32_t kServe = __LINE__ + 1;
Coro<int> serve(Future<int> reply) {
    co_return co_await read_reply(reply);  // kServe + 1
}

TEST(get_stack, task_blocked_on_a_future_ends_at_the_coroutine_awaiting_it) {
    auto loop = support::new_virtual_loop();
    Future<int> reply = loop->create_future<int>();
    Task<int> server = loop->create_task(serve(reply));
    support::run_once(*loop);
    EXPECT_EQ(
        describe(server.get_stack()),
        (std::vector<std::string>{at("serve", kServe + 1), at("read_reply", kReadReply + 1)}));
    reply.set_result(5);
    EXPECT_EQ(loop->run_until_complete(server), 5);
    EXPECT_TRUE(server.get_stack().empty());
}

// ------------------------------------------------------- the running task

Task<> g_task;  // CPython's `T` (set before the task runs)

constexpr std::uint32_t kBar = __LINE__ + 1;
Coro<> bar(support::Trace& trace) {
    // The running frame has not awaited yet: it is at its definition.
    const std::vector<FrameInfo> f = g_task.get_stack(1);
    trace(describe(f).at(0));
    std::ostringstream out;
    g_task.print_stack(1, out);
    trace(out.str().find("foo() running at") != std::string::npos ? "foo-running" : out.str());
    trace(out.str().find(", in bar\n") != std::string::npos ? "in-bar" : out.str());
    co_await asyncio::sleep(0);  // kBar + 8
    const std::vector<std::string> all = describe(g_task.get_stack());
    trace(all.size(), ":", all.front(), ",", all.back());
}  // kBar + 11

constexpr std::uint32_t kFoo = __LINE__ + 1;
Coro<> foo(support::Trace& trace) {
    co_await bar(trace);  // kFoo + 1
}

// CPython: test_tasks.py::BaseTaskTests::test_get_stack (our limit keeps
// the innermost frame: the running one)
TEST(get_stack, running_task_gives_its_chain_up_to_the_running_frame) {
    support::Trace trace;
    auto runner = [&]() -> Coro<> {
        g_task = asyncio::ensure_future(foo(trace));
        co_await g_task;
    };
    support::run_virtual(runner());
    g_task = Task<>();
    EXPECT_EQ(trace.events(),
              (std::vector<std::string>{at("bar", definition_line(kBar, kBar + 11)), "foo-running",
                                        "in-bar",
                                        "2:" + at("foo", kFoo + 1) + "," + at("bar", kBar + 8)}));
}

constexpr std::uint32_t kSelfInspect = __LINE__ + 1;
Coro<std::vector<std::string>> self_inspect() {
    co_await asyncio::sleep(0);  // kSelfInspect + 1
    co_return describe(asyncio::current_task().get_stack());
}

constexpr std::uint32_t kSelfOuter = __LINE__ + 1;
Coro<std::vector<std::string>> self_outer() {
    co_return co_await self_inspect();  // kSelfOuter + 1
}

TEST(get_stack, current_task_sees_its_own_chain_with_the_running_frame_last) {
    const std::vector<std::string> seen = support::run_virtual(self_outer());
    EXPECT_EQ(seen, (std::vector<std::string>{at("self_outer", kSelfOuter + 1),
                                              at("self_inspect", kSelfInspect + 1)}));
}

// An awaited Coro runs as a call from its awaiter (up to kMaxEagerDepth
// levels, then through the trampoline): a child that has not suspended yet
// is the running frame, below every caller, at any depth.
constexpr std::uint32_t kDeepInspect = __LINE__ + 1;
Coro<std::vector<std::string>> deep_inspect(int n) {
    if (n == 0) co_return describe(asyncio::current_task().get_stack());
    co_return co_await deep_inspect(n - 1);  // kDeepInspect + 2
}

TEST(get_stack, current_task_sees_children_that_have_not_suspended_at_any_depth) {
    const int depths[] = {1, 3, static_cast<int>(asyncio::detail::kMaxEagerDepth) + 1,
                          3 * static_cast<int>(asyncio::detail::kMaxEagerDepth) + 2};
    for (const int n : depths) {
        const std::vector<std::string> seen = support::run_virtual(deep_inspect(n));
        std::vector<std::string> expected(static_cast<std::size_t>(n),
                                          at("deep_inspect", kDeepInspect + 2));
        expected.push_back(at("deep_inspect", definition_line(kDeepInspect, kDeepInspect + 3)));
        EXPECT_EQ(seen, expected) << "depth " << n;
    }
}

// The creator of an eager task is running (its step called create_task) but
// is not the current task: only its root coroutine is known.
constexpr std::uint32_t kCreator = __LINE__ + 1;
Coro<> creator_root(support::Trace& trace, TaskRef& self) {
    self = asyncio::current_task();
    auto child = [&]() -> Coro<> {
        trace("child:", describe(asyncio::current_task().get_stack()).size());
        trace("creator:", describe(self.get_stack()).at(0));
        co_return;
    };
    co_await asyncio::sleep(0);  // kCreator + 7
    TaskOptions options{.eager_start = true};
    Task<> t = asyncio::create_task(child(), options);
    EXPECT_TRUE(t.done());
}

TEST(get_stack, creator_of_an_eager_task_shows_its_root_during_the_eager_step) {
    support::Trace trace;
    TaskRef self;
    support::run_virtual(creator_root(trace, self));
    EXPECT_EQ(trace.events(),
              (std::vector<std::string>{"child:1", "creator:" + at("creator_root", kCreator + 7)}));
}

TEST(get_stack, eager_task_that_blocked_has_the_chain_of_a_lazy_one) {
    std::vector<std::string> eager_stack, during_step;
    auto probe = [&]() -> Coro<> {
        during_step = describe(asyncio::current_task().get_stack());
        co_await level1();
    };
    auto main = [&]() -> Coro<> {
        TaskOptions options{.eager_start = true};
        Task<> t = asyncio::create_task(probe(), options);
        EXPECT_FALSE(t.done());
        eager_stack = describe(t.get_stack());
        t.cancel();
        co_await asyncio::sleep(0);
    };
    support::run_virtual(main());
    EXPECT_EQ(during_step.size(), 1u);  // only the eager task's own frame
    ASSERT_EQ(eager_stack.size(), 5u);
    EXPECT_EQ(eager_stack[0].rfind("operator()@", 0), 0u) << eager_stack[0];
    EXPECT_EQ(std::vector<std::string>(eager_stack.begin() + 1, eager_stack.end()),
              (std::vector<std::string>{at("level1", kLevel1 + 1), at("level2", kLevel2 + 1),
                                        at("level3", kLevel3 + 1), "sleep_for@sleep.cpp"}));
}

// ------------------------------------------------------------- dump_tasks

Coro<> blocked_forever(Future<> never) {
    co_await never;
}

TEST(dump_tasks, lists_every_pending_task_in_creation_order_with_its_stack) {
    std::string dump;
    std::string expected_b;
    auto main = [&]() -> Coro<> {
        Future<> never = asyncio::get_running_loop().create_future();
        TaskOptions oa{.name = "a"};
        Task<> a = asyncio::create_task(level1(), oa);
        TaskOptions ob{.name = "b"};
        Task<> b = asyncio::create_task(blocked_forever(never), ob);
        co_await asyncio::sleep(0);
        std::ostringstream out;
        asyncio::dump_tasks(out);
        dump = out.str();
        expected_b = print_to_string(b);
        a.cancel();
        b.cancel();
        co_await asyncio::sleep(0);
    };
    TaskOptions om{.name = "main"};
    auto loop = support::new_virtual_loop();
    Task<> m = loop->create_task(main(), om);
    loop->run_until_complete(m);
    EXPECT_EQ(dump.rfind("3 tasks pending\n", 0), 0u) << dump;
    const std::size_t pm = dump.find("Stack for <Task pending name='main' ");
    const std::size_t pa = dump.find("Stack for <Task pending name='a' ");
    const std::size_t pb = dump.find("Stack for <Task pending name='b' ");
    EXPECT_NE(pm, std::string::npos) << dump;
    EXPECT_NE(pa, std::string::npos) << dump;
    EXPECT_NE(pb, std::string::npos) << dump;
    EXPECT_LT(pm, pa) << dump;
    EXPECT_LT(pa, pb) << dump;
    // Each task's section is its print_stack.
    EXPECT_TRUE(ends_with(dump, expected_b)) << dump;
    EXPECT_NE(dump.find(file_line(kLevel3 + 1, "level3")), std::string::npos) << dump;
}

TEST(dump_tasks, of_a_loop_that_is_not_running_shows_tasks_not_started_and_singular) {
    auto loop = support::new_virtual_loop();
    std::ostringstream empty;
    asyncio::dump_tasks(empty, loop.get());
    EXPECT_EQ(empty.str(), "0 tasks pending\n");

    TaskOptions options{.name = "only"};
    Task<> t = loop->create_task(level1(), options);
    std::ostringstream out;
    asyncio::dump_tasks(out, loop.get());
    EXPECT_EQ(out.str(), "1 task pending\n" + print_to_string(t));
    EXPECT_NE(out.str().find("name='only'"), std::string::npos);
    t.cancel();
    support::run_briefly(*loop);
    std::ostringstream after;
    asyncio::dump_tasks(after, loop.get());
    EXPECT_EQ(after.str(), "0 tasks pending\n");
}

TEST(dump_tasks, leaves_out_finished_tasks) {
    auto loop = support::new_virtual_loop();
    Task<int> done = loop->create_task(returns(1));
    Task<> pending = loop->create_task(level1());
    support::run_once(*loop);
    ASSERT_TRUE(done.done());
    std::ostringstream out;
    asyncio::dump_tasks(out, loop.get());
    EXPECT_EQ(out.str(), "1 task pending\n" + print_to_string(pending));
    pending.cancel();
    support::run_briefly(*loop);
}

TEST(dump_tasks, without_a_loop_and_outside_a_running_one_throws) {
    std::ostringstream out;
    EXPECT_THROW_MSG(asyncio::dump_tasks(out), asyncio::RuntimeError, "no running event loop");
    EXPECT_TRUE(out.str().empty());
}

}  // namespace
