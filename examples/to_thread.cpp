// to_thread — running a blocking function in a thread while the loop goes on:
// gather() of to_thread(blocking_io) and sleep(1) takes about 1 s, not 2.
//
// From the "Coroutines and Tasks" page of the asyncio docs (Running in Threads):
//
//     def blocking_io():
//         print(f"start blocking_io at {time.strftime('%X')}")
//         # Note that time.sleep() can be replaced with any blocking
//         # IO-bound operation, such as file operations.
//         time.sleep(1)
//         print(f"blocking_io complete at {time.strftime('%X')}")
//
//     async def main():
//         print(f"started main at {time.strftime('%X')}")
//
//         await asyncio.gather(
//             asyncio.to_thread(blocking_io),
//             asyncio.sleep(1))
//
//         print(f"finished main at {time.strftime('%X')}")
//
//
//     asyncio.run(main())
//
//     # Expected output:
//     #
//     # started main at 19:50:53
//     # start blocking_io at 19:50:53
//     # blocking_io complete at 19:50:54
//     # finished main at 19:50:54
//
// to_thread(f, args...) copies f and the arguments into the call, as
// std::thread does: no capturing lambda needed.
#include <asyncio.hpp>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>

std::string strftime_X() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[16];
    std::strftime(buf, sizeof buf, "%X", &local);
    return buf;
}

void blocking_io() {
    std::cout << "start blocking_io at " << strftime_X() << std::endl;
    // Note that std::this_thread::sleep_for() can be replaced with any
    // blocking IO-bound operation, such as file operations.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::cout << "blocking_io complete at " << strftime_X() << std::endl;
}

asyncio::Coro<> async_main() {
    std::cout << "started main at " << strftime_X() << std::endl;

    auto both = asyncio::gather(asyncio::to_thread(blocking_io), asyncio::sleep(1));
    co_await both;

    std::cout << "finished main at " << strftime_X() << std::endl;
}

int main() {
    asyncio::run(async_main());
}
