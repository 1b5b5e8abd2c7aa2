# Runs a list of programs one after another, printing "=== <name> ===" before
# each; fails (after running them all) if any program fails.
#
#   cmake -DLIST_FILE=<file> [-DTITLE=tour] [-DPROGRAM_ARGS=a|b] [-DTIMEOUT=120]
#         [-DWORKING_DIRECTORY=<dir>] -P RunPrograms.cmake
#
# LIST_FILE holds "<name>|<path>" lines (see asyncio_write_program_list in
# AsyncioHelpers.cmake). PROGRAM_ARGS is passed to every program, its
# arguments separated by '|'.
cmake_minimum_required(VERSION 3.21)

if(NOT DEFINED LIST_FILE)
    message(FATAL_ERROR "RunPrograms.cmake: pass -DLIST_FILE=<file>")
endif()
if(NOT DEFINED TITLE)
    set(TITLE "run")
endif()
if(NOT DEFINED TIMEOUT)
    set(TIMEOUT 120)
endif()
if(NOT DEFINED WORKING_DIRECTORY)
    get_filename_component(WORKING_DIRECTORY "${LIST_FILE}" DIRECTORY)
endif()
string(REPLACE "|" ";" args "${PROGRAM_ARGS}")

file(STRINGS "${LIST_FILE}" entries)
set(ran 0)
set(failed "")
foreach(entry IN LISTS entries)
    if(entry STREQUAL "")
        continue()
    endif()
    string(FIND "${entry}" "|" bar)
    string(SUBSTRING "${entry}" 0 ${bar} name)
    math(EXPR start "${bar} + 1")
    string(SUBSTRING "${entry}" ${start} -1 path)

    # Banner on stdout (like the programs' own output) so the two interleave.
    execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "=== ${name} ===")
    execute_process(
        COMMAND "${path}" ${args}
        WORKING_DIRECTORY "${WORKING_DIRECTORY}"
        TIMEOUT ${TIMEOUT}
        RESULT_VARIABLE rc)
    math(EXPR ran "${ran} + 1")
    if(NOT rc STREQUAL "0")
        execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "--- ${name} FAILED: ${rc}")
        list(APPEND failed "${name}")
    endif()
endforeach()

list(LENGTH failed nfailed)
if(nfailed GREATER 0)
    list(JOIN failed ", " failed)
    message(FATAL_ERROR "${TITLE}: ${nfailed} of ${ran} programs failed: ${failed}")
endif()
if(ran EQUAL 0)
    message(STATUS "${TITLE}: nothing to run")
else()
    message(STATUS "${TITLE}: all ${ran} programs ran successfully")
endif()
