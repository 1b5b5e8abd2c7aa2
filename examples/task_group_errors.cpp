// task_group_errors — a failing child cancels the TaskGroup's other tasks,
// and the failures come out together as an ExceptionGroup, caught with the
// C++ spelling of `except*`.
//
// From a tutorial on asyncio Tasks (TaskGroup):
//
//     async def might_fail(n):
//         if n == 2:
//             raise ValueError("oops!")
//         return n * 10
//
//     async def main():
//         try:
//             async with asyncio.TaskGroup() as tg:
//                 tg.create_task(might_fail(1))
//                 tg.create_task(might_fail(2))  # This raises ValueError
//                 tg.create_task(might_fail(3))
//         except* ValueError as eg:
//             # except* catches ExceptionGroups (Python 3.11+)
//             for exc in eg.exceptions:
//                 print(f"Caught: {exc}")
//
//     asyncio.run(main())
//
//     # Output (CPython 3.13):
//     #
//     #     Caught: oops!
//
// `except* ValueError as eg:` is asyncio::except_star<ValueError>(exception,
// handler) inside `catch (...)`; what no clause matched is rethrown.
#include <asyncio.hpp>
#include <exception>
#include <iostream>

asyncio::Coro<int> might_fail(int n) {
    if (n == 2) throw asyncio::ValueError("oops!");
    co_return n * 10;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    try {
        co_await asyncio::async_with(asyncio::TaskGroup(),
                                     [&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
                                         tg.create_task(might_fail(1));
                                         tg.create_task(might_fail(2));  // This raises ValueError
                                         tg.create_task(might_fail(3));
                                         co_return;
                                     });
    } catch (...) {
        auto rest = asyncio::except_star<asyncio::ValueError>(
            std::current_exception(), [](const asyncio::BaseExceptionGroup& eg) {
                for (const std::exception_ptr& exc : eg.exceptions()) {
                    try {
                        std::rethrow_exception(exc);
                    } catch (const std::exception& e) {
                        std::cout << "Caught: " << e.what() << std::endl;
                    }
                }
            });
        if (rest) std::rethrow_exception(rest);
    }
}

int main() {
    asyncio::run(async_main());
}
