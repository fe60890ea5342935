# kerascpp::keras_files — reading and writing Keras's own model files (kerascpp/keras_files.hpp,
# docs/keras_files.md). An optional INTERFACE target over the HDF5 C library, libzip and
# nlohmann/json (Debian: libhdf5-dev, libzip-dev, nlohmann-json3-dev); without one of them it is
# not made, and kerascpp::kerascpp stays as it is.
option(KERASCPP_KERAS_FILES "Make the kerascpp::keras_files target when HDF5, libzip and nlohmann/json are installed" ON)
if(NOT KERASCPP_KERAS_FILES)
  return()
endif()

# HDF5 and libzip through pkg-config (hdf5.pc, libzip.pc): CMake's FindHDF5 test-compiles C, which
# a C++-only project has not enabled, and Debian 12's libzip CMake package refers to the zipcmp,
# zipmerge and ziptool programs, which libzip-dev does not install.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(KERASCPP_HDF5 QUIET IMPORTED_TARGET GLOBAL hdf5)
  pkg_check_modules(KERASCPP_LIBZIP QUIET IMPORTED_TARGET GLOBAL libzip)
endif()
find_package(nlohmann_json 3.2 CONFIG QUIET)
set(kerascpp_keras_files_missing "")
if(NOT PKG_CONFIG_FOUND)
  list(APPEND kerascpp_keras_files_missing "pkg-config (Debian: pkg-config)")
endif()
if(NOT TARGET PkgConfig::KERASCPP_HDF5)
  list(APPEND kerascpp_keras_files_missing "the HDF5 C library (Debian: libhdf5-dev)")
endif()
if(NOT TARGET PkgConfig::KERASCPP_LIBZIP)
  list(APPEND kerascpp_keras_files_missing "libzip (Debian: libzip-dev)")
endif()
if(NOT TARGET nlohmann_json::nlohmann_json)
  list(APPEND kerascpp_keras_files_missing "nlohmann/json 3 (Debian: nlohmann-json3-dev)")
endif()
if(kerascpp_keras_files_missing)
  list(JOIN kerascpp_keras_files_missing ", " kerascpp_keras_files_missing)
  message(STATUS "kerascpp: kerascpp::keras_files (Keras model files) skipped: missing ${kerascpp_keras_files_missing}")
  return()
endif()

add_library(kerascpp_keras_files INTERFACE)
add_library(kerascpp::keras_files ALIAS kerascpp_keras_files)
set_target_properties(kerascpp_keras_files PROPERTIES EXPORT_NAME keras_files)
target_link_libraries(kerascpp_keras_files INTERFACE kerascpp PkgConfig::KERASCPP_HDF5 PkgConfig::KERASCPP_LIBZIP
                      nlohmann_json::nlohmann_json)
message(STATUS "kerascpp: kerascpp::keras_files (Keras model files) with HDF5 ${KERASCPP_HDF5_VERSION}, libzip ${KERASCPP_LIBZIP_VERSION}")
