# tests/check_header_sizes.cmake — every header stays small enough to read in one sitting.
#
#   cmake -DINCLUDE_DIR=<repo>/include -P check_header_sizes.cmake
#
# sequential.hpp, the model, holds at most 400 lines (training lives in engine/); every other
# header at most 700, unless a comment in its first 30 lines starts with "// Longer than 700
# lines:" and says why. Fails naming each header over its limit and its line count.
set(root "${INCLUDE_DIR}/kerascpp")
file(GLOB_RECURSE headers RELATIVE "${root}" "${root}/*.hpp")
set(errors "")
foreach(h IN LISTS headers)
  file(READ "${root}/${h}" text)
  string(REGEX REPLACE "[^\n]" "" newlines "${text}")
  string(LENGTH "${newlines}" lines)
  if(h STREQUAL "sequential.hpp")
    set(limit 400)
  else()
    set(limit 700)
  endif()
  if(lines GREATER limit)
    string(SUBSTRING "${text}" 0 4000 top)
    if(NOT limit EQUAL 400 AND top MATCHES "\n// Longer than 700 lines:")
      continue()
    endif()
    string(APPEND errors "  kerascpp/${h}: ${lines} lines, the limit is ${limit}\n")
  endif()
endforeach()
if(errors)
  message(FATAL_ERROR "check_header_sizes: headers over their line limit (split them, or for a header "
                      "other than sequential.hpp explain at its top with '// Longer than 700 lines: ...'):\n${errors}")
endif()
list(LENGTH headers count)
message(STATUS "check_header_sizes: ${count} headers within their line limits")
