// kerascpp/data/arff.hpp — `read_arff`: a Weka ARFF file into a `DataFrame`.
//
// The format, as Weka writes it:
//
//     % comment lines start with '%'
//     @relation iris
//     @attribute 'sepal length' numeric
//     @attribute class {Iris-setosa, Iris-versicolor, 'Iris virginica'}
//     @data
//     5.1, Iris-setosa
//     ?, 'Iris virginica'
//
// * Keywords (@relation, @attribute, @data, and the types) are case-insensitive. Names and values
//   may be quoted with ' or "; inside quotes a backslash takes the next character as it is.
// * Types: numeric, real and integer give numeric columns; a nominal type `{a, b, c}` and string
//   give text columns (the file's order of nominal values is not kept; encoders sort categories).
//   date and relational attributes, and sparse rows `{0 x, 3 y}`, are refused.
// * Data rows hold one comma-separated value per attribute; `?` (unquoted) is missing: NaN in a
//   numeric column, "" in a text one. A nominal value must be one of the declared ones.
// * The bytes are checked as `read_csv` checks them: UTF-8 (byte order mark skipped), LF, CRLF or
//   CR line ends.
//
// The frame's index is 0..n-1, and each row remembers its line. Errors are `IOError`s naming the file
// and the 1-based line, saying what was expected and what was found.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/csv.hpp>
#include <kerascpp/data/parse.hpp>
#include <kerascpp/data/table.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kerascpp::data {

namespace detail {

/// Reads one ARFF file line by line.
class ArffParser {
 public:
  explicit ArffParser(const std::string& path) : path_(path) {
    auto source = std::make_unique<TextSource>(path, "read_arff");
    try {
      lines_.emplace(path, std::move(source));
    } catch (const ::io::error::base& error) {
      throw IOError(cat("read_arff: cannot read ", path, ": ", error.what()));
    }
  }

  DataFrame parse() {
    bool in_data = false;
    bool has_relation = false;
    while (const char* raw = next_line()) {
      std::string_view line = trim(raw);
      if (line.empty() || line.front() == '%') continue;
      if (in_data) {
        data_row(line);
        continue;
      }
      if (line.front() != '@')
        error("expected @relation, @attribute or @data before the data, found '", shorten(line), "'");
      const std::size_t end = std::min(line.find_first_of(" \t"), line.size());
      const std::string keyword = lower(line.substr(0, end));
      std::string_view rest = trim(line.substr(end));
      if (keyword == "@relation") {
        if (has_relation) error("a second @relation line");
        if (!attributes_.empty()) error("@relation must come before the @attribute lines");
        if (rest.empty()) error("@relation needs a name");
        has_relation = true;
      } else if (keyword == "@attribute") {
        if (!has_relation) error("expected @relation before the first @attribute");
        attribute(rest);
      } else if (keyword == "@data") {
        if (attributes_.empty()) error("@data before any @attribute; expected at least one attribute");
        if (!rest.empty()) error("unexpected text after @data: '", shorten(rest), "'");
        in_data = true;
      } else {
        error("unknown keyword '", keyword, "'; expected @relation, @attribute or @data");
      }
    }
    if (!has_relation) throw IOError(cat("read_arff: ", path_, " has no @relation line: expected an ARFF header"));
    if (!in_data) throw IOError(cat("read_arff: ", path_, " has no @data line after its ", attributes_.size(),
                                    " attributes"));
    std::vector<std::string> names;
    std::vector<Column> columns;
    for (Attribute& a : attributes_) {
      names.push_back(a.name);
      if (a.numeric)
        columns.emplace_back(std::move(a.numbers));
      else
        columns.emplace_back(std::move(a.text));
    }
    std::vector<double> labels(rows_.size());
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<double>(i);
    const auto count = static_cast<Index>(rows_.size());
    return FrameAccess::make(std::move(names), std::move(columns), count, std::move(labels), "", std::move(rows_),
                             path_);
  }

 private:
  struct Attribute {
    std::string name;
    bool numeric = false;
    std::optional<std::set<std::string>> nominal;  // the declared values of a nominal attribute
    std::vector<double> numbers;
    std::vector<std::string> text;
  };

  const char* next_line() {
    try {
      const char* line = lines_->next_line();
      if (line != nullptr) ++line_;
      return line;
    } catch (const ::io::error::line_length_limit_exceeded&) {
      error("the line is longer than the reader's limit of 2^24 - 1 characters");
    } catch (const ::io::error::base& e) {
      error(e.what());
    }
  }

  template <typename... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    throw IOError(cat("read_arff: ", path_, ", line ", line_, ": ", parts...));
  }

  static std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
  }

  static std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  static std::string shorten(std::string_view text) {
    return text.size() <= 60 ? std::string(text) : std::string(text.substr(0, 57)) + "...";
  }

  /// Reads a name or value from the front of `text`: quoted (' or ") or up to one of `stops`.
  /// Sets `quoted`; removes what it read from `text`.
  std::string token(std::string_view& text, std::string_view stops, bool& quoted) const {
    text = trim(text);
    std::string out;
    quoted = !text.empty() && (text.front() == '\'' || text.front() == '"');
    if (!quoted) {
      const std::size_t end = std::min(text.find_first_of(stops), text.size());
      out = std::string(trim(text.substr(0, end)));
      text.remove_prefix(end);
      return out;
    }
    const char quote = text.front();
    for (std::size_t k = 1; k < text.size(); ++k) {
      if (text[k] == '\\' && k + 1 < text.size()) {
        out += text[++k];
      } else if (text[k] == quote) {
        text.remove_prefix(k + 1);
        return out;
      } else {
        out += text[k];
      }
    }
    error("a value quoted with ", quote, " is not closed on its line");
  }

  void attribute(std::string_view rest) {
    bool quoted = false;
    Attribute a;
    a.name = token(rest, " \t{", quoted);
    if (a.name.empty()) error("@attribute needs a name and a type");
    for (const Attribute& other : attributes_)
      if (other.name == a.name) error("a second attribute named '", a.name, "'");
    rest = trim(rest);
    if (rest.empty()) error("attribute '", a.name, "' has no type; expected numeric, real, integer, string or {values}");
    if (rest.front() == '{') {
      if (rest.back() != '}') error("the values of nominal attribute '", a.name, "' must end with '}'");
      std::string_view values = rest.substr(1, rest.size() - 2);
      std::set<std::string> declared;
      while (!trim(values).empty()) {
        const std::string value = token(values, ",", quoted);
        if (value.empty() && !quoted) error("nominal attribute '", a.name, "' has an empty value in its list");
        declared.insert(value);
        values = trim(values);
        if (!values.empty()) {
          if (values.front() != ',')
            error("nominal attribute '", a.name, "': expected ',' between values, found '", shorten(values), "'");
          values.remove_prefix(1);
          if (trim(values).empty()) error("nominal attribute '", a.name, "' ends its list with ','");
        }
      }
      if (declared.empty()) error("nominal attribute '", a.name, "' declares no values");
      a.nominal = std::move(declared);
    } else {
      const std::string type = lower(rest);
      if (type == "numeric" || type == "real" || type == "integer") {
        a.numeric = true;
      } else if (type == "string") {
      } else if (type.rfind("date", 0) == 0 || type == "relational") {
        error("attribute '", a.name, "' has type ", type, ", which read_arff does not read; ",
              "expected numeric, real, integer, string or {values}");
      } else {
        error("attribute '", a.name, "' has the unknown type '", shorten(rest),
              "'; expected numeric, real, integer, string or {values}");
      }
    }
    attributes_.push_back(std::move(a));
  }

  void data_row(std::string_view line) {
    if (line.front() == '{') error("a sparse data row ({index value, ...}); read_arff reads dense rows only");
    std::size_t k = 0;
    bool quoted = false;
    for (;; ++k) {
      std::string value = token(line, ",", quoted);
      if (k >= attributes_.size())
        error("expected ", attributes_.size(), " values as there are attributes, found more");
      Attribute& a = attributes_[k];
      const bool missing = !quoted && value == "?";
      if (a.numeric) {
        double number = std::numeric_limits<double>::quiet_NaN();
        if (!missing && !parse_number(value, number))
          error("attribute '", a.name, "' is numeric, found '", shorten(value), "'");
        a.numbers.push_back(number);
      } else {
        if (missing) {
          value.clear();
        } else if (a.nominal && a.nominal->count(value) == 0) {
          std::vector<std::string> known;
          for (const std::string& v : *a.nominal) known.push_back("'" + v + "'");
          error("attribute '", a.name, "' has the value '", shorten(value), "', which its declaration {",
                join(known), "} does not list");
        } else if (value.empty()) {
          error("attribute '", a.name, "' has an empty value; write ? for a missing one");
        }
        a.text.push_back(std::move(value));
      }
      line = trim(line);
      if (line.empty()) break;
      if (line.front() != ',') error("expected ',' after the value of attribute '", a.name, "', found '",
                                     shorten(line), "'");
      line.remove_prefix(1);
    }
    if (k + 1 != attributes_.size())
      error("expected ", attributes_.size(), " values as there are attributes, found ", k + 1);
    rows_.push_back(line_);
  }

  std::string path_;
  std::optional<::io::LineReader> lines_;
  Index line_ = 0;
  std::vector<Attribute> attributes_;
  std::vector<Index> rows_;  // the line of each data row
};

}  // namespace detail

/// Reads a Weka ARFF file into a `DataFrame`; see the top of this header for the format and errors.
inline DataFrame read_arff(const std::filesystem::path& path) { return detail::ArffParser(path.string()).parse(); }

}  // namespace kerascpp::data
