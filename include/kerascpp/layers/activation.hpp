// kerascpp/layers/activation.hpp — Activation: y = f(x), a named activation as its own layer.
#pragma once

#include <kerascpp/activations.hpp>
#include <kerascpp/layers/layer.hpp>
#include <kerascpp/registry.hpp>

namespace kerascpp::layers {

template <typename Scalar = float>
class Activation : public Layer<Scalar> {
 public:
  explicit Activation(std::string_view activation, input_shape shape = {})
      : activation_(activations::get(activation)) {
    this->declared_input_width_ = shape.width;
  }

  std::string type() const override { return "Activation"; }
  std::string name_prefix() const override { return "activation"; }
  std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Activation>(*this); }
  Config config() const override { return {{"activation", std::string(activations::name(activation_))}}; }
  Index output_width() const override { return this->input_width_; }
  kerascpp::Activation final_activation() const override { return activation_; }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool /*training*/) override {
    x_data_ = x.data();
    rows_ = x.rows();
    auto y = y_.view(rows_, x.cols());
    activations::forward<Scalar>(activation_, x, y);  // y = f(x)
    return as_const(y);
  }

  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool logits_grad) override {
    this->require_forward(rows_);
    if (!need_input_grad) return this->empty_view();
    if (logits_grad || activation_ == kerascpp::Activation::linear) return dy;
    const Index cols = this->input_width_;
    ConstMatrixView<Scalar> x(x_data_, rows_, cols);
    ConstMatrixView<Scalar> y(y_.view(rows_, cols).data(), rows_, cols);
    auto dx = dx_.view(rows_, cols);
    activations::backward<Scalar>(activation_, x, y, dy, dx);  // dx = f'(x) ∘ dy
    return as_const(dx);
  }

  ConstMatrixView<Scalar> logits() const override { return ConstMatrixView<Scalar>(x_data_, rows_, this->input_width_); }

 protected:
  void build_weights(Rng&) override {}

 private:
  kerascpp::Activation activation_;
  Buffer<Scalar> y_, dx_;
  const Scalar* x_data_ = nullptr;
  Index rows_ = -1;
};

}  // namespace kerascpp::layers

namespace kerascpp::layers {

/// How Activation is saved: the activation's name; no weights.
template <typename Scalar>
struct ActivationCodec {
  static LayerPtr<Scalar> from_config(ConfigReader& c, input_shape shape) {
    const std::string activation = c.text("activation");
    c.finish();
    return std::make_unique<Activation<Scalar>>(activation, shape);
  }
  static std::vector<WeightSpec> weight_specs(const Activation<Scalar>&, Index width, Index& output_width) {
    output_width = width;
    return {};
  }
  static Config sample_config() { return {{"activation", "softplus"}}; }
};

}  // namespace kerascpp::layers
