// future.cpp — FutureBase: completion, callbacks, retrieval, and the
// "exception was never retrieved" report. Mirrors Lib/asyncio/futures.py.
#include <vector>

#include "asyncio/task.hpp"
#include "describe.hpp"

namespace asyncio::detail {

namespace {
thread_local std::uint64_t t_callback_ids = 0;
}

[[noreturn]] void throw_invalid_state(const char* msg) {
    throw InvalidStateError(msg);
}

std::exception_ptr make_cancelled_error(const std::optional<std::string>& msg) {
    return std::make_exception_ptr(CancelledError(msg.value_or(std::string())));
}

EventLoop& FutureBase::get_loop() const {
    if (!anchor_->loop) throw RuntimeError("the event loop of this future no longer exists");
    return *anchor_->loop;
}

FutureBase::~FutureBase() {
    // Done callbacks that never got scheduled die with the future. (A waiting
    // task cannot be in the list: it holds a reference to what it awaits.)
    if (cb_tail_) {
        ReadyNode* n = cb_tail_->next_ready;
        cb_tail_->next_ready = nullptr;
        cb_tail_ = nullptr;
        while (n) {
            ReadyNode* next = n->next_ready;
            if (n->run == &DoneCallbackNode::run_node) delete static_cast<DoneCallbackNode*>(n);
            n = next;
        }
    }
    release_anchor(anchor_);
}

void FutureBase::schedule_callbacks() {
    if (!cb_tail_) return;
    ReadyNode* head = cb_tail_->next_ready;
    ReadyNode* tail = cb_tail_;
    tail->next_ready = nullptr;
    cb_tail_ = nullptr;
    EventLoop* l = anchor_->loop;
    for (ReadyNode* n = head; n; n = n->next_ready) {
        if (n->run == &DoneCallbackNode::run_node) {
            // The callback keeps the future alive until it has run.
            static_cast<DoneCallbackNode*>(n)->fut = this;
            add_ref();
        }
    }
    if (!l || l->is_closed()) {
        for (ReadyNode* n = head; n;) {
            ReadyNode* next = n->next_ready;
            n->run(n, Run::dispose);
            n = next;
        }
        throw RuntimeError("Event loop is closed");
    }
    LoopAccess::ready(*l).append_chain(head, tail);
}

bool FutureBase::remove_callback(ReadyNode* n) noexcept {
    if (!cb_tail_) return false;
    ReadyNode* prev = cb_tail_;
    do {
        ReadyNode* cur = prev->next_ready;
        if (cur == n) {
            if (cur == prev) {
                cb_tail_ = nullptr;
            } else {
                prev->next_ready = cur->next_ready;
                if (cur == cb_tail_) cb_tail_ = prev;
            }
            n->next_ready = nullptr;
            return true;
        }
        prev = cur;
    } while (prev != cb_tail_);
    return false;
}

CallbackId FutureBase::add_done_callback_node(DoneCallbackNode* n) {
    n->run = &DoneCallbackNode::run_node;
    n->id = CallbackId{++t_callback_ids};
    const CallbackId id = n->id;
    if (state_ == kPending) {
        add_callback(n);
        return id;
    }
    // Already done: schedule it right away (never call it inline).
    EventLoop* l = anchor_->loop;
    if (!l || l->is_closed()) {
        delete n;
        throw RuntimeError("Event loop is closed");
    }
    n->fut = this;
    add_ref();
    LoopAccess::ready(*l).push(n);
    return id;
}

std::size_t FutureBase::remove_done_callback(CallbackId id) noexcept {
    if (!cb_tail_) return 0;
    ReadyNode* n = cb_tail_;
    do {
        if (n->run == &DoneCallbackNode::run_node && static_cast<DoneCallbackNode*>(n)->id == id) {
            remove_callback(n);
            delete static_cast<DoneCallbackNode*>(n);
            return 1;
        }
        n = n->next_ready;
    } while (n != cb_tail_);
    return 0;
}

void DoneCallbackNode::run_node(ReadyNode* n, Run mode) {
    auto* d = static_cast<DoneCallbackNode*>(n);
    FutureBase* f = d->fut;
    struct Cleanup {
        DoneCallbackNode* d;
        FutureBase* f;
        ~Cleanup() {
            delete d;
            f->release();
        }
    } cleanup{d, f};
    if (mode == Run::dispose) return;
    try {
        d->invoke(f);
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (const SystemExit&) {
        throw;
    } catch (...) {
        if (EventLoop* l = f->loop())
            l->call_exception_handler({"Exception in callback", std::current_exception(), {}});
    }
}

bool FutureBase::cancel(const std::optional<std::string>& msg) {
    if (kind_ == kTask) return static_cast<TaskBase*>(this)->cancel(msg);
    if (kind_ == kGatheringFuture) {  // cancels the children (asyncio/gather.hpp)
        auto* s = static_cast<FutureStateBase*>(this);
        return s->cancel_hook_(s, msg);
    }
    return cancel_future(msg);
}

bool FutureBase::cancel_future(const std::optional<std::string>& msg) {
    log_traceback_ = 0;  // CPython: cancel() first clears __log_traceback
    if (state_ != kPending) return false;
    state_ = kCancelled;
    exc_slot() = make_cancelled_error(msg);
    schedule_callbacks();
    return true;
}

void FutureBase::check_result_slow() {
    if (state_ == kPending) throw InvalidStateError("Result is not set.");
    if (state_ == kCancelled) std::rethrow_exception(exc_slot());
    log_traceback_ = 0;
    if (const std::exception_ptr& e = exc_slot()) std::rethrow_exception(e);
}

std::exception_ptr FutureBase::exception() {
    if (state_ == kPending) throw InvalidStateError("Exception is not set.");
    if (state_ == kCancelled) std::rethrow_exception(exc_slot());
    log_traceback_ = 0;
    return exc_slot();
}

void FutureBase::set_exception(std::exception_ptr e) {
    if (!e) throw ValueError("set_exception() needs an exception");
    if (state_ != kPending) throw InvalidStateError("invalid state");
    exc_slot() = std::move(e);
    state_ = kFinished;
    log_traceback_ = 1;
    schedule_callbacks();
}

void FutureBase::finish_with_value() {
    state_ = kFinished;
    schedule_callbacks();
}

void FutureBase::last_ref_gone() noexcept {
    const char* message = nullptr;
    if (!reported_) {
        if (log_traceback_)
            message = kind_ == kTask              ? "Task exception was never retrieved"
                      : kind_ == kGatheringFuture ? "_GatheringFuture exception was never retrieved"
                                                  : "Future exception was never retrieved";
        else if (kind_ == kTask && state_ == kPending)
            message = "Task was destroyed but it is pending!";
    }
    if (!message) return destroy_self();
    // Resurrect for the report; the handler may even keep a reference.
    reported_ = 1;
    refs_ = 1;
    {
        ExceptionContext ctx{message, log_traceback_ ? exc_slot() : nullptr, {}};
        log_traceback_ = 0;
        if (kind_ == kTask) {
            add_ref();
            ctx.task = TaskRef::adopt(static_cast<TaskBase*>(this));
        }
        if (EventLoop* l = anchor_->loop) {
            l->call_exception_handler(ctx);
        } else {
            // The loop is gone: report as its default handler would.
            print_exception_context(ctx);
        }
    }
    release();
}

void FutureBase::destroy_self() noexcept {
    switch (kind_) {
        case kHeapFuture:
        case kGatheringFuture: {
            auto* s = static_cast<FutureStateBase*>(this);
            s->deleter_(s);
            break;
        }
        case kTask:
            delete static_cast<TaskBase*>(this);
            break;
        default:  // embedded in a coroutine frame: its owner destroys it
            break;
    }
}

std::exception_ptr make_bad_await_error(FutureBase* fut, TaskBase* task) {
    if (fut == static_cast<FutureBase*>(task))
        return std::make_exception_ptr(
            RuntimeError("Task cannot await on itself: " + task->repr()));
    return std::make_exception_ptr(
        RuntimeError("Task " + task->repr() + " got Future attached to a different loop"));
}

}  // namespace asyncio::detail
