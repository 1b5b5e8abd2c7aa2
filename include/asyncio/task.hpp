// asyncio/task.hpp — asyncio.Task, create_task, ensure_future, current_task,
// all_tasks.
//
// Mirrors Lib/asyncio/tasks.py (3.13 semantics).
//
// A Task runs a Coro on the loop. Our Task is asyncio's *scheduled* Task; the
// lazy coroutine type is Coro<T>. Task<T> is a cheap copyable handle
// (identity compare and hash); TaskRef is the type-erased handle. The loop
// keeps every pending task alive until it is done, so no task vanishes
// mid-flight (Python's weak-reference pitfall does not exist here).
//
// Cancellation (as Python 3.13): cancel() on a task awaiting a future or
// another task cancels that; otherwise CancelledError is thrown into the
// coroutine at its next step. cancelling() counts requests, uncancel()
// withdraws one; reaching zero also withdraws a delivery not yet made.
//
// Thread-safety: a task belongs to its loop's thread.
//
// Differences from Python:
//   * Task names default to "Task-N" with a 48-bit counter.
//   * CancelledError keeps its message on every retrieval.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"

namespace asyncio {

/// One frame of an async stack trace: a coroutine function, and the file and
/// line of the co_await it is suspended at (of its definition, before it
/// first ran). The strings are static (from __builtin_FUNCTION/__builtin_FILE).
struct FrameInfo {
    std::string_view function;
    std::string_view file;
    std::uint32_t line = 0;
};

class CoroView;

/// The type-erased task handle: every task method except the typed result().
class TaskRef {
public:
    using state_type = detail::TaskBase;

    TaskRef() = default;
    TaskRef(const TaskRef& o) noexcept : t_(o.t_) {
        if (t_) t_->add_ref();
    }
    TaskRef(TaskRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    TaskRef& operator=(TaskRef o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~TaskRef() {
        if (t_) t_->release();
    }
    static TaskRef adopt(detail::TaskBase* t) noexcept { return TaskRef(t); }

    explicit operator bool() const noexcept { return t_ != nullptr; }

    bool done() const noexcept { return t_->done(); }
    bool cancelled() const noexcept { return t_->cancelled(); }
    /// Null if the task returned; rethrows CancelledError if cancelled;
    /// InvalidStateError("Exception is not set.") while pending.
    std::exception_ptr exception() const { return t_->exception(); }
    bool cancel(std::optional<std::string> msg = std::nullopt) { return t_->cancel(msg); }
    int cancelling() const noexcept { return t_->cancelling(); }
    int uncancel() noexcept { return t_->uncancel(); }
    std::string get_name() const { return t_->get_name(); }
    template <class V>
    void set_name(const V& value) {
        if constexpr (std::is_convertible_v<const V&, std::string>) {
            t_->set_name(std::string(value));
        } else {
            std::ostringstream os;
            os << value;
            t_->set_name(os.str());
        }
    }
    EventLoop& get_loop() const { return t_->get_loop(); }
    /// The context the task runs in (the very one given as TaskOptions{.context}).
    Context get_context() const {
        return Context::adopt(detail::ctx_add_ref(t_->context_slot().materialize()));
    }

    /// The task's async stack, outermost coroutine first: for a suspended
    /// task every coroutine in its await chain, each at its current co_await;
    /// for a task not started yet its coroutine at its definition; empty for
    /// a finished task. `limit` keeps the innermost frames (as Python).
    std::vector<FrameInfo> get_stack(std::optional<std::size_t> limit = std::nullopt) const;
    /// Python's print_stack: "Stack for <Task ...> (most recent call last):",
    /// one `File "...", line N, in f` per frame; to std::cout by default.
    void print_stack(std::optional<std::size_t> limit = std::nullopt) const;
    void print_stack(std::optional<std::size_t> limit, std::ostream& out) const;
    /// A view of the wrapped coroutine; empty once the task finished eagerly.
    CoroView get_coro() const;

    template <class F>
    requires std::is_invocable_v<F&, const TaskRef&> CallbackId
    add_done_callback(F&& fn, CallbackOptions options = {})
    const {
        auto* n = new detail::DoneCallback<TaskRef, std::decay_t<F>>(std::forward<F>(fn));
        detail::capture_context(n->context, options.context);
        return t_->add_done_callback_node(n);
    }
    std::size_t remove_done_callback(CallbackId id) const noexcept {
        return t_->remove_done_callback(id);
    }

    /// Suspends: until the task is done. Cancellation: cancelling the
    /// awaiting task cancels this one. Throws: its exception or CancelledError.
    auto operator co_await() const noexcept { return detail::FutureAwaiter<VoidGet>{t_}; }

    friend bool operator==(const TaskRef& a, const TaskRef& b) noexcept { return a.t_ == b.t_; }
    const void* identity() const noexcept { return t_; }
    detail::TaskBase* base() const noexcept { return t_; }

protected:
    explicit TaskRef(detail::TaskBase* t) noexcept : t_(t) {}
    struct VoidGet {
        static void get(detail::FutureBase* f) { f->check_result(); }
    };
    detail::TaskBase* t_ = nullptr;
};

/// What TaskRef::get_coro() returns: the task's coroutine frame (kept alive
/// by the view), or nothing once the task finished eagerly.
class CoroView {
public:
    CoroView() = default;
    explicit CoroView(TaskRef task) noexcept : task_(std::move(task)) {}
    explicit operator bool() const noexcept { return static_cast<bool>(task_); }
    /// The coroutine function's name.
    std::string_view function() const noexcept { return promise().func_; }
    /// Where the coroutine is (its current co_await, or its definition).
    FrameInfo location() const noexcept {
        const char* file = promise().file();
        return {promise().func_, file ? file : "", promise().line_};
    }
    /// The coroutine returned or threw.
    bool done() const noexcept { return task_.base()->root().done(); }
    /// The frame's identity (AnyCoro::address() of the coroutine given).
    const void* address() const noexcept { return task_.base()->root().address(); }

private:
    detail::PromiseBase& promise() const noexcept { return task_.base()->root_promise(); }
    TaskRef task_;
};

inline CoroView TaskRef::get_coro() const {
    if (t_->finished_eagerly()) return {};
    return CoroView(*this);
}

namespace detail {
template <class T>
struct TaskGet {
    static T get(FutureBase* f) {
        f->check_result();
        auto* t = static_cast<TaskBase*>(f);
        if constexpr (!std::is_void_v<T>) {
            auto h = std::coroutine_handle<Promise<T>>::from_address(t->root().address());
            return *h.promise().value_;
        }
    }
};
}  // namespace detail

template <class T = void>
class Task : public TaskRef {
public:
    Task() = default;
    static Task adopt(detail::TaskBase* t) noexcept { return Task(t); }

    /// The value; rethrows the exception; CancelledError if cancelled;
    /// InvalidStateError("Result is not set.") while pending.
    detail::result_ref_t<T> result() const {
        t_->check_result();
        if constexpr (!std::is_void_v<T>) {
            auto h = std::coroutine_handle<detail::Promise<T>>::from_address(t_->root().address());
            return *h.promise().value_;
        }
    }

    template <class F>
    requires std::is_invocable_v<F&, const Task&> CallbackId
    add_done_callback(F&& fn, CallbackOptions options = {})
    const {
        auto* n = new detail::DoneCallback<Task, std::decay_t<F>>(std::forward<F>(fn));
        detail::capture_context(n->context, options.context);
        return t_->add_done_callback_node(n);
    }

    /// Suspends: until the task is done. Cancellation: cancelling the
    /// awaiting task cancels this one. Throws: its exception or CancelledError.
    auto operator co_await() const noexcept {
        return detail::FutureAwaiter<detail::TaskGet<T>>{t_};
    }

private:
    explicit Task(detail::TaskBase* t) noexcept : TaskRef(t) {}
};

/// What the exception handler receives (CPython's context dict).
struct ExceptionContext {
    std::string message;
    std::exception_ptr exception = nullptr;
    TaskRef task = {};
};

inline detail::TaskBase* EventLoop::new_task(std::coroutine_handle<> h, TaskOptions* options) {
    check_closed();
    if (!h) [[unlikely]]
        throw ValueError("create_task() needs a coroutine");
    detail::PromiseBase& p = detail::promise_of(h);
    if (p.awaited()) [[unlikely]]
        throw RuntimeError("cannot reuse already awaited coroutine");
    auto* t = new detail::TaskBase(*this, h);  // refs_ == 1: the loop's reference
    p.set_awaited();
    if (options && options->name)
        t->set_name(std::move(*options->name));
    else
        t->set_id(detail::next_task_id());
    detail::inherit_context(t, options ? &options->context : nullptr);
    detail::LoopAccess::register_task(*this, t);
    t->add_ref();  // the caller's
    // Python: eager_start only takes effect on a running loop.
    if (options && options->eager_start && running_) [[unlikely]]
        t->eager_start();
    else
        ready_.push(t);
    return t;
}

template <class T>
Task<T> EventLoop::make_task(Coro<T>& coro, TaskOptions* options) {
    static_assert(!std::is_reference_v<T>, "a task cannot return a reference; return a value");
    check_closed();
    // Checked here too, so that a coroutine refused stays with its caller.
    if (coro.awaited()) [[unlikely]]
        throw RuntimeError("cannot reuse already awaited coroutine");
    return Task<T>::adopt(new_task(coro.release(), options));
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro) {
    if (task_factory_) [[unlikely]]
        return create_task(std::move(coro), TaskOptions{});
    return make_task(coro, nullptr);
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, TaskOptions options) {
    static_assert(!std::is_reference_v<T>, "a task cannot return a reference; return a value");
    if (task_factory_) [[unlikely]] {
        if (eager_factory_) {  // eager_task_factory, inline
            options.eager_start = true;
            return make_task(coro, &options);
        }
        check_closed();  // before the factory, as Python's create_task
        // The factory returns a task wrapping this very frame (checked), so
        // it has this Coro<T>'s type.
        TaskRef t = create_task_via_factory(AnyCoro(std::move(coro)), std::move(options));
        detail::TaskBase* base = t.base();
        base->add_ref();
        return Task<T>::adopt(base);
    }
    return make_task(coro, &options);
}

/// Python's Task(coro, loop=loop, name=..., eager_start=...): makes the task
/// on `loop` directly, bypassing the loop's task factory. What a task factory
/// calls to make the task it returns.
/// Throws: RuntimeError("Event loop is closed"), ValueError for an empty
/// coroutine, RuntimeError("cannot reuse already awaited coroutine").
inline TaskRef make_task(EventLoop& loop, AnyCoro coro, TaskOptions options = {}) {
    // Checked before the frame leaves `coro`, so that a refused one is
    // destroyed with it.
    detail::LoopAccess::check_closed(loop);
    if (!coro) throw ValueError("create_task() needs a coroutine");
    if (coro.awaited()) throw RuntimeError("cannot reuse already awaited coroutine");
    return TaskRef::adopt(detail::LoopAccess::new_task(loop, coro.release(), &options));
}

/// Python's eager_task_factory: make_task with eager_start = true.
/// `loop.set_task_factory(asyncio::eager_task_factory)`.
TaskRef eager_task_factory(EventLoop& loop, AnyCoro coro, TaskOptions options);

/// Python's create_eager_task_factory(custom_task_constructor): a factory
/// that calls `ctor(loop, coro, options)` with options.eager_start = true.
/// `ctor` makes the task (normally through asyncio::make_task, adding what
/// the user's own task type needs: counting, logging, done callbacks) and
/// returns anything convertible to TaskRef.
template <class Ctor>
requires std::is_convertible_v<std::invoke_result_t<Ctor&, EventLoop&, AnyCoro, TaskOptions>,
                               TaskRef>
    TaskFactory create_eager_task_factory(Ctor ctor) {
    return [ctor = std::move(ctor)](EventLoop& loop, AnyCoro coro,
                                    TaskOptions options) mutable -> TaskRef {
        options.eager_start = true;
        return std::invoke(ctor, loop, std::move(coro), std::move(options));
    };
}

/// Wraps `coro` in a Task scheduled on the running loop.
template <class T>
Task<T> create_task(Coro<T> coro) {
    return get_running_loop().create_task(std::move(coro));
}
template <class T>
Task<T> create_task(Coro<T> coro, TaskOptions options) {
    return get_running_loop().create_task(std::move(coro), std::move(options));
}

/// Python's ensure_future: a coroutine becomes a task; tasks and futures pass through.
template <class T>
Task<T> ensure_future(Coro<T> coro) {
    return create_task(std::move(coro));
}
template <class T>
Task<T> ensure_future(Task<T> task) {
    return task;
}
template <class T>
Future<T> ensure_future(Future<T> fut) {
    return fut;
}

/// The task running on `loop` (default: the running loop); empty if none.
TaskRef current_task(EventLoop* loop = nullptr);
/// The not-yet-finished tasks of `loop` (default: the running loop).
std::vector<TaskRef> all_tasks(EventLoop* loop = nullptr);

/// For debugging hangs: every pending task of `loop` (default: the running
/// loop) with its name, state and async stack, in creation order. Call it on
/// the loop's thread, e.g. from another thread through
/// `loop.call_soon_threadsafe([&] { asyncio::dump_tasks(std::cerr, &loop); })`.
void dump_tasks(std::ostream& out, EventLoop* loop = nullptr);

namespace detail {
/// The task's result, moved out of it (for a task nobody else can see, such
/// as the main task of run()), so that move-only results work.
template <class T>
T take_result(Task<T>& task) {
    task.base()->check_result();
    if constexpr (!std::is_void_v<T>) {
        auto h = std::coroutine_handle<Promise<T>>::from_address(task.base()->root().address());
        return std::move(*h.promise().value_);
    }
}
}  // namespace detail

template <class T>
T EventLoop::run_task_until_complete(Task<T>& task, bool owned) {
    const CallbackId id =
        task.add_done_callback([](const Task<T>& t) { detail::stop_loop_when_done(*t.base()); });
    try {
        run_forever();
    } catch (...) {
        if (owned && task.done() && !task.cancelled()) {
            // The exception escaped; don't also log it as never retrieved.
            (void)task.exception();
        }
        task.remove_done_callback(id);
        throw;
    }
    task.remove_done_callback(id);
    if (!task.done()) throw RuntimeError("Event loop stopped before Future completed.");
    // A move-only result is moved out even of a task the caller holds (there
    // is no other way to return it); a copyable one is copied from a task that
    // others may see.
    if constexpr (std::is_void_v<T> || !std::is_copy_constructible_v<T>) {
        return detail::take_result(task);
    } else {
        if (owned) return detail::take_result(task);
        return task.result();
    }
}

template <class T>
T EventLoop::run_until_complete(Coro<T> coro) {
    check_runnable();
    Task<T> task = create_task(std::move(coro));
    return run_task_until_complete(task, true);
}

template <class T>
T EventLoop::run_until_complete(Task<T> task) {
    check_runnable();
    return run_task_until_complete(task, false);
}

}  // namespace asyncio

template <>
struct std::hash<asyncio::TaskRef> {
    std::size_t operator()(const asyncio::TaskRef& t) const noexcept {
        return std::hash<const void*>{}(t.identity());
    }
};
template <class T>
struct std::hash<asyncio::Task<T>> {
    std::size_t operator()(const asyncio::Task<T>& t) const noexcept {
        return std::hash<const void*>{}(t.identity());
    }
};
