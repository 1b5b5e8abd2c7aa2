// task_group.cpp — TaskGroup: __aenter__, __aexit__, create_task's
// bookkeeping and _on_task_done. Mirrors Lib/asyncio/taskgroups.py (3.13),
// method by method.
//
// Invariants:
//   * tasks_ counts the nodes in first_..last_: the children whose done
//     callback has not run yet (CPython's _tasks, which it discards from in
//     that callback). A child that is done but whose callback is still queued
//     is in the list, as in CPython.
//   * parent_ is valid whenever it is not null: while it is pending,
//     parent_watch_ sits in its callback list and clears parent_ if the
//     parent is destroyed; once it finished, the watch (queued) holds a
//     reference, then the group holds one (parent_held_).
//
// State bits (all set once, never cleared): entered_ by aenter; exiting_ by
// aexit; aborting_ by abort(); parent_cancel_requested_ when a child's
// failure cancelled the parent.
#include "asyncio/task_group.hpp"

#include <optional>
#include <string>

namespace asyncio {

namespace {

bool is_cancelled_error(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

namespace detail {

// A 64-byte size class of its own in the frame cache, apart from small
// coroutine frames (80 bytes for a trivial one).
static_assert(sizeof(TaskGroupChild) <= 64);

void TaskGroupChild::invoke(FutureBase* f) {
    if (TaskGroup* g = group) {
        g->unlink(this);  // CPython: self._tasks.discard(task)
        g->on_task_done(f);
    }
}

TaskGroupChild::~TaskGroupChild() {
    if (group) group->unlink(this);
}

void TaskGroupParentWatch::invoke(FutureBase* f) {
    fired = true;
    if (!group) return;
    // The parent finished inside the group (aenter without aexit): keep it,
    // so that a child failing later can still be reported against it.
    f->add_ref();
    group->parent_held_ = true;
}

TaskGroupParentWatch::~TaskGroupParentWatch() {
    if (!group) return;
    group->parent_watch_ = nullptr;
    // Destroyed without running: the parent was destroyed while pending, or
    // the loop closed with this callback queued (and drops the parent now).
    if (!fired) group->parent_ = nullptr;
}

}  // namespace detail

TaskGroup::TaskGroup(TaskGroup&& other) {
    if (other.entered_)
        throw RuntimeError("TaskGroup " + other.repr() + " cannot be moved once entered");
}

TaskGroup& TaskGroup::operator=(TaskGroup&& other) {
    if (entered_ || other.entered_)
        throw RuntimeError("TaskGroup " + (entered_ ? repr() : other.repr()) +
                           " cannot be moved once entered");
    return *this;  // neither has any state yet
}

TaskGroup::~TaskGroup() {
    // Only a group whose exit never finished has children or a watch left.
    for (detail::TaskGroupChild* n = first_; n;) {
        detail::TaskGroupChild* next = n->next;
        n->group = nullptr;
        if (n->task()->remove_callback(n)) delete n;  // else queued: it runs as a no-op
        n = next;
    }
    leave_parent();
}

void TaskGroup::leave_parent() noexcept {
    if (detail::TaskGroupParentWatch* w = std::exchange(parent_watch_, nullptr)) {
        w->group = nullptr;
        if (parent_->remove_callback(w)) delete w;  // else queued: it runs as a no-op
    }
    if (std::exchange(parent_held_, false)) parent_->release();
    parent_ = nullptr;
}

std::string TaskGroup::repr() const {
    std::string s = "<TaskGroup";
    if (tasks_) s += " tasks=" + std::to_string(tasks_);
    if (!errors_.empty()) s += " errors=" + std::to_string(errors_.size());
    if (aborting_)
        s += " cancelling";
    else if (entered_)
        s += " entered";
    return s + ">";
}

// ------------------------------------------------------------- __aenter__

TaskGroup& TaskGroup::enter() {
    if (entered_) throw RuntimeError("TaskGroup " + repr() + " has already been entered");
    EventLoop& loop = get_running_loop();
    detail::TaskBase* parent = detail::LoopAccess::current_task(loop);
    if (!parent) throw RuntimeError("TaskGroup " + repr() + " cannot determine the parent task");
    auto* watch = new detail::TaskGroupParentWatch;
    watch->group = this;
    parent->add_done_callback_node(watch);  // the parent is running: just linked
    loop_ = &loop;
    parent_ = parent;
    parent_watch_ = watch;
    entered_ = true;
    return *this;
}

// ------------------------------------------------------------ create_task

const char* TaskGroup::refusal() const noexcept {
    if (!entered_) return "has not been entered";
    if (exiting_ && tasks_ == 0) return "is finished";
    if (aborting_) return "is shutting down";
    return nullptr;
}

void TaskGroup::throw_refusal(const char* why) const {
    throw RuntimeError("TaskGroup " + repr() + " " + why);
}

void TaskGroup::add_task(detail::TaskBase* t) {
    // CPython's optimization: a task already done (it completed eagerly) gets
    // its done handler called at once, and no callback.
    if (t->done()) return on_task_done(t);
    auto* n = new detail::TaskGroupChild;
    n->group = this;
    n->fut = t;
    n->prev = last_;
    if (last_)
        last_->next = n;
    else
        first_ = n;
    last_ = n;
    ++tasks_;
    t->add_done_callback_node(n);
}

void TaskGroup::unlink(detail::TaskGroupChild* n) noexcept {
    (n->prev ? n->prev->next : first_) = n->next;
    (n->next ? n->next->prev : last_) = n->prev;
    n->group = nullptr;
    --tasks_;
}

// ----------------------------------------------------------- _on_task_done

void TaskGroup::on_task_done(detail::FutureBase* f) {
    if (on_completed_ && tasks_ == 0 && !on_completed_.done()) on_completed_.set_result();
    if (f->cancelled()) return;
    std::exception_ptr exc = f->exception();
    if (!exc) return;
    errors_.push_back(exc);
    if (!base_error_ && detail::is_exit_exception(exc)) base_error_ = exc;
    if (parent_done()) {
        auto* task = static_cast<detail::TaskBase*>(f);
        task->add_ref();
        const std::string parent = parent_ ? parent_->repr() : std::string("<Task finished>");
        loop_->call_exception_handler({"Task " + task->repr() +
                                           " has errored out but its parent task " + parent +
                                           " is already completed",
                                       exc, TaskRef::adopt(task)});
        return;
    }
    if (!aborting_ && !parent_cancel_requested_) {
        // The parent is not being cancelled: cancel it to interrupt whatever
        // the block awaits; __aexit__ uncancels it (see the CPython comment
        // in _on_task_done).
        abort();
        parent_cancel_requested_ = true;
        parent_->cancel(std::nullopt);
    }
}

bool TaskGroup::parent_done() const noexcept {
    return !parent_ || parent_->done();
}

void TaskGroup::abort() {
    aborting_ = true;
    for (detail::TaskGroupChild* n = first_; n; n = n->next)
        if (!n->task()->done()) n->task()->cancel(std::nullopt);
}

// -------------------------------------------------------------- __aexit__

Coro<bool> TaskGroup::aexit(std::exception_ptr exc) {
    exiting_ = true;
    const bool exc_is_cancel = exc && is_cancelled_error(exc);
    if (exc && !base_error_ && detail::is_exit_exception(exc)) base_error_ = exc;
    std::exception_ptr propagate_cancel = exc_is_cancel ? exc : nullptr;
    // The parent is being cancelled, or the block failed: as if a child had.
    if (exc && !aborting_) abort();

    // A loop, because the wait can be cancelled many times (the parent
    // cancelled repeatedly, or once while our own abort is under way).
    while (tasks_ != 0) {
        if (!on_completed_) on_completed_ = loop_->create_future<void>();
        std::exception_ptr cancelled;
        try {
            co_await on_completed_;
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        }
        if (cancelled && !aborting_) {
            // The parent was cancelled while the children still ran.
            propagate_cancel = cancelled;
            abort();
        }
        on_completed_ = Future<void>();
    }

    if (std::exception_ptr e = exit_error(exc, exc_is_cancel, std::move(propagate_cancel)))
        std::rethrow_exception(e);
    co_return false;
}

std::exception_ptr TaskGroup::exit_error(const std::exception_ptr& exc, bool exc_is_cancel,
                                         std::exception_ptr propagate_cancel) {
    struct Leave {
        TaskGroup* g;
        ~Leave() { g->leave_parent(); }
    } leave{this};
    if (base_error_) return base_error_;
    // If we cancelled the parent we *must* uncancel it; with no cancellation
    // left, don't propagate CancelledError.
    if (parent_cancel_requested_ && parent_->uncancel() == 0) propagate_cancel = nullptr;
    // Other errors have priority over a CancelledError.
    if (propagate_cancel && errors_.empty()) return propagate_cancel;
    if (exc && !exc_is_cancel) errors_.push_back(exc);
    if (errors_.empty()) return nullptr;
    // Cancelled from outside as well: uncancel and cancel again, which keeps
    // the count stable and makes the parent's next await throw.
    if (parent_->cancelling()) {
        parent_->uncancel();
        parent_->cancel(std::nullopt);
    }
    std::vector<std::exception_ptr> errors = std::move(errors_);
    errors_.clear();  // CPython: self._errors = None (no reference cycles)
    return make_exception_group("unhandled errors in a TaskGroup", std::move(errors));
}

}  // namespace asyncio
