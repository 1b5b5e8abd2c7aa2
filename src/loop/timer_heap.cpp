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
    if (i & kDueBit) {
        due_[i & ~kDueBit] = nullptr;
        return;
    }
    TimerNode* last = heap_.back();
    heap_.pop_back();
    if (last == n) return;
    place(i, last);
    if (i > 0 && less(last, heap_[(i - 1) / 2]))
        sift_up(i);
    else
        sift_down(i);
}

void TimerHeap::take_due(double end_time) {
    while (!heap_.empty() && heap_.front()->when <= end_time) {
        TimerNode* t = heap_.front();
        remove(t);
        t->heap_index = kDueBit | due_.size();
        due_.push_back(t);
    }
}

TimerNode* TimerHeap::next_due() noexcept {
    while (due_pos_ < due_.size()) {
        TimerNode* t = due_[due_pos_++];
        if (t) {
            t->heap_index = TimerNode::npos;
            return t;
        }
    }
    due_.clear();
    due_pos_ = 0;
    return nullptr;
}

void TimerHeap::restore_due() noexcept {
    std::vector<TimerNode*> rest;
    rest.swap(due_);
    const std::size_t from = due_pos_;
    due_pos_ = 0;
    for (std::size_t i = from; i < rest.size(); ++i) {
        if (TimerNode* t = rest[i]) {
            // Keep its original order: seq is reassigned but `when` decides
            // first, and these were all due before anything pushed since.
            heap_.push_back(t);
            t->heap_index = heap_.size() - 1;
            sift_up(heap_.size() - 1);
        }
    }
}

std::vector<TimerNode*> TimerHeap::take_all() noexcept {
    std::vector<TimerNode*> out;
    out.swap(heap_);
    for (std::size_t i = due_pos_; i < due_.size(); ++i)
        if (due_[i]) out.push_back(due_[i]);
    due_.clear();
    due_pos_ = 0;
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
