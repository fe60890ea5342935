// kerascpp/engine/network.hpp — what the engine trains: the layers, their parameter store, and what
// compile and the data's widths resolved (optimizer, loss, metrics, whether the loss is fused with
// the last activation). The model owns one Network; the engine's loops take it by reference.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/layers/layer.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/weights.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace kerascpp::engine {

/// Throws unless `m`, what `layer`'s `function` returned, is a (rows × cols) matrix with memory
/// behind it: the engine reads exactly that many values from it.
template <typename Scalar>
void check_result(const Layer<Scalar>& layer, const char* function, ConstMatrixView<Scalar> m, Index rows, Index cols,
                  const char* width) {
  if (m.rows() == rows && m.cols() == cols && (m.data() != nullptr || m.size() == 0)) return;
  detail::fail(layer.name(), " (", layer.type(), "): ", function, " returned ",
               m.data() == nullptr ? "an empty view" : "a matrix of shape " + detail::shape_string(m.rows(), m.cols()),
               "; expected shape ", detail::shape_string(rows, cols), " (the batch's ", rows, " rows and the layer's ", width,
               ")");
}

/// The one forward loop of the library: runs x (rows × input width) through `layers` and returns
/// the last layer's output, which lives in that layer's buffer until its next forward.
template <typename Scalar>
ConstMatrixView<Scalar> forward(std::vector<LayerPtr<Scalar>>& layers, ConstMatrixView<Scalar> x, bool training,
                                BatchPosition position) {
  const Scalar* h = x.data();
  Index cols = x.cols();
  for (auto& l : layers) {
    l->set_position(position);
    const ConstMatrixView<Scalar> y = [&] {
      try {
        return l->forward(ConstMatrixView<Scalar>(h, x.rows(), cols), training);
      } catch (const std::bad_alloc&) {
        detail::fail(l->name(), ": could not allocate the buffers for a batch of ", x.rows(), " rows of width ",
                     l->output_width(), "; use a smaller batch_size");
      }
    }();
    check_result(*l, "forward", y, x.rows(), l->output_width(), "output_width()");
    h = y.data();
    cols = l->output_width();
  }
  return ConstMatrixView<Scalar>(h, x.rows(), cols);
}

/// Backward through `layers` from dL/d(output) `dy` (rows × output width); every layer's weight
/// gradients are overwritten. When `logits_grad`, dy is dL/dz of the last layer's pre-activation.
template <typename Scalar>
void backward(std::vector<LayerPtr<Scalar>>& layers, ConstMatrixView<Scalar> dy, bool logits_grad) {
  const Scalar* g = dy.data();
  const Index rows = dy.rows();
  for (std::size_t i = layers.size(); i-- > 0;) {
    const bool last = i + 1 == layers.size();
    const ConstMatrixView<Scalar> dx = [&] {
      try {
        return layers[i]->backward(ConstMatrixView<Scalar>(g, rows, layers[i]->output_width()), i > 0, last && logits_grad);
      } catch (const std::bad_alloc&) {
        detail::fail(layers[i]->name(), ": could not allocate the gradient buffers for a batch of ", rows,
                     " rows; use a smaller batch_size");
      }
    }();
    if (i > 0) check_result(*layers[i], "backward", dx, rows, layers[i]->input_width(), "input width");  // dL/dx: rows × input width
    g = dx.data();
  }
}

/// Where the state of each metric sits in one flat buffer of doubles, and the keys of the values
/// the metrics report, for the data's widths.
struct MetricLayout {
  std::vector<std::size_t> state_begin{0};  // metric k's state is [state_begin[k], state_begin[k + 1])
  std::vector<std::size_t> value_begin{0};  // its values have keys [value_begin[k], value_begin[k + 1])
  std::vector<std::string> keys;

  std::size_t state_size() const { return state_begin.back(); }
};

/// Throws unless every History key of the metrics is usable: not empty, not "loss", not starting
/// with "val_" (the validation keys) and not taken by another metric. Messages start with `who`
/// and call a key `what`.
inline void check_metric_keys(const std::vector<std::string>& keys, const char* who, const char* what) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    if (key.empty())
      detail::fail(who, what, " ", i, " has an empty name; expected a non-empty name, its History key");
    if (key == "loss")
      detail::fail(who, what, " ", i, " is named 'loss', which History reserves for the loss; expected "
                   "another name, received '", key, "'");
    if (key.starts_with("val_"))
      detail::fail(who, what, " ", i, " is named '", key, "', but names starting with 'val_' are reserved "
                   "for the validation values; expected a name without that prefix");
    for (std::size_t j = 0; j < i; ++j)
      if (keys[j] == key)
        detail::fail(who, what, "s ", j, " and ", i, " are both named '", key,
                     "'; expected unique names, as History keeps one value per name");
  }
}

template <typename Scalar>
struct Network {
  std::vector<LayerPtr<Scalar>> layers;
  ParameterStore<Scalar> store;
  Index input_width = 0;
  bool built = false;

  std::unique_ptr<Optimizer<Scalar>> optimizer;
  std::unique_ptr<Loss<Scalar>> loss;
  std::vector<std::shared_ptr<const Metric<Scalar>>> metrics;  // resolved for the data's widths
  MetricLayout metric_layout;                                   // of `metrics`, for the data's widths
  bool fused = false;          // the loss takes the last layer's logits
  Rng shuffle_rng{0};          // the permutation of every epoch
  std::uint64_t generation = 0;  // changes whenever layers or weights are re-laid out

  Index output_width() const { return layers.empty() ? 0 : layers.back()->output_width(); }

  /// Σ of the layers' regularization penalties for the current weights.
  double regularization() const {
    double p = 0.0;
    for (const auto& l : layers) p += l->regularization_penalty();
    return p;
  }

  /// Sets every weight, in Keras order, after checking the count and every shape.
  void set_weights(const std::vector<Matrix<Scalar>>& weights) {
    std::vector<std::pair<std::string, Weight<Scalar>>> all;
    for (auto& l : layers)
      for (const auto& w : l->weights()) all.emplace_back(l->name() + "/" + w.name, w);
    if (weights.size() != all.size())
      detail::fail("set_weights: expected ", all.size(), " weight matrices, received ", weights.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& target = *all[i].second.value;
      if (weights[i].rows() != target.rows() || weights[i].cols() != target.cols())
        detail::fail("set_weights: weight ", i, " (", all[i].first, ") must have shape ",
                     detail::shape_string(target.rows(), target.cols()), ", received ",
                     detail::shape_string(weights[i].rows(), weights[i].cols()));
      detail::check_finite(weights[i], "set_weights", detail::cat("weight ", i, " (", all[i].first, ")"));
    }
    for (std::size_t i = 0; i < all.size(); ++i) *all[i].second.value = weights[i];
  }

  /// Checks that every metric fits targets of `y_cols` columns and the output (ValueError if not)
  /// and lays their states and keys out.
  void lay_out_metrics(Index y_cols) {
    MetricLayout l;
    for (const auto& m : metrics) {
      m->check_shapes(y_cols, output_width());
      l.state_begin.push_back(l.state_begin.back() + m->state_size(output_width()));
      for (auto& key : m->result_names(output_width())) l.keys.push_back(std::move(key));
      l.value_begin.push_back(l.keys.size());
    }
    check_metric_keys(l.keys, "", "metric value");
    metric_layout = std::move(l);
  }

  /// Throws unless `w`, a weight `layer` declares, points at a value, and at a gradient of the
  /// value's shape when trainable: the store copies and binds both by the value's shape.
  static void check_weight(const Layer<Scalar>& layer, const Weight<Scalar>& w) {
    const std::string who = detail::cat(layer.name(), " (", layer.type(), "): weight '", w.name, "'");
    if (w.value == nullptr) detail::fail(who, " has a null value pointer; expected a pointer to one of the layer's Params");
    if (w.grad != nullptr && (w.grad->rows() != w.value->rows() || w.grad->cols() != w.value->cols()))
      detail::fail(who, " has shape ", detail::shape_string(w.value->rows(), w.value->cols()), " but its gradient has shape ",
                   detail::shape_string(w.grad->rows(), w.grad->cols()), "; expected a gradient of the weight's shape");
  }

  /// The seed of the layer at 1-based position `index` of a model seeded with `seed`.
  static std::uint64_t layer_seed(std::uint64_t seed, std::size_t index) {
    return seed * 0x9E3779B97F4A7C15ULL + index * 0xD1B54A32D192ED03ULL + 1;
  }

  /// Builds every layer afresh for inputs of `width`: `init_rng` restarts from `seed` and draws the
  /// initial weights in layer order, each layer gets its own seed, and the shuffle stream restarts.
  void build_fresh(Index width, std::uint64_t seed, Rng& init_rng) {
    init_rng.seed(seed);
    shuffle_rng.seed(seed ^ 0x5DEECE66DULL);
    input_width = width;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      layers[i]->build(width, init_rng);
      layers[i]->seed_layer(layer_seed(seed, i + 1));
      width = layers[i]->output_width();
    }
    built = true;
    adopt_weights();
  }

  /// Lays every layer's weights out in the store (in Keras order) and restarts the optimizer's
  /// slots, which are laid out like it.
  void adopt_weights() {
    std::vector<Weight<Scalar>> all;
    for (auto& l : layers)
      for (const auto& w : l->weights()) {
        check_weight(*l, w);
        all.push_back(w);
      }
    store.adopt(all);
    ++generation;
    if (optimizer && optimizer->built()) optimizer->reset();
  }
};

}  // namespace kerascpp::engine
