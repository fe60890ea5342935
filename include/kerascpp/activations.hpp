// kerascpp/activations.hpp — element-wise activation functions and their derivatives, and the
// row-wise softmax. Inputs are pre-activations z (batch × units), outputs y (batch × units).
#pragma once

#include <kerascpp/core.hpp>

#include <Eigen/Core>

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

/// Calls f(exp) with exp a function from an array expression x ≤ 0, derived from `z` (x ≥ −|z|), to the
/// array expression e^x, vectorised. Eigen's vectorised exp clamps its argument at about −88.7 (float),
/// so when some |z| exceeds c (e^−c the smallest normal number) e^x is computed as e^max(x, −c) ·
/// e^min(x + c, 0), both factors normal, and a subnormal e^x is rounded once.
template <typename Scalar, typename Derived, typename F>
void with_exp_nonpositive(const Eigen::ArrayBase<Derived>& z, F&& f) {
  constexpr Scalar c = Scalar((1 - std::numeric_limits<Scalar>::min_exponent) * 0.69314718055994530942);  // −ln(min)
  if (z.size() > 0 && z.abs().maxCoeff() > c)
    f([c](const auto& x) { return x.max(-c).exp() * (x + c).min(Scalar(0)).exp(); });
  else
    f([](const auto& x) { return x.exp(); });
}

/// y = σ(z) over n contiguous values, vectorised, with sigmoid()'s formula: 1/(1 + e) for z ≥ 0 and
/// e/(1 + e) below, e = e^−|z|, written as e^min(z, 0) / (1 + e^−|z|). z and y may alias.
template <typename Scalar>
void sigmoid(const Scalar* z, Scalar* y, Index n) {
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  const Eigen::Map<const Array> za(z, n);
  Eigen::Map<Array> ya(y, n);
  with_exp_nonpositive<Scalar>(za, [&](const auto& exp) {
    ya = exp(za.min(Scalar(0))) / (Scalar(1) + exp(-za.abs()));
  });
}

template <typename Scalar>
Scalar softplus(Scalar z) {
  // log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
  return std::max(z, Scalar(0)) + std::log1p(std::exp(-std::abs(z)));
}

/// y = f(z), element-wise (softmax: row-wise). z and y may alias.
template <typename Scalar>
void forward(Activation a, ConstMatrixView<Scalar> z, MatrixView<Scalar> y) {
  auto za = z.array();
  auto ya = y.array();
  switch (a) {
    case Activation::linear:
      if (y.data() != z.data()) y = z;
      break;
    case Activation::relu: ya = za.max(Scalar(0)); break;
    case Activation::sigmoid: sigmoid(z.data(), y.data(), z.size()); break;  // z and y are contiguous
    case Activation::tanh: ya = za.tanh(); break;
    case Activation::softmax:
      for (Index i = 0; i < z.rows(); ++i) {
        const Scalar zmax = z.row(i).maxCoeff();
        y.row(i) = (z.row(i).array() - zmax).exp().matrix();  // (1 × units)
        y.row(i) /= y.row(i).sum();
      }
      break;
    case Activation::elu:
      ya = za.unaryExpr([](Scalar v) { return v > Scalar(0) ? v : Scalar(elu_alpha) * std::expm1(v); });
      break;
    case Activation::selu:
      ya = za.unaryExpr([](Scalar v) {
        return Scalar(selu_scale) * (v > Scalar(0) ? v : Scalar(selu_alpha) * std::expm1(v));
      });
      break;
    case Activation::gelu:  // exact form: 0.5 z (1 + erf(z / sqrt 2))
      ya = za.unaryExpr([](Scalar v) { return Scalar(0.5) * v * (Scalar(1) + std::erf(v * Scalar(inv_sqrt2))); });
      break;
    case Activation::swish: ya = za.unaryExpr([](Scalar v) { return v * sigmoid(v); }); break;
    case Activation::leaky_relu:
      ya = za.unaryExpr([](Scalar v) { return v > Scalar(0) ? v : Scalar(leaky_relu_slope) * v; });
      break;
    case Activation::softplus: ya = za.unaryExpr([](Scalar v) { return softplus(v); }); break;
    case Activation::hard_sigmoid:  // relu6(z + 3) / 6
      ya = ((za + Scalar(3)).max(Scalar(0)).min(Scalar(6))) / Scalar(6);
      break;
  }
}

/// dz = dL/dz from dy = dL/dy, given the layer's z and y = f(z). dz may alias dy.
template <typename Scalar>
void backward(Activation a, ConstMatrixView<Scalar> z, ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> dy,
              MatrixView<Scalar> dz) {
  auto za = z.array();
  auto ya = y.array();
  auto g = dy.array();
  auto out = dz.array();
  switch (a) {
    case Activation::linear:
      if (dz.data() != dy.data()) dz = dy;
      break;
    case Activation::relu: {  // a plain loop over contiguous rows: the compiler vectorizes it with masks
      const Scalar* zp = z.data();
      const Scalar* gp = dy.data();
      Scalar* dp = dz.data();
      for (Index i = 0, n = z.size(); i < n; ++i) dp[i] = zp[i] > Scalar(0) ? gp[i] : Scalar(0);
      break;
    }
    case Activation::sigmoid: out = g * ya * (Scalar(1) - ya); break;
    case Activation::tanh: out = g * (Scalar(1) - ya.square()); break;
    case Activation::softmax:  // dz = y ∘ (dy − Σ_j dy_j y_j), per row
      for (Index i = 0; i < z.rows(); ++i) {
        const Scalar dot = dy.row(i).dot(y.row(i));
        dz.row(i) = (y.row(i).array() * (dy.row(i).array() - dot)).matrix();
      }
      break;
    case Activation::elu:
      out = g * za.binaryExpr(ya, [](Scalar v, Scalar f) { return v > Scalar(0) ? Scalar(1) : f + Scalar(elu_alpha); });
      break;
    case Activation::selu:
      out = g * za.binaryExpr(ya, [](Scalar v, Scalar f) {
        return v > Scalar(0) ? Scalar(selu_scale) : f + Scalar(selu_scale * selu_alpha);
      });
      break;
    case Activation::gelu:  // Φ(z) + z φ(z)
      out = g * za.unaryExpr([](Scalar v) {
        const Scalar cdf = Scalar(0.5) * (Scalar(1) + std::erf(v * Scalar(inv_sqrt2)));
        const Scalar pdf = std::exp(Scalar(-0.5) * v * v) * Scalar(0.39894228040143267793994605993438);
        return cdf + v * pdf;
      });
      break;
    case Activation::swish:  // σ(z) (1 + z (1 − σ(z)))
      out = g * za.unaryExpr([](Scalar v) {
        const Scalar s = sigmoid(v);
        return s * (Scalar(1) + v * (Scalar(1) - s));
      });
      break;
    case Activation::leaky_relu: out = (za > Scalar(0)).select(g, Scalar(leaky_relu_slope) * g); break;
    case Activation::softplus: out = g * za.unaryExpr([](Scalar v) { return sigmoid(v); }); break;
    case Activation::hard_sigmoid:
      out = ((za > Scalar(-3)) && (za < Scalar(3))).select(g / Scalar(6), Scalar(0));
      break;
  }
}

}  // namespace activations
}  // namespace kerascpp
