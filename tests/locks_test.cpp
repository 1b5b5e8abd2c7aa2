// locks_test.cpp — asyncio/locks.hpp: Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier, on the virtual clock.
//
// Python reference: Lib/test/test_asyncio/test_locks.py (3.13). Each trace
// was checked against CPython 3.13 with the equivalent Python program
// (sketched in the comment above each test).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "support/expect_throw_msg.hpp"
#include "support/trace.hpp"
#include "support/virtual_run.hpp"

using asyncio::Coro;
using support::Trace;

namespace {

template <class F>
void run(F f) {
    support::run_virtual(f());
}

// ------------------------------------------------------------------ Lock

// test_acquire: three waiters get the lock in FIFO order.
TEST(Lock, FifoOrder) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        EXPECT_TRUE(co_await lock.acquire());
        EXPECT_TRUE(lock.locked());
        auto c = [&](int i) -> Coro<> {
            co_await lock.acquire();
            tr(i);
            lock.release();
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        auto t3 = asyncio::create_task(c(3));
        co_await asyncio::sleep(0);
        tr("r");
        lock.release();
        co_await t1;
        co_await t2;
        co_await t3;
        EXPECT_FALSE(lock.locked());
    });
    EXPECT_EQ(tr.str(), "r 1 2 3");
}

TEST(Lock, ReleaseUnlockedThrows) {
    asyncio::Lock lock;
    EXPECT_THROW_MSG(lock.release(), asyncio::RuntimeError, "Lock is not acquired.");
}

// A new acquirer does not jump ahead of a waiter that was woken but has not
// run yet (3.13 fairness).
//     lock held; t1 = task(acquire); sleep(0); release(); t2 = task(acquire)
//     -> t1 gets it first, t2 after t1 releases.
TEST(Lock, NoBargingPastWokenWaiter) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        co_await lock.acquire();
        auto c = [&](int i) -> Coro<> {
            co_await lock.acquire();
            tr(i);
            co_await asyncio::sleep(0);
            lock.release();
        };
        auto t1 = asyncio::create_task(c(1));
        co_await asyncio::sleep(0);
        lock.release();
        EXPECT_FALSE(lock.locked());
        auto t2 = asyncio::create_task(c(2));
        // Even synchronously, the fast path refuses while t1 is queued.
        auto t3_fn = [&]() -> Coro<> {
            co_await lock.acquire();
            tr(3);
            lock.release();
        };
        auto t3 = asyncio::create_task(t3_fn());
        co_await t1;
        co_await t2;
        co_await t3;
    });
    EXPECT_EQ(tr.str(), "1 2 3");
}

// test_cancel_release_race: a waiter woken and then cancelled passes the
// wake-up on to the next one.
TEST(Lock, CancelAfterWakePassesOn) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        co_await lock.acquire();
        auto c = [&](int i) -> Coro<> {
            try {
                co_await lock.acquire();
            } catch (const asyncio::CancelledError&) {
                tr("c", i);
                throw;
            }
            tr(i);
            lock.release();
        };
        auto ta = asyncio::create_task(c(1));
        auto tb = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        lock.release();  // wakes ta
        ta.cancel();     // ... which is cancelled before it runs
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        co_await tb;
        EXPECT_TRUE(ta.cancelled());
        EXPECT_FALSE(lock.locked());
    });
    EXPECT_EQ(tr.str(), "c1 2");
}

// test_acquire_cancel: a cancelled waiter leaves the queue and never takes
// a wake-up; the lock stays usable.
TEST(Lock, CancelWhileWaiting) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        co_await lock.acquire();
        auto c = [&](int i) -> Coro<> {
            co_await lock.acquire();
            tr(i);
            lock.release();
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        auto t3 = asyncio::create_task(c(3));
        co_await asyncio::sleep(0);
        t2.cancel();
        co_await asyncio::sleep(0);
        lock.release();
        co_await t1;
        co_await t3;
        EXPECT_TRUE(t2.cancelled());
    });
    EXPECT_EQ(tr.str(), "1 3");
}

// All waiters cancelled: acquire() takes the free lock at once.
TEST(Lock, AllWaitersCancelledFastPath) {
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        co_await lock.acquire();
        auto t_fn = [&]() -> Coro<> { co_await lock.acquire(); };
        auto t = asyncio::create_task(t_fn());
        co_await asyncio::sleep(0);
        t.cancel();
        lock.release();
        EXPECT_TRUE(lock.try_acquire());  // t's waiter is cancelled
        lock.release();
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
        }
        EXPECT_FALSE(lock.locked());
    });
}

TEST(Lock, AsyncWithAndGuard) {
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        co_await asyncio::async_with(lock, [&]() -> Coro<> {
            EXPECT_TRUE(lock.locked());
            co_return;
        });
        EXPECT_FALSE(lock.locked());
        {
            auto held = co_await lock.acquire_guard();
            EXPECT_TRUE(held.owns());
            EXPECT_TRUE(lock.locked());
        }
        EXPECT_FALSE(lock.locked());
        // The body's exception releases the lock and passes on.
        bool caught = false;
        try {
            co_await asyncio::async_with(lock, [&]() -> Coro<> {
                throw asyncio::ValueError("boom");
                co_return;
            });
        } catch (const asyncio::ValueError&) {
            caught = true;
        }
        EXPECT_TRUE(caught);
        EXPECT_FALSE(lock.locked());
    });
}

// The guard form on the slow path: waits like acquire(), and a cancelled
// waiter gets no guard and leaves the lock to the next one.
TEST(Lock, GuardSlowPathAndCancel) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        co_await lock.acquire();
        auto c = [&](int i) -> Coro<> {
            try {
                auto held = co_await lock.acquire_guard();
                tr(i);
                co_await asyncio::sleep(0);
            } catch (const asyncio::CancelledError&) {
                tr("c", i);
                throw;
            }
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        auto t3 = asyncio::create_task(c(3));
        co_await asyncio::sleep(0);
        t2.cancel();
        lock.release();
        co_await t1;
        co_await t3;
        EXPECT_TRUE(t2.cancelled());
        EXPECT_FALSE(lock.locked());
    });
    EXPECT_EQ(tr.str(), "c2 1 3");
}

// ----------------------------------------------------------------- Event

// test_wait: waiters wake in FIFO order once set.
TEST(Event, WaitSetFifo) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Event ev;
        EXPECT_FALSE(ev.is_set());
        auto c = [&](int i) -> Coro<> {
            EXPECT_TRUE(co_await ev.wait());
            tr(i);
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        auto t3 = asyncio::create_task(c(3));
        co_await asyncio::sleep(0);
        tr("set");
        ev.set();
        EXPECT_TRUE(ev.is_set());
        co_await t1;
        co_await t2;
        co_await t3;
        EXPECT_TRUE(co_await ev.wait());  // already set: no suspension
        ev.clear();
        EXPECT_FALSE(ev.is_set());
    });
    EXPECT_EQ(tr.str(), "set 1 2 3");
}

TEST(Event, CancelWaiter) {
    run([&]() -> Coro<> {
        asyncio::Event ev;
        auto t = asyncio::create_task(ev.wait());
        co_await asyncio::sleep(0);
        t.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancelled());
        ev.set();
        EXPECT_TRUE(co_await ev.wait());
    });
}

// set() then clear() before the waiter runs: it still returns true.
TEST(Event, ClearAfterSetStillWakes) {
    run([&]() -> Coro<> {
        asyncio::Event ev;
        auto t = asyncio::create_task(ev.wait());
        co_await asyncio::sleep(0);
        ev.set();
        ev.clear();
        EXPECT_TRUE(co_await t);
    });
}

// A waiter woken by set() and cancelled before it runs gets CancelledError;
// the others are woken all the same.
TEST(Event, CancelAfterSet) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Event ev;
        auto c = [&](int i) -> Coro<> {
            try {
                co_await ev.wait();
                tr(i);
            } catch (const asyncio::CancelledError&) {
                tr("c", i);
            }
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        ev.set();
        t1.cancel();
        co_await t1;
        co_await t2;
    });
    EXPECT_EQ(tr.str(), "c1 2");
}

// ------------------------------------------------------------- Condition

// test_notify / test_notify_all.
TEST(Condition, NotifyOrder) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Condition cond;
        auto c = [&](int i) -> Coro<> {
            co_await cond.acquire();
            co_await cond.wait();
            tr(i);
            EXPECT_TRUE(cond.locked());
            cond.release();
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        auto t3 = asyncio::create_task(c(3));
        co_await asyncio::sleep(0);
        co_await cond.acquire();
        tr("n1");
        cond.notify(1);
        cond.release();
        co_await asyncio::sleep(0);
        co_await cond.acquire();
        tr("n2");
        cond.notify(2048);
        cond.release();
        co_await t1;
        co_await t2;
        co_await t3;
    });
    EXPECT_EQ(tr.str(), "n1 1 n2 2 3");
}

TEST(Condition, UnacquiredErrors) {
    run([&]() -> Coro<> {
        asyncio::Condition cond;
        EXPECT_THROW_MSG(cond.notify(), asyncio::RuntimeError, "cannot notify on un-acquired lock");
        bool caught = false;
        try {
            co_await cond.wait();
        } catch (const asyncio::RuntimeError& e) {
            caught = std::string(e.what()) == "cannot wait on un-acquired lock";
        }
        EXPECT_TRUE(caught);
    });
}

// test_wait_for: returns the predicate's (truthy) value.
TEST(Condition, WaitForReturnsPredicateValue) {
    run([&]() -> Coro<> {
        asyncio::Condition cond;
        int presult = 0;
        auto t_fn = [&]() -> Coro<int> {
            co_await cond.acquire();
            int r = co_await cond.wait_for([&] { return presult; });
            EXPECT_TRUE(cond.locked());
            cond.release();
            co_return r;
        };
        auto t = asyncio::create_task(t_fn());
        co_await asyncio::sleep(0);
        co_await cond.acquire();
        cond.notify();
        cond.release();
        co_await asyncio::sleep(0);
        EXPECT_FALSE(t.done());  // predicate still 0
        presult = 7;
        co_await cond.acquire();
        cond.notify();
        cond.release();
        EXPECT_EQ(co_await t, 7);
    });
}

// test_wait_cancel_contested: a cancelled wait() re-acquires the lock before
// CancelledError passes on.
TEST(Condition, CancelledWaitReacquires) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        asyncio::Condition cond(lock);
        auto t_fn = [&]() -> Coro<> {
            co_await cond.acquire();
            try {
                co_await cond.wait();
            } catch (const asyncio::CancelledError&) {
                tr("cancelled", lock.locked() ? "-locked" : "-unlocked");
                cond.release();
                throw;
            }
        };
        auto t = asyncio::create_task(t_fn());
        co_await asyncio::sleep(0);
        co_await lock.acquire();  // contest the re-acquisition
        t.cancel();
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        tr("main-release");
        lock.release();
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
            tr("t-cancelled");
        }
        EXPECT_FALSE(lock.locked());
    });
    EXPECT_EQ(tr.str(), "main-release cancelled-locked t-cancelled");
}

// A waiter notified and then cancelled passes the notification on.
TEST(Condition, CancelAfterNotifyPassesOn) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Condition cond;
        auto c = [&](int i) -> Coro<> {
            co_await cond.acquire();
            try {
                co_await cond.wait();
                tr(i);
            } catch (const asyncio::CancelledError&) {
                tr("c", i);
            }
            cond.release();
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        co_await cond.acquire();
        cond.notify(1);
        t1.cancel();
        cond.release();
        co_await t1;
        co_await t2;
    });
    EXPECT_EQ(tr.str(), "c1 2");
}

// Cancelling wait_for: the lock is held again when CancelledError arrives.
TEST(Condition, WaitForCancelled) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Condition cond;
        int flag = 0;
        auto c = [&]() -> Coro<> {
            co_await asyncio::async_with(cond, [&]() -> Coro<> {
                try {
                    co_await cond.wait_for([&] { return flag; });
                } catch (const asyncio::CancelledError&) {
                    tr(cond.locked() ? "c-locked" : "c-unlocked");
                    throw;
                }
            });
        };
        auto t = asyncio::create_task(c());
        co_await asyncio::sleep(0);
        t.cancel();
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
            tr("done");
        }
        tr(cond.locked() ? "True" : "False");
    });
    EXPECT_EQ(tr.str(), "c-locked done False");
}

// Two conditions sharing one lock: notify() on one wakes only its waiters.
TEST(Condition, SharedLock) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Lock lock;
        asyncio::Condition a(lock);
        asyncio::Condition b(lock);
        auto wa = [&]() -> Coro<> {
            auto held = co_await a.acquire_guard();
            co_await a.wait();
            tr("a");
        };
        auto wb = [&]() -> Coro<> {
            auto held = co_await b.acquire_guard();
            co_await b.wait();
            tr("b");
        };
        auto t1 = asyncio::create_task(wa());
        auto t2 = asyncio::create_task(wb());
        co_await asyncio::sleep(0);
        {
            auto held = co_await lock.acquire_guard();
            b.notify();
            tr(a.locked() ? "True" : "False");
        }
        co_await t2;
        {
            auto held = co_await a.acquire_guard();
            a.notify();
        }
        co_await t1;
    });
    EXPECT_EQ(tr.str(), "True b a");
}

// ------------------------------------------------------------- Semaphore

TEST(Semaphore, InitialValue) {
    EXPECT_THROW_MSG(asyncio::Semaphore(-1), asyncio::ValueError,
                     "Semaphore initial value must be >= 0");
    asyncio::Semaphore s0(0);
    EXPECT_TRUE(s0.locked());
}

// test_acquire: FIFO, at most `value` holders.
TEST(Semaphore, FifoAndCount) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Semaphore sem(2);
        int inside = 0, max_inside = 0;
        auto c = [&](int i) -> Coro<> {
            co_await sem.acquire();
            ++inside;
            max_inside = std::max(max_inside, inside);
            tr(i);
            co_await asyncio::sleep(1);
            --inside;
            sem.release();
        };
        std::vector<asyncio::Task<>> ts;
        for (int i = 1; i <= 5; ++i) ts.push_back(asyncio::create_task(c(i)));
        for (auto& t : ts) co_await t;
        EXPECT_EQ(max_inside, 2);
        EXPECT_DOUBLE_EQ(asyncio::get_running_loop().time(), 3.0);
        EXPECT_FALSE(sem.locked());
    });
    EXPECT_EQ(tr.str(), "1 2 3 4 5");
}

// test_acquire_cancel_before_awoken: a woken waiter cancelled before it
// runs gives its unit back; the next waiter gets it.
TEST(Semaphore, CancelAfterWakePassesOn) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Semaphore sem(0);
        auto c = [&](int i) -> Coro<> {
            co_await sem.acquire();
            tr(i);
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        auto t3 = asyncio::create_task(c(3));
        co_await asyncio::sleep(0);
        sem.release();  // wakes t1
        t1.cancel();
        try {
            co_await t1;
        } catch (const asyncio::CancelledError&) {
            tr("c1");
        }
        co_await t2;
        EXPECT_FALSE(t3.done());
        sem.release();
        co_await t3;
        EXPECT_TRUE(sem.locked());  // value 0
    });
    EXPECT_EQ(tr.str(), "2 c1 3");  // CPython 3.13: t2 runs before main resumes
}

// locked() is true while a non-cancelled waiter is queued, even with value
// left (3.13), so a newcomer queues behind.
TEST(Semaphore, LockedWithWaiters) {
    run([&]() -> Coro<> {
        asyncio::Semaphore sem(1);
        co_await sem.acquire();
        auto t_fn = [&]() -> Coro<> { co_await sem.acquire(); };
        auto t = asyncio::create_task(t_fn());
        co_await asyncio::sleep(0);
        sem.release();  // t woken, value back to 0
        EXPECT_TRUE(sem.locked());
        co_await t;
        sem.release();
        EXPECT_FALSE(sem.locked());
    });
}

// test_acquire_cancel: a cancelled waiter (never woken) consumes nothing.
TEST(Semaphore, CancelWhileWaiting) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Semaphore sem(1);
        co_await sem.acquire();
        auto c = [&](int i) -> Coro<> {
            auto held = co_await sem.acquire_guard();
            tr(i);
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        t1.cancel();
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t1.cancelled());
        EXPECT_TRUE(sem.locked());
        sem.release();
        co_await t2;
        EXPECT_FALSE(sem.locked());
    });
    EXPECT_EQ(tr.str(), "2");
}

TEST(Semaphore, AsyncWithAndGuard) {
    run([&]() -> Coro<> {
        asyncio::Semaphore sem(1);
        co_await asyncio::async_with(sem, [&]() -> Coro<> {
            EXPECT_TRUE(sem.locked());
            co_return;
        });
        EXPECT_FALSE(sem.locked());
        {
            auto held = co_await sem.acquire_guard();
            EXPECT_TRUE(sem.locked());
            held.release();
            EXPECT_FALSE(sem.locked());
        }
        EXPECT_FALSE(sem.locked());
    });
}

TEST(BoundedSemaphore, ReleasedTooManyTimes) {
    run([&]() -> Coro<> {
        asyncio::BoundedSemaphore sem(1);
        EXPECT_THROW_MSG(sem.release(), asyncio::ValueError,
                         "BoundedSemaphore released too many times");
        {
            auto held = co_await sem.acquire_guard();
            EXPECT_TRUE(sem.locked());
        }
        co_await asyncio::async_with(sem, [&]() -> Coro<> { co_return; });
        EXPECT_FALSE(sem.locked());
        EXPECT_THROW_MSG(sem.release(), asyncio::ValueError,
                         "BoundedSemaphore released too many times");
    });
}

// --------------------------------------------------------------- Barrier

TEST(Barrier, PartiesMustBePositive) {
    EXPECT_THROW_MSG(asyncio::Barrier(0), asyncio::ValueError, "parties must be > 0");
}

// test_wait_more / test_filling_tasks_wait_for_drain: indexes 0..n-1 in
// arrival order; the barrier is reusable.
TEST(Barrier, IndexesAndReuse) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Barrier b(3);
        EXPECT_EQ(b.parties(), 3u);
        auto c = [&](int i) -> Coro<> {
            std::size_t idx = co_await b.wait();
            tr(i, ":", idx);
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        EXPECT_EQ(b.n_waiting(), 2u);
        auto t3 = asyncio::create_task(c(3));
        co_await t1;
        co_await t2;
        co_await t3;
        EXPECT_EQ(b.n_waiting(), 0u);
        EXPECT_FALSE(b.broken());
        // Second cycle, through async_with (aenter gives the index).
        std::vector<asyncio::Task<std::size_t>> ts;
        for (int i = 0; i < 3; ++i)
            ts.push_back(asyncio::create_task(asyncio::async_with(
                b, [](std::size_t idx) -> Coro<std::size_t> { co_return idx; })));
        std::size_t sum = 0;
        for (auto& t : ts) sum += co_await t;
        EXPECT_EQ(sum, 0u + 1u + 2u);
    });
    EXPECT_EQ(tr.str(), "3:2 1:0 2:1");  // CPython 3.13: the last arrival returns first
}

TEST(Barrier, AbortBreaksWaiters) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Barrier b(3);
        auto c = [&](int i) -> Coro<> {
            try {
                co_await b.wait();
            } catch (const asyncio::BrokenBarrierError& e) {
                tr(i, ":", e.what());
            }
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        co_await b.abort();
        EXPECT_TRUE(b.broken());
        co_await t1;
        co_await t2;
        co_await c(3);
    });
    EXPECT_EQ(tr.str(),
              "1:Abort or reset of barrier 2:Abort or reset of barrier 3:Barrier aborted");
}

TEST(Barrier, ResetBreaksCurrentWaitersOnly) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Barrier b(2);
        auto t1_fn = [&]() -> Coro<> {
            try {
                co_await b.wait();
            } catch (const asyncio::BrokenBarrierError&) {
                tr("broken");
            }
        };
        auto t1 = asyncio::create_task(t1_fn());
        co_await asyncio::sleep(0);
        co_await b.reset();
        co_await t1;
        EXPECT_FALSE(b.broken());
        EXPECT_EQ(b.n_waiting(), 0u);
        auto t2 = asyncio::create_task(b.wait());
        std::size_t mine = co_await b.wait();
        std::size_t theirs = co_await t2;
        tr(mine + theirs);
    });
    EXPECT_EQ(tr.str(), "broken 1");
}

// Cancelling a task waiting at the barrier leaves the count.
TEST(Barrier, CancelWaiter) {
    run([&]() -> Coro<> {
        asyncio::Barrier b(2);
        auto t = asyncio::create_task(b.wait());
        co_await asyncio::sleep(0);
        EXPECT_EQ(b.n_waiting(), 1u);
        t.cancel();
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        EXPECT_TRUE(t.cancelled());
        EXPECT_EQ(b.n_waiting(), 0u);
        EXPECT_FALSE(b.broken());
    });
}

// A waiter released by the last arrival but cancelled before it runs: the
// cancellation wins for it, the other returns its index, and the barrier is
// left empty and unbroken.
TEST(Barrier, CancelWhileDraining) {
    Trace tr;
    run([&]() -> Coro<> {
        asyncio::Barrier b(2);
        auto c = [&](int i) -> Coro<> {
            try {
                std::size_t idx = co_await b.wait();
                tr(i, ":", idx);
            } catch (const asyncio::CancelledError&) {
                tr("c", i);
                throw;
            }
        };
        auto t1 = asyncio::create_task(c(1));
        auto t2 = asyncio::create_task(c(2));
        co_await asyncio::sleep(0);
        t1.cancel();
        try {
            co_await t1;
        } catch (const asyncio::CancelledError&) {
        }
        co_await t2;
        tr(t1.cancelled() ? "CancelledError" : "?", " ", b.n_waiting(), " ",
           b.broken() ? "True" : "False");
    });
    EXPECT_EQ(tr.str(), "2:1 c1 CancelledError 0 False");
}

}  // namespace
