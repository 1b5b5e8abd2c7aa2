// task.cpp — TaskBase: the step trampoline, cancellation, completion, names.
// Mirrors Task.__step, __wakeup, cancel and uncancel in Lib/asyncio/tasks.py.
#include "asyncio/task.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <typeinfo>

#include "describe.hpp"

namespace asyncio {

namespace detail {

namespace {

// Task-N names come from one process-wide counter, like CPython's.
std::atomic<std::uint64_t> g_next_id_block{0};
constexpr std::uint64_t kIdBlock = 1024;

bool is_cancelled_error(const std::exception_ptr& e) noexcept {
#if defined(__GLIBCXX__) && defined(__cpp_rtti)
    // Fast path without a rethrow: the exact type (the common case).
    if (const std::type_info* t = e.__cxa_exception_type(); t && *t == typeid(CancelledError))
        return true;
#endif
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

bool is_exit_exception(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const KeyboardInterrupt&) {
        return true;
    } catch (const SystemExit&) {
        return true;
    } catch (...) {
        return false;
    }
}

void stop_loop_when_done(FutureBase& f) noexcept {
    if (!f.cancelled()) {
        const std::exception_ptr& e = f.exc_slot();
        if (e && is_exit_exception(e)) return;
    }
    if (EventLoop* l = f.loop()) l->stop();
}

std::uint64_t reserve_task_ids() noexcept {
    const std::uint64_t first = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed) + 1;
    t_next_task_id = first + 1;
    t_task_id_end = first + kIdBlock;
    return first;
}

TaskBase::~TaskBase() {
    if (FutureBase* waited = fut_waiter()) {
        waited->remove_callback(this);
        if (waiter_held_) waited->release();
    }
    TaskExtras* const extras = extras_if_any();  // in the root promise, destroyed below
    if (registered_) LoopAccess::unregister_task(*anchor_->loop, this);
    // A task suspended deep in an await chain: destroy the frames from the
    // innermost outwards, iteratively. Destroying the root alone would recurse
    // through every Coro destructor (a stack overflow 100,000 levels down),
    // and innermost-first keeps each frame's locals alive for its children.
    std::coroutine_handle<> h = resume_slot();
    while (h && h != root_) {
        PromiseBase& p = std::coroutine_handle<PromiseBase>::from_address(h.address()).promise();
        const std::coroutine_handle<> parent = p.continuation_;
        if (!parent) break;  // not part of this task's chain
        if (p.owner_) *static_cast<std::coroutine_handle<>*>(p.owner_) = nullptr;
        h.destroy();
        h = parent;
    }
    root_.destroy();
    delete extras;
}

void TaskBase::run_node(ReadyNode* n, Run mode) {
    // Disposal (loop closing) does nothing here: close() drops the loop's
    // reference through its list of pending tasks.
    if (mode == Run::call) static_cast<TaskBase*>(n)->step();
}

void TaskBase::step() {
    EventLoop& loop = *anchor_->loop;
    if (must_cancel_) {
        must_cancel_ = 0;
        deliver_cancel_ = 1;
    }
    // The reference on the awaited future passes to the awaiter resumed below.
    FutureBase* const waited = fut_waiter();
    set_fut_waiter(nullptr);
    waiter_held_ = 0;
    if (!started_) [[unlikely]] {
        if (deliver_cancel_) return finish_cancelled_before_start();
        started_ = 1;
    }
    // Saved and restored, not cleared: an eager task's first step runs
    // inside its creator's step.
    TaskBase*& current = LoopAccess::current_task(loop);
    TaskBase* const previous = current;
    current = this;
    const std::coroutine_handle<> outer_frame = t_running_frame;
    std::coroutine_handle<> h = std::exchange(resume_slot(), {});
    waiting_ = 0;
    if (transparent_) [[unlikely]] {
        transparent_ = 0;
        h = pass_error_through(h, waited);
        if (!h) {
            current = previous;
            return finish_step();
        }
    }
    // The trampoline. An awaited Coro runs as a plain call from its awaiter
    // up to kMaxEagerDepth levels deep (CoroAwaiter); past that, awaiting a
    // Coro hands it back here (the resume slot), and so does finishing a
    // frame this loop resumed (its caller continues), so the stack depth is
    // bounded however deep the await chain. The frame being resumed is noted
    // for get_stack() on the running task.
    for (;;) {
        t_running_frame = h;
        h.resume();
        if (waiting_) break;
        if (std::coroutine_handle<> next = std::exchange(resume_slot(), {})) {
            h = next;  // it awaits a Coro
        } else {
            if (!h.done()) break;
            // It returned: its caller continues (none for the root, whose
            // continuation_ is the empty resume slot).
            h = promise_of(h).continuation_;
            if (!h) break;
        }
    }
    t_running_frame = outer_frame;
    // Cancelled while it ran, and now blocked on a future: cancel that future
    // at once (CPython's __step: `if self._must_cancel: if
    // self._fut_waiter.cancel(msg=...): self._must_cancel = False`).
    if (must_cancel_) [[unlikely]] {
        if (FutureBase* waited_now = fut_waiter();
            waited_now && waited_now->cancel(cancel_message()))
            must_cancel_ = 0;
    }
    current = previous;
    if (state_ != kPending) finish_step();
}

void TaskBase::eager_start() {
    // The first step runs in the task's own context, also when create_task
    // was called inside Context::run() or a callback (asyncio/context.hpp).
    const SuspendContextOverride own_context;
    // CPython's Task.__eager_start: the first step runs now, with this task
    // current; a task done after it is never scheduled (on_root_finished took
    // it off the loop's list). KeyboardInterrupt/SystemExit propagate out of
    // create_task, as in Python; the caller's reference goes with them.
    try {
        step();
    } catch (...) {
        if (done()) eager_done_ = 1;
        release();
        throw;
    }
    if (done()) eager_done_ = 1;
}

std::coroutine_handle<> TaskBase::innermost_frame() const noexcept {
    if (done()) return {};
    if (EventLoop* l = anchor_->loop; l && LoopAccess::current_task(*l) == this)
        return t_running_frame;
    if (std::coroutine_handle<> h = resume_slot()) return h;
    // Not suspended and not current: it is running under an eager task's
    // first step; only its root is known.
    return root_;
}

std::coroutine_handle<> TaskBase::pass_error_through(std::coroutine_handle<> h,
                                                     FutureBase* waited) {
    std::exception_ptr e;
    if (deliver_cancel_) {
        deliver_cancel_ = 0;
        pending_exc_ = 0;
        e = make_cancelled_error(cancel_message());
    } else if (pending_exc_) {
        pending_exc_ = 0;
        e = std::exchange(extras_if_any()->pending_exc, nullptr);
    } else if (waited && (waited->cancelled() || waited->has_exception())) {
        e = waited->exc_slot();
    } else {
        return h;  // a result: resume the frame as usual
    }
    // The frame stays suspended; whoever owns it destroys it, which runs its
    // RAII cleanup (a sleep removes its timer).
    PromiseBase& p = std::coroutine_handle<PromiseBase>::from_address(h.address()).promise();
    p.exc_ = std::move(e);
    if (p.continuation_) return p.continuation_;  // its await_resume rethrows
    on_root_finished();  // the frame is the task's root: the task ends here
    return {};
}

void TaskBase::finish_step() {
    if (propagate_) [[unlikely]] {
        // CPython: KeyboardInterrupt/SystemExit are stored *and* re-raised
        // out of the loop's run call.
        propagate_ = 0;
        std::exception_ptr e = root_promise().exc_;
        release();
        std::rethrow_exception(e);
    }
    release();  // the loop's reference
}

void TaskBase::finish_cancelled_before_start() {
    // CPython throws CancelledError into a coroutine that never started, which
    // ends it at once; we don't even resume the frame.
    deliver_cancel_ = 0;
    root_promise().exc_ = make_cancelled_error(cancel_message());
    state_ = kCancelled;
    LoopAccess::unregister_task(*anchor_->loop, this);
    schedule_callbacks();
    release();
}

void TaskBase::on_root_finished() noexcept {
    PromiseBase& p = root_promise();
    if (!p.exc_) {
        if (must_cancel_) {
            // Cancelled right before the coroutine returned (CPython: the
            // task still ends cancelled).
            must_cancel_ = 0;
            p.exc_ = make_cancelled_error(cancel_message());
            state_ = kCancelled;
        } else {
            state_ = kFinished;
        }
    } else if (is_cancelled_error(p.exc_)) {
        state_ = kCancelled;
    } else {
        state_ = kFinished;
        log_traceback_ = 1;
        if (is_exit_exception(p.exc_)) propagate_ = 1;
    }
    LoopAccess::unregister_task(*anchor_->loop, this);
    try {
        schedule_callbacks();  // the loop is running, so this cannot fail
    } catch (...) {
    }
}

bool TaskBase::cancel(const std::optional<std::string>& msg) {
    log_traceback_ = 0;  // CPython: Task.cancel() first clears _log_traceback
    if (done()) return false;
    ++num_cancels_requested_;
    // A waiter that accepts the cancellation wakes us with CancelledError.
    if (FutureBase* waited = fut_waiter(); waited && waited->cancel(msg)) return true;
    // Otherwise it is thrown into the coroutine at the next step.
    must_cancel_ = 1;
    if (msg)
        extras().cancel_message = msg;
    else if (TaskExtras* x = extras_if_any())
        x->cancel_message.reset();
    return true;
}

void TaskBase::throw_pending() {
    if (deliver_cancel_) {
        deliver_cancel_ = 0;
        pending_exc_ = 0;
        std::optional<std::string> msg;
        if (TaskExtras* x = extras_if_any()) {
            x->pending_exc = nullptr;
            msg = x->cancel_message;
        }
        throw CancelledError(msg.value_or(std::string()));
    }
    pending_exc_ = 0;
    std::rethrow_exception(std::exchange(extras_if_any()->pending_exc, nullptr));
}

void TaskBase::fail_next_step(std::exception_ptr e, std::coroutine_handle<> h) {
    extras().pending_exc = std::move(e);
    pending_exc_ = 1;
    yield(h);
}

TaskExtras& TaskBase::extras() {
    TaskExtras*& slot = root_promise().extras_;
    if (!slot) slot = new TaskExtras();
    return *slot;
}

std::optional<std::string> TaskBase::cancel_message() const {
    TaskExtras* x = extras_if_any();
    return x ? x->cancel_message : std::nullopt;
}

std::string TaskBase::get_name() const {
    if (TaskExtras* x = extras_if_any(); x && x->name) return *x->name;
    return "Task-" + std::to_string(id_);
}

void TaskBase::set_name(std::string name) {
    extras().name = std::move(name);
}

std::string TaskBase::repr() const {
    const char* state = state_ == kPending     ? "pending"
                        : state_ == kCancelled ? "cancelled"
                                               : "finished";
    std::string out = std::string("<Task ") + state + " name='" + get_name() + "'";
    if (state_ == kPending) {
        // Python: coro=<main() running at /path/x.py:12>, where the task's
        // own coroutine is (its latest co_await, or its definition).
        const PromiseBase& p = root_promise();
        out.append(" coro=<").append(p.func_ ? p.func_ : "?").append("() running at ");
        const char* file = p.file();
        out.append(file ? file : "?").append(":").append(std::to_string(p.line_));
        out.append(">");
    } else if (!eager_done_) {
        // Python: coro=<main() done, defined at x.py:3>; the definition's line
        // is not kept once the coroutine ran, so only its name.
        const PromiseBase& p = root_promise();
        out.append(" coro=<").append(p.func_ ? p.func_ : "?").append("() done>");
    }
    out.append(">");
    return out;
}

std::vector<FrameInfo> stack_of(const TaskBase* t, std::optional<std::size_t> limit) {
    std::vector<FrameInfo> frames;
    std::coroutine_handle<> h = t->innermost_frame();
    // Innermost outwards, so that `limit` keeps the newest frames, then
    // reversed: outermost first (Python's get_stack).
    while (h && (!limit || frames.size() < *limit)) {
        const PromiseBase& p = promise_of(h);
        const char* file = p.file();
        frames.push_back({p.func_ ? p.func_ : "", file ? file : "", p.line_});
        if (h == t->root()) break;
        h = p.continuation_;
    }
    std::reverse(frames.begin(), frames.end());
    return frames;
}

void print_stack_of(const TaskBase* t, std::optional<std::size_t> limit, std::ostream& out) {
    // Lib/asyncio/base_tasks.py: _task_print_stack.
    const std::vector<FrameInfo> frames = stack_of(t, limit);
    std::exception_ptr exc;
    if (t->done() && !t->cancelled()) exc = const_cast<TaskBase*>(t)->exc_slot();
    if (frames.empty())
        out << "No stack for " << t->repr() << "\n";
    else if (exc)
        out << "Traceback for " << t->repr() << " (most recent call last):\n";
    else
        out << "Stack for " << t->repr() << " (most recent call last):\n";
    for (const FrameInfo& f : frames)
        out << "  File \"" << f.file << "\", line " << f.line << ", in " << f.function << "\n";
    if (exc) out << describe_exception(exc) << "\n";
}

}  // namespace detail

TaskRef current_task(EventLoop* loop) {
    EventLoop& l = loop ? *loop : get_running_loop();
    detail::TaskBase* t = detail::LoopAccess::current_task(l);
    if (!t) return {};
    t->add_ref();
    return TaskRef::adopt(t);
}

std::vector<FrameInfo> TaskRef::get_stack(std::optional<std::size_t> limit) const {
    return detail::stack_of(t_, limit);
}

void TaskRef::print_stack(std::optional<std::size_t> limit) const {
    detail::print_stack_of(t_, limit, std::cout);
}

void TaskRef::print_stack(std::optional<std::size_t> limit, std::ostream& out) const {
    detail::print_stack_of(t_, limit, out);
}

void dump_tasks(std::ostream& out, EventLoop* loop) {
    const std::vector<TaskRef> tasks = all_tasks(loop);
    out << tasks.size() << (tasks.size() == 1 ? " task" : " tasks") << " pending\n";
    for (const TaskRef& t : tasks) t.print_stack(std::nullopt, out);
}

TaskRef eager_task_factory(EventLoop& loop, AnyCoro coro, TaskOptions options) {
    options.eager_start = true;
    return make_task(loop, std::move(coro), std::move(options));
}

void EventLoop::set_task_factory(TaskFactory factory) {
    using FactoryFn = TaskRef (*)(EventLoop&, AnyCoro, TaskOptions);
    const FactoryFn* fn = factory.target<FactoryFn>();
    eager_factory_ = fn && *fn == &eager_task_factory;
    task_factory_ = std::move(factory);
}

TaskRef EventLoop::create_task_via_factory(AnyCoro coro, TaskOptions options) {
    const void* frame = coro.address();
    TaskRef t = task_factory_(*this, std::move(coro), std::move(options));
    if (!t || t.base()->root().address() != frame)
        throw TypeError("the task factory must return a task wrapping the coroutine it was given");
    return t;
}

std::vector<TaskRef> all_tasks(EventLoop* loop) {
    EventLoop& l = loop ? *loop : get_running_loop();
    std::vector<TaskRef> out;
    out.reserve(detail::LoopAccess::task_count(l));
    for (detail::TaskBase* t = detail::LoopAccess::tasks(l); t; t = t->reg_next_) {
        t->add_ref();
        out.push_back(TaskRef::adopt(t));
    }
    std::reverse(out.begin(), out.end());  // creation order
    return out;
}

}  // namespace asyncio
