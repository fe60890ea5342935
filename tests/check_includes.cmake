# tests/check_includes.cmake — dependencies between kerascpp's headers point one way.
#
#   cmake -DINCLUDE_DIR=<repo>/include -P tests/check_includes.cmake
#
# Every header under include/kerascpp gets a floor from the table below; a header may include
# headers of its own floor or of lower floors, never of a higher one, and the includes must form
# no cycle. Fails naming both files of an upward include, every file of a cycle, an include of a
# kerascpp header that does not exist, and a header the table does not place.

# floor number, floor name, then the headers on it (relative to include/kerascpp; "dir/*" is every
# header of that folder).
set(FLOOR_0 core        core.hpp weights.hpp reduction.hpp registry.hpp io.hpp threads.hpp build_info.hpp float_env.hpp py_dataset.hpp data/*)
set(FLOOR_1 kernels     kernels/*)
set(FLOOR_2 elementwise activations.hpp initializers.hpp regularizers.hpp)
set(FLOOR_3 families    layers/* layers.hpp losses.hpp metrics/* metrics.hpp optimizers/* optimizers.hpp)
# The engine runs callbacks and the progress bar, so the Callback interface sits below it.
set(FLOOR_4 callbacks   callbacks.hpp progress.hpp)
set(FLOOR_5 engine      engine/*)
set(FLOOR_6 model       sequential.hpp summary.hpp)
set(FLOOR_7 on-models   saving/* serialization.hpp callbacks/* plot.hpp plot/* classification_report.hpp keras/* keras_files.hpp)
set(FLOOR_8 umbrella    kerascpp.hpp data.hpp)
# Optional layers over the whole library, each behind its own CMake target.
set(FLOOR_9 optional    distributed/*)
set(FLOOR_COUNT 10)

cmake_minimum_required(VERSION 3.21)

if(NOT DEFINED INCLUDE_DIR)
  message(FATAL_ERROR "check_includes: pass -DINCLUDE_DIR=<repository>/include")
endif()
set(root "${INCLUDE_DIR}/kerascpp")
if(NOT IS_DIRECTORY "${root}")
  message(FATAL_ERROR "check_includes: ${root} is not a folder")
endif()

# floor_of(<header> <out-number> <out-name>): the floor of a header, or -1 when the table lacks it.
function(floor_of header out_number out_name)
  get_filename_component(folder "${header}" DIRECTORY)
  math(EXPR last "${FLOOR_COUNT} - 1")
  foreach(f RANGE ${last})
    set(entries ${FLOOR_${f}})
    list(GET entries 0 name)
    list(REMOVE_AT entries 0)
    foreach(entry IN LISTS entries)
      if(entry STREQUAL header OR (folder AND entry STREQUAL "${folder}/*"))
        set(${out_number} ${f} PARENT_SCOPE)
        set(${out_name} ${name} PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
  set(${out_number} -1 PARENT_SCOPE)
  set(${out_name} "" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE headers RELATIVE "${root}" "${root}/*.hpp")
list(SORT headers)
set(errors "")

# Edges: for header h, the variable "includes_<h>" lists the kerascpp headers it includes.
foreach(h IN LISTS headers)
  floor_of("${h}" h_floor h_name)
  if(h_floor EQUAL -1)
    string(APPEND errors "  kerascpp/${h} has no floor: add it to the floor table in tests/check_includes.cmake\n")
    continue()
  endif()
  file(STRINGS "${root}/${h}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]kerascpp/")
  set(includes_${h} "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]kerascpp/([^>\"]+)[>\"].*$" "\\1" target "${line}")
    if(NOT EXISTS "${root}/${target}")
      string(APPEND errors "  kerascpp/${h} includes kerascpp/${target}, which does not exist\n")
      continue()
    endif()
    list(APPEND includes_${h} "${target}")
    floor_of("${target}" t_floor t_name)
    if(t_floor GREATER h_floor)
      string(APPEND errors "  upward include: kerascpp/${h} (floor ${h_floor} ${h_name}) includes kerascpp/${target} "
                           "(floor ${t_floor} ${t_name})\n")
    endif()
  endforeach()
endforeach()

# Cycles: peel off headers whose includes are all peeled; whatever remains holds a cycle, which is
# found by walking includes among the remaining headers until one repeats.
set(remaining ${headers})
set(progress TRUE)
while(progress)
  set(progress FALSE)
  set(next "")
  foreach(h IN LISTS remaining)
    set(blocked FALSE)
    foreach(t IN LISTS includes_${h})
      if(t IN_LIST remaining)
        set(blocked TRUE)
        break()
      endif()
    endforeach()
    if(blocked)
      list(APPEND next "${h}")
    else()
      set(progress TRUE)
    endif()
  endforeach()
  set(remaining ${next})
endwhile()
if(remaining)
  list(GET remaining 0 at)
  set(path "")
  while(NOT at IN_LIST path)
    list(APPEND path "${at}")
    foreach(t IN LISTS includes_${at})
      if(t IN_LIST remaining)
        set(at "${t}")
        break()
      endif()
    endforeach()
  endwhile()
  list(FIND path "${at}" start)
  list(SUBLIST path ${start} -1 cycle)
  list(APPEND cycle "${at}")
  list(TRANSFORM cycle PREPEND "kerascpp/")
  list(JOIN cycle " -> " cycle_text)
  string(APPEND errors "  include cycle: ${cycle_text}\n")
endif()

list(LENGTH headers count)
if(errors)
  message(FATAL_ERROR "check_includes: headers must include only their own floor or lower ones "
                      "(core < kernels < elementwise < families < callbacks < engine < model < on-models < umbrella < optional):\n"
                      "${errors}")
endif()
message(STATUS "check_includes: ${count} headers, every include points to the same floor or a lower one, no cycles")
