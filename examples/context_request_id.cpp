// context_request_id — a context variable carrying a request id through
// tasks: each handler sets it once, and everything the handler starts (its
// sub-tasks, its callbacks, the function it runs on a worker thread) logs
// with that id, while the two requests run concurrently (about 0.3 s).
//
// The Python original:
//
//     import asyncio, contextvars
//
//     request_id = contextvars.ContextVar("request_id", default="-")
//
//     def log(msg):
//         print(f"[{request_id.get()}] {msg}")
//
//     async def query(table, delay):
//         await asyncio.sleep(delay)
//         log(f"query {table} done")
//         return table
//
//     def render(rows):                 # plain synchronous work
//         log(f"render {len(rows)} rows")
//         return "<" + ",".join(rows) + ">"
//
//     async def handle(rid, delay):
//         request_id.set(rid)
//         log("start")
//         async with asyncio.TaskGroup() as tg:
//             users = tg.create_task(query("users", delay))
//             orders = tg.create_task(query("orders", 2 * delay))
//         page = await asyncio.to_thread(render, [users.result(), orders.result()])
//         asyncio.get_running_loop().call_soon(log, "response sent")
//         log(f"done {page}")
//
//     async def main():
//         log("server up")
//         async with asyncio.TaskGroup() as tg:
//             tg.create_task(handle("req-1", 0.1))
//             tg.create_task(handle("req-2", 0.15))
//         log("server down")
//
//     asyncio.run(main())
//
// Expected output:
//
//     [-] server up
//     [req-1] start
//     [req-2] start
//     [req-1] query users done
//     [req-2] query users done
//     [req-1] query orders done
//     [req-1] render 2 rows
//     [req-1] done <users,orders>
//     [req-1] response sent
//     [req-2] query orders done
//     [req-2] render 2 rows
//     [req-2] done <users,orders>
//     [req-2] response sent
//     [-] server down
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

using asyncio::Coro;
using asyncio::TaskGroup;

asyncio::ContextVar<std::string> request_id("request_id", "-");

void log(const std::string& msg) {
    std::cout << "[" << request_id.get() << "] " << msg << std::endl;
}

Coro<std::string> query(std::string table, double delay) {
    co_await asyncio::sleep(delay);
    log("query " + table + " done");
    co_return table;
}

// Plain synchronous work, run on a worker thread: asyncio::to_thread runs it
// in a copy of the handler's context, so the request id follows it there.
std::string render(const std::vector<std::string>& rows) {
    log("render " + std::to_string(rows.size()) + " rows");
    std::string page = "<";
    for (std::size_t i = 0; i < rows.size(); ++i) page += (i ? "," : "") + rows[i];
    return page + ">";
}

Coro<void> handle(std::string rid, double delay) {
    request_id.set(rid);  // this task's context only
    log("start");
    asyncio::Task<std::string> users, orders;
    co_await asyncio::async_with(TaskGroup(), [&](TaskGroup& tg) -> Coro<void> {
        users = tg.create_task(query("users", delay));  // sub-tasks copy the context
        orders = tg.create_task(query("orders", 2 * delay));
        co_return;
    });
    const std::vector<std::string> rows{users.result(), orders.result()};
    const std::string page = co_await asyncio::to_thread(render, rows);
    // A callback runs in the context current when it was scheduled.
    asyncio::get_running_loop().call_soon([] { log("response sent"); });
    log("done " + page);
}

Coro<void> amain() {
    log("server up");
    co_await asyncio::async_with(TaskGroup(), [](TaskGroup& tg) -> Coro<void> {
        tg.create_task(handle("req-1", 0.1));
        tg.create_task(handle("req-2", 0.15));
        co_return;
    });
    log("server down");
}

int main() {
    asyncio::run(amain());
}
