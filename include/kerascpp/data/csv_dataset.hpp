// kerascpp/data/csv_dataset.hpp — CsvDataset: a numeric CSV file streamed in batches for `fit`,
// `evaluate` and `predict`, with memory that does not grow with the file (a PyDataset). The file is
// read with read_csv's checks (encodings, quoting, line ends: see data/csv.hpp), one record at a
// time; only the current batch (and, when shuffling, a buffer of rows) is held.
//
//   data::CsvDataset<float> train("big.csv", {.label_columns = {"quality"}, .batch_size = 256,
//                                            .shuffle_buffer = 10000, .seed = 0});
//   model.fit(train, {.epochs = 10});
//
// Without shuffling, the batches are the file's rows in order, so training gives the History of
// `fit(x, y, {.batch_size = …, .shuffle = false})` on the same rows loaded whole. With
// `shuffle_buffer = n`, rows pass through a buffer of n rows from which each next row is drawn at
// random (tf.data's `shuffle(n)`), with a new order every pass.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/data/csv.hpp>
#include <kerascpp/data/parse.hpp>
#include <kerascpp/py_dataset.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp::data {

/// Options of CsvDataset, in this order.
struct CsvDatasetOptions {
  /// The target columns (y), in this order; every other column is an input (x), in file order.
  std::vector<std::string> label_columns{};
  /// Rows per batch; the last batch of a pass holds the rest.
  Index batch_size = 32;
  /// The field separator.
  char sep = ',';
  /// Fields that mean "missing": a streamed data set must be complete, so such a field is an
  /// IOError naming its line and column.
  std::vector<std::string> na_values = {"", "NA", "NaN", "nan"};
  /// 0: rows in file order. n > 0: rows drawn at random from a buffer of n rows.
  Index shuffle_buffer = 0;
  /// The seed of the shuffle; pass k of the file uses a stream derived from (seed, k).
  std::uint64_t seed = 0;
  /// "utf-8" or "latin-1", as read_csv.
  std::string encoding = "utf-8";
  /// Whether the first row holds the column names; unset, true unless `names` is given (as read_csv).
  std::optional<bool> header{};
  /// The column names to use, one per field (as read_csv); label_columns refers to them.
  std::vector<std::string> names{};
  /// How many rows to skip before the header (as read_csv).
  Index skiprows = 0;
};

template <typename Scalar = float>
class CsvDataset : public PyDataset<Scalar> {
 public:
  /// Opens `path`, reads its header and counts its records (one pass, constant memory). Throws
  /// ValueError for bad options and IOError for a file that cannot be read as a CSV with a header.
  CsvDataset(std::filesystem::path path, CsvDatasetOptions options) : path_(path.string()), o_(std::move(options)) {
    if (o_.batch_size <= 0) detail::fail("CsvDataset: batch_size must be positive, received batch_size=", o_.batch_size);
    if (o_.shuffle_buffer < 0)
      detail::fail("CsvDataset: shuffle_buffer must be 0 (no shuffle) or positive, received shuffle_buffer=",
                   o_.shuffle_buffer);
    if (o_.label_columns.empty())
      detail::fail("CsvDataset: label_columns must name the target column(s), received none");
    for (std::size_t i = 0; i < o_.label_columns.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (o_.label_columns[j] == o_.label_columns[i])
          detail::fail("CsvDataset: label_columns holds '", o_.label_columns[i], "' twice (positions ", j, " and ", i,
                       "); the names must all differ");
    auto reader = open();
    header_ = reader->columns();
    for (const std::string& label : o_.label_columns) {
      const auto it = std::find(header_.begin(), header_.end(), label);
      if (it == header_.end())
        throw IOError(detail::cat("CsvDataset: label column '", label, "' is not a column of ", path_,
                                  "; the columns are ", detail::join(header_),
                                  detail::separator_hint(header_, "CsvDataset", "CsvDatasetOptions")));
      label_index_.push_back(static_cast<Index>(it - header_.begin()));
    }
    for (Index j = 0; j < static_cast<Index>(header_.size()); ++j)
      if (std::find(label_index_.begin(), label_index_.end(), j) == label_index_.end()) {
        feature_index_.push_back(j);
        features_.push_back(header_[static_cast<std::size_t>(j)]);
      }
    if (features_.empty()) throw IOError(detail::cat("CsvDataset: ", path_, " has no column left for the inputs"));
    while (reader->next()) {
      if (rows_ == 0) refuse_text(reader->fields(), reader->line());
      ++rows_;
    }
    if (rows_ == 0) throw IOError(detail::cat("CsvDataset: ", path_, " has no rows of data"));
    batches_ = (rows_ - 1) / o_.batch_size + 1;
  }

  /// The input columns, in file order.
  const std::vector<std::string>& feature_columns() const { return features_; }
  /// The target columns, in the order of `label_columns`.
  const std::vector<std::string>& label_columns() const { return o_.label_columns; }
  /// The number of data rows in the file.
  Index rows() const { return rows_; }

  Index size() const override { return batches_; }

  /// Batch `index` of the current pass. Batches are read in order; asking for an earlier batch
  /// (or a later one than the next) restarts the pass from the file's first row and reads up to it.
  void get(Index index, DatasetBatch<Scalar>& batch) override {
    if (index < 0 || index >= batches_)
      detail::fail("CsvDataset: batch index ", index, " is out of range; the data set has ", batches_,
                   " batches (valid indices 0 to ", batches_ - 1, ")");
    if (!reader_ || index != next_batch_) restart();
    while (next_batch_ < index) fill(batch);  // skip forward
    fill(batch);
  }

  /// Ends a pass: the next `get` starts the file again, with the next pass's shuffle.
  void on_epoch_end() override {
    ++pass_;
    reader_.reset();
  }

 private:
  /// The file's reader, at its first data record.
  std::unique_ptr<detail::CsvReader> open() const {
    return std::make_unique<detail::CsvReader>(path_, detail::CsvFormat{o_.sep, o_.encoding, o_.header, o_.names,
                                                                        o_.skiprows},
                                               "CsvDataset");
  }

  /// Throws when a field of the first data record (on `line`) is text: a column that the batches
  /// could not read, found before training starts. Missing values are left to the batch.
  void refuse_text(const std::vector<std::string>& fields, Index line) const {
    for (std::size_t j = 0; j < fields.size(); ++j) {
      double ignored = 0.0;
      if (std::find(o_.na_values.begin(), o_.na_values.end(), fields[j]) == o_.na_values.end() &&
          !detail::parse_number(fields[j], ignored))
        throw IOError(detail::cat("CsvDataset: column '", header_[j], "' of ", path_, " holds text: its value on line ",
                                  line, " is '", fields[j], "'; expected a number in every column (a CsvDataset cannot "
                                  "encode text: read the file with read_csv to encode the column, with get_dummies or "
                                  "map, or remove it from the file)"));
    }
  }

  void restart() {
    reader_ = open();
    next_batch_ = 0;
    buffer_rows_ = 0;
    file_done_ = false;
    rng_ = Rng(o_.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(pass_) + 1);
  }

  /// Reads the next record into `row` (header order); false at the end of the file.
  bool read_row(std::vector<Scalar>& row) {
    if (!reader_->next()) return false;
    const auto& fields = reader_->fields();
    row.resize(fields.size());
    for (std::size_t j = 0; j < fields.size(); ++j) {
      const std::string& field = fields[j];
      if (std::find(o_.na_values.begin(), o_.na_values.end(), field) != o_.na_values.end())
        throw IOError(detail::cat("CsvDataset: ", path_, ", line ", reader_->line(), ", column '", header_[j],
                                  "': missing value; a streamed data set must have every value (fill or drop such "
                                  "rows first)"));
      double value = 0.0;
      if (!detail::parse_number(field, value) || !std::isfinite(value))
        throw IOError(detail::cat("CsvDataset: ", path_, ", line ", reader_->line(), ", column '", header_[j],
                                  "': expected a finite number, found '", field, "'"));
      if constexpr (std::is_same_v<Scalar, float>)
        if (std::abs(value) > static_cast<double>(std::numeric_limits<float>::max()))
          throw IOError(detail::cat("CsvDataset: ", path_, ", line ", reader_->line(), ", column '", header_[j],
                                    "': ", field, " is beyond the range of float (largest magnitude ",
                                    std::numeric_limits<float>::max(),
                                    "); expected values that fit in float, or use CsvDataset<double>"));
      row[j] = static_cast<Scalar>(value);
    }
    return true;
  }

  /// The next row of the pass into `row`: straight from the file, or drawn from the shuffle
  /// buffer (refilled from the file); false when the pass has no rows left.
  bool next_row(std::vector<Scalar>& row) {
    if (o_.shuffle_buffer == 0) return read_row(row);
    const auto width = static_cast<Index>(header_.size());
    // a buffer of every row of the file shuffles as any larger one would, so none is reserved beyond them
    const Index capacity = std::min(o_.shuffle_buffer, rows_);
    if (buffer_.size() == 0) reserve_buffer(capacity, width);
    while (!file_done_ && buffer_rows_ < capacity) {  // fill the buffer at the start of a pass
      if (!read_row(row)) {
        file_done_ = true;
        break;
      }
      buffer_.row(buffer_rows_++) = Eigen::Map<const RowVector<Scalar>>(row.data(), width);
    }
    if (buffer_rows_ == 0) return false;
    const Index pick = static_cast<Index>(rng_.below(static_cast<std::uint64_t>(buffer_rows_)));
    row.assign(buffer_.row(pick).data(), buffer_.row(pick).data() + width);
    if (!file_done_ && read_row(scratch_)) {
      buffer_.row(pick) = Eigen::Map<const RowVector<Scalar>>(scratch_.data(), width);  // the next file row takes its place
    } else {
      file_done_ = true;
      buffer_.row(pick) = buffer_.row(--buffer_rows_);
    }
    return true;
  }

  /// Allocates the shuffle buffer of `capacity` rows, or throws ValueError naming shuffle_buffer.
  void reserve_buffer(Index capacity, Index width) {
    try {
      buffer_.resize(capacity, width);
    } catch (const std::bad_alloc&) {
      detail::fail("CsvDataset: cannot allocate a shuffle buffer of ", capacity, " rows of ", width, " values (",
                   static_cast<double>(capacity) * static_cast<double>(width) * sizeof(Scalar),
                   " bytes) for shuffle_buffer=", o_.shuffle_buffer, "; expected a shuffle_buffer that fits in memory");
    }
  }

  /// Reads the next batch of the pass into `batch`.
  void fill(DatasetBatch<Scalar>& batch) {
    const Index rows = std::min(o_.batch_size, rows_ - next_batch_ * o_.batch_size);
    const auto n_features = static_cast<Index>(feature_index_.size());
    const auto n_labels = static_cast<Index>(label_index_.size());
    if (batch.x.rows() != rows || batch.x.cols() != n_features) batch.x.resize(rows, n_features);
    if (batch.y.rows() != rows || batch.y.cols() != n_labels) batch.y.resize(rows, n_labels);
    batch.sample_weight.resize(0);
    for (Index r = 0; r < rows; ++r) {
      if (!next_row(row_))
        throw IOError(detail::cat("CsvDataset: ", path_, " has fewer rows than when it was opened (", rows_,
                                  "); was it changed while training?"));
      for (Index j = 0; j < n_features; ++j) batch.x(r, j) = row_[static_cast<std::size_t>(feature_index_[j])];
      for (Index j = 0; j < n_labels; ++j) batch.y(r, j) = row_[static_cast<std::size_t>(label_index_[j])];
    }
    ++next_batch_;
  }

  std::string path_;
  CsvDatasetOptions o_;
  std::vector<std::string> header_, features_;
  std::vector<Index> feature_index_, label_index_;
  Index rows_ = 0;
  Index batches_ = 0;
  std::unique_ptr<detail::CsvReader> reader_;
  Index next_batch_ = 0;
  std::int64_t pass_ = 0;
  Rng rng_{0};
  RowMatrix<Scalar> buffer_;  // the shuffle buffer: buffer_rows_ rows in use
  Index buffer_rows_ = 0;
  bool file_done_ = false;
  std::vector<Scalar> row_, scratch_;
};

}  // namespace kerascpp::data
