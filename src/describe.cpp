// describe.cpp — "Type: message" for an exception_ptr (demangled type name).
#include "describe.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "asyncio/errors.hpp"

namespace asyncio::detail {

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                               std::free);
    return status == 0 && out ? out.get() : name;
}

std::string describe_exception(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const BaseException& x) {
        return demangle(typeid(x).name()) + ": " + x.what();
    } catch (const std::exception& x) {
        return demangle(typeid(x).name()) + ": " + x.what();
    } catch (...) {
        const std::type_info* t = abi::__cxa_current_exception_type();
        return t ? demangle(t->name()) : std::string("unknown exception");
    }
}

}  // namespace asyncio::detail
