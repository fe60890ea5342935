// kerascpp/metrics/metric.hpp — the Metric interface: a metric keeps a STATE, a fixed number of
// doubles that are sums over samples (Σ w_i·m_i and Σ w_i for a mean, weighted true and false
// positive counts for precision or AUC), so that the state of a data set is the sum of the states
// of its parts; the engine adds the states of batches, of the threads sharing one batch and of
// processes into one flat buffer, and `result` turns a state into the reported values.
#pragma once

#include <kerascpp/core.hpp>

#include <cmath>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

/// a / b, or 0 when b is 0 (Keras's divide_no_nan).
inline double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

/// Σ v_i·w_i as a double: summed in the arrays' Scalar (vectorised), and again with every term in
/// double when that sum is not finite, as sample weights near the largest float can make it.
template <typename V, typename W>
double weighted_sum(const Eigen::ArrayBase<V>& v, const Eigen::ArrayBase<W>& w) {
  const double sum = static_cast<double>((v * w).sum());
  if (std::isfinite(sum)) return sum;
  return (v.template cast<double>() * w.template cast<double>()).sum();
}
}  // namespace detail

/// A metric: its configuration, immutable once made (threads share one object), and the functions
/// that add a batch into a state and turn a state into values. A metric that is a weighted mean of
/// per-sample values defines `per_sample` (and, for a transform of the mean, `finalize`) only; its
/// state is {Σ w_i·m_i, Σ w_i}. Other metrics override `state_size`, `update_state` and `result`.
template <typename Scalar = float>
class Metric {
 public:
  using scalar_type = Scalar;
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  virtual std::unique_ptr<Metric> clone() const = 0;
  /// The History key: the name the user typed.
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  /// Throws ValueError when the metric cannot compare outputs of `out_cols` columns with targets of
  /// `y_cols` columns (the engine asks before the first batch).
  virtual void check_shapes(Index /*y_cols*/, Index /*out_cols*/) const {}

  /// How many doubles the state holds for outputs of `out_cols` columns.
  virtual std::size_t state_size(Index /*out_cols*/) const { return 2; }

  /// Adds the batch's sums into `state` (zeros before the first batch). `w` holds one weight per
  /// row; `scratch` has room for one value per row.
  virtual void update_state(ConstMatrixView<Scalar> y_true, ConstMatrixView<Scalar> y_pred, const Scalar* w,
                            Eigen::Ref<Vector<Scalar>> scratch, std::span<double> state) const {
    per_sample(y_true, y_pred, scratch);
    const Eigen::Map<const Vector<Scalar>> wb(w, y_true.rows());
    state[0] += detail::weighted_sum(scratch.array(), wb.array());                             // Σ w_i·m_i
    state[1] += detail::weighted_sum(wb.array(), Vector<Scalar>::Ones(wb.size()).array());  // Σ w_i
  }

  /// The keys of the values `result` reports, for outputs of `out_cols` columns: the metric's name,
  /// or one key per class for a metric that reports each class (F1Score without an average).
  virtual std::vector<std::string> result_names(Index /*out_cols*/) const { return {name_}; }

  /// The reported values of a state, one per key of `result_names`.
  virtual void result(std::span<const double> state, std::span<double> values) const {
    values[0] = finalize(state[1] > 0 ? state[0] / state[1] : 0.0);
  }

  /// m_i for each row of the batch, for metrics that are weighted means of per-sample values.
  virtual void per_sample(ConstMatrixView<Scalar> /*y_true*/, ConstMatrixView<Scalar> /*y_pred*/,
                          Eigen::Ref<Vector<Scalar>> /*out*/) const {
    throw StateError(detail::cat("metric '", name_, "' defines neither per_sample nor update_state"));
  }
  /// Turns the weighted mean of the per-sample values into the reported value.
  virtual double finalize(double mean) const { return mean; }

 private:
  std::string name_;
};

namespace metrics {

/// A metric's state over whole matrices, as fit accumulates it over an epoch: y_true and y_pred
/// (rows × columns, any Eigen matrices of Scalar), one weight per row (or none: all ones).
template <typename Scalar, typename DY, typename DP>
std::vector<double> accumulate(const Metric<Scalar>& metric, const Eigen::MatrixBase<DY>& y_true,
                               const Eigen::MatrixBase<DP>& y_pred, const Vector<Scalar>& sample_weight = {}) {
  const RowMatrix<Scalar> y = y_true, p = y_pred;
  if (y.rows() != p.rows())
    detail::fail(metric.name(), ": y_true has ", y.rows(), " rows but y_pred has ", p.rows());
  if (sample_weight.size() != 0 && sample_weight.size() != y.rows())
    detail::fail(metric.name(), ": sample_weight has ", sample_weight.size(), " entries but y_true has ", y.rows(),
                 " rows");
  metric.check_shapes(y.cols(), p.cols());
  Vector<Scalar> w = sample_weight;
  if (w.size() == 0) w.setOnes(y.rows());
  std::vector<double> state(metric.state_size(p.cols()), 0.0);
  Vector<Scalar> scratch(y.rows());
  metric.update_state(ConstMatrixView<Scalar>(y.data(), y.rows(), y.cols()),
                      ConstMatrixView<Scalar>(p.data(), p.rows(), p.cols()), w.data(), scratch, state);
  return state;
}

/// The metric's values over whole matrices, by key (as `evaluate` would report them for one batch
/// holding every row).
template <typename Scalar, typename DY, typename DP>
Logs compute(const Metric<Scalar>& metric, const Eigen::MatrixBase<DY>& y_true, const Eigen::MatrixBase<DP>& y_pred,
             const Vector<Scalar>& sample_weight = {}) {
  const std::vector<double> state = accumulate(metric, y_true, y_pred, sample_weight);
  const std::vector<std::string> keys = metric.result_names(y_pred.cols());
  std::vector<double> values(keys.size());
  metric.result(state, values);
  Logs out;
  for (std::size_t k = 0; k < keys.size(); ++k) out[keys[k]] = values[k];
  return out;
}

}  // namespace metrics
}  // namespace kerascpp
