// kerascpp/data/display.hpp — how a `DataFrame` looks and what `describe` computes: the text of
// pandas' `print(df)` (`DataFrame::to_string`, `operator<<`) and the summary of `df.describe()`.
//
// The text is what pandas 1.5 to 2.2 print with their default display options (`display.max_rows`
// 60, `display.min_rows` 10, `display.max_colwidth` 50, `display.precision` 6), when every column
// fits on the line: pandas' `df.to_string(max_rows=60, min_rows=10, max_colwidth=50,
// show_dimensions="truncate")`. Line wrapping at `display.width` and dropping columns are left out.
// The functions here work on the columns of a frame; `DataFrame` (table.hpp) calls them.
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace kerascpp::data::detail {

using kerascpp::detail::cat;

/// pandas' display options that shape the text (their default values).
inline constexpr Index display_max_rows = 60;     // longer frames show their first and last rows
inline constexpr Index display_min_rows = 10;     // how many rows such a frame shows
inline constexpr std::size_t display_max_colwidth = 50;  // longer cells are cut, ending in "..."
inline constexpr int display_precision = 6;       // decimals before trailing zeros are trimmed

/// The width of `text` on screen as pandas counts it: its characters (UTF-8 code points).
inline std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::ranges::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// `text` padded with spaces to `width` characters, on the right (`left`) or on the left.
inline std::string justify(std::string text, std::size_t width, bool left) {
  const std::size_t have = display_width(text);
  if (have >= width) return text;
  return left ? text.append(width - have, ' ') : std::string(width - have, ' ') + text;
}

/// `text` with tabs and line breaks written `\t`, `\r`, `\n`, as pandas prints names and values.
inline std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

/// pandas' `_make_fixed_width`: every cell justified to the widest (at least `minimum`) but at most
/// `display_max_colwidth` characters; a longer cell keeps its first 47 characters and ends in "...".
inline void fix_width(std::vector<std::string>& cells, std::size_t minimum, bool left) {
  std::size_t width = minimum;
  for (const std::string& cell : cells) width = std::max(width, display_width(cell));
  width = std::min(width, display_max_colwidth);
  for (std::string& cell : cells) {
    if (display_width(cell) > width) {
      std::size_t kept = 0, bytes = 0;
      for (; bytes < cell.size(); ++bytes)
        if ((static_cast<unsigned char>(cell[bytes]) & 0xC0) != 0x80 && kept++ == width - 3) break;
      cell = cell.substr(0, bytes) + "...";
    }
    cell = justify(std::move(cell), width, left);
  }
}

/// Python's `f"{value: .6f}"` (or `.6e` when `scientific`): a space before a number that is not negative.
inline std::string python_fixed(double value, bool scientific) {
  std::array<char, 400> buffer{};
  const auto format = scientific ? std::chars_format::scientific : std::chars_format::fixed;
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format, display_precision);
  std::string text(buffer.data(), result.ptr);
  return text.front() == '-' ? text : cat(" ", text);
}

/// Whether `text` is a number with a decimal point and no exponent (pandas' `^\s*[\+-]?[0-9]+\.[0-9]*$`).
inline bool has_decimals(std::string_view text) {
  std::size_t k = text.find_first_not_of(' ');
  if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
  const std::size_t digits = k;
  while (k < text.size() && text[k] >= '0' && text[k] <= '9') ++k;
  if (k == digits || k == text.size() || text[k] != '.') return false;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(k) + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// pandas' `_trim_zeros_float`: the same number of trailing zeros taken off every number, as long
/// as all of them end in 0, leaving one decimal ("7.400000", "0.700000" become "7.4", "0.7").
inline void trim_zeros(std::vector<std::string>& cells) {
  const auto all_end_in_zero = [&] {
    bool any = false;
    for (const std::string& cell : cells)
      if (has_decimals(cell)) {
        if (cell.back() != '0') return false;
        any = true;
      }
    return any;
  };
  while (all_end_in_zero())
    for (std::string& cell : cells)
      if (has_decimals(cell)) cell.pop_back();
  for (std::string& cell : cells)
    if (has_decimals(cell) && cell.back() == '.') cell += '0';
}

/// The cells of a float64 column as pandas' `FloatArrayFormatter` writes them: 6 decimals with the
/// trailing zeros that all values share trimmed, missing values as `missing`; scientific notation
/// (`1.000000e-07`) when a value is below 1e-6 in magnitude (and not 0), or when a value is beyond
/// 1e6 and the widest cell has more than 12 characters.
inline std::vector<std::string> float_cells(const std::vector<double>& values, const std::string& missing) {
  const auto cells_of = [&](bool scientific) {
    std::vector<std::string> cells;
    cells.reserve(values.size());
    for (const double v : values) cells.push_back(std::isnan(v) ? missing : python_fixed(v, scientific));
    if (!scientific) trim_zeros(cells);
    return cells;
  };
  std::vector<std::string> cells = cells_of(false);
  std::size_t widest = 0;
  for (const std::string& cell : cells) widest = std::max(widest, cell.size());
  const bool large = std::ranges::any_of(values, [](double v) { return std::abs(v) > 1e6; });
  const bool small = std::ranges::any_of(values, [](double v) { return std::abs(v) < 1e-6 && std::abs(v) > 0.0; });
  if (small || (large && widest > static_cast<std::size_t>(display_precision) + 6)) return cells_of(true);
  return cells;
}

/// Whether every label is a whole number that int64 holds: pandas would keep such labels in an int64 index.
inline bool whole_labels(const std::vector<double>& labels) {
  return std::ranges::all_of(labels, [](double v) { return std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9.2e18; });
}

/// `value`, a whole number, without decimals.
inline std::string whole_text(double value) { return cat(static_cast<long long>(value)); }

/// The row positions that the text shows: all of them, or the first and last 5 of a long frame.
inline std::vector<Index> shown_rows(Index rows) {
  std::vector<Index> shown;
  const Index half = display_min_rows / 2;
  for (Index i = 0; i < rows; ++i) {
    if (rows > display_max_rows && i == half) i = rows - half;
    shown.push_back(i);
  }
  return shown;
}

/// The cells of a numeric column at `shown`: a space, then the number (see `float_cells`).
inline std::vector<std::string> value_cells(const std::vector<double>& column, const std::vector<Index>& shown) {
  std::vector<double> values;
  values.reserve(shown.size());
  for (const Index i : shown) values.push_back(column[static_cast<std::size_t>(i)]);
  return float_cells(values, "NaN");
}

/// The cells of a column that pandas holds as int64 (`value_counts`' counts) at `shown`, as its
/// `IntArrayFormatter` writes them: a space for the sign, then the integer.
inline std::vector<std::string> int64_cells(const std::vector<double>& column, const std::vector<Index>& shown) {
  std::vector<std::string> cells;
  cells.reserve(shown.size());
  for (const Index i : shown) {
    const double v = column[static_cast<std::size_t>(i)];
    cells.push_back(cat(v < 0.0 ? "" : " ", whole_text(v)));
  }
  return cells;
}

/// The cells of a text column at `shown`: a space, then the text, or NaN for a missing value.
inline std::vector<std::string> value_cells(const std::vector<std::string>& column, const std::vector<Index>& shown) {
  std::vector<std::string> cells;
  cells.reserve(shown.size());
  for (const Index i : shown) {
    const std::string& value = column[static_cast<std::size_t>(i)];
    cells.push_back(cat(" ", value.empty() ? std::string("NaN") : escaped(value)));
  }
  return cells;
}

/// The labels at `shown` as pandas' `Index.format` writes them: whole numbers as integers, other
/// numbers as a float64 column; every label left-justified and the spaces they all start with removed.
inline std::vector<std::string> label_cells(const std::vector<double>& index, const std::vector<Index>& shown) {
  std::vector<double> labels;
  labels.reserve(shown.size());
  for (const Index i : shown) labels.push_back(index[static_cast<std::size_t>(i)]);
  std::vector<std::string> cells;
  if (whole_labels(labels)) {
    for (const double v : labels) cells.push_back(cat(v < 0.0 ? "" : " ", whole_text(v)));
  } else {
    cells = float_cells(labels, " NaN");
  }
  fix_width(cells, 0, true);
  while (std::ranges::all_of(cells, [](const std::string& cell) { return !cell.empty() && cell.front() == ' '; }))
    for (std::string& cell : cells) cell.erase(0, 1);
  return cells;
}

/// Text labels at `shown`, NaN for a missing one.
inline std::vector<std::string> label_cells(const std::vector<std::string>& index, const std::vector<Index>& shown) {
  std::vector<std::string> cells;
  cells.reserve(shown.size());
  for (const Index i : shown) {
    const std::string& label = index[static_cast<std::size_t>(i)];
    cells.push_back(label.empty() ? std::string("NaN") : escaped(label));
  }
  return cells;
}

/// Python's `str(value)`: the shortest digits that read back as `value`, in positional notation
/// for exponents -4 to 15, as `1e-05` otherwise; whole numbers end in `.0`.
inline std::string python_str(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
  const std::string text(buffer.data(), result.ptr);
  const std::size_t e = text.find('e');
  const int exponent = std::stoi(text.substr(e + 1));
  const bool negative = text.front() == '-';
  std::string digits = text.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    return cat(out, exponent < 0 ? "e-" : "e+", exponent < 0 && exponent > -10 ? "0" : "",
               exponent >= 0 && exponent < 10 ? "0" : "", std::abs(exponent));
  }
  if (exponent < 0) return out + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  const auto point = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= point) return out + digits + std::string(point - digits.size(), '0') + ".0";
  return out + digits.substr(0, point) + "." + digits.substr(point);
}

/// `[a, b, ...]` as pandas prints the names or labels of an empty frame (at most 100, then `...`);
/// `missing` stands for an empty text.
template <typename Values>
std::string bracketed(const Values& values, std::string_view missing) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size() && i < 100; ++i) {
    if (i > 0) out += ", ";
    if constexpr (std::is_same_v<typename Values::value_type, double>)
      out += whole_labels({values[i]}) ? whole_text(values[i]) : python_str(values[i]);
    else
      out += values[i].empty() ? std::string(missing) : values[i];
  }
  return out + (values.size() > 100 ? ", ...]" : "]");
}

/// The text of a frame (see `DataFrame::to_string`): a header line with the column names, then
/// one line per shown row with its label and values; a long frame shows its first 5 and last 5
/// rows around a line of dots, and ends with a blank line and `[rows x columns]`. The numeric
/// columns j with `int64[j]` print as pandas prints an int64 column, the others as float64.
template <typename Column>
std::string frame_text(const std::vector<std::string>& names, const std::vector<Column>& columns, const Column& index,
                       const std::string& index_name, Index rows, const std::vector<bool>& int64) {
  if (rows == 0 || names.empty())
    return cat("Empty DataFrame\nColumns: ", bracketed(names, ""), "\nIndex: ",
               std::visit([](const auto& labels) { return bracketed(labels, "nan"); }, index));
  const std::vector<Index> shown = shown_rows(rows);
  const bool named = !index_name.empty();
  std::vector<std::vector<std::string>> table;  // the columns of the text, index first, header included
  std::vector<std::string> labels = std::visit([&](const auto& values) { return label_cells(values, shown); }, index);
  if (named) labels.insert(labels.begin(), escaped(index_name));
  fix_width(labels, 0, true);
  labels.insert(labels.begin(), std::string());
  table.push_back(std::move(labels));
  for (std::size_t j = 0; j < names.size(); ++j) {
    const bool numeric = std::holds_alternative<std::vector<double>>(columns[j]);
    const std::string header = (numeric ? " " : "") + escaped(names[j]);
    std::vector<std::string> cells =
        numeric && int64[j] ? int64_cells(std::get<std::vector<double>>(columns[j]), shown)
                            : std::visit([&](const auto& values) { return value_cells(values, shown); }, columns[j]);
    fix_width(cells, display_width(header), false);
    std::size_t width = display_width(header);
    for (const std::string& cell : cells) width = std::max(width, display_width(cell));
    std::vector<std::string> column{justify(header, width, false)};
    if (named) column.emplace_back(width, ' ');
    column.insert(column.end(), cells.begin(), cells.end());
    table.push_back(std::move(column));
  }
  const bool truncated = rows > display_max_rows;
  if (truncated) {
    const auto half = static_cast<std::size_t>(display_min_rows / 2);
    for (std::size_t j = 0; j < table.size(); ++j) {
      const std::size_t width = display_width(table[j][half]);
      table[j].insert(table[j].begin() + static_cast<std::ptrdiff_t>(half + (named ? 2 : 1)),
                      justify(width > 3 ? "..." : "..", width, j == 0));
    }
  }
  std::vector<std::size_t> widths;
  for (std::size_t j = 0; j < table.size(); ++j) {
    std::size_t width = 0;
    for (const std::string& cell : table[j]) width = std::max(width, display_width(cell));
    widths.push_back(width + (j + 1 < table.size() ? 1 : 0));
  }
  std::string out;
  for (std::size_t line = 0; line < table.front().size(); ++line) {
    if (line > 0) out += '\n';
    for (std::size_t j = 0; j < table.size(); ++j) out += justify(table[j][line], widths[j], true);
  }
  if (truncated) out += cat("\n\n[", rows, " rows x ", names.size(), " columns]");
  return out;
}

/// The row labels of `describe`.
inline std::vector<std::string> describe_labels() { return {"count", "mean", "std", "min", "25%", "50%", "75%", "max"}; }

/// count, mean, std (n - 1), min, 25%, 50%, 75% and max of `column`'s values that are not missing:
/// sums in row order (as `mean()`), the standard deviation in two passes, and the percentiles
/// interpolated as numpy's `percentile(method="linear")`. NaN where there are too few values.
inline std::vector<double> describe_values(const std::vector<double>& column) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> x;
  x.reserve(column.size());
  for (const double v : column)
    if (!std::isnan(v)) x.push_back(v);
  const auto n = static_cast<double>(x.size());
  double sum = 0.0;
  for (const double v : x) sum += v;
  const double mean = x.empty() ? nan : sum / n;
  double squares = 0.0;
  for (const double v : x) squares += (mean - v) * (mean - v);
  const double deviation = x.size() > 1 ? std::sqrt(squares / (n - 1.0)) : nan;
  std::sort(x.begin(), x.end());
  const auto percentile = [&](double q) {
    if (x.empty()) return nan;
    const double h = (n - 1.0) * q, below = std::floor(h), t = h - below;
    const auto lo = static_cast<std::size_t>(below);
    const double a = x[lo], b = x[std::min(lo + 1, x.size() - 1)], diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;  // numpy's _lerp
  };
  return {n, mean, deviation, x.empty() ? nan : x.front(), percentile(0.25), percentile(0.5), percentile(0.75),
          x.empty() ? nan : x.back()};
}

}  // namespace kerascpp::data::detail
