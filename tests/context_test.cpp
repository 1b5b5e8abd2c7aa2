// context_test.cpp — asyncio/context.hpp without a loop: ContextVar, Token,
// Context, copy_context; their errors, copies, and lifetimes.
//
// Python reference: Lib/test/test_context.py (3.13), ContextTest. Tasks and
// callbacks in contexts are in task_context_test.cpp.
//
// Outside a loop the current context is the thread's own, which outlives a
// test; most tests therefore run their body in a fresh Context, and every
// test has its own variables.
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/counted.hpp"
#include "support/expect_throw_msg.hpp"

using asyncio::Context;
using asyncio::ContextVar;
using asyncio::KeyError;
using asyncio::LookupError;
using asyncio::RuntimeError;
using asyncio::ValueError;

namespace {

template <class F>
void in_fresh_context(F&& f) {
    Context().run(std::forward<F>(f));
}

// CPython: test_context.py::test_context_var_new_1
TEST(context_var, name_and_identity) {
    ContextVar<int> c("aaa");
    ContextVar<int> d("aaa");
    EXPECT_EQ(c.name(), "aaa");
    EXPECT_NE(c.id(), d.id());
}

// CPython: test_context.py::test_context_var_repr_1
TEST(context_var, repr_shows_name_and_default) {
    ContextVar<int> c("a");
    EXPECT_EQ(c.repr().rfind("<ContextVar name='a' at 0x", 0), 0u) << c.repr();
    ContextVar<int> d("b", 123);
    EXPECT_NE(d.repr().find("name='b' default=123 at 0x"), std::string::npos) << d.repr();
    ContextVar<std::string> s("s", "x");
    EXPECT_NE(s.repr().find("default='x'"), std::string::npos) << s.repr();
}

// CPython: test_context.py::test_context_getset_1
TEST(context_var, get_set_reset_and_tokens) {
    in_fresh_context([] {
        ContextVar<std::string> c("c");
        EXPECT_THROW_MSG(c.get(), LookupError, c.repr());
        EXPECT_EQ(c.get("none"), "none");

        auto t0 = c.set("42");
        EXPECT_EQ(c.get(), "42");
        EXPECT_EQ(c.get("none"), "42");
        EXPECT_EQ(t0.old_value(), std::nullopt);
        EXPECT_EQ(t0.old_value(), decltype(t0)::MISSING);
        EXPECT_EQ(&t0.var(), &c);

        auto t = c.set("spam");
        EXPECT_EQ(c.get(), "spam");
        EXPECT_EQ(t.old_value(), "42");
        EXPECT_FALSE(t.used());
        c.reset(t);
        EXPECT_TRUE(t.used());
        EXPECT_EQ(c.get(), "42");
        EXPECT_EQ(t.old_value(), "42");  // still, after reset

        c.set("spam2");
        EXPECT_THROW_MSG(c.reset(t), RuntimeError, t.repr() + " has already been used once");
        EXPECT_NE(t.repr().find("<Token used var=<ContextVar name='c'"), std::string::npos);
        EXPECT_EQ(c.get(), "spam2");

        Context ctx1 = asyncio::copy_context();
        EXPECT_TRUE(ctx1.contains(c));
        c.reset(t0);  // back to no value at all
        EXPECT_EQ(c.get("none"), "none");
        EXPECT_THROW(c.get(), LookupError);
        EXPECT_TRUE(ctx1.contains(c));  // the copy kept its value
        EXPECT_EQ(ctx1[c], "spam2");
        EXPECT_EQ(ctx1.get(c, "aa"), "spam2");
        EXPECT_EQ(ctx1.get(c), "spam2");
        EXPECT_EQ(ctx1.size(), 1u);

        Context ctx2 = asyncio::copy_context();
        EXPECT_FALSE(ctx2.contains(c));
        EXPECT_THROW_MSG(ctx2[c], KeyError, c.repr());
        EXPECT_EQ(ctx2.get(c, "aa"), "aa");
        EXPECT_EQ(ctx2.get(c), std::nullopt);
        EXPECT_EQ(ctx2.size(), 0u);
    });
}

// CPython: test_context.py::test_context_getset_2
TEST(context_var, reset_with_another_vars_token_throws) {
    in_fresh_context([] {
        ContextVar<int> v1("v1");
        ContextVar<int> v2("v2");
        auto t1 = v1.set(42);
        EXPECT_THROW_MSG(v2.reset(t1), ValueError,
                         t1.repr() + " was created by a different ContextVar");
        EXPECT_FALSE(t1.used());
        EXPECT_EQ(v1.get(), 42);
    });
}

// CPython: test_context.py::test_context_getset_3
TEST(context_var, set_and_reset_inside_run) {
    ContextVar<int> c("c", 42);
    Context ctx;
    ctx.run([&] {
        EXPECT_EQ(c.get(), 42);  // the default
        EXPECT_THROW(ctx[c], KeyError);
        EXPECT_EQ(ctx.get(c), std::nullopt);
        EXPECT_EQ(ctx.get(c, 7), 7);
        EXPECT_FALSE(ctx.contains(c));
        auto t = c.set(1);
        EXPECT_EQ(ctx[c], 1);
        EXPECT_EQ(ctx.size(), 1u);
        c.reset(t);
        EXPECT_EQ(ctx.size(), 0u);
        EXPECT_THROW(ctx[c], KeyError);
    });
}

// CPython: test_context.py::test_context_getset_4
TEST(context_var, reset_in_another_context_throws) {
    ContextVar<int> c("c", 42);
    Context ctx;
    auto tok = ctx.run([&] { return c.set(1); });
    in_fresh_context([&] {
        EXPECT_THROW_MSG(c.reset(tok), ValueError,
                         tok.repr() + " was created in a different Context");
    });
    EXPECT_FALSE(tok.used());
    ctx.run([&] { c.reset(tok); });  // where it was made, it works
    EXPECT_TRUE(tok.used());
    EXPECT_FALSE(ctx.contains(c));
}

// CPython: test_context.py::test_context_getset_5 (a value is a copy in C++:
// changing what get() returned changes nothing stored)
TEST(context_var, get_returns_a_copy) {
    ContextVar<std::vector<int>> c("c", std::vector<int>{});
    in_fresh_context([&] {
        c.set({});
        std::vector<int> v = c.get();
        v.push_back(42);
        EXPECT_TRUE(c.get().empty());
        c.set(v);
        EXPECT_EQ(c.get(), std::vector<int>{42});
    });
    EXPECT_TRUE(c.get().empty());  // the default, outside
}

// CPython: get(default) prefers the argument to the variable's default.
TEST(context_var, fallback_argument_beats_the_default) {
    ContextVar<int> c("c", 5);
    in_fresh_context([&] {
        EXPECT_EQ(c.get(), 5);
        EXPECT_EQ(c.get(9), 9);
        c.set(1);
        EXPECT_EQ(c.get(9), 1);
    });
}

// CPython: test_context.py::test_context_run_4 / run_2
TEST(context, run_returns_result_and_keeps_changes_inside) {
    ContextVar<int> var("var");
    Context ctx1;
    auto f = [&](int x, int y) {
        EXPECT_EQ(var.get(-1), x == 0 ? -1 : 10);
        var.set(x + y);
        return var.get();
    };
    EXPECT_EQ(ctx1.run(f, 0, 3), 3);
    EXPECT_EQ(ctx1[var], 3);
    EXPECT_FALSE(asyncio::copy_context().contains(var));  // the thread's own: untouched
    const Context returned = ctx1.run([] { return asyncio::copy_context(); });
    EXPECT_FALSE(returned == ctx1);  // a copy, not the context itself
    EXPECT_EQ(returned[var], 3);
    ctx1.run([&] { var.set(10); });
    EXPECT_EQ(ctx1.run(f, 5, 5), 10);
    EXPECT_EQ(returned[var], 3);  // copies do not follow
}

// CPython: test_context.py::test_context_run_5 / run_3
TEST(context, run_propagates_exceptions_and_leaves_the_context) {
    ContextVar<int> var("var");
    Context ctx;
    EXPECT_THROW_MSG(ctx.run([&] {
        var.set(1);
        throw ValueError("boom");
    }),
                     ValueError, "boom");
    EXPECT_EQ(var.get(-1), -1);  // left the context
    EXPECT_EQ(ctx[var], 1);      // what it set stays there
    ctx.run([] {});              // not still entered
}

// CPython: test_context.py::test_context_run_6
TEST(context, default_inside_run) {
    ContextVar<int> c("a", 0);
    Context ctx;
    ctx.run([&] {
        EXPECT_EQ(c.get(), 0);
        EXPECT_EQ(ctx.get(c), std::nullopt);
        c.set(42);
        EXPECT_EQ(c.get(), 42);
        EXPECT_EQ(ctx.get(c), 42);
    });
}

// CPython: test_context.py::test_context_run_7
TEST(context, run_of_an_entered_context_throws) {
    Context ctx;
    std::string message;
    ctx.run([&] {
        try {
            ctx.run([] {});
        } catch (const RuntimeError& e) {
            message = e.what();
        }
    });
    EXPECT_EQ(message, "cannot enter context: " + ctx.repr() + " is already entered");
    EXPECT_EQ(ctx.repr().rfind("<Context object at 0x", 0), 0u);
    Context copy = ctx;  // the same context: also entered
    ctx.run([&] { EXPECT_THROW(copy.run([] {}), RuntimeError); });
}

// CPython: test_context.py::test_context_copy_1
TEST(context, copy_is_independent) {
    ContextVar<int> c("c", 0);
    Context ctx1;
    ctx1.run([&] { c.set(10); });
    Context ctx2 = ctx1.copy();
    EXPECT_EQ(ctx2[c], 10);
    ctx1.run([&] { c.set(20); });
    EXPECT_EQ(ctx1[c], 20);
    EXPECT_EQ(ctx2[c], 10);
    ctx2.run([&] { c.set(30); });
    EXPECT_EQ(ctx1[c], 20);
    EXPECT_EQ(ctx2[c], 30);
}

TEST(context, handles_share_the_context) {
    ContextVar<int> c("c");
    Context a;
    Context b = a;
    EXPECT_TRUE(a == b);
    EXPECT_EQ(std::hash<Context>{}(a), std::hash<Context>{}(b));
    b.run([&] { c.set(1); });
    EXPECT_EQ(a[c], 1);
    EXPECT_FALSE(a == Context());
}

// Many variables: the map's binary search and copy-on-write with more than a
// handful of entries, and reset to MISSING in the middle of it.
TEST(context, many_variables) {
    std::vector<std::unique_ptr<ContextVar<int>>> vars;
    for (int i = 0; i < 40; ++i)
        vars.push_back(std::make_unique<ContextVar<int>>("v" + std::to_string(i)));
    Context ctx;
    std::vector<ContextVar<int>::Token> tokens;
    ctx.run([&] {
        for (int i = 0; i < 40; ++i) tokens.push_back(vars[i]->set(i));
    });
    Context snapshot = ctx.copy();
    ctx.run([&] {
        for (int i = 0; i < 40; i += 2) vars[i]->set(-i);
        vars[17]->reset(tokens[17]);
        vars[39]->reset(tokens[39]);
        vars[0]->reset(tokens[0]);
    });
    EXPECT_EQ(ctx.size(), 37u);
    EXPECT_EQ(snapshot.size(), 40u);
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(snapshot[*vars[i]], i);
        if (i == 0 || i == 17 || i == 39)
            EXPECT_FALSE(ctx.contains(*vars[i])) << i;
        else
            EXPECT_EQ(ctx[*vars[i]], i % 2 ? i : -i) << i;
    }
}

TEST(context, tokens_move) {
    ContextVar<int> c("c");
    Context ctx;
    ctx.run([&] {
        auto t = c.set(1);
        auto u = std::move(t);
        c.set(2);
        c.reset(u);
        EXPECT_THROW(c.get(), LookupError);
    });
}

// A variable that is gone leaves no value behind for a new one (keys are
// ids, never addresses).
TEST(context, a_new_variable_never_sees_an_old_ones_value) {
    Context ctx;
    for (int i = 0; i < 3; ++i) {
        ContextVar<int> v("v");
        EXPECT_FALSE(ctx.contains(v));
        ctx.run([&] { v.set(i); });
    }
    EXPECT_EQ(ctx.size(), 3u);
}

// Values live as long as a context (or a token) holds them, no longer, and
// copying a context copies no value.
TEST(context, values_are_shared_and_released) {
    struct Tag;
    using C = support::BasicCounted<Tag>;
    C::reset();
    {
        ContextVar<C> c("c");
        Context ctx;
        {
            auto t = ctx.run([&] { return c.set(C(1)); });
            Context a = ctx.copy();
            Context b = a.copy();
            EXPECT_EQ(C::live(), 1);
            EXPECT_EQ(C::copies(), 0);
            ctx.run([&] { c.set(C(2)); });  // replaces in ctx; a and b keep 1
            EXPECT_EQ(C::live(), 2);
            EXPECT_EQ(a[c].value, 1);
        }
        EXPECT_EQ(C::live(), 1);  // a, b and the token gone: 1 freed
        EXPECT_EQ(ctx[c].value, 2);
    }
    EXPECT_EQ(C::live(), 0);
}

// CPython: test_context.py::test_context_threads_1 — each thread has its own
// context; a Context handed to a thread can be run there.
TEST(context, threads_have_their_own_context) {
    ContextVar<int> cvar("cvar");
    std::vector<int> results(4, -1);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            EXPECT_EQ(cvar.get(-1), -1);
            cvar.set(i);
            results[static_cast<std::size_t>(i)] = cvar.get();
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(cvar.get(-1), -1);

    Context ctx;
    ctx.run([&] { cvar.set(7); });
    int seen = 0;
    std::thread([&] { seen = ctx.run([&] { return cvar.get(); }); }).join();
    EXPECT_EQ(seen, 7);
}

// Outside any Context::run, set() acts on the thread's own context, and
// copy_context() copies it.
TEST(context, thread_context_outside_run) {
    ContextVar<int> c("c");
    auto t = c.set(3);
    Context copy = asyncio::copy_context();
    c.reset(t);
    EXPECT_EQ(copy[c], 3);
    EXPECT_EQ(c.get(0), 0);
}

}  // namespace
