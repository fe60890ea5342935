// bench/kerascpp_bench.cpp — trains one benchmark workload (W1..W4) with kerascpp and prints one
// JSON line: per-epoch times and their medians, peak RSS, heap allocations per epoch, achieved
// GEMM GFLOP/s, and the GFLOP/s of a GEMM-only replay of the same epoch measured in this process.
//
//   kerascpp_bench --workload W1 [--threads 1] [--epochs 20] [--warmup 2] [--repeat-blocks 1]
//                  [--layout row|col] [--gemm-replay] [--alloc-detail] [--time-budget S] [--seed 1]
//                  [--blas-threads N]
//
// Epochs are timed inside one fit() call by a LambdaCallback: epoch k lasts from its
// on_epoch_begin to the next one (the last to on_train_end), so shuffling, the batches,
// validation and fit's own bookkeeping are all counted. The first `warmup` epochs are dropped.
// The reported median is the median over all measured epochs. With --repeat-blocks B they form B
// blocks of `epochs` each, and the median of the block means is reported too (means include the
// epochs in which the process was preempted, so on a busy machine they drift upwards while the
// median stays put). --time-budget S stops training once the measured epochs have taken S seconds
// (after at least three of them, and at a block boundary). fit_setup_s is the time fit() spends
// before its first epoch (input checks). Peak RSS is VmHWM, read before the GEMM replay.
// Heap allocations are counted by wrapping malloc and friends; --alloc-detail also splits them into
// those inside a training step (gather + forward + loss + backward + optimizer + batch logs) and
// those between steps.
// Built with EIGEN_USE_BLAS and KERASCPP_BENCH_OPENBLAS (kerascpp_bench_blas), Eigen's float
// products call OpenBLAS; the program then sets OpenBLAS's own thread count (--blas-threads, by
// default see openblas_threads_for) and reports the OpenBLAS core and build that ran.
#include <kerascpp/kerascpp.hpp>

#include <sys/resource.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

// Heap allocation counter: every malloc-family call of the process (operator new, Eigen's
// aligned_malloc, libgomp, ...) is counted, see tests/count_allocations.hpp.
#include "../tests/count_allocations.hpp"
#include "workloads.hpp"

#ifdef KERASCPP_BENCH_OPENBLAS
extern "C" {
char* openblas_get_corename(void);
char* openblas_get_config(void);
int openblas_get_parallel(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}
#endif

namespace {

using kerascpp::Index;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Peak resident set of this process image: VmHWM from /proc/self/status. getrusage's ru_maxrss
/// would do, but Linux carries it over from the parent across fork + exec, so a small child of a
/// large launcher would report the launcher's size.
long peak_rss_kb() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, f))
      if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtol(line + 6, nullptr, 10);
    std::fclose(f);
    if (kb >= 0) return kb;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

using kerascpp_bench::make_data;
using kerascpp_bench::make_model;
using kerascpp_bench::Sets;
using kerascpp_bench::Workload;
using kerascpp_bench::workloads;

struct Args {
  std::string workload = "W1";
  int threads = 1;
  int epochs = -1;
  int warmup = -1;
  int blocks = -1;
  bool row_major = true;
  bool gemm_replay = false;
  bool alloc_detail = false;
  double time_budget = 0.0;
  std::uint64_t seed = 1;
  int blas_threads = 0;  // 0: openblas_threads_for's choice
};

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr,
               "%s\nusage: kerascpp_bench --workload W1|W2|W3|W4 [--threads N] [--epochs E] [--warmup K]\n"
               "                      [--repeat-blocks B] [--layout row|col] [--gemm-replay] [--alloc-detail]\n"
               "                      [--time-budget SECONDS] [--seed S] [--blas-threads N]\n",
               message);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + key).c_str());
      return argv[++i];
    };
    if (key == "--workload") a.workload = value();
    else if (key == "--threads") a.threads = std::stoi(value());
    else if (key == "--epochs") a.epochs = std::stoi(value());
    else if (key == "--warmup") a.warmup = std::stoi(value());
    else if (key == "--repeat-blocks") a.blocks = std::stoi(value());
    else if (key == "--layout") {
      const std::string v = value();
      if (v != "row" && v != "col") usage("--layout must be row or col");
      a.row_major = v == "row";
    } else if (key == "--gemm-replay") a.gemm_replay = true;
    else if (key == "--alloc-detail") a.alloc_detail = true;
    else if (key == "--seed") a.seed = std::stoull(value());
    else if (key == "--time-budget") a.time_budget = std::stod(value());
    else if (key == "--blas-threads") a.blas_threads = std::stoi(value());
    else usage(("unknown argument " + key).c_str());
  }
  return a;
}

#ifdef KERASCPP_BENCH_OPENBLAS
/// OpenBLAS's own threads when kerascpp trains on `threads` threads. kerascpp shares each batch
/// between its threads, each multiplying its share alone, so OpenBLAS must stay on one thread there;
/// models with BatchNormalization multiply whole batches, so there OpenBLAS gets the threads.
int openblas_threads_for(const Workload& w, int threads) { return w.dropout_batchnorm ? threads : 1; }
#endif

/// The (inputs, units) of every Dense layer, in order.
std::vector<std::pair<Index, Index>> dense_shapes(const Workload& w) {
  std::vector<std::pair<Index, Index>> s;
  Index in = w.n_in;
  for (Index h : w.hidden) {
    s.emplace_back(in, h);
    in = h;
  }
  s.emplace_back(in, w.n_out);
  return s;
}

/// GEMM flops of one epoch: forward 2·b·in·out per Dense, weight gradient the same, input gradient
/// the same except for the first layer; validation forward only.
double gemm_flops_per_epoch(const Workload& w) {
  double train = 0.0, val = 0.0;
  const auto shapes = dense_shapes(w);
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    const double f = 2.0 * static_cast<double>(shapes[l].first * shapes[l].second);
    train += f * (l == 0 ? 2.0 : 3.0);
    val += f;
  }
  return train * static_cast<double>(w.n_train) + val * static_cast<double>(w.n_val);
}


/// Replays exactly the GEMMs of one epoch (same expressions, operand types and batch schedule as
/// Dense) with nothing else, and returns the median seconds per replayed epoch. With more than one
/// thread it shares each batch between threads the way Sequential does (contiguous row shares, one
/// thread per share, single-threaded products; whole batches with Eigen's own multi-threaded
/// products for models with BatchNormalization, for batches under 32 rows or under about a million
/// multiply-adds), so the replay is what the same cores can do on these GEMMs alone.
class GemmReplay {
 public:
  GemmReplay(const Workload& w, int threads) : w_(w), shapes_(dense_shapes(w)), threads_(threads) {
    std::mt19937 gen(7);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    for (const auto& [in, out] : shapes_) {
      kerascpp::RowMatrix<float> k(in, out);
      for (Index i = 0; i < k.size(); ++i) k.data()[i] = normal(gen);
      kernels_.push_back(std::move(k));
      params_ += static_cast<double>(in * out + out);
    }
    scratch_.resize(static_cast<std::size_t>(std::max(1, threads)));
    for (auto& layers : scratch_)
      for (const auto& [in, out] : shapes_) {
        Scratch l;
        l.kernel_grad.resize(in, out);
        l.x.resize(w.batch * in);
        l.dx.resize(w.batch * in);
        l.z.resize(w.batch * out);
        l.dz.resize(w.batch * out);
        for (auto* v : {&l.x, &l.dz})
          for (Index i = 0; i < v->size(); ++i) (*v)(i) = normal(gen);
        layers.push_back(std::move(l));
      }
  }

  double seconds_per_epoch() {
    epoch();
    int per_block = 1;
    for (;;) {
      const auto t0 = Clock::now();
      for (int i = 0; i < per_block; ++i) epoch();
      const double dt = seconds_since(t0);
      if (dt >= 0.05 || per_block >= (1 << 20)) break;
      per_block *= dt > 0.0 ? std::max(2, static_cast<int>(0.06 / dt)) : 64;
    }
    std::vector<double> blocks;
    const int repetitions = per_block == 1 ? 3 : 5;  // epochs long enough to time one by one: 3
    for (int b = 0; b < repetitions; ++b) {
      const auto t0 = Clock::now();
      for (int i = 0; i < per_block; ++i) epoch();
      blocks.push_back(seconds_since(t0) / per_block);
    }
    return median(blocks);
  }

 private:
  struct Scratch {
    kerascpp::RowMatrix<float> kernel_grad;
    Eigen::VectorXf x, dx, z, dz;
  };

  int shares(Index rows) const {
    if (threads_ <= 1 || w_.dropout_batchnorm || rows < 32) return 1;
    if (static_cast<double>(rows) * params_ < 1e6) return 1;
    return static_cast<int>(std::min<Index>(threads_, rows / 16));
  }

  void share(std::size_t t, Index rows, bool train) {
    auto& layers = scratch_[t];
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const auto [in, out] = shapes_[l];
      kerascpp::ConstMatrixView<float> x(layers[l].x.data(), rows, in);
      kerascpp::MatrixView<float> z(layers[l].z.data(), rows, out);
      z.noalias() = x * kernels_[l];
    }
    if (!train) return;
    for (std::size_t l = layers.size(); l-- > 0;) {
      const auto [in, out] = shapes_[l];
      kerascpp::ConstMatrixView<float> x(layers[l].x.data(), rows, in);
      kerascpp::ConstMatrixView<float> dz(layers[l].dz.data(), rows, out);
      layers[l].kernel_grad.noalias() = x.transpose() * dz;
      if (l > 0) {
        kerascpp::MatrixView<float> dx(layers[l].dx.data(), rows, in);
        dx.noalias() = dz * kernels_[l].transpose();
      }
    }
  }

  void batch(Index rows, bool train) {
    const int n = shares(rows);
    if (n == 1) {
      share(0, rows, train);
      return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(n)
    {
      const int t = omp_get_thread_num();
      share(static_cast<std::size_t>(t), rows * (t + 1) / n - rows * t / n, train);
    }
#else
    for (int t = 0; t < n; ++t) share(static_cast<std::size_t>(t), rows * (t + 1) / n - rows * t / n, train);
#endif
  }

  void epoch() {
    for (Index start = 0; start < w_.n_train; start += w_.batch) batch(std::min(w_.batch, w_.n_train - start), true);
    for (Index start = 0; start < w_.n_val; start += w_.batch) batch(std::min(w_.batch, w_.n_val - start), false);
  }

  const Workload& w_;
  std::vector<std::pair<Index, Index>> shapes_;
  int threads_;
  double params_ = 0.0;
  std::vector<kerascpp::RowMatrix<float>> kernels_;
  std::vector<std::vector<Scratch>> scratch_;
};

std::string json_array(const std::vector<double>& v, const char* format) {
  std::string s = "[";
  char buf[64];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, format, v[i]);
    if (i != 0) s += ',';
    s += buf;
  }
  return s + "]";
}

std::string json_array(const std::vector<std::uint64_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

const char* compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

const char* simd() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__AVX__)
  return "AVX";
#else
  return "SSE";
#endif
}

template <int Options>
int run(const Workload& w, const Args& a) {
  const int warmup = a.warmup >= 0 ? a.warmup : w.warmup;
  const int per_block = a.epochs > 0 ? a.epochs : w.epochs;
  const int blocks = a.blocks > 0 ? a.blocks : w.blocks;
  const int measured = per_block * blocks;
  const int total = warmup + measured;

  Sets<Options> data = make_data<Options>(w, a.seed);
  const long rss_data_kb = peak_rss_kb();
  kerascpp::utils::set_random_seed(a.seed);
  kerascpp::Sequential<float> model = make_model(w);

  // Preallocated so that the callbacks themselves never allocate.
  std::vector<Clock::time_point> stamps(static_cast<std::size_t>(total) + 1);
  std::vector<std::uint64_t> allocs(static_cast<std::size_t>(total) + 1, 0);
  std::vector<std::uint64_t> alloc_bytes(static_cast<std::size_t>(total) + 1, 0);
  std::uint64_t batch_mark = 0, in_batch_allocs = 0, between_batch_allocs = 0, batches_seen = 0;
  bool counting_batches = false;
  int begun = 0;
  bool stopped_by_budget = false;

  kerascpp::callbacks::LambdaCallback<float> timer;
  Clock::time_point train_begin{};
  timer.train_begin = [&](kerascpp::Logs&) { train_begin = Clock::now(); };
  timer.epoch_begin = [&](int epoch, kerascpp::Logs&) {
    const auto k = static_cast<std::size_t>(epoch);
    allocs[k] = count_allocations::count.load(std::memory_order_relaxed);
    alloc_bytes[k] = count_allocations::bytes.load(std::memory_order_relaxed);
    stamps[k] = Clock::now();
    counting_batches = epoch >= warmup;
    begun = epoch + 1;
  };
  // With a time budget, training stops once the measured epochs have taken that long (at least
  // three measured epochs and, with blocks, whole blocks), so that a machine busy with other work
  // cannot stretch a benchmark run without bound.
  timer.epoch_end = [&](int epoch, kerascpp::Logs&) {
    const int done = epoch + 1 - warmup;
    if (a.time_budget <= 0.0 || done < 3 || (done >= per_block && done % per_block != 0)) return;
    if (std::chrono::duration<double>(Clock::now() - stamps[static_cast<std::size_t>(warmup)]).count() >= a.time_budget &&
        epoch + 1 < total) {
      model.stop_training = true;
      stopped_by_budget = true;
    }
  };
  timer.train_end = [&](kerascpp::Logs&) {
    const auto k = static_cast<std::size_t>(begun);
    stamps[k] = Clock::now();
    allocs[k] = count_allocations::count.load(std::memory_order_relaxed);
    alloc_bytes[k] = count_allocations::bytes.load(std::memory_order_relaxed);
  };
  if (a.alloc_detail) {
    timer.batch_begin = [&](int, kerascpp::Logs&) {
      const std::uint64_t now = count_allocations::count.load(std::memory_order_relaxed);
      if (counting_batches && batches_seen > 0) between_batch_allocs += now - batch_mark;
      batch_mark = now;
    };
    timer.batch_end = [&](int, kerascpp::Logs&) {
      const std::uint64_t now = count_allocations::count.load(std::memory_order_relaxed);
      if (counting_batches) {
        in_batch_allocs += now - batch_mark;
        ++batches_seen;
      }
      batch_mark = now;
    };
  }

  const kerascpp::FitOptions<float> options = fit_options(w, data, total, timer);

  const auto fit_start = Clock::now();
  const kerascpp::History<float> history = model.fit(data.x, data.y, options);
  const double fit_seconds = seconds_since(fit_start);

  if (begun <= warmup) {
    std::fprintf(stderr, "training stopped before any measured epoch\n");
    return 1;
  }
  std::vector<double> epoch_s;
  std::vector<std::uint64_t> epoch_allocs, epoch_alloc_bytes;
  for (int k = warmup; k < begun; ++k) {
    const auto i = static_cast<std::size_t>(k);
    epoch_s.push_back(std::chrono::duration<double>(stamps[i + 1] - stamps[i]).count());
    epoch_allocs.push_back(allocs[i + 1] - allocs[i]);
    epoch_alloc_bytes.push_back(alloc_bytes[i + 1] - alloc_bytes[i]);
  }
  const int measured_done = begun - warmup;
  const int block_size = std::min(per_block, measured_done);
  const int blocks_done = measured_done / block_size;
  std::vector<double> block_means;
  for (int b = 0; b < blocks_done; ++b) {
    double sum = 0.0;
    for (int e = 0; e < block_size; ++e) sum += epoch_s[static_cast<std::size_t>(b * block_size + e)];
    block_means.push_back(sum / block_size);
  }
  const double primary = median(epoch_s);
  std::vector<double> alloc_d(epoch_allocs.begin(), epoch_allocs.end());
  const double first_epoch_allocs = static_cast<double>(allocs[1] - allocs[0]);
  const Index steps = (w.n_train + w.batch - 1) / w.batch;

  const long rss_kb = peak_rss_kb();  // before the replay, which allocates operands of its own
  const double flops = gemm_flops_per_epoch(w);
  double replay_s = 0.0;
  if (a.gemm_replay) replay_s = GemmReplay(w, a.threads).seconds_per_epoch();

  std::string out = "{\"impl\":\"kerascpp\"";
  char buf[512];
  const auto add = [&](const char* fmt, auto... v) {
    std::snprintf(buf, sizeof buf, fmt, v...);
    out += buf;
  };
  add(",\"workload\":\"%s\",\"description\":\"%s\",\"threads\":%d,\"eigen_threads\":%d", w.name, w.description,
      a.threads, Eigen::nbThreads());
#ifdef _OPENMP
  out += ",\"openmp\":true";
#else
  out += ",\"openmp\":false";
#endif
#ifdef EIGEN_USE_BLAS
  out += ",\"eigen_use_blas\":true";
#else
  out += ",\"eigen_use_blas\":false";
#endif
#ifdef KERASCPP_BENCH_OPENBLAS
  add(",\"openblas_core\":\"%s\",\"openblas_config\":\"%s\",\"openblas_parallel\":%d,\"openblas_threads\":%d",
      openblas_get_corename(), openblas_get_config(), openblas_get_parallel(), openblas_get_num_threads());
#endif
  add(",\"layout\":\"%s\",\"compiler\":\"%s\",\"simd\":\"%s\",\"eigen\":\"%d.%d.%d\"", a.row_major ? "row" : "col",
      compiler(), simd(), EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  add(",\"warmup\":%d,\"epochs_per_block\":%d,\"blocks\":%d,\"measured_epochs\":%d,\"stopped_by_budget\":%s",
      warmup, block_size, blocks_done, measured_done, stopped_by_budget ? "true" : "false");
  add(",\"steps_per_epoch\":%ld", static_cast<long>(steps));
  add(",\"unit\":\"s/epoch\",\"median\":%.9g,\"median_of_block_means\":%.9g,\"min_epoch\":%.9g", primary,
      median(block_means), *std::min_element(epoch_s.begin(), epoch_s.end()));
  out += ",\"block_means\":" + json_array(block_means, "%.9g");
  if (blocks_done == 1) out += ",\"epochs\":" + json_array(epoch_s, "%.6g");
  add(",\"fit_setup_s\":%.6g,\"first_epoch_s\":%.6g",
      std::chrono::duration<double>(train_begin - fit_start).count(),
      std::chrono::duration<double>(stamps[1] - stamps[0]).count());
  add(",\"fit_seconds\":%.6g,\"gemm_gflop_per_epoch\":%.9g,\"gflops\":%.6g", fit_seconds, flops / 1e9,
      flops / primary / 1e9);
  if (a.gemm_replay)
    add(",\"gemm_replay_s\":%.9g,\"gemm_replay_gflops\":%.6g,\"pct_of_gemm_replay\":%.4g", replay_s,
        flops / replay_s / 1e9, 100.0 * replay_s / primary);
  add(",\"maxrss_kb\":%ld,\"maxrss_data_kb\":%ld", rss_kb, rss_data_kb);
  add(",\"allocs_first_epoch\":%.0f,\"allocs_per_epoch_median\":%.6g,\"allocs_per_epoch_max\":%llu", first_epoch_allocs,
      median(alloc_d), static_cast<unsigned long long>(*std::max_element(epoch_allocs.begin(), epoch_allocs.end())));
  add(",\"alloc_bytes_per_epoch_median\":%.6g",
      median(std::vector<double>(epoch_alloc_bytes.begin(), epoch_alloc_bytes.end())));
  if (a.alloc_detail && batches_seen > 0)
    add(",\"allocs_per_batch_inside_step\":%.6g,\"allocs_per_batch_between_steps\":%.6g",
        static_cast<double>(in_batch_allocs) / static_cast<double>(batches_seen),
        static_cast<double>(between_batch_allocs) / static_cast<double>(batches_seen));
  if (blocks_done == 1) out += ",\"allocs_per_epoch\":" + json_array(epoch_allocs);
  add(",\"final_loss\":%.6g}", history.at("loss").back());
  std::puts(out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const Workload* w = nullptr;
  for (const auto& candidate : workloads())
    if (a.workload == candidate.name) w = &candidate;
  if (w == nullptr) usage(("unknown workload " + a.workload).c_str());
  if (a.threads < 1) usage("--threads must be positive");
  kerascpp::set_num_threads(a.threads);
#ifdef KERASCPP_BENCH_OPENBLAS
  openblas_set_num_threads(a.blas_threads > 0 ? a.blas_threads : openblas_threads_for(*w, a.threads));
#else
  if (a.blas_threads != 0) usage("--blas-threads needs the OpenBLAS build (kerascpp_bench_blas)");
#endif
  return a.row_major ? run<Eigen::RowMajor>(*w, a) : run<Eigen::ColMajor>(*w, a);
}
