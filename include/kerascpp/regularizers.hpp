// kerascpp/regularizers.hpp — weight penalties added to the loss: l1·Σ|w| + l2·Σw².
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/registry.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <typeinfo>

namespace kerascpp {

struct Regularizer {
  double l1 = 0.0;
  double l2 = 0.0;

  bool active() const { return l1 != 0.0 || l2 != 0.0; }

  /// penalty = l1·Σ|w| + l2·Σw²
  template <typename Derived>
  double penalty(const Eigen::MatrixBase<Derived>& w) const {
    double p = 0.0;
    if (l1 != 0.0) p += l1 * static_cast<double>(w.cwiseAbs().sum());
    if (l2 != 0.0) p += l2 * static_cast<double>(w.squaredNorm());
    return p;
  }

  /// grad += l1·sign(w) + 2·l2·w
  template <typename DerivedW, typename DerivedG>
  void add_gradient(const Eigen::MatrixBase<DerivedW>& w, Eigen::MatrixBase<DerivedG>& grad) const {
    using Scalar = typename DerivedW::Scalar;
    if (l1 != 0.0) grad.array() += Scalar(l1) * w.array().sign();
    if (l2 != 0.0) grad.array() += Scalar(2.0 * l2) * w.array();
  }
};

namespace regularizers {
inline void check(double value, const char* name) {
  if (!(value >= 0.0) || !std::isfinite(value))
    detail::fail("regularizer: ", name, " must be a finite non-negative number, received ", name, "=", value);
}
/// Refuses factors that a model of `Scalar` cannot hold: the gradient l1·sign(w) + 2·l2·w is
/// computed in Scalar, so l1 and 2·l2 must be within its range (a float model takes up to 3.4e38).
template <typename Scalar>
void check_range(const Regularizer& r, const char* who) {
  check(r.l1, "l1");  // a Regularizer built with braces skips l1() and l2()
  check(r.l2, "l2");
  const double most = static_cast<double>(std::numeric_limits<Scalar>::max());
  if (r.l1 > most || r.l2 > most / 2.0)
    detail::fail(who, ": kernel_regularizer is beyond the range of the model's ", detail::scalar_name<Scalar>(),
                 " (l1 and 2·l2 at most ", std::numeric_limits<Scalar>::max(), "), received l1=", r.l1, ", l2=", r.l2);
}

/// Keras defaults: l1 = 0.01, l2 = 0.01.
inline Regularizer l1(double l1 = 0.01) { check(l1, "l1"); return {l1, 0.0}; }
inline Regularizer l2(double l2 = 0.01) { check(l2, "l2"); return {0.0, l2}; }
inline Regularizer l1_l2(double l1 = 0.01, double l2 = 0.01) {
  check(l1, "l1");
  check(l2, "l2");
  return {l1, l2};
}

/// What the registry knows of one regularizer: its factors as config text and back.
struct RegularizerEntry {
  std::string name;
  const std::type_info* type;
  Regularizer (*from_config)(ConfigReader&);
  Config (*get_config)(const Regularizer&);
};

inline Registry<RegularizerEntry>& registry() { return registry_of<RegularizerEntry>(); }

/// Registers the regularizer `R` under `name`: `R` gives `from_config(ConfigReader&) -> Regularizer`
/// and `get_config(const Regularizer&) -> Config`. Returns true, for an inline variable.
template <typename R>
bool register_regularizer(std::string_view name) {
  registry().add({std::string(name), &typeid(R), &R::from_config, &R::get_config});
  return true;
}

/// The regularizer `name` ("l1", "l2", "l1_l2") with the factors in `config`.
inline Regularizer from_config(const std::string& name, const Config& config) {
  ConfigReader reader(config, name);
  const Regularizer r = registry().at(name, "regularizer").from_config(reader);
  reader.finish();
  return r;
}

/// Keras's L1: l1·Σ|w|.
struct L1 {
  static Regularizer from_config(ConfigReader& c) { return l1(c.number("l1")); }
  static Config get_config(const Regularizer& r) { return {{"l1", detail::number(r.l1)}}; }
};

/// Keras's L2: l2·Σw².
struct L2 {
  static Regularizer from_config(ConfigReader& c) { return l2(c.number("l2")); }
  static Config get_config(const Regularizer& r) { return {{"l2", detail::number(r.l2)}}; }
};

/// Keras's L1L2: l1·Σ|w| + l2·Σw².
struct L1L2 {
  static Regularizer from_config(ConfigReader& c) {
    const double a = c.number("l1");
    return l1_l2(a, c.number("l2"));
  }
  static Config get_config(const Regularizer& r) { return {{"l1", detail::number(r.l1)}, {"l2", detail::number(r.l2)}}; }
};

inline const bool registered =
    register_regularizer<L1>("l1") && register_regularizer<L2>("l2") && register_regularizer<L1L2>("l1_l2");

}  // namespace regularizers

}  // namespace kerascpp
