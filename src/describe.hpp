// describe.hpp (private) — turning an exception_ptr into "Type: message"
// for the default exception handler.
#pragma once

#include <exception>
#include <string>

namespace asyncio {
struct ExceptionContext;
}

namespace asyncio::detail {

std::string describe_exception(const std::exception_ptr& e);
/// A C++ type name as written (abi::__cxa_demangle), or `name` itself.
std::string demangle(const char* name);
/// What the default exception handler writes to stderr.
void print_exception_context(const ExceptionContext& context) noexcept;

}  // namespace asyncio::detail
