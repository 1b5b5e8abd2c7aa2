// frame_cache_test.cpp — detail/frame_alloc.hpp: the per-thread size-class
// cache behind coroutine frames, task states and futures, and the sizes of
// the awaiters that live in every suspended frame.
//
// Memory per task is judged by bench S5; these tests pin down the mechanisms
// it depends on, so that a change that undoes one fails here, not only as a
// number in a benchmark run.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <asyncio.hpp>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace {

using asyncio::detail::frame_alloc;
using asyncio::detail::frame_cache;
using asyncio::detail::frame_class;
using asyncio::detail::frame_class_bytes;
using asyncio::detail::frame_free;
using asyncio::detail::kFrameHeader;

#ifdef ASYNCIO_DETAIL_NO_FRAME_CACHE
#define SKIP_WITHOUT_CACHE() GTEST_SKIP() << "the frame cache is bypassed under AddressSanitizer"
#else
#define SKIP_WITHOUT_CACHE() (void)0
#endif

TEST(frame_cache, a_block_is_the_size_glibc_fills_a_chunk_with) {
    SKIP_WITHOUT_CACHE();
#ifndef __GLIBC__
    GTEST_SKIP() << "block sizes are chosen for glibc's malloc";
#endif
    // glibc: chunk = request + 8-byte header, rounded up to 16, so a block of
    // 16k - 8 bytes uses its chunk whole. (A 16k-byte block would waste 16.)
    const std::size_t sizes[] = {1, 8, 9, 24, 25, 72, 88, 89, 104, 105, 1000};
    for (const std::size_t n : sizes) {
        void* p = frame_alloc(n);
        const std::size_t block = frame_class_bytes(frame_class(n));
        EXPECT_GE(block, n);
        EXPECT_LT(block, n + 16) << n;
        EXPECT_EQ((block + 8) % 16, 0u) << n;
        // (glibc's smallest chunk is 32 bytes: 24 usable.)
        EXPECT_EQ(malloc_usable_size(p), std::max<std::size_t>(block, 24)) << n;
        frame_free(p, n);
    }
}

TEST(frame_cache, a_freed_block_serves_the_next_request_of_its_class_only) {
    SKIP_WITHOUT_CACHE();
    void* p = frame_alloc(88);
    frame_free(p, 88);
    void* other_class = frame_alloc(89);  // 89..104 is the next class
    EXPECT_NE(other_class, p);
    void* same_class = frame_alloc(73);  // 73..88
    EXPECT_EQ(same_class, p);
    frame_free(same_class, 73);
    frame_free(other_class, 89);
}

TEST(frame_cache, counts_the_bytes_it_holds_by_block_size) {
    SKIP_WITHOUT_CACHE();
    std::vector<void*> blocks;
    for (int i = 0; i < 10; ++i) blocks.push_back(frame_alloc(88));
    const std::size_t before = frame_cache().cached_bytes;
    for (void* p : blocks) frame_free(p, 88);
    EXPECT_EQ(frame_cache().cached_bytes - before, 10 * frame_class_bytes(frame_class(88)));
    for (void*& p : blocks) p = frame_alloc(88);
    EXPECT_EQ(frame_cache().cached_bytes, before);
    for (void* p : blocks) frame_free(p, 88);
}

// An awaiter lives in its frame for the frame's whole life: each word is a
// word of every suspended task awaiting a future.
TEST(frame_cache, future_awaiter_is_one_word_and_yield_awaiter_empty) {
    asyncio::Future<int> f;
    EXPECT_EQ(sizeof(f.operator co_await()), sizeof(void*));
    EXPECT_TRUE(std::is_empty_v<asyncio::detail::YieldAwaiter>);
}

// The future a task waits on and its extras live in its root promise, so
// the task state takes an 80-byte malloc chunk.
TEST(frame_cache, task_state_fits_an_80_byte_chunk) {
    EXPECT_LE(sizeof(asyncio::detail::TaskBase), 72u);
    EXPECT_EQ(frame_class_bytes(frame_class(sizeof(asyncio::detail::TaskBase))) + kFrameHeader,
              80u);
}

}  // namespace
