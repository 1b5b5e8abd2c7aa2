// nested — coroutines are awaitables; a Task schedules one to run concurrently.
//
// From the "Coroutines and Tasks" page of the asyncio docs (Awaitables),
// two programs. Coroutines:
//
//     import asyncio
//
//     async def nested():
//         return 42
//
//     async def main():
//         # Nothing happens if we just call "nested()".
//         # A coroutine object is created but not awaited,
//         # so it *won't run at all*.
//         nested()
//
//         # Let's do it differently now and await it:
//         print(await nested())  # will print "42".
//
//     asyncio.run(main())
//
// Tasks:
//
//     import asyncio
//
//     async def nested():
//         return 42
//
//     async def main():
//         # Schedule nested() to run soon concurrently
//         # with "main()".
//         task = asyncio.create_task(nested())
//
//         # "task" can now be used to cancel "nested()", or
//         # can simply be awaited to wait until it is complete:
//         await task
//
//     asyncio.run(main())
//
// Expected output: "42" (from the first program; the second prints nothing).
//
// Differences from Python: Python also warns on stderr "RuntimeWarning:
// coroutine 'nested' was never awaited" for the bare nested() call; we say
// nothing outside debug mode.
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<int> nested() {
    co_return 42;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    // Nothing happens if we just call "nested()".
    // A coroutine object is created but not awaited,
    // so it *won't run at all*. (Coro is [[nodiscard]], because forgetting
    // the co_await is almost always a bug: the cast says we mean it.)
    static_cast<void>(nested());

    // Let's do it differently now and await it:
    std::cout << co_await nested() << std::endl;  // will print "42".
}

// The second program's main().
asyncio::Coro<> async_main_with_task() {
    // Schedule nested() to run soon concurrently
    // with "main()".
    asyncio::Task<int> task = asyncio::create_task(nested());

    // "task" can now be used to cancel "nested()", or
    // can simply be awaited to wait until it is complete:
    co_await task;
}

int main() {
    asyncio::run(async_main());
    asyncio::run(async_main_with_task());
}
