# Helpers shared by the top-level, tests/, examples/ and bench/ CMakeLists.

include_guard(GLOBAL)

# Warnings are PRIVATE to each of our own targets: never part of
# asyncio::asyncio's usage requirements, so consumers don't inherit them.
function(asyncio_target_warnings target)
    if(MSVC)
        target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${ASYNCIO_WERROR}>:/WX>)
    else()
        target_compile_options(${target} PRIVATE -Wall -Wextra
            $<$<BOOL:${ASYNCIO_WERROR}>:-Werror>)
    endif()
endfunction()

# A test, example or benchmark executable built from one source file.
function(asyncio_add_program target source)
    add_executable(${target} "${source}")
    target_link_libraries(${target} PRIVATE asyncio::asyncio)
    set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
    asyncio_target_warnings(${target})
endfunction()

# Writes one "<name>|<path>" line per target, in the order given, to
# <out_file> (one file per configuration when <out_file> contains
# $<CONFIG>), for cmake/RunPrograms.cmake. <name> is each target's
# ASYNCIO_PROGRAM_NAME property.
function(asyncio_write_program_list out_file)
    set(lines "")
    foreach(t IN LISTS ARGN)
        get_target_property(name ${t} ASYNCIO_PROGRAM_NAME)
        list(APPEND lines "${name}|$<TARGET_FILE:${t}>")
    endforeach()
    list(JOIN lines "\n" content)
    file(GENERATE OUTPUT "${out_file}" CONTENT "${content}\n")
endfunction()
