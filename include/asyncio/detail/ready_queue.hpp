// asyncio/detail/ready_queue.hpp — intrusive nodes for the loop's ready
// queue, future callback lists and the timer heap.
//
// Everything the loop runs is a ReadyNode: a task's step, a call_soon handle,
// a timer whose deadline passed, a future's done callback. Nodes are linked
// through `next_ready`; nothing is allocated to enqueue one.
//
// `run(node, Run::dispose)` must release the node without running it: the
// loop calls it for what is still queued when it closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace asyncio::detail {

enum class Run : bool { call, dispose };

struct ReadyNode {
    ReadyNode* next_ready = nullptr;
    void (*run)(ReadyNode*, Run) = nullptr;
};

/// FIFO of ReadyNodes. Invariant: head == nullptr iff tail == nullptr.
class ReadyQueue {
public:
    bool empty() const noexcept { return head_ == nullptr; }

    void push(ReadyNode* n) noexcept {
        n->next_ready = nullptr;
        if (tail_)
            tail_->next_ready = n;
        else
            head_ = n;
        tail_ = n;
    }

    /// Appends the chain first..last (already linked, last->next_ready == nullptr).
    void append_chain(ReadyNode* first, ReadyNode* last) noexcept {
        if (tail_)
            tail_->next_ready = first;
        else
            head_ = first;
        tail_ = last;
    }

    /// Puts the chain first..last back in front (after an exception escaped a batch).
    void prepend_chain(ReadyNode* first, ReadyNode* last) noexcept {
        last->next_ready = head_;
        if (!head_) tail_ = last;
        head_ = first;
    }

    /// Detaches everything queued; the caller walks the chain via next_ready.
    ReadyNode* take_all() noexcept {
        ReadyNode* h = head_;
        head_ = tail_ = nullptr;
        return h;
    }

private:
    ReadyNode* head_ = nullptr;
    ReadyNode* tail_ = nullptr;
};

/// A ReadyNode with a deadline; lives in the loop's timer heap until due.
struct TimerNode : ReadyNode {
    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();
    double when = 0;
    std::uint64_t seq = 0;          // FIFO among equal deadlines
    std::size_t heap_index = npos;  // npos when neither in the heap nor in its due batch
};

}  // namespace asyncio::detail
