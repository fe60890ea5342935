// kerascpp/py_dataset.hpp — PyDataset: data that `fit`, `evaluate` and `predict` read one batch at
// a time (Keras's `keras.utils.PyDataset`), for data that does not fit in memory or is made on the
// fly. A dataset says how many batches an epoch has and fills batch `index` on request; `fit` asks
// for 0, 1, …, size() − 1 in that order every epoch and then calls `on_epoch_end`, where a dataset
// may reshuffle. data/csv_dataset.hpp streams a CSV file this way.
#pragma once

#include <kerascpp/core.hpp>

namespace kerascpp {

/// One batch of a PyDataset: inputs (rows × features), targets (rows × outputs) and, optionally,
/// one sample weight per row (empty: every weight is 1). Rows are samples.
template <typename Scalar = float>
struct DatasetBatch {
  RowMatrix<Scalar> x;
  RowMatrix<Scalar> y;
  Vector<Scalar> sample_weight;
};

template <typename Scalar = float>
class PyDataset {
 public:
  using scalar_type = Scalar;
  virtual ~PyDataset() = default;

  /// The number of batches in one pass over the data (Keras's `__len__`); at least 1.
  virtual Index size() const = 0;

  /// Fills `batch` with batch `index`, 0 ≤ index < size() (Keras's `__getitem__`). The same
  /// `batch` object is passed on every call, so a dataset that resizes its matrices only when the
  /// shape changes allocates nothing after the first batch. Every batch has the same number of
  /// columns; the last may have fewer rows.
  virtual void get(Index index, DatasetBatch<Scalar>& batch) = 0;

  /// Called after the last batch of each pass (Keras's `on_epoch_end`).
  virtual void on_epoch_end() {}
};

}  // namespace kerascpp
