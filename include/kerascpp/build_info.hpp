// kerascpp/build_info.hpp — how the program that includes kerascpp was compiled, and a warning,
// printed once per process, when it was compiled without optimization: Eigen's templates then run
// as plain function calls and training is about 160 times slower than in a Release build.
#pragma once

#include <atomic>
#include <ostream>

namespace kerascpp {
namespace detail {

/// Whether the translation unit that includes this header is compiled with optimization.
/// GCC and Clang define __OPTIMIZE__ at -O1 and above. MSVC defines no such macro; its /Od builds
/// are the ones that link the debug runtime (/MDd, /MTd), which defines _DEBUG.
inline constexpr bool optimized_build =
#if defined(__GNUC__) || defined(__clang__)
#if defined(__OPTIMIZE__)
    true;
#else
    false;
#endif
#elif defined(_MSC_VER)
#if defined(_DEBUG)
    false;
#else
    true;
#endif
#else
    true;
#endif

/// The line warn_if_unoptimized prints (without the newline).
inline constexpr const char* unoptimized_warning =
    "kerascpp: this program was compiled without optimization, so training runs about 160x slower "
    "than in an optimized build; build it with -DCMAKE_BUILD_TYPE=Release (or the compiler flag -O2 "
    "or -O3, /O2 for MSVC), or define KERASCPP_NO_UNOPTIMIZED_WARNING to silence this line";

/// Prints unoptimized_warning and a newline to `out` the first time it is called in the process,
/// when kerascpp is compiled without optimization and KERASCPP_NO_UNOPTIMIZED_WARNING is not
/// defined; otherwise does nothing. Returns whether this call printed. Safe to call from several
/// threads at once: exactly one of the first callers prints.
inline bool warn_if_unoptimized(std::ostream& out) {
#if defined(KERASCPP_NO_UNOPTIMIZED_WARNING)
  static_cast<void>(out);
  return false;
#else
  if constexpr (optimized_build) {
    static_cast<void>(out);
    return false;
  } else {
    static std::atomic<bool> warned{false};
    if (warned.exchange(true)) return false;
    out << unoptimized_warning << '\n';
    return true;
  }
#endif
}

}  // namespace detail
}  // namespace kerascpp
