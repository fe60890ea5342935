// kerascpp/metrics/confusion_metrics.hpp — metrics of a thresholded prediction as Keras defines them
// (keras/src/metrics/confusion_metrics.py): Precision, Recall and AUC (ROC or PR curve, Riemann
// sums over Keras's thresholds). Their states are sample-weighted confusion counts; an output is
// predicted positive when ŷ > threshold (strictly) and a target counts as positive when y ≠ 0.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/metrics/metric.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kerascpp::detail {
/// Throws unless a metric's targets and outputs have the same width (they are compared element by
/// element: one-hot or multi-label targets, or one column for a binary classifier).
inline void check_same_width(const std::string& metric, Index y_cols, Index out_cols) {
  if (y_cols != out_cols)
    fail(metric, ": y has ", y_cols, " column(s) but the model output has ", out_cols,
                           "; expected targets of the output's width (one-hot or 0/1 labels per output column; "
                           "sparse class indices need a one-hot encoding for this metric)");
}

/// Throws unless class_id is -1 (every output) or a column of outputs of `out_cols` columns.
inline void check_class_id(const std::string& metric, Index class_id, Index out_cols) {
  if (class_id >= out_cols)
    fail(metric, ": class_id must be in [0, ", out_cols, ") for outputs of ", out_cols,
                           " column(s), or -1 for all of them; received class_id=", class_id);
}
}  // namespace kerascpp::detail

namespace kerascpp::metrics {

/// Weighted counts of true positives, false positives, true negatives and false negatives at one
/// threshold, over every output (class_id = -1) or one output column: the state of Precision and
/// Recall.
template <typename Scalar = float>
class ConfusionCounts : public Metric<Scalar> {
 public:
  static constexpr std::size_t tp = 0, fp = 1, tn = 2, fn = 3;  // places in the state

  ConfusionCounts(std::string what, double thresholds, Index class_id, std::string name)
      : Metric<Scalar>(std::move(name)), what_(std::move(what)), threshold_(thresholds), class_id_(class_id) {
    if (!(thresholds >= 0.0 && thresholds <= 1.0))
      kerascpp::detail::fail(what_, ": thresholds must be in [0, 1], received thresholds=", thresholds);
    if (class_id < -1)
      kerascpp::detail::fail(what_, ": class_id must be -1 (every output) or a column index, received class_id=",
                             class_id);
  }

  double thresholds() const { return threshold_; }
  Index class_id() const { return class_id_; }

  void check_shapes(Index y_cols, Index out_cols) const override {
    kerascpp::detail::check_same_width(what_, y_cols, out_cols);
    kerascpp::detail::check_class_id(what_, class_id_, out_cols);
  }
  std::size_t state_size(Index) const override { return 4; }

  void update_state(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, const Scalar* w, Eigen::Ref<Vector<Scalar>>,
                    std::span<double> state) const override {
    const Scalar t = static_cast<Scalar>(threshold_);
    const Index first = class_id_ < 0 ? 0 : class_id_, last = class_id_ < 0 ? p.cols() : class_id_ + 1;
    for (Index i = 0; i < p.rows(); ++i) {
      const double wi = static_cast<double>(w[i]);
      for (Index j = first; j < last; ++j) {
        const bool predicted = p(i, j) > t, positive = y(i, j) != Scalar(0);  // ŷ > threshold, y ≠ 0
        state[predicted ? (positive ? tp : fp) : (positive ? fn : tn)] += wi;
      }
    }
  }

 private:
  std::string what_;
  double threshold_;
  Index class_id_;
};

/// precision = TP / (TP + FP) (0 when nothing is predicted positive), with ŷ > thresholds counted
/// as positive. Keras's Precision(thresholds=None → 0.5, top_k, class_id, name): one threshold,
/// no top_k.
template <typename Scalar = float>
class Precision : public ConfusionCounts<Scalar> {
 public:
  explicit Precision(double thresholds = 0.5, Index class_id = -1, std::string name = "precision")
      : ConfusionCounts<Scalar>("Precision", thresholds, class_id, std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<Precision>(*this); }
  void result(std::span<const double> s, std::span<double> values) const override {
    values[0] = kerascpp::detail::divide_no_nan(s[this->tp], s[this->tp] + s[this->fp]);  // TP / (TP + FP)
  }
};

/// recall = TP / (TP + FN) (0 when no target is positive). Keras's Recall(thresholds=None → 0.5,
/// top_k, class_id, name): one threshold, no top_k.
template <typename Scalar = float>
class Recall : public ConfusionCounts<Scalar> {
 public:
  explicit Recall(double thresholds = 0.5, Index class_id = -1, std::string name = "recall")
      : ConfusionCounts<Scalar>("Recall", thresholds, class_id, std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<Recall>(*this); }
  void result(std::span<const double> s, std::span<double> values) const override {
    values[0] = kerascpp::detail::divide_no_nan(s[this->tp], s[this->tp] + s[this->fn]);  // TP / (TP + FN)
  }
};

/// The largest num_thresholds of an AUC: its state holds 2·num_thresholds + 2 doubles, allocated
/// before any data is seen, and every batch costs time in proportion to num_thresholds.
inline constexpr std::int64_t max_auc_thresholds = 1'000'000;

/// Area under the ROC curve (true positive rate over false positive rate) or the PR curve
/// (precision over recall), approximated as Keras does from weighted confusion counts at
/// `num_thresholds` thresholds: −1e-7, (i / (num_thresholds − 1)) for i = 1 .. num_thresholds − 2,
/// 1 + 1e-7 (or the sorted `thresholds` given, between −1e-7 and 1 + 1e-7). Every output is one
/// (label, prediction) pair (Keras's multi_label=False). summation_method "interpolation" takes
/// trapezoids on the ROC curve and Davis & Goadrich's interpolation of TP and FP on the PR curve;
/// "minoring" and "majoring" take the lower or upper of the two heights of each interval.
///
/// The state holds, per threshold bucket b, the weight of positive and of negative targets whose
/// prediction exceeds thresholds 0..b and no other, then the total weights of positive and negative
/// targets: TP at threshold i is the sum of the positive buckets b ≥ i, FN the positive total minus
/// TP (FP and TN likewise), the counts Keras keeps.
template <typename Scalar = float>
class AUC : public Metric<Scalar> {
 public:
  explicit AUC(int num_thresholds = 200, std::string curve = "ROC", std::string summation_method = "interpolation",
               std::string name = "auc", std::vector<double> thresholds = {})
      : Metric<Scalar>(std::move(name)) {
    if (curve == "ROC" || curve == "roc") pr_ = false;
    else if (curve == "PR" || curve == "pr") pr_ = true;
    else kerascpp::detail::fail("AUC: curve must be \"ROC\" or \"PR\", received curve=\"", curve, "\"");
    if (summation_method == "interpolation" || summation_method == "Interpolation")
      summation_ = Summation::interpolation;
    else if (summation_method == "minoring" || summation_method == "Minoring") summation_ = Summation::minoring;
    else if (summation_method == "majoring" || summation_method == "Majoring") summation_ = Summation::majoring;
    else
      kerascpp::detail::fail("AUC: summation_method must be \"interpolation\", \"minoring\" or \"majoring\", "
                             "received summation_method=\"", summation_method, "\"");
    constexpr double epsilon = 1e-7;  // Keras's backend epsilon
    std::vector<double> inner;
    if (thresholds.empty()) {
      if (num_thresholds < 2)
        kerascpp::detail::fail("AUC: num_thresholds must be an integer > 1, received num_thresholds=", num_thresholds);
      if (num_thresholds > max_auc_thresholds)
        kerascpp::detail::fail("AUC: num_thresholds must be at most ", max_auc_thresholds,
                               " (the state and the time per batch grow with it), received num_thresholds=",
                               num_thresholds);
      for (int i = 0; i < num_thresholds - 2; ++i) inner.push_back((i + 1) * 1.0 / (num_thresholds - 1));
      even_ = true;
    } else {
      if (thresholds.size() + 2 > static_cast<std::size_t>(max_auc_thresholds))
        kerascpp::detail::fail("AUC: at most ", max_auc_thresholds - 2,
                               " thresholds may be given (the state and the time per batch grow with them), received ",
                               thresholds.size());
      for (std::size_t k = 0; k < thresholds.size(); ++k)
        if (!(thresholds[k] >= 0.0 && thresholds[k] <= 1.0))
          kerascpp::detail::fail("AUC: thresholds must be in [0, 1], received thresholds[", k, "]=", thresholds[k]);
      inner = thresholds;
      std::sort(inner.begin(), inner.end());
      even_ = evenly_distributed(inner);
      specified_thresholds_ = inner;
    }
    thresholds_.push_back(static_cast<Scalar>(0.0 - epsilon));
    for (double t : inner) thresholds_.push_back(static_cast<Scalar>(t));
    thresholds_.push_back(static_cast<Scalar>(1.0 + epsilon));
    curve_name_ = pr_ ? "PR" : "ROC";
    summation_name_ = summation_ == Summation::interpolation ? "interpolation"
                      : summation_ == Summation::minoring    ? "minoring"
                                                             : "majoring";
  }

  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<AUC>(*this); }

  int num_thresholds() const { return static_cast<int>(thresholds_.size()); }
  /// The thresholds, endpoints included.
  const std::vector<Scalar>& thresholds() const { return thresholds_; }
  const std::string& curve() const { return curve_name_; }
  const std::string& summation_method() const { return summation_name_; }
  /// The thresholds given to the constructor, sorted; empty when they are num_thresholds evenly
  /// spaced ones.
  const std::vector<double>& specified_thresholds() const { return specified_thresholds_; }

  void check_shapes(Index y_cols, Index out_cols) const override {
    kerascpp::detail::check_same_width("AUC", y_cols, out_cols);
  }
  std::size_t state_size(Index) const override { return 2 * thresholds_.size() + 2; }

  void update_state(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, const Scalar* w, Eigen::Ref<Vector<Scalar>>,
                    std::span<double> state) const override {
    const std::size_t n = thresholds_.size();
    double* pos = state.data();      // (n) weight of positive targets per bucket
    double* neg = state.data() + n;  // (n) weight of negative targets per bucket
    double& pos_total = state[2 * n];
    double& neg_total = state[2 * n + 1];
    for (Index i = 0; i < p.rows(); ++i) {
      const double wi = static_cast<double>(w[i]);
      for (Index j = 0; j < p.cols(); ++j) {
        const bool positive = y(i, j) != Scalar(0);
        (positive ? pos_total : neg_total) += wi;
        const Index b = bucket(p(i, j));
        if (b >= 0) (positive ? pos : neg)[b] += wi;
      }
    }
  }

  void result(std::span<const double> state, std::span<double> values) const override {
    const std::size_t n = thresholds_.size();
    const double* pos = state.data();
    const double* neg = state.data() + n;
    const double pos_total = state[2 * n], neg_total = state[2 * n + 1];
    // Walk the thresholds downwards, keeping the counts of threshold i + 1 (B) to pair with those of
    // threshold i (A): TP_i = Σ_{b ≥ i} pos_b, FP_i = Σ_{b ≥ i} neg_b.
    double tp_b = pos[n - 1], fp_b = neg[n - 1];
    double sum = 0.0;
    for (std::size_t k = n - 1; k-- > 0;) {
      const double tp_a = tp_b + pos[k], fp_a = fp_b + neg[k];
      sum += area(tp_a, fp_a, tp_b, fp_b, pos_total, neg_total);
      tp_b = tp_a;
      fp_b = fp_a;
    }
    values[0] = sum;
  }

 private:
  enum class Summation { interpolation, minoring, majoring };

  /// Keras's is_evenly_distributed_thresholds on [0, thresholds..., 1]: at least 3 values, each
  /// within 1e-7 + 1e-5·|e| of e = k / (count − 1).
  static bool evenly_distributed(const std::vector<double>& inner) {
    std::vector<double> all{0.0};
    all.insert(all.end(), inner.begin(), inner.end());
    all.push_back(1.0);
    if (all.size() < 3) return false;
    for (std::size_t k = 0; k < all.size(); ++k) {
      const double e = static_cast<double>(static_cast<float>(k) / static_cast<float>(all.size() - 1));
      if (std::abs(all[k] - e) > 1e-7 + 1e-5 * std::abs(e)) return false;
    }
    return true;
  }

  /// The last threshold a prediction exceeds (−1: none). Evenly spaced thresholds: Keras's bucket
  /// ceil(clip(ŷ, 0, 1)·(n − 1)) − 1, at least 0; otherwise the count of thresholds below ŷ, minus 1.
  Index bucket(Scalar v) const {
    if (std::isnan(v)) return -1;
    const Index n = static_cast<Index>(thresholds_.size());
    if (even_) {
      const Scalar clipped = std::min(std::max(v, Scalar(0)), Scalar(1));
      const Index b = static_cast<Index>(std::ceil(clipped * static_cast<Scalar>(n - 1))) - 1;
      return std::max<Index>(b, 0);
    }
    return static_cast<Index>(std::lower_bound(thresholds_.begin(), thresholds_.end(), v) - thresholds_.begin()) - 1;
  }

  /// The area between thresholds A (lower) and B = A + 1, from their TP and FP.
  double area(double tp_a, double fp_a, double tp_b, double fp_b, double pos_total, double neg_total) const {
    using kerascpp::detail::divide_no_nan;
    const double fn_a = pos_total - tp_a, fn_b = pos_total - tp_b;
    const double tn_a = neg_total - fp_a, tn_b = neg_total - fp_b;
    if (pr_ && summation_ == Summation::interpolation) {
      // Davis & Goadrich: TP and P = TP + FP linear in the interval, precision = TP / P.
      const double dtp = tp_a - tp_b;                                         // TP_A − TP_B
      const double p_a = tp_a + fp_a, p_b = tp_b + fp_b;
      const double slope = divide_no_nan(dtp, std::max(p_a - p_b, 0.0));       // dTP / dP
      const double intercept = tp_b - slope * p_b;                             // TP_B − slope·P_B
      const double ratio = p_a > 0 && p_b > 0 ? divide_no_nan(p_a, std::max(p_b, 0.0)) : 1.0;
      return divide_no_nan(slope * (dtp + intercept * std::log(ratio)),       // slope·(dTP + intercept·ln(P_A/P_B))
                           std::max(tp_b + fn_b, 0.0));                        // / (TP_B + FN_B)
    }
    double x_a, x_b, y_a, y_b;
    if (pr_) {
      x_a = divide_no_nan(tp_a, tp_a + fn_a);  // recall
      x_b = divide_no_nan(tp_b, tp_b + fn_b);
      y_a = divide_no_nan(tp_a, tp_a + fp_a);  // precision
      y_b = divide_no_nan(tp_b, tp_b + fp_b);
    } else {
      x_a = divide_no_nan(fp_a, fp_a + tn_a);  // false positive rate
      x_b = divide_no_nan(fp_b, fp_b + tn_b);
      y_a = divide_no_nan(tp_a, tp_a + fn_a);  // recall
      y_b = divide_no_nan(tp_b, tp_b + fn_b);
    }
    const double height = summation_ == Summation::interpolation ? (y_a + y_b) / 2.0
                          : summation_ == Summation::minoring    ? std::min(y_a, y_b)
                                                                 : std::max(y_a, y_b);
    return (x_a - x_b) * height;  // (x_A − x_B)·height
  }

  std::vector<Scalar> thresholds_;
  std::vector<double> specified_thresholds_;
  bool even_ = true;
  bool pr_ = false;
  Summation summation_ = Summation::interpolation;
  std::string curve_name_, summation_name_;
};

}  // namespace kerascpp::metrics
