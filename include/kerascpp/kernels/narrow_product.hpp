// kerascpp/kernels/narrow_product.hpp — matrix products for Dense: Eigen's blocked product without
// its tiny-size path, and register-blocked kernels for results 1 or 4 wide, where Eigen's packing
// costs more than the product.
#pragma once

#include <kerascpp/core.hpp>

#include <Eigen/Core>

#include <cmath>
#include <type_traits>
#include <utility>

namespace kerascpp::detail {

/// x·y + z with one rounding where the hardware has a fused multiply-add, so that every caller sees the
/// same roundings whatever the compiler contracts.
template <typename Scalar>
Scalar multiply_add(Scalar x, Scalar y, Scalar z) {
#if defined(FP_FAST_FMA) && defined(FP_FAST_FMAF)
  return std::fma(x, y, z);
#else
  return x * y + z;
#endif
}

/// dst = lhs·rhs by Eigen's blocked matrix product (or its matrix–vector product when one side is a
/// vector), never by its coefficient-wise product for tiny sizes: that third path would be compiled
/// into every program for each product shape and only pays for sizes that narrow_product or a
/// batch of one meet.
template <typename Dst, typename Lhs, typename Rhs>
void product(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  using Product = Eigen::internal::generic_product_impl<Lhs, Rhs, Eigen::DenseShape, Eigen::DenseShape, Eigen::GemmProduct>;
  dst.setZero();
  Product::scaleAndAddTo(dst, lhs, rhs, typename Lhs::Scalar(1));
}

/// Calls f(std::integral_constant<int, i>{}) for i = 0 … N−1, unrolled at compile time.
template <int N, typename F>
EIGEN_ALWAYS_INLINE void unrolled(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }(
      std::make_integer_sequence<int, N>{});
}

/// c (NR × U) = Σ_d a(r, d)·b(d, :), then + init (1 × U) when given and max(·, 0) when relu, with
/// a(r, d) = a[r·rs + d·ds] and b (depth × U) row-major. The NR·U sums are Eigen packets indexed only
/// by compile-time constants, so that they live in registers, with explicit multiply-adds (so a row's
/// result does not depend on the code path the compiler chose for its block); with SplitDepth,
/// 8/NR partial sums over alternating d keep enough multiply-adds in flight for few rows.
template <int U, int NR, bool SplitDepth, typename Scalar>
void narrow_product_block(Index depth, const Scalar* a, Index rs, Index ds, const Scalar* b, Scalar* c,
                          const Scalar* init, bool relu) {
  namespace ei = Eigen::internal;
  using Packet = std::conditional_t<U == 1, Scalar, typename ei::find_best_packet<Scalar, U>::type>;
  constexpr int L = U == 1 ? 1 : ei::unpacket_traits<Packet>::size;  // lanes per packet
  constexpr int K = U / L;                                            // packets per row
  constexpr int P = SplitDepth && NR < 8 ? 8 / NR : 1;                // partial sums over d
  static_assert(K * L == U, "narrow_product_block: U must be a whole number of packets");
  Packet acc[P][NR][K];
  unrolled<P * NR * K>([&](auto i) { acc[i / (NR * K)][i / K % NR][i % K] = ei::pset1<Packet>(Scalar(0)); });
  const auto step = [&](auto p, const Scalar* ad, const Scalar* bd) {  // acc[p] += a(:, d)·b(d, :)
    Packet bp[K];
    unrolled<K>([&](auto k) { bp[k] = ei::ploadu<Packet>(bd + k * L); });
    unrolled<NR * K>([&](auto i) {
      const Packet v = ei::pset1<Packet>(ad[(i / K) * rs]);
      if constexpr (U == 1) acc[p][i / K][i % K] = multiply_add(v, bp[i % K], acc[p][i / K][i % K]);
      else acc[p][i / K][i % K] = ei::pmadd(v, bp[i % K], acc[p][i / K][i % K]);
    });
  };
  const Scalar* ad = a;  // a(0, d)
  const Scalar* bd = b;  // b(d, 0)
  const Index end = depth - depth % P;
  for (Index d = 0; d < end; d += P)
    unrolled<P>([&](auto p) {
      step(p, ad, bd);
      ad += ds;
      bd += U;
    });
  for (Index d = end; d < depth; ++d, ad += ds, bd += U) step(std::integral_constant<int, 0>{}, ad, bd);
  unrolled<NR * K>([&](auto i) {
    Packet v = acc[0][i / K][i % K];
    unrolled<P - 1>([&](auto p) { v = ei::padd(v, acc[p + 1][i / K][i % K]); });
    if (init) v = ei::padd(v, ei::ploadu<Packet>(init + (i % K) * L));
    if (relu) v = ei::pmax(v, ei::pset1<Packet>(Scalar(0)));
    ei::pstoreu(c + (i / K) * U + (i % K) * L, v);
  });
}

/// c (rows × U) = a·b (+ init, relu) as above, 8 rows at a time, then 4, 2, 1. Without SplitDepth every
/// row is summed in the same order wherever it falls, so a sample's result does not depend on its batch.
template <int U, bool SplitDepth, typename Scalar>
void narrow_product(Index rows, Index depth, const Scalar* a, Index rs, Index ds, const Scalar* b, Scalar* c,
                    const Scalar* init, bool relu) {
  Index r = 0;
  for (; r + 8 <= rows; r += 8) narrow_product_block<U, 8, SplitDepth>(depth, a + r * rs, rs, ds, b, c + r * U, init, relu);
  if (r + 4 <= rows) {
    narrow_product_block<U, 4, SplitDepth>(depth, a + r * rs, rs, ds, b, c + r * U, init, relu);
    r += 4;
  }
  if (r + 2 <= rows) {
    narrow_product_block<U, 2, SplitDepth>(depth, a + r * rs, rs, ds, b, c + r * U, init, relu);
    r += 2;
  }
  if (r < rows) narrow_product_block<U, 1, SplitDepth>(depth, a + r * rs, rs, ds, b, c + r * U, init, relu);
}

/// Whether a product whose result is `width` wide, with sums of `depth` terms, goes to narrow_product:
/// width 4 beats Eigen's GEMM, whose packing costs more than such products (measured: 246×33·33×4
/// 1.4 µs against 2.5 µs); width 1 only for short sums (longer ones are dot products, which Eigen's
/// matrix–vector product does better). Widths 8 and 16 won too (128×784·784×16 27 µs against 36 µs)
/// but their kernels added about 4 s to the compile of every program that uses Dense, so they stay
/// with Eigen.
inline bool narrow(Index width, Index depth) { return width == 4 || (width == 1 && depth <= 8); }

/// narrow_product for a runtime width (one of those narrow() accepts).
template <bool SplitDepth, typename Scalar>
void narrow_product(Index width, Index rows, Index depth, const Scalar* a, Index rs, Index ds, const Scalar* b,
                    Scalar* c, const Scalar* init, bool relu) {
  switch (width) {
    case 1: return narrow_product<1, SplitDepth>(rows, depth, a, rs, ds, b, c, init, relu);
    case 4: return narrow_product<4, SplitDepth>(rows, depth, a, rs, ds, b, c, init, relu);
    default: fail("narrow_product: no kernel for width ", width);
  }
}

}  // namespace kerascpp::detail
