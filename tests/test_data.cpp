// Tests of kerascpp/data.hpp: read_csv, DataFrame, RandomState (against pandas' own choices, from
// tests/data/pandas_vectors.txt written by tools/make_pandas_vectors.py) and the scalers, ending with
// the Kaggle "Intro to Deep Learning" preprocessing of red-wine.csv and ion.csv.
#include <kerascpp/data.hpp>

#include "gradient_check.hpp"
#include "scratch_folder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_data {

using Catch::Contains;
using Catch::EndsWith;
using Catch::StartsWith;
using kerascpp::Index;
using kerascpp::IOError;
using kerascpp::Matrix;
using kerascpp::StateError;
using kerascpp::ValueError;
using kerascpp::data::CsvOptions;
using kerascpp::data::DataFrame;
using kerascpp::data::MinMaxScaler;
using kerascpp::data::RandomState;
using kerascpp::data::read_csv;
using kerascpp::data::StandardScaler;

namespace {

std::string data_path(const std::string& name) { return std::string(KERASCPP_DATA_DIR) + "/" + name; }

std::string fixture(const std::string& name) { return std::string(KERASCPP_TEST_DATA_DIR) + "/csv/" + name; }

/// tests/data/pandas_vectors.txt: each line "<key> : <values>", keyed by the part before " : ".
const std::map<std::string, std::string>& pandas_vectors() {
  static const std::map<std::string, std::string> vectors = [] {
    std::ifstream in(std::string(KERASCPP_TEST_DATA_DIR) + "/pandas_vectors.txt");
    REQUIRE(in.good());
    std::map<std::string, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto colon = line.find(" : ");
      REQUIRE(colon != std::string::npos);
      out[line.substr(0, colon)] = line.substr(colon + 3);
    }
    return out;
  }();
  return vectors;
}

const std::string& vector_line(const std::string& key) {
  const auto found = pandas_vectors().find(key);
  INFO("pandas_vectors.txt key: " << key);
  REQUIRE(found != pandas_vectors().end());
  return found->second;
}

template <typename T>
std::vector<T> parse_values(const std::string& text) {
  std::istringstream in(text);
  std::vector<T> out;
  T value{};
  while (in >> value) out.push_back(value);
  return out;
}

std::vector<double> parse_doubles(const std::string& text) {
  std::vector<double> out;
  for (const std::string& token : parse_values<std::string>(text)) out.push_back(std::stod(token));
  return out;
}

std::vector<Index> labels_of(const DataFrame& frame) {
  std::vector<Index> out;
  for (const double label : std::get<std::vector<double>>(frame.index())) out.push_back(static_cast<Index>(label));
  return out;
}

std::vector<std::uint32_t> parse_key(const std::string& text) {
  std::vector<std::uint32_t> key;
  std::string inner = text.substr(1, text.size() - 2);
  std::istringstream in(inner);
  std::string part;
  while (std::getline(in, part, ',')) key.push_back(static_cast<std::uint32_t>(std::stoull(part)));
  return key;
}

// Sums and extremes by plain loops: Eigen's vectorised reductions trip GCC 12's
// -Wmaybe-uninitialized false positive in its AVX-512 intrinsics under -march=native.
double sum_of(const Matrix<double>& m) {
  double sum = 0.0;
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i) sum += m(i, j);
  return sum;
}

double min_of(const Matrix<double>& m) {
  double low = m(0, 0);
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i) low = std::min(low, m(i, j));
  return low;
}

double max_of(const Matrix<double>& m) {
  double high = m(0, 0);
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i) high = std::max(high, m(i, j));
  return high;
}

RandomState make_state(const std::string& seed) {
  if (seed.front() == '[') return RandomState(parse_key(seed));
  return RandomState(std::stoll(seed));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RandomState and sample against pandas

TEST_CASE("RandomState gives numpy's legacy MT19937 outputs for integer and array seeds", "[data][random]") {
  int checked = 0;
  for (const auto& [key, values] : pandas_vectors()) {
    if (key.rfind("raw ", 0) != 0) continue;
    RandomState state = make_state(key.substr(4));
    std::map<Index, std::uint32_t> expected;
    for (const std::string& pair : parse_values<std::string>(values)) {
      const auto equals = pair.find('=');
      expected[std::stoll(pair.substr(0, equals))] = static_cast<std::uint32_t>(std::stoull(pair.substr(equals + 1)));
    }
    const Index last = expected.rbegin()->first;
    for (Index k = 0; k <= last; ++k) {
      const std::uint32_t value = state.next_uint32();
      if (expected.count(k) != 0) {
        INFO(key << ", output " << k);
        CHECK(value == expected[k]);
        ++checked;
      }
    }
  }
  CHECK(checked == 5 * 12);
}

TEST_CASE("DataFrame::sample chooses exactly the rows pandas chooses", "[data][random]") {
  int cases = 0;
  for (const auto& [key, values] : pandas_vectors()) {
    if (key.rfind("sample ", 0) != 0) continue;
    std::istringstream fields(key.substr(7));
    Index rows = 0;
    double frac = 0.0;
    std::string seed;
    Index n = 0;
    fields >> rows >> frac >> seed >> n;
    const std::vector<Index> expected = parse_values<Index>(values);
    REQUIRE(static_cast<Index>(expected.size()) == n);

    std::vector<double> column(static_cast<std::size_t>(rows));
    for (Index i = 0; i < rows; ++i) column[static_cast<std::size_t>(i)] = static_cast<double>(10 * i);
    const DataFrame frame = DataFrame().assign("a", column);
    RandomState state = make_state(seed);
    const DataFrame sampled = seed.front() == '[' ? frame.sample(frac, state) : frame.sample(frac, std::stoll(seed));

    INFO(key);
    CHECK(sampled.rows() == n);
    CHECK(labels_of(sampled) == expected);
    for (Index i = 0; i < sampled.rows(); ++i)
      CHECK(sampled.numbers("a")[static_cast<std::size_t>(i)] ==
            10.0 * static_cast<double>(expected[static_cast<std::size_t>(i)]));
    ++cases;
  }
  CHECK(cases == 17);
}

TEST_CASE("successive samples from one RandomState follow pandas with a shared numpy RandomState", "[data][random]") {
  const std::string& values = vector_line("sequential 20 0.5 0 3");
  std::vector<std::vector<Index>> expected(1);
  for (const std::string& token : parse_values<std::string>(values)) {
    if (token == "|")
      expected.emplace_back();
    else
      expected.back().push_back(std::stoll(token));
  }
  REQUIRE(expected.size() == 3);
  std::vector<double> column(20, 1.0);
  const DataFrame frame = DataFrame().assign("a", column);
  RandomState state(0);
  for (const auto& draw : expected) CHECK(labels_of(frame.sample(0.5, state)) == draw);
}

TEST_CASE("the sample size is round(frac * rows) with halves to even, as pandas computes it", "[data][random]") {
  const DataFrame frame = DataFrame().assign("a", std::vector<double>(10, 0.0));
  CHECK(frame.sample(0.25, 0).rows() == 2);  // 2.5 -> 2
  CHECK(frame.sample(0.35, 0).rows() == 4);  // 0.35 * 10 is exactly 3.5 in binary -> 4
  CHECK(frame.sample(0.45, 0).rows() == 4);  // 4.5 -> 4
  CHECK(frame.sample(0.55, 0).rows() == 6);  // 5.5 -> 6
  CHECK(frame.sample(0.0, 0).rows() == 0);
  CHECK(frame.sample(1.0, 0).rows() == 10);
  CHECK(kerascpp::data::detail::round_half_even(28.499999999999996) == 28.0);
  CHECK(kerascpp::data::detail::round_half_even(-2.5) == -2.0);
}

TEST_CASE("RandomState and sample reject bad seeds and fractions", "[data][random][errors]") {
  REQUIRE_THROWS_WITH(RandomState(-1), Contains("between 0 and 2**32 - 1") && Contains("-1"));
  REQUIRE_THROWS_AS(RandomState(std::int64_t{1} << 32), ValueError);
  REQUIRE_THROWS_WITH(RandomState(std::vector<std::uint32_t>{}), Contains("must not be empty"));
  RandomState state(0);
  REQUIRE_THROWS_WITH(state.choice(3, 4), Contains("cannot take 4 distinct values out of 3"));
  const DataFrame frame = DataFrame().assign("a", std::vector<double>(4, 0.0));
  REQUIRE_THROWS_WITH(frame.sample(1.5, 0), Contains("frac must be between 0 and 1") && Contains("1.5"));
  REQUIRE_THROWS_AS(frame.sample(-0.1, 0), ValueError);
  REQUIRE_THROWS_AS(frame.sample(std::nan(""), 0), ValueError);
  REQUIRE_THROWS_AS(frame.sample(0.5, -3), ValueError);
}

// ---------------------------------------------------------------------------------------------
// read_csv on the three course files

TEST_CASE("read_csv loads red-wine.csv: 1599 rows, 12 numeric columns", "[data][csv]") {
  const DataFrame wine = read_csv(data_path("red-wine.csv"));
  CHECK(wine.rows() == 1599);
  CHECK(wine.cols() == 12);
  CHECK(wine.columns().front() == "fixed acidity");
  CHECK(wine.columns().back() == "quality");
  for (const std::string& name : wine.columns()) CHECK(wine.is_numeric(name));
  const Matrix<double> x = wine.to_matrix<double>();
  CHECK(x(0, 0) == 7.4);
  CHECK(x(0, 2) == 0.0);
  CHECK(x(0, 7) == 0.9978);
  CHECK(x(0, 11) == 5.0);
  CHECK(x(1598, 7) == 0.99549);
  CHECK(x(1598, 11) == 6.0);
  CHECK(min_of(x.col(11)) == 3.0);
  CHECK(max_of(x.col(11)) == 8.0);
  CHECK(labels_of(wine).back() == 1598);
  CHECK(wine.source_line(0) == 2);
  CHECK(wine.source_line(1598) == 1600);
  const Matrix<float> single = wine.to_matrix({"alcohol", "pH"});
  CHECK(single.cols() == 2);
  CHECK(single(0, 0) == 9.4f);
  CHECK(single(0, 1) == 3.51f);
}

TEST_CASE("read_csv with a semicolon separator reads UCI's winequality-red.csv layout", "[data][csv]") {
  const DataFrame uci = read_csv(fixture("winequality-red-head.csv"), {.sep = ';'});
  const DataFrame kaggle = read_csv(data_path("red-wine.csv")).take({0, 1, 2, 3});
  CHECK(uci.columns() == kaggle.columns());
  CHECK(uci.to_matrix<double>() == kaggle.to_matrix<double>());
}

TEST_CASE("read_csv loads ion.csv with index_col 0: 351 rows, V1..V34 and Class", "[data][csv]") {
  const DataFrame ion = read_csv(data_path("ion.csv"), {.index_col = 0});
  CHECK(ion.rows() == 351);
  CHECK(ion.cols() == 35);
  CHECK(ion.columns()[0] == "V1");
  CHECK(ion.columns()[33] == "V34");
  CHECK(ion.columns()[34] == "Class");
  CHECK(ion.index_name().empty());
  const auto& labels = std::get<std::vector<double>>(ion.index());
  CHECK(labels.front() == 1.0);
  CHECK(labels.back() == 351.0);
  CHECK(ion.is_numeric("V1"));  // quoted "1"/"0", read as numbers like pandas does
  CHECK(ion.is_numeric("V2"));
  CHECK(ion.numbers("V1")[0] == 1.0);
  CHECK(ion.numbers("V2")[0] == 0.0);
  CHECK(ion.numbers("V3")[0] == 0.99539);
  CHECK(ion.numbers("V4")[0] == -0.05889);
  CHECK(ion.numbers("V26")[138] == -0.0005);  // written "-5e-04", index label 139
  CHECK(labels[138] == 139.0);
  CHECK_FALSE(ion.is_numeric("Class"));
  const auto& classes = ion.strings("Class");
  CHECK(std::count(classes.begin(), classes.end(), "good") == 225);
  CHECK(std::count(classes.begin(), classes.end(), "bad") == 126);
  const auto& v2 = ion.numbers("V2");
  CHECK(std::all_of(v2.begin(), v2.end(), [](double v) { return v == 0.0; }));

  const DataFrame by_name = read_csv(data_path("ion.csv"), {.index_col = "Unnamed: 0"});
  CHECK(by_name.columns() == ion.columns());
  const DataFrame no_index = read_csv(data_path("ion.csv"));
  CHECK(no_index.cols() == 36);
  CHECK(no_index.columns()[0] == "Unnamed: 0");
}

TEST_CASE("dropna drops the rows with a missing value, fillna fills them, mean leaves them out (pandas)",
          "[data][frame]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const DataFrame frame = DataFrame()
                              .assign("a", std::vector<double>{1.0, nan, 3.0, 4.0})
                              .assign("b", std::vector<double>{nan, nan, 7.0, 8.0})
                              .assign("s", std::vector<std::string>{"x", "y", "", "w"});
  // dropna(): rows 0 and 1 have NaN, row 2 an empty text; labels are kept.
  const DataFrame all = frame.dropna();
  REQUIRE(all.rows() == 1);
  CHECK(std::get<std::vector<double>>(all.index()) == std::vector<double>{3.0});
  CHECK(all.numbers("a") == std::vector<double>{4.0});
  const DataFrame only_a = frame.dropna({"a"});
  CHECK(std::get<std::vector<double>>(only_a.index()) == std::vector<double>{0.0, 2.0, 3.0});
  CHECK(frame.dropna({"s"}).strings("s") == std::vector<std::string>{"x", "y", "w"});
  CHECK(frame.dropna({"a", "b"}).rows() == 2);
  CHECK_THROWS_WITH(frame.dropna({"c"}), Contains("DataFrame.dropna: no column named 'c'"));
  CHECK(frame.rows() == 4);  // the original is left alone

  CHECK(frame.fillna(0.5).numbers("a") == std::vector<double>{1.0, 0.5, 3.0, 4.0});
  CHECK(frame.fillna(0.5).numbers("b") == std::vector<double>{0.5, 0.5, 7.0, 8.0});
  CHECK(frame.fillna(0.5).strings("s") == frame.strings("s"));
  const std::map<std::string, double> means = frame.mean();
  CHECK(means == std::map<std::string, double>{{"a", 8.0 / 3.0}, {"b", 7.5}});
  const DataFrame filled = frame.fillna(means);
  CHECK(filled.numbers("a")[1] == 8.0 / 3.0);
  CHECK(filled.numbers("b") == std::vector<double>{7.5, 7.5, 7.0, 8.0});
  CHECK(frame.fillna({{"b", -1.0}}).numbers("a")[1] != frame.fillna({{"b", -1.0}}).numbers("a")[1]);  // a keeps its NaN
  CHECK_THROWS_AS(frame.fillna({{"s", 0.0}}), ValueError);
  CHECK_THROWS_WITH(frame.fillna({{"s", 0.0}}), Contains("DataFrame.fillna: column 's'"));
  CHECK_THROWS_WITH(frame.fillna({{"z", 0.0}}), Contains("DataFrame.fillna: no column named 'z'"));
  CHECK(std::isnan(DataFrame().assign("e", std::vector<double>{nan, nan}).mean().at("e")));
  CHECK(DataFrame().dropna().rows() == 0);

  // cereal.csv with -1 as missing: Almond Delight and Cream of Wheat (Quick) lack potass, Quaker
  // Oatmeal carbo and sugars, so 74 of 77 rows are whole (pandas: df.dropna() has 74 rows).
  const DataFrame cereal = read_csv(data_path("cereal.csv"), {.na_values = {"", "-1"}});
  CHECK(cereal.dropna().rows() == 74);
  const auto cereal_means = cereal.mean();
  CHECK(cereal_means.size() == 13);
  CHECK(cereal_means.at("potass") == Approx(98.66666666666667).epsilon(1e-15));   // 7400 / 75
  CHECK(cereal_means.at("sugars") == Approx(7.026315789473684).epsilon(1e-15));   // 534 / 76
  const DataFrame cereal_filled = cereal.fillna(cereal_means);
  CHECK(cereal_filled.dropna().rows() == 77);
  CHECK(cereal_filled.numbers("potass")[4] == cereal_means.at("potass"));
}

TEST_CASE("read_csv loads cereal.csv (CRLF): 77 rows, 16 columns, -1 as missing on request", "[data][csv]") {
  const DataFrame cereal = read_csv(data_path("cereal.csv"));
  CHECK(cereal.rows() == 77);
  CHECK(cereal.cols() == 16);
  CHECK(cereal.columns().back() == "rating");  // no '\r' left on the last name
  CHECK(cereal.strings("name")[0] == "100% Bran");
  CHECK_FALSE(cereal.is_numeric("mfr"));
  CHECK(cereal.numbers("rating")[0] == 68.402973);
  CHECK(cereal.numbers("potass")[1] == 135.0);
  CHECK(cereal.numbers("potass")[4] == -1.0);  // Almond Delight: -1 marks a missing value
  CHECK(cereal.source_line(4) == 6);
  const auto& potass = cereal.numbers("potass");
  CHECK(std::count(potass.begin(), potass.end(), -1.0) == 2);

  const DataFrame missing = read_csv(data_path("cereal.csv"), {.na_values = {"", "-1"}});
  const auto nans = [&](const std::string& name) {
    const auto& v = missing.numbers(name);
    return std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
  };
  CHECK(nans("potass") == 2);
  CHECK(nans("carbo") == 1);
  CHECK(nans("sugars") == 1);
  CHECK(nans("calories") == 0);
  CHECK(missing.dropna_columns().cols() == 13);

  CsvOptions options;
  options.index_col = "name";
  const DataFrame named = read_csv(data_path("cereal.csv"), options);
  CHECK(named.index_name() == "name");
  CHECK(std::get<std::vector<std::string>>(named.index())[0] == "100% Bran");
  const DataFrame without = named.drop_index(std::vector<std::string>{"Almond Delight", "100% Bran"});
  CHECK(without.rows() == 75);
  CHECK(std::get<std::vector<std::string>>(without.index())[0] == "100% Natural Bran");
}

// ---------------------------------------------------------------------------------------------
// read_csv format details

TEST_CASE("read_csv handles quotes, escaped quotes, separators and line breaks inside quotes", "[data][csv]") {
  const DataFrame frame = read_csv(fixture("quoting.csv"));
  REQUIRE(frame.rows() == 4);
  CHECK(frame.columns() == std::vector<std::string>{"id", "name", "score", "note"});
  CHECK(frame.strings("name") == std::vector<std::string>{"plain", "with, comma", "multi\nline", "'single'"});
  CHECK(frame.strings("note") == std::vector<std::string>{"ok", "say \"hi\"", "", "  spaced  "});
  const auto& score = frame.numbers("score");
  CHECK(score[0] == 1.5);
  CHECK(score[1] == -0.0005);
  CHECK(score[2] == 2.0);       // written "+2"
  CHECK(std::isnan(score[3]));  // "NA"
  CHECK(frame.source_line(2) == 4);
  CHECK(frame.source_line(3) == 6);  // the record before spans lines 4 and 5
}

TEST_CASE("read_csv skips a UTF-8 BOM and blank lines and reads CRLF", "[data][csv]") {
  const DataFrame frame = read_csv(fixture("bom_crlf.csv"));
  CHECK(frame.columns() == std::vector<std::string>{"a", "b", "label"});
  REQUIRE(frame.rows() == 3);
  CHECK(frame.numbers("a") == std::vector<double>{1.0, 3.0, 5.0});
  CHECK(std::isnan(frame.numbers("b")[1]));
  CHECK(frame.strings("label") == std::vector<std::string>{"x", "y", ""});
  CHECK(frame.source_line(2) == 5);
}

TEST_CASE("a header-only file gives a frame with its columns and 0 rows", "[data][csv]") {
  const DataFrame frame = read_csv(fixture("header_only.csv"));
  CHECK(frame.rows() == 0);
  CHECK(frame.columns() == std::vector<std::string>{"a", "b", "c"});
  CHECK(frame.is_numeric("a"));
  CHECK(frame.to_matrix().rows() == 0);
  CHECK(frame.to_matrix().cols() == 3);
}

TEST_CASE("read_csv errors name the file, the line and the column", "[data][csv][errors]") {
  SECTION("missing file") {
    REQUIRE_THROWS_AS(read_csv(fixture("no_such_file.csv")), IOError);
    REQUIRE_THROWS_WITH(read_csv(fixture("no_such_file.csv")),
                        Contains("cannot open") && Contains("no_such_file.csv") && Contains("No such file"));
  }
  SECTION("a directory") {
    REQUIRE_THROWS_WITH(read_csv(std::string(KERASCPP_TEST_DATA_DIR)), Contains("is a directory"));
  }
  SECTION("empty file") {
    REQUIRE_THROWS_AS(read_csv(fixture("empty.csv")), IOError);
    REQUIRE_THROWS_WITH(read_csv(fixture("empty.csv")), Contains("empty.csv is empty"));
    REQUIRE_THROWS_WITH(read_csv(fixture("blank_lines.csv")), Contains("blank_lines.csv is empty"));
  }
  SECTION("ragged row") {
    REQUIRE_THROWS_AS(read_csv(fixture("ragged.csv")), IOError);
    REQUIRE_THROWS_WITH(read_csv(fixture("ragged.csv")),
                        Contains("ragged.csv, line 4") && Contains("expected 3 fields") && Contains("found 2"));
  }
  SECTION("duplicate column names") {
    REQUIRE_THROWS_AS(read_csv(fixture("duplicate_names.csv")), IOError);
    REQUIRE_THROWS_WITH(read_csv(fixture("duplicate_names.csv")),
                        Contains("line 1") && Contains("duplicate column name 'a'") && Contains("columns 1 and 3"));
  }
  SECTION("unterminated quote") {
    REQUIRE_THROWS_AS(read_csv(fixture("unterminated_quote.csv")), IOError);
    REQUIRE_THROWS_WITH(read_csv(fixture("unterminated_quote.csv")),
                        Contains("unterminated_quote.csv, line 2") && Contains("not closed"));
  }
  SECTION("unknown index_col") {
    REQUIRE_THROWS_AS(read_csv(fixture("header_only.csv"), {.index_col = "d"}), ValueError);
    REQUIRE_THROWS_WITH(read_csv(fixture("header_only.csv"), {.index_col = "d"}),
                        Contains("index_col 'd'") && Contains("'a', 'b', 'c'"));
    REQUIRE_THROWS_WITH(read_csv(fixture("header_only.csv"), {.index_col = 3}),
                        Contains("index_col 3 is out of range") && Contains("3 columns"));
  }
  SECTION("bad separator") { REQUIRE_THROWS_AS(read_csv(fixture("header_only.csv"), {.sep = '"'}), ValueError); }
}

TEST_CASE("An unknown column name of 10000 characters is cut in the message", "[data][errors]") {
  const DataFrame frame = DataFrame().assign("a", std::vector<double>{1.0, 2.0});
  const std::string huge(10000, 'z');
  const std::string message = kerascpp_test::thrown_message<ValueError>([&] { (void)frame.numbers(huge); });
  CHECK(message.size() < 2000);
  CHECK_THAT(message, StartsWith("DataFrame.numbers: no column named '" + std::string(80, 'z') + "...' (10000 bytes)"));
  const std::string index_col = kerascpp_test::thrown_message<ValueError>(
      [&] { (void)read_csv(fixture("header_only.csv"), {.index_col = huge}); });
  CHECK(index_col.size() < 2000);
  CHECK_THAT(index_col,
             StartsWith("read_csv: index_col '" + std::string(80, 'z') + "...' (10000 bytes) is not a column"));
}

TEST_CASE("read_csv names the sep it refuses in a printable form", "[data][csv][errors]") {
  REQUIRE_THROWS_WITH(read_csv(fixture("header_only.csv"), {.sep = '\n'}),
                      Contains("read_csv: sep cannot be a quote, a line break or NUL, received sep='\\n'"));
  REQUIRE_THROWS_WITH(read_csv(fixture("header_only.csv"), {.sep = '\r'}), EndsWith("received sep='\\r'"));
  REQUIRE_THROWS_WITH(read_csv(fixture("header_only.csv"), {.sep = '"'}), EndsWith("received sep='\"'"));
  REQUIRE_THROWS_WITH(read_csv(fixture("header_only.csv"), {.sep = '\0'}), EndsWith("received sep='\\0'"));
}

namespace {

/// Writes `bytes` as they are to `name` in `folder` and returns the path.
std::string write_bytes(const kerascpp_test::ScratchFolder& folder, const std::string& name, const std::string& bytes) {
  const std::string path = (folder.path() / name).string();
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

/// `text` (ASCII) as UTF-16: little- or big-endian, with or without a byte order mark.
std::string utf16(const std::string& text, bool little_endian, bool bom) {
  std::string out;
  if (bom) out += little_endian ? std::string("\xFF\xFE") : std::string("\xFE\xFF");
  for (const char c : text) {
    out += little_endian ? c : '\0';
    out += little_endian ? '\0' : c;
  }
  return out;
}

}  // namespace

TEST_CASE("read_csv reads CR-only and mixed line ends, including a CR-only file with a BOM", "[data][csv]") {
  const kerascpp_test::ScratchFolder folder;
  const DataFrame cr = read_csv(write_bytes(folder, "cr.csv", "a,b\r1,x\r\r2,y\r3,z"));
  REQUIRE(cr.rows() == 3);
  CHECK(cr.numbers("a") == std::vector<double>{1.0, 2.0, 3.0});
  CHECK(cr.strings("b") == std::vector<std::string>{"x", "y", "z"});
  CHECK(cr.source_line(1) == 4);  // the empty line 3 counts
  const DataFrame mixed = read_csv(write_bytes(folder, "mixed.csv", "\xEF\xBB\xBF" "a,b\r\n1,\"p\rq\"\n2,r\r"));
  REQUIRE(mixed.rows() == 2);
  CHECK(mixed.columns() == std::vector<std::string>{"a", "b"});
  CHECK(mixed.strings("b") == std::vector<std::string>{"p\nq", "r"});
  CHECK(mixed.source_line(1) == 4);
}

TEST_CASE("read_csv refuses UTF-16, UTF-32, NUL bytes and bytes that are not UTF-8, naming line and column",
          "[data][csv][errors]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string text = "a,b\n1,2\n";
  SECTION("UTF-16 with a byte order mark, either byte order") {
    const std::string le = write_bytes(folder, "le.csv", utf16(text, true, true));
    REQUIRE_THROWS_AS(read_csv(le), IOError);
    REQUIRE_THROWS_WITH(read_csv(le), Contains("le.csv is encoded as UTF-16 little-endian") && Contains("UTF-8"));
    REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "be.csv", utf16(text, false, true))),
                        Contains("UTF-16 big-endian (byte order mark FE FF)"));
    REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "u32.csv", std::string("\xFF\xFE\0\0", 4) + "a")),
                        Contains("UTF-32 little-endian"));
  }
  SECTION("UTF-16 without a byte order mark is found by its NUL bytes") {
    const std::string le = write_bytes(folder, "nobom.csv", utf16(text, true, false));
    REQUIRE_THROWS_AS(read_csv(le), IOError);
    REQUIRE_THROWS_WITH(read_csv(le), Contains("nobom.csv, line 1, column 2: a NUL byte") && Contains("UTF-16"));
  }
  SECTION("a NUL byte inside a field names its line and column") {
    const std::string path = write_bytes(folder, "nul.csv", std::string("a,b\n1,2\n3,x\0y,\n", 16));
    REQUIRE_THROWS_AS(read_csv(path), IOError);
    REQUIRE_THROWS_WITH(read_csv(path), Contains("nul.csv, line 3, column 4: a NUL byte (0x00)"));
  }
  SECTION("Latin-1 text names the byte") {
    const std::string path = write_bytes(folder, "latin1.csv", "name,n\ncaf\xE9,1\n");
    REQUIRE_THROWS_AS(read_csv(path), IOError);
    REQUIRE_THROWS_WITH(read_csv(path), Contains("latin1.csv, line 2, column 4: byte 0xE9 is not UTF-8") &&
                                            Contains("Latin-1"));
    REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "cut.csv", "name\ncaf\xC3")),
                        Contains("line 2, column 4: byte 0xC3") && Contains("ends inside"));
    REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "lead.csv", "name\n\x80")),
                        Contains("byte 0x80") && Contains("no UTF-8 character starts with it"));
  }
  SECTION("Latin-1 is read into UTF-8 on request; other encodings are refused") {
    const std::string path = write_bytes(folder, "latin1.csv", "name,n\ncaf\xE9,1\n\xFF,2\n");
    const DataFrame frame = read_csv(path, {.encoding = "Latin-1"});
    CHECK(frame.strings("name") == std::vector<std::string>{"caf\xC3\xA9", "\xC3\xBF"});
    REQUIRE_THROWS_AS(read_csv(path, {.encoding = "cp1252"}), ValueError);
    REQUIRE_THROWS_WITH(read_csv(path, {.encoding = "cp1252"}), Contains("encoding must be \"utf-8\" or \"latin-1\""));
  }
  SECTION("UTF-8 text is read as it is") {
    const DataFrame frame = read_csv(write_bytes(folder, "utf8.csv", "name,n\ncaf\xC3\xA9,1\n\xE6\x97\xA5,2\n"));
    CHECK(frame.strings("name") == std::vector<std::string>{"caf\xC3\xA9", "\xE6\x97\xA5"});
  }
}

TEST_CASE("read_csv refuses gzip, zip, bzip2, xz and zstd files, naming the format and how to decompress",
          "[data][csv][errors]") {
  const kerascpp_test::ScratchFolder folder;
  // The first bytes that Python's gzip, zipfile, bz2, lzma and zstd write for "a,b\n1,2\n".
  const std::string gz = write_bytes(folder, "d.csv.gz", std::string("\x1F\x8B\x08\0\0\0\0\0\x02\x03\x4B\xD4", 12));
  REQUIRE_THROWS_AS(read_csv(gz), IOError);
  REQUIRE_THROWS_WITH(read_csv(gz), Contains("d.csv.gz is gzip-compressed (it starts with the gzip signature 1F 8B)") &&
                                        Contains("decompress it first, e.g. gunzip -k ") && !Contains("Latin-1"));
  REQUIRE_THROWS_WITH(read_csv(gz, {.encoding = "latin-1"}), Contains("gzip-compressed"));
  REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "d.zip", std::string("PK\x03\x04\x14\0\0\0", 8))),
                      Contains("d.zip is a zip archive") && Contains("unzip "));
  REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "d.csv.bz2", "BZh91AY&SY\xBF\x87")),
                      Contains("d.csv.bz2 is bzip2-compressed") && Contains("bunzip2 -k "));
  REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "d.csv.xz", std::string("\xFD" "7zXZ\0\0\x04", 8))),
                      Contains("d.csv.xz is xz-compressed") && Contains("unxz -k "));
  REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "d.csv.zst", "\x28\xB5\x2F\xFD\x24\x08")),
                      Contains("d.csv.zst is zstd-compressed") && Contains("unzstd "));
  // Text that merely starts like a signature is read.
  const DataFrame text = read_csv(write_bytes(folder, "bzh.csv", "BZh9,PK\n1,2\n"));
  CHECK(text.columns() == std::vector<std::string>{"BZh9", "PK"});
}

// The expected frames below are what pandas 1.5.3 read_csv gives for the same text and arguments.
TEST_CASE("read_csv skiprows skips rows before the header, a blank line and a quoted record each counting once",
          "[data][csv]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string path = write_bytes(folder, "notes.csv", "# exported 2024\n\nid,score,name\n1,2.5,x\n2,,y\n");
  const DataFrame frame = read_csv(path, {.skiprows = 2});  // pandas: skiprows=2
  CHECK(frame.columns() == std::vector<std::string>{"id", "score", "name"});
  REQUIRE(frame.rows() == 2);
  CHECK(frame.numbers("id") == std::vector<double>{1.0, 2.0});
  CHECK(frame.numbers("score")[0] == 2.5);
  CHECK(std::isnan(frame.numbers("score")[1]));
  CHECK(frame.strings("name") == std::vector<std::string>{"x", "y"});
  CHECK(frame.source_line(0) == 4);
  CHECK(read_csv(path, {.skiprows = 1}).columns() == std::vector<std::string>{"id", "score", "name"});  // then blank
  const DataFrame quoted = read_csv(write_bytes(folder, "quoted.csv", "\"note\nmore\",x\na,b\n1,2\n"), {.skiprows = 1});
  CHECK(quoted.columns() == std::vector<std::string>{"a", "b"});
  CHECK(quoted.numbers("b") == std::vector<double>{2.0});
  CHECK(quoted.source_line(0) == 4);
  REQUIRE_THROWS_AS(read_csv(path, {.skiprows = 9}), IOError);
  REQUIRE_THROWS_WITH(read_csv(path, {.skiprows = 9}),
                      Contains("notes.csv is empty after skipping skiprows=9 rows: expected a header line"));
  REQUIRE_THROWS_AS(read_csv(path, {.skiprows = -1}), ValueError);
  REQUIRE_THROWS_WITH(read_csv(path, {.skiprows = -1}), Contains("skiprows must be 0 or positive, received skiprows=-1"));
}

TEST_CASE("read_csv header = false names the columns 0, 1, ... and reads every row as data", "[data][csv]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string path = write_bytes(folder, "plain.csv", "1,2.5,x\n2,3.5,y\n");
  const DataFrame frame = read_csv(path, {.header = false});  // pandas: header=None
  CHECK(frame.columns() == std::vector<std::string>{"0", "1", "2"});
  REQUIRE(frame.rows() == 2);
  CHECK(frame.numbers("0") == std::vector<double>{1.0, 2.0});
  CHECK(frame.numbers("1") == std::vector<double>{2.5, 3.5});
  CHECK(frame.strings("2") == std::vector<std::string>{"x", "y"});
  CHECK(frame.source_line(0) == 1);
  const DataFrame indexed = read_csv(path, {.index_col = 0, .header = false});  // pandas: header=None, index_col=0
  CHECK(indexed.columns() == std::vector<std::string>{"1", "2"});
  CHECK(indexed.index_name() == "0");
  CHECK(std::get<std::vector<double>>(indexed.index()) == std::vector<double>{1.0, 2.0});
  const DataFrame header_as_data = read_csv(fixture("header_only.csv"), {.header = false});
  CHECK(header_as_data.rows() == 1);
  CHECK(header_as_data.strings("0") == std::vector<std::string>{"a"});
  REQUIRE_THROWS_WITH(read_csv(write_bytes(folder, "ragged.csv", "1,2,3\n4,5\n"), {.header = false}),
                      Contains("ragged.csv, line 2: expected 3 fields as in the first row (line 1), found 2"));
  REQUIRE_THROWS_AS(read_csv(fixture("empty.csv"), {.header = false}), IOError);
  REQUIRE_THROWS_WITH(read_csv(fixture("empty.csv"), {.header = false}),
                      Contains("empty.csv is empty: expected a row of data to count the columns (header = false)"));
}

TEST_CASE("read_csv names names a headerless file's columns, or replaces the header's names with header = true",
          "[data][csv]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string plain = write_bytes(folder, "plain.csv", "1,2.5,x\n2,3.5,y\n");
  const DataFrame named = read_csv(plain, {.names = {"a", "b", "c"}});  // pandas: names=[...] (header=None)
  CHECK(named.columns() == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(named.rows() == 2);
  CHECK(named.numbers("a") == std::vector<double>{1.0, 2.0});
  CHECK(named.strings("c") == std::vector<std::string>{"x", "y"});

  const std::string headed = write_bytes(folder, "headed.csv", "# exported\nid,score,name\n1,2.5,x\n2,,y\n");
  const DataFrame renamed = read_csv(headed, {.header = true, .names = {"p", "q", "r"}, .skiprows = 1});  // header=0
  CHECK(renamed.columns() == std::vector<std::string>{"p", "q", "r"});
  REQUIRE(renamed.rows() == 2);
  CHECK(renamed.numbers("p") == std::vector<double>{1.0, 2.0});
  const DataFrame indexed = read_csv(headed, {.index_col = "p", .header = true, .names = {"p", "q", "r"}, .skiprows = 1});
  CHECK(indexed.columns() == std::vector<std::string>{"q", "r"});
  CHECK(indexed.index_name() == "p");
  // Without header = true, a header line is data, as in pandas: the columns become text.
  const DataFrame kept = read_csv(headed, {.names = {"p", "q", "r"}, .skiprows = 1});
  CHECK(kept.rows() == 3);
  CHECK(kept.strings("p") == std::vector<std::string>{"id", "1", "2"});
  // An empty file with names is a frame of those columns and no rows.
  const DataFrame none = read_csv(fixture("empty.csv"), {.names = {"a", "b"}});
  CHECK(none.columns() == std::vector<std::string>{"a", "b"});
  CHECK(none.rows() == 0);

  REQUIRE_THROWS_AS(read_csv(plain, {.names = {"a", "b"}}), ValueError);
  REQUIRE_THROWS_WITH(read_csv(plain, {.names = {"a", "b"}}),
                      Contains("read_csv: names has 2 names, but ") &&
                          Contains("plain.csv has 3 fields in its first row (line 1)"));
  REQUIRE_THROWS_WITH(read_csv(headed, {.header = true, .names = {"a", "b", "c", "d"}, .skiprows = 1}),
                      Contains("names has 4 names, but ") && Contains("has 3 fields in its header (line 2)"));
  REQUIRE_THROWS_AS(read_csv(plain, {.names = {"a", "b", "a"}}), ValueError);
  REQUIRE_THROWS_WITH(read_csv(plain, {.names = {"a", "b", "a"}}),
                      Contains("names holds 'a' twice (positions 0 and 2)"));
}

TEST_CASE("a stray token makes a text column, and to_matrix names its column, value and line", "[data][csv][errors]") {
  const DataFrame frame = read_csv(fixture("stray_token.csv"));
  CHECK(frame.is_numeric("x"));
  CHECK_FALSE(frame.is_numeric("y"));
  CHECK(frame.strings("y") == std::vector<std::string>{"0.5", "1.5", "oops", ""});
  REQUIRE_THROWS_AS(frame.to_matrix(), ValueError);
  REQUIRE_THROWS_WITH(frame.to_matrix(), Contains("column 'y'") && Contains("'oops'") && Contains("line 4") &&
                                             Contains("stray_token.csv"));
  REQUIRE_THROWS_WITH(frame.to_matrix({"x", "z"}), Contains("column 'z'") && Contains("'a'") && Contains("line 2"));
  REQUIRE_THROWS_WITH(frame.numbers("y"), Contains("column 'y'") && Contains("'oops'"));
  CHECK(sum_of(frame.to_matrix<double>({"x"})) == 10.0);
}

TEST_CASE("na_values replaces the default missing markers", "[data][csv]") {
  const DataFrame defaults = read_csv(fixture("empty_field.csv"));
  CHECK(defaults.numbers("b")[0] == -1.0);
  CHECK(std::isnan(defaults.numbers("b")[1]));
  const DataFrame both = read_csv(fixture("empty_field.csv"), {.na_values = {"", "-1"}});
  CHECK(std::isnan(both.numbers("b")[0]));
  CHECK(std::isnan(both.numbers("b")[1]));
  CHECK(both.numbers("b")[2] == 4.0);
  const DataFrame only = read_csv(fixture("empty_field.csv"), {.na_values = {"-1"}});
  CHECK_FALSE(only.is_numeric("b"));  // the empty field is no longer missing, and is not a number
  CHECK(only.strings("b") == std::vector<std::string>{"-1", "", "4"});
  REQUIRE_THROWS_WITH(only.to_matrix(), Contains("column 'b'") && Contains("empty fields") && Contains("line 3") &&
                                            Contains("na_values"));
}

// ---------------------------------------------------------------------------------------------
// DataFrame operations

TEST_CASE("unknown column names are errors listing the available columns", "[data][frame][errors]") {
  const DataFrame frame = read_csv(fixture("bom_crlf.csv"));
#define KERASCPP_LISTS_COLUMNS \
  Contains("no column named 'nope' in ") && Contains("bom_crlf.csv") && Contains("'a', 'b', 'label'")
  REQUIRE_THROWS_AS(frame.select({"nope"}), ValueError);
  REQUIRE_THROWS_WITH(frame.select({"a", "nope"}), KERASCPP_LISTS_COLUMNS);
  REQUIRE_THROWS_WITH(frame.drop({"nope"}), KERASCPP_LISTS_COLUMNS);
  REQUIRE_THROWS_WITH(frame.to_matrix({"nope"}), KERASCPP_LISTS_COLUMNS);
  REQUIRE_THROWS_WITH(frame.map("nope", {}), KERASCPP_LISTS_COLUMNS);
  REQUIRE_THROWS_WITH(frame.numbers("nope"), KERASCPP_LISTS_COLUMNS);
  REQUIRE_THROWS_WITH(frame.is_numeric("nope"), KERASCPP_LISTS_COLUMNS);
#undef KERASCPP_LISTS_COLUMNS
  REQUIRE_THROWS_WITH(frame.select({"a", "a"}), Contains("named twice"));
}

TEST_CASE("a semicolon- or tab-separated file read with the default sep gets errors that name the sep to pass",
          "[data][frame][errors]") {
  const kerascpp_test::ScratchFolder folder;
  const DataFrame semicolons = read_csv(write_bytes(folder, "semi.csv", "a;b;quality\n1;2;5\n3;4;6\n"));
  REQUIRE(semicolons.columns() == std::vector<std::string>{"a;b;quality"});
  REQUIRE_THROWS_WITH(semicolons.select({"quality"}),
                      StartsWith("DataFrame.select: no column named 'quality' in ") &&
                          Contains("semi.csv; the columns are 'a;b;quality'; the only column's name holds ';': the "
                                   "file's fields are probably separated by ';', which read_csv takes as its sep option "
                                   "(CsvOptions{.sep = ';'}, pandas sep=';')"));
  REQUIRE_THROWS_WITH(semicolons.to_matrix(), Contains("its first non-numeric value is '1;2;5'") &&
                                                  EndsWith("(CsvOptions{.sep = ';'}, pandas sep=';')"));
  const DataFrame tabs = read_csv(write_bytes(folder, "tabs.csv", "a\tb\n1\t2\n"));
  REQUIRE_THROWS_WITH(tabs.numbers("a"), EndsWith("the only column's name holds '\\t': the file's fields are probably "
                                                  "separated by '\\t', which read_csv takes as its sep option "
                                                  "(CsvOptions{.sep = '\\t'}, pandas sep='\\t')"));
  // The file read with its separator, or a frame of one column whose name holds ';' but that was
  // not read from a file: no hint.
  const DataFrame right = read_csv(write_bytes(folder, "semi.csv", "a;b;quality\n1;2;5\n"), {.sep = ';'});
  CHECK(right.numbers("quality") == std::vector<double>{5.0});
  CHECK_THROWS_WITH(right.select({"q"}), !Contains("sep option"));
  CHECK_THROWS_WITH(DataFrame().assign("x;y", {1.0}).select({"x"}),
                    "DataFrame.select: no column named 'x'; the columns are 'x;y'");
}

TEST_CASE("select and drop choose columns, has_column and to_matrix follow", "[data][frame]") {
  const DataFrame frame = read_csv(fixture("bom_crlf.csv"));
  CHECK(frame.has_column("label"));
  CHECK_FALSE(frame.has_column("c"));
  const DataFrame ba = frame.select({"b", "a"});
  CHECK(ba.columns() == std::vector<std::string>{"b", "a"});
  CHECK(ba.rows() == 3);
  CHECK(ba.to_matrix<double>()(2, 0) == 6.0);
  CHECK(ba.to_matrix<double>()(2, 1) == 5.0);
  const DataFrame a = frame.drop({"label", "b"});
  CHECK(a.columns() == std::vector<std::string>{"a"});
  CHECK(a.source_line(2) == 5);
  CHECK(frame.cols() == 3);  // the original is unchanged
}

TEST_CASE("map turns a text column into numbers and names an unmapped value with its row", "[data][frame]") {
  const DataFrame ion = read_csv(data_path("ion.csv"), {.index_col = 0});
  const DataFrame mapped = ion.map("Class", {{"good", 0.0}, {"bad", 1.0}});
  CHECK(mapped.is_numeric("Class"));
  const auto& y = mapped.numbers("Class");
  CHECK(std::count(y.begin(), y.end(), 1.0) == 126);
  CHECK(y[0] == 0.0);
  CHECK(y[1] == 1.0);
  CHECK_FALSE(ion.is_numeric("Class"));

  REQUIRE_THROWS_AS(ion.map("Class", {{"good", 0.0}}), ValueError);
  REQUIRE_THROWS_WITH(ion.map("Class", {{"good", 0.0}}), Contains("'bad'") && Contains("line 3 of") &&
                                                             Contains("ion.csv") && Contains("index label 2") &&
                                                             Contains("names 'good'"));
  REQUIRE_THROWS_WITH(mapped.map("Class", {{"good", 0.0}}), Contains("already holds numbers"));

  const DataFrame with_missing = read_csv(fixture("bom_crlf.csv")).map("label", {{"x", 1.0}, {"y", 2.0}});
  CHECK(with_missing.numbers("label")[1] == 2.0);
  CHECK(std::isnan(with_missing.numbers("label")[2]));
}

TEST_CASE("take keeps labels, drop_rows and drop_index give the complement", "[data][frame]") {
  const DataFrame frame = DataFrame().assign("a", std::vector<double>{10, 11, 12, 13, 14});
  const DataFrame picked = frame.take({3, 1});
  CHECK(labels_of(picked) == std::vector<Index>{3, 1});
  CHECK(picked.numbers("a") == std::vector<double>{13, 11});
  const DataFrame rest = frame.drop_rows(picked);
  CHECK(labels_of(rest) == std::vector<Index>{0, 2, 4});
  CHECK(labels_of(frame.drop_index({0, 4})) == std::vector<Index>{1, 2, 3});
  CHECK(labels_of(rest.drop_rows(rest.take({1}))) == std::vector<Index>{0, 4});

  REQUIRE_THROWS_WITH(frame.take({5}), Contains("row position 5 is out of range") && Contains("5 rows"));
  REQUIRE_THROWS_WITH(rest.drop_rows(picked), Contains("label 3 is not in the index"));
  REQUIRE_THROWS_WITH(frame.drop_index(std::vector<std::string>{"x"}), Contains("the index holds numbers"));
}

TEST_CASE("the course's split: df.sample(frac=0.7, random_state=0) and df.drop(df_train.index)", "[data][frame]") {
  const DataFrame df = read_csv(data_path("red-wine.csv"));
  const DataFrame df_train = df.sample(0.7, 0);
  const DataFrame df_valid = df.drop_rows(df_train);
  CHECK(df_train.rows() == 1119);
  CHECK(df_valid.rows() == 480);
  std::vector<Index> all = labels_of(df_train);
  const std::vector<Index> valid = labels_of(df_valid);
  all.insert(all.end(), valid.begin(), valid.end());
  std::sort(all.begin(), all.end());
  for (Index i = 0; i < 1599; ++i) REQUIRE(all[static_cast<std::size_t>(i)] == i);
  CHECK(std::is_sorted(valid.begin(), valid.end()));  // pandas keeps the original order
  CHECK(df_train.source_line(0) == labels_of(df_train)[0] + 2);
}

TEST_CASE("dropna_columns drops columns holding a missing value", "[data][frame]") {
  const DataFrame frame = read_csv(fixture("bom_crlf.csv"));
  CHECK(frame.dropna_columns().columns() == std::vector<std::string>{"a"});
  CHECK(frame.take({0}).dropna_columns().columns() == frame.columns());
}

TEST_CASE("assign adds or replaces a column of the right length", "[data][frame]") {
  const DataFrame frame = DataFrame().assign("a", std::vector<double>{1, 2, 3}).assign("s", {"x", "y", "z"});
  CHECK(frame.rows() == 3);
  CHECK(frame.columns() == std::vector<std::string>{"a", "s"});
  CHECK(labels_of(frame) == std::vector<Index>{0, 1, 2});
  CHECK(frame.source_line(1) == 0);
  const DataFrame replaced = frame.assign("a", std::vector<double>{4, 5, 6});
  CHECK(replaced.columns() == frame.columns());
  CHECK(replaced.numbers("a")[0] == 4.0);
  REQUIRE_THROWS_WITH(frame.assign("b", std::vector<double>{1, 2}), Contains("'b' has 2 values, the frame has 3 rows"));
  REQUIRE_THROWS_WITH(frame.strings("a"), Contains("holds numbers"));
  REQUIRE_THROWS_WITH(frame.to_matrix(), Contains("column 's'") && Contains("'x'") && Contains("at row 0"));
}

TEST_CASE("assign takes a braced list of strings as a text column and one of numbers as a numeric column",
          "[data][frame]") {
  const DataFrame two = DataFrame().assign("c", {"x", "y"});  // two literals could also be an iterator pair
  CHECK(two.strings("c") == std::vector<std::string>{"x", "y"});
  const DataFrame lengths = DataFrame().assign("c", {"a", "bb", "ccc"});
  CHECK(lengths.strings("c") == std::vector<std::string>{"a", "bb", "ccc"});
  CHECK(DataFrame().assign("s", {std::string("p"), std::string("q")}).strings("s") == std::vector<std::string>{"p", "q"});
  const DataFrame numbers = DataFrame().assign("n", {1, 2}).assign("z", {0, 0}).assign("m", {1.5, 2});
  CHECK(numbers.numbers("n") == std::vector<double>{1.0, 2.0});
  CHECK(numbers.numbers("z") == std::vector<double>{0.0, 0.0});  // 0 is also a null pointer, yet numbers
  CHECK(numbers.numbers("m") == std::vector<double>{1.5, 2.0});
  CHECK(numbers.assign("n", {7.0f, 8.0f}).numbers("n") == std::vector<double>{7.0, 8.0});
  REQUIRE_THROWS_WITH(numbers.assign("c", {"x"}), Contains("'c' has 1 values, the frame has 2 rows"));
}

// ---------------------------------------------------------------------------------------------
// Scalers

TEST_CASE("MinMaxScaler gives (x - min) / (max - min) per column, fitted on one matrix and applied to another",
          "[data][scalers]") {
  Matrix<double> train(3, 2);
  train << 1, 10,  //
      2, 30,       //
      5, 20;
  MinMaxScaler<double> scaler;
  const Matrix<double> scaled = scaler.fit_transform(train);
  Matrix<double> expected(3, 2);
  expected << 0.0, 0.0,  //
      0.25, 1.0,         //
      1.0, 0.5;
  CHECK(scaled == expected);
  CHECK(scaler.data_min() == (kerascpp::RowVector<double>(2) << 1, 10).finished());
  CHECK(scaler.data_max() == (kerascpp::RowVector<double>(2) << 5, 30).finished());
  CHECK(scaler.n_features_in() == 2);

  Matrix<double> valid(2, 2);
  valid << 3, 40,  //
      -1, std::nan("");
  const Matrix<double> scaled_valid = scaler.transform(valid);
  CHECK(scaled_valid(0, 0) == 0.5);
  CHECK(scaled_valid(0, 1) == 1.5);
  CHECK(scaled_valid(1, 0) == -0.5);
  CHECK(std::isnan(scaled_valid(1, 1)));

  Matrix<float> with_nan(3, 1);
  with_nan << 2.0f, std::nanf(""), 4.0f;
  MinMaxScaler<float> float_scaler;
  const Matrix<float> out = float_scaler.fit_transform(with_nan);
  CHECK(out(0, 0) == 0.0f);
  CHECK(std::isnan(out(1, 0)));
  CHECK(out(2, 0) == 1.0f);
}

TEST_CASE("StandardScaler gives (x - mean) / std with ddof = 0", "[data][scalers]") {
  Matrix<double> x(4, 2);
  x << 1, 0,  //
      2, 0,   //
      3, 4,   //
      4, 4;
  StandardScaler<double> scaler;
  const Matrix<double> z = scaler.fit_transform(x);
  CHECK(scaler.mean()(0) == 2.5);
  CHECK(scaler.mean()(1) == 2.0);
  CHECK(scaler.scale()(0) == Approx(std::sqrt(1.25)));
  CHECK(scaler.scale()(1) == 2.0);
  CHECK(z(0, 1) == -1.0);
  CHECK(z(3, 1) == 1.0);
  CHECK(sum_of(z.col(0)) == Approx(0.0).margin(1e-12));
  CHECK(sum_of(z.col(0).cwiseProduct(z.col(0))) / 4.0 == Approx(1.0));
}

TEST_CASE("scalers keep constant columns with divisor 1 and refuse width mismatches, unfitted use and wrong frame columns",
          "[data][scalers][errors]") {
  SECTION("a constant column is kept, as scikit-learn keeps it") {
    const DataFrame frame = read_csv(fixture("constant.csv"));
    MinMaxScaler<double> minmax;
    const DataFrame scaled = minmax.fit_transform(frame);
    CHECK(minmax.fitted());
    CHECK(minmax.data_range()(1) == 0.0);
    CHECK(minmax.scale()(1) == 1.0);  // scikit-learn: scale_ = 1 / _handle_zeros_in_scale(0) = 1
    for (const double v : scaled.numbers("g")) CHECK(v == 0.0);
    CHECK(minmax.inverse_transform(scaled).numbers("g") == frame.numbers("g"));
    StandardScaler<double> standard;
    const Matrix<double> z = standard.fit_transform(frame.to_matrix<double>());
    CHECK(standard.scale()(1) == 1.0);
    CHECK(standard.var()(1) == 0.0);
    for (Index i = 0; i < z.rows(); ++i) CHECK(z(i, 1) == 0.0);
    Matrix<double> tenths(3, 1);  // their computed variance is a rounding residue, still taken as constant
    tenths << 0.1, 0.1, 0.1;
    StandardScaler<double> residue;
    residue.fit(tenths);
    CHECK(residue.scale()(0) == 1.0);
  }
  SECTION("an all-missing or infinite column") {
    Matrix<double> x(2, 1);
    x << std::nan(""), std::nan("");
    REQUIRE_THROWS_WITH(MinMaxScaler<double>().fit(x), Contains("column 0 has no values"));
    x << 1.0, std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_WITH(MinMaxScaler<double>().fit(x), Contains("column 0 holds inf at row 1"));
  }
  SECTION("width mismatch") {
    MinMaxScaler<float> scaler;
    scaler.fit(Matrix<float>::Random(5, 3));
    REQUIRE_THROWS_AS(scaler.transform(Matrix<float>::Zero(2, 4)), ValueError);
    REQUIRE_THROWS_WITH(scaler.transform(Matrix<float>::Zero(2, 4)),
                        Contains("expected 3 columns") && Contains("received 4"));
  }
  SECTION("use before fit") {
    REQUIRE_THROWS_AS(MinMaxScaler<float>().transform(Matrix<float>::Zero(2, 2)), StateError);
    REQUIRE_THROWS_WITH(StandardScaler<double>().transform(Matrix<double>::Zero(2, 2)), Contains("not fitted"));
  }
  SECTION("frame columns must be the fitted ones") {
    const DataFrame frame =
        read_csv(fixture("bom_crlf.csv")).drop({"label"}).dropna_columns().assign("c", std::vector<double>{1, 2, 3});
    MinMaxScaler<double> scaler;
    scaler.fit(frame);
    CHECK(scaler.feature_names_in() == std::vector<std::string>{"a", "c"});
    REQUIRE_THROWS_WITH(scaler.transform(frame.select({"c", "a"})),
                        Contains("expected the columns given to fit (a, c)") && Contains("received (c, a)"));
    REQUIRE_THROWS_WITH(scaler.fit(read_csv(fixture("bom_crlf.csv"))), Contains("column 'label'"));
  }
  SECTION("a text column is named with the scaler's method") {
    const DataFrame text = read_csv(fixture("bom_crlf.csv")).drop({"b"});
    REQUIRE_THROWS_AS(MinMaxScaler<double>().fit(text), ValueError);
    REQUIRE_THROWS_WITH(MinMaxScaler<double>().fit(text),
                        StartsWith("MinMaxScaler.fit: column 'label' holds text, not numbers: its first non-numeric "
                                   "value is 'x' at line 2 of "));
    REQUIRE_THROWS_WITH(StandardScaler<float>().fit_transform(text), StartsWith("StandardScaler.fit: column 'label'"));
    const DataFrame numeric = DataFrame().assign("a", {1, 2}).assign("b", {3, 4});
    const DataFrame mixed = numeric.assign("b", {"p", "q"});
    StandardScaler<double> standard;
    standard.fit(numeric);
    REQUIRE_THROWS_WITH(standard.transform(mixed), StartsWith("StandardScaler.transform: column 'b' holds text"));
    REQUIRE_THROWS_WITH(standard.inverse_transform(mixed),
                        StartsWith("StandardScaler.inverse_transform: column 'b' holds text"));
    MinMaxScaler<float> minmax;
    minmax.fit(numeric);
    REQUIRE_THROWS_WITH(minmax.transform(mixed), StartsWith("MinMaxScaler.transform: column 'b' holds text"));
  }
}

// ---------------------------------------------------------------------------------------------
// The Kaggle course's preprocessing, end to end, against pandas

TEST_CASE("course: red wine split 70/30, min-max scaled, X and y, as pandas computes it", "[data][course]") {
  // pandas: red_wine = pd.read_csv(...); df_train = red_wine.sample(frac=0.7, random_state=0)
  //         df_valid = red_wine.drop(df_train.index); df_train = (df_train - min_) / (max_ - min_) ...
  const DataFrame red_wine = read_csv(data_path("red-wine.csv"));
  DataFrame df_train = red_wine.sample(0.7, 0);
  DataFrame df_valid = red_wine.drop_rows(df_train);
  MinMaxScaler<double> scaler;
  df_train = scaler.fit_transform(df_train);
  df_valid = scaler.transform(df_valid);
  const Matrix<double> X_train = df_train.drop({"quality"}).to_matrix<double>();
  const Matrix<double> X_valid = df_valid.drop({"quality"}).to_matrix<double>();
  const Matrix<double> y_train = df_train.to_matrix<double>({"quality"});

  const std::vector<Index> shape = parse_values<Index>(vector_line("course wine shape"));
  CHECK(X_train.rows() == shape[0]);
  CHECK(X_train.cols() == shape[1]);
  CHECK(X_valid.rows() == shape[2]);
  CHECK(X_train.rows() == 1119);
  CHECK(X_valid.rows() == 480);
  CHECK(y_train.cols() == 1);
  CHECK(min_of(X_train) == 0.0);
  CHECK(max_of(X_train) == 1.0);

  const std::vector<Index> valid_head = parse_values<Index>(vector_line("course wine valid_head"));
  const std::vector<Index> valid_labels = labels_of(df_valid);
  CHECK(std::vector<Index>(valid_labels.begin(), valid_labels.begin() + 10) == valid_head);

  const std::vector<double> min = parse_doubles(vector_line("course wine min"));
  const std::vector<double> max = parse_doubles(vector_line("course wine max"));
  const std::vector<double> row0 = parse_doubles(vector_line("course wine x_train_row0"));
  const std::vector<double> valid_row0 = parse_doubles(vector_line("course wine x_valid_row0"));
  for (Index j = 0; j < 12; ++j) {
    CHECK(scaler.data_min()(j) == min[static_cast<std::size_t>(j)]);
    CHECK(scaler.data_max()(j) == max[static_cast<std::size_t>(j)]);
  }
  for (Index j = 0; j < 11; ++j) {  // the same double operations as pandas: equal to the last bit
    CHECK(X_train(0, j) == row0[static_cast<std::size_t>(j)]);
    CHECK(X_valid(0, j) == valid_row0[static_cast<std::size_t>(j)]);
  }
  const std::vector<double> sums = parse_doubles(vector_line("course wine sums"));
  CHECK(sum_of(X_train) == Approx(sums[0]).epsilon(1e-12));
  CHECK(sum_of(X_valid) == Approx(sums[1]).epsilon(1e-12));
  CHECK(sum_of(y_train) == Approx(sums[2]).epsilon(1e-12));

  const Matrix<float> X_train_float = df_train.drop({"quality"}).to_matrix();
  CHECK(max_of((X_train_float.cast<double>() - X_train).cwiseAbs()) < 1e-7);
}

TEST_CASE("course: ionosphere with index_col, Class mapped to 0/1, split, V2 dropped, scaled", "[data][course]") {
  // pandas: ion = pd.read_csv(..., index_col=0); df['Class'] = df['Class'].map({'good': 0, 'bad': 1})
  //         split as for wine; min-max scale; dropna(axis=1) removes V2 (constant, 0/0 = NaN).
  // Here the scaler keeps the constant column (scaled to 0, as scikit-learn does), so V2 is dropped
  // explicitly, one line, to get pandas' columns.
  DataFrame df = read_csv(data_path("ion.csv"), {.index_col = 0});
  df = df.map("Class", {{"good", 0.0}, {"bad", 1.0}});
  df = df.drop({"V2"});
  DataFrame df_train = df.sample(0.7, 0);
  DataFrame df_valid = df.drop_rows(df_train);
  MinMaxScaler<double> scaler;
  df_train = scaler.fit_transform(df_train);
  df_valid = scaler.transform(df_valid);
  const Matrix<double> X_train = df_train.drop({"Class"}).to_matrix<double>();
  const Matrix<double> X_valid = df_valid.drop({"Class"}).to_matrix<double>();
  const Matrix<double> y_train = df_train.to_matrix<double>({"Class"});

  const std::vector<Index> shape = parse_values<Index>(vector_line("course ion shape"));
  CHECK(X_train.rows() == shape[0]);
  CHECK(X_train.cols() == shape[1]);
  CHECK(X_valid.rows() == shape[2]);
  CHECK(df_train.drop({"Class"}).columns() == parse_values<std::string>(vector_line("course ion columns")));
  const std::vector<Index> train_head = parse_values<Index>(vector_line("course ion train_head"));
  const std::vector<Index> train_labels = labels_of(df_train);
  CHECK(std::vector<Index>(train_labels.begin(), train_labels.begin() + 10) == train_head);
  const std::vector<double> sums = parse_doubles(vector_line("course ion sums"));
  CHECK(sum_of(X_train) == Approx(sums[0]).epsilon(1e-12));
  CHECK(sum_of(X_valid) == Approx(sums[1]).epsilon(1e-12));
  CHECK(sum_of(y_train) == sums[2]);

  MinMaxScaler<double> kept;
  const DataFrame with_v2 = kept.fit_transform(read_csv(data_path("ion.csv"), {.index_col = 0}).drop({"Class"}));
  for (const double v : with_v2.numbers("V2")) CHECK(v == 0.0);
}

// Found by fuzzing read_csv (fuzz/): missing index labels are NaN, and NaN must match NaN when
// rows are dropped by label, as in pandas; a plain std::set<double> has no order with NaN in it.
TEST_CASE("drop_rows and drop_index match missing labels with missing labels (fuzz regression)",
          "[data][frame][fuzz]") {
  const std::filesystem::path folder = std::filesystem::path(KERASCPP_TEST_DATA_DIR) / "fuzz_regressions" / "read_csv";
  kerascpp::data::CsvOptions options;
  options.sep = ';';
  options.index_col = kerascpp::Index{0};
  options.na_values = {"", "-1"};
  options.encoding = "latin-1";  // the fuzzed files hold bytes that are not UTF-8
  const auto frame = kerascpp::data::read_csv(folder / "drop_rows-nan-label-readable.csv", options);
  REQUIRE(frame.rows() == 6);  // labels 1, NaN, 2, NaN, 3, NaN

  const auto without_one = frame.drop_index(std::vector<double>{1.0});
  CHECK(without_one.rows() == 5);
  CHECK(without_one.numbers("v") == std::vector<double>{11, 12, 13, 14, 15});

  const auto some = frame.take({1, 2, 3});  // labels NaN, 2, NaN
  const auto rest = frame.drop_rows(some);  // every NaN label goes, as pandas drops every match
  CHECK(rest.numbers("v") == std::vector<double>{10, 14});

  for (const char* name : {"drop_rows-nan-label-fuzzed.csv", "drop_rows-nan-label-fuzzed-2.csv"}) {
    INFO(name);
    const auto f = kerascpp::data::read_csv(folder / name, options);
    const auto sample = f.sample(0.5, 0);
    const auto complement = f.drop_rows(sample);
    // Every row of f is either in the complement or has a label present in the sample.
    const auto& labels = std::get<std::vector<double>>(f.index());
    const auto& sampled = std::get<std::vector<double>>(sample.index());
    kerascpp::Index expected = 0;
    for (double label : labels) {
      const bool in_sample = std::any_of(sampled.begin(), sampled.end(), [&](double s) {
        return (std::isnan(s) && std::isnan(label)) || s == label;
      });
      if (!in_sample) ++expected;
    }
    CHECK(complement.rows() == expected);
  }
}

TEST_CASE("read_csv refuses a device and a path with a NUL byte", "[data][csv][errors]") {
  if (std::filesystem::exists("/dev/zero")) {
    REQUIRE_THROWS_AS(read_csv("/dev/zero"), IOError);
    REQUIRE_THROWS_WITH(read_csv("/dev/zero"), Contains("read_csv: cannot read /dev/zero: it is a character device") &&
                                                   Contains("expected a regular file"));
  } else {
    WARN("this system has no /dev/zero: its check is skipped");
  }
  const kerascpp_test::ScratchFolder folder;
  const std::string cut = write_bytes(folder, "ion.csv", "a,b\n1,2\n");
  const std::string with_nul = cut + std::string("\0.bak", 5);
  REQUIRE_THROWS_AS(read_csv(with_nul), ValueError);
  REQUIRE_THROWS_WITH(read_csv(with_nul), StartsWith("read_csv: the path contains a NUL byte at position " +
                                                     std::to_string(cut.size())) &&
                                              Contains("ion.csv\\0.bak'"));
}

TEST_CASE("read_csv reads numbers beyond double's range as pandas does: 0 when too small, inf when too large",
          "[data][csv]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string path = write_bytes(folder, "range.csv", "x,y\n1e-400,1e400\n-1e-400,-1e400\n2.5,1e308\n");
  const DataFrame frame = read_csv(path);
  REQUIRE(frame.is_numeric("x"));
  REQUIRE(frame.is_numeric("y"));
  const std::vector<double> x = frame.numbers("x"), y = frame.numbers("y");
  CHECK(x[0] == 0.0);
  CHECK_FALSE(std::signbit(x[0]));
  CHECK(x[1] == 0.0);
  CHECK(std::signbit(x[1]));
  CHECK(x[2] == 2.5);
  CHECK(y[0] == std::numeric_limits<double>::infinity());
  CHECK(y[1] == -std::numeric_limits<double>::infinity());
  CHECK(y[2] == 1e308);
}

TEST_CASE("to_matrix<float> refuses a finite value beyond float's range, naming its column, value and line",
          "[data][frame][errors]") {
  const kerascpp_test::ScratchFolder folder;
  const std::string path = write_bytes(folder, "big.csv", "a,b\n1,2\n3,1e39\n");
  const DataFrame frame = read_csv(path);
  REQUIRE_THROWS_AS(frame.to_matrix<float>(), ValueError);
  REQUIRE_THROWS_WITH(frame.to_matrix<float>(), StartsWith("DataFrame.to_matrix: column 'b' holds 1e+39 at line 3 of ") &&
                                                    Contains("big.csv") && Contains("to_matrix<double>()"));
  REQUIRE_THROWS_WITH(frame.to_matrix<float>({"b"}), Contains("column 'b'"));
  CHECK(frame.to_matrix<float>({"a"})(1, 0) == 3.0f);
  CHECK(frame.to_matrix<double>()(1, 1) == 1e39);
  const DataFrame built = DataFrame().assign("c", std::vector<double>{-1.5e308, 0.0});
  REQUIRE_THROWS_WITH(built.to_matrix(), Contains("column 'c' holds -1.5e+308 at row 0"));
  const double inf = std::numeric_limits<double>::infinity();
  const DataFrame infinite = DataFrame().assign("d", std::vector<double>{inf, std::nan("")});
  const Matrix<float> kept = infinite.to_matrix();
  CHECK(std::isinf(kept(0, 0)));
  CHECK(std::isnan(kept(1, 0)));
}

// ---------------------------------------------------------------------------------------------
// Looking at a frame: head, tail, shape, to_string / operator<<, describe

namespace {

/// `rows` joined with '\n' (no newline at the end), so that an expected text reads one line per row.
std::string lines(const std::vector<std::string>& rows) {
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) out += (i > 0 ? "\n" : "") + rows[i];
  return out;
}

}  // namespace

TEST_CASE("a frame prints as pandas' print(df): names over right-aligned columns, common decimals, NaN",
          "[data][frame][display]") {
  const DataFrame frame = DataFrame()
                              .assign("a", {1.0, 2.5, -3.0})
                              .assign("name", {"x", "", "long text"})
                              .assign("b", std::vector<double>{0.7, std::nan(""), 0.076});
  const std::string expected = lines({"     a       name      b",
                                      "0  1.0          x  0.700",
                                      "1  2.5        NaN    NaN",
                                      "2 -3.0  long text  0.076"});
  CHECK(frame.to_string() == expected);
  std::ostringstream out;
  out << frame;
  CHECK(out.str() == expected);
  // every value a whole number: one decimal, as pandas prints a float64 column
  CHECK(DataFrame().assign("n", {5, 10}).to_string() == lines({"      n", "0   5.0", "1  10.0"}));
}

TEST_CASE("value_counts prints its counts as pandas prints an int64 column, without decimals", "[data][frame][display]") {
  // pandas: df["cls"].value_counts().to_frame() holds int64 counts, printed as 3, not 3.0.
  const DataFrame counts = DataFrame().assign("cls", {"b", "a", "b", "c", "b"}).value_counts("cls");
  CHECK(counts.to_string() == lines({"     count", "cls       ", "b        3", "a        1", "c        1"}));
  // The counts stay int64 through head, tail and select ...
  CHECK(counts.head(1).to_string() == lines({"     count", "cls       ", "b        3"}));
  CHECK(counts.select({"count"}).tail(1).to_string() == lines({"     count", "cls       ", "c        1"}));
  // ... while doubles assigned in their place are a float64 column again, whole or not.
  CHECK(counts.assign("count", {3.0, 1.0, 1.0}).to_string() ==
        lines({"     count", "cls       ", "b      3.0", "a      1.0", "c      1.0"}));
  CHECK(counts.numbers("count") == std::vector<double>{3.0, 1.0, 1.0});
}

TEST_CASE("printing: a named index gets a line of its own, numeric labels print as pandas' index does",
          "[data][frame][display]") {
  const DataFrame text = DataFrame().assign("cls", {"b", "a", "b", ""});
  CHECK(text.value_counts("cls").to_string() == lines({"     count", "cls       ", "b        2", "a        1"}));
  // float labels keep the space of a sign when one label is negative; whole labels print as integers
  CHECK(DataFrame().assign("v", {2.5, -1.0, 2.5}).value_counts("v").to_string() ==
        lines({"      count", "v          ", " 2.5      2", "-1.0      1"}));
  CHECK(DataFrame().assign("v", {3, -1, 3}).value_counts("v").to_string() ==
        lines({"    count", "v        ", " 3      2", "-1      1"}));
  // a sample keeps its labels (pandas' df.sample(frac=0.7, random_state=0).head(3))
  const DataFrame wine = read_csv(data_path("red-wine.csv"));
  CHECK(wine.sample(0.7, 0).head(3).select({"alcohol"}).to_string() ==
        lines({"      alcohol", "1109     10.8", "1032      9.6", "1002     11.7"}));
}

TEST_CASE("printing: large and tiny numbers in scientific notation, long text cut, tabs escaped",
          "[data][frame][display]") {
  const DataFrame numbers = DataFrame().assign("big", {1e7, 1.5e7}).assign("huge", {1e9, 1.0}).assign("tiny", {1e-7, 1.0});
  CHECK(numbers.to_string() == lines({"          big          huge          tiny",
                                      "0  10000000.0  1.000000e+09  1.000000e-07",
                                      "1  15000000.0  1.000000e+00  1.000000e+00"}));
  const DataFrame text = DataFrame().assign("t", std::vector<std::string>{std::string(60, 'x'), "a\tb"});
  CHECK(text.to_string() == lines({std::string(51, ' ') + "t",
                                   "0  " + std::string(46, 'x') + "...",
                                   "1 " + std::string(45, ' ') + " a\\tb"}));
}

TEST_CASE("printing: more than 60 rows show the first and last 5 and the shape", "[data][frame][display]") {
  std::vector<double> halves;
  for (int i = 0; i < 61; ++i) halves.push_back(0.5 * i);
  const DataFrame long_frame = DataFrame().assign("x", halves);
  CHECK(long_frame.to_string() == lines({"       x", "0    0.0", "1    0.5", "2    1.0", "3    1.5", "4    2.0",
                                         "..   ...", "56  28.0", "57  28.5", "58  29.0", "59  29.5", "60  30.0", "",
                                         "[61 rows x 1 columns]"}));
  const std::string sixty = long_frame.head(60).to_string();
  CHECK(std::count(sixty.begin(), sixty.end(), '\n') == 60);
  CHECK(sixty.find("...") == std::string::npos);
  const DataFrame wine = read_csv(data_path("red-wine.csv"));
  CHECK(wine.select({"density", "pH"}).to_string() ==
        lines({"      density    pH", "0     0.99780  3.51", "1     0.99680  3.20", "2     0.99700  3.26",
               "3     0.99800  3.16", "4     0.99780  3.51", "...       ...   ...", "1594  0.99490  3.45",
               "1595  0.99512  3.52", "1596  0.99574  3.42", "1597  0.99547  3.57", "1598  0.99549  3.39", "",
               "[1599 rows x 2 columns]"}));
  const std::string all = wine.to_string();
  CHECK(all.substr(all.rfind('\n') + 1) == "[1599 rows x 12 columns]");
}

TEST_CASE("printing a frame without rows or columns says so, as pandas does", "[data][frame][display]") {
  CHECK(DataFrame().to_string() == "Empty DataFrame\nColumns: []\nIndex: []");
  const DataFrame frame = DataFrame().assign("a", std::vector<double>{std::nan(""), std::nan("")}).assign("b", {"x", "y"});
  CHECK(frame.dropna().to_string() == "Empty DataFrame\nColumns: [a, b]\nIndex: []");
  CHECK(frame.select({}).to_string() == "Empty DataFrame\nColumns: []\nIndex: [0, 1]");
  CHECK(frame.take({1}).select({}).to_string() == "Empty DataFrame\nColumns: []\nIndex: [1]");
}

TEST_CASE("head and tail take pandas' rows for any n with their labels and shape is rows by cols", "[data][frame]") {
  const DataFrame frame =
      DataFrame().assign("a", {0, 1, 2, 3, 4, 5, 6}).assign("b", {"p", "q", "r", "s", "t", "u", "v"}).take({6, 5, 4, 3, 2, 1, 0});
  CHECK(frame.shape() == std::pair<Index, Index>{7, 2});
  CHECK(labels_of(frame.head()) == std::vector<Index>{6, 5, 4, 3, 2});
  CHECK(labels_of(frame.head(2)) == std::vector<Index>{6, 5});
  CHECK(labels_of(frame.head(-2)) == std::vector<Index>{6, 5, 4, 3, 2});
  CHECK(labels_of(frame.head(10)).size() == 7);
  CHECK(frame.head(0).rows() == 0);
  CHECK(frame.head(-7).rows() == 0);
  CHECK(frame.head(-10).rows() == 0);
  CHECK(labels_of(frame.tail()) == std::vector<Index>{4, 3, 2, 1, 0});
  CHECK(labels_of(frame.tail(2)) == std::vector<Index>{1, 0});
  CHECK(labels_of(frame.tail(-2)) == std::vector<Index>{4, 3, 2, 1, 0});
  CHECK(labels_of(frame.tail(10)).size() == 7);
  CHECK(frame.tail(0).rows() == 0);
  CHECK(frame.tail(-10).rows() == 0);
  CHECK(frame.tail(2).strings("b") == std::vector<std::string>{"q", "p"});
  CHECK(frame.tail(2).numbers("a") == std::vector<double>{1, 0});
  CHECK(frame.head(std::numeric_limits<Index>::min()).rows() == 0);
  CHECK(frame.tail(std::numeric_limits<Index>::min()).rows() == 0);
  CHECK(frame.tail(std::numeric_limits<Index>::max()).rows() == 7);
  CHECK(frame.head(std::numeric_limits<Index>::max()).shape() == std::pair<Index, Index>{7, 2});
  CHECK(DataFrame().head().shape() == std::pair<Index, Index>{0, 0});
}

TEST_CASE("describe gives count, mean, std, min, quartiles and max of the numeric columns, missing values left out",
          "[data][frame][display]") {
  const double nan = std::nan("");
  const DataFrame frame = DataFrame()
                              .assign("One", std::vector<double>{4, 6, 8, 10, nan})
                              .assign("t", {"a", "b", "c", "d", "e"})
                              .assign("two", std::vector<double>{1, nan, nan, nan, nan})
                              .assign("none", std::vector<double>{nan, nan, nan, nan, nan});
  const DataFrame summary = frame.describe();
  CHECK(summary.columns() == std::vector<std::string>{"One", "two", "none"});
  CHECK(std::get<std::vector<std::string>>(summary.index()) ==
        std::vector<std::string>{"count", "mean", "std", "min", "25%", "50%", "75%", "max"});
  // 4 values: mean 7, std sqrt(20 / 3), quartiles at positions 0.75, 1.5 and 2.25 of 4 6 8 10
  const std::vector<double>& one = summary.numbers("One");
  CHECK(one == std::vector<double>{4, 7, std::sqrt(20.0 / 3.0), 4, 5.5, 7, 8.5, 10});
  const std::vector<double>& two = summary.numbers("two");
  CHECK(two[0] == 1);
  CHECK(std::isnan(two[2]));  // one value: no sample standard deviation
  CHECK(two[7] == 1);
  const std::vector<double>& none = summary.numbers("none");
  CHECK(none[0] == 0);
  CHECK(std::all_of(none.begin() + 1, none.end(), [](double v) { return std::isnan(v); }));
  CHECK(summary.to_string() == lines({"             One  two  none",
                                      "count   4.000000  1.0   0.0",
                                      "mean    7.000000  1.0   NaN",
                                      "std     2.581989  NaN   NaN",
                                      "min     4.000000  1.0   NaN",
                                      "25%     5.500000  1.0   NaN",
                                      "50%     7.000000  1.0   NaN",
                                      "75%     8.500000  1.0   NaN",
                                      "max    10.000000  1.0   NaN"}));
  // pandas' published red-wine summary (pd.read_csv("red-wine.csv").describe())
  const DataFrame wine = read_csv(data_path("red-wine.csv"));
  CHECK(wine.describe().select({"fixed acidity", "volatile acidity"}).to_string() ==
        lines({"       fixed acidity  volatile acidity", "count    1599.000000       1599.000000",
               "mean        8.319637          0.527821", "std         1.741096          0.179060",
               "min         4.600000          0.120000", "25%         7.100000          0.390000",
               "50%         7.900000          0.520000", "75%         9.200000          0.640000",
               "max        15.900000          1.580000"}));
}

TEST_CASE("describe refuses a frame without a numeric column", "[data][frame][display][errors]") {
  REQUIRE_THROWS_AS(DataFrame().describe(), ValueError);
  REQUIRE_THROWS_WITH(DataFrame().describe(),
                      "DataFrame.describe: expected at least one numeric column, received no columns");
  REQUIRE_THROWS_WITH(DataFrame().assign("s", {"x"}).assign("t", {"y"}).describe(),
                      "DataFrame.describe: expected at least one numeric column, received only text columns: s, t");
}

TEST_CASE("columns, numbers, strings and index of a temporary frame return copies that outlive it",
          "[data][frame]") {
  // A range-for over a reference into a temporary frame (`for (auto& c : df.drop({"y"}).columns())`)
  // would read a destroyed frame; on a temporary the accessors return values instead.
  using std::declval;
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame>().columns()), std::vector<std::string>>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame>().numbers("a")), std::vector<double>>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame>().strings("a")), std::vector<std::string>>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame>().index()), kerascpp::data::Column>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<const DataFrame&>().columns()), const std::vector<std::string>&>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame&>().numbers("a")), const std::vector<double>&>);

  const DataFrame df = DataFrame{}.assign("a", {1.0, 2.0, 3.0}).assign("t", {"x", "y", "z"}).assign("y", {0.0, 1.0, 0.0});
  std::vector<std::string> names;
  for (const std::string& name : df.drop({"y"}).columns()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"a", "t"});
  double sum = 0.0;
  for (const double v : df.drop({"t"}).numbers("a")) sum += v;
  CHECK(sum == 6.0);
  std::string text;
  for (const std::string& v : df.select({"t"}).strings("t")) text += v;
  CHECK(text == "xyz");
  const kerascpp::data::Column labels = df.take({2, 0}).index();
  CHECK(std::get<std::vector<double>>(labels) == std::vector<double>{2.0, 0.0});
  CHECK_THROWS_WITH(df.drop({"y"}).numbers("t"), Contains("holds text"));
  CHECK_THROWS_AS(df.drop({"y"}).strings("b"), ValueError);
}

TEST_CASE("index_name and source of a temporary frame return copies that outlive it", "[data][frame]") {
  // `for (char c : read_csv(path).source())` would read the string of a destroyed frame if source()
  // returned a reference on a temporary; on a temporary both return values instead.
  using std::declval;
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame>().source()), std::string>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame>().index_name()), std::string>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<const DataFrame&>().source()), const std::string&>);
  STATIC_REQUIRE(std::is_same_v<decltype(declval<DataFrame&>().index_name()), const std::string&>);

  const std::string path = fixture("header_only.csv");
  std::string source;
  for (const char c : read_csv(path).source()) source += c;
  CHECK(source == path);
  std::string index_name;
  for (const char c : read_csv(path, {.index_col = "b"}).index_name()) index_name += c;
  CHECK(index_name == "b");
}

TEST_CASE("an unknown column name one typo away from a column suggests it", "[data][frame][errors]") {
  const DataFrame wine = read_csv(data_path("red-wine.csv"));
  CHECK_THROWS_AS(wine.select({"alcohl"}), ValueError);
  CHECK_THROWS_WITH(wine.select({"alcohl"}),
                    StartsWith("DataFrame.select: no column named 'alcohl' in ") &&
                        Contains("red-wine.csv (did you mean 'alcohol'?); the columns are 'fixed acidity'"));
  CHECK_THROWS_WITH(wine.to_matrix({"Quality"}), Contains("(did you mean 'quality'?)"));
  CHECK_THROWS_WITH(wine.drop({"free sulphur dioxide"}), Contains("(did you mean 'free sulfur dioxide'?)"));
  // nothing close: the list of columns alone
  CHECK_THROWS_WITH(wine.select({"colour"}), !Contains("did you mean") && Contains("the columns are 'fixed acidity'"));
  CHECK_THROWS_AS(read_csv(data_path("ion.csv"), {.index_col = "Clas"}), ValueError);
  CHECK_THROWS_WITH(read_csv(data_path("ion.csv"), {.index_col = "Clas"}),
                    Contains("read_csv: index_col 'Clas' is not a column of ") &&
                        Contains("ion.csv (did you mean 'Class'?); the columns are 'Unnamed: 0', 'V1'"));
}

}  // namespace test_data
