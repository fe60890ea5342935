// kerascpp/sequential.hpp — Sequential: a stack of layers with Keras's compile / fit / evaluate /
// predict / summary / get_weights / set_weights. The model holds its layers, their parameter store
// and what compile chose; training runs in the engine (engine/trainer.hpp). Data are Eigen matrices
// with one row per sample.
#pragma once

#include <kerascpp/callbacks.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/engine/checks.hpp>
#include <kerascpp/engine/network.hpp>
#include <kerascpp/engine/options.hpp>
#include <kerascpp/engine/trainer.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/summary.hpp>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace kerascpp {

template <typename Scalar = float>
class Sequential : public ModelInterface<Scalar> {
 public:
  using MatrixType = Matrix<Scalar>;

  Sequential() : seed_(detail::global_seed()) {}

  template <typename... L>
    requires(sizeof...(L) > 0 && (std::derived_from<std::decay_t<L>, Layer<Scalar>> && ...))
  explicit Sequential(L&&... layers) : Sequential() { (add(std::forward<L>(layers)), ...); }

  /// Layers of another Scalar (`Dense(...)`, a Dense<float>, in a Sequential<double>): a compile error.
  template <typename... L>
    requires(sizeof...(L) > 0 && (detail::other_scalar<std::decay_t<L>, Layer, Scalar> || ...) &&
             ((detail::other_scalar<std::decay_t<L>, Layer, Scalar> || std::derived_from<std::decay_t<L>, Layer<Scalar>>) &&
              ...))
  explicit Sequential(L&&...) {
    detail::refuse_layers_of_other_scalar<Scalar, L...>();
  }

  /// Moving a model while it trains is refused; the moved-from model refuses every later use.
  Sequential(Sequential&& other) : ModelInterface<Scalar>(other) { take(other); }
  Sequential& operator=(Sequential&& other) {
    if (this != &other && running_) throw StateError("move assignment cannot be called while fit is running (from a callback)");
    if (this != &other) take(other);
    return *this;
  }
  ~Sequential() override { *alive_ = false; }

  /// Appends a layer (copied or moved in). The model is built as soon as its input width is known.
  template <typename L>
    requires std::derived_from<std::decay_t<L>, Layer<Scalar>>
  void add(L&& layer) {
    add(std::unique_ptr<Layer<Scalar>>(new std::decay_t<L>(std::forward<L>(layer))));
  }

  /// A layer of another Scalar: a compile error.
  template <typename L>
    requires detail::other_scalar<std::decay_t<L>, Layer, Scalar>
  void add(L&&) { detail::refuse_layers_of_other_scalar<Scalar, L>(); }

  void add(std::unique_ptr<Layer<Scalar>> layer) {
    require_idle("add");
    if (!layer) detail::fail("Sequential.add: received an empty layer pointer");
    auto& layers = net_.layers;
    if (!layers.empty() && layer->declared_input_width() != 0 && net_.built &&
        layer->declared_input_width() != layers.back()->output_width())
      detail::fail("Sequential.add: layer declares input_shape ", layer->declared_input_width(),
                   " but the previous layer outputs width ", layers.back()->output_width());
    if (layer->name().empty()) layer->set_name(unique_name(layer->name_prefix()));
    layers.push_back(std::move(layer));
    if (net_.built) {
      layers.back()->build(layers[layers.size() - 2]->output_width(), init_rng_);
      layers.back()->seed_layer(engine::Network<Scalar>::layer_seed(seed_, layers.size()));
      net_.adopt_weights();
    } else if (layers.size() == 1 && layers.front()->declared_input_width() != 0) {
      build(layers.front()->declared_input_width());
    }
    compiled_for_output_ = false;
  }

  /// Sets the seed for initialization, shuffling and dropout; a built model is re-initialized.
  void set_seed(std::uint64_t seed) {
    require_idle("set_seed");
    seed_ = seed;
    net_.shuffle_rng.seed(seed_ ^ 0x5DEECE66DULL);
    if (net_.built) net_.build_fresh(net_.input_width, seed_, init_rng_);
  }
  std::uint64_t seed() const { return seed_; }

  /// Creates the weights for inputs of the given width.
  void build(Index input_width) {
    require_usable("build");
    if (net_.layers.empty()) throw StateError("Sequential.build: the model has no layers");
    if (net_.built) {
      if (input_width != net_.input_width)
        detail::fail("Sequential.build: the model is built for input width ", net_.input_width, ", received ", input_width);
      return;
    }
    net_.build_fresh(input_width, seed_, init_rng_);
  }

  bool built() const { return net_.built; }
  /// Throws StateError, its message starting with `what`, when this model was moved from.
  void require_usable(const char* what) const {
    if (moved_from_) throw StateError(detail::cat(what, ": this model was moved from; use the model it was moved to"));
  }
  Index input_width() const { return net_.input_width; }
  Index output_width() const { return net_.output_width(); }
  std::size_t size() const { return net_.layers.size(); }
  /// The layer at position i; a negative i counts from the end, as `model.layers[-1]` in Keras.
  Layer<Scalar>& layer(Index i) { return *net_.layers[checked_index(i)]; }
  const Layer<Scalar>& layer(Index i) const { return *net_.layers[checked_index(i)]; }
  const std::vector<LayerPtr<Scalar>>& layers() const { return net_.layers; }
  /// The flat buffers of the model's weights (weights.hpp).
  const ParameterStore<Scalar>& parameters() const { return net_.store; }

  /// Sets optimizer, loss and metrics, given by Keras name or as objects.
  void compile(OptimizerSpec<Scalar> optimizer, LossSpec<Scalar> loss, std::vector<MetricSpec<Scalar>> metrics = {}) {
    require_idle("compile");
    if (net_.layers.empty()) throw StateError("compile: the model has no layers; add layers before compiling");
    std::vector<std::string> names;
    for (const auto& spec : metrics) names.push_back(spec.name);
    engine::check_metric_keys(names, "compile: ", "metric");
    net_.optimizer = std::move(optimizer.ptr);
    net_.loss = std::move(loss.ptr);
    metric_specs_ = std::move(metrics);
    net_.metrics.clear();
    compiled_for_output_ = false;
  }

  bool compiled() const { return net_.optimizer != nullptr; }
  Optimizer<Scalar>& optimizer() { return require_compiled("optimizer"), *net_.optimizer; }
  const Optimizer<Scalar>& optimizer() const { return require_compiled("optimizer"), *net_.optimizer; }
  const Loss<Scalar>& loss() const { return require_compiled("loss"), *net_.loss; }
  const std::vector<MetricSpec<Scalar>>& metric_specs() const { return metric_specs_; }

  /// Trains for `epochs` epochs of minibatches and returns the per-epoch History.
  template <typename DX, typename DY>
  History<Scalar> fit(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y, FitOptions<Scalar> options = {}) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DY::Scalar, Scalar>,
                  "fit: x and y must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy, y_copy;
    const auto xv = detail::strided_view(x, x_copy), yv = detail::strided_view(y, y_copy);
    require_idle("fit");
    require_compiled("fit");
    engine::check_fit_options(options, xv.rows());
    engine::check_array_fit_options(options);
    prepare("fit", xv, yv);
    const Running running(*this);
    History<Scalar> history = trainer_.fit(net_, *this, xv, yv, options, alive_);
    history_ = history;
    return history;
  }

  /// Trains on the batches of a PyDataset (Keras's fit(dataset)); see docs/datasets.md.
  History<Scalar> fit(PyDataset<Scalar>& data, FitOptions<Scalar> options = {}) {
    require_idle("fit");
    require_compiled("fit");
    engine::check_dataset_fit_options(options);
    engine::check_fit_options(options, 0);
    prepare_on("fit", data);
    const Running running(*this);
    history_ = trainer_.fit(net_, *this, data, compiled_y_cols_, options, alive_);
    return history_;
  }

  /// One gradient step on the given batch; returns the batch loss (before the update).
  template <typename DX, typename DY>
  double train_on_batch(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DY::Scalar, Scalar>,
                  "train_on_batch: x and y must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy, y_copy;
    const auto xv = detail::strided_view(x, x_copy), yv = detail::strided_view(y, y_copy);
    require_idle("train_on_batch");
    require_compiled("train_on_batch");
    prepare("train_on_batch", xv, yv);
    return trainer_.train_on_batch(net_, xv, yv);
  }

  /// Loss and metrics on the given data in inference mode, by name ("loss", metric names). Allowed
  /// inside a callback of a running fit.
  template <typename DX, typename DY>
  Logs evaluate(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y, EvaluateOptions<Scalar> options = {}) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar> && std::is_same_v<typename DY::Scalar, Scalar>,
                  "evaluate: x and y must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy, y_copy;
    const auto xv = detail::strided_view(x, x_copy), yv = detail::strided_view(y, y_copy);
    require_compiled("evaluate");
    if (options.batch_size <= 0) detail::fail("evaluate: batch_size must be positive, received batch_size=", options.batch_size);
    prepare("evaluate", xv, yv);
    engine::check_sample_weight("evaluate", options.sample_weight, xv.rows());
    return trainer_.evaluate(net_, xv, yv, options);
  }

  /// Loss and metrics over every batch of a PyDataset, in inference mode.
  Logs evaluate(PyDataset<Scalar>& data) {
    require_compiled("evaluate");
    prepare_on("evaluate", data);
    return trainer_.evaluate(net_, data, compiled_y_cols_);
  }

  /// Outputs for every batch of a PyDataset, in order (its targets are not used).
  MatrixType predict(PyDataset<Scalar>& data) {
    require_built("predict");
    return trainer_.predict(net_, data);
  }

  /// Model outputs (rows × output width) in inference mode. Allowed inside a callback of a running fit.
  template <typename DX>
  MatrixType predict(const Eigen::MatrixBase<DX>& x, Index batch_size = 32) {
    static_assert(std::is_same_v<typename DX::Scalar, Scalar>, "predict: x must hold the model's Scalar type");
    RowMatrix<Scalar> x_copy;
    const auto xv = detail::strided_view(x, x_copy);
    require_built("predict");
    if (batch_size <= 0) detail::fail("predict: batch_size must be positive, received batch_size=", batch_size);
    engine::check_input_width(net_, "predict", xv.cols());
    detail::check_finite_input(xv, "predict", "x");
    return trainer_.predict(net_, xv, batch_size);
  }

  /// Weights in Keras order: for each layer, kernel then bias (Dense), gamma, beta, moving_mean,
  /// moving_variance (BatchNormalization). Biases and vectors are (1 × n).
  std::vector<MatrixType> get_weights() override {
    require_usable("get_weights");
    std::vector<MatrixType> out;
    for (auto& l : net_.layers)
      for (const auto& w : l->weights()) out.emplace_back(*w.value);
    return out;
  }

  void set_weights(const std::vector<MatrixType>& weights) override {
    require_usable("set_weights");
    if (!net_.built) throw StateError("set_weights: the model is not built yet; build it or give the first layer an input_shape");
    net_.set_weights(weights);
  }

  double learning_rate() const override { return require_compiled("learning_rate"), net_.optimizer->learning_rate(); }
  void set_learning_rate(double lr) override { require_compiled("set_learning_rate"), net_.optimizer->set_learning_rate(lr); }
  std::string learning_rate_schedule() const override {
    return require_compiled("learning_rate_schedule"), net_.optimizer->schedule_name();
  }

  /// History of the last `fit`.
  const History<Scalar>& history() const { return history_; }

  Index count_params() const {
    Index n = 0;
    for (auto& l : net_.layers) n += l->count_params();
    return n;
  }

  /// Prints the tf.keras table: layer name and type, output shape and parameter count, one row
  /// per layer (long names wrap), then total, trainable and non-trainable parameter counts.
  void summary(std::ostream& out = std::cout, const std::string& model_name = "sequential") const {
    require_usable("summary");
    detail::print_summary(net_.layers, out, model_name);
  }

  /// The shuffling stream, for saving and resuming training exactly.
  Rng& shuffle_rng() { return net_.shuffle_rng; }
  const Rng& shuffle_rng() const { return net_.shuffle_rng; }

  /// Saves architecture, weights, compile configuration and training state in one file
  /// (docs/file_format.md); `kerascpp::load_model<Scalar>(path)` reads it back. These three are
  /// defined by kerascpp/saving/model_file.hpp (included by kerascpp.hpp), found where they are used.
  void save(const std::filesystem::path& path) const { save_model(*this, path); }
  /// Saves the weights alone.
  void save_weights(const std::filesystem::path& path) const { save_model_weights(*this, path); }
  /// Loads weights saved from a model of the same architecture (checked before anything changes).
  void load_weights(const std::filesystem::path& path) { load_model_weights(*this, path); }

  /// The engine that trains this model; its reduction is where other processes' gradients come in.
  engine::Trainer<Scalar>& trainer() { return trainer_; }
  const engine::Trainer<Scalar>& trainer() const { return trainer_; }

 private:
  /// Marks the model as training for the lifetime of a fit.
  struct Running {
    explicit Running(Sequential& m) : model(m) { model.running_ = true; }
    ~Running() {
      if (*alive) model.running_ = false;
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    Sequential& model;
    std::shared_ptr<bool> alive = model.alive_;
  };

  void take(Sequential& other) {
    other.require_idle("move");
    other.require_usable("move");
    net_ = std::move(other.net_);
    trainer_ = std::move(other.trainer_);
    metric_specs_ = std::move(other.metric_specs_);
    name_counts_ = std::move(other.name_counts_);
    history_ = std::move(other.history_);
    seed_ = other.seed_;
    init_rng_ = other.init_rng_;
    compiled_for_output_ = other.compiled_for_output_;
    compiled_y_cols_ = other.compiled_y_cols_;
    moved_from_ = false;
    other.net_ = engine::Network<Scalar>{};  // its accessors report an empty, unbuilt model
    other.moved_from_ = true;
  }

  void require_idle(const char* what) const {
    require_usable(what);
    if (running_) throw StateError(detail::cat(what, " cannot be called while fit is running (from a callback)"));
  }
  void require_built(const char* what) const {
    require_usable(what);
    if (!net_.built)
      throw StateError(detail::cat(what, net_.layers.empty() ? ": the model has no layers"
                                                             : ": the model is not built yet; give the first layer an "
                                                               "input_shape, call build(width), or fit it first"));
  }
  void require_compiled(const char* what) const {
    require_usable(what);
    if (!net_.optimizer) throw StateError(detail::cat(what, ": the model must be compiled first; call compile(optimizer, loss)"));
  }

  std::size_t checked_index(Index i) const {
    require_usable("layer");
    const auto n = static_cast<Index>(net_.layers.size());
    if (i < -n || i >= n)
      throw ValueError(detail::cat("layer: index ", i, " is out of range; the model has ", n, " layers (valid indices ",
                                   n == 0 ? std::string("none") : detail::cat(-n, " to ", n - 1), ")"));
    return static_cast<std::size_t>(i < 0 ? i + n : i);
  }

  std::string unique_name(const std::string& prefix) {
    const int n = name_counts_[prefix]++;
    return n == 0 ? prefix : prefix + "_" + std::to_string(n);
  }

  /// prepare() on the first batch of `data`.
  void prepare_on(const char* where, PyDataset<Scalar>& data) {
    engine::dataset_size(data, where);
    DatasetBatch<Scalar> first;
    RowMatrix<Scalar> unused;  // strided_view copies only what it cannot view
    data.get(0, first);
    const std::string batch0 = detail::cat(where, ": dataset batch 0");
    prepare(batch0.c_str(), detail::strided_view(first.x, unused), detail::strided_view(first.y, unused));
  }

  /// Checks the data, builds the model if needed and resolves what depends on the data's widths.
  void prepare(const char* where, const StridedView<Scalar>& x, const StridedView<Scalar>& y) {
    engine::check_data(net_, where, x, y);
    if (!net_.built) build(x.cols());
    try {
      net_.loss->check_shapes(y.cols(), output_width());
    } catch (const ValueError& e) {
      detail::fail(where, ": ", e.what());
    }
    if (!compiled_for_output_ || y.cols() != compiled_y_cols_) {
      if (running_)
        throw StateError(detail::cat(where, ": inside a running fit, y must have the ", compiled_y_cols_,
                                     " columns of fit's y, received ", y.cols()));
      net_.metrics.clear();
      for (const auto& spec : metric_specs_) net_.metrics.push_back(spec.resolve(y.cols(), output_width()));
      try {
        net_.lay_out_metrics(y.cols());
      } catch (const ValueError& e) {
        net_.metrics.clear();
        net_.lay_out_metrics(y.cols());
        detail::fail(where, ": ", e.what());
      }
      net_.fused = net_.loss->fuses(net_.layers.back()->final_activation());
      compiled_for_output_ = true;
      compiled_y_cols_ = y.cols();
    }
    engine::check_targets(net_, where, y);
  }

  engine::Network<Scalar> net_;
  engine::Trainer<Scalar> trainer_;
  std::vector<MetricSpec<Scalar>> metric_specs_;
  std::map<std::string, int> name_counts_;
  History<Scalar> history_;
  std::uint64_t seed_;
  Rng init_rng_;
  bool compiled_for_output_ = false;
  Index compiled_y_cols_ = 0;
  bool running_ = false;
  bool moved_from_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

template <typename L0, typename... L>
Sequential(L0&&, L&&...) -> Sequential<typename std::decay_t<L0>::scalar_type>;

}  // namespace kerascpp
