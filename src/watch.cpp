// watch.cpp — WatchBlock, WatchNode, OwnedTimer (see asyncio/detail/watch.hpp):
// the callback nodes and timers behind gather(), wait() and as_completed().
#include "asyncio/detail/watch.hpp"

#include <cmath>
#include <new>

namespace asyncio::detail {

namespace {
// The node is the first member of its (standard-layout) cell.
WatchCell& cell_of(void* node) noexcept {
    return *reinterpret_cast<WatchCell*>(node);
}
}  // namespace

static_assert(std::is_standard_layout_v<WatchCell>);

void WatchNode::invoke(FutureBase* f) {
    WatchCell& c = cell_of(this);
    if (WatchBlock* b = c.block; b->owner_) b->fire_(b->owner_, c, f);
}

void WatchNode::operator delete(void* p) noexcept {
    WatchCell& c = cell_of(p);
    c.live = false;
    c.block->node_gone();  // may free the block: nothing may follow
}

WatchBlock* WatchBlock::create(std::size_t n, void* owner, Fire fire) {
    void* mem = frame_alloc(bytes(n));
    return ::new (mem) WatchBlock(n, owner, fire);  // cells are set up one by one
}

WatchCell& WatchBlock::set(std::size_t i, FutureBase* f) noexcept {
    // Cells are set up in order, so that a half-built block (its owner threw)
    // only ever walks cells that exist.
    WatchCell* c = ::new (cells() + i) WatchCell;  // the node storage stays raw
    c->fut = f;
    c->block = this;
    n_init_ = i + 1;
    return *c;
}

void WatchBlock::destroy() noexcept {
    const std::size_t size = bytes(n_);
    this->~WatchBlock();  // cells hold no live node by now, and are trivial
    frame_free(this, size);
}

bool WatchBlock::arm(std::size_t i, FutureBase* f) noexcept {
    WatchCell& c = set(i, f);
    // A node of ours armed on f is necessarily f's newest callback: arming
    // only ever appends to other futures' lists in between.
    if (ReadyNode* last = f->last_callback(); last && last->run == &DoneCallbackNode::run_node) {
        auto* d = static_cast<DoneCallbackNode*>(last);
        if (d->id == WatchNode::kId && cell_of(static_cast<WatchNode*>(d)).block == this)
            return false;
    }
    WatchNode* node = ::new (c.storage) WatchNode;
    node->run = &DoneCallbackNode::run_node;
    c.live = true;
    ++live_;
    f->add_callback(node);
    return true;
}

void WatchBlock::schedule_done(EventLoop& loop) noexcept {
    ReadyQueue& ready = LoopAccess::ready(loop);
    for (WatchCell& c : *this) {
        if (c.live && c.fut->done() && c.fut->remove_callback(c.node())) {
            // As the core does for a done callback added to a done future:
            // the node holds a reference until it has run.
            WatchNode* node = c.node();
            node->fut = c.fut;
            c.fut->add_ref();
            ready.push(node);
        }
    }
}

void WatchBlock::unlink_all() noexcept {
    if (live_ == 0) return;
    for (WatchCell& c : *this) {
        if (c.live && c.fut->remove_callback(c.node())) {
            c.node()->~WatchNode();
            c.live = false;
            --live_;
        }
    }
}

void WatchBlock::release() noexcept {
    owner_ = nullptr;
    if (live_ == 0) destroy();
}

void WatchBlock::node_gone() noexcept {
    --live_;
    if (owner_) {
        if (gone_) gone_(owner_);  // may release the owner, and so the block
    } else if (live_ == 0) {
        destroy();
    }
}

void OwnedTimer::start(EventLoop& loop, double delay) {
    const double at = loop.time() + delay;
    if (std::isnan(at)) throw ValueError("call_at(): when is NaN");
    cancel();
    loop_ = &loop;
    when = at;
    LoopAccess::timers(loop).push(this);
}

void OwnedTimer::cancel() noexcept {
    // After close() the heap is empty and heap_index is npos.
    if (heap_index != TimerNode::npos) LoopAccess::timers(*loop_).remove(this);
}

void OwnedTimer::run_node(ReadyNode* n, Run mode) {
    auto* t = static_cast<OwnedTimer*>(static_cast<TimerNode*>(n));
    if (mode == Run::call) t->fire_(t->owner_);
}

}  // namespace asyncio::detail
