// debug.cpp — debug mode (Python's PYTHONASYNCIODEBUG / loop.set_debug):
// coroutines destroyed without being awaited, slow callbacks and steps.
// Mirrors Lib/asyncio/coroutines.py (_is_debug_mode) and the debug parts of
// base_events.py (_run_once's slow callback warning).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "asyncio/task.hpp"
#include "describe.hpp"

namespace asyncio {

namespace detail {

std::vector<FrameInfo> stack_of(const TaskBase* t, std::optional<std::size_t> limit);

namespace {

/// Where a coroutine was created: the creating task and its async stack.
struct Creation {
    std::string task;
    std::vector<FrameInfo> frames;
};

/// Debug mode only, so one lock for every thread is fine; a frame may be
/// created on one thread and destroyed on another (run_coroutine_threadsafe).
/// Never destroyed: frames may outlive static destruction.
struct Registry {
    std::mutex mutex;
    std::unordered_map<const PromiseBase*, Creation> creations;
};
Registry& registry() {
    static Registry* r = new Registry;
    return *r;
}

}  // namespace

void track_coroutine(PromiseBase* p) noexcept {
    try {
        Creation c;
        if (TaskBase* t = running_task()) {
            c.task = t->get_name();
            c.frames = stack_of(t, std::nullopt);
        }
        Registry& r = registry();
        std::lock_guard lock(r.mutex);
        r.creations.insert_or_assign(p, std::move(c));
        p->set_tracked(true);
    } catch (...) {
        // Out of memory: this coroutine goes untracked.
    }
}

void untrack_coroutine(PromiseBase* p) noexcept {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.creations.erase(p);
}

void report_never_awaited(PromiseBase* p) noexcept {
    try {
        // CPython: "coroutine 'main' was never awaited", and in debug mode
        // "Coroutine created at (most recent call last)" with the creator's
        // frames. Ours are the creating task's async stack: each frame's line
        // is its latest co_await, at or before the call that created this one.
        std::string message = "coroutine '";
        message.append(p->func_ ? p->func_ : "?").append("' was never awaited");
        Creation c;
        {
            Registry& r = registry();
            std::lock_guard lock(r.mutex);
            if (auto it = r.creations.find(p); it != r.creations.end()) c = it->second;
        }
        if (c.frames.empty()) {
            message.append("\nCoroutine created outside any task");
        } else {
            message.append("\nCoroutine created at (most recent call last), in task '")
                .append(c.task)
                .append("'");
            for (const FrameInfo& f : c.frames) {
                message.append("\n  File \"").append(f.file).append("\", line ");
                message.append(std::to_string(f.line)).append(", in ").append(f.function);
            }
        }
        ExceptionContext context{std::move(message), nullptr, {}};
        if (EventLoop* l = running_loop())
            l->call_exception_handler(context);
        else
            print_exception_context(context);
    } catch (...) {
    }
}

bool debug_from_environment() noexcept {
    // Python: any non-empty PYTHONASYNCIODEBUG turns debug mode on.
    static const bool on = [] {
        const char* v = std::getenv("ASYNCIO_DEBUG");
        return v && *v;
    }();
    return on;
}

namespace {

std::string describe_node(ReadyNode* n) {
    if (n->run == &TaskBase::run_node) return static_cast<TaskBase*>(n)->repr();
    if (n->run == &CallbackBase::run_node)
        return "<Handle " + demangle(static_cast<CallbackBase*>(n)->callable_type().name()) + ">";
    if (n->run == &DoneCallbackNode::run_node) return "<Handle done callback>";
    return "<Handle>";
}

}  // namespace

}  // namespace detail

void EventLoop::set_debug(bool enabled) noexcept {
    debug_ = enabled;
    if (running_) detail::t_track_coroutines = enabled;
}

void EventLoop::run_node_timed(detail::ReadyNode* n) {
    // The node may be freed by its run: keep tasks and callbacks alive (for
    // their description) until it is measured.
    detail::TaskBase* task = nullptr;
    detail::CallbackBase* cb = nullptr;
    if (n->run == &detail::TaskBase::run_node) {
        task = static_cast<detail::TaskBase*>(n);
        task->add_ref();
    } else if (n->run == &detail::CallbackBase::run_node) {
        cb = static_cast<detail::CallbackBase*>(n);
        ++cb->refs;
    }
    struct Release {
        detail::TaskBase* task;
        detail::CallbackBase* cb;
        ~Release() {
            if (task) task->release();
            if (cb) cb->release();
        }
    } release{task, cb};
    const std::string before = task || cb ? std::string() : detail::describe_node(n);
    const auto t0 = std::chrono::steady_clock::now();
    n->run(n, detail::Run::call);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt >= slow_callback_duration) {
        // Python: logger.warning('Executing %s took %.3f seconds', handle, dt)
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.3f", dt);
        std::string what =
            task || cb ? detail::describe_node(task ? static_cast<detail::ReadyNode*>(task) : cb)
                       : before;
        call_exception_handler(
            {"Executing " + what + " took " + seconds + " seconds", nullptr, {}});
    }
}

}  // namespace asyncio
