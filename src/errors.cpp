// errors.cpp — out-of-line destructors (one vtable home per class) and the
// group constructor.
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
LookupError::~LookupError() = default;
QueueEmpty::~QueueEmpty() = default;
QueueFull::~QueueFull() = default;
QueueShutDown::~QueueShutDown() = default;
BrokenBarrierError::~BrokenBarrierError() = default;

BaseExceptionGroup::BaseExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
    // Python: str(eg) == "msg (N sub-exception[s])".
    what_ = message_ + " (" + std::to_string(exceptions_.size()) + " sub-exception" +
            (exceptions_.size() == 1 ? ")" : "s)");
}
BaseExceptionGroup::~BaseExceptionGroup() = default;

}  // namespace asyncio
