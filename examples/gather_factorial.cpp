// gather_factorial — running three coroutines concurrently with gather() and
// collecting their results in argument order (about 3 s: the longest chain
// of sleeps, not their 6 s sum).
//
// From the "Coroutines and Tasks" page of the asyncio docs (Running Tasks
// Concurrently):
//
//     import asyncio
//
//     async def factorial(name, number):
//         f = 1
//         for i in range(2, number + 1):
//             print(f"Task {name}: Compute factorial({number}), currently i={i}...")
//             await asyncio.sleep(1)
//             f *= i
//         print(f"Task {name}: factorial({number}) = {f}")
//         return f
//
//     async def main():
//         # Schedule three calls *concurrently*:
//         L = await asyncio.gather(
//             factorial("A", 2),
//             factorial("B", 3),
//             factorial("C", 4),
//         )
//         print(L)
//
//     asyncio.run(main())
//
//     # Expected output:
//     #
//     #     Task A: Compute factorial(2), currently i=2...
//     #     Task B: Compute factorial(3), currently i=2...
//     #     Task C: Compute factorial(4), currently i=2...
//     #     Task A: factorial(2) = 2
//     #     Task B: Compute factorial(3), currently i=3...
//     #     Task C: Compute factorial(4), currently i=3...
//     #     Task B: factorial(3) = 6
//     #     Task C: Compute factorial(4), currently i=4...
//     #     Task C: factorial(4) = 24
//     #     [2, 6, 24]
//
// gather() of three coroutines gives a std::tuple; structured bindings
// unpack it (a Python list of mixed types would be a tuple here too).
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<int> factorial(std::string name, int number) {
    int f = 1;
    for (int i = 2; i < number + 1; ++i) {
        std::cout << "Task " << name << ": Compute factorial(" << number << "), currently i=" << i
                  << "..." << std::endl;
        co_await asyncio::sleep(1);
        f *= i;
    }
    std::cout << "Task " << name << ": factorial(" << number << ") = " << f << std::endl;
    co_return f;
}

// Python's main(): C++ keeps that name for the program's entry point.
asyncio::Coro<> async_main() {
    // Schedule three calls *concurrently*:
    auto [a, b, c] =
        co_await asyncio::gather(factorial("A", 2), factorial("B", 3), factorial("C", 4));
    std::cout << "[" << a << ", " << b << ", " << c << "]" << std::endl;
}

int main() {
    asyncio::run(async_main());
}
