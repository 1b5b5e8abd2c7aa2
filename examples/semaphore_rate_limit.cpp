// semaphore_rate_limit — a Semaphore(3) lets at most three "requests" run at
// once; ten of them take four rounds of 0.1 s (about 0.4 s).
//
// From a tutorial on asyncio Tasks (semaphores for rate limiting):
//
//     async def rate_limited_fetch(sem, url):
//         async with sem:  # Only N tasks can be inside this block at once
//             print(f"Fetching {url}")
//             await asyncio.sleep(0.1)  # Simulate network request
//             return f"Data from {url}"
//
//     async def main():
//         sem = asyncio.Semaphore(3)  # Max 3 concurrent requests
//         urls = [f"https://api.example.com/{i}" for i in range(10)]
//         tasks = [rate_limited_fetch(sem, url) for url in urls]
//         results = await asyncio.gather(*tasks)
//
//     asyncio.run(main())
//
//     # Output (CPython 3.13): "Fetching https://api.example.com/0" ... /9,
//     # in order (the semaphore is FIFO).
//
// The port also counts how many tasks are inside the block at once and
// prints the maximum (3), then how many results gather returned and the last.
#include <algorithm>
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

int inside = 0;      // tasks inside the `async with sem` block right now
int max_inside = 0;  // the most there ever were at once

asyncio::Coro<std::string> rate_limited_fetch(asyncio::Semaphore& sem, std::string url) {
    // `async with sem:` is async_with(sem, body); the guard form is
    // `auto held = co_await sem.acquire_guard();`.
    co_return co_await asyncio::async_with(sem, [&]() -> asyncio::Coro<std::string> {
        max_inside = std::max(max_inside, ++inside);
        std::cout << "Fetching " << url << " (" << inside << " inside)" << std::endl;
        co_await asyncio::sleep(0.1);  // Simulate network request
        --inside;
        co_return "Data from " + url;
    });
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    asyncio::Semaphore sem(3);  // Max 3 concurrent requests
    std::vector<asyncio::Coro<std::string>> tasks;
    for (int i = 0; i < 10; ++i)
        tasks.push_back(rate_limited_fetch(sem, "https://api.example.com/" + std::to_string(i)));
    std::vector<std::string> results = co_await asyncio::gather(std::move(tasks));
    std::cout << "never more than " << max_inside << " inside at once" << std::endl;
    std::cout << results.size() << " results, last: " << results.back() << std::endl;
}

int main() {
    asyncio::run(async_main());
}
