// kerascpp/activations.hpp — element-wise activation functions and their derivatives, and the
// row-wise softmax. Inputs are pre-activations z (batch × units), outputs y (batch × units).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/kernels/packets.hpp>
#include <kerascpp/registry.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace kerascpp {

enum class Activation { linear, relu, sigmoid, tanh, softmax, elu, selu, gelu, swish, leaky_relu, softplus, hard_sigmoid };

namespace activations {

/// What the registry knows of one activation name. Activations are a run-time enum that the layers
/// and the fused losses switch on, so a program cannot add one: the registry holds the Keras names
/// of the enum's values (and the alias "silu"), for lookups by name and error messages.
struct ActivationEntry {
  std::string name;
  const std::type_info* type;  // std::integral_constant<Activation, value>: one value per name
  Activation value;
};

inline Registry<ActivationEntry>& registry() { return registry_of<ActivationEntry>(); }

/// Registers `name` for the activation A. Returns true, for an inline variable.
template <Activation A>
bool register_name(std::string_view name) {
  registry().add({std::string(name), &typeid(std::integral_constant<Activation, A>), A});
  return true;
}

inline const bool registered =
    register_name<Activation::linear>("linear") && register_name<Activation::relu>("relu") &&
    register_name<Activation::sigmoid>("sigmoid") && register_name<Activation::tanh>("tanh") &&
    register_name<Activation::softmax>("softmax") && register_name<Activation::elu>("elu") &&
    register_name<Activation::selu>("selu") && register_name<Activation::gelu>("gelu") &&
    register_name<Activation::swish>("swish") && register_name<Activation::swish>("silu") &&
    register_name<Activation::leaky_relu>("leaky_relu") && register_name<Activation::softplus>("softplus") &&
    register_name<Activation::hard_sigmoid>("hard_sigmoid");

/// Resolves a Keras activation name ("relu", "sigmoid", ...; "" means linear).
inline Activation get(std::string_view name) {
  if (name.empty()) return Activation::linear;
  return registry().at(name, "activation").value;
}

/// The Keras name of `a` (the first registered for it).
inline std::string_view name(Activation a) {
  for (const auto& entry : registry().entries())
    if (entry.value == a) return entry.name;
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
