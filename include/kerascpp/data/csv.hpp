// kerascpp/data/csv.hpp — `read_csv`: a delimited text file into a `DataFrame`, the way pandas'
// `read_csv` reads the files of the Kaggle course.
//
// Lines come from fast-cpp-csv-parser's `io::LineReader` (buffered reading), fed by `TextSource`,
// which checks the encoding on the way; the fields are split here, because its `io::CSVReader`
// needs the column count at compile time. The bytes:
//
// * The file must be UTF-8 (ASCII is UTF-8) unless `encoding` says "latin-1". A UTF-8 byte order
//   mark is skipped. A UTF-16 or UTF-32 byte order mark, a NUL byte (what UTF-16 without a mark
//   looks like), or a byte sequence that is not UTF-8 (Latin-1 or Windows-1252 text) is an
//   `IOError` naming the encoding or the byte, its line and its (byte) column: convert the file to
//   UTF-8 first (`iconv -f UTF-16 -t UTF-8`), or read Latin-1 with `encoding = "latin-1"`, which
//   turns every byte into its UTF-8 character (pandas `encoding="latin-1"`).
// * Lines end with LF, CRLF or a lone CR (old Mac files), in any mix. A CR inside a quoted field is
//   a line break too, and reads as "\n".
//
// The format:
//
// * The first `skiprows` rows are skipped (a blank line counts as a row). The next non-blank row is
//   the header and names the columns; an empty name becomes "Unnamed: <position>" as in pandas, and
//   two columns with the same name are an error. With `header = false` (or `names` given and no
//   `header`) every row is data and the columns are named "0", "1", ..., or by `names`, which also
//   replace a header's names.
// * Fields are separated by `sep`. A field that starts with '"' is quoted: it runs to the next lone
//   '"', may hold `sep`, line breaks and `""` (one quote). Outside quotes, text is taken as is.
// * Blank lines are skipped. Every other record must have as many fields as the header.
// * A field equal to one of `na_values` is missing. A column whose other fields all parse fully as
//   numbers (`1`, `0.0`, `-5e-04`, quoted `"1"`, surrounding spaces allowed) is numeric, missing
//   values being NaN; any other column is text, missing values being "" (kept as written when ""
//   is not a missing marker). Numbers are parsed with `std::from_chars`, so the locale plays no
//   part.
// * A file with a header and no rows gives a frame with those columns and 0 rows, all numeric.
//
// Errors are `kerascpp::IOError` for files that cannot be read or parsed (missing, empty,
// compressed, ragged rows, unterminated quotes, duplicate names) and `kerascpp::ValueError` for bad
// options (an unknown `index_col`, `names` of the wrong count); each message names the file, and the 1-based line (header = line 1) and the column
// where there is one.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/parse.hpp>
#include <kerascpp/data/table.hpp>
#include <kerascpp/io.hpp>

// fast-cpp-csv-parser trips two warnings that are about its own code, not ours: -Wparentheses on a
// declaration (when it is not found in a system directory), and GCC's -Wstringop-truncation on the
// strncpy into its fixed error-message buffers once inlined into our functions.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wparentheses"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#endif
#endif
#if defined(KERASCPP_FCCP_HEADER)
#include KERASCPP_FCCP_HEADER
#elif __has_include(<libfccp/csv.h>)
#include <libfccp/csv.h>
#else
#include <csv.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace kerascpp::data {

/// Options of `read_csv`, named after pandas' arguments.
struct CsvOptions {
  /// The field separator (pandas `sep`): ',' for most files, ';' for UCI's `winequality-red.csv`.
  char sep = ',';
  /// The column to use as row labels instead of 0..n-1, by 0-based position or by name (pandas
  /// `index_col`); it is removed from the columns.
  std::optional<std::variant<Index, std::string>> index_col{};
  /// Field values that mean "missing" (pandas `na_values`; the defaults are a subset of pandas'
  /// own). A list given here replaces the defaults, where pandas would add to its own, so keep ""
  /// in it: {"", "-1"} for cereal.csv, where -1 marks missing values. A field must equal a marker
  /// as text: unlike pandas, "-1" does not also match "-1.0".
  std::vector<std::string> na_values = {"", "NA", "NaN", "nan"};
  /// The file's encoding (pandas `encoding`): "utf-8" (checked; the default) or "latin-1" (also
  /// spelled "latin1", "iso-8859-1"; read into UTF-8). Any case.
  std::string encoding = "utf-8";
  /// Whether the first row (after `skiprows`) holds the column names (pandas `header`: true is
  /// `header=0`, false `header=None`, which names the columns "0", "1", ...). Unset, as by default,
  /// it is true unless `names` is given, as pandas infers it.
  std::optional<bool> header{};
  /// The column names to use (pandas `names`), one per field of the file, all different: with a
  /// header they replace its names, without one (the default when they are given) every row is data.
  std::vector<std::string> names{};
  /// How many rows to skip at the start of the file, before the header (pandas' integer
  /// `skiprows`). A blank line counts as a row; a quoted field's line breaks do not end one.
  Index skiprows = 0;
};

namespace detail {

/// Splits delimited records into fields, a quoted field possibly running over several lines.
class RecordSplitter {
 public:
  explicit RecordSplitter(char sep) : sep_(sep) {}

  /// Feeds one line (without its line break). Returns true when the record is complete, false when
  /// a quoted field is still open and the next line continues it.
  bool feed(std::string_view line) {
    if (!in_quotes_) {
      fields_.clear();
      field_.clear();
      at_field_start_ = true;
    } else {
      field_ += '\n';
    }
    for (std::size_t k = 0; k < line.size(); ++k) {
      const char c = line[k];
      if (in_quotes_) {
        if (c != '"') {
          field_ += c;
        } else if (k + 1 < line.size() && line[k + 1] == '"') {
          field_ += '"';
          ++k;
        } else {
          in_quotes_ = false;
        }
      } else if (c == sep_) {
        fields_.push_back(std::move(field_));
        field_.clear();
        at_field_start_ = true;
      } else if (c == '"' && at_field_start_) {
        in_quotes_ = true;
        at_field_start_ = false;
      } else {
        field_ += c;
        at_field_start_ = false;
      }
    }
    if (in_quotes_) return false;
    fields_.push_back(std::move(field_));
    field_.clear();
    return true;
  }

  /// The fields of the last complete record.
  std::vector<std::string>& fields() { return fields_; }

 private:
  char sep_;
  bool in_quotes_ = false;
  bool at_field_start_ = true;
  std::string field_;
  std::vector<std::string> fields_;
};

/// The bytes of a text file for `io::LineReader`, checked as they are read: a UTF-8 byte order mark
/// is skipped, CRLF and lone CR become LF, and a UTF-16/UTF-32 byte order mark, a NUL byte or a
/// byte that is not UTF-8 throws an `IOError` naming the file, the line and the column.
class TextSource : public ::io::ByteSourceBase {
 public:
  /// Opens `path` for reading; `caller` ("read_csv") starts the error messages.
  TextSource(const std::string& path, std::string_view caller, bool latin1 = false)
      : path_(path), caller_(caller), latin1_(latin1) {
    kerascpp::io::check_path(path, caller_);
    std::error_code ignored;
    const std::filesystem::file_status status = std::filesystem::status(path, ignored);
    if (std::filesystem::is_directory(status))
      throw IOError(cat(caller_, ": cannot read ", path_, ": it is a directory"));
    // a device such as /dev/zero would never end and a FIFO would block
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
      throw IOError(cat(caller_, ": cannot read ", path_, ": it is ", kerascpp::io::detail::type_name(status.type()),
                        "; expected a regular file"));
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      const int error = errno;
      throw IOError(cat(caller_, ": cannot open ", path_,
                        error != 0 ? ": " + std::generic_category().message(error) : std::string()));
    }
  }
  TextSource(const TextSource&) = delete;
  TextSource& operator=(const TextSource&) = delete;
  ~TextSource() override { std::fclose(file_); }

  int read(char* out, int size) override {
    int written = 0;
    while (written < size) {
      if (carry_ != 0) {
        out[written++] = static_cast<char>(carry_);
        carry_ = 0;
        continue;
      }
      if (position_ == length_) {
        length_ = std::fread(buffer_, 1, sizeof buffer_, file_);
        position_ = 0;
        if (length_ == 0) {
          if (std::ferror(file_) != 0) throw IOError(cat(caller_, ": ", path_, ", line ", line_, ": reading failed"));
          if (pending_ > 0) throw not_utf8(last_lead_, lead_column_, "the file ends inside its multi-byte character");
          break;
        }
        if (at_start_) check_start();
      }
      const auto c = static_cast<unsigned char>(buffer_[position_++]);
      if (after_cr_ && c == '\n') {
        after_cr_ = false;
        continue;
      }
      after_cr_ = false;
      if (pending_ > 0) {
        if ((c & 0xC0U) != 0x80U) throw not_utf8(last_lead_, lead_column_, "the bytes after it do not continue it");
        --pending_;
      } else if (c == '\r' || c == '\n') {
        after_cr_ = c == '\r';
        out[written++] = '\n';
        ++line_;
        column_ = 0;
        continue;
      } else if (c == 0) {
        throw IOError(cat(caller_, ": ", path_, ", line ", line_, ", column ", column_ + 1,
                          ": a NUL byte (0x00); text files hold none, so the file is probably UTF-16 or UTF-32 "
                          "encoded without a byte order mark; convert it to UTF-8"));
      } else if (c >= 0x80U && latin1_) {
        ++column_;
        out[written++] = static_cast<char>(0xC0U | (c >> 6));  // U+0080..U+00FF in two UTF-8 bytes
        carry_ = 0x80U | (c & 0x3FU);
        continue;
      } else if (c >= 0x80U) {
        last_lead_ = c;
        lead_column_ = column_ + 1;
        if (c >= 0xC2U && c <= 0xDFU)
          pending_ = 1;
        else if (c >= 0xE0U && c <= 0xEFU)
          pending_ = 2;
        else if (c >= 0xF0U && c <= 0xF4U)
          pending_ = 3;
        else
          throw not_utf8(c, column_ + 1, "no UTF-8 character starts with it");
      }
      ++column_;
      out[written++] = static_cast<char>(c);
    }
    return written;
  }

 private:
  void check_start() {
    at_start_ = false;
    const auto byte = [&](std::size_t k) { return k < length_ ? static_cast<unsigned char>(buffer_[k]) : 0x100U; };
    const char* encoding = nullptr;
    if (byte(0) == 0xFFU && byte(1) == 0xFEU && byte(2) == 0 && byte(3) == 0)
      encoding = "UTF-32 little-endian (byte order mark FF FE 00 00)";
    else if (byte(0) == 0 && byte(1) == 0 && byte(2) == 0xFEU && byte(3) == 0xFFU)
      encoding = "UTF-32 big-endian (byte order mark 00 00 FE FF)";
    else if (byte(0) == 0xFFU && byte(1) == 0xFEU)
      encoding = "UTF-16 little-endian (byte order mark FF FE)";
    else if (byte(0) == 0xFEU && byte(1) == 0xFFU)
      encoding = "UTF-16 big-endian (byte order mark FE FF)";
    if (encoding != nullptr)
      throw IOError(cat(caller_, ": ", path_, " is encoded as ", encoding,
                        "; expected UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8"));
    check_not_compressed(byte);
    if (!latin1_ && byte(0) == 0xEFU && byte(1) == 0xBBU && byte(2) == 0xBFU) position_ = 3;
  }

  /// A compressed file or an archive starts with its format's signature; `byte(k)` is the file's
  /// byte k, or 0x100 past its end.
  template <typename Byte>
  void check_not_compressed(const Byte& byte) const {
    const auto matches = [&](std::size_t from, std::initializer_list<unsigned> signature) {
      for (const unsigned b : signature)
        if (byte(from++) != b) return false;
      return true;
    };
    const char* format = nullptr;
    const char* command = nullptr;
    if (matches(0, {0x1FU, 0x8BU})) {
      format = "gzip-compressed (it starts with the gzip signature 1F 8B)";
      command = "gunzip -k ";
    } else if (matches(0, {'P', 'K', 0x03U, 0x04U}) || matches(0, {'P', 'K', 0x05U, 0x06U})) {
      format = "a zip archive (it starts with the zip signature \"PK\")";
      command = "unzip ";
    } else if (matches(0, {'B', 'Z', 'h'}) && byte(3) >= '1' && byte(3) <= '9' &&
               (matches(4, {0x31U, 0x41U, 0x59U, 0x26U, 0x53U, 0x59U}) ||    // the first block's magic
                matches(4, {0x17U, 0x72U, 0x45U, 0x38U, 0x50U, 0x90U}))) {  // or, empty, the end marker
      format = "bzip2-compressed (it starts with the bzip2 signature \"BZh\")";
      command = "bunzip2 -k ";
    } else if (matches(0, {0xFDU, '7', 'z', 'X', 'Z', 0x00U})) {
      format = "xz-compressed (it starts with the xz signature FD 37 7A 58 5A 00)";
      command = "unxz -k ";
    } else if (matches(0, {0x28U, 0xB5U, 0x2FU, 0xFDU})) {
      format = "zstd-compressed (it starts with the zstd signature 28 B5 2F FD)";
      command = "unzstd ";
    }
    if (format != nullptr)
      throw IOError(cat(caller_, ": ", path_, " is ", format, "; ", caller_,
                        " reads uncompressed text only: decompress it first, e.g. ", command, path_));
  }

  IOError not_utf8(unsigned lead, Index column, std::string_view why) const {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", lead & 0xFFU);
    return IOError(cat(caller_, ": ", path_, ", line ", line_, ", column ", column, ": byte ", hex,
                       " is not UTF-8 (", why,
                       "); the file is probably Latin-1 or Windows-1252 encoded; convert it to UTF-8, e.g. "
                       "iconv -f WINDOWS-1252 -t UTF-8"));
  }

  std::string path_;
  std::string caller_;
  bool latin1_;
  std::FILE* file_ = nullptr;
  unsigned carry_ = 0;        // the second UTF-8 byte of a Latin-1 character, not yet written
  char buffer_[1 << 16];
  std::size_t length_ = 0;
  std::size_t position_ = 0;
  bool at_start_ = true;
  bool after_cr_ = false;
  int pending_ = 0;           // continuation bytes still expected in the current UTF-8 character
  unsigned last_lead_ = 0;    // the first byte of the current multi-byte character
  Index lead_column_ = 0;     // and its column
  Index line_ = 1;
  Index column_ = 0;          // bytes of the current line written so far
};

/// Gives the records of a file with the line each starts on, turning fast-cpp-csv-parser's
/// exceptions into `IOError`s that name the file and the line.
class RecordReader {
 public:
  /// `caller` ("read_csv") starts the error messages.
  RecordReader(const std::string& path, char sep, bool latin1, std::string caller = "read_csv")
      : path_(path), caller_(std::move(caller)), splitter_(sep) {
    auto source = std::make_unique<TextSource>(path, caller_, latin1);
    try {
      lines_.emplace(path, std::move(source));
    } catch (const ::io::error::base& error) {
      throw IOError(cat(caller_, ": cannot read ", path, ": ", error.what()));
    }
  }

  /// Reads the next non-blank record into `fields()`; false at the end of the file.
  bool next() { return read_record(true); }

  /// Skips the next `rows` rows, a blank line counting as one row (pandas' integer `skiprows`);
  /// false when the file ends first.
  bool skip_rows(Index rows) {
    for (Index k = 0; k < rows; ++k)
      if (!read_record(false)) return false;
    return true;
  }

  /// The fields of the current record.
  std::vector<std::string>& fields() { return splitter_.fields(); }

  /// The 1-based line the current record starts on.
  Index line() const { return record_line_; }

 private:
  bool read_record(bool skip_blank) {
    for (;;) {
      const char* line = next_line();
      if (line == nullptr) return false;
      ++line_number_;
      std::string_view text(line);
      record_line_ = line_number_;
      if (text.empty()) {
        if (skip_blank) continue;
        splitter_.fields().clear();
        return true;
      }
      while (!splitter_.feed(text)) {
        line = next_line();
        if (line == nullptr)
          throw IOError(cat(caller_, ": ", path_, ", line ", record_line_,
                            ": a quoted field is not closed before the end of the file"));
        ++line_number_;
        text = line;
      }
      return true;
    }
  }

  const char* next_line() {
    try {
      return lines_->next_line();
    } catch (const ::io::error::line_length_limit_exceeded&) {
      throw IOError(cat(caller_, ": ", path_, ", line ", line_number_ + 1,
                        ": the line is longer than the reader's limit of 2^24 - 1 characters"));
    } catch (const ::io::error::base& error) {
      throw IOError(cat(caller_, ": ", path_, ", line ", line_number_ + 1, ": ", error.what()));
    }
  }

  std::string path_;
  std::string caller_;
  std::optional<::io::LineReader> lines_;
  RecordSplitter splitter_;
  Index line_number_ = 0;
  Index record_line_ = 0;
};

/// Turns one column of raw fields into numbers if every non-missing field is a number, else text.
/// In a text column, missing fields become "" when "" is itself a missing marker (the default), and
/// keep their text otherwise, since "" is then an ordinary value.
inline Column type_column(std::vector<std::string>& raw, const std::vector<std::string>& na_values) {
  const auto is_missing = [&](const std::string& field) {
    return std::find(na_values.begin(), na_values.end(), field) != na_values.end();
  };
  std::vector<double> numbers(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (is_missing(raw[i])) {
      numbers[i] = std::numeric_limits<double>::quiet_NaN();
    } else if (!parse_number(raw[i], numbers[i])) {
      if (is_missing(std::string()))
        for (std::string& field : raw)
          if (is_missing(field)) field.clear();
      return std::move(raw);
    }
  }
  return numbers;
}

}  // namespace detail

namespace detail {
/// Whether `encoding` (any case) names Latin-1 rather than UTF-8; anything else is a ValueError
/// that `caller` ("read_csv") starts.
inline bool is_latin1(const std::string& encoding, std::string_view caller) {
  std::string e = encoding;
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool latin1 = e == "latin-1" || e == "latin1" || e == "iso-8859-1";
  if (!latin1 && e != "utf-8" && e != "utf8")
    fail(caller, ": encoding must be \"utf-8\" or \"latin-1\", received \"", encoding, "\"");
  return latin1;
}

/// What read_csv and CsvDataset share: how to read the file's bytes and name its columns.
struct CsvFormat {
  char sep = ',';
  std::string encoding = "utf-8";
  std::optional<bool> header{};
  std::vector<std::string> names{};
  Index skiprows = 0;
};

/// The data records of a CSV file after its column names: skips `skiprows` rows, takes the names
/// from the header, from `names` or as "0", "1", ..., and checks every record's field count.
class CsvReader {
 public:
  /// Checks `format` (ValueError), opens `path` and reads up to the first data record (IOError);
  /// `caller` ("read_csv") starts the error messages.
  CsvReader(const std::string& path, const CsvFormat& format, std::string caller)
      : path_(path), caller_(std::move(caller)),
        reader_(path, checked(format, caller_).sep, is_latin1(format.encoding, caller_), caller_) {
    const bool header = format.header.value_or(format.names.empty());
    const bool skipped = reader_.skip_rows(format.skiprows);
    const std::string after = format.skiprows > 0 ? cat(" after skipping skiprows=", format.skiprows, " rows") : "";
    if (!skipped || !reader_.next()) {
      if (!format.names.empty()) {  // pandas gives the named columns and no rows
        columns_ = written_ = format.names;
        return;
      }
      throw IOError(cat(caller_, ": ", path_, " is empty", after, ": expected ",
                        header ? "a header line" : "a row of data to count the columns (header = false)"));
    }
    width_ = reader_.fields().size();
    header_line_ = reader_.line();
    if (!format.names.empty() && format.names.size() != width_)
      fail(caller_, ": names has ", format.names.size(), " names, but ", path_, " has ", width_, " fields in ",
           header ? "its header" : "its first row", " (line ", header_line_, ")");
    if (!format.names.empty()) {
      written_ = format.names;
    } else if (header) {
      written_ = reader_.fields();
    } else {
      for (std::size_t j = 0; j < width_; ++j) written_.push_back(cat(j));
    }
    columns_ = written_;
    if (header && format.names.empty()) {
      std::map<std::string, std::size_t> seen;
      for (std::size_t j = 0; j < columns_.size(); ++j) {
        if (columns_[j].empty()) columns_[j] = cat("Unnamed: ", j);
        if (const auto [first, inserted] = seen.emplace(columns_[j], j); !inserted)
          throw IOError(cat(caller_, ": ", path_, ", line ", header_line_, ": duplicate column name '", columns_[j],
                            "' (columns ", first->second + 1, " and ", j + 1, ")"));
      }
    }
    pending_ = !header;
    what_ = header ? "the header" : "the first row";
  }

  /// The column names: `names`, the header's (an empty one becoming "Unnamed: <position>", as in
  /// pandas) or "0", "1", ....
  const std::vector<std::string>& columns() const { return columns_; }
  /// The names as given or written (an empty header name stays empty).
  const std::vector<std::string>& written() const { return written_; }

  /// Reads the next data record into `fields()`, checking its field count; false at the end.
  bool next() {
    if (pending_) {
      pending_ = false;
      return true;
    }
    if (width_ == 0 || !reader_.next()) return false;
    if (reader_.fields().size() != width_)
      throw IOError(cat(caller_, ": ", path_, ", line ", reader_.line(), ": expected ", width_, " fields as in ",
                        what_, " (line ", header_line_, "), found ", reader_.fields().size()));
    return true;
  }

  /// The fields of the current record.
  std::vector<std::string>& fields() { return reader_.fields(); }
  /// The 1-based line the current record starts on.
  Index line() const { return reader_.line(); }

 private:
  /// `format` once its options are checked (before the file is opened).
  static const CsvFormat& checked(const CsvFormat& format, std::string_view caller) {
    if (format.sep == '"' || format.sep == '\n' || format.sep == '\r' || format.sep == '\0')
      fail(caller, ": sep cannot be a quote, a line break or NUL, received sep=",
           kerascpp::detail::quoted_char(format.sep));
    if (format.skiprows < 0) fail(caller, ": skiprows must be 0 or positive, received skiprows=", format.skiprows);
    std::map<std::string, std::size_t> given;
    for (std::size_t j = 0; j < format.names.size(); ++j)
      if (const auto [first, inserted] = given.emplace(format.names[j], j); !inserted)
        fail(caller, ": names holds '", format.names[j], "' twice (positions ", first->second, " and ", j,
             "); the names must all differ");
    return format;
  }

  std::string path_;
  std::string caller_;
  RecordReader reader_;
  std::vector<std::string> columns_, written_;
  std::size_t width_ = 0;
  Index header_line_ = 0;
  bool pending_ = false;  // header = false: the record read to count the columns is data
  const char* what_ = "the header";
};
}  // namespace detail

/// Reads a delimited text file into a `DataFrame` (pandas `read_csv`); see the top of this header
/// for the format and the errors.
inline DataFrame read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
  const std::string name = path.string();
  detail::CsvReader reader(name, {options.sep, options.encoding, options.header, options.names, options.skiprows},
                           "read_csv");
  const std::vector<std::string>& written = reader.written();
  const std::vector<std::string>& header = reader.columns();

  std::vector<std::vector<std::string>> raw(header.size());
  std::vector<Index> lines;
  while (reader.next()) {
    std::vector<std::string>& fields = reader.fields();
    for (std::size_t j = 0; j < header.size(); ++j) raw[j].push_back(std::move(fields[j]));
    lines.push_back(reader.line());
  }
  const auto rows = static_cast<Index>(lines.size());

  std::optional<std::size_t> index_position;
  if (options.index_col) {
    if (const auto* position = std::get_if<Index>(&*options.index_col)) {
      if (*position < 0 || *position >= static_cast<Index>(header.size()))
        detail::fail("read_csv: index_col ", *position, " is out of range for ", name, ", which has ", header.size(),
                     " columns");
      index_position = static_cast<std::size_t>(*position);
    } else {
      const auto& wanted = std::get<std::string>(*options.index_col);
      const auto found = std::find(header.begin(), header.end(), wanted);
      if (found == header.end()) {
        std::vector<std::string> quoted;
        for (const std::string& h : header) quoted.push_back("'" + h + "'");
        detail::fail("read_csv: index_col ", kerascpp::detail::quote(wanted), " is not a column of ", name,
                     kerascpp::detail::did_you_mean(wanted, header), "; the columns are ", detail::join(quoted));
      }
      index_position = static_cast<std::size_t>(found - header.begin());
    }
  }

  std::vector<std::string> names;
  std::vector<Column> columns;
  Column index;
  std::string index_name;
  for (std::size_t j = 0; j < header.size(); ++j) {
    Column column = detail::type_column(raw[j], options.na_values);
    if (index_position == j) {
      index = std::move(column);
      index_name = written[j];
    } else {
      names.push_back(header[j]);
      columns.push_back(std::move(column));
    }
  }
  if (!index_position) {
    std::vector<double> labels(static_cast<std::size_t>(rows));
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<double>(i);
    index = std::move(labels);
  }
  return detail::FrameAccess::make(std::move(names), std::move(columns), rows, std::move(index), std::move(index_name),
                                   std::move(lines), name);
}

}  // namespace kerascpp::data
