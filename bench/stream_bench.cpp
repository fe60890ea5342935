// Memory of training from a CSV streamed by data::CsvDataset against loading it with read_csv.
//
//   stream_bench [--rows 10000000] [--dir /tmp] [--mode all|write|stream|read_csv] [--keep]
//
// `all` writes a synthetic CSV (11 inputs and a target per row, a fixed pseudo-random pattern),
// then runs `stream` and `read_csv` each in a process of its own (this program again) and prints
// one JSON line per step with its wall time and the process's peak resident memory:
//   stream    CsvDataset (batch 1024, shuffle buffer 10,000 rows) and one epoch of fit
//   read_csv  read_csv of the whole file and to_matrix, as a program that loads data whole does
// The file is removed at the end unless --keep.
#include <kerascpp/data.hpp>
#include <kerascpp/kerascpp.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace {

namespace keras = kerascpp;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void report(const std::string& step, double seconds, keras::Index rows, const std::string& extra = "") {
  std::cout << "{\"step\": \"" << step << "\", \"rows\": " << rows << ", \"seconds\": " << seconds
            << ", \"peak_rss_mb\": " << static_cast<double>(peak_rss_kb()) / 1024.0 << extra << "}" << std::endl;
}

void write_csv(const std::string& path, keras::Index rows) {
  const auto start = Clock::now();
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) throw std::runtime_error("cannot write " + path);
  std::fputs("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,target\n", file);
  keras::Rng rng(1);
  char line[512];
  for (keras::Index i = 0; i < rows; ++i) {
    char* at = line;
    double sum = 0.0;
    for (int j = 0; j < 11; ++j) {
      const double v = static_cast<double>(static_cast<int>(rng.uniform(-1000.0, 1000.0))) / 1000.0;  // 3 decimals
      sum += v * (j % 3 == 0 ? 1.0 : -0.5);
      at = std::to_chars(at, line + sizeof(line), v).ptr;
      *at++ = ',';
    }
    at = std::to_chars(at, line + sizeof(line), sum).ptr;
    *at++ = '\n';
    std::fwrite(line, 1, static_cast<std::size_t>(at - line), file);
  }
  std::fclose(file);
  report("write", seconds_since(start), rows,
         ", \"file_mb\": " + std::to_string(static_cast<double>(std::filesystem::file_size(path)) / 1048576.0));
}

void stream(const std::string& path) {
  const auto start = Clock::now();
  keras::data::CsvDataset<float> data(path, {.label_columns = {"target"}, .batch_size = 1024, .shuffle_buffer = 10000});
  const double open_seconds = seconds_since(start);
  using namespace keras::layers;
  keras::Sequential<float> model{Dense(16, "relu", keras::input_shape{11}), Dense(1)};
  model.compile("adam", "mse");
  const auto fit_start = Clock::now();
  const auto history = model.fit(data, {.epochs = 1, .verbose = 0});
  report("stream", seconds_since(start), data.rows(),
         ", \"open_seconds\": " + std::to_string(open_seconds) + ", \"epoch_seconds\": " +
             std::to_string(seconds_since(fit_start)) + ", \"loss\": " + std::to_string(history.at("loss").back()));
}

void read_whole(const std::string& path) {
  const auto start = Clock::now();
  const auto frame = keras::data::read_csv(path);
  const keras::Matrix<float> x = frame.to_matrix(std::vector<std::string>{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7",
                                                                         "f8", "f9", "f10"});
  report("read_csv", seconds_since(start), frame.rows());
  if (x.rows() == 0) std::cout << "";
}

/// Runs this program with `mode` in a child process, so that each step has its own peak memory.
int run_child(const char* self, const std::string& mode, const std::string& rows, const std::string& dir) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "--mode", mode.c_str(), "--rows", rows.c_str(), "--dir", dir.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "all", dir = std::filesystem::temp_directory_path().string(), rows_text = "10000000";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mode" && i + 1 < argc) mode = argv[++i];
    else if (arg == "--rows" && i + 1 < argc) rows_text = argv[++i];
    else if (arg == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (arg == "--keep") keep = true;
    else {
      std::cerr << "usage: stream_bench [--rows N] [--dir D] [--mode all|write|stream|read_csv] [--keep]\n";
      return 2;
    }
  }
  const std::string path = (std::filesystem::path(dir) / ("kerascpp_stream_bench_" + rows_text + ".csv")).string();
  try {
    const keras::Index rows = std::stoll(rows_text);
    if (mode == "write" || mode == "all") write_csv(path, rows);
    if (mode == "stream") stream(path);
    if (mode == "read_csv") read_whole(path);
    if (mode == "all") {
      const int failed = run_child(argv[0], "stream", rows_text, dir) + run_child(argv[0], "read_csv", rows_text, dir);
      if (!keep) std::filesystem::remove(path);
      return failed == 0 ? 0 : 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "stream_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
