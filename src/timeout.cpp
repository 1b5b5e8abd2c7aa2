// timeout.cpp — asyncio.Timeout, laid out beside Lib/asyncio/timeouts.py.
//
// Invariants:
//   * timer_ is in loop_'s timer heap (or its due batch) exactly when
//     timer_.heap_index != npos; then state_ == active and the Timeout is
//     pinned (moving it throws). The destructor and aexit withdraw it, so the
//     loop never runs a timer whose Timeout is gone. close() empties the heap
//     (disposing does nothing), so a Timeout outliving its loop never touches it.
//   * soon_ (Python's call_soon(self._on_timeout)) is cancelled by the same
//     paths; a cancelled Handle never runs, so its `this` capture never dangles.
//   * task_ is a raw pointer: the Timeout's timer only fires while the loop
//     is open, and the loop holds every pending task until it is done.
//
// State transitions (Python's _State): created -> active (aenter);
// active -> expiring (the deadline fired: on_timeout); active -> finished
// and expiring -> expired (aexit).
#include "asyncio/timeout.hpp"

#include <charconv>
#include <cmath>
#include <utility>

#include "asyncio/task.hpp"  // ExceptionContext

namespace asyncio {

Timeout& Timeout::operator=(Timeout&& other) {
    if (this == &other) return *this;
    if (pinned() || other.pinned()) throw_pinned();
    cancel_handler();  // nothing is scheduled unless pinned; kept for safety
    when_ = other.when_;
    task_ = other.task_;
    cancelling_ = other.cancelling_;
    state_ = other.state_;
    return *this;
}

void Timeout::throw_pinned() {
    throw RuntimeError("Timeout cannot be moved while active");
}

const char* Timeout::state_name(State s) noexcept {
    switch (s) {
        case State::created:
            return "created";
        case State::active:
            return "active";
        case State::expiring:
            return "expiring";
        case State::expired:
            return "expired";
        case State::finished:
            return "finished";
    }
    return "?";
}

void Timeout::cancel_handler() noexcept {
    if (timer_.heap_index != detail::TimerNode::npos)
        detail::LoopAccess::timers(*loop_).remove(&timer_);
    if (has_soon_) [[unlikely]] {
        has_soon_ = false;
        soon_.cancel();
        soon_ = Handle();
    }
}

void Timeout::reschedule(std::optional<double> when) {
    if (state_ != State::active) {
        if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
        throw RuntimeError(std::string("Cannot change state of ") + state_name(state_) +
                           " Timeout");
    }
    when_ = when;
    cancel_handler();
    if (!when) return;
    EventLoop& loop = get_running_loop();
    schedule(loop, loop.time());
}

void Timeout::schedule(EventLoop& loop, double now) {
    const double when = *when_;
    if (std::isnan(when)) throw ValueError("Invalid deadline: NaN (not a number)");
    detail::LoopAccess::check_closed(loop);
    if (when <= now) {
        soon_ = loop.call_soon([this] { on_timeout(); });
        has_soon_ = true;
    } else {
        timer_.when = when;
        timer_.run = &Timeout::fire;
        timer_.owner = this;
        loop_ = &loop;
        detail::LoopAccess::timers(loop).push(&timer_);
    }
}

void Timeout::fire(detail::ReadyNode* n, detail::Run mode) {
    // The loop has already taken the node out of the heap (heap_index == npos).
    if (mode != detail::Run::call) return;  // the loop is closing
    Timeout* self = static_cast<Timer*>(static_cast<detail::TimerNode*>(n))->owner;
    try {
        self->on_timeout();
    } catch (const KeyboardInterrupt&) {
        throw;
    } catch (const SystemExit&) {
        throw;
    } catch (...) {
        // As a TimerHandle's callback would be (CPython's Handle._run).
        if (self->loop_)
            self->loop_->call_exception_handler(
                {"Exception in callback", std::current_exception(), {}});
    }
}

void Timeout::on_timeout() {
    // Python: assert self._state is _State.ENTERED
    task_->cancel(std::nullopt);
    state_ = State::expiring;
    // Python drops the handler reference early; a Handle is only released
    // here (the loop still holds the running callback's own reference).
    has_soon_ = false;
    soon_ = Handle();
}

void Timeout::enter(const double* now) {
    if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
    EventLoop* loop = detail::running_loop();
    if (!loop) detail::throw_no_running_loop();  // Python's tasks.current_task()
    detail::TaskBase* task = detail::LoopAccess::current_task(*loop);
    if (!task) throw RuntimeError("Timeout should be used inside a task");
    state_ = State::active;
    task_ = task;
    cancelling_ = task->cancelling();
    // Python: self.reschedule(self._when)
    if (when_) schedule(*loop, now ? *now : loop->time());
}

bool Timeout::exit(const std::exception_ptr& exc) {
    // Python asserts the state; misuse is a RuntimeError here.
    if (state_ != State::active && state_ != State::expiring) {
        if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
        throw RuntimeError(std::string("Cannot change state of ") + state_name(state_) +
                           " Timeout");
    }
    cancel_handler();
    if (state_ == State::expiring) [[unlikely]] {
        state_ = State::expired;
        // No cancel request beyond ours: this scope handles its own.
        if (task_->uncancel() <= cancelling_ && exc) {
            if (detail::holds_cancelled_error(exc)) detail::throw_timeout_from(exc);
            // Python's _insert_timeout_error only edits __context__ chains,
            // which C++ exceptions do not have: the exception passes unchanged.
        }
    } else {
        state_ = State::finished;
    }
    return false;
}

namespace {

/// Python's repr(float): the shortest round-trip digits, in positional
/// notation when the decimal exponent is in [-4, 16), else as 1.5e-05.
std::string python_float_repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    const std::string sci(buf, res.ptr);  // "-1.2345e+01"
    const std::size_t e = sci.find('e');
    const int exp = std::stoi(sci.substr(e + 1));
    if (exp < -4 || exp >= 16) return sci;
    std::string out = sci[0] == '-' ? "-" : "";
    std::string digits;
    for (std::size_t i = 0; i < e; ++i)
        if (sci[i] >= '0' && sci[i] <= '9') digits += sci[i];
    if (exp < 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exp - 1), '0');
        out += digits;
    } else {
        const auto point = static_cast<std::size_t>(exp) + 1;
        if (digits.size() <= point) {
            out += digits;
            out.append(point - digits.size(), '0');
            out += ".0";
        } else {
            out.append(digits, 0, point);
            out += '.';
            out.append(digits, point, std::string::npos);
        }
    }
    return out;
}

}  // namespace

std::string Timeout::repr() const {
    std::string info;
    if (state_ == State::active) {
        info = " when=";
        if (!when_) {
            info += "None";
        } else {
            // Python: repr(round(when, 3)). Past 1e15 a double has no
            // thousandths left to round.
            const double w = *when_;
            info += python_float_repr(
                std::isfinite(w) && std::fabs(w) < 1e15 ? std::round(w * 1000.0) / 1000.0 : w);
        }
    }
    return std::string("<Timeout [") + state_name(state_) + "]" + info + ">";
}

Timeout timeout(std::optional<Delay> delay) {
    EventLoop& loop = get_running_loop();
    return Timeout(delay ? std::optional<double>(loop.time() + delay->seconds()) : std::nullopt);
}

Timeout timeout_at(std::optional<double> when) noexcept {
    return Timeout(when);
}

namespace detail {

void throw_timeout_from(const std::exception_ptr& cause) {
    try {
        std::rethrow_exception(cause);
    } catch (...) {
        std::throw_with_nested(TimeoutError());
    }
}

bool holds_cancelled_error(const std::exception_ptr& e) noexcept {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace detail

}  // namespace asyncio
