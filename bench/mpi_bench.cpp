// bench/mpi_bench.cpp — data-parallel training of a benchmark workload over MPI, and the bandwidth
// of MPI_Allreduce itself. Run under mpirun; process 0 prints one JSON line per measurement.
//
//   mpirun -np 2 mpi_bench --workload W1|W2|W3|W4 [--threads 1] [--epochs E] [--warmup K] [--seed 1]
//                          [--sum shared|allreduce] [--transport LABEL]
//   mpirun -np 2 mpi_bench --allreduce [--sizes BYTES,...] [--min-seconds 0.2] [--blocks 5]
//                          [--transport LABEL]
//
// Training: every process makes the same data (bench/workloads.hpp, the same seed), builds the same
// model and attaches a kerascpp::distributed::MpiStrategy, then calls fit with the workload's
// global batch. Epochs are timed on process 0 as in kerascpp_bench (from one on_epoch_begin to the
// next, the last to on_train_end; the first `warmup` dropped). Over the measured epochs the line
// gives the time per step, and from MpiStrategy::gradient_traffic() the gradient sums' calls, bytes
// and seconds per step (the seconds of every process: they include waiting for the slowest one).
// --sum allreduce sums the gradients with MPI_Allreduce even when every process is on this machine
// (MpiStrategy::use_shared_memory(false)); the default, `shared`, is the strategy's default: a
// shared-memory window when all processes share one machine. The line names the way that was used.
//
// --allreduce: MPI_Allreduce (in place, MPI_FLOAT, MPI_SUM) on float buffers of the W1 and W4
// gradients' sizes and of every size in --sizes (default 8 B, 4 KB, 64 KB, 1 MB, 16 MB, 64 MB). Per
// size: three calls to warm up, then `blocks` timed blocks of calls (as many as make process 0's
// block last --min-seconds, the same count on every process), each starting after a barrier; a
// block's time per call is the largest over the processes. Reports the median and minimum time per
// call, the algorithm bandwidth (bytes / time) and the bus bandwidth (2(P−1)/P · bytes / time, what
// each process sends in a ring allreduce).
//
// --transport only labels the output (the transport is chosen by mpirun's --mca options).
#include <kerascpp/distributed/mpi.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace {

using kerascpp::Index;
using Clock = std::chrono::steady_clock;
using Strategy = kerascpp::distributed::MpiStrategy<float>;

struct Args {
  std::string workload;
  bool allreduce = false;
  int threads = 1;
  int epochs = -1;
  int warmup = -1;
  std::uint64_t seed = 1;
  std::string transport = "default";
  bool shared_sum = true;
  std::vector<double> sizes{8, 4096, 65536, 1 << 20, 16 << 20, 64 << 20};
  double min_seconds = 0.2;
  int blocks = 5;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr,
               "mpi_bench: %s\nusage: mpi_bench --workload W1|W2|W3|W4 [--threads N] [--epochs E] [--warmup K] "
               "[--seed S] [--sum shared|allreduce] [--transport LABEL]\n"
               "       mpi_bench --allreduce [--sizes BYTES,...] [--min-seconds S] [--blocks B] "
               "[--transport LABEL]\n",
               message.c_str());
  std::exit(2);
}

double number(const std::string& key, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v)) usage(key + " needs a number, received '" + text + "'");
  return v;
}

int whole(const std::string& key, const std::string& text, int lowest) {
  const double v = number(key, text);
  if (v != std::floor(v) || v < lowest || v > 1e9)
    usage(key + " needs a whole number of at least " + std::to_string(lowest) + ", received '" + text + "'");
  return static_cast<int>(v);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value for " + key);
      return argv[++i];
    };
    if (key == "--workload") a.workload = value();
    else if (key == "--allreduce") a.allreduce = true;
    else if (key == "--threads") a.threads = whole(key, value(), 1);
    else if (key == "--epochs") a.epochs = whole(key, value(), 1);
    else if (key == "--warmup") a.warmup = whole(key, value(), 0);
    else if (key == "--seed") a.seed = static_cast<std::uint64_t>(whole(key, value(), 0));
    else if (key == "--transport") a.transport = value();
    else if (key == "--sum") {
      const std::string way = value();
      if (way != "shared" && way != "allreduce") usage("--sum must be shared or allreduce, received " + way);
      a.shared_sum = way == "shared";
    }
    else if (key == "--min-seconds") {
      a.min_seconds = number(key, value());
      if (a.min_seconds <= 0.0) usage("--min-seconds must be positive");
    } else if (key == "--blocks") a.blocks = whole(key, value(), 1);
    else if (key == "--sizes") {
      a.sizes.clear();
      const std::string list = value();
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        const double bytes = number(key, list.substr(at, comma - at));
        if (bytes < 4 || bytes > 1e10 || std::fmod(bytes, 4.0) != 0.0)
          usage("--sizes needs byte counts that are positive multiples of 4 (floats), up to 1e10");
        a.sizes.push_back(bytes);
        at = comma + 1;
      }
    } else usage("unknown argument " + key);
  }
  if (a.allreduce == !a.workload.empty()) usage("give either --workload or --allreduce");
  if (!a.allreduce && kerascpp_bench::find_workload(a.workload) == nullptr) usage("unknown workload " + a.workload);
  return a;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string json_array(const std::vector<double>& v) {
  std::string s = "[";
  char buf[64];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.6g", i == 0 ? "" : ",", v[i]);
    s += buf;
  }
  return s + "]";
}

/// Appends printf-formatted text to `out`.
template <typename... T>
void add(std::string& out, const char* format, T... values) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, values...);
  out += buf;
}

int train(const Args& a, Strategy& strategy) {
  const kerascpp_bench::Workload& w = *kerascpp_bench::find_workload(a.workload);
  const int warmup = a.warmup >= 0 ? a.warmup : w.warmup;
  const int measured = a.epochs > 0 ? a.epochs : w.epochs * w.blocks;
  const int total = warmup + measured;

  kerascpp::set_num_threads(a.threads);
  auto data = kerascpp_bench::make_data<Eigen::RowMajor>(w, a.seed);
  kerascpp::utils::set_random_seed(a.seed);
  kerascpp::Sequential<float> model = kerascpp_bench::make_model(w);
  strategy.attach(model);
  strategy.use_shared_memory(a.shared_sum);

  std::vector<Clock::time_point> stamps(static_cast<std::size_t>(total) + 1);
  Strategy::Traffic at_first_measured, at_end;
  int begun = 0;
  kerascpp::callbacks::LambdaCallback<float> timer;
  timer.epoch_begin = [&](int epoch, kerascpp::Logs&) {
    if (epoch == warmup) at_first_measured = strategy.gradient_traffic();
    stamps[static_cast<std::size_t>(epoch)] = Clock::now();
    begun = epoch + 1;
  };
  timer.train_end = [&](kerascpp::Logs&) {
    stamps[static_cast<std::size_t>(begun)] = Clock::now();
    at_end = strategy.gradient_traffic();
  };

  const kerascpp::FitOptions<float> options = kerascpp_bench::fit_options(w, data, total, timer);
  const kerascpp::History<float> history = model.fit(data.x, data.y, options);

  std::vector<double> epoch_s;
  for (int k = warmup; k < begun; ++k) {
    const auto i = static_cast<std::size_t>(k);
    epoch_s.push_back(std::chrono::duration<double>(stamps[i + 1] - stamps[i]).count());
  }
  const Index steps = (w.n_train + w.batch - 1) / w.batch;
  const double measured_steps = static_cast<double>(steps) * static_cast<double>(epoch_s.size());
  const double calls = static_cast<double>(at_end.calls - at_first_measured.calls);
  const double seconds = at_end.seconds - at_first_measured.seconds;
  const double bytes = at_end.bytes - at_first_measured.bytes;

  // Every process's seconds in the gradient sums, gathered on process 0.
  std::vector<double> per_process(static_cast<std::size_t>(strategy.ranks()));
  MPI_Gather(&seconds, 1, MPI_DOUBLE, per_process.data(), 1, MPI_DOUBLE, 0, strategy.communicator());
  if (!strategy.is_chief()) return 0;

  const double epoch = median(epoch_s);
  std::vector<double> allreduce_per_step;
  for (double s : per_process) allreduce_per_step.push_back(measured_steps > 0 ? s / measured_steps : 0.0);
  std::string out = "{\"impl\":\"kerascpp-mpi\"";
  add(out, ",\"workload\":\"%s\",\"ranks\":%d,\"threads\":%d,\"transport\":\"%s\"", w.name, strategy.ranks(), a.threads,
      a.transport.c_str());
  add(out, ",\"warmup\":%d,\"measured_epochs\":%zu,\"steps_per_epoch\":%ld,\"global_batch\":%ld", warmup,
      epoch_s.size(), static_cast<long>(steps), static_cast<long>(w.batch));
  add(out, ",\"unit\":\"s/epoch\",\"median\":%.9g,\"min_epoch\":%.9g", epoch,
      *std::min_element(epoch_s.begin(), epoch_s.end()));
  out += ",\"epochs\":" + json_array(epoch_s);
  add(out, ",\"step_s\":%.9g,\"params\":%ld", epoch / static_cast<double>(steps), static_cast<long>(model.count_params()));
  add(out, ",\"allreduce_calls_per_step\":%.6g,\"allreduce_bytes_per_step\":%.9g", calls / measured_steps,
      bytes / measured_steps);
  out += ",\"allreduce_s_per_step_by_rank\":" + json_array(allreduce_per_step);
  add(out, ",\"allreduce_s_per_step\":%.9g", allreduce_per_step.front());
  add(out, ",\"gradient_sum\":\"%s\"", strategy.ranks() == 1 ? "none" : strategy.summing_in_shared_memory() ? "shared-memory" : "allreduce");
  add(out, ",\"final_loss\":%.6g}", history.at("loss").back());
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
  return 0;
}

int allreduce(const Args& a, const Strategy& strategy) {
  const MPI_Comm comm = strategy.communicator();
  const int ranks = strategy.ranks();
  struct Size {
    double bytes;
    std::string name;
  };
  std::vector<Size> sizes;
  for (const char* name : {"W1", "W4"}) {
    const Index params = kerascpp_bench::make_model(*kerascpp_bench::find_workload(name)).count_params();
    sizes.push_back({static_cast<double>(params) * sizeof(float), std::string(name) + " gradient"});
  }
  for (double bytes : a.sizes) sizes.push_back({bytes, ""});
  std::sort(sizes.begin(), sizes.end(), [](const Size& l, const Size& r) { return l.bytes < r.bytes; });

  for (const Size& size : sizes) {
    const auto count = static_cast<std::size_t>(size.bytes / sizeof(float));
    if (count > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      usage("--sizes: at most " + std::to_string(std::numeric_limits<int>::max()) + " floats per call");
    std::vector<float> buffer(count, 0.0f);
    const auto call = [&] {
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm);
    };
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    for (int i = 0; i < 3; ++i) call();
    double per_call = (MPI_Wtime() - t0) / 3.0;
    MPI_Bcast(&per_call, 1, MPI_DOUBLE, 0, comm);
    const long iterations = std::max(1L, static_cast<long>(std::ceil(a.min_seconds / std::max(per_call, 1e-9))));

    std::vector<double> block_s;
    for (int b = 0; b < a.blocks; ++b) {
      MPI_Barrier(comm);
      t0 = MPI_Wtime();
      for (long i = 0; i < iterations; ++i) call();
      double s = (MPI_Wtime() - t0) / static_cast<double>(iterations);
      MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_DOUBLE, MPI_MAX, comm);
      block_s.push_back(s);
    }
    if (!strategy.is_chief()) continue;
    const double t = median(block_s);
    const double ring = ranks > 1 ? 2.0 * (ranks - 1) / ranks : 0.0;
    std::string out = "{\"kind\":\"allreduce\"";
    add(out, ",\"ranks\":%d,\"transport\":\"%s\",\"bytes\":%.0f,\"name\":\"%s\",\"iterations\":%ld", ranks,
        a.transport.c_str(), size.bytes, size.name.c_str(), iterations);
    add(out, ",\"seconds_median\":%.9g,\"seconds_min\":%.9g", t, *std::min_element(block_s.begin(), block_s.end()));
    out += ",\"seconds_blocks\":" + json_array(block_s);
    add(out, ",\"algbw_GBps\":%.6g,\"busbw_GBps\":%.6g}", size.bytes / t / 1e9, ring * size.bytes / t / 1e9);
    std::printf("%s\n", out.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  Strategy strategy(argc, argv);
  return a.allreduce ? allreduce(a, strategy) : train(a, strategy);
}
