// asyncio/threads.hpp — asyncio.to_thread, run_coroutine_threadsafe,
// wrap_future, loop.run_in_executor.
//
// Mirrors Lib/asyncio/threads.py, tasks.run_coroutine_threadsafe and
// futures.wrap_future/_chain_future (3.13).
//
// Two worlds meet here: a loop's futures and tasks (non-atomic refcounts,
// loop thread only) and ConcurrentFutures (any thread). Every bridge between
// them follows one rule: a Future/Task handle or state is created, touched,
// copied and destroyed only on its loop's thread. What crosses threads is
// (a) a ConcurrentFuture state or a link object, both with atomic
// refcounts, and (b) callbacks posted through the loop's ThreadsafeChannel,
// which refuses them once the loop is closed (the outcome is then dropped,
// as CPython drops it, and freed by the thread that tried to post it).
//
// Differences from Python:
//   * run_in_executor(nullptr, ...) means the default executor (Python's
//     None); arguments are decay-copied (std::ref for references).
//   * If the loop closes before a run_coroutine_threadsafe coroutine
//     finishes, the ConcurrentFuture gets RuntimeError("Event loop is
//     closed") instead of staying pending forever.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/concurrent_future.hpp"
#include "asyncio/coro.hpp"
#include "asyncio/executor.hpp"
#include "asyncio/context.hpp"
#include "asyncio/future.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

namespace detail {

/// f, to be called on another thread in a copy of the context current
/// where it was bound (Python's to_thread: copy_context() + ctx.run). The copy
/// is O(1) and allocates nothing while no context variable is set; a set()
/// inside f then makes a context of its own, never the worker thread's.
template <class F>
class ContextBound {
public:
    explicit ContextBound(F f) : f_(std::move(f)), map_(map_add_ref(current_context_map())) {}
    ContextBound(ContextBound&& o) noexcept(std::is_nothrow_move_constructible_v<F>)
        : f_(std::move(o.f_)), map_(std::exchange(o.map_, nullptr)) {}
    ContextBound& operator=(ContextBound&&) = delete;
    ~ContextBound() { map_release(map_); }

    template <class... A>
    decltype(auto) operator()(A&&... args) {
        ContextSlot slot;
        if (map_) slot.adopt_map(std::exchange(map_, nullptr));
        const ContextScope scope(slot);
        return std::invoke(std::move(f_), std::forward<A>(args)...);
    }

private:
    F f_;
    ContextMap* map_;
};

/// The one place where a callable bound for another thread passes on its
/// way to the executor: run_in_executor and to_thread both run it in a copy
/// of the caller's context. (CPython's run_in_executor does not copy the
/// context, only to_thread does; here both do, so that a context variable
/// means the same in either.)
template <class F>
ContextBound<std::decay_t<F>> with_current_context(F&& f) {
    return ContextBound<std::decay_t<F>>(std::forward<F>(f));
}

/// Posts fn() to the loop behind `channel` from any thread. False (and fn
/// destroyed here) once that loop is closed.
template <class F>
bool post_threadsafe(ThreadsafeChannel* channel, F&& fn) {
    auto* cb = new Callback<std::decay_t<F>>(std::forward<F>(fn));
    cb->run = &CallbackBase::run_node;
    if (channel->post(cb)) return true;
    delete cb;
    return false;
}

/// Intrusive atomic refcount for the link objects below.
template <class Derived>
struct AtomicCounted {
    std::atomic<std::size_t> refs{1};
    void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete static_cast<Derived*>(this);
    }
};

/// A reference on an AtomicCounted link, as a move-only member of callbacks.
template <class L>
class LinkRef {
public:
    explicit LinkRef(L* l) noexcept : l_(l) { l_->add_ref(); }
    LinkRef(LinkRef&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    LinkRef& operator=(LinkRef&&) = delete;
    ~LinkRef() {
        if (l_) l_->release();
    }
    L* operator->() const noexcept { return l_; }
    L* get() const noexcept { return l_; }

private:
    L* l_;
};

/// CPython's _chain_future(concurrent source, asyncio destination).
///
/// Invariant: `dest` is read and written only on the loop's thread. It is
/// the destination future while that future lives and is not done; the
/// destination's own done callback (DestDone) clears it when it runs or dies,
/// so a non-null `dest` is always a live future.
template <class T>
struct WrapLink : AtomicCounted<WrapLink<T>> {
    WrapLink(ConcurrentState<T>* s, ThreadsafeChannel* c, bool take) noexcept
        : source(s), channel(c), consume(take) {
        source->add_ref();
        channel->add_ref();
    }
    ~WrapLink() {
        source->release();
        channel->release();
    }
    ConcurrentState<T>* source;
    ThreadsafeChannel* channel;
    FutureState<T>* dest = nullptr;
    bool consume;  // move the value out: nobody else can read `source`
};

/// Loop thread: copies the finished source's outcome into dest (_copy_future_state).
template <class T>
struct CopyState {
    LinkRef<WrapLink<T>> link;
    void operator()() {
        FutureState<T>* d = link->dest;
        if (!d || d->done()) return;  // cancelled meanwhile, or gone: drop it
        ConcurrentState<T>& s = *link->source;
        if (s.state() == ConcurrentStateBase::kCancelled) {
            d->cancel(std::nullopt);
        } else if (const std::exception_ptr& e = s.stored_exception()) {
            d->set_exception(e);
        } else {
            if constexpr (!std::is_void_v<T>) {
                if (link->consume || !std::is_copy_constructible_v<T>)
                    d->slot.value.emplace(s.take_value());
                else if constexpr (std::is_copy_constructible_v<T>)
                    d->slot.value.emplace(s.value());
            }
            d->finish_with_value();
        }
    }
};

/// On the source: runs in the thread that completes it; carries the outcome
/// over to the loop (CPython's _call_set_state).
template <class T>
struct SourceDone final : ConcurrentCallbackNode {
    explicit SourceDone(WrapLink<T>* l) : link(l) {}
    void invoke(ConcurrentStateBase&) override {
        post_threadsafe(link->channel, CopyState<T>{LinkRef<WrapLink<T>>(link.get())});
    }
    LinkRef<WrapLink<T>> link;
};

/// On the destination (loop thread): a cancelled destination cancels the
/// source (CPython's _call_check_cancel); when this callback goes, so does
/// the link's pointer to the destination.
template <class T>
struct DestDone {
    LinkRef<WrapLink<T>> link;
    explicit DestDone(WrapLink<T>* l) : link(l) {}
    DestDone(DestDone&&) noexcept = default;
    ~DestDone() {
        if (link.get()) link->dest = nullptr;
    }
    void operator()(const Future<T>& f) const {
        link->dest = nullptr;
        if (f.cancelled()) link->source->cancel();
    }
};

/// A future of `loop` mirroring `source` (CPython's wrap_future). Loop thread.
template <class T>
Future<T> wrap_concurrent(EventLoop& loop, ConcurrentState<T>* source, bool consume) {
    Future<T> fut = loop.create_future<T>();
    auto* link = new WrapLink<T>(source, LoopAccess::channel(loop), consume);
    LinkRef<WrapLink<T>> hold(link);
    link->release();  // `hold` owns the creation reference now
    link->dest = static_cast<FutureState<T>*>(fut.base());
    fut.add_done_callback(DestDone<T>(link));
    source->add_done_callback_node(new SourceDone<T>(link));
    return fut;
}

/// Reads a Future<T>'s result by moving it out (a future only we can see).
template <class T>
struct FutureTakeGet {
    static T get(FutureBase* f) {
        f->check_result();
        if constexpr (!std::is_void_v<T>)
            return std::move(*static_cast<FutureState<T>*>(f)->slot.value);
    }
};

// Not an aggregate: g++ 12 may destroy a temporary aggregate twice in a
// full-expression with co_await, and this one holds a Future handle.
template <class T>
struct ConcurrentAwaiter {
    explicit ConcurrentAwaiter(Future<T> f) noexcept : fut(std::move(f)), inner{fut.base()} {}
    Future<T> fut;
    FutureAwaiter<FutureGet<T>> inner;

    bool await_ready() const noexcept { return inner.await_ready(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        inner.await_suspend(h);
    }
    T await_resume() { return inner.await_resume(); }
};

template <class R, class F, class... Args>
Coro<R> to_thread_impl(F f, Args... args) {
    EventLoop& loop = get_running_loop();
    Future<R> fut = loop.run_in_executor(nullptr, std::move(f), std::move(args)...);
    FutureAwaiter<FutureTakeGet<R>> take{fut.base()};
    co_return co_await take;
}

/// run_coroutine_threadsafe's link: the task on the loop (loop thread only;
/// cleared by TaskDone when it runs or dies) and the concurrent future.
template <class T>
struct ThreadsafeLink : AtomicCounted<ThreadsafeLink<T>> {
    ThreadsafeLink(ConcurrentState<T>* d, ThreadsafeChannel* c) noexcept : dest(d), channel(c) {
        dest->add_ref();
        channel->add_ref();
    }
    ~ThreadsafeLink() {
        dest->release();
        channel->release();
    }
    ConcurrentState<T>* dest;
    ThreadsafeChannel* channel;
    TaskBase* task = nullptr;
};

/// Task done (loop thread): CPython's _set_concurrent_future_state.
template <class T>
struct TaskDone {
    LinkRef<ThreadsafeLink<T>> link;
    bool fired = false;
    explicit TaskDone(ThreadsafeLink<T>* l) : link(l) {}
    TaskDone(TaskDone&& o) noexcept : link(std::move(o.link)), fired(o.fired) {}
    ~TaskDone() {
        if (!link.get()) return;
        link->task = nullptr;
        // The task died unfinished (its loop was closed): say so rather
        // than leave a thread blocked in result() forever.
        if (!fired && link->dest->set_running_or_notify_cancel())
            link->dest->set_exception(
                std::make_exception_ptr(RuntimeError("Event loop is closed")));
    }
    void operator()(const Task<T>& t) {
        fired = true;
        link->task = nullptr;
        ConcurrentState<T>& cf = *link->dest;
        if (t.cancelled()) cf.cancel();
        if (!cf.set_running_or_notify_cancel()) return;
        if (std::exception_ptr e = t.exception()) {
            cf.set_exception(std::move(e));
        } else if constexpr (std::is_void_v<T>) {
            cf.set_result();
        } else {
            // Nobody else holds a Task<T> on this task: its value can move.
            Task<T> task = t;
            cf.set_result(take_result(task));
        }
    }
};

/// Loop thread: cancels the task if it still runs.
template <class T>
struct CancelTask {
    LinkRef<ThreadsafeLink<T>> link;
    void operator()() const {
        if (TaskBase* t = link->task) t->cancel(std::nullopt);
    }
};

/// On the concurrent future: a cancel() from any thread cancels the task,
/// through the loop (CPython's _call_check_cancel).
template <class T>
struct ConcurrentCancelled final : ConcurrentCallbackNode {
    explicit ConcurrentCancelled(ThreadsafeLink<T>* l) : link(l) {}
    void invoke(ConcurrentStateBase& s) override {
        if (s.state() == ConcurrentStateBase::kCancelled)
            post_threadsafe(link->channel, CancelTask<T>{LinkRef<ThreadsafeLink<T>>(link.get())});
    }
    LinkRef<ThreadsafeLink<T>> link;
};

/// The callback run_coroutine_threadsafe posts: wraps the coroutine in a
/// task on the loop and chains the two (loop thread).
template <class T>
struct ThreadsafeStarter {
    ThreadsafeStarter(Coro<T> c, ConcurrentFuture<T> f) noexcept
        : coro(std::move(c)), cf(std::move(f)) {}
    ThreadsafeStarter(ThreadsafeStarter&&) noexcept = default;
    ~ThreadsafeStarter() {
        // Dropped unrun by close(): fail the future rather than leave a
        // thread blocked in result() forever.
        if (coro && cf && cf.set_running_or_notify_cancel())
            cf.set_exception(std::make_exception_ptr(RuntimeError("Event loop is closed")));
    }
    Coro<T> coro;
    ConcurrentFuture<T> cf;
    void operator()() {
        EventLoop& loop = get_running_loop();
        Task<T> task;
        try {
            task = loop.create_task(std::move(coro));
        } catch (const KeyboardInterrupt&) {
            throw;
        } catch (const SystemExit&) {
            throw;
        } catch (...) {
            if (cf.set_running_or_notify_cancel()) cf.set_exception(std::current_exception());
            throw;  // and to the loop's exception handler, as CPython does
        }
        auto* link = new ThreadsafeLink<T>(cf.state(), LoopAccess::channel(loop));
        LinkRef<ThreadsafeLink<T>> hold(link);
        link->release();
        link->task = task.base();
        task.add_done_callback(TaskDone<T>(link));
        cf.state()->add_done_callback_node(new ConcurrentCancelled<T>(link));
    }
};

}  // namespace detail

/// Python's asyncio.wrap_future(future, loop=None): a future of `loop`
/// (default: the running loop) that completes with `cf`; cancelling it
/// cancels `cf`. The value is copied (moved for a move-only T, which then
/// leaves `cf` with a moved-from value).
template <class T>
Future<T> wrap_future(const ConcurrentFuture<T>& cf, EventLoop* loop = nullptr) {
    return detail::wrap_concurrent(loop ? *loop : get_running_loop(), cf.state(), false);
}
/// An asyncio Future is returned as is (Python's isfuture(future) case).
template <class T>
Future<T> wrap_future(Future<T> fut) {
    return fut;
}

template <class T>
detail::ConcurrentAwaiter<T> ConcurrentFuture<T>::operator co_await() const {
    return detail::ConcurrentAwaiter<T>(wrap_future(*this));
}

template <class F, class... Args>
Future<detail::executor_result_t<F, Args...>> EventLoop::run_in_executor(Executor* executor, F&& f,
                                                                         Args&&... args) {
    using R = detail::executor_result_t<F, Args...>;
    check_closed();
    Executor& ex = executor ? *executor : default_executor();
    ConcurrentFuture<R> cf =
        ex.submit(detail::with_current_context(std::forward<F>(f)), std::forward<Args>(args)...);
    // Nobody but us sees `cf`: the value can move across.
    return detail::wrap_concurrent(*this, cf.state(), true);
}

/// Python's asyncio.to_thread(func, *args): runs f(args...) in the running
/// loop's default executor and returns its result. f and the arguments are
/// decay-copied into the call when the coroutine is created (pass std::ref
/// for a reference) and invoked as rvalues, as std::thread does; no
/// capturing lambda needed (mind g++ 12's double destruction of those).
/// Suspends: until the call returns. Cancellation: the call keeps running
/// (threads cannot be interrupted) but its result is dropped; a call not yet
/// started is not run. Throws: what f throws (the same object);
/// RuntimeError("Executor shutdown has been called") after
/// shutdown_default_executor().
template <class F, class... Args>
requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
    Coro<detail::executor_result_t<F, Args...>> to_thread(F&& f, Args&&... args) {
    return detail::to_thread_impl<detail::executor_result_t<F, Args...>, std::decay_t<F>,
                                  std::decay_t<Args>...>(std::forward<F>(f),
                                                         std::forward<Args>(args)...);
}

/// Python's asyncio.run_coroutine_threadsafe(coro, loop): from any thread,
/// runs coro as a task on `loop` and returns a ConcurrentFuture for its
/// result. Cancelling the ConcurrentFuture cancels the task (through
/// call_soon_threadsafe); a cancelled task cancels the ConcurrentFuture.
/// `coro` may have been created on this thread: after the hand-off only the
/// loop's thread touches it. Done callbacks added to the result run on the
/// loop's thread (the one completing it).
/// Throws: RuntimeError("Event loop is closed"); ValueError for an empty Coro.
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    if (!coro) throw ValueError("A coroutine object is required");
    ConcurrentFuture<T> cf = ConcurrentFuture<T>::create();
    loop.call_soon_threadsafe(detail::ThreadsafeStarter<T>(std::move(coro), cf));
    return cf;
}

}  // namespace asyncio
