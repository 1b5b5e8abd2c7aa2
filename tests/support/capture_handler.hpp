// support/capture_handler.hpp — an exception handler that records what the
// loop reports, so tests can assert "Task exception was never retrieved" etc.
//
//     auto loop = support::new_virtual_loop();
//     support::CaptureHandler cap(*loop);            // installs the handler
//     ...
//     EXPECT_EQ(cap.messages(), (std::vector<std::string>{"Future exception was never
//     retrieved"})); EXPECT_EQ(cap.count("Exception in callback"), 1u); EXPECT_EQ(cap.at(0).what,
//     "boom");            // the exception's what() EXPECT_TRUE(cap.at(0).task == task); // which
//     task (by identity) EXPECT_EQ(cap.at(0).task, task.identity());   // the same, as a pointer
//     EXPECT_FALSE(cap.at(0).task);                 // no task in the context
//     EXPECT_EQ(cap.at(0).task_name, "Task-3");
//
//     support::CaptureHandler cap;                   // around asyncio::run-like runs:
//     support::run_virtual(main(), cap);             // also sees shutdown reports
//
// The records live in state shared with the installed handler, so the
// CaptureHandler and the loop may be destroyed in either order; reports made
// while the loop closes are still recorded. Nothing is printed.
//
// Records keep the exception_ptr but never the task itself (only its identity
// and name), so that capturing a report does not extend a task's lifetime.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "asyncio.hpp"
#include "support/expect_throw_msg.hpp"

namespace support {

/// Which task a report was about: its identity only (compare with a task
/// handle, its identity() pointer, or nullptr). Holds no reference.
class ReportedTask {
public:
    ReportedTask() = default;
    explicit ReportedTask(const void* id) noexcept : id_(id) {}

    const void* identity() const noexcept { return id_; }
    explicit operator bool() const noexcept { return id_ != nullptr; }

    friend bool operator==(const ReportedTask& a, const ReportedTask& b) noexcept {
        return a.id_ == b.id_;
    }
    friend bool operator==(const ReportedTask& a, const asyncio::TaskRef& t) noexcept {
        return a.id_ == t.identity();
    }
    friend bool operator==(const ReportedTask& a, const void* id) noexcept { return a.id_ == id; }
    friend bool operator==(const ReportedTask& a, std::nullptr_t) noexcept {
        return a.id_ == nullptr;
    }
    friend std::ostream& operator<<(std::ostream& os, const ReportedTask& a) {
        return os << "task@" << a.id_;
    }

private:
    const void* id_ = nullptr;
};

class CaptureHandler {
public:
    struct Record {
        std::string message;           // ExceptionContext::message
        std::exception_ptr exception;  // ExceptionContext::exception
        ReportedTask task;             // ExceptionContext::task, by identity (empty: none)
        std::string task_name;         // its get_name() ("" if none)
        std::string what;              // the exception's what() ("" if none)
    };

    CaptureHandler() = default;
    explicit CaptureHandler(asyncio::EventLoop& loop) { install(loop); }

    /// Installs the recording handler on `loop` (replacing its handler).
    void install(asyncio::EventLoop& loop) {
        std::shared_ptr<std::vector<Record>> records = records_;
        loop.set_exception_handler([records](asyncio::EventLoop&,
                                             const asyncio::ExceptionContext& ctx) {
            records->push_back(Record{
                ctx.message, ctx.exception, ReportedTask(ctx.task ? ctx.task.identity() : nullptr),
                ctx.task ? ctx.task.get_name() : std::string(), support::what(ctx.exception)});
        });
    }
    /// A loop factory for RunOptions: a virtual-time loop with this handler.
    /// The CaptureHandler must outlive the run.
    auto virtual_loop_factory() {
        return [this]() {
            std::unique_ptr<asyncio::EventLoop> loop = asyncio::testing::new_virtual_event_loop();
            install(*loop);
            return loop;
        };
    }

    const std::vector<Record>& records() const noexcept { return *records_; }
    const Record& at(std::size_t i) const { return records_->at(i); }
    std::size_t size() const noexcept { return records_->size(); }
    bool empty() const noexcept { return records_->empty(); }
    void clear() noexcept { records_->clear(); }

    /// The recorded messages, in order.
    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const Record& r : *records_) out.push_back(r.message);
        return out;
    }
    /// How many records have exactly this message.
    std::size_t count(const std::string& message) const {
        std::size_t n = 0;
        for (const Record& r : *records_) n += r.message == message;
        return n;
    }

private:
    std::shared_ptr<std::vector<Record>> records_ = std::make_shared<std::vector<Record>>();
};

/// asyncio::run on a virtual-time loop whose exception handler is `cap`
/// (from the start, so reports made while the run shuts down are seen).
template <class T>
T run_virtual(asyncio::Coro<T> main, CaptureHandler& cap, asyncio::RunOptions options = {}) {
    options.loop_factory = cap.virtual_loop_factory();
    return asyncio::run(std::move(main), std::move(options));
}

}  // namespace support
