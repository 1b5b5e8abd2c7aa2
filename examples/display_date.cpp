// display_date — prints the current date every second for 5 seconds.
//
// From the "Coroutines and Tasks" page of the asyncio docs (Sleeping):
//
//     import asyncio
//     import datetime
//
//     async def display_date():
//         loop = asyncio.get_running_loop()
//         end_time = loop.time() + 5.0
//         while True:
//             print(datetime.datetime.now())
//             if (loop.time() + 1.0) >= end_time:
//                 break
//             await asyncio.sleep(1)
//
//     asyncio.run(display_date())
//
// Output: five lines such as "2024-05-01 17:13:52.123456", a second apart.
#include <asyncio.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

// str(datetime.datetime.now()): local time as "YYYY-MM-DD HH:MM:SS.ffffff";
// like Python, the ".ffffff" is left out when the microseconds are 0.
std::string datetime_now() {
    using namespace std::chrono;
    const auto now = time_point_cast<microseconds>(system_clock::now());
    const std::time_t secs = system_clock::to_time_t(time_point_cast<seconds>(now));
    const auto micros = (now.time_since_epoch() % seconds(1)).count();
    std::tm local{};
    localtime_r(&secs, &local);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
    if (micros != 0) std::snprintf(buf + n, sizeof buf - n, ".%06ld", static_cast<long>(micros));
    return buf;
}

asyncio::Coro<> display_date() {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    const double end_time = loop.time() + 5.0;
    while (true) {
        std::cout << datetime_now() << std::endl;
        if ((loop.time() + 1.0) >= end_time) break;
        co_await asyncio::sleep(1);
    }
}

int main() {
    asyncio::run(display_date());
}
