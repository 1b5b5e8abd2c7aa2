// hello_world — prints "hello", waits 1 second, then prints "world".
//
// From the "Coroutines and Tasks" page of the asyncio docs (Coroutines):
//
//     >>> import asyncio
//
//     >>> async def main():
//     ...     print('hello')
//     ...     await asyncio.sleep(1)
//     ...     print('world')
//
//     >>> asyncio.run(main())
//     hello
//     world
//
// Note that simply calling async_main() does not schedule it: a Coro is lazy,
// and only asyncio::run (or co_await, or create_task) runs it.
#include <asyncio.hpp>
#include <iostream>

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    std::cout << "hello" << std::endl;
    co_await asyncio::sleep(1);
    std::cout << "world" << std::endl;
}

int main() {
    asyncio::run(async_main());
}
