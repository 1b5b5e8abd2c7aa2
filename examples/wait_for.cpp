// wait_for — asyncio.wait_for(): wait at most one second for a coroutine
// that would run for an hour.
//
// From the "Coroutines and Tasks" page of the asyncio docs (asyncio.wait_for):
//
//     async def eternity():
//         # Sleep for one hour
//         await asyncio.sleep(3600)
//         print('yay!')
//
//     async def main():
//         # Wait for at most 1 second
//         try:
//             await asyncio.wait_for(eternity(), timeout=1.0)
//         except TimeoutError:
//             print('timeout!')
//
//     asyncio.run(main())
//
//     # Expected output:
//     #
//     #     timeout!
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> eternity() {
    // Sleep for one hour
    co_await asyncio::sleep(3600);
    std::cout << "yay!" << std::endl;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    // Wait for at most 1 second
    try {
        co_await asyncio::wait_for(eternity(), 1.0);
    } catch (const asyncio::TimeoutError&) {
        std::cout << "timeout!" << std::endl;
    }
}

int main() {
    asyncio::run(async_main());
}
