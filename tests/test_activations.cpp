// Tests of kerascpp/activations.hpp and the Activation layer: values at chosen points against the
// Keras 3 formulas (keras/src/activations/activations.py), softmax stability, the name registry, and a
// finite-difference gradient check of every activation, both as a function and as a layer.
#include "gradient_check.hpp"

#include <kerascpp/activations.hpp>
#include <kerascpp/layers/activation.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_activations {

using kerascpp::Activation;
using kerascpp::ValueError;
using kerascpp_test::cview;
using kerascpp_test::Mat;
using kerascpp_test::mview;
using Catch::Contains;

namespace {

const std::vector<std::string> all_activations{"linear", "relu",  "sigmoid", "tanh",       "softmax",  "elu",
                                               "selu",   "gelu",  "swish",   "leaky_relu", "softplus", "hard_sigmoid"};

/// f applied to a row of values.
Mat apply(const std::string& name, const std::vector<double>& values) {
  Mat z(1, static_cast<kerascpp::Index>(values.size()));
  for (std::size_t j = 0; j < values.size(); ++j) z(0, static_cast<kerascpp::Index>(j)) = values[j];
  Mat y(z.rows(), z.cols());
  kerascpp::activations::forward<double>(kerascpp::activations::get(name), cview(z), mview(y));
  return y;
}

double apply1(const std::string& name, double v) { return apply(name, {v})(0, 0); }

/// −4.75, −4.25, …, 4.75 as a (4 × 5) matrix: every region of every activation, and at least 0.25
/// away from each kink (0 for relu/leaky_relu/elu/selu, ±3 for hard_sigmoid).
Mat grid_input() {
  Mat x(4, 5);
  for (kerascpp::Index k = 0; k < x.size(); ++k) x.data()[k] = -4.75 + 0.5 * static_cast<double>(k);
  return x;
}

}  // namespace

TEST_CASE("linear, relu and leaky_relu values match Keras", "[activations][values]") {
  CHECK(apply1("linear", -2.5) == -2.5);
  CHECK(apply1("", 1.25) == 1.25);  // "" is linear, like activation=None
  CHECK(apply1("relu", -1.0) == 0.0);
  CHECK(apply1("relu", 2.0) == 2.0);
  // keras.activations.leaky_relu(x, negative_slope=0.2)
  CHECK(apply1("leaky_relu", -1.0) == Approx(-0.2).epsilon(1e-15));
  CHECK(apply1("leaky_relu", 3.0) == 3.0);
}

TEST_CASE("sigmoid, tanh and swish values match Keras and stay finite for large inputs",
          "[activations][values]") {
  CHECK(apply1("sigmoid", 0.0) == 0.5);
  CHECK(apply1("sigmoid", 2.0) == Approx(0.8807970779778823).epsilon(1e-15));   // 1 / (1 + e^−2)
  CHECK(apply1("sigmoid", -2.0) == Approx(0.11920292202211755).epsilon(1e-15));
  CHECK(apply1("sigmoid", 800.0) == 1.0);
  CHECK(apply1("sigmoid", -800.0) == 0.0);  // e^800 would overflow: no inf/inf
  CHECK(apply1("tanh", 0.5) == Approx(0.46211715726000974).epsilon(1e-15));
  CHECK(apply1("swish", 1.0) == Approx(0.7310585786300049).epsilon(1e-15));   // 1·σ(1)
  CHECK(apply1("swish", -2.0) == Approx(-0.2384058440442351).epsilon(1e-15)); // −2·σ(−2)
  CHECK(apply1("silu", 1.0) == apply1("swish", 1.0));
  CHECK(std::isfinite(apply1("swish", -800.0)));
}

TEST_CASE("vectorised float sigmoid: within a few ulps of a double reference from 0 to ±200, NaN and ±inf kept",
          "[activations][values][float]") {
  std::vector<float> z;
  for (const float v : {0.0f, 1e-30f, 1e-7f, 0.001f, 0.5f, 1.0f, 2.5f, 7.25f, 16.5f, 17.0f, 30.0f, 50.0f, 80.0f, 87.0f,
                        87.5f, 88.5f, 90.0f, 95.0f, 100.0f, 103.0f, 104.0f, 200.0f}) {
    for (int copy = 0; copy < 17; ++copy) z.push_back(copy % 2 ? v : -v);  // in every SIMD lane and in a scalar tail
  }
  const auto n = static_cast<kerascpp::Index>(z.size());
  kerascpp::RowMatrix<float> y(1, n);
  kerascpp::activations::forward<float>(Activation::sigmoid, kerascpp::ConstMatrixView<float>(z.data(), 1, n),
                                        kerascpp::MatrixView<float>(y.data(), 1, n));
  for (kerascpp::Index j = 0; j < n; ++j) {
    const double zj = z[static_cast<std::size_t>(j)];
    const double reference = 1.0 / (1.0 + std::exp(-zj));
    const float r = static_cast<float>(reference);
    const double ulp = std::max<double>(std::nextafter(r, 2.0f) - r, std::numeric_limits<float>::denorm_min());
    const float scalar = kerascpp::activations::sigmoid(z[static_cast<std::size_t>(j)]);
    INFO("z = " << zj << ": " << y(0, j) << " against " << reference << " (" << (y(0, j) - reference) / ulp
                << " ulp), scalar sigmoid " << (scalar - reference) / ulp << " ulp");
    CHECK(std::abs(y(0, j) - reference) <= 4 * ulp);
    CHECK(std::abs(y(0, j) - scalar) <= 4 * ulp);
  }
  // below the subnormal range the one-exponential branch is taken; NaN stays NaN in both branches
  for (const float big : {1.0f, 100.0f}) {
    float v[4] = {std::numeric_limits<float>::quiet_NaN(), big, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity()};
    kerascpp::activations::sigmoid(v, v, 4);  // in place
    CHECK(std::isnan(v[0]));
    CHECK(v[1] == Approx(1.0 / (1.0 + std::exp(-double(big)))).epsilon(1e-6));
    CHECK(v[2] == 1.0f);
    CHECK(v[3] == 0.0f);
  }
}

TEST_CASE("vectorised float exp_nonpositive: within a few ulps of a double reference down to the subnormal range",
          "[activations][values][float]") {
  std::vector<float> x;
  for (const float v : {0.0f, 1e-30f, 1e-7f, 0.5f, 1.0f, 7.25f, 30.0f, 80.0f, 87.0f, 87.3f, 87.4f, 88.5f, 90.0f, 95.0f,
                        100.0f, 103.0f, 104.0f, 200.0f})
    for (int copy = 0; copy < 17; ++copy) x.push_back(-v);  // in every SIMD lane and across a packet boundary
  const auto n = static_cast<kerascpp::Index>(x.size());
  std::vector<float> y(x.size());
  kerascpp::activations::exp_nonpositive(x.data(), y.data(), n);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double reference = std::exp(static_cast<double>(x[k]));
    const float r = static_cast<float>(reference);
    const double ulp = std::max<double>(std::nextafter(r, 2.0f) - r, std::numeric_limits<float>::denorm_min());
    INFO("x = " << x[k] << ": " << y[k] << " against " << reference << " (" << (y[k] - reference) / ulp << " ulp)");
    CHECK(std::abs(y[k] - reference) <= 4 * ulp);
  }
  // in place, NaN kept, −inf gives 0; each value's result is the same wherever it sits
  float v[5] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(), -95.0f, -1.0f, 0.0f};
  kerascpp::activations::exp_nonpositive(v, v, 5);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 0.0f);
  CHECK(v[2] == y[static_cast<std::size_t>(std::find(x.begin(), x.end(), -95.0f) - x.begin())]);
  CHECK(v[3] == y[static_cast<std::size_t>(std::find(x.begin(), x.end(), -1.0f) - x.begin())]);
  CHECK(v[4] == 1.0f);
}

TEST_CASE("float tanh and softmax: against a double reference, every row the same alone as in a batch, rows wider "
          "than the kernels' 4 KB chunk",
          "[activations][values][float][softmax]") {
  using FMat = kerascpp::RowMatrix<float>;
  const auto forward = [](Activation a, const FMat& z) {
    FMat y(z.rows(), z.cols());
    kerascpp::activations::forward<float>(a, kerascpp::ConstMatrixView<float>(z.data(), z.rows(), z.cols()),
                                          kerascpp::MatrixView<float>(y.data(), y.rows(), y.cols()));
    return y;
  };
  const kerascpp::Index cols = GENERATE(3, 10, 1500);  // 1500 floats: more than one chunk of 1024
  INFO("rows of " << cols);
  const Mat zd = kerascpp_test::uniform_matrix(7, cols, -30.0, 30.0, 31);
  FMat z = zd.cast<float>();
  z(1, 0) = -150.0f;  // e^(z − max z) below the normal range and below the smallest subnormal
  z(2, cols - 1) = -110.0f;
  const FMat t = forward(Activation::tanh, z);
  const FMat p = forward(Activation::softmax, z);
  for (kerascpp::Index i = 0; i < z.rows(); ++i) {
    const Eigen::RowVectorXd zi = z.row(i).cast<double>();
    const Eigen::RowVectorXd e = (zi.array() - zi.maxCoeff()).exp().matrix();
    const Eigen::RowVectorXd reference = e / e.sum();
    const FMat alone = forward(Activation::softmax, FMat(z.row(i)));
    INFO("row " << i);
    CHECK((alone.row(0) - p.row(i)).cwiseAbs().maxCoeff() == 0.0f);
    for (kerascpp::Index j = 0; j < cols; ++j) {
      INFO("column " << j << ": z = " << z(i, j) << ", " << p(i, j) << " against " << reference(j));
      // x = z − max z is rounded to float, which moves e^x by up to |x|·2^−24 relative; then a few roundings
      const double relative = (8.0 + std::abs(zi(j) - zi.maxCoeff())) * 0x1p-24;
      CHECK(std::abs(p(i, j) - reference(j)) <= relative * reference(j) + 4 * std::numeric_limits<float>::denorm_min());
      CHECK(std::abs(t(i, j) - std::tanh(zi(j))) <= 1e-6);
    }
  }
}

TEST_CASE("elu and selu values match Keras", "[activations][values]") {
  CHECK(apply1("elu", -1.0) == Approx(-0.6321205588285577).epsilon(1e-15));  // α(e^−1 − 1), α = 1
  CHECK(apply1("elu", 2.0) == 2.0);
  // selu(−1) = scale·α·(e^−1 − 1) = 1.0507009873554805·1.6732632423543772·(−0.6321205588285577)
  CHECK(apply1("selu", -1.0) ==
        Approx(1.0507009873554805 * 1.6732632423543772 * (std::exp(-1.0) - 1.0)).epsilon(1e-15));
  CHECK(apply1("selu", -1.0) == Approx(-1.1113307378125625).epsilon(1e-15));
  CHECK(apply1("selu", 2.0) == Approx(2.101401974710961).epsilon(1e-15));  // scale·2
}

TEST_CASE("gelu is the exact (erf) form, Keras 3's default approximate=False", "[activations][values]") {
  CHECK(apply1("gelu", 1.0) == Approx(0.8413447460685429).epsilon(1e-14));    // Φ(1)
  CHECK(apply1("gelu", -1.0) == Approx(-0.15865525393145707).epsilon(1e-14)); // −Φ(−1)
  CHECK(apply1("gelu", 2.0) == Approx(1.9544997361036416).epsilon(1e-14));    // 2·Φ(2)
  CHECK(apply1("gelu", 0.0) == 0.0);
  // the tanh approximation would give 0.8411919906082768 at 1: far outside the tolerance above
}

TEST_CASE("softplus values match Keras and are stable at both ends", "[activations][values]") {
  CHECK(apply1("softplus", 0.0) == Approx(0.6931471805599453).epsilon(1e-15));   // log 2
  CHECK(apply1("softplus", 1.0) == Approx(1.3132616875182228).epsilon(1e-15));   // log(1 + e)
  CHECK(apply1("softplus", -2.0) == Approx(0.1269280110429725).epsilon(1e-15));  // log(1 + e^−2)
  CHECK(apply1("softplus", 1000.0) == 1000.0);
  const double tiny = apply1("softplus", -1000.0);
  CHECK(tiny >= 0.0);
  CHECK(tiny < 1e-300);
}

TEST_CASE("hard_sigmoid is relu6(x + 3) / 6 as in Keras 3", "[activations][values]") {
  CHECK(apply1("hard_sigmoid", 1.0) == Approx(4.0 / 6.0).epsilon(1e-15));
  CHECK(apply1("hard_sigmoid", 0.0) == 0.5);
  CHECK(apply1("hard_sigmoid", -1.5) == Approx(0.25).epsilon(1e-15));
  CHECK(apply1("hard_sigmoid", -3.0) == 0.0);
  CHECK(apply1("hard_sigmoid", 3.0) == 1.0);
  CHECK(apply1("hard_sigmoid", -7.0) == 0.0);
  CHECK(apply1("hard_sigmoid", 7.0) == 1.0);
}

TEST_CASE("softmax values, row sums and stability for large logits", "[activations][values][softmax]") {
  const Mat p = apply("softmax", {1.0, 2.0, 3.0});  // e^k / (e + e² + e³)
  CHECK(p(0, 0) == Approx(0.09003057317038046).epsilon(1e-14));
  CHECK(p(0, 1) == Approx(0.24472847105479767).epsilon(1e-14));
  CHECK(p(0, 2) == Approx(0.6652409557748219).epsilon(1e-14));

  // Shifting by the row maximum: [1000, 1000, 999] gives e/(2e + 1), e/(2e + 1), 1/(2e + 1).
  const Mat big = apply("softmax", {1000.0, 1000.0, 999.0});
  REQUIRE(big.allFinite());
  CHECK(big(0, 0) == Approx(0.4223187982515182).epsilon(1e-14));
  CHECK(big(0, 1) == Approx(0.4223187982515182).epsilon(1e-14));
  CHECK(big(0, 2) == Approx(0.15536240349696362).epsilon(1e-14));

  const Mat spread = apply("softmax", {-1000.0, 0.0, 1000.0});
  REQUIRE(spread.allFinite());
  CHECK(spread(0, 2) == 1.0);
  CHECK(spread(0, 0) == 0.0);

  // Rows are independent and each sums to 1.
  const Mat z = kerascpp_test::uniform_matrix(6, 4, -20.0, 20.0, 5);
  Mat y(6, 4);
  kerascpp::activations::forward<double>(Activation::softmax, cview(z), mview(y));
  for (kerascpp::Index i = 0; i < y.rows(); ++i) {
    INFO("row " << i);
    CHECK(y.row(i).sum() == Approx(1.0).epsilon(1e-14));
    CHECK(y.row(i).minCoeff() >= 0.0);
    const Mat alone = apply("softmax", {z(i, 0), z(i, 1), z(i, 2), z(i, 3)});
    CHECK((alone.row(0) - y.row(i)).cwiseAbs().maxCoeff() == 0.0);
  }
}

TEST_CASE("activation forward and backward give the same result when output and input alias",
          "[activations][aliasing]") {
  const Mat z = grid_input();
  const Mat dy = kerascpp_test::normal_matrix(z.rows(), z.cols(), 11);
  for (const auto& name : all_activations) {
    INFO("activation " << name);
    const Activation a = kerascpp::activations::get(name);
    Mat y(z.rows(), z.cols());
    kerascpp::activations::forward<double>(a, cview(z), mview(y));
    Mat in_place = z;
    kerascpp::activations::forward<double>(a, cview(in_place), mview(in_place));
    CHECK((in_place - y).cwiseAbs().maxCoeff() == 0.0);

    Mat dz(z.rows(), z.cols());
    kerascpp::activations::backward<double>(a, cview(z), cview(y), cview(dy), mview(dz));
    Mat dz_in_place = dy;
    kerascpp::activations::backward<double>(a, cview(z), cview(y), cview(dz_in_place), mview(dz_in_place));
    CHECK((dz_in_place - dz).cwiseAbs().maxCoeff() == 0.0);
  }
}

TEST_CASE("activation names resolve as in Keras and unknown names list the valid ones", "[activations][names]") {
  using kerascpp::activations::get;
  using kerascpp::activations::name;
  CHECK(get("relu") == Activation::relu);
  CHECK(get("silu") == Activation::swish);
  CHECK(get("") == Activation::linear);
  for (const auto& n : all_activations) {
    INFO("activation " << n);
    CHECK(name(get(n)) == n);
  }
  const std::string message = kerascpp_test::thrown_message<ValueError>([] { get("rectifier"); });
  CHECK_THAT(message, Contains("unknown activation 'rectifier'"));
  CHECK_THAT(message, Contains("valid names are"));
  for (const auto& n : all_activations) CHECK_THAT(message, Contains(n));
  CHECK_THROWS_AS(kerascpp::layers::Activation<double>("Relu6"), ValueError);
}

TEST_CASE("every activation's derivative matches central differences", "[activations][gradient]") {
  const std::string name = GENERATE(from_range(all_activations));
  INFO("activation " << name);
  const Activation a = kerascpp::activations::get(name);
  Mat z = grid_input();
  REQUIRE(kerascpp_test::distance_to_kinks(a, z) >= 0.25);
  const Mat g = kerascpp_test::normal_matrix(z.rows(), z.cols(), 21);
  Mat y(z.rows(), z.cols());
  kerascpp::activations::forward<double>(a, cview(z), mview(y));
  Mat dz(z.rows(), z.cols());
  kerascpp::activations::backward<double>(a, cview(z), cview(y), cview(g), mview(dz));
  const auto f = [&] {
    Mat out(z.rows(), z.cols());
    kerascpp::activations::forward<double>(a, cview(z), mview(out));
    return (out.array() * g.array()).sum();
  };
  kerascpp_test::check_against_central_differences("z", z, dz, f, {});
}

TEST_CASE("Activation layer gradient check for every activation", "[activations][layers][gradient]") {
  const std::string name = GENERATE(from_range(all_activations));
  const bool training = GENERATE(true, false);
  INFO("Activation(\"" << name << "\"), training=" << training);
  kerascpp::layers::Activation<double> layer(name);
  layer.set_name("activation");
  kerascpp::Rng rng(1);
  layer.build(5, rng);
  const Mat x = grid_input();
  REQUIRE(kerascpp_test::distance_to_kinks(kerascpp::activations::get(name), x) >= 0.25);
  kerascpp_test::LayerCheck check;
  check.training = training;
  kerascpp_test::check_layer_gradients(layer, x, check);
}

TEST_CASE("Activation layer forward equals the activation function and keeps its input as logits",
          "[activations][layers]") {
  const Mat x = grid_input();
  for (const auto& name : all_activations) {
    INFO("activation " << name);
    kerascpp::layers::Activation<double> layer(name);
    kerascpp::Rng rng(1);
    layer.build(x.cols(), rng);
    const Mat y = layer.forward(cview(x), true);
    Mat expected(x.rows(), x.cols());
    kerascpp::activations::forward<double>(kerascpp::activations::get(name), cview(x), mview(expected));
    CHECK((y - expected).cwiseAbs().maxCoeff() == 0.0);
    CHECK(layer.final_activation() == kerascpp::activations::get(name));
    const auto z = layer.logits();
    REQUIRE(z.rows() == x.rows());
    CHECK((Mat(z) - x).cwiseAbs().maxCoeff() == 0.0);
  }
}

TEST_CASE("Activation layer fused with the loss passes dL/dz straight through", "[activations][layers][gradient]") {
  const std::string name = GENERATE(as<std::string>{}, "sigmoid", "softmax");
  INFO("activation " << name);
  kerascpp::layers::Activation<double> layer(name);
  kerascpp::Rng rng(1);
  layer.build(5, rng);
  const Mat x = grid_input();
  kerascpp_test::LayerCheck check;
  check.logits = true;
  kerascpp_test::check_layer_gradients(layer, x, check);
  layer.forward(cview(x), true);
  const Mat g = kerascpp_test::normal_matrix(x.rows(), x.cols(), 3);
  const Mat dz = layer.backward(cview(g), true, true);
  CHECK((dz - g).cwiseAbs().maxCoeff() == 0.0);
}

}  // namespace test_activations
