# Install rules: headers, the exported kerascpp::kerascpp target and a CMake package config, so
# another project can find_package(kerascpp CONFIG REQUIRED).
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(KERASCPP_CMAKE_DIR ${CMAKE_INSTALL_DATADIR}/cmake/kerascpp)
install(DIRECTORY include/kerascpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS kerascpp kerascpp_fccp EXPORT kerascppTargets)
install(EXPORT kerascppTargets NAMESPACE kerascpp:: DESTINATION ${KERASCPP_CMAKE_DIR})
configure_package_config_file(cmake/kerascppConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/kerascppConfig.cmake
  INSTALL_DESTINATION ${KERASCPP_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/kerascppConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kerascppConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/kerascppConfigVersion.cmake
  DESTINATION ${KERASCPP_CMAKE_DIR})

# kerascpp::keras_files, when made: its own export file, loaded by the package config when present.
if(TARGET kerascpp_keras_files)
  install(TARGETS kerascpp_keras_files EXPORT kerascppKerasFilesTargets)
  install(EXPORT kerascppKerasFilesTargets NAMESPACE kerascpp:: DESTINATION ${KERASCPP_CMAKE_DIR})
endif()

# kerascpp::mpi, when made: its own export file, loaded by the package config when MPI is found.
if(TARGET kerascpp_mpi)
  install(TARGETS kerascpp_mpi EXPORT kerascppMpiTargets)
  install(EXPORT kerascppMpiTargets NAMESPACE kerascpp:: DESTINATION ${KERASCPP_CMAKE_DIR})
endif()
