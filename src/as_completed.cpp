// as_completed.cpp — AsCompletedCore and its getters: the todo count, the
// done queue and the timeout of one as_completed() iterator. Mirrors
// _AsCompletedIterator in Lib/asyncio/tasks.py (3.13) and the parts of
// asyncio.Queue it relies on (put_nowait, get, _wakeup_next).
#include "asyncio/as_completed.hpp"

namespace asyncio::detail {

AsCompletedCore::AsCompletedCore(EventLoop* loop, std::size_t n, void (*destroy)(AsCompletedCore*))
    : loop_(loop),
      block_(WatchBlock::create(n, this, &AsCompletedCore::on_fire)),
      timer_(this, &AsCompletedCore::on_timeout),
      destroy_(destroy) {}

void AsCompletedCore::start(std::optional<Delay> timeout) {
    todo_ = todo_left_ = block_->live();
    if (todo_ == 0) return;
    done_.reserve(todo_);
    block_->schedule_done(*loop_);
    if (timeout) timer_.start(*loop_, timeout->seconds());
}

void AsCompletedCore::shutdown() noexcept {
    timer_.cancel();
    block_->unlink_all();
    block_->release();
}

std::size_t AsCompletedCore::pop() noexcept {
    if (done_head_ < done_.size()) return done_[done_head_++];
    --sentinels_;
    return npos;
}

void AsCompletedCore::on_fire(void* self, WatchCell& cell, FutureBase*) {
    auto* q = static_cast<AsCompletedCore*>(self);
    if (q->todo_ == 0) return;  // _handle_timeout() was here first
    --q->todo_;
    q->done_.push_back(static_cast<std::uint32_t>(q->block_->index_of(cell)));  // put_nowait(f)
    q->wakeup_next();
    if (q->todo_ == 0) q->timer_.cancel();
}

void AsCompletedCore::on_timeout(void* self) {
    auto* q = static_cast<AsCompletedCore*>(self);
    // Every input not completed yet: stop watching it, queue a marker
    // (CPython's None) that makes its waiter raise TimeoutError.
    q->block_->unlink_all();
    const std::size_t left = q->todo_;
    q->todo_ = 0;
    for (std::size_t i = 0; i < left; ++i) {
        ++q->sentinels_;
        q->wakeup_next();
    }
}

void AsCompletedCore::wakeup_next() noexcept {
    while (AsCompletedGetter* g = getters_head_) {
        unlink(g);
        if (!g->fut_.done()) {
            g->fut_.finish_with_value();
            return;
        }
    }
}

void AsCompletedCore::link(AsCompletedGetter* g) noexcept {
    g->prev_ = getters_tail_;
    g->next_ = nullptr;
    if (getters_tail_)
        getters_tail_->next_ = g;
    else
        getters_head_ = g;
    getters_tail_ = g;
    g->linked_ = true;
}

void AsCompletedCore::unlink(AsCompletedGetter* g) noexcept {
    if (!g->linked_) return;
    g->linked_ = false;
    (g->prev_ ? g->prev_->next_ : getters_head_) = g->next_;
    (g->next_ ? g->next_->prev_ : getters_tail_) = g->prev_;
    g->prev_ = g->next_ = nullptr;
}

AsCompletedGetter::AsCompletedGetter(AsCompletedCore& q) : q_(q), fut_(get_running_loop()) {
    q_.link(this);
}

AsCompletedGetter::~AsCompletedGetter() {
    // CPython's `except: getter.cancel(); _getters.remove(getter); if not
    // self.empty() and not getter.cancelled(): self._wakeup_next(...)`: a
    // wait that ends without using its wake-up passes it on.
    q_.unlink(this);
    if (!consumed_ && fut_.done() && !fut_.cancelled() && !q_.empty()) {
        EventLoop* l = fut_.loop();
        if (l && !l->is_closed()) q_.wakeup_next();
    }
}

}  // namespace asyncio::detail
