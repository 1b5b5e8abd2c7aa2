# Builds and runs the consumer project (tests/consumer/) against this build
# of asyncio. Run by the CTest tests consumer.find_package and
# consumer.subdirectory (tests/CMakeLists.txt passes every variable):
#
#   MODE                 find_package: `cmake --install` ASYNCIO_BINARY_DIR
#                        into WORK_DIR/prefix, then find_package(asyncio);
#                        subdirectory: add_subdirectory(ASYNCIO_SOURCE_DIR)
#   ASYNCIO_SOURCE_DIR   asyncio's source tree
#   ASYNCIO_BINARY_DIR   the build tree to install (find_package mode)
#   WORK_DIR             where the prefix and the consumer's build go
#   CONFIG               build type / configuration (may be empty)
#   GENERATOR, GENERATOR_PLATFORM, GENERATOR_TOOLSET, MAKE_PROGRAM,
#   CXX_COMPILER, CXX_FLAGS, BUILD_SHARED, CTEST_COMMAND   as in the parent build
cmake_minimum_required(VERSION 3.21)

foreach(var MODE ASYNCIO_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
    endif()
endforeach()

get_filename_component(consumer_src "${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)
set(build_dir "${WORK_DIR}/build")
set(prefix "${WORK_DIR}/prefix")

set(config_args "")
set(ctest_config_args "")
if(NOT "${CONFIG}" STREQUAL "")
    set(config_args --config "${CONFIG}")
    set(ctest_config_args -C "${CONFIG}")
endif()
if(NOT CTEST_COMMAND)
    get_filename_component(cmake_bin_dir "${CMAKE_COMMAND}" DIRECTORY)
    set(CTEST_COMMAND "${cmake_bin_dir}/ctest")
endif()

function(run)
    string(REPLACE ";" " " pretty "${ARGN}")
    message(STATUS "consumer: ${pretty}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc STREQUAL "0")
        message(FATAL_ERROR "consumer (${MODE}): command failed (${rc}): ${pretty}")
    endif()
endfunction()

set(configure_args
    -S "${consumer_src}" -B "${build_dir}"
    -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DASYNCIO_CONSUMER_MODE=${MODE}")
if(GENERATOR_PLATFORM)
    list(APPEND configure_args -A "${GENERATOR_PLATFORM}")
endif()
if(GENERATOR_TOOLSET)
    list(APPEND configure_args -T "${GENERATOR_TOOLSET}")
endif()
if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

if(MODE STREQUAL "find_package")
    if(NOT ASYNCIO_BINARY_DIR)
        message(FATAL_ERROR "run_consumer.cmake: -DASYNCIO_BINARY_DIR=... is required")
    endif()
    # A fresh prefix each time, so nothing stale can be found.
    file(REMOVE_RECURSE "${prefix}")
    run("${CMAKE_COMMAND}" --install "${ASYNCIO_BINARY_DIR}" --prefix "${prefix}" ${config_args})
    list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}")
elseif(MODE STREQUAL "subdirectory")
    list(APPEND configure_args
        "-DASYNCIO_SOURCE_DIR=${ASYNCIO_SOURCE_DIR}"
        "-DBUILD_SHARED_LIBS=${BUILD_SHARED}")
else()
    message(FATAL_ERROR "run_consumer.cmake: MODE must be find_package or subdirectory")
endif()

run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${build_dir}" --parallel 2 ${config_args})
run("${CTEST_COMMAND}" --test-dir "${build_dir}" --output-on-failure ${ctest_config_args})
