// poller.cpp — the loop's wait step: epoll, woken through an eventfd.
//
// The only code that calls the OS wait/wake primitives. I/O readiness will
// register further fds on the same epoll instance.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "asyncio/loop.hpp"

namespace asyncio::detail {

Poller::Poller() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        const int err = errno;
        ::close(epoll_fd_);
        throw std::system_error(err, std::generic_category(), "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
        const int err = errno;
        ::close(wake_fd_);
        ::close(epoll_fd_);
        throw std::system_error(err, std::generic_category(), "epoll_ctl");
    }
}

Poller::~Poller() {
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

bool Poller::poll(int timeout_ms) {
    epoll_event events[8];
    const int n = ::epoll_wait(epoll_fd_, events, 8, timeout_ms);
    // EINTR (a signal arrived) simply ends this wait; the loop iterates again.
    bool woken = false;
    for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == wake_fd_) {
            std::uint64_t count;
            while (::read(wake_fd_, &count, sizeof count) > 0) {
            }
            woken = true;
        }
    }
    return woken;
}

void Poller::wake() const noexcept {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: the loop will wake anyway.
    [[maybe_unused]] const auto r = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace asyncio::detail
