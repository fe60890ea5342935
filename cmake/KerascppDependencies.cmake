# Finds kerascpp's dependencies where they are installed and fetches them where they are not.
include(FetchContent)
include(GNUInstallDirs)

# Eigen 3.4 (all math).
find_package(Eigen3 3.4 CONFIG QUIET)
if(NOT TARGET Eigen3::Eigen)
  message(STATUS "kerascpp: Eigen 3.4 not installed, fetching it")
  FetchContent_Declare(kerascpp_eigen
    URL https://gitlab.com/libeigen/eigen/-/archive/3.4.0/eigen-3.4.0.tar.gz
    URL_HASH SHA256=8586084f71f9bde545ee7fa6d00288b264a2b7ac3607b974e54d13e7162c1c72)
  FetchContent_GetProperties(kerascpp_eigen)
  if(NOT kerascpp_eigen_POPULATED)
    FetchContent_Populate(kerascpp_eigen)
  endif()
  add_library(Eigen3::Eigen INTERFACE IMPORTED GLOBAL)
  target_include_directories(Eigen3::Eigen INTERFACE ${kerascpp_eigen_SOURCE_DIR})
endif()

# fast-cpp-csv-parser (CSV reading): Debian installs it as libfccp/csv.h, upstream ships csv.h.
# kerascpp/data/csv.hpp includes <libfccp/csv.h> when it exists and <csv.h> otherwise.
find_path(KERASCPP_FCCP_INCLUDE_DIR NAMES libfccp/csv.h)
if(NOT KERASCPP_FCCP_INCLUDE_DIR)
  find_path(KERASCPP_FCCP_INCLUDE_DIR NAMES csv.h PATH_SUFFIXES fast-cpp-csv-parser)
endif()
if(NOT KERASCPP_FCCP_INCLUDE_DIR)
  message(STATUS "kerascpp: fast-cpp-csv-parser not installed, fetching it")
  FetchContent_Declare(kerascpp_fccp
    GIT_REPOSITORY https://github.com/ben-strasser/fast-cpp-csv-parser.git
    GIT_TAG 4ade42d5f8c454c6c57b3dce9c51c6dd02182a66)
  FetchContent_GetProperties(kerascpp_fccp)
  if(NOT kerascpp_fccp_POPULATED)
    FetchContent_Populate(kerascpp_fccp)
  endif()
  set(KERASCPP_FCCP_INCLUDE_DIR ${kerascpp_fccp_SOURCE_DIR} CACHE PATH "" FORCE)
endif()
find_package(Threads REQUIRED)
add_library(kerascpp_fccp INTERFACE)
target_include_directories(kerascpp_fccp INTERFACE $<BUILD_INTERFACE:${KERASCPP_FCCP_INCLUDE_DIR}>)
target_link_libraries(kerascpp_fccp INTERFACE Threads::Threads)

# Catch2 v2 (tests only).
if(KERASCPP_BUILD_TESTS)
  find_package(Catch2 2 CONFIG QUIET)
  if(NOT TARGET Catch2::Catch2)
    message(STATUS "kerascpp: Catch2 v2 not installed, fetching it")
    FetchContent_Declare(kerascpp_catch2
      GIT_REPOSITORY https://github.com/catchorg/Catch2.git
      GIT_TAG v2.13.10)
    FetchContent_MakeAvailable(kerascpp_catch2)
    list(APPEND CMAKE_MODULE_PATH ${kerascpp_catch2_SOURCE_DIR}/contrib)
  endif()
endif()
