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
#include <functional>
#include <iosfwd>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"

namespace asyncio {

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
    requires std::is_invocable_v<F&, const Task&> CallbackId add_done_callback(
        F&& fn, CallbackOptions options = {})
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

template <class T>
Task<T> EventLoop::make_task(Coro<T>& coro, TaskOptions* options) {
    static_assert(!std::is_reference_v<T>, "a task cannot return a reference; return a value");
    check_closed();
    if (!coro) [[unlikely]]
        throw ValueError("create_task() needs a coroutine");
    if (coro.awaited()) [[unlikely]]
        throw RuntimeError("cannot reuse already awaited coroutine");
    auto h = coro.release();
    detail::PromiseBase& p = h.promise();
    auto* t = new detail::TaskBase(*this, h);  // refs_ == 1: the loop's reference
    p.task_ = t;
    if (options && options->name)
        t->set_name(std::move(*options->name));
    else
        t->set_id(detail::next_task_id());
    detail::inherit_context(t, options ? &options->context : nullptr);
    detail::LoopAccess::register_task(*this, t);
    ready_.push(t);
    t->add_ref();
    return Task<T>::adopt(t);
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro) {
    return make_task(coro, nullptr);
}

template <class T>
Task<T> EventLoop::create_task(Coro<T> coro, TaskOptions options) {
    return make_task(coro, &options);
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
