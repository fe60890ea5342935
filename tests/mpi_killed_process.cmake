# tests/mpi_killed_process.cmake — a process of a distributed fit killed with SIGKILL, then the
# training resumed from the last checkpoint on more processes.
#
#   cmake -DMPIEXEC=mpiexec -DNUMPROC_FLAG=-n -DPROGRAM=<test_distributed> -DKILL=last|chief_while_saving
#         -DWORK_DIR=<empty folder to use> [-DPREFLAGS=...] [-DPOSTFLAGS=...] -P tests/mpi_killed_process.cmake
#
# 1. 2 processes run test_distributed's "[.mpi_killed]" case: 5 epochs with a checkpoint after
#    every epoch and a CSV log; at the start of epoch 3 the last process raises SIGKILL (KILL=last),
#    or process 0 does so halfway through replacing the checkpoint of epoch 2 (KILL=chief_while_saving).
#    mpiexec must end with a non-zero status within 60 s and name the killed process and the signal;
#    the checkpoints of epochs 1 and 2 exist and none of epoch 3.
# 2. 3 processes run the "[.mpi_resume]" case, which resumes from the checkpoint of epoch 2 and
#    checks History, log and weights against a run that was not killed; it must succeed.
cmake_minimum_required(VERSION 3.21)

foreach(name IN ITEMS MPIEXEC NUMPROC_FLAG PROGRAM KILL WORK_DIR)
  if(NOT DEFINED ${name})
    message(FATAL_ERROR "mpi_killed_process: pass -D${name}=...")
  endif()
endforeach()
if(KILL STREQUAL "last")
  set(killed_rank 1)
elseif(KILL STREQUAL "chief_while_saving")
  set(killed_rank 0)
else()
  message(FATAL_ERROR "mpi_killed_process: KILL must be last or chief_while_saving, received '${KILL}'")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(ENV{KERASCPP_TEST_FOLDER} "${WORK_DIR}")
set(ENV{KERASCPP_TEST_KILL} "${KILL}")

# run(<processes> <Catch test spec> <out-result> <out-output>): the program under mpiexec, at most 60 s.
function(run processes spec out_result out_output)
  execute_process(COMMAND ${MPIEXEC} ${NUMPROC_FLAG} ${processes} --oversubscribe ${PREFLAGS} ${PROGRAM} ${POSTFLAGS} ${spec}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output TIMEOUT 60)
  set(${out_result} "${result}" PARENT_SCOPE)
  set(${out_output} "${output}" PARENT_SCOPE)
endfunction()

run(2 "[.mpi_killed]" result output)
message("--- the killed job (2 processes) ---\n${output}")
if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "mpi_killed_process: the job with a killed process did not end: ${result}")
endif()
if(result EQUAL 0)
  message(FATAL_ERROR "mpi_killed_process: mpiexec returned 0, expected a failure since process ${killed_rank} was killed")
endif()
set(report "process rank ${killed_rank} with PID [0-9]+ on node [^ ]+ exited on signal 9 \\(Killed\\)")
if(NOT output MATCHES "${report}")
  message(FATAL_ERROR "mpi_killed_process: mpiexec's output does not say that process ${killed_rank} was killed "
                      "(expected it to match '${report}')")
endif()

file(GLOB checkpoints RELATIVE "${WORK_DIR}" "${WORK_DIR}/epoch-*.kcpp")
list(SORT checkpoints)
if(NOT checkpoints STREQUAL "epoch-01.kcpp;epoch-02.kcpp")
  message(FATAL_ERROR "mpi_killed_process: expected the checkpoints epoch-01.kcpp and epoch-02.kcpp, found '${checkpoints}'")
endif()
if(KILL STREQUAL "chief_while_saving")
  # The kill came while the replacement of epoch-02.kcpp was half written: its temporary file stays.
  file(GLOB partial RELATIVE "${WORK_DIR}" "${WORK_DIR}/.epoch-02.kcpp.tmp.*")
  if(NOT partial)
    message(FATAL_ERROR "mpi_killed_process: no temporary file of the interrupted replacement of epoch-02.kcpp; "
                        "process 0 was not killed while writing it")
  endif()
endif()

unset(ENV{KERASCPP_TEST_KILL})
run(3 "[.mpi_resume]" result output)
message("--- the resumed job (3 processes) ---\n${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "mpi_killed_process: the resumed job failed: ${result}")
endif()
