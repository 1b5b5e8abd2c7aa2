// errors.cpp — out-of-line destructors (one vtable home per class) and the
// ExceptionGroup toolkit (PEP 654: construction, subgroup/split, except*).
//
// split follows CPython's Objects/exceptions.c exceptiongroup_split_recursive:
// a matching exception (group or leaf) goes whole to the match side; a group
// that does not match is split member by member and re-derived on each side
// that received something, so nested groups keep their message and empty
// ones vanish.
#include "asyncio/errors.hpp"

namespace asyncio {

BaseException::~BaseException() = default;
CancelledError::~CancelledError() = default;
KeyboardInterrupt::~KeyboardInterrupt() = default;
SystemExit::~SystemExit() = default;
ExceptionGroup::~ExceptionGroup() = default;
TimeoutError::~TimeoutError() = default;
InvalidStateError::~InvalidStateError() = default;
RuntimeError::~RuntimeError() = default;
ValueError::~ValueError() = default;
TypeError::~TypeError() = default;
LookupError::~LookupError() = default;
KeyError::~KeyError() = default;
QueueEmpty::~QueueEmpty() = default;
QueueFull::~QueueFull() = default;
QueueShutDown::~QueueShutDown() = default;
BrokenBarrierError::~BrokenBarrierError() = default;

BaseExceptionGroup::BaseExceptionGroup(std::string message,
                                       std::vector<std::exception_ptr> exceptions)
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
    // Python: str(eg) == "msg (N sub-exception[s])".
    what_ = message_ + " (" + std::to_string(exceptions_.size()) + " sub-exception" +
            (exceptions_.size() == 1 ? ")" : "s)");
}
BaseExceptionGroup::~BaseExceptionGroup() = default;

std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> excs) {
    if (excs.empty()) throw ValueError("second argument (exceptions) must be a non-empty sequence");
    bool all_std = true;
    for (std::size_t i = 0; i < excs.size(); ++i) {
        if (!excs[i]) {
            std::string msg = "Item ";
            msg += std::to_string(i);
            msg += " of second argument (exceptions) is not an exception";
            throw ValueError(msg);
        }
        if (all_std && !detail::exception_is<std::exception>(nullptr, excs[i])) all_std = false;
    }
    if (all_std)
        return std::make_exception_ptr(ExceptionGroup(std::move(message), std::move(excs)));
    return std::make_exception_ptr(BaseExceptionGroup(std::move(message), std::move(excs)));
}

std::exception_ptr BaseExceptionGroup::derive(std::vector<std::exception_ptr> excs) const {
    return make_exception_group(message_, std::move(excs));
}

std::pair<std::exception_ptr, std::exception_ptr> BaseExceptionGroup::split_members(
    detail::ExceptionMatcher match, bool want_rest) const {
    std::vector<std::exception_ptr> matched;
    std::vector<std::exception_ptr> rest;
    for (const std::exception_ptr& exc : exceptions_) {
        auto [m, r] = detail::split_exception(exc, match, want_rest);
        if (m) matched.push_back(std::move(m));
        if (r) rest.push_back(std::move(r));
    }
    return {matched.empty() ? nullptr : derive(std::move(matched)),
            rest.empty() ? nullptr : derive(std::move(rest))};
}

namespace {

detail::ExceptionMatcher predicate_matcher(const BaseExceptionGroup::Predicate& pred) {
    return {[](const void* ctx, const std::exception_ptr& exc) {
                return (*static_cast<const BaseExceptionGroup::Predicate*>(ctx))(exc);
            },
            &pred};
}

}  // namespace

std::exception_ptr BaseExceptionGroup::subgroup(const Predicate& pred) const {
    return split_exception(derive(exceptions_), predicate_matcher(pred), false).first;
}

std::pair<std::exception_ptr, std::exception_ptr> BaseExceptionGroup::split(
    const Predicate& pred) const {
    return split_exception(derive(exceptions_), predicate_matcher(pred), true);
}

namespace detail {

const BaseExceptionGroup* as_group(const std::exception_ptr& exc) noexcept {
    if (!exc) return nullptr;
    try {
        std::rethrow_exception(exc);
    } catch (const BaseExceptionGroup& g) {
        // The exception object lives as long as `exc` (or another copy) does.
        return &g;
    } catch (...) {
        return nullptr;
    }
}

std::pair<std::exception_ptr, std::exception_ptr> split_exception(const std::exception_ptr& exc,
                                                                  ExceptionMatcher match,
                                                                  bool want_rest) {
    if (match(exc)) return {exc, nullptr};
    const BaseExceptionGroup* group = as_group(exc);
    if (!group) return {nullptr, want_rest ? exc : nullptr};
    return group->split_members(match, want_rest);
}

void reraise_from_except_star(const std::exception_ptr& raised, const std::exception_ptr& original,
                              const std::exception_ptr& rest) {
    // A bare `throw;` in the handler rethrows the exception being handled,
    // which is `original` when except_star is called from its catch block:
    // Python's bare `raise` in except* re-raises the original structure.
    if (raised == original || !rest) std::rethrow_exception(raised);
    std::rethrow_exception(make_exception_group("", {raised, rest}));
}

}  // namespace detail

}  // namespace asyncio
