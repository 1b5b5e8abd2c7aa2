// queue_worker_pool — three workers draining an asyncio::Queue.
//
// The Queue example of the asyncio docs ("Queues"), with fixed sleep times
// instead of random ones so that the output is deterministic:
//
//     async def worker(name, queue):
//         while True:
//             sleep_for = await queue.get()
//             await asyncio.sleep(sleep_for)
//             queue.task_done()
//             print(f'{name} has slept for {sleep_for:.2f} seconds')
//
//     async def main():
//         queue = asyncio.Queue()
//         total_sleep_time = 0
//         for sleep_for in [0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45]:
//             total_sleep_time += sleep_for
//             queue.put_nowait(sleep_for)
//         tasks = []
//         for i in range(3):
//             task = asyncio.create_task(worker(f'worker-{i}', queue))
//             tasks.append(task)
//         started_at = time.monotonic()
//         await queue.join()
//         total_slept_for = time.monotonic() - started_at
//         for task in tasks:
//             task.cancel()
//         await asyncio.gather(*tasks, return_exceptions=True)
//         print('====')
//         print(f'3 workers slept in parallel for {total_slept_for:.2f} seconds')
//         print(f'total expected sleep time: {total_sleep_time:.2f} seconds')
//
//     asyncio.run(main())
#include <asyncio.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

asyncio::Coro<> worker(std::string name, asyncio::Queue<double>& queue) {
    for (;;) {
        double sleep_for = co_await queue.get();
        co_await asyncio::sleep(sleep_for);
        queue.task_done();
        std::printf("%s has slept for %.2f seconds\n", name.c_str(), sleep_for);
        std::fflush(stdout);
    }
}

asyncio::Coro<> async_main() {
    asyncio::Queue<double> queue;
    double total_sleep_time = 0;
    for (double sleep_for : {0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45}) {
        total_sleep_time += sleep_for;
        queue.put_nowait(sleep_for);
    }
    std::vector<asyncio::Task<void>> tasks;
    for (int i = 0; i < 3; ++i)
        tasks.push_back(asyncio::create_task(worker("worker-" + std::to_string(i), queue)));

    const auto started_at = std::chrono::steady_clock::now();
    co_await queue.join();
    const std::chrono::duration<double> total_slept_for =
        std::chrono::steady_clock::now() - started_at;

    for (auto& task : tasks) task.cancel();
    for (auto& task : tasks) {  // gather(*tasks, return_exceptions=True)
        try {
            co_await task;
        } catch (const asyncio::CancelledError&) {
        }
    }
    std::printf("====\n");
    std::printf("3 workers slept in parallel for %.2f seconds\n", total_slept_for.count());
    std::printf("total expected sleep time: %.2f seconds\n", total_sleep_time);
}

int main() {
    asyncio::run(async_main());
}
