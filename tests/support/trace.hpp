// support/trace.hpp — an event trace recorder, to check the order of events.
//
//     support::Trace t;
//     t.add("a");            // or t("a"), or t.add("step", 2) -> "step2"
//     EXPECT_EQ(t.str(), "a b c");
//     EXPECT_EQ(t.events(), (std::vector<std::string>{"a", "b", "c"}));
//
// Not thread-safe: record from the loop thread (or add your own lock).
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace support {

class Trace {
public:
    /// Appends one event; several arguments are streamed together ("step", 2 -> "step2").
    template <class... A>
    void add(const A&... parts) {
        std::ostringstream os;
        (os << ... << parts);
        events_.push_back(os.str());
    }
    template <class... A>
    void operator()(const A&... parts) {
        add(parts...);
    }

    /// The events joined by single spaces ("" when empty).
    std::string str() const { return join(" "); }
    std::string join(const std::string& sep) const {
        std::string out;
        for (std::size_t i = 0; i < events_.size(); ++i) {
            if (i) out += sep;
            out += events_[i];
        }
        return out;
    }
    /// str() and forget everything recorded so far.
    std::string take() {
        std::string s = str();
        events_.clear();
        return s;
    }

    const std::vector<std::string>& events() const noexcept { return events_; }
    std::size_t size() const noexcept { return events_.size(); }
    bool empty() const noexcept { return events_.empty(); }
    void clear() noexcept { events_.clear(); }

private:
    std::vector<std::string> events_;
};

}  // namespace support
