// asyncio.hpp — Python's asyncio Coroutines-and-Tasks layer for C++20.
// The umbrella header: includes every public header, nothing else.
#pragma once

#include "asyncio/coro.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/future.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/task.hpp"
#include "asyncio/testing.hpp"
