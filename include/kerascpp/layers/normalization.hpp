// kerascpp/layers/normalization.hpp — Normalization (Keras's preprocessing layer) over the feature
// axis: y = (x − mean) / max(sqrt(variance), ε), or with invert x = mean + y · max(sqrt(variance), ε),
// ε = 1e-7 (Keras's backend epsilon). The per-feature mean and population variance come from
// `adapt(x)` or from the constructor, and are the layer's two non-trainable weights.
#pragma once

#include <kerascpp/layers/layer.hpp>
#include <kerascpp/registry.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp::layers {

/// Normalization(axis = -1, mean = {}, variance = {}, invert = false). Rows are samples, columns
/// features; statistics are per feature (axis −1, or 1, the same axis of (batch, features) inputs).
/// `mean` and `variance` given together (one value for every feature, or one per feature) fix the
/// statistics; otherwise `adapt(x)` computes them. Until then the weights `mean` and `variance`
/// (1 × features, non-trainable) hold NaN, and using the layer throws StateError; any way of setting
/// them (adapt, set_weights, load_weights, load_model) makes it usable.
template <typename Scalar = float>
class Normalization : public Layer<Scalar> {
 public:
  /// Keras's backend epsilon, the smallest standard deviation divided by.
  static constexpr double epsilon = 1e-7;

  explicit Normalization(int axis = -1, std::vector<double> mean = {}, std::vector<double> variance = {},
                         bool invert = false, input_shape shape = {})
      : axis_(axis), mean_values_(std::move(mean)), variance_values_(std::move(variance)), invert_(invert) {
    if (axis != -1 && axis != 1)
      detail::fail("Normalization: axis must be -1 or 1 (the feature axis of (batch, features) inputs), received axis=",
                   axis);
    if (mean_values_.size() != variance_values_.size())
      detail::fail("Normalization: mean and variance must be given together and with as many values, received ",
                   mean_values_.size(), " mean value(s) and ", variance_values_.size(), " variance value(s)");
    for (std::size_t j = 0; j < mean_values_.size(); ++j) {
      if (!std::isfinite(static_cast<Scalar>(mean_values_[j])))  // finite in the model's Scalar too
        detail::fail("Normalization: mean must be finite in the model's Scalar, received mean[", j, "]=", mean_values_[j]);
      if (!(variance_values_[j] >= 0.0) || !std::isfinite(static_cast<Scalar>(variance_values_[j])))
        detail::fail("Normalization: variance must be finite and non-negative, received variance[", j, "]=",
                     variance_values_[j]);
    }
    if (shape.width < 0) detail::fail("Normalization: input_shape must be positive, received input_shape=", shape.width);
    this->declared_input_width_ = shape.width;
  }

  std::string type() const override { return "Normalization"; }
  std::string name_prefix() const override { return "normalization"; }
  std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Normalization>(*this); }
  Config config() const override {
    Config c{{"axis", std::to_string(axis_)}, {"invert", invert_ ? "true" : "false"}};
    if (!mean_values_.empty()) {
      c["mean"] = joined(mean_values_);
      c["variance"] = joined(variance_values_);
    }
    return c;
  }
  Index output_width() const override { return this->input_width_; }
  int axis() const { return axis_; }
  bool invert() const { return invert_; }
  /// The constructor's mean and variance (empty when not given).
  const std::vector<double>& given_mean() const { return mean_values_; }
  const std::vector<double>& given_variance() const { return variance_values_; }

  /// Computes each feature's mean and population variance (Σ(x − mean)² / rows, numpy's `var`) of
  /// `data` (rows × features, finite) and makes them the layer's statistics. Builds the layer for
  /// data's width when it is not built (and then declares that width as its input_shape).
  template <typename Derived>
  void adapt(const Eigen::MatrixBase<Derived>& data) {
    static_assert(std::is_same_v<typename Derived::Scalar, Scalar>, "Normalization.adapt: data must hold the layer's Scalar");
    const Index rows = data.rows(), cols = data.cols();
    if (rows < 1 || cols < 1)
      detail::fail("Normalization.adapt: data is empty, shape ", detail::shape_string(rows, cols),
                   "; expected at least one row and one column");
    detail::check_finite(data, "Normalization.adapt", "data");
    if (this->built_ && cols != this->input_width_)
      detail::fail("Normalization.adapt: the layer is built for input width ", this->input_width_,
                   ", received data with ", cols, " columns");
    if (!this->built_) {
      Rng unused(0);
      this->build(cols, unused);
    }
    if (this->declared_input_width_ == 0) this->declared_input_width_ = cols;
    const double n = static_cast<double>(rows);
    Matrix<Scalar> mean(1, cols), variance(1, cols);
    for (Index j = 0; j < cols; ++j) {
      double sum = 0.0;
      for (Index i = 0; i < rows; ++i) sum += static_cast<double>(data(i, j));
      double m = sum / n;  // mean_j = Σ_i x_ij / rows
      if (!std::isfinite(m)) {  // Σ x_ij overflowed (doubles near 1e308): the same mean, summed as Σ_i x_ij / rows
        m = 0.0;
        for (Index i = 0; i < rows; ++i) m += static_cast<double>(data(i, j)) / n;
      }
      double squares = 0.0;
      for (Index i = 0; i < rows; ++i) {
        const double d = static_cast<double>(data(i, j)) - m;
        squares += d * d;
      }
      const double var = squares / n;  // var_j = Σ_i (x_ij − mean_j)² / rows
      if (!(var <= static_cast<double>(std::numeric_limits<Scalar>::max())))
        detail::fail("Normalization.adapt: the variance of column ", j, " (", var, ") is beyond the range of the ",
                     "layer's ", detail::scalar_name<Scalar>(), " (at most ", std::numeric_limits<Scalar>::max(),
                     "); scale the data down before adapting");
      mean(0, j) = static_cast<Scalar>(m);
      variance(0, j) = static_cast<Scalar>(var);
    }
    for (Index j = 0; j < cols; ++j) {  // the layer changes only when every column's statistics fit
      mean_(0, j) = mean(0, j);
      variance_(0, j) = variance(0, j);
    }
  }

  /// Whether the layer holds statistics (no NaN mean, no NaN or negative variance).
  bool has_statistics() const {
    if (!this->built_) return !mean_values_.empty();
    for (Index j = 0; j < mean_.cols(); ++j)
      if (std::isnan(mean_(0, j)) || !(variance_(0, j) >= Scalar(0))) return false;
    return true;
  }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool /*training*/) override {
    if (!has_statistics())
      throw StateError(detail::cat(this->name_.empty() ? type() : this->name_,
                                   " (Normalization): the layer has no statistics yet (its mean or variance is NaN, or ",
                                   "the variance negative); call adapt(x) first, give mean and variance to the ",
                                   "constructor, or load weights. A model holds a copy of each layer, made when the ",
                                   "layer was added, so adapt() on your own variable afterwards does not reach it: ",
                                   "adapt the layer before adding it, or adapt the model's copy, ",
                                   "dynamic_cast<kerascpp::layers::Normalization<",
                                   std::is_same_v<Scalar, double> ? "double" : "float",
                                   ">&>(model.layer(i)).adapt(x) with i its position"));
    const Index n = this->input_width_;
    for (Index j = 0; j < n; ++j) {
      const Scalar root = std::sqrt(variance_(0, j));
      denominator_(j) = root > Scalar(epsilon) ? root : Scalar(epsilon);  // max(sqrt(var_j), ε)
    }
    rows_ = x.rows();
    auto y = y_.view(rows_, n);
    if (invert_)
      y.array() = (x.array().rowwise() * denominator_.array()).rowwise() + mean_.row(0).array();  // mean + x·d
    else
      y.array() = (x.array().rowwise() - mean_.row(0).array()).rowwise() / denominator_.array();  // (x − mean) / d
    return as_const(y);
  }

  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool /*logits_grad*/) override {
    this->require_forward(rows_);
    if (!need_input_grad) return this->empty_view();
    auto dx = dx_.view(rows_, this->input_width_);
    if (invert_) dx.array() = dy.array().rowwise() * denominator_.array();  // dx = dy · d
    else dx.array() = dy.array().rowwise() / denominator_.array();          // dx = dy / d
    return as_const(dx);
  }

  std::vector<Weight<Scalar>> weights() override {
    if (!this->built_) return {};
    return {{"mean", &mean_, nullptr}, {"variance", &variance_, nullptr}};
  }

 protected:
  /// The statistics of a layer built before for the same width (adapted, given or loaded) are kept:
  /// they are data, not an initialization.
  void build_weights(Rng&) override {
    const Index n = this->input_width_;
    const bool keep = mean_.rows() == 1 && mean_.cols() == n;
    const RowVector<Scalar> kept_mean = keep ? RowVector<Scalar>(mean_.row(0)) : RowVector<Scalar>();
    const RowVector<Scalar> kept_variance = keep ? RowVector<Scalar>(variance_.row(0)) : RowVector<Scalar>();
    if (!keep && !mean_values_.empty() && mean_values_.size() != 1 && static_cast<Index>(mean_values_.size()) != n)
      detail::fail("Normalization: mean and variance have ", mean_values_.size(), " values but the input has width ", n,
                   "; give one value or ", n);
    mean_.resize(1, n);
    variance_.resize(1, n);
    for (Index j = 0; j < n; ++j) {
      if (keep) {
        mean_(0, j) = kept_mean(j);
        variance_(0, j) = kept_variance(j);
      } else if (!mean_values_.empty()) {
        const std::size_t k = mean_values_.size() == 1 ? 0 : static_cast<std::size_t>(j);
        mean_(0, j) = static_cast<Scalar>(mean_values_[k]);
        variance_(0, j) = static_cast<Scalar>(variance_values_[k]);
      } else {
        mean_(0, j) = std::numeric_limits<Scalar>::quiet_NaN();  // no statistics until adapt
        variance_(0, j) = std::numeric_limits<Scalar>::quiet_NaN();
      }
    }
    denominator_.setZero(n);
  }

 private:
  static std::string joined(const std::vector<double>& values) {
    std::vector<std::string> text;
    for (const double v : values) text.push_back(detail::number(v));
    return detail::join(text, ",");
  }

  int axis_;
  std::vector<double> mean_values_, variance_values_;
  bool invert_;
  Param<Scalar> mean_, variance_;  // (1 × n), non-trainable
  RowVector<Scalar> denominator_;  // max(sqrt(variance), ε)  (1 × n)
  Buffer<Scalar> y_, dx_;
  Index rows_ = -1;
};

/// How Normalization is saved: axis, invert and, when given to the constructor, mean and variance
/// (comma-separated numbers); its weights mean and variance (each 1 × width, non-trainable).
template <typename Scalar>
struct NormalizationCodec {
  static LayerPtr<Scalar> from_config(ConfigReader& c, input_shape shape) {
    const auto axis = static_cast<int>(c.integer("axis", -1, 1));
    const bool invert = c.boolean("invert");
    std::vector<double> mean, variance;
    if (c.optional_text("mean")) mean = c.list<double>("mean");
    if (c.optional_text("variance")) variance = c.list<double>("variance");
    c.finish();
    if (!mean.empty() && mean.size() != 1 && shape.width != 0 && static_cast<Index>(mean.size()) != shape.width)
      c.fail(detail::cat("a Normalization layer declaring input width ", shape.width, " cannot hold ", mean.size(),
                         " mean values"));
    return std::make_unique<Normalization<Scalar>>(axis, std::move(mean), std::move(variance), invert, shape);
  }
  static std::vector<WeightSpec> weight_specs(const Normalization<Scalar>&, Index width, Index& output_width) {
    output_width = width;
    return {{"mean", 1, width, false}, {"variance", 1, width, false}};
  }
  static Config sample_config() { return {{"axis", "-1"}, {"invert", "false"}, {"mean", "0.5"}, {"variance", "2"}}; }
};

}  // namespace kerascpp::layers
