// kerascpp/losses.hpp — Keras losses. Each computes per-sample losses l_i (the mean over the
// output columns, or the sum over classes for cross-entropies) and their gradient; the batch loss
// is Σ w_i·l_i / batch ("sum_over_batch_size"), and the 1/batch factor lives here only.
#pragma once

#include <kerascpp/activations.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/registry.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>

namespace kerascpp {

template <typename Scalar = float>
class Loss {
 public:
  using scalar_type = Scalar;
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
    Scalar* g = grad.data();
    const Scalar* w = scale.data();
    const Index c = grad.cols();
    if (c == 1) {
      for (Index i = 0; i < grad.rows(); ++i) g[i] *= w[i];  // one contiguous column: vectorised
    } else {
      for (Index i = 0; i < grad.rows(); ++i)
        for (Index j = 0; j < c; ++j) g[i * c + j] *= w[i];  // g_ij · scale_i
    }
  }

 protected:
  virtual void check_target(double, Index, Index, Index) const {}
  virtual void unscaled_gradient(ConstMatrixView<Scalar> y_true, ConstMatrixView<Scalar> pred, bool fused,
                                 MatrixView<Scalar> grad) const = 0;
};

namespace losses {

inline constexpr double epsilon = 1e-7;  // Keras backend epsilon, clips probabilities

namespace detail {

/// out_i = Σ_j f(ŷ_ij, y_ij) / C over the rows of y and ŷ (rows × C).
template <typename Scalar, typename F>
void row_means(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Scalar* out, F f) {
  const Scalar* yp = y.data();
  const Scalar* pp = p.data();
  const Index c = p.cols();
  if (c == 1) {  // one contiguous column: vectorised
    for (Index i = 0; i < p.rows(); ++i) out[i] = f(pp[i], yp[i]);
    return;
  }
  for (Index i = 0; i < p.rows(); ++i) {
    kerascpp::detail::Accumulator<Scalar> sum = 0;
    for (Index j = 0; j < c; ++j) sum += f(pp[i * c + j], yp[i * c + j]);
    out[i] = Scalar(sum) / Scalar(c);
  }
}

/// g_k = f(ŷ_k, y_k) over every element.
template <typename Scalar, typename F>
void elementwise(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, MatrixView<Scalar> g, F f) {
  const Scalar* yp = y.data();
  const Scalar* pp = p.data();
  Scalar* gp = g.data();
  for (Index k = 0, n = p.size(); k < n; ++k) gp[k] = f(pp[k], yp[k]);
}

/// out_i = mean_j |ŷ_ij − y_ij| (shared with metrics::MeanAbsoluteError).
template <typename Scalar>
void mean_absolute_error(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Scalar* out) {
  row_means(y, p, out, [](Scalar a, Scalar b) { return std::abs(a - b); });
}

/// out_i = mean_j (ŷ_ij − y_ij)² (shared with metrics::MeanSquaredError).
template <typename Scalar>
void mean_squared_error(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Scalar* out) {
  row_means(y, p, out, [](Scalar a, Scalar b) { return (a - b) * (a - b); });
}

/// logsumexp(z) = max z + log Σ e^(z − max z) over c logits, vectorised.
template <typename Scalar>
Scalar logsumexp(const Scalar* z, Index c) {
  const Scalar zmax = *std::max_element(z, z + c);
  kerascpp::detail::Accumulator<Scalar> total = 0;
  kerascpp::detail::through_packets<Scalar>(
      c, [z, zmax](Index k) { return z[k] - zmax; }, kerascpp::detail::exp_nonpositive_packets<Scalar>,
      [&total](Index, Scalar e) { total += e; });
  return zmax + std::log(Scalar(total));
}

/// Cross-entropy of one row of c values against the targets t = y(1 − s) + s/c (any non-negative weights):
/// probabilities: q = clip(p / Σp, ε, 1 − ε), l = −Σ t·log q;
/// logits:        l = Σt · logsumexp(z) − t·z.
template <typename Scalar>
Scalar cross_entropy_row(const Scalar* y, const Scalar* p, Index c, Scalar s, bool logits) {
  const Scalar shift = s / Scalar(c);
  if (logits) {
    const Scalar lse = logsumexp(p, c);
    kerascpp::detail::Accumulator<Scalar> t_sum = 0, t_dot_z = 0;
    for (Index j = 0; j < c; ++j) {
      const Scalar t = y[j] * (Scalar(1) - s) + shift;
      t_sum += t;
      t_dot_z += t * p[j];
    }
    return Scalar(t_sum) * lse - Scalar(t_dot_z);
  }
  const Scalar total = kerascpp::detail::sum(p, c);
  kerascpp::detail::Accumulator<Scalar> t_log_q = 0;
  for (Index j = 0; j < c; ++j) {
    const Scalar q = std::min(std::max(p[j] / total, Scalar(epsilon)), Scalar(1 - epsilon));
    t_log_q += (y[j] * (Scalar(1) - s) + shift) * std::log(q);
  }
  return -Scalar(t_log_q);
}

/// Gradient of cross_entropy_row with respect to p (probabilities), written into g:
/// q_j = p_j / S clipped; dl/dp_k = −t_k·[k unclipped]/(q_k S) + Σ_j t_j·[j unclipped]·p_j/(q_j S²)
template <typename Scalar>
void cross_entropy_row_gradient(const Scalar* y, const Scalar* p, Index c, Scalar s, Scalar* g) {
  const Scalar shift = s / Scalar(c);
  const Scalar total = kerascpp::detail::sum(p, c);
  kerascpp::detail::Accumulator<Scalar> acc = 0;
  for (Index k = 0; k < c; ++k) {
    const Scalar t = y[k] * (Scalar(1) - s) + shift;
    const Scalar q = p[k] / total;
    const bool inside = q >= Scalar(epsilon) && q <= Scalar(1 - epsilon);
    g[k] = inside ? -t / (q * total) : Scalar(0);
    if (inside) acc += t * p[k] / (q * total * total);
  }
  for (Index k = 0; k < c; ++k) g[k] += Scalar(acc);
}

}  // namespace detail

/// mae: l = mean |ŷ − y|
template <typename Scalar = float>
class MeanAbsoluteError : public Loss<Scalar> {
 public:
  std::string name() const override { return "mean_absolute_error"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<MeanAbsoluteError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, Eigen::Ref<Vector<Scalar>> out) const override {
    detail::mean_absolute_error(y, p, out.data());
  }

 protected:
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, MatrixView<Scalar> g) const override {
    const Scalar inv_c = Scalar(1) / Scalar(p.cols());
    detail::elementwise(y, p, g, [inv_c](Scalar a, Scalar b) {
      const Scalar e = a - b;
      return Scalar((e > Scalar(0)) - (e < Scalar(0))) * inv_c;  // sign(ŷ − y) / C
    });
  }
};

/// mse: l = mean (ŷ − y)²
template <typename Scalar = float>
class MeanSquaredError : public Loss<Scalar> {
 public:
  std::string name() const override { return "mean_squared_error"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<MeanSquaredError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, Eigen::Ref<Vector<Scalar>> out) const override {
    detail::mean_squared_error(y, p, out.data());
  }

 protected:
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, MatrixView<Scalar> g) const override {
    const Scalar k = Scalar(2) / Scalar(p.cols());
    detail::elementwise(y, p, g, [k](Scalar a, Scalar b) { return (a - b) * k; });  // 2(ŷ − y) / C
  }
};

/// huber: l = mean of ½e² where |e| ≤ δ, else δ|e| − ½δ²  (e = ŷ − y)
template <typename Scalar = float>
class Huber : public Loss<Scalar> {
 public:
  explicit Huber(double delta = 1.0) : delta_(delta) {
    if (!(delta > 0.0) || !std::isfinite(static_cast<Scalar>(delta)))
      kerascpp::detail::fail("Huber: delta must be positive and finite in the model's Scalar, received delta=", delta);
  }
  std::string name() const override { return "huber"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<Huber>(*this); }
  double delta() const { return delta_; }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar d = Scalar(delta_);
    detail::row_means(y, p, out.data(), [d](Scalar a, Scalar b) {
      const Scalar e = a - b, m = std::abs(e);
      return m <= d ? Scalar(0.5) * e * e : d * m - Scalar(0.5) * d * d;  // ½e², or δ|e| − ½δ²
    });
  }

 protected:
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool, MatrixView<Scalar> g) const override {
    const Scalar d = Scalar(delta_);
    const Scalar inv_c = Scalar(1) / Scalar(p.cols());
    detail::elementwise(y, p, g, [d, inv_c](Scalar a, Scalar b) {
      const Scalar e = a - b;
      return (std::abs(e) <= d ? e : d * (e > 0 ? Scalar(1) : Scalar(-1))) * inv_c;  // e, or δ·sign(e); / C
    });
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
      kerascpp::detail::fail("BinaryCrossentropy: label_smoothing must be in [0, 1], received label_smoothing=",
                             label_smoothing);
  }
  std::string name() const override { return "binary_crossentropy"; }
  std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<BinaryCrossentropy>(*this); }
  bool from_logits() const { return from_logits_; }
  double label_smoothing() const { return smoothing_; }
  bool fuses(Activation a) const override { return !from_logits_ && a == Activation::sigmoid; }

  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar s = Scalar(smoothing_);
    const auto target = [s](Scalar v) { return v * (Scalar(1) - s) + Scalar(0.5) * s; };  // y(1 − s) + s/2
    if (fused || from_logits_) {
      if (p.cols() == 1) {  // one contiguous column: vectorised, log(1 + e^−|z|) through the packet kernels
        const Scalar* zp = p.data();
        const Scalar* yp = y.data();
        Scalar* o = out.data();
        kerascpp::detail::through_packets<Scalar>(
            p.rows(), [zp](Index k) { return -std::abs(zp[k]); },
            [](Scalar* b, Index m) {
              kerascpp::detail::exp_nonpositive_packets(b, m);
              kerascpp::detail::log1p_packets(b, m);
            },
            [zp, yp, o, target](Index k, Scalar l) { o[k] = std::max(zp[k], Scalar(0)) - zp[k] * target(yp[k]) + l; });
      } else {
        detail::row_means(y, p, out.data(), [target](Scalar z, Scalar v) {
          return std::max(z, Scalar(0)) - z * target(v) + std::log1p(std::exp(-std::abs(z)));
        });
      }
    } else {
      detail::row_means(y, p, out.data(), [target](Scalar v, Scalar yv) {
        const Scalar q = std::min(std::max(v, Scalar(epsilon)), Scalar(1 - epsilon));
        const Scalar t = target(yv);
        return -(t * std::log(q) + (Scalar(1) - t) * std::log(Scalar(1) - q));
      });
    }
  }

 protected:
  void check_target(double v, Index row, Index col, Index) const override {
    if (!(v >= 0.0 && v <= 1.0))
      kerascpp::detail::fail("binary_crossentropy: labels must be in [0, 1], received ", v, " at row ", row,
                             ", column ", col);
  }
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, MatrixView<Scalar> g) const override {
    const Scalar s = Scalar(smoothing_);
    const Scalar inv_c = Scalar(1) / Scalar(p.cols());
    const auto target = [s](Scalar v) { return v * (Scalar(1) - s) + Scalar(0.5) * s; };
    if (fused || from_logits_) {
      activations::sigmoid(p.data(), g.data(), p.size());  // σ(z), flat over the contiguous batch
      const Scalar* yp = y.data();
      Scalar* gp = g.data();
      for (Index k = 0, n = p.size(); k < n; ++k) gp[k] = (gp[k] - target(yp[k])) * inv_c;  // (σ(z) − y)/C
    } else {
      const Scalar lo = Scalar(epsilon), hi = Scalar(1 - epsilon);
      detail::elementwise(y, p, g, [=](Scalar v, Scalar yv) {
        return v >= lo && v <= hi ? (v - target(yv)) / (v * (Scalar(1) - v)) * inv_c : Scalar(0);  // (p − y)/(p(1 − p))/C
      });
    }
  }

 private:
  bool from_logits_;
  double smoothing_;
};

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
  void check_shapes(Index y_cols, Index out_cols) const override {
    if (y_cols == 1 && out_cols > 1)  // the usual cause: class indices where one-hot rows are expected
      kerascpp::detail::fail(name(), ": y has 1 column but the model output has ", out_cols, "; the loss needs one-hot ",
                             "targets of the output's width (one-hot encode y), or use sparse_categorical_crossentropy ",
                             "for class indices");
    Loss<Scalar>::check_shapes(y_cols, out_cols);
  }
  bool from_logits() const { return from_logits_; }
  double label_smoothing() const { return smoothing_; }
  bool fuses(Activation a) const override { return !from_logits_ && a == Activation::softmax; }

  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, Eigen::Ref<Vector<Scalar>> out) const override {
    const Index c = p.cols();
    for (Index i = 0; i < p.rows(); ++i)
      out(i) = detail::cross_entropy_row(y.data() + i * c, p.data() + i * c, c, Scalar(smoothing_), fused || from_logits_);
  }

 protected:
  void check_target(double v, Index row, Index col, Index) const override {
    if (!(v >= 0.0 && v <= 1.0))
      kerascpp::detail::fail("categorical_crossentropy: targets must be in [0, 1] (one-hot), received ", v, " at row ",
                             row, ", column ", col);
  }
  void unscaled_gradient(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, bool fused, MatrixView<Scalar> g) const override {
    const Scalar s = Scalar(smoothing_), shift = s / Scalar(p.cols());
    const Index c = p.cols();
    if (fused || from_logits_) {  // softmax(z)·Σt − t, the softmax vectorised over the whole batch
      activations::softmax(p.data(), g.data(), p.rows(), c);
      for (Index i = 0; i < p.rows(); ++i) {
        const Scalar* yi = y.data() + i * c;
        Scalar* gi = g.data() + i * c;
        kerascpp::detail::Accumulator<Scalar> sum_t = 0;
        for (Index j = 0; j < c; ++j) sum_t += yi[j] * (Scalar(1) - s) + shift;
        const Scalar t_sum = Scalar(sum_t);
        for (Index j = 0; j < c; ++j) gi[j] = gi[j] * t_sum - (yi[j] * (Scalar(1) - s) + shift);
      }
      return;
    }
    for (Index i = 0; i < p.rows(); ++i)
      detail::cross_entropy_row_gradient(y.data() + i * c, p.data() + i * c, c, s, g.data() + i * c);
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
    const Index c = p.cols();
    for (Index i = 0; i < p.rows(); ++i) {
      const Scalar* pi = p.data() + i * c;
      const Index k = static_cast<Index>(y.data()[i]);
      if (fused || from_logits_) {
        out(i) = detail::logsumexp(pi, c) - pi[k];  // logsumexp(z) − z_k
      } else {
        const Scalar total = kerascpp::detail::sum(pi, c);
        const Scalar q = std::clamp(pi[k] / total, Scalar(epsilon), Scalar(1 - epsilon));
        out(i) = -std::log(q);  // −log clip(p_k / Σp)
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
    const Index c = p.cols();
    if (fused || from_logits_) {  // softmax(z) − onehot, the softmax vectorised over the whole batch
      activations::softmax(p.data(), g.data(), p.rows(), c);
      for (Index i = 0; i < p.rows(); ++i) g.data()[i * c + static_cast<Index>(y.data()[i])] -= Scalar(1);
      return;
    }
    for (Index i = 0; i < p.rows(); ++i) {  // only q_k enters: dl/dp_j = 1/S − [j = k]/p_k, zero where q_k is clipped
      const Scalar* pi = p.data() + i * c;
      Scalar* gi = g.data() + i * c;
      const Index k = static_cast<Index>(y.data()[i]);
      const Scalar total = kerascpp::detail::sum(pi, c);
      const Scalar q = pi[k] / total;
      const bool clipped = q < Scalar(epsilon) || q > Scalar(1 - epsilon);
      for (Index j = 0; j < c; ++j) gi[j] = clipped ? Scalar(0) : Scalar(1) / total;
      if (!clipped) gi[k] -= Scalar(1) / pi[k];
    }
  }

 private:
  bool from_logits_;
};

}  // namespace losses

namespace detail {

/// The loss registry of Scalar with the built-in losses first, enough to make one by name: without
/// their codecs, which only saving and loading need (loss_registry attaches them).
template <typename Scalar>
Registry<LossEntry<Scalar>>& loss_makers() {
  using namespace losses;
  return registry_with_builtins<LossEntry<Scalar>>([] {
    return std::vector{loss_maker_entry<MeanAbsoluteError<Scalar>>("mean_absolute_error", {"mae"}),
                       loss_maker_entry<MeanSquaredError<Scalar>>("mean_squared_error", {"mse"}),
                       loss_maker_entry<Huber<Scalar>>("huber", {"huber_loss"}),
                       loss_maker_entry<BinaryCrossentropy<Scalar>>("binary_crossentropy", {"bce"}),
                       loss_maker_entry<CategoricalCrossentropy<Scalar>>("categorical_crossentropy"),
                       loss_maker_entry<SparseCategoricalCrossentropy<Scalar>>("sparse_categorical_crossentropy")};
  });
}

}  // namespace detail

namespace losses {

/// Resolves a Keras loss name or alias ("mae", "binary_crossentropy", a registered loss's name)
/// to the loss with its default arguments.
template <typename Scalar = float>
std::unique_ptr<Loss<Scalar>> get(std::string_view name) {
  const auto& registry = kerascpp::detail::loss_makers<Scalar>();
  const auto* entry = registry.find_alias(name, [](std::string_view a, std::string_view b) { return a == b; });
  if (entry == nullptr)
    kerascpp::detail::fail("unknown loss ", kerascpp::detail::quote(name),
                           kerascpp::detail::did_you_mean(name, registry.names_and_aliases()),
                           "; valid names are: ", kerascpp::detail::join(registry.names_and_aliases()));
  if (entry->make == nullptr)
    kerascpp::detail::fail("loss '", entry->name, "' has no default arguments; give compile the loss object instead of its name");
  return entry->make();
}

/// How each loss is saved: its parameters as config keys.
template <typename Scalar>
struct MeanAbsoluteErrorCodec {
  static std::unique_ptr<Loss<Scalar>> from_config(ConfigReader&) { return std::make_unique<MeanAbsoluteError<Scalar>>(); }
  static Config get_config(const MeanAbsoluteError<Scalar>&) { return {}; }
};

template <typename Scalar>
struct MeanSquaredErrorCodec {
  static std::unique_ptr<Loss<Scalar>> from_config(ConfigReader&) { return std::make_unique<MeanSquaredError<Scalar>>(); }
  static Config get_config(const MeanSquaredError<Scalar>&) { return {}; }
};

template <typename Scalar>
struct HuberCodec {
  static std::unique_ptr<Loss<Scalar>> from_config(ConfigReader& c) { return std::make_unique<Huber<Scalar>>(c.number("delta")); }
  static Config get_config(const Huber<Scalar>& l) { return {{"delta", kerascpp::detail::number(l.delta())}}; }
};

/// binary_crossentropy and categorical_crossentropy: from_logits and label_smoothing.
template <template <typename> class L>
struct SmoothedCrossentropyCodec {
  template <typename Scalar>
  struct Of {
    static std::unique_ptr<Loss<Scalar>> from_config(ConfigReader& c) {
      const bool from_logits = c.boolean("from_logits");
      const double smoothing = c.number("label_smoothing");
      return std::make_unique<L<Scalar>>(from_logits, smoothing);
    }
    static Config get_config(const L<Scalar>& l) {
      return {{"from_logits", l.from_logits() ? "true" : "false"},
              {"label_smoothing", kerascpp::detail::number(l.label_smoothing())}};
    }
  };
};

template <typename Scalar>
struct SparseCategoricalCrossentropyCodec {
  static std::unique_ptr<Loss<Scalar>> from_config(ConfigReader& c) {
    return std::make_unique<SparseCategoricalCrossentropy<Scalar>>(c.boolean("from_logits"));
  }
  static Config get_config(const SparseCategoricalCrossentropy<Scalar>& l) {
    return {{"from_logits", l.from_logits() ? "true" : "false"}};
  }
};

}  // namespace losses

/// The loss registry of Scalar, with the built-in losses first (loss_makers), each with its codec.
template <typename Scalar>
Registry<LossEntry<Scalar>>& loss_registry() {
  using namespace losses;
  static Registry<LossEntry<Scalar>>& registry = []() -> Registry<LossEntry<Scalar>>& {
    auto& makers = kerascpp::detail::loss_makers<Scalar>();
    for (const auto& codec :
         {loss_codec<MeanAbsoluteError<Scalar>, MeanAbsoluteErrorCodec<Scalar>>(),
          loss_codec<MeanSquaredError<Scalar>, MeanSquaredErrorCodec<Scalar>>(), loss_codec<Huber<Scalar>, HuberCodec<Scalar>>(),
          loss_codec<BinaryCrossentropy<Scalar>, typename SmoothedCrossentropyCodec<BinaryCrossentropy>::template Of<Scalar>>(),
          loss_codec<CategoricalCrossentropy<Scalar>,
                     typename SmoothedCrossentropyCodec<CategoricalCrossentropy>::template Of<Scalar>>(),
          loss_codec<SparseCategoricalCrossentropy<Scalar>, SparseCategoricalCrossentropyCodec<Scalar>>()})
      makers.attach_codec(codec);
    return makers;
  }();
  return registry;
}

}  // namespace kerascpp
