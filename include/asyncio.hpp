// asyncio.hpp — Python's asyncio Coroutines-and-Tasks layer for C++20.
// The umbrella header: includes every public header, nothing else.
#pragma once

#include "asyncio/as_completed.hpp"
#include "asyncio/async_with.hpp"
#include "asyncio/context.hpp"
#include "asyncio/coro.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/future.hpp"
#include "asyncio/gather.hpp"
#include "asyncio/locks.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/queue.hpp"
#include "asyncio/runners.hpp"
#include "asyncio/shield.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/task.hpp"
#include "asyncio/task_group.hpp"
#include "asyncio/testing.hpp"
#include "asyncio/timeout.hpp"
#include "asyncio/wait.hpp"
#include "asyncio/wait_for.hpp"
