// libFuzzer target for kerascpp's CSV reader (data/csv.hpp) and a few DataFrame operations.
//
// read_csv reads files, so each input is written to a file under /dev/shm (the temporary folder
// where there is no /dev/shm) and read once, with options picked by the input's length: the
// defaults; ';' as separator, the first column as index and {"", "-1"} as missing values; or tab as
// separator and the column named "a" as index. The frame then goes through the operations a
// course notebook uses, and the rows `drop_rows` keeps are checked against pandas' semantics. Any
// kerascpp exception is an expected outcome; anything else (a crash, a sanitizer report, another
// exception type, a hang, a failed check) is a finding.
#include <kerascpp/data.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <unistd.h>

namespace {

using kerascpp::Index;
using kerascpp::data::CsvOptions;
using kerascpp::data::DataFrame;

const std::string& input_path() {
  static const std::string path = [] {
    std::error_code ignored;
    const std::filesystem::path folder =
        std::filesystem::is_directory("/dev/shm", ignored) ? std::filesystem::path("/dev/shm")
                                                           : std::filesystem::temp_directory_path();
    return (folder / ("kerascpp-fuzz-read_csv-" + std::to_string(::getpid()) + ".csv")).string();
  }();
  return path;
}

struct RemoveAtExit {
  ~RemoveAtExit() { std::remove(input_path().c_str()); }
} remove_at_exit;

/// pandas semantics of labels: NaN matches NaN.
bool same_label(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }
bool same_label(const std::string& a, const std::string& b) { return a == b; }

/// `df.drop_rows(sample)` must keep exactly the rows whose label is not among the sample's labels.
template <typename Label>
void check_drop_rows(const DataFrame& df, const DataFrame& sample, const DataFrame& rest) {
  const auto& all = std::get<std::vector<Label>>(df.index());
  const auto& taken = std::get<std::vector<Label>>(sample.index());
  Index expected = 0;
  for (const Label& label : all) {
    bool dropped = false;
    for (const Label& t : taken) dropped = dropped || same_label(label, t);
    if (!dropped) ++expected;
  }
  if (rest.rows() != expected) {
    std::fprintf(stderr, "FINDING: DataFrame.drop_rows(sample) kept %lld rows of %lld; %lld rows have a label that is not "
                 "in the sample\n", static_cast<long long>(rest.rows()), static_cast<long long>(df.rows()),
                 static_cast<long long>(expected));
    std::abort();
  }
}

void exercise(const DataFrame& df) {
  std::vector<std::string> numeric, text;
  for (const std::string& name : df.columns()) (df.is_numeric(name) ? numeric : text).push_back(name);
  if (!numeric.empty()) {
    (void)df.to_matrix<float>(numeric);
    (void)df.to_matrix<double>(numeric);
    (void)df.numbers(numeric.front());
  }
  (void)df.dropna_columns();
  const Index rows = df.rows();
  if (rows > 0) {
    const DataFrame sample = df.sample(0.5, 0);
    const DataFrame rest = df.drop_rows(sample);
    if (std::holds_alternative<std::vector<double>>(df.index())) check_drop_rows<double>(df, sample, rest);
    else check_drop_rows<std::string>(df, sample, rest);
    (void)df.take({0, rows - 1, 0});
    (void)df.source_line(rows - 1);
  }
  if (!text.empty()) {
    const std::vector<std::string>& values = df.strings(text.front());
    std::map<std::string, double> mapping;
    for (std::size_t i = 0; i < values.size() && mapping.size() < 3; ++i)
      mapping.emplace(values[i], static_cast<double>(mapping.size()));
    try {
      (void)df.map(text.front(), mapping);
    } catch (const kerascpp::ValueError&) {
    }
  }
  if (df.cols() > 0) {
    (void)df.select({df.columns().front()});
    (void)df.drop({df.columns().front()});
  }
  (void)df.assign("kerascpp_fuzz_column", std::vector<double>(static_cast<std::size_t>(rows), 1.0));
}

void run(const CsvOptions& options) {
  try {
    exercise(kerascpp::data::read_csv(input_path(), options));
  } catch (const kerascpp::IOError&) {
  } catch (const kerascpp::ValueError&) {
  } catch (const kerascpp::StateError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: read_csv threw a non-kerascpp exception: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* file = std::fopen(input_path().c_str(), "wb");
  if (file == nullptr) {
    std::perror("fuzz_read_csv: cannot write the input file");
    std::abort();
  }
  if (size > 0 && std::fwrite(data, 1, size, file) != size) {
    std::perror("fuzz_read_csv: cannot write the input file");
    std::abort();
  }
  std::fclose(file);
  // One read per input (each read allocates the line reader's 48 MiB buffer, the main cost under
  // ASan); the input's length picks the options, so every variant is reached.
  CsvOptions options;
  switch (size % 3) {
    case 1:
      options.sep = ';';
      options.index_col = Index{0};
      options.na_values = {"", "-1"};
      break;
    case 2:
      options.sep = '\t';
      options.index_col = std::string("a");
      break;
    default:
      break;
  }
  run(options);
  return 0;
}
