// kerascpp/metrics/f_score_metrics.hpp — FBetaScore and F1Score as Keras defines them
// (keras/src/metrics/f_score_metrics.py): per class sample-weighted true positives, false
// positives, false negatives and supports of a one-hot (or 0/1 multi-label) prediction, averaged
// over the classes at the end.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/metrics/confusion_metrics.hpp>
#include <kerascpp/metrics/metric.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kerascpp::metrics {

/// F-beta = (1 + β²)·precision·recall / (β²·precision + recall), per class, with Keras's
/// epsilon 1e-7 in each denominator. The prediction of a row is one-hot at its largest output
/// (every output equal to the row's largest, if not 0, when `threshold` is unset, as Keras does)
/// or ŷ > threshold. `average`: unset (std::nullopt) reports each class, under the keys
/// `<name>_0`, `<name>_1`, ... (just `<name>` for a single output column); "micro" counts over all
/// classes together; "macro" is the mean of the classes' scores; "weighted" weighs them by their
/// (sample-weighted) supports. Targets are one-hot (or 0/1 per column), as wide as the output.
template <typename Scalar = float>
class FBetaScore : public Metric<Scalar> {
 public:
  explicit FBetaScore(std::optional<std::string> average = std::nullopt, double beta = 1.0,
                      std::optional<double> threshold = std::nullopt, std::string name = "fbeta_score")
      : FBetaScore("FBetaScore", std::move(average), beta, threshold, std::move(name)) {}

  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<FBetaScore>(*this); }

  const std::optional<std::string>& average() const { return average_; }
  double beta() const { return beta_; }
  const std::optional<double>& threshold() const { return threshold_; }

  void check_shapes(Index y_cols, Index out_cols) const override {
    kerascpp::detail::check_same_width(what_, y_cols, out_cols);
  }
  /// TP, FP, FN and support: one of each per class, or one of each in all for "micro".
  std::size_t state_size(Index out_cols) const override { return 4 * static_cast<std::size_t>(micro() ? 1 : out_cols); }

  std::vector<std::string> result_names(Index out_cols) const override {
    if (average_ || out_cols == 1) return {this->name()};
    std::vector<std::string> keys;
    for (Index c = 0; c < out_cols; ++c) keys.push_back(this->name() + "_" + std::to_string(c));
    return keys;
  }

  void update_state(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, const Scalar* w, Eigen::Ref<Vector<Scalar>>,
                    std::span<double> state) const override {
    const std::size_t k = state.size() / 4;  // classes kept apart (1 for micro)
    double* tp = state.data();
    double* fp = tp + k;
    double* fn = fp + k;
    double* support = fn + k;
    for (Index i = 0; i < p.rows(); ++i) {
      const double wi = static_cast<double>(w[i]);
      const Scalar* row = p.data() + i * p.cols();
      const Scalar top = threshold_ ? Scalar(0) : *std::max_element(row, row + p.cols());
      for (Index j = 0; j < p.cols(); ++j) {
        const double predicted = threshold_ ? (row[j] > static_cast<Scalar>(*threshold_) ? 1.0 : 0.0)  // ŷ > threshold
                                            : (row[j] >= top && std::abs(row[j]) > Scalar(1e-9) ? 1.0 : 0.0);
        const double label = static_cast<double>(y(i, j));
        const std::size_t c = k == 1 ? 0 : static_cast<std::size_t>(j);
        tp[c] += wi * predicted * label;                // w·ŷ·y
        fp[c] += wi * predicted * (1.0 - label);        // w·ŷ·(1 − y)
        fn[c] += wi * (1.0 - predicted) * label;        // w·(1 − ŷ)·y
        support[c] += wi * label;                       // w·y
      }
    }
  }

  void result(std::span<const double> state, std::span<double> values) const override {
    constexpr double epsilon = 1e-7;  // Keras's backend epsilon
    const std::size_t k = state.size() / 4;
    const double* tp = state.data();
    const double* fp = tp + k;
    const double* fn = fp + k;
    const double* support = fn + k;
    const double b2 = beta_ * beta_;
    double support_sum = 0.0;
    for (std::size_t c = 0; c < k; ++c) support_sum += support[c];
    double sum = 0.0, weighted = 0.0;
    for (std::size_t c = 0; c < k; ++c) {
      const double precision = tp[c] / (tp[c] + fp[c] + epsilon);                               // TP / (TP + FP + ε)
      const double recall = tp[c] / (tp[c] + fn[c] + epsilon);                                  // TP / (TP + FN + ε)
      const double f = (1.0 + b2) * precision * recall / (b2 * precision + recall + epsilon);  // F-beta of class c
      if (!average_) values[c] = f;
      sum += f;
      weighted += f * support[c] / (support_sum + epsilon);  // Σ f_c·support_c / (Σ support + ε)
    }
    if (average_) values[0] = *average_ == "weighted" ? weighted : sum / static_cast<double>(k);  // micro: k = 1
  }

 protected:
  FBetaScore(std::string what, std::optional<std::string> average, double beta, std::optional<double> threshold,
             std::string name)
      : Metric<Scalar>(std::move(name)), what_(std::move(what)), average_(std::move(average)), beta_(beta),
        threshold_(threshold) {
    if (average_ && *average_ != "micro" && *average_ != "macro" && *average_ != "weighted")
      kerascpp::detail::fail(what_, ": average must be unset (std::nullopt), \"micro\", \"macro\" or \"weighted\", "
                             "received average=\"", *average_, "\"");
    if (!(beta > 0.0))
      kerascpp::detail::fail(what_, ": beta must be > 0, received beta=", beta);
    if (threshold_ && !(*threshold_ > 0.0 && *threshold_ <= 1.0))
      kerascpp::detail::fail(what_, ": threshold must satisfy 0 < threshold <= 1 (or be unset for the largest output), "
                             "received threshold=", *threshold_);
  }

 private:
  bool micro() const { return average_ && *average_ == "micro"; }

  std::string what_;
  std::optional<std::string> average_;
  double beta_;
  std::optional<double> threshold_;
};

/// F1 = 2·precision·recall / (precision + recall): FBetaScore with β = 1. Keras's
/// F1Score(average=None, threshold=None, name="f1_score").
template <typename Scalar = float>
class F1Score : public FBetaScore<Scalar> {
 public:
  explicit F1Score(std::optional<std::string> average = std::nullopt, std::optional<double> threshold = std::nullopt,
                   std::string name = "f1_score")
      : FBetaScore<Scalar>("F1Score", std::move(average), 1.0, threshold, std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<F1Score>(*this); }
};

}  // namespace kerascpp::metrics
