// The instances that tests/library_instances.hpp declares, for the Scalar given by
// KERASCPP_TEST_SCALAR (tests/CMakeLists.txt compiles this file once for float, once for double).
#define KERASCPP_TEST_INSTANTIATE
#include "library_instances.hpp"

KERASCPP_TEST_LIBRARY_INSTANCES(, KERASCPP_TEST_SCALAR)
