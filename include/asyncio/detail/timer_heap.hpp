// asyncio/detail/timer_heap.hpp — binary min-heap of TimerNodes by (when, seq).
//
// Each node knows its index, so cancelling a timer removes it in O(log n):
// no lazy tombstones, no heap scans, and the heap never holds dead entries.
//
// Timers that are due move to a separate batch (take_due) that the loop runs
// after the ready entries of the same iteration. A node in that batch can
// still be withdrawn by remove(): its owner may be destroyed by something that
// runs earlier in the iteration (a sleep whose task was woken by a
// cancellation), and must not leave a dangling entry behind.
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

    void push(TimerNode* n);  // assigns n->seq
    /// Withdraws n from the heap or from the due batch (n must be in one).
    void remove(TimerNode* n) noexcept;
    /// Moves every timer with when < end_time into the due batch, in order.
    void take_due(double end_time);
    /// The next timer of the due batch not withdrawn since, or nullptr at the end.
    TimerNode* next_due() noexcept;
    /// Puts what is left of the due batch back in the heap (an exception
    /// left the iteration early).
    void restore_due() noexcept;
    /// Empties the heap and the batch, returning their nodes in no particular order.
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

    static constexpr std::size_t kDueBit = std::size_t{1} << (sizeof(std::size_t) * 8 - 2);

    std::vector<TimerNode*> heap_;
    std::vector<TimerNode*> due_;  // withdrawn entries are nullptr
    std::size_t due_pos_ = 0;
    std::uint64_t next_seq_ = 0;
};

}  // namespace asyncio::detail
