// asyncio/loop.hpp — asyncio.AbstractEventLoop / BaseEventLoop, Handle,
// TimerHandle, get_running_loop, new_event_loop.
//
// Mirrors Lib/asyncio/base_events.py (the parts that are not I/O).
//
// One iteration (CPython's _run_once): compute the poll timeout (0 if anything
// is ready, else until the earliest timer, rounded up to 1 ms, else forever);
// poll epoll only when that timeout is not 0 or another thread asked to wake
// us; move every due timer to the ready queue; then run exactly the entries
// that were ready when the iteration began. What they schedule runs in the
// next iteration.
//
// Thread-safety: an EventLoop and everything it runs belong to one thread.
// call_soon_threadsafe() is the one method other threads may call.
//
// Differences from Python:
//   * run_until_complete() takes a Coro<T>, Task<T> or Future<T> and returns T.
//   * Callbacks are nullary callables (bind arguments with a lambda).
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "asyncio/context.hpp"
#include "asyncio/detail/frame_alloc.hpp"
#include "asyncio/detail/ready_queue.hpp"
#include "asyncio/detail/timer_heap.hpp"
#include "asyncio/errors.hpp"

namespace asyncio {

class EventLoop;
template <class T>
class Coro;
template <class T>
class Task;
template <class T>
class Future;
class TaskRef;
struct ExceptionContext;
class Executor;

/// Seconds as Python passes them: any arithmetic value or std::chrono::duration.
using Seconds = std::chrono::duration<double>;

class Delay {
public:
    template <class A>
    requires std::is_arithmetic_v<A>
    constexpr Delay(A seconds) noexcept : s_(static_cast<double>(seconds)) {}
    template <class Rep, class Period>
    constexpr Delay(std::chrono::duration<Rep, Period> d) noexcept
        : s_(std::chrono::duration_cast<Seconds>(d).count()) {}

    constexpr double seconds() const noexcept { return s_; }

private:
    double s_;
};

/// Keyword arguments of create_task (fields in the order of Python's signature).
struct TaskOptions {
    std::optional<std::string> name = std::nullopt;
    /// The context the task runs in (that very one); default: a copy of the current one.
    std::optional<Context> context = std::nullopt;
    /// Run the first step inside create_task (3.12's eager_start), when the
    /// loop is running; a task that finishes there is never scheduled.
    bool eager_start = false;
};

/// Keyword arguments of call_soon, call_later, call_at and add_done_callback.
struct CallbackOptions {
    /// The context the callback runs in (that very one); default: a copy of
    /// the context current when the callback was scheduled.
    std::optional<Context> context = std::nullopt;
};

class AnyCoro;
/// What loop.set_task_factory() takes (Python: factory(loop, coro, **kwargs)):
/// it must return a task wrapping the very coroutine it was given, normally
/// made with asyncio::make_task (see asyncio/task.hpp).
using TaskFactory = std::function<TaskRef(EventLoop&, AnyCoro, TaskOptions)>;

namespace detail {

class TaskBase;
class FutureBase;
struct LoopAccess;

/// What futures and tasks point at instead of the loop itself, so that a
/// handle outliving its loop can still tell that the loop is gone.
/// Invariant: deleted when the loop is gone and refs == 0.
struct LoopAnchor {
    EventLoop* loop;
    std::size_t refs;
};

/// Base of call_soon/call_later callbacks. Refcounted: the queue or heap holds
/// one reference while the callback is scheduled, each Handle one more.
struct CallbackBase : TimerNode {
    LoopAnchor* anchor = nullptr;
    std::uint32_t refs = 1;
    bool cancelled = false;
    bool is_timer = false;
    bool running = false;
    ContextSlot context;  // what it runs in (capture_context)

    virtual void invoke() = 0;
    /// The callable's type, for debug reports (typeid).
    virtual const std::type_info& callable_type() const noexcept = 0;
    /// Destroys the callable early (a cancelled handle, as CPython's
    /// `_callback = None`), so what it captured does not outlive the cancel.
    virtual void drop() noexcept = 0;
    virtual ~CallbackBase() = default;

    void release() noexcept {
        if (--refs == 0) delete this;
    }
    static void run_node(ReadyNode* n, Run mode);
};

template <class F>
struct Callback final : CallbackBase, FrameAllocated {
    template <class G>
    explicit Callback(G&& g) : fn(std::in_place, std::forward<G>(g)) {}
    void invoke() override { (*fn)(); }
    const std::type_info& callable_type() const noexcept override { return typeid(F); }
    void drop() noexcept override { fn.reset(); }
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    std::optional<F> fn;
};

/// Socket-free poller: epoll with an eventfd for wake-ups. Only src/loop/
/// touches the OS calls behind it.
class Poller {
public:
    Poller();
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;
    /// Waits up to timeout_ms (-1: forever). Returns true if the waker fired.
    bool poll(int timeout_ms);
    /// Thread-safe and async-signal-safe.
    void wake() const noexcept;

private:
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
};

/// The loop's cross-thread inbox (call_soon_threadsafe), shared by an atomic
/// refcount between the loop and whatever other threads keep to post to it
/// later (an executor's finished work item, a ConcurrentFuture's cancel()).
/// Posting after the loop was closed, or even destroyed, fails cleanly
/// instead of touching a dead loop.
///
/// Invariant: loop_ is non-null until EventLoop::close(), which nulls it
/// under mutex_; a post that saw it non-null has queued its callback and
/// woken the poller before close() can take the queue (the wake-up happens
/// under the lock, so no post touches the poller after close()).
class ThreadsafeChannel {
public:
    explicit ThreadsafeChannel(EventLoop* loop) noexcept : loop_(loop) {}
    ThreadsafeChannel(const ThreadsafeChannel&) = delete;
    ThreadsafeChannel& operator=(const ThreadsafeChannel&) = delete;

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    /// Any thread: queues cb for the loop and wakes it. Returns false, and
    /// leaves cb to the caller, once the loop is closed.
    bool post(CallbackBase* cb) noexcept;
    /// Loop thread: what was posted since the last call.
    ReadyNode* take_all() noexcept;
    /// Loop thread (close()): refuses every later post; returns what is queued.
    ReadyNode* close() noexcept;

private:
    std::atomic<std::size_t> refs_{1};
    std::mutex mutex_;
    ReadyQueue queue_;
    EventLoop* loop_;
};

struct VirtualTimeTag {};

/// ASYNCIO_DEBUG is set and not empty (read once).
bool debug_from_environment() noexcept;
/// What run_in_executor's future holds: f called with rvalues of the
/// decay-copied arguments (std::thread's rule); a returned reference is
/// copied, since the value crosses threads.
template <class F, class... Args>
using executor_result_t =
    std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

}  // namespace detail

/// A scheduled callback (call_soon). cancel() keeps it from running.
class Handle {
public:
    Handle() = default;
    Handle(const Handle& o) noexcept : p_(o.p_) {
        if (p_) ++p_->refs;
    }
    Handle(Handle&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Handle& operator=(Handle o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~Handle() {
        if (p_) p_->release();
    }

    void cancel() noexcept;
    bool cancelled() const noexcept { return p_ && p_->cancelled; }

    explicit Handle(detail::CallbackBase* p) noexcept : p_(p) {}  // adopts one reference

protected:
    detail::CallbackBase* p_ = nullptr;
};

/// A callback scheduled at a loop time (call_later, call_at).
class TimerHandle : public Handle {
public:
    using Handle::Handle;
    double when() const noexcept { return p_ ? p_->when : 0.0; }
};

namespace detail {
/// The loop running in this thread (nullptr outside run_forever()).
inline thread_local EventLoop* t_running_loop = nullptr;
inline EventLoop* running_loop() noexcept {
    return t_running_loop;
}
[[noreturn]] void throw_no_running_loop();
[[noreturn]] void throw_loop_closed();
}  // namespace detail

/// Returns the loop running in this thread; throws RuntimeError("no running event loop").
inline EventLoop& get_running_loop() {
    EventLoop* l = detail::t_running_loop;
    if (!l) [[unlikely]]
        detail::throw_no_running_loop();
    return *l;
}

class EventLoop {
public:
    using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

    EventLoop();
    explicit EventLoop(detail::VirtualTimeTag);  // see asyncio/testing.hpp
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Seconds on the loop's monotonic clock (virtual for a testing loop).
    double time() const noexcept;
    /// True for a loop whose clock jumps to the next timer when nothing is ready.
    bool virtual_time() const noexcept { return virtual_time_; }

    /// Schedules fn() for the next iteration, after everything already ready.
    template <class F>
    Handle call_soon(F&& fn, CallbackOptions options = {}) {
        check_closed();
        auto* cb = new detail::Callback<std::decay_t<F>>(std::forward<F>(fn));
        detail::capture_context(cb->context, options.context);
        cb->anchor = anchor_;
        cb->run = &detail::CallbackBase::run_node;
        ++cb->refs;  // the queue's reference + the handle's
        ready_.push(cb);
        return Handle(cb);
    }
    template <class F>
    TimerHandle call_later(Delay delay, F&& fn, CallbackOptions options = {}) {
        return call_at(time() + delay.seconds(), std::forward<F>(fn), std::move(options));
    }
    template <class F>
    TimerHandle call_at(double when, F&& fn, CallbackOptions options = {}) {
        check_closed();
        if (std::isnan(when)) throw ValueError("call_at(): when is NaN");
        auto* cb = new detail::Callback<std::decay_t<F>>(std::forward<F>(fn));
        detail::capture_context(cb->context, options.context);
        cb->anchor = anchor_;
        cb->run = &detail::CallbackBase::run_node;
        cb->is_timer = true;
        cb->when = when;
        ++cb->refs;
        timers_.push(cb);
        return TimerHandle(cb);
    }
    /// The one method other threads may call: schedules fn() and wakes the loop.
    /// Costs a mutex and one atomic exchange; the eventfd is written only
    /// when the loop has not been woken yet since it last drained the queue.
    /// Throws RuntimeError("Event loop is closed") after close() (fn is
    /// then destroyed in the calling thread).
    template <class F>
    void call_soon_threadsafe(F&& fn, CallbackOptions options = {}) {
        auto* cb = new detail::Callback<std::decay_t<F>>(std::forward<F>(fn));
        detail::capture_context(cb->context, options.context);  // the calling thread's
        cb->run = &detail::CallbackBase::run_node;
        if (!channel_->post(cb)) [[unlikely]] {
            delete cb;
            detail::throw_loop_closed();
        }
    }

    template <class T = void>
    Future<T> create_future();
    /// Wraps coro in a task, through the task factory if one is set.
    template <class T>
    Task<T> create_task(Coro<T> coro);
    template <class T>
    Task<T> create_task(Coro<T> coro, TaskOptions options);
    /// nullptr restores the default (asyncio::make_task).
    void set_task_factory(TaskFactory factory);
    const TaskFactory& get_task_factory() const noexcept { return task_factory_; }

    /// Runs until the awaitable is done and returns its result (or rethrows).
    template <class T>
    T run_until_complete(Coro<T> coro);
    template <class T>
    T run_until_complete(Task<T> task);
    template <class T>
    T run_until_complete(Future<T> future);
    void run_forever();
    void stop() noexcept { stopping_ = true; }
    bool is_running() const noexcept { return running_; }
    bool is_closed() const noexcept { return closed_; }
    /// Drops what is still scheduled; pending tasks lose the loop's reference.
    /// Throws RuntimeError("Cannot close a running event loop").
    void close();

    void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
    const ExceptionHandler& get_exception_handler() const noexcept { return handler_; }
    void default_exception_handler(const ExceptionContext& context);
    void call_exception_handler(const ExceptionContext& context) noexcept;

    // Executors (defined in asyncio/threads.hpp and src/threads.cpp).
    /// Python's loop.run_in_executor(executor, func, *args): calls
    /// f(args...) in `executor` (nullptr: the loop's default executor, a
    /// ThreadPoolExecutor made on first use) with decay-copied arguments, as
    /// std::thread does, and returns a future of this loop for its result.
    template <class F, class... Args>
    Future<detail::executor_result_t<F, Args...>> run_in_executor(Executor* executor, F&& f,
                                                                  Args&&... args);
    /// The executor run_in_executor(nullptr, ...) and to_thread use; the loop
    /// shares its ownership (shuts it down in shutdown_default_executor()).
    void set_default_executor(std::shared_ptr<Executor> executor);
    /// Shuts the default executor down and waits, in a helper thread, for its
    /// workers to finish; the loop keeps running meanwhile.
    Coro<void> shutdown_default_executor(std::optional<Delay> timeout = std::nullopt);

    /// Debug mode (also on for every new loop when the environment variable
    /// ASYNCIO_DEBUG is set and not empty): coroutines destroyed without being
    /// awaited and callbacks or task steps slower than slow_callback_duration
    /// are reported through the exception handler.
    void set_debug(bool enabled) noexcept;
    bool get_debug() const noexcept { return debug_; }
    /// Seconds a callback may run before debug mode reports it as slow.
    double slow_callback_duration = 0.1;

private:
    friend struct detail::LoopAccess;
    friend class detail::TaskBase;
    friend class detail::FutureBase;
    friend class Handle;
    friend class Runner;
    friend class detail::ThreadsafeChannel;

    void check_closed() const {
        if (closed_) [[unlikely]]
            detail::throw_loop_closed();
    }
    void check_runnable() const;
    void run_once();
    void run_ready(detail::ReadyNode* chain);
    void run_node_timed(detail::ReadyNode* n);
    TaskRef create_task_via_factory(AnyCoro coro, TaskOptions options);
    void process_wakeups();
    template <class T>
    T run_task_until_complete(Task<T>& task, bool owned);
    template <class T>
    Task<T> make_task(Coro<T>& coro, TaskOptions* options);
    detail::TaskBase* new_task(std::coroutine_handle<> h, TaskOptions* options);

    detail::ReadyQueue ready_;
    detail::TaskBase* current_task_ = nullptr;
    detail::TaskBase* tasks_ = nullptr;  // intrusive list of pending tasks
    std::size_t task_count_ = 0;
    detail::LoopAnchor* anchor_;
    detail::TimerHeap timers_;
    detail::Poller poller_;

    bool running_ = false;
    bool stopping_ = false;
    bool closed_ = false;
    bool debug_ = false;
    bool virtual_time_ = false;
    double virtual_now_ = 0.0;

    // Cross-thread wake-ups: the flag is read every iteration without a lock;
    // the channel and the hooks are only touched when it is set.
    std::atomic<bool> wakeup_pending_{false};
    detail::ThreadsafeChannel* channel_;
    void (*signal_hook_)(void*) = nullptr;
    void* signal_hook_arg_ = nullptr;

    ExceptionHandler handler_;
    TaskFactory task_factory_;
    // task_factory_ is asyncio::eager_task_factory itself: create_task then
    // does what it would do without the std::function call and the checks
    // of a foreign factory's result (11 ns of 41 per task, eager_bench).
    bool eager_factory_ = false;

    // Executors: see asyncio/threads.hpp.
    Executor& default_executor();
    std::shared_ptr<Executor> default_executor_;
    bool executor_shutdown_called_ = false;
};

/// A new, not running loop with a real monotonic clock.
std::unique_ptr<EventLoop> new_event_loop();

namespace detail {

/// Library-internal access to the loop's machinery (not API).
struct LoopAccess {
    static ReadyQueue& ready(EventLoop& l) noexcept { return l.ready_; }
    static TimerHeap& timers(EventLoop& l) noexcept { return l.timers_; }
    static TaskBase*& current_task(EventLoop& l) noexcept { return l.current_task_; }
    static LoopAnchor* anchor(EventLoop& l) noexcept { return l.anchor_; }
    static void check_closed(const EventLoop& l) { l.check_closed(); }
    static bool running(const EventLoop& l) noexcept { return l.running_; }
    static TaskBase* new_task(EventLoop& l, std::coroutine_handle<> h, TaskOptions* options) {
        return l.new_task(h, options);
    }
    static void register_task(EventLoop& l, TaskBase* t) noexcept;
    static void unregister_task(EventLoop& l, TaskBase* t) noexcept;
    static TaskBase* tasks(EventLoop& l) noexcept { return l.tasks_; }
    static std::size_t task_count(EventLoop& l) noexcept { return l.task_count_; }
    /// Installs fn(arg) to run on the loop thread whenever it is woken up.
    static void set_signal_hook(EventLoop& l, void (*fn)(void*), void* arg) noexcept {
        l.signal_hook_ = fn;
        l.signal_hook_arg_ = arg;
    }
    /// The cross-thread inbox, for posting from threads that may outlive the loop.
    static ThreadsafeChannel* channel(EventLoop& l) noexcept { return l.channel_; }
    /// Async-signal-safe: flags a wake-up and writes the eventfd.
    static void wake_from_signal(EventLoop& l) noexcept {
        l.wakeup_pending_.store(true, std::memory_order_release);
        l.poller_.wake();
    }
};

}  // namespace detail
}  // namespace asyncio
