// bench/subnormal_bench.cpp — what subnormal floats cost, and what kerascpp::detail::
// FlushSubnormalsScope (kerascpp/float_env.hpp) wins back. Two computations whose values sit in the
// subnormal range (below 1.2e-38), each timed without and with the scope:
//   dense   Z = X·W, the forward product of a 512-unit Dense layer on a batch of 256 rows whose
//           activations have decayed to subnormals (X ~ 1e-39, W ~ 0.05: every product and sum is
//           subnormal);
//   decay   v = 0.999·v + 0.001·g² with g = 0 on 4096 values (in the L1 cache), Adam's second moment of weights whose
//           gradient has vanished (dead ReLU units), starting at 1e-38.
//
//   subnormal_bench [--reps 5] [--min-seconds 0.1]
//
// Prints one line per computation: the median time of one repetition without and with the scope
// and their ratio, and checks that both give the same result up to the flushed values.
#include <kerascpp/float_env.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Array = Eigen::ArrayXf;

struct Options {
  int reps = 5;
  double min_seconds = 0.1;
};

// Median seconds of one call of `step`, over `reps` repetitions of as many calls as fill min_seconds.
template <typename Step>
double median_seconds(const Options& options, Step&& step) {
  step();
  int calls = 1;
  for (;;) {
    const auto start = Clock::now();
    for (int i = 0; i < calls; ++i) step();
    if (std::chrono::duration<double>(Clock::now() - start).count() >= options.min_seconds) break;
    calls *= 2;
  }
  std::vector<double> times;
  for (int r = 0; r < options.reps; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < calls; ++i) step();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count() / calls);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void report(const char* name, double without, double with, const char* check) {
  std::printf("%-6s  without scope %10.2f us   with scope %10.2f us   %6.1fx faster   %s\n", name, without * 1e6,
              with * 1e6, without / with, check);
}

void dense(const Options& options) {
  const Eigen::Index batch = 256, in = 512, out = 512;
  const Matrix x = (Matrix::Random(batch, in).array().abs() * 1e-39f).matrix();
  const Matrix w = Matrix::Random(in, out) * 0.05f;
  Matrix z(batch, out);
  const auto step = [&] { z.noalias() = x * w; };
  const double without = median_seconds(options, step);
  const float largest_without = z.cwiseAbs().maxCoeff();
  double with = 0;
  {
    kerascpp::detail::FlushSubnormalsScope scope;
    with = median_seconds(options, step);
  }
  const bool flushed = z.cwiseAbs().maxCoeff() == 0.0f && largest_without < 1.2e-38f;
  report("dense", without, with, flushed ? "ok: subnormal results, flushed to 0 in the scope" : "UNEXPECTED values");
}

void decay(const Options& options) {
  const Eigen::Index n = 1 << 12;
  const Array g = Array::Zero(n);
  Array v(n);
  const auto step = [&] { v = 0.999f * v + 0.001f * g.square(); };
  // Each run starts from the same subnormal-bound state, so both sides do the same work.
  v.setConstant(1e-38f);
  const double without = median_seconds(options, step);
  const bool subnormal_without = v.maxCoeff() > 0.0f && v.maxCoeff() < 1.2e-38f;
  v.setConstant(1e-38f);
  double with = 0;
  {
    kerascpp::detail::FlushSubnormalsScope scope;
    with = median_seconds(options, step);
  }
  const bool flushed = v.maxCoeff() == 0.0f;
  report("decay", without, with,
         subnormal_without && flushed ? "ok: subnormal moments, flushed to 0 in the scope" : "UNEXPECTED values");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      options.reps = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) {
      options.min_seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--reps N] [--min-seconds S]\n", argv[0]);
      return 2;
    }
  }
  if (!kerascpp::detail::can_flush_subnormals)
    std::printf("this target has no flush-to-zero control: both columns compute with subnormals\n");
  dense(options);
  decay(options);
  return 0;
}
