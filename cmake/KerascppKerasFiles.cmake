# kerascpp::keras_files — reading and writing Keras's own model files (kerascpp/keras_files.hpp,
# docs/keras_files.md). An optional INTERFACE target over the HDF5 C library, libzip and
# nlohmann/json (Debian: libhdf5-dev, libzip-dev, nlohmann-json3-dev); without one of them it is
# not made, and kerascpp::kerascpp stays as it is.
option(KERASCPP_KERAS_FILES "Make the kerascpp::keras_files target when HDF5, libzip and nlohmann/json are installed" ON)
if(NOT KERASCPP_KERAS_FILES)
  return()
endif()

find_package(HDF5 QUIET COMPONENTS C)
find_package(libzip CONFIG QUIET)
find_package(nlohmann_json 3.2 CONFIG QUIET)
set(kerascpp_keras_files_missing "")
if(NOT HDF5_FOUND OR NOT TARGET HDF5::HDF5)
  list(APPEND kerascpp_keras_files_missing "the HDF5 C library (Debian: libhdf5-dev)")
endif()
if(NOT TARGET libzip::zip)
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
target_link_libraries(kerascpp_keras_files INTERFACE kerascpp HDF5::HDF5 libzip::zip nlohmann_json::nlohmann_json)
message(STATUS "kerascpp: kerascpp::keras_files (Keras model files) with HDF5 ${HDF5_VERSION}")
