// asyncio/async_with.hpp — `async with cm as x: body` for C++.
//
// Mirrors the `async with` statement (PEP 492) and its protocol.
//
//     co_await asyncio::async_with(cm, [&](X& x) -> asyncio::Coro<R> { body });
//
// A type is an async context manager when it has `aenter()` returning an
// awaitable of X& (the body gets X&), of X (the body gets the X, by value or
// by reference: it lives until the block ends) or of void (the body gets
// nothing), and `aexit(std::exception_ptr)` returning an awaitable of bool
// (true suppresses the exception). Coro<...> is the usual return type; any
// awaitable works.
//
// A manager whose two awaiters never suspend can say so with
// `static constexpr bool always_ready = true;` in both awaiter types (Timeout
// does): async_with then returns a plain awaitable instead of a coroutine, and
// the block costs only the body's own frame (about 20 ns less).
//
// async_with accepts an lvalue manager (borrowed: inspect it afterwards, as
// `cm.expired()`) or a temporary, which it moves into what it returns (its
// coroutine frame, or the awaitable) and keeps alive until the block ends; the
// body callable is moved (or copied, for an lvalue) there as well, so a lambda
// coroutine's captures live as long as the body runs. It returns the body's
// result.
//
// As in Python: an exception from aenter propagates without calling aexit;
// the body's exception (a CancelledError too) goes to aexit; an exception
// thrown by aexit replaces the body's.
//
// Differences from Python:
//   * If aexit suppresses an exception and the body returns a value, async_with
//     returns a value-initialized R (Python's function would continue after
//     the block); with a reference or non-default-constructible R it throws
//     RuntimeError "async_with: the context manager suppressed an exception,
//     but the body's result cannot be value-initialized".
//   * Compiler caveat (g++ 12): a *temporary* lambda with *value captures*
//     that shares a full-expression with co_await is destroyed twice —
//     `co_await async_with(cm, [s]() -> Coro<> {...})` double-destroys `s`'s
//     moved-from remains. Capture by reference ([&], the usual form: the body
//     runs before the statement ends), or name the lambda first and pass the
//     lvalue (it is copied into the frame). See docs/python_mapping.md.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"

namespace asyncio {

namespace detail {

/// What `co_await a` resumes with: a's member operator co_await if it has
/// one (Coro), else `a` is itself the awaiter.
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); })
        return std::forward<A>(a).operator co_await();
    else
        return std::forward<A>(a);
}
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

template <class CM>
using enter_result_t = await_result_t<decltype(std::declval<CM&>().aenter())>;

/// An awaiter that promises never to suspend (it declares
/// `static constexpr bool always_ready = true;`, as Timeout's do).
template <class A>
concept always_ready_awaiter = requires {
    requires std::remove_cvref_t<A>::always_ready;
};

/// A manager whose aenter() and aexit() both give always-ready awaiters:
/// async_with then needs no coroutine frame of its own (ReadyWith).
template <class CM>
concept ready_manager = always_ready_awaiter<decltype(std::declval<CM&>().aenter())> &&
    always_ready_awaiter<decltype(std::declval<CM&>().aexit(std::exception_ptr()))>;

/// How the body receives the entered value of type X: an X& as is; an X by
/// rvalue when the body takes one (by value or X&&), else as an lvalue (X&,
/// const X&) of the copy that lives in async_with's frame.
template <class Body, class X>
constexpr bool body_takes_rvalue_v = !std::is_reference_v<X> && std::is_invocable_v<Body&, X&&>;

template <class Body, class X>
struct body_invoke {
    using arg = std::conditional_t<body_takes_rvalue_v<Body, X>, std::remove_reference_t<X>&&,
                                   std::remove_reference_t<X>&>;
    using type = std::invoke_result_t<Body&, arg>;
};
template <class Body>
struct body_invoke<Body, void> {
    using type = std::invoke_result_t<Body&>;
};

template <class Body, class X>
using body_coro_t = typename body_invoke<Body, X>::type;

template <class R>
R suppressed_result() {
    if constexpr (std::is_void_v<R>) {
        return;
    } else if constexpr (!std::is_reference_v<R> && std::is_default_constructible_v<R>) {
        return R{};
    } else {
        throw RuntimeError(
            "async_with: the context manager suppressed an exception, but the body's result "
            "cannot be value-initialized");
    }
}

/// CM is `M&` for an lvalue manager (borrowed) or `M` for a temporary (owned
/// by this frame); Body is always owned by this frame.
template <class R, class CM, class Body>
Coro<R> async_with_impl(CM cm, Body body) {
    using X = enter_result_t<std::remove_reference_t<CM>>;
    using Slot = std::conditional_t<
        std::is_void_v<R>, int,
        std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>>;
    std::exception_ptr error;
    [[maybe_unused]] std::optional<Slot> result;
    if constexpr (std::is_void_v<X>) {
        co_await cm.aenter();
        try {
            if constexpr (std::is_void_v<R>)
                co_await std::invoke(body);
            else if constexpr (std::is_reference_v<R>)
                result.emplace(&(co_await std::invoke(body)));
            else
                result.emplace(co_await std::invoke(body));
        } catch (...) {
            error = std::current_exception();
        }
    } else {
        X x = co_await cm.aenter();
        using Arg = typename body_invoke<Body, X>::arg;
        try {
            if constexpr (std::is_void_v<R>)
                co_await std::invoke(body, static_cast<Arg>(x));
            else if constexpr (std::is_reference_v<R>)
                result.emplace(&(co_await std::invoke(body, static_cast<Arg>(x))));
            else
                result.emplace(co_await std::invoke(body, static_cast<Arg>(x)));
        } catch (...) {
            error = std::current_exception();
        }
    }
    // co_await is not allowed in a handler: the exit runs here, and an
    // exception it throws replaces the body's, as in Python.
    const bool suppress = co_await cm.aexit(error);
    if (error) {
        if (!suppress) std::rethrow_exception(error);
        co_return suppressed_result<R>();
    }
    if constexpr (std::is_reference_v<R>)
        co_return **result;
    else if constexpr (!std::is_void_v<R>)
        co_return std::move(*result);
}

/// async_with over a ready manager, without a frame of its own: the awaiter
/// enters in await_ready, runs the body's coroutine as the awaited child, and
/// exits in await_resume. Same semantics as async_with_impl. Not copyable or
/// movable: it is the temporary of the co_await expression (a class with a
/// constructor, not an aggregate: g++ 12 destroys it once).
template <class R, class CM, class Body>
class [[nodiscard]] ReadyWith {
    using X = enter_result_t<std::remove_reference_t<CM>>;
    using BodyCoro = body_coro_t<Body, X>;
    using Entered = std::conditional_t<
        std::is_void_v<X>, int,
        std::conditional_t<std::is_reference_v<X>, std::remove_reference_t<X>*, X>>;

public:
    template <class M, class B>
    ReadyWith(M&& cm, B&& body) : cm_(std::forward<M>(cm)), body_(std::forward<B>(body)) {}
    ReadyWith(const ReadyWith&) = delete;
    ReadyWith& operator=(const ReadyWith&) = delete;

    struct Awaiter {
        ReadyWith* w;
        bool await_ready() { return w->enter(); }
        template <class P>
        bool await_suspend(std::coroutine_handle<P> h) {
            // false: the body already returned (see CoroAwaiter)
            return w->body_coro_.operator co_await().await_suspend(h);
        }
        R await_resume() { return w->finish(); }
    };
    Awaiter operator co_await() & noexcept { return {this}; }
    Awaiter operator co_await() && noexcept { return {this}; }

private:
    /// Enters and makes the body's coroutine; true (do not suspend) when
    /// making it failed, so that await_resume passes the error to aexit.
    bool enter() {
        if constexpr (std::is_void_v<X>) {
            get_awaiter(cm_.aenter()).await_resume();
        } else if constexpr (std::is_reference_v<X>) {
            entered_.emplace(&get_awaiter(cm_.aenter()).await_resume());
        } else {
            entered_.emplace(get_awaiter(cm_.aenter()).await_resume());
        }
        try {
            if constexpr (std::is_void_v<X>) {
                body_coro_ = std::invoke(body_);
            } else {
                using Arg = typename body_invoke<Body, X>::arg;
                if constexpr (std::is_reference_v<X>)
                    body_coro_ = std::invoke(body_, static_cast<Arg>(**entered_));
                else
                    body_coro_ = std::invoke(body_, static_cast<Arg>(*entered_));
            }
        } catch (...) {
            error_ = std::current_exception();
            return true;
        }
        return body_coro_.operator co_await().await_ready();  // marks it awaited; false
    }

    R finish() {
        using Slot = std::conditional_t<
            std::is_void_v<R>, int,
            std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>>;
        [[maybe_unused]] std::optional<Slot> result;
        if (!error_) {
            try {
                if constexpr (std::is_void_v<R>)
                    body_coro_.operator co_await().await_resume();
                else if constexpr (std::is_reference_v<R>)
                    result.emplace(&body_coro_.operator co_await().await_resume());
                else
                    result.emplace(body_coro_.operator co_await().await_resume());
            } catch (...) {
                error_ = std::current_exception();
            }
        }
        // As in async_with_impl: an exception from aexit replaces the body's.
        const bool suppress = get_awaiter(cm_.aexit(error_)).await_resume();
        if (error_) {
            if (!suppress) std::rethrow_exception(error_);
            return suppressed_result<R>();
        }
        if constexpr (std::is_reference_v<R>)
            return **result;
        else if constexpr (!std::is_void_v<R>)
            return std::move(*result);
    }

    CM cm_;  // M& (borrowed) or M (owned)
    Body body_;
    [[maybe_unused]] std::optional<Entered> entered_;
    BodyCoro body_coro_;
    std::exception_ptr error_;
};

}  // namespace detail

/// Runs `body` inside the async context manager `cm` and returns its result.
/// Suspends: while aenter, the body and aexit run (in the awaiting task).
/// Cancellation: a cancellation raised in the body goes through aexit like
/// any exception (Timeout turns its own into TimeoutError there).
/// Throws: the body's exception (unless aexit suppresses it), or aexit's;
/// aenter's (then aexit is not called).
template <class CM, class Body>
auto async_with(CM&& cm, Body&& body) {
    using Manager = std::conditional_t<std::is_lvalue_reference_v<CM>, CM, std::decay_t<CM>>;
    using X = detail::enter_result_t<std::remove_reference_t<CM>>;
    using BodyCoro = detail::body_coro_t<std::decay_t<Body>, X>;
    static_assert(is_coroutine_v<BodyCoro>,
                  "async_with: the body must be a callable returning asyncio::Coro<R>");
    using R = typename BodyCoro::value_type;
    if constexpr (detail::ready_manager<std::remove_reference_t<CM>>)
        return detail::ReadyWith<R, Manager, std::decay_t<Body>>(std::forward<CM>(cm),
                                                                 std::forward<Body>(body));
    else
        return detail::async_with_impl<R, Manager, std::decay_t<Body>>(std::forward<CM>(cm),
                                                                       std::forward<Body>(body));
}

}  // namespace asyncio
