# tests/extract_doc_examples.cmake — copies the tagged C++ examples of a Markdown page into
# headers that a test compiles, so that the page's code cannot rot.
#
# A tagged example is a fenced block whose first line names it:
#
#   ```cpp
#   // extending.md: layer
#   ...
#   ```
#
# kerascpp_extract_doc_examples(DOC <page.md> OUTPUT_DIR <dir> NAMES <name>...) writes the blocks
# tagged <name> (concatenated in page order, when there are several) to <dir>/<name>.hpp, each
# block behind a #line directive so that compiler messages point into the page. Every name in
# NAMES must have a block, and every block's name must be in NAMES. A file is rewritten only when
# its content changes, and CMake configures again whenever the page changes.

function(kerascpp_extract_doc_examples)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "DOC;OUTPUT_DIR" "NAMES")
  if(NOT arg_DOC OR NOT arg_OUTPUT_DIR OR NOT arg_NAMES)
    message(FATAL_ERROR "kerascpp_extract_doc_examples: DOC, OUTPUT_DIR and NAMES are required")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${arg_DOC})
  get_filename_component(page ${arg_DOC} NAME)
  file(READ ${arg_DOC} text)

  set(opening "```cpp\n// ${page}: ")
  string(LENGTH "```cpp\n" fence_length)
  set(line 1)          # line number of the start of `text` in the page
  set(found_names)
  while(TRUE)
    string(FIND "${text}" "${opening}" start)
    if(start EQUAL -1)
      break()
    endif()
    # Lines up to the block's first line (the tag comment).
    math(EXPR code_start "${start} + ${fence_length}")
    string(SUBSTRING "${text}" 0 ${code_start} before)
    string(REPLACE "\n" "" before_joined "${before}")
    string(LENGTH "${before}" before_length)
    string(LENGTH "${before_joined}" before_joined_length)
    math(EXPR line "${line} + ${before_length} - ${before_joined_length}")
    string(SUBSTRING "${text}" ${code_start} -1 text)

    string(REGEX MATCH "^// [^:\n]+: ([A-Za-z0-9_]+)\n" tag "${text}")
    if(NOT tag)
      message(FATAL_ERROR "${arg_DOC}:${line}: the tag must read '// ${page}: <name>' with a name of letters, digits and _")
    endif()
    set(name ${CMAKE_MATCH_1})
    if(NOT name IN_LIST arg_NAMES)
      message(FATAL_ERROR "${arg_DOC}:${line}: example '${name}' is not one of the names the test expects (${arg_NAMES})")
    endif()

    string(FIND "${text}" "\n```" end)
    if(end EQUAL -1)
      message(FATAL_ERROR "${arg_DOC}:${line}: the block of example '${name}' is not closed")
    endif()
    math(EXPR code_length "${end} + 1")
    string(SUBSTRING "${text}" 0 ${code_length} code)
    string(APPEND code_${name} "#line ${line} \"${arg_DOC}\"\n${code}")
    list(APPEND found_names ${name})

    string(REPLACE "\n" "" code_joined "${code}")
    string(LENGTH "${code_joined}" code_joined_length)
    math(EXPR line "${line} + ${code_length} - ${code_joined_length}")
    string(SUBSTRING "${text}" ${code_length} -1 text)
  endwhile()

  file(MAKE_DIRECTORY ${arg_OUTPUT_DIR})
  foreach(name IN LISTS arg_NAMES)
    if(NOT name IN_LIST found_names)
      message(FATAL_ERROR "${arg_DOC}: no example is tagged '// ${page}: ${name}'")
    endif()
    set(content "// Generated from ${arg_DOC} by tests/extract_doc_examples.cmake; edit the page, not this file.\n")
    string(APPEND content "${code_${name}}")
    set(output ${arg_OUTPUT_DIR}/${name}.hpp)
    set(old "")
    if(EXISTS ${output})
      file(READ ${output} old)
    endif()
    if(NOT old STREQUAL content)
      file(WRITE ${output} "${content}")
    endif()
  endforeach()
endfunction()
