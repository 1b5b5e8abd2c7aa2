// print_stack — where is a stuck task? Task.print_stack() shows its whole
// chain of awaiting coroutines, outermost first, each at its current await
// (Python shows only the task's own coroutine frame).
//
// Python:
//
//     async def read_reply(reply):
//         return await reply                # the reply never comes
//
//     async def handle_request(reply):
//         return await read_reply(reply)
//
//     async def serve(reply):
//         return await handle_request(reply)
//
//     async def main():
//         reply = asyncio.get_running_loop().create_future()
//         server = asyncio.create_task(serve(reply), name="server")
//         await asyncio.sleep(0.1)
//         server.print_stack(file=sys.stdout)
//         server.cancel()
//
// The file names printed are those the compiler was given (absolute paths in
// a CMake build).
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<int> read_reply(asyncio::Future<int> reply) {
    co_return co_await reply;  // the reply never comes
}

asyncio::Coro<int> handle_request(asyncio::Future<int> reply) {
    co_return co_await read_reply(reply);
}

asyncio::Coro<int> serve(asyncio::Future<int> reply) {
    co_return co_await handle_request(reply);
}

asyncio::Coro<> async_main() {
    auto reply = asyncio::get_running_loop().create_future<int>();
    auto server = asyncio::create_task(serve(reply), {.name = "server"});
    co_await asyncio::sleep(0.1);
    server.print_stack(std::nullopt, std::cout);
    server.cancel();
}

int main() {
    asyncio::run(async_main());
}
