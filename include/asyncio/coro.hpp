// asyncio/coro.hpp — coroutines: `async def f() -> T` is `Coro<T> f()`.
//
// Mirrors what Python's coroutine objects do under asyncio (PEP 492).
//
// A Coro<T> is lazy (calling the function runs nothing), move-only, and
// awaitable once: `co_await coro` runs it inline in the awaiting task, no new
// task. Awaiting it again throws RuntimeError("cannot reuse already awaited
// coroutine"). An awaited Coro runs as a plain call from its awaiter, up to
// a fixed depth; past it, control passes through the task's trampoline (see
// detail/core.hpp), so a million synchronous awaits in a loop or a hundred
// thousand nested ones never grow the stack, in any build mode.
//
// Note: our Task is asyncio's *scheduled* Task; Coro is the lazy coroutine
// (what cppcoro calls `task`).
//
// Differences from Python:
//   * A Coro can only be awaited from another Coro (or wrapped in a Task).
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/core.hpp"

namespace asyncio {

template <class T = void>
class Coro;

namespace detail {

template <class T>
struct Promise : PromiseBase {
    static_assert(alignof(T) <= alignof(std::max_align_t),
                  "over-aligned coroutine results are not supported");
    Promise() noexcept {}  // user-provided: no zeroing (see PromiseBase)
    Coro<T> get_return_object(const char* func = __builtin_FUNCTION(),
                              const char* file = __builtin_FILE(),
                              std::uint32_t line = __builtin_LINE()) noexcept;
    template <class U = T>
    requires std::is_constructible_v<T, U&&>
    void return_value(U&& v) { value_.emplace(std::forward<U>(v)); }
    std::optional<T> value_;
};

/// Coro<T&>: the coroutine returns a reference (e.g. an aenter() giving `X&`).
template <class T>
struct Promise<T&> : PromiseBase {
    Promise() noexcept {}
    Coro<T&> get_return_object(const char* func = __builtin_FUNCTION(),
                               const char* file = __builtin_FILE(),
                               std::uint32_t line = __builtin_LINE()) noexcept;
    void return_value(T& v) noexcept { value_ = &v; }
    T* value_ = nullptr;
};

template <>
struct Promise<void> : PromiseBase {
    Promise() noexcept {}
    Coro<void> get_return_object(const char* func = __builtin_FUNCTION(),
                                 const char* file = __builtin_FILE(),
                                 std::uint32_t line = __builtin_LINE()) noexcept;
    void return_void() noexcept {}
};

template <class T>
struct CoroAwaiter {
    std::coroutine_handle<Promise<T>> h;
    std::coroutine_handle<>* owner;  // the awaited Coro's handle slot

    bool await_ready() const {
        // Marked by await_suspend right after this, or by create_task.
        if (h.promise().awaited()) throw RuntimeError("cannot reuse already awaited coroutine");
        return false;
    }
    /// Runs the coroutine now, as a plain call: when it returns without
    /// having suspended (the common case), the parent continues at once
    /// (`false`), with no trip through the task's trampoline. If it
    /// suspended (on a future, a yield, or a Coro awaited past the depth
    /// limit), the parent stays suspended; the coroutine was left where the
    /// task resumes it, and the trampoline resumes the parent when it
    /// returns. Past kMaxEagerDepth nested runs, the coroutine is handed to
    /// the trampoline instead, so the stack stays bounded.
    ///
    /// Not the clang 14 trap of resuming the *awaiting* coroutine inside its
    /// own await_suspend: this resumes the awaited one; the parent resumes
    /// through the `false` return.
    template <class P>
    bool await_suspend(std::coroutine_handle<P> parent) const noexcept {
        PromiseBase& p = h.promise();
        p.continuation_ = parent;
        p.owner_ = owner;
        p.set_awaited();
        if (t_eager_depth < kMaxEagerDepth) [[likely]] {
            ++t_eager_depth;
            t_running_frame = h;
            h.resume();
            t_running_frame = parent;
            --t_eager_depth;
            return !h.done();
        }
        task_of(parent)->transfer(h);
        return true;
    }
    T await_resume() const {
        Promise<T>& p = h.promise();
        if (p.exc_) [[unlikely]]
            std::rethrow_exception(p.exc_);
        if constexpr (std::is_reference_v<T>)
            return *p.value_;
        else if constexpr (!std::is_void_v<T>)
            return std::move(*p.value_);
    }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Coro {
public:
    using promise_type = detail::Promise<T>;
    using value_type = T;
    using handle_type = std::coroutine_handle<promise_type>;

    Coro() = default;
    Coro(Coro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    Coro& operator=(Coro&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~Coro() { reset(); }

    explicit operator bool() const noexcept { return static_cast<bool>(h_); }
    /// True once the coroutine has been awaited or handed to a task.
    bool awaited() const noexcept { return h_ && typed().promise().awaited(); }

    /// Suspends: the caller, while the coroutine runs in the same task.
    /// Throws: what the coroutine throws; RuntimeError("cannot reuse already
    /// awaited coroutine") on a second await.
    detail::CoroAwaiter<T> operator co_await() const& noexcept { return {typed(), &h_}; }
    detail::CoroAwaiter<T> operator co_await() const&& noexcept { return {typed(), &h_}; }

    /// Python's coroutine.close() on a coroutine that is not running:
    /// destroys the frame now (running the destructors of what it holds),
    /// without the debug-mode "never awaited" report. Empty afterwards.
    void close() noexcept {
        if (!h_) return;
        detail::PromiseBase& p = typed().promise();
        if (p.tracked()) {
            detail::untrack_coroutine(&p);
            p.set_tracked(false);
        }
        std::exchange(h_, {}).destroy();
    }

    /// Gives up ownership of the frame (used by create_task).
    handle_type release() noexcept {
        return handle_type::from_address(std::exchange(h_, {}).address());
    }

private:
    friend struct detail::Promise<T>;
    explicit Coro(handle_type h) noexcept : h_(h) {}
    handle_type typed() const noexcept { return handle_type::from_address(h_.address()); }
    void reset() noexcept {
        if (h_) detail::destroy_frame(std::exchange(h_, {}));
    }
    // Type-erased and mutable: a task destroyed mid-chain clears the slot of
    // the Coro whose frame it already destroyed (see TaskBase::~TaskBase).
    mutable std::coroutine_handle<> h_;
};

namespace detail {
// The default arguments are evaluated where the compiler calls
// get_return_object: inside the coroutine, so they name it.
template <class T>
Coro<T> Promise<T>::get_return_object(const char* func, const char* file,
                                      std::uint32_t line) noexcept {
    set_origin(func, file, line);
    return Coro<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
template <class T>
Coro<T&> Promise<T&>::get_return_object(const char* func, const char* file,
                                        std::uint32_t line) noexcept {
    set_origin(func, file, line);
    return Coro<T&>(std::coroutine_handle<Promise<T&>>::from_promise(*this));
}
inline Coro<void> Promise<void>::get_return_object(const char* func, const char* file,
                                                   std::uint32_t line) noexcept {
    set_origin(func, file, line);
    return Coro<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

/// A Coro<T> of any T, as a task factory receives it (see
/// EventLoop::set_task_factory). Owns the frame until make_task takes it;
/// destroying it destroys the frame.
class AnyCoro {
public:
    AnyCoro() = default;
    template <class T>
    AnyCoro(Coro<T>&& coro) noexcept : h_(coro.release()) {}  // implicit by design
    AnyCoro(AnyCoro&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    AnyCoro& operator=(AnyCoro&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    ~AnyCoro() { reset(); }

    explicit operator bool() const noexcept { return static_cast<bool>(h_); }
    /// The coroutine function's name ("" when empty).
    const char* function() const noexcept { return h_ ? detail::promise_of(h_).func_ : ""; }
    /// The coroutine was awaited or handed to a task already.
    bool awaited() const noexcept { return h_ && detail::promise_of(h_).awaited(); }
    /// Identity of the frame (what Task::get_coro().address() gives later).
    const void* address() const noexcept { return h_.address(); }
    /// Gives up ownership of the frame (used by make_task).
    std::coroutine_handle<> release() noexcept { return std::exchange(h_, {}); }

private:
    void reset() noexcept {
        if (h_) detail::destroy_frame(std::exchange(h_, {}));
    }
    std::coroutine_handle<> h_;
};

namespace detail {
template <class T>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {};
}  // namespace detail

/// True for Coro<T> (Python's asyncio.iscoroutine).
template <class X>
inline constexpr bool is_coroutine_v = detail::is_coro<std::remove_cvref_t<X>>::value;

template <class X>
constexpr bool iscoroutine(const X&) noexcept {
    return is_coroutine_v<X>;
}

/// Calls f(args...) inside a coroutine frame that owns copies of f and args,
/// so a capturing lambda coroutine handed to create_task cannot dangle:
/// `create_task(co_invoke([x] -> Coro<int> { co_return x; }))`.
/// Prefer passing arguments (co_invoke(f, x)) over value captures: g++ 12
/// destroys a value-capturing lambda temporary twice when it shares a
/// full-expression with co_await (see docs/python_mapping.md).
template <class F, class... Args>
requires std::is_invocable_v < std::decay_t<F>
&, std::decay_t<Args>&... >
       &&is_coroutine_v<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>> auto
         co_invoke(F&& f, Args&&... args)
             -> std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...> {
    using R = typename std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>::value_type;
    // The parameters below are copies owned by this frame.
    return [](std::decay_t<F> fn, std::decay_t<Args>... as) -> Coro<R> {
        if constexpr (std::is_void_v<R>)
            co_await std::invoke(fn, as...);
        else
            co_return co_await std::invoke(fn, as...);
    }(std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace asyncio
