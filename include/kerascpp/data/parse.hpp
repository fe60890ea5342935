// kerascpp/data/parse.hpp — numbers read from text as pandas' `read_csv` reads them: `read_csv`,
// `read_arff`, `CsvDataset` and `DataFrame`'s messages about text columns parse fields here; and
// the hint their messages give when a file was read with the wrong separator.
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace kerascpp::data::detail {

/// Whether a decimal numeral that std::from_chars found outside double's range is too large
/// rather than too small: the power of ten of its first non-zero digit, plus its exponent, is
/// positive. Counts saturate, so that no numeral, however long, overflows them.
inline bool decimal_overflows(std::string_view text) {
  constexpr long long limit = 1LL << 40;
  const auto digit = [&](std::size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
  std::size_t k = text.empty() || (text[0] != '-' && text[0] != '+') ? 0 : 1;
  long long order = 0;
  bool significant = false;
  for (; digit(k); ++k) {
    if (significant || text[k] != '0') {
      significant = true;
      order = std::min(order + 1, limit);
    }
  }
  if (k < text.size() && text[k] == '.') {
    for (++k; digit(k); ++k) {
      if (!significant && text[k] == '0') order = std::max(order - 1, -limit);
      else significant = true;
    }
  }
  long long exponent = 0;
  if (k < text.size() && (text[k] == 'e' || text[k] == 'E')) {
    ++k;
    const bool negative = k < text.size() && text[k] == '-';
    if (k < text.size() && (text[k] == '-' || text[k] == '+')) ++k;
    for (; digit(k); ++k) exponent = std::min(exponent * 10 + (text[k] - '0'), limit);
    if (negative) exponent = -exponent;
  }
  return order + exponent > 0;
}

/// Parses the whole of `text` as a decimal number (`-5e-04`, `1`, `0.0`, `.5`, `inf`), ignoring
/// surrounding spaces and tabs and accepting a leading '+'. Locale-independent. A number beyond
/// double's range reads as pandas reads it: ±inf when too large (`1e400`), ±0 when too small (`1e-400`).
inline bool parse_number(std::string_view text, double& value) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ptr != end) return false;
  if (error == std::errc::result_out_of_range) {
    const double magnitude = decimal_overflows(text) ? std::numeric_limits<double>::infinity() : 0.0;
    value = text.front() == '-' ? -magnitude : magnitude;
    return true;
  }
  return error == std::errc{};
}

/// What a file of fields separated by ';' or tabs gives when read with the default sep ',': one
/// column, whose name holds the separator. For such `columns`, the hint that ends a message about
/// them, naming the separator and the option of `reader` ("read_csv") of type `options`
/// ("CsvOptions") that takes it; "" for any other columns.
inline std::string separator_hint(const std::vector<std::string>& columns, std::string_view reader,
                                  std::string_view options) {
  const std::size_t at = columns.size() == 1 ? columns[0].find_first_of(";\t") : std::string::npos;
  if (at == std::string::npos) return {};
  const std::string_view sep = columns[0][at] == '\t' ? "\\t" : ";";
  return kerascpp::detail::cat("; the only column's name holds '", sep, "': the file's fields are probably separated by '",
                               sep, "', which ", reader, " takes as its sep option (", options, "{.sep = '", sep,
                               "'}, pandas sep='", sep, "')");
}

}  // namespace kerascpp::data::detail
