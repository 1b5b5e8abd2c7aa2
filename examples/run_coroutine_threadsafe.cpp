// run_coroutine_threadsafe — another OS thread submits coroutines to a
// running loop and waits for them with a timeout: a result, a coroutine
// that takes too long (cancelled), and one that raises (about 0.7 s).
//
// From the "Coroutines and Tasks" page of the asyncio docs (Scheduling From
// Other Threads), made into a whole program:
//
//     # Create a coroutine
//     coro = asyncio.sleep(1, result=3)
//
//     # Submit the coroutine to a given loop
//     future = asyncio.run_coroutine_threadsafe(coro, loop)
//
//     # Wait for the result with an optional timeout argument
//     assert future.result(timeout) == 3
//
//     try:
//         result = future.result(timeout)
//     except TimeoutError:
//         print('The coroutine took too long, cancelling the task...')
//         future.cancel()
//     except Exception as exc:
//         print(f'The coroutine raised an exception: {exc!r}')
//     else:
//         print(f'The coroutine returned: {result!r}')
//
// Here the loop runs in the main thread (asyncio::run) and awaits a worker
// thread, made with to_thread, which does the submitting and the waiting.
#include <asyncio.hpp>
#include <iostream>
#include <stdexcept>

asyncio::Coro<int> fail_soon() {
    co_await asyncio::sleep(0.01);
    throw asyncio::ValueError("boom");
}

void wait_and_report(asyncio::ConcurrentFuture<int> future, double timeout) {
    try {
        const int result = future.result(timeout);
        std::cout << "The coroutine returned: " << result << std::endl;
    } catch (const asyncio::TimeoutError&) {
        std::cout << "The coroutine took too long, cancelling the task..." << std::endl;
        future.cancel();
    } catch (const std::exception& exc) {
        std::cout << "The coroutine raised an exception: ValueError('" << exc.what() << "')"
                  << std::endl;
    }
}

// Runs in a worker thread: everything here blocks that thread, not the loop.
void submitter(asyncio::EventLoop* loop) {
    // Submit the coroutine to a given loop; wait with a timeout.
    wait_and_report(asyncio::run_coroutine_threadsafe(asyncio::sleep(0.5, 3), *loop), 2.0);
    // Too slow for the timeout: cancelled, in the loop, from here.
    asyncio::ConcurrentFuture<int> slow =
        asyncio::run_coroutine_threadsafe(asyncio::sleep(10, 4), *loop);
    wait_and_report(slow, 0.2);
    try {
        slow.result();
    } catch (const asyncio::CancelledError&) {
        std::cout << "cancelled: " << std::boolalpha << slow.cancelled() << std::endl;
    }
    wait_and_report(asyncio::run_coroutine_threadsafe(fail_soon(), *loop), 2.0);
}

asyncio::Coro<> async_main() {
    co_await asyncio::to_thread(submitter, &asyncio::get_running_loop());
    std::cout << "tasks left: " << asyncio::all_tasks().size() - 1 << std::endl;
}

int main() {
    asyncio::run(async_main());
}
