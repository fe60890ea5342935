// Tests of kerascpp/layers: a generic layer contract for every layer type, finite-difference gradient
// checks of Dense (every activation, with and without bias, with each kernel regularizer), Dropout and
// BatchNormalization, and known values against the Keras 3 definitions (keras/src/layers/core/dense.py,
// regularization/dropout.py, normalization/batch_normalization.py).
#include "gradient_check.hpp"

#include <kerascpp/layers.hpp>
#include <kerascpp/regularizers.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_layers {

using kerascpp::Index;
using kerascpp::Rng;
using kerascpp::StateError;
using kerascpp::ValueError;
using kerascpp::layers::BatchNormalization;
using kerascpp::layers::Dense;
using kerascpp::layers::Dropout;
using kerascpp_test::cview;
using kerascpp_test::Mat;
using Catch::Contains;

namespace {

const std::vector<std::string> all_activations{"linear", "relu",  "sigmoid", "tanh",       "softmax",  "elu",
                                               "selu",   "gelu",  "swish",   "leaky_relu", "softplus", "hard_sigmoid"};

struct ExpectedWeight {
  std::string name;
  Index rows;
  Index cols;
  bool trainable;
};

/// Keras's run_layer_test in miniature: build, widths, weights (names, shapes, trainability, gradient
/// shapes, count_params), an inference forward that leaves every weight unchanged, a smaller batch
/// reusing the buffers, backward before any forward, and clone.
void check_layer_contract(kerascpp::Layer<double>& layer, Index in, Index out, const std::string& type,
                          const std::vector<ExpectedWeight>& expected) {
  INFO("layer type " << type);
  layer.set_name("layer_under_test");
  CHECK(layer.type() == type);
  CHECK_FALSE(layer.built());
  CHECK(layer.weights().empty());

  Rng rng(3);
  layer.build(in, rng);
  CHECK(layer.built());
  CHECK(layer.input_width() == in);
  CHECK(layer.output_width() == out);

  auto weights = layer.weights();
  REQUIRE(weights.size() == expected.size());
  Index params = 0;
  for (std::size_t k = 0; k < expected.size(); ++k) {
    INFO("weight " << k);
    CHECK(weights[k].name == expected[k].name);
    REQUIRE(weights[k].value != nullptr);
    CHECK(weights[k].value->rows() == expected[k].rows);
    CHECK(weights[k].value->cols() == expected[k].cols);
    CHECK(weights[k].trainable() == expected[k].trainable);
    if (weights[k].trainable()) {
      CHECK(weights[k].grad->rows() == expected[k].rows);
      CHECK(weights[k].grad->cols() == expected[k].cols);
    }
    params += expected[k].rows * expected[k].cols;
  }
  CHECK(layer.count_params() == params);

  CHECK_THROWS_AS(layer.backward(cview(Mat::Zero(2, out)), true, false), StateError);

  std::vector<Mat> before;
  for (const auto& w : weights) before.push_back(*w.value);
  const Mat x = kerascpp_test::uniform_matrix(7, in, -2.0, 2.0, 17);
  const auto y = layer.forward(cview(x), false);
  CHECK(y.rows() == 7);
  CHECK(y.cols() == out);
  CHECK(y.allFinite());
  for (std::size_t k = 0; k < weights.size(); ++k) {
    INFO("weight " << weights[k].name << " after an inference forward");
    CHECK((*weights[k].value - before[k]).cwiseAbs().maxCoeff() == 0.0);
  }

  const Mat x_small = x.topRows(3);
  const Mat y_full = layer.forward(cview(x), false);
  const Mat y_small = layer.forward(cview(x_small), false);
  REQUIRE(y_small.rows() == 3);
  CHECK((y_small - y_full.topRows(3)).cwiseAbs().maxCoeff() == 0.0);

  const auto copy = layer.clone();
  CHECK(copy->type() == type);
  CHECK(copy->config() == layer.config());
  CHECK(copy->output_width() == out);
  auto copied = copy->weights();
  REQUIRE(copied.size() == weights.size());
  for (std::size_t k = 0; k < weights.size(); ++k) {
    CHECK(copied[k].value != weights[k].value);
    CHECK((*copied[k].value - *weights[k].value).cwiseAbs().maxCoeff() == 0.0);
  }
}

/// A built Dense<double>(4) on 3 inputs with a kernel whose entries are 0.1 to 0.9 away from 0 and a
/// bias of ±(0.1 … 0.5), so l1 penalties and biases are exercised away from their kinks.
Dense<double> make_dense(const std::string& activation, bool use_bias, kerascpp::Regularizer regularizer = {}) {
  Dense<double> dense(4, activation, {}, use_bias, "glorot_uniform", "zeros", regularizer);
  dense.set_name("dense");
  Rng rng(1);
  dense.build(3, rng);
  *dense.weights()[0].value = kerascpp_test::away_from_zero(3, 4, 0.1, 0.9, 101);
  if (use_bias) *dense.weights()[1].value = kerascpp_test::away_from_zero(1, 4, 0.1, 0.5, 102);
  return dense;
}

/// z = x·W + b of a Dense layer, computed here independently of the layer.
Mat pre_activation(Dense<double>& dense, const Mat& x) {
  auto w = dense.weights();
  Mat z = x * *w[0].value;
  if (dense.use_bias()) z.rowwise() += w[1].value->row(0);
  return z;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Layer contract

TEST_CASE("layer contract: Dense with and without bias", "[layers][contract][dense]") {
  Dense<double> with_bias(4, "relu");
  check_layer_contract(with_bias, 3, 4, "Dense", {{"kernel", 3, 4, true}, {"bias", 1, 4, true}});
  Dense<double> without_bias(2, "softmax", {}, false);
  check_layer_contract(without_bias, 5, 2, "Dense", {{"kernel", 5, 2, true}});
}

TEST_CASE("layer contract: Activation", "[layers][contract][activation]") {
  kerascpp::layers::Activation<double> layer("tanh");
  check_layer_contract(layer, 5, 5, "Activation", {});
}

TEST_CASE("layer contract: Dropout", "[layers][contract][dropout]") {
  Dropout<double> layer(0.5, 9);
  check_layer_contract(layer, 6, 6, "Dropout", {});
}

TEST_CASE("layer contract: BatchNormalization", "[layers][contract][batch_normalization]") {
  BatchNormalization<double> layer;
  check_layer_contract(layer, 3, 3, "BatchNormalization",
                       {{"gamma", 1, 3, true}, {"beta", 1, 3, true}, {"moving_mean", 1, 3, false},
                        {"moving_variance", 1, 3, false}});
}

TEST_CASE("a declared input_shape that disagrees with the input is rejected at build", "[layers][contract]") {
  Dense<double> dense(4, "relu", kerascpp::input_shape{3});
  dense.set_name("dense_1");
  Rng rng(1);
  const std::string message = kerascpp_test::thrown_message<ValueError>([&] { dense.build(5, rng); });
  CHECK_THAT(message, Contains("dense_1") && Contains("declares width 3") && Contains("width 5"));
  CHECK_FALSE(dense.built());
  dense.build(3, rng);
  CHECK(dense.built());
}

// ---------------------------------------------------------------------------------------------
// Dense

TEST_CASE("Dense gradient check for every activation, with and without bias", "[layers][dense][gradient]") {
  const std::string activation = GENERATE(from_range(all_activations));
  const bool use_bias = GENERATE(true, false);
  INFO("Dense(4, \"" << activation << "\", use_bias=" << use_bias << ")");
  Dense<double> dense = make_dense(activation, use_bias);
  const Mat x = kerascpp_test::uniform_matrix(5, 3, -2.0, 2.0, 103);
  const Mat z = pre_activation(dense, x);
  REQUIRE(kerascpp_test::distance_to_kinks(dense.activation(), z) > 1e-2);
  kerascpp_test::check_layer_gradients(dense, x);
}

TEST_CASE("Dense narrow products: shapes that take them and shapes that do not, against Eigen and the gradient check",
          "[layers][dense][gradient][narrow]") {
  // (in, units, batch, activation, narrow forward, narrow input gradient); batches of 19, 13, 11 … rows
  // cover the kernels' blocks of 8, 4, 2 and 1 rows. The kernel gradient of units = 1 is narrow for
  // batches of up to 8 rows only (7 here, and 13, 9 not).
  const auto [in, units, rows, activation, narrow_units, narrow_in] =
      GENERATE(table<Index, Index, Index, std::string, bool, bool>({{33, 4, 19, "relu", true, false},
                                                                     {4, 4, 11, "relu", true, true},
                                                                     {4, 1, 13, "sigmoid", true, true},
                                                                     {3, 1, 7, "linear", true, false},
                                                                     {16, 1, 9, "tanh", false, false},
                                                                     {8, 8, 17, "swish", false, false},
                                                                     {5, 16, 10, "relu", false, false},
                                                                     {16, 4, 3, "linear", true, false},
                                                                     {9, 1, 6, "sigmoid", false, false},
                                                                     {5, 3, 7, "relu", false, false},
                                                                     {12, 2, 6, "elu", false, false}}));
  INFO("Dense(" << units << ", \"" << activation << "\") on " << in << " inputs, batch " << rows);
  CHECK(kerascpp::detail::narrow(units, in) == narrow_units);
  CHECK(kerascpp::detail::narrow(in, units) == narrow_in);
  Dense<double> dense(units, activation);
  Rng rng(7);
  dense.build(in, rng);
  auto w = dense.weights();
  *w[0].value = kerascpp_test::away_from_zero(in, units, 0.1, 0.9, 111);
  *w[1].value = kerascpp_test::away_from_zero(1, units, 0.1, 0.5, 112);
  const Mat x = kerascpp_test::uniform_matrix(rows, in, -2.0, 2.0, 113);
  const Mat z = pre_activation(dense, x);
  REQUIRE(kerascpp_test::distance_to_kinks(dense.activation(), z) > 1e-2);

  // forward: f(x·W + b) computed here with Eigen
  Mat expected(rows, units);
  kerascpp::activations::forward<double>(dense.activation(), cview(z), kerascpp_test::mview(expected));
  const Mat y = dense.forward(cview(x), true);
  CHECK((y - expected).cwiseAbs().maxCoeff() <= 1e-13);

  // backward: dz = f'(z) ∘ G, kernel gradient xᵀ·dz, bias gradient Σ_i dz_i, dx = dz·Wᵀ
  const Mat g = kerascpp_test::uniform_matrix(rows, units, -1.0, 1.0, 114);
  Mat dz(rows, units);
  kerascpp::activations::backward<double>(dense.activation(), cview(z), cview(expected), cview(g),
                                          kerascpp_test::mview(dz));
  const Mat dx = dense.backward(cview(g), true, false);
  CHECK((*w[0].grad - x.transpose() * dz).cwiseAbs().maxCoeff() <= 1e-12);
  CHECK((*w[1].grad - dz.colwise().sum()).cwiseAbs().maxCoeff() <= 1e-12);
  CHECK((dx - dz * w[0].value->transpose()).cwiseAbs().maxCoeff() <= 1e-12);

  if (narrow_units) {  // narrow_product sums every row in the same order: a sample's output does not depend on its batch
    const Mat y_full = dense.forward(cview(x), false);
    const Mat x_tail = x.bottomRows(rows - 1);
    const Mat y_tail = dense.forward(cview(x_tail), false);
    CHECK((y_tail - y_full.bottomRows(rows - 1)).cwiseAbs().maxCoeff() == 0.0);
  }

  kerascpp_test::check_layer_gradients(dense, x);
}

TEST_CASE("narrow_product in float agrees with a double product for every width, block and option",
          "[layers][dense][narrow]") {
  using FMat = kerascpp::RowMatrix<float>;
  const Index width = GENERATE(1, 4);
  const Index rows = GENERATE(1, 2, 3, 7, 8, 9, 15, 21);
  const Index depth = GENERATE(1, 3, 8, 33);
  const bool split = GENERATE(false, true);
  const bool relu = GENERATE(false, true);
  INFO("width " << width << ", rows " << rows << ", depth " << depth << ", split " << split << ", relu " << relu);
  // a (rows × depth) is read as the transpose of a stored (depth × rows) matrix, as for Dense's kernel gradient
  const FMat a_t = kerascpp_test::uniform_matrix(depth, rows, -1.0, 1.0, 121).cast<float>();
  const FMat b = kerascpp_test::uniform_matrix(depth, width, -1.0, 1.0, 122).cast<float>();
  const FMat bias = kerascpp_test::uniform_matrix(1, width, -1.0, 1.0, 123).cast<float>();
  FMat c = FMat::Constant(rows, width, 1e30f);
  if (split)
    kerascpp::detail::narrow_product<true>(width, rows, depth, a_t.data(), 1, rows, b.data(), c.data(), bias.data(),
                                           relu);
  else
    kerascpp::detail::narrow_product<false>(width, rows, depth, a_t.data(), 1, rows, b.data(), c.data(),
                                            bias.data(), relu);
  Mat expected = a_t.cast<double>().transpose() * b.cast<double>();
  expected.rowwise() += bias.cast<double>().row(0);
  if (relu) expected = expected.cwiseMax(0.0);
  const double scale = static_cast<double>(depth + 1) * 1e-6;
  CHECK((c.cast<double>() - expected).cwiseAbs().maxCoeff() <= scale);
}

TEST_CASE("Dense with hard_sigmoid is checked on both sides of its ±3 kinks", "[layers][dense][gradient]") {
  Dense<double> dense = make_dense("hard_sigmoid", true);
  const Mat x = kerascpp_test::uniform_matrix(8, 3, -4.0, 4.0, 104);
  const Mat z = pre_activation(dense, x);
  CHECK((z.array() < -3.0).any());
  CHECK((z.array() > 3.0).any());
  CHECK((z.array().abs() < 3.0).any());
  REQUIRE(kerascpp_test::distance_to_kinks(dense.activation(), z) > 1e-2);
  kerascpp_test::check_layer_gradients(dense, x);
}

TEST_CASE("Dense gradient check with kernel regularizers l1, l2 and l1_l2", "[layers][dense][gradient][regularizer]") {
  const auto [label, regularizer] = GENERATE(table<std::string, kerascpp::Regularizer>(
      {{"l1(0.05)", kerascpp::regularizers::l1(0.05)},
       {"l2(0.1)", kerascpp::regularizers::l2(0.1)},
       {"l1_l2(0.05, 0.1)", kerascpp::regularizers::l1_l2(0.05, 0.1)}}));
  const std::string activation = GENERATE(from_range(all_activations));
  INFO("Dense(4, \"" << activation << "\", kernel_regularizer=" << label << ")");
  Dense<double> dense = make_dense(activation, true, regularizer);
  const Mat x = kerascpp_test::uniform_matrix(5, 3, -2.0, 2.0, 105);
  REQUIRE(kerascpp_test::distance_to_kinks(dense.activation(), pre_activation(dense, x)) > 1e-2);
  kerascpp_test::check_layer_gradients(dense, x);  // f = ⟨y, G⟩ + penalty
}

TEST_CASE("Dense regularization penalty is l1·Σ|W| + l2·ΣW² of the kernel only", "[layers][dense][regularizer]") {
  Dense<double> dense = make_dense("linear", true, kerascpp::regularizers::l1_l2(0.05, 0.1));
  auto w = dense.weights();
  *w[0].value << 0.5, -1.0, 0.0, 2.0,  //
      1.0, 0.25, -0.5, 0.0,            //
      0.0, 0.0, 0.0, -3.0;
  *w[1].value << 100.0, 100.0, 100.0, 100.0;  // never penalised
  // Σ|W| = 0.5 + 1 + 2 + 1 + 0.25 + 0.5 + 3 = 8.25; ΣW² = 0.25 + 1 + 4 + 1 + 0.0625 + 0.25 + 9 = 15.5625
  // penalty = 0.05·8.25 + 0.1·15.5625 = 0.4125 + 1.55625 = 1.96875
  CHECK(dense.regularization_penalty() == Approx(1.96875).epsilon(1e-14));
  CHECK(make_dense("linear", true).regularization_penalty() == 0.0);

  // The gradient holds l1·sign(W) + 2·l2·W on top of xᵀ·dy; with dy = 0 it is exactly that.
  const Mat x = kerascpp_test::uniform_matrix(2, 3, -1.0, 1.0, 106);
  dense.forward(cview(x), true);
  dense.backward(cview(Mat::Zero(2, 4)), false, false);
  const Mat expected = 0.05 * w[0].value->array().sign().matrix() + 0.2 * *w[0].value;
  CHECK((*w[0].grad - expected).cwiseAbs().maxCoeff() < 1e-15);
  CHECK(w[1].grad->cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("regularizer factories take Keras defaults and reject negative values", "[layers][regularizer]") {
  CHECK(kerascpp::regularizers::l1().l1 == 0.01);
  CHECK(kerascpp::regularizers::l2().l2 == 0.01);
  CHECK(kerascpp::regularizers::l1_l2().l1 == 0.01);
  CHECK(kerascpp::regularizers::l1_l2().l2 == 0.01);
  CHECK_FALSE(kerascpp::Regularizer{}.active());
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { kerascpp::regularizers::l2(-0.5); }),
             Contains("l2 must be a finite non-negative number") && Contains("l2=-0.5"));
}

TEST_CASE("Dense refuses regularizer factors its Scalar cannot hold, and braced factors that are negative or NaN",
          "[layers][regularizer]") {
  using kerascpp::layers::Dense;
  using kerascpp_test::thrown_message;
  // 2·l2·w is computed in Scalar: a float model holds l1 up to 3.4e38 and l2 up to half of that.
  CHECK_THAT(thrown_message<ValueError>([] { Dense<float>(3, "relu", kerascpp::regularizers::l2(1e300)); }),
             Contains("Dense: kernel_regularizer is beyond the range of the model's float (l1 and 2·l2 at most 3.40282346638529e+38)") &&
                 Contains("received l1=0, l2=1e+300"));
  CHECK_THAT(thrown_message<ValueError>([] { Dense<float>(3, "relu", kerascpp::regularizers::l1(1e39)); }),
             Contains("received l1=1e+39, l2=0"));
  CHECK_THAT(thrown_message<ValueError>([] { Dense<float>(3, "relu", kerascpp::regularizers::l2(2e38)); }),
             Contains("beyond the range of the model's float"));
  CHECK_NOTHROW(Dense<float>(3, "relu", kerascpp::regularizers::l2(1e38)));
  CHECK_NOTHROW(Dense<double>(3, "relu", kerascpp::regularizers::l2(1e300)));
  CHECK_THAT(thrown_message<ValueError>([] { Dense<double>(3, "relu", kerascpp::Regularizer{-1.0, 0.0}); }),
             Contains("l1 must be a finite non-negative number, received l1=-1"));
  CHECK_THAT(thrown_message<ValueError>(
                 [] { Dense<double>(3, "relu", kerascpp::Regularizer{0.0, std::numeric_limits<double>::quiet_NaN()}); }),
             Contains("l2 must be a finite non-negative number"));
}

TEST_CASE("Dense with sigmoid or softmax fused with the loss back-propagates dL/dz", "[layers][dense][gradient]") {
  const std::string activation = GENERATE(as<std::string>{}, "sigmoid", "softmax");
  INFO("Dense(4, \"" << activation << "\") with logits_grad");
  Dense<double> dense = make_dense(activation, true);
  const Mat x = kerascpp_test::uniform_matrix(5, 3, -2.0, 2.0, 107);
  kerascpp_test::LayerCheck check;
  check.logits = true;  // f = ⟨z, G⟩
  kerascpp_test::check_layer_gradients(dense, x, check);
  dense.forward(cview(x), true);
  CHECK((Mat(dense.logits()) - pre_activation(dense, x)).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("Dense forward on hand-set weights", "[layers][dense][values]") {
  Dense<double> dense(2, "linear");
  Rng rng(1);
  dense.build(3, rng);
  auto w = dense.weights();
  *w[0].value << 0.1, 0.2,  //
      0.3, -0.4,            //
      0.5, 0.6;
  *w[1].value << 0.01, -0.5;
  Mat x(2, 3);
  x << 1.0, 2.0, 3.0,  //
      -1.0, 0.0, 1.0;
  // row 0: 1·0.1 + 2·0.3 + 3·0.5 + 0.01 = 2.21;  1·0.2 − 2·0.4 + 3·0.6 − 0.5 = 0.7
  // row 1: −0.1 + 0 + 0.5 + 0.01 = 0.41;         −0.2 + 0 + 0.6 − 0.5 = −0.1
  Mat expected(2, 2);
  expected << 2.21, 0.7,  //
      0.41, -0.1;
  CHECK((Mat(dense.forward(cview(x), false)) - expected).cwiseAbs().maxCoeff() < 1e-14);

  // dy = 1: dW = xᵀ·1 = column sums of x (0, 2, 4) in each unit; db = rows = 2; dx = 1·Wᵀ = row sums of W.
  dense.forward(cview(x), true);
  const Mat dx = dense.backward(cview(Mat::Ones(2, 2)), true, false);
  Mat dw(3, 2);
  dw << 0.0, 0.0,  //
      2.0, 2.0,    //
      4.0, 4.0;
  CHECK((*w[0].grad - dw).cwiseAbs().maxCoeff() < 1e-14);
  CHECK((*w[1].grad - Mat::Constant(1, 2, 2.0)).cwiseAbs().maxCoeff() < 1e-14);
  Mat dx_expected(2, 3);
  dx_expected << 0.3, -0.1, 1.1,  //
      0.3, -0.1, 1.1;
  CHECK((dx - dx_expected).cwiseAbs().maxCoeff() < 1e-14);

  Dense<double> relu(2, "relu");
  relu.build(3, rng);
  *relu.weights()[0].value = *w[0].value;
  *relu.weights()[1].value = *w[1].value;
  Mat expected_relu = expected;
  expected_relu(1, 1) = 0.0;
  CHECK((Mat(relu.forward(cview(x), false)) - expected_relu).cwiseAbs().maxCoeff() < 1e-14);

  Dense<double> sigmoid(2, "sigmoid");
  sigmoid.build(3, rng);
  *sigmoid.weights()[0].value = *w[0].value;
  *sigmoid.weights()[1].value = *w[1].value;
  const Mat ys = sigmoid.forward(cview(x), false);
  CHECK(ys(0, 0) == Approx(1.0 / (1.0 + std::exp(-2.21))).epsilon(1e-14));
  CHECK(ys(1, 1) == Approx(1.0 / (1.0 + std::exp(0.1))).epsilon(1e-14));
}

TEST_CASE("Dense takes Keras defaults: glorot_uniform kernel, zero bias, linear activation", "[layers][dense]") {
  Dense<double> dense(20);
  CHECK(dense.activation() == kerascpp::Activation::linear);
  CHECK(dense.use_bias());
  Rng rng(5);
  dense.build(30, rng);
  auto w = dense.weights();
  const double limit = std::sqrt(6.0 / (30.0 + 20.0));
  CHECK(w[0].value->cwiseAbs().maxCoeff() <= limit);
  CHECK(w[0].value->cwiseAbs().maxCoeff() > 0.9 * limit);
  CHECK(w[1].value->cwiseAbs().maxCoeff() == 0.0);
  const auto config = dense.config();
  CHECK(config.at("units") == "20");
  CHECK(config.at("activation") == "linear");
  CHECK(config.at("kernel_initializer") == "glorot_uniform");
  CHECK(config.at("bias_initializer") == "zeros");
}

TEST_CASE("Dense bias initializer uses Keras's fans of a 1-D shape (fan_in = fan_out = units)",
          "[layers][dense][initializers]") {
  // Keras computes the fans of the bias shape (units,) as fan_in = fan_out = units
  // (keras/src/initializers/random_initializers.py::compute_fans), whatever the layer's input width.
  // he_uniform on a (2000,) bias: limit sqrt(6/2000) = 0.0548; with the kernel's fan_in = 1 it would
  // be sqrt(6) = 2.45.
  Dense<double> dense(2000, "linear", {}, true, "zeros", "he_uniform");
  Rng rng(8);
  dense.build(1, rng);
  const Mat& bias = *dense.weights()[1].value;
  const double limit = std::sqrt(6.0 / 2000.0);
  CHECK(bias.cwiseAbs().maxCoeff() <= limit);
  CHECK(bias.cwiseAbs().maxCoeff() > 0.99 * limit);
}

TEST_CASE("Dense rejects bad arguments with Keras-style messages", "[layers][dense][errors]") {
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { Dense<double> d(0); }),
             Contains("units must be positive, received units=0"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { Dense<double> d(-3, "relu"); }), Contains("units=-3"));
  const std::string unknown = kerascpp_test::thrown_message<ValueError>([] { Dense<double> d(4, "rellu"); });
  CHECK_THAT(unknown, Contains("unknown activation 'rellu'") && Contains("valid names are") && Contains("relu") &&
                          Contains("hard_sigmoid"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>(
                 [] { Dense<double> d(4, "relu", {}, true, "glorot_uniformm"); }),
             Contains("unknown initializer 'glorot_uniformm'") && Contains("he_normal"));
}

// ---------------------------------------------------------------------------------------------
// Dropout

TEST_CASE("Dropout gradient check in training mode with a fixed mask", "[layers][dropout][gradient]") {
  Dropout<double> dropout(0.25);
  dropout.set_name("dropout");
  Rng rng(1);
  dropout.build(4, rng);
  const Mat mask = (kerascpp_test::uniform_matrix(5, 4, 0.0, 1.0, 201).array() >= 0.25).cast<double>().matrix();
  REQUIRE(mask.sum() > 0.0);
  REQUIRE(mask.sum() < 20.0);
  dropout.set_fixed_mask(mask);
  const Mat x = kerascpp_test::uniform_matrix(5, 4, -2.0, 2.0, 202);
  kerascpp_test::check_layer_gradients(dropout, x);

  // y = x ∘ mask / (1 − 0.25)
  const Mat y = dropout.forward(cview(x), true);
  CHECK((y - (x.array() * mask.array() / 0.75).matrix()).cwiseAbs().maxCoeff() < 1e-15);
  const Mat wrong = Mat::Ones(3, 4);
  dropout.set_fixed_mask(wrong);
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { dropout.forward(cview(x), true); }),
             Contains("fixed mask has shape (3, 4)") && Contains("(5, 4)"));
}

TEST_CASE("Dropout at inference is the identity, with an identity gradient", "[layers][dropout][gradient]") {
  Dropout<double> dropout(0.5, 7);
  Rng rng(1);
  dropout.build(4, rng);
  const Mat x = kerascpp_test::uniform_matrix(5, 4, -2.0, 2.0, 203);
  const Mat y = dropout.forward(cview(x), false);
  CHECK((y - x).cwiseAbs().maxCoeff() == 0.0);
  kerascpp_test::LayerCheck check;
  check.training = false;
  kerascpp_test::check_layer_gradients(dropout, x, check);
}

TEST_CASE("Dropout with rate 0 is the identity even in training", "[layers][dropout]") {
  Dropout<double> dropout(0.0, 7);
  Rng rng(1);
  dropout.build(4, rng);
  const Mat x = kerascpp_test::uniform_matrix(50, 4, -2.0, 2.0, 204);
  CHECK((Mat(dropout.forward(cview(x), true)) - x).cwiseAbs().maxCoeff() == 0.0);
  const Mat g = kerascpp_test::normal_matrix(50, 4, 205);
  CHECK((Mat(dropout.backward(cview(g), true, false)) - g).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("Dropout keeps about 1 − rate of 10^5 entries and scales them by 1/(1 − rate)",
          "[layers][dropout][statistics]") {
  const double rate = GENERATE(0.1, 0.3, 0.5, 0.8);
  INFO("rate " << rate);
  Dropout<double> dropout(rate, 12345);
  Rng rng(1);
  dropout.build(100, rng);
  const Mat x = Mat::Ones(1000, 100);
  const Mat y = dropout.forward(cview(x), true);
  const double n = static_cast<double>(y.size());
  const double kept = (y.array() != 0.0).cast<double>().sum();
  // Binomial(10^5, 1 − rate): standard deviation of the kept fraction ≤ 0.0016, so 0.01 is > 6σ.
  CHECK(kept / n == Approx(1.0 - rate).margin(0.01));
  const double scale = 1.0 / (1.0 - rate);
  CHECK(((y.array() == 0.0) || ((y.array() - scale).abs() < 1e-12)).all());
  // Inverted dropout keeps the expectation: mean(y) ≈ 1.
  CHECK(y.mean() == Approx(1.0).margin(0.01 * scale));

  // The gradient uses the same mask and scale.
  const Mat g = Mat::Constant(1000, 100, 2.0);
  const Mat dx = dropout.backward(cview(g), true, false);
  CHECK((dx - 2.0 * y).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("Dropout masks: same seed gives the same mask, a new step gives a new mask",
          "[layers][dropout]") {
  const Mat x = kerascpp_test::uniform_matrix(20, 10, 1.0, 2.0, 206);
  Rng rng(1);
  Dropout<double> a(0.5, 42), b(0.5, 42), c(0.5, 43);
  a.build(10, rng);
  b.build(10, rng);
  c.build(10, rng);
  const Mat ya = a.forward(cview(x), true);
  const Mat yb = b.forward(cview(x), true);
  const Mat yc = c.forward(cview(x), true);
  CHECK((ya - yb).cwiseAbs().maxCoeff() == 0.0);
  CHECK((ya - yc).cwiseAbs().maxCoeff() > 0.0);
  const Mat ya_again = a.forward(cview(x), true);
  CHECK((ya_again - ya).cwiseAbs().maxCoeff() == 0.0);  // the same step and rows draw the same mask
  a.set_position({1, 0});
  const Mat ya2 = a.forward(cview(x), true);
  CHECK((ya2 - ya).cwiseAbs().maxCoeff() > 0.0);
  a.set_position({0, 0});

  // seed_layer re-seeds a layer created without a seed, and leaves an explicit seed alone.
  Dropout<double> unseeded(0.5), seeded(0.5, 43);
  unseeded.build(10, rng);
  seeded.build(10, rng);
  unseeded.seed_layer(42);
  seeded.seed_layer(42);
  CHECK((Mat(unseeded.forward(cview(x), true)) - ya).cwiseAbs().maxCoeff() == 0.0);
  CHECK((Mat(seeded.forward(cview(x), true)) - yc).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("Dropout masks depend on a row's place in the whole batch, not on how the batch is split",
          "[layers][dropout]") {
  const Mat x = kerascpp_test::uniform_matrix(20, 7, 1.0, 2.0, 207);
  Rng rng(1);
  Dropout<double> whole(0.4, 9), part(0.4, 9);
  whole.build(7, rng);
  part.build(7, rng);
  whole.set_position({5, 0});
  const Mat y = whole.forward(cview(x), true);
  for (const Index split : {Index{4}, Index{8}, Index{13}}) {
    INFO("rows " << split << " to 20 run as a batch of their own");
    const Mat rest = x.bottomRows(20 - split);
    part.set_position({5, split});
    const Mat y_rest = part.forward(cview(rest), true);
    CHECK((y_rest - y.bottomRows(20 - split)).cwiseAbs().maxCoeff() == 0.0);
  }
  whole.set_position({6, 0});
  CHECK((Mat(whole.forward(cview(x), true)) - y).cwiseAbs().maxCoeff() > 0.0);
}

TEST_CASE("Dropout rejects a rate of 1, a negative rate and NaN", "[layers][dropout][errors]") {
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { Dropout<double> d(1.0); }),
             Contains("Dropout: rate must be in [0, 1), received rate=1"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { Dropout<double> d(-0.1); }),
             Contains("received rate=-0.1"));
  CHECK_THROWS_AS(Dropout<double>(std::nan("")), ValueError);
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization

namespace {

/// A built BatchNormalization on 3 features with γ in [0.5, 1.5] and β in [−0.5, 0.5].
BatchNormalization<double> make_batch_norm() {
  BatchNormalization<double> bn;
  bn.set_name("batch_normalization");
  Rng rng(1);
  bn.build(3, rng);
  auto w = bn.weights();
  *w[0].value = kerascpp_test::uniform_matrix(1, 3, 0.5, 1.5, 301);
  *w[1].value = kerascpp_test::uniform_matrix(1, 3, -0.5, 0.5, 302);
  return bn;
}

/// Features with different means and spreads: column j is 2j + (j + 1)·u, u uniform on [−1, 1).
Mat batch_norm_input(Index rows, std::uint64_t seed) {
  Mat x = kerascpp_test::uniform_matrix(rows, 3, -1.0, 1.0, seed);
  for (Index j = 0; j < 3; ++j) x.col(j) = (x.col(j).array() * static_cast<double>(j + 1) + 2.0 * static_cast<double>(j)).matrix();
  return x;
}

}  // namespace

TEST_CASE("BatchNormalization gradient check in training mode (x, gamma, beta)",
          "[layers][batch_normalization][gradient]") {
  BatchNormalization<double> bn = make_batch_norm();
  const Mat x = batch_norm_input(6, 303);
  kerascpp_test::check_layer_gradients(bn, x);
}

TEST_CASE("BatchNormalization gradient check in inference mode after some training steps",
          "[layers][batch_normalization][gradient]") {
  BatchNormalization<double> bn = make_batch_norm();
  for (std::uint64_t step = 0; step < 5; ++step) bn.forward(cview(batch_norm_input(8, 310 + step)), true);
  auto w = bn.weights();
  REQUIRE((w[2].value->array() != 0.0).all());
  REQUIRE((w[3].value->array() != 1.0).all());
  const Mat moving_mean = *w[2].value, moving_variance = *w[3].value;
  kerascpp_test::LayerCheck check;
  check.training = false;
  kerascpp_test::check_layer_gradients(bn, batch_norm_input(6, 304), check);
  CHECK((*w[2].value - moving_mean).cwiseAbs().maxCoeff() == 0.0);
  CHECK((*w[3].value - moving_variance).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("BatchNormalization training output: per-feature mean 0, biased variance var/(var+eps)",
          "[layers][batch_normalization][values]") {
  BatchNormalization<double> bn;  // momentum 0.99, epsilon 1e-3, γ = 1, β = 0
  Rng rng(1);
  bn.build(2, rng);
  Mat x(4, 2);
  x << 1.0, 10.0,  //
      2.0, 20.0,   //
      3.0, 30.0,   //
      4.0, 60.0;
  // column 0: mean 2.5, biased variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25
  // column 1: mean 30,  biased variance (400 + 100 + 0 + 900)/4 = 350
  const Mat y = bn.forward(cview(x), true);
  CHECK(y.col(0).mean() == Approx(0.0).margin(1e-14));
  CHECK(y.col(1).mean() == Approx(0.0).margin(1e-14));
  CHECK(y.col(0).squaredNorm() / 4.0 == Approx(1.25 / (1.25 + 1e-3)).epsilon(1e-13));
  CHECK(y.col(1).squaredNorm() / 4.0 == Approx(350.0 / (350.0 + 1e-3)).epsilon(1e-13));
  CHECK(y(0, 0) == Approx(-1.5 / std::sqrt(1.25 + 1e-3)).epsilon(1e-14));

  // moving = 0.99·initial + 0.01·batch statistic, with the biased variance (Keras, 2-D input):
  // mean (0.025, 0.3); variance 0.99 + 0.01·(1.25, 350) = (1.0025, 4.49). Bessel's n/(n−1) would give
  // 0.99 + 0.01·(1.6667, 466.67) = (1.00667, 5.6567).
  auto w = bn.weights();
  CHECK((*w[2].value)(0, 0) == Approx(0.025).epsilon(1e-14));
  CHECK((*w[2].value)(0, 1) == Approx(0.3).epsilon(1e-14));
  CHECK((*w[3].value)(0, 0) == Approx(1.0025).epsilon(1e-14));
  CHECK((*w[3].value)(0, 1) == Approx(4.49).epsilon(1e-14));

  // A second step: 0.99·0.3 + 0.01·30 = 0.597; 0.99·4.49 + 0.01·350 = 7.9451.
  bn.forward(cview(x), true);
  CHECK((*w[2].value)(0, 1) == Approx(0.597).epsilon(1e-14));
  CHECK((*w[3].value)(0, 1) == Approx(7.9451).epsilon(1e-14));
}

TEST_CASE("BatchNormalization inference uses the moving statistics, gamma and beta",
          "[layers][batch_normalization][values]") {
  BatchNormalization<double> bn(0.9, 0.01);
  Rng rng(1);
  bn.build(2, rng);
  auto w = bn.weights();
  *w[0].value << 2.0, 0.5;     // γ
  *w[1].value << 1.0, -1.0;    // β
  *w[2].value << 3.0, -2.0;    // moving mean
  *w[3].value << 3.99, 0.24;   // moving variance: sqrt(3.99 + 0.01) = 2, sqrt(0.24 + 0.01) = 0.5
  Mat x(2, 2);
  x << 5.0, -1.0,  //
      1.0, -2.5;
  // y = γ(x − mean)/sqrt(var + ε) + β: 2·(2)/2 + 1 = 3; 0.5·(1)/0.5 − 1 = 0; 2·(−2)/2 + 1 = −1; 0.5·(−0.5)/0.5 − 1 = −1.5
  Mat expected(2, 2);
  expected << 3.0, 0.0,  //
      -1.0, -1.5;
  CHECK((Mat(bn.forward(cview(x), false)) - expected).cwiseAbs().maxCoeff() < 1e-14);
  CHECK((*w[2].value)(0, 0) == 3.0);
  CHECK((*w[3].value)(0, 1) == 0.24);
  CHECK(bn.momentum() == 0.9);
  CHECK(bn.epsilon() == 0.01);
}

TEST_CASE("BatchNormalization takes Keras defaults and rejects bad arguments",
          "[layers][batch_normalization][errors]") {
  BatchNormalization<double> bn;
  CHECK(bn.momentum() == 0.99);
  CHECK(bn.epsilon() == 1e-3);
  Rng rng(1);
  bn.build(3, rng);
  auto w = bn.weights();
  CHECK(w[0].value->isOnes());
  CHECK(w[1].value->isZero());
  CHECK(w[2].value->isZero());
  CHECK(w[3].value->isOnes());
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { BatchNormalization<double> b(1.5); }),
             Contains("momentum must be in [0, 1], received momentum=1.5"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { BatchNormalization<double> b(0.99, 0.0); }),
             Contains("epsilon must be positive and finite in the model's Scalar, received epsilon=0"));
  CHECK_THROWS_AS(BatchNormalization<double>(0.99, HUGE_VAL), ValueError);
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { BatchNormalization<float> b(0.99, 1e39); }),
             Contains("epsilon must be positive and finite in the model's Scalar, received epsilon=1e+39"));
}

}  // namespace test_layers
