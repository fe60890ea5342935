# Script mode (cmake -DREADME=... -DEXAMPLE=... -P): checks that the README's "The API in 20 lines"
# code block is the example file's code, character for character. The file may open with a comment
# (lines starting with //) that is not part of the snippet.
file(READ ${README} readme)
string(FIND "${readme}" "## The API in 20 lines" section)
if(section EQUAL -1)
  message(FATAL_ERROR "${README} has no section \"## The API in 20 lines\"")
endif()
string(SUBSTRING "${readme}" ${section} -1 readme)
string(FIND "${readme}" "```cpp\n" open)
if(open EQUAL -1)
  message(FATAL_ERROR "the section \"The API in 20 lines\" of ${README} has no ```cpp block")
endif()
math(EXPR open "${open} + 7")
string(SUBSTRING "${readme}" ${open} -1 readme)
string(FIND "${readme}" "```" close)
string(SUBSTRING "${readme}" 0 ${close} snippet)

file(READ ${EXAMPLE} code)
string(REGEX REPLACE "^(//[^\n]*\n)+" "" code "${code}")

if(NOT snippet STREQUAL code)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_snippet.cpp "${snippet}")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/example_code.cpp "${code}")
  message(FATAL_ERROR "the README's code block differs from ${EXAMPLE}; compare "
                      "${CMAKE_CURRENT_BINARY_DIR}/readme_snippet.cpp with ${CMAKE_CURRENT_BINARY_DIR}/example_code.cpp")
endif()
message(STATUS "the README's code block is ${EXAMPLE}")
