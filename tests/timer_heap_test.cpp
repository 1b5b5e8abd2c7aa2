// Tests for the loop's timer heap (asyncio/detail/timer_heap.hpp) and for
// the due batch through which expired timers run.
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <random>
#include <vector>

namespace {

using asyncio::detail::TimerHeap;
using asyncio::detail::TimerNode;

std::vector<TimerNode> make_nodes(const std::vector<double>& whens) {
    std::vector<TimerNode> nodes(whens.size());
    for (std::size_t i = 0; i < whens.size(); ++i) nodes[i].when = whens[i];
    return nodes;
}

std::vector<double> drain_due(TimerHeap& heap, double end_time) {
    std::vector<double> out;
    heap.take_due(end_time);
    while (TimerNode* t = heap.next_due()) out.push_back(t->when);
    return out;
}

TEST(timer_heap, due_timers_come_out_in_deadline_order_fifo_among_equals) {
    auto nodes = make_nodes({3, 1, 2, 1, 5});
    TimerHeap heap;
    for (auto& n : nodes) heap.push(&n);
    heap.take_due(4);
    std::vector<TimerNode*> order;
    while (TimerNode* t = heap.next_due()) order.push_back(t);
    ASSERT_EQ(order.size(), 4u);
    EXPECT_EQ(order[0], &nodes[1]);  // when 1, pushed first
    EXPECT_EQ(order[1], &nodes[3]);  // when 1, pushed second
    EXPECT_EQ(order[2], &nodes[2]);
    EXPECT_EQ(order[3], &nodes[0]);
    EXPECT_EQ(heap.size(), 1u);
    EXPECT_EQ(heap.top(), &nodes[4]);
}

TEST(timer_heap, removing_from_the_middle_keeps_the_heap_ordered) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> dist(0, 1000);
    std::vector<double> whens(2000);
    for (double& w : whens) w = dist(rng);
    auto nodes = make_nodes(whens);
    TimerHeap heap;
    for (auto& n : nodes) heap.push(&n);
    for (std::size_t i = 0; i < nodes.size(); i += 3) heap.remove(&nodes[i]);
    for (std::size_t i = 0; i < nodes.size(); i += 3)
        EXPECT_EQ(nodes[i].heap_index, TimerNode::npos);
    const std::vector<double> out = drain_due(heap, 2000);
    EXPECT_EQ(out.size(), nodes.size() - (nodes.size() + 2) / 3);
    EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
    EXPECT_TRUE(heap.empty());
}

TEST(timer_heap, a_timer_withdrawn_from_the_due_batch_does_not_come_out) {
    auto nodes = make_nodes({1, 2, 3});
    TimerHeap heap;
    for (auto& n : nodes) heap.push(&n);
    heap.take_due(10);
    heap.remove(&nodes[1]);
    EXPECT_EQ(nodes[1].heap_index, TimerNode::npos);
    EXPECT_EQ(heap.next_due(), &nodes[0]);
    EXPECT_EQ(heap.next_due(), &nodes[2]);
    EXPECT_EQ(heap.next_due(), nullptr);
}

TEST(timer_heap, restore_due_puts_unrun_timers_back_in_order) {
    auto nodes = make_nodes({1, 2, 3});
    TimerHeap heap;
    for (auto& n : nodes) heap.push(&n);
    heap.take_due(10);
    EXPECT_EQ(heap.next_due(), &nodes[0]);
    heap.restore_due();
    EXPECT_EQ(heap.size(), 2u);
    EXPECT_EQ(drain_due(heap, 10), (std::vector<double>{2, 3}));
}

// A sleeping task is cancelled by a callback that then keeps the loop busy
// past the sleep's deadline: in the next iteration the task's wake-up runs
// first and destroys the sleep (and its timer) while that timer is already
// due. The timer must be withdrawn, not run from freed memory (ASan).
TEST(timer_heap, a_due_sleep_destroyed_earlier_in_the_same_iteration_is_withdrawn) {
    int caught = 0;
    double deadline = 0;
    auto sleeper = [&]() -> asyncio::Coro<> {
        deadline = asyncio::get_running_loop().time() + 0.05;
        try {
            co_await asyncio::sleep(0.05);
        } catch (const asyncio::CancelledError&) {
            ++caught;
        }
    };
    auto main_coro = [&]() -> asyncio::Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto task = asyncio::create_task(sleeper());
        co_await asyncio::sleep(0);
        loop.call_later(0.001, [&] {
            task.cancel();
            while (loop.time() < deadline + 0.002) {  // the sleep is now overdue
            }
        });
        co_await task;
    };
    asyncio::run(main_coro());
    EXPECT_EQ(caught, 1);
}

TEST(timer_heap, cancelled_timer_handle_in_the_due_batch_does_not_run) {
    int ran = 0;
    auto main_coro = [&]() -> asyncio::Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::TimerHandle later;
        // Both due in the same iteration; the first cancels the second.
        loop.call_at(loop.time() + 1, [&] { later.cancel(); });
        later = loop.call_at(loop.time() + 1, [&] { ++ran; });
        co_await asyncio::sleep(2);
    };
    asyncio::testing::run(main_coro());
    EXPECT_EQ(ran, 0);
}

}  // namespace
