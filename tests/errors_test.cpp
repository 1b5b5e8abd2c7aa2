// errors_test.cpp — the exception hierarchy: which kinds are std::exception,
// constructors, what() messages, and BaseExceptionGroup's basics.
#include "asyncio/errors.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "support/expect_throw_msg.hpp"

using namespace asyncio;

// ------------------------------------------------------------- the hierarchy

TEST(base_exception, kinds_are_not_std_exceptions) {
    static_assert(!std::is_base_of_v<std::exception, BaseException>);
    static_assert(!std::is_base_of_v<std::exception, CancelledError>);
    static_assert(!std::is_base_of_v<std::exception, KeyboardInterrupt>);
    static_assert(!std::is_base_of_v<std::exception, SystemExit>);
    static_assert(!std::is_base_of_v<std::exception, BaseExceptionGroup>);
    static_assert(std::is_base_of_v<BaseException, CancelledError>);
    static_assert(std::is_base_of_v<BaseException, KeyboardInterrupt>);
    static_assert(std::is_base_of_v<BaseException, SystemExit>);
    static_assert(std::is_base_of_v<BaseException, BaseExceptionGroup>);
    static_assert(std::has_virtual_destructor_v<BaseException>);
    SUCCEED();
}

TEST(base_exception, default_and_explicit_message_constructors) {
    static_assert(std::is_default_constructible_v<BaseException>);
    static_assert(std::is_constructible_v<BaseException, std::string>);
    static_assert(!std::is_convertible_v<std::string, BaseException>, "must be explicit");
    EXPECT_STREQ(BaseException().what(), "");
    EXPECT_STREQ(BaseException("root").what(), "root");
}

TEST(base_exception, what_is_virtual_and_survives_copies) {
    const CancelledError original("bye");
    const BaseException& as_base = original;
    EXPECT_STREQ(as_base.what(), "bye");
    const CancelledError copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
    EXPECT_STREQ(copy.what(), "bye");
    CancelledError assigned;
    assigned = original;
    EXPECT_STREQ(assigned.what(), "bye");
}

TEST(cancelled_error, is_not_caught_by_catch_std_exception) {
    // Like `except Exception:` in Python, which does not catch CancelledError.
    bool caught_as_std = false;
    bool caught_as_base = false;
    try {
        try {
            throw CancelledError("stop");
        } catch (const std::exception&) {
            caught_as_std = true;
        }
    } catch (const BaseException& e) {
        caught_as_base = true;
        EXPECT_STREQ(e.what(), "stop");
    }
    EXPECT_FALSE(caught_as_std);
    EXPECT_TRUE(caught_as_base);
}

TEST(cancelled_error, message_is_empty_by_default) {
    EXPECT_STREQ(CancelledError().what(), "");
    EXPECT_THROW_MSG(throw CancelledError(), CancelledError, "");
    EXPECT_THROW_MSG(throw CancelledError("with msg"), BaseException, "with msg");
}

TEST(keyboard_interrupt, and_system_exit_are_base_exceptions_with_messages) {
    bool caught_as_std = false;
    try {
        try {
            throw SystemExit("bye");
        } catch (const std::exception&) {
            caught_as_std = true;
        }
    } catch (const SystemExit&) {
    }
    EXPECT_FALSE(caught_as_std);
    EXPECT_THROW_MSG(throw KeyboardInterrupt(), KeyboardInterrupt, "");
    EXPECT_THROW_MSG(throw SystemExit("exit 3"), BaseException, "exit 3");
}

TEST(timeout_error, is_a_runtime_error_and_default_constructible) {
    static_assert(std::is_base_of_v<std::runtime_error, TimeoutError>);
    static_assert(std::is_default_constructible_v<TimeoutError>);
    static_assert(!std::is_base_of_v<BaseException, TimeoutError>);
    EXPECT_STREQ(TimeoutError().what(), "");
    EXPECT_STREQ(TimeoutError("too slow").what(), "too slow");
    EXPECT_STREQ(TimeoutError(std::string("as string")).what(), "as string");
    EXPECT_THROW_MSG(throw TimeoutError(), std::exception, "");
}

TEST(invalid_state_error, is_a_logic_error) {
    static_assert(std::is_base_of_v<std::logic_error, InvalidStateError>);
    EXPECT_THROW_MSG(throw InvalidStateError("Result is not set."), std::logic_error,
                     "Result is not set.");
}

TEST(runtime_error, value_error_and_lookup_error_derive_from_their_std_bases) {
    static_assert(std::is_base_of_v<std::runtime_error, RuntimeError>);
    static_assert(std::is_base_of_v<std::invalid_argument, ValueError>);
    static_assert(std::is_base_of_v<std::out_of_range, LookupError>);
    EXPECT_THROW_MSG(throw RuntimeError("no running event loop"), std::runtime_error,
                     "no running event loop");
    EXPECT_THROW_MSG(throw ValueError("Set of Tasks/Futures is empty."), std::invalid_argument,
                     "Set of Tasks/Futures is empty.");
    EXPECT_THROW_MSG(throw LookupError("var"), std::logic_error, "var");
}

TEST(queue_empty, and_other_runtime_kinds_are_default_constructible) {
    static_assert(std::is_base_of_v<std::runtime_error, QueueEmpty>);
    static_assert(std::is_base_of_v<std::runtime_error, QueueFull>);
    static_assert(std::is_base_of_v<std::runtime_error, QueueShutDown>);
    static_assert(std::is_base_of_v<std::runtime_error, BrokenBarrierError>);
    EXPECT_STREQ(QueueEmpty().what(), "");
    EXPECT_STREQ(QueueFull().what(), "");
    EXPECT_STREQ(QueueShutDown().what(), "");
    EXPECT_STREQ(BrokenBarrierError().what(), "");
    EXPECT_STREQ(QueueFull("full").what(), "full");
}

// ------------------------------------------------------------ exception groups

TEST(base_exception_group, message_exceptions_and_what) {
    const std::exception_ptr a = std::make_exception_ptr(ValueError("a"));
    const std::exception_ptr b = std::make_exception_ptr(CancelledError("b"));
    const BaseExceptionGroup g("msg", {a, b});
    EXPECT_EQ(g.message(), "msg");
    ASSERT_EQ(g.exceptions().size(), 2u);
    EXPECT_EQ(g.exceptions()[0], a);
    EXPECT_EQ(g.exceptions()[1], b);
    EXPECT_STREQ(g.what(), "msg (2 sub-exceptions)");
    const BaseException& as_base = g;
    EXPECT_STREQ(as_base.what(), "msg (2 sub-exceptions)");
}

TEST(base_exception_group, what_uses_singular_for_one_sub_exception) {
    // Python: str(ExceptionGroup('msg', [ValueError()])) == 'msg (1 sub-exception)'
    const BaseExceptionGroup g("msg", {std::make_exception_ptr(KeyboardInterrupt())});
    EXPECT_STREQ(g.what(), "msg (1 sub-exception)");
    const ExceptionGroup eg("three", {std::make_exception_ptr(ValueError("1")),
                                      std::make_exception_ptr(ValueError("2")),
                                      std::make_exception_ptr(ValueError("3"))});
    EXPECT_STREQ(eg.what(), "three (3 sub-exceptions)");
}

TEST(base_exception_group, is_not_caught_as_std_exception) {
    bool caught_as_std = false;
    try {
        try {
            throw BaseExceptionGroup("g", {std::make_exception_ptr(SystemExit())});
        } catch (const std::exception&) {
            caught_as_std = true;
        }
    } catch (const BaseExceptionGroup& g) {
        EXPECT_EQ(g.exceptions().size(), 1u);
    }
    EXPECT_FALSE(caught_as_std);
}

TEST(exception_group, is_both_a_group_and_a_std_exception) {
    static_assert(std::is_base_of_v<BaseExceptionGroup, ExceptionGroup>);
    static_assert(std::is_base_of_v<std::exception, ExceptionGroup>);
    const std::exception_ptr inner = std::make_exception_ptr(std::runtime_error("x"));
    EXPECT_THROW_MSG(throw ExceptionGroup("unhandled errors in a TaskGroup", {inner}),
                     std::exception, "unhandled errors in a TaskGroup (1 sub-exception)");
    EXPECT_THROW_MSG(throw ExceptionGroup("unhandled errors in a TaskGroup", {inner}),
                     BaseExceptionGroup, "unhandled errors in a TaskGroup (1 sub-exception)");
    const ExceptionGroup g("m", {inner, inner});
    EXPECT_STREQ(g.what(), "m (2 sub-exceptions)");  // not ambiguous
    EXPECT_EQ(g.message(), "m");
    EXPECT_EQ(g.exceptions().size(), 2u);
}

TEST(base_exception_group, nests) {
    const std::exception_ptr inner = std::make_exception_ptr(
        ExceptionGroup("inner", {std::make_exception_ptr(ValueError("v"))}));
    const BaseExceptionGroup outer("outer", {inner, std::make_exception_ptr(CancelledError())});
    EXPECT_STREQ(outer.what(), "outer (2 sub-exceptions)");
    EXPECT_THROW_MSG(std::rethrow_exception(outer.exceptions()[0]), ExceptionGroup,
                     "inner (1 sub-exception)");
    EXPECT_TRUE(support::holds<std::exception>(outer.exceptions()[0]));
    EXPECT_FALSE(support::holds<std::exception>(outer.exceptions()[1]));
}

TEST(base_exception_group, copies_share_the_sub_exceptions) {
    const std::exception_ptr a = std::make_exception_ptr(ValueError("a"));
    const BaseExceptionGroup g("msg", {a});
    const BaseExceptionGroup copy = g;  // NOLINT(performance-unnecessary-copy-initialization)
    EXPECT_EQ(copy.message(), "msg");
    EXPECT_STREQ(copy.what(), "msg (1 sub-exception)");
    ASSERT_EQ(copy.exceptions().size(), 1u);
    EXPECT_EQ(copy.exceptions()[0], a);
}

// ----------------------------------------------------- the test helper itself

TEST(expect_throw_msg, reports_wrong_message_wrong_type_and_no_throw) {
    // The helper must be able to fail, or every test using it proves nothing.
    ::testing::TestPartResultArray results;
    {
        ::testing::ScopedFakeTestPartResultReporter reporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
        EXPECT_THROW_MSG(throw CancelledError("a"), CancelledError, "b");   // wrong message
        EXPECT_THROW_MSG(throw ValueError("a"), CancelledError, "a");       // wrong type
        EXPECT_THROW_MSG((void)0, CancelledError, "a");                     // no throw
        EXPECT_THROW_MSG(throw CancelledError("ok"), BaseException, "ok");  // passes
    }
    ASSERT_EQ(results.size(), 3);
    EXPECT_NE(std::string(results.GetTestPartResult(0).message()).find("message \"a\""),
              std::string::npos);
    EXPECT_NE(std::string(results.GetTestPartResult(1).message()).find("ValueError"),
              std::string::npos);
    EXPECT_NE(std::string(results.GetTestPartResult(2).message()).find("throws nothing"),
              std::string::npos);
}
