// loop.cpp — EventLoop: the iteration, running and closing, handles, the
// exception handler. Mirrors Lib/asyncio/base_events.py.
#include <time.h>

#include <cmath>
#include <iostream>
#include <vector>

#include "asyncio/executor.hpp"
#include "asyncio/task.hpp"
#include "describe.hpp"

namespace asyncio {

namespace detail {

void release_anchor(LoopAnchor* a) noexcept {
    if (--a->refs == 0 && !a->loop) delete a;
}

void CallbackBase::run_node(ReadyNode* n, Run mode) {
    auto* cb = static_cast<CallbackBase*>(n);
    if (mode == Run::call && !cb->cancelled) {
        struct Running {
            CallbackBase* cb;
            explicit Running(CallbackBase* c) : cb(c) { cb->running = true; }
            ~Running() { cb->running = false; }
        };
        try {
            Running running(cb);
            // Python's Handle._run: self._context.run(self._callback).
            const ContextScope scope(cb->context);
            cb->invoke();
        } catch (const KeyboardInterrupt&) {
            cb->release();
            throw;
        } catch (const SystemExit&) {
            cb->release();
            throw;
        } catch (...) {
            if (EventLoop* l = cb->anchor->loop)
                l->call_exception_handler({"Exception in callback", std::current_exception(), {}});
        }
    }
    cb->release();
}

/// Walks a chain of ReadyNodes to its last node.
ReadyNode* chain_tail(ReadyNode* n) noexcept {
    while (n->next_ready) n = n->next_ready;
    return n;
}

void print_exception_context(const ExceptionContext& context) noexcept {
    try {
        // Built with append: `"literal" + std::string` here trips g++ 12's
        // -Wrestrict false positive at -O3 (GCC PR 105329).
        std::string text =
            context.message.empty() ? "Unhandled exception in event loop" : context.message;
        if (context.task) text.append("\ntask: ").append(context.task.base()->repr());
        if (context.exception) text.append("\n").append(describe_exception(context.exception));
        std::cerr << text << std::endl;
    } catch (...) {
    }
}

void dispose_chain(ReadyNode* n) noexcept {
    while (n) {
        ReadyNode* next = n->next_ready;
        n->run(n, Run::dispose);
        n = next;
    }
}

}  // namespace detail

namespace detail {
void throw_no_running_loop() {
    throw RuntimeError("no running event loop");
}
void throw_loop_closed() {
    throw RuntimeError("Event loop is closed");
}
}  // namespace detail

std::unique_ptr<EventLoop> new_event_loop() {
    return std::make_unique<EventLoop>();
}

void Handle::cancel() noexcept {
    if (!p_ || p_->cancelled) return;
    p_->cancelled = true;
    if (!p_->running) p_->drop();  // never destroy a callable while it runs
    // A timer leaves the heap at once (O(log n)); a call_soon handle stays in
    // the ready queue and is skipped. After close() nothing is in the heap.
    if (p_->is_timer && p_->heap_index != detail::TimerNode::npos) {
        p_->anchor->loop->timers_.remove(p_);
        p_->release();  // the heap's reference
    }
}

EventLoop::EventLoop()
    : anchor_(new detail::LoopAnchor{this, 0}),
      debug_(detail::debug_from_environment()),
      channel_(new detail::ThreadsafeChannel(this)) {}

EventLoop::EventLoop(detail::VirtualTimeTag) : EventLoop() {
    virtual_time_ = true;
}

EventLoop::~EventLoop() {
    if (running_) {
        std::cerr << "asyncio: an EventLoop was destroyed while running\n";
        std::terminate();
    }
    close();
    channel_->release();
    anchor_->loop = nullptr;
    if (anchor_->refs == 0) delete anchor_;
}

double EventLoop::time() const noexcept {
    if (virtual_time_) return virtual_now_;
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void EventLoop::check_runnable() const {
    check_closed();
    if (running_) throw RuntimeError("This event loop is already running");
    if (detail::t_running_loop)
        throw RuntimeError("Cannot run the event loop while another loop is running");
}

void EventLoop::run_forever() {
    check_runnable();
    // Inside the loop every task and callback brings its own context; a
    // Context::run() around run_forever() must not shadow theirs.
    const detail::SuspendContextOverride own_contexts;
    struct Reset {
        EventLoop& loop;
        bool tracking;
        ~Reset() {
            loop.stopping_ = false;
            loop.running_ = false;
            detail::t_running_loop = nullptr;
            detail::t_track_coroutines = tracking;
        }
    } reset{*this, detail::t_track_coroutines};
    detail::t_running_loop = this;
    detail::t_track_coroutines = debug_;
    running_ = true;
    for (;;) {
        run_once();
        if (stopping_) break;
    }
}

void EventLoop::run_once() {
    int timeout_ms = 0;
    if (ready_.empty() && !stopping_) {
        if (timers_.empty()) {
            timeout_ms = -1;
        } else {
            const double dt = timers_.top()->when - time();
            if (dt <= 0) {
                timeout_ms = 0;
            } else if (virtual_time_) {
                virtual_now_ = timers_.top()->when;  // jump instead of sleeping
            } else {
                // Round up to the poller's 1 ms resolution (CPython does the
                // same), capped at a day.
                timeout_ms = static_cast<int>(std::min(std::ceil(dt * 1e3), 86400e3));
            }
        }
    }
    // A ready task never pays a system call: poll only when there is nothing
    // to run, or when another thread asked to wake us.
    if (timeout_ms != 0) poller_.poll(timeout_ms);
    if (wakeup_pending_.load(std::memory_order_relaxed)) process_wakeups();

    // Every timer due now (within the clock's resolution) runs this
    // iteration, after what was ready when it began (CPython appends them to
    // _ready). They wait in the heap's due batch, not in the ready queue, so
    // that their owners can still withdraw them until they run.
    // `<=`: at deadlines past ~2^23 s, now + 1 ns == now in a double.
    // The clock is read only when there are timers (a read costs ~25 ns here,
    // as much as a task switch).
    if (!timers_.empty()) timers_.take_due(time() + 1e-9);
    try {
        run_ready(ready_.take_all());
        while (detail::TimerNode* t = timers_.next_due()) {
            if (debug_) [[unlikely]]
                run_node_timed(t);
            else
                t->run(t, detail::Run::call);
        }
    } catch (...) {
        timers_.restore_due();
        throw;
    }
}

void EventLoop::run_ready(detail::ReadyNode* n) {
    while (n) {
        detail::ReadyNode* next = n->next_ready;  // run() may requeue n
        try {
            if (debug_) [[unlikely]]
                run_node_timed(n);
            else
                n->run(n, detail::Run::call);
        } catch (...) {
            // KeyboardInterrupt/SystemExit leave the loop; keep the rest of
            // the batch in front of whatever was scheduled meanwhile.
            if (next) ready_.prepend_chain(next, detail::chain_tail(next));
            throw;
        }
        n = next;
    }
}

void EventLoop::process_wakeups() {
    if (!wakeup_pending_.exchange(false, std::memory_order_acquire)) return;
    detail::ReadyNode* chain = channel_->take_all();
    if (chain) ready_.append_chain(chain, detail::chain_tail(chain));
    if (signal_hook_) signal_hook_(signal_hook_arg_);
}

namespace detail {

bool ThreadsafeChannel::post(CallbackBase* cb) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!loop_) return false;
    cb->anchor = loop_->anchor_;
    queue_.push(cb);
    // Write the eventfd only on the false -> true edge of the flag: the loop
    // clears the flag before it drains the queue, and checks it after every
    // poll, so a post that finds it set is seen by a wake-up already under
    // way. Under the lock, so that no post touches the poller after close().
    if (!loop_->wakeup_pending_.exchange(true, std::memory_order_acq_rel)) loop_->poller_.wake();
    return true;
}

ReadyNode* ThreadsafeChannel::take_all() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.take_all();
}

ReadyNode* ThreadsafeChannel::close() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    loop_ = nullptr;
    return queue_.take_all();
}

}  // namespace detail

void EventLoop::close() {
    if (running_) throw RuntimeError("Cannot close a running event loop");
    if (closed_) return;
    closed_ = true;
    detail::dispose_chain(channel_->close());
    detail::dispose_chain(ready_.take_all());
    for (detail::TimerNode* t : timers_.take_all()) t->run(t, detail::Run::dispose);
    // The loop's reference on each pending task goes; a task nobody else
    // holds is destroyed now ("Task was destroyed but it is pending!").
    while (detail::TaskBase* t = tasks_) {
        detail::LoopAccess::unregister_task(*this, t);
        t->release();
    }
    // CPython: executor.shutdown(wait=False). Our pools join in their
    // destructor, so if this was the last reference, close() waits for the
    // calls still running (run() and Runner::close() joined them already).
    if (std::shared_ptr<Executor> executor = std::move(default_executor_)) executor->shutdown(false);
}

void EventLoop::default_exception_handler(const ExceptionContext& context) {
    detail::print_exception_context(context);
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    try {
        if (handler_)
            handler_(*this, context);
        else
            default_exception_handler(context);
    } catch (...) {
        // CPython: "Unhandled error in exception handler", logged by the default handler.
        try {
            default_exception_handler(
                {"Unhandled error in exception handler", std::current_exception(), context.task});
        } catch (...) {
        }
    }
}

}  // namespace asyncio
