# examples/compare_data_parallel.cmake — runs lesson 3 alone and its data-parallel version on two
# processes for 3 epochs with the same seed, and fails unless both print the same final
# validation MAE line.
#
#   cmake -DMPIEXEC=mpiexec -DNUMPROC_FLAG=-n -DONE=03_sgd_red_wine -DMANY=07_data_parallel_red_wine
#         -DOUT=<folder> -P compare_data_parallel.cmake
foreach(var IN ITEMS MPIEXEC NUMPROC_FLAG ONE MANY OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compare_data_parallel: pass -D${var}=...")
  endif()
endforeach()

execute_process(COMMAND ${ONE} --epochs 3 --quiet --out ${OUT}/03_for_07
                OUTPUT_VARIABLE one RESULT_VARIABLE one_result)
execute_process(COMMAND ${MPIEXEC} ${NUMPROC_FLAG} 2 --oversubscribe ${MANY} --epochs 3 --quiet --out ${OUT}/07_data_parallel_red_wine
                OUTPUT_VARIABLE many RESULT_VARIABLE many_result ERROR_VARIABLE many_errors)
if(NOT one_result EQUAL 0 OR NOT many_result EQUAL 0)
  message(FATAL_ERROR "compare_data_parallel: a run failed (one process: ${one_result}, two: ${many_result})\n${many_errors}")
endif()
string(REGEX MATCH "Validation MAE after [^\n]*" one_line "${one}")
string(REGEX MATCH "Validation MAE after [^\n]*" many_line "${many}")
if(NOT one_line OR NOT one_line STREQUAL many_line)
  message(FATAL_ERROR "compare_data_parallel: one process printed '${one_line}', two printed '${many_line}'")
endif()
message(STATUS "both print: ${one_line}")
