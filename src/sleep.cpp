// sleep.cpp — asyncio.sleep: a future completed by a timer, both living in
// the sleep's own coroutine frame (no allocation beyond the frame).
#include "asyncio/sleep.hpp"

#include <cmath>

namespace asyncio {

namespace detail {
namespace {

/// CPython: loop.create_future() + call_later(delay, _set_result_unless_cancelled).
class SleepFuture final : public FutureStateBase, public TimerNode {
public:
    SleepFuture(EventLoop& loop, double deadline) : FutureStateBase(loop, kEmbeddedFuture) {
        when = deadline;
        run = &SleepFuture::fire;
        LoopAccess::timers(loop).push(this);
    }
    ~SleepFuture() {
        // CPython's `finally: h.cancel()`. After close() the heap is empty.
        if (heap_index != TimerNode::npos) LoopAccess::timers(*loop()).remove(this);
    }

private:
    static void fire(ReadyNode* n, Run mode) {
        auto* self = static_cast<SleepFuture*>(static_cast<TimerNode*>(n));
        if (mode == Run::call && !self->done()) self->finish_with_value();
    }
};

struct SleepGet {
    static void get(FutureBase* f) { f->check_result(); }
};

}  // namespace
}  // namespace detail

Coro<void> detail::sleep_for(Delay delay) {
    const double d = delay.seconds();
    if (d <= 0) {
        co_await detail::YieldAwaiter{};
        co_return;
    }
    if (std::isnan(d)) throw ValueError("Invalid delay: NaN (not a number)");
    EventLoop& loop = get_running_loop();
    detail::SleepFuture fut(loop, loop.time() + d);
    co_await detail::FutureAwaiter<detail::SleepGet>{&fut};
}

}  // namespace asyncio
