// support/gate.hpp — for thread tests: a gate threads wait at until the test
// opens it, and the calling thread's name.
#pragma once

#include <pthread.h>

#include <chrono>
#include <future>
#include <string>

namespace support {

/// Threads wait() until the test calls open() (once).
class Gate {
public:
    void open() { promise_.set_value(); }
    void wait() const { future_.wait(); }
    bool wait_for(std::chrono::milliseconds d) const {
        return future_.wait_for(d) == std::future_status::ready;
    }

private:
    std::promise<void> promise_;
    std::shared_future<void> future_ = promise_.get_future().share();
};

/// The calling thread's name (pthread_getname_np; Linux keeps 15 bytes).
inline std::string this_thread_name() {
    char name[32] = {};
    ::pthread_getname_np(::pthread_self(), name, sizeof name);
    return name;
}

}  // namespace support
