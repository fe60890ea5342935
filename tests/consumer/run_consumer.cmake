# Installs kerascpp from BINARY_DIR into a scratch prefix, then configures, builds and runs the
# consumer project against it (MODE=install), or against the source tree (MODE=subdirectory).
# The consumer is built as a user would: with CXX_COMPILER (the compiler of the kerascpp build
# that runs this test), no build type given (the project's own default applies) and
# -Wall -Wextra -Wpedantic -Werror, which kerascpp's headers must pass.
set(work ${WORK_DIR}/${MODE})
file(REMOVE_RECURSE ${work})
# The add_subdirectory consumer builds the README's program; the installed one a small program of
# its own (tests/consumer/installed.cpp): installed headers are system headers to the user's build,
# so there the program checks the installation, not the warnings.
if(MODE STREQUAL "install")
  set(program ${SOURCE_DIR}/tests/consumer/installed.cpp)
else()
  set(program ${SOURCE_DIR}/examples/00_quickstart.cpp)
endif()
set(args -DQUICKSTART=${program} -DDATA_DIR=${SOURCE_DIR}/data
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wpedantic -Werror")
if(MODE STREQUAL "install")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/prefix
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "installing kerascpp failed: ${rc}")
  endif()
  list(APPEND args -DCMAKE_PREFIX_PATH=${work}/prefix)
else()
  list(APPEND args -DKERASCPP_SOURCE_DIR=${SOURCE_DIR})
endif()
foreach(step IN ITEMS configure build run)
  if(step STREQUAL "configure")
    set(command ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${work}/build ${args})
  elseif(step STREQUAL "build")
    set(command ${CMAKE_COMMAND} --build ${work}/build)
  else()
    set(command ${work}/build/consumer)
  endif()
  execute_process(COMMAND ${command} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "consumer (${MODE}) ${step} step failed: ${rc}")
  endif()
endforeach()
