// bench/workloads.hpp — the benchmark workloads W1..W4 of bench/README.md as kerascpp builds them:
// their shapes, the synthetic N(0, 1) data (made from a seed, the same on every process that uses
// the same seed) and the Sequential model compiled with Adam(1e-3). Shared by kerascpp_bench.cpp
// and mpi_bench.cpp, so that both train exactly the same workloads.
#pragma once

#include <kerascpp/kerascpp.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace kerascpp_bench {

using kerascpp::Index;

enum class Target { gaussian, binary, one_hot };

struct Workload {
  const char* name;
  const char* description;
  Index n_train, n_val, n_in;
  std::vector<Index> hidden;
  Index n_out;
  bool dropout_batchnorm;
  const char* output_activation;
  const char* loss;
  Index batch;
  Target target;
  int epochs, warmup, blocks;  // defaults
};

inline const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all{
      {"W1", "wine: 1119x11 -> Dense 512/512/512 relu -> 1, Adam, MAE, batch 256, val 480", 1119, 480, 11,
       {512, 512, 512}, 1, false, "linear", "mae", 256, Target::gaussian, 20, 2, 1},
      {"W2", "wine-regularized: as W1 with 1024 units, Dropout(0.3) + BatchNormalization per hidden layer", 1119, 480,
       11, {1024, 1024, 1024}, 1, true, "linear", "mae", 256, Target::gaussian, 10, 2, 1},
      {"W3", "ionosphere: 246x33 -> Dense 4/4 relu -> 1 sigmoid, Adam, BCE, batch 512, val 105", 246, 105, 33, {4, 4},
       1, false, "sigmoid", "binary_crossentropy", 512, Target::binary, 1000, 200, 5},
      {"W4", "MNIST-sized: 60000x784 -> Dense 256/128 relu -> 10 softmax, Adam, categorical CE, batch 128", 60000, 0,
       784, {256, 128}, 10, false, "softmax", "categorical_crossentropy", 128, Target::one_hot, 5, 2, 1},
  };
  return all;
}

/// The workload called `name` (W1..W4), or nullptr.
inline const Workload* find_workload(const std::string& name) {
  for (const auto& candidate : workloads())
    if (name == candidate.name) return &candidate;
  return nullptr;
}

template <int Options>
using Data = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Options>;

template <int Options>
struct Sets {
  Data<Options> x, y, xv, yv;
};

template <int Options>
Sets<Options> make_data(const Workload& w, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<Index> cls(0, w.n_out - 1);
  std::bernoulli_distribution coin(0.5);
  const auto fill = [&](Index rows, Data<Options>& x, Data<Options>& y) {
    x.resize(rows, w.n_in);
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < w.n_in; ++j) x(i, j) = normal(gen);
    y.setZero(rows, w.n_out);
    for (Index i = 0; i < rows; ++i) {
      switch (w.target) {
        case Target::gaussian:
          for (Index j = 0; j < w.n_out; ++j) y(i, j) = normal(gen);
          break;
        case Target::binary: y(i, 0) = coin(gen) ? 1.0f : 0.0f; break;
        case Target::one_hot: y(i, cls(gen)) = 1.0f; break;
      }
    }
  };
  Sets<Options> s;
  fill(w.n_train, s.x, s.y);
  if (w.n_val > 0) fill(w.n_val, s.xv, s.yv);
  return s;
}

/// fit's options for `epochs` epochs of workload w on `data`, silent, with one timing callback.
template <int Options>
kerascpp::FitOptions<float> fit_options(const Workload& w, const Sets<Options>& data, int epochs,
                                        kerascpp::Callback<float>& timer) {
  kerascpp::FitOptions<float> options;
  options.batch_size = w.batch;
  options.epochs = epochs;
  options.verbose = 0;
  options.callbacks = {&timer};
  if (w.n_val > 0) options.validation_data = kerascpp::Dataset<float>(data.xv, data.yv);
  return options;
}

inline kerascpp::Sequential<float> make_model(const Workload& w) {
  namespace L = kerascpp::layers;
  kerascpp::Sequential<float> model;
  bool first = true;
  for (Index h : w.hidden) {
    model.add(L::Dense<float>(h, "relu", kerascpp::input_shape{first ? w.n_in : 0}));
    first = false;
    if (w.dropout_batchnorm) {
      model.add(L::Dropout<float>(0.3));
      model.add(L::BatchNormalization<float>());
    }
  }
  model.add(L::Dense<float>(w.n_out, w.output_activation));
  model.compile(kerascpp::optimizers::Adam<float>(1e-3), w.loss);
  return model;
}

}  // namespace kerascpp_bench
