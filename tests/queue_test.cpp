// queue_test.cpp — asyncio/queue.hpp: Queue, PriorityQueue, LifoQueue.
//
// Python reference: Lib/asyncio/queues.py and Lib/test/test_asyncio/
// test_queues.py (3.13). Traces were checked against CPython 3.13 (the
// Python scenario is in the comment above each test).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Coro;
using support::Trace;

namespace {

// Awaits a task that was cancelled. A queue must outlive every task blocked
// in it (C++ has no GC to keep it alive), so tests finish their waiters.
Coro<void> cancelled(asyncio::Task<void>& t) {
    try {
        co_await t;
        ADD_FAILURE() << "expected CancelledError";
    } catch (const asyncio::CancelledError&) {
    }
}

// ----------------------------------------------------------------- basics

TEST(queue, sizes) {
    asyncio::Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    q.put_nowait(1);
    EXPECT_EQ(q.qsize(), 1u);
    q.put_nowait(2);
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait(3), asyncio::QueueFull);
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_THROW(q.get_nowait(), asyncio::QueueEmpty);
}

TEST(queue, unbounded_is_never_full) {
    asyncio::Queue<int> q;
    EXPECT_EQ(q.maxsize(), 0u);
    for (int i = 0; i < 1000; ++i) q.put_nowait(i);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.qsize(), 1000u);
}

TEST(queue, fifo_lifo_priority_order) {
    asyncio::Queue<int> f;
    asyncio::LifoQueue<int> l;
    asyncio::PriorityQueue<int> p;
    asyncio::PriorityQueue<int, std::greater<int>> pg;
    for (int v : {3, 1, 4, 1, 5, 9, 2}) {
        f.put_nowait(v);
        l.put_nowait(v);
        p.put_nowait(v);
        pg.put_nowait(v);
    }
    auto drain = [](auto& q) {
        std::vector<int> out;
        while (!q.empty()) out.push_back(q.get_nowait());
        return out;
    };
    EXPECT_EQ(drain(f), (std::vector<int>{3, 1, 4, 1, 5, 9, 2}));
    EXPECT_EQ(drain(l), (std::vector<int>{2, 9, 5, 1, 4, 1, 3}));
    EXPECT_EQ(drain(p), (std::vector<int>{1, 1, 2, 3, 4, 5, 9}));  // heapq: smallest first
    EXPECT_EQ(drain(pg), (std::vector<int>{9, 5, 4, 3, 2, 1, 1}));
}

TEST(queue, move_only_items) {
    auto body = []() -> Coro<int> {
        asyncio::Queue<std::unique_ptr<int>> q(1);
        asyncio::LifoQueue<std::unique_ptr<int>> lq;
        lq.put_nowait(std::make_unique<int>(1));
        lq.put_nowait(std::make_unique<int>(2));
        int sum = *lq.get_nowait();
        co_await q.put(std::make_unique<int>(40));
        auto t = asyncio::create_task(q.put(std::make_unique<int>(1)));  // blocks: full
        co_await asyncio::sleep(0);
        std::unique_ptr<int> a = co_await q.get();
        co_await t;
        std::unique_ptr<int> b = co_await q.get();
        co_return sum + *a + *b;
    };
    EXPECT_EQ(support::run_virtual(body()), 43);
}

TEST(queue, priority_custom_compare_move_only) {
    struct ByValue {
        bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const {
            return *a < *b;
        }
    };
    asyncio::PriorityQueue<std::unique_ptr<int>, ByValue> q;
    for (int v : {5, 2, 8}) q.put_nowait(std::make_unique<int>(v));
    EXPECT_EQ(*q.get_nowait(), 2);
    EXPECT_EQ(*q.get_nowait(), 5);
    EXPECT_EQ(*q.get_nowait(), 8);
}

// ------------------------------------------------------------ blocking get/put

// test_queues.py::test_blocking_get / test_get_with_putters style:
//     q = Queue(); t = create_task(q.get()); await sleep(0); q.put_nowait(1)
//     await t -> 1, at virtual time 0
TEST(queue, blocking_get_woken_by_put) {
    auto body = []() -> Coro<int> {
        asyncio::Queue<int> q;
        auto t = asyncio::create_task(q.get());
        co_await asyncio::sleep(0.5);
        EXPECT_FALSE(t.done());
        q.put_nowait(7);
        co_return co_await t;
    };
    EXPECT_EQ(support::run_virtual(body()), 7);
}

// test_queues.py::test_blocking_put_wait: Queue(maxsize=1); put 1; put 2 blocks
// until a get 0.01 s later.
TEST(queue, blocking_put_waits_for_room) {
    auto body = []() -> Coro<double> {
        asyncio::Queue<int> q(1);
        auto& loop = asyncio::get_running_loop();
        co_await q.put(1);
        auto t = asyncio::create_task([](asyncio::Queue<int>& q) -> Coro<int> {
            co_await asyncio::sleep(0.01);
            co_return co_await q.get();
        }(q));
        co_await q.put(2);
        EXPECT_EQ(co_await t, 1);
        EXPECT_EQ(q.get_nowait(), 2);
        co_return loop.time();
    };
    EXPECT_DOUBLE_EQ(support::run_virtual(body()), 0.01);
}

// FIFO fairness: getters are served in the order they started waiting;
// a getter arriving later never overtakes.
TEST(queue, getters_served_in_fifo_order) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q;
        auto getter = [](asyncio::Queue<int>& q, Trace& tr, int n) -> Coro<void> {
            int v = co_await q.get();
            tr.add(n, ":", v);
        };
        std::vector<asyncio::Task<void>> ts;
        for (int i = 0; i < 4; ++i) ts.push_back(asyncio::create_task(getter(q, tr, i)));
        co_await asyncio::sleep(0);
        for (int v = 10; v < 14; ++v) q.put_nowait(v);
        for (auto& t : ts) co_await t;
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "0:10 1:11 2:12 3:13");
}

TEST(queue, putters_served_in_fifo_order) {
    auto body = []() -> Coro<std::string> {
        asyncio::Queue<int> q(1);
        q.put_nowait(0);
        std::vector<asyncio::Task<void>> ts;
        for (int i = 1; i <= 4; ++i) ts.push_back(asyncio::create_task(q.put(i)));
        co_await asyncio::sleep(0);
        Trace tr;
        for (int i = 0; i < 5; ++i) tr.add(co_await q.get());
        for (auto& t : ts) co_await t;
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "0 1 2 3 4");
}

// ------------------------------------------------------------ cancellation

// test_queues.py::test_get_cancelled_race: a blocked getter cancelled before
// any put leaves no trace; the item goes to the next getter.
TEST(queue, cancel_blocked_get_before_wakeup) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<std::string> q;
        auto t1 = asyncio::create_task(q.get());
        auto t2 = asyncio::create_task(q.get());
        co_await asyncio::sleep(0);
        t1.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t1.cancelled());
        co_await q.put("a");
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t2.done());
        EXPECT_EQ(t2.result(), "a");
        EXPECT_TRUE(q.empty());
    };
    support::run_virtual(body());
}

// Python 3.13:
//     q = Queue(); 3 getter tasks (trace "n:v", "n:cancelled"); sleep(0)
//     q.put_nowait('a'); ts[0].cancel()      # woken, then cancelled
//     q.put_nowait('b'); sleep(0); sleep(0); trace qsize; q.put_nowait('c')
//     -> "0:cancelled 1:a 2:b qsize=0"
TEST(queue, getter_cancelled_after_wakeup_passes_it_on) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<std::string> q;
        auto getter = [](asyncio::Queue<std::string>& q, Trace& tr, int n) -> Coro<void> {
            try {
                std::string v = co_await q.get();
                tr.add(n, ":", v);
            } catch (const asyncio::CancelledError&) {
                tr.add(n, ":cancelled");
                throw;
            }
        };
        std::vector<asyncio::Task<void>> ts;
        for (int i = 0; i < 3; ++i) ts.push_back(asyncio::create_task(getter(q, tr, i)));
        co_await asyncio::sleep(0);
        q.put_nowait("a");
        ts[0].cancel();
        q.put_nowait("b");
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        tr.add("qsize=", q.qsize());
        q.put_nowait("c");
        co_await asyncio::sleep(0);
        EXPECT_TRUE(ts[0].cancelled());
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "0:cancelled 1:a 2:b qsize=0");
}

// Python 3.13:
//     q = Queue(1); q.put_nowait(0); putters 1, 2, 3; sleep(0)
//     got q.get_nowait(); ps[0].cancel(); sleep(0) x2; trace qsize
//     got q.get_nowait(); sleep(0) x2; got q.get_nowait()
//     -> "got0 p1:cancelled put2 q=1 got2 put3 got3"
TEST(queue, putter_cancelled_after_wakeup_passes_it_on) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q(1);
        q.put_nowait(0);
        auto putter = [](asyncio::Queue<int>& q, Trace& tr, int n) -> Coro<void> {
            try {
                co_await q.put(n);
                tr.add("put", n);
            } catch (const asyncio::CancelledError&) {
                tr.add("p", n, ":cancelled");
                throw;
            }
        };
        std::vector<asyncio::Task<void>> ps;
        for (int i = 1; i <= 3; ++i) ps.push_back(asyncio::create_task(putter(q, tr, i)));
        co_await asyncio::sleep(0);
        tr.add("got", q.get_nowait());
        ps[0].cancel();
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        tr.add("q=", q.qsize());
        tr.add("got", q.get_nowait());
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        tr.add("got", q.get_nowait());
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "got0 p1:cancelled put2 q=1 got2 put3 got3");
}

namespace getters {
Coro<void> getter(asyncio::Queue<std::string>& q, Trace& tr, int n) {
    try {
        std::string v = co_await q.get();
        tr.add(n, ":", v);
    } catch (const asyncio::CancelledError&) {
        tr.add(n, ":cancelled");
        throw;
    }
}
}  // namespace getters

// A woken getter whose item was taken before it ran waits again, at the back.
// Python 3.13:
//     3 getters; sleep(0); q.put_nowait('a'); stole q.get_nowait(); q.put_nowait('b')
//     sleep(0) x2; q.put_nowait('c'); sleep(0) x2; q.put_nowait('d'); sleep(0)
//     -> "stole:a 0:b 2:c 1:d"
TEST(queue, woken_getter_robbed_waits_again_at_the_back) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<std::string> q;
        std::vector<asyncio::Task<void>> ts;
        for (int i = 0; i < 3; ++i) ts.push_back(asyncio::create_task(getters::getter(q, tr, i)));
        co_await asyncio::sleep(0);
        q.put_nowait("a");
        tr.add("stole:", q.get_nowait());
        q.put_nowait("b");
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        q.put_nowait("c");
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        q.put_nowait("d");
        co_await asyncio::sleep(0);
        for (auto& t : ts) EXPECT_TRUE(t.done());
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "stole:a 0:b 2:c 1:d");
}

// Woken, robbed, then cancelled: nothing to pass on (the queue is empty);
// the next put goes to the next getter.
// Python 3.13: 2 getters; sleep(0); put_nowait('x'); stole get_nowait(); ts[0].cancel()
//     sleep(0); trace qsize; put_nowait('y'); sleep(0) -> "stole:x 0:cancelled q=0 1:y"
TEST(queue, woken_robbed_cancelled_getter_passes_nothing) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<std::string> q;
        std::vector<asyncio::Task<void>> ts;
        for (int i = 0; i < 2; ++i) ts.push_back(asyncio::create_task(getters::getter(q, tr, i)));
        co_await asyncio::sleep(0);
        q.put_nowait("x");
        tr.add("stole:", q.get_nowait());
        ts[0].cancel();
        co_await asyncio::sleep(0);
        tr.add("q=", q.qsize());
        q.put_nowait("y");
        co_await asyncio::sleep(0);
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "stole:x 0:cancelled q=0 1:y");
}

// A blocked putter cancelled before any room appears: its item is never put.
TEST(queue, cancel_blocked_put_before_wakeup) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q(1);
        q.put_nowait(1);
        auto t = asyncio::create_task(q.put(2));
        co_await asyncio::sleep(0);
        t.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancelled());
        EXPECT_EQ(q.get_nowait(), 1);
        EXPECT_TRUE(q.empty());
        co_await q.put(3);  // no stale putter in the way
        EXPECT_EQ(q.get_nowait(), 3);
    };
    support::run_virtual(body());
}

// Woken putter robbed of its room (a put_nowait filled it), then cancelled:
// nothing to pass on; the next get wakes the next putter.
// Python 3.13: Queue(1); put_nowait(0); putters 1, 2; sleep(0)
//     got get_nowait(); put_nowait(9); ps[0].cancel(); sleep(0); trace qsize
//     got get_nowait(); sleep(0); got get_nowait() -> "got0 p1:cancelled q=1 got9 put2 got2"
TEST(queue, woken_robbed_cancelled_putter_passes_nothing) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q(1);
        q.put_nowait(0);
        auto putter = [](asyncio::Queue<int>& q, Trace& tr, int n) -> Coro<void> {
            try {
                co_await q.put(n);
                tr.add("put", n);
            } catch (const asyncio::CancelledError&) {
                tr.add("p", n, ":cancelled");
                throw;
            }
        };
        std::vector<asyncio::Task<void>> ps;
        for (int i = 1; i <= 2; ++i) ps.push_back(asyncio::create_task(putter(q, tr, i)));
        co_await asyncio::sleep(0);
        tr.add("got", q.get_nowait());
        q.put_nowait(9);
        ps[0].cancel();
        co_await asyncio::sleep(0);
        tr.add("q=", q.qsize());
        tr.add("got", q.get_nowait());
        co_await asyncio::sleep(0);
        tr.add("got", q.get_nowait());
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "got0 p1:cancelled q=1 got9 put2 got2");
}

// A blocked getter takes what is at the head when it runs (Python 3.13: 1, 1).
TEST(queue, blocked_getter_of_priority_and_lifo_queues) {
    auto body = []() -> Coro<void> {
        asyncio::PriorityQueue<int> pq;
        auto t1 = asyncio::create_task(pq.get());
        co_await asyncio::sleep(0);
        pq.put_nowait(5);
        pq.put_nowait(1);
        EXPECT_EQ(co_await t1, 1);
        asyncio::LifoQueue<int> lq;
        auto t2 = asyncio::create_task(lq.get());
        co_await asyncio::sleep(0);
        lq.put_nowait(5);
        lq.put_nowait(1);
        EXPECT_EQ(co_await t2, 1);
    };
    support::run_virtual(body());
}

// Cancelled before its first step: no waiter is ever created.
TEST(queue, cancel_get_before_it_starts) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q;
        auto t = asyncio::create_task(q.get());
        t.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancelled());
        q.put_nowait(1);
        EXPECT_EQ(co_await q.get(), 1);
    };
    support::run_virtual(body());
}

// wait_for around get (test_queues.py::test_cancelled_getters_not_being_held_in_self_getters).
TEST(queue, timed_out_get_leaves_no_waiter) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q(1);
        try {
            (void)co_await asyncio::wait_for(q.get(), 0.1);
            ADD_FAILURE() << "expected TimeoutError";
        } catch (const asyncio::TimeoutError&) {
        }
        q.put_nowait(1);
        EXPECT_EQ(co_await q.get(), 1);
    };
    support::run_virtual(body());
}

// ------------------------------------------------------------ task_done / join

TEST(queue, task_done_too_many_times) {
    asyncio::Queue<int> q;
    EXPECT_THROW_MSG(q.task_done(), asyncio::ValueError, "task_done() called too many times");
    q.put_nowait(1);
    (void)q.get_nowait();
    q.task_done();
    EXPECT_THROW_MSG(q.task_done(), asyncio::ValueError, "task_done() called too many times");
}

// test_queues.py::test_task_done: join returns when every item is done.
TEST(queue, join_waits_for_task_done) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q;
        for (int i = 0; i < 3; ++i) q.put_nowait(i);
        auto worker = [](asyncio::Queue<int>& q, Trace& tr) -> Coro<void> {
            for (;;) {
                int v = co_await q.get();
                co_await asyncio::sleep(1);
                tr.add("done", v);
                q.task_done();
            }
        };
        auto w = asyncio::create_task(worker(q, tr));
        co_await q.join();
        tr.add("joined@", asyncio::get_running_loop().time());
        w.cancel();
        co_await cancelled(w);  // the queue must outlive the tasks waiting on it
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "done0 done1 done2 joined@3");
}

TEST(queue, join_returns_at_once_when_nothing_unfinished) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q;
        co_await q.join();
        q.put_nowait(1);
        (void)q.get_nowait();
        q.task_done();
        co_await q.join();
    };
    support::run_virtual(body());
}

TEST(queue, cancelled_join_leaves_queue_intact) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q;
        q.put_nowait(1);
        auto j1 = asyncio::create_task(q.join());
        auto j2 = asyncio::create_task(q.join());
        co_await asyncio::sleep(0);
        j1.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(j1.cancelled());
        (void)q.get_nowait();
        q.task_done();
        co_await j2;
    };
    support::run_virtual(body());
}

// ------------------------------------------------------------ shutdown (3.13)

// Python 3.13: Queue(1); two blocked getters; shutdown(); sleep(0)
//     -> "g0:shutdown g1:shutdown empty=True"
TEST(queue, shutdown_wakes_blocked_getters) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q(1);
        auto g = [](asyncio::Queue<int>& q, Trace& tr, int n) -> Coro<void> {
            try {
                int v = co_await q.get();
                tr.add("g", n, ":", v);
            } catch (const asyncio::QueueShutDown&) {
                tr.add("g", n, ":shutdown");
            }
        };
        auto g0 = asyncio::create_task(g(q, tr, 0));
        auto g1 = asyncio::create_task(g(q, tr, 1));
        co_await asyncio::sleep(0);
        q.shutdown();
        co_await asyncio::sleep(0);
        tr.add("empty=", q.empty() ? "True" : "False");
        co_await g0;
        co_await g1;
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "g0:shutdown g1:shutdown empty=True");
}

// Python 3.13: Queue(1); put_nowait(9); two blocked putters; shutdown(); sleep(0)
//     -> "p0:shutdown p1:shutdown get=9 get:shutdown"
TEST(queue, shutdown_wakes_blocked_putters_and_drains) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q(1);
        q.put_nowait(9);
        auto p = [](asyncio::Queue<int>& q, Trace& tr, int n) -> Coro<void> {
            try {
                co_await q.put(n);
                tr.add("p", n, ":ok");
            } catch (const asyncio::QueueShutDown&) {
                tr.add("p", n, ":shutdown");
            }
        };
        auto p0 = asyncio::create_task(p(q, tr, 0));
        auto p1 = asyncio::create_task(p(q, tr, 1));
        co_await asyncio::sleep(0);
        q.shutdown();
        co_await asyncio::sleep(0);
        tr.add("get=", q.get_nowait());
        try {
            (void)q.get_nowait();
        } catch (const asyncio::QueueShutDown&) {
            tr.add("get:shutdown");
        }
        co_await p0;
        co_await p1;
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "p0:shutdown p1:shutdown get=9 get:shutdown");
}

TEST(queue, after_shutdown_put_raises_get_drains) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q;
        q.put_nowait(1);
        q.shutdown();
        EXPECT_THROW(q.put_nowait(2), asyncio::QueueShutDown);
        try {
            co_await q.put(2);
            ADD_FAILURE() << "expected QueueShutDown";
        } catch (const asyncio::QueueShutDown&) {
        }
        EXPECT_EQ(co_await q.get(), 1);  // not immediate: items stay available
        try {
            (void)co_await q.get();
            ADD_FAILURE() << "expected QueueShutDown";
        } catch (const asyncio::QueueShutDown&) {
        }
        EXPECT_THROW(q.get_nowait(), asyncio::QueueShutDown);
    };
    support::run_virtual(body());
}

// Python 3.13: Queue(); put 1, 2; a join()er; shutdown(immediate=True); sleep(0)
//     -> "joined q=0 task_done() called too many times"
TEST(queue, shutdown_immediate_drops_items_and_releases_join) {
    auto body = []() -> Coro<std::string> {
        Trace tr;
        asyncio::Queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        auto j = [](asyncio::Queue<int>& q, Trace& tr) -> Coro<void> {
            co_await q.join();
            tr.add("joined");
        };
        auto jt = asyncio::create_task(j(q, tr));
        co_await asyncio::sleep(0);
        q.shutdown(true);
        co_await asyncio::sleep(0);
        tr.add("q=", q.qsize());
        try {
            q.task_done();
        } catch (const asyncio::ValueError& e) {
            tr.add(e.what());
        }
        co_await jt;
        co_return tr.str();
    };
    EXPECT_EQ(support::run_virtual(body()), "joined q=0 task_done() called too many times");
}

// Immediate shutdown with items already taken but not done: join still waits
// for their task_done() (only the dropped items are counted as done).
TEST(queue, shutdown_immediate_keeps_taken_items_unfinished) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        (void)q.get_nowait();
        auto jt = asyncio::create_task(q.join());
        q.shutdown(true);
        co_await asyncio::sleep(0);
        EXPECT_FALSE(jt.done());
        q.task_done();
        co_await jt;
    };
    support::run_virtual(body());
}

// A getter woken by a put and then cancelled while the queue is shut down.
TEST(queue, shutdown_then_cancel_blocked_getter) {
    auto body = []() -> Coro<void> {
        asyncio::Queue<int> q;
        auto t = asyncio::create_task(q.get());
        co_await asyncio::sleep(0);
        q.shutdown();
        t.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancelled());
    };
    support::run_virtual(body());
}

// ------------------------------------------------------------ producer/consumer

TEST(queue, producer_consumer_many_items) {
    auto body = []() -> Coro<long> {
        asyncio::Queue<int> q(3);
        long sum = 0;
        auto consumer = [](asyncio::Queue<int>& q, long& sum) -> Coro<void> {
            for (;;) {
                int v = co_await q.get();
                sum += v;
                q.task_done();
            }
        };
        std::vector<asyncio::Task<void>> cs;
        for (int i = 0; i < 3; ++i) cs.push_back(asyncio::create_task(consumer(q, sum)));
        for (int i = 1; i <= 1000; ++i) co_await q.put(i);
        co_await q.join();
        for (auto& c : cs) c.cancel();
        for (auto& c : cs) co_await cancelled(c);
        co_return sum;
    };
    EXPECT_EQ(support::run_virtual(body()), 500500);
}

}  // namespace
