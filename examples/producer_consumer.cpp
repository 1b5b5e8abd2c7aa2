// producer_consumer — one producer, one consumer, a bounded asyncio::Queue.
//
// The producer-consumer pattern of the tasks tutorial:
//
//     async def producer(queue, name, count):
//         for i in range(count):
//             item = f"{name}-item-{i}"
//             await queue.put(item)
//             await asyncio.sleep(0.1)
//
//     async def consumer(queue, name):
//         while True:
//             item = await queue.get()
//             print(f"{name} processed: {item}")
//             await asyncio.sleep(0.05)
//             queue.task_done()
//
//     async def main():
//         queue = asyncio.Queue(maxsize=5)
//         producers = [asyncio.create_task(producer(queue, "P1", 5))]
//         consumers = [asyncio.create_task(consumer(queue, "C1"))]
//         await asyncio.gather(*producers)  # Wait for producers to finish
//         await queue.join()                # Wait for all items to be processed
//         for c in consumers:
//             c.cancel()                    # Cancel consumers (they loop forever)
//
//     asyncio.run(main())
//
// Prints "C1 processed: P1-item-0" ... "P1-item-4", one every 0.1 s.
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

asyncio::Coro<> producer(asyncio::Queue<std::string>& queue, std::string name, int count) {
    for (int i = 0; i < count; ++i) {
        std::string item = name + "-item-" + std::to_string(i);
        co_await queue.put(std::move(item));
        co_await asyncio::sleep(0.1);
    }
}

asyncio::Coro<> consumer(asyncio::Queue<std::string>& queue, std::string name) {
    for (;;) {
        std::string item = co_await queue.get();
        std::cout << name << " processed: " << item << std::endl;
        co_await asyncio::sleep(0.05);
        queue.task_done();
    }
}

asyncio::Coro<> async_main() {
    asyncio::Queue<std::string> queue(5);
    std::vector<asyncio::Task<void>> producers{asyncio::create_task(producer(queue, "P1", 5))};
    std::vector<asyncio::Task<void>> consumers{asyncio::create_task(consumer(queue, "C1"))};
    for (auto& p : producers) co_await p;  // wait for the producers to finish
    co_await queue.join();                 // wait for every item to be processed
    for (auto& c : consumers) c.cancel();  // the consumers loop forever
    // C++ only: let the cancelled consumers finish before `queue` goes (a
    // queue must outlive the tasks blocked in it; Python's GC keeps it alive).
    for (auto& c : consumers) {
        try {
            co_await c;
        } catch (const asyncio::CancelledError&) {
        }
    }
}

int main() {
    asyncio::run(async_main());
}
