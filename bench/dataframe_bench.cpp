// bench/dataframe_bench.cpp — times DataFrame operations on wide and long frames, to show that each
// is linear (or n log n) in rows and columns: read_csv, to_matrix, select, drop, get_dummies,
// MinMaxScaler on a frame, and value_counts.
//
//   dataframe_bench [--columns 100000,1000000] [--rows 1000000] [--wide-rows 4] [--long-columns 10]
//
// For each width W in --columns it writes a CSV of --wide-rows rows and W numeric columns plus
// W / 4 text columns of 4 distinct values (so get_dummies makes W new columns), and for the long
// case a CSV of --rows rows and --long-columns numeric columns plus one text column of 10 values.
// Files go to the system temporary folder and are removed afterwards. One line per operation:
// "<case> <operation>: <seconds> s".
#include <kerascpp/data.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace data = kerascpp::data;

namespace {

std::vector<long> parse_list(std::string_view text) {
  std::vector<long> out;
  std::stringstream in{std::string(text)};
  std::string part;
  while (std::getline(in, part, ',')) out.push_back(std::stol(part));
  return out;
}

template <typename Function>
auto timed(const std::string& label, Function&& function) {
  const auto start = std::chrono::steady_clock::now();
  auto result = function();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%-40s %9.3f s\n", label.c_str(), elapsed.count());
  std::fflush(stdout);
  return result;
}

/// A CSV with `numeric` numeric columns n0.. and `text` text columns t0.. (4 values each, "a".."d"
/// cycling with the row), `rows` rows.
void write_csv(const std::filesystem::path& path, long rows, long numeric, long text, long text_values) {
  std::ofstream out(path);
  for (long j = 0; j < numeric; ++j) out << (j == 0 ? "" : ",") << 'n' << j;
  for (long j = 0; j < text; ++j) out << ",t" << j;
  out << '\n';
  std::string line;
  for (long i = 0; i < rows; ++i) {
    line.clear();
    for (long j = 0; j < numeric; ++j) {
      if (j != 0) line += ',';
      line += std::to_string((i * 7 + j) % 1000);
      line += ".5";
    }
    for (long j = 0; j < text; ++j) {
      line += ",v";
      line += std::to_string((i + j) % text_values);
    }
    out << line << '\n';
  }
}

void run_case(const std::string& name, long rows, long numeric, long text, long text_values) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("kerascpp_dataframe_bench_" + name + ".csv");
  timed(name + " write csv", [&] {
    write_csv(path, rows, numeric, text, text_values);
    return 0;
  });
  const data::DataFrame frame = timed(name + " read_csv", [&] { return data::read_csv(path); });
  std::filesystem::remove(path);
  const std::vector<std::string> numeric_names = frame.numeric_columns();
  const data::DataFrame numbers = timed(name + " select numeric columns", [&] { return frame.select(numeric_names); });
  timed(name + " to_matrix", [&] { return numbers.to_matrix<float>().cols(); });
  const std::vector<std::string> reversed(numeric_names.rbegin(), numeric_names.rend());
  timed(name + " to_matrix(names), reversed", [&] { return numbers.to_matrix<float>(reversed).cols(); });
  std::vector<std::string> half;
  for (std::size_t j = 0; j < numeric_names.size(); j += 2) half.push_back(numeric_names[j]);
  timed(name + " drop every other column", [&] { return numbers.drop(half).cols(); });
  timed(name + " MinMaxScaler fit_transform", [&] { return data::MinMaxScaler<double>().fit_transform(numbers).cols(); });
  const data::DataFrame dummies = timed(name + " get_dummies", [&] { return data::get_dummies(frame); });
  std::printf("%-40s %9ld columns\n", (name + " get_dummies output").c_str(), static_cast<long>(dummies.cols()));
  timed(name + " value_counts", [&] { return frame.value_counts(frame.columns().back()).rows(); });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> widths = {100000, 1000000};
  long rows = 1000000;
  long wide_rows = 4;
  long long_columns = 10;
  for (int k = 1; k + 1 < argc; k += 2) {
    const std::string_view option = argv[k];
    if (option == "--columns") {
      widths = parse_list(argv[k + 1]);
    } else if (option == "--rows") {
      rows = std::stol(argv[k + 1]);
    } else if (option == "--wide-rows") {
      wide_rows = std::stol(argv[k + 1]);
    } else if (option == "--long-columns") {
      long_columns = std::stol(argv[k + 1]);
    } else {
      std::cerr << "unknown option " << option << '\n';
      return 2;
    }
  }
  try {
    for (const long width : widths)
      run_case(std::to_string(width) + "cols", wide_rows, width, width / 4, 4);
    if (rows > 0) run_case(std::to_string(rows) + "rows", rows, long_columns, 1, 10);
  } catch (const std::exception& error) {
    std::cerr << error.what() << '\n';
    return 1;
  }
}
