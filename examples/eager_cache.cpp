// eager_cache — eager tasks (Python 3.12+): a coroutine that can answer at
// once (a cache hit) finishes inside create_task, is never scheduled, and
// costs no trip through the event loop.
//
// Python:
//
//     cache = {}
//
//     async def fetch(key):
//         if key in cache:
//             return cache[key]             # hit: returns without awaiting
//         await asyncio.sleep(0.1)          # miss: "the network"
//         cache[key] = f"value of {key}"
//         return cache[key]
//
//     async def main():
//         loop = asyncio.get_running_loop()
//         loop.set_task_factory(asyncio.create_eager_task_factory(CountingTask))
//         miss = asyncio.create_task(fetch("user:1"))
//         print("miss: done after create_task?", miss.done())
//         print("miss:", await miss)
//         hit = asyncio.create_task(fetch("user:1"))
//         print("hit: done after create_task?", hit.done())
//         print("hit:", hit.result())
//         print(await asyncio.gather(fetch("user:1"), fetch("user:2")))
//
// CountingTask is the user's own task type (Python: a Task subclass). In C++
// it is a callable with the task constructor's shape that builds the task
// with asyncio::make_task and adds what it wants: here, a count of the tasks
// made and of those that finished eagerly.
#include <asyncio.hpp>
#include <iostream>
#include <map>
#include <string>

std::map<std::string, std::string> cache;

asyncio::Coro<std::string> fetch(std::string key) {
    if (auto it = cache.find(key); it != cache.end()) co_return it->second;  // hit
    co_await asyncio::sleep(0.1);  // miss: "the network"
    cache[key] = "value of " + key;
    co_return cache[key];
}

struct Counts {
    int made = 0;
    int eager = 0;
};

/// The user's task constructor: (loop, coro, options) -> a task.
struct CountingTask {
    Counts* counts;
    asyncio::TaskRef operator()(asyncio::EventLoop& loop, asyncio::AnyCoro coro,
                                asyncio::TaskOptions options) const {
        ++counts->made;
        asyncio::TaskRef task = asyncio::make_task(loop, std::move(coro), std::move(options));
        if (task.done()) ++counts->eager;  // finished inside make_task
        return task;
    }
};

// Global, not a local of async_main: the factory stays on the loop after
// async_main returns, and run() makes its clean-up tasks through it too.
Counts counts;

asyncio::Coro<> async_main() {
    asyncio::get_running_loop().set_task_factory(
        asyncio::create_eager_task_factory(CountingTask{&counts}));

    auto miss = asyncio::create_task(fetch("user:1"));
    std::cout << std::boolalpha << "miss: done after create_task? " << miss.done() << std::endl;
    std::cout << "miss: " << co_await miss << std::endl;

    auto hit = asyncio::create_task(fetch("user:1"));
    std::cout << "hit: done after create_task? " << hit.done() << std::endl;
    std::cout << "hit: " << hit.result() << std::endl;

    auto [a, b] = co_await asyncio::gather(fetch("user:1"), fetch("user:2"));
    std::cout << "gather: ['" << a << "', '" << b << "']" << std::endl;

    std::cout << "tasks made: " << counts.made << ", finished eagerly: " << counts.eager
              << std::endl;
}

int main() {
    asyncio::run(async_main());
}
