// asyncio/context.hpp — contextvars.ContextVar, contextvars.Token,
// contextvars.Context, contextvars.copy_context, as asyncio uses them.
//
// Mirrors Python/context.c and Lib/test/test_context.py (3.13 semantics).
//
// A ContextVar<T> names a slot; a Context maps slots to values. Every task
// runs in its own copy of its creator's context (or in the context given as
// TaskOptions{.context}), every callback in a copy of the context current
// when it was scheduled (or the one given as CallbackOptions{.context}), so
// a value set in a task is seen by what that task starts and by nothing else.
//
//     asyncio::ContextVar<std::string> request_id("request_id", "-");
//     request_id.set("r1");                  // in this task's context
//     auto t = asyncio::create_task(child()); // child sees "r1"
//
// The current context of a thread is, in this order: the one entered by
// Context::run() or by the callback running now; else the running task's;
// else the thread's own (see docs/design.md, "Context variables").
//
// Cost: copying a context (copy_context, every create_task) shares an
// immutable map: O(1), and nothing at all while no variable was ever set.
// set() is O(number of variables set in the context) (a copy-on-write flat
// map; in place when the map is not shared); get() is a search of that map.
//
// Thread-safety: a Context may be handed to another thread (refcounts and
// maps are atomic/immutable); ContextVar::get/set act on the calling
// thread's current context. One Context must not be used by two threads at
// once (Python's run() refuses a context already entered; so do we).
//
// Differences from Python:
//   * get() returns a copy of the value (T), not a shared object.
//   * Token::old_value() is a std::optional<T>; std::nullopt (Token::MISSING)
//     plays Token.MISSING. Tokens are move-only.
//   * Context compares by identity (==), not by content; the mapping view is
//     size(), contains(var), get(var) -> std::optional<T>, get(var, fallback),
//     operator[] (throws KeyError); no iteration (values are of many types).
//   * A task does not mark its context "entered" while it steps; running a
//     task's own context with Context::run from inside that task still
//     throws (it is the current context), as in Python.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "asyncio/detail/frame_alloc.hpp"
#include "asyncio/errors.hpp"

namespace asyncio {

template <class T>
class ContextVar;
class Context;

namespace detail {

/// One value, shared by every map version (and every thread) that holds it.
struct ValueBox {
    std::atomic<std::uint32_t> refs{1};
    virtual ~ValueBox() = default;
};

template <class T>
struct Box final : ValueBox, FrameAllocated {
    template <class U>
    explicit Box(U&& v) : value(std::forward<U>(v)) {}
    using FrameAllocated::operator new;
    using FrameAllocated::operator delete;
    const T value;
};

inline ValueBox* box_add_ref(ValueBox* b) noexcept {
    if (b) b->refs.fetch_add(1, std::memory_order_relaxed);
    return b;
}
inline void box_release(ValueBox* b) noexcept {
    if (b && b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete b;
}

struct MapEntry {
    std::uint64_t key;  // the ContextVar's id
    ValueBox* value;    // one reference
};

/// An immutable (once shared) flat map, sorted by key, entries right after
/// the header. Null is the empty map. Shared by contexts and snapshots;
/// mutated in place only while refs == 1.
struct ContextMap {
    std::atomic<std::uint32_t> refs{1};
    std::uint32_t size = 0;
    MapEntry* entries() noexcept { return reinterpret_cast<MapEntry*>(this + 1); }
    const MapEntry* entries() const noexcept { return reinterpret_cast<const MapEntry*>(this + 1); }
};

inline ContextMap* map_add_ref(ContextMap* m) noexcept {
    if (m) m->refs.fetch_add(1, std::memory_order_relaxed);
    return m;
}
void map_release(ContextMap* m) noexcept;

inline ValueBox* map_find(const ContextMap* m, std::uint64_t key) noexcept {
    if (!m) return nullptr;
    const MapEntry* e = m->entries();
    std::uint32_t lo = 0, hi = m->size;
    while (hi - lo > 8) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        if (e[mid].key <= key)
            lo = mid;
        else
            hi = mid;
    }
    for (; lo < hi; ++lo)
        if (e[lo].key == key) return e[lo].value;
    return nullptr;
}

/// Python's PyContext: a map, and whether Context::run has entered it.
struct ContextImpl : FrameAllocated {
    std::atomic<std::uint32_t> refs{1};
    std::atomic<bool> entered{false};
    ContextMap* map = nullptr;  // one reference; null = empty
    ~ContextImpl() { map_release(map); }
};

inline ContextImpl* ctx_add_ref(ContextImpl* c) noexcept {
    if (c) c->refs.fetch_add(1, std::memory_order_relaxed);
    return c;
}
inline void ctx_release(ContextImpl* c) noexcept {
    if (c && c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete c;
}

/// Where a task, a callback or a thread keeps its context, in one word:
///   0                  the empty context, not materialized;
///   a ContextMap*      a private context holding that map, not materialized
///                      (nobody has asked for its identity yet);
///   ContextImpl* | 1   a real context (given, or materialized).
/// Owns one reference on what it points at. Materializing (set(), which
/// needs the context's identity for its Token, or get_context()) allocates
/// the ContextImpl; until then a task or callback costs nothing.
class ContextSlot {
public:
    ContextSlot() = default;
    ContextSlot(const ContextSlot&) = delete;
    ContextSlot& operator=(const ContextSlot&) = delete;
    ~ContextSlot() { clear(); }

    ContextImpl* ctx() const noexcept {
        return (bits_ & 1) ? reinterpret_cast<ContextImpl*>(bits_ - 1) : nullptr;
    }
    ContextMap* map() const noexcept {
        if (bits_ & 1) return reinterpret_cast<ContextImpl*>(bits_ - 1)->map;
        return reinterpret_cast<ContextMap*>(bits_);
    }
    /// Takes a reference: the slot becomes that very context.
    void adopt_ctx(ContextImpl* c) noexcept {
        clear();
        bits_ = reinterpret_cast<std::uintptr_t>(c) | 1;
    }
    /// Takes a reference: the slot becomes a private context holding `m`.
    void adopt_map(ContextMap* m) noexcept {
        clear();
        bits_ = reinterpret_cast<std::uintptr_t>(m);
    }
    /// The slot's context, allocated now if it has none yet.
    ContextImpl* materialize();
    void clear() noexcept {
        if (bits_ & 1)
            ctx_release(reinterpret_cast<ContextImpl*>(bits_ - 1));
        else
            map_release(reinterpret_cast<ContextMap*>(bits_));
        bits_ = 0;
    }

private:
    std::uintptr_t bits_ = 0;
};

/// The context entered by Context::run() or by the callback running now on
/// this thread (nullptr: none, the running task's or the thread's own).
/// EventLoop::run_forever() clears it for the loop's run and restores it.
inline thread_local ContextSlot* t_context_slot = nullptr;

/// Clears t_context_slot while alive (run_forever; whoever steps a task
/// outside the loop's ready queue, e.g. an eager first step, must do the
/// same, so that the step sees the task's context).
class SuspendContextOverride {
public:
    SuspendContextOverride() noexcept : saved_(std::exchange(t_context_slot, nullptr)) {}
    ~SuspendContextOverride() { t_context_slot = saved_; }
    SuspendContextOverride(const SuspendContextOverride&) = delete;
    SuspendContextOverride& operator=(const SuspendContextOverride&) = delete;

private:
    ContextSlot* saved_;
};

/// Makes `slot` current while alive (a callback, Context::run). When the
/// slot is a real context, enters it: throws RuntimeError("cannot enter
/// context: <...> is already entered") if it is entered or current already.
class ContextScope {
public:
    explicit ContextScope(ContextSlot& slot) : saved_(t_context_slot) {
        if (ContextImpl* c = slot.ctx()) [[unlikely]]
            enter(c);
        t_context_slot = &slot;
    }
    ~ContextScope() {
        t_context_slot = saved_;
        if (entered_) entered_->entered.store(false, std::memory_order_release);
    }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

private:
    void enter(ContextImpl* c);
    ContextSlot* saved_;
    ContextImpl* entered_ = nullptr;
};

// The current context's operations (src/context.cpp).
std::uint64_t new_context_var_id() noexcept;
ContextMap* current_context_map() noexcept;
ContextMap* thread_context_map() noexcept;  // the thread's own context
ContextImpl* current_context_if_materialized() noexcept;
ValueBox* context_lookup(std::uint64_t key) noexcept;
struct SetResult {
    ContextImpl* ctx;  // a reference, for the Token
    ValueBox* old;     // a reference, or null (MISSING)
};
/// var.set(): consumes `box`'s reference.
SetResult context_set(std::uint64_t key, ValueBox* box);
/// var.reset(): `old` (borrowed) becomes the value again; null erases.
void context_restore(std::uint64_t key, ValueBox* old);
ContextImpl* new_context(ContextMap* map);  // adopts `map`'s reference
std::string address_of(const void* p);
std::string context_repr(const void* impl);

template <class T>
std::string value_repr(const T& v) {
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        return "'" + std::string(std::string_view(v)) + "'";
    } else if constexpr (requires(std::ostream& os) { os << v; }) {
        std::ostringstream os;
        os << v;
        return os.str();
    } else {
        return "...";
    }
}

}  // namespace detail

/// Python's contextvars.Context: a handle with reference semantics (copies
/// of the handle are the same context). `Context()` is a new empty context.
class Context {
public:
    Context() : c_(detail::new_context(nullptr)) {}
    Context(const Context& o) noexcept : c_(detail::ctx_add_ref(o.c_)) {}
    Context(Context&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    Context& operator=(Context o) noexcept {
        std::swap(c_, o.c_);
        return *this;
    }
    ~Context() { detail::ctx_release(c_); }
    static Context adopt(detail::ContextImpl* c) noexcept { return Context(c); }

    /// A new context with the same values (O(1): the map is shared).
    Context copy() const { return Context(detail::new_context(detail::map_add_ref(c_->map))); }

    /// Calls f(args...) with this context current and returns its result.
    /// Throws: RuntimeError("cannot enter context: <Context ...> is already
    /// entered") when it is entered (or current) already; whatever f throws.
    template <class F, class... A>
    std::invoke_result_t<F, A...> run(F&& f, A&&... args) {
        detail::ContextSlot slot;
        slot.adopt_ctx(detail::ctx_add_ref(c_));
        const detail::ContextScope scope(slot);
        return std::invoke(std::forward<F>(f), std::forward<A>(args)...);
    }

    /// The number of variables that have a value here.
    std::size_t size() const noexcept { return c_->map ? c_->map->size : 0; }
    template <class T>
    bool contains(const ContextVar<T>& var) const noexcept {
        return detail::map_find(c_->map, var.id()) != nullptr;
    }
    /// The value of `var` here, or std::nullopt (Python's ctx.get(var)).
    template <class T>
    std::optional<T> get(const ContextVar<T>& var) const {
        if (const detail::ValueBox* b = detail::map_find(c_->map, var.id()))
            return static_cast<const detail::Box<T>*>(b)->value;
        return std::nullopt;
    }
    template <class T, class U>
    T get(const ContextVar<T>& var, U&& fallback) const {
        if (const detail::ValueBox* b = detail::map_find(c_->map, var.id()))
            return static_cast<const detail::Box<T>*>(b)->value;
        return T(std::forward<U>(fallback));
    }
    /// Python's ctx[var]. Throws KeyError(repr(var)) when it has no value here.
    template <class T>
    T operator[](const ContextVar<T>& var) const {
        if (const detail::ValueBox* b = detail::map_find(c_->map, var.id()))
            return static_cast<const detail::Box<T>*>(b)->value;
        throw KeyError(var.repr());
    }

    std::string repr() const { return detail::context_repr(c_); }
    friend bool operator==(const Context& a, const Context& b) noexcept { return a.c_ == b.c_; }
    const void* identity() const noexcept { return c_; }
    detail::ContextImpl* impl() const noexcept { return c_; }

private:
    explicit Context(detail::ContextImpl* c) noexcept : c_(c) {}
    detail::ContextImpl* c_;
};

/// Python's contextvars.copy_context(): a new context holding the current
/// one's values (O(1)).
inline Context copy_context() {
    return Context::adopt(detail::new_context(detail::map_add_ref(detail::current_context_map())));
}

namespace detail {
/// What a callback (call_soon, add_done_callback) runs in: the context
/// given, or a snapshot of the current one (Python's Handle: copy_context()).
/// Nothing is allocated, and no atomic touched, while the context is empty.
inline void capture_context(ContextSlot& slot, const std::optional<Context>& given) noexcept {
    if (given)
        slot.adopt_ctx(ctx_add_ref(given->impl()));
    else if (ContextMap* m = current_context_map()) [[unlikely]]
        slot.adopt_map(map_add_ref(m));
}
}  // namespace detail

/// Python's contextvars.ContextVar. Declare it once and long-lived (a
/// global or a static), as in Python: tokens refer to it. Not copyable.
/// T must be copy-constructible (get() returns a copy).
template <class T>
class ContextVar {
    static_assert(std::is_copy_constructible_v<T>, "ContextVar<T>: T must be copyable");

public:
    /// What set() returns; reset(token) restores the value it replaced.
    class Token {
    public:
        /// Token.MISSING: what old_value() is when the variable had no value.
        static constexpr std::nullopt_t MISSING = std::nullopt;

        Token(Token&& o) noexcept
            : var_(o.var_),
              ctx_(std::exchange(o.ctx_, nullptr)),
              old_(std::exchange(o.old_, nullptr)),
              used_(o.used_) {}
        Token& operator=(Token&& o) noexcept {
            std::swap(var_, o.var_);
            std::swap(ctx_, o.ctx_);
            std::swap(old_, o.old_);
            std::swap(used_, o.used_);
            return *this;
        }
        Token(const Token&) = delete;
        Token& operator=(const Token&) = delete;
        ~Token() {
            detail::ctx_release(ctx_);
            detail::box_release(old_);
        }

        const ContextVar& var() const noexcept { return *var_; }
        /// The value before set(), or std::nullopt (MISSING) if there was none.
        std::optional<T> old_value() const {
            if (old_) return static_cast<const detail::Box<T>*>(old_)->value;
            return std::nullopt;
        }
        bool used() const noexcept { return used_; }
        std::string repr() const {
            return std::string("<Token ") + (used_ ? "used " : "") + "var=" + var_->repr() +
                   " at " + detail::address_of(this) + ">";
        }

    private:
        friend class ContextVar;
        Token(const ContextVar* v, detail::SetResult r) noexcept
            : var_(v), ctx_(r.ctx), old_(r.old) {}
        const ContextVar* var_;
        detail::ContextImpl* ctx_;  // the context set() ran in (a reference)
        detail::ValueBox* old_;     // the value replaced (a reference), or null
        mutable bool used_ = false;
    };

    explicit ContextVar(std::string name) : id_(detail::new_context_var_id()), name_(std::move(name)) {}
    ContextVar(std::string name, T default_value)
        : id_(detail::new_context_var_id()),
          name_(std::move(name)),
          default_(std::in_place, std::move(default_value)) {}
    ContextVar(const ContextVar&) = delete;
    ContextVar& operator=(const ContextVar&) = delete;

    const std::string& name() const noexcept { return name_; }

    /// The value in the current context, else the default.
    /// Throws: LookupError(repr(var)) when there is neither.
    T get() const {
        if (const detail::ValueBox* b = detail::context_lookup(id_))
            return static_cast<const detail::Box<T>*>(b)->value;
        if (default_) return *default_;
        throw LookupError(repr());
    }
    /// The value in the current context, else `fallback` (not the default,
    /// as in Python).
    template <class U>
    requires std::is_constructible_v<T, U&&> T get(U&& fallback) const {
        if (const detail::ValueBox* b = detail::context_lookup(id_))
            return static_cast<const detail::Box<T>*>(b)->value;
        return T(std::forward<U>(fallback));
    }

    /// Sets the value in the current context; the Token undoes it.
    Token set(T value) {
        auto* box = new detail::Box<T>(std::move(value));
        return Token(this, detail::context_set(id_, box));
    }

    /// Restores the value `token` replaced, in the context it was made in.
    /// Throws: RuntimeError("<Token ...> has already been used once");
    /// ValueError("<Token ...> was created by a different ContextVar");
    /// ValueError("<Token ...> was created in a different Context").
    void reset(const Token& token) {
        if (token.used_) throw RuntimeError(token.repr() + " has already been used once");
        if (token.var_ != this)
            throw ValueError(token.repr() + " was created by a different ContextVar");
        if (!token.ctx_ || token.ctx_ != detail::current_context_if_materialized())
            throw ValueError(token.repr() + " was created in a different Context");
        token.used_ = true;
        detail::context_restore(id_, token.old_);
    }

    /// Python's repr: <ContextVar name='x' default=1 at 0x...>.
    std::string repr() const {
        std::string s = "<ContextVar name='" + name_ + "'";
        if (default_) s += " default=" + detail::value_repr(*default_);
        return s + " at " + detail::address_of(this) + ">";
    }
    /// The key of this variable in every context's map (unique per process).
    std::uint64_t id() const noexcept { return id_; }

private:
    std::uint64_t id_;
    std::string name_;
    std::optional<T> default_;
};

}  // namespace asyncio

template <>
struct std::hash<asyncio::Context> {
    std::size_t operator()(const asyncio::Context& c) const noexcept {
        return std::hash<const void*>{}(c.identity());
    }
};
