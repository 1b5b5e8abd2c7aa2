// asyncio/detail/timer_heap.hpp — binary min-heap of TimerNodes by (when, seq).
//
// Each node knows its index, so cancelling a timer removes it in O(log n):
// no lazy tombstones, no heap scans, and the heap never holds dead entries.
#pragma once

#include <cstdint>
#include <vector>

#include "asyncio/detail/ready_queue.hpp"

namespace asyncio::detail {

class TimerHeap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    TimerNode* top() const noexcept { return heap_.front(); }

    void push(TimerNode* n);          // assigns n->seq
    void remove(TimerNode* n) noexcept;  // n must be in the heap
    TimerNode* pop() noexcept;        // removes and returns top()
    /// Empties the heap, returning its nodes in no particular order.
    std::vector<TimerNode*> take_all() noexcept;

private:
    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void place(std::size_t i, TimerNode* n) noexcept {
        heap_[i] = n;
        n->heap_index = i;
    }

    std::vector<TimerNode*> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace asyncio::detail
