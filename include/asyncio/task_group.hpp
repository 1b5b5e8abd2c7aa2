// asyncio/task_group.hpp — asyncio.TaskGroup.
//
// Mirrors Lib/asyncio/taskgroups.py (3.13 semantics).
//
//     co_await asyncio::async_with(asyncio::TaskGroup(), [&](asyncio::TaskGroup& tg) -> Coro<> {
//         tg.create_task(fetch("a"));
//         tg.create_task(fetch("b"));
//     });  // every task of the group is done here
//
// The block waits for every task of the group, including tasks created while
// it waits (from the children themselves). The first child that fails with
// anything but CancelledError cancels the other children and the task that
// runs the block: that CancelledError interrupts an await in the block but
// does not leave it. Once all are done, the failures are thrown as one
// ExceptionGroup (a BaseExceptionGroup if one is not a std::exception),
// "unhandled errors in a TaskGroup", in completion order with the block's own
// error last; a KeyboardInterrupt or SystemExit is rethrown bare instead. A
// cancellation of the task from outside is never lost nor invented: as in
// 3.13, the group uncancel()s exactly what it cancelled itself.
//
// Lifetime: a TaskGroup can be moved until it is entered, not after (its
// children point to it). Destroying an entered group before its exit finished
// (its task was destroyed while pending) detaches the children: they keep
// running, ungrouped.
//
// Differences from Python:
//   * `async with` is spelled asyncio::async_with(...); aenter() is a ready
//     awaitable (no coroutine frame), aexit() a Coro<bool>.
//   * On the first failure the pending children are cancelled in creation
//     order (CPython walks a set: an order nobody can rely on).
//   * create_task on a group that refuses it destroys the coroutine frame at
//     once (CPython's coro.close()); its locals' destructors run there.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

class TaskGroup;

namespace detail {

/// One child: its done callback (CPython's _on_task_done) and its link in the
/// group's list of unfinished tasks (CPython's _tasks). One allocation each,
/// 64 bytes. Alive while in the child's callback list (the child is then
/// alive too) or in the ready queue (holding a reference to the child).
/// `fut` is set to the child when the node is made (the core stores the same
/// value when it schedules the node), so the node needs no task pointer.
struct TaskGroupChild final : DoneCallbackNode, FrameAllocated {
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    TaskBase* task() const noexcept { return static_cast<TaskBase*>(fut); }
    TaskGroup* group = nullptr;  // null once unlinked from the group
    TaskGroupChild* prev = nullptr;
    TaskGroupChild* next = nullptr;
    void invoke(FutureBase* f) override;
    ~TaskGroupChild() override;  // unlinks it if still linked (its task went while pending)
};

/// A weak reference to the parent task: a done callback on it. When the
/// parent finishes, the group takes a real reference; if the parent is
/// destroyed while pending (its loop closed), the group forgets it. So a group
/// inside its parent's frame never keeps that frame alive.
struct TaskGroupParentWatch final : DoneCallbackNode, FrameAllocated {
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    TaskGroup* group = nullptr;
    bool fired = false;
    void invoke(FutureBase* f) override;
    ~TaskGroupParentWatch() override;
};

/// What TaskGroup::aenter() returns: never suspends (like __aenter__, which
/// awaits nothing); the checks run when it is awaited.
struct TaskGroupEnter {
    TaskGroup* group;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    TaskGroup& await_resume() const;
    TaskGroupEnter operator co_await() const noexcept { return *this; }
};

}  // namespace detail

class TaskGroup {
public:
    TaskGroup() noexcept = default;
    /// Throws: RuntimeError("TaskGroup <repr> cannot be moved once entered").
    TaskGroup(TaskGroup&& other);
    TaskGroup& operator=(TaskGroup&& other);
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();

    /// __aenter__: makes the running task the group's parent.
    /// Suspends: never.
    /// Throws: RuntimeError("TaskGroup <repr> has already been entered"),
    /// RuntimeError("TaskGroup <repr> cannot determine the parent task")
    /// (awaited outside a task), RuntimeError("no running event loop").
    detail::TaskGroupEnter aenter() noexcept { return {this}; }

    /// __aexit__: waits for every task of the group, then throws what failed.
    /// Suspends: until the group has no unfinished task (not at all if it has
    /// none); resumed through the ready queue by the last child's done callback.
    /// Cancellation: cancelling the waiting task cancels every child (once)
    /// and the exit keeps waiting for them; the cancellation is rethrown at
    /// the end unless children failed.
    /// Throws: the first KeyboardInterrupt/SystemExit (bare); else, if
    /// anything failed, ExceptionGroup/BaseExceptionGroup("unhandled errors in
    /// a TaskGroup"); else the CancelledError to propagate. Returns false:
    /// it never suppresses `exc` (which async_with then rethrows).
    Coro<bool> aexit(std::exception_ptr exc);

    /// Creates a task of this group on the running loop.
    /// Throws: RuntimeError("TaskGroup <repr> has not been entered" /
    /// "... is finished" / "... is shutting down"), after destroying `coro`;
    /// and what loop.create_task throws.
    template <class T>
    Task<T> create_task(Coro<T> coro, TaskOptions options = {}) {
        if (const char* why = refusal()) [[unlikely]] {
            coro.close();  // CPython: coro.close()
            throw_refusal(why);
        }
        Task<T> task = loop_->create_task(std::move(coro), std::move(options));
        add_task(task.base());
        return task;
    }

    /// Python's repr: "<TaskGroup tasks=2 errors=1 cancelling>".
    std::string repr() const;

private:
    friend struct detail::TaskGroupChild;
    friend struct detail::TaskGroupParentWatch;
    friend struct detail::TaskGroupEnter;

    TaskGroup& enter();
    const char* refusal() const noexcept;
    [[noreturn]] void throw_refusal(const char* why) const;
    void add_task(detail::TaskBase* t);
    void on_task_done(detail::FutureBase* f);
    void unlink(detail::TaskGroupChild* node) noexcept;
    void abort();
    bool parent_done() const noexcept;
    std::exception_ptr exit_error(const std::exception_ptr& exc, bool exc_is_cancel,
                                  std::exception_ptr propagate_cancel);
    void leave_parent() noexcept;

    EventLoop* loop_ = nullptr;
    detail::TaskBase* parent_ = nullptr;  // see TaskGroupParentWatch
    detail::TaskGroupParentWatch* parent_watch_ = nullptr;
    detail::TaskGroupChild* first_ = nullptr;  // unfinished children, creation order
    detail::TaskGroupChild* last_ = nullptr;
    std::size_t tasks_ = 0;  // len(_tasks)
    std::vector<std::exception_ptr> errors_;
    std::exception_ptr base_error_;
    Future<void> on_completed_;  // empty: None
    bool entered_ = false;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
    bool parent_held_ = false;  // parent_ finished and we hold a reference
};

namespace detail {
inline TaskGroup& TaskGroupEnter::await_resume() const {
    return group->enter();
}
}  // namespace detail

}  // namespace asyncio
