// kerascpp/data/encoders.hpp — categories to numbers: `LabelEncoder` and `factorize` (a text target
// to class indices), `OneHotEncoder` and `get_dummies` (text or numeric categories to 0/1 columns),
// with the semantics of scikit-learn 1.2 and pandas 1.5.
//
// Categories are sorted as pandas and scikit-learn sort them: text by code point (byte order of
// UTF-8, which is the same order), numbers numerically. Missing values (NaN, and "" in text
// columns) are never a category: `get_dummies` and `OneHotEncoder` give them an all-zero row as
// `pd.get_dummies(dummy_na=False)` does, `factorize` gives them code -1 as pandas does, and
// `LabelEncoder` refuses them (scikit-learn would make NaN a class of its own).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/table.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace kerascpp::data {

namespace detail {

/// "at line 7 of f.csv (row 5)" for rows read from a file, "at row 5" otherwise.
inline std::string describe_row(const DataFrame& frame, Index row) {
  const Index line = frame.source_line(row);
  if (line > 0) return cat("at line ", line, " of ", frame.source(), " (row ", row, ")");
  return cat("at row ", row);
}

/// 'a', 'b', 'c' — at most 20 items, then how many there are in all.
inline std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (std::size_t i = 0; i < items.size() && i < 20; ++i) quoted.push_back("'" + items[i] + "'");
  std::string out = items.empty() ? std::string("(none)") : join(quoted);
  if (items.size() > 20) out += cat(", ... (", items.size(), " in all)");
  return out;
}

/// A category as it appears in a column name: integral numbers without a decimal point ("3"),
/// others in the shortest form that reads back exactly ("0.5").
inline std::string category_text(double value) {
  if (std::abs(value) < 1e15 && value == std::floor(value)) return cat(static_cast<long long>(value));
  return kerascpp::detail::number(value);
}

inline std::string category_text(const std::string& value) { return value; }

/// The distinct non-missing values of `values`, sorted.
template <typename Value>
std::vector<Value> sorted_unique(const std::vector<Value>& values) {
  std::vector<Value> out;
  for (const Value& v : values)
    if (!is_missing(v)) out.push_back(v);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace detail

/// What `factorize` returns: a code per value and the distinct values the codes point into.
struct Factorized {
  /// codes[i] is the position of values[i] in `uniques`, or -1 for a missing value ("").
  std::vector<Index> codes;
  /// The distinct non-missing values: in order of first appearance, or sorted with sort = true.
  std::vector<std::string> uniques;
};

/// Encodes text as integer codes (pandas `pd.factorize(values, sort=sort)`): missing values ("")
/// get code -1 and are not among the uniques.
inline Factorized factorize(const std::vector<std::string>& values, bool sort = false) {
  Factorized out;
  out.codes.reserve(values.size());
  std::unordered_map<std::string_view, Index> seen;
  for (const std::string& v : values) {
    if (v.empty()) {
      out.codes.push_back(-1);
      continue;
    }
    const auto [found, inserted] = seen.emplace(v, static_cast<Index>(out.uniques.size()));
    if (inserted) out.uniques.push_back(v);
    out.codes.push_back(found->second);
  }
  if (sort) {
    std::vector<std::string> sorted = out.uniques;
    std::sort(sorted.begin(), sorted.end());
    std::vector<Index> rank(sorted.size());
    for (std::size_t k = 0; k < sorted.size(); ++k)
      rank[static_cast<std::size_t>(seen.at(sorted[k]))] = static_cast<Index>(k);
    for (Index& code : out.codes)
      if (code >= 0) code = rank[static_cast<std::size_t>(code)];
    out.uniques = std::move(sorted);
  }
  return out;
}

/// Encodes text labels as 0..k-1 in sorted order of the labels (scikit-learn `LabelEncoder`).
class LabelEncoder {
 public:
  /// Learns the sorted distinct labels of `y` (scikit-learn `classes_`); "" (missing) is refused.
  LabelEncoder& fit(const std::vector<std::string>& y) {
    check_present(y, "fit", nullptr);
    classes_ = detail::sorted_unique(y);
    fitted_ = true;
    return *this;
  }

  /// Learns the labels of text column `column` of `frame`.
  LabelEncoder& fit(const DataFrame& frame, const std::string& column) {
    const std::vector<std::string>& y = text_column(frame, column, "fit");
    check_present(y, "fit", &frame);
    classes_ = detail::sorted_unique(y);
    fitted_ = true;
    return *this;
  }

  /// The position of each label of `y` in `classes()`; a label not seen by `fit` is a ValueError.
  std::vector<Index> transform(const std::vector<std::string>& y) const { return encode(y, nullptr); }

  /// `frame` with text column `column` replaced by its codes (as numbers, in place).
  DataFrame transform(const DataFrame& frame, const std::string& column) const {
    const std::vector<Index> codes = encode(text_column(frame, column, "transform"), &frame);
    return frame.assign(column, std::vector<double>(codes.begin(), codes.end()));
  }

  /// `fit(y)` followed by `transform(y)`.
  std::vector<Index> fit_transform(const std::vector<std::string>& y) {
    fit(y);
    return transform(y);
  }

  /// `fit(frame, column)` followed by `transform(frame, column)`.
  DataFrame fit_transform(const DataFrame& frame, const std::string& column) {
    fit(frame, column);
    return transform(frame, column);
  }

  /// The labels of `codes`, each in [0, classes().size()).
  std::vector<std::string> inverse_transform(const std::vector<Index>& codes) const {
    check_fitted("inverse_transform");
    std::vector<std::string> out;
    out.reserve(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] < 0 || codes[i] >= static_cast<Index>(classes_.size()))
        detail::fail("LabelEncoder.inverse_transform: code ", codes[i], " at position ", i, " is not in [0, ",
                     classes_.size(), "); the encoder knows ", classes_.size(), " classes");
      out.push_back(classes_[static_cast<std::size_t>(codes[i])]);
    }
    return out;
  }

  /// As `inverse_transform(codes)` for codes held as numbers (a column or a model's predictions);
  /// each must be a whole number.
  std::vector<std::string> inverse_transform(const std::vector<double>& codes) const {
    std::vector<Index> whole(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (!(codes[i] == std::floor(codes[i])) || std::abs(codes[i]) > 1e15)
        detail::fail("LabelEncoder.inverse_transform: code ", codes[i], " at position ", i,
                     " is not a whole number; expected class indices in [0, ", classes_.size(), ")");
      whole[i] = static_cast<Index>(codes[i]);
    }
    return inverse_transform(whole);
  }

  /// The labels in code order (scikit-learn `classes_`).
  const std::vector<std::string>& classes() const { return classes_; }

  /// Whether `fit` has been called.
  bool fitted() const { return fitted_; }

 private:
  static const std::vector<std::string>& text_column(const DataFrame& frame, const std::string& column,
                                                     std::string_view caller) {
    if (!frame.is_numeric(column)) return frame.strings(column);
    detail::fail("LabelEncoder.", caller, ": column '", column,
                 "' holds numbers; LabelEncoder encodes a text column (its values may already be usable as labels)");
  }

  static void check_present(const std::vector<std::string>& y, std::string_view caller, const DataFrame* frame) {
    for (std::size_t i = 0; i < y.size(); ++i)
      if (y[i].empty())
        detail::fail("LabelEncoder.", caller, ": a label is missing (empty) ",
                     frame ? detail::describe_row(*frame, static_cast<Index>(i)) : detail::cat("at position ", i),
                     "; drop or fill the rows without a label first");
  }

  void check_fitted(std::string_view caller) const {
    if (!fitted_) throw StateError(detail::cat("LabelEncoder.", caller, ": the encoder is not fitted; call fit first"));
  }

  std::vector<Index> encode(const std::vector<std::string>& y, const DataFrame* frame) const {
    check_fitted("transform");
    std::unordered_map<std::string_view, Index> code;
    code.reserve(classes_.size());
    for (std::size_t k = 0; k < classes_.size(); ++k) code.emplace(classes_[k], static_cast<Index>(k));
    std::vector<Index> out;
    out.reserve(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      const auto found = code.find(y[i]);
      if (found == code.end())
        detail::fail("LabelEncoder.transform: y contains the previously unseen label '", y[i], "' ",
                     frame ? detail::describe_row(*frame, static_cast<Index>(i)) : detail::cat("at position ", i),
                     "; the known classes are ", detail::quoted_list(classes_));
      out.push_back(found->second);
    }
    return out;
  }

  std::vector<std::string> classes_;
  bool fitted_ = false;
};

/// What `OneHotEncoder::transform` does with a category that `fit` did not see (scikit-learn
/// `handle_unknown`): throw a ValueError naming it, or encode it as all zeros.
enum class HandleUnknown { error, ignore };

/// One 0/1 column per category of each encoded column, learned on one frame and applied to others
/// (pandas `get_dummies` that remembers its categories; scikit-learn `OneHotEncoder` semantics for
/// `drop="first"` and `handle_unknown`). The output holds the other columns first, in their order,
/// then for each encoded column (in the order given) a column "<column><prefix_sep><category>" per
/// sorted category, holding 1.0 where the row has that category and 0.0 elsewhere.
class OneHotEncoder {
 public:
  /// `columns`: the columns to encode (text or numeric); empty means every text column of the frame
  /// given to `fit`. `drop_first`: leave out each column's first category. `prefix_sep`: between
  /// the column name and the category in the new names.
  explicit OneHotEncoder(std::vector<std::string> columns = {}, bool drop_first = false,
                         HandleUnknown handle_unknown = HandleUnknown::error, std::string prefix_sep = "_")
      : requested_(std::move(columns)),
        drop_first_(drop_first),
        handle_unknown_(handle_unknown),
        prefix_sep_(std::move(prefix_sep)) {}

  /// Learns the sorted categories of each encoded column of `frame`.
  OneHotEncoder& fit(const DataFrame& frame) {
    fitted_ = false;
    std::vector<std::string> encoded = requested_.empty() ? frame.text_columns() : requested_;
    std::vector<char> is_encoded(static_cast<std::size_t>(frame.cols()), 0);
    std::unordered_map<std::string_view, std::size_t> position;
    for (std::size_t j = 0; j < frame.columns().size(); ++j) position.emplace(frame.columns()[j], j);
    std::vector<Column> categories;
    for (const std::string& name : encoded) {
      if (!frame.has_column(name))
        detail::fail("OneHotEncoder.fit: no column named '", name, "'; the columns are ",
                     detail::quoted_list(frame.columns()));
      char& seen = is_encoded[position.at(name)];
      if (seen != 0) detail::fail("OneHotEncoder.fit: column '", name, "' is named twice in columns");
      seen = 1;
      if (frame.is_numeric(name))
        categories.emplace_back(detail::sorted_unique(frame.numbers(name)));
      else
        categories.emplace_back(detail::sorted_unique(frame.strings(name)));
    }
    std::vector<std::string> passthrough;
    for (std::size_t j = 0; j < frame.columns().size(); ++j)
      if (is_encoded[j] == 0) passthrough.push_back(frame.columns()[j]);
    columns_in_ = frame.columns();
    encoded_ = std::move(encoded);
    passthrough_ = std::move(passthrough);
    categories_ = std::move(categories);
    feature_names_out_ = passthrough_;
    for (std::size_t c = 0; c < encoded_.size(); ++c)
      std::visit(
          [&](const auto& values) {
            for (std::size_t k = drop_first_ ? 1 : 0; k < values.size(); ++k)
              feature_names_out_.push_back(encoded_[c] + prefix_sep_ + detail::category_text(values[k]));
          },
          categories_[c]);
    check_names_unique();
    fitted_ = true;
    return *this;
  }

  /// The encoded frame; `frame` must have the columns given to `fit`, in the same order, each
  /// encoded column of the same kind (text or numbers).
  DataFrame transform(const DataFrame& frame) const {
    if (!fitted_) throw StateError("OneHotEncoder.transform: the encoder is not fitted; call fit first");
    if (frame.columns() != columns_in_)
      detail::fail("OneHotEncoder.transform: expected the columns given to fit (", detail::join(columns_in_),
                   "), received (", detail::join(frame.columns()), ")");
    DataFrame out = frame.select(passthrough_);
    for (std::size_t c = 0; c < encoded_.size(); ++c) {
      const std::string& name = encoded_[c];
      const bool numeric = std::holds_alternative<std::vector<double>>(categories_[c]);
      if (frame.is_numeric(name) != numeric)
        detail::fail("OneHotEncoder.transform: column '", name, "' held ", numeric ? "numbers" : "text",
                     " when fitted, and holds ", numeric ? "text" : "numbers", " now");
      if (numeric)
        append_dummies(out, frame, c, frame.numbers(name), std::get<std::vector<double>>(categories_[c]));
      else
        append_dummies(out, frame, c, frame.strings(name), std::get<std::vector<std::string>>(categories_[c]));
    }
    return out;
  }

  /// `fit(frame)` followed by `transform(frame)`.
  DataFrame fit_transform(const DataFrame& frame) {
    fit(frame);
    return transform(frame);
  }

  /// The encoded columns, in output order (the given list, or the text columns seen by `fit`).
  const std::vector<std::string>& encoded_columns() const { return encoded_; }

  /// The sorted categories of each encoded column, numbers or text as the column (scikit-learn
  /// `categories_`); with drop_first the first of each has no output column.
  const std::vector<Column>& categories() const { return categories_; }

  /// The output column names in order (scikit-learn `get_feature_names_out()`).
  const std::vector<std::string>& get_feature_names_out() const { return feature_names_out_; }

  /// Whether `fit` has been called.
  bool fitted() const { return fitted_; }

 private:
  void check_names_unique() const {
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t j = 0; j < feature_names_out_.size(); ++j)
      if (!seen.emplace(feature_names_out_[j], j).second)
        detail::fail("OneHotEncoder.fit: the output would hold two columns named '", feature_names_out_[j],
                     "'; rename the column that clashes first");
  }

  template <typename Value>
  void append_dummies(DataFrame& out, const DataFrame& frame, std::size_t c, const std::vector<Value>& values,
                      const std::vector<Value>& categories) const {
    const std::size_t first = drop_first_ ? 1 : 0;
    std::vector<std::vector<double>> dummies(categories.size() - std::min(categories.size(), first),
                                             std::vector<double>(values.size(), 0.0));
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (detail::is_missing(values[i])) continue;
      const auto found = std::lower_bound(categories.begin(), categories.end(), values[i]);
      if (found == categories.end() || *found != values[i]) {
        if (handle_unknown_ == HandleUnknown::ignore) continue;
        std::vector<std::string> known;
        for (const Value& v : categories) known.push_back(detail::category_text(v));
        detail::fail("OneHotEncoder.transform: column '", encoded_[c], "' holds '", detail::category_text(values[i]),
                     "' ", detail::describe_row(frame, static_cast<Index>(i)),
                     ", a category fit did not see; the fitted categories are ", detail::quoted_list(known),
                     "; construct the encoder with HandleUnknown::ignore to encode unseen categories as all zeros");
      }
      const auto k = static_cast<std::size_t>(found - categories.begin());
      if (k >= first) dummies[k - first][i] = 1.0;
    }
    for (std::size_t k = first; k < categories.size(); ++k)
      detail::FrameAccess::push_column(out, encoded_[c] + prefix_sep_ + detail::category_text(categories[k]),
                                       std::move(dummies[k - first]), "OneHotEncoder.transform");
  }

  std::vector<std::string> requested_;
  bool drop_first_;
  HandleUnknown handle_unknown_;
  std::string prefix_sep_;
  std::vector<std::string> columns_in_;
  std::vector<std::string> encoded_;
  std::vector<std::string> passthrough_;
  std::vector<Column> categories_;
  std::vector<std::string> feature_names_out_;
  bool fitted_ = false;
};

/// One 0/1 column per category (pandas `pd.get_dummies(frame, columns=columns,
/// drop_first=drop_first, prefix_sep=prefix_sep, dtype=float)`): the other columns first, then each
/// encoded column's dummies in sorted category order. An empty `columns` encodes every text column.
inline DataFrame get_dummies(const DataFrame& frame, const std::vector<std::string>& columns = {},
                             bool drop_first = false, const std::string& prefix_sep = "_") {
  return OneHotEncoder(columns, drop_first, HandleUnknown::error, prefix_sep).fit_transform(frame);
}

}  // namespace kerascpp::data
