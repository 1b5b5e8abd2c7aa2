// context.cpp — the context maps, the current context of a thread, and
// ContextVar's set/reset. Mirrors Python/context.c (PyContext_*,
// PyContextVar_Set/Reset), with a copy-on-write flat map instead of a HAMT.
//
// Invariants:
//   * A ContextMap with refs > 1 is never modified (contexts, snapshots
//     and threads share it); with refs == 1 only its one owner sees it,
//     which may then update it in place.
//   * A ContextSlot owns one reference on its map or context.
//   * The current context (see current_slot) is t_context_slot if set, else
//     the running task's, else the thread's own (t_base).
#include "asyncio/context.hpp"

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

#include "asyncio/task.hpp"

namespace asyncio::detail {

namespace {

std::atomic<std::uint64_t> g_next_var_id{0};

// The thread's own context (PyThreadState's context). It registers the
// frame cache's thread-exit releaser first, so that the releaser is
// destroyed after it: the maps it frees at thread exit go to a live cache.
struct ThreadContext {
    ContextSlot slot;
    ThreadContext() noexcept { frame_cache_register_thread(); }
};
thread_local ThreadContext t_base;

std::size_t map_bytes(std::uint32_t n) noexcept {
    return sizeof(ContextMap) + n * sizeof(MapEntry);
}

ContextMap* map_alloc(std::uint32_t n) {
    auto* m = new (frame_alloc(map_bytes(n))) ContextMap;
    m->size = n;
    return m;
}

void map_free(ContextMap* m) noexcept {
    const std::size_t bytes = map_bytes(m->size);
    m->~ContextMap();
    frame_free(m, bytes);
}

/// The index of the first entry whose key is >= key.
std::uint32_t lower_bound(const ContextMap* m, std::uint64_t key) noexcept {
    const MapEntry* e = m->entries();
    std::uint32_t lo = 0, hi = m->size;
    while (lo < hi) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        if (e[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/// Copies the entries of `m` (except index `skip`) into `out` from index
/// `at`, moving the value references out of a map about to be freed
/// (`steal`), else adding one each.
void copy_entries(ContextMap* m, std::uint32_t from, std::uint32_t to, MapEntry* out,
                  bool steal) noexcept {
    for (std::uint32_t i = from; i < to; ++i) {
        *out = m->entries()[i];
        if (!steal) box_add_ref(out->value);
        ++out;
    }
}

/// Drops the old map after its entries were copied (stolen or shared).
void retire(ContextMap* m, bool stolen) noexcept {
    if (!m) return;
    if (stolen)
        map_free(m);
    else
        map_release(m);
}

/// `m` with key -> box. Consumes the caller's reference on `m` and on `box`
/// (on success; on bad_alloc nothing is consumed).
ContextMap* map_with(ContextMap* m, std::uint64_t key, ValueBox* box) {
    const std::uint32_t n = m ? m->size : 0;
    const std::uint32_t i = m ? lower_bound(m, key) : 0;
    const bool found = i < n && m->entries()[i].key == key;
    const bool unique = m && m->refs.load(std::memory_order_acquire) == 1;
    if (found && unique) {
        box_release(std::exchange(m->entries()[i].value, box));
        return m;
    }
    ContextMap* out = map_alloc(found ? n : n + 1);
    MapEntry* e = out->entries();
    if (m) copy_entries(m, 0, i, e, unique);
    e[i] = {key, box};
    if (m) copy_entries(m, found ? i + 1 : i, n, e + i + 1, unique);
    retire(m, unique);
    return out;
}

/// `m` without key. Consumes the caller's reference on `m`.
ContextMap* map_without(ContextMap* m, std::uint64_t key) {
    if (!m) return nullptr;
    const std::uint32_t n = m->size;
    const std::uint32_t i = lower_bound(m, key);
    if (i == n || m->entries()[i].key != key) return m;
    if (n == 1) {
        map_release(m);
        return nullptr;
    }
    const bool unique = m->refs.load(std::memory_order_acquire) == 1;
    ContextMap* out = map_alloc(n - 1);
    copy_entries(m, 0, i, out->entries(), unique);
    copy_entries(m, i + 1, n, out->entries() + i, unique);
    if (unique) box_release(m->entries()[i].value);
    retire(m, unique);
    return out;
}

/// The current context's slot, for writing (may allocate the task's extras).
ContextSlot& current_slot() {
    if (ContextSlot* s = t_context_slot) return *s;
    if (TaskBase* t = running_task()) return t->context_slot();
    return t_base.slot;
}

}  // namespace

void map_release(ContextMap* m) noexcept {
    if (!m || m->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    for (std::uint32_t i = 0; i < m->size; ++i) box_release(m->entries()[i].value);
    map_free(m);
}

ContextImpl* ContextSlot::materialize() {
    if (!(bits_ & 1)) bits_ = reinterpret_cast<std::uintptr_t>(new_context(map())) | 1;
    return ctx();
}

ContextImpl* new_context(ContextMap* map) {
    auto* c = new ContextImpl;
    c->map = map;
    return c;
}

std::uint64_t new_context_var_id() noexcept {
    return g_next_var_id.fetch_add(1, std::memory_order_relaxed) + 1;
}

ContextMap* thread_context_map() noexcept {
    return t_base.slot.map();
}

ContextMap* current_context_map() noexcept {
    return running_context_map();
}

ContextImpl* current_context_if_materialized() noexcept {
    if (ContextSlot* s = t_context_slot) return s->ctx();
    if (TaskBase* t = running_task()) return t->context_if_materialized();
    return t_base.slot.ctx();
}

ValueBox* context_lookup(std::uint64_t key) noexcept {
    return map_find(running_context_map(), key);
}

SetResult context_set(std::uint64_t key, ValueBox* box) {
    std::unique_ptr<ValueBox> guard(box);  // until the map holds it
    ContextImpl* c = current_slot().materialize();
    ValueBox* old = box_add_ref(map_find(c->map, key));  // the token's reference
    try {
        c->map = map_with(c->map, key, box);
    } catch (...) {
        box_release(old);
        throw;
    }
    guard.release();
    return {ctx_add_ref(c), old};
}

void context_restore(std::uint64_t key, ValueBox* old) {
    ContextImpl* c = current_slot().materialize();
    if (old) {
        box_add_ref(old);
        try {
            c->map = map_with(c->map, key, old);
        } catch (...) {
            box_release(old);
            throw;
        }
    } else {
        c->map = map_without(c->map, key);
    }
}

void ContextScope::enter(ContextImpl* c) {
    // Python/context.c, _PyContext_Enter: a context is entered at most once
    // at a time. The running task's (or callback's) context counts as
    // entered: it is the current one.
    if (c == current_context_if_materialized() ||
        c->entered.exchange(true, std::memory_order_acq_rel))
        throw RuntimeError("cannot enter context: " + context_repr(c) + " is already entered");
    entered_ = c;
}

std::string address_of(const void* p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", p);
    return buf;
}

std::string context_repr(const void* impl) {
    return "<Context object at " + address_of(impl) + ">";
}

}  // namespace asyncio::detail
