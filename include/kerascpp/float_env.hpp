// kerascpp/float_env.hpp — flushing subnormal floats to zero for the length of a scope.
//
// A subnormal (denormal) float is one below the smallest normal value, 1.2e-38 in float and 2.2e-308
// in double. Weights, gradients and optimizer moments that decay towards zero pass through that
// range, and most CPUs compute with subnormal operands or results tens to hundreds of times slower
// than with normal ones. Flushing them to zero changes values only below 1.2e-38 in float.
#pragma once

#include <cstdint>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <xmmintrin.h>
#define KERASCPP_FLOAT_ENV_X86 1
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define KERASCPP_FLOAT_ENV_AARCH64 1
#endif

namespace kerascpp {
namespace detail {

/// Whether FlushSubnormalsScope does anything on this target: x86 with SSE2 (every x86-64) and
/// AArch64 with GCC or Clang. Elsewhere the scope is a no-op and subnormals are computed as usual.
#if defined(KERASCPP_FLOAT_ENV_X86) || defined(KERASCPP_FLOAT_ENV_AARCH64)
inline constexpr bool can_flush_subnormals = true;
#else
inline constexpr bool can_flush_subnormals = false;
#endif

/// Makes the calling thread treat subnormal floats and doubles as zero from construction to
/// destruction, and restores the thread's previous floating-point control state on destruction
/// (also when the scope is left by an exception). Scopes nest: an inner one restores the outer
/// one's flushing state.
///
/// x86: sets MXCSR's FTZ (flush results to zero, bit 15) and DAZ (read operands as zero, bit 6),
/// which govern SSE and AVX arithmetic; x87 arithmetic (long double) is not affected. On
/// destruction the saved MXCSR is written back exactly, so exception flags raised inside the scope
/// (underflow and inexact, which flushing itself raises) do not outlive it.
/// AArch64: sets FPCR's FZ (bit 24), which flushes operands and results, and writes the saved
/// FPCR back on destruction; the exception flags live in FPSR, which the scope does not touch.
class FlushSubnormalsScope {
 public:
  FlushSubnormalsScope() noexcept : saved_(read()) { write(saved_ | flush_bits); }
  ~FlushSubnormalsScope() { write(saved_); }
  FlushSubnormalsScope(const FlushSubnormalsScope&) = delete;
  FlushSubnormalsScope& operator=(const FlushSubnormalsScope&) = delete;

 private:
#if defined(KERASCPP_FLOAT_ENV_X86)
  using State = unsigned int;
  static constexpr State flush_bits = 0x8000u | 0x0040u;  // FTZ | DAZ
  static State read() noexcept { return _mm_getcsr(); }
  static void write(State s) noexcept { _mm_setcsr(s); }
#elif defined(KERASCPP_FLOAT_ENV_AARCH64)
  using State = std::uint64_t;
  static constexpr State flush_bits = State{1} << 24;  // FZ
  static State read() noexcept {
    State s;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(s));
    return s;
  }
  static void write(State s) noexcept { __asm__ __volatile__("msr fpcr, %0" : : "r"(s)); }
#else
  using State = std::uint32_t;
  static constexpr State flush_bits = 0;
  static State read() noexcept { return 0; }
  static void write(State) noexcept {}
#endif

  State saved_;
};

}  // namespace detail
}  // namespace kerascpp
