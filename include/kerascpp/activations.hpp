// kerascpp/activations.hpp — element-wise activation functions and their derivatives, and the
// row-wise softmax. Inputs are pre-activations z (batch × units), outputs y (batch × units).
#pragma once

#include <kerascpp/core.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace kerascpp {

enum class Activation { linear, relu, sigmoid, tanh, softmax, elu, selu, gelu, swish, leaky_relu, softplus, hard_sigmoid };

namespace activations {

struct ActivationName {
  std::string_view name;
  Activation value;
};

inline constexpr std::array<ActivationName, 14> registry{{
    {"linear", Activation::linear},     {"relu", Activation::relu},
    {"sigmoid", Activation::sigmoid},   {"tanh", Activation::tanh},
    {"softmax", Activation::softmax},   {"elu", Activation::elu},
    {"selu", Activation::selu},         {"gelu", Activation::gelu},
    {"swish", Activation::swish},       {"silu", Activation::swish},
    {"leaky_relu", Activation::leaky_relu}, {"softplus", Activation::softplus},
    {"hard_sigmoid", Activation::hard_sigmoid}, {"", Activation::linear},
}};

/// Resolves a Keras activation name ("relu", "sigmoid", ...; "" means linear).
inline Activation get(std::string_view name) {
  for (const auto& entry : registry)
    if (entry.name == name) return entry.value;
  std::vector<std::string> names;
  for (const auto& entry : registry)
    if (!entry.name.empty()) names.emplace_back(entry.name);
  detail::fail("unknown activation '", name, "'; valid names are: ", detail::join(names));
}

inline std::string_view name(Activation a) {
  for (const auto& entry : registry)
    if (entry.value == a && !entry.name.empty()) return entry.name;
  return "linear";
}

// Keras constants.
inline constexpr double selu_alpha = 1.6732632423543772848170429916717;
inline constexpr double selu_scale = 1.0507009873554804934193349852946;
inline constexpr double elu_alpha = 1.0;
inline constexpr double leaky_relu_slope = 0.2;
inline constexpr double inv_sqrt2 = 0.70710678118654752440;  // keras.activations.leaky_relu default negative_slope

template <typename Scalar>
Scalar sigmoid(Scalar z) {
  // Stable for large |z|: exp never overflows to inf/inf.
  if (z >= Scalar(0)) return Scalar(1) / (Scalar(1) + std::exp(-z));
  const Scalar e = std::exp(z);
  return e / (Scalar(1) + e);
}

}  // namespace activations

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

namespace activations {

/// y = e^x over n contiguous values x ≤ 0, vectorised, exact where e^x is subnormal. x and y may alias.
template <typename Scalar>
void exp_nonpositive(const Scalar* x, Scalar* y, Index n) {
  detail::through_packets<Scalar>(
      n, [x](Index k) { return x[k]; }, detail::exp_nonpositive_packets<Scalar>, [y](Index k, Scalar e) { y[k] = e; });
}

/// y = σ(z) over n contiguous values, vectorised, with sigmoid()'s formula: 1/(1 + e) for z ≥ 0 and
/// e/(1 + e) below, e = e^−|z|. z and y may alias.
template <typename Scalar>
void sigmoid(const Scalar* z, Scalar* y, Index n) {
  detail::through_packets<Scalar>(
      n, [z](Index k) { return -std::abs(z[k]); }, detail::exp_nonpositive_packets<Scalar>,
      [z, y](Index k, Scalar e) { y[k] = (z[k] >= Scalar(0) ? Scalar(1) : e) / (Scalar(1) + e); });
}

/// y = softmax(z) row by row over (rows × cols) contiguous values, vectorised: e^(z − max z) / Σ e^(z − max z).
/// z and y may alias.
template <typename Scalar>
void softmax(const Scalar* z, Scalar* y, Index rows, Index cols) {
  for (Index i = 0; i < rows; ++i) {
    const Scalar* zi = z + i * cols;
    Scalar* yi = y + i * cols;
    const Scalar zmax = *std::max_element(zi, zi + cols);
    for (Index j = 0; j < cols; ++j) yi[j] = zi[j] - zmax;
  }
  exp_nonpositive(y, y, rows * cols);
  for (Index i = 0; i < rows; ++i) {
    Scalar* yi = y + i * cols;
    const Scalar total = detail::sum(yi, cols);
    for (Index j = 0; j < cols; ++j) yi[j] /= total;
  }
}

template <typename Scalar>
Scalar softplus(Scalar z) {
  // log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
  return std::max(z, Scalar(0)) + std::log1p(std::exp(-std::abs(z)));
}

/// y = f(z), element-wise (softmax: row-wise). z and y may alias.
template <typename Scalar>
void forward(Activation a, ConstMatrixView<Scalar> z, MatrixView<Scalar> y) {
  const Scalar* zp = z.data();  // z and y are contiguous (batch × units)
  Scalar* yp = y.data();
  const Index n = z.size();
  const auto each = [zp, yp, n](auto f) {
    for (Index k = 0; k < n; ++k) yp[k] = f(zp[k]);
  };
  switch (a) {
    case Activation::linear:
      if (yp != zp) std::copy_n(zp, n, yp);
      break;
    case Activation::relu: each([](Scalar v) { return std::max(v, Scalar(0)); }); break;
    case Activation::sigmoid: sigmoid(zp, yp, n); break;
    case Activation::tanh:
      detail::through_packets<Scalar>(
          n, [zp](Index k) { return zp[k]; }, detail::tanh_packets<Scalar>, [yp](Index k, Scalar t) { yp[k] = t; });
      break;
    case Activation::softmax: softmax(zp, yp, z.rows(), z.cols()); break;
    case Activation::elu: each([](Scalar v) { return v > Scalar(0) ? v : Scalar(elu_alpha) * std::expm1(v); }); break;
    case Activation::selu:
      each([](Scalar v) { return Scalar(selu_scale) * (v > Scalar(0) ? v : Scalar(selu_alpha) * std::expm1(v)); });
      break;
    case Activation::gelu:  // exact form: 0.5 z (1 + erf(z / sqrt 2))
      each([](Scalar v) { return Scalar(0.5) * v * (Scalar(1) + std::erf(v * Scalar(inv_sqrt2))); });
      break;
    case Activation::swish: each([](Scalar v) { return v * sigmoid(v); }); break;
    case Activation::leaky_relu: each([](Scalar v) { return v > Scalar(0) ? v : Scalar(leaky_relu_slope) * v; }); break;
    case Activation::softplus: each([](Scalar v) { return softplus(v); }); break;
    case Activation::hard_sigmoid:  // relu6(z + 3) / 6
      each([](Scalar v) { return std::min(std::max(v + Scalar(3), Scalar(0)), Scalar(6)) / Scalar(6); });
      break;
  }
}

/// dz = dL/dz from dy = dL/dy, given the layer's z and y = f(z). dz may alias dy.
template <typename Scalar>
void backward(Activation a, ConstMatrixView<Scalar> z, ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> dy,
              MatrixView<Scalar> dz) {
  const Scalar* zp = z.data();  // all four are contiguous (batch × units); plain loops, vectorised by the compiler
  const Scalar* yp = y.data();
  const Scalar* gp = dy.data();
  Scalar* dp = dz.data();
  const Index n = z.size();
  const auto each = [zp, yp, gp, dp, n](auto f) {
    for (Index k = 0; k < n; ++k) dp[k] = f(zp[k], yp[k], gp[k]);
  };
  switch (a) {
    case Activation::linear:
      if (dp != gp) std::copy_n(gp, n, dp);
      break;
    case Activation::relu: each([](Scalar v, Scalar, Scalar g) { return v > Scalar(0) ? g : Scalar(0); }); break;
    case Activation::sigmoid: each([](Scalar, Scalar f, Scalar g) { return g * f * (Scalar(1) - f); }); break;  // dy σ(1 − σ)
    case Activation::tanh: each([](Scalar, Scalar f, Scalar g) { return g * (Scalar(1) - f * f); }); break;  // dy (1 − y²)
    case Activation::softmax: {  // dz = y ∘ (dy − Σ_j dy_j y_j), per row
      const Index units = z.cols();
      for (Index i = 0; i < z.rows(); ++i) {
        const Scalar* yi = yp + i * units;
        const Scalar* gi = gp + i * units;
        Scalar* di = dp + i * units;
        detail::Accumulator<Scalar> sum = 0;
        for (Index j = 0; j < units; ++j) sum += gi[j] * yi[j];
        const Scalar dot = Scalar(sum);
        for (Index j = 0; j < units; ++j) di[j] = yi[j] * (gi[j] - dot);
      }
      break;
    }
    case Activation::elu:  // dy · (1 for z > 0, else y + α)
      each([](Scalar v, Scalar f, Scalar g) { return g * (v > Scalar(0) ? Scalar(1) : f + Scalar(elu_alpha)); });
      break;
    case Activation::selu:  // dy · (scale for z > 0, else y + scale·α)
      each([](Scalar v, Scalar f, Scalar g) {
        return g * (v > Scalar(0) ? Scalar(selu_scale) : f + Scalar(selu_scale * selu_alpha));
      });
      break;
    case Activation::gelu:  // Φ(z) + z φ(z)
      each([](Scalar v, Scalar, Scalar g) {
        const Scalar cdf = Scalar(0.5) * (Scalar(1) + std::erf(v * Scalar(inv_sqrt2)));
        const Scalar pdf = std::exp(Scalar(-0.5) * v * v) * Scalar(0.39894228040143267793994605993438);
        return g * (cdf + v * pdf);
      });
      break;
    case Activation::swish:  // σ(z) (1 + z (1 − σ(z)))
      each([](Scalar v, Scalar, Scalar g) {
        const Scalar s = sigmoid(v);
        return g * (s * (Scalar(1) + v * (Scalar(1) - s)));
      });
      break;
    case Activation::leaky_relu:
      each([](Scalar v, Scalar, Scalar g) { return v > Scalar(0) ? g : Scalar(leaky_relu_slope) * g; });
      break;
    case Activation::softplus: each([](Scalar v, Scalar, Scalar g) { return g * sigmoid(v); }); break;  // dy σ(z)
    case Activation::hard_sigmoid:  // dy/6 inside (−3, 3), else 0
      each([](Scalar v, Scalar, Scalar g) { return v > Scalar(-3) && v < Scalar(3) ? g / Scalar(6) : Scalar(0); });
      break;
  }
}

}  // namespace activations
}  // namespace kerascpp
