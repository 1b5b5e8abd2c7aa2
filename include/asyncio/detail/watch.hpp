// asyncio/detail/watch.hpp — watching many futures at once, for gather(),
// wait() and as_completed(). Not API; may change at any time.
//
// CPython adds one done callback per future (a closure) and removes it with
// remove_done_callback. Here a WatchBlock holds one cell per input, all in
// one allocation; arming a cell builds a WatchNode in it and links the node
// into the future's callback list (no allocation, no std::function). A
// WatchNode is a DoneCallbackNode, so the core treats it as any done callback:
// it goes through the ready queue when the future completes (every wake-up
// takes the same iterations as CPython's), the future holds a reference to
// itself until the node has run, and a future destroyed with the node still
// in its list (a closing loop dropping a pending task) destroys the node.
// "Deleting" a node frees nothing: its cell records that it is gone.
//
// Duplicates: a future passed twice is spotted in O(1) while arming, because
// the node armed for its first occurrence is still the newest one in its
// callback list (nothing else runs between the two).
//
// Lifetime: the owner (a gather's state, a wait() frame, an as_completed
// iterator) calls release() when it goes. Nodes still in a callback list are
// unlinked and destroyed; a node already in the ready queue cannot be
// unlinked, so the block then outlives its owner until that node has run or
// was disposed. Nodes never touch their owner after release().
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/future.hpp"
#include "asyncio/task.hpp"

namespace asyncio::detail {

class WatchBlock;
struct WatchCell;

/// The done callback of one cell. Lives in the cell's storage.
struct WatchNode final : DoneCallbackNode {
    /// Marks our nodes among a future's done callbacks (user ids count up from 1).
    static constexpr CallbackId kId{std::numeric_limits<std::uint64_t>::max()};
    WatchNode() noexcept { id = kId; }
    void invoke(FutureBase* f) override;
    /// Called by `delete` after the node was destroyed: frees nothing, tells
    /// the block that the cell's node is gone.
    static void operator delete(void* p) noexcept;
};

/// One watched input.
struct WatchCell {
    alignas(WatchNode) unsigned char storage[sizeof(WatchNode)];
    FutureBase* fut =
        nullptr;  // the input's future (who holds a reference is the owner's business)
    WatchBlock* block = nullptr;
    bool live = false;   // a WatchNode sits in storage: in fut's callbacks, or in the ready queue
    bool owned = false;  // for the owner: "I hold a reference on fut"
    WatchNode* node() noexcept { return std::launder(reinterpret_cast<WatchNode*>(storage)); }
};

class WatchBlock {
public:
    /// An armed cell's future is done (`f`, alive until the call returns).
    using Fire = void (*)(void* owner, WatchCell& cell, FutureBase* f);
    /// A node went (after firing, or disposed, or destroyed with its future).
    using Gone = void (*)(void* owner);

    /// Room for n cells; they are set up in order by arm() or set().
    static WatchBlock* create(std::size_t n, void* owner, Fire fire);
    WatchBlock(const WatchBlock&) = delete;
    WatchBlock& operator=(const WatchBlock&) = delete;

    std::size_t size() const noexcept { return n_; }
    WatchCell& operator[](std::size_t i) noexcept { return cells()[i]; }
    /// The cells set up so far.
    WatchCell* begin() noexcept { return cells(); }
    WatchCell* end() noexcept { return cells() + n_init_; }
    std::size_t index_of(const WatchCell& c) noexcept {
        return static_cast<std::size_t>(&c - cells());
    }
    /// Nodes alive: armed and not yet run (in a callback list or queued).
    std::size_t live() const noexcept { return live_; }

    /// Sets up the next cell, i, for `f` and links a node into f's callbacks
    /// (also when f is done: see schedule_done). Returns false, arming
    /// nothing, when a node of this block is already armed on `f` (a duplicate).
    bool arm(std::size_t i, FutureBase* f) noexcept;
    /// Sets up the next cell, i, for `f` without watching it.
    WatchCell& set(std::size_t i, FutureBase* f) noexcept;
    /// Called from now on whenever a node goes (nullptr: never).
    void set_gone(Gone gone) noexcept { gone_ = gone; }
    /// CPython's add_done_callback on a future that is already done: the
    /// nodes armed on done futures move to the ready queue, in cell order.
    void schedule_done(EventLoop& loop) noexcept;
    /// CPython's remove_done_callback for every cell: destroys the nodes
    /// still in a callback list; nodes already queued stay and will run.
    void unlink_all() noexcept;
    /// The owner goes (after unlink_all): frees the block now, or once the
    /// nodes already in the ready queue are gone.
    void release() noexcept;

private:
    friend struct WatchNode;
    WatchBlock(std::size_t n, void* owner, Fire fire) noexcept
        : owner_(owner), fire_(fire), n_(n) {}
    WatchCell* cells() noexcept { return reinterpret_cast<WatchCell*>(this + 1); }
    static std::size_t bytes(std::size_t n) noexcept {
        return sizeof(WatchBlock) + n * sizeof(WatchCell);
    }
    void node_gone() noexcept;
    void destroy() noexcept;

    void* owner_;  // nullptr once released
    Fire fire_;
    Gone gone_ = nullptr;
    std::size_t n_;
    std::size_t n_init_ = 0;  // cells [0, n_init_) are set up
    std::size_t live_ = 0;
};
static_assert(sizeof(WatchBlock) % alignof(WatchCell) == 0);

/// A future inside another object (a wait() frame, an as_completed getter):
/// what the waiting task parks on. Never heap-deleted.
class EmbeddedFuture final : public FutureStateBase {
public:
    explicit EmbeddedFuture(EventLoop& loop) noexcept : FutureStateBase(loop, kEmbeddedFuture) {}
    ~EmbeddedFuture() = default;
};

/// A timer inside another object (CPython: loop.call_later + handle.cancel()).
class OwnedTimer final : public TimerNode {
public:
    using Fire = void (*)(void* owner);
    OwnedTimer(void* owner, Fire fire) noexcept : owner_(owner), fire_(fire) {
        run = &OwnedTimer::run_node;
    }
    OwnedTimer(const OwnedTimer&) = delete;
    OwnedTimer& operator=(const OwnedTimer&) = delete;
    ~OwnedTimer() { cancel(); }

    /// Fires `delay` seconds of loop time from now (in the next iteration if
    /// <= 0). Throws ValueError("call_at(): when is NaN") as call_later does.
    void start(EventLoop& loop, double delay);
    /// Withdraws the timer (O(log n)); nothing if it is not scheduled.
    void cancel() noexcept;

private:
    static void run_node(ReadyNode* n, Run mode);
    EventLoop* loop_ = nullptr;
    void* owner_;
    Fire fire_;
};

/// Parks the awaiting task on an EmbeddedFuture.
/// Suspends: always; resumed through the ready queue when the future is done.
/// Cancellation: cancelling the task cancels the future.
/// Throws: CancelledError (the future or the task was cancelled).
struct EmbeddedAwaiter {
    EmbeddedFuture* fut;
    TaskBase* task = nullptr;
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
        task = task_of(h);
        task->wait_on(fut, h);
    }
    void await_resume() {
        task->check_resume();
        fut->check_result();
    }
};

// ----------------------------------------------------------- awaitable kinds

/// What gather(), wait() and as_completed() accept: Coro<T> (becomes a
/// Task<T>), Task<T>, Future<T>, TaskRef (result: void).
template <class A>
struct awaitable_traits {
    static constexpr bool valid = false;
};
template <class T>
struct awaitable_traits<Coro<T>> {
    static constexpr bool valid = true;
    static constexpr bool is_coro = true;
    using handle = Task<T>;
    using result = T;
};
template <class T>
struct awaitable_traits<Task<T>> {
    static constexpr bool valid = true;
    static constexpr bool is_coro = false;
    using handle = Task<T>;
    using result = T;
};
template <class T>
struct awaitable_traits<Future<T>> {
    static constexpr bool valid = true;
    static constexpr bool is_coro = false;
    using handle = Future<T>;
    using result = T;
};
template <>
struct awaitable_traits<TaskRef> {
    static constexpr bool valid = true;
    static constexpr bool is_coro = false;
    using handle = TaskRef;
    using result = void;
};

template <class A>
inline constexpr bool is_awaitable_input_v = awaitable_traits<std::remove_cvref_t<A>>::valid;

/// The stored value of a done task or future that has no error (not checked).
template <class H>
struct result_access;
template <class T>
struct result_access<Task<T>> {
    static T& ref(FutureBase* f) noexcept {
        auto* t = static_cast<TaskBase*>(f);
        return *std::coroutine_handle<Promise<T>>::from_address(t->root().address())
                    .promise()
                    .value_;
    }
};
template <class T>
struct result_access<Future<T>> {
    static T& ref(FutureBase* f) noexcept { return *static_cast<FutureState<T>*>(f)->slot.value; }
};

/// f.result() for a handle of type H: the value (copied), or a rethrow.
template <class H, class R = typename awaitable_traits<H>::result>
R checked_result(FutureBase* f) {
    f->check_result();
    if constexpr (!std::is_void_v<R>) return result_access<H>::ref(f);
}

/// Every coroutine that gather() or as_completed() turns into a task is
/// created here: the one place where the loop's task factory plugs in.
template <class T>
Task<T> spawn_task(EventLoop& loop, Coro<T>&& coro) {
    return loop.create_task(std::move(coro));
}

// ------------------------------------------------------------------ ranges

/// A range we can walk with std::begin/std::end (no <ranges>: clang 14).
template <class R>
concept walkable_range = requires(R& r) {
    std::begin(r);
    std::end(r);
};
template <class R>
using range_element_t = std::remove_cvref_t<decltype(*std::begin(std::declval<R&>()))>;

template <class R>
std::size_t range_size_hint(R& r) {
    if constexpr (requires { std::size(r); })
        return static_cast<std::size_t>(std::size(r));
    else
        return 0;
}

}  // namespace asyncio::detail
