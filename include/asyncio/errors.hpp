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
// Exception groups (PEP 654): make_exception_group() picks the kind as
// BaseExceptionGroup(msg, excs) does; subgroup<E>() / split<E>() (or a
// predicate) take a group apart keeping its nesting; except_star<E>() is the
// C++ spelling of one `except* E:` clause.
//
// Differences from Python:
//   * CancelledError::what() always returns the message given to cancel(msg)
//     (or ""), on every retrieval; Python forgets it after the first one.
//   * ExceptionGroup derives from both BaseExceptionGroup and std::exception
//     and overrides what() so calls are not ambiguous.
//   * Where a whole group matches, subgroup()/split() return a copy made by
//     derive() (same message, same members), not the object itself.
//   * No __cause__/__context__/__notes__ to carry over.
#pragma once

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
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

class BaseExceptionGroup;

namespace detail {

/// A borrowed predicate over one exception (a leaf or a nested group).
struct ExceptionMatcher {
    bool (*fn)(const void* ctx, const std::exception_ptr& exc);
    const void* ctx;
    bool operator()(const std::exception_ptr& exc) const { return fn(ctx, exc); }
};

/// True when `exc` would be caught by `catch (const E&)`.
template <class E>
bool exception_is(const void*, const std::exception_ptr& exc) {
    try {
        std::rethrow_exception(exc);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

template <class E>
ExceptionMatcher type_matcher() noexcept {
    return {&exception_is<E>, nullptr};
}

/// The group `exc` holds, or nullptr when it holds no group. The pointer stays
/// valid as long as some exception_ptr refers to the exception.
const BaseExceptionGroup* as_group(const std::exception_ptr& exc) noexcept;

/// BaseExceptionGroup.split() applied to any exception: {exc, null} when it
/// matches whole, {null, exc} when it is a non-matching leaf, else the group
/// split recursively. The rest is computed only when `want_rest`.
std::pair<std::exception_ptr, std::exception_ptr> split_exception(const std::exception_ptr& exc,
                                                                  ExceptionMatcher match,
                                                                  bool want_rest);

/// except_star's handling of what the handler threw (`raised`): see except_star.
[[noreturn]] void reraise_from_except_star(const std::exception_ptr& raised,
                                           const std::exception_ptr& original,
                                           const std::exception_ptr& rest);

}  // namespace detail

/// Builds a group as Python's BaseExceptionGroup(message, excs) does: an
/// ExceptionGroup exactly when every member derives from std::exception, else
/// a BaseExceptionGroup.
/// Throws: ValueError "second argument (exceptions) must be a non-empty
/// sequence" for no members; ValueError "Item N of second argument
/// (exceptions) is not an exception" for a null member.
std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> excs);

/// A group of exceptions (PEP 654). A group is an ExceptionGroup exactly when
/// every member derives from std::exception; make_exception_group() picks the
/// kind (the constructors do not check their members).
///
/// Matching a member against a type E means `catch (const E&)` would catch it
/// (so `subgroup<std::exception>()` is Python's `subgroup(Exception)`; there is
/// no single C++ type that every exception derives from: use a predicate).
/// Nested groups keep their message and structure; groups left empty are
/// dropped; a group (the outer one or a nested one) that is itself an E
/// matches whole. Partial results are built with derive().
class BaseExceptionGroup : public BaseException {
public:
    using Predicate = std::function<bool(const std::exception_ptr&)>;

    BaseExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
    ~BaseExceptionGroup() override;

    const std::string& message() const noexcept { return message_; }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
    const char* what() const noexcept override { return what_.c_str(); }

    /// The matching part as a group, or null when nothing matches. When this
    /// group is itself an E the result is a copy of it (derive(exceptions())):
    /// a const member cannot hand out an exception_ptr to *this.
    template <class E>
    std::exception_ptr subgroup() const {
        if (self_is<E>()) return derive(exceptions_);
        return split_members(detail::type_matcher<E>(), false).first;
    }
    /// {match, rest}: either may be null; the two never share a leaf.
    template <class E>
    std::pair<std::exception_ptr, std::exception_ptr> split() const {
        if (self_is<E>()) return {derive(exceptions_), nullptr};
        return split_members(detail::type_matcher<E>(), true);
    }
    /// As Python's subgroup(callable): `pred` sees every nested group and
    /// leaf, this group first (as a copy).
    std::exception_ptr subgroup(const Predicate& pred) const;
    std::pair<std::exception_ptr, std::exception_ptr> split(const Predicate& pred) const;

    /// A group with this message and `excs` (make_exception_group); override
    /// it to keep a subclass's type through subgroup() and split().
    virtual std::exception_ptr derive(std::vector<std::exception_ptr> excs) const;

    /// Splits the members only (this group itself is not matched).
    std::pair<std::exception_ptr, std::exception_ptr> split_members(detail::ExceptionMatcher match,
                                                                    bool want_rest) const;

private:
    template <class E>
    bool self_is() const noexcept {
        if constexpr (std::is_base_of_v<E, BaseExceptionGroup>)
            return true;
        else if constexpr (std::is_class_v<E>)
            return dynamic_cast<const E*>(this) != nullptr;
        else
            return false;
    }

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

/// An argument of the wrong kind (e.g. a task factory returning another
/// coroutine's task).
class TypeError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
    ~TypeError() override;
};

/// What ContextVar::get() throws with no value and no default.
class LookupError : public std::out_of_range {
public:
    using std::out_of_range::out_of_range;
    ~LookupError() override;
};

/// Python's KeyError (a LookupError): Context::operator[] of a missing variable.
class KeyError : public LookupError {
public:
    using LookupError::LookupError;
    ~KeyError() override;
};

#define ASYNCIO_DETAIL_RUNTIME_KIND(Name)        \
    class Name : public std::runtime_error {     \
    public:                                      \
        Name() : std::runtime_error("") {}       \
        using std::runtime_error::runtime_error; \
        ~Name() override;                        \
    };
ASYNCIO_DETAIL_RUNTIME_KIND(QueueEmpty)
ASYNCIO_DETAIL_RUNTIME_KIND(QueueFull)
ASYNCIO_DETAIL_RUNTIME_KIND(QueueShutDown)
ASYNCIO_DETAIL_RUNTIME_KIND(BrokenBarrierError)
#undef ASYNCIO_DETAIL_RUNTIME_KIND

/// The C++ spelling of one `except* E as matched:` clause:
///
///     catch (...) {
///         auto rest = asyncio::except_star<ValueError>(std::current_exception(),
///             [&](const asyncio::BaseExceptionGroup& matched) { ... });
///         rest = asyncio::except_star<KeyError>(rest, ...);   // the next clause
///         if (rest) std::rethrow_exception(rest);
///     }
///
/// Splits `eg` as eg.split(E) and calls handler(matched) when something
/// matches; returns the rest (null when nothing is left; `eg` itself when
/// nothing matches). A naked (non-group) exception that is an E reaches the
/// handler wrapped in ExceptionGroup("", {exc}), as in Python; one that is not
/// is returned unchanged. A null `eg` returns null.
/// Throws: what the handler throws, combined as Python does: alone when
/// nothing is left, else make_exception_group("", {raised, rest}); a bare
/// `throw;` inside the handler (which rethrows `eg` when called from its catch
/// block) rethrows `eg` unchanged, as a bare `raise` in except* does.
template <class E, class F>
std::exception_ptr except_star(std::exception_ptr eg, F&& handler) {
    static_assert(!std::is_base_of_v<BaseExceptionGroup, E>,
                  "catching ExceptionGroup with except* is not allowed. Use except instead.");
    if (!eg) return nullptr;
    auto [match, rest] = detail::split_exception(eg, detail::type_matcher<E>(), true);
    if (!match) return eg;  // unchanged: the very same exception goes on
    if (!detail::as_group(match)) match = make_exception_group("", {std::move(match)});
    try {
        std::forward<F>(handler)(static_cast<const BaseExceptionGroup&>(*detail::as_group(match)));
    } catch (...) {
        detail::reraise_from_except_star(std::current_exception(), eg, rest);
    }
    return rest;
}

}  // namespace asyncio
