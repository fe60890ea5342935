// tests/gradient_check.hpp — finite-difference gradient checks in double precision, shared by the
// numerical tests. A layer is checked on f(θ) = ⟨forward(x), G⟩ (+ its regularization penalty) for a
// fixed random upstream gradient G; a loss on f(ŷ) = Σ_i scale_i·l_i. Every analytic derivative is
// compared with the central difference (f(θ + h) − f(θ − h)) / 2h, and a failure reports the worst
// entry with its index.
#pragma once

#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace kerascpp_test {

using kerascpp::Index;
using Mat = kerascpp::RowMatrix<double>;
using Vec = kerascpp::Vector<double>;

inline kerascpp::ConstMatrixView<double> cview(const Mat& m) {
  return kerascpp::ConstMatrixView<double>(m.data(), m.rows(), m.cols());
}

inline kerascpp::MatrixView<double> mview(Mat& m) { return kerascpp::MatrixView<double>(m.data(), m.rows(), m.cols()); }

/// A (rows × cols) matrix with entries uniform on [low, high), from its own seed.
inline Mat uniform_matrix(Index rows, Index cols, double low, double high, std::uint64_t seed) {
  kerascpp::Rng rng(seed);
  Mat m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.uniform(low, high);
  return m;
}

/// A (rows × cols) matrix of standard normal entries, from its own seed.
inline Mat normal_matrix(Index rows, Index cols, std::uint64_t seed) {
  kerascpp::Rng rng(seed);
  Mat m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

/// Entries whose magnitude is uniform on [low, high) with a random sign: safely away from 0.
inline Mat away_from_zero(Index rows, Index cols, double low, double high, std::uint64_t seed) {
  kerascpp::Rng rng(seed);
  Mat m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) {
      const double magnitude = rng.uniform(low, high);
      m(i, j) = rng.uniform() < 0.5 ? -magnitude : magnitude;
    }
  return m;
}

/// The points where an activation's derivative jumps (none for the smooth ones).
inline std::vector<double> kinks(kerascpp::Activation a) {
  switch (a) {
    case kerascpp::Activation::relu:
    case kerascpp::Activation::leaky_relu:
    case kerascpp::Activation::elu:
    case kerascpp::Activation::selu: return {0.0};
    case kerascpp::Activation::hard_sigmoid: return {-3.0, 3.0};
    default: return {};
  }
}

/// The smallest distance from an entry of z to a kink of the activation (infinity when smooth).
inline double distance_to_kinks(kerascpp::Activation a, const Mat& z) {
  double d = std::numeric_limits<double>::infinity();
  for (double k : kinks(a)) d = std::min(d, (z.array() - k).abs().minCoeff());
  return d;
}

/// |a − n| / max(|a|, |n|, floor): a relative error that turns absolute for entries below `floor`,
/// where the rounding error of the central difference (≈ 1e-16·|f| / h) dominates.
inline double gradient_error(double analytic, double numeric, double floor = 1e-2) {
  return std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), floor});
}

struct CheckSettings {
  double step = 1e-6;        // h of the central difference
  double tolerance = 1e-6;   // largest accepted gradient_error
  double error_floor = 1e-2; // see gradient_error
};

/// Compares an analytic gradient with central differences of f over the entries of `param`, which f
/// reads. `param` is restored after each entry. Reports the worst entry on failure.
inline void check_against_central_differences(const std::string& what, Eigen::Ref<Mat> param, const Mat& analytic,
                                              const std::function<double()>& f, const CheckSettings& s) {
  INFO("gradient of " << what);
  REQUIRE(analytic.rows() == param.rows());
  REQUIRE(analytic.cols() == param.cols());
  double worst = 0.0, worst_analytic = 0.0, worst_numeric = 0.0;
  Index worst_row = -1, worst_col = -1;
  for (Index i = 0; i < param.rows(); ++i)
    for (Index j = 0; j < param.cols(); ++j) {
      const double saved = param(i, j);
      param(i, j) = saved + s.step;
      const double plus = f();
      param(i, j) = saved - s.step;
      const double minus = f();
      param(i, j) = saved;
      const double numeric = (plus - minus) / (2.0 * s.step);
      double error = gradient_error(analytic(i, j), numeric, s.error_floor);
      if (std::isnan(error)) error = std::numeric_limits<double>::infinity();
      if (error > worst || worst_row < 0) {
        worst = error;
        worst_row = i;
        worst_col = j;
        worst_analytic = analytic(i, j);
        worst_numeric = numeric;
      }
    }
  INFO("worst entry (" << worst_row << ", " << worst_col << "): analytic " << worst_analytic << ", central difference "
                       << worst_numeric << ", error " << worst);
  CHECK(worst <= s.tolerance);
}

struct LayerCheck {
  bool training = true;          // forward(x, training)
  bool logits = false;           // check the fused path: f = ⟨logits, G⟩, backward(.., logits_grad=true)
  bool add_penalty = true;       // f also holds layer.regularization_penalty()
  std::uint64_t seed = 20240601; // of the upstream gradient G
  CheckSettings settings{};
};

/// Checks backward's dx and the gradient of every trainable weight of a built layer at x.
/// Also checks that backward overwrites (does not accumulate) the weight gradients and that
/// need_input_grad=false returns an empty view with the same weight gradients.
inline void check_layer_gradients(kerascpp::Layer<double>& layer, const Mat& x0, const LayerCheck& c = {}) {
  REQUIRE(layer.built());
  REQUIRE(x0.cols() == layer.input_width());
  Mat x = x0;
  const Mat g = normal_matrix(x.rows(), layer.output_width(), c.seed);

  const auto f = [&]() {
    auto y = layer.forward(cview(x), c.training);
    double value = 0.0;
    if (c.logits) {
      auto z = layer.logits();
      REQUIRE(z.rows() == g.rows());
      REQUIRE(z.cols() == g.cols());
      value = (z.array() * g.array()).sum();
    } else {
      REQUIRE(y.rows() == g.rows());
      REQUIRE(y.cols() == g.cols());
      value = (y.array() * g.array()).sum();
    }
    if (c.add_penalty) value += layer.regularization_penalty();
    return value;
  };

  f();
  const Mat dx = layer.backward(cview(g), true, c.logits);
  std::vector<Mat> grads;
  std::vector<std::string> names;
  std::vector<kerascpp::Param<double>*> values;
  for (const auto& w : layer.weights())
    if (w.trainable()) {
      grads.push_back(*w.grad);
      names.push_back(w.name);
      values.push_back(w.value);
    }

  {
    INFO("backward called a second time, without the input gradient");
    const auto none = layer.backward(cview(g), false, c.logits);
    CHECK(none.size() == 0);
    std::size_t k = 0;
    for (const auto& w : layer.weights())
      if (w.trainable()) {
        INFO("weight " << w.name << ": backward must overwrite its gradient, not accumulate");
        CHECK((*w.grad - grads[k]).cwiseAbs().maxCoeff() == 0.0);
        ++k;
      }
  }

  check_against_central_differences("x", x, dx, f, c.settings);
  for (std::size_t k = 0; k < grads.size(); ++k)
    check_against_central_differences(names[k], *values[k], grads[k], f, c.settings);
}

/// Checks loss.gradient against central differences of Σ_i scale_i·l_i, scale_i = w_i / batch.
inline void check_loss_gradient(const kerascpp::Loss<double>& loss, const Mat& y, const Mat& pred0, bool fused,
                                const Vec& sample_weight, const CheckSettings& s = {}) {
  REQUIRE(sample_weight.size() == pred0.rows());
  Mat pred = pred0;
  const Vec scale = sample_weight / static_cast<double>(pred.rows());
  const auto f = [&]() {
    Vec per(pred.rows());
    loss.per_sample(cview(y), cview(pred), fused, per);
    return scale.dot(per);
  };
  Mat grad(pred.rows(), pred.cols());
  loss.gradient(cview(y), cview(pred), fused, scale, mview(grad));
  check_against_central_differences(loss.name() + (fused ? " (fused with logits)" : ""), pred, grad, f, s);
}

/// The message of the exception of type E that f throws; fails the test when f does not throw.
template <typename E, typename F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected an exception, none was thrown");
  return {};
}

/// uniform_matrix in the given Scalar.
template <typename Scalar>
kerascpp::RowMatrix<Scalar> uniform_as(Index rows, Index cols, double low, double high, std::uint64_t seed) {
  return uniform_matrix(rows, cols, low, high, seed).template cast<Scalar>();
}

/// Whether two matrices hold the same numbers bit for bit.
template <typename A, typename B>
bool identical(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

}  // namespace kerascpp_test
