// bench/gemm_rate.cpp — this machine's single-precision GEMM rate with Eigen, built with the same
// flags as the benchmarks, on kerascpp's own operand types (row-major matrices and maps).
//
//   gemm_rate [--threads N] [--big 2048] [--min-seconds 0.04] [--reps 5]
//
// Prints one JSON line per GEMM shape and one summary line per workload. Shapes are the big square
// C = A·B and every product of one training step of W1..W4 at the full batch size:
//   forward       Z  = X·W       (batch × out) = (batch × in)·(in × out)      "NN"
//   weight grad   dW = Xᵀ·dZ     (in × out)    = (in × batch)·(batch × out)   "TN"
//   input grad    dX = dZ·Wᵀ     (batch × in)  = (batch × out)·(out × in)     "NT" (not for layer 1)
// Each shape: warm up, choose an iteration count so one repetition lasts at least --min-seconds,
// then --reps repetitions; GFLOP/s = 2·M·N·K·iterations / seconds, median and best repetition.
// The workload line gives the rate of one whole step: its flops over the summed median times.
// With N > 1 threads (OpenMP build) each workload also gets a "split" line: N threads each run the
// step's products on their own batch/N rows at the same time, single-threaded products, which is
// how kerascpp shares a batch between threads; its rate is all threads' flops over the wall time.
#include <kerascpp/core.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

using kerascpp::Index;
using Clock = std::chrono::steady_clock;

struct Shape {
  Index m, n, k;
  char op[3];
  bool operator<(const Shape& o) const {
    return std::tie(m, n, k, op[0], op[1]) < std::tie(o.m, o.n, o.k, o.op[0], o.op[1]);
  }
};

struct WorkloadShapes {
  const char* name;
  Index batch;
  std::vector<Index> widths;  // input, hidden..., output
};

const std::vector<WorkloadShapes> workloads{
    {"W1", 256, {11, 512, 512, 512, 1}},
    {"W2", 256, {11, 1024, 1024, 1024, 1}},
    {"W3", 246, {33, 4, 4, 1}},
    {"W4", 128, {784, 256, 128, 10}},
};

std::vector<Shape> step_shapes(const WorkloadShapes& w, Index batch) {
  std::vector<Shape> s;
  for (std::size_t l = 0; l + 1 < w.widths.size(); ++l) {
    const Index in = w.widths[l], out = w.widths[l + 1];
    s.push_back({batch, out, in, {'N', 'N', 0}});
    s.push_back({in, out, batch, {'T', 'N', 0}});
    if (l > 0) s.push_back({batch, in, out, {'N', 'T', 0}});
  }
  return s;
}

double flop_of(const Shape& s) {
  return 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
}

struct Rate {
  double median_gflops, best_gflops, median_seconds;
  long iterations;
};

class Probe {
 public:
  explicit Probe(const Shape& s) : s_(s) {
    std::mt19937 gen(42);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const bool ta = s.op[0] == 'T', tb = s.op[1] == 'T';
    a_.resize(ta ? s.k : s.m, ta ? s.m : s.k);
    b_.resize(tb ? s.n : s.k, tb ? s.k : s.n);
    c_.setZero(s.m, s.n);
    for (Index i = 0; i < a_.size(); ++i) a_.data()[i] = u(gen);
    for (Index i = 0; i < b_.size(); ++i) b_.data()[i] = u(gen);
  }

  void run() {
    kerascpp::ConstMatrixView<float> a(a_.data(), a_.rows(), a_.cols());
    kerascpp::ConstMatrixView<float> b(b_.data(), b_.rows(), b_.cols());
    kerascpp::MatrixView<float> c(c_.data(), c_.rows(), c_.cols());
    const bool ta = s_.op[0] == 'T', tb = s_.op[1] == 'T';
    if (!ta && !tb) c.noalias() = a * b;
    else if (ta && !tb) c.noalias() = a.transpose() * b;
    else if (!ta && tb) c.noalias() = a * b.transpose();
    else c.noalias() = a.transpose() * b.transpose();
  }

  float checksum() const { return c_(0, 0); }

 private:
  Shape s_;
  kerascpp::RowMatrix<float> a_, b_, c_;
};

Rate measure(const Shape& s, double min_seconds, int reps) {
  Probe p(s);
  for (int i = 0; i < 3; ++i) p.run();
  long iterations = 1;
  for (;;) {
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) p.run();
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (dt >= 0.25 * min_seconds) {
      iterations = std::max(1L, static_cast<long>(static_cast<double>(iterations) * min_seconds / dt + 0.999));
      break;
    }
    iterations *= 4;
  }
  std::vector<double> seconds;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (long i = 0; i < iterations; ++i) p.run();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(iterations));
  }
  std::sort(seconds.begin(), seconds.end());
  const double flop = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  const double med = seconds[seconds.size() / 2];
  if (p.checksum() != p.checksum()) std::fputs("NaN in GEMM result\n", stderr);
  return {flop / med / 1e9, flop / seconds.front() / 1e9, med, iterations};
}

#ifdef _OPENMP
/// GFLOP/s of `threads` threads each running all of `shapes` on operands of their own, together.
double measure_split(const std::vector<Shape>& shapes, int threads, double min_seconds, int reps) {
  double flop = 0.0;
  for (const Shape& s : shapes) flop += flop_of(s);
  std::vector<std::vector<Probe>> probes(static_cast<std::size_t>(threads));
  for (auto& mine : probes)
    for (const Shape& s : shapes) mine.emplace_back(s);
  const auto step = [&](long iterations) {
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
    {
      auto& mine = probes[static_cast<std::size_t>(omp_get_thread_num())];
      for (long i = 0; i < iterations; ++i)
        for (auto& p : mine) p.run();
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  step(3);
  long iterations = 1;
  for (;;) {
    const double dt = step(iterations);
    if (dt >= 0.25 * min_seconds) {
      iterations = std::max(1L, static_cast<long>(static_cast<double>(iterations) * min_seconds / dt + 0.999));
      break;
    }
    iterations *= 4;
  }
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) rates.push_back(flop * threads * static_cast<double>(iterations) / step(iterations) / 1e9);
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}
#endif

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr, "%s\nusage: gemm_rate [--threads N] [--big S] [--min-seconds T] [--reps R]\n", message);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 5;
  Index big = 2048;
  double min_seconds = 0.04;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + key).c_str());
    const std::string value = argv[++i];
    if (key == "--threads") threads = std::stoi(value);
    else if (key == "--big") big = std::stol(value);
    else if (key == "--min-seconds") min_seconds = std::stod(value);
    else if (key == "--reps") reps = std::stoi(value);
    else usage(("unknown argument " + key).c_str());
  }
  if (threads < 1 || reps < 1 || big < 1 || !(min_seconds > 0.0)) usage("arguments must be positive");
#ifdef _OPENMP
  const bool openmp = true;
#else
  const bool openmp = false;
  if (threads != 1) usage("this build has no OpenMP: run gemm_rate_omp for more than one thread");
#endif
  Eigen::setNbThreads(threads);

  std::map<Shape, Rate> rates;
  const auto report = [&](const Shape& s, const char* role) {
    auto it = rates.find(s);
    if (it == rates.end()) it = rates.emplace(s, measure(s, min_seconds, reps)).first;
    const Rate& r = it->second;
    std::printf(
        "{\"probe\":\"eigen_sgemm\",\"role\":\"%s\",\"threads\":%d,\"openmp\":%s,\"M\":%ld,\"N\":%ld,\"K\":%ld,"
        "\"op\":\"%s\",\"median_gflops\":%.4g,\"best_gflops\":%.4g,\"median_us\":%.5g,\"iterations\":%ld}\n",
        role, threads, openmp ? "true" : "false", static_cast<long>(s.m), static_cast<long>(s.n),
        static_cast<long>(s.k), s.op, r.median_gflops, r.best_gflops, r.median_seconds * 1e6, r.iterations);
    std::fflush(stdout);
    return r;
  };

  report({big, big, big, {'N', 'N', 0}}, "big");
  for (const auto& w : workloads) {
    double flops = 0.0, seconds = 0.0;
    for (const Shape& s : step_shapes(w, w.batch)) {
      const Rate r = report(s, w.name);
      flops += flop_of(s);
      seconds += r.median_seconds;
    }
    std::printf("{\"probe\":\"eigen_sgemm_step\",\"workload\":\"%s\",\"threads\":%d,\"openmp\":%s,\"batch\":%ld,"
                "\"step_gflop\":%.6g,\"step_gemm_us\":%.6g,\"step_gflops\":%.4g}\n",
                w.name, threads, openmp ? "true" : "false", static_cast<long>(w.batch), flops / 1e9, seconds * 1e6,
                flops / seconds / 1e9);
    std::fflush(stdout);
#ifdef _OPENMP
    if (threads > 1) {
      const Index share = w.batch / threads;
      const double rate = measure_split(step_shapes(w, share), threads, min_seconds, reps);
      std::printf("{\"probe\":\"eigen_sgemm_step_split\",\"workload\":\"%s\",\"threads\":%d,\"rows_per_thread\":%ld,"
                  "\"step_gflops\":%.4g}\n",
                  w.name, threads, static_cast<long>(share), rate);
      std::fflush(stdout);
    }
#endif
  }
  return 0;
}
