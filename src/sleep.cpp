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

/// Parks the task on the sleep's future; transparent, because the body of
/// sleep_for does nothing with an error but pass it on.
struct SleepAwaiter {
    FutureBase* fut;
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
        task_of(h)->wait_on_transparent(fut, h);
    }
    void await_resume() const noexcept {}  // errors never resume this frame
};

/// sleep(0): one iteration, transparent for the same reason.
struct SleepYieldAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
        task_of(h)->yield_transparent(h);
    }
    void await_resume() const noexcept {}
};

}  // namespace
}  // namespace detail

Coro<void> detail::sleep_for(Delay delay) {
    const double d = delay.seconds();
    if (d <= 0) {
        co_await detail::SleepYieldAwaiter{};
        co_return;
    }
    if (std::isnan(d)) throw ValueError("Invalid delay: NaN (not a number)");
    EventLoop& loop = get_running_loop();
    detail::SleepFuture fut(loop, loop.time() + d);
    co_await detail::SleepAwaiter{&fut};
}

}  // namespace asyncio
