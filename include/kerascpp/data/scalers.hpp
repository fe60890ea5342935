// kerascpp/data/scalers.hpp — `MinMaxScaler` and `StandardScaler`: per-column scaling learned on the
// training rows and applied unchanged to every other split (scikit-learn 1.2's names, arguments and
// results).
//
// Both compute, column by column and in double precision whatever `Scalar` is,
//
//     x' = (x - shift) / divisor * width + low
//
// * MinMaxScaler(feature_range = {low, high}): shift = min, divisor = max - min, width = high - low.
//   With the default range {0, 1} this is exactly the Kaggle course's `(df - min_) / (max_ - min_)`.
//   scikit-learn computes the same value as `x * scale_ + min_`; the two agree to a few units in the
//   last place (tests/test_preprocessing.cpp states the tolerance).
// * StandardScaler(with_mean, with_std): shift = mean, divisor = population standard deviation
//   (ddof = 0, scikit-learn's choice; pandas' `df.std()` uses ddof = 1), width = 1, low = 0. The
//   variance is computed as scikit-learn does, with its correction term.
//
// A column that is constant in the fitted rows is kept, as scikit-learn keeps it: its divisor is 1.
// For MinMaxScaler that is when max - min < 10·ε (scikit-learn's absolute threshold), so fitted
// values map to `low`; for StandardScaler when var ≤ n·ε·var + (n·mean·ε)² (scikit-learn's
// `_is_constant_feature`), so fitted values map to x - mean, 0 or a rounding residue.
//
// Statistics skip missing values (NaN), as scikit-learn and pandas do, and NaN stays NaN through
// `transform` and `inverse_transform`. A column with no values, with an infinite one, or whose
// range, mean or variance overflows double is refused with a `ValueError` (scikit-learn refuses
// infinity too). A result beyond float in a `Matrix<float>` is a `ValueError`, not an inf.
//
// `fit`, `transform`, `fit_transform` and `inverse_transform` take either a matrix (rows are samples)
// or a `DataFrame` whose columns are all numeric; a scaler fitted on a frame remembers the column
// names and checks them. Use before `fit` throws `StateError`; a width different from the fitted one
// throws `ValueError` with both widths.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/table.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kerascpp::data {

namespace detail {

/// What the two scalers share: per-column (x - shift) / divisor * width + low, input checks, and the
/// frame and matrix overloads. `Derived` provides (to this class, a friend)
/// `static constexpr const char* name`, `void resize_statistics(Index cols)`,
/// `void learn_column(Index j, const std::vector<double>& values)` (called with the non-missing values
/// of column j; stores its statistics and calls `set_column(j, shift, divisor)`) and
/// `double clip(double value) const`.
template <typename Derived, typename Scalar>
class ColumnScaler {
 public:
  /// Learns the statistics of every column of `x` (rows are samples).
  Derived& fit(const Matrix<Scalar>& x) {
    feature_names_.clear();
    learn(x.template cast<double>());
    return static_cast<Derived&>(*this);
  }

  /// Learns the statistics of every column of `frame`, which must all be numeric, and remembers
  /// their names.
  Derived& fit(const DataFrame& frame) {
    const Matrix<double> x = FrameAccess::to_matrix<double>(frame, cat(Derived::name, ".fit"));
    feature_names_ = frame.columns();
    learn(x);
    return static_cast<Derived&>(*this);
  }

  /// `x` scaled with the fitted statistics; `x` must have as many columns as the fitted data.
  Matrix<Scalar> transform(const Matrix<Scalar>& x) const { return map_matrix(x, "transform", false); }

  /// `frame` with every column scaled; the columns must be the fitted ones, in the same order.
  DataFrame transform(const DataFrame& frame) const { return map_frame(frame, "transform", false); }

  /// `fit(x)` followed by `transform(x)`.
  Matrix<Scalar> fit_transform(const Matrix<Scalar>& x) {
    fit(x);
    return transform(x);
  }

  /// `fit(frame)` followed by `transform(frame)`.
  DataFrame fit_transform(const DataFrame& frame) {
    fit(frame);
    return transform(frame);
  }

  /// Undoes `transform`: x = (x' - low) / width * divisor + shift (scikit-learn `inverse_transform`).
  Matrix<Scalar> inverse_transform(const Matrix<Scalar>& x) const { return map_matrix(x, "inverse_transform", true); }

  /// `frame` with every column mapped back to the fitted data's units; the columns must be the fitted ones.
  DataFrame inverse_transform(const DataFrame& frame) const { return map_frame(frame, "inverse_transform", true); }

  /// Whether `fit` has been called.
  bool fitted() const { return fitted_; }

  /// The number of columns seen by `fit` (scikit-learn `n_features_in_`).
  Index n_features_in() const { return shift_.cols(); }

  /// The column names seen by `fit` on a frame, or none after `fit` on a matrix.
  const std::vector<std::string>& feature_names_in() const { return feature_names_; }

  /// The number of non-missing values of each column seen by `fit` (scikit-learn `n_samples_seen_`).
  const std::vector<Index>& n_samples_seen() const { return samples_seen_; }

 protected:
  ColumnScaler(double low, double width) : low_(low), width_(width) {}

  /// Column j's divisor (after the constant-column rule).
  double divisor(Index j) const { return divisor_(j); }

  void set_column(Index j, double shift, double divisor) {
    shift_(j) = shift;
    divisor_(j) = divisor;
  }

 private:
  std::string column_label(Index j) const {
    if (feature_names_.empty()) return cat("column ", j);
    return cat("column '", feature_names_[static_cast<std::size_t>(j)], "'");
  }

  void learn(const Matrix<double>& x) {
    fitted_ = false;
    if (x.cols() == 0)
      fail(Derived::name, ".fit: the data has no columns; expected at least one feature, received shape ",
           kerascpp::detail::shape_string(x.rows(), x.cols()));
    shift_.resize(x.cols());
    divisor_.resize(x.cols());
    samples_seen_.assign(static_cast<std::size_t>(x.cols()), 0);
    static_cast<Derived&>(*this).resize_statistics(x.cols());
    std::vector<double> values;
    for (Index j = 0; j < x.cols(); ++j) {
      values.clear();
      values.reserve(static_cast<std::size_t>(x.rows()));
      for (Index i = 0; i < x.rows(); ++i) {
        const double v = x(i, j);
        if (std::isnan(v)) continue;
        if (std::isinf(v))
          fail(Derived::name, ".fit: ", column_label(j), " holds ", v, " at row ", i, "; values must be finite");
        values.push_back(v);
      }
      if (values.empty()) fail(Derived::name, ".fit: ", column_label(j), " has no values (all are missing)");
      samples_seen_[static_cast<std::size_t>(j)] = static_cast<Index>(values.size());
      static_cast<Derived&>(*this).learn_column(j, values);
      if (const std::string overflow = static_cast<const Derived&>(*this).overflow(j); !overflow.empty())
        fail(Derived::name, ".fit: ", column_label(j), overflow, "; expected values whose statistics fit in double: ",
             "scale the column down first");
    }
    fitted_ = true;
  }

  double forward(double value, Index j) const {
    const double out = (value - shift_(j)) / divisor_(j) * width_ + low_;
    return static_cast<const Derived&>(*this).clip(out);
  }

  double backward(double value, Index j) const { return (value - low_) / width_ * divisor_(j) + shift_(j); }

  /// Refuses an infinite value given to transform, as fit refuses it; NaN is a missing value.
  void check_finite(double value, Index j, Index row, std::string_view caller, bool inverse) const {
    if (!inverse && std::isinf(value))
      fail(Derived::name, ".", caller, ": ", column_label(j), " holds ", value, " at row ", row,
           "; values must be finite (NaN marks a missing value)");
  }

  Matrix<Scalar> map_matrix(const Matrix<Scalar>& x, std::string_view caller, bool inverse) const {
    check_width(x.cols(), caller);
    Matrix<Scalar> out(x.rows(), x.cols());
    for (Index j = 0; j < x.cols(); ++j)
      for (Index i = 0; i < x.rows(); ++i) {
        const auto v = static_cast<double>(x(i, j));
        check_finite(v, j, i, caller, inverse);
        const double mapped = inverse ? backward(v, j) : forward(v, j);
        // a finite result beyond float would silently become inf in the returned matrix
        if (std::isfinite(mapped) && !std::isfinite(static_cast<Scalar>(mapped)))
          fail(Derived::name, ".", caller, ": ", column_label(j), " maps ", v, " at row ", i, " to ", mapped,
               ", beyond the range of float (largest magnitude ", std::numeric_limits<Scalar>::max(),
               "); expected results that fit in float, or use ", Derived::name, "<double>");
        out(i, j) = static_cast<Scalar>(mapped);
      }
    return out;
  }

  DataFrame map_frame(const DataFrame& frame, std::string_view caller, bool inverse) const {
    check_width(frame.cols(), caller);
    if (!feature_names_.empty() && frame.columns() != feature_names_)
      fail(Derived::name, ".", caller, ": expected the columns given to fit (", join(feature_names_), "), received (",
           join(frame.columns()), ")");
    FrameAccess::require_numeric(frame, cat(Derived::name, ".", caller));
    DataFrame out = frame;
    std::vector<Column>& columns = FrameAccess::columns(out);
    for (std::size_t j = 0; j < columns.size(); ++j) {
      std::vector<double>& values = std::get<std::vector<double>>(columns[j]);
      for (std::size_t i = 0; i < values.size(); ++i) {
        check_finite(values[i], static_cast<Index>(j), static_cast<Index>(i), caller, inverse);
        values[i] = inverse ? backward(values[i], static_cast<Index>(j)) : forward(values[i], static_cast<Index>(j));
      }
    }
    return out;
  }

  void check_width(Index width, std::string_view caller) const {
    if (!fitted_) throw StateError(cat(Derived::name, ".", caller, ": the scaler is not fitted; call fit first"));
    if (width != shift_.cols())
      fail(Derived::name, ".", caller, ": expected ", shift_.cols(), " columns (as given to fit), received ", width);
  }

  double low_;
  double width_;
  RowVector<double> shift_;
  RowVector<double> divisor_;
  std::vector<Index> samples_seen_;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

}  // namespace detail

/// Scales each column to `feature_range` over the fitted rows: (x - min) / (max - min) * (high - low) + low
/// (scikit-learn `MinMaxScaler(feature_range=(0, 1), clip=False)`).
template <typename Scalar = float>
class MinMaxScaler : public detail::ColumnScaler<MinMaxScaler<Scalar>, Scalar> {
  using Base = detail::ColumnScaler<MinMaxScaler<Scalar>, Scalar>;

 public:
  /// `feature_range` = {low, high} with low < high, both finite; `clip` limits transformed values to it.
  explicit MinMaxScaler(std::pair<double, double> feature_range = {0.0, 1.0}, bool clip = false)
      : Base(feature_range.first, feature_range.second - feature_range.first),
        range_(feature_range),
        clip_(clip) {
    if (!(std::isfinite(range_.first) && std::isfinite(range_.second) && range_.first < range_.second))
      detail::fail("MinMaxScaler: feature_range must be (low, high) with low < high, received (", range_.first, ", ",
                   range_.second, ")");
    if (!std::isfinite(range_.second - range_.first))
      detail::fail("MinMaxScaler: feature_range must have a finite width high - low, received (", range_.first, ", ",
                   range_.second, "), whose width overflows to ", range_.second - range_.first);
  }

  /// The target range (scikit-learn `feature_range`).
  std::pair<double, double> feature_range() const { return range_; }

  /// The per-column minimum seen by `fit` (scikit-learn `data_min_`).
  const RowVector<double>& data_min() const { return data_min_; }

  /// The per-column maximum seen by `fit` (scikit-learn `data_max_`).
  const RowVector<double>& data_max() const { return data_max_; }

  /// data_max - data_min (scikit-learn `data_range_`).
  RowVector<double> data_range() const { return data_max_ - data_min_; }

  /// (high - low) / divisor per column, the divisor being 1 for a constant column (scikit-learn `scale_`).
  RowVector<double> scale() const {
    RowVector<double> out(data_min_.cols());
    for (Index j = 0; j < out.cols(); ++j) out(j) = (range_.second - range_.first) / this->divisor(j);
    return out;
  }

  /// low - data_min * scale per column (scikit-learn `min_`).
  RowVector<double> min() const {
    const RowVector<double> s = scale();
    RowVector<double> out(s.cols());
    for (Index j = 0; j < out.cols(); ++j) out(j) = range_.first - data_min_(j) * s(j);
    return out;
  }

 private:
  friend Base;

  static constexpr const char* name = "MinMaxScaler";

  void resize_statistics(Index cols) {
    data_min_.resize(cols);
    data_max_.resize(cols);
  }

  void learn_column(Index j, const std::vector<double>& values) {
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    data_min_(j) = *low;
    data_max_(j) = *high;
    const double range = *high - *low;
    // scikit-learn's _handle_zeros_in_scale: a range below 10·ε counts as zero and divides as 1
    this->set_column(j, *low, range < 10.0 * std::numeric_limits<double>::epsilon() ? 1.0 : range);
  }

  double clip(double value) const { return clip_ ? std::clamp(value, range_.first, range_.second) : value; }

  /// What overflowed while learning column `j` ("" if nothing): a range max - min beyond double.
  std::string overflow(Index j) const {
    if (std::isfinite(data_max_(j) - data_min_(j))) return {};
    return detail::cat(" has the range max - min = ", data_max_(j), " - ", data_min_(j), ", which overflows double");
  }

  std::pair<double, double> range_;
  bool clip_;
  RowVector<double> data_min_;
  RowVector<double> data_max_;
};

/// Centres each column on 0 with unit standard deviation over the fitted rows: (x - mean) / std
/// (scikit-learn `StandardScaler(with_mean=True, with_std=True)`).
template <typename Scalar = float>
class StandardScaler : public detail::ColumnScaler<StandardScaler<Scalar>, Scalar> {
  using Base = detail::ColumnScaler<StandardScaler<Scalar>, Scalar>;

 public:
  /// `with_mean = false` leaves the mean in (shift 0), `with_std = false` leaves the spread (divisor 1).
  explicit StandardScaler(bool with_mean = true, bool with_std = true)
      : Base(0.0, 1.0), with_mean_(with_mean), with_std_(with_std) {}

  /// The per-column mean seen by `fit` (scikit-learn `mean_`).
  const RowVector<double>& mean() const { return mean_; }

  /// The per-column population variance, ddof = 0 (scikit-learn `var_`).
  const RowVector<double>& var() const { return var_; }

  /// The per-column divisor: the standard deviation, or 1 for a constant column or with
  /// with_std = false (scikit-learn `scale_`, which is None in that last case).
  RowVector<double> scale() const {
    RowVector<double> out(mean_.cols());
    for (Index j = 0; j < out.cols(); ++j) out(j) = this->divisor(j);
    return out;
  }

  bool with_mean() const { return with_mean_; }
  bool with_std() const { return with_std_; }

 private:
  friend Base;

  static constexpr const char* name = "StandardScaler";

  void resize_statistics(Index cols) {
    mean_.resize(cols);
    var_.resize(cols);
  }

  void learn_column(Index j, const std::vector<double>& values) {
    const auto n = static_cast<double>(values.size());
    double sum = 0.0;
    for (const double v : values) sum += v;
    const double mean = sum / n;
    // scikit-learn's _incremental_mean_and_var: (Σ(x - m)² - (Σ(x - m))² / n) / n
    double correction = 0.0;
    double squares = 0.0;
    for (const double v : values) {
      correction += v - mean;
      squares += (v - mean) * (v - mean);
    }
    const double var = (squares - correction * correction / n) / n;
    mean_(j) = mean;
    var_(j) = var;
    // scikit-learn's _is_constant_feature: var within rounding of zero divides as 1
    const double eps = std::numeric_limits<double>::epsilon();
    const bool constant = var <= n * eps * var + (n * mean * eps) * (n * mean * eps);
    this->set_column(j, with_mean_ ? mean : 0.0, with_std_ && !constant ? std::sqrt(var) : 1.0);
  }

  double clip(double value) const { return value; }

  /// What overflowed while learning column `j` ("" if nothing): a mean or variance beyond double
  /// (an infinite variance would otherwise pass the constant-column test and divide by 1).
  std::string overflow(Index j) const {
    if (std::isfinite(mean_(j)) && std::isfinite(var_(j))) return {};
    return detail::cat(" has a mean or variance beyond double (mean=", mean_(j), ", variance=", var_(j), ")");
  }

  bool with_mean_;
  bool with_std_;
  RowVector<double> mean_;
  RowVector<double> var_;
};

}  // namespace kerascpp::data
