// kerascpp/sequential.hpp — Sequential: a stack of layers with Keras's compile / fit / evaluate /
// predict / summary / get_weights / set_weights. Data are Eigen matrices with one row per sample.
#pragma once

#include <kerascpp/callbacks.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/progress.hpp>
#include <kerascpp/threads.hpp>

#include <algorithm>
#include <concepts>
#include <filesystem>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace kerascpp {

namespace detail {
/// A StridedView of m's own elements when m stores them, else of `copy` filled with m's values (an
/// expression such as `x * 2` is evaluated once).
template <typename D>
StridedView<typename D::Scalar> strided_view(const Eigen::MatrixBase<D>& m, RowMatrix<typename D::Scalar>& copy) {
  using Strides = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  if constexpr ((int(D::Flags) & Eigen::DirectAccessBit) != 0) {
    const D& d = m.derived();
    const Index row_stride = D::IsRowMajor ? d.outerStride() : d.innerStride();
    const Index col_stride = D::IsRowMajor ? d.innerStride() : d.outerStride();
    return StridedView<typename D::Scalar>(d.data(), d.rows(), d.cols(), Strides(row_stride, col_stride));
  } else {
    copy = m;
    return StridedView<typename D::Scalar>(copy.data(), copy.rows(), copy.cols(), Strides(copy.cols(), 1));
  }
}

/// The data of v when it holds its rows one after another (densely packed rows, or a single packed
/// column), else null.
template <typename Scalar>
const Scalar* packed_rows(const StridedView<Scalar>& v) {
  const bool packed_cols = v.cols() <= 1 || v.innerStride() == 1;
  const bool packed_rows = v.rows() <= 1 || v.outerStride() == v.cols();
  return packed_cols && packed_rows ? v.data() : nullptr;
}

/// The first element of v when its elements fill rows·cols consecutive places (packed rows, or
/// packed columns), else null.
template <typename Scalar>
const Scalar* contiguous(const StridedView<Scalar>& v) {
  if (const Scalar* p = packed_rows(v)) return p;
  const bool by_cols = (v.rows() <= 1 || v.outerStride() == 1) && (v.cols() <= 1 || v.innerStride() == v.rows());
  return by_cols ? v.data() : nullptr;
}

/// check_finite for data from users: a vectorised pass when the elements are contiguous, the
/// strided search for the offending element only when that pass finds one.
template <typename Scalar>
void check_finite_input(const StridedView<Scalar>& v, std::string_view where, std::string_view what) {
  if (const Scalar* p = contiguous(v)) {
    using FlatArray = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
    if ((Eigen::Map<const FlatArray>(p, v.size()) * Scalar(0)).sum() == Scalar(0)) return;  // x·0 is 0 iff x is finite
  }
  check_finite(v, where, what);
}
}  // namespace detail

/// Inputs and targets held together, as in `validation_data=(x_valid, y_valid)`. Stored row-major
/// (one sample per contiguous row), so that evaluating them reads batches in place.
template <typename Scalar = float>
struct Dataset {
  RowMatrix<Scalar> x;
  RowMatrix<Scalar> y;

  Dataset() = default;
  template <typename DX, typename DY>
  Dataset(const Eigen::MatrixBase<DX>& x_, const Eigen::MatrixBase<DY>& y_) : x(x_), y(y_) {}
};

template <typename DX, typename DY>
Dataset(const Eigen::MatrixBase<DX>&, const Eigen::MatrixBase<DY>&) -> Dataset<typename DX::Scalar>;

/// `fit` arguments with Keras's names and defaults, meant for designated initializers:
/// `model.fit(x, y, {.batch_size = 256, .epochs = 10, .validation_data = Dataset{xv, yv}})`.
template <typename Scalar = float>
struct FitOptions {
  Index batch_size = 32;
  int epochs = 1;
  int verbose = 1;                            // 0 silent, 1 progress bar, 2 one line per epoch
  std::vector<Callback<Scalar>*> callbacks{};  // owned by the caller, inspectable after fit
  double validation_split = 0.0;              // taken from the last samples, before shuffling
  std::optional<Dataset<Scalar>> validation_data{};
  bool shuffle = true;                        // reshuffled every epoch
  std::map<int, double> class_weight{};
  Vector<Scalar> sample_weight{};             // one weight per row of x, or empty
  int initial_epoch = 0;
  std::ostream* out = &std::cout;             // where progress is written
};

/// `evaluate` arguments.
template <typename Scalar = float>
struct EvaluateOptions {
  Index batch_size = 32;
  Vector<Scalar> sample_weight{};
};

/// An optimizer given by Keras name ("adam") or as an object (`optimizers::Adam{1e-3}`).
template <typename Scalar>
struct OptimizerSpec {
  std::unique_ptr<Optimizer<Scalar>> ptr;
  OptimizerSpec(const char* name) : ptr(optimizers::get<Scalar>(name)) {}         // NOLINT: implicit by design
  OptimizerSpec(const std::string& name) : ptr(optimizers::get<Scalar>(name)) {}  // NOLINT
  template <typename O>
    requires std::derived_from<O, Optimizer<Scalar>>
  OptimizerSpec(const O& optimizer) : ptr(optimizer.clone()) {}  // NOLINT
};

/// A loss given by Keras name ("mae") or as an object (`losses::BinaryCrossentropy{true}`).
template <typename Scalar>
struct LossSpec {
  std::unique_ptr<Loss<Scalar>> ptr;
  LossSpec(const char* name) : ptr(losses::get<Scalar>(name)) {}         // NOLINT
  LossSpec(const std::string& name) : ptr(losses::get<Scalar>(name)) {}  // NOLINT
  template <typename L>
    requires std::derived_from<L, Loss<Scalar>>
  LossSpec(const L& loss) : ptr(loss.clone()) {}  // NOLINT
};

/// A metric given by Keras name ("binary_accuracy", "accuracy") or as an object.
template <typename Scalar>
struct MetricSpec {
  std::string name;
  std::shared_ptr<const Metric<Scalar>> object;
  MetricSpec(const char* n) : name(n) { metrics::validate(name); }         // NOLINT
  MetricSpec(const std::string& n) : name(n) { metrics::validate(name); }  // NOLINT
  template <typename M>
    requires std::derived_from<M, Metric<Scalar>>
  MetricSpec(const M& metric) : name(metric.name()), object(metric.clone()) {}  // NOLINT
};

template <typename Scalar = float>
class Sequential : public ModelInterface<Scalar> {
 public:
  using MatrixType = Matrix<Scalar>;

  Sequential() : seed_(detail::global_seed()) {}

  template <typename... L>
    requires(sizeof...(L) > 0 && (std::derived_from<std::decay_t<L>, Layer<Scalar>> && ...))
  explicit Sequential(L&&... layers) : Sequential() {
    (add(std::forward<L>(layers)), ...);
  }

  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  /// Appends a layer (copied or moved in). The model is built as soon as its input width is known.
  template <typename L>
    requires std::derived_from<std::decay_t<L>, Layer<Scalar>>
  void add(L&& layer) {
    add(std::unique_ptr<Layer<Scalar>>(new std::decay_t<L>(std::forward<L>(layer))));
  }

  void add(std::unique_ptr<Layer<Scalar>> layer) {
    if (!layer) detail::fail("Sequential.add: received an empty layer pointer");
    if (!layers_.empty() && layer->declared_input_width() != 0 && built_ &&
        layer->declared_input_width() != layers_.back()->output_width())
      detail::fail("Sequential.add: layer declares input_shape ", layer->declared_input_width(),
                   " but the previous layer outputs width ", layers_.back()->output_width());
    if (layer->name().empty()) layer->set_name(unique_name(layer->name_prefix()));
    layers_.push_back(std::move(layer));
    if (built_) {
      layers_.back()->build(layers_[layers_.size() - 2]->output_width(), init_rng_);
      layers_.back()->seed_layer(derived_seed(layers_.size()));
      refresh_weights();
    } else if (layers_.size() == 1 && layers_.front()->declared_input_width() != 0) {
      build(layers_.front()->declared_input_width());
    }
    compiled_for_output_ = false;
  }

  /// Sets the seed for initialization, shuffling and dropout; a built model is re-initialized.
  void set_seed(std::uint64_t seed) {
    seed_ = seed;
    shuffle_rng_.seed(seed_ ^ 0x5DEECE66DULL);
    if (built_) rebuild_fresh(input_width_);
  }
  std::uint64_t seed() const { return seed_; }

  /// Creates the weights for inputs of the given width.
  void build(Index input_width) {
    if (layers_.empty()) throw StateError("Sequential.build: the model has no layers");
    if (built_) {
      if (input_width != input_width_)
        detail::fail("Sequential.build: the model is built for input width ", input_width_, ", received ", input_width);
      return;
    }
    rebuild_fresh(input_width);
  }

  bool built() const { return built_; }
  Index input_width() const { return input_width_; }
  Index output_width() const { return layers_.empty() ? 0 : layers_.back()->output_width(); }
  std::size_t size() const { return layers_.size(); }
  Layer<Scalar>& layer(std::size_t i) { return *layers_.at(i); }
  const Layer<Scalar>& layer(std::size_t i) const { return *layers_.at(i); }
  const std::vector<LayerPtr<Scalar>>& layers() const { return layers_; }

  /// Sets optimizer, loss and metrics, given by Keras name or as objects.
  void compile(OptimizerSpec<Scalar> optimizer, LossSpec<Scalar> loss, std::vector<MetricSpec<Scalar>> metrics = {}) {
    if (layers_.empty()) throw StateError("compile: the model has no layers; add layers before compiling");
    optimizer_ = std::move(optimizer.ptr);
    loss_ = std::move(loss.ptr);
    metric_specs_ = std::move(metrics);
    metrics_.clear();
    compiled_for_output_ = false;
  }

  bool compiled() const { return optimizer_ != nullptr; }
  Optimizer<Scalar>& optimizer() { return require_compiled("optimizer"), *optimizer_; }
  const Optimizer<Scalar>& optimizer() const { return require_compiled("optimizer"), *optimizer_; }
  const Loss<Scalar>& loss() const { return require_compiled("loss"), *loss_; }
  const std::vector<MetricSpec<Scalar>>& metric_specs() const { return metric_specs_; }

  /// Trains for `epochs` epochs of minibatches and returns the per-epoch History.
  template <typename DX, typename DY>
  History<Scalar> fit(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y, FitOptions<Scalar> options = {}) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DY::Scalar, Scalar>,
                  "fit: x and y must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy, y_copy;
    return fit_views(detail::strided_view(x, x_copy), detail::strided_view(y, y_copy), std::move(options));
  }

  /// One gradient step on the given batch; returns the batch loss (before the update).
  template <typename DX, typename DY>
  double train_on_batch(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DY::Scalar, Scalar>,
                  "train_on_batch: x and y must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy, y_copy;
    return train_on_batch_views(detail::strided_view(x, x_copy), detail::strided_view(y, y_copy));
  }

  /// Loss and metrics on the given data in inference mode, by name ("loss", metric names).
  template <typename DX, typename DY>
  Logs evaluate(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y, EvaluateOptions<Scalar> options = {}) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DY::Scalar, Scalar>,
                  "evaluate: x and y must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy, y_copy;
    return evaluate_views(detail::strided_view(x, x_copy), detail::strided_view(y, y_copy), options);
  }

  /// Model outputs (rows × output width) in inference mode.
  template <typename DX>
  MatrixType predict(const Eigen::MatrixBase<DX>& x, Index batch_size = 32) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar>, "predict: x must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy;
    return predict_view(detail::strided_view(x, x_copy), batch_size);
  }

  /// Weights in Keras order: for each layer, kernel then bias (Dense), gamma, beta, moving_mean,
  /// moving_variance (BatchNormalization). Biases and vectors are (1 × n).
  std::vector<MatrixType> get_weights() override {
    std::vector<MatrixType> out;
    for (auto& l : layers_)
      for (const auto& w : l->weights()) out.emplace_back(*w.value);
    return out;
  }

  void set_weights(const std::vector<MatrixType>& weights) override {
    if (!built_) throw StateError("set_weights: the model is not built yet; build it or give the first layer an input_shape");
    std::vector<std::pair<std::string, Weight<Scalar>>> all;
    for (auto& l : layers_)
      for (const auto& w : l->weights()) all.emplace_back(l->name() + "/" + w.name, w);
    if (weights.size() != all.size())
      detail::fail("set_weights: expected ", all.size(), " weight matrices, received ", weights.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& target = *all[i].second.value;
      if (weights[i].rows() != target.rows() || weights[i].cols() != target.cols())
        detail::fail("set_weights: weight ", i, " (", all[i].first, ") must have shape ",
                     detail::shape_string(target.rows(), target.cols()), ", received ",
                     detail::shape_string(weights[i].rows(), weights[i].cols()));
    }
    for (std::size_t i = 0; i < all.size(); ++i) *all[i].second.value = weights[i];
  }

  double learning_rate() const override { return require_compiled("learning_rate"), optimizer_->learning_rate(); }
  void set_learning_rate(double lr) override { require_compiled("set_learning_rate"), optimizer_->set_learning_rate(lr); }

  /// History of the last `fit`.
  const History<Scalar>& history() const { return history_; }

  Index count_params() const {
    Index n = 0;
    for (auto& l : layers_) n += l->count_params();
    return n;
  }

  /// Prints the tf.keras table: layer name and type, output shape and parameter count, one row
  /// per layer (long names wrap), then total, trainable and non-trainable parameter counts.
  void summary(std::ostream& out = std::cout, const std::string& model_name = "sequential") const {
    constexpr std::size_t line = 65, first = 29, second = 55, wrap = 26;
    const auto row = [&](const std::string& name, const std::string& shape, const std::string& params) {
      for (std::size_t start = 0; start == 0 || start < name.size(); start += wrap) {
        std::string s(1, ' ');
        s += name.substr(start, wrap);
        s.resize(first, ' ');
        s += start == 0 ? shape : std::string();
        s.resize(second, ' ');
        s += start == 0 ? params : std::string();
        s.resize(line, ' ');
        out << s << "\n";
      }
    };
    const std::string spacer(line, ' ');
    out << "Model: \"" << model_name << "\"\n" << std::string(line, '_') << "\n";
    row("Layer (type)", "Output Shape", "Param #");
    out << std::string(line, '=') << "\n";
    Index total = 0, trainable = 0;
    for (const auto& layer : layers_) {
      auto& l = *layer;
      Index params = 0;
      for (const auto& w : l.weights()) {
        params += w.value->size();
        if (w.trainable()) trainable += w.value->size();
      }
      total += params;
      const std::string shape = l.built() ? detail::cat("(None, ", l.output_width(), ")") : std::string("(unbuilt)");
      row(l.name() + " (" + l.type() + ")", shape, std::to_string(params));
      out << spacer << "\n";
    }
    const auto size = [](Index n) {
      const double bytes = static_cast<double>(n) * sizeof(Scalar);
      char buf[64];
      if (bytes < 1024) std::snprintf(buf, sizeof buf, "%.2f Byte", bytes);
      else if (bytes < 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.2f KB", bytes / 1024);
      else std::snprintf(buf, sizeof buf, "%.2f MB", bytes / (1024.0 * 1024));
      return std::string(buf);
    };
    out << std::string(line, '=') << "\n"
        << "Total params: " << total << " (" << size(total) << ")\n"
        << "Trainable params: " << trainable << " (" << size(trainable) << ")\n"
        << "Non-trainable params: " << total - trainable << " (" << size(total - trainable) << ")\n"
        << std::string(line, '_') << "\n";
  }

  /// The shuffling stream, for saving and resuming training exactly.
  Rng& shuffle_rng() { return shuffle_rng_; }
  const Rng& shuffle_rng() const { return shuffle_rng_; }

  /// Saves architecture, weights, compile configuration and training state in one file
  /// (docs/file_format.md); `kerascpp::load_model<Scalar>(path)` reads it back. These three are
  /// defined by kerascpp/saving/model_file.hpp (included by kerascpp.hpp), found where they are used.
  void save(const std::filesystem::path& path) const { save_model(*this, path); }
  /// Saves the weights alone.
  void save_weights(const std::filesystem::path& path) const { save_model_weights(*this, path); }
  /// Loads weights saved from a model of the same architecture (checked before anything changes).
  void load_weights(const std::filesystem::path& path) { load_model_weights(*this, path); }

 private:
  /// Running, sample-weighted means of loss and metrics over an epoch.
  struct Accumulator {
    explicit Accumulator(std::size_t n_metrics) : metric_sums(n_metrics, 0.0) {}
    double loss_sum = 0.0;
    double rows = 0.0;
    double weight_sum = 0.0;
    std::vector<double> metric_sums;

    /// Writes the running means into `l`; once its keys exist, this allocates nothing.
    void write(const Sequential& model, Logs& l) const {
      l[loss_key()] = rows > 0 ? loss_sum / rows : 0.0;
      for (std::size_t k = 0; k < model.metrics_.size(); ++k)
        l[model.metrics_[k]->name()] = model.metrics_[k]->finalize(weight_sum > 0 ? metric_sums[k] / weight_sum : 0.0);
    }
    Logs logs(const Sequential& model) const {
      Logs l;
      write(model, l);
      return l;
    }
    void clear() {
      loss_sum = rows = weight_sum = 0.0;
      std::fill(metric_sums.begin(), metric_sums.end(), 0.0);
    }
    static const std::string& loss_key() {
      static const std::string key = "loss";
      return key;
    }
  };

  History<Scalar> fit_views(const StridedView<Scalar>& x, const StridedView<Scalar>& y, FitOptions<Scalar> options) {
    require_compiled("fit");
    check_fit_options(options, x.rows());
    check_data("fit", x, y);
    prepare(x.cols(), y.cols());
    check_targets("fit", y);

    // Training rows and validation rows (validation_split takes the last rows, before shuffling).
    Index train_rows = x.rows();
    if (!options.validation_data && options.validation_split > 0.0) {
      train_rows = static_cast<Index>(std::floor(static_cast<double>(x.rows()) * (1.0 - options.validation_split)));
      if (train_rows <= 0 || train_rows >= x.rows())
        detail::fail("fit: validation_split=", options.validation_split, " leaves ", train_rows, " training and ",
                     x.rows() - train_rows, " validation rows out of ", x.rows(), "; both must be non-empty");
    }
    if (options.validation_data) {
      const auto& v = *options.validation_data;
      check_data("fit: validation_data", packed_view(v.x), packed_view(v.y));
      if (v.y.cols() != y.cols())
        detail::fail("fit: validation_data y has ", v.y.cols(), " columns but y has ", y.cols());
      check_targets("fit: validation_data", packed_view(v.y));
    }
    const Vector<Scalar> weights = sample_weights(y, options, train_rows);

    std::vector<Index> order(static_cast<std::size_t>(train_rows));
    std::iota(order.begin(), order.end(), Index{0});
    const Index steps = (train_rows + options.batch_size - 1) / options.batch_size;

    History<Scalar> history;
    std::optional<callbacks::ProgbarLogger<Scalar>> progbar;
    std::vector<Callback<Scalar>*> cbs = options.callbacks;
    cbs.push_back(&history);
    if (options.verbose > 0 && options.epochs > options.initial_epoch) {
      progbar.emplace(options.verbose, options.epochs, steps, *options.out, is_terminal(options.out));
      cbs.push_back(&*progbar);
    }
    for (auto* cb : cbs) {
      if (cb == nullptr) detail::fail("fit: callbacks contains a null pointer");
      cb->set_model(this);
    }
    this->stop_training = false;
    Logs logs;
    for (auto* cb : cbs) cb->on_train_begin(logs);

    Accumulator acc(metrics_.size());
    Logs batch_logs;  // reused: after the first batch, updating it allocates nothing
    Logs begin_logs;  // empty at each batch's start, as in Keras
    for (int epoch = options.initial_epoch; epoch < options.epochs; ++epoch) {
      Logs epoch_logs;
      for (auto* cb : cbs) cb->on_epoch_begin(epoch, epoch_logs);
      if (options.shuffle) {  // a fresh permutation each epoch, so a saved model resumes exactly
        std::iota(order.begin(), order.end(), Index{0});
        shuffle_rng_.shuffle(order);
      }
      acc.clear();
      for (Index step = 0; step < steps; ++step) {
        const Index start = step * options.batch_size;
        const Index rows = std::min(options.batch_size, train_rows - start);
        begin_logs.clear();
        for (auto* cb : cbs) cb->on_batch_begin(static_cast<int>(step), begin_logs);
        gather(x, y, weights, order.data() + start, rows);
        train_step(rows, acc);
        acc.write(*this, batch_logs);
        for (auto* cb : cbs) cb->on_batch_end(static_cast<int>(step), batch_logs);
        if (this->stop_training) break;
      }
      epoch_logs = acc.logs(*this);
      if (options.validation_data) {
        const auto& v = *options.validation_data;
        add_validation_logs(
            evaluate_rows(packed_view(v.x), packed_view(v.y), Vector<Scalar>(), options.batch_size, 0, v.x.rows()),
            epoch_logs);
      } else if (train_rows < x.rows()) {
        add_validation_logs(evaluate_rows(x, y, options.sample_weight, options.batch_size, train_rows, x.rows()),
                            epoch_logs);
      }
      for (auto* cb : cbs) cb->on_epoch_end(epoch, epoch_logs);
      if (this->stop_training) break;
    }
    for (auto* cb : cbs) cb->on_train_end(logs);
    for (auto* cb : cbs) cb->set_model(nullptr);
    history_ = history;
    history_.set_model(nullptr);
    return history;
  }

  double train_on_batch_views(const StridedView<Scalar>& x, const StridedView<Scalar>& y) {
    require_compiled("train_on_batch");
    check_data("train_on_batch", x, y);
    prepare(x.cols(), y.cols());
    check_targets("train_on_batch", y);
    std::vector<Index> rows(static_cast<std::size_t>(x.rows()));
    std::iota(rows.begin(), rows.end(), Index{0});
    gather(x, y, Vector<Scalar>(), rows.data(), x.rows());
    Accumulator acc(metrics_.size());
    return train_step(x.rows(), acc);
  }

  Logs evaluate_views(const StridedView<Scalar>& x, const StridedView<Scalar>& y, const EvaluateOptions<Scalar>& options) {
    require_compiled("evaluate");
    if (options.batch_size <= 0) detail::fail("evaluate: batch_size must be positive, received batch_size=", options.batch_size);
    check_data("evaluate", x, y);
    prepare(x.cols(), y.cols());
    check_targets("evaluate", y);
    if (options.sample_weight.size() != 0 && options.sample_weight.size() != x.rows())
      detail::fail("evaluate: sample_weight has ", options.sample_weight.size(), " entries but x has ", x.rows(), " rows");
    return evaluate_rows(x, y, options.sample_weight, options.batch_size, 0, x.rows());
  }

  MatrixType predict_view(const StridedView<Scalar>& x, Index batch_size) {
    if (!built_)
      throw StateError(layers_.empty() ? std::string("predict: the model has no layers")
                                       : std::string("predict: the model is not built yet; give the first layer an "
                                                     "input_shape, call build(width), or fit it first"));
    if (batch_size <= 0) detail::fail("predict: batch_size must be positive, received batch_size=", batch_size);
    check_input_width("predict", x.cols());
    detail::check_finite_input(x, "predict", "x");
    MatrixType out(x.rows(), output_width());
    for (Index start = 0; start < x.rows(); start += batch_size) {
      const Index rows = std::min(batch_size, x.rows() - start);
      const Scalar* xp = rows_in_place(x, start);
      if (xp == nullptr) {
        auto xb = x_buf_.view(rows, input_width_);
        for (Index r = 0; r < rows; ++r) xb.row(r) = x.row(start + r);
        xp = xb.data();
      }
      out.middleRows(start, rows) = forward_pass(ConstMatrixView<Scalar>(xp, rows, input_width_), false);
    }
    return out;
  }

  static bool is_terminal(std::ostream* out) {
#if defined(__unix__) || defined(__APPLE__)
    return out == &std::cout && ::isatty(STDOUT_FILENO) != 0;
#else
    (void)out;
    return false;
#endif
  }

  std::string unique_name(const std::string& prefix) {
    const int n = name_counts_[prefix]++;
    return n == 0 ? prefix : prefix + "_" + std::to_string(n);
  }

  std::uint64_t derived_seed(std::size_t index) const { return seed_ * 0x9E3779B97F4A7C15ULL + index * 0xD1B54A32D192ED03ULL + 1; }

  void rebuild_fresh(Index input_width) {
    init_rng_.seed(seed_);
    shuffle_rng_.seed(seed_ ^ 0x5DEECE66DULL);
    Index width = input_width;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      layers_[i]->build(width, init_rng_);
      layers_[i]->seed_layer(derived_seed(i + 1));
      width = layers_[i]->output_width();
    }
    input_width_ = input_width;
    built_ = true;
    refresh_weights();
  }

  void refresh_weights() {
    workers_.clear();
    trainable_.clear();
    trainable_params_ = 0;
    for (auto& l : layers_)
      for (const auto& w : l->weights())
        if (w.trainable()) {
          trainable_.push_back(w);
          trainable_params_ += w.value->size();
        }
    if (optimizer_ && optimizer_->built()) optimizer_->reset();
  }

  void require_compiled(const char* what) const {
    if (!optimizer_) throw StateError(detail::cat(what, ": the model must be compiled first; call compile(optimizer, loss)"));
  }

  void check_input_width(const char* where, Index cols) const {
    if (cols != input_width_)
      detail::fail(where, ": x has ", cols, " columns but the model expects input width ", input_width_);
  }

  /// A packed row-major matrix as a StridedView.
  static StridedView<Scalar> packed_view(const RowMatrix<Scalar>& m) {
    return StridedView<Scalar>(m.data(), m.rows(), m.cols(), Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(m.cols(), 1));
  }

  void check_data(const char* where, const StridedView<Scalar>& x, const StridedView<Scalar>& y) const {
    if (x.rows() == 0) detail::fail(where, ": x is empty (0 rows); expected at least one sample");
    if (x.rows() != y.rows()) detail::fail(where, ": x has ", x.rows(), " rows but y has ", y.rows());
    if (y.cols() == 0) detail::fail(where, ": y has no columns");
    if (built_) check_input_width(where, x.cols());
    detail::check_finite_input(x, where, "x");
    detail::check_finite_input(y, where, "y");
  }

  void check_targets(const char* where, const StridedView<Scalar>& y) const {
    try {
      loss_->check_targets(y, output_width());
    } catch (const ValueError& e) {
      detail::fail(where, ": ", e.what());
    }
  }

  void check_fit_options(const FitOptions<Scalar>& o, Index rows) const {
    if (o.batch_size <= 0) detail::fail("fit: batch_size must be positive, received batch_size=", o.batch_size);
    if (o.epochs < 0) detail::fail("fit: epochs must be non-negative, received epochs=", o.epochs);
    if (o.initial_epoch < 0) detail::fail("fit: initial_epoch must be non-negative, received ", o.initial_epoch);
    if (o.verbose < 0 || o.verbose > 2) detail::fail("fit: verbose must be 0, 1 or 2, received verbose=", o.verbose);
    if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
      detail::fail("fit: validation_split must be in [0, 1), received validation_split=", o.validation_split);
    if (o.sample_weight.size() != 0) {
      if (o.sample_weight.size() != rows)
        detail::fail("fit: sample_weight has ", o.sample_weight.size(), " entries but x has ", rows, " rows");
      if (!o.sample_weight.allFinite() || (o.sample_weight.array() < Scalar(0)).any())
        detail::fail("fit: sample_weight must hold finite non-negative numbers");
    }
    if (o.out == nullptr) detail::fail("fit: out must point to a stream");
    if (!o.class_weight.empty() && o.sample_weight.size() != 0)
      detail::fail("fit: give class_weight or sample_weight, not both (Keras refuses the combination too)");
  }

  /// Builds the model if needed and resolves what depends on the data's widths.
  void prepare(Index x_cols, Index y_cols) {
    if (layers_.empty()) throw StateError("the model has no layers");
    if (!built_) build(x_cols);
    try {
      loss_->check_shapes(y_cols, output_width());
    } catch (const ValueError& e) {
      detail::fail("compile/fit: ", e.what());
    }
    if (compiled_for_output_ && y_cols == compiled_y_cols_) return;
    metrics_.clear();
    for (const auto& spec : metric_specs_)
      metrics_.push_back(spec.object ? std::shared_ptr<const Metric<Scalar>>(spec.object)
                                     : std::shared_ptr<const Metric<Scalar>>(
                                           metrics::get<Scalar>(spec.name, y_cols, output_width())));
    fused_ = loss_->fuses(layers_.back()->final_activation());
    compiled_for_output_ = true;
    compiled_y_cols_ = y_cols;
  }

  /// Per-row weights for the training rows [0, train_rows): sample_weight, or class_weight looked
  /// up by each row's class (its rounded label, or the argmax of a one-hot row); empty for none.
  Vector<Scalar> sample_weights(const StridedView<Scalar>& y, const FitOptions<Scalar>& o, Index train_rows) const {
    if (o.class_weight.empty()) return o.sample_weight;
    Vector<Scalar> w(train_rows);
    for (Index i = 0; i < train_rows; ++i) {
      Index cls = 0;
      if (y.cols() == 1) cls = static_cast<Index>(std::llround(static_cast<double>(y(i, 0))));
      else y.row(i).maxCoeff(&cls);
      auto it = o.class_weight.find(static_cast<int>(cls));
      if (it == o.class_weight.end()) detail::fail("fit: class_weight has no entry for class ", cls, " (row ", i, ")");
      w(i) = Scalar(it->second);
    }
    return w;
  }

  /// Copies the given rows of x and y (and their weights) into the batch buffers.
  void gather(const StridedView<Scalar>& x, const StridedView<Scalar>& y, const Vector<Scalar>& weights,
              const Index* rows_index, Index rows) {
    auto xb = x_buf_.view(rows, x.cols());
    auto yb = y_buf_.view(rows, y.cols());
    auto wb = w_buf_.view(rows, 1);
    copy_rows(x, rows_index, rows, xb);
    copy_rows(y, rows_index, rows, yb);
    if (weights.size() == 0) wb.setOnes();
    else
      for (Index r = 0; r < rows; ++r) wb(r, 0) = weights(rows_index[r]);
    set_batch(xb.data(), x.cols(), yb.data(), y.cols(), wb.data());
  }

  /// out.row(r) = m.row(index[r]): a block copy per row when each row of m is contiguous, else by
  /// element.
  static void copy_rows(const StridedView<Scalar>& m, const Index* index, Index rows, MatrixView<Scalar> out) {
    const Index cols = m.cols();
    if (cols <= 1 || m.innerStride() == 1) {
      for (Index r = 0; r < rows; ++r) std::copy_n(m.data() + index[r] * m.outerStride(), cols, out.data() + r * cols);
      return;
    }
    for (Index r = 0; r < rows; ++r) out.row(r) = m.row(index[r]);
  }

  /// Points the batch at rows [start, start + rows) of x and y where they are, without copying,
  /// when both store those rows contiguously and suitably aligned; returns false otherwise.
  bool read_in_place(const StridedView<Scalar>& x, const StridedView<Scalar>& y, const Vector<Scalar>& weights,
                     Index start, Index rows) {
    const Scalar* xp = rows_in_place(x, start);
    const Scalar* yp = rows_in_place(y, start);
    if (xp == nullptr || yp == nullptr) return false;
    auto wb = w_buf_.view(rows, 1);
    if (weights.size() == 0) wb.setOnes();
    else wb = weights.segment(start, rows);
    set_batch(xp, x.cols(), yp, y.cols(), wb.data());
    return true;
  }

  /// Row `start` of m when m holds packed rows and the row is 16-byte aligned, as layer views
  /// require; else null.
  static const Scalar* rows_in_place(const StridedView<Scalar>& m, Index start) {
    const Scalar* data = detail::packed_rows(m);
    if (data == nullptr) return nullptr;
    const Scalar* p = data + start * m.cols();
    return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 ? p : nullptr;
  }

  void set_batch(const Scalar* x, Index x_cols, const Scalar* y, Index y_cols, const Scalar* w) {
    batch_x_ = x;
    batch_y_ = y;
    batch_w_ = w;
    batch_x_cols_ = x_cols;
    batch_y_cols_ = y_cols;
  }

  ConstMatrixView<Scalar> forward_pass(ConstMatrixView<Scalar> x, bool training) {
    const Scalar* h = x.data();
    Index cols = x.cols();
    for (auto& l : layers_) {
      h = l->forward(ConstMatrixView<Scalar>(h, x.rows(), cols), training).data();
      cols = l->output_width();
    }
    return ConstMatrixView<Scalar>(h, x.rows(), cols);
  }

  double regularization() const {
    double p = 0.0;
    for (const auto& l : layers_) p += l->regularization_penalty();
    return p;
  }

  /// What one thread computes on its share of a batch: the layers it runs (the model's own for
  /// thread 0, replicas for the others), its buffers and its partial sums.
  struct Worker {
    std::vector<LayerPtr<Scalar>> replica;  // empty for thread 0, which runs the model's layers
    std::vector<std::pair<RowMatrix<Scalar>*, RowMatrix<Scalar>*>> values;  // (model, replica) weights
    std::vector<std::pair<RowMatrix<Scalar>*, RowMatrix<Scalar>*>> grads;   // (model, replica) gradients
    Buffer<Scalar> per_sample, scale, grad, metric;
    double loss_sum = 0.0, weight_sum = 0.0;
    std::vector<double> metric_sums;
  };

  std::vector<LayerPtr<Scalar>>& layers_of(std::size_t t) { return t == 0 ? layers_ : workers_[t].replica; }

  /// How many threads share a batch of `rows`: more than one only when the model has no layer that
  /// needs the whole batch, each thread gets at least 16 rows, and the batch holds at least about a
  /// million multiply-adds (below that, waking threads costs more than it saves).
  int threads_for(Index rows) const {
    const int wanted = get_num_threads();
    if (wanted <= 1 || rows < 32) return 1;
    for (const auto& l : layers_)
      if (l->needs_whole_batch()) return 1;
    if (static_cast<double>(rows) * static_cast<double>(trainable_params_) < 1e6) return 1;
    return static_cast<int>(std::min<Index>(wanted, rows / 16));
  }

  /// Creates replicas of the layers for threads 1..n-1 (once; rebuilt after the model changes).
  void prepare_workers(int n) {
    if (static_cast<int>(workers_.size()) >= n) return;
    const std::size_t first = std::max<std::size_t>(workers_.size(), 1);
    workers_.resize(static_cast<std::size_t>(n));
    for (std::size_t t = first; t < workers_.size(); ++t) {
      Worker& w = workers_[t];
      for (std::size_t i = 0; i < layers_.size(); ++i) {
        w.replica.push_back(layers_[i]->clone());
        w.replica.back()->seed_replica(derived_seed(i + 1) ^ (0xA0761D6478BD642FULL * t));
        w.replica.back()->set_regularization_gradient(false);  // added once, by thread 0
        auto mine = layers_[i]->weights();
        auto theirs = w.replica.back()->weights();
        for (std::size_t k = 0; k < mine.size(); ++k) {
          w.values.emplace_back(mine[k].value, theirs[k].value);
          if (mine[k].trainable()) w.grads.emplace_back(mine[k].grad, theirs[k].grad);
        }
      }
    }
  }

  /// Forward (and, when training, loss gradient and backward) of thread t on rows [begin, end) of
  /// the gathered batch; the loss gradient is scaled by w_i / total_rows so that the threads'
  /// weight gradients add up to the batch's.
  void run_share(std::size_t t, Index begin, Index end, Index total_rows, bool training) {
    Worker& w = workers_[t];
    auto& layers = layers_of(t);
    const Index rows = end - begin;
    w.loss_sum = w.weight_sum = 0.0;
    w.metric_sums.assign(metrics_.size(), 0.0);
    if (rows <= 0) return;
    const Scalar* x_data = batch_x_ + begin * batch_x_cols_;
    ConstMatrixView<Scalar> yb(batch_y_ + begin * batch_y_cols_, rows, batch_y_cols_);
    Eigen::Map<const Vector<Scalar>> wb(batch_w_ + begin, rows);

    const Scalar* h = x_data;
    Index cols = batch_x_cols_;
    for (auto& l : layers) {
      h = l->forward(ConstMatrixView<Scalar>(h, rows, cols), training).data();
      cols = l->output_width();
    }
    const ConstMatrixView<Scalar> out(h, rows, cols);
    const ConstMatrixView<Scalar> pred = fused_ ? layers.back()->logits() : out;
    Eigen::Map<Vector<Scalar>> per_sample(w.per_sample.view(rows, 1).data(), rows);
    loss_->per_sample(yb, pred, fused_, per_sample);
    w.loss_sum = static_cast<double>((per_sample.array() * wb.array()).sum());
    w.weight_sum = static_cast<double>(wb.sum());
    if (!metrics_.empty()) {
      Eigen::Map<Vector<Scalar>> values(w.metric.view(rows, 1).data(), rows);
      for (std::size_t k = 0; k < metrics_.size(); ++k) {
        metrics_[k]->per_sample(yb, out, values);
        w.metric_sums[k] = static_cast<double>((values.array() * wb.array()).sum());
      }
    }
    if (!training) return;

    Eigen::Map<Vector<Scalar>> scale(w.scale.view(rows, 1).data(), rows);
    scale = wb / Scalar(total_rows);  // dL/dl_i = w_i / batch
    auto grad = w.grad.view(rows, out.cols());
    loss_->gradient(yb, pred, fused_, scale, grad);
    const Scalar* g = grad.data();
    for (std::size_t i = layers.size(); i-- > 0;) {
      const bool last = i + 1 == layers.size();
      g = layers[i]->backward(ConstMatrixView<Scalar>(g, rows, layers[i]->output_width()), i > 0, last && fused_)
              .data();
    }
  }

  /// Part t of n of the shared optimizer step: adds threads 1..n-1's gradients into part t of every
  /// gradient of the model (in thread order, so a thread count always gives the same sums), then
  /// updates part t of every weight.
  void reduce_and_apply_part(int t, int n) {
    for (std::size_t i = 0; i < trainable_.size(); ++i) {
      RowMatrix<Scalar>& g = *trainable_[i].grad;
      const auto [begin, end] = Optimizer<Scalar>::part_range(g.size(), t, n);
      Eigen::Map<Vector<Scalar>> part(g.data() + begin, end - begin);
      for (int other = 1; other < n; ++other) {
        const RowMatrix<Scalar>& theirs = *workers_[static_cast<std::size_t>(other)].grads[i].second;
        part += Eigen::Map<const Vector<Scalar>>(theirs.data() + begin, end - begin);  // Σ over threads
      }
    }
    optimizer_->apply_part(trainable_, t, n);
  }

  /// Runs the gathered batch on `n` threads, each on a contiguous share of the rows, and adds the
  /// threads' sums into `acc` in thread order (so a thread count always gives the same numbers).
  /// When training, it then takes the optimizer step (shared between the same threads: each sums
  /// and updates its own part of every weight). Returns Σ w_i·l_i over the batch.
  double run_batch(Index rows, bool training, Accumulator& acc) {
    const int n = threads_for(rows);
    if (workers_.empty()) workers_.resize(1);
    if (n == 1) {
      run_share(0, 0, rows, rows, training);
      if (training) apply_optimizer();
      return collect(1, acc);
    }
    prepare_workers(n);
    if (training) optimizer_->begin_apply(trainable_);
    detail::SpinBarrier shares_done(n);
    auto task = [&](int t) {
      const auto st = static_cast<std::size_t>(t);
      try {
        if (t > 0)
          for (auto& [mine, theirs] : workers_[st].values) *theirs = *mine;  // this step's weights
        run_share(st, share_begin(rows, t, n), share_begin(rows, t + 1, n), rows, training);
      } catch (...) {
        if (training) shares_done.arrive_and_wait(false);
        throw;
      }
      if (training && shares_done.arrive_and_wait(true)) reduce_and_apply_part(t, n);
    };
    if (!pool_) pool_ = std::make_unique<detail::WorkerPool>();
    detail::EigenThreadsScope single(1);
    pool_->run(n, task);
    return collect(n, acc);
  }

  /// The optimizer step after a batch that one thread ran (a small batch, or a model that needs the
  /// whole batch): with several threads and enough weights, the threads update parts of every
  /// weight. Under OpenMP, whose threads Eigen's products then use, the step uses them too, so that
  /// two thread pools do not compete for the cores; with products in a BLAS, on the pool, whose
  /// threads sleep while the BLAS runs.
  void apply_optimizer() {
    const int parts = static_cast<int>(std::min<Index>(get_num_threads(), trainable_params_ / (Index{1} << 16)));
    if (parts <= 1) {
      optimizer_->apply(trainable_);
      return;
    }
    optimizer_->begin_apply(trainable_);
#if defined(_OPENMP) && !defined(EIGEN_USE_BLAS)
#pragma omp parallel for num_threads(parts) schedule(static, 1)
    for (int t = 0; t < parts; ++t) optimizer_->apply_part(trainable_, t, parts);
#else
    if (!pool_) pool_ = std::make_unique<detail::WorkerPool>();
    auto task = [&](int t) { optimizer_->apply_part(trainable_, t, parts); };
    pool_->run(parts, task);
#endif
  }

  /// First row of thread t's share of a batch of `rows` (t = n gives rows): about rows·t/n, rounded
  /// down to a multiple of 4 rows so that every share starts 16-byte aligned, as layer views require.
  static Index share_begin(Index rows, int t, int n) {
    if (t == n) return rows;
    return (rows * t / n) & ~Index{3};
  }

  /// Adds the sums of threads 0..n-1 into `acc`; returns their Σ w_i·l_i.
  double collect(int n, Accumulator& acc) const {
    double loss_sum = 0.0;
    for (int t = 0; t < n; ++t) {
      const Worker& w = workers_[static_cast<std::size_t>(t)];
      loss_sum += w.loss_sum;
      acc.weight_sum += w.weight_sum;
      for (std::size_t k = 0; k < metrics_.size(); ++k) acc.metric_sums[k] += w.metric_sums[k];
    }
    return loss_sum;
  }

  /// Forward, loss, backward and one optimizer step on the gathered batch.
  double train_step(Index rows, Accumulator& acc) {
    const double penalty = regularization();
    const double batch_loss = run_batch(rows, true, acc) / static_cast<double>(rows) + penalty;
    acc.loss_sum += batch_loss * static_cast<double>(rows);
    acc.rows += static_cast<double>(rows);
    return batch_loss;
  }

  /// Loss and metrics over rows [begin, end) in inference mode.
  Logs evaluate_rows(const StridedView<Scalar>& x, const StridedView<Scalar>& y, const Vector<Scalar>& weights,
                     Index batch_size, Index begin, Index end) {
    Accumulator acc(metrics_.size());
    eval_index_.resize(static_cast<std::size_t>(std::min(batch_size, end - begin)));
    for (Index start = begin; start < end; start += batch_size) {
      const Index rows = std::min(batch_size, end - start);
      if (!read_in_place(x, y, weights, start, rows)) {
        std::iota(eval_index_.begin(), eval_index_.begin() + rows, start);
        gather(x, y, weights, eval_index_.data(), rows);
      }
      acc.loss_sum += run_batch(rows, false, acc);
      acc.rows += static_cast<double>(rows);
    }
    Logs logs = acc.logs(*this);
    logs["loss"] += regularization();
    return logs;
  }

  static void add_validation_logs(const Logs& val, Logs& logs) {
    for (const auto& [key, value] : val) logs["val_" + key] = value;
  }

  std::vector<LayerPtr<Scalar>> layers_;
  std::map<std::string, int> name_counts_;
  std::uint64_t seed_;
  Rng init_rng_;
  Rng shuffle_rng_{0};
  bool built_ = false;
  Index input_width_ = 0;
  std::vector<Weight<Scalar>> trainable_;
  Index trainable_params_ = 0;  // Σ sizes of trainable_, for the thread decisions of every batch

  std::unique_ptr<Optimizer<Scalar>> optimizer_;
  std::unique_ptr<Loss<Scalar>> loss_;
  std::vector<MetricSpec<Scalar>> metric_specs_;
  std::vector<std::shared_ptr<const Metric<Scalar>>> metrics_;
  bool fused_ = false;
  bool compiled_for_output_ = false;
  Index compiled_y_cols_ = 0;

  History<Scalar> history_;
  Buffer<Scalar> x_buf_, y_buf_, w_buf_;
  const Scalar* batch_x_ = nullptr;  // the batch: gathered into the buffers above, or read in place
  const Scalar* batch_y_ = nullptr;
  const Scalar* batch_w_ = nullptr;
  Index batch_x_cols_ = 0, batch_y_cols_ = 0;
  std::vector<Index> eval_index_;
  std::vector<Worker> workers_;
  std::unique_ptr<detail::WorkerPool> pool_;
};

template <typename L0, typename... L>
Sequential(L0&&, L&&...) -> Sequential<typename std::decay_t<L0>::scalar_type>;

}  // namespace kerascpp
