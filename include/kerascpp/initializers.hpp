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

/// How one weight is drawn: uniform on [a, b), a·(truncated normal), a + b·(normal), or the constant a.
struct Draw {
  enum class Kind { uniform, truncated_normal, normal, constant } kind;
  double a, b;

  double operator()(Rng& rng) const {
    switch (kind) {
      case Kind::uniform: return rng.uniform(a, b);
      case Kind::truncated_normal: return a * rng.truncated_normal();
      case Kind::normal: return a + b * rng.normal();
      case Kind::constant: break;
    }
    return a;
  }
};

/// The draw of `init` for a (fan_in × fan_out) weight. Truncated normals divide the standard
/// deviation by 0.8796…, the standard deviation of a unit normal truncated at ±2, as Keras's
/// VarianceScaling does.
inline Draw draw_for(const Initializer& init, Index fan_in, Index fan_out) {
  validate(init);
  using Kind = Draw::Kind;
  const double in = static_cast<double>(fan_in);
  const double avg = 0.5 * static_cast<double>(fan_in + fan_out);
  const auto uniform = [](double limit) { return Draw{Kind::uniform, -limit, limit}; };
  const auto truncated = [](double scale, double fan) {
    return Draw{Kind::truncated_normal, std::sqrt(scale / fan) / 0.87962566103423978, 0.0};
  };
  const std::string& n = init.name;
  if (n == "glorot_uniform") return uniform(std::sqrt(3.0 / avg));  // sqrt(6 / (fan_in + fan_out))
  if (n == "glorot_normal") return truncated(1.0, avg);
  if (n == "he_uniform") return uniform(std::sqrt(6.0 / in));
  if (n == "he_normal") return truncated(2.0, in);
  if (n == "lecun_uniform") return uniform(std::sqrt(3.0 / in));
  if (n == "lecun_normal") return truncated(1.0, in);
  if (n == "zeros") return {Kind::constant, 0.0, 0.0};
  if (n == "ones") return {Kind::constant, 1.0, 0.0};
  if (n == "random_normal") return {Kind::normal, init.mean, init.stddev};
  return {Kind::uniform, init.minval, init.maxval};
}

/// Fills w (fan_in × fan_out) row by row with draws of `init`.
template <typename Derived>
void fill(const Initializer& init, Eigen::MatrixBase<Derived>& w, Index fan_in, Index fan_out, Rng& rng) {
  using Scalar = typename Derived::Scalar;
  const Draw draw = draw_for(init, fan_in, fan_out);
  for (Index i = 0; i < w.rows(); ++i)
    for (Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<Scalar>(draw(rng));
}

}  // namespace initializers
}  // namespace kerascpp
