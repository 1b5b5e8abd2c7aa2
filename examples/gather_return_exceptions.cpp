// gather_return_exceptions — gather() with return_exceptions: each slot holds
// the child's value or its exception, and nothing is raised.
//
// From a tutorial on asyncio Tasks (gather with return_exceptions):
//
//     async def might_fail(n):
//         if n == 2:
//             raise ValueError("oops!")
//         return n * 10
//
//     async def main():
//         results = await asyncio.gather(
//             might_fail(1),
//             might_fail(2),
//             might_fail(3),
//             return_exceptions=True,
//         )
//         # results: [10, ValueError("oops!"), 30]
//         for r in results:
//             if isinstance(r, Exception):
//                 print(f"Error: {r}")
//             else:
//                 print(f"Result: {r}")
//
//     asyncio.run(main())
//
//     # Output (CPython 3.13):
//     #
//     #     Result: 10
//     #     Error: oops!
//     #     Result: 30
//
// `return_exceptions=True` is the tag asyncio::return_exceptions; each slot
// is an asyncio::Outcome<int>: has_value(), value() (rethrows), exception().
#include <asyncio.hpp>
#include <exception>
#include <iostream>
#include <stdexcept>

asyncio::Coro<int> might_fail(int n) {
    if (n == 2) throw asyncio::ValueError("oops!");
    co_return n * 10;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    auto results = co_await asyncio::gather(asyncio::return_exceptions, might_fail(1),
                                            might_fail(2), might_fail(3));
    // results: (10, ValueError("oops!"), 30)
    auto print = [](const asyncio::Outcome<int>& r) {
        if (!r.has_value()) {
            try {
                std::rethrow_exception(r.exception());
            } catch (const std::exception& e) {
                std::cout << "Error: " << e.what() << std::endl;
            }
        } else {
            std::cout << "Result: " << r.value() << std::endl;
        }
    };
    std::apply([&](const auto&... r) { (print(r), ...); }, results);
}

int main() {
    asyncio::run(async_main());
}
