// kerascpp/kernels/packets.hpp — the vectorised element-wise kernels that activations, losses and
// optimizers share: values go through a 64-byte aligned stack buffer in whole SIMD packets, so that
// every value takes the same instructions wherever it sits in a batch.
#pragma once

#include <kerascpp/core.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kerascpp {

namespace detail {

/// The vectorised kernels below work through a buffer on the stack: 4 KB, aligned for the widest
/// SIMD packet and filled to whole packets, so that every value goes through Eigen's packet
/// function and its result does not depend on where it sits in a batch.
template <typename Scalar>
inline constexpr Index chunk_size = 4096 / sizeof(Scalar);
template <typename Scalar>
inline constexpr Index packet_lanes = 64 / sizeof(Scalar);

/// Sums over a row are accumulated in double for float rows: as accurate as Eigen's vectorised sums of wide rows.
template <typename Scalar>
using Accumulator = decltype(Scalar() + 0.0);

/// Σ_j v_j over n values, accumulated as above.
template <typename Scalar>
Scalar sum(const Scalar* v, Index n) {
  Accumulator<Scalar> total = 0;
  for (Index j = 0; j < n; ++j) total += v[j];
  return Scalar(total);
}

template <typename Scalar>
using AlignedArrayMap = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>, Eigen::Aligned64>;

/// b = f(b) over n values, n a multiple of packet_lanes, b 64-byte aligned, with f one of Eigen's
/// vectorised array functions: the only Eigen expressions of the element-wise code.
template <typename Scalar, typename F>
void packets(Scalar* b, Index n, F f) {
  AlignedArrayMap<Scalar> a(b, n);
  a = f(a);
}

template <typename Scalar>
void exp_packets(Scalar* b, Index n) { packets(b, n, [](const auto& a) { return a.exp(); }); }  // b = e^b
template <typename Scalar>
void log1p_packets(Scalar* b, Index n) { packets(b, n, [](const auto& a) { return a.log1p(); }); }  // b = log(1 + b)
template <typename Scalar>
void tanh_packets(Scalar* b, Index n) { packets(b, n, [](const auto& a) { return a.tanh(); }); }  // b = tanh(b)
template <typename Scalar>
void sqrt_packets(Scalar* b, Index n) { packets(b, n, [](const auto& a) { return a.sqrt(); }); }  // b = sqrt(b)

/// b = e^b for b ≤ 0, as `packets`. Eigen's vectorised exp clamps its argument at about −88.7
/// (float), so where some b < −c (e^−c the smallest normal number) e^b is computed as
/// e^max(b, −c) · e^min(b + c, 0), both factors normal, and a subnormal e^b is rounded once.
template <typename Scalar>
void exp_nonpositive_packets(Scalar* b, Index n) {
  constexpr Scalar c = Scalar((1 - std::numeric_limits<Scalar>::min_exponent) * 0.69314718055994530942);  // −ln(min)
  Index below = 0;
  for (Index k = 0; k < n; ++k) below += b[k] < -c;  // a count, which the compiler vectorises
  if (below == 0) return exp_packets(b, n);
  alignas(64) Scalar low[chunk_size<Scalar>];
  for (Index k = 0; k < n; ++k) {
    low[k] = std::min(b[k] + c, Scalar(0));
    b[k] = std::max(b[k], -c);
  }
  exp_packets(b, n);
  exp_packets(low, n);
  for (Index k = 0; k < n; ++k) b[k] *= low[k];  // e^max(b, −c) · e^min(b + c, 0)
}

/// For k in [0, n), in chunks: b = load(k) in the aligned buffer (zero-filled to whole packets),
/// kernel(b, length), then store(k, b). load and store run in increasing k, each chunk's loads
/// before its stores, so store may overwrite what load read.
template <typename Scalar, typename Load, typename Kernel, typename Store>
void through_packets(Index n, Load&& load, Kernel&& kernel, Store&& store) {
  constexpr Index size = chunk_size<Scalar>, lanes = packet_lanes<Scalar>;
  alignas(64) Scalar b[size];
  for (Index start = 0; start < n; start += size) {
    const Index m = std::min(size, n - start);
    const Index padded = (m + lanes - 1) / lanes * lanes;
    for (Index k = 0; k < m; ++k) b[k] = load(start + k);
    for (Index k = m; k < padded; ++k) b[k] = Scalar(0);
    kernel(b, padded);
    for (Index k = 0; k < m; ++k) store(start + k, b[k]);
  }
}

}  // namespace detail

}  // namespace kerascpp
