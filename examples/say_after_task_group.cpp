// say_after_task_group — say_after_tasks with asyncio.TaskGroup: the block
// waits for both tasks when it ends (about 2 s, as with create_task).
//
// From the "Coroutines and Tasks" page of the asyncio docs (Coroutines):
//
//     async def main():
//         async with asyncio.TaskGroup() as tg:
//             task1 = tg.create_task(
//                 say_after(1, 'hello'))
//
//             task2 = tg.create_task(
//                 say_after(2, 'world'))
//
//             print(f"started at {time.strftime('%X')}")
//
//         # The await is implicit when the context manager exits.
//
//         print(f"finished at {time.strftime('%X')}")
//
//     asyncio.run(main())
//
// "The timing and output should be the same as for the previous version":
//
//     started at 17:14:32
//     hello
//     world
//     finished at 17:14:34
//
// `async with asyncio.TaskGroup() as tg:` is asyncio::async_with with a
// TaskGroup and a lambda coroutine that receives the group.
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
    co_await asyncio::async_with(asyncio::TaskGroup(),
                                 [&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
                                     asyncio::Task<> task1 = tg.create_task(say_after(1, "hello"));

                                     asyncio::Task<> task2 = tg.create_task(say_after(2, "world"));

                                     std::cout << "started at " << strftime_X() << std::endl;
                                     co_return;
                                 });

    // The await is implicit when the context manager exits.

    std::cout << "finished at " << strftime_X() << std::endl;
}

int main() {
    asyncio::run(async_main());
}
