// kerascpp/engine/batch.hpp — the strided view through which any Eigen matrix enters the engine
// without a copy, one batch as a value (where its rows are, how many, and where they sit in the
// whole batch), the running totals of an epoch (the loss and the metrics' states), and the staging
// that turns rows of the user's matrices into a batch: in place when the rows are packed and
// aligned, else gathered into reused buffers.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/engine/network.hpp>
#include <kerascpp/layers/layer.hpp>
#include <kerascpp/metrics/metric.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

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

/// check_finite for data from users: a vectorised pass when the elements are contiguous, then (only
/// when that pass finds a value that is not finite, or for strided data) check_finite, whose message
/// for NaN says how to deal with missing values.
template <typename Scalar>
void check_finite_input(const StridedView<Scalar>& v, std::string_view where, std::string_view what) {
  if (const Scalar* p = contiguous(v)) {
    using FlatArray = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
    if ((Eigen::Map<const FlatArray>(p, v.size()) * Scalar(0)).sum() == Scalar(0)) return;  // x·0 is 0 iff x is finite
  }
  check_finite(v, where, what,
               "; NaN often marks a missing value of the data: drop or fill those rows first "
               "(DataFrame::dropna, DataFrame::fillna)");
}
}  // namespace detail
}  // namespace kerascpp

namespace kerascpp::engine {

/// Rows of inputs, targets and sample weights, each packed row-major and 16-byte aligned.
template <typename Scalar>
struct Batch {
  const Scalar* x = nullptr;  // (rows × x_cols)
  const Scalar* y = nullptr;  // (rows × y_cols)
  const Scalar* w = nullptr;  // (rows)
  Index rows = 0;
  Index x_cols = 0;
  Index y_cols = 0;
  Index first_row = 0;   // index of row 0 within the whole batch (another process may hold the rest)
  Index total_rows = 0;  // rows of the whole batch: the loss is Σ w_i·l_i / total_rows
  std::uint64_t step = 0;  // optimizer steps taken before this batch

  /// Rows [begin, end) of this batch as a batch of their own.
  Batch share(Index begin, Index end) const {
    Batch b = *this;
    b.x = x + begin * x_cols;
    b.y = y + begin * y_cols;
    b.w = w + begin;
    b.rows = end - begin;
    b.first_row = first_row + begin;
    return b;
  }
};

/// Sample-weighted sums of the loss and the metrics' states, kept per batch share and over an
/// epoch.
struct Totals {
  explicit Totals(const MetricLayout& layout = {}) : state(layout.state_size(), 0.0), values(layout.keys.size(), 0.0) {}
  double loss_sum = 0.0;  // Σ w_i·l_i (batch shares), or Σ batch loss · rows (epochs)
  double rows = 0.0;
  std::vector<double> state;   // every metric's state, laid out by the network's MetricLayout
  std::vector<double> values;  // the metrics' values, one per key of the layout

  void clear() {
    loss_sum = rows = 0.0;
    std::fill(state.begin(), state.end(), 0.0);
  }

  /// Writes the running mean loss into `l` under "loss" and each metric's values under its keys;
  /// once the keys exist, this allocates nothing.
  template <typename Scalar>
  void write(const std::vector<std::shared_ptr<const Metric<Scalar>>>& metrics, const MetricLayout& layout, Logs& l) {
    static const std::string loss_key = "loss";
    l[loss_key] = rows > 0 ? loss_sum / rows : 0.0;
    const std::span<const double> all_state(state);
    const std::span<double> all_values(values);
    for (std::size_t k = 0; k < metrics.size(); ++k)
      metrics[k]->result(all_state.subspan(layout.state_begin[k], layout.state_begin[k + 1] - layout.state_begin[k]),
                         all_values.subspan(layout.value_begin[k], layout.value_begin[k + 1] - layout.value_begin[k]));
    for (std::size_t j = 0; j < layout.keys.size(); ++j) l[layout.keys[j]] = values[j];
  }
};

/// Turns rows of the user's data into batches: a view of the rows where they are when they are
/// packed and 16-byte aligned (as layer views require), else a copy into buffers that grow to the
/// largest batch and are then reused.
template <typename Scalar>
class Stager {
 public:
  /// The batch of rows index[0 .. rows) of x, y and their weights (all ones when `weights` is empty).
  Batch<Scalar> gather(const StridedView<Scalar>& x, const StridedView<Scalar>& y, const Vector<Scalar>& weights,
                       const Index* index, Index rows) {
    auto xb = x_.view(rows, x.cols());
    auto yb = y_.view(rows, y.cols());
    auto wb = w_.view(rows, 1);
    copy_rows(x, index, rows, xb);
    copy_rows(y, index, rows, yb);
    if (weights.size() == 0) wb.setOnes();
    else
      for (Index r = 0; r < rows; ++r) wb(r, 0) = weights(index[r]);
    return make(xb.data(), x.cols(), yb.data(), y.cols(), wb.data(), rows);
  }

  /// The batch of rows [start, start + rows): in place when both x and y allow it, else gathered.
  Batch<Scalar> slice(const StridedView<Scalar>& x, const StridedView<Scalar>& y, const Vector<Scalar>& weights,
                      Index start, Index rows) {
    const Scalar* xp = rows_in_place(x, start);
    const Scalar* yp = rows_in_place(y, start);
    if (xp == nullptr || yp == nullptr) {
      index_.resize(static_cast<std::size_t>(rows));
      for (Index r = 0; r < rows; ++r) index_[static_cast<std::size_t>(r)] = start + r;
      return gather(x, y, weights, index_.data(), rows);
    }
    auto wb = w_.view(rows, 1);
    if (weights.size() == 0) wb.setOnes();
    else wb = weights.segment(start, rows);
    return make(xp, x.cols(), yp, y.cols(), wb.data(), rows);
  }

  /// Rows [start, start + rows) of x alone, in place or copied (for predict).
  const Scalar* inputs(const StridedView<Scalar>& x, Index start, Index rows) {
    if (const Scalar* p = rows_in_place(x, start)) return p;
    auto xb = x_.view(rows, x.cols());
    for (Index r = 0; r < rows; ++r) xb.row(r) = x.row(start + r);
    return xb.data();
  }

 private:
  static Batch<Scalar> make(const Scalar* x, Index x_cols, const Scalar* y, Index y_cols, const Scalar* w, Index rows) {
    Batch<Scalar> b;
    b.x = x;
    b.y = y;
    b.w = w;
    b.rows = b.total_rows = rows;
    b.x_cols = x_cols;
    b.y_cols = y_cols;
    return b;
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

  /// Row `start` of m when m holds packed rows and the row is 16-byte aligned; else null.
  static const Scalar* rows_in_place(const StridedView<Scalar>& m, Index start) {
    const Scalar* data = detail::packed_rows(m);
    if (data == nullptr) return nullptr;
    const Scalar* p = data + start * m.cols();
    return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 ? p : nullptr;
  }

  Buffer<Scalar> x_, y_, w_;
  std::vector<Index> index_;
};

}  // namespace kerascpp::engine
