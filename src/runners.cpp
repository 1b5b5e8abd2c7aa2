// runners.cpp — asyncio.Runner: loop lifetime, SIGINT, final cleanup.
// Mirrors Lib/asyncio/runners.py (3.13).
#include "asyncio/runners.hpp"

#include "asyncio/threads.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace asyncio {

namespace {

// The runner that owns SIGINT right now (only one, in the main thread).
std::atomic<Runner*> g_sigint_owner{nullptr};
struct sigaction g_previous_sigint;

bool in_main_thread() noexcept {
    return ::getpid() == static_cast<pid_t>(::syscall(SYS_gettid));
}

}  // namespace

Runner::Runner(RunOptions options) : options_(std::move(options)) {}

Runner::~Runner() {
    try {
        close();
    } catch (...) {
        // Nothing can be reported from a destructor; close() explicitly to see errors.
    }
}

EventLoop& Runner::get_loop() {
    if (closed_) throw RuntimeError("Runner is closed");
    if (!loop_) {
        loop_ = options_.loop_factory ? options_.loop_factory() : new_event_loop();
        if (!loop_) throw RuntimeError("Runner: loop_factory returned no loop");
        if (options_.debug) loop_->set_debug(*options_.debug);
        context_ = copy_context();
    }
    return *loop_;
}

void Runner::check_can_run() const {
    if (detail::running_loop())
        throw RuntimeError("Runner.run() cannot be called from a running event loop");
    if (closed_) throw RuntimeError("Runner is closed");
}

void Runner::close() {
    if (closed_) return;
    closed_ = true;
    if (!loop_) return;
    struct CloseLoop {
        EventLoop& loop;
        ~CloseLoop() { loop.close(); }
    } close_loop{*loop_};
    cancel_all_tasks();
    // CPython 3.13: shutdown_asyncgens (none here), then
    // shutdown_default_executor(constants.THREAD_JOIN_TIMEOUT = 300).
    loop_->run_until_complete(loop_->shutdown_default_executor(300.0));
}

void Runner::cancel_all_tasks() {
    // CPython's _cancel_all_tasks: cancel, then wait for every one of them.
    std::vector<TaskRef> tasks = all_tasks(loop_.get());
    if (tasks.empty()) return;
    for (TaskRef& t : tasks) t.cancel();
    Future<void> all_done = loop_->create_future<void>();
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    for (TaskRef& t : tasks) {
        t.add_done_callback([remaining, all_done](const TaskRef&) {
            if (--*remaining == 0 && !all_done.done()) all_done.set_result();
        });
    }
    loop_->run_until_complete(all_done);
    for (TaskRef& t : tasks) {
        if (t.cancelled()) continue;
        if (std::exception_ptr e = t.exception())
            loop_->call_exception_handler(
                {"unhandled exception during asyncio.run() shutdown", e, t});
    }
}

void Runner::on_wakeup(void* self) {
    auto* r = static_cast<Runner*>(self);
    if (r->interrupt_count_.load() > 0 && !r->interrupt_handled_) {
        r->interrupt_handled_ = true;
        if (r->main_task_ && !r->main_task_.done()) r->main_task_.cancel();
    }
}

extern "C" void asyncio_detail_on_sigint(int) {
    Runner* r = g_sigint_owner.load();
    if (!r) return;
    r->signal_interrupt();
}

void Runner::signal_interrupt() noexcept {
    // Async-signal-safe: atomics and write(2) only.
    if (interrupt_count_.fetch_add(1) == 0 && loop_) {
        detail::LoopAccess::wake_from_signal(*loop_);
    } else {
        ::sigaction(SIGINT, &g_previous_sigint, nullptr);
        ::raise(SIGINT);
    }
}

Runner::SigintScope::SigintScope(Runner& r, const TaskRef& main) : runner(r) {
    r.main_task_ = main;
    r.interrupt_count_.store(0);
    r.interrupt_handled_ = false;
    // CPython installs its handler only in the main thread and only over the
    // default one, so a program's own SIGINT handling is left alone.
    struct sigaction current;
    if (!in_main_thread() || ::sigaction(SIGINT, nullptr, &current) != 0 ||
        current.sa_handler != SIG_DFL)
        return;
    Runner* expected = nullptr;
    if (!g_sigint_owner.compare_exchange_strong(expected, &r)) return;
    struct sigaction action {};
    action.sa_handler = &asyncio_detail_on_sigint;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &g_previous_sigint);
    detail::LoopAccess::set_signal_hook(*r.loop_, &Runner::on_wakeup, &r);
    installed = true;
}

Runner::SigintScope::~SigintScope() {
    if (installed) {
        ::sigaction(SIGINT, &g_previous_sigint, nullptr);
        detail::LoopAccess::set_signal_hook(*runner.loop_, nullptr, nullptr);
        g_sigint_owner.store(nullptr);
    }
    runner.main_task_ = TaskRef();
}

}  // namespace asyncio
