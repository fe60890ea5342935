// kerascpp/data/scalers.hpp — `MinMaxScaler` and `StandardScaler`: per-column scaling learned on the
// training rows and applied unchanged to every other split (scikit-learn's names and methods).
//
// Both compute x' = (x - shift) / divisor column by column, in double precision whatever `Scalar`
// is:
//
// * MinMaxScaler:   shift = min, divisor = max - min, exactly the Kaggle course's
//                   `(df - min_) / (max_ - min_)`, so training columns land in [0, 1].
// * StandardScaler: shift = mean, divisor = standard deviation with ddof = 0 (scikit-learn's
//                   choice; pandas' `df.std()` would use ddof = 1).
//
// Statistics skip missing values (NaN), as pandas' `min`/`max`/`mean` do, and NaN stays NaN through
// `transform`. A column whose fitted values are all equal is refused: `fit` throws a `ValueError`
// naming the column (the check compares the values themselves, so a rounding residue in a computed
// standard deviation cannot hide it). pandas would silently give 0/0 = NaN there, which is why the
// course follows its scaling with `dropna(axis=1)`; here the same outcome is one line before
// fitting, `df = df.drop({"V2"})`. A column with no values, or with an infinite one, is refused too.
//
// `fit`, `transform` and `fit_transform` take either a matrix (rows are samples) or a `DataFrame`
// whose columns are all numeric; a scaler fitted on a frame remembers the column names and
// `transform` checks them. `transform` before `fit` throws `StateError`; a width different from the
// fitted one throws `ValueError` with both widths.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/table.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace kerascpp::data {

namespace detail {

/// What the two scalers share: learning two statistics per column, checking inputs, applying
/// (x - shift) / divisor. `Derived` provides (to this class, a friend) `static constexpr const char* name`,
/// `static std::array<double, 2> column_statistics(const std::vector<double>& values)` (called with the
/// non-missing values of one column) and
/// `static std::array<double, 2> shift_and_divisor(const std::array<double, 2>& statistics)`.
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
    const Matrix<double> x = frame.to_matrix<double>();
    feature_names_ = frame.columns();
    learn(x);
    return static_cast<Derived&>(*this);
  }

  /// `x` scaled with the fitted statistics; `x` must have as many columns as the fitted data.
  Matrix<Scalar> transform(const Matrix<Scalar>& x) const {
    check_width(x.cols());
    Matrix<Scalar> out(x.rows(), x.cols());
    for (Index j = 0; j < x.cols(); ++j)
      for (Index i = 0; i < x.rows(); ++i) out(i, j) = static_cast<Scalar>(apply(static_cast<double>(x(i, j)), j));
    return out;
  }

  /// `frame` with every column scaled; the columns must be the fitted ones, in the same order.
  DataFrame transform(const DataFrame& frame) const {
    check_width(frame.cols());
    if (!feature_names_.empty() && frame.columns() != feature_names_)
      fail(Derived::name, ".transform: expected the columns given to fit (", join(feature_names_), "), received (",
           join(frame.columns()), ")");
    DataFrame out = frame;
    for (Index j = 0; j < frame.cols(); ++j) {
      const std::string& name = frame.columns()[static_cast<std::size_t>(j)];
      std::vector<double> values = frame.numbers(name);
      for (double& v : values) v = apply(v, j);
      out = out.assign(name, std::move(values));
    }
    return out;
  }

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

  /// Whether `fit` has been called.
  bool fitted() const { return fitted_; }

  /// The number of columns seen by `fit` (scikit-learn `n_features_in_`).
  Index n_features_in() const { return shift_.cols(); }

  /// The column names seen by `fit` on a frame, or none after `fit` on a matrix.
  const std::vector<std::string>& feature_names_in() const { return feature_names_; }

 protected:
  /// Row 0 holds the first statistic of every column, row 1 the second.
  const Matrix<double>& statistics() const { return statistics_; }

 private:
  std::string column_label(Index j) const {
    if (feature_names_.empty()) return cat("column ", j);
    return cat("column '", feature_names_[static_cast<std::size_t>(j)], "'");
  }

  void learn(const Matrix<double>& x) {
    fitted_ = false;
    statistics_.resize(2, x.cols());
    shift_.resize(x.cols());
    divisor_.resize(x.cols());
    for (Index j = 0; j < x.cols(); ++j) {
      std::vector<double> values;
      values.reserve(static_cast<std::size_t>(x.rows()));
      for (Index i = 0; i < x.rows(); ++i) {
        const double v = x(i, j);
        if (std::isnan(v)) continue;
        if (std::isinf(v))
          fail(Derived::name, ".fit: ", column_label(j), " holds ", v, " at row ", i, "; values must be finite");
        values.push_back(v);
      }
      if (values.empty()) fail(Derived::name, ".fit: ", column_label(j), " has no values (all are missing)");
      if (std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); })) {
        const std::string drop_hint = feature_names_.empty() ? std::string("remove that column before fitting")
                                                             : cat("drop it before fitting, e.g. frame.drop({\"",
                                                                   feature_names_[static_cast<std::size_t>(j)], "\"})");
        fail(Derived::name, ".fit: ", column_label(j), " is constant (every value is ", values.front(),
             "), so scaling it would divide by zero (pandas would give NaN); ", drop_hint);
      }
      const std::array<double, 2> stats = Derived::column_statistics(values);
      const std::array<double, 2> shift_and_divisor = Derived::shift_and_divisor(stats);
      statistics_(0, j) = stats[0];
      statistics_(1, j) = stats[1];
      shift_(j) = shift_and_divisor[0];
      divisor_(j) = shift_and_divisor[1];
    }
    fitted_ = true;
  }

  double apply(double value, Index j) const { return (value - shift_(j)) / divisor_(j); }

  void check_width(Index width) const {
    if (!fitted_) throw StateError(cat(Derived::name, ".transform: the scaler is not fitted; call fit first"));
    if (width != shift_.cols())
      fail(Derived::name, ".transform: expected ", shift_.cols(), " columns (as given to fit), received ", width);
  }

  Matrix<double> statistics_;
  RowVector<double> shift_;
  RowVector<double> divisor_;
  std::vector<std::string> feature_names_;
  bool fitted_ = false;
};

}  // namespace detail

/// Scales each column to [0, 1] over the fitted rows: (x - min) / (max - min).
template <typename Scalar = float>
class MinMaxScaler : public detail::ColumnScaler<MinMaxScaler<Scalar>, Scalar> {
 public:
  /// The per-column minimum seen by `fit` (scikit-learn `data_min_`).
  RowVector<double> data_min() const { return this->statistics().row(0); }

  /// The per-column maximum seen by `fit` (scikit-learn `data_max_`).
  RowVector<double> data_max() const { return this->statistics().row(1); }

 private:
  friend class detail::ColumnScaler<MinMaxScaler<Scalar>, Scalar>;

  static constexpr const char* name = "MinMaxScaler";

  /// The minimum and maximum of the non-missing `values` of one column.
  static std::array<double, 2> column_statistics(const std::vector<double>& values) {
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    return {*low, *high};
  }

  /// shift = min, divisor = max - min.
  static std::array<double, 2> shift_and_divisor(const std::array<double, 2>& min_max) {
    return {min_max[0], min_max[1] - min_max[0]};
  }
};

/// Centres each column on 0 with unit standard deviation over the fitted rows: (x - mean) / std.
template <typename Scalar = float>
class StandardScaler : public detail::ColumnScaler<StandardScaler<Scalar>, Scalar> {
 public:
  /// The per-column mean seen by `fit` (scikit-learn `mean_`).
  RowVector<double> mean() const { return this->statistics().row(0); }

  /// The per-column standard deviation seen by `fit` (scikit-learn `scale_`).
  RowVector<double> scale() const { return this->statistics().row(1); }

 private:
  friend class detail::ColumnScaler<StandardScaler<Scalar>, Scalar>;

  static constexpr const char* name = "StandardScaler";

  /// The mean and the population standard deviation (ddof = 0) of the non-missing `values` of one column.
  static std::array<double, 2> column_statistics(const std::vector<double>& values) {
    double sum = 0.0;
    for (const double v : values) sum += v;
    const double mean = sum / static_cast<double>(values.size());
    double squares = 0.0;
    for (const double v : values) squares += (v - mean) * (v - mean);
    return {mean, std::sqrt(squares / static_cast<double>(values.size()))};
  }

  /// shift = mean, divisor = standard deviation.
  static std::array<double, 2> shift_and_divisor(const std::array<double, 2>& mean_std) { return mean_std; }
};

}  // namespace kerascpp::data
