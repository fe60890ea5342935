// kerascpp/threads.hpp — how many threads Eigen's matrix products may use.
#pragma once

#include <kerascpp/core.hpp>

namespace kerascpp {

/// Sets the number of threads for matrix products. Takes effect when the program is built with
/// OpenMP (KERASCPP_OPENMP); without it products always run on one thread.
inline void set_num_threads(int n) {
  if (n <= 0) detail::fail("set_num_threads: n must be positive, received n=", n);
  Eigen::setNbThreads(n);
}

inline int get_num_threads() { return Eigen::nbThreads(); }

}  // namespace kerascpp
