// timeout_at — asyncio.timeout_at(): the same as timeout(), with an absolute
// deadline on the loop's clock.
//
// From the "Coroutines and Tasks" page of the asyncio docs (asyncio.timeout_at):
//
//     async def main():
//         loop = get_running_loop()
//         deadline = loop.time() + 20
//         try:
//             async with asyncio.timeout_at(deadline):
//                 await long_running_task()
//         except TimeoutError:
//             print("The long operation timed out, but we've handled it.")
//
//         print("This statement will run regardless.")
//
// The deadline is 0.5 s away instead of 20, and long_running_task() sleeps
// an hour. The port also prints how long the block ran, rounded to 0.1 s.
#include <asyncio.hpp>
#include <cmath>
#include <iostream>

asyncio::Coro<> long_running_task() {
    co_await asyncio::sleep(3600);
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    const double start = loop.time();
    const double deadline = start + 0.5;
    try {
        co_await asyncio::async_with(
            asyncio::timeout_at(deadline),
            [&](asyncio::Timeout&) -> asyncio::Coro<> { co_await long_running_task(); });
    } catch (const asyncio::TimeoutError&) {
        std::cout << "The long operation timed out, but we've handled it." << std::endl;
    }

    std::cout << "This statement will run regardless." << std::endl;
    std::cout << "gave up after " << std::round((loop.time() - start) * 10) / 10 << " s"
              << std::endl;
}

int main() {
    asyncio::run(async_main());
}
