// asyncio/detail/frame_alloc.hpp — per-thread size-class free lists for
// coroutine frames, task states and futures.
//
// A million short tasks must not hit malloc a million times: freed blocks are
// kept on a per-thread free list of their size class (16-byte steps up to
// 1 KiB) and handed out again. A class's blocks are 16k - 8 bytes, not 16k:
// glibc's malloc puts an 8-byte header before each chunk and rounds the chunk
// to 16, so a 16k-byte request takes a 16k + 16 chunk and a 16k - 8 one a 16k
// chunk. A 72-byte task state thus costs 80 bytes, not 96 (bench S5).
// A thread caches at most kMaxCachedBytes in all classes together; past
// that, blocks go back to malloc, so a burst does not pin memory forever.
// The cap is per thread, not per class: a class that overflowed it made
// every task of a 100,000-task burst with context variables (frame, task
// state and extras: ~35 MB) pay glibc's free/consolidate churn, 8x slower
// per task (bench/context_bench C2). A block freed on another thread joins
// that thread's list (malloc'd memory may move between threads).
//
// Under AddressSanitizer the cache is bypassed so use-after-free is caught.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define ASYNCIO_DETAIL_NO_FRAME_CACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCIO_DETAIL_NO_FRAME_CACHE 1
#endif
#endif

namespace asyncio::detail {

inline constexpr std::size_t kFrameGranule = 16;
inline constexpr std::size_t kFrameHeader = 8;  // glibc's chunk header (malloc_chunk's size field)
inline constexpr std::size_t kFrameClasses = 64;                       // up to 1 KiB
inline constexpr std::size_t kMaxCachedBytes = std::size_t{64} << 20;  // per thread

/// The size class of an n-byte block, and the bytes a block of that class
/// has (at least n; what is asked of malloc).
constexpr std::size_t frame_class(std::size_t n) noexcept {
    return (n + kFrameHeader + kFrameGranule - 1) / kFrameGranule;
}
constexpr std::size_t frame_class_bytes(std::size_t cls) noexcept {
    return cls * kFrameGranule - kFrameHeader;
}
static_assert(frame_class(88) == 6 && frame_class_bytes(6) == 88);
static_assert(frame_class(89) == 7 && frame_class_bytes(7) == 104);
static_assert(frame_class(1) == 1 && frame_class_bytes(1) == 8);  // holds a FreeBlock

struct FreeBlock {
    FreeBlock* next;
};

// Trivially destructible, so that access from the hot path needs no TLS guard.
struct FrameCache {
    FreeBlock* heads[kFrameClasses];
    std::size_t cached_bytes;  // in all classes together (the cap is on this)
    bool registered;           // the thread-exit releaser is armed
};

inline thread_local FrameCache t_frame_cache{};  // zero-initialised, trivially destructible
inline FrameCache& frame_cache() noexcept {
    return t_frame_cache;
}
void frame_cache_register_thread() noexcept;  // frees the lists at thread exit

inline void* frame_alloc(std::size_t n) {
#ifndef ASYNCIO_DETAIL_NO_FRAME_CACHE
    const std::size_t cls = frame_class(n);
    if (cls < kFrameClasses) {
        FrameCache& c = frame_cache();
        if (FreeBlock* b = c.heads[cls]) {
            c.heads[cls] = b->next;
            c.cached_bytes -= frame_class_bytes(cls);
            return b;
        }
        void* p = std::malloc(frame_class_bytes(cls));
        if (!p) throw std::bad_alloc();
        return p;
    }
#endif
    return ::operator new(n);
}

inline void frame_free(void* p, std::size_t n) noexcept {
#ifndef ASYNCIO_DETAIL_NO_FRAME_CACHE
    const std::size_t cls = frame_class(n);
    if (cls < kFrameClasses) {
        FrameCache& c = frame_cache();
        if (c.cached_bytes < kMaxCachedBytes) {
            if (!c.registered) frame_cache_register_thread();
            auto* b = static_cast<FreeBlock*>(p);
            b->next = c.heads[cls];
            c.heads[cls] = b;
            c.cached_bytes += frame_class_bytes(cls);
        } else {
            std::free(p);
        }
        return;
    }
#endif
#if defined(__cpp_sized_deallocation)
    ::operator delete(p, n);
#else
    (void)n;  // clang 14 has sized deallocation off by default
    ::operator delete(p);
#endif
}

/// Class-specific new/delete for objects that should come from the cache.
struct FrameAllocated {
    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
};

}  // namespace asyncio::detail
