// kerascpp/layers/dense.hpp — Dense: y = f(x·W + b), the densely connected layer.
#pragma once

#include <kerascpp/activations.hpp>
#include <kerascpp/initializers.hpp>
#include <kerascpp/kernels/narrow_product.hpp>
#include <kerascpp/layers/layer.hpp>
#include <kerascpp/registry.hpp>
#include <kerascpp/regularizers.hpp>

#include <cmath>
#include <type_traits>
#include <utility>

namespace kerascpp::layers {

template <typename Scalar = float>
class Dense : public Layer<Scalar> {
 public:
  /// Keras: Dense(units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
  /// bias_initializer="zeros", kernel_regularizer=None), plus the first layer's input_shape.
  explicit Dense(Index units, std::string_view activation = "linear", input_shape shape = {}, bool use_bias = true,
                 Initializer kernel_initializer = "glorot_uniform", Initializer bias_initializer = "zeros",
                 Regularizer kernel_regularizer = {})
      : units_(units),
        activation_(activations::get(activation)),
        use_bias_(use_bias),
        kernel_initializer_(std::move(kernel_initializer)),
        bias_initializer_(std::move(bias_initializer)),
        regularizer_(kernel_regularizer) {
    if (units <= 0) detail::fail("Dense: units must be positive, received units=", units);
    if (shape.width < 0) detail::fail("Dense: input_shape must be positive, received input_shape=", shape.width);
    initializers::validate(kernel_initializer_);
    initializers::validate(bias_initializer_);
    regularizers::check_range<Scalar>(regularizer_, "Dense");
    this->declared_input_width_ = shape.width;
  }

  Dense(Index units, std::string_view activation, Regularizer kernel_regularizer)
      : Dense(units, activation, {}, true, "glorot_uniform", "zeros", kernel_regularizer) {}

  std::string type() const override { return "Dense"; }
  std::string name_prefix() const override { return "dense"; }
  std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Dense>(*this); }
  Config config() const override {
    return {{"units", std::to_string(units_)},
            {"activation", std::string(activations::name(activation_))},
            {"use_bias", use_bias_ ? "true" : "false"},
            {"kernel_initializer", kernel_initializer_.name},
            {"bias_initializer", bias_initializer_.name},
            {"kernel_regularizer_l1", detail::number(regularizer_.l1)},
            {"kernel_regularizer_l2", detail::number(regularizer_.l2)}};
  }

  Index units() const { return units_; }
  kerascpp::Activation activation() const { return activation_; }
  bool use_bias() const { return use_bias_; }
  const Regularizer& kernel_regularizer() const { return regularizer_; }
  Index output_width() const override { return units_; }
  kerascpp::Activation final_activation() const override { return activation_; }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool /*training*/) override {
    x_data_ = x.data();
    rows_ = x.rows();
    const Index in = x.cols();
    auto z = z_.view(rows_, units_);
    const bool relu = activation_ == kerascpp::Activation::relu;  // applied in place: y overwrites z
    if (detail::narrow(units_, in)) {
      // z = x·W + b, for relu max(·, 0), in one pass  (batch × units) = (batch × in)·(in × units)
      detail::narrow_product<false>(units_, rows_, in, x.data(), in, 1, kernel_.data(), z.data(),
                                    use_bias_ ? bias_.data() : nullptr, relu);
    } else {
      detail::product(z, x, kernel_.view());  // (batch × units) = (batch × in)·(in × units)
      if (relu && use_bias_) z = (z.rowwise() + bias_.row(0)).cwiseMax(Scalar(0));  // y = max(z + b, 0)
      else if (relu) z = z.cwiseMax(Scalar(0));
      else if (use_bias_) z.rowwise() += bias_.row(0);  // z = x·W + b
    }
    if (in_place()) return as_const(z);
    auto y = y_.view(rows_, units_);
    activations::forward<Scalar>(activation_, as_const(z), y);
    return as_const(y);
  }

  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool logits_grad) override {
    this->require_forward(rows_);
    ConstMatrixView<Scalar> x(x_data_, rows_, this->input_width_);
    const Scalar* dz_data = dy.data();
    if (!logits_grad && activation_ != kerascpp::Activation::linear) {
      auto dz = dz_.view(rows_, units_);
      ConstMatrixView<Scalar> z(z_.view(rows_, units_).data(), rows_, units_);
      ConstMatrixView<Scalar> y(in_place() ? z.data() : y_.view(rows_, units_).data(), rows_, units_);
      activations::backward<Scalar>(activation_, z, y, dy, dz);  // dz = f'(z) ∘ dy
      dz_data = dz.data();
    }
    ConstMatrixView<Scalar> dz(dz_data, rows_, units_);
    const Index in = this->input_width_;
    const Scalar* const no_bias = nullptr;
    if (detail::narrow(units_, rows_))  // (in × units) = (in × batch)·(batch × units)
      detail::narrow_product<true>(units_, in, rows_, x.data(), 1, in, dz_data, kernel_grad_.data(), no_bias, false);
    else
      detail::product(kernel_grad_.view(), x.transpose(), dz);  // (in × units) = (in × batch)·(batch × units)
    if (regularizer_.active() && this->regularization_gradient_) regularizer_.add_gradient(kernel_, kernel_grad_);
    if (use_bias_) {  // (1 × units) = Σ_i dz_i
      if (units_ == 1 || detail::narrow(units_, rows_)) {  // as the product 1ᵀ·dz, 8 partial sums over the rows
        const Scalar one = 1;
        detail::narrow_product<true>(units_, 1, rows_, &one, 0, 0, dz_data, bias_grad_.data(), no_bias, false);
      } else {  // row by row, vectorised along the units (a column sum of a row-major matrix is not)
        bias_grad_.setZero();
        for (Index i = 0; i < rows_; ++i) bias_grad_.row(0) += dz.row(i);
      }
    }
    if (!need_input_grad) return this->empty_view();
    auto dx = dx_.view(rows_, in);
    if (detail::narrow(in, units_)) {
      kernel_t_ = kernel_.transpose();  // (units × in)
      detail::narrow_product<false>(in, rows_, units_, dz_data, units_, 1, kernel_t_.data(), dx.data(), no_bias, false);
    } else {
      detail::product(dx, dz, kernel_.view().transpose());  // (batch × in) = (batch × units)·(units × in)
    }
    return as_const(dx);
  }

  /// z of the last forward; empty for linear and relu, whose output overwrites z (and which no loss fuses with).
  ConstMatrixView<Scalar> logits() const override {
    if (in_place()) return this->empty_view();
    return ConstMatrixView<Scalar>(const_cast<Buffer<Scalar>&>(z_).view(rows_, units_).data(), rows_, units_);
  }

  std::vector<Weight<Scalar>> weights() override {
    if (!this->built_) return {};
    std::vector<Weight<Scalar>> w{{"kernel", &kernel_, &kernel_grad_}};
    if (use_bias_) w.push_back({"bias", &bias_, &bias_grad_});
    return w;
  }

  double regularization_penalty() const override {
    return regularizer_.active() ? regularizer_.penalty(kernel_) : 0.0;
  }

 protected:
  void build_weights(Rng& rng) override {
    const Index in = this->input_width_;
    kernel_.resize(in, units_);
    kernel_grad_.setZero(in, units_);
    initializers::fill(kernel_initializer_, kernel_, in, units_, rng);
    if (use_bias_) {
      bias_.resize(1, units_);
      bias_grad_.setZero(1, units_);
      initializers::fill(bias_initializer_, bias_, units_, units_, rng);  // Keras: a 1-D shape has fan_in = fan_out = units
    }
  }

 private:
  // linear and relu need no separate z for backward: y overwrites z.
  bool in_place() const { return activation_ == kerascpp::Activation::linear || activation_ == kerascpp::Activation::relu; }

  Index units_;
  kerascpp::Activation activation_;
  bool use_bias_;
  Initializer kernel_initializer_;
  Initializer bias_initializer_;
  Regularizer regularizer_;

  Param<Scalar> kernel_, kernel_grad_;  // (in × units)
  RowMatrix<Scalar> kernel_t_;           // (units × in), Wᵀ for narrow_product's input gradient
  Param<Scalar> bias_, bias_grad_;      // (1 × units)
  Buffer<Scalar> z_, y_, dz_, dx_;
  const Scalar* x_data_ = nullptr;
  Index rows_ = -1;
};

}  // namespace kerascpp::layers

namespace kerascpp::layers {

/// How Dense is saved: its config keys, and a kernel (width × units) and a bias (1 × units).
template <typename Scalar>
struct DenseCodec {
  static LayerPtr<Scalar> from_config(ConfigReader& c, input_shape shape) {
    const Index units = c.integer("units", 1, std::numeric_limits<std::int32_t>::max());
    const std::string activation = c.text("activation");
    const bool use_bias = c.boolean("use_bias");
    const std::string kernel_init = c.text("kernel_initializer");
    const std::string bias_init = c.text("bias_initializer");
    const double l1 = c.number("kernel_regularizer_l1");
    const double l2 = c.number("kernel_regularizer_l2");
    c.finish();
    regularizers::check(l1, "kernel_regularizer_l1");
    regularizers::check(l2, "kernel_regularizer_l2");
    return std::make_unique<Dense<Scalar>>(units, activation, shape, use_bias, Initializer(kernel_init),
                                           Initializer(bias_init), Regularizer{l1, l2});
  }
  static std::vector<WeightSpec> weight_specs(const Dense<Scalar>& layer, Index width, Index& output_width) {
    output_width = layer.units();
    std::vector<WeightSpec> w{{"kernel", width, layer.units(), true}};
    if (layer.use_bias()) w.push_back({"bias", 1, layer.units(), true});
    return w;
  }
  static Config sample_config() {
    return {{"units", "3"}, {"activation", "tanh"}, {"use_bias", "true"}, {"kernel_initializer", "glorot_uniform"},
            {"bias_initializer", "random_uniform"}, {"kernel_regularizer_l1", "0.001"}, {"kernel_regularizer_l2", "0.002"}};
  }
};

}  // namespace kerascpp::layers
