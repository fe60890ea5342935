// kerascpp/regularizers.hpp — weight penalties added to the loss: l1·Σ|w| + l2·Σw².
#pragma once

#include <kerascpp/core.hpp>

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
/// Keras defaults: l1 = 0.01, l2 = 0.01.
inline Regularizer l1(double l1 = 0.01) { check(l1, "l1"); return {l1, 0.0}; }
inline Regularizer l2(double l2 = 0.01) { check(l2, "l2"); return {0.0, l2}; }
inline Regularizer l1_l2(double l1 = 0.01, double l2 = 0.01) {
  check(l1, "l1");
  check(l2, "l2");
  return {l1, l2};
}
}  // namespace regularizers

}  // namespace kerascpp
