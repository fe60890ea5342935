// kerascpp/data/table.hpp — `DataFrame`: a small column table, enough of pandas for course-style
// preprocessing (select and drop columns, map labels to numbers, split rows, hand a matrix to a model).
//
// A frame holds named columns in order, each either numeric (`std::vector<double>`, missing values
// are NaN) or text (`std::vector<std::string>`, missing values are the empty string), and a row
// index of labels: 0..n-1 by default, or the values of the column `read_csv` was told to use as
// index. Row operations (`take`, `sample`, `drop_rows`, `drop_index`) keep the labels, so the
// pandas idiom
//
//     df_train = df.sample(frac=0.7, random_state=0); df_valid = df.drop(df_train.index)
//
// reads `auto train = df.sample(0.7, 0); auto valid = df.drop_rows(train);`. Every method returns a
// new frame and leaves the original alone. Rows read from a file remember their line there, so an
// error about a value can say where the value is. `std::cout << df`, `head`, `tail` and `describe`
// show a frame as pandas does (display.hpp).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/display.hpp>
#include <kerascpp/data/numpy_order.hpp>
#include <kerascpp/data/parse.hpp>
#include <kerascpp/data/random_state.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace kerascpp::data {

// kerascpp's message helpers, also reachable as `detail::` from inside kerascpp::data.
namespace detail {
using kerascpp::detail::cat;
using kerascpp::detail::fail;
using kerascpp::detail::join;
}  // namespace detail

/// The values of one column, or of the row index: numbers (missing = NaN) or text (missing = "").
using Column = std::variant<std::vector<double>, std::vector<std::string>>;

namespace detail {

/// Rounds to the nearest integer, halves to the even neighbour: Python's `round(x)` on a float.
inline double round_half_even(double x) {
  const double floor = std::floor(x);
  const double diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1.0;
  return std::fmod(floor, 2.0) == 0.0 ? floor : floor + 1.0;
}

inline Index column_length(const Column& column) {
  return std::visit([](const auto& values) { return static_cast<Index>(values.size()); }, column);
}

/// The rows of `column` at `positions`, in that order.
inline Column take_rows(const Column& column, const std::vector<Index>& positions) {
  return std::visit(
      [&](const auto& values) -> Column {
        std::decay_t<decltype(values)> out;
        out.reserve(positions.size());
        for (const Index p : positions) out.push_back(values[static_cast<std::size_t>(p)]);
        return out;
      },
      column);
}

inline std::string label_string(const Column& index, Index row) {
  const auto r = static_cast<std::size_t>(row);
  if (const auto* numbers = std::get_if<std::vector<double>>(&index)) return cat((*numbers)[r]);
  return cat("'", std::get<std::vector<std::string>>(index)[r], "'");
}

/// Whether a value is missing: NaN in a numeric column, "" in a text column.
inline bool is_missing(double v) { return std::isnan(v); }
inline bool is_missing(const std::string& v) { return v.empty(); }

struct FrameAccess;

}  // namespace detail

/// A table of named numeric and text columns with a row index (a small `pandas.DataFrame`).
class DataFrame {
 public:
  /// An empty frame: no columns and no rows. Add columns with `assign`.
  DataFrame() = default;

  /// The number of rows (samples).
  Index rows() const { return rows_; }

  /// The number of columns, the index not counted.
  Index cols() const { return static_cast<Index>(names_.size()); }

  /// (rows(), cols()) (pandas `df.shape`).
  std::pair<Index, Index> shape() const { return {rows_, cols()}; }

  /// The column names in order (pandas `df.columns`). On a temporary frame
  /// (`df.drop({"y"}).columns()`) the accessors below return a copy, so that a range-for over
  /// them does not read a destroyed frame.
  const std::vector<std::string>& columns() const& { return names_; }
  std::vector<std::string> columns() && { return names_; }

  /// Whether a column is named `name`.
  bool has_column(std::string_view name) const { return lookup_.find(name) != lookup_.end(); }

  /// Whether column `name` holds numbers (rather than text).
  bool is_numeric(std::string_view name) const {
    return std::holds_alternative<std::vector<double>>(columns_[position(name, "DataFrame.is_numeric")]);
  }

  /// The values of numeric column `name` (missing values are NaN); throws for a text column.
  const std::vector<double>& numbers(std::string_view name) const& {
    const Column& column = columns_[position(name, "DataFrame.numbers")];
    if (const auto* values = std::get_if<std::vector<double>>(&column)) return *values;
    throw_not_numeric("DataFrame.numbers", name, column);
  }
  std::vector<double> numbers(std::string_view name) && { return std::as_const(*this).numbers(name); }

  /// The values of text column `name` (missing values are ""); throws for a numeric column.
  const std::vector<std::string>& strings(std::string_view name) const& {
    const Column& column = columns_[position(name, "DataFrame.strings")];
    if (const auto* values = std::get_if<std::vector<std::string>>(&column)) return *values;
    detail::fail("DataFrame.strings: column '", name, "'", in_source(), " holds numbers, not text");
  }
  std::vector<std::string> strings(std::string_view name) && { return std::as_const(*this).strings(name); }

  /// The names of the numeric columns, in order (pandas `df.select_dtypes("number").columns`).
  std::vector<std::string> numeric_columns() const { return columns_holding<std::vector<double>>(); }

  /// The names of the text columns, in order (pandas `df.select_dtypes(exclude="number").columns`):
  /// the columns `get_dummies` encodes when it is given no column list.
  std::vector<std::string> text_columns() const { return columns_holding<std::vector<std::string>>(); }

  /// The row labels (pandas `df.index`): 0..n-1, or the values of `read_csv`'s `index_col`.
  const Column& index() const& { return index_; }
  Column index() && { return index_; }

  /// The name of the index column ("" for the default index or an unnamed column).
  const std::string& index_name() const& { return index_name_; }
  std::string index_name() && { return index_name_; }

  /// The file the rows were read from, or "" for a frame built in memory.
  const std::string& source() const& { return source_; }
  std::string source() && { return source_; }

  /// The 1-based line of `source()` that row `row` (a position) was read from, or 0 if unknown.
  Index source_line(Index row) const {
    check_row(row, "DataFrame.source_line");
    return lines_.empty() ? 0 : lines_[static_cast<std::size_t>(row)];
  }

  /// The columns `names`, in that order (pandas `df[names]`).
  DataFrame select(const std::vector<std::string>& names) const {
    DataFrame out = with_rows_of(*this);
    out.reserve_columns(names.size());
    for (const std::string& name : names) {
      if (out.has_column(name)) detail::fail("DataFrame.select: column '", name, "' is named twice");
      out.push_column(name, columns_[position(name, "DataFrame.select")]);
    }
    return out;
  }

  /// Every column except `names` (pandas `df.drop(columns=names)`); each name must exist.
  DataFrame drop(const std::vector<std::string>& names) const {
    std::vector<bool> dropped(names_.size(), false);
    for (const std::string& name : names) dropped[position(name, "DataFrame.drop")] = true;
    DataFrame out = with_rows_of(*this);
    out.reserve_columns(names_.size());
    for (std::size_t j = 0; j < names_.size(); ++j)
      if (!dropped[j]) out.push_column(names_[j], columns_[j]);
    return out;
  }

  /// Every column without a missing value (pandas `df.dropna(axis=1)`): numeric columns holding
  /// NaN and text columns holding "" are left out.
  DataFrame dropna_columns() const {
    DataFrame out = with_rows_of(*this);
    for (std::size_t j = 0; j < names_.size(); ++j)
      if (!std::visit([](const auto& values) { return std::ranges::any_of(values, [](const auto& v) { return detail::is_missing(v); }); },
                      columns_[j]))
        out.push_column(names_[j], columns_[j]);
    return out;
  }

  /// The rows without a missing value (pandas `df.dropna()`): a row holding NaN in a numeric column
  /// or "" in a text column is left out; with `subset`, only those columns are looked at. Labels kept.
  DataFrame dropna(const std::vector<std::string>& subset = {}) const {
    std::vector<bool> keep(static_cast<std::size_t>(rows_), true);
    const auto mark = [&](const Column& column) {
      std::visit([&](const auto& values) {
        for (std::size_t i = 0; i < values.size(); ++i)
          if (detail::is_missing(values[i])) keep[i] = false;
      }, column);
    };
    if (subset.empty())
      for (const Column& column : columns_) mark(column);
    for (const std::string& name : subset) mark(columns_[position(name, "DataFrame.dropna")]);
    std::vector<Index> kept;
    for (std::size_t i = 0; i < keep.size(); ++i)
      if (keep[i]) kept.push_back(static_cast<Index>(i));
    return take(kept);
  }

  /// The frame with every missing value (NaN) of the numeric columns replaced by `value` (pandas
  /// `df.fillna(value)`); text columns are left as they are.
  DataFrame fillna(double value) const {
    std::map<std::string, double> values;
    for (const std::string& name : numeric_columns()) values.emplace(name, value);
    return fillna(values);
  }

  /// The frame with the missing values of each numeric column named in `values` replaced by that
  /// column's value (pandas `df.fillna({"a": 0.0})`): `df.fillna(train.mean())` fills every numeric
  /// column with its mean over the training rows. Each name must be a numeric column.
  DataFrame fillna(const std::map<std::string, double>& values) const {
    DataFrame out = *this;
    for (const auto& [name, value] : values) {
      auto* numbers = std::get_if<std::vector<double>>(&out.columns_[position(name, "DataFrame.fillna")]);
      if (numbers == nullptr) throw_not_numeric("DataFrame.fillna", name, columns_[position(name, "DataFrame.fillna")]);
      std::ranges::replace_if(*numbers, [](double v) { return std::isnan(v); }, value);
    }
    return out;
  }

  /// The mean of each numeric column, missing values left out (pandas `df.mean(numeric_only=True)`,
  /// summed in row order); NaN for a column without a value. Text columns are not in the map.
  std::map<std::string, double> mean() const {
    std::map<std::string, double> means;
    for (const std::string& name : numeric_columns()) {
      double sum = 0.0;
      Index count = 0;
      for (const double v : numbers(name))
        if (!std::isnan(v)) sum += v, ++count;
      means.emplace(name, count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN());
    }
    return means;
  }

  /// The frame with numeric column `name` set to `values`: replaced in place if it exists, appended
  /// otherwise (pandas `df[name] = values`). On an empty frame the first column sets the row count.
  DataFrame assign(const std::string& name, std::vector<double> values) const {
    return assign_column(name, Column(std::move(values)));
  }

  /// The frame with text column `name` set to `values`, as the numeric overload.
  DataFrame assign(const std::string& name, std::vector<std::string> values) const {
    return assign_column(name, Column(std::move(values)));
  }

  /// A braced list of numbers, `assign("n", {1, 2, 3})`, is a numeric column.
  template <typename T, std::size_t N>
    requires std::is_arithmetic_v<T>
  DataFrame assign(const std::string& name, const T (&values)[N]) const {
    return assign(name, std::vector<double>(std::begin(values), std::end(values)));
  }

  /// A braced list of strings, `assign("s", {"x", "y"})`, is a text column.
  template <typename T, std::size_t N>
    requires std::is_convertible_v<const T&, std::string_view>
  DataFrame assign(const std::string& name, const T (&values)[N]) const {
    return assign(name, std::vector<std::string>(std::begin(values), std::end(values)));
  }

  /// The frame with text column `column` turned into numbers through `mapping` (pandas
  /// `df[column] = df[column].map(mapping)`). A missing value ("") becomes NaN unless the mapping
  /// names "". Throws if a value is not in the mapping, naming the value and where it is.
  DataFrame map(const std::string& column, const std::map<std::string, double>& mapping) const {
    const std::size_t j = position(column, "DataFrame.map");
    const auto* text = std::get_if<std::vector<std::string>>(&columns_[j]);
    if (text == nullptr) detail::fail("DataFrame.map: column '", column, "'", in_source(), " already holds numbers");
    std::vector<double> values(text->size());
    for (std::size_t i = 0; i < text->size(); ++i) {
      const std::string& value = (*text)[i];
      if (const auto found = mapping.find(value); found != mapping.end()) {
        values[i] = found->second;
      } else if (value.empty()) {
        values[i] = std::numeric_limits<double>::quiet_NaN();
      } else {
        std::vector<std::string> keys;
        for (const auto& entry : mapping) keys.push_back("'" + entry.first + "'");
        detail::fail("DataFrame.map: column '", column, "' holds '", value, "' ", where(static_cast<Index>(i)),
                     ", which the mapping does not name (it names ", detail::join(keys), ")");
      }
    }
    DataFrame out = *this;
    out.columns_[j] = std::move(values);
    return out;
  }

  /// The rows at `positions` (0-based, in that order, repeats allowed), labels kept (pandas
  /// `df.iloc[positions]` / `df.take(positions)`).
  DataFrame take(const std::vector<Index>& positions) const {
    for (const Index p : positions) check_row(p, "DataFrame.take");
    DataFrame out;
    out.names_ = names_;
    out.lookup_ = lookup_;
    out.rows_ = static_cast<Index>(positions.size());
    out.index_ = detail::take_rows(index_, positions);
    out.index_name_ = index_name_;
    out.source_ = source_;
    out.int64_ = int64_;
    if (!lines_.empty()) {
      out.lines_.reserve(positions.size());
      for (const Index p : positions) out.lines_.push_back(lines_[static_cast<std::size_t>(p)]);
    }
    out.columns_.reserve(columns_.size());
    for (const Column& column : columns_) out.columns_.push_back(detail::take_rows(column, positions));
    return out;
  }

  /// The first `n` rows, labels kept (pandas `df.head(n)`): all rows if `n` >= rows(), all but the
  /// last -n if `n` is negative.
  DataFrame head(Index n = 5) const { return rows_between(0, n < 0 ? std::max<Index>(rows_ + n, 0) : std::min(n, rows_)); }

  /// The last `n` rows, labels kept (pandas `df.tail(n)`): all but the first -n if `n` is negative.
  DataFrame tail(Index n = 5) const {
    return rows_between(n < 0 ? (n < -rows_ ? rows_ : -n) : std::max<Index>(rows_ - n, 0), rows_);
  }

  /// A random `frac` of the rows, chosen and ordered exactly as pandas'
  /// `df.sample(frac=frac, random_state=random_state)` (legacy numpy `RandomState`), labels kept.
  /// The row count is round(frac * rows()), halves rounded to even as Python does.
  DataFrame sample(double frac, std::int64_t random_state) const {
    RandomState state(random_state);
    return sample(frac, state);
  }

  /// As `sample(frac, seed)`, drawing from (and advancing) `random_state`, like passing a
  /// `numpy.random.RandomState` object to pandas.
  DataFrame sample(double frac, RandomState& random_state) const {
    if (!(frac >= 0.0 && frac <= 1.0))
      detail::fail("DataFrame.sample: frac must be between 0 and 1 (sampling without replacement), received ", frac);
    const auto n = static_cast<Index>(detail::round_half_even(frac * static_cast<double>(rows_)));
    return take(random_state.choice(rows_, n));
  }

  /// The rows whose labels are not in `other`'s index (pandas `df.drop(other.index)`): the
  /// complement of a sample. Every label of `other` must be in this frame's index.
  DataFrame drop_rows(const DataFrame& other) const {
    return std::visit([&](const auto& labels) { return drop_labels(labels, "DataFrame.drop_rows"); }, other.index_);
  }

  /// The rows whose numeric label is not in `labels` (pandas `df.drop(labels)`); each label must exist.
  DataFrame drop_index(const std::vector<double>& labels) const { return drop_labels(labels, "DataFrame.drop_index"); }

  /// The rows whose text label is not in `labels` (pandas `df.drop(labels)`); each label must exist.
  DataFrame drop_index(const std::vector<std::string>& labels) const {
    return drop_labels(labels, "DataFrame.drop_index");
  }

  /// How often each distinct value of column `name` occurs (pandas 1.5 `df[name].value_counts()`):
  /// a frame whose index holds the values (numbers or text, as the column) and whose one numeric
  /// column "count" holds the counts (printed as integers, as pandas prints its int64 counts).
  /// Missing values (NaN, "") are not counted. Most frequent first; equal counts come in the order
  /// pandas 1.5 gives them, which is the order of first appearance when there are at most 16
  /// distinct values, and numpy's unstable quicksort order beyond (reproduced here exactly).
  DataFrame value_counts(const std::string& name) const {
    return std::visit([&](const auto& values) { return count_values(values, name); },
                      columns_[position(name, "DataFrame.value_counts")]);
  }

  /// count, mean, std (n - 1), min, 25%, 50%, 75% and max of each numeric column without its
  /// missing values (pandas `df.describe()`): a frame with those row labels (display.hpp). Throws
  /// if no column is numeric.
  DataFrame describe() const {
    DataFrame out;
    out.rows_ = 8;
    out.index_ = detail::describe_labels();
    for (std::size_t j = 0; j < names_.size(); ++j)
      if (const auto* values = std::get_if<std::vector<double>>(&columns_[j]))
        out.push_column(names_[j], detail::describe_values(*values));
    if (out.names_.empty())
      detail::fail("DataFrame.describe: expected at least one numeric column, received ",
                   names_.empty() ? std::string("no columns") : detail::cat("only text columns: ", detail::join(names_)));
    return out;
  }

  /// The frame as pandas' `print(df)` shows it (display.hpp); no newline at the end.
  std::string to_string() const {
    std::vector<bool> int64(names_.size());
    for (std::size_t j = 0; j < names_.size(); ++j) int64[j] = int64_.contains(names_[j]);
    return detail::frame_text(names_, columns_, index_, index_name_, rows_, int64);
  }

  /// Writes `frame.to_string()`.
  friend std::ostream& operator<<(std::ostream& out, const DataFrame& frame) { return out << frame.to_string(); }

  /// All columns as a matrix, rows are samples (pandas `df.to_numpy()`). Throws if a column holds
  /// text, naming the column and its first non-numeric value with its line in the file.
  template <typename Scalar = float>
  Matrix<Scalar> to_matrix() const {
    return to_matrix<Scalar>(names_);
  }

  /// The columns `names`, in that order, as a matrix; rows are samples. Missing values are NaN.
  template <typename Scalar = float>
  Matrix<Scalar> to_matrix(const std::vector<std::string>& names) const {
    return numeric_matrix<Scalar>(names, "DataFrame.to_matrix");
  }

 private:
  friend struct detail::FrameAccess;

  /// `to_matrix(names)`, with errors that `caller` starts.
  template <typename Scalar>
  Matrix<Scalar> numeric_matrix(const std::vector<std::string>& names, std::string_view caller) const {
    Matrix<Scalar> out(rows_, static_cast<Index>(names.size()));
    for (std::size_t k = 0; k < names.size(); ++k) {
      const Column& column = columns_[position(names[k], caller)];
      const auto* values = std::get_if<std::vector<double>>(&column);
      if (values == nullptr) throw_not_numeric(caller, names[k], column);
      for (Index i = 0; i < rows_; ++i) {
        const double value = (*values)[static_cast<std::size_t>(i)];
        // float would hold a finite double beyond its range as inf, which fit would then blame on the data
        if constexpr (std::is_same_v<Scalar, float>)
          if (std::isfinite(value) && std::abs(value) > static_cast<double>(std::numeric_limits<float>::max()))
            detail::fail(caller, ": column '", names[k], "' holds ", value, " ", where(i),
                         ", beyond the range of float (largest magnitude ", std::numeric_limits<float>::max(),
                         "); expected values that fit in float, or use to_matrix<double>()");
        out(i, static_cast<Index>(k)) = static_cast<Scalar>(value);
      }
    }
    return out;
  }

  /// The rows at positions `begin` to `end` - 1, labels kept.
  DataFrame rows_between(Index begin, Index end) const {
    std::vector<Index> positions;
    for (Index i = begin; i < end; ++i) positions.push_back(i);
    return take(positions);
  }

  /// A frame with this frame's rows (index, lines, source) and no columns yet.
  static DataFrame with_rows_of(const DataFrame& frame) {
    DataFrame out;
    out.rows_ = frame.rows_;
    out.index_ = frame.index_;
    out.index_name_ = frame.index_name_;
    out.lines_ = frame.lines_;
    out.source_ = frame.source_;
    out.int64_ = frame.int64_;
    return out;
  }

  /// " in <file>" for frames read from a file, "" otherwise.
  std::string in_source() const { return source_.empty() ? std::string() : detail::cat(" in ", source_); }

  /// For a frame read from a file whose one column's name holds ';' or a tab, the hint to read it
  /// with that separator; "" otherwise.
  std::string separator_hint() const {
    return source_.empty() ? std::string() : detail::separator_hint(names_, "read_csv", "CsvOptions");
  }

  /// " of the rows read from <file>" for frames read from a file, "" otherwise.
  std::string of_rows() const {
    return source_.empty() ? std::string() : detail::cat(" of the rows read from ", source_);
  }

  /// Where row `row` is, for messages: its file line if known, and its label.
  std::string where(Index row) const {
    const std::string label = detail::label_string(index_, row);
    const auto r = static_cast<std::size_t>(row);
    if (!lines_.empty() && lines_[r] > 0)
      return detail::cat("at line ", lines_[r], " of ", source_, " (index label ", label, ")");
    return detail::cat("at row ", row, " (index label ", label, ")");
  }

  std::size_t position(std::string_view name, std::string_view caller) const {
    const auto found = lookup_.find(name);
    if (found == lookup_.end()) {
      std::vector<std::string> quoted;
      for (const std::string& n : names_) quoted.push_back("'" + n + "'");
      detail::fail(caller, ": no column named ", kerascpp::detail::quote(name), in_source(),
                   kerascpp::detail::did_you_mean(name, names_),
                   "; the columns are ", names_.empty() ? std::string("(none)") : detail::join(quoted), separator_hint());
    }
    return found->second;
  }

  /// Appends a column whose name is not yet taken, keeping the name lookup in step.
  void push_column(const std::string& name, Column column) {
    lookup_.emplace(name, names_.size());
    names_.push_back(name);
    columns_.push_back(std::move(column));
  }

  void reserve_columns(std::size_t count) {
    names_.reserve(count);
    columns_.reserve(count);
    lookup_.reserve(count);
  }

  template <typename Value>
  DataFrame count_values(const std::vector<Value>& values, const std::string& name) const {
    std::vector<Value> distinct;
    std::vector<std::int64_t> counts;
    const auto tally = [&](auto& seen, const auto& key) {
      const auto [found, inserted] = seen.emplace(key, distinct.size());
      if (inserted) {
        distinct.emplace_back(key);
        counts.push_back(0);
      }
      ++counts[found->second];
    };
    if constexpr (std::is_same_v<Value, double>) {
      std::unordered_map<double, std::size_t> seen;
      for (const double v : values)
        if (!std::isnan(v)) tally(seen, v == 0.0 ? 0.0 : v);  // -0.0 and 0.0 are one value, as in pandas
    } else {
      std::unordered_map<std::string_view, std::size_t> seen;
      for (const std::string& v : values)
        if (!v.empty()) tally(seen, std::string_view(v));
    }
    const std::vector<Index> order = detail::descending_order(counts);
    std::vector<Value> labels;
    std::vector<double> sorted_counts;
    labels.reserve(order.size());
    sorted_counts.reserve(order.size());
    for (const Index k : order) {
      labels.push_back(distinct[static_cast<std::size_t>(k)]);
      sorted_counts.push_back(static_cast<double>(counts[static_cast<std::size_t>(k)]));
    }
    DataFrame out;
    out.rows_ = static_cast<Index>(labels.size());
    out.index_ = std::move(labels);
    out.index_name_ = name;
    out.push_column("count", std::move(sorted_counts));
    out.int64_.insert("count");
    return out;
  }

  template <typename Values>
  std::vector<std::string> columns_holding() const {
    std::vector<std::string> out;
    for (std::size_t j = 0; j < names_.size(); ++j)
      if (std::holds_alternative<Values>(columns_[j])) out.push_back(names_[j]);
    return out;
  }

  void check_row(Index row, std::string_view caller) const {
    if (row < 0 || row >= rows_)
      detail::fail(caller, ": row position ", row, " is out of range for a frame of ", rows_, " rows");
  }

  [[noreturn]] void throw_not_numeric(std::string_view caller, std::string_view name, const Column& column) const {
    const auto& text = std::get<std::vector<std::string>>(column);
    for (std::size_t i = 0; i < text.size(); ++i) {
      double ignored = 0.0;
      if (!text[i].empty() && !detail::parse_number(text[i], ignored))
        detail::fail(caller, ": column '", name, "' holds text, not numbers: its first non-numeric value is '", text[i],
                     "' ", where(static_cast<Index>(i)), "; convert the column with map() or drop it", separator_hint());
    }
    const auto empty = std::find(text.begin(), text.end(), std::string());
    if (empty != text.end())
      detail::fail(caller, ": column '", name,
                   "' holds text, not numbers: its only non-numeric values are empty fields, ", "the first ",
                   where(static_cast<Index>(empty - text.begin())),
                   "; read the file with \"\" among na_values to make them missing values");
    detail::fail(caller, ": column '", name, "'", in_source(), " is a text column, not a numeric one");
  }

  DataFrame assign_column(const std::string& name, Column values) const {
    const Index length = detail::column_length(values);
    DataFrame out = *this;
    if (names_.empty() && rows_ == 0 && length > 0) {
      std::vector<double> labels(static_cast<std::size_t>(length));
      for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<double>(i);
      out.rows_ = length;
      out.index_ = std::move(labels);
      out.lines_.clear();
    } else if (length != rows_) {
      detail::fail("DataFrame.assign: column '", name, "' has ", length, " values, the frame has ", rows_, " rows");
    }
    if (const auto found = lookup_.find(name); found != lookup_.end())
      out.columns_[found->second] = std::move(values);
    else
      out.push_column(name, std::move(values));
    out.int64_.erase(name);
    return out;
  }

  /// A strict weak order on labels in which NaN equals NaN and follows every number, so that a
  /// missing label matches a missing label as in pandas (the plain < on doubles is no order with NaN).
  struct LabelOrder {
    bool operator()(double a, double b) const {
      if (std::isnan(a)) return false;
      return std::isnan(b) || a < b;
    }
    bool operator()(const std::string& a, const std::string& b) const { return a < b; }
  };

  template <typename Label>
  DataFrame drop_labels(const std::vector<Label>& labels, std::string_view caller) const {
    const auto* index = std::get_if<std::vector<Label>>(&index_);
    if (index == nullptr)
      detail::fail(caller, ": the index holds ",
                   std::holds_alternative<std::vector<double>>(index_) ? "numbers" : "text",
                   ", the labels to drop do not");
    const std::set<Label, LabelOrder> present(index->begin(), index->end());
    for (const Label& label : labels)
      if (present.count(label) == 0) {
        if constexpr (std::is_same_v<Label, double>)
          detail::fail(caller, ": label ", label, " is not in the index", of_rows());
        else
          detail::fail(caller, ": label '", label, "' is not in the index", of_rows());
      }
    const std::set<Label, LabelOrder> dropped(labels.begin(), labels.end());
    std::vector<Index> kept;
    for (std::size_t i = 0; i < index->size(); ++i)
      if (dropped.count((*index)[i]) == 0) kept.push_back(static_cast<Index>(i));
    return take(kept);
  }

  /// Hashes and compares names as string views, so a lookup by `std::string_view` copies nothing.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const { return std::hash<std::string_view>{}(name); }
  };

  std::vector<std::string> names_;
  std::vector<Column> columns_;
  std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> lookup_;  // name -> position in names_
  Index rows_ = 0;
  Column index_;
  std::string index_name_;
  std::vector<Index> lines_;  // file line of each row; empty when the rows were not read from a file
  std::string source_;
  std::set<std::string, std::less<>> int64_;  // numeric columns pandas holds as int64 (counts): printed without decimals
};

namespace detail {

/// Lets `read_csv` build a frame together with where each row came from.
struct FrameAccess {
  static DataFrame make(std::vector<std::string> names, std::vector<Column> columns, Index rows, Column index,
                        std::string index_name, std::vector<Index> lines, std::string source) {
    DataFrame frame;
    frame.reserve_columns(names.size());
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (frame.has_column(names[j])) fail("DataFrame: column '", names[j], "' is named twice");
      frame.push_column(names[j], std::move(columns[j]));
    }
    frame.rows_ = rows;
    frame.index_ = std::move(index);
    frame.index_name_ = std::move(index_name);
    frame.lines_ = std::move(lines);
    frame.source_ = std::move(source);
    return frame;
  }

  /// The columns of `frame`, for in-place changes that keep names, types and lengths.
  static std::vector<Column>& columns(DataFrame& frame) { return frame.columns_; }

  /// Appends column `name` (of `frame.rows()` values) to `frame`; throws if the name is taken.
  static void push_column(DataFrame& frame, const std::string& name, Column column, std::string_view caller) {
    if (frame.has_column(name))
      fail(caller, ": the output would hold two columns named '", name, "'; rename the column that clashes first");
    frame.push_column(name, std::move(column));
  }

  /// `frame.to_matrix<Scalar>()`, with errors (a text column) that `caller` ("StandardScaler.fit") starts.
  template <typename Scalar>
  static Matrix<Scalar> to_matrix(const DataFrame& frame, std::string_view caller) {
    return frame.numeric_matrix<Scalar>(frame.names_, caller);
  }

  /// Throws, naming the column and its first text value, unless every column of `frame` is numeric.
  static void require_numeric(const DataFrame& frame, std::string_view caller) {
    for (std::size_t j = 0; j < frame.names_.size(); ++j)
      if (!std::holds_alternative<std::vector<double>>(frame.columns_[j]))
        frame.throw_not_numeric(caller, frame.names_[j], frame.columns_[j]);
  }

  /// `frame`'s rows (index, lines, source) with no columns.
  static DataFrame rows_of(const DataFrame& frame) { return DataFrame::with_rows_of(frame); }
};

}  // namespace detail

}  // namespace kerascpp::data
