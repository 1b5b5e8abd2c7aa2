// shield_with_try — shield() combined with a try/except clause: the waiting
// task ignores its cancellation, and the shielded task runs to the end.
//
// From the "Coroutines and Tasks" page of the asyncio docs (Shielding From
// Cancellation), made into a program:
//
//     If it is desired to completely ignore cancellation (not recommended)
//     the shield() function should be combined with a try/except clause:
//
//         task = asyncio.create_task(something())
//         try:
//             res = await shield(task)
//         except CancelledError:
//             res = None
//
//     import asyncio
//
//     async def something():
//         await asyncio.sleep(1)
//         print("something() finished")
//         return 42
//
//     async def worker(task):
//         try:
//             res = await asyncio.shield(task)
//         except asyncio.CancelledError:
//             res = None
//         print(f"worker: res = {res}, task done: {task.done()}")
//
//     async def main():
//         task = asyncio.create_task(something())
//         w = asyncio.create_task(worker(task))
//         await asyncio.sleep(0.5)
//         w.cancel()
//         await w
//         print(f"worker cancelled: {w.cancelled()}")
//         print(f"task result: {await task}")
//
//     asyncio.run(main())
//
//     # Output (CPython 3.13), about 1 s:
//     #
//     #     worker: res = None, task done: False
//     #     worker cancelled: False
//     #     something() finished
//     #     task result: 42
//
// `res = None` is an empty std::optional.
#include <asyncio.hpp>
#include <iostream>
#include <optional>

asyncio::Coro<int> something() {
    co_await asyncio::sleep(1);
    std::cout << "something() finished" << std::endl;
    co_return 42;
}

asyncio::Coro<> worker(asyncio::Task<int> task) {
    std::optional<int> res;
    try {
        res = co_await asyncio::shield(task);
    } catch (const asyncio::CancelledError&) {
        res = std::nullopt;
    }
    std::cout << "worker: res = " << (res ? std::to_string(*res) : "None")
              << ", task done: " << (task.done() ? "True" : "False") << std::endl;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    asyncio::Task<int> task = asyncio::create_task(something());
    asyncio::Task<> w = asyncio::create_task(worker(task));
    co_await asyncio::sleep(0.5);
    w.cancel();
    co_await w;
    std::cout << "worker cancelled: " << (w.cancelled() ? "True" : "False") << std::endl;
    const int result = co_await task;  // before printing, as the f-string does
    std::cout << "task result: " << result << std::endl;
}

int main() {
    asyncio::run(async_main());
}
