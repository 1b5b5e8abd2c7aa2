// testing.cpp — the virtual-clock loop of asyncio/testing.hpp.
#include "asyncio/testing.hpp"

namespace asyncio::testing {

std::unique_ptr<EventLoop> new_virtual_event_loop() {
    return std::make_unique<EventLoop>(detail::VirtualTimeTag{});
}

}  // namespace asyncio::testing
