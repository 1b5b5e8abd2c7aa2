// cancel_me — a coroutine intercepting its cancellation.
//
// From the "Coroutines and Tasks" page of the asyncio docs (Task.cancel):
//
//     async def cancel_me():
//         print('cancel_me(): before sleep')
//
//         try:
//             # Wait for 1 hour
//             await asyncio.sleep(3600)
//         except asyncio.CancelledError:
//             print('cancel_me(): cancel sleep')
//             raise
//         finally:
//             print('cancel_me(): after sleep')
//
//     async def main():
//         # Create a "cancel_me" Task
//         task = asyncio.create_task(cancel_me())
//
//         # Wait for 1 second
//         await asyncio.sleep(1)
//
//         task.cancel()
//         try:
//             await task
//         except asyncio.CancelledError:
//             print("main(): cancel_me is cancelled now")
//
//     asyncio.run(main())
//
//     # Expected output:
//     #
//     #     cancel_me(): before sleep
//     #     cancel_me(): cancel sleep
//     #     cancel_me(): after sleep
//     #     main(): cancel_me is cancelled now
//
// C++ has no `finally`, and cannot co_await inside a catch block, so the
// port keeps what the try block raised, runs the `finally` part after it,
// then re-raises. This spelling still works when the cleanup must co_await;
// when it need not, a local object whose destructor does the cleanup is the
// shorter way.
#include <asyncio.hpp>
#include <exception>
#include <iostream>

asyncio::Coro<> cancel_me() {
    std::cout << "cancel_me(): before sleep" << std::endl;

    std::exception_ptr raised;  // what leaves the try block, re-raised after `finally`
    try {
        // Wait for 1 hour
        co_await asyncio::sleep(3600);
    } catch (const asyncio::CancelledError&) {
        std::cout << "cancel_me(): cancel sleep" << std::endl;
        raised = std::current_exception();  // raise
    } catch (...) {
        raised = std::current_exception();
    }
    // finally:
    std::cout << "cancel_me(): after sleep" << std::endl;
    if (raised) std::rethrow_exception(raised);
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    // Create a "cancel_me" Task
    asyncio::Task<> task = asyncio::create_task(cancel_me());

    // Wait for 1 second
    co_await asyncio::sleep(1);

    task.cancel();
    try {
        co_await task;
    } catch (const asyncio::CancelledError&) {
        std::cout << "main(): cancel_me is cancelled now" << std::endl;
    }
}

int main() {
    asyncio::run(async_main());
}
