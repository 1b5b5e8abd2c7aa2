// async_with_test.cpp — asyncio::async_with, the `async with` statement:
// borrowed and owned managers, what the body binds (X&, X, nothing), the
// body's lifetime, suppression, exceptions from aenter/aexit, cancellation.
//
// Traces are what Python 3.13 prints for the same classes (an __aenter__ /
// __aexit__ pair recording "enter" / "exit:<exception type>").
#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "asyncio.hpp"
#include "support/capture_handler.hpp"
#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using namespace asyncio;
using support::Trace;

namespace {

std::string kind(const std::exception_ptr& e) {
    if (!e) return "None";
    if (support::holds<CancelledError>(e)) return "CancelledError";
    if (support::holds<ValueError>(e)) return "ValueError";
    if (support::holds<RuntimeError>(e)) return "RuntimeError";
    return "?";
}

/// Python's `class CM` of the traces: __aenter__ returns self.
struct Manager {
    Trace* trace;
    bool suppress = false;
    bool fail_enter = false;
    bool fail_exit = false;
    bool yield = false;  // each method awaits sleep(0)
    bool exited = false;

    Coro<Manager&> aenter() {
        trace->add("enter");
        if (yield) {
            co_await sleep(0);
            trace->add("entered");
        }
        if (fail_enter) throw RuntimeError("enter failed");
        co_return *this;
    }
    Coro<bool> aexit(std::exception_ptr e) {
        trace->add("exit:", kind(e));
        if (yield) {
            co_await sleep(0);
            trace->add("exited");
        }
        exited = true;
        if (fail_exit) throw RuntimeError("exit failed");
        co_return suppress;
    }
};

/// aenter gives a value (as Barrier gives its index).
struct ValueManager {
    int value;
    Coro<int> aenter() { co_return value; }
    Coro<bool> aexit(std::exception_ptr) { co_return false; }
};

/// aenter gives nothing (as Lock does).
struct VoidManager {
    Trace* trace;
    Coro<void> aenter() {
        trace->add("enter");
        co_return;
    }
    Coro<bool> aexit(std::exception_ptr e) {
        trace->add("exit:", kind(e));
        co_return false;
    }
};

/// aenter gives a move-only value.
struct UniqueManager {
    Coro<std::unique_ptr<int>> aenter() { co_return std::make_unique<int>(7); }
    Coro<bool> aexit(std::exception_ptr) { co_return false; }
};

/// A temporary manager that records its own destruction.
struct OwnedManager {
    Trace* trace;
    support::Counted token{1};
    explicit OwnedManager(Trace& t) : trace(&t) {}
    OwnedManager(OwnedManager&& o) noexcept : trace(o.trace), token(std::move(o.token)) {
        o.trace = nullptr;
    }
    ~OwnedManager() {
        if (trace) trace->add("dtor");
    }
    Coro<OwnedManager&> aenter() {
        trace->add("enter");
        co_return *this;
    }
    Coro<bool> aexit(std::exception_ptr) {
        trace->add("exit");
        co_return false;
    }
};

/// aenter/aexit are ready awaiters, not coroutines (as Timeout's).
struct ReadyManager {
    int enters = 0;
    int exits = 0;
    struct Enter {
        ReadyManager* m;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        ReadyManager& await_resume() const noexcept {
            ++m->enters;
            return *m;
        }
    };
    struct Exit {
        ReadyManager* m;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        bool await_resume() const noexcept {
            ++m->exits;
            return false;
        }
    };
    Enter aenter() noexcept { return {this}; }
    Exit aexit(std::exception_ptr) noexcept { return {this}; }
};

}  // namespace

// ------------------------------------------------------------ order and binding

TEST(async_with, runs_enter_body_exit_in_order_and_lets_others_run_between) {
    // Python (aw.py): enter other entered body body2 exit:None exited exited=True
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Manager cm{&t};
        cm.yield = true;
        auto other_body = [&]() -> Coro<> {  // named: a task must not outlive its lambda
            t.add("other");
            co_return;
        };
        Task<> other = create_task(other_body());
        co_await async_with(cm, [&](Manager& x) -> Coro<> {
            EXPECT_EQ(&x, &cm);
            t.add("body");
            co_await sleep(0);
            t.add("body2");
        });
        t.add("exited=", cm.exited ? "True" : "False");  // the lvalue is inspected afterwards
        co_await other;
    }());
    EXPECT_EQ(t.str(), "enter other entered body body2 exit:None exited exited=True");
}

TEST(async_with, returns_the_bodys_result) {
    Trace t;
    const int r = support::run_virtual([&]() -> Coro<int> {
        Manager cm{&t};
        co_return co_await async_with(cm, [&](Manager&) -> Coro<int> {
            co_await sleep(1);
            co_return 42;
        });
    }());
    EXPECT_EQ(r, 42);
    EXPECT_EQ(t.str(), "enter exit:None");
}

TEST(async_with, binds_a_value_when_aenter_gives_one) {
    const int r = support::run_virtual([]() -> Coro<int> {
        ValueManager by_value{5};
        const int a = co_await async_with(by_value, [](int x) -> Coro<int> { co_return x * 2; });
        // The value lives in async_with's frame: the body may take it by reference.
        const int b =
            co_await async_with(ValueManager{7}, [](const int& x) -> Coro<int> { co_return x; });
        const int c = co_await async_with(ValueManager{1}, [](int& x) -> Coro<int> {
            ++x;
            co_return x;
        });
        co_return a * 100 + b * 10 + c;
    }());
    EXPECT_EQ(r, 10 * 100 + 7 * 10 + 2);
}

TEST(async_with, moves_a_move_only_value_into_the_body) {
    const int r = support::run_virtual([]() -> Coro<int> {
        co_return co_await async_with(UniqueManager{},
                                      [](std::unique_ptr<int> p) -> Coro<int> { co_return *p; });
    }());
    EXPECT_EQ(r, 7);
}

TEST(async_with, binds_nothing_when_aenter_gives_void) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        VoidManager cm{&t};
        co_await async_with(cm, [&]() -> Coro<> {
            t.add("body");
            co_return;
        });
    }());
    EXPECT_EQ(t.str(), "enter body exit:None");
}

TEST(async_with, body_may_return_a_reference) {
    int target = 3;
    support::run_virtual([&]() -> Coro<> {
        ReadyManager cm;
        int& r = co_await async_with(cm, [&](ReadyManager&) -> Coro<int&> { co_return target; });
        EXPECT_EQ(&r, &target);
    }());
}

TEST(async_with, accepts_ready_awaiters_from_aenter_and_aexit) {
    ReadyManager cm;
    support::run_virtual([&]() -> Coro<> {
        co_await async_with(cm, [&](ReadyManager& m) -> Coro<> {
            EXPECT_EQ(m.enters, 1);
            EXPECT_EQ(m.exits, 0);
            co_await sleep(0);
        });
    }());
    EXPECT_EQ(cm.enters, 1);
    EXPECT_EQ(cm.exits, 1);
}

// ------------------------------------------------------------ lifetimes

TEST(async_with, keeps_a_temporary_manager_alive_until_the_block_ends) {
    Trace t;
    support::Counted::reset();
    support::run_virtual([&]() -> Coro<> {
        co_await async_with(OwnedManager(t), [&](OwnedManager& m) -> Coro<> {
            co_await sleep(1);  // the manager outlives a suspension
            t.add("body:", m.token.value);
        });
        t.add("after");
    }());
    EXPECT_EQ(t.str(), "enter body:1 exit dtor after");
    EXPECT_EQ(support::Counted::live(), 0);
    EXPECT_EQ(support::Counted::copies(), 0);
}

TEST(async_with, borrows_an_lvalue_manager_without_copying_it) {
    Trace t;
    support::Counted::reset();
    support::run_virtual([&]() -> Coro<> {
        OwnedManager cm(t);
        co_await async_with(cm, [&](OwnedManager& m) -> Coro<> {
            EXPECT_EQ(&m, &cm);
            co_return;
        });
        t.add("after");
    }());
    EXPECT_EQ(t.str(), "enter exit after dtor");
    EXPECT_EQ(support::Counted::copies(), 0);
    EXPECT_EQ(support::Counted::moves(), 0);
}

TEST(async_with, keeps_a_named_body_with_value_captures_alive_across_suspensions) {
    // The safe spelling for value captures on every compiler: name the lambda
    // (it is copied into async_with's frame); see async_with.hpp.
    support::Counted::reset();
    const int r = support::run_virtual([]() -> Coro<int> {
        support::Counted c(9);
        ReadyManager cm;
        auto body = [c](ReadyManager&) -> Coro<int> {
            co_await sleep(1);
            co_return c.value;
        };
        co_return co_await async_with(cm, body);
    }());
    EXPECT_EQ(r, 9);
    EXPECT_EQ(support::Counted::live(), 0);
    EXPECT_EQ(support::Counted::destroyed(), support::Counted::constructed());
}

TEST(async_with, reference_captures_in_a_temporary_body_see_the_callers_locals) {
    // The usual spelling, [&] on a temporary lambda: run under ASan too.
    support::Counted::reset();
    const int r = support::run_virtual([]() -> Coro<int> {
        support::Counted c(4);
        std::string s = "suspended";
        ReadyManager cm;
        co_return co_await async_with(cm, [&](ReadyManager&) -> Coro<int> {
            co_await sleep(1);
            s += "!";
            co_return c.value + static_cast<int>(s.size());
        });
    }());
    EXPECT_EQ(r, 4 + 10);
    EXPECT_EQ(support::Counted::live(), 0);
    EXPECT_EQ(support::Counted::copies(), 0);
}

// ------------------------------------------------------------ exceptions

TEST(async_with, exit_sees_the_bodys_exception_and_it_propagates) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Manager cm{&t};
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [](Manager&) -> Coro<> {
                                                 throw ValueError("v");
                                                 co_return;
                                             }),
                         ValueError, "v");
    }());
    EXPECT_EQ(t.str(), "enter exit:ValueError");
}

TEST(async_with, a_suppressing_exit_swallows_the_exception) {
    // Python (aw.py): `async with CM(suppress=True): raise ValueError` -> continues.
    Trace t;
    const int r = support::run_virtual([&]() -> Coro<int> {
        Manager cm{&t};
        cm.suppress = true;
        co_await async_with(cm, [](Manager&) -> Coro<> {
            throw ValueError("v");
            co_return;
        });
        // A body with a result gives a value-initialized one.
        co_return co_await async_with(cm, [](Manager&) -> Coro<int> {
            throw ValueError("v");
            co_return 5;
        });
    }());
    EXPECT_EQ(r, 0);
    EXPECT_EQ(t.str(), "enter exit:ValueError enter exit:ValueError");
}

TEST(async_with, a_suppressed_exception_with_a_result_that_cannot_be_made_is_a_runtime_error) {
    struct NoDefault {
        explicit NoDefault(int) {}
    };
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Manager cm{&t};
        cm.suppress = true;
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [](Manager&) -> Coro<NoDefault> {
                                                 throw ValueError("v");
                                                 co_return NoDefault(1);
                                             }),
                         RuntimeError,
                         "async_with: the context manager suppressed an exception, but the body's "
                         "result cannot be value-initialized");
    }());
}

TEST(async_with, an_exception_from_exit_replaces_the_bodys) {
    // Python (aw.py): RuntimeError('exit failed'), its __context__ the ValueError.
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Manager cm{&t};
        cm.fail_exit = true;
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [](Manager&) -> Coro<> {
                                                 throw ValueError("v");
                                                 co_return;
                                             }),
                         RuntimeError, "exit failed");
        // Also after a body that succeeded.
        EXPECT_THROW_MSG(co_await async_with(cm, [](Manager&) -> Coro<> { co_return; }),
                         RuntimeError, "exit failed");
    }());
    EXPECT_EQ(t.str(), "enter exit:ValueError enter exit:None");
}

TEST(async_with, an_exception_from_enter_skips_the_body_and_exit) {
    // Python (aw.py): RuntimeError('enter failed'); trace "enter".
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Manager cm{&t};
        cm.fail_enter = true;
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [&](Manager&) -> Coro<> {
                                                 t.add("body");
                                                 co_return;
                                             }),
                         RuntimeError, "enter failed");
    }());
    EXPECT_EQ(t.str(), "enter");
}

TEST(async_with, a_cancellation_in_the_body_goes_through_exit) {
    // Python (aw.py): enter body exit:CancelledError cancelled
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        auto run = [&]() -> Coro<> {
            Manager cm{&t};
            co_await async_with(cm, [&](Manager&) -> Coro<> {
                t.add("body");
                co_await sleep(10);
            });
        };
        Task<> task = create_task(run());
        co_await sleep(0);
        task.cancel();
        try {
            co_await task;
        } catch (const CancelledError&) {
            t.add("cancelled");
        }
    }());
    EXPECT_EQ(t.str(), "enter body exit:CancelledError cancelled");
}

TEST(async_with, a_cancellation_while_entering_or_exiting_propagates) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        Manager cm{&t};
        cm.yield = true;
        Task<> task = create_task(async_with(cm, [&](Manager&) -> Coro<> {
            t.add("body");
            co_return;
        }));
        co_await sleep(0);  // the task is in aenter's sleep(0)
        task.cancel();
        try {
            co_await task;
        } catch (const CancelledError&) {
            t.add("cancelled");
        }
    }());
    EXPECT_EQ(t.str(), "enter cancelled");
}

// ------------------------------------------------------------ both implementations
//
// A manager whose aenter/aexit awaiters never suspend runs without a frame of
// async_with's own when it says so (always_ready, as Timeout does); otherwise
// through async_with's coroutine. Both must behave alike.

namespace {

template <bool Ready>
struct Recorder {
    Trace* trace;
    bool suppress = false;
    bool fail_enter = false;
    bool fail_exit = false;
    bool exited = false;

    struct Enter {
        static constexpr bool always_ready = Ready;
        Recorder* m;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        Recorder& await_resume() const {
            m->trace->add("enter");
            if (m->fail_enter) throw RuntimeError("enter failed");
            return *m;
        }
    };
    struct Exit {
        static constexpr bool always_ready = Ready;
        Recorder* m;
        std::exception_ptr e;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        bool await_resume() const {
            m->trace->add("exit:", kind(e));
            m->exited = true;
            if (m->fail_exit) throw RuntimeError("exit failed");
            return m->suppress;
        }
    };
    Enter aenter() noexcept { return {this}; }
    Exit aexit(std::exception_ptr e) noexcept { return {this, std::move(e)}; }
};

/// A temporary ready manager recording its destruction.
template <bool Ready>
struct OwnedRecorder : Recorder<Ready> {
    explicit OwnedRecorder(Trace& t) : Recorder<Ready>{&t} {}
    OwnedRecorder(OwnedRecorder&& o) noexcept : Recorder<Ready>(o) { o.trace = nullptr; }
    ~OwnedRecorder() {
        if (this->trace) this->trace->add("dtor");
    }
};

template <class B>
struct async_with_impl : ::testing::Test {
    static constexpr bool ready = B::value;
    using M = Recorder<B::value>;
};
using Impls = ::testing::Types<std::true_type, std::false_type>;
TYPED_TEST_SUITE(async_with_impl, Impls);

}  // namespace

TYPED_TEST(async_with_impl, picks_the_frameless_path_only_for_ready_managers) {
    Trace t;
    typename TestFixture::M cm{&t};
    auto aw = async_with(cm, [](typename TestFixture::M&) -> Coro<> { co_return; });
    EXPECT_EQ(is_coroutine_v<decltype(aw)>, !TestFixture::ready);
}

TYPED_TEST(async_with_impl, runs_enter_body_exit_and_returns_the_result) {
    Trace t;
    const int r = support::run_virtual([&]() -> Coro<int> {
        typename TestFixture::M cm{&t};
        const int v = co_await async_with(cm, [&](typename TestFixture::M& m) -> Coro<int> {
            EXPECT_EQ(&m, &cm);
            t.add("body");
            co_await sleep(1);
            t.add("body2");
            co_return 7;
        });
        t.add("exited=", cm.exited ? "True" : "False");
        co_return v;
    }());
    EXPECT_EQ(r, 7);
    EXPECT_EQ(t.str(), "enter body body2 exit:None exited=True");
}

TYPED_TEST(async_with_impl, keeps_a_temporary_manager_until_the_block_ends) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        co_await async_with(OwnedRecorder<TestFixture::ready>(t),
                            [&](Recorder<TestFixture::ready>&) -> Coro<> {
                                co_await sleep(1);
                                t.add("body");
                            });
        t.add("after");
    }());
    EXPECT_EQ(t.str(), "enter body exit:None dtor after");
}

TYPED_TEST(async_with_impl, the_bodys_exception_goes_through_exit) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        typename TestFixture::M cm{&t};
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [](typename TestFixture::M&) -> Coro<> {
                                                 co_await sleep(0);
                                                 throw ValueError("v");
                                             }),
                         ValueError, "v");
    }());
    EXPECT_EQ(t.str(), "enter exit:ValueError");
}

TYPED_TEST(async_with_impl, a_body_that_throws_before_its_coroutine_starts_goes_through_exit) {
    // Not a coroutine: it throws when called (as making a frame could).
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        typename TestFixture::M cm{&t};
        EXPECT_THROW_MSG(
            co_await async_with(
                cm, [](typename TestFixture::M&) -> Coro<> { throw ValueError("early"); }),
            ValueError, "early");
    }());
    EXPECT_EQ(t.str(), "enter exit:ValueError");
}

TYPED_TEST(async_with_impl, suppression_gives_a_value_initialized_result) {
    Trace t;
    const int r = support::run_virtual([&]() -> Coro<int> {
        typename TestFixture::M cm{&t};
        cm.suppress = true;
        co_return co_await async_with(cm, [](typename TestFixture::M&) -> Coro<int> {
            throw ValueError("v");
            co_return 5;
        });
    }());
    EXPECT_EQ(r, 0);
    EXPECT_EQ(t.str(), "enter exit:ValueError");
}

TYPED_TEST(async_with_impl, an_exception_from_exit_replaces_the_bodys) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        typename TestFixture::M cm{&t};
        cm.fail_exit = true;
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [](typename TestFixture::M&) -> Coro<> {
                                                 throw ValueError("v");
                                                 co_return;
                                             }),
                         RuntimeError, "exit failed");
    }());
    EXPECT_EQ(t.str(), "enter exit:ValueError");
}

TYPED_TEST(async_with_impl, an_exception_from_enter_skips_body_and_exit) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        typename TestFixture::M cm{&t};
        cm.fail_enter = true;
        EXPECT_THROW_MSG(co_await async_with(cm,
                                             [&](typename TestFixture::M&) -> Coro<> {
                                                 t.add("body");
                                                 co_return;
                                             }),
                         RuntimeError, "enter failed");
    }());
    EXPECT_EQ(t.str(), "enter");
}

TYPED_TEST(async_with_impl, a_cancellation_in_the_body_goes_through_exit) {
    Trace t;
    support::run_virtual([&]() -> Coro<> {
        typename TestFixture::M cm{&t};
        auto run = [&]() -> Coro<> {
            co_await async_with(cm, [&](typename TestFixture::M&) -> Coro<> {
                t.add("body");
                co_await sleep(10);
            });
        };
        Task<> task = create_task(run());
        co_await sleep(0);
        task.cancel();
        EXPECT_THROW(co_await task, CancelledError);
    }());
    EXPECT_EQ(t.str(), "enter body exit:CancelledError");
}

TYPED_TEST(async_with_impl, a_task_destroyed_inside_the_block_frees_everything) {
    // The loop closes with the task suspended in the body: the frames go,
    // innermost first, without running exit (as Python's GC would not either).
    Trace t;
    support::Counted::reset();
    {
        auto loop = support::new_virtual_loop();
        support::CaptureHandler cap(*loop);
        auto run = [&]() -> Coro<> {
            // Named: a temporary lambda with value captures is destroyed twice by g++ 12.
            auto body = [&, c = support::Counted(1)](Recorder<TestFixture::ready>&) -> Coro<> {
                t.add("body");
                co_await sleep(10);
            };
            co_await async_with(OwnedRecorder<TestFixture::ready>(t), body);
        };
        Task<> task = loop->create_task(run());
        support::run_briefly(*loop);
        loop->close();
    }
    EXPECT_EQ(t.str(), "enter body dtor");
    EXPECT_EQ(support::Counted::live(), 0);
}
