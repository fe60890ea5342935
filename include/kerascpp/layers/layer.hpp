// kerascpp/layers/layer.hpp — the Layer interface every layer implements, and the reusable
// buffers that keep the training loop free of allocations after the first batch.
#pragma once

#include <kerascpp/activations.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/reduction.hpp>
#include <kerascpp/weights.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kerascpp {

/// The width of the model's input, as in Keras's `input_shape=[11]`.
struct input_shape {
  Index width = 0;
};

/// Row-major storage that grows to the largest batch seen and is then reused: views of fewer
/// rows use the first rows of the same memory.
template <typename Scalar>
class Buffer {
 public:
  MatrixView<Scalar> view(Index rows, Index cols) {
    if (rows * cols > storage_.size()) storage_.resize(rows * cols);
    return MatrixView<Scalar>(storage_.data(), rows, cols);
  }
  void release() { storage_.resize(0); }

 private:
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> storage_;
};

/// Where the rows of the next forward pass sit: the optimizer step they train (the number of steps
/// taken before it) and the index of their first row within the whole batch. Layers that draw
/// random numbers key them by it, so that how a batch is split never changes the draws. When other
/// processes hold other rows of the same batch, `processes` sums batch statistics over them.
struct BatchPosition {
  std::uint64_t step = 0;
  Index first_row = 0;
  ProcessGroup* processes = nullptr;  // null: this process holds the whole batch
};

/// The layer interface. Contract:
/// - `build(input_width, rng)` creates and initialises the weights; called once, lazily.
/// - `forward(x, training)` returns y (batch × output_width) in the layer's own buffer, valid until
///   its next forward. It keeps a view of x for backward: x must stay valid until then.
/// - `backward(dy, need_input_grad)` overwrites every weight gradient with dL/dθ for the batch of
///   the last forward and returns dL/dx (batch × input_width), or an empty view when not needed.
///   When `logits_grad` is set, dy is already dL/dz for the pre-activation z (a loss fused with a
///   final sigmoid or softmax).
template <typename Scalar>
class Layer {
 public:
  using scalar_type = Scalar;
  virtual ~Layer() = default;

  virtual std::string type() const = 0;                        // "Dense"
  virtual std::string name_prefix() const = 0;                 // "dense"
  virtual std::unique_ptr<Layer> clone() const = 0;
  virtual Config config() const = 0;

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  /// Input width declared with `input_shape`, 0 when the layer takes it from what precedes it.
  Index declared_input_width() const { return declared_input_width_; }
  bool built() const { return built_; }
  Index input_width() const { return input_width_; }
  virtual Index output_width() const = 0;

  void build(Index input_width, Rng& rng) {
    if (declared_input_width_ != 0 && declared_input_width_ != input_width)
      detail::fail(name_, ": input_shape declares width ", declared_input_width_, " but the input has width ",
                   input_width);
    if (input_width <= 0) detail::fail(name_, ": input width must be positive, received ", input_width);
    input_width_ = input_width;
    try {
      build_weights(rng);
    } catch (const ValueError& e) {  // a weight too large to allocate: say which layer asked for it
      detail::fail(name_.empty() ? type() : name_, " (input width ", input_width, "): ", e.what());
    }
    built_ = true;
  }

  virtual ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool training) = 0;
  virtual ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool logits_grad) = 0;

  /// Weights in Keras order (Dense: kernel, bias; BatchNormalization: gamma, beta, moving_mean,
  /// moving_variance). Empty for layers without weights.
  virtual std::vector<Weight<Scalar>> weights() { return {}; }

  /// Copies of the weights' values in the same order, as Keras's `layer.get_weights()`
  /// (`model.layer(0).get_weights()[0]` is the first Dense layer's kernel, inputs × units).
  std::vector<Matrix<Scalar>> get_weights() {
    std::vector<Matrix<Scalar>> out;
    for (const auto& w : weights()) out.emplace_back(*w.value);
    return out;
  }

  /// The activation applied last, when the layer ends in one (for fusing it with the loss).
  virtual Activation final_activation() const { return Activation::linear; }
  /// The pre-activation values z of the last forward, when the layer ends in an activation.
  virtual ConstMatrixView<Scalar> logits() const { return ConstMatrixView<Scalar>(nullptr, 0, 0); }

  /// Regularization penalty of the current weights, added to the reported loss.
  virtual double regularization_penalty() const { return 0.0; }

  /// Re-seeds the layer's own random numbers (Dropout) unless the user gave it a seed.
  virtual void seed_layer(std::uint64_t) {}
  /// Whether the layer's training output depends on the whole batch (batch statistics), so that the
  /// batch cannot be split between threads.
  virtual bool needs_whole_batch() const { return false; }
  /// Tells the layer where the rows of the next forward pass sit (see BatchPosition).
  virtual void set_position(BatchPosition) {}
  /// Whether backward adds the regularization penalty's gradient (off in all but one copy when
  /// threads share a batch, so that it is added once).
  void set_regularization_gradient(bool on) { regularization_gradient_ = on; }

  Index count_params() {
    Index n = 0;
    for (const auto& w : weights()) n += w.value->size();
    return n;
  }

 protected:
  virtual void build_weights(Rng& rng) = 0;

  Index declared_input_width_ = 0;
  Index input_width_ = 0;
  bool built_ = false;
  bool regularization_gradient_ = true;
  std::string name_;

  static ConstMatrixView<Scalar> empty_view() { return ConstMatrixView<Scalar>(nullptr, 0, 0); }
  void require_forward(Index rows) const {
    if (rows < 0) throw StateError(detail::cat(name_, ": backward called without a training forward"));
  }
};

template <typename Scalar>
using LayerPtr = std::unique_ptr<Layer<Scalar>>;

}  // namespace kerascpp
