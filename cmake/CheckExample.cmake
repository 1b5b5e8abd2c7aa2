# Runs one example program and checks its exit code, its stdout and how long
# it took; fails with a line-by-line report on any mismatch.
#
#   cmake -DEXE=<program> -DEXPECTED=<file> [-DMIN_SECONDS=0] [-DMAX_SECONDS=20]
#         [-DTIMEOUT=25] [-DWORKING_DIRECTORY=<dir>] -P CheckExample.cmake
#
# EXPECTED holds one regular expression (CMake syntax) per line of stdout,
# each matched against the whole line: `started at [0-9][0-9]:[0-9][0-9]`.
# There must be exactly as many output lines as patterns. stderr is not
# checked, only shown when the check fails. Elapsed time is wall-clock time
# around the program's run, measured here in microseconds (string(TIMESTAMP)
# has %f since CMake 3.23); MIN_SECONDS and MAX_SECONDS are decimals.
cmake_minimum_required(VERSION 3.23)

foreach(var EXE EXPECTED)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "CheckExample.cmake: pass -D${var}=...")
    endif()
endforeach()
if(NOT DEFINED MIN_SECONDS)
    set(MIN_SECONDS 0)
endif()
if(NOT DEFINED MAX_SECONDS)
    set(MAX_SECONDS 20)
endif()
if(NOT DEFINED TIMEOUT)
    set(TIMEOUT 25)
endif()
if(NOT DEFINED WORKING_DIRECTORY)
    get_filename_component(WORKING_DIRECTORY "${EXE}" DIRECTORY)
endif()
get_filename_component(name "${EXE}" NAME_WE)

# "2.9" -> 2900000 (microseconds), without floating point (math() has none).
function(seconds_to_micros seconds out)
    if(NOT seconds MATCHES "^([0-9]*)(\\.([0-9]*))?$")
        message(FATAL_ERROR "CheckExample.cmake: not a number of seconds: '${seconds}'")
    endif()
    set(whole "${CMAKE_MATCH_1}")
    set(frac "${CMAKE_MATCH_3}000000")
    string(SUBSTRING "${frac}" 0 6 frac)
    string(REGEX REPLACE "^0+" "" frac "${frac}")
    if(whole STREQUAL "")
        set(whole 0)
    endif()
    if(frac STREQUAL "")
        set(frac 0)
    endif()
    math(EXPR micros "${whole} * 1000000 + ${frac}")
    set(${out} ${micros} PARENT_SCOPE)
endfunction()

# 2903114 -> "2.903" (seconds, for messages).
function(micros_to_seconds micros out)
    math(EXPR whole "${micros} / 1000000")
    math(EXPR millis "(${micros} % 1000000) / 1000 + 1000")
    string(SUBSTRING "${millis}" 1 3 millis)
    set(${out} "${whole}.${millis}" PARENT_SCOPE)
endfunction()

# Splits text into numbered variables <prefix>_1..<prefix>_N and sets
# <prefix>_COUNT, without going through a CMake list (lines may hold ';' or
# unbalanced '['). A final newline does not start another line.
function(split_lines text prefix)
    set(n 0)
    while(NOT text STREQUAL "")
        math(EXPR n "${n} + 1")
        string(FIND "${text}" "\n" nl)
        if(nl EQUAL -1)
            set(${prefix}_${n} "${text}" PARENT_SCOPE)
            set(text "")
        else()
            string(SUBSTRING "${text}" 0 ${nl} line)
            string(REGEX REPLACE "\r$" "" line "${line}")
            set(${prefix}_${n} "${line}" PARENT_SCOPE)
            math(EXPR rest "${nl} + 1")
            string(SUBSTRING "${text}" ${rest} -1 text)
        endif()
    endwhile()
    set(${prefix}_COUNT ${n} PARENT_SCOPE)
endfunction()

seconds_to_micros("${MIN_SECONDS}" min_us)
seconds_to_micros("${MAX_SECONDS}" max_us)
file(READ "${EXPECTED}" expected_text)
split_lines("${expected_text}" want)

string(TIMESTAMP t0 "%s%f" UTC)
execute_process(
    COMMAND "${EXE}"
    WORKING_DIRECTORY "${WORKING_DIRECTORY}"
    TIMEOUT ${TIMEOUT}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
string(TIMESTAMP t1 "%s%f" UTC)
math(EXPR elapsed_us "${t1} - ${t0}")
micros_to_seconds(${elapsed_us} elapsed)

split_lines("${out}" got)

set(problems "")
if(NOT rc STREQUAL "0")
    string(APPEND problems "  exit status: ${rc} (expected 0)\n")
endif()

# Line by line: a mismatch shows the pattern beside the actual line.
set(n ${want_COUNT})
if(got_COUNT GREATER n)
    set(n ${got_COUNT})
endif()
set(i 1)
while(NOT i GREATER n)
    if(i GREATER want_COUNT)
        string(APPEND problems
            "  line ${i}: unexpected extra line\n"
            "    + actual:   ${got_${i}}\n")
    elseif(i GREATER got_COUNT)
        string(APPEND problems
            "  line ${i}: missing\n"
            "    - expected: ${want_${i}}   (regex)\n")
    elseif(NOT "${got_${i}}" MATCHES "^(${want_${i}})$")
        string(APPEND problems
            "  line ${i}: does not match\n"
            "    - expected: ${want_${i}}   (regex)\n"
            "    + actual:   ${got_${i}}\n")
    endif()
    math(EXPR i "${i} + 1")
endwhile()

if(elapsed_us LESS min_us)
    string(APPEND problems
        "  elapsed: ${elapsed} s, expected at least ${MIN_SECONDS} s\n")
elseif(elapsed_us GREATER_EQUAL max_us)
    string(APPEND problems
        "  elapsed: ${elapsed} s, expected less than ${MAX_SECONDS} s\n")
endif()

if(problems STREQUAL "")
    message(STATUS "example ${name}: ${got_COUNT} lines as expected, "
        "${elapsed} s (bounds [${MIN_SECONDS}, ${MAX_SECONDS}) s)")
else()
    message("example ${name}: FAILED against ${EXPECTED}\n${problems}"
        "--- stdout ---\n${out}--- stderr ---\n${err}--- end ---")
    message(FATAL_ERROR "example ${name}: output or timing mismatch")
endif()
