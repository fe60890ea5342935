// The training loop allocates nothing per batch once the first batch has sized the buffers.
// count_allocations.hpp replaces malloc and its family, so operator new, Eigen's aligned_malloc
// and temporaries of Eigen expressions are all counted, between the end of one batch and the end
// of the next, for every batch after the first of each epoch. The models are small enough that
// Eigen's products keep their packing workspace on the stack (it takes the heap above 128 KiB).
#include "count_allocations.hpp"

#include <catch2/catch.hpp>
#include <kerascpp/kerascpp.hpp>

#include <atomic>

namespace keras = kerascpp;
using namespace keras::layers;

namespace {

/// Runs fit and returns the largest number of allocations seen inside one batch after the first.
template <typename Model>
long max_allocations_per_batch(Model& model, const keras::Matrix<float>& x, const keras::Matrix<float>& y,
                               keras::Index batch_size) {
  long last = 0, worst = 0;
  int counted = 0;
  keras::callbacks::LambdaCallback<float> probe;
  probe.batch_end = [&](int batch, keras::Logs&) {
    const long now = count_allocations::count.load();
    if (batch > 0) {
      worst = std::max(worst, now - last);
      ++counted;
    }
    last = count_allocations::count.load();
  };
  model.fit(x, y, {.batch_size = batch_size, .epochs = 3, .verbose = 0, .callbacks = {&probe},
                   .validation_data = keras::Dataset{x, y}});
  REQUIRE(counted > 0);
  return worst;
}

}  // namespace

TEST_CASE("no heap allocation per batch after the first: dense network with Adam and MAE", "[allocations]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(300, 11);
  keras::Matrix<float> y = keras::Matrix<float>::Random(300, 1);
  keras::Sequential model{Dense(64, "relu", keras::input_shape{11}), Dense(64, "relu"), Dense(1)};
  model.compile("adam", "mae", {"mae", "root_mean_squared_error"});
  CHECK(max_allocations_per_batch(model, x, y, 64) == 0);
}

TEST_CASE("no heap allocation per batch after the first: dropout, batch normalization, sigmoid", "[allocations]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(200, 8);
  keras::Matrix<float> y = (keras::Matrix<float>::Random(200, 1).array() > 0).cast<float>();
  keras::Sequential model{Dense(32, "relu", keras::input_shape{8}), Dropout(0.3), BatchNormalization(),
                          Dense(16, "tanh"), Dense(1, "sigmoid")};
  model.compile("rmsprop", "binary_crossentropy", {"binary_accuracy"});
  CHECK(max_allocations_per_batch(model, x, y, 32) == 0);
}

TEST_CASE("no heap allocation per batch after the first: narrow Dense layers with a sigmoid fused into BCE",
          "[allocations]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(120, 33);
  keras::Matrix<float> y = (keras::Matrix<float>::Random(120, 1).array() > 0).cast<float>();
  keras::Sequential model{Dense(4, "relu", keras::input_shape{33}), Dense(4, "relu"), Dense(16, "tanh"),
                          Dense(1, "sigmoid")};
  model.compile("adam", "binary_crossentropy");
  CHECK(max_allocations_per_batch(model, x, y, 32) == 0);
}

TEST_CASE("no heap allocation per batch after the first: softmax with categorical cross-entropy", "[allocations]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(150, 5);
  keras::Matrix<float> y = keras::Matrix<float>::Zero(150, 3);
  for (int i = 0; i < 150; ++i) y(i, i % 3) = 1.0f;
  keras::Sequential model{Dense(16, "gelu", keras::input_shape{5}), Dense(3, "softmax")};
  model.compile(keras::optimizers::SGD{0.1, 0.9, true}, "categorical_crossentropy", {"accuracy"});
  CHECK(max_allocations_per_batch(model, x, y, 16) == 0);
}

TEST_CASE("no heap allocation per batch after the first: AUC, precision, recall and F1 states", "[allocations]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(200, 8);
  keras::Matrix<float> y = (keras::Matrix<float>::Random(200, 1).array() > 0).cast<float>();
  keras::Sequential model{Dense(16, "relu", keras::input_shape{8}), Dense(1, "sigmoid")};
  model.compile("adam", "binary_crossentropy",
                {"auc", "precision", "recall", "f1_score", keras::metrics::AUC<float>(50, "PR", "minoring", "pr_auc"),
                 keras::metrics::F1Score<float>("macro", 0.5, "f1_macro")});
  CHECK(max_allocations_per_batch(model, x, y, 32) == 0);

  // Several classes: F1Score() reports one key per class.
  keras::Matrix<float> y3 = keras::Matrix<float>::Zero(200, 3);
  for (int i = 0; i < 200; ++i) y3(i, i % 3) = 1.0f;
  keras::Sequential multi{Dense(16, "relu", keras::input_shape{8}), Dense(3, "softmax")};
  multi.compile("adam", "categorical_crossentropy", {"f1_score", "auc", keras::metrics::Precision<float>(0.5, 2)});
  CHECK(max_allocations_per_batch(multi, x, y3, 32) == 0);
}

TEST_CASE("no heap allocation per batch after the first: a batch split between two threads", "[allocations][threads]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(1000, 11);
  keras::Matrix<float> y = keras::Matrix<float>::Random(1000, 1);
  keras::Sequential model{Dense(64, "relu", keras::input_shape{11}), Dense(64, "relu"), Dense(1)};
  model.compile("adam", "mae", {"auc", "mae"});
  keras::set_num_threads(2);
  const long worst = max_allocations_per_batch(model, x, y, 256);
  keras::set_num_threads(1);
  CHECK(worst == 0);
}

TEST_CASE("no heap allocation per batch after the first: a learning-rate schedule and gradient clipping",
          "[allocations][schedules][clipping]") {
  keras::Matrix<float> x = keras::Matrix<float>::Random(300, 11);
  keras::Matrix<float> y = keras::Matrix<float>::Random(300, 1);
  for (const keras::optimizers::GradientClipping clipping :
       {keras::optimizers::GradientClipping{.clipnorm = 1.0}, keras::optimizers::GradientClipping{.global_clipnorm = 1.0},
        keras::optimizers::GradientClipping{.clipvalue = 0.1}}) {
    keras::Sequential model{Normalization(), Dense(32, "relu"), Dense(1)};
    static_cast<Normalization<float>&>(model.layer(0)).adapt(x);
    const keras::optimizers::schedules::PiecewiseConstantDecay schedule({5, 10}, {1e-2, 1e-3, 1e-4});
    model.compile(keras::optimizers::Adam<float>(schedule, 0.9, 0.999, 1e-7, clipping), "mae");
    CHECK(max_allocations_per_batch(model, x, y, 32) == 0);
  }
}
