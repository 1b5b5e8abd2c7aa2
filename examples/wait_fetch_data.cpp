// wait_fetch_data — wait(FIRST_COMPLETED), then wait(ALL_COMPLETED) for
// what is still pending (about 0.3 s).
//
// From a tutorial on asyncio Tasks (asyncio.wait):
//
//     async def fetch_data(name, delay):
//         await asyncio.sleep(delay)
//         return f"{name}: done"
//
//     async def main():
//         tasks = [
//             asyncio.create_task(fetch_data("A", 0.3)),
//             asyncio.create_task(fetch_data("B", 0.1)),
//             asyncio.create_task(fetch_data("C", 0.2)),
//         ]
//         # Wait for the first one to complete
//         done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
//         print(f"{len(done)} done, {len(pending)} pending")
//         # Wait for all remaining to complete
//         done, pending = await asyncio.wait(pending, return_when=asyncio.ALL_COMPLETED)
//
//     asyncio.run(main())
//
//     # Output (CPython 3.13, with the port's extra print after the second wait):
//     #
//     #     1 done, 2 pending
//     #     2 done, 0 pending
//     #     B: done
//
// The port also prints what the second wait returned, and the first task
// done, to show that `done` holds the original tasks.
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

asyncio::Coro<std::string> fetch_data(std::string name, double delay) {
    co_await asyncio::sleep(delay);
    co_return name + ": done";
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    std::vector<asyncio::Task<std::string>> tasks{
        asyncio::create_task(fetch_data("A", 0.3)),
        asyncio::create_task(fetch_data("B", 0.1)),
        asyncio::create_task(fetch_data("C", 0.2)),
    };
    // Wait for the first one to complete
    auto [done, pending] = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_COMPLETED});
    std::cout << done.size() << " done, " << pending.size() << " pending" << std::endl;
    // Wait for all remaining to complete
    auto rest = co_await asyncio::wait(pending, {.return_when = asyncio::ALL_COMPLETED});
    std::cout << rest.done.size() << " done, " << rest.pending.size() << " pending" << std::endl;
    std::cout << done.front().result() << std::endl;
}

int main() {
    asyncio::run(async_main());
}
