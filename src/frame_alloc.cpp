// frame_alloc.cpp — the per-thread cache behind detail::frame_alloc.
#include "asyncio/detail/frame_alloc.hpp"

namespace asyncio::detail {

namespace {

// Returns the cached blocks to malloc when the thread ends (so LeakSanitizer
// and valgrind see nothing, and short-lived threads give their memory back).
struct CacheReleaser {
    bool armed = false;
    ~CacheReleaser() {
        for (std::size_t i = 0; i < kFrameClasses; ++i) {
            FreeBlock* b = t_frame_cache.heads[i];
            while (b) {
                FreeBlock* next = b->next;
                std::free(b);
                b = next;
            }
            t_frame_cache.heads[i] = nullptr;
        }
        t_frame_cache.cached_bytes = 0;
        t_frame_cache.registered = false;
    }
};
thread_local CacheReleaser t_releaser;

}  // namespace

void frame_cache_register_thread() noexcept {
    t_frame_cache.registered = true;
    t_releaser.armed = true;  // first odr-use constructs it and registers its destructor
}

}  // namespace asyncio::detail
