// asyncio/errors.hpp — the exception hierarchy of asyncio (and of the Python
// builtins that asyncio raises).
//
// Mirrors Lib/asyncio/exceptions.py plus the builtins it relies on.
//
// Two families:
//   * BaseException kinds (CancelledError, KeyboardInterrupt, SystemExit,
//     BaseExceptionGroup) do NOT derive from std::exception, so that
//     `catch (const std::exception&)` never swallows a cancellation, exactly as
//     `except Exception:` does not catch CancelledError in Python.
//   * Everything else derives from the nearest standard exception
//     (TimeoutError is a std::runtime_error, ValueError a std::invalid_argument...).
//
// Differences from Python:
//   * CancelledError::what() always returns the message given to cancel(msg)
//     (or ""), on every retrieval; Python forgets it after the first one.
//   * ExceptionGroup derives from both BaseExceptionGroup and std::exception
//     and overrides what() so calls are not ambiguous.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace asyncio {

/// Root of the exception kinds that `catch (const std::exception&)` must not catch.
class BaseException {
public:
    BaseException() = default;
    explicit BaseException(std::string message) : message_(std::move(message)) {}
    BaseException(const BaseException&) = default;
    BaseException& operator=(const BaseException&) = default;
    virtual ~BaseException();

    virtual const char* what() const noexcept { return message_.c_str(); }

private:
    std::string message_;
};

/// Raised into a task (or out of an awaitable) when it is cancelled.
class CancelledError : public BaseException {
public:
    using BaseException::BaseException;
    ~CancelledError() override;
};

/// SIGINT under asyncio::run(); re-raised bare by TaskGroup.
class KeyboardInterrupt : public BaseException {
public:
    using BaseException::BaseException;
    ~KeyboardInterrupt() override;
};

/// An explicit request to exit; re-raised bare by TaskGroup.
class SystemExit : public BaseException {
public:
    using BaseException::BaseException;
    ~SystemExit() override;
};

/// A group of exceptions (PEP 654). A group is an ExceptionGroup exactly when
/// every member derives from std::exception.
class BaseExceptionGroup : public BaseException {
public:
    BaseExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
    ~BaseExceptionGroup() override;

    const std::string& message() const noexcept { return message_; }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
    std::string what_;  // "message (N sub-exceptions)", as Python's str()
};

class ExceptionGroup : public BaseExceptionGroup, public std::exception {
public:
    using BaseExceptionGroup::BaseExceptionGroup;
    ~ExceptionGroup() override;
    const char* what() const noexcept override { return BaseExceptionGroup::what(); }
};

/// Raised by timeouts; also default-constructible as Python's `TimeoutError()`.
class TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("") {}
    using std::runtime_error::runtime_error;
    ~TimeoutError() override;
};

/// result()/exception() of a pending future, setting a done future.
class InvalidStateError : public std::logic_error {
public:
    using std::logic_error::logic_error;
    ~InvalidStateError() override;
};

class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    ~RuntimeError() override;
};

class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
    ~ValueError() override;
};

/// What ContextVar::get() throws with no value and no default.
class LookupError : public std::out_of_range {
public:
    using std::out_of_range::out_of_range;
    ~LookupError() override;
};

#define ASYNCIO_DETAIL_RUNTIME_KIND(Name)                      \
    class Name : public std::runtime_error {                   \
    public:                                                    \
        Name() : std::runtime_error("") {}                     \
        using std::runtime_error::runtime_error;               \
        ~Name() override;                                      \
    };
ASYNCIO_DETAIL_RUNTIME_KIND(QueueEmpty)
ASYNCIO_DETAIL_RUNTIME_KIND(QueueFull)
ASYNCIO_DETAIL_RUNTIME_KIND(QueueShutDown)
ASYNCIO_DETAIL_RUNTIME_KIND(BrokenBarrierError)
#undef ASYNCIO_DETAIL_RUNTIME_KIND

}  // namespace asyncio
