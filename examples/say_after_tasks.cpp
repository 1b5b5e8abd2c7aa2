// say_after_tasks — running two coroutines concurrently as Tasks (about 2 s,
// one second faster than say_after_sequential).
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
//         task1 = asyncio.create_task(
//             say_after(1, 'hello'))
//
//         task2 = asyncio.create_task(
//             say_after(2, 'world'))
//
//         print(f"started at {time.strftime('%X')}")
//
//         # Wait until both tasks are completed (should take
//         # around 2 seconds.)
//         await task1
//         await task2
//
//         print(f"finished at {time.strftime('%X')}")
//
//     asyncio.run(main())
//
// Expected output (the snippet runs 1 second faster than before):
//
//     started at 17:14:32
//     hello
//     world
//     finished at 17:14:34
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

// The arguments are parameters, copied into the coroutine frame, so the
// task owns them: nothing dangles after the create_task call.
asyncio::Coro<> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << std::endl;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    asyncio::Task<> task1 = asyncio::create_task(say_after(1, "hello"));

    asyncio::Task<> task2 = asyncio::create_task(say_after(2, "world"));

    std::cout << "started at " << strftime_X() << std::endl;

    // Wait until both tasks are completed (should take
    // around 2 seconds.)
    co_await task1;
    co_await task2;

    std::cout << "finished at " << strftime_X() << std::endl;
}

int main() {
    asyncio::run(async_main());
}
