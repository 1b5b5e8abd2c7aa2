// timeout_reschedule — a timeout whose deadline is only known inside the
// block: timeout(None), then Timeout.reschedule(), then Timeout.expired().
//
// From the "Coroutines and Tasks" page of the asyncio docs (asyncio.Timeout):
//
//     async def main():
//         try:
//             # We do not know the timeout when starting, so we pass ``None``.
//             async with asyncio.timeout(None) as cm:
//                 # We know the timeout now, so we reschedule it.
//                 new_deadline = get_running_loop().time() + 10
//                 cm.reschedule(new_deadline)
//
//                 await long_running_task()
//         except TimeoutError:
//             pass
//
//         if cm.expired():
//             print("Looks like we haven't finished on time.")
//
// Python's `as cm` outlives the block; in C++ the Timeout is a named local
// passed to async_with (borrowed, so it can be inspected afterwards). The
// deadline is 0.5 s instead of 10, and long_running_task() sleeps an hour.
#include <asyncio.hpp>
#include <iostream>
#include <optional>

asyncio::Coro<> long_running_task() {
    co_await asyncio::sleep(3600);
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    // We do not know the timeout when starting, so we pass std::nullopt.
    asyncio::Timeout cm = asyncio::timeout(std::nullopt);
    try {
        co_await asyncio::async_with(cm, [&](asyncio::Timeout& t) -> asyncio::Coro<> {
            // We know the timeout now, so we reschedule it.
            const double new_deadline = asyncio::get_running_loop().time() + 0.5;
            t.reschedule(new_deadline);

            co_await long_running_task();
        });
    } catch (const asyncio::TimeoutError&) {
    }

    if (cm.expired()) std::cout << "Looks like we haven't finished on time." << std::endl;
}

int main() {
    asyncio::run(async_main());
}
