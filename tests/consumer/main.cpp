// A user's program: built against an installed asyncio (find_package) or
// its source tree (add_subdirectory) by tests/consumer/run_consumer.cmake.
#include <asyncio.hpp>

asyncio::Coro<int> answer() {
    co_await asyncio::sleep(0);
    co_return 42;
}

int main() {
    return asyncio::run(answer()) == 42 ? 0 : 1;
}
