// asyncio/detail/core.hpp — the untyped machinery under Future<T>, Coro<T>
// and Task<T>: FutureBase, TaskBase, PromiseBase and the awaiters that
// suspend a task. Not API; may change at any time.
//
// Mirrors Lib/asyncio/futures.py (Future) and tasks.py (Task.__step,
// __wakeup, cancel, uncancel), laid out so the two can be read side by side.
//
// Memory: a task is its coroutine frame plus one TaskBase (72 bytes), both
// from the per-thread frame cache. The TaskBase keeps the root frame alive
// after it finished, because the result lives in the root promise; so does
// the state a task keeps in its root promise's slots (the resume slot, the
// future it waits on, its extras).
//
// Stepping (bounded stack in every build mode): TaskBase::step() is a
// trampoline. Awaiting a Coro runs the child as a plain call from the
// parent's await_suspend, which resumes the parent (`false`) if the child
// returned; if the child suspended, the parent stays suspended and the child
// is where the task resumes it. Those calls nest at most kMaxEagerDepth deep;
// past that, awaiting a Coro stores the child in the resume slot and
// suspends the parent. The loop in step() resumes whatever the resume slot
// holds, or, when the frame it resumed returned, that frame's caller, until
// an awaiter sets `waiting_` (the task waits for a future or yields) or the
// root finishes. The awaiting coroutine itself is never resumed from inside
// its await_suspend (clang 14 miscompiles that).
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>

#include "asyncio/loop.hpp"

namespace asyncio {

enum class CallbackId : std::uint64_t {};

namespace detail {

/// What result() returns: `const T&`, or void.
template <class T>
struct result_ref {
    using type = const T&;
};
template <>
struct result_ref<void> {
    using type = void;
};
template <class T>
using result_ref_t = typename result_ref<T>::type;

enum FState : std::uint8_t { kPending = 0, kFinished = 1, kCancelled = 2 };
// kGatheringFuture: a heap future (deleted through deleter_) whose cancel()
// is its cancel_hook_ — gather's _GatheringFuture (asyncio/gather.hpp).
enum FKind : std::uint8_t { kHeapFuture = 0, kEmbeddedFuture = 1, kTask = 2, kGatheringFuture = 3 };

class TaskBase;
struct PromiseBase;

void release_anchor(LoopAnchor* a) noexcept;
[[noreturn]] void throw_invalid_state(const char* msg);
std::exception_ptr make_cancelled_error(const std::optional<std::string>& msg);

/// Python's Future, untyped. Refcounted by handles; the value lives in the
/// typed subclass (FutureState<T>) or, for a task, in its root promise.
///
/// State transitions: pending -> finished | cancelled, once.
class FutureBase {
public:
    FutureBase(EventLoop& loop, FKind kind) noexcept
        : anchor_(LoopAccess::anchor(loop)), kind_(kind) {
        ++anchor_->refs;
    }
    FutureBase(const FutureBase&) = delete;
    FutureBase& operator=(const FutureBase&) = delete;

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) last_ref_gone();
    }
    /// Takes a waiter's reference, except on a future embedded in the very
    /// frame that waits on it (a sleep): that one outlives the wait by
    /// construction, and may be gone by the time the step that resumed it
    /// ends. Returns whether a reference was taken.
    bool hold() noexcept {
        if (kind_ == kEmbeddedFuture) return false;
        ++refs_;
        return true;
    }

    bool done() const noexcept { return state_ != kPending; }
    bool embedded() const noexcept { return kind_ == kEmbeddedFuture; }
    bool cancelled() const noexcept { return state_ == kCancelled; }
    /// The loop, or nullptr once it has been destroyed.
    EventLoop* loop() const noexcept { return anchor_->loop; }
    EventLoop& get_loop() const;
    LoopAnchor* anchor() const noexcept { return anchor_; }

    /// Future.cancel / Task.cancel, by kind.
    bool cancel(const std::optional<std::string>& msg);
    /// For result(): throws InvalidStateError("Result is not set."), the
    /// cancellation, or the stored exception; marks the exception retrieved.
    void check_result() {
        if (state_ == kFinished && !log_traceback_ && !has_exception()) [[likely]]
            return;
        check_result_slow();
    }
    std::exception_ptr exception();
    void set_exception(std::exception_ptr e);
    /// Marks a typed value as set (the caller stored it) and schedules callbacks.
    void finish_with_value();

    /// The intrusive callback list (CPython's _callbacks): task wake-ups and
    /// done callbacks, fired in registration order through the ready queue.
    void add_callback(ReadyNode* n) noexcept {
        if (!cb_tail_) {
            n->next_ready = n;
        } else {
            n->next_ready = cb_tail_->next_ready;
            cb_tail_->next_ready = n;
        }
        cb_tail_ = n;
    }
    bool remove_callback(ReadyNode* n) noexcept;
    /// The newest node of the callback list (nullptr if none): gather, wait
    /// and as_completed spot a future passed twice with it, in O(1).
    ReadyNode* last_callback() const noexcept { return cb_tail_; }
    CallbackId add_done_callback_node(struct DoneCallbackNode* n);
    std::size_t remove_done_callback(CallbackId id) noexcept;

    inline std::exception_ptr& exc_slot() noexcept;
    bool has_exception() noexcept { return static_cast<bool>(exc_slot()); }

protected:
    friend struct LoopAccess;
    ~FutureBase();
    void schedule_callbacks();
    bool cancel_future(const std::optional<std::string>& msg);
    void check_result_slow();
    void last_ref_gone() noexcept;
    void destroy_self() noexcept;

    LoopAnchor* anchor_;
    ReadyNode* cb_tail_ = nullptr;  // circular list; tail->next_ready is the head
    std::uint32_t refs_ = 1;
    // Task-only fields are packed here so that a TaskBase stays small.
    std::uint32_t num_cancels_requested_ = 0;
    std::uint64_t id_ : 48 = 0;
    std::uint64_t state_ : 2 = kPending;
    std::uint64_t kind_ : 2 = kHeapFuture;
    std::uint64_t log_traceback_ : 1 = 0;   // an exception nobody has retrieved
    std::uint64_t must_cancel_ : 1 = 0;     // Task: cancel at the next step
    std::uint64_t deliver_cancel_ : 1 = 0;  // Task: throw CancelledError at resumption
    std::uint64_t pending_exc_ : 1 = 0;     // Task: throw extras->pending_exc at resumption
    std::uint64_t started_ : 1 = 0;         // Task: the root ran past initial_suspend
    std::uint64_t waiting_ : 1 = 0;         // Task: suspended on a future or a yield
    std::uint64_t propagate_ : 1 = 0;       // Task: ended with KeyboardInterrupt/SystemExit
    std::uint64_t registered_ : 1 = 0;      // Task: in the loop's list of pending tasks
    std::uint64_t transparent_ : 1 = 0;     // Task: parked in a frame that only passes errors on
    std::uint64_t waiter_held_ : 1 = 0;  // Task: holds a reference on fut_waiter() (until its step)
    std::uint64_t reported_ : 1 = 0;     // already reported to the exception handler
    std::uint64_t eager_done_ : 1 = 0;   // Task: finished inside create_task (get_coro() is empty)
};

/// A future that is not a task: exception slot plus a typed deleter.
class FutureStateBase : public FutureBase {
public:
    using FutureBase::FutureBase;
    std::exception_ptr exc_;
    void (*deleter_)(FutureStateBase*) noexcept = nullptr;
    // kGatheringFuture only: what cancel() does (CPython's _GatheringFuture.cancel).
    bool (*cancel_hook_)(FutureStateBase*, const std::optional<std::string>&) = nullptr;

protected:
    ~FutureStateBase() = default;
};

/// A user done callback in a future's callback list. Holds a reference to
/// the future from the moment it is scheduled until it has run.
struct DoneCallbackNode : ReadyNode {
    FutureBase* fut = nullptr;
    CallbackId id{};
    virtual void invoke(FutureBase* f) = 0;
    virtual ~DoneCallbackNode() = default;
    static void run_node(ReadyNode* n, Run mode);
};

// From the frame cache: a task with a context (or a name) allocates one.
struct TaskExtras : FrameAllocated {
    std::optional<std::string> name;
    std::optional<std::string> cancel_message;
    std::exception_ptr pending_exc;  // e.g. "Task cannot await on itself"
    ContextSlot context;             // empty until a variable is set (asyncio/context.hpp)
};

/// Python's Task, untyped. Lives beside the root coroutine frame.
///
/// Flags (in FutureBase): must_cancel_ is set by cancel() when there is no
/// future to cancel and cleared at the next step (or by uncancel() reaching
/// zero, 3.13); that step turns it into deliver_cancel_, which the awaiter
/// the task resumes in throws as CancelledError. waiting_ is set by an
/// awaiter that parks the task and cleared when the task steps.
class TaskBase : public FutureBase, public ReadyNode, public FrameAllocated {
public:
    TaskBase(EventLoop& loop, std::coroutine_handle<> root) noexcept
        : FutureBase(loop, kTask), root_(root) {
        run = &TaskBase::run_node;
        resume_slot() = root;
    }
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;

    static void run_node(ReadyNode* n, Run mode);
    void step();
    /// Runs the first step now, inside create_task (eager_start), with the
    /// task as the loop's current task; the caller registered the task.
    void eager_start();
    bool finished_eagerly() const noexcept { return eager_done_; }
    /// The frame the task will resume (innermost first) for a suspended task,
    /// the one running for the current task; null for a finished task.
    std::coroutine_handle<> innermost_frame() const noexcept;

    bool cancel(const std::optional<std::string>& msg);
    int cancelling() const noexcept { return static_cast<int>(num_cancels_requested_); }
    int uncancel() noexcept {
        if (num_cancels_requested_ > 0) {
            if (--num_cancels_requested_ == 0) must_cancel_ = 0;  // 3.13
        }
        return static_cast<int>(num_cancels_requested_);
    }
    std::string get_name() const;
    void set_name(std::string name);
    std::uint64_t id() const noexcept { return id_; }
    void set_id(std::uint64_t id) noexcept { id_ = id; }
    std::string repr() const;

    PromiseBase& root_promise() const noexcept;
    std::coroutine_handle<> root() const noexcept { return root_; }

    /// Parks the task until `fut` completes (CPython: yield fut from __step).
    /// The task holds a reference on what it waits for, as CPython's
    /// _fut_waiter does, so a future nobody else holds can still be cancelled.
    void wait_on(FutureBase* fut, std::coroutine_handle<> h) noexcept {
        resume_slot() = h;
        waiting_ = 1;
        set_fut_waiter(fut);
        waiter_held_ = fut->hold();
        fut->add_callback(this);
    }
    /// Like wait_on, from a frame whose body does nothing with an exception
    /// but pass it to its caller (RAII cleanup only). If the wait ends in an
    /// error, the step hands it straight to the caller instead of resuming
    /// the frame to throw it there: one C++ throw fewer (about 1 us).
    void wait_on_transparent(FutureBase* fut, std::coroutine_handle<> h) noexcept {
        wait_on(fut, h);
        transparent_ = 1;
    }
    /// Parks the task for one iteration (CPython: bare yield, sleep(0)).
    void yield(std::coroutine_handle<> h) noexcept {
        resume_slot() = h;
        waiting_ = 1;
        LoopAccess::ready(*anchor_->loop).push(this);
    }
    void yield_transparent(std::coroutine_handle<> h) noexcept {
        yield(h);
        transparent_ = 1;
    }
    /// Continues with `h` in the same step (awaiting or returning from a Coro).
    void transfer(std::coroutine_handle<> h) noexcept { resume_slot() = h; }
    /// Parks the task and delivers `e` at the next step (CPython's
    /// call_soon(__step, new_exc) for bad awaits).
    void fail_next_step(std::exception_ptr e, std::coroutine_handle<> h);
    /// Called where a parked task resumes: throws what the step delivers.
    void check_resume() {
        if (deliver_cancel_ | pending_exc_) [[unlikely]]
            throw_pending();
    }
    void on_root_finished() noexcept;

    // Context variables (asyncio/context.hpp). The task's context lives in
    // its extras; no extras means the empty context, not yet materialized.
    ContextMap* context_map() const noexcept {
        TaskExtras* x = extras_if_any();
        return x ? x->context.map() : nullptr;
    }
    ContextImpl* context_if_materialized() const noexcept {
        TaskExtras* x = extras_if_any();
        return x ? x->context.ctx() : nullptr;
    }
    ContextSlot& context_slot() { return extras().context; }

    TaskBase* reg_prev_ = nullptr;
    TaskBase* reg_next_ = nullptr;

private:
    friend class FutureBase;
    ~TaskBase();
    [[noreturn]] void throw_pending();
    void finish_step();
    void finish_cancelled_before_start();
    std::coroutine_handle<> pass_error_through(std::coroutine_handle<> h, FutureBase* waited);
    TaskExtras& extras();
    std::optional<std::string> cancel_message() const;  // a copy: the message, if cancel() gave one

    // Three pieces of task state live in root promise slots that a task's
    // root has no other use for (a root is never awaited through a Coro):
    // 24 bytes less per TaskBase, which is 72 bytes and takes an 80-byte
    // malloc chunk instead of 96 (bench S5). The root frame lives as long
    // as the TaskBase.

    /// Where the next resume continues: the root promise's continuation_.
    /// Invariant: it is empty whenever the root runs (step() takes it before
    /// resuming), so the root's final_suspend and pass_error_through still
    /// see "no continuation".
    inline std::coroutine_handle<>& resume_slot() const noexcept;
    /// The future the task waits on (CPython's _fut_waiter): the root
    /// promise's owner_ slot.
    inline FutureBase* fut_waiter() const noexcept;
    inline void set_fut_waiter(FutureBase* f) noexcept;
    /// Name, cancel message, pending error, context; null until needed. The
    /// root promise's extras_ slot; the TaskBase owns it.
    inline TaskExtras* extras_if_any() const noexcept;

    std::coroutine_handle<> root_;
};

/// The frame the running task's step is running (get_stack of the current
/// task): set by the trampoline and around a Coro run from its awaiter.
inline thread_local std::coroutine_handle<> t_running_frame;

/// How many Coro frames run nested inside their awaiters' await_suspend on
/// this thread (CoroAwaiter). Past kMaxEagerDepth an awaited Coro goes
/// through the task's trampoline, so the C++ stack stays bounded in every
/// build mode (g++ 12 makes each level a real call at -O0 and under ASan).
inline thread_local std::uint32_t t_eager_depth = 0;
inline constexpr std::uint32_t kMaxEagerDepth = 16;

/// The task stepping a Coro frame, from inside it (defined below).
template <class P>
TaskBase* task_of(std::coroutine_handle<P>) noexcept;

/// The task running in this thread's running loop (nullptr if none).
inline TaskBase* running_task() noexcept {
    EventLoop* l = running_loop();
    return l ? LoopAccess::current_task(*l) : nullptr;
}

/// The current context's map (see asyncio/context.hpp): the one entered by
/// Context::run() or a callback, else the running task's, else the
/// thread's own. Inline: create_task asks for it every time.
inline ContextMap* running_context_map() noexcept {
    if (ContextSlot* s = t_context_slot) [[unlikely]]
        return s->map();
    if (TaskBase* t = running_task()) return t->context_map();
    return thread_context_map();
}

/// create_task's one step for contexts: the task runs in `given` itself, or
/// in a copy of the current context. Nothing is allocated and no atomic
/// touched while the current context is empty (the common case).
inline void inherit_context(TaskBase* t, std::optional<Context>* given) {
    if (given && *given) [[unlikely]]
        return t->context_slot().adopt_ctx(ctx_add_ref((*given)->impl()));
    if (ContextMap* m = running_context_map()) [[unlikely]]
        t->context_slot().adopt_map(map_add_ref(m));
}

struct PromiseBase;
/// Debug mode in this thread: new coroutines record where they were created
/// (set while a loop in debug mode runs; see src/debug.cpp).
inline thread_local bool t_track_coroutines = false;
void track_coroutine(PromiseBase* p) noexcept;
void untrack_coroutine(PromiseBase* p) noexcept;
/// A Coro is being destroyed without ever having been awaited (debug mode).
void report_never_awaited(PromiseBase* p) noexcept;

/// Promise state shared by every Coro<T>. `continuation_` is the frame
/// awaiting this one (for a task's root, the task's resume slot). A frame
/// does not know its task: whatever runs in a frame runs inside its task's
/// step, so the task is the loop's current task (task_of, running_task).
struct PromiseBase : FrameAllocated {
    std::coroutine_handle<> continuation_;
    std::exception_ptr exc_;
    // A frame is awaited through a Coro or is a task's root, never both, and
    // these two slots serve each role differently:
    // - awaited: owner_ is the Coro object that owns the frame while it is
    //   awaited, so that a task destroyed mid-chain can destroy the frames
    //   innermost first, in a loop, and tell each owner its frame is gone
    //   (no recursion 100k deep); extras_ is unused.
    // - a task's root: owner_ is the future the task waits on (a
    //   FutureBase*, see TaskBase::fut_waiter) and extras_ the task's extras.
    void* owner_ = nullptr;
    TaskExtras* extras_ = nullptr;

    // Where the frame is, for async stack traces (get_stack): its function,
    // the file of its definition, and the line of the co_await it last
    // reached (until its first await, of its definition). Written by
    // get_return_object and by await_transform from default arguments, so a
    // co_await costs one store. The file is not rewritten at each co_await:
    // a coroutine's awaits are in its body, in the file of its definition.
    // (No initializers: get_return_object sets them all before anything can
    // read them, and the constructor stays free of stores.)
    const char* func_;
    std::uint32_t line_;
    // Bits 31..2: the file name's address minus func_'s, as a signed 30-bit
    // number (both are string literals of the coroutine's own translation
    // unit, so they are close; 0 if they were not). Bit 1: the frame has
    // been awaited or handed to a task (set once; a Coro is awaitable once).
    // Bit 0, debug mode: the frame's creation is on record (see
    // src/debug.cpp), and destroying it unawaited is reported. Packed so
    // that the location costs 16 bytes a frame, not 24 (one 16-byte frame
    // size class, bench S5).
    std::uint32_t origin_bits_;
    static constexpr std::uint32_t kTracked = 1u;
    static constexpr std::uint32_t kAwaited = 2u;

    const char* file() const noexcept {
        const auto delta = static_cast<std::int32_t>(origin_bits_) >> 2;  // arithmetic shift
        if (delta == 0) return nullptr;
        return reinterpret_cast<const char*>(reinterpret_cast<std::intptr_t>(func_) + delta);
    }
    bool tracked() const noexcept { return origin_bits_ & kTracked; }
    void set_tracked(bool on) noexcept {
        origin_bits_ = (origin_bits_ & ~kTracked) | (on ? kTracked : 0u);
    }
    bool awaited() const noexcept { return origin_bits_ & kAwaited; }
    void set_awaited() noexcept { origin_bits_ |= kAwaited; }

    // User-provided, so that the promise's value-initialization does not
    // zero the whole frame's promise first.
    PromiseBase() noexcept {}
    PromiseBase(const PromiseBase&) = delete;
    PromiseBase& operator=(const PromiseBase&) = delete;
    ~PromiseBase() {
        if (tracked()) [[unlikely]]
            untrack_coroutine(this);
    }

    std::suspend_always initial_suspend() const noexcept { return {}; }

    /// Every co_await in a Coro passes through here: the awaitable is handed
    /// on unchanged, and the location of the co_await is recorded.
    template <class A>
    A&& await_transform(A&& awaitable, std::uint32_t line = __builtin_LINE()) noexcept {
        line_ = line;
        return static_cast<A&&>(awaitable);
    }

    /// Called by get_return_object with the coroutine's own function name and
    /// definition (default arguments evaluated inside the coroutine).
    void set_origin(const char* func, const char* file, std::uint32_t line) noexcept {
        func_ = func;
        line_ = line;
        const std::intptr_t delta =
            reinterpret_cast<std::intptr_t>(file) - reinterpret_cast<std::intptr_t>(func);
        constexpr std::intptr_t kLimit = std::intptr_t{1} << 29;
        origin_bits_ = delta > -kLimit && delta < kLimit
                           ? static_cast<std::uint32_t>(static_cast<std::int32_t>(delta)) << 2
                           : 0u;  // not awaited, untracked, file unknown
        if (t_track_coroutines) [[unlikely]]
            track_coroutine(this);
    }

    /// A finished frame only suspends: its caller continues from wherever
    /// resumed the frame (CoroAwaiter::await_suspend for a frame it ran,
    /// the task's trampoline otherwise). The root ends its task, which is
    /// the current task (it finishes inside its step).
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        void await_suspend(std::coroutine_handle<P> h) const noexcept {
            PromiseBase& p = h.promise();
            if (!p.continuation_) task_of(h)->on_root_finished();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { exc_ = std::current_exception(); }
};

/// The promise of any Coro frame (every Coro promise derives first from
/// PromiseBase, so it sits at the same offset for every T).
inline PromiseBase& promise_of(std::coroutine_handle<> h) noexcept {
    return std::coroutine_handle<PromiseBase>::from_address(h.address()).promise();
}

/// Destroys a Coro frame its owner is done with; in debug mode, one that was
/// never awaited is reported first (Python's "coroutine ... was never awaited").
inline void destroy_frame(std::coroutine_handle<> h) noexcept {
    PromiseBase& p = promise_of(h);
    if (p.tracked()) [[unlikely]] {
        if (!p.awaited()) report_never_awaited(&p);
    }
    h.destroy();
}

inline std::coroutine_handle<>& TaskBase::resume_slot() const noexcept {
    return root_promise().continuation_;
}
inline FutureBase* TaskBase::fut_waiter() const noexcept {
    return static_cast<FutureBase*>(root_promise().owner_);
}
inline void TaskBase::set_fut_waiter(FutureBase* f) noexcept {
    root_promise().owner_ = f;
}
inline TaskExtras* TaskBase::extras_if_any() const noexcept {
    return root_promise().extras_;
}

inline PromiseBase& TaskBase::root_promise() const noexcept {
    // Every Coro promise derives first from PromiseBase and is at most
    // max_align_t aligned (checked in Promise<T>), so the promise sits at the
    // same frame offset for every T.
    return std::coroutine_handle<PromiseBase>::from_address(root_.address()).promise();
}

inline std::exception_ptr& FutureBase::exc_slot() noexcept {
    if (kind_ == kTask) return static_cast<TaskBase*>(this)->root_promise().exc_;
    return static_cast<FutureStateBase*>(this)->exc_;
}

// Task-N ids: a thread hands them out from a block it reserved from one
// process-wide counter, so create_task needs no atomic operation.
inline thread_local std::uint64_t t_next_task_id = 0;
inline thread_local std::uint64_t t_task_id_end = 0;
std::uint64_t reserve_task_ids() noexcept;  // refills the block, returns its first id
inline std::uint64_t next_task_id() noexcept {
    if (t_next_task_id == t_task_id_end) [[unlikely]]
        return reserve_task_ids();
    return t_next_task_id++;
}

/// The task stepping the frame `h`, from an awaiter's await_suspend: the
/// running loop's current task (a Coro frame only runs inside its task's
/// step, eager or not). The frame is not asked: promises keep no task
/// pointer, 8 bytes a task's root puts to other use (TaskBase::fut_waiter).
template <class P>
TaskBase* task_of(std::coroutine_handle<P>) noexcept {
    static_assert(std::is_base_of_v<PromiseBase, P>,
                  "asyncio awaitables can only be awaited inside asyncio::Coro coroutines");
    return LoopAccess::current_task(*running_loop());
}

/// Awaiter for a Future<T> or Task<T> (CPython: Future.__await__ + Task.__wakeup).
/// Suspends: unless the future is done; resumed by the future's completion
/// through the ready queue. Cancellation: cancelling the task cancels the
/// future (see TaskBase::cancel).
///
/// The reference wait_on() took on the future belongs to this awaiter from
/// the step that resumes it. It must be the awaiter's own state, not the
/// task's: g++ 12 suspends at both co_awaits of `co_await a + co_await b`
/// before it calls either await_resume.
///
/// One word: the future's address, with bit 0 set once the awaiter has
/// suspended. An awaiter lives in the awaiting frame for as long as the
/// frame, so every byte of it is a byte of every suspended task that awaits
/// a future (bench S5). The task is not kept: a resumed awaiter runs inside
/// its task's step, so it is the loop's current task.
template <class Get>
struct FutureAwaiter {
    FutureAwaiter(FutureBase* f) noexcept : bits_(reinterpret_cast<std::uintptr_t>(f)) {}

    bool await_ready() const noexcept { return future()->done(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        TaskBase* task = task_of(h);
        FutureBase* fut = future();
        bits_ |= kSuspended;
        if (fut == static_cast<FutureBase*>(task) || fut->anchor() != task->anchor()) [[unlikely]]
            return bad_await(task, h);
        task->wait_on(fut, h);
    }
    decltype(auto) await_resume() {
        FutureBase* fut = future();
        const bool suspended = bits_ & kSuspended;
        // The reference goes when the await expression completes, as in
        // Python (also when it throws).
        struct Drop {
            FutureBase* f;
            ~Drop() {
                if (f && !f->embedded()) f->release();
            }
        } drop{suspended ? fut : nullptr};
        if (suspended) running_task()->check_resume();
        return Get::get(fut);
    }

private:
    static constexpr std::uintptr_t kSuspended = 1;
    FutureBase* future() const noexcept {
        return reinterpret_cast<FutureBase*>(bits_ & ~kSuspended);
    }
    void bad_await(TaskBase* task, std::coroutine_handle<> h);

    std::uintptr_t bits_;
};

/// Awaiter that gives up the loop for exactly one iteration (sleep(0)).
/// Empty, for the reason FutureAwaiter is one word.
struct YieldAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
        task_of(h)->yield(h);
    }
    void await_resume() { running_task()->check_resume(); }
};

std::exception_ptr make_bad_await_error(FutureBase* fut, TaskBase* task);

/// True for KeyboardInterrupt and SystemExit (and their subclasses).
bool is_exit_exception(const std::exception_ptr& e) noexcept;

/// CPython's _run_until_complete_cb: stop the loop once `f` is done, except
/// after KeyboardInterrupt/SystemExit, which leave the loop by themselves.
/// Captures nothing, because it may run in a later run of the loop.
void stop_loop_when_done(FutureBase& f) noexcept;

template <class Get>
void FutureAwaiter<Get>::bad_await(TaskBase* task, std::coroutine_handle<> h) {
    task->fail_next_step(make_bad_await_error(future(), task), h);
    bits_ = kSuspended;  // no future, no reference taken; await_resume throws the error first
}

}  // namespace detail
}  // namespace asyncio

namespace asyncio::detail {

// The loop's list of pending tasks (CPython's _scheduled_tasks), newest first.
inline void LoopAccess::register_task(EventLoop& l, TaskBase* t) noexcept {
    t->reg_prev_ = nullptr;
    t->reg_next_ = l.tasks_;
    if (l.tasks_) l.tasks_->reg_prev_ = t;
    l.tasks_ = t;
    ++l.task_count_;
    t->registered_ = 1;
}

inline void LoopAccess::unregister_task(EventLoop& l, TaskBase* t) noexcept {
    if (!t->registered_) return;
    t->registered_ = 0;
    if (t->reg_prev_)
        t->reg_prev_->reg_next_ = t->reg_next_;
    else
        l.tasks_ = t->reg_next_;
    if (t->reg_next_) t->reg_next_->reg_prev_ = t->reg_prev_;
    t->reg_prev_ = t->reg_next_ = nullptr;
    --l.task_count_;
}

}  // namespace asyncio::detail
