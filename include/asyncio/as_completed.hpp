// asyncio/as_completed.hpp — asyncio.as_completed (3.13: plain and async iteration).
//
// Mirrors as_completed() and _AsCompletedIterator in Lib/asyncio/tasks.py (3.13).
//
//     for (auto next : asyncio::as_completed(std::move(coros))) {   // plain iteration
//         int r = co_await next;              // the result of whichever finishes next
//     }
//     auto it = asyncio::as_completed(tasks, {.timeout = 5});
//     while (auto t = co_await it.next()) {   // 3.13 async iteration
//         ... t->result() ...                 // *t is one of the original tasks
//     }
//
// as_completed() starts watching at once: coroutines become tasks at the
// call (through the loop's task factory); a task or future passed twice is
// watched once. Completions go, in completion order, into a queue shared by
// everything the iterator hands out:
//   * plain iteration yields, for each input, a Coro<R> that waits for the
//     next completion and returns its result (or rethrows its exception);
//     which completion a Coro gets is decided when it is awaited, not when
//     it was handed out (CPython: "the first future awaited resolves to the
//     first completed awaitable");
//   * next() yields std::optional<F>: the original task or future (a task
//     made from a coroutine), empty at the end.
// Once the timeout passes, every wait for a completion still to come throws
// TimeoutError (the tasks keep running). Iterating again after a `break`
// continues where it stopped. The iterator is a cheap handle: copies share
// the same queue, and what it handed out keeps that queue alive.
//
// Differences from Python:
//   * Plain iteration hands out Coro<R>, which must be awaited in a task
//     (a Coro is awaitable once; wrap it with create_task to await it twice).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/detail/watch.hpp"

namespace asyncio {

/// as_completed()'s keyword arguments (trivially destructible: see WaitOptions).
struct AsCompletedOptions {
    std::optional<Delay> timeout = std::nullopt;
};
static_assert(std::is_trivially_destructible_v<AsCompletedOptions>);

template <class F>
class AsCompleted;

namespace detail {

class AsCompletedGetter;

/// CPython's _AsCompletedIterator without the typed handles: the todo count,
/// the done queue (CPython's asyncio.Queue, with its FIFO of getters) and
/// the timeout. Refcounted by AsCompleted handles (and so by what they hand out).
class AsCompletedCore {
public:
    AsCompletedCore(const AsCompletedCore&) = delete;
    AsCompletedCore& operator=(const AsCompletedCore&) = delete;

    void add_ref() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) destroy_(this);
    }

    /// CPython's _todo_left: how many more awaitables iteration yields.
    std::size_t todo_left_ = 0;

    /// The done queue is empty (no completion, no timeout marker).
    bool empty() const noexcept { return done_head_ == done_.size() && sentinels_ == 0; }
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    /// Takes the oldest entry: the index of a completed input, or npos for a
    /// timeout marker. Precondition: !empty().
    std::size_t pop() noexcept;

protected:
    AsCompletedCore(EventLoop* loop, std::size_t n, void (*destroy)(AsCompletedCore*));
    ~AsCompletedCore() = default;
    bool watch(std::size_t i, FutureBase* f) noexcept { return block_->arm(i, f); }
    /// After the last watch(): CPython's add_done_callback on inputs already
    /// done, and the timeout (only if there is something to wait for).
    void start(std::optional<Delay> timeout);
    /// Before the typed handles go: stops the timer, unlinks every callback.
    void shutdown() noexcept;

private:
    friend class AsCompletedGetter;
    static void on_fire(void* self, WatchCell& cell,
                        FutureBase* f);  // CPython's _handle_completion
    static void on_timeout(void* self);  // CPython's _handle_timeout
    void wakeup_next() noexcept;         // CPython's Queue._wakeup_next
    void link(AsCompletedGetter* g) noexcept;
    void unlink(AsCompletedGetter* g) noexcept;

    EventLoop* loop_;
    WatchBlock* block_;
    OwnedTimer timer_;
    std::size_t todo_ = 0;                       // inputs not completed (CPython: len(_todo))
    std::vector<std::uint32_t> done_;            // completed inputs, in completion order
    std::size_t done_head_ = 0;                  // done_[done_head_..] not taken yet
    std::size_t sentinels_ = 0;                  // timeout markers after them
    AsCompletedGetter* getters_head_ = nullptr;  // waiting for an entry, FIFO
    AsCompletedGetter* getters_tail_ = nullptr;
    std::uint32_t refs_ = 1;
    void (*destroy_)(AsCompletedCore*);
};

/// One wait for the done queue (CPython: a getter future of Queue.get()).
/// Lives in the frame of the coroutine that waits.
class AsCompletedGetter {
public:
    explicit AsCompletedGetter(AsCompletedCore& q);
    ~AsCompletedGetter();
    AsCompletedGetter(const AsCompletedGetter&) = delete;
    AsCompletedGetter& operator=(const AsCompletedGetter&) = delete;

    /// Suspends: until an entry arrives (the getter is woken in FIFO order);
    /// resumed through the ready queue. Cancellation: cancels only this wait;
    /// a wake-up it can no longer use passes to the next getter. Throws:
    /// CancelledError.
    EmbeddedAwaiter operator co_await() noexcept { return {&fut_}; }
    /// The wake-up was used (the awaiting coroutine goes on normally).
    void consumed() noexcept { consumed_ = true; }

private:
    friend class AsCompletedCore;
    AsCompletedCore& q_;
    AsCompletedGetter* prev_ = nullptr;
    AsCompletedGetter* next_ = nullptr;
    bool linked_ = false;
    bool consumed_ = false;
    EmbeddedFuture fut_;
};

template <class F>
class AsCompletedState final : public AsCompletedCore {
public:
    AsCompletedState(EventLoop* loop, std::vector<F> fs, std::optional<Delay> timeout)
        : AsCompletedCore(loop, fs.size(), &AsCompletedState::destroy), fs_(std::move(fs)) {
        try {
            for (std::size_t i = 0; i < fs_.size(); ++i) watch(i, fs_[i].base());
            start(timeout);  // throws ValueError for a NaN timeout
        } catch (...) {
            shutdown();
            throw;
        }
    }
    const F& input(std::size_t i) noexcept { return fs_[i]; }

private:
    ~AsCompletedState() { shutdown(); }  // before fs_ goes: the nodes unlink from them
    static void destroy(AsCompletedCore* c) noexcept { delete static_cast<AsCompletedState*>(c); }
    std::vector<F> fs_;
};

template <class F>
using as_completed_result_t = typename awaitable_traits<F>::result;

template <class F>
Coro<as_completed_result_t<F>> as_completed_resolve(AsCompleted<F> self);
template <class F>
Coro<std::optional<F>> as_completed_next(AsCompleted<F> self);

}  // namespace detail

/// What as_completed() returns. F is Task<T> for coroutines, else the
/// input's element type.
template <class F>
class AsCompleted {
public:
    using value_type = detail::as_completed_result_t<F>;

    AsCompleted(const AsCompleted& o) noexcept : s_(o.s_) {
        if (s_) s_->add_ref();
    }
    AsCompleted(AsCompleted&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    AsCompleted& operator=(AsCompleted o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~AsCompleted() {
        if (s_) s_->release();
    }

    /// Plain iteration (CPython's __next__): each step hands out a Coro<R>
    /// that waits for the next completion. Yields as many as there were
    /// distinct inputs, minus what was already taken.
    class iterator {
    public:
        using difference_type = std::ptrdiff_t;
        using value_type = Coro<detail::as_completed_result_t<F>>;

        iterator() = default;
        /// Takes one (CPython's __next__): a Coro<R> for the next completion.
        /// Precondition: *this != end().
        /// Suspends (when awaited): until an input completes, unless one
        /// already did and was not taken yet; resumed through the ready queue.
        /// Cancellation: cancels only this wait, never the inputs.
        /// Throws (when awaited): the input's exception, CancelledError if it
        /// was cancelled, TimeoutError once the timeout passed.
        value_type operator*() const {
            --s_->todo_left_;
            return detail::as_completed_resolve<F>(AsCompleted::share(s_));
        }
        iterator& operator++() noexcept { return *this; }
        void operator++(int) noexcept {}
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return it.s_->todo_left_ == 0;
        }

    private:
        friend class AsCompleted;
        explicit iterator(detail::AsCompletedState<F>* s) noexcept : s_(s) {}
        detail::AsCompletedState<F>* s_ = nullptr;
    };
    iterator begin() const noexcept { return iterator(s_); }
    std::default_sentinel_t end() const noexcept { return {}; }

    /// Async iteration (CPython's __anext__): the next input to complete,
    /// itself; empty once every input was yielded.
    /// Suspends: until an input completes (not if one already did).
    /// Cancellation: cancels only this wait, never the inputs.
    /// Throws: TimeoutError once the timeout passed.
    Coro<std::optional<F>> next() const { return detail::as_completed_next<F>(*this); }

    explicit AsCompleted(detail::AsCompletedState<F>* s) noexcept : s_(s) {}  // adopts a reference
    detail::AsCompletedState<F>* state() const noexcept { return s_; }        // not API

private:
    static AsCompleted share(detail::AsCompletedState<F>* s) noexcept {
        s->add_ref();
        return AsCompleted(s);
    }
    detail::AsCompletedState<F>* s_;
};

namespace detail {

// The two consumers: CPython's _wait_for_one(resolve=True) and __anext__.
// Both take the queue's oldest entry, waiting (as Queue.get) while it is empty.

template <class F>
Coro<as_completed_result_t<F>> as_completed_resolve(AsCompleted<F> self) {
    AsCompletedState<F>& s = *self.state();
    while (s.empty()) {
        AsCompletedGetter g(s);
        co_await g;
        g.consumed();
    }
    const std::size_t i = s.pop();
    if (i == AsCompletedCore::npos) throw TimeoutError();
    co_return checked_result<F>(s.input(i).base());
}

template <class F>
Coro<std::optional<F>> as_completed_next(AsCompleted<F> self) {
    AsCompletedState<F>& s = *self.state();
    if (s.todo_left_ == 0) co_return std::nullopt;
    --s.todo_left_;
    while (s.empty()) {
        AsCompletedGetter g(s);
        co_await g;
        g.consumed();
    }
    const std::size_t i = s.pop();
    if (i == AsCompletedCore::npos) throw TimeoutError();
    co_return s.input(i);
}

template <class Range>
auto as_completed_inputs(Range&& aws, EventLoop*& loop) {
    using E = range_element_t<Range>;
    using traits = awaitable_traits<E>;
    using F = typename traits::handle;
    std::vector<F> fs;
    fs.reserve(range_size_hint(aws));
    for (auto&& a : aws) {
        if constexpr (traits::is_coro) {
            if (!loop) loop = &get_running_loop();
            fs.push_back(spawn_task(*loop, std::move(a)));
        } else {
            if (!a.base()) throw ValueError("as_completed() got an empty Task/Future handle");
            if (!loop) loop = &a.base()->get_loop();
            fs.push_back(a);
        }
    }
    return fs;
}

}  // namespace detail

/// Iterates over the awaitables of `aws` in completion order (see above).
/// Each element is a Coro<T> (the range is then an rvalue: the coroutines
/// are moved out and become tasks), a Task<T>, a Future<T> or a TaskRef.
/// Throws (at the call): RuntimeError("no running event loop") for
/// coroutines outside a loop.
template <class Range>
requires detail::walkable_range<Range> &&
    detail::is_awaitable_input_v<detail::range_element_t<Range>>
auto as_completed(Range&& aws, AsCompletedOptions options = {}) {
    using E = detail::range_element_t<Range>;
    using F = typename detail::awaitable_traits<E>::handle;
    static_assert(
        !detail::awaitable_traits<E>::is_coro || (!std::is_lvalue_reference_v<Range> &&
                                                  !std::is_const_v<std::remove_reference_t<Range>>),
        "as_completed() moves the coroutines out of the range: pass it as an rvalue "
        "(std::move(coros))");
    EventLoop* loop = detail::running_loop();
    std::vector<F> fs = detail::as_completed_inputs(std::forward<Range>(aws), loop);
    return AsCompleted<F>(new detail::AsCompletedState<F>(loop, std::move(fs), options.timeout));
}

}  // namespace asyncio
