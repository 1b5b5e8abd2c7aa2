// support/expect_throw_msg.hpp — EXPECT_THROW_MSG / ASSERT_THROW_MSG: the
// statement throws `Type` (or something derived from it) whose what() is
// exactly `msg`. Works for asyncio::BaseException kinds (CancelledError...),
// which are not std::exception.
//
//     EXPECT_THROW_MSG(fut.result(), asyncio::InvalidStateError, "Result is not set.");
//     EXPECT_THROW_MSG(std::rethrow_exception(e), asyncio::CancelledError, "bye");
//
// A statement with top-level commas must be parenthesised: EXPECT_THROW_MSG((f(a, b)), ...).
// ASSERT_THROW_MSG returns from the function, so (like every ASSERT_*) it cannot
// be used inside a coroutine; use EXPECT_THROW_MSG there.
//
// Also: support::describe(eptr) ("Type: message", for failure output),
// support::what(eptr) (the message, or "" for non-standard objects) and
// support::holds<E>(eptr) (eptr holds an E or something derived from it).
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <typeinfo>

#include "asyncio/errors.hpp"

namespace support {

/// The dynamic type and message of an exception_ptr, for diagnostics.
inline std::string describe(const std::exception_ptr& e) {
    if (!e) return "(no exception)";
    try {
        std::rethrow_exception(e);
    } catch (const asyncio::BaseException& x) {
        return std::string(typeid(x).name()) + ": " + x.what();
    } catch (const std::exception& x) {
        return std::string(typeid(x).name()) + ": " + x.what();
    } catch (...) {
        return "(an object that is neither std::exception nor asyncio::BaseException)";
    }
}

/// The exception's what(), "" for a null pointer or a non-exception object.
inline std::string what(const std::exception_ptr& e) {
    if (!e) return "";
    try {
        std::rethrow_exception(e);
    } catch (const asyncio::BaseException& x) {
        return x.what();
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "";
    }
}

/// True when `e` holds an E (or a class derived from it).
template <class E>
bool holds(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

inline std::string describe_current() {
    return describe(std::current_exception());
}

}  // namespace support

#define SUPPORT_THROW_MSG_IMPL_(statement, Type, msg, fail)                                        \
    GTEST_AMBIGUOUS_ELSE_BLOCKER_                                                                  \
    if (::std::string support_failure_; true) {                                                    \
        bool support_threw_ = false;                                                               \
        try {                                                                                      \
            statement;                                                                             \
        } catch (const Type& support_e_) {                                                         \
            support_threw_ = true;                                                                 \
            if (::std::string(support_e_.what()) != ::std::string(msg))                            \
                support_failure_ =                                                                 \
                    ::std::string("Expected: " #statement " throws " #Type " with message \"") +   \
                    ::std::string(msg) + "\"\n  Actual: message \"" + support_e_.what() + "\"";    \
        } catch (...) {                                                                            \
            support_threw_ = true;                                                                 \
            support_failure_ =                                                                     \
                ::std::string("Expected: " #statement " throws " #Type "\n  Actual: it throws ") + \
                ::support::describe_current();                                                     \
        }                                                                                          \
        if (!support_threw_)                                                                       \
            support_failure_ =                                                                     \
                "Expected: " #statement " throws " #Type "\n  Actual: it throws nothing.";         \
        if (!support_failure_.empty()) fail() << support_failure_;                                 \
    } else                                                                                         \
        static_cast<void>(0)

#define SUPPORT_ADD_FAILURE_() GTEST_NONFATAL_FAILURE_("")
#define SUPPORT_FATAL_FAILURE_() GTEST_FATAL_FAILURE_("")

#define EXPECT_THROW_MSG(statement, Type, msg) \
    SUPPORT_THROW_MSG_IMPL_(statement, Type, msg, SUPPORT_ADD_FAILURE_)
#define ASSERT_THROW_MSG(statement, Type, msg) \
    SUPPORT_THROW_MSG_IMPL_(statement, Type, msg, SUPPORT_FATAL_FAILURE_)
