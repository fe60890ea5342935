// Tests of kerascpp/losses.hpp and kerascpp/metrics.hpp: finite-difference gradient checks of every
// loss (with per-sample weights, on probabilities and fused with logits), values against the Keras 3
// formulas (keras/src/losses/losses.py, backend/*/nn.py; the numbers are worked out in the comments),
// the name registries, target and shape validation, and the accuracy metrics.
#include "gradient_check.hpp"

#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_losses {

using kerascpp::Index;
using kerascpp::ValueError;
using kerascpp_test::cview;
using kerascpp_test::Mat;
using kerascpp_test::mview;
using kerascpp_test::Vec;
using Catch::Contains;

namespace losses = kerascpp::losses;
namespace metrics = kerascpp::metrics;

namespace {

Mat rows(std::initializer_list<std::initializer_list<double>> values) {
  Mat m(static_cast<Index>(values.size()), static_cast<Index>(values.begin()->size()));
  Index i = 0;
  for (const auto& row : values) {
    Index j = 0;
    for (double v : row) m(i, j++) = v;
    ++i;
  }
  return m;
}

/// Per-sample losses l_i.
Vec per_sample(const kerascpp::Loss<double>& loss, const Mat& y, const Mat& pred, bool fused = false) {
  Vec out(pred.rows());
  loss.per_sample(cview(y), cview(pred), fused, out);
  return out;
}

/// The Keras batch loss, "sum_over_batch_size": Σ w_i·l_i / batch (w = 1 by default).
double batch_loss(const kerascpp::Loss<double>& loss, const Mat& y, const Mat& pred, bool fused = false) {
  return per_sample(loss, y, pred, fused).mean();
}

/// dl_i/dpred scaled by 1/batch.
Mat gradient(const kerascpp::Loss<double>& loss, const Mat& y, const Mat& pred, bool fused = false) {
  Mat g(pred.rows(), pred.cols());
  const Vec scale = Vec::Constant(pred.rows(), 1.0 / static_cast<double>(pred.rows()));
  loss.gradient(cview(y), cview(pred), fused, scale, mview(g));
  return g;
}

/// Sample weights with a zero and uneven values: 0.5, 2, 1, 0, 1.5, 0.5, 2, …
Vec sample_weights(Index n) {
  const double pattern[] = {0.5, 2.0, 1.0, 0.0, 1.5};
  Vec w(n);
  for (Index i = 0; i < n; ++i) w(i) = pattern[i % 5];
  return w;
}

Mat sigmoid(const Mat& z) {
  return z.unaryExpr([](double v) { return 1.0 / (1.0 + std::exp(-v)); });
}

Mat softmax(const Mat& z) {
  Mat p(z.rows(), z.cols());
  kerascpp::activations::forward<double>(kerascpp::Activation::softmax, cview(z), mview(p));
  return p;
}

/// One-hot rows for the class indices in y (one column).
Mat one_hot(const Mat& labels, Index classes) {
  Mat t = Mat::Zero(labels.rows(), classes);
  for (Index i = 0; i < labels.rows(); ++i) t(i, static_cast<Index>(labels(i, 0))) = 1.0;
  return t;
}

/// Class indices 0 … classes−1 cycling down the rows, as a (rows × 1) matrix.
Mat labels(Index n, Index classes) {
  Mat y(n, 1);
  for (Index i = 0; i < n; ++i) y(i, 0) = static_cast<double>((i * 5 + 1) % classes);
  return y;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Gradient checks

TEST_CASE("mae gradient check with sample weights, away from y = ŷ", "[losses][gradient][mae]") {
  const Mat y = kerascpp_test::uniform_matrix(5, 3, -1.0, 1.0, 401);
  const Mat pred = y + kerascpp_test::away_from_zero(5, 3, 0.05, 1.0, 402);
  kerascpp_test::check_loss_gradient(losses::MeanAbsoluteError<double>(), y, pred, false, sample_weights(5));
}

TEST_CASE("mse gradient check with sample weights", "[losses][gradient][mse]") {
  const Mat y = kerascpp_test::uniform_matrix(5, 3, -1.0, 1.0, 403);
  const Mat pred = kerascpp_test::uniform_matrix(5, 3, -2.0, 2.0, 404);
  kerascpp_test::check_loss_gradient(losses::MeanSquaredError<double>(), y, pred, false, sample_weights(5));
}

TEST_CASE("huber gradient check for small errors, large errors and a smaller delta", "[losses][gradient][huber]") {
  const Mat y = kerascpp_test::uniform_matrix(5, 3, -1.0, 1.0, 405);
  SECTION("all |e| < delta: the quadratic branch") {
    const Mat pred = y + kerascpp_test::away_from_zero(5, 3, 0.05, 0.9, 406);
    kerascpp_test::check_loss_gradient(losses::Huber<double>(), y, pred, false, sample_weights(5));
  }
  SECTION("all |e| > delta: the linear branch") {
    const Mat pred = y + kerascpp_test::away_from_zero(5, 3, 1.1, 3.0, 407);
    kerascpp_test::check_loss_gradient(losses::Huber<double>(), y, pred, false, sample_weights(5));
  }
  SECTION("delta 0.5 with both branches, |e| at least 0.05 from delta") {
    Mat e = kerascpp_test::away_from_zero(5, 3, 0.05, 0.4, 408);
    e.bottomRows(2) = kerascpp_test::away_from_zero(2, 3, 0.55, 2.0, 409);
    kerascpp_test::check_loss_gradient(losses::Huber<double>(0.5), y, y + e, false, sample_weights(5));
  }
}

TEST_CASE("binary_crossentropy gradient checks: probabilities, fused, from_logits, label smoothing",
          "[losses][gradient][bce]") {
  Mat y = (kerascpp_test::uniform_matrix(6, 2, 0.0, 1.0, 410).array() < 0.5).cast<double>().matrix();
  y(0, 0) = 0.3;  // soft labels are allowed in [0, 1]
  y(5, 1) = 0.8;
  const Mat p = kerascpp_test::uniform_matrix(6, 2, 0.05, 0.95, 411);
  const Mat z = kerascpp_test::uniform_matrix(6, 2, -4.0, 4.0, 412);
  const Vec w = sample_weights(6);
  SECTION("probabilities") {
    kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(), y, p, false, w);
  }
  SECTION("fused with a final sigmoid") {
    kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(), y, z, true, w);
  }
  SECTION("from_logits=true") {
    kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(true), y, z, false, w);
  }
  SECTION("label_smoothing 0.2 on probabilities and fused") {
    kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(false, 0.2), y, p, false, w);
    kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(false, 0.2), y, z, true, w);
  }
}

TEST_CASE("categorical_crossentropy gradient checks: probabilities (normalized or not), fused, from_logits",
          "[losses][gradient][cce]") {
  Mat y = one_hot(labels(6, 4), 4);
  y.row(2) << 0.25, 0.25, 0.5, 0.0;  // a soft target
  const Mat z = kerascpp_test::uniform_matrix(6, 4, -3.0, 3.0, 413);
  const Vec w = sample_weights(6);
  SECTION("softmax probabilities") {
    kerascpp_test::check_loss_gradient(losses::CategoricalCrossentropy<double>(), y, softmax(z), false, w);
  }
  SECTION("rows that do not sum to 1 are normalized first, as Keras does") {
    const Mat p = kerascpp_test::uniform_matrix(6, 4, 0.1, 2.0, 414);
    kerascpp_test::check_loss_gradient(losses::CategoricalCrossentropy<double>(), y, p, false, w);
  }
  SECTION("fused with a final softmax") {
    kerascpp_test::check_loss_gradient(losses::CategoricalCrossentropy<double>(), y, z, true, w);
  }
  SECTION("from_logits=true") {
    kerascpp_test::check_loss_gradient(losses::CategoricalCrossentropy<double>(true), y, z, false, w);
  }
  SECTION("label_smoothing 0.1 on probabilities and fused") {
    const Mat p = kerascpp_test::uniform_matrix(6, 4, 0.1, 2.0, 415);
    kerascpp_test::check_loss_gradient(losses::CategoricalCrossentropy<double>(false, 0.1), y, p, false, w);
    kerascpp_test::check_loss_gradient(losses::CategoricalCrossentropy<double>(false, 0.1), y, z, true, w);
  }
}

TEST_CASE("sparse_categorical_crossentropy gradient checks: probabilities, fused, from_logits",
          "[losses][gradient][scce]") {
  const Mat y = labels(6, 4);
  const Mat z = kerascpp_test::uniform_matrix(6, 4, -3.0, 3.0, 416);
  const Vec w = sample_weights(6);
  SECTION("softmax probabilities") {
    kerascpp_test::check_loss_gradient(losses::SparseCategoricalCrossentropy<double>(), y, softmax(z), false, w);
  }
  SECTION("rows that do not sum to 1") {
    const Mat p = kerascpp_test::uniform_matrix(6, 4, 0.1, 2.0, 417);
    kerascpp_test::check_loss_gradient(losses::SparseCategoricalCrossentropy<double>(), y, p, false, w);
  }
  SECTION("fused with a final softmax") {
    kerascpp_test::check_loss_gradient(losses::SparseCategoricalCrossentropy<double>(), y, z, true, w);
  }
  SECTION("from_logits=true") {
    kerascpp_test::check_loss_gradient(losses::SparseCategoricalCrossentropy<double>(true), y, z, false, w);
  }
}

TEST_CASE("the gradient is scaled row by row by w_i / batch", "[losses][gradient]") {
  const losses::MeanSquaredError<double> mse;
  const Mat y = kerascpp_test::uniform_matrix(5, 2, -1.0, 1.0, 418);
  const Mat p = kerascpp_test::uniform_matrix(5, 2, -1.0, 1.0, 419);
  const Vec scale = sample_weights(5) / 5.0;
  Mat g(5, 2);
  mse.gradient(cview(y), cview(p), false, scale, mview(g));
  for (Index i = 0; i < 5; ++i) {
    INFO("row " << i);
    // d/dŷ mean_j (ŷ_j − y_j)² = 2(ŷ − y)/2 = ŷ − y, times scale_i
    CHECK((g.row(i) - scale(i) * (p.row(i) - y.row(i))).cwiseAbs().maxCoeff() < 1e-15);
  }
  CHECK(g.row(3).isZero(0.0));  // weight 0
}

// ---------------------------------------------------------------------------------------------
// Fused and unfused forms agree

TEST_CASE("binary_crossentropy fused with logits equals BCE of sigmoid(z), value and chain-rule gradient",
          "[losses][bce][fused]") {
  const losses::BinaryCrossentropy<double> bce;
  const Mat y = rows({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}, {0.0, 0.0}});
  const Mat z = kerascpp_test::uniform_matrix(4, 2, -5.0, 5.0, 420);
  const Mat p = sigmoid(z);
  CHECK((per_sample(bce, y, z, true) - per_sample(bce, y, p)).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((per_sample(losses::BinaryCrossentropy<double>(true), y, z) - per_sample(bce, y, z, true))
            .cwiseAbs()
            .maxCoeff() == 0.0);
  // dl/dz = dl/dp · σ'(z) = dl/dp · p(1 − p)
  const Mat chain = (gradient(bce, y, p).array() * p.array() * (1.0 - p.array())).matrix();
  CHECK((gradient(bce, y, z, true) - chain).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("categorical and sparse crossentropy fused with logits equal their softmax forms",
          "[losses][cce][scce][fused]") {
  const losses::CategoricalCrossentropy<double> cce;
  const losses::SparseCategoricalCrossentropy<double> scce;
  const Mat labels_ = labels(5, 3);
  const Mat y = one_hot(labels_, 3);
  const Mat z = kerascpp_test::uniform_matrix(5, 3, -4.0, 4.0, 421);
  const Mat p = softmax(z);
  const Vec fused = per_sample(cce, y, z, true);
  CHECK((fused - per_sample(cce, y, p)).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((per_sample(scce, labels_, z, true) - fused).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((per_sample(scce, labels_, p) - fused).cwiseAbs().maxCoeff() < 1e-12);
  // softmax(z) − y, the fused gradient, for both
  const Mat expected = (p - y) / 5.0;
  CHECK((gradient(cce, y, z, true) - expected).cwiseAbs().maxCoeff() < 1e-14);
  CHECK((gradient(scce, labels_, z, true) - expected).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("which losses fuse with which final activation", "[losses][fused]") {
  using kerascpp::Activation;
  CHECK(losses::BinaryCrossentropy<double>().fuses(Activation::sigmoid));
  CHECK_FALSE(losses::BinaryCrossentropy<double>().fuses(Activation::softmax));
  CHECK_FALSE(losses::BinaryCrossentropy<double>(true).fuses(Activation::sigmoid));
  CHECK(losses::CategoricalCrossentropy<double>().fuses(Activation::softmax));
  CHECK_FALSE(losses::CategoricalCrossentropy<double>().fuses(Activation::sigmoid));
  CHECK(losses::SparseCategoricalCrossentropy<double>().fuses(Activation::softmax));
  CHECK_FALSE(losses::SparseCategoricalCrossentropy<double>(true).fuses(Activation::softmax));
  CHECK_FALSE(losses::MeanSquaredError<double>().fuses(Activation::sigmoid));
  CHECK_FALSE(losses::MeanAbsoluteError<double>().fuses(Activation::linear));
}

// ---------------------------------------------------------------------------------------------
// Known values

TEST_CASE("mae, mse and huber values: mean over columns, then Σ w_i·l_i / batch", "[losses][values]") {
  const Mat y = rows({{1.0, 2.0}, {3.0, 4.0}});
  const Mat p = rows({{1.5, 2.0}, {2.0, 5.0}});
  // mae: row 0 (0.5 + 0)/2 = 0.25; row 1 (1 + 1)/2 = 1; batch (0.25 + 1)/2 = 0.625
  const losses::MeanAbsoluteError<double> mae;
  CHECK(per_sample(mae, y, p)(0) == 0.25);
  CHECK(per_sample(mae, y, p)(1) == 1.0);
  CHECK(batch_loss(mae, y, p) == 0.625);
  // With sample weights (1, 3): (1·0.25 + 3·1)/2 = 1.625 — divided by the batch size, not by Σw = 4.
  const Vec l = per_sample(mae, y, p);
  CHECK((l(0) * 1.0 + l(1) * 3.0) / 2.0 == 1.625);
  // mse: row 0 (0.25 + 0)/2 = 0.125; row 1 (1 + 1)/2 = 1; batch 0.5625 (no ½ factor, unlike MiniDNN)
  const losses::MeanSquaredError<double> mse;
  CHECK(per_sample(mse, y, p)(0) == 0.125);
  CHECK(batch_loss(mse, y, p) == 0.5625);
  // huber, delta 1: e = (0.5, 0) → (0.125, 0) → 0.0625; e = (−1, 1) → |e| ≤ δ → (0.5, 0.5) → 0.5
  const losses::Huber<double> huber;
  CHECK(per_sample(huber, y, p)(0) == 0.0625);
  CHECK(per_sample(huber, y, p)(1) == 0.5);
  // e = (0.5, 2): 0.125 and δ|e| − δ²/2 = 2 − 0.5 = 1.5 → mean 0.8125
  CHECK(per_sample(huber, rows({{0.0, 0.0}}), rows({{0.5, 2.0}}))(0) == 0.8125);
  // delta 2, e = (0.5, −3): 0.125 and 2·3 − 2 = 4 → mean 2.0625
  CHECK(per_sample(losses::Huber<double>(2.0), rows({{0.0, 0.0}}), rows({{0.5, -3.0}}))(0) == 2.0625);
  // gradients: mae sign(e)/C, mse 2e/C, huber e/C or δ·sign(e)/C (then /batch = 1)
  CHECK((gradient(mae, rows({{0.0, 0.0}}), rows({{0.5, -2.0}})) - rows({{0.5, -0.5}})).isZero(0.0));
  CHECK((gradient(mse, rows({{0.0, 0.0}}), rows({{0.5, -2.0}})) - rows({{0.5, -2.0}})).isZero(0.0));
  CHECK((gradient(huber, rows({{0.0, 0.0}}), rows({{0.5, -2.0}})) - rows({{0.25, -0.5}})).isZero(0.0));
}

TEST_CASE("binary_crossentropy values, clipping at 1e-7 and stable logits", "[losses][values][bce]") {
  const losses::BinaryCrossentropy<double> bce;
  // p = 0.7, y = 1: −log 0.7
  CHECK(batch_loss(bce, rows({{1.0}}), rows({{0.7}})) == Approx(0.35667494393873245).epsilon(1e-15));
  // two columns, mean over them: (−log 0.7 − log 0.8)/2
  CHECK(batch_loss(bce, rows({{1.0, 0.0}}), rows({{0.7, 0.2}})) == Approx(0.2899092476264711).epsilon(1e-15));
  // p = 0 is clipped to ε = 1e-7: −log(1e-7) = 16.11809565095832, with a finite (zero) gradient
  CHECK(batch_loss(bce, rows({{1.0}}), rows({{0.0}})) == Approx(16.11809565095832).epsilon(1e-12));
  CHECK(batch_loss(bce, rows({{0.0}}), rows({{1.0}})) == Approx(16.11809565095832).epsilon(1e-9));
  CHECK(gradient(bce, rows({{1.0}}), rows({{0.0}})).allFinite());
  CHECK(batch_loss(bce, rows({{1.0}}), rows({{1.0}})) == Approx(1e-7).epsilon(1e-6));  // −log(1 − 1e-7)
  // label_smoothing 0.2: y = 1 → 0.9, so −(0.9·log 0.7 + 0.1·log 0.3)
  CHECK(batch_loss(losses::BinaryCrossentropy<double>(false, 0.2), rows({{1.0}}), rows({{0.7}})) ==
        Approx(0.44140472997745284).epsilon(1e-15));
  // logits: max(z, 0) − z·y + log(1 + e^−|z|)
  CHECK(batch_loss(bce, rows({{1.0}}), rows({{2.0}}), true) == Approx(0.1269280110429725).epsilon(1e-15));
  CHECK(batch_loss(bce, rows({{0.25}}), rows({{-1.0}}), true) == Approx(0.5632616875182228).epsilon(1e-15));
  // z = 100, y = 0: σ(z) rounds to 1 but the logits form gives 100 + log(1 + e^−100) = 100
  CHECK(batch_loss(bce, rows({{0.0}}), rows({{100.0}}), true) == 100.0);
  CHECK(batch_loss(bce, rows({{1.0}}), rows({{-100.0}}), true) == 100.0);
  CHECK(gradient(bce, rows({{0.0}}), rows({{100.0}}), true)(0, 0) == 1.0);  // σ(100) − 0
  // and in float
  const losses::BinaryCrossentropy<float> bce_float;
  kerascpp::RowMatrix<float> yf(1, 1), zf(1, 1);
  yf << 0.0f;
  zf << 100.0f;
  kerascpp::Vector<float> out(1);
  bce_float.per_sample(kerascpp::ConstMatrixView<float>(yf.data(), 1, 1),
                       kerascpp::ConstMatrixView<float>(zf.data(), 1, 1), true, out);
  CHECK(std::isfinite(out(0)));
  CHECK(out(0) == Approx(100.0f));
}

namespace {
/// The spacing of floats at |r| (the smallest subnormal for tiny r): one float ulp.
double float_ulp(double r) {
  const float f = static_cast<float>(std::abs(r));
  return std::max<double>(std::nextafter(f, std::numeric_limits<float>::infinity()) - f,
                          std::numeric_limits<float>::denorm_min());
}

/// Logits from 0 to ±200: tiny, ordinary, where e^−|z| is subnormal (|z| > 87.3) and where it underflows.
std::vector<float> wide_logits() {
  std::vector<float> z;
  for (const float v : {0.0f, 1e-30f, 1e-7f, 0.001f, 0.5f, 1.0f, 2.5f, 3.0f, 7.25f, 10.0f, 16.5f, 17.0f, 30.0f, 50.0f,
                        80.0f, 87.0f, 87.5f, 88.5f, 90.0f, 95.0f, 100.0f, 103.0f, 104.0f, 200.0f}) {
    z.push_back(v);
    z.push_back(-v);
  }
  return z;
}

double sigmoid_reference(double z) { return 1.0 / (1.0 + std::exp(-z)); }
}  // namespace

TEST_CASE("binary_crossentropy on logits in float: loss and gradient within a few ulps of a double reference",
          "[losses][values][bce][float]") {
  using FMat = kerascpp::RowMatrix<float>;
  const std::vector<float> values = wide_logits();
  const auto m = static_cast<Index>(values.size());
  const Index n = m * 2 * 9;  // every logit with label 0 and with label 1, 9 times: in every SIMD lane
  FMat z(n, 1), y(n, 1);
  for (Index i = 0; i < n; ++i) {
    z(i, 0) = values[static_cast<std::size_t>(i / 2 % m)];
    y(i, 0) = static_cast<float>(i % 2);
  }
  const double smoothing = GENERATE(0.0, 0.1);
  const bool from_logits = GENERATE(false, true);
  INFO("label_smoothing " << smoothing << ", from_logits " << from_logits);
  const losses::BinaryCrossentropy<float> loss(from_logits, smoothing);
  const bool fused = !from_logits;
  const float s = static_cast<float>(smoothing);

  Eigen::VectorXf l(n);
  loss.per_sample(kerascpp::ConstMatrixView<float>(y.data(), n, 1), kerascpp::ConstMatrixView<float>(z.data(), n, 1),
                  fused, l);
  FMat g(n, 1);
  const Eigen::VectorXf ones = Eigen::VectorXf::Ones(n);
  loss.gradient(kerascpp::ConstMatrixView<float>(y.data(), n, 1), kerascpp::ConstMatrixView<float>(z.data(), n, 1),
                fused, ones, kerascpp::MatrixView<float>(g.data(), n, 1));
  std::vector<double> reference(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const double zi = z(i, 0);
    const double t = y(i, 0) * (1.0f - s) + 0.5f * s;  // the float smoothed target
    reference[static_cast<std::size_t>(i)] = std::max(zi, 0.0) - zi * t + std::log1p(std::exp(-std::abs(zi)));
    // the terms max(z, 0) and z·t are rounded to float before they cancel; with labels 0/1 they are exact
    const double terms = smoothing > 0 ? float_ulp(zi * t) + float_ulp(std::max(zi, 0.0)) : 0.0;
    INFO("z = " << zi << ", t = " << t);
    CHECK(std::abs(l(i) - reference[static_cast<std::size_t>(i)]) <= 4 * float_ulp(reference[static_cast<std::size_t>(i)]) + 2 * terms);
    const double sigma = sigmoid_reference(zi);
    CHECK(std::abs(g(i, 0) - (sigma - t)) <= 4 * float_ulp(std::max(sigma, t)));
  }

  // the same values two per row: the loss is the mean over the columns, the gradient (σ(z) − t)/2
  const Index half = n / 2;
  FMat z2 = Eigen::Map<FMat>(z.data(), half, 2), y2 = Eigen::Map<FMat>(y.data(), half, 2);
  Eigen::VectorXf l2(half);
  loss.per_sample(kerascpp::ConstMatrixView<float>(y2.data(), half, 2),
                  kerascpp::ConstMatrixView<float>(z2.data(), half, 2), fused, l2);
  FMat g2(half, 2);
  loss.gradient(kerascpp::ConstMatrixView<float>(y2.data(), half, 2),
                kerascpp::ConstMatrixView<float>(z2.data(), half, 2), fused, Eigen::VectorXf::Ones(half),
                kerascpp::MatrixView<float>(g2.data(), half, 2));
  for (Index i = 0; i < half; ++i) {
    const double a = reference[static_cast<std::size_t>(2 * i)], b = reference[static_cast<std::size_t>(2 * i + 1)];
    const double zi = z2(i, 0);
    const double terms = smoothing > 0 ? float_ulp(zi) : 0.0;
    INFO("row " << i << ": z = " << zi);
    CHECK(std::abs(l2(i) - (a + b) / 2) <= 4 * float_ulp(std::max(a, b)) + 2 * terms);
    CHECK(std::abs(g2(i, 0) - g(2 * i, 0) / 2) <= float_ulp(g(2 * i, 0)));
    CHECK(std::abs(g2(i, 1) - g(2 * i + 1, 0) / 2) <= float_ulp(g(2 * i + 1, 0)));
  }
}

TEST_CASE("binary_crossentropy on logits propagates NaN and gives a one-column gradient check",
          "[losses][bce][gradient]") {
  using FMat = kerascpp::RowMatrix<float>;
  FMat z(3, 1), y(3, 1);
  z << std::numeric_limits<float>::quiet_NaN(), 95.0f, -1.0f;  // 95: the subnormal branch is taken with a NaN present
  y << 0.0f, 1.0f, 0.0f;
  const losses::BinaryCrossentropy<float> loss(true);
  Eigen::VectorXf l(3);
  loss.per_sample(kerascpp::ConstMatrixView<float>(y.data(), 3, 1), kerascpp::ConstMatrixView<float>(z.data(), 3, 1),
                  false, l);
  FMat g(3, 1);
  loss.gradient(kerascpp::ConstMatrixView<float>(y.data(), 3, 1), kerascpp::ConstMatrixView<float>(z.data(), 3, 1),
                false, Eigen::VectorXf::Ones(3), kerascpp::MatrixView<float>(g.data(), 3, 1));
  CHECK(std::isnan(l(0)));
  CHECK(std::isnan(g(0, 0)));
  CHECK(std::isfinite(l(1)));
  CHECK(l(2) == Approx(std::log1p(std::exp(-1.0))).epsilon(1e-6));

  Mat yd = (kerascpp_test::uniform_matrix(7, 1, 0.0, 1.0, 420).array() < 0.5).cast<double>().matrix();
  const Mat zd = kerascpp_test::uniform_matrix(7, 1, -5.0, 5.0, 421);
  kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(), yd, zd, true, sample_weights(7));
  kerascpp_test::check_loss_gradient(losses::BinaryCrossentropy<double>(true, 0.2), yd, zd, false, sample_weights(7));
}

TEST_CASE("categorical and sparse categorical crossentropy values", "[losses][values][cce][scce]") {
  const losses::CategoricalCrossentropy<double> cce;
  const losses::SparseCategoricalCrossentropy<double> scce;
  // −log 0.5
  CHECK(batch_loss(cce, rows({{0.0, 1.0, 0.0}}), rows({{0.2, 0.5, 0.3}})) == Approx(0.6931471805599453).epsilon(1e-15));
  // not normalized: [1, 2, 1] / 4 = [0.25, 0.5, 0.25], so again −log 0.5
  CHECK(batch_loss(cce, rows({{0.0, 1.0, 0.0}}), rows({{1.0, 2.0, 1.0}})) == Approx(0.6931471805599453).epsilon(1e-15));
  // logits [1, 2, 3], class 2: logsumexp = 3 + log(1 + e^−1 + e^−2) = 3.4076059644443806 → 0.4076059644443806
  CHECK(batch_loss(cce, rows({{0.0, 0.0, 1.0}}), rows({{1.0, 2.0, 3.0}}), true) ==
        Approx(0.4076059644443806).epsilon(1e-14));
  CHECK(batch_loss(scce, rows({{2.0}}), rows({{1.0, 2.0, 3.0}}), true) == Approx(0.4076059644443806).epsilon(1e-14));
  CHECK(batch_loss(scce, rows({{1.0}}), rows({{0.2, 0.5, 0.3}})) == Approx(0.6931471805599453).epsilon(1e-15));
  // label_smoothing 0.1 over 3 classes: t = (0.1/3, 0.9 + 0.1/3, 0.1/3); −Σ t log p = 0.7407177257479501
  CHECK(batch_loss(losses::CategoricalCrossentropy<double>(false, 0.1), rows({{0.0, 1.0, 0.0}}),
                   rows({{0.2, 0.5, 0.3}})) == Approx(0.7407177257479501).epsilon(1e-14));
  // clipping: p_0 = 0 is clipped to 1e-7 → −log(1e-7)
  CHECK(batch_loss(cce, rows({{1.0, 0.0, 0.0}}), rows({{0.0, 1.0, 0.0}})) == Approx(16.11809565095832).epsilon(1e-12));
  CHECK(batch_loss(scce, rows({{0.0}}), rows({{0.0, 1.0, 0.0}})) == Approx(16.11809565095832).epsilon(1e-12));
  CHECK(gradient(cce, rows({{1.0, 0.0, 0.0}}), rows({{0.0, 1.0, 0.0}})).allFinite());
  CHECK(gradient(scce, rows({{0.0}}), rows({{0.0, 1.0, 0.0}})).allFinite());
  // large logits stay finite: [1000, 0, −1000], class 1 → logsumexp ≈ 1000, loss 1000
  CHECK(batch_loss(cce, rows({{0.0, 1.0, 0.0}}), rows({{1000.0, 0.0, -1000.0}}), true) == Approx(1000.0));
  CHECK(batch_loss(scce, rows({{1.0}}), rows({{1000.0, 0.0, -1000.0}}), true) == Approx(1000.0));
  CHECK(gradient(cce, rows({{0.0, 1.0, 0.0}}), rows({{1000.0, 0.0, -1000.0}}), true).allFinite());
}

TEST_CASE("categorical and sparse categorical crossentropy on logits in float: loss and gradient against a double "
          "reference, very negative logits and rows wider than the kernels' 4 KB chunk",
          "[losses][values][cce][scce][float]") {
  using FMat = kerascpp::RowMatrix<float>;
  const Index classes = GENERATE(as<Index>{}, 3, 10, 1500);
  const double smoothing = GENERATE(0.0, 0.1);
  INFO(classes << " classes, label_smoothing " << smoothing);
  const Index n = 9;
  FMat z = kerascpp_test::uniform_matrix(n, classes, -20.0, 20.0, 430).cast<float>();
  z(1, 0) = -150.0f;  // softmax underflows to 0 (below the smallest subnormal)
  z(2, 1) = -95.0f;   // e^(z − max z) subnormal
  z(3, classes - 1) = 60.0f;
  const Mat label_column = labels(n, classes);
  const FMat sparse = label_column.cast<float>();
  const FMat y = one_hot(label_column, classes).cast<float>();
  const losses::CategoricalCrossentropy<float> cce(false, smoothing);
  const losses::SparseCategoricalCrossentropy<float> scce;
  const auto cv = [](const FMat& m) { return kerascpp::ConstMatrixView<float>(m.data(), m.rows(), m.cols()); };
  Eigen::VectorXf l(n), ls(n);
  cce.per_sample(cv(y), cv(z), true, l);
  scce.per_sample(cv(sparse), cv(z), true, ls);
  FMat g(n, classes), gs(n, classes);
  const Eigen::VectorXf ones = Eigen::VectorXf::Ones(n);
  cce.gradient(cv(y), cv(z), true, ones, kerascpp::MatrixView<float>(g.data(), n, classes));
  scce.gradient(cv(sparse), cv(z), true, ones, kerascpp::MatrixView<float>(gs.data(), n, classes));
  for (Index i = 0; i < n; ++i) {
    const Eigen::RowVectorXd zi = z.row(i).cast<double>();
    const double zmax = zi.maxCoeff();
    const Eigen::RowVectorXd e = (zi.array() - zmax).exp().matrix();
    const double lse = zmax + std::log(e.sum());
    const Eigen::RowVectorXd p = e / e.sum();
    const Index k = static_cast<Index>(label_column(i, 0));
    // t = y(1 − s) + s/C in float, as the loss forms it
    const Eigen::RowVectorXd t =
        (y.row(i).array() * (1.0f - static_cast<float>(smoothing)) + static_cast<float>(smoothing) / static_cast<float>(classes))
            .cast<double>()
            .matrix();
    const double reference = t.sum() * lse - t.dot(zi);  // Σt·logsumexp(z) − t·z
    INFO("row " << i << ", class " << k);
    // the terms Σt·lse and t·z are rounded to float before they cancel: a few ulps of their size
    const double cancel = 8 * 0x1p-24 * (std::abs(lse) + zi.cwiseAbs().maxCoeff());
    CHECK(l(i) == Approx(reference).epsilon(1e-6).margin(cancel));
    CHECK(ls(i) == Approx(lse - zi(k)).epsilon(1e-6).margin(cancel));
    for (Index j = 0; j < classes; ++j) {
      INFO("column " << j << ": z = " << zi(j));
      // z − max z is rounded to float, which moves softmax(z) by up to |z − max z|·2^−24 relative
      const double relative = (8.0 + std::abs(zi(j) - zmax)) * 0x1p-24;
      const double expected = p(j) * t.sum() - t(j);  // softmax(z)·Σt − t
      CHECK(std::abs(g(i, j) - expected) <= relative * p(j) * t.sum() + 2 * 0x1p-24 * t(j) + 1e-30);
      CHECK(std::abs(gs(i, j) - (p(j) - (j == k ? 1.0 : 0.0))) <= relative * p(j) + (j == k ? 0x1p-24 : 1e-30));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Names and validation

TEST_CASE("losses::get resolves Keras names and lists the valid ones for an unknown name", "[losses][names]") {
  const std::vector<std::pair<std::string, std::string>> resolved{
      {"mae", "mean_absolute_error"},
      {"mean_absolute_error", "mean_absolute_error"},
      {"mse", "mean_squared_error"},
      {"mean_squared_error", "mean_squared_error"},
      {"huber", "huber"},
      {"huber_loss", "huber"},
      {"binary_crossentropy", "binary_crossentropy"},
      {"bce", "binary_crossentropy"},
      {"categorical_crossentropy", "categorical_crossentropy"},
      {"sparse_categorical_crossentropy", "sparse_categorical_crossentropy"}};
  for (const auto& [typed, name] : resolved) {
    INFO("losses::get(\"" << typed << "\")");
    const auto loss = losses::get<double>(typed);
    REQUIRE(loss != nullptr);
    CHECK(loss->name() == name);
    CHECK(loss->clone()->name() == name);
  }
  const auto huber_loss = losses::get<double>("huber");
  const auto* huber = dynamic_cast<const losses::Huber<double>*>(huber_loss.get());
  REQUIRE(huber != nullptr);
  CHECK(huber->delta() == 1.0);
  const auto bce = losses::get<double>("binary_crossentropy");
  const auto* b = dynamic_cast<const losses::BinaryCrossentropy<double>*>(bce.get());
  REQUIRE(b != nullptr);
  CHECK_FALSE(b->from_logits());
  CHECK(b->label_smoothing() == 0.0);

  const std::string message = kerascpp_test::thrown_message<ValueError>([] { losses::get<double>("mean_squared_eror"); });
  CHECK_THAT(message, Contains("unknown loss 'mean_squared_eror'") && Contains("valid names are") &&
                          Contains("mean_squared_error") && Contains("sparse_categorical_crossentropy"));
}

TEST_CASE("loss arguments are validated", "[losses][errors]") {
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { losses::Huber<double> h(0.0); }),
             Contains("delta must be positive and finite in the model's Scalar, received delta=0"));
  CHECK_THROWS_AS(losses::Huber<double>(HUGE_VAL), ValueError);
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { losses::Huber<float> h(1e39); }),
             Contains("Huber: delta must be positive and finite in the model's Scalar, received delta=1e+39"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { losses::BinaryCrossentropy<double> b(false, 1.5); }),
             Contains("label_smoothing must be in [0, 1], received label_smoothing=1.5"));
  CHECK_THROWS_AS(losses::CategoricalCrossentropy<double>(false, -0.1), ValueError);
}

TEST_CASE("check_shapes: targets must fit the model output", "[losses][errors]") {
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { losses::BinaryCrossentropy<double>().check_shapes(1, 3); }),
             Contains("binary_crossentropy: y has 1 column(s) but the model output has 3"));
  CHECK_NOTHROW(losses::MeanSquaredError<double>().check_shapes(2, 2));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { losses::CategoricalCrossentropy<double>().check_shapes(1, 3); }),
             Contains("categorical_crossentropy: y has 1 column but the model output has 3; the loss needs one-hot "
                      "targets of the output's width (one-hot encode y), or use sparse_categorical_crossentropy for "
                      "class indices"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { losses::CategoricalCrossentropy<double>().check_shapes(2, 3); }),
             Contains("categorical_crossentropy: y has 2 column(s) but the model output has 3"));
  CHECK_NOTHROW(losses::CategoricalCrossentropy<double>().check_shapes(3, 3));
  const losses::SparseCategoricalCrossentropy<double> scce;
  CHECK_NOTHROW(scce.check_shapes(1, 3));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { scce.check_shapes(3, 3); }),
             Contains("y must have 1 column holding class indices, received 3 columns"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { scce.check_shapes(1, 1); }),
             Contains("at least 2") && Contains("received 1"));
}

TEST_CASE("check_targets: labels a loss cannot take are named by row", "[losses][errors]") {
  const losses::BinaryCrossentropy<double> bce;
  CHECK_NOTHROW(bce.check_targets(rows({{0.0}, {1.0}, {0.25}}), 1));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { bce.check_targets(rows({{0.0}, {2.0}}), 1); }),
             Contains("binary_crossentropy: labels must be in [0, 1], received 2 at row 1, column 0"));
  CHECK_THROWS_AS(bce.check_targets(rows({{std::nan("")}}), 1), ValueError);

  const losses::CategoricalCrossentropy<double> cce;
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { cce.check_targets(rows({{0.0, 1.0}, {-0.5, 1.0}}), 2); }),
             Contains("received -0.5 at row 1, column 0"));

  const losses::SparseCategoricalCrossentropy<double> scce;
  CHECK_NOTHROW(scce.check_targets(rows({{0.0}, {2.0}, {1.0}}), 3));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { scce.check_targets(rows({{0.0}, {3.0}}), 3); }),
             Contains("labels must be integers in [0, 3), received 3 at row 1"));
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([&] { scce.check_targets(rows({{0.0}, {1.0}, {1.5}}), 3); }),
             Contains("received 1.5 at row 2"));
  CHECK_THROWS_AS(scce.check_targets(rows({{-1.0}}), 3), ValueError);

  CHECK_NOTHROW(losses::MeanSquaredError<double>().check_targets(rows({{-7.0, 42.0}}), 2));
}

// ---------------------------------------------------------------------------------------------
// Metrics

TEST_CASE("binary_accuracy counts a prediction as 1 only when strictly above the threshold",
          "[metrics][values]") {
  const metrics::BinaryAccuracy<double> acc;
  CHECK(acc.name() == "binary_accuracy");
  const Mat y = rows({{1.0}, {0.0}, {1.0}, {0.0}, {1.0}});
  const Mat p = rows({{0.5}, {0.5}, {0.51}, {0.2}, {0.9}});
  // ŷ > 0.5 → (0, 0, 1, 0, 1); equal to y → (0, 1, 1, 1, 1)
  Vec out(5);
  acc.per_sample(cview(y), cview(p), out);
  CHECK(out(0) == 0.0);
  CHECK(out(1) == 1.0);
  CHECK(out.mean() == 0.8);
  // two columns: the mean over columns
  Vec two(1);
  acc.per_sample(cview(rows({{1.0, 0.0}})), cview(rows({{0.7, 0.6}})), two);
  CHECK(two(0) == 0.5);
  const metrics::BinaryAccuracy<double> custom("acc", 0.8);
  Vec o(1);
  custom.per_sample(cview(rows({{1.0}})), cview(rows({{0.7}})), o);
  CHECK(o(0) == 0.0);
}

TEST_CASE("categorical and sparse categorical accuracy compare the argmax", "[metrics][values]") {
  const Mat p = rows({{0.1, 0.7, 0.2}, {0.5, 0.3, 0.2}, {0.2, 0.2, 0.6}, {0.4, 0.4, 0.2}});
  const Mat y = rows({{0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}, {0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}});
  Vec out(4);
  metrics::CategoricalAccuracy<double>().per_sample(cview(y), cview(p), out);
  // argmax ŷ = (1, 0, 2, 0 — the first of a tie, as numpy/TF argmax); argmax y = (1, 2, 2, 0)
  CHECK(out(0) == 1.0);
  CHECK(out(1) == 0.0);
  CHECK(out(2) == 1.0);
  CHECK(out(3) == 1.0);
  const Mat labels_ = rows({{1.0}, {2.0}, {2.0}, {0.0}});
  Vec sparse(4);
  metrics::SparseCategoricalAccuracy<double>().per_sample(cview(labels_), cview(p), sparse);
  CHECK((sparse - out).isZero(0.0));
}

TEST_CASE("mae, mse and rmse metrics, rmse taking the root of the epoch mean", "[metrics][values]") {
  const Mat y = rows({{1.0, 2.0}, {3.0, 4.0}});
  const Mat p = rows({{1.5, 2.0}, {2.0, 5.0}});
  Vec out(2);
  metrics::MeanAbsoluteError<double>().per_sample(cview(y), cview(p), out);
  CHECK(out(0) == 0.25);
  CHECK(out(1) == 1.0);
  metrics::MeanSquaredError<double>().per_sample(cview(y), cview(p), out);
  CHECK(out(0) == 0.125);
  const metrics::RootMeanSquaredError<double> rmse;
  rmse.per_sample(cview(y), cview(p), out);
  CHECK(out(1) == 1.0);
  CHECK(rmse.finalize(0.25) == 0.5);
  // epoch mean of (0.125, 1) = 0.5625 → rmse 0.75
  CHECK(rmse.finalize(out.mean()) == 0.75);
  CHECK(metrics::MeanSquaredError<double>().finalize(0.25) == 0.25);
}

TEST_CASE("metrics::get resolves \"accuracy\" from the shapes as Keras does and keeps the typed name",
          "[metrics][names]") {
  const auto is_binary = [](const auto& m) { return dynamic_cast<const metrics::BinaryAccuracy<double>*>(m.get()) != nullptr; };
  const auto is_sparse = [](const auto& m) {
    return dynamic_cast<const metrics::SparseCategoricalAccuracy<double>*>(m.get()) != nullptr;
  };
  const auto is_categorical = [](const auto& m) {
    return dynamic_cast<const metrics::CategoricalAccuracy<double>*>(m.get()) != nullptr;
  };
  // binary for a 1-column output; a multi-label output (3 sigmoid columns) is categorical, as in Keras
  CHECK(is_binary(metrics::get<double>("accuracy", 1, 1)));
  CHECK(is_categorical(metrics::get<double>("accuracy", 3, 3)));
  // sparse when y has 1 column and the output more than 1
  CHECK(is_sparse(metrics::get<double>("accuracy", 1, 4)));
  CHECK(is_sparse(metrics::get<double>("acc", 1, 4)));
  // otherwise categorical
  CHECK(is_categorical(metrics::get<double>("accuracy", 4, 4)));
  CHECK(is_categorical(metrics::get<double>("accuracy", 4, 4)));
  // the History key is what the user typed
  CHECK(metrics::get<double>("acc", 1, 1)->name() == "acc");
  CHECK(metrics::get<double>("accuracy", 4, 4)->name() == "accuracy");
  // explicit names
  CHECK(is_binary(metrics::get<double>("binary_accuracy", 4, 4)));
  CHECK(metrics::get<double>("rmse", 1, 1)->finalize(4.0) == 2.0);
  CHECK(metrics::get<double>("mae", 1, 1)->name() == "mae");

  const std::string message = kerascpp_test::thrown_message<ValueError>([] { metrics::get<double>("f1", 1, 1); });
  CHECK_THAT(message, Contains("unknown metric 'f1'") && Contains("valid names are") && Contains("binary_accuracy") &&
                          Contains("root_mean_squared_error"));
  CHECK_NOTHROW(metrics::validate("sparse_categorical_accuracy"));
  CHECK_THROWS_AS(metrics::validate("accuracyy"), ValueError);
}

}  // namespace test_losses
