# kerascpp::mpi — data-parallel training over MPI processes (kerascpp/distributed/mpi.hpp,
# docs/distributed.md). An optional INTERFACE target over MPI's C bindings (Debian: libopenmpi-dev,
# and openmpi-bin for mpirun); without MPI it is not made, and kerascpp::kerascpp stays as it is.
option(KERASCPP_MPI "Make the kerascpp::mpi target when MPI is installed" ON)
if(NOT KERASCPP_MPI)
  return()
endif()

find_package(MPI QUIET COMPONENTS CXX)
if(NOT MPI_CXX_FOUND)
  message(STATUS "kerascpp: kerascpp::mpi (distributed training) skipped: MPI not found (Debian: libopenmpi-dev openmpi-bin)")
  return()
endif()

add_library(kerascpp_mpi INTERFACE)
add_library(kerascpp::mpi ALIAS kerascpp_mpi)
set_target_properties(kerascpp_mpi PROPERTIES EXPORT_NAME mpi)
target_link_libraries(kerascpp_mpi INTERFACE kerascpp MPI::MPI_CXX)
message(STATUS "kerascpp: kerascpp::mpi (distributed training) with MPI ${MPI_CXX_VERSION}, launcher ${MPIEXEC_EXECUTABLE}")
