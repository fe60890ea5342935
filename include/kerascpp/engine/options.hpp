// kerascpp/engine/options.hpp — what users hand to compile, fit and evaluate: the option structs
// with Keras's names and defaults, and optimizer, loss and metrics given by name or as objects.
#pragma once

#include <kerascpp/callbacks.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/py_dataset.hpp>

#include <concepts>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kerascpp {

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

/// `validation_data`: none, a `Dataset`, the brace form `{x_valid, y_valid}` (Keras's tuple), or a
/// PyDataset (read in full at the end of every epoch; the caller keeps it alive during fit).
template <typename Scalar = float>
struct ValidationData : std::optional<Dataset<Scalar>> {
  using std::optional<Dataset<Scalar>>::optional;
  ValidationData() = default;
  template <typename DX, typename DY>
  ValidationData(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y)  // NOLINT: {x, y} like Keras's tuple
      : std::optional<Dataset<Scalar>>(Dataset<Scalar>(x, y)) {}
  ValidationData(PyDataset<Scalar>& data) : dataset(&data) {}  // NOLINT: implicit, like Keras

  PyDataset<Scalar>* dataset = nullptr;
  /// Whether there is validation data of either kind.
  bool given() const { return this->has_value() || dataset != nullptr; }
};

/// `fit` arguments with Keras's names and defaults, meant for designated initializers:
/// `model.fit(x, y, {.batch_size = 256, .epochs = 10, .validation_data = Dataset{xv, yv}})`.
template <typename Scalar = float>
struct FitOptions {
  Index batch_size = 32;
  int epochs = 1;
  int verbose = 1;                            // 0 silent, 1 progress bar, 2 one line per epoch
  std::vector<Callback<Scalar>*> callbacks{};  // owned by the caller, inspectable after fit
  double validation_split = 0.0;              // taken from the last samples, before shuffling
  ValidationData<Scalar> validation_data{};  // Dataset{x_valid, y_valid} or {x_valid, y_valid}
  bool shuffle = true;                        // reshuffled every epoch
  std::map<int, double> class_weight{};
  Vector<Scalar> sample_weight{};             // one weight per row of x, or empty
  int initial_epoch = 0;
  Index steps_per_epoch = 0;                  // PyDataset only: batches per epoch; 0 is one pass
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

}  // namespace kerascpp
