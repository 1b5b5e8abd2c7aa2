// wait_for_slow_operation — a deadline on a slow coroutine with
// asyncio.wait_for (about 0.2 s).
//
// From a tutorial on asyncio Tasks (timeouts with asyncio.wait_for):
//
//     async def slow_operation():
//         await asyncio.sleep(5.0)
//         return "done"
//
//     async def main():
//         try:
//             result = await asyncio.wait_for(slow_operation(), timeout=0.2)
//             print(result)
//         except TimeoutError:
//             print("Operation timed out!")
//
// The port then runs the same operation with a deadline it can meet (a
// 0.05 s operation, 0.2 s allowed) and prints its result.
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<std::string> slow_operation(double seconds) {
    co_await asyncio::sleep(seconds);
    co_return "done";
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    try {
        const std::string result = co_await asyncio::wait_for(slow_operation(5.0), 0.2);
        std::cout << result << std::endl;
    } catch (const asyncio::TimeoutError&) {
        std::cout << "Operation timed out!" << std::endl;
    }
    std::cout << co_await asyncio::wait_for(slow_operation(0.05), 0.2) << std::endl;
}

int main() {
    asyncio::run(async_main());
}
