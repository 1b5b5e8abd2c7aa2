// say_after_sequential — awaiting coroutines one after the other (about 3 s).
//
// From the "Coroutines and Tasks" page of the asyncio docs (Coroutines):
//
//     import asyncio
//     import time
//
//     async def say_after(delay, what):
//         await asyncio.sleep(delay)
//         print(what)
//
//     async def main():
//         print(f"started at {time.strftime('%X')}")
//
//         await say_after(1, 'hello')
//         await say_after(2, 'world')
//
//         print(f"finished at {time.strftime('%X')}")
//
//     asyncio.run(main())
//
// Expected output:
//
//     started at 17:13:52
//     hello
//     world
//     finished at 17:13:55
#include <asyncio.hpp>
#include <ctime>
#include <iostream>
#include <string>

// time.strftime('%X'): the local time of day, "HH:MM:SS".
std::string strftime_X() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[16];
    std::strftime(buf, sizeof buf, "%X", &local);
    return buf;
}

asyncio::Coro<> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << std::endl;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    std::cout << "started at " << strftime_X() << std::endl;

    co_await say_after(1, "hello");
    co_await say_after(2, "world");

    std::cout << "finished at " << strftime_X() << std::endl;
}

int main() {
    asyncio::run(async_main());
}
