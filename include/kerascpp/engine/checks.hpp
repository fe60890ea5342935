// kerascpp/engine/checks.hpp — the checks every entry point makes before it trusts the user's data
// and options; each failure says what was wrong, what was expected and what was received.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/engine/batch.hpp>
#include <kerascpp/engine/network.hpp>
#include <kerascpp/engine/options.hpp>

#include <cmath>
#include <limits>
#include <string>

namespace kerascpp::engine {

template <typename Scalar>
void check_input_width(const Network<Scalar>& net, const char* where, Index cols) {
  if (cols != net.input_width)
    detail::fail(where, ": x has ", cols, " columns but the model expects input width ", net.input_width);
}

/// Rows, widths and finiteness of x and y.
template <typename Scalar>
void check_data(const Network<Scalar>& net, const char* where, const StridedView<Scalar>& x,
                const StridedView<Scalar>& y) {
  if (x.rows() == 0) detail::fail(where, ": x is empty (0 rows); expected at least one sample");
  if (x.rows() != y.rows()) detail::fail(where, ": x has ", x.rows(), " rows but y has ", y.rows());
  if (y.cols() == 0) detail::fail(where, ": y has no columns");
  if (net.built) check_input_width(net, where, x.cols());
  detail::check_finite_input(x, where, "x");
  detail::check_finite_input(y, where, "y");
}

/// Whether the targets suit the loss (labels in range, one-hot rows, ...).
template <typename Scalar>
void check_targets(const Network<Scalar>& net, const char* where, const StridedView<Scalar>& y) {
  try {
    net.loss->check_targets(y, net.output_width());
  } catch (const ValueError& e) {
    detail::fail(where, ": ", e.what());
  }
}

/// One weight per row, each finite and non-negative (or none).
template <typename Scalar>
void check_sample_weight(const char* where, const Vector<Scalar>& w, Index rows) {
  if (w.size() == 0) return;
  if (w.size() != rows) detail::fail(where, ": sample_weight has ", w.size(), " entries but x has ", rows, " rows");
  if (!w.allFinite() || (w.array() < Scalar(0)).any())
    detail::fail(where, ": sample_weight must hold finite non-negative numbers");
}

template <typename Scalar>
void check_fit_options(const FitOptions<Scalar>& o, Index rows) {
  if (o.batch_size <= 0) detail::fail("fit: batch_size must be positive, received batch_size=", o.batch_size);
  if (o.epochs < 0) detail::fail("fit: epochs must be non-negative, received epochs=", o.epochs);
  if (o.initial_epoch < 0) detail::fail("fit: initial_epoch must be non-negative, received ", o.initial_epoch);
  if (o.verbose < 0 || o.verbose > 2) detail::fail("fit: verbose must be 0, 1 or 2, received verbose=", o.verbose);
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
    detail::fail("fit: validation_split must be in [0, 1), received validation_split=", o.validation_split);
  check_sample_weight("fit", o.sample_weight, rows);
  if (o.out == nullptr) detail::fail("fit: out must point to a stream");
  if (!o.class_weight.empty() && o.sample_weight.size() != 0)
    detail::fail("fit: give class_weight or sample_weight, not both (Keras refuses the combination too)");
  for (const auto& [cls, weight] : o.class_weight)
    if (!(std::isfinite(static_cast<Scalar>(weight)) && weight >= 0.0))  // finite in the model's Scalar
      detail::fail("fit: class_weight for class ", cls, " must be a finite non-negative number, received ", weight,
                   std::isfinite(weight) ? " (beyond the range of the model's float)" : "");
  if (o.steps_per_epoch < 0)
    detail::fail("fit: steps_per_epoch must be 0 (one pass over the data) or positive, received steps_per_epoch=",
                 o.steps_per_epoch);
}

/// data.size(), which must be positive.
template <typename Scalar>
Index dataset_size(const PyDataset<Scalar>& data, const char* where) {
  const Index n = data.size();
  if (n <= 0) detail::fail(where, ": the PyDataset has ", n, " batches; it must have at least one");
  return n;
}

/// The options of fit(x, y, ...) on arrays beyond check_fit_options.
template <typename Scalar>
void check_array_fit_options(const FitOptions<Scalar>& o) {
  if (o.steps_per_epoch != 0)
    detail::fail("fit: steps_per_epoch is for a PyDataset; with arrays an epoch is one pass over x in batches of "
                 "batch_size, received steps_per_epoch=", o.steps_per_epoch);
}

/// The options of fit(dataset, ...) beyond check_fit_options: what the dataset itself decides.
template <typename Scalar>
void check_dataset_fit_options(const FitOptions<Scalar>& o) {
  if (o.validation_split != 0.0)
    detail::fail("fit: validation_split is for arrays; with a PyDataset give validation_data instead, received "
                 "validation_split=", o.validation_split);
  if (o.sample_weight.size() != 0)
    detail::fail("fit: with a PyDataset the sample weights come from its batches (DatasetBatch::sample_weight); "
                 "sample_weight must be empty, received ", o.sample_weight.size(), " weights");
}

/// Per-row weights for the training rows [0, train_rows): sample_weight, or class_weight looked
/// up by each row's class (its label rounded half to even as NumPy's round, which Keras uses, or the
/// argmax of a one-hot row); empty for none.
template <typename Scalar>
Vector<Scalar> sample_weights(const StridedView<Scalar>& y, const FitOptions<Scalar>& o, Index train_rows) {
  if (o.class_weight.empty()) return o.sample_weight;
  Vector<Scalar> w(train_rows);
  for (Index i = 0; i < train_rows; ++i) {
    Index cls = 0;
    if (y.cols() == 1) {
      const double label = std::nearbyint(static_cast<double>(y(i, 0)));  // half to even in the default rounding mode
      if (!(std::abs(label) <= static_cast<double>(std::numeric_limits<int>::max())))
        detail::fail("fit: class_weight needs integer class labels, received y=", y(i, 0), " in row ", i);
      cls = static_cast<Index>(label);
    } else {
      y.row(i).maxCoeff(&cls);
    }
    auto it = o.class_weight.find(static_cast<int>(cls));
    if (it == o.class_weight.end()) {
      if (y.cols() == 1 && static_cast<double>(y(i, 0)) != static_cast<double>(cls))  // a label that is not whole
        detail::fail("fit: class_weight has no entry for class ", cls, " (row ", i, ": label ", y(i, 0),
                     " rounds to class ", cls, "; class_weight expects integer class labels)");
      detail::fail("fit: class_weight has no entry for class ", cls, " (row ", i, ")");
    }
    w(i) = Scalar(it->second);
  }
  return w;
}

}  // namespace kerascpp::engine
