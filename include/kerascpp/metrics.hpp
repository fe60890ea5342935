// kerascpp/metrics.hpp — Keras metrics as per-sample values averaged over an epoch with sample
// weights: result = Σ w_i·m_i / Σ w_i (root_mean_squared_error takes the square root after).
#pragma once

#include <kerascpp/losses.hpp>

#include <memory>
#include <string>

namespace kerascpp {

namespace detail {
/// The index of the first largest of n values (numpy/TF argmax on ties).
template <typename Scalar>
Index argmax(const Scalar* v, Index n) {
  Index best = 0;
  for (Index j = 1; j < n; ++j)
    if (v[j] > v[best]) best = j;
  return best;
}
}  // namespace detail

template <typename Scalar = float>
class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  virtual std::unique_ptr<Metric> clone() const = 0;
  /// The History key: the name the user typed.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  /// m_i for each row of the batch.
  virtual void per_sample(ConstMatrixView<Scalar> y_true, ConstMatrixView<Scalar> y_pred,
                          Eigen::Ref<Vector<Scalar>> out) const = 0;
  /// Turns the weighted mean of the per-sample values into the reported value.
  virtual double finalize(double mean) const { return mean; }

 private:
  std::string name_;
};

namespace metrics {

/// Fraction of outputs where (ŷ > threshold) equals y.
template <typename Scalar = float>
class BinaryAccuracy : public Metric<Scalar> {
 public:
  explicit BinaryAccuracy(std::string name = "binary_accuracy", double threshold = 0.5)
      : Metric<Scalar>(std::move(name)), threshold_(threshold) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<BinaryAccuracy>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    const Scalar t = Scalar(threshold_);
    losses::detail::row_means(y, p, out.data(), [t](Scalar v, Scalar label) {
      return Scalar(v > t) == label ? Scalar(1) : Scalar(0);  // [(ŷ > threshold) = y]
    });
  }

 private:
  double threshold_;
};

/// 1 where argmax ŷ equals argmax y (one-hot targets).
template <typename Scalar = float>
class CategoricalAccuracy : public Metric<Scalar> {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<CategoricalAccuracy>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    const Index c = p.cols();
    for (Index i = 0; i < p.rows(); ++i)
      out(i) = detail::argmax(p.data() + i * c, c) == detail::argmax(y.data() + i * c, c) ? Scalar(1) : Scalar(0);
  }
};

/// 1 where argmax ŷ equals the class index held in y.
template <typename Scalar = float>
class SparseCategoricalAccuracy : public Metric<Scalar> {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<SparseCategoricalAccuracy>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    const Index c = p.cols();
    for (Index i = 0; i < p.rows(); ++i)
      out(i) = static_cast<Scalar>(detail::argmax(p.data() + i * c, c)) == y.data()[i] ? Scalar(1) : Scalar(0);
  }
};

/// mean |ŷ − y|
template <typename Scalar = float>
class MeanAbsoluteError : public Metric<Scalar> {
 public:
  explicit MeanAbsoluteError(std::string name = "mean_absolute_error") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<MeanAbsoluteError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    losses::detail::mean_absolute_error(y, p, out.data());
  }
};

/// mean (ŷ − y)²
template <typename Scalar = float>
class MeanSquaredError : public Metric<Scalar> {
 public:
  explicit MeanSquaredError(std::string name = "mean_squared_error") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<MeanSquaredError>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    losses::detail::mean_squared_error(y, p, out.data());
  }
};

/// sqrt of the weighted mean of (ŷ − y)² over the epoch
template <typename Scalar = float>
class RootMeanSquaredError : public MeanSquaredError<Scalar> {
 public:
  explicit RootMeanSquaredError(std::string name = "root_mean_squared_error")
      : MeanSquaredError<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<RootMeanSquaredError>(*this); }
  double finalize(double mean) const override { return std::sqrt(mean); }
};

inline constexpr std::array<std::string_view, 11> names{
    "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "mean_absolute_error", "mae", "mean_squared_error", "mse", "root_mean_squared_error", "rmse"};

/// Resolves a Keras metric name. "accuracy"/"acc" become binary, sparse categorical or categorical
/// accuracy from the shapes, as Keras does (one output column: binary; one target column and
/// several outputs: sparse categorical; otherwise categorical), and keep the name the user typed.
template <typename Scalar = float>
std::unique_ptr<Metric<Scalar>> get(std::string_view name, Index y_cols, Index out_cols) {
  const std::string typed(name);
  if (name == "accuracy" || name == "acc") {
    if (out_cols == 1) return std::make_unique<BinaryAccuracy<Scalar>>(typed);
    if (y_cols == 1) return std::make_unique<SparseCategoricalAccuracy<Scalar>>(typed);
    return std::make_unique<CategoricalAccuracy<Scalar>>(typed);
  }
  if (name == "binary_accuracy") return std::make_unique<BinaryAccuracy<Scalar>>(typed);
  if (name == "categorical_accuracy") return std::make_unique<CategoricalAccuracy<Scalar>>(typed);
  if (name == "sparse_categorical_accuracy") return std::make_unique<SparseCategoricalAccuracy<Scalar>>(typed);
  if (name == "mean_absolute_error" || name == "mae") return std::make_unique<MeanAbsoluteError<Scalar>>(typed);
  if (name == "mean_squared_error" || name == "mse") return std::make_unique<MeanSquaredError<Scalar>>(typed);
  if (name == "root_mean_squared_error" || name == "rmse") return std::make_unique<RootMeanSquaredError<Scalar>>(typed);
  detail::fail("unknown metric '", name, "'; valid names are: ",
               detail::join(std::vector<std::string>(names.begin(), names.end())));
}

/// Throws for a name `get` would not resolve, before any data is seen.
inline void validate(std::string_view name) {
  for (auto n : names)
    if (n == name) return;
  detail::fail("unknown metric '", name, "'; valid names are: ",
               detail::join(std::vector<std::string>(names.begin(), names.end())));
}

}  // namespace metrics
}  // namespace kerascpp
