// Tests of PyDataset and data::CsvDataset: fit, evaluate and predict over batches a dataset makes,
// against the same rows given as arrays; the shuffle buffer; steps_per_epoch; and every bad input.
#include <kerascpp/data.hpp>
#include <kerascpp/kerascpp.hpp>

#include "gradient_check.hpp"
#include "scratch_folder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_datasets {

namespace keras = kerascpp;
using namespace keras::layers;
using Catch::Contains;
using keras::Index;
using kerascpp_test::thrown_message;
using Mat = keras::Matrix<float>;
using Vec = keras::Vector<float>;

namespace {

/// A CSV with columns a, b, c (inputs) and target t, rows of a fixed pseudo-random pattern.
std::string write_csv(const std::filesystem::path& dir, Index rows, const std::string& name = "d.csv") {
  const auto path = dir / name;
  std::ofstream out(path);
  out << "a,b,t,c\n";
  keras::Rng rng(7);
  for (Index i = 0; i < rows; ++i)
    out << rng.uniform(-1.0, 1.0) << ',' << rng.uniform(-2.0, 2.0) << ',' << rng.uniform(0.0, 1.0) << ','
        << static_cast<double>(i) << '\n';
  return path.string();
}

/// The rows of one pass over `d`, in the order its batches give them (by column c, the row
/// number of write_csv's files), then the end of the epoch.
std::vector<float> rows_of_pass(keras::data::CsvDataset<float>& d) {
  std::vector<float> rows;
  keras::DatasetBatch<float> b;
  for (Index i = 0; i < d.size(); ++i) {
    d.get(i, b);
    for (Index r = 0; r < b.x.rows(); ++r) rows.push_back(b.x(r, 2));
  }
  d.on_epoch_end();
  return rows;
}

keras::Sequential<float> small_model() {
  keras::Sequential<float> model{Dense(6, "tanh", keras::input_shape{3}), Dense(1)};
  model.set_seed(3);
  model.compile("adam", "mse", {"mae"});
  return model;
}

/// A dataset of given arrays in batches, counting what fit asks of it.
class ArrayDataset : public keras::PyDataset<float> {
 public:
  ArrayDataset(Mat x, Mat y, Index batch, Vec w = {}) : x_(std::move(x)), y_(std::move(y)), w_(std::move(w)), batch_(batch) {}
  Index size() const override { return (x_.rows() + batch_ - 1) / batch_; }
  void get(Index index, keras::DatasetBatch<float>& b) override {
    gets.push_back(index);
    const Index start = index * batch_, rows = std::min(batch_, x_.rows() - start);
    b.x = x_.middleRows(start, rows);
    b.y = y_.middleRows(start, rows);
    b.sample_weight = w_.size() ? Vec(w_.segment(start, rows)) : Vec();
  }
  void on_epoch_end() override { ++epoch_ends; }

  std::vector<Index> gets;
  int epoch_ends = 0;

 private:
  Mat x_, y_;
  Vec w_;
  Index batch_;
};

}  // namespace

TEST_CASE("a streamed CSV trains, evaluates and predicts like the same file read whole", "[datasets][csv]") {
  kerascpp_test::ScratchFolder dir;
  const std::string path = write_csv(dir.path(), 103);
  keras::data::CsvDataset<float> stream(path, {.label_columns = {"t"}, .batch_size = 16});
  CHECK(stream.rows() == 103);
  CHECK(stream.size() == 7);
  CHECK(stream.feature_columns() == std::vector<std::string>{"a", "b", "c"});

  const auto frame = keras::data::read_csv(path);
  const Mat x = frame.to_matrix({"a", "b", "c"}), y = frame.to_matrix({"t"});
  auto whole = small_model();
  const auto expected = whole.fit(x, y, {.batch_size = 16, .epochs = 4, .verbose = 0, .validation_data = {x, y},
                                         .shuffle = false});
  keras::data::CsvDataset<float> valid(path, {.label_columns = {"t"}, .batch_size = 16});
  auto streamed = small_model();
  const auto history = streamed.fit(stream, {.epochs = 4, .verbose = 0, .validation_data = valid});
  for (const std::string key : {"loss", "mae", "val_loss", "val_mae"}) {
    INFO(key);
    CHECK(history.at(key) == expected.at(key));
  }
  CHECK(streamed.get_weights() == whole.get_weights());
  CHECK(streamed.evaluate(stream).at("loss") == Approx(whole.evaluate(x, y, {.batch_size = 16}).at("loss")).epsilon(1e-6));
  CHECK(streamed.predict(stream) == whole.predict(x, 16));
}

TEST_CASE("the shuffle buffer gives every row once per pass, in a new order each pass", "[datasets][csv]") {
  kerascpp_test::ScratchFolder dir;
  const std::string path = write_csv(dir.path(), 50);
  keras::data::CsvDataset<float> d(path, {.label_columns = {"t"}, .batch_size = 8, .shuffle_buffer = 10, .seed = 4});
  const auto first = rows_of_pass(d), second = rows_of_pass(d);
  std::vector<float> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) CHECK(sorted[i] == static_cast<float>(i));
  CHECK(std::is_permutation(second.begin(), second.end(), first.begin()));
  CHECK(first != second);
  CHECK(first != sorted);
  // A row leaves the buffer no earlier than its place in the file minus the buffer's size.
  for (std::size_t k = 0; k < first.size(); ++k) CHECK(first[k] <= static_cast<float>(k + 10));
  keras::data::CsvDataset<float> again(path, {.label_columns = {"t"}, .batch_size = 8, .shuffle_buffer = 10, .seed = 4});
  CHECK(rows_of_pass(again) == first);  // the same seed, the same order

  // Asking for an earlier batch restarts the pass and gives the same rows.
  keras::DatasetBatch<float> b3, b1, b3_again;
  again.get(3, b3);
  again.get(1, b1);
  again.get(3, b3_again);
  CHECK(b3.x == b3_again.x);
}

TEST_CASE("fit on a PyDataset: sample weights of its batches, one pass per epoch, or steps_per_epoch", "[datasets]") {
  keras::Rng rng(11);
  Mat x(20, 3), y(20, 1);
  Vec w(20);
  for (Index i = 0; i < 20; ++i) {
    for (Index j = 0; j < 3; ++j) x(i, j) = static_cast<float>(rng.uniform(-1.0, 1.0));
    y(i, 0) = static_cast<float>(rng.uniform(-1.0, 1.0));
    w(i) = static_cast<float>(rng.uniform(0.0, 2.0));
  }
  ArrayDataset data(x, y, 6, w);
  auto by_dataset = small_model();
  const auto h = by_dataset.fit(data, {.epochs = 2, .verbose = 0});
  auto by_arrays = small_model();
  const auto expected = by_arrays.fit(x, y, {.batch_size = 6, .epochs = 2, .verbose = 0, .shuffle = false, .sample_weight = w});
  CHECK(h.at("loss") == expected.at("loss"));
  CHECK(data.epoch_ends == 2);
  // Batch 0 once to build and check the model, then 0..3 in each epoch.
  CHECK(data.gets == std::vector<Index>{0, 0, 1, 2, 3, 0, 1, 2, 3});

  ArrayDataset steps(x, y, 6);
  auto model = small_model();
  model.fit(steps, {.epochs = 3, .verbose = 0, .steps_per_epoch = 3});
  // 9 batches continue across epochs through the 4 of one pass, which ends after batch 3.
  CHECK(steps.gets == std::vector<Index>{0, 0, 1, 2, 3, 0, 1, 2, 3, 0});
  CHECK(steps.epoch_ends == 2);
}

/// Batches of 4 rows of 3 features; batch `odd` has a y of `odd_cols` columns (else 1) or, with
/// `short_y`, one row fewer in y than in x.
class UnevenDataset : public keras::PyDataset<float> {
 public:
  UnevenDataset(Index odd, Index odd_cols, bool short_y = false) : odd_(odd), odd_cols_(odd_cols), short_y_(short_y) {}
  Index size() const override { return 3; }
  void get(Index index, keras::DatasetBatch<float>& b) override {
    b.x = Mat::Constant(4, 3, 0.1f * static_cast<float>(index));
    b.y = Mat::Zero(index == odd_ && short_y_ ? 3 : 4, index == odd_ ? odd_cols_ : 1);
  }

 private:
  Index odd_, odd_cols_;
  bool short_y_;
};

TEST_CASE("every batch of a PyDataset is checked: a later batch's y must be as wide as the first's", "[datasets][errors]") {
  auto model = small_model();
  UnevenDataset wide_later(2, 2);
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(wide_later, {.verbose = 0}); }),
             Contains("fit: dataset batch 2: y has 2 columns but the model's targets have 1"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { (void)model.evaluate(wide_later); }),
             Contains("evaluate: dataset batch 2: y has 2 columns but the model's targets have 1"));
  UnevenDataset wide_first(0, 2);
  UnevenDataset even(9, 1);
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(even, {.verbose = 0, .validation_data = wide_first}); }),
             Contains("fit: validation_data: dataset batch 0: y has 2 columns but the model's targets have 1"));
  CHECK_NOTHROW(model.fit(even, {.verbose = 0}));
  CHECK_NOTHROW(model.evaluate(even));
  UnevenDataset short_first(0, 1, true), short_later(1, 1, true);
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(short_first, {.verbose = 0}); }),
             Contains("fit: dataset batch 0: x has 4 rows but y has 3"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(short_later, {.verbose = 0}); }),
             Contains("fit: dataset batch 1: x has 4 rows but y has 3"));
}

TEST_CASE("CsvDataset reads header, names and skiprows as read_csv does", "[datasets]") {
  kerascpp_test::ScratchFolder dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
    return (dir.path() / name).string();
  };
  using keras::data::CsvDataset;
  const std::string plain = write("plain.csv", "1,2,0\n3,4,1\n5,6,0\n");
  CsvDataset<float> numbered(plain, {.label_columns = {"2"}, .batch_size = 8, .header = false});
  CHECK(numbered.feature_columns() == std::vector<std::string>{"0", "1"});
  CHECK(numbered.rows() == 3);
  keras::DatasetBatch<float> b;
  numbered.get(0, b);
  REQUIRE(b.x.rows() == 3);
  CHECK(b.x(0, 0) == 1.0f);  // the first row is data
  CHECK(b.x(2, 1) == 6.0f);
  CHECK(b.y(1, 0) == 1.0f);
  numbered.on_epoch_end();
  numbered.get(0, b);  // a second pass reads the first row again
  CHECK(b.x(0, 0) == 1.0f);

  CsvDataset<float> named(plain, {.label_columns = {"y"}, .batch_size = 2, .names = {"a", "b", "y"}});
  CHECK(named.feature_columns() == std::vector<std::string>{"a", "b"});
  CHECK(named.rows() == 3);

  const std::string headed = write("headed.csv", "# notes\n\na,b,t\n1,2,0\n3,4,1\n");
  CsvDataset<float> skipped(headed, {.label_columns = {"t"}, .skiprows = 2});
  CHECK(skipped.feature_columns() == std::vector<std::string>{"a", "b"});
  CHECK(skipped.rows() == 2);
  CsvDataset<float> renamed(headed, {.label_columns = {"z"}, .header = true, .names = {"x", "y", "z"}, .skiprows = 2});
  CHECK(renamed.feature_columns() == std::vector<std::string>{"x", "y"});
  skipped.get(0, b);
  CHECK(b.x(1, 1) == 4.0f);

  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               CsvDataset<float>(plain, {.label_columns = {"y"}, .names = {"a", "y"}});
             }),
             Contains("CsvDataset: names has 2 names, but ") && Contains("has 3 fields in its first row (line 1)"));
  CHECK_THAT(thrown_message<keras::IOError>([&] { CsvDataset<float>(headed, {.label_columns = {"t"}, .skiprows = 9}); }),
             Contains("is empty after skipping skiprows=9 rows: expected a header line"));
}

TEST_CASE("bad datasets and options get clear errors", "[datasets][errors]") {
  kerascpp_test::ScratchFolder dir;
  const std::string path = write_csv(dir.path(), 10);
  using keras::data::CsvDataset;
  CHECK_THAT(thrown_message<keras::IOError>([&] { CsvDataset<float>(path, {.label_columns = {"y"}}); }),
             Contains("label column 'y' is not a column of") && Contains("the columns are a, b, t, c"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { CsvDataset<float>(path, {.label_columns = {"t"}, .batch_size = 0}); }),
             Contains("CsvDataset: batch_size must be positive, received batch_size=0"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { CsvDataset<float>(path, {}); }),
             Contains("label_columns must name the target column(s)"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { CsvDataset<float>(path, {.label_columns = {"t", "a", "t"}}); }),
             Contains("CsvDataset: label_columns holds 't' twice (positions 0 and 2); the names must all differ"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               CsvDataset<float>(path, {.label_columns = {"t"}, .shuffle_buffer = -1});
             }),
             Contains("shuffle_buffer must be 0 (no shuffle) or positive"));
  CHECK_THAT(thrown_message<keras::IOError>([&] { CsvDataset<float>((dir.path() / "none.csv").string(), {.label_columns = {"t"}}); }),
             Contains("CsvDataset: cannot open"));

  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
    return (dir.path() / name).string();
  };
  const auto first_batch_error = [](const std::string& file) {
    return thrown_message<keras::IOError>([&] {
      CsvDataset<float> d(file, {.label_columns = {"t"}});
      keras::DatasetBatch<float> b;
      d.get(0, b);
    });
  };
  CHECK_THAT(first_batch_error(write("text.csv", "a,t\n1,2\nx,3\n")),
             Contains("line 3, column 'a': expected a finite number, found 'x'"));
  CHECK_THAT(first_batch_error(write("big.csv", "a,t\n1,2\n1e39,3\n")),
             Contains("big.csv, line 3, column 'a': 1e39 is beyond the range of float") &&
                 Contains("CsvDataset<double>"));
  CHECK_THAT(first_batch_error(write("missing.csv", "a,t\n1,2\n,3\n")),
             Contains("line 3, column 'a': missing value"));
  CHECK_THAT(first_batch_error(write("fields.csv", "a,t\n1,2\n1,2,3\n")), Contains("line 3: expected 2 fields as in the header (line 1), found 3"));
  CHECK_THAT(thrown_message<keras::IOError>([&] { CsvDataset<float>(write("header.csv", "a,t\n"), {.label_columns = {"t"}}); }),
             Contains("header.csv has no rows of data"));
  CHECK_THAT(thrown_message<keras::IOError>([&] { CsvDataset<float>(write("empty.csv", ""), {.label_columns = {"t"}}); }),
             Contains("is empty: expected a header line"));
  CsvDataset<float> d(path, {.label_columns = {"t"}, .batch_size = 4});
  keras::DatasetBatch<float> b;
  CHECK_THAT(thrown_message<keras::ValueError>([&] { d.get(3, b); }),
             Contains("batch index 3 is out of range; the data set has 3 batches (valid indices 0 to 2)"));

  auto model = small_model();
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(d, {.verbose = 0, .validation_split = 0.2}); }),
             Contains("validation_split is for arrays; with a PyDataset give validation_data instead"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(d, {.verbose = 0, .sample_weight = Vec::Ones(10)}); }),
             Contains("sample weights come from its batches"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(d, {.verbose = 0, .steps_per_epoch = -1}); }),
             Contains("steps_per_epoch must be 0 (one pass over the data) or positive"));
  const Mat x = Mat::Zero(4, 3), y = Mat::Zero(4, 1);
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(x, y, {.verbose = 0, .steps_per_epoch = 2}); }),
             Contains("steps_per_epoch is for a PyDataset"));

  ArrayDataset empty(Mat(0, 3), Mat(0, 1), 4);
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(empty, {.verbose = 0}); }),
             Contains("the PyDataset has 0 batches; it must have at least one"));
  Mat wide = Mat::Zero(8, 3), bad_y = Mat::Zero(8, 1);
  bad_y(5, 0) = std::numeric_limits<float>::quiet_NaN();
  ArrayDataset with_nan(wide, bad_y, 4);
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(with_nan, {.verbose = 0}); }),
             Contains("fit: dataset batch 1"));
  ArrayDataset negative(Mat::Zero(4, 3), Mat::Zero(4, 1), 4, Vec::Constant(4, -1.0f));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.fit(negative, {.verbose = 0}); }),
             Contains("sample_weight must hold finite non-negative numbers"));
}

TEST_CASE("CsvDataset refuses a text column when it opens the file, naming the column and its first value",
          "[datasets][errors]") {
  kerascpp_test::ScratchFolder dir;
  using keras::data::CsvDataset;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
    return (dir.path() / name).string();
  };
  const std::string colour = write("colour.csv", "a,colour,t\n1,red,0\n2,blue,1\n");
  const std::string message = thrown_message<keras::IOError>([&] { CsvDataset<float>(colour, {.label_columns = {"t"}}); });
  CHECK_THAT(message, Catch::StartsWith("CsvDataset: column 'colour' of ") &&
                          Catch::EndsWith("colour.csv holds text: its value on line 2 is 'red'; expected a number in every "
                                          "column (a CsvDataset cannot encode text: read the file with read_csv to encode "
                                          "the column, with get_dummies or map, or remove it from the file)"));
  CHECK_THAT(thrown_message<keras::IOError>([&] {
               CsvDataset<double>(write("label.csv", "a,t\n1,yes\n2,no\n"), {.label_columns = {"t"}});
             }),
             Contains("column 't' of ") && Contains("its value on line 2 is 'yes'"));
  // A missing value is not text: the batch that holds it reports it, as in later rows.
  CsvDataset<float> missing(write("missing.csv", "a,t\n,1\n2,0\n"), {.label_columns = {"t"}});
  keras::DatasetBatch<float> b;
  CHECK_THAT(thrown_message<keras::IOError>([&] { missing.get(0, b); }), Contains("line 2, column 'a': missing value"));
  // A semicolon-separated file read with the default sep has one column: the label is not among
  // them, and the message names the sep to pass.
  CHECK_THAT(thrown_message<keras::IOError>([&] {
               CsvDataset<float>(write("semi.csv", "a;t\n1;0\n"), {.label_columns = {"t"}});
             }),
             Contains("label column 't' is not a column of ") &&
                 Catch::EndsWith("the columns are a;t; the only column's name holds ';': the file's fields are probably "
                                 "separated by ';', which CsvDataset takes as its sep option "
                                 "(CsvDatasetOptions{.sep = ';'}, pandas sep=';')"));
  CHECK(CsvDataset<float>(write("semi.csv", "a;t\n1;0\n"), {.label_columns = {"t"}, .sep = ';'}).rows() == 1);
}

TEST_CASE("a shuffle_buffer far beyond the file's rows trains, shuffling as a buffer of every row does",
          "[datasets][csv]") {
  kerascpp_test::ScratchFolder dir;
  const std::string path = write_csv(dir.path(), 50);
  using keras::data::CsvDataset;
  CsvDataset<float> huge(path, {.label_columns = {"t"}, .batch_size = 8, .shuffle_buffer = Index(1) << 40, .seed = 2});
  CsvDataset<float> exact(path, {.label_columns = {"t"}, .batch_size = 8, .shuffle_buffer = 50, .seed = 2});
  const std::vector<float> order = rows_of_pass(huge);
  CHECK(order == rows_of_pass(exact));
  std::vector<float> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) CHECK(sorted[i] == static_cast<float>(i));
  CHECK(order != sorted);

  CsvDataset<float> train(path, {.label_columns = {"t"}, .batch_size = 8, .shuffle_buffer = Index(1) << 40});
  auto model = small_model();
  const auto history = model.fit(train, {.epochs = 2, .verbose = 0});
  REQUIRE(history.at("loss").size() == 2);
  CHECK(std::isfinite(history.at("loss")[1]));
}

TEST_CASE("CsvDataset refuses a device and a path with a NUL byte", "[datasets][errors]") {
  using keras::data::CsvDataset;
  if (std::filesystem::exists("/dev/zero"))
    CHECK_THAT(thrown_message<keras::IOError>([&] { CsvDataset<float>("/dev/zero", {.label_columns = {"t"}}); }),
               Contains("CsvDataset: cannot read /dev/zero: it is a character device; expected a regular file"));
  else
    WARN("this system has no /dev/zero: its check is skipped");
  kerascpp_test::ScratchFolder dir;
  const std::string path = write_csv(dir.path(), 10);
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               CsvDataset<float>(path + std::string("\0.bak", 5), {.label_columns = {"t"}});
             }),
             Contains("CsvDataset: the path contains a NUL byte at position " + std::to_string(path.size())));
}

}  // namespace test_datasets
