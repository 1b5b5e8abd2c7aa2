// as_completed — processing results as they arrive, fastest first (about 0.3 s).
//
// From a tutorial on asyncio Tasks (asyncio.as_completed):
//
//     async def fetch_data(name, delay):
//         await asyncio.sleep(delay)
//         return f"{name}: done"
//
//     async def main():
//         coros = [
//             fetch_data("A", 0.3),
//             fetch_data("B", 0.1),
//             fetch_data("C", 0.2),
//         ]
//         for future in asyncio.as_completed(coros):
//             result = await future
//             print(result)  # Prints B first (fastest), then C, then A
//
//     asyncio.run(main())
//
//     # Output (CPython 3.13):
//     #
//     #     B: done
//     #     C: done
//     #     A: done
//
// A Coro is move-only, so the vector of coroutines is handed over with
// std::move; as_completed() turns them into tasks at once.
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

asyncio::Coro<std::string> fetch_data(std::string name, double delay) {
    co_await asyncio::sleep(delay);
    co_return name + ": done";
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    std::vector<asyncio::Coro<std::string>> coros;
    coros.push_back(fetch_data("A", 0.3));
    coros.push_back(fetch_data("B", 0.1));
    coros.push_back(fetch_data("C", 0.2));
    for (auto future : asyncio::as_completed(std::move(coros))) {
        std::string result = co_await future;
        std::cout << result << std::endl;  // Prints B first (fastest), then C, then A
    }
}

int main() {
    asyncio::run(async_main());
}
