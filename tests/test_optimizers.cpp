// Tests of kerascpp/optimizers.hpp: known steps of every optimizer against the Keras 3 update rules
// (keras/src/optimizers/{sgd,adam,adamw,rmsprop,adagrad}.py, base_optimizer.py), worked out by hand
// in the comments; one iterations increment per apply; state, reset and argument validation.
#include "gradient_check.hpp"

#include <kerascpp/optimizers.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <cmath>
#include <memory>
#include <utility>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_optimizers {

using kerascpp::ValueError;
using kerascpp_test::Mat;
using Catch::Contains;

namespace optimizers = kerascpp::optimizers;

namespace {

/// Weights laid out in one parameter store, built from (name, value, gradient) triples: `value(i)`
/// and `grad(i)` are the Params of weight i, viewing `store`'s flat buffers.
template <typename Scalar>
struct ParamsOf {
  struct Triple {
    std::string name;
    kerascpp::RowMatrix<Scalar> value, grad;
  };

  ParamsOf(std::initializer_list<Triple> triples) {
    values.reserve(triples.size());  // the store's Weights point at these Params: no reallocation
    grads.reserve(triples.size());
    std::vector<kerascpp::Weight<Scalar>> weights;
    for (const auto& t : triples) {
      values.emplace_back() = t.value;  // an empty Param takes the shape of what it is assigned
      grads.emplace_back() = t.grad;
      weights.push_back({t.name, &values.back(), &grads.back()});
    }
    store.adopt(weights);
  }
  ParamsOf(const ParamsOf&) = delete;
  ParamsOf& operator=(const ParamsOf&) = delete;

  kerascpp::Param<Scalar>& value(std::size_t i) { return values.at(i); }
  kerascpp::Param<Scalar>& grad(std::size_t i) { return grads.at(i); }

  std::vector<kerascpp::Param<Scalar>> values, grads;
  kerascpp::ParameterStore<Scalar> store;
};

using Params = ParamsOf<double>;

Mat row(std::initializer_list<double> values) {
  Mat m(1, static_cast<kerascpp::Index>(values.size()));
  kerascpp::Index j = 0;
  for (double v : values) m(0, j++) = v;
  return m;
}

/// Every entry of `actual` equals `expected` to 1e-12 relative (the references are exact double
/// evaluations of the formulas in the comments).
void check_close(const Mat& actual, const Mat& expected, double tolerance = 1e-12) {
  INFO("actual " << actual << ", expected " << expected);
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  for (kerascpp::Index j = 0; j < actual.size(); ++j)
    CHECK(actual.data()[j] == Approx(expected.data()[j]).epsilon(tolerance));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SGD

TEST_CASE("SGD: w −= lr·g", "[optimizers][sgd][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::SGD<double> sgd(0.1);
  sgd.apply(p.store);
  // 1 − 0.1·0.5 = 0.95; −2 − 0.1·(−1) = −1.9
  check_close(p.value(0), row({0.95, -1.9}));
  CHECK(sgd.iterations() == 1);
  CHECK(sgd.slots_per_weight() == 0);
}

TEST_CASE("SGD with momentum 0.9: v = μv − lr·g, w += v, over two steps", "[optimizers][sgd][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::SGD<double> sgd(0.1, 0.9);
  sgd.apply(p.store);
  // v1 = −0.1·(0.5, −1) = (−0.05, 0.1); w1 = (0.95, −1.9)
  check_close(p.value(0), row({0.95, -1.9}));
  p.grad(0) = row({1.0, 0.5});
  sgd.apply(p.store);
  // v2 = 0.9·(−0.05, 0.1) − 0.1·(1, 0.5) = (−0.045 − 0.1, 0.09 − 0.05) = (−0.145, 0.04)
  // w2 = (0.95 − 0.145, −1.9 + 0.04) = (0.805, −1.86)
  check_close(p.value(0), row({0.805, -1.86}));
  REQUIRE(sgd.slot_weights() == 1);
  REQUIRE(sgd.slots_per_weight() == 1);
  check_close(sgd.slot(0, 0), row({-0.145, 0.04}));
  CHECK(sgd.iterations() == 2);
}

TEST_CASE("SGD with Nesterov momentum: w += μv − lr·g with the new v", "[optimizers][sgd][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::SGD<double> sgd(0.1, 0.9, true);
  sgd.apply(p.store);
  // v1 = (−0.05, 0.1); w1 = w0 + 0.9·v1 − 0.1·g1 = (1 − 0.045 − 0.05, −2 + 0.09 + 0.1) = (0.905, −1.81)
  check_close(p.value(0), row({0.905, -1.81}));
  p.grad(0) = row({1.0, 0.5});
  sgd.apply(p.store);
  // v2 = (−0.145, 0.04); w2 = w1 + 0.9·v2 − 0.1·g2 = (0.905 − 0.1305 − 0.1, −1.81 + 0.036 − 0.05) = (0.6745, −1.824)
  check_close(p.value(0), row({0.6745, -1.824}));
}

// ---------------------------------------------------------------------------------------------
// Adam and AdamW

TEST_CASE("Adam on two weights: one apply is one step (iterations 1), not one per weight",
          "[optimizers][adam][values]") {
  // The MiniDNN / tiny-dnn bug advances t once per weight tensor, so the second weight would be
  // updated with t = 2: α = 0.001·sqrt(1 − 0.999²)/(1 − 0.9²) = 2.353e-4 instead of 3.162e-4.
  Params p{{"kernel", row({1.0, 2.0}), row({0.1, -0.2})}, {"bias", row({-1.0}), row({3.0})}};
  optimizers::Adam<double> adam;  // lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7
  adam.apply(p.store);
  CHECK(adam.iterations() == 1);
  // t = 1: m = 0.1·g, v = 0.001·g², α = 0.001·sqrt(1 − 0.999)/(1 − 0.9) = 3.1622776601683816e-4
  // w − α·m/(sqrt(v) + ε) = w − 3.1622776601683816e-4 · 0.1g / (0.031622776601683794·|g| + 1e-7)
  //   a: 1 − 1e-3·(1 − 3.16e-5) = 0.9990000316217766;  2 + 1e-3·(1 − 1.58e-5) = 2.0009999841888617
  //   b: −1 − 1e-3·(1 − 1.05e-6) = −1.0009999989459086
  check_close(p.value(0), row({0.9990000316217766, 2.0009999841888617}));
  check_close(p.value(1), row({-1.0009999989459086}));
  REQUIRE(adam.slot_weights() == 2);
  REQUIRE(adam.slots_per_weight() == 2);  // m, v of each weight
  check_close(adam.slot(0, 0), row({0.01, -0.02}));
  check_close(adam.slot(0, 1), row({1e-5, 4e-5}));
  check_close(adam.slot(1, 0), row({0.3}));
  check_close(adam.slot(1, 1), row({9e-3}));
}

TEST_CASE("Optimizer::slot of a weight or slot that does not exist is a ValueError", "[optimizers][errors]") {
  Params p{{"kernel", row({1.0, 2.0}), row({0.1, -0.2})}};
  optimizers::Adam<double> adam;
  CHECK_THROWS_WITH(adam.slot(0, 0), Catch::Contains("Adam: no slot of weight 0") &&
                                         Catch::Contains("built for 0 trainable weights (0 before its first step)"));
  adam.apply(p.store);
  CHECK_THROWS_AS(adam.slot(1, 0), ValueError);
  CHECK_THROWS_WITH(adam.slot(1, 0), Catch::Contains("built for 1 trainable weights"));
  CHECK_THROWS_AS(adam.slot(0, 2), ValueError);
  CHECK_THROWS_WITH(std::as_const(adam).slot(0, -1), Catch::Contains("k must be in [0, 2)"));
  CHECK(adam.slot(0, 1).cols() == 2);
}

TEST_CASE("Adam over three steps with changing gradients", "[optimizers][adam][values]") {
  Params p{{"w", row({1.0, 2.0}), row({0.1, -0.2})}};
  optimizers::Adam<double> adam;
  // t = 1: α₁ = 0.001·sqrt(0.001)/0.1 = 3.1622776601683816e-4; m = (0.01, −0.02); v = (1e-5, 4e-5)
  adam.apply(p.store);
  check_close(p.value(0), row({0.9990000316217766, 2.0009999841888617}));
  // t = 2, g = (0.3, 0.1): m = 0.9·(0.01, −0.02) + 0.1·(0.3, 0.1) = (0.039, −0.008)
  //   v = 0.999·(1e-5, 4e-5) + 0.001·(0.09, 0.01) = (9.999e-5, 4.996e-5)
  //   α₂ = 0.001·sqrt(1 − 0.999²)/(1 − 0.9²) = 2.3531672532745276e-4
  p.grad(0) = row({0.3, 0.1});
  adam.apply(p.store);
  check_close(p.value(0), row({0.9980822596809746, 2.001266317460493}));
  // t = 3, g = (−0.2, 0.05): α₃ = 0.001·sqrt(1 − 0.999³)/(1 − 0.9³) = 2.020105974389679e-4
  p.grad(0) = row({-0.2, 0.05});
  adam.apply(p.store);
  check_close(p.value(0), row({0.9978243580564026, 2.0013277054753233}));
  CHECK(adam.iterations() == 3);
}

TEST_CASE("Adam adds epsilon to sqrt(v) before bias correction (Keras's epsilon hat)", "[optimizers][adam][values]") {
  // g = 1e-6, t = 1: m = 1e-7, v = 1e-15, sqrt(v) = 3.1623e-8, comparable with ε = 1e-7.
  // Keras: 1 − α·m/(sqrt(v) + ε) = 1 − 3.1623e-4·1e-7/1.31623e-7 = 0.9997597469266479
  // libtorch's m̂/(sqrt(v̂) + ε) would give 1 − 0.001·1e-6/(1e-6 + 1e-7) = 0.9990909090909091.
  Params p{{"w", row({1.0}), row({1e-6})}};
  optimizers::Adam<double> adam;
  adam.apply(p.store);
  check_close(p.value(0), row({0.9997597469266479}));
}

TEST_CASE("AdamW decays w·(1 − lr·wd) before the Adam step", "[optimizers][adamw][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, 0.5})}};
  optimizers::AdamW<double> adamw(0.01, 0.1);
  adamw.apply(p.store);
  // decay: w·(1 − 0.01·0.1) = (0.999, −1.998)
  // Adam t = 1: α = 0.01·sqrt(0.001)/0.1 = 3.162277660168381e-3; m/(sqrt(v)+ε) = 0.05/(0.0158113883 + 1e-7)
  //   step = 0.01·(1 − 6.32e-6) for both: (0.999 − 0.0099999368, −1.998 − 0.0099999368)
  check_close(p.value(0), row({0.9890000632451532, -2.007999936754847}));
  p.grad(0) = row({-0.25, 1.0});
  adamw.apply(p.store);
  // t = 2: decay by 0.999 again, then the Adam step from m = (0.02, 0.14), v = (2.1e-4, 1.2495e-3)
  check_close(p.value(0), row({0.985347707857547, -2.0156437297741863}));
  CHECK(adamw.iterations() == 2);
  CHECK(adamw.name() == "AdamW");
  CHECK(std::stod(adamw.config().at("weight_decay")) == 0.1);
}

// ---------------------------------------------------------------------------------------------
// RMSprop and Adagrad

TEST_CASE("RMSprop: v = ρv + (1−ρ)g², w −= lr·g/sqrt(v + ε)", "[optimizers][rmsprop][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::RMSprop<double> rms(0.01);  // ρ 0.9, ε 1e-7
  rms.apply(p.store);
  // v = 0.1·(0.25, 1) = (0.025, 0.1); w = (1 − 0.01·0.5/sqrt(0.0250001), −2 + 0.01/sqrt(0.1000001))
  //   = (1 − 0.031622713, −2 + 0.031622761)
  check_close(p.value(0), row({0.9683772866436797, -1.9683772392096925}));
  p.grad(0) = row({0.25, 2.0});
  rms.apply(p.store);
  // v = 0.9·(0.025, 0.1) + 0.1·(0.0625, 4) = (0.02875, 0.49); w −= 0.01·(0.25/sqrt(0.0287501), 2/sqrt(0.4900001))
  check_close(p.value(0), row({0.9536331166702025, -1.9969486648656696}));
}

TEST_CASE("RMSprop with momentum 0.9: m = μm + lr·g/sqrt(v + ε), w −= m", "[optimizers][rmsprop][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::RMSprop<double> rms(0.01, 0.9, 0.9);
  rms.apply(p.store);
  check_close(p.value(0), row({0.9683772866436797, -1.9683772392096925}));  // m = the plain step
  p.grad(0) = row({0.25, 2.0});
  rms.apply(p.store);
  // m2 = 0.9·m1 + step2: (0.9·0.031622713 + 0.014744170, 0.9·(−0.031622761) + 0.028571426)
  check_close(p.value(0), row({0.9251726746495141, -1.968488180154393}));
}

TEST_CASE("RMSprop centered: sqrt(v − ḡ² + ε) with ḡ = ρḡ + (1−ρ)g", "[optimizers][rmsprop][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::RMSprop<double> rms(0.01, 0.9, 0.0, 1e-7, true);
  rms.apply(p.store);
  // ḡ = 0.1g; v − ḡ² = 0.1g² − 0.01g² = 0.09g²; step = 0.01·g/sqrt(0.09g² + 1e-7) ≈ (0.01/0.3)·sign(g)
  check_close(p.value(0), row({0.9666667407404939, -1.9666666851851697}));
  p.grad(0) = row({0.25, 2.0});
  rms.apply(p.store);
  check_close(p.value(0), row({0.9504786769717445, -1.9955975512651452}));

  Params p2{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::RMSprop<double> rms_momentum(0.01, 0.9, 0.9, 1e-7, true);
  rms_momentum.apply(p2.store);
  p2.grad(0) = row({0.25, 2.0});
  rms_momentum.apply(p2.store);
  // m2 = 0.9·m1 + step2 with the centered steps above
  check_close(p2.value(0), row({0.9204787436381889, -1.9655975679317979}));
}

TEST_CASE("Adagrad: a starts at 0.1, a += g², w −= lr·g/sqrt(a + ε)", "[optimizers][adagrad][values]") {
  Params p{{"w", row({1.0, -2.0}), row({0.5, -1.0})}};
  optimizers::Adagrad<double> adagrad(0.1);
  adagrad.build(p.store);
  REQUIRE(adagrad.slot_weights() == 1);
  REQUIRE(adagrad.slots_per_weight() == 1);
  check_close(adagrad.slot(0, 0), row({0.1, 0.1}));
  adagrad.apply(p.store);
  // a = 0.1 + (0.25, 1) = (0.35, 1.1); w = (1 − 0.05/sqrt(0.3500001), −2 + 0.1/sqrt(1.1000001))
  check_close(p.value(0), row({0.9154845866007779, -1.9046537454093613}));
  check_close(adagrad.slot(0, 0), row({0.35, 1.1}));
  p.grad(0) = row({0.25, 2.0});
  adagrad.apply(p.store);
  // a = (0.4125, 5.1); w −= 0.1·(0.25/sqrt(0.4125001), 2/sqrt(5.1000001))
  check_close(p.value(0), row({0.8765596441108763, -1.993215233095121}));
}

// ---------------------------------------------------------------------------------------------
// Names, defaults and validation

TEST_CASE("optimizers::get is case-insensitive and takes Keras defaults", "[optimizers][names]") {
  for (const std::string name : {"Adam", "adam", "ADAM"}) {
    INFO("optimizers::get(\"" << name << "\")");
    const auto adam = optimizers::get<double>(name);
    CHECK(adam->name() == "Adam");
    CHECK(adam->learning_rate() == 0.001);
    const auto config = adam->config();
    CHECK(std::stod(config.at("beta_1")) == 0.9);
    CHECK(std::stod(config.at("beta_2")) == 0.999);
    CHECK(std::stod(config.at("epsilon")) == 1e-07);
  }
  CHECK(optimizers::get<double>("SGD")->learning_rate() == 0.01);
  CHECK(std::stod(optimizers::get<double>("sgd")->config().at("momentum")) == 0.0);
  CHECK(optimizers::get<double>("RMSprop")->learning_rate() == 0.001);
  CHECK(std::stod(optimizers::get<double>("rmsprop")->config().at("rho")) == 0.9);
  CHECK(std::stod(optimizers::get<double>("Adagrad")->config().at("initial_accumulator_value")) == 0.1);
  CHECK(std::stod(optimizers::get<double>("AdamW")->config().at("weight_decay")) == 0.004);

  const std::string message = kerascpp_test::thrown_message<ValueError>([] { optimizers::get<double>("adamax"); });
  CHECK_THAT(message, Contains("unknown optimizer 'adamax'") &&
                          Contains("valid names are (in any case): SGD, Adam, AdamW, RMSprop, Adagrad"));
}

TEST_CASE("a negative or non-finite learning rate is a ValueError", "[optimizers][errors]") {
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { optimizers::SGD<double> s(-0.1); }),
             Contains("learning_rate must be a finite non-negative number, received learning_rate=-0.1"));
  CHECK_THROWS_AS(optimizers::Adam<double>(std::nan("")), ValueError);
  CHECK_THROWS_AS(optimizers::RMSprop<double>(HUGE_VAL), ValueError);
  optimizers::Adam<double> adam;
  CHECK_THROWS_AS(adam.set_learning_rate(-1.0), ValueError);
  CHECK(adam.learning_rate() == 0.001);
  CHECK_NOTHROW(optimizers::SGD<double>(0.0));
}

TEST_CASE("a learning rate or epsilon that the model's float cannot hold is a ValueError", "[optimizers][errors]") {
  // 1e300 is a finite double but infinity in float; 1e-300 is zero in float, and 1e-40 a float
  // subnormal, which training flushes to zero: Adam would divide by sqrt(v) + 0.
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { optimizers::SGD<float> s(1e300); }),
             Contains("optimizer: learning_rate=1e+300 is beyond the range of the model's float (at most 3.40282346638529e+38)"));
  CHECK_NOTHROW(optimizers::SGD<double>(1e300));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { optimizers::Adam<float>(0.1, 0.9, 0.999, 1e-300); }),
             Contains("Adam: epsilon=1e-300 is not a normal float") && Contains("[1.17549435082229e-38, 3.40282346638529e+38]"));
  CHECK_THROWS_AS(optimizers::RMSprop<float>(0.001, 0.9, 0.0, 1e-40), ValueError);
  CHECK_THROWS_AS(optimizers::Adagrad<float>(0.001, 0.1, 1e39), ValueError);
  CHECK_NOTHROW(optimizers::Adam<float>(0.1, 0.9, 0.999, 1e-30));
  CHECK_NOTHROW(optimizers::Adam<double>(0.1, 0.9, 0.999, 1e-300));
  optimizers::Adam<float> adam;
  CHECK_THROWS_AS(adam.set_learning_rate(1e39), ValueError);
  CHECK(adam.learning_rate() == Approx(0.001));
}

TEST_CASE("optimizer hyper-parameters are validated", "[optimizers][errors]") {
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { optimizers::SGD<double> s(0.01, 1.5); }),
             Contains("momentum must be in [0, 1], received momentum=1.5"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { optimizers::Adam<double> a(0.001, 1.0); }),
             Contains("beta_1 must be in [0, 1), received beta_1=1"));
  CHECK_THROWS_AS(optimizers::Adam<double>(0.001, 0.9, 0.999, 0.0), ValueError);
  CHECK_THROWS_AS(optimizers::RMSprop<double>(0.001, -0.1), ValueError);
  CHECK_THROWS_AS(optimizers::Adagrad<double>(0.001, -1.0), ValueError);
  CHECK_THROWS_AS(optimizers::AdamW<double>(0.001, -0.5), ValueError);
}

TEST_CASE("AdamW weight_decay and Adagrad initial_accumulator_value must be finite in the model's Scalar",
          "[optimizers][errors]") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  // an infinite weight decay turns every weight into inf or NaN at the first step
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { optimizers::AdamW<double> a(0.001, inf); }),
             Contains("AdamW: weight_decay must be a finite non-negative number, received weight_decay=inf"));
  // an infinite accumulator (1e300 is inf in float) divides every step down to zero: no training at all
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { optimizers::Adagrad<double> a(0.001, inf); }),
             Contains("Adagrad: initial_accumulator_value must be a finite non-negative number within the model's "
                      "double (at most 1.79769313486232e+308), received initial_accumulator_value=inf"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { optimizers::Adagrad<float> a(0.001, 1e300); }),
             Contains("within the model's float (at most 3.40282346638529e+38), received initial_accumulator_value=1e+300"));
  CHECK_NOTHROW(optimizers::Adagrad<double>(0.001, 1e300));
  CHECK_NOTHROW(optimizers::AdamW<double>(0.001, 0.0));
}

TEST_CASE("apply with other weights than the optimizer was built for is a ValueError", "[optimizers][errors]") {
  Params p{{"a", row({1.0, 2.0}), row({0.1, 0.2})}, {"b", row({3.0}), row({0.3})}};
  optimizers::Adam<double> adam;
  adam.apply(p.store);
  const Mat a_after = p.value(0);
  // Stores of another layout: one weight fewer (2 elements instead of 4 with padding), and the same
  // number of weights and elements but a first weight of another shape.
  Params fewer{{"a", a_after, row({0.1, 0.2})}};
  Mat tall(2, 1), gtall(2, 1);
  tall << 1.0, 2.0;
  gtall << 0.1, 0.2;
  Params reshaped{{"a", tall, gtall}, {"b", row({3.0}), row({0.3})}};
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { adam.apply(fewer.store); }),
             Contains("Adam: apply received 1 trainable weights (2 elements) but the optimizer was built for 2 (4 elements)"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { adam.apply(reshaped.store); }),
             Contains("Adam: weight 0 has shape (2, 1) but the optimizer was built for (1, 2)"));
  CHECK(adam.iterations() == 1);  // a rejected apply is not a step
  CHECK((fewer.value(0) - a_after).isZero(0.0));
  CHECK((reshaped.value(0) - tall).isZero(0.0));
  CHECK((p.value(0) - a_after).isZero(0.0));
}

TEST_CASE("optimizer state persists across apply calls and reset() starts over", "[optimizers][state]") {
  Params p{{"w", row({1.0, 2.0}), row({0.1, -0.2})}};
  optimizers::Adam<double> adam;
  adam.apply(p.store);
  adam.apply(p.store);
  CHECK(adam.iterations() == 2);
  CHECK_FALSE(adam.slot(0, 0).isZero(0.0));

  // A copy carries the state: the next step of the clone equals the next step of the original.
  const auto copy = adam.clone();
  Params p_copy{{"w", p.value(0), p.grad(0)}};
  copy->apply(p_copy.store);
  adam.apply(p.store);
  CHECK(copy->iterations() == 3);
  CHECK((p_copy.value(0) - p.value(0)).isZero(0.0));

  adam.reset();
  CHECK(adam.iterations() == 0);
  CHECK_FALSE(adam.built());
  CHECK(adam.slot_weights() == 0);
  // After reset the next step is a first step again: t = 1 and zero moments.
  p.value(0) = row({1.0, 2.0});
  adam.apply(p.store);
  CHECK(adam.iterations() == 1);
  check_close(p.value(0), row({0.9990000316217766, 2.0009999841888617}));
  // reset also allows weights of another shape
  adam.reset();
  Params other{{"other", row({1.0}), row({1.0})}};
  CHECK_NOTHROW(adam.apply(other.store));
}

TEST_CASE("a learning rate changed between steps applies from the next step", "[optimizers][state]") {
  Params p{{"w", row({1.0}), row({1.0})}};
  optimizers::SGD<double> sgd(0.1, 0.5);
  sgd.apply(p.store);  // v = −0.1, w = 0.9
  sgd.set_learning_rate(0.2);
  sgd.apply(p.store);  // v = 0.5·(−0.1) − 0.2 = −0.25, w = 0.65
  check_close(p.value(0), row({0.65}));
}

TEST_CASE("Adam in float follows the double reference", "[optimizers][adam][float]") {
  kerascpp::RowMatrix<float> w(1, 2), g(1, 2);
  w << 1.0f, 2.0f;
  g << 0.1f, -0.2f;
  optimizers::Adam<float> adam;
  ParamsOf<float> p{{"w", w, g}};
  adam.apply(p.store);
  CHECK(p.value(0)(0, 0) == Approx(0.9990000316217766).epsilon(1e-6));
  CHECK(p.value(0)(0, 1) == Approx(2.0009999841888617).epsilon(1e-6));
  CHECK(adam.iterations() == 1);
}

TEST_CASE("every optimizer in float follows a double reference over several thousand weights",
          "[optimizers][float][values]") {
  // 2500 elements: the square roots run in chunks of 1024 with a short last chunk, and every element
  // must meet the formula of its own index.
  const int which = GENERATE(0, 1, 2, 3, 4, 5);
  const kerascpp::Index n = 2500;
  std::unique_ptr<kerascpp::Optimizer<float>> opt;
  switch (which) {
    case 0: opt = std::make_unique<optimizers::SGD<float>>(0.1, 0.9, true); break;
    case 1: opt = std::make_unique<optimizers::Adam<float>>(0.01); break;
    case 2: opt = std::make_unique<optimizers::AdamW<float>>(0.01, 0.1); break;
    case 3: opt = std::make_unique<optimizers::RMSprop<float>>(0.01, 0.9, 0.5, 1e-7, true); break;
    case 4: opt = std::make_unique<optimizers::RMSprop<float>>(0.01); break;
    default: opt = std::make_unique<optimizers::Adagrad<float>>(0.1); break;
  }
  INFO(opt->name() << " (case " << which << ")");
  kerascpp::RowMatrix<float> w0(1, n);
  Eigen::ArrayXd wd(n), m = Eigen::ArrayXd::Zero(n), v = Eigen::ArrayXd::Zero(n), mg = Eigen::ArrayXd::Zero(n);
  Eigen::ArrayXd a = Eigen::ArrayXd::Constant(n, 0.1);
  for (kerascpp::Index i = 0; i < n; ++i) {
    w0(0, i) = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    wd(i) = w0(0, i);
  }
  ParamsOf<float> p{{"w", w0, kerascpp::RowMatrix<float>::Zero(1, n)}};
  kerascpp::Param<float>& w = p.value(0);
  kerascpp::Param<float>& g = p.grad(0);
  for (int t = 1; t <= 3; ++t) {
    for (kerascpp::Index i = 0; i < n; ++i) g(0, i) = static_cast<float>(std::cos(0.11 * static_cast<double>(i * t)));
    opt->apply(p.store);
    for (kerascpp::Index i = 0; i < n; ++i) {
      const double gi = g(0, i);
      switch (which) {
        case 0:  // Nesterov SGD: v = μv − lr·g, w += μv − lr·g
          m(i) = 0.9 * m(i) - 0.1 * gi;
          wd(i) += 0.9 * m(i) - 0.1 * gi;
          break;
        case 1:
        case 2: {  // (AdamW: w ·= 1 − lr·λ) m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², w −= α·m/(sqrt(v)+ε)
          if (which == 2) wd(i) *= 1.0 - 0.01 * 0.1;
          m(i) = 0.9 * m(i) + 0.1 * gi;
          v(i) = 0.999 * v(i) + 0.001 * gi * gi;
          const double alpha = 0.01 * std::sqrt(1.0 - std::pow(0.999, t)) / (1.0 - std::pow(0.9, t));
          wd(i) -= alpha * m(i) / (std::sqrt(v(i)) + 1e-7);
          break;
        }
        case 3:  // centered RMSprop with momentum 0.5
          v(i) = 0.9 * v(i) + 0.1 * gi * gi;
          mg(i) = 0.9 * mg(i) + 0.1 * gi;
          m(i) = 0.5 * m(i) + 0.01 * gi / std::sqrt(v(i) - mg(i) * mg(i) + 1e-7);
          wd(i) -= m(i);
          break;
        case 4:  // RMSprop
          v(i) = 0.9 * v(i) + 0.1 * gi * gi;
          wd(i) -= 0.01 * gi / std::sqrt(v(i) + 1e-7);
          break;
        default:  // Adagrad
          a(i) += gi * gi;
          wd(i) -= 0.1 * gi / std::sqrt(a(i) + 1e-7);
          break;
      }
    }
  }
  double worst = 0.0, moved = 0.0;
  for (kerascpp::Index i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(w(0, i)) - wd(i)));
    moved = std::max(moved, std::abs(wd(i) - static_cast<double>(static_cast<float>(std::sin(0.37 * static_cast<double>(i))))));
  }
  CHECK(worst <= 2e-5);
  CHECK(moved > 1e-2);  // the steps did move the weights
}

TEST_CASE("a step taken in parts (as threads share it) equals one apply", "[optimizers][parts]") {
  const auto make = [](int which) -> std::unique_ptr<kerascpp::Optimizer<double>> {
    switch (which) {
      case 0: return std::make_unique<optimizers::SGD<double>>(0.1, 0.9, true);
      case 1: return std::make_unique<optimizers::Adam<double>>();
      case 2: return std::make_unique<optimizers::AdamW<double>>(0.01);
      case 3: return std::make_unique<optimizers::RMSprop<double>>(0.01, 0.9, 0.5, 1e-7, true);
      default: return std::make_unique<optimizers::Adagrad<double>>(0.1);
    }
  };
  for (int which = 0; which < 5; ++which) {
    // A 7 × 5 kernel, a 1 × 5 bias and a 1 × 2 weight: 44 elements of the flat buffers with padding.
    // 4 parts start and end inside weights and padding; 64 parts leave some parts empty.
    const Mat a0 = Mat::Random(7, 5), b0 = Mat::Random(1, 5), c0 = Mat::Random(1, 2);
    const std::initializer_list<Params::Triple> layout{
        {"a", a0, Mat::Zero(7, 5)}, {"b", b0, Mat::Zero(1, 5)}, {"c", c0, Mat::Zero(1, 2)}};
    Params whole(layout), parts(layout), many(layout);
    auto one = make(which), split = make(which), split_many = make(which);
    INFO(one->name());
    for (int step = 0; step < 3; ++step) {
      const Mat ga = Mat::Random(7, 5), gb = Mat::Random(1, 5), gc = Mat::Random(1, 2);
      for (Params* p : {&whole, &parts, &many}) {
        p->grad(0) = ga;
        p->grad(1) = gb;
        p->grad(2) = gc;
      }
      one->apply(whole.store);
      split->begin_apply(parts.store);
      for (int part = 3; part >= 0; --part) split->apply_part(parts.store, part, 4);
      split_many->begin_apply(many.store);
      for (int part = 63; part >= 0; --part) split_many->apply_part(many.store, part, 64);
    }
    // Equal up to rounding: where a part starts decides which elements take the vectorized path
    // and which the scalar one, and the compiler may contract a·b + c into one FMA in only one of them.
    for (const auto& [p, opt] : {std::pair{&parts, split.get()}, std::pair{&many, split_many.get()}}) {
      CHECK(opt->iterations() == 3);
      for (std::size_t i = 0; i < 3; ++i) CHECK(p->value(i).isApprox(whole.value(i), 1e-14));
      REQUIRE(opt->slot_weights() == one->slot_weights());
      REQUIRE(opt->slots_per_weight() == one->slots_per_weight());
      for (std::size_t i = 0; i < one->slot_weights(); ++i)
        for (int k = 0; k < one->slots_per_weight(); ++k) CHECK(opt->slot(i, k).isApprox(one->slot(i, k), 1e-14));
    }
    CHECK_FALSE(whole.value(0) == a0);  // the steps did move the weights
  }
}

TEST_CASE("part_range splits an array into contiguous, covering, disjoint ranges", "[optimizers][parts]") {
  using O = kerascpp::Optimizer<double>;
  CHECK(O::part_range(10, 0, 3) == std::pair<kerascpp::Index, kerascpp::Index>{0, 3});
  CHECK(O::part_range(10, 1, 3) == std::pair<kerascpp::Index, kerascpp::Index>{3, 6});
  CHECK(O::part_range(10, 2, 3) == std::pair<kerascpp::Index, kerascpp::Index>{6, 10});
  CHECK(O::part_range(2, 0, 4).second == 0);  // more parts than elements: some are empty
  CHECK(O::part_range(2, 3, 4) == std::pair<kerascpp::Index, kerascpp::Index>{1, 2});
}

}  // namespace test_optimizers
