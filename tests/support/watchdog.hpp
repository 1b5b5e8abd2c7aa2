// support/watchdog.hpp — turns a hang into a test failure instead of a CTest
// timeout: after `limit` of wall time, stops the loop from another thread
// (call_soon_threadsafe), so run_until_complete() throws
// RuntimeError("Event loop stopped before Future completed.") and run_forever() returns.
//
//     auto loop = support::new_virtual_loop();
//     support::Watchdog dog(*loop, std::chrono::seconds(2));
//     loop->run_until_complete(suspect());
//     EXPECT_FALSE(dog.fired());
//
// The destructor cancels and joins the watchdog at once. Destroy it before the loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "asyncio.hpp"

namespace support {

class Watchdog {
public:
    Watchdog(asyncio::EventLoop& loop, std::chrono::milliseconds limit)
        : thread_([this, &loop, limit] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (cv_.wait_for(lock, limit, [this] { return cancelled_; })) return;
              fired_ = true;
              try {
                  asyncio::EventLoop* l = &loop;
                  loop.call_soon_threadsafe([l] { l->stop(); });
              } catch (...) {
                  // The loop was closed meanwhile: nothing to stop.
              }
          }) {}
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            cancelled_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    /// True once the limit passed and the loop was told to stop.
    bool fired() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return fired_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool cancelled_ = false;
    bool fired_ = false;
    std::thread thread_;  // last: starts after the other members exist
};

}  // namespace support
