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
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
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

/// `FitOptions::callbacks`: a vector of pointers to the caller's callbacks. A braced list holding a
/// callback of another Scalar (`EarlyStopping(...)`, an EarlyStopping<float>, for a double model)
/// is a compile error that names the fix.
template <typename Scalar>
struct CallbackList : std::vector<Callback<Scalar>*> {
  CallbackList() = default;
  CallbackList(std::initializer_list<Callback<Scalar>*> callbacks)  // NOLINT: implicit, `.callbacks = {&a, &b}`
      : std::vector<Callback<Scalar>*>(callbacks) {}
  CallbackList(std::vector<Callback<Scalar>*> callbacks)  // NOLINT: implicit, as the vector it is
      : std::vector<Callback<Scalar>*>(std::move(callbacks)) {}
  template <typename... C>
    requires((std::is_pointer_v<C> && ...) && (detail::other_scalar<std::remove_pointer_t<C>, Callback, Scalar> || ...))
  CallbackList(C...) {  // NOLINT
    if constexpr (std::is_same_v<Scalar, double>)
      static_assert(sizeof...(C) == 0, "kerascpp: every callback of a Sequential<double> must be a Callback<double>: "
                                       "write callbacks::EarlyStopping<double>(...), not EarlyStopping(...), which is "
                                       "EarlyStopping<float>");
    else
      static_assert(sizeof...(C) == 0, "kerascpp: every callback of a Sequential<float> must be a Callback<float>: "
                                       "write callbacks::EarlyStopping(...), not EarlyStopping<double>(...)");
  }
};

/// `fit` arguments with Keras's names and defaults, meant for designated initializers:
/// `model.fit(x, y, {.batch_size = 256, .epochs = 10, .validation_data = Dataset{xv, yv}})`.
template <typename Scalar = float>
struct FitOptions {
  Index batch_size = 32;
  int epochs = 1;
  int verbose = 1;                            // 0 silent, 1 progress bar, 2 one line per epoch
  CallbackList<Scalar> callbacks{};           // owned by the caller, inspectable after fit
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

namespace detail {
/// Fails to compile with a message that names the fix: layers L of another Scalar than the model's.
template <typename Scalar, typename... L>
void refuse_layers_of_other_scalar() {
  if constexpr (std::is_same_v<Scalar, double>)
    static_assert(sizeof...(L) == 0, "kerascpp: every layer of a Sequential<double> must be a layer of double: "
                                     "write Dense<double>(...), not Dense(...), which is Dense<float>");
  else
    static_assert(sizeof...(L) == 0, "kerascpp: every layer of a Sequential<float> must be a layer of float: "
                                     "write Dense(...) or Dense<float>(...), not Dense<double>(...)");
}
}  // namespace detail

/// An optimizer given by Keras name ("adam") or as an object (`optimizers::Adam{1e-3}`).
template <typename Scalar>
struct OptimizerSpec {
  std::unique_ptr<Optimizer<Scalar>> ptr;
  OptimizerSpec(const char* name) : ptr(optimizers::get<Scalar>(name)) {}         // NOLINT: implicit by design
  OptimizerSpec(const std::string& name) : ptr(optimizers::get<Scalar>(name)) {}  // NOLINT
  template <typename O>
    requires std::derived_from<O, Optimizer<Scalar>>
  OptimizerSpec(const O& optimizer) : ptr(optimizer.clone()) {}  // NOLINT
  template <typename O>
    requires detail::other_scalar<O, Optimizer, Scalar>
  OptimizerSpec(const O&) {  // NOLINT
    if constexpr (std::is_same_v<Scalar, double>)
      static_assert(sizeof(O) == 0, "kerascpp: the optimizer object of a Sequential<double> must be an "
                                    "Optimizer<double>: write optimizers::Adam<double>(...), not Adam(...), which is "
                                    "Adam<float>; or give it by name");
    else
      static_assert(sizeof(O) == 0, "kerascpp: the optimizer object of a Sequential<float> must be an "
                                    "Optimizer<float>: write optimizers::Adam(...), not Adam<double>(...)");
  }
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
  template <typename L>
    requires detail::other_scalar<L, Loss, Scalar>
  LossSpec(const L&) {  // NOLINT
    if constexpr (std::is_same_v<Scalar, double>)
      static_assert(sizeof(L) == 0, "kerascpp: the loss object of a Sequential<double> must be a Loss<double>: "
                                    "write losses::BinaryCrossentropy<double>(...), not BinaryCrossentropy(...), "
                                    "which is BinaryCrossentropy<float>; or give it by name");
    else
      static_assert(sizeof(L) == 0, "kerascpp: the loss object of a Sequential<float> must be a Loss<float>: "
                                    "write losses::BinaryCrossentropy(...), not BinaryCrossentropy<double>(...)");
  }
};

/// A metric given by Keras name ("binary_accuracy", "accuracy") or as an object.
template <typename Scalar>
struct MetricSpec {
  std::string name;
  std::shared_ptr<const Metric<Scalar>> object;
  MetricSpec(const char* n) : name(n), resolve_(&metrics::get<Scalar>) { metrics::validate(name); }         // NOLINT
  MetricSpec(const std::string& n) : name(n), resolve_(&metrics::get<Scalar>) { metrics::validate(name); }  // NOLINT
  template <typename M>
    requires std::derived_from<M, Metric<Scalar>>
  MetricSpec(const M& metric) : name(metric.name()), object(metric.clone()) {}  // NOLINT
  template <typename M>
    requires detail::other_scalar<M, Metric, Scalar>
  MetricSpec(const M&) {  // NOLINT
    if constexpr (std::is_same_v<Scalar, double>)
      static_assert(sizeof(M) == 0, "kerascpp: every metric object of a Sequential<double> must be a Metric<double>: "
                                    "write metrics::AUC<double>(), not AUC<float>() or AUC(); or give it by name");
    else
      static_assert(sizeof(M) == 0, "kerascpp: every metric object of a Sequential<float> must be a Metric<float>: "
                                    "write metrics::AUC<float>() or AUC(), not AUC<double>()");
  }

  /// The metric for targets of `y_cols` columns and model outputs of `out_cols`: the object, or the
  /// name resolved through the metric registry ("accuracy" by the shapes). Only a spec made from a
  /// name reaches the registry, so a program that names no metric does not compile every metric.
  std::shared_ptr<const Metric<Scalar>> resolve(Index y_cols, Index out_cols) const {
    if (object) return object;
    return std::shared_ptr<const Metric<Scalar>>(resolve_(name, y_cols, out_cols));
  }

 private:
  std::unique_ptr<Metric<Scalar>> (*resolve_)(std::string_view, Index, Index) = nullptr;
};

}  // namespace kerascpp
