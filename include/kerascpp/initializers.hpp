// kerascpp/initializers.hpp — Keras weight initializers. Each fills a (fan_in × fan_out) matrix
// from the model's random generator, with Keras's formulas.
#pragma once

#include <kerascpp/core.hpp>

#include <array>
#include <cmath>
#include <string>
#include <string_view>

namespace kerascpp {

/// An initializer by Keras name plus its parameters (used by random_normal / random_uniform).
struct Initializer {
  std::string name = "glorot_uniform";
  double mean = 0.0;      // random_normal
  double stddev = 0.05;   // random_normal
  double minval = -0.05;  // random_uniform
  double maxval = 0.05;   // random_uniform

  Initializer() = default;
  Initializer(const char* n) : name(n) {}        // NOLINT: implicit, like Keras strings
  Initializer(std::string n) : name(std::move(n)) {}  // NOLINT
};

namespace initializers {

inline constexpr std::array<std::string_view, 10> names{
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal",   "zeros",         "ones",       "random_normal", "random_uniform"};

inline void validate(const Initializer& init) {
  for (auto n : names)
    if (n == init.name) return;
  detail::fail("unknown initializer '", init.name, "'; valid names are: ",
               detail::join(std::vector<std::string>(names.begin(), names.end())));
}

inline Initializer random_normal(double mean = 0.0, double stddev = 0.05) {
  Initializer i("random_normal");
  i.mean = mean;
  i.stddev = stddev;
  return i;
}

inline Initializer random_uniform(double minval = -0.05, double maxval = 0.05) {
  Initializer i("random_uniform");
  i.minval = minval;
  i.maxval = maxval;
  return i;
}

/// Fills w (fan_in × fan_out). Truncated normals divide the standard deviation by 0.8796…, the
/// standard deviation of a unit normal truncated at ±2, as Keras's VarianceScaling does.
template <typename Derived>
void fill(const Initializer& init, Eigen::MatrixBase<Derived>& w, Index fan_in, Index fan_out, Rng& rng) {
  using Scalar = typename Derived::Scalar;
  validate(init);
  const double fan_avg = 0.5 * static_cast<double>(fan_in + fan_out);
  const auto uniform = [&](double limit) {
    for (Index i = 0; i < w.rows(); ++i)
      for (Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<Scalar>(rng.uniform(-limit, limit));
  };
  const auto truncated = [&](double scale, double fan) {
    const double stddev = std::sqrt(scale / fan) / 0.87962566103423978;
    for (Index i = 0; i < w.rows(); ++i)
      for (Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<Scalar>(stddev * rng.truncated_normal());
  };
  const std::string& n = init.name;
  if (n == "glorot_uniform") uniform(std::sqrt(3.0 / fan_avg));  // sqrt(6 / (fan_in + fan_out))
  else if (n == "glorot_normal") truncated(1.0, fan_avg);
  else if (n == "he_uniform") uniform(std::sqrt(6.0 / static_cast<double>(fan_in)));
  else if (n == "he_normal") truncated(2.0, static_cast<double>(fan_in));
  else if (n == "lecun_uniform") uniform(std::sqrt(3.0 / static_cast<double>(fan_in)));
  else if (n == "lecun_normal") truncated(1.0, static_cast<double>(fan_in));
  else if (n == "zeros") w.setZero();
  else if (n == "ones") w.setOnes();
  else if (n == "random_normal") {
    for (Index i = 0; i < w.rows(); ++i)
      for (Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<Scalar>(init.mean + init.stddev * rng.normal());
  } else {
    for (Index i = 0; i < w.rows(); ++i)
      for (Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<Scalar>(rng.uniform(init.minval, init.maxval));
  }
}

}  // namespace initializers
}  // namespace kerascpp
