// asyncio/detail/gather_impl.hpp — the state behind gather()'s future. Not
// API; may change at any time.
//
// Mirrors _GatheringFuture and gather()'s _done_callback in Lib/asyncio/tasks.py.
//
// A GatherState<T> is the Future<T> that gather() returns (a FutureState<T>
// of kind kGatheringFuture, whose cancel() is GatherCore::cancel_children)
// plus the untyped GatherCore: one cell per argument ("slot") in one
// WatchBlock, each holding a reference to the slot's child. Nodes are armed
// only on children that were pending at the call, once per distinct child;
// children already done are processed at the call, as CPython does. When the
// last child is processed the typed part builds the tuple or vector and puts
// it in the future's own value slot. A gather nobody holds any more keeps
// watching its pending children (see src/gather.cpp).
//
// Invariant: pending_ == armed nodes not yet run + done-at-call slots not yet
// processed. The result is built when it reaches 0 (CPython: nfinished == nfuts).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "asyncio/detail/watch.hpp"

namespace asyncio {

template <class T>
class Outcome;

namespace detail {

class GatherCore {
public:
    GatherCore(const GatherCore&) = delete;
    GatherCore& operator=(const GatherCore&) = delete;

    /// Slot i holds `child` (adopting a reference); arms its node if the
    /// child is pending and not already watched. Call in argument order.
    void add_child(std::size_t i, FutureBase* child) noexcept;
    /// After the last add_child: processes the children that were already
    /// done, in order (CPython's loop over done_futs).
    void finish_setup();

    /// CPython's _GatheringFuture.cancel.
    bool cancel_children(const std::optional<std::string>& msg);

    FutureBase* child(std::size_t i) noexcept { return (*block_)[i].fut; }
    std::size_t size() const noexcept { return block_->size(); }

protected:
    /// `take`, if given, moves slot i's value (or Outcome) out of its child
    /// when the child completes, so that the child can go at once (a task
    /// gather() made itself: nobody else reads it).
    GatherCore(FutureStateBase* outer, std::size_t n, bool return_exceptions,
               void (*complete)(GatherCore*), void (*take)(GatherCore*, std::size_t, FutureBase*));
    ~GatherCore();
    /// The last handle went. True: delete the state now. False: children are
    /// still pending, and (as in CPython, where their done callbacks keep the
    /// _GatheringFuture alive) the state keeps watching them, detached.
    bool on_last_ref() noexcept;

private:
    static void on_fire(void* self, WatchCell& cell, FutureBase* child);
    static void on_gone(void* self);
    void child_done(FutureBase* child, WatchCell* cell);  // CPython's _done_callback
    void all_done();

    FutureStateBase* outer_;
    WatchBlock* block_;
    void (*complete_)(GatherCore*);  // typed: build the result, set it
    void (*take_)(GatherCore*, std::size_t, FutureBase*);
    std::size_t pending_ = 0;
    std::size_t done_at_call_ = 0;
    std::size_t owned_ = 0;  // cells holding a reference on their child
    bool return_exceptions_;
    bool cancel_requested_ = false;  // CPython: _cancel_requested (issue 32684)
    bool set_up_ = false;            // every slot has its child (CPython: outer is not None)
};

/// The future gather() returns. `Build::build(*this)` makes the T (a tuple or
/// a vector) from the children once they are all done; a Build with `eager`
/// takes each value out of its child when the child completes, into `stash`.
template <class T, class Build>
class GatherState final : public FutureState<T>, public GatherCore {
public:
    GatherState(EventLoop& loop, std::size_t n, bool return_exceptions)
        : FutureState<T>(loop, kGatheringFuture),
          GatherCore(this, n, return_exceptions, &GatherState::complete,
                     Build::eager ? &GatherState::take : nullptr),
          stash(n) {
        this->deleter_ = &GatherState::destroy;
        this->cancel_hook_ = &GatherState::cancel_hook;
    }
    typename Build::Stash stash;

private:
    ~GatherState() = default;
    static GatherState* self(FutureStateBase* f) noexcept {
        return static_cast<GatherState*>(static_cast<FutureState<T>*>(f));
    }
    static void destroy(FutureStateBase* f) noexcept {
        if (self(f)->on_last_ref()) delete self(f);
    }
    static bool cancel_hook(FutureStateBase* f, const std::optional<std::string>& msg) {
        return self(f)->cancel_children(msg);
    }
    static void complete(GatherCore* c) {
        auto* s = static_cast<GatherState*>(c);
        s->slot.value.emplace(Build::build(*s));
        s->finish_with_value();
    }
    static void take(GatherCore* c, std::size_t i, FutureBase* child) {
        Build::take(static_cast<GatherState*>(c)->stash, i, child);
    }
};

// ------------------------------------------------------------ typed slots

/// Tag for Outcome's error constructor.
struct outcome_error_t {
    explicit constexpr outcome_error_t() = default;
};
inline constexpr outcome_error_t outcome_error{};

template <class R>
using gather_value_t = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

/// One slot's value: moved out of a task gather() made itself (nobody else
/// can read it), copied from anything the caller passed.
template <class H, bool Owned>
gather_value_t<typename awaitable_traits<H>::result> slot_value(FutureBase* f) {
    using R = typename awaitable_traits<H>::result;
    if constexpr (std::is_void_v<R>)
        return std::monostate{};
    else if constexpr (Owned)
        return std::move(result_access<H>::ref(f));
    else
        return result_access<H>::ref(f);
}

template <class H, bool Owned, bool ReturnExceptions>
struct slot_traits {
    using value = gather_value_t<typename awaitable_traits<H>::result>;
    using type = std::conditional_t<ReturnExceptions, Outcome<value>, value>;
    static type get(FutureBase* f) {
        if constexpr (ReturnExceptions) {
            // CPython keeps a cancelled child's CancelledError (with its message).
            if (f->cancelled()) return type(outcome_error, f->exc_slot());
            if (std::exception_ptr e = f->exception()) return type(outcome_error, std::move(e));
            return type(std::in_place, slot_value<H, Owned>(f));
        } else {
            return slot_value<H, Owned>(f);
        }
    }
};

template <class... Slots>
struct TupleBuild {
    using type = std::tuple<typename Slots::type...>;
    static constexpr bool eager = false;
    struct Stash {
        explicit Stash(std::size_t) noexcept {}
    };
    static void take(Stash&, std::size_t, FutureBase*) noexcept {}
    template <class S>
    static type build(S& s) {
        return build(s, std::index_sequence_for<Slots...>{});
    }
    template <class S, std::size_t... I>
    static type build(S& s, std::index_sequence<I...>) {
        return type(Slots::get(s.child(I))...);
    }
};

/// Eager for the tasks gather() made from coroutines: each value is moved
/// out as its task completes, and the task freed while still in cache.
template <class Slot, bool Eager>
struct VectorBuild {
    using type = std::vector<typename Slot::type>;
    static constexpr bool eager = Eager;
    struct Stash {
        explicit Stash(std::size_t n)
            : taken(Eager ? new std::optional<typename Slot::type>[n] : nullptr) {}
        std::unique_ptr<std::optional<typename Slot::type>[]> taken;
    };
    static void take(Stash& st, std::size_t i, FutureBase* child) {
        st.taken[i].emplace(Slot::get(child));
    }
    template <class S>
    static type build(S& s) {
        type out;
        out.reserve(s.size());
        for (std::size_t i = 0, n = s.size(); i < n; ++i) {
            if (Eager && s.stash.taken[i])
                out.push_back(std::move(*s.stash.taken[i]));
            else
                out.push_back(Slot::get(s.child(i)));
        }
        return out;
    }
};

/// A child for slot `a` of a gather on `loop` (a new reference): a coroutine
/// becomes a task; a task or future must belong to `loop`.
template <class A>
FutureBase* gather_child(EventLoop& loop, A&& a) {
    using traits = awaitable_traits<std::remove_cvref_t<A>>;
    FutureBase* f;
    if constexpr (traits::is_coro) {
        // The reference is taken while the handle still holds one: an eager
        // task may be done already, with no reference from the loop left.
        Task<typename traits::result> t = spawn_task(loop, std::move(a));
        f = t.base();
        f->add_ref();
        return f;
    } else {
        f = a.base();
        if (!f) throw ValueError("gather() got an empty Task/Future handle");
        if (f->loop() != &loop)
            throw ValueError(
                "The future belongs to a different loop than the one specified as the loop "
                "argument");
    }
    f->add_ref();
    return f;
}

/// CPython: the loop of the first argument (a coroutine: the running loop).
template <class A>
EventLoop& gather_loop(const A& a) {
    if constexpr (awaitable_traits<std::remove_cvref_t<A>>::is_coro) {
        return get_running_loop();
    } else {
        if (!a.base()) throw ValueError("gather() got an empty Task/Future handle");
        return a.base()->get_loop();
    }
}

template <bool ReturnExceptions, class A>
using gather_slot_t =
    slot_traits<typename awaitable_traits<std::remove_cvref_t<A>>::handle,
                awaitable_traits<std::remove_cvref_t<A>>::is_coro, ReturnExceptions>;

/// gather(aws...): the children in argument order, the tuple built in place.
template <bool ReturnExceptions, class... A>
auto gather_args(A&&... aws) {
    using Build = TupleBuild<gather_slot_t<ReturnExceptions, A>...>;
    using T = typename Build::type;
    if constexpr (sizeof...(A) == 0) {
        Future<T> out = get_running_loop().create_future<T>();
        out.set_result(T{});
        return out;
    } else {
        EventLoop& loop = [](const auto& first, const auto&...) -> EventLoop& {
            return gather_loop(first);
        }(aws...);
        auto* state = new GatherState<T, Build>(loop, sizeof...(A), ReturnExceptions);
        // Owns the new state: if a child fails to come (a future of another
        // loop), the state goes and takes the children made so far with it.
        Future<T> out = Future<T>::adopt(state);
        std::size_t i = 0;
        (state->add_child(i++, gather_child(loop, std::forward<A>(aws))), ...);
        state->finish_setup();
        return out;
    }
}

template <bool ReturnExceptions, class T, class Build, class Range>
Future<T> gather_elements(Range& range, std::size_t n) {
    if (n == 0) {
        Future<T> out = get_running_loop().create_future<T>();
        out.set_result(T{});
        return out;
    }
    auto it = std::begin(range);
    EventLoop& loop = gather_loop(*it);
    auto* state = new GatherState<T, Build>(loop, n, ReturnExceptions);
    Future<T> out = Future<T>::adopt(state);
    std::size_t i = 0;
    for (auto end = std::end(range); it != end && i < n; ++it, ++i) {
        if constexpr (awaitable_traits<range_element_t<Range>>::is_coro)
            state->add_child(i, gather_child(loop, std::move(*it)));
        else
            state->add_child(i, gather_child(loop, *it));
    }
    state->finish_setup();
    return out;
}

/// gather(range): one slot per element, the vector built in place.
template <bool ReturnExceptions, class Range>
auto gather_range(Range&& range) {
    using E = range_element_t<Range>;
    using traits = awaitable_traits<E>;
    static_assert(!traits::is_coro || (!std::is_lvalue_reference_v<Range> &&
                                       !std::is_const_v<std::remove_reference_t<Range>>),
                  "gather() moves the coroutines out of the range: pass it as an rvalue "
                  "(std::move(coros))");
    using Slot = slot_traits<typename traits::handle, traits::is_coro, ReturnExceptions>;
    using Build = VectorBuild<Slot, traits::is_coro>;
    using T = typename Build::type;
    if constexpr (requires { std::size(range); }) {
        return gather_elements<ReturnExceptions, T, Build>(
            range, static_cast<std::size_t>(std::size(range)));
    } else {
        std::vector<E> elements;
        for (auto&& e : range) {
            if constexpr (traits::is_coro)
                elements.push_back(std::move(e));
            else
                elements.push_back(e);
        }
        return gather_elements<ReturnExceptions, T, Build>(elements, elements.size());
    }
}

}  // namespace detail
}  // namespace asyncio
