// timer_heap.cpp — the loop's deadline heap (see detail/timer_heap.hpp).
#include "asyncio/detail/timer_heap.hpp"

namespace asyncio::detail {

void TimerHeap::push(TimerNode* n) {
    n->seq = next_seq_++;
    heap_.push_back(n);
    n->heap_index = heap_.size() - 1;
    sift_up(heap_.size() - 1);
}

void TimerHeap::remove(TimerNode* n) noexcept {
    const std::size_t i = n->heap_index;
    n->heap_index = TimerNode::npos;
    TimerNode* last = heap_.back();
    heap_.pop_back();
    if (last == n) return;
    place(i, last);
    if (i > 0 && less(last, heap_[(i - 1) / 2]))
        sift_up(i);
    else
        sift_down(i);
}

TimerNode* TimerHeap::pop() noexcept {
    TimerNode* t = heap_.front();
    remove(t);
    return t;
}

std::vector<TimerNode*> TimerHeap::take_all() noexcept {
    std::vector<TimerNode*> out;
    out.swap(heap_);
    for (TimerNode* n : out) n->heap_index = TimerNode::npos;
    return out;
}

void TimerHeap::sift_up(std::size_t i) noexcept {
    TimerNode* n = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!less(n, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, n);
}

void TimerHeap::sift_down(std::size_t i) noexcept {
    TimerNode* n = heap_[i];
    const std::size_t size = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && less(heap_[child + 1], heap_[child])) ++child;
        if (!less(heap_[child], n)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, n);
}

}  // namespace asyncio::detail
