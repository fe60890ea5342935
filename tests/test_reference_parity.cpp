// Parity with an independent implementation: two short training runs recorded with PyTorch
// (float64) and converted to Keras semantics, tests/data/torch_reference_{sgd,adam}.txt; how they
// were made is in tests/data/torch_reference_README.md.
//
// What is compared. The network Dense(16, relu) → BatchNormalization(momentum 0.99, epsilon 1e-3)
// → Dense(8, relu) → Dense(1) on 6 inputs, in double, loss "mse", starts from the file's init_0 …
// init_9 (Keras get_weights order) and makes 20 train_on_batch steps on rows [16b, 16b + 16) of
// x/y with b = step % 4 (no shuffling). For each step the returned loss (the training-mode batch
// loss before that step's update) is compared with loss[step]; after the last step all ten weight
// matrices from get_weights, including BatchNormalization's moving_mean and moving_variance, are
// compared with final_0 … final_9, and predict (inference mode, moving statistics) on rows 0…7
// with predict_first8. Tolerance: |ours − reference| ≤ 1e-5·|reference| + 1e-9.
//
// Semantic differences between torch and Keras, all handled by the generator so that the files
// hold what Keras would compute:
// * SGD momentum: torch keeps v = μv + g, w −= lr·v; Keras keeps v = μv − lr·g, w += v. With a
//   constant learning rate the trajectories are identical.
// * Adam epsilon: torch adds ε after the bias correction, Keras before it. Both runs use
//   ε = 1e-12 (so we compile Adam with epsilon 1e-12, not Keras's 1e-7), which leaves a difference
//   of at most 2.8e-8 relative, far below the tolerance.
// * BatchNormalization momentum: torch's momentum weighs the new batch statistic (0.01), Keras's
//   the old moving value (0.99).
// * BatchNormalization moving variance: torch updates it with the unbiased batch variance,
//   Keras (2-D input) with the biased one; the file's final_5 and predict_first8 use the Keras
//   rule, so a kerascpp using the unbiased variance fails here. torch_running_var is not used.
// * Kernel layout: torch's Linear.weight is (out, in), the file holds Keras's (in, out).
#include <catch2/catch.hpp>

#include <kerascpp/kerascpp.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_reference_parity {

namespace keras = kerascpp;
using namespace keras::layers;
using keras::Index;
using Mat = keras::Matrix<double>;

namespace {

/// The records of a reference file by name.
std::map<std::string, Mat> read_reference(const std::string& file) {
  const std::string path = std::string(KERASCPP_TEST_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) FAIL("cannot open " << path);
  std::map<std::string, Mat> records;
  std::string line;
  while (in.peek() == '#') std::getline(in, line);
  std::string name;
  Index rows = 0, cols = 0;
  while (in >> name >> rows >> cols) {
    Mat m(rows, cols);
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < cols; ++j)
        if (!(in >> m(i, j))) FAIL("truncated record " << name << " in " << path);
    records[name] = m;
  }
  if (!in.eof()) FAIL("unreadable record after '" << name << "' in " << path);
  return records;
}

/// Largest |a − b| / (|b| + floor / rtol), i.e. ≤ rtol exactly when every entry satisfies
/// |a − b| ≤ rtol·|b| + floor.
double worst(const Mat& ours, const Mat& reference, double rtol = 1e-5, double floor = 1e-9) {
  REQUIRE(ours.rows() == reference.rows());
  REQUIRE(ours.cols() == reference.cols());
  double w = 0.0;
  for (Index i = 0; i < ours.rows(); ++i)
    for (Index j = 0; j < ours.cols(); ++j)
      w = std::max(w, std::abs(ours(i, j) - reference(i, j)) / (std::abs(reference(i, j)) + floor / rtol));
  return w;
}

template <typename Optimizer>
void check_run(const std::string& file, const Optimizer& optimizer) {
  const auto ref = read_reference(file);
  for (const char* key : {"x", "y", "loss", "predict_first8"}) REQUIRE(ref.count(key) == 1);
  const Mat& x = ref.at("x");
  const Mat& y = ref.at("y");
  REQUIRE(x.rows() == 64);
  REQUIRE(x.cols() == 6);
  REQUIRE(ref.at("loss").cols() == 20);

  keras::Sequential<double> model{Dense<double>(16, "relu", keras::input_shape{6}),
                                  BatchNormalization<double>(0.99, 1e-3), Dense<double>(8, "relu"),
                                  Dense<double>(1)};
  model.compile(optimizer, "mse");
  std::vector<Mat> init;
  for (int i = 0; i < 10; ++i) init.push_back(ref.at("init_" + std::to_string(i)));
  model.set_weights(init);

  for (int step = 0; step < 20; ++step) {
    const Index b = step % 4;
    const double loss = model.train_on_batch(x.middleRows(16 * b, 16), y.middleRows(16 * b, 16));
    const double expected = ref.at("loss")(0, step);
    INFO(file << " step " << step << ": loss " << loss << ", reference " << expected);
    CHECK(std::abs(loss - expected) <= 1e-5 * std::abs(expected) + 1e-9);
  }

  const auto weights = model.get_weights();
  REQUIRE(weights.size() == 10);
  for (int i = 0; i < 10; ++i) {
    const double w = worst(weights[static_cast<std::size_t>(i)], ref.at("final_" + std::to_string(i)));
    INFO(file << " final_" << i << ": worst relative difference " << w);
    CHECK(w <= 1e-5);
  }
  // The moving variance must not be the unbiased one torch keeps for itself.
  CHECK(worst(weights[5], ref.at("torch_running_var")) > 1e-4);

  const Mat predicted = model.predict(x.topRows(8));
  const double w = worst(predicted, ref.at("predict_first8"));
  INFO(file << " predict_first8: worst relative difference " << w);
  CHECK(w <= 1e-5);
}

}  // namespace

TEST_CASE("SGD with momentum reproduces the PyTorch reference run", "[parity]") {
  check_run("torch_reference_sgd.txt", keras::optimizers::SGD<double>(0.01, 0.9));
}

TEST_CASE("Adam reproduces the PyTorch reference run", "[parity]") {
  check_run("torch_reference_adam.txt", keras::optimizers::Adam<double>(0.001, 0.9, 0.999, 1e-12));
}

TEST_CASE("The reference files hold what the README describes", "[parity]") {
  for (const char* file : {"torch_reference_sgd.txt", "torch_reference_adam.txt"}) {
    const auto ref = read_reference(file);
    INFO(file);
    CHECK(ref.size() == 2 + 10 + 1 + 10 + 1 + 1);
    CHECK(ref.at("init_0").rows() == 6);
    CHECK(ref.at("init_0").cols() == 16);
    CHECK(ref.at("init_4").isZero());   // moving_mean starts at zeros
    CHECK(ref.at("init_5").isOnes());   // moving_variance starts at ones
    CHECK(ref.at("final_6").rows() == 16);
    CHECK(ref.at("final_6").cols() == 8);
    // Every weight matrix moved during the run, so comparing final weights tests each update.
    for (int i = 0; i < 10; ++i) CHECK(ref.at("final_" + std::to_string(i)) != ref.at("init_" + std::to_string(i)));
  }
  // Same initial weights and therefore the same first loss in both runs.
  const auto sgd = read_reference("torch_reference_sgd.txt");
  const auto adam = read_reference("torch_reference_adam.txt");
  CHECK(sgd.at("init_0") == adam.at("init_0"));
  CHECK(sgd.at("loss")(0, 0) == adam.at("loss")(0, 0));
}

}  // namespace test_reference_parity
