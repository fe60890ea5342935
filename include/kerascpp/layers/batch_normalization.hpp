// kerascpp/layers/batch_normalization.hpp — BatchNormalization over the feature axis:
// training:  y = γ ∘ (x − μ_B) / sqrt(σ²_B + ε) + β with the batch mean and biased variance, then
//            moving = momentum · moving + (1 − momentum) · batch statistic;
// inference: y = γ ∘ (x − moving_mean) / sqrt(moving_variance + ε) + β.
// When other processes hold other rows of the batch, the batch statistics are those of the whole
// batch (Keras's synchronized=True): the sums behind μ_B, σ²_B and backward's means are summed over
// the processes.
#pragma once

#include <kerascpp/layers/layer.hpp>
#include <kerascpp/registry.hpp>

#include <span>
#include <vector>

namespace kerascpp::layers {

template <typename Scalar = float>
class BatchNormalization : public Layer<Scalar> {
 public:
  explicit BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, input_shape shape = {})
      : momentum_(momentum), epsilon_(epsilon) {
    if (!(momentum >= 0.0 && momentum <= 1.0))
      detail::fail("BatchNormalization: momentum must be in [0, 1], received momentum=", momentum);
    if (!(epsilon > 0.0) || !std::isfinite(static_cast<Scalar>(epsilon)))
      detail::fail("BatchNormalization: epsilon must be positive and finite in the model's Scalar, received epsilon=", epsilon);
    this->declared_input_width_ = shape.width;
  }

  std::string type() const override { return "BatchNormalization"; }
  std::string name_prefix() const override { return "batch_normalization"; }
  std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<BatchNormalization>(*this); }
  Config config() const override { return {{"momentum", detail::number(momentum_)}, {"epsilon", detail::number(epsilon_)}}; }
  Index output_width() const override { return this->input_width_; }
  bool needs_whole_batch() const override { return true; }
  void set_position(BatchPosition position) override { processes_ = position.processes; }
  double momentum() const { return momentum_; }
  double epsilon() const { return epsilon_; }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool training) override {
    rows_ = x.rows();
    training_ = training;
    const Index n = this->input_width_;
    auto xhat = xhat_.view(rows_, n);
    auto y = y_.view(rows_, n);
    if (training && processes_ != nullptr) {
      synchronized_statistics(x);
    } else if (training) {
      if (rows_ < 1) detail::fail(this->name_, ": a training batch needs at least one row");
      total_rows_ = Scalar(rows_);
      mean_.noalias() = x.colwise().mean();                                   // μ_B (1 × n)
      xhat = x.rowwise() - mean_;                                            // x − μ_B
      var_.noalias() = xhat.colwise().squaredNorm() / Scalar(rows_);         // σ²_B (1 × n), biased
    }
    if (training) {
      inv_std_ = (var_.array() + Scalar(epsilon_)).rsqrt().matrix();         // 1 / sqrt(σ²_B + ε)
      const Scalar m = Scalar(momentum_);
      moving_mean_.row(0) = m * moving_mean_.row(0) + (Scalar(1) - m) * mean_;
      moving_variance_.row(0) = m * moving_variance_.row(0) + (Scalar(1) - m) * var_;
    } else {
      inv_std_ = (moving_variance_.row(0).array() + Scalar(epsilon_)).rsqrt().matrix();
      xhat = x.rowwise() - moving_mean_.row(0);
    }
    xhat.array().rowwise() *= inv_std_.array();                                         // x̂
    y = (xhat.array().rowwise() * gamma_.row(0).array()).rowwise() + beta_.row(0).array();  // γ ∘ x̂ + β
    return as_const(y);
  }

  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool /*logits_grad*/) override {
    this->require_forward(rows_);
    const Index n = this->input_width_;
    ConstMatrixView<Scalar> xhat(xhat_.view(rows_, n).data(), rows_, n);
    beta_grad_.row(0).noalias() = dy.colwise().sum();                          // Σ dy
    gamma_grad_.row(0) = (dy.array() * xhat.array()).colwise().sum().matrix();  // Σ dy ∘ x̂
    if (!need_input_grad) return this->empty_view();
    auto dx = dx_.view(rows_, n);
    scale_ = (gamma_.row(0).array() * inv_std_.array()).matrix();  // γ / sqrt(σ² + ε)  (1 × n)
    if (!training_) {
      dx = dy.array().rowwise() * scale_.array();
      return as_const(dx);
    }
    // dx = γ/sqrt(σ²+ε) · (dy − mean(dy) − x̂ ∘ mean(dy ∘ x̂)), per feature, means over the whole batch
    const Scalar inv_rows = Scalar(1) / total_rows_;
    if (processes_ != nullptr) {
      Eigen::Map<RowVector<double>> dy_sum(stats_.data(), n), dy_xhat_sum(stats_.data() + n, n);
      dy_sum = beta_grad_.row(0).template cast<double>();       // this process's Σ dy  (1 × n)
      dy_xhat_sum = gamma_grad_.row(0).template cast<double>();  // this process's Σ dy ∘ x̂  (1 × n)
      processes_->sum_batch_stats(std::span<double>(stats_.data(), static_cast<std::size_t>(2 * n)));
      mean_dy_ = dy_sum.template cast<Scalar>() * inv_rows;
      mean_dy_xhat_ = dy_xhat_sum.template cast<Scalar>() * inv_rows;
    } else {
      mean_dy_ = beta_grad_.row(0) * inv_rows;         // mean(dy)  (1 × n)
      mean_dy_xhat_ = gamma_grad_.row(0) * inv_rows;   // mean(dy ∘ x̂)  (1 × n)
    }
    dx = ((dy.array().rowwise() - mean_dy_.array()) - xhat.array().rowwise() * mean_dy_xhat_.array()).rowwise() *
         scale_.array();
    return as_const(dx);
  }

  std::vector<Weight<Scalar>> weights() override {
    if (!this->built_) return {};
    return {{"gamma", &gamma_, &gamma_grad_},
            {"beta", &beta_, &beta_grad_},
            {"moving_mean", &moving_mean_, nullptr},
            {"moving_variance", &moving_variance_, nullptr}};
  }

 protected:
  void build_weights(Rng&) override {
    const Index n = this->input_width_;
    gamma_.setOnes(1, n);
    beta_.setZero(1, n);
    moving_mean_.setZero(1, n);
    moving_variance_.setOnes(1, n);
    gamma_grad_.setZero(1, n);
    beta_grad_.setZero(1, n);
    mean_.setZero(n);
    var_.setZero(n);
    inv_std_.setZero(n);
    scale_.setZero(n);
    mean_dy_.setZero(n);
    mean_dy_xhat_.setZero(n);
    stats_.assign(static_cast<std::size_t>(2 * n + 1), 0.0);
  }

 private:
  /// μ_B and σ²_B of the whole batch, whose rows several processes hold: Σx and the row count, then
  /// Σ(x − μ_B)², each summed over the processes (two passes, as one process computes them).
  void synchronized_statistics(ConstMatrixView<Scalar> x) {
    const Index n = this->input_width_;
    auto xhat = xhat_.view(rows_, n);
    Eigen::Map<RowVector<double>> sums(stats_.data(), n);
    sums = x.colwise().sum().template cast<double>();  // this process's Σx  (1 × n)
    stats_[static_cast<std::size_t>(n)] = static_cast<double>(rows_);
    processes_->sum_batch_stats(std::span<double>(stats_.data(), static_cast<std::size_t>(n + 1)));
    const double total = stats_[static_cast<std::size_t>(n)];
    if (total < 1.0) detail::fail(this->name_, ": a training batch needs at least one row");
    total_rows_ = Scalar(total);
    mean_ = (sums / total).template cast<Scalar>();  // μ_B of the whole batch  (1 × n)
    xhat = x.rowwise() - mean_;                        // x − μ_B
    sums = xhat.colwise().squaredNorm().template cast<double>();  // this process's Σ(x − μ_B)²
    processes_->sum_batch_stats(std::span<double>(stats_.data(), static_cast<std::size_t>(n)));
    var_ = (sums / total).template cast<Scalar>();  // σ²_B of the whole batch (1 × n), biased
  }

  double momentum_;
  double epsilon_;
  Param<Scalar> gamma_, beta_, moving_mean_, moving_variance_;  // (1 × n)
  Param<Scalar> gamma_grad_, beta_grad_;                       // (1 × n)
  RowVector<Scalar> mean_, var_, inv_std_;                         // (1 × n)
  RowVector<Scalar> scale_, mean_dy_, mean_dy_xhat_;               // (1 × n), backward's

  std::vector<double> stats_;                                      // (2n + 1) sums shared with other processes
  Scalar total_rows_ = Scalar(1);                                  // rows of the whole batch
  ProcessGroup* processes_ = nullptr;                              // the other processes holding rows, or null

  Buffer<Scalar> xhat_, y_, dx_;
  Index rows_ = -1;
  bool training_ = false;
};

}  // namespace kerascpp::layers

namespace kerascpp::layers {

/// How BatchNormalization is saved: momentum and epsilon; gamma, beta and the moving statistics
/// (each 1 × width).
template <typename Scalar>
struct BatchNormalizationCodec {
  static LayerPtr<Scalar> from_config(ConfigReader& c, input_shape shape) {
    const double momentum = c.number("momentum");
    const double epsilon = c.number("epsilon");
    c.finish();
    return std::make_unique<BatchNormalization<Scalar>>(momentum, epsilon, shape);
  }
  static std::vector<WeightSpec> weight_specs(const BatchNormalization<Scalar>&, Index width, Index& output_width) {
    output_width = width;
    return {{"gamma", 1, width, true}, {"beta", 1, width, true}, {"moving_mean", 1, width, false},
            {"moving_variance", 1, width, false}};
  }
  static Config sample_config() { return {{"momentum", "0.9"}, {"epsilon", "0.001"}}; }
};

}  // namespace kerascpp::layers
