// Catch's runner for test programs that start their own main (test_distributed initializes MPI
// before the tests run and finalizes it after): they call run_catch_session. Compiled once,
// without optimization, like test_main.cpp; the test files themselves keep the build's flags.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int run_catch_session(int argc, char** argv) { return Catch::Session().run(argc, argv); }
