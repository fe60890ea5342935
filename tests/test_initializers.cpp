// Tests of kerascpp/initializers.hpp against Keras's VarianceScaling family
// (keras/src/initializers/random_initializers.py): uniform limits, truncated-normal standard deviations
// and bounds, the constant and plain random initializers, determinism and name validation.
#include "gradient_check.hpp"

#include <kerascpp/initializers.hpp>
#include <kerascpp/layers/dense.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_initializers {

using kerascpp::Index;
using kerascpp::Initializer;
using kerascpp::Rng;
using kerascpp::ValueError;
using kerascpp_test::Mat;
using Catch::Contains;

namespace {

/// The standard deviation of a unit normal truncated at ±2 (Keras divides by it).
constexpr double truncation_stddev = 0.87962566103423978;

Mat filled(const Initializer& init, Index fan_in, Index fan_out, std::uint64_t seed = 7) {
  Mat w(fan_in, fan_out);
  Rng rng(seed);
  kerascpp::initializers::fill(init, w, fan_in, fan_out, rng);
  return w;
}

double mean(const Mat& w) { return w.mean(); }

double variance(const Mat& w) { return (w.array() - w.mean()).square().mean(); }

/// All entries in [−limit, limit], reaching close to both ends, with the uniform variance limit²/3.
void check_uniform(const Mat& w, double limit) {
  INFO("limit " << limit);
  CHECK(w.cwiseAbs().maxCoeff() <= limit);
  CHECK(w.maxCoeff() > 0.99 * limit);
  CHECK(w.minCoeff() < -0.99 * limit);
  CHECK(mean(w) == Approx(0.0).margin(0.01 * limit));
  // the sample variance of n = 1.5e5 uniforms has a relative standard error of sqrt(0.8/n) ≈ 0.23%
  CHECK(variance(w) == Approx(limit * limit / 3.0).epsilon(0.02));
}

/// Keras truncated normal: standard deviation sqrt(scale/fan) after truncation, nothing beyond
/// 2·sqrt(scale/fan)/0.8796…, and values do reach close to that bound.
void check_truncated(const Mat& w, double stddev) {
  INFO("expected standard deviation " << stddev);
  const double bound = 2.0 * stddev / truncation_stddev;
  CHECK(std::sqrt(variance(w)) == Approx(stddev).epsilon(0.02));
  CHECK(w.cwiseAbs().maxCoeff() <= bound);
  CHECK(w.cwiseAbs().maxCoeff() > 0.99 * bound);
  CHECK(mean(w) == Approx(0.0).margin(0.01 * stddev));
  // Beyond 2σ: an untruncated normal has 4.55% of its mass there; the truncated one, |z| > 2·0.8796
  // for z a unit normal cut at ±2, has 2(Φ(2) − Φ(1.7593))/(2Φ(2) − 1) = 3.461%.
  const double beyond = (w.array().abs() > 2.0 * stddev).cast<double>().mean();
  CHECK(beyond == Approx(0.034609).margin(0.004));
}

}  // namespace

TEST_CASE("glorot_uniform: uniform on ±sqrt(6/(fan_in + fan_out)) with variance limit²/3",
          "[initializers][uniform]") {
  const Mat w = filled("glorot_uniform", 500, 300);
  check_uniform(w, std::sqrt(6.0 / 800.0));
}

TEST_CASE("he_uniform and lecun_uniform use fan_in only", "[initializers][uniform]") {
  // 200 × 800: fan_avg 500 would give other limits, so the fans are told apart.
  check_uniform(filled("he_uniform", 200, 800), std::sqrt(6.0 / 200.0));
  check_uniform(filled("lecun_uniform", 200, 800), std::sqrt(3.0 / 200.0));
}

TEST_CASE("glorot_normal, he_normal and lecun_normal are Keras truncated normals", "[initializers][normal]") {
  SECTION("500 × 500") {
    check_truncated(filled("glorot_normal", 500, 500), std::sqrt(1.0 / 500.0));
    check_truncated(filled("he_normal", 500, 500), std::sqrt(2.0 / 500.0));
    check_truncated(filled("lecun_normal", 500, 500), std::sqrt(1.0 / 500.0));
  }
  SECTION("250 × 1000: glorot_normal uses fan_avg = 625, he_normal and lecun_normal fan_in = 250") {
    check_truncated(filled("glorot_normal", 250, 1000), std::sqrt(1.0 / 625.0));
    check_truncated(filled("he_normal", 250, 1000), std::sqrt(2.0 / 250.0));
    check_truncated(filled("lecun_normal", 250, 1000), std::sqrt(1.0 / 250.0));
  }
}

TEST_CASE("the truncated normal draw stays within two standard deviations", "[initializers][normal]") {
  Rng rng(99);
  double max_abs = 0.0, sum_sq = 0.0;
  constexpr int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = rng.truncated_normal();
    max_abs = std::max(max_abs, std::abs(z));
    sum_sq += z * z;
  }
  CHECK(max_abs <= 2.0);
  CHECK(max_abs > 1.99);
  CHECK(std::sqrt(sum_sq / n) == Approx(truncation_stddev).epsilon(0.01));
}

TEST_CASE("zeros and ones", "[initializers][constant]") {
  CHECK(filled("zeros", 4, 3).isZero(0.0));
  CHECK(filled("ones", 4, 3).isOnes(0.0));
}

TEST_CASE("random_normal and random_uniform take Keras defaults and their parameters", "[initializers][random]") {
  const Initializer plain_normal("random_normal");
  CHECK(plain_normal.mean == 0.0);
  CHECK(plain_normal.stddev == 0.05);
  const Mat defaults = filled(plain_normal, 400, 400);
  CHECK(mean(defaults) == Approx(0.0).margin(5e-4));
  CHECK(std::sqrt(variance(defaults)) == Approx(0.05).epsilon(0.02));

  const Mat shifted = filled(kerascpp::initializers::random_normal(1.0, 0.5), 400, 400);
  CHECK(mean(shifted) == Approx(1.0).margin(5e-3));
  CHECK(std::sqrt(variance(shifted)) == Approx(0.5).epsilon(0.02));
  CHECK(shifted.maxCoeff() > 1.0 + 3.5 * 0.5);  // not truncated: 160000 draws reach beyond 3.5σ

  const Initializer plain_uniform("random_uniform");
  CHECK(plain_uniform.minval == -0.05);
  CHECK(plain_uniform.maxval == 0.05);
  check_uniform(filled(plain_uniform, 400, 400), 0.05);

  const Mat range = filled(kerascpp::initializers::random_uniform(-0.2, 0.7), 400, 400);
  CHECK(range.minCoeff() >= -0.2);
  CHECK(range.maxCoeff() < 0.7);
  CHECK(range.minCoeff() < -0.19);
  CHECK(range.maxCoeff() > 0.69);
  CHECK(mean(range) == Approx(0.25).margin(0.005));
  CHECK(variance(range) == Approx(0.81 / 12.0).epsilon(0.02));
}

TEST_CASE("the same Rng seed gives the same weights", "[initializers][determinism]") {
  for (const char* name : {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                           "lecun_normal", "random_normal", "random_uniform"}) {
    INFO("initializer " << name);
    const Mat a = filled(name, 30, 20, 5);
    const Mat b = filled(name, 30, 20, 5);
    const Mat c = filled(name, 30, 20, 6);
    CHECK((a - b).cwiseAbs().maxCoeff() == 0.0);
    CHECK((a - c).cwiseAbs().maxCoeff() > 0.0);
  }
  // Two Dense layers built from equal seeds hold equal kernels.
  kerascpp::layers::Dense<double> d1(8, "relu"), d2(8, "relu");
  Rng r1(11), r2(11);
  d1.build(5, r1);
  d2.build(5, r2);
  CHECK((*d1.weights()[0].value - *d2.weights()[0].value).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("the initializer is filled in the matrix's own (rows × cols) shape", "[initializers]") {
  // A row-major and a column-major matrix see the same values at the same (i, j).
  Mat row_major(6, 4);
  kerascpp::Matrix<double> col_major(6, 4);
  Rng r1(3), r2(3);
  kerascpp::initializers::fill(Initializer("glorot_uniform"), row_major, 6, 4, r1);
  kerascpp::initializers::fill(Initializer("glorot_uniform"), col_major, 6, 4, r2);
  CHECK((row_major - Mat(col_major)).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("unknown initializer names are a ValueError listing the valid names", "[initializers][errors]") {
  CHECK(Initializer().name == "glorot_uniform");
  CHECK_NOTHROW(kerascpp::initializers::validate(Initializer("he_normal")));
  const std::string message =
      kerascpp_test::thrown_message<ValueError>([] { kerascpp::initializers::validate(Initializer("xavier")); });
  CHECK_THAT(message, Contains("unknown initializer 'xavier'") && Contains("valid names are") &&
                          Contains("glorot_uniform") && Contains("random_uniform"));
  CHECK_THROWS_AS(filled("orthogonal", 3, 3), ValueError);
  CHECK_THROWS_AS(kerascpp::layers::Dense<double>(4, "relu", {}, true, "zeros", "one"), ValueError);
}

}  // namespace test_initializers
