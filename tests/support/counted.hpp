// support/counted.hpp — a value type that counts its instances, to prove
// lifetimes (nothing leaked, nothing destroyed twice, no hidden copies).
//
//     support::Counted::reset();
//     { ... }                                  // code under test
//     EXPECT_EQ(support::Counted::live(), 0);
//     EXPECT_EQ(support::Counted::copies(), 0);
//
// Each tag has its own counters: `struct MyTag; using C = support::BasicCounted<MyTag>;`.
// Counters are atomics, so instances may be created and destroyed on other threads.
// A destroyed-twice or use-after-destroy instance is caught by the `alive`
// canary (and by ASan).
#pragma once

#include <atomic>
#include <cstdlib>
#include <iostream>

namespace support {

template <class Tag = void>
class BasicCounted {
public:
    BasicCounted() noexcept : value(0) { on_construct(); }
    explicit BasicCounted(int v) noexcept : value(v) { on_construct(); }
    BasicCounted(const BasicCounted& o) noexcept : value(o.value) {
        o.check();
        on_construct();
        ++state().copies;
    }
    BasicCounted(BasicCounted&& o) noexcept : value(o.value) {
        o.check();
        o.moved_from = true;
        on_construct();
        ++state().moves;
    }
    BasicCounted& operator=(const BasicCounted& o) noexcept {
        check();
        o.check();
        value = o.value;
        moved_from = false;
        ++state().copies;
        return *this;
    }
    BasicCounted& operator=(BasicCounted&& o) noexcept {
        check();
        o.check();
        value = o.value;
        moved_from = false;
        o.moved_from = true;
        ++state().moves;
        return *this;
    }
    ~BasicCounted() {
        check();
        canary_ = 0;
        --state().live;
        ++state().destroyed;
    }

    friend bool operator==(const BasicCounted& a, const BasicCounted& b) noexcept {
        return a.value == b.value;
    }

    /// Instances alive now.
    static int live() noexcept { return state().live; }
    /// Instances ever constructed (any constructor).
    static int constructed() noexcept { return state().constructed; }
    static int destroyed() noexcept { return state().destroyed; }
    /// Copy constructions + copy assignments.
    static int copies() noexcept { return state().copies; }
    /// Move constructions + move assignments.
    static int moves() noexcept { return state().moves; }
    /// Zeroes every counter (call at the start of a test, with no instance alive).
    static void reset() noexcept {
        State& s = state();
        s.live = 0;
        s.constructed = 0;
        s.destroyed = 0;
        s.copies = 0;
        s.moves = 0;
    }

    int value;
    bool moved_from = false;

private:
    struct State {
        std::atomic<int> live{0}, constructed{0}, destroyed{0}, copies{0}, moves{0};
    };
    static State& state() noexcept {
        static State s;
        return s;
    }
    void on_construct() noexcept {
        ++state().live;
        ++state().constructed;
    }
    void check() const noexcept {
        if (canary_ != kAlive) {
            std::cerr << "support::Counted: use of a destroyed instance\n";
            std::abort();
        }
    }
    static constexpr unsigned kAlive = 0xC0C0AC0Du;
    unsigned canary_ = kAlive;
};

using Counted = BasicCounted<>;

}  // namespace support
