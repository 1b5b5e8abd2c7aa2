// wait.cpp — WaitCore: one asyncio.wait() call. Mirrors _wait() in
// Lib/asyncio/tasks.py: a waiter future, one completion callback per future,
// an optional timeout, and the callbacks removed when the wait ends.
#include "asyncio/wait.hpp"

#include <string>

namespace asyncio::detail {

void throw_wait_empty() {
    throw ValueError("Set of Tasks/Futures is empty.");
}

void throw_bad_return_when(ReturnWhen r) {
    throw ValueError("Invalid return_when value: " + std::to_string(static_cast<int>(r)));
}

WaitCore::WaitCore(EventLoop& loop, std::size_t n, ReturnWhen return_when)
    : waiter_(loop),
      timer_(this, &WaitCore::on_timeout),
      block_(WatchBlock::create(n, this, &WaitCore::on_fire)),
      return_when_(return_when) {}

WaitCore::~WaitCore() {
    // CPython's `finally`: cancel the timeout, remove every callback.
    timer_.cancel();
    block_->unlink_all();
    block_->release();
}

void WaitCore::start(std::optional<Delay> timeout) {
    counter_ = block_->live();
    EventLoop& loop = *waiter_.loop();
    block_->schedule_done(loop);
    if (timeout) timer_.start(loop, timeout->seconds());
}

void WaitCore::on_fire(void* self, WatchCell&, FutureBase* f) {
    auto* w = static_cast<WaitCore*>(self);
    --w->counter_;
    // FIRST_EXCEPTION looks at exception(), which marks it retrieved (as CPython).
    if (w->counter_ == 0 || w->return_when_ == ReturnWhen::FIRST_COMPLETED ||
        (w->return_when_ == ReturnWhen::FIRST_EXCEPTION && !f->cancelled() && f->exception())) {
        w->timer_.cancel();
        w->release_waiter();
    }
}

void WaitCore::on_timeout(void* self) {
    static_cast<WaitCore*>(self)->release_waiter();
}

void WaitCore::release_waiter() noexcept {
    if (!waiter_.done()) waiter_.finish_with_value();
}

}  // namespace asyncio::detail
