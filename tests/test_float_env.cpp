// Tests of the build type and floating-point environment headers (docs/api.md, "Build type and
// floating-point environment"): kerascpp/float_env.hpp's FlushSubnormalsScope flushes subnormal
// arithmetic to zero inside the scope and restores the caller's exact control state after it,
// nested and on an exception; kerascpp/build_info.hpp's warning follows the build's optimization.
// tests/CMakeLists.txt builds this file twice, as test_float_env with the tests' flags and as
// test_float_env_O0 without optimization, so both sides of the warning run.
#include <kerascpp/build_info.hpp>
#include <kerascpp/float_env.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_float_env {

using kerascpp::detail::FlushSubnormalsScope;

namespace {

// Operands go through volatile variables so that the compiler computes at run time, under the
// floating-point mode in force, instead of folding the arithmetic at compile time.
template <typename T>
T halve(T x) {
  volatile T in = x;
  volatile T two = 2;
  volatile T out = in / two;
  return out;
}

template <typename T>
T times_one(T x) {
  volatile T in = x;
  volatile T one = 1;
  volatile T out = in * one;
  return out;
}

template <typename T>
void check_normal_arithmetic_keeps_subnormals() {
  const T smallest_normal = std::numeric_limits<T>::min();
  const T subnormal = std::numeric_limits<T>::denorm_min();
  CHECK(halve(smallest_normal) == smallest_normal / 2);
  CHECK(halve(smallest_normal) > 0);
  CHECK(times_one(subnormal) == subnormal);
}

template <typename T>
void check_flushing() {
  const T smallest_normal = std::numeric_limits<T>::min();
  CHECK(halve(smallest_normal) == 0);                        // FTZ: a subnormal result becomes 0
  CHECK(times_one(std::numeric_limits<T>::denorm_min()) == 0);  // DAZ: a subnormal operand reads as 0
  CHECK(times_one(smallest_normal) == smallest_normal);      // normal numbers are untouched
}

bool flushing() { return halve(std::numeric_limits<float>::min()) == 0.0f; }

#if defined(KERASCPP_FLOAT_ENV_X86)
constexpr unsigned int exception_flags = 0x3Fu;  // MXCSR bits 0-5: IE DE ZE OE UE PE

// Restores the MXCSR a test found, whatever the test set.
struct MxcsrGuard {
  unsigned int saved = _mm_getcsr();
  ~MxcsrGuard() { _mm_setcsr(saved); }
};
#endif

}  // namespace

TEST_CASE("Without a scope subnormal floats and doubles are computed as usual", "[float_env]") {
  check_normal_arithmetic_keeps_subnormals<float>();
  check_normal_arithmetic_keeps_subnormals<double>();
}

TEST_CASE("FlushSubnormalsScope flushes subnormal results and operands to zero inside the scope", "[float_env]") {
  if constexpr (!kerascpp::detail::can_flush_subnormals) {
    WARN("this target has no flush-to-zero control: the scope is a no-op");
    FlushSubnormalsScope scope;
    check_normal_arithmetic_keeps_subnormals<float>();
  } else {
    {
      FlushSubnormalsScope scope;
      check_flushing<float>();
      check_flushing<double>();
    }
    check_normal_arithmetic_keeps_subnormals<float>();
    check_normal_arithmetic_keeps_subnormals<double>();
  }
}

TEST_CASE("FlushSubnormalsScope restores the caller's exact control state, nested and on an exception", "[float_env]") {
  if constexpr (!kerascpp::detail::can_flush_subnormals) {
    WARN("this target has no flush-to-zero control: the scope is a no-op");
  } else {
    SECTION("nested scopes: the inner one leaves the outer one flushing") {
      {
        FlushSubnormalsScope outer;
        CHECK(flushing());
        {
          FlushSubnormalsScope inner;
          CHECK(flushing());
        }
        CHECK(flushing());
      }
      CHECK_FALSE(flushing());
    }
    SECTION("an exception thrown inside the scope restores the state on the way out") {
      CHECK_THROWS_AS(
          [] {
            FlushSubnormalsScope scope;
            if (flushing()) throw std::runtime_error("inside the scope");
          }(),
          std::runtime_error);
      CHECK_FALSE(flushing());
    }
#if defined(KERASCPP_FLOAT_ENV_X86)
    SECTION("x86: a caller's unusual MXCSR comes back bit for bit, its own flags included") {
      MxcsrGuard guard;
      // Round toward zero (bits 13-14) and the caller's own sticky inexact flag (bit 5) set: neither
      // is the default, and both must survive the scope.
      const unsigned int caller = (guard.saved & ~exception_flags & ~0x6000u) | 0x6000u | 0x20u;
      _mm_setcsr(caller);
      {
        FlushSubnormalsScope scope;
        CHECK((_mm_getcsr() & 0x8040u) == 0x8040u);
        CHECK((_mm_getcsr() & 0x6000u) == 0x6000u);  // the rounding mode is left alone
        CHECK(halve(std::numeric_limits<float>::min()) == 0.0f);
      }
      CHECK(_mm_getcsr() == caller);
      {
        FlushSubnormalsScope outer;
        {
          FlushSubnormalsScope inner;
          CHECK(halve(std::numeric_limits<double>::min()) == 0.0);
        }
        CHECK(_mm_getcsr() == (caller | 0x8040u));
      }
      CHECK(_mm_getcsr() == caller);
      try {
        FlushSubnormalsScope scope;
        throw std::runtime_error("inside the scope");
      } catch (const std::runtime_error&) {
      }
      CHECK(_mm_getcsr() == caller);
    }
    SECTION("x86: a caller that already flushes keeps flushing after the scope") {
      MxcsrGuard guard;
      const unsigned int caller = guard.saved | 0x8040u;
      _mm_setcsr(caller);
      { FlushSubnormalsScope scope; }
      CHECK(_mm_getcsr() == caller);
      CHECK(flushing());
    }
#endif
  }
}

TEST_CASE("warn_if_unoptimized prints once per process, and only in an unoptimized build", "[build_info]") {
  std::ostringstream first, second;
  const bool printed = kerascpp::detail::warn_if_unoptimized(first);
  CHECK_FALSE(kerascpp::detail::warn_if_unoptimized(second));
  CHECK(second.str().empty());
#if defined(KERASCPP_NO_UNOPTIMIZED_WARNING)
  CHECK_FALSE(printed);
#else
  CHECK(printed == !kerascpp::detail::optimized_build);
#endif
  if (printed) {
    CHECK(first.str() == std::string(kerascpp::detail::unoptimized_warning) + "\n");
  } else {
    CHECK(first.str().empty());
  }
#if defined(__OPTIMIZE__)
  CHECK(kerascpp::detail::optimized_build);
#elif defined(__GNUC__)
  CHECK_FALSE(kerascpp::detail::optimized_build);
#endif
}

TEST_CASE("The unoptimized-build warning says how slow, how to build and how to silence it", "[build_info]") {
  const std::string message = kerascpp::detail::unoptimized_warning;
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find("without optimization") != std::string::npos);
  CHECK(message.find("160x slower") != std::string::npos);
  CHECK(message.find("-DCMAKE_BUILD_TYPE=Release") != std::string::npos);
  CHECK(message.find("-O2") != std::string::npos);
  CHECK(message.find("KERASCPP_NO_UNOPTIMIZED_WARNING") != std::string::npos);
}

}  // namespace test_float_env
