// Tests of the preprocessing in kerascpp/data.hpp against pandas 1.5 and scikit-learn 1.2: the
// files in tests/data/preprocessing/ were written by tools/make_preprocessing_reference.py. Encoders
// must agree exactly; scalers within the tolerance stated at `scaler_tolerance`.
#include <kerascpp/data.hpp>

#include "scratch_folder.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_preprocessing {

using Catch::Contains;
using kerascpp::Index;
using kerascpp::IOError;
using kerascpp::Matrix;
using kerascpp::StateError;
using kerascpp::ValueError;
using kerascpp::data::DataFrame;
using kerascpp::data::factorize;
using kerascpp::data::get_dummies;
using kerascpp::data::HandleUnknown;
using kerascpp::data::LabelEncoder;
using kerascpp::data::MinMaxScaler;
using kerascpp::data::OneHotEncoder;
using kerascpp::data::read_arff;
using kerascpp::data::read_csv;
using kerascpp::data::StandardScaler;

namespace {

std::string reference(const std::string& name) {
  return std::string(KERASCPP_TEST_DATA_DIR) + "/preprocessing/" + name;
}

/// lists.txt: "key|item|item|..." per line.
const std::vector<std::string>& list(const std::string& key) {
  static const std::map<std::string, std::vector<std::string>> lists = [] {
    std::ifstream in(reference("lists.txt"));
    REQUIRE(in.good());
    std::map<std::string, std::vector<std::string>> out;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> items;
      std::istringstream fields(line);
      std::string item;
      while (std::getline(fields, item, '|')) items.push_back(item);
      out[items.front()] = std::vector<std::string>(items.begin() + 1, items.end());
    }
    return out;
  }();
  const auto found = lists.find(key);
  INFO("lists.txt key: " << key);
  REQUIRE(found != lists.end());
  return found->second;
}

std::vector<double> numbers_of(const std::vector<std::string>& items) {
  std::vector<double> out;
  for (const std::string& item : items) out.push_back(std::stod(item));
  return out;
}

std::vector<Index> indices_of(const std::vector<std::string>& items) {
  std::vector<Index> out;
  for (const std::string& item : items) out.push_back(std::stoll(item));
  return out;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

/// Every column of `actual` equals the reference frame's: same names in the same order, numbers
/// bit for bit (NaN matching NaN), text character for character.
void check_frames_equal(const DataFrame& actual, const DataFrame& expected) {
  REQUIRE(actual.columns() == expected.columns());
  REQUIRE(actual.rows() == expected.rows());
  for (const std::string& name : expected.columns()) {
    INFO("column " << name);
    REQUIRE(actual.is_numeric(name) == expected.is_numeric(name));
    if (expected.is_numeric(name)) {
      for (Index i = 0; i < expected.rows(); ++i) {
        INFO("row " << i);
        CHECK(same(actual.numbers(name)[static_cast<std::size_t>(i)], expected.numbers(name)[static_cast<std::size_t>(i)]));
      }
    } else {
      CHECK(actual.strings(name) == expected.strings(name));
    }
  }
}

/// The tolerance for a scaler's output against scikit-learn's: 8 ε times the sum of the magnitudes
/// of the terms either library adds up. scikit-learn computes MinMaxScaler as x · scale_ + min_,
/// whose terms can be far larger than the result (x = 1e6 + 0.3 gives 1.29e6 - 1.29e6), kerascpp as
/// (x - min) / range · width + low; the two round differently, each within a few units in the last
/// place of its own terms.
double scaler_tolerance(double expected, double terms) {
  return 8.0 * std::numeric_limits<double>::epsilon() * (std::abs(expected) + terms);
}

std::string write_text(const kerascpp_test::ScratchFolder& folder, const std::string& name, const std::string& text) {
  const std::string path = (folder.path() / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// get_dummies and OneHotEncoder

TEST_CASE("get_dummies gives pandas' columns, names and values", "[preprocessing][onehot]") {
  const DataFrame people = read_csv(reference("people.csv"));
  SECTION("two text columns: the other columns first, then each column's dummies in sorted order") {
    const DataFrame dummies = get_dummies(people, {"color", "size"});
    check_frames_equal(dummies, read_csv(reference("dummies_color_size.csv")));
    CHECK(dummies.columns()[3] == "color_Green");  // upper case sorts first, as in Python
  }
  SECTION("every text column, drop_first") {
    check_frames_equal(get_dummies(people, {}, true), read_csv(reference("dummies_all_text_drop_first.csv")));
  }
  SECTION("a numeric column, sorted numerically (10 after 3)") {
    check_frames_equal(get_dummies(people, {"code"}), read_csv(reference("dummies_code.csv")));
  }
  SECTION("the columns in the order given, with another prefix_sep") {
    check_frames_equal(get_dummies(people, {"size", "color"}, false, "="),
                       read_csv(reference("dummies_size_color_sep.csv")));
  }
  SECTION("a missing category is an all-zero row") {
    const DataFrame dummies = get_dummies(people, {"color"});
    CHECK(people.strings("color")[5].empty());
    for (const char* name : {"color_Green", "color_blue", "color_green", "color_red", "color_yellow"})
      CHECK(dummies.numbers(name)[5] == 0.0);
  }
}

TEST_CASE("OneHotEncoder learned on one frame gives another the same columns, unseen categories as zeros",
          "[preprocessing][onehot]") {
  const DataFrame people = read_csv(reference("people.csv"));
  const DataFrame people_new = read_csv(reference("people_new.csv"));
  OneHotEncoder encoder({"color", "size"}, false, HandleUnknown::ignore);
  const DataFrame fitted = encoder.fit_transform(people);
  const DataFrame applied = encoder.transform(people_new);
  check_frames_equal(applied, read_csv(reference("onehot_new.csv")));
  CHECK(applied.columns() == fitted.columns());
  CHECK(encoder.get_feature_names_out() == fitted.columns());

  // scikit-learn's OneHotEncoder (fitted on the rows without a missing value) agrees on the
  // categories, the names and the rows of known values.
  const std::vector<std::string>& sklearn_names = list("onehot sklearn feature names");
  const std::vector<std::string> names(fitted.columns().end() - static_cast<std::ptrdiff_t>(sklearn_names.size()),
                                       fitted.columns().end());
  CHECK(names == sklearn_names);
  for (const Index row : {0, 1}) {
    const std::vector<double> expected = numbers_of(list("onehot sklearn new row " + std::to_string(row)));
    for (std::size_t k = 0; k < names.size(); ++k) CHECK(applied.numbers(names[k])[static_cast<std::size_t>(row)] == expected[k]);
  }
  CHECK(std::get<std::vector<std::string>>(encoder.categories()[0]) ==
        std::vector<std::string>{"Green", "blue", "green", "red", "yellow"});
  CHECK(encoder.encoded_columns() == std::vector<std::string>{"color", "size"});

  OneHotEncoder first({"color", "size"}, true);
  const DataFrame dropped = first.fit_transform(people);
  const std::vector<std::string>& sklearn_first = list("onehot sklearn drop first feature names");
  CHECK(std::vector<std::string>(dropped.columns().end() - static_cast<std::ptrdiff_t>(sklearn_first.size()),
                                 dropped.columns().end()) == sklearn_first);
}

TEST_CASE("OneHotEncoder and get_dummies errors name the column, the value and its line", "[preprocessing][onehot][errors]") {
  const DataFrame people = read_csv(reference("people.csv"));
  const DataFrame people_new = read_csv(reference("people_new.csv"));
  OneHotEncoder strict({"color", "size"});
  strict.fit(people);
  REQUIRE_THROWS_AS(strict.transform(people_new), ValueError);
  REQUIRE_THROWS_WITH(strict.transform(people_new),
                      Contains("column 'color' holds 'purple' at line 3 of ") && Contains("people_new.csv (row 1)") &&
                          Contains("'Green', 'blue', 'green', 'red', 'yellow'") && Contains("HandleUnknown::ignore"));
  REQUIRE_THROWS_AS(OneHotEncoder().transform(people), StateError);
  REQUIRE_THROWS_WITH(strict.transform(people.drop({"label"})),
                      Contains("expected the columns given to fit (height, color, size, code, label)") &&
                          Contains("received (height, color, size, code)"));
  REQUIRE_THROWS_WITH(strict.transform(people.assign("size", std::vector<double>(24, 1.0))),
                      Contains("column 'size' held text when fitted, and holds numbers now"));
  REQUIRE_THROWS_WITH(get_dummies(people, {"colour"}),
                      Contains("OneHotEncoder.fit: no column named 'colour'") && Contains("'height', 'color'"));
  REQUIRE_THROWS_WITH(get_dummies(people, {"size", "size"}), Contains("column 'size' is named twice"));
  const DataFrame clash = people.assign("size_M", std::vector<double>(24, 0.0));
  REQUIRE_THROWS_AS(get_dummies(clash, {"size"}), ValueError);
  REQUIRE_THROWS_WITH(get_dummies(clash, {"size"}), Contains("two columns named 'size_M'"));
}

TEST_CASE("text_columns and numeric_columns list a frame's columns by kind, in order", "[preprocessing][frame]") {
  const DataFrame people = read_csv(reference("people.csv"));
  CHECK(people.text_columns() == std::vector<std::string>{"color", "size", "label"});
  CHECK(people.numeric_columns() == std::vector<std::string>{"height", "code"});
  CHECK(get_dummies(people).text_columns().empty());
  CHECK(get_dummies(people.select({"height"})).columns() == std::vector<std::string>{"height"});
}

// ---------------------------------------------------------------------------------------------
// LabelEncoder, factorize, value_counts

TEST_CASE("LabelEncoder gives scikit-learn's classes and codes and inverts them", "[preprocessing][labels]") {
  const DataFrame people = read_csv(reference("people.csv"));
  const DataFrame people_new = read_csv(reference("people_new.csv"));
  LabelEncoder encoder;
  const std::vector<Index> codes = encoder.fit_transform(people.strings("label"));
  CHECK(encoder.classes() == list("label classes"));
  CHECK(codes == indices_of(list("label codes")));
  CHECK(encoder.transform(people_new.strings("label")) == indices_of(list("label new codes")));
  CHECK(encoder.inverse_transform(std::vector<Index>{3, 0, 1}) == list("label inverse 3 0 1"));
  CHECK(encoder.inverse_transform(std::vector<double>{3.0, 0.0, 1.0}) == list("label inverse 3 0 1"));

  const DataFrame encoded = LabelEncoder().fit_transform(people, "label");
  CHECK(encoded.is_numeric("label"));
  const std::vector<Index> expected = indices_of(list("label codes"));
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(encoded.numbers("label")[i] == static_cast<double>(expected[i]));
  CHECK(encoded.columns() == people.columns());
  CHECK(LabelEncoder().fit(std::vector<std::string>{"b", "B", "a"}).classes() ==
        std::vector<std::string>{"B", "a", "b"});
}

TEST_CASE("LabelEncoder refuses unseen and missing labels, bad codes and use before fit", "[preprocessing][labels][errors]") {
  const DataFrame people = read_csv(reference("people.csv"));
  LabelEncoder encoder;
  encoder.fit(people, "label");
  REQUIRE_THROWS_AS(encoder.transform(std::vector<std::string>{"cat", "cow"}), ValueError);
  REQUIRE_THROWS_WITH(encoder.transform(std::vector<std::string>{"cat", "cow"}),
                      Contains("previously unseen label 'cow' at position 1") &&
                          Contains("the known classes are 'ant', 'bird', 'cat', 'dog'"));
  REQUIRE_THROWS_WITH(LabelEncoder().fit(people, "color"),
                      Contains("LabelEncoder.fit: a label is missing (empty) at line 7 of") && Contains("(row 5)"));
  REQUIRE_THROWS_WITH(encoder.inverse_transform(std::vector<Index>{0, 4}),
                      Contains("code 4 at position 1 is not in [0, 4)"));
  REQUIRE_THROWS_WITH(encoder.inverse_transform(std::vector<double>{0.5}), Contains("code 0.5 at position 0 is not a whole number"));
  REQUIRE_THROWS_WITH(encoder.fit(people, "height"), Contains("column 'height' holds numbers"));
  REQUIRE_THROWS_AS(LabelEncoder().transform(std::vector<std::string>{"a"}), StateError);
  REQUIRE_THROWS_AS(LabelEncoder().inverse_transform(std::vector<Index>{0}), StateError);
}

TEST_CASE("factorize gives pandas' codes and uniques, missing values as -1", "[preprocessing][labels]") {
  const DataFrame people = read_csv(reference("people.csv"));
  for (const bool sort : {false, true}) {
    const std::string key = std::string("factorize color sort=") + (sort ? "True" : "False");
    const kerascpp::data::Factorized result = factorize(people.strings("color"), sort);
    CHECK(result.codes == indices_of(list(key + " codes")));
    CHECK(result.uniques == list(key + " uniques"));
  }
}

TEST_CASE("value_counts gives pandas 1.5's values, counts and order of ties", "[preprocessing][frame]") {
  const DataFrame people = read_csv(reference("people.csv"));
  for (const std::string column : {"color", "size", "label"}) {
    INFO(column);
    const DataFrame counts = people.value_counts(column);
    CHECK(std::get<std::vector<std::string>>(counts.index()) == list("value_counts " + column + " values"));
    CHECK(counts.numbers("count") == numbers_of(list("value_counts " + column + " counts")));
    CHECK(counts.index_name() == column);
  }
  for (const std::string column : {"code", "height"}) {
    INFO(column);
    const DataFrame counts = people.value_counts(column);
    CHECK(std::get<std::vector<double>>(counts.index()) == numbers_of(list("value_counts " + column + " values")));
    CHECK(counts.numbers("count") == numbers_of(list("value_counts " + column + " counts")));
  }
  // 80 distinct values: pandas sorts the counts with numpy's unstable quicksort, which kerascpp copies.
  const DataFrame many = read_csv(reference("many_values.csv")).value_counts("item");
  CHECK(std::get<std::vector<std::string>>(many.index()) == list("value_counts many values"));
  CHECK(many.numbers("count") == numbers_of(list("value_counts many counts")));
}

// ---------------------------------------------------------------------------------------------
// Scalers

namespace {

double scaler_shift(const MinMaxScaler<double>& scaler, Index j) { return scaler.data_min()(j); }
double scaler_shift(const StandardScaler<double>& scaler, Index j) { return scaler.with_mean() ? scaler.mean()(j) : 0.0; }

// The divisor of (x - shift) / divisor: data_range (1 when constant) = width / scale_ for MinMaxScaler.
double scaler_divisor(const MinMaxScaler<double>& scaler, Index j, double width) { return width / scaler.scale()(j); }
double scaler_divisor(const StandardScaler<double>& scaler, Index j, double) { return scaler.scale()(j); }

template <typename Scaler>
void check_scaler(Scaler& scaler, const std::string& name, double width, double low) {
  const DataFrame train = read_csv(reference("scale_train.csv"));
  const DataFrame test = read_csv(reference("scale_test.csv"));
  const DataFrame scaled_train = scaler.fit_transform(train);
  const DataFrame scaled_test = scaler.transform(test);
  const DataFrame inverse = scaler.inverse_transform(test);
  const auto compare = [&](const DataFrame& input, const DataFrame& actual, const std::string& file, bool inverse_case) {
    const DataFrame expected = read_csv(reference(file));
    REQUIRE(actual.columns() == expected.columns());
    for (Index j = 0; j < expected.cols(); ++j) {
      const std::string& column = expected.columns()[static_cast<std::size_t>(j)];
      for (std::size_t i = 0; i < static_cast<std::size_t>(expected.rows()); ++i) {
        const double x = input.numbers(column)[i];
        const double want = expected.numbers(column)[i];
        const double got = actual.numbers(column)[i];
        INFO(file << " column " << column << " row " << i << ": kerascpp " << got << ", scikit-learn " << want);
        if (std::isnan(want)) {
          CHECK(std::isnan(got));
          continue;
        }
        const double divisor = scaler_divisor(scaler, j, width);
        const double shift = scaler_shift(scaler, j);
        const double terms = inverse_case ? (std::abs(x) + std::abs(low)) / width * divisor + std::abs(shift)
                                          : (std::abs(x) + std::abs(shift)) / divisor * width + std::abs(low);
        CHECK(std::abs(got - want) <= scaler_tolerance(want, terms));
      }
    }
  };
  compare(train, scaled_train, "scaled_" + name + "_train.csv", false);
  compare(test, scaled_test, "scaled_" + name + "_test.csv", false);
  compare(test, inverse, "scaled_" + name + "_inverse.csv", true);
}

void check_row(const kerascpp::RowVector<double>& actual, const std::string& key, bool exact) {
  const std::vector<double> expected = numbers_of(list(key));
  REQUIRE(actual.cols() == static_cast<Index>(expected.size()));
  for (Index j = 0; j < actual.cols(); ++j) {
    INFO(key << " column " << j);
    const double want = expected[static_cast<std::size_t>(j)];
    if (exact)
      CHECK(actual(j) == want);
    else
      CHECK(std::abs(actual(j) - want) <= 4.0 * std::numeric_limits<double>::epsilon() * std::abs(want));
  }
}

}  // namespace

TEST_CASE("MinMaxScaler matches scikit-learn 1.2, constant column included, in both directions", "[preprocessing][scalers]") {
  for (const auto& [name, range] : {std::pair<std::string, std::pair<double, double>>{"minmax", {0.0, 1.0}},
                                    std::pair<std::string, std::pair<double, double>>{"minmax_range", {-1.0, 2.0}}}) {
    INFO(name);
    MinMaxScaler<double> scaler(range);
    check_scaler(scaler, name, range.second - range.first, range.first);
    check_row(scaler.data_min(), name + " data_min_", true);
    check_row(scaler.data_max(), name + " data_max_", true);
    check_row(scaler.data_range(), name + " data_range_", true);
    check_row(scaler.scale(), name + " scale_", true);
    check_row(scaler.min(), name + " min_", false);  // low - min · scale may be one fused multiply-add here
    CHECK(scaler.feature_range() == range);
  }
}

TEST_CASE("StandardScaler matches scikit-learn 1.2 (ddof = 0), constant column included, in both directions",
          "[preprocessing][scalers]") {
  StandardScaler<double> scaler;
  check_scaler(scaler, "standard", 1.0, 0.0);
  // numpy sums a C-ordered array's columns row by row, the order kerascpp sums in: equal bits.
  check_row(scaler.mean(), "standard mean_", true);
  check_row(scaler.var(), "standard var_", false);
  check_row(scaler.scale(), "standard scale_", false);
  CHECK(scaler.n_samples_seen() == std::vector<Index>{30, 30, 30, 30, 26});
  StandardScaler<double> no_mean(false);
  check_scaler(no_mean, "standard_no_mean", 1.0, 0.0);
  check_row(no_mean.scale(), "standard_no_mean scale_", false);
  Matrix<double> x(3, 1);
  x << 1.0, 2.0, 4.0;
  CHECK(StandardScaler<double>(true, false).fit_transform(x)(2, 0) == 4.0 - 7.0 / 3.0);
}

TEST_CASE("MinMaxScaler clip and float matrices, and a bad feature_range is refused", "[preprocessing][scalers][errors]") {
  Matrix<float> x(3, 1);
  x << 0.0F, 5.0F, 10.0F;
  MinMaxScaler<float> clipped({-1.0, 1.0}, true);
  clipped.fit(x);
  Matrix<float> outside(2, 1);
  outside << 20.0F, -10.0F;
  const Matrix<float> y = clipped.transform(outside);
  CHECK(y(0, 0) == 1.0F);
  CHECK(y(1, 0) == -1.0F);
  CHECK(MinMaxScaler<float>({-1.0, 1.0}).fit(x).transform(outside)(0, 0) == 3.0F);
  CHECK(clipped.inverse_transform(clipped.transform(x))(1, 0) == 5.0F);
  REQUIRE_THROWS_AS(MinMaxScaler<float>({1.0, 1.0}), ValueError);
  REQUIRE_THROWS_WITH(MinMaxScaler<float>({2.0, 1.0}),
                      Contains("feature_range must be (low, high) with low < high, received (2, 1)"));
  REQUIRE_THROWS_AS(MinMaxScaler<float>().inverse_transform(x), StateError);
}

TEST_CASE("MinMaxScaler refuses a feature_range whose width high - low overflows", "[preprocessing][scalers][errors]") {
  REQUIRE_THROWS_AS(MinMaxScaler<float>({-1e308, 1e308}), ValueError);
  REQUIRE_THROWS_WITH(MinMaxScaler<float>({-1e308, 1e308}),
                      Contains("MinMaxScaler: feature_range must have a finite width high - low") &&
                          Contains("received (-1e+308, 1e+308)") && Contains("overflows to inf"));
  Matrix<float> x(2, 1);
  x << 0.0F, 1.0F;
  const Matrix<float> wide = MinMaxScaler<float>({-1e30, 1e30}).fit_transform(x);
  CHECK(wide(0, 0) == -1e30F);
  CHECK(wide(1, 0) == 1e30F);
}

TEST_CASE("scalers' transform refuses infinity as fit does, and keeps NaN as missing", "[preprocessing][scalers][errors]") {
  const double inf = std::numeric_limits<double>::infinity();
  Matrix<double> x(3, 2);
  x << 0.0, 1.0, 5.0, 2.0, 10.0, 4.0;
  Matrix<double> bad(2, 2);
  bad << 1.0, std::nan(""), 2.0, -inf;
  MinMaxScaler<double> minmax;
  minmax.fit(x);
  REQUIRE_THROWS_AS(minmax.transform(bad), ValueError);
  REQUIRE_THROWS_WITH(minmax.transform(bad),
                      Contains("MinMaxScaler.transform: column 1 holds -inf at row 1; values must be finite"));
  StandardScaler<double> standard;
  standard.fit(x);
  REQUIRE_THROWS_WITH(standard.transform(bad), Contains("StandardScaler.transform: column 1 holds -inf at row 1"));
  const DataFrame frame = DataFrame().assign("a", std::vector<double>{0.0, 5.0}).assign("b", std::vector<double>{1.0, 2.0});
  MinMaxScaler<double> named;
  named.fit(frame);
  const DataFrame infinite = frame.assign("b", std::vector<double>{inf, 1.0});
  REQUIRE_THROWS_WITH(named.transform(infinite), Contains("MinMaxScaler.transform: column 'b' holds inf at row 0"));
  bad(1, 1) = 3.0;
  const Matrix<double> y = minmax.transform(bad);
  CHECK(std::isnan(y(0, 1)));
  CHECK(y(1, 1) == Approx(2.0 / 3.0));
}

TEST_CASE("scalers refuse a column whose range, mean or variance overflows double", "[preprocessing][scalers][errors]") {
  // the range 2e308 is inf, so every value would map to 0 without a word
  const DataFrame wide = DataFrame().assign("v", std::vector<double>{-1e308, 1e308, 0.0});
  MinMaxScaler<double> minmax;
  REQUIRE_THROWS_AS(minmax.fit(wide), ValueError);
  REQUIRE_THROWS_WITH(minmax.fit(wide), Contains("MinMaxScaler.fit: column 'v' has the range max - min = 1e+308 - -1e+308, "
                                                 "which overflows double; expected values whose statistics fit in "
                                                 "double: scale the column down first"));
  CHECK_FALSE(minmax.fitted());
  // an infinite variance would pass the constant-column test and divide by 1
  Matrix<double> spread(2, 1);
  spread << 1e200, -1e200;
  REQUIRE_THROWS_WITH(StandardScaler<double>().fit(spread),
                      Contains("StandardScaler.fit: column 0 has a mean or variance beyond double (mean=0, variance=inf)"));
  const DataFrame huge = DataFrame().assign("h", std::vector<double>{1.7e308, 1.7e308});
  REQUIRE_THROWS_WITH(StandardScaler<double>().fit(huge),
                      Contains("StandardScaler.fit: column 'h' has a mean or variance beyond double (mean=inf"));
  CHECK_NOTHROW(StandardScaler<double>().fit(DataFrame().assign("v", std::vector<double>{1e150, -1e150})));
}

TEST_CASE("a float scaler refuses a result beyond float instead of returning inf", "[preprocessing][scalers][errors]") {
  Matrix<float> x(2, 1);
  x << 0.0F, 1.0F;
  MinMaxScaler<float> scaler({0.0, 1e300});
  REQUIRE_THROWS_AS(scaler.fit_transform(x), ValueError);
  REQUIRE_THROWS_WITH(scaler.transform(x), Contains("MinMaxScaler.transform: column 0 maps 1 at row 1 to 1e+300, beyond "
                                                    "the range of float (largest magnitude 3.40282346638529e+38); "
                                                    "expected results that fit in float, or use MinMaxScaler<double>"));
  // a frame holds doubles, so the same scaler transforms a frame
  const DataFrame frame = DataFrame().assign("a", std::vector<double>{0.0, 1.0});
  CHECK(scaler.fit_transform(frame).numbers("a")[1] == 1e300);
  Matrix<float> small(2, 1);
  small << 0.0F, 1e-30F;
  StandardScaler<float> standard;
  standard.fit(small);
  Matrix<float> far(1, 1);
  far << 3e38F;
  REQUIRE_THROWS_WITH(standard.transform(far), Contains("StandardScaler.transform: column 0 maps "));
}

TEST_CASE("scalers refuse data with no columns, as they refuse data with no rows", "[preprocessing][scalers][errors]") {
  REQUIRE_THROWS_AS(MinMaxScaler<float>().fit(Matrix<float>(0, 0)), ValueError);
  REQUIRE_THROWS_WITH(MinMaxScaler<float>().fit(Matrix<float>(0, 0)),
                      Contains("MinMaxScaler.fit: the data has no columns; expected at least one feature, received "
                               "shape (0, 0)"));
  REQUIRE_THROWS_WITH(StandardScaler<double>().fit(Matrix<double>(4, 0)),
                      Contains("StandardScaler.fit: the data has no columns") && Contains("received shape (4, 0)"));
  REQUIRE_THROWS_WITH(StandardScaler<float>().fit_transform(DataFrame()), Contains("StandardScaler.fit: the data has no columns"));
  REQUIRE_THROWS_WITH(MinMaxScaler<float>().fit(Matrix<float>(0, 3)), Contains("column 0 has no values"));
  MinMaxScaler<float> refused;
  REQUIRE_THROWS(refused.fit(Matrix<float>(0, 0)));
  CHECK_FALSE(refused.fitted());
}

// ---------------------------------------------------------------------------------------------
// ARFF

TEST_CASE("read_arff reads what scipy.io.arff reads: types, quoted names, missing values, comments, CRLF",
          "[preprocessing][arff]") {
  const DataFrame weather = read_arff(reference("weather.arff"));
  const DataFrame expected = read_csv(reference("weather_arff.csv"));
  CHECK(weather.columns() == list("arff names"));
  const std::vector<std::string>& types = list("arff types");
  for (std::size_t j = 0; j < types.size(); ++j) CHECK(weather.is_numeric(weather.columns()[j]) == (types[j] == "numeric"));
  check_frames_equal(weather, expected);
  CHECK(weather.strings("outlook")[3] == "light rain");
  CHECK(weather.strings("outlook")[5].empty());
  CHECK(std::isnan(weather.numbers("relative humidity")[2]));
  CHECK(weather.source_line(0) == 14);
  CHECK(std::get<std::vector<double>>(weather.index()) == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("read_arff reads quoted values, string attributes and an empty @data section", "[preprocessing][arff]") {
  const kerascpp_test::ScratchFolder folder;
  const DataFrame frame = read_arff(write_text(folder, "quoted.arff",
                                               "@relation 'a b'\n"
                                               "@attribute \"the name\" string\n"
                                               "@attribute kind{'x y',\"it's\",z}\n"
                                               "@attribute n INTEGER\n"
                                               "@DATA\n"
                                               "'O\\'Brien, Pat','x y',1\n"
                                               "\"plain\",\"it's\",'2'\n"
                                               "?,z,?\n"));
  CHECK(frame.columns() == std::vector<std::string>{"the name", "kind", "n"});
  CHECK(frame.strings("the name") == std::vector<std::string>{"O'Brien, Pat", "plain", ""});
  CHECK(frame.strings("kind") == std::vector<std::string>{"x y", "it's", "z"});
  CHECK(frame.numbers("n")[1] == 2.0);
  CHECK(std::isnan(frame.numbers("n")[2]));
  const DataFrame empty = read_arff(write_text(folder, "empty.arff", "@relation r\n@attribute a numeric\n@data\n"));
  CHECK(empty.rows() == 0);
  CHECK(empty.columns() == std::vector<std::string>{"a"});
}

TEST_CASE("read_arff errors name the file, the line, what was expected and what was found",
          "[preprocessing][arff][errors]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string head = "@relation r\n@attribute a numeric\n@attribute b {x,y}\n@data\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + "1,x\n2\n", "line 6: expected 2 values as there are attributes, found 1"},
      {head + "1,x,3\n", "line 5: expected 2 values as there are attributes, found more"},
      {head + "one,x\n", "line 5: attribute 'a' is numeric, found 'one'"},
      {head + "1,w\n", "line 5: attribute 'b' has the value 'w', which its declaration {'x', 'y'} does not list"},
      {head + "1,'x\n", "line 5: a value quoted with ' is not closed on its line"},
      {head + "{0 1, 1 x}\n", "line 5: a sparse data row"},
      {"@relation r\n@attribute a numeric\n@attribute A2 date\n@data\n", "line 3: attribute 'A2' has type date"},
      {"@relation r\n@attribute a float\n@data\n", "line 2: attribute 'a' has the unknown type 'float'"},
      {"@relation r\n@attribute a numeric\n@attribute a real\n@data\n", "line 3: a second attribute named 'a'"},
      {"@relation r\n@attribute a {x,y\n@data\n", "line 2: the values of nominal attribute 'a' must end with '}'"},
      {"@relation r\n@attribute a {}\n@data\n", "line 2: nominal attribute 'a' declares no values"},
      {"@relation r\n@attribute a\n@data\n", "line 2: attribute 'a' has no type"},
      {"@attribute a numeric\n", "line 1: expected @relation before the first @attribute"},
      {"@relation r\n@data\n", "line 2: @data before any @attribute"},
      {"@relation r\n@attribute a numeric\n1\n", "line 3: expected @relation, @attribute or @data before the data"},
      {"@relation r\n@atribute a numeric\n", "line 2: unknown keyword '@atribute'"},
      {"% only a comment\n", "has no @relation line"},
      {"@relation r\n@attribute a numeric\n", "has no @data line after its 1 attributes"},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const std::string path = write_text(folder, "bad" + std::to_string(k) + ".arff", cases[k].first);
    INFO(cases[k].first);
    REQUIRE_THROWS_AS(read_arff(path), IOError);
    REQUIRE_THROWS_WITH(read_arff(path), Contains("read_arff: ") && Contains("bad" + std::to_string(k) + ".arff") &&
                                             Contains(cases[k].second));
  }
  REQUIRE_THROWS_WITH(read_arff(folder.path() / "missing.arff"), Contains("read_arff: cannot open") && Contains("missing.arff"));
  const std::string utf16 = write_text(folder, "utf16.arff", std::string("\xFF\xFE@\0r\0", 6));
  REQUIRE_THROWS_WITH(read_arff(utf16), Contains("is encoded as UTF-16 little-endian"));
}

}  // namespace test_preprocessing
