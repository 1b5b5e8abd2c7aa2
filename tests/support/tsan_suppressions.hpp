// support/tsan_suppressions.hpp — ThreadSanitizer suppressions built into a
// test executable. Include from exactly one .cpp of each thread test binary.
//
// An exception thrown on one thread and destroyed on another (an executor
// call's exception, rethrown on the loop thread, released last by the
// worker) is refcounted inside libstdc++ (exception_ptr, __cxa_end_catch),
// which is not built with TSan: TSan sees the final delete but not the
// atomic decrements that order it after the other thread's last use, and
// reports a race that is not there. Only that frame is suppressed.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define ASYNCIO_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASYNCIO_TEST_TSAN 1
#endif
#endif

#ifdef ASYNCIO_TEST_TSAN
extern "C" const char* __tsan_default_suppressions() {
    return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
#endif
