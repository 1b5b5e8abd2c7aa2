// timeout — asyncio.timeout(): a block that takes too long is cancelled, and
// the TimeoutError is caught outside the block.
//
// From the "Coroutines and Tasks" page of the asyncio docs (Timeouts):
//
//     async def main():
//         try:
//             async with asyncio.timeout(10):
//                 await long_running_task()
//         except TimeoutError:
//             print("The long operation timed out, but we've handled it.")
//
//         print("This statement will run regardless.")
//
// The docs leave long_running_task() undefined; here it sleeps for an hour,
// and the timeout is 0.5 s instead of 10 so that the example is quick.
// `async with` is spelled asyncio::async_with(manager, body); the body is a
// lambda coroutine (capture by reference: see asyncio/async_with.hpp).
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> long_running_task() {
    co_await asyncio::sleep(3600);
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    try {
        co_await asyncio::async_with(
            asyncio::timeout(0.5),
            [&](asyncio::Timeout&) -> asyncio::Coro<> { co_await long_running_task(); });
    } catch (const asyncio::TimeoutError&) {
        std::cout << "The long operation timed out, but we've handled it." << std::endl;
    }

    std::cout << "This statement will run regardless." << std::endl;
}

int main() {
    asyncio::run(async_main());
}
