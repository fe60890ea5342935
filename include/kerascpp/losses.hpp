// kerascpp/losses.hpp — Keras losses. Each computes per-sample losses l_i (the mean over the
// output columns, or the sum over classes for cross-entropies) and their gradient; the batch loss
// is Σ w_i·l_i / batch ("sum_over_batch_size"), and the 1/batch factor lives here only.
#pragma once

#include <kerascpp/activations.hpp>
#include <kerascpp/core.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>

namespace kerascpp {

template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

template <typename Scalar = float>
class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Loss> clone() const = 0;

  /// Throws unless targets of `y_cols` columns fit a model output of `out_cols` columns.
  virtual void check_shapes(Index y_cols, Index out_cols) const {
    if (y_cols != out_cols)
      detail::fail(name(), ": y has ", y_cols, " column(s) but the model output has ", out_cols,
                   "; the loss needs targets of the same width as the output");
  }
  /// Throws when a target value cannot be a label for this loss (named by row).
  template <typename Derived>
  void check_targets(const Eigen::MatrixBase<Derived>& y, Index out_cols) const {
    for (Index i = 0; i < y.rows(); ++i)
      for (Index j = 0; j < y.cols(); ++j) check_target(static_cast<double>(y(i, j)), i, j, out_cols);
  }

  /// Whether the loss can take the pre-activation of a final `a` instead of its output.
  virtual bool fuses(Activation) const { return false; }

  /// l_i for each row. `pred` is the model output, or the logits when `fused`.
  virtual void per_sample(ConstMatrixView<Scalar> y_true, ConstMatrixView<Scalar> pred, bool fused,
                          Eigen::Ref<Vector<Scalar>> out) const = 0;

  /// grad = dl_i/dpred, row by row, scaled by scale_i (w_i / batch).
  void gradient(ConstMatrixView<Scalar> y_true, ConstMatrixView<Scalar> pred, bool fused,
                const Eigen::Ref<const Vector<Scalar>>& scale, MatrixView<Scalar> grad) const {
    unscaled_gradient(y_true, pred, fused, grad);
    if (grad.cols() == 1) grad.col(0).array() *= scale.array();  // one contiguous column: vectorised
    else grad.array().colwise() *= scale.array();
  }

 protected:
  virtual void check_target(double, Index, Index, Index) const {}
  virtual void unscaled_gradient(ConstMatrixView<Scalar> y_true, ConstMatrixView<Scalar> pred, bool fused,
                                 MatrixView<Scalar> grad) const = 0;
};

namespace losses {

inline constexpr double epsilon = 1e-7;  // Keras backend epsilon, clips probabilities

/// mae: l = mean |ŷ − y|
template <typename Scalar = float>
class MeanAbsoluteError : public Loss<Scalar> {
 public:
  std::string name() const override { return "mean_absolute_error"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<MeanAbsoluteError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, Eigen::Ref<Vector<Scalar>> out) const override {
    out = (p - y).cwiseAbs().rowwise().mean();
  }

 protected:
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, MatrixView<Scalar> g) const override {
    g = (p - y).array().sign().matrix() / Scalar(p.cols());  // sign(ŷ − y) / C
  }
};

/// mse: l = mean (ŷ − y)²
template <typename Scalar = float>
class MeanSquaredError : public Loss<Scalar> {
 public:
  std::string name() const override { return "mean_squared_error"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<MeanSquaredError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, Eigen::Ref<Vector<Scalar>> out) const override {
    out = (p - y).array().square().matrix().rowwise().mean();
  }

 protected:
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, MatrixView<Scalar> g) const override {
    g = (p - y) * (Scalar(2) / Scalar(p.cols()));  // 2(ŷ − y) / C
  }
};

/// huber: l = mean of ½e² where |e| ≤ δ, else δ|e| − ½δ²  (e = ŷ − y)
template <typename Scalar = float>
class Huber : public Loss<Scalar> {
 public:
  explicit Huber(double delta = 1.0) : delta_(delta) {
    if (!(delta > 0.0)) detail::fail("Huber: delta must be positive, received delta=", delta);
  }
  std::string name() const override { return "huber"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<Huber>(*this); }
  double delta() const { return delta_; }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar d = Scalar(delta_);
    out = (p - y).array().unaryExpr([d](Scalar e) {
      const Scalar a = std::abs(e);
      return a <= d ? Scalar(0.5) * e * e : d * a - Scalar(0.5) * d * d;
    }).matrix().rowwise().mean();
  }

 protected:
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, MatrixView<Scalar> g) const override {
    const Scalar d = Scalar(delta_);
    const Scalar inv_c = Scalar(1) / Scalar(p.cols());
    g = (p - y).array().unaryExpr([d, inv_c](Scalar e) {
      return (std::abs(e) <= d ? e : d * (e > 0 ? Scalar(1) : Scalar(-1))) * inv_c;
    }).matrix();
  }

 private:
  double delta_;
};

/// binary_crossentropy: l = mean −[y log p + (1 − y) log(1 − p)], p clipped to [ε, 1 − ε]; from
/// logits z: l = mean max(z, 0) − z·y + log(1 + e^−|z|). label_smoothing maps y to y(1 − s) + s/2.
template <typename Scalar = float>
class BinaryCrossentropy : public Loss<Scalar> {
 public:
  explicit BinaryCrossentropy(bool from_logits = false, double label_smoothing = 0.0)
      : from_logits_(from_logits), smoothing_(label_smoothing) {
    if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
      detail::fail("BinaryCrossentropy: label_smoothing must be in [0, 1], received label_smoothing=", label_smoothing);
  }
  std::string name() const override { return "binary_crossentropy"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<BinaryCrossentropy>(*this); }
  bool from_logits() const { return from_logits_; }
  double label_smoothing() const { return smoothing_; }
  bool fuses(Activation a) const override { return !from_logits_ && a == Activation::sigmoid; }

  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar s = Scalar(smoothing_);
    if (fused || from_logits_) {
      if (p.cols() == 1) {  // one flat column: vectorised
        logits_loss(Eigen::Map<const Array>(p.data(), p.rows()), Eigen::Map<const Array>(y.data(), y.rows()), s,
                    [&](const auto& l) { out.array() = l; });
      } else {
        for (Index i = 0; i < p.rows(); ++i)
          logits_loss(p.row(i).transpose().array(), y.row(i).transpose().array(), s,
                      [&](const auto& l) { out(i) = l.mean(); });
      }
    } else {
      const auto t = y.array() * (Scalar(1) - s) + Scalar(0.5) * s;
      const auto q = p.array().max(Scalar(epsilon)).min(Scalar(1 - epsilon));
      out = (-(t * q.log() + (Scalar(1) - t) * (Scalar(1) - q).log())).matrix().rowwise().mean();
    }
  }

 protected:
  void check_target(double v, Index row, Index col, Index) const override {
    if (!(v >= 0.0 && v <= 1.0))
      detail::fail("binary_crossentropy: labels must be in [0, 1], received ", v, " at row ", row, ", column ", col);
  }
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, MatrixView<Scalar> g) const override {
    const Scalar s = Scalar(smoothing_);
    const Scalar inv_c = Scalar(1) / Scalar(p.cols());
    const auto t = y.array() * (Scalar(1) - s) + Scalar(0.5) * s;
    if (fused || from_logits_) {
      activations::sigmoid(p.data(), g.data(), p.size());      // σ(z), flat over the contiguous batch
      g = ((g.array() - t) * inv_c).matrix();                  // (σ(z) − y)/C
    } else {
      const Scalar lo = Scalar(epsilon), hi = Scalar(1 - epsilon);
      g = ((p.array() >= lo && p.array() <= hi)
               .select((p.array() - t) / (p.array() * (Scalar(1) - p.array())), Scalar(0)) * inv_c).matrix();  // (p − y)/(p(1 − p))/C
    }
  }

 private:
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;

  /// Calls f(l) with l the array expression max(z, 0) − z·t + log(1 + e^−|z|) for logits z and
  /// targets y smoothed to t = y(1 − s) + s/2.
  template <typename Z, typename Y, typename F>
  static void logits_loss(const Z& z, const Y& y, Scalar s, F&& f) {
    activations::with_exp_nonpositive<Scalar>(z, [&](const auto& exp) {
      f(z.max(Scalar(0)) - z * (y * (Scalar(1) - s) + Scalar(0.5) * s) + exp(-z.abs()).log1p());
    });
  }

  bool from_logits_;
  double smoothing_;
};

namespace detail {
/// Cross-entropy of one row against target distribution t (any non-negative weights):
/// probabilities: q = clip(p / Σp, ε, 1 − ε), l = −Σ t·log q;
/// logits:        l = Σt · logsumexp(z) − t·z.
template <typename Scalar, typename RowT, typename RowP>
Scalar cross_entropy_row(const RowT& t, const RowP& p, bool logits) {
  if (logits) {
    const Scalar zmax = p.maxCoeff();
    const Scalar lse = zmax + std::log((p.array() - zmax).exp().sum());
    return t.sum() * lse - t.dot(p);
  }
  const Scalar total = p.sum();
  const auto q = (p.array() / total).max(Scalar(epsilon)).min(Scalar(1 - epsilon));
  return -(t.array() * q.log()).sum();
}

/// Gradient of cross_entropy_row with respect to p (or z), written into g.
template <typename Scalar, typename RowT, typename RowP, typename RowG>
void cross_entropy_row_gradient(const RowT& t, const RowP& p, bool logits, RowG&& g) {
  if (logits) {  // softmax(z)·Σt − t
    const Scalar zmax = p.maxCoeff();
    g = (p.array() - zmax).exp().matrix();
    g *= t.sum() / g.sum();
    g -= t;
    return;
  }
  // q_j = p_j / S clipped; dl/dp_k = −t_k·[k unclipped]/(q_k S) + Σ_j t_j·[j unclipped]·p_j/(q_j S²)
  const Scalar total = p.sum();
  Scalar acc = 0;
  for (Index k = 0; k < p.size(); ++k) {
    const Scalar q = p(k) / total;
    const bool inside = q >= Scalar(epsilon) && q <= Scalar(1 - epsilon);
    g(k) = inside ? -t(k) / (q * total) : Scalar(0);
    if (inside) acc += t(k) * p(k) / (q * total * total);
  }
  g.array() += acc;
}
}  // namespace detail

/// categorical_crossentropy: l = −Σ_j y_j log p_j over one-hot (or soft) targets; with a final
/// softmax the logits are used: l = logsumexp(z) − y·z, gradient softmax(z) − y.
template <typename Scalar = float>
class CategoricalCrossentropy : public Loss<Scalar> {
 public:
  explicit CategoricalCrossentropy(bool from_logits = false, double label_smoothing = 0.0)
      : from_logits_(from_logits), smoothing_(label_smoothing) {
    if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
      kerascpp::detail::fail("CategoricalCrossentropy: label_smoothing must be in [0, 1], received label_smoothing=",
                             label_smoothing);
  }
  std::string name() const override { return "categorical_crossentropy"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<CategoricalCrossentropy>(*this); }
  bool from_logits() const { return from_logits_; }
  double label_smoothing() const { return smoothing_; }
  bool fuses(Activation a) const override { return !from_logits_ && a == Activation::softmax; }

  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar s = Scalar(smoothing_), c = Scalar(p.cols());
    for (Index i = 0; i < p.rows(); ++i)
      out(i) = detail::cross_entropy_row<Scalar>((y.row(i).array() * (Scalar(1) - s) + s / c).matrix(), p.row(i),
                                                 fused || from_logits_);
  }

 protected:
  void check_target(double v, Index row, Index col, Index) const override {
    if (!(v >= 0.0 && v <= 1.0))
      kerascpp::detail::fail("categorical_crossentropy: targets must be in [0, 1] (one-hot), received ", v, " at row ",
                             row, ", column ", col);
  }
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, MatrixView<Scalar> g) const override {
    const Scalar s = Scalar(smoothing_), c = Scalar(p.cols());
    for (Index i = 0; i < p.rows(); ++i)
      detail::cross_entropy_row_gradient<Scalar>((y.row(i).array() * (Scalar(1) - s) + s / c).matrix(), p.row(i),
                                                 fused || from_logits_, g.row(i));
  }

 private:
  bool from_logits_;
  double smoothing_;
};

/// sparse_categorical_crossentropy: as categorical_crossentropy with y holding the class index
/// (one column of integers in [0, classes)).
template <typename Scalar = float>
class SparseCategoricalCrossentropy : public Loss<Scalar> {
 public:
  explicit SparseCategoricalCrossentropy(bool from_logits = false) : from_logits_(from_logits) {}
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<SparseCategoricalCrossentropy>(*this); }
  bool from_logits() const { return from_logits_; }
  bool fuses(Activation a) const override { return !from_logits_ && a == Activation::softmax; }

  void check_shapes(Index y_cols, Index out_cols) const override {
    if (y_cols != 1)
      kerascpp::detail::fail(name(), ": y must have 1 column holding class indices, received ", y_cols,
                             " columns (use categorical_crossentropy for one-hot targets)");
    if (out_cols < 2)
      kerascpp::detail::fail(name(), ": the model output must have one column per class (at least 2), received ",
                             out_cols);
  }

  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, Eigen::Ref<Vector<Scalar>> out) const override {
    for (Index i = 0; i < p.rows(); ++i) {
      const Index k = static_cast<Index>(y(i, 0));
      if (fused || from_logits_) {
        const Scalar zmax = p.row(i).maxCoeff();
        out(i) = zmax + std::log((p.row(i).array() - zmax).exp().sum()) - p(i, k);  // logsumexp(z) − z_k
      } else {
        const Scalar q = std::clamp(p(i, k) / p.row(i).sum(), Scalar(epsilon), Scalar(1 - epsilon));
        out(i) = -std::log(q);
      }
    }
  }

 protected:
  void check_target(double v, Index row, Index, Index classes) const override {
    if (!(v >= 0.0 && v < static_cast<double>(classes) && v == std::floor(v)))
      kerascpp::detail::fail("sparse_categorical_crossentropy: labels must be integers in [0, ", classes,
                             "), received ", v, " at row ", row);
  }
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, MatrixView<Scalar> g) const override {
    for (Index i = 0; i < p.rows(); ++i) {
      const Index k = static_cast<Index>(y(i, 0));
      if (fused || from_logits_) {  // softmax(z) − onehot
        const Scalar zmax = p.row(i).maxCoeff();
        g.row(i) = (p.row(i).array() - zmax).exp().matrix();
        g.row(i) /= g.row(i).sum();
        g(i, k) -= Scalar(1);
      } else {  // only q_k enters: dl/dp_j = 1/S − [j = k]/p_k, zero where q_k is clipped
        const Scalar total = p.row(i).sum();
        const Scalar q = p(i, k) / total;
        if (q < Scalar(epsilon) || q > Scalar(1 - epsilon)) {
          g.row(i).setZero();
        } else {
          g.row(i).setConstant(Scalar(1) / total);
          g(i, k) -= Scalar(1) / p(i, k);
        }
      }
    }
  }

 private:
  bool from_logits_;
};

inline constexpr std::array<std::string_view, 10> names{
    "mean_absolute_error", "mae", "mean_squared_error", "mse", "huber", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "huber_loss", "bce"};

/// Resolves a Keras loss name ("mae", "binary_crossentropy", ...).
template <typename Scalar = float>
std::unique_ptr<Loss<Scalar>> get(std::string_view name) {
  if (name == "mean_absolute_error" || name == "mae") return std::make_unique<MeanAbsoluteError<Scalar>>();
  if (name == "mean_squared_error" || name == "mse") return std::make_unique<MeanSquaredError<Scalar>>();
  if (name == "huber" || name == "huber_loss") return std::make_unique<Huber<Scalar>>();
  if (name == "binary_crossentropy" || name == "bce") return std::make_unique<BinaryCrossentropy<Scalar>>();
  if (name == "categorical_crossentropy") return std::make_unique<CategoricalCrossentropy<Scalar>>();
  if (name == "sparse_categorical_crossentropy") return std::make_unique<SparseCategoricalCrossentropy<Scalar>>();
  kerascpp::detail::fail("unknown loss '", name, "'; valid names are: ",
                         kerascpp::detail::join(std::vector<std::string>(names.begin(), names.end())));
}

}  // namespace losses
}  // namespace kerascpp
