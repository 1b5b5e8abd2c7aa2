# Example output checks: one CTest test `example.<name>` (label `examples`)
# per program of examples/, run by cmake/CheckExample.cmake against
# examples/expected/<name>.txt (one full-line regex per line of stdout), with
# exit status 0 and elapsed wall-clock time in [MIN, MAX) seconds.
#
# Included at the end of tests/CMakeLists.txt; reads what
# examples/CMakeLists.txt publishes (nothing to do when examples are off).
#
# The examples run in real time (they are the docs' programs), so their
# tests are RUN_SERIAL: a loaded machine must not push one past its bounds.

get_property(example_targets GLOBAL PROPERTY ASYNCIO_EXAMPLE_TARGETS)
get_property(examples_dir GLOBAL PROPERTY ASYNCIO_EXAMPLES_SOURCE_DIR)
if(NOT example_targets)
    return()
endif()

# Elapsed-time bounds, "<min> <max>" seconds. A lower bound proves the
# program really waited; where concurrency is the point, the upper bound is
# tight (say_after_tasks: two tasks overlap, ~2 s against the sequential ~3 s).
# Others get generous upper bounds so a loaded machine never flakes.
set(example_bounds_hello_world          "0.9 10")
set(example_bounds_say_after_sequential "2.9 15")
set(example_bounds_say_after_tasks      "1.9 2.9")
set(example_bounds_nested               "0 10")
set(example_bounds_display_date         "4 7")
set(example_bounds_cancel_me            "0.9 10")
set(example_bounds_gather_factorial     "2.9 5")
set(example_bounds_gather_return_exceptions "0 10")
set(example_bounds_wait_fetch_data      "0.29 0.59")
set(example_bounds_as_completed         "0.29 0.59")
set(example_bounds_say_after_task_group "1.9 2.9")
set(example_bounds_task_group_errors    "0 10")
set(example_bounds_shield_with_try      "0.9 1.9")
set(example_bounds_timeout              "0.45 5")
set(example_bounds_timeout_reschedule   "0.45 5")
set(example_bounds_timeout_at           "0.45 5")
set(example_bounds_wait_for             "0.95 6")
set(example_bounds_wait_for_slow_operation "0.24 5")
set(example_bounds_semaphore_rate_limit "0.39 5")
set(example_bounds_producer_consumer   "0.49 5")
set(example_bounds_queue_worker_pool   "0.89 5")
set(example_bounds_context_request_id  "0.29 5")
set(example_bounds_eager_cache          "0.19 5")
set(example_bounds_print_stack          "0.09 5")
# Threads: to_thread's 1 s call overlaps a 1 s sleep (sequential: ~2 s);
# run_coroutine_threadsafe waits 0.5 s for a result, then 0.2 s before cancelling.
set(example_bounds_to_thread            "0.9 1.9")
set(example_bounds_run_coroutine_threadsafe "0.65 5")
set(example_bounds_default              "0 20")

foreach(target IN LISTS example_targets)
    get_target_property(name ${target} ASYNCIO_PROGRAM_NAME)
    set(expected "${examples_dir}/expected/${name}.txt")
    if(NOT EXISTS "${expected}")
        message(AUTHOR_WARNING "example ${name}: no ${expected}; its output is not checked")
        continue()
    endif()
    if(DEFINED example_bounds_${name})
        separate_arguments(bounds UNIX_COMMAND "${example_bounds_${name}}")
    else()
        separate_arguments(bounds UNIX_COMMAND "${example_bounds_default}")
    endif()
    list(GET bounds 0 min_seconds)
    list(GET bounds 1 max_seconds)

    add_test(NAME example.${name}
        COMMAND "${CMAKE_COMMAND}"
            "-DEXE=$<TARGET_FILE:${target}>"
            "-DEXPECTED=${expected}"
            "-DMIN_SECONDS=${min_seconds}"
            "-DMAX_SECONDS=${max_seconds}"
            -DTIMEOUT=25
            -P "${PROJECT_SOURCE_DIR}/cmake/CheckExample.cmake")
    set_tests_properties(example.${name} PROPERTIES
        LABELS examples
        TIMEOUT 30
        RUN_SERIAL TRUE)
endforeach()
