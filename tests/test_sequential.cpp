// Sequential end to end: learning on small problems and on the Kaggle course's red-wine model,
// reproducibility, and the fit/evaluate/predict mechanics Keras defines (KERAS.md §2.3–2.4).
// Mechanics are checked with a learning rate of 0, so that every batch loss can be computed by
// hand from `predict`.
#include <catch2/catch.hpp>

#include <kerascpp/data.hpp>
#include <kerascpp/kerascpp.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_sequential {

namespace keras = kerascpp;
using namespace keras::layers;
using keras::Index;
using keras::Logs;
using Mat = keras::Matrix<double>;
using Vec = keras::Vector<double>;

namespace {

Mat uniform(Index rows, Index cols, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  keras::Rng rng(seed);
  Mat m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.uniform(low, high);
  return m;
}

/// A linear model y = x·W + b whose learning rate is 0: training never changes it, so the loss of
/// every batch can be computed from `predict`.
keras::Sequential<double> frozen_linear(Index inputs, const std::string& loss = "mse",
                                        std::vector<keras::MetricSpec<double>> metrics = {}) {
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{inputs})};
  Mat w(inputs, 1);
  for (Index i = 0; i < inputs; ++i) w(i, 0) = 0.5 - 0.25 * static_cast<double>(i);
  model.set_weights({w, Mat::Constant(1, 1, 0.1)});
  model.compile(keras::optimizers::SGD<double>(0.0), loss, std::move(metrics));
  return model;
}

/// Per-sample squared errors of the model on (x, y).
Vec squared_errors(keras::Sequential<double>& model, const Mat& x, const Mat& y) {
  return (model.predict(x) - y).array().square().rowwise().mean().matrix();
}

/// Batch-end logs of a fit, in order.
struct BatchRecorder : keras::callbacks::LambdaCallback<double> {
  std::vector<double> losses;
  BatchRecorder() {
    batch_end = [this](int, Logs& logs) { losses.push_back(logs.at("loss")); };
  }
};

/// Undoes the running mean: the individual batch losses from the running means and batch sizes.
std::vector<double> unroll(const std::vector<double>& running, const std::vector<Index>& sizes) {
  std::vector<double> out;
  double previous_sum = 0.0;
  Index rows = 0;
  for (std::size_t k = 0; k < running.size(); ++k) {
    rows += sizes[k % sizes.size()];
    const double sum = running[k] * static_cast<double>(rows);
    out.push_back((sum - previous_sum) / static_cast<double>(sizes[k % sizes.size()]));
    previous_sum = sum;
    if (k % sizes.size() == sizes.size() - 1) {
      previous_sum = 0.0;
      rows = 0;
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Learning.

// The overloads that refuse objects of another Scalar leave the deduced model types alone.
static_assert(std::is_same_v<decltype(kerascpp::Sequential{kerascpp::layers::Dense<double>(1)}), kerascpp::Sequential<double>>);
static_assert(std::is_same_v<decltype(kerascpp::Sequential{kerascpp::layers::Dense(1)}), kerascpp::Sequential<float>>);

TEST_CASE("layer(i).get_weights() gives one layer's weights as Keras's model.layers[i].get_weights()", "[sequential]") {
  keras::Sequential<double> model{Dense<double>(3, "relu", keras::input_shape{2}), BatchNormalization<double>(),
                                  Dense<double>(1)};
  const std::vector<Mat> all = model.get_weights();
  REQUIRE(all.size() == 8);  // kernel, bias; gamma, beta, moving_mean, moving_variance; kernel, bias
  const std::vector<Mat> first = model.layer(0).get_weights(), norm = model.layer(1).get_weights(),
                         last = model.layer(-1).get_weights();
  REQUIRE(first.size() == 2);
  CHECK(first[0] == all[0]);
  CHECK(first[0].rows() == 2);
  CHECK(first[0].cols() == 3);
  CHECK(first[1] == all[1]);
  REQUIRE(norm.size() == 4);
  for (std::size_t k = 0; k < 4; ++k) CHECK(norm[k] == all[2 + k]);
  REQUIRE(last.size() == 2);
  CHECK(last[0] == all[6]);
  CHECK(last[1] == all[7]);
  CHECK(keras::Sequential<double>{Activation<double>("relu", keras::input_shape{1})}.layer(0).get_weights().empty());

  // One layer on data, as the course's layers.Activation('relu')(x): a one-layer model's predict.
  Mat x(3, 1);
  x << -1.5, 0.0, 2.0;
  const Mat relu = keras::Sequential<double>{Activation<double>("relu", keras::input_shape{1})}.predict(x);
  CHECK(relu(0, 0) == 0.0);
  CHECK(relu(1, 0) == 0.0);
  CHECK(relu(2, 0) == 2.0);
}

TEST_CASE("XOR reaches binary accuracy 1", "[sequential][learning]") {
  Mat x(4, 2), y(4, 1);
  x << 0, 0, 0, 1, 1, 0, 1, 1;
  y << 0, 1, 1, 0;
  keras::Sequential<double> model{Dense<double>(8, "tanh", keras::input_shape{2}), Dense<double>(1, "sigmoid")};
  model.set_seed(1);
  model.compile(keras::optimizers::Adam<double>(0.05), "binary_crossentropy", {"binary_accuracy"});
  const auto history = model.fit(x, y, {.batch_size = 4, .epochs = 300, .verbose = 0});
  const Logs result = model.evaluate(x, y);
  CHECK(result.at("binary_accuracy") == 1.0);
  CHECK(result.at("loss") < 0.1);
  CHECK(history.at("binary_accuracy").back() == 1.0);
  CHECK(history.at("loss").back() < history.at("loss").front());
  const Mat p = model.predict(x);
  CHECK(p(0, 0) < 0.5);
  CHECK(p(1, 0) > 0.5);
  CHECK(p(2, 0) > 0.5);
  CHECK(p(3, 0) < 0.5);
}

TEST_CASE("A noisy linear problem recovers its weights and bias", "[sequential][learning]") {
  const Mat x = uniform(256, 3, 5);
  Mat w_true(3, 1);
  w_true << 2.0, -3.0, 0.5;
  const double b_true = 1.5;
  keras::Rng noise(6);
  Mat y = x * w_true;
  for (Index i = 0; i < y.rows(); ++i) y(i, 0) += b_true + 0.01 * noise.normal();

  SECTION("SGD") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
    model.set_seed(2);
    model.compile(keras::optimizers::SGD<double>(0.1), "mse");
    model.fit(x, y, {.batch_size = 32, .epochs = 60, .verbose = 0});
    const auto w = model.get_weights();
    for (Index i = 0; i < 3; ++i) CHECK(w[0](i, 0) == Approx(w_true(i, 0)).margin(0.01));
    CHECK(w[1](0, 0) == Approx(b_true).margin(0.01));
    CHECK(model.evaluate(x, y).at("loss") < 2e-4);
  }
  SECTION("Adam") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
    model.set_seed(2);
    model.compile(keras::optimizers::Adam<double>(0.05), "mse");
    model.fit(x, y, {.batch_size = 32, .epochs = 60, .verbose = 0});
    const auto w = model.get_weights();
    for (Index i = 0; i < 3; ++i) CHECK(w[0](i, 0) == Approx(w_true(i, 0)).margin(0.01));
    CHECK(w[1](0, 0) == Approx(b_true).margin(0.01));
  }
}

TEST_CASE("The course's red-wine model reaches a validation MAE below 0.11", "[sequential][learning][wine]") {
  // Kaggle "Intro to Deep Learning", lesson 3: df_train = red_wine.sample(frac=0.7, random_state=0),
  // df_valid = red_wine.drop(df_train.index); every column, quality included, is min–max scaled
  // with the training min and max; 3 × Dense(512, relu) + Dense(1), adam, mae, batch 256, 10 epochs.
  namespace data = keras::data;
  const auto wine = data::read_csv(std::string(KERASCPP_DATA_DIR) + "/red-wine.csv");
  REQUIRE(wine.rows() == 1599);
  REQUIRE(wine.cols() == 12);
  const auto train_frame = wine.sample(0.7, 0);
  const auto valid_frame = wine.drop_rows(train_frame);
  REQUIRE(train_frame.rows() == 1119);
  REQUIRE(valid_frame.rows() == 480);
  data::MinMaxScaler<float> scaler;
  const auto train = scaler.fit_transform(train_frame);
  const auto valid = scaler.transform(valid_frame);
  const keras::Matrix<float> x_train = train.drop({"quality"}).to_matrix<float>();
  const keras::Matrix<float> y_train = train.to_matrix<float>({"quality"});
  const keras::Matrix<float> x_valid = valid.drop({"quality"}).to_matrix<float>();
  const keras::Matrix<float> y_valid = valid.to_matrix<float>({"quality"});
  REQUIRE(x_train.cols() == 11);
  CHECK(x_train.minCoeff() == 0.0f);
  CHECK(x_train.maxCoeff() == 1.0f);

  keras::Sequential model{Dense(512, "relu", keras::input_shape{11}), Dense(512, "relu"), Dense(512, "relu"),
                          Dense(1)};
  model.set_seed(0);
  model.compile("adam", "mae");
  const auto start = std::chrono::steady_clock::now();
  const auto history = model.fit(x_train, y_train, {.batch_size = 256, .epochs = 10, .verbose = 0,
                                                    .validation_data = keras::Dataset{x_valid, y_valid}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& val = history.at("val_loss");
  REQUIRE(val.size() == 10);
  INFO("wine: val_loss per epoch " << Catch::Detail::stringify(val) << ", min " << history.min("val_loss")
                                   << ", fit took " << seconds << " s");
  CHECK(history.min("val_loss") < 0.11);
  CHECK(val.back() < 0.12);  // no divergence at the end either
  CHECK(history.at("loss").back() < history.at("loss").front());
  CHECK(model.evaluate(x_valid, y_valid, {.batch_size = 256}).at("loss") == Approx(val.back()).epsilon(1e-5));
}

TEST_CASE("Sparse categorical crossentropy learns a 3-class problem", "[sequential][learning]") {
  // Three clusters around (1, 0), (-1, 1) and (-1, -1).
  keras::Rng rng(3);
  Mat x(60, 2), y(60, 1);
  const double centers[3][2] = {{1.0, 0.0}, {-1.0, 1.0}, {-1.0, -1.0}};
  for (Index i = 0; i < 60; ++i) {
    const int k = static_cast<int>(i % 3);
    x(i, 0) = centers[k][0] + 0.2 * rng.normal();
    x(i, 1) = centers[k][1] + 0.2 * rng.normal();
    y(i, 0) = k;
  }
  keras::Sequential<double> model{Dense<double>(8, "relu", keras::input_shape{2}), Dense<double>(3, "softmax")};
  model.set_seed(4);
  model.compile(keras::optimizers::Adam<double>(0.05), "sparse_categorical_crossentropy", {"accuracy"});
  const auto history = model.fit(x, y, {.batch_size = 16, .epochs = 60, .verbose = 0});
  CHECK(history.at("loss").back() < 0.5 * history.at("loss").front());
  CHECK(model.evaluate(x, y).at("accuracy") == 1.0);
  const Mat p = model.predict(x);
  REQUIRE(p.cols() == 3);
  for (Index i = 0; i < p.rows(); ++i) CHECK(p.row(i).sum() == Approx(1.0).epsilon(1e-12));
}

// ---------------------------------------------------------------------------------------------
// Reproducibility.

namespace {

keras::History<double> seeded_run(std::uint64_t seed, const Mat& x, const Mat& y) {
  keras::Sequential<double> model{Dense<double>(16, "relu", keras::input_shape{3}), Dropout<double>(0.3),
                                  BatchNormalization<double>(), Dense<double>(1)};
  model.set_seed(seed);
  model.compile("adam", "mse");
  return model.fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0, .validation_split = 0.25});
}

}  // namespace

TEST_CASE("The same seed gives a bit-identical History, a different seed a different one",
          "[sequential][reproducibility]") {
  const Mat x = uniform(40, 3, 8);
  const Mat y = uniform(40, 1, 9);
  const auto a = seeded_run(7, x, y);
  const auto b = seeded_run(7, x, y);
  const auto c = seeded_run(8, x, y);
  REQUIRE(a.keys() == std::vector<std::string>{"loss", "val_loss"});
  CHECK(a.history == b.history);
  CHECK(a.at("loss") != c.at("loss"));
  CHECK(a.at("val_loss") != c.at("val_loss"));

  SECTION("set_seed on a trained model starts over identically") {
    keras::Sequential<double> model{Dense<double>(16, "relu", keras::input_shape{3}), Dropout<double>(0.3),
                                    BatchNormalization<double>(), Dense<double>(1)};
    model.compile("adam", "mse");
    model.set_seed(7);
    const auto first = model.fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0, .validation_split = 0.25});
    model.set_seed(7);
    const auto second = model.fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0, .validation_split = 0.25});
    CHECK(first.history == second.history);
    CHECK(first.history == a.history);
  }
}

// ---------------------------------------------------------------------------------------------
// fit mechanics.

TEST_CASE("The epoch loss is the sample-weighted running mean of the batch losses", "[sequential][fit]") {
  // 10 rows in batches of 4: 4, 4 and 2 rows. With lr 0 each batch loss is known exactly.
  const Mat x = uniform(10, 2, 10);
  Mat y = uniform(10, 1, 11);
  y(9, 0) += 5.0;  // makes the short last batch's loss stand out
  auto model = frozen_linear(2);
  const Vec l = squared_errors(model, x, y);
  const double b0 = l.segment(0, 4).mean(), b1 = l.segment(4, 4).mean(), b2 = l.segment(8, 2).mean();
  BatchRecorder rec;
  const auto h = model.fit(x, y, {.batch_size = 4, .epochs = 2, .verbose = 0, .callbacks = {&rec}, .shuffle = false});
  REQUIRE(rec.losses.size() == 6);
  CHECK(rec.losses[0] == Approx(b0).epsilon(1e-12));
  CHECK(rec.losses[1] == Approx((b0 + b1) / 2).epsilon(1e-12));
  CHECK(rec.losses[2] == Approx((4 * b0 + 4 * b1 + 2 * b2) / 10).epsilon(1e-12));
  CHECK(rec.losses[3] == Approx(b0).epsilon(1e-12));  // the mean restarts every epoch
  CHECK(h.at("loss")[0] == Approx((4 * b0 + 4 * b1 + 2 * b2) / 10).epsilon(1e-12));
  CHECK(h.at("loss")[0] == Approx(l.mean()).epsilon(1e-12));
  // Not the plain mean of the three batch losses.
  CHECK(std::abs(h.at("loss")[0] - (b0 + b1 + b2) / 3) > 0.1);
  CHECK(h.at("loss")[1] == h.at("loss")[0]);
}

TEST_CASE("shuffle=false visits rows in order, shuffle=true reshuffles every epoch", "[sequential][fit]") {
  const Mat x = uniform(12, 2, 12);
  const Mat y = uniform(12, 1, 13);
  auto model = frozen_linear(2);
  const Vec l = squared_errors(model, x, y);
  const std::vector<double> in_order{l.segment(0, 4).mean(), l.segment(4, 4).mean(), l.segment(8, 4).mean()};

  BatchRecorder ordered;
  model.fit(x, y, {.batch_size = 4, .epochs = 3, .verbose = 0, .callbacks = {&ordered}, .shuffle = false});
  const auto ordered_batches = unroll(ordered.losses, {4, 4, 4});
  REQUIRE(ordered_batches.size() == 9);
  for (std::size_t k = 0; k < 9; ++k) CHECK(ordered_batches[k] == Approx(in_order[k % 3]).epsilon(1e-10));

  BatchRecorder shuffled;
  model.set_seed(3);
  model.set_weights(frozen_linear(2).get_weights());
  const auto h = model.fit(x, y, {.batch_size = 4, .epochs = 3, .verbose = 0, .callbacks = {&shuffled}});
  const auto shuffled_batches = unroll(shuffled.losses, {4, 4, 4});
  REQUIRE(shuffled_batches.size() == 9);
  int epochs_in_order = 0;
  std::vector<std::vector<double>> per_epoch;
  for (int e = 0; e < 3; ++e) {
    std::vector<double> batches(shuffled_batches.begin() + 3 * e, shuffled_batches.begin() + 3 * e + 3);
    bool same = true;
    for (std::size_t k = 0; k < 3; ++k) same = same && std::abs(batches[k] - in_order[k]) < 1e-10;
    epochs_in_order += same ? 1 : 0;
    per_epoch.push_back(batches);
  }
  CHECK(epochs_in_order == 0);
  CHECK(per_epoch[0] != per_epoch[1]);  // a new order each epoch
  // Shuffling changes the batches, not the epoch's mean over all rows.
  for (double v : h.at("loss")) CHECK(v == Approx(l.mean()).epsilon(1e-12));
}

TEST_CASE("validation_split takes the last rows, before shuffling", "[sequential][fit]") {
  // 10 rows, validation_split 0.2: rows 8 and 9 are the validation set whatever the shuffling.
  const Mat x = uniform(10, 2, 14);
  const Mat y = uniform(10, 1, 15);
  auto model = frozen_linear(2, "mse", {"mae"});
  const Logs last = model.evaluate(x.bottomRows(2), y.bottomRows(2));
  const Logs first = model.evaluate(x.topRows(8), y.topRows(8));
  const auto h = model.fit(x, y, {.batch_size = 3, .epochs = 3, .verbose = 0, .validation_split = 0.2});
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(h.at("val_loss")[e] == Approx(last.at("loss")).epsilon(1e-12));
    CHECK(h.at("val_mae")[e] == Approx(last.at("mae")).epsilon(1e-12));
    CHECK(h.at("loss")[e] == Approx(first.at("loss")).epsilon(1e-12));
  }
  SECTION("validation_data overrides validation_split") {
    const auto h2 = model.fit(x, y, {.epochs = 1, .verbose = 0, .validation_split = 0.2,
                                     .validation_data = keras::Dataset{x.topRows(3), y.topRows(3)}});
    CHECK(h2.at("val_loss")[0] == Approx(model.evaluate(x.topRows(3), y.topRows(3)).at("loss")).epsilon(1e-12));
    CHECK(h2.at("loss")[0] == Approx(model.evaluate(x, y).at("loss")).epsilon(1e-12));
  }
}

TEST_CASE("validation_split rounds the training size down, as Keras's int(floor(n * (1 - split)))",
          "[sequential][fit]") {
  // Keras (tf_keras/engine/data_adapter.py and keras/src/trainers/data_adapters/data_adapter_utils.py,
  // train_validation_split): split_at = int(math.floor(n * (1.0 - validation_split))).
  // 10 rows with 0.25 → 7 training rows and 3 validation rows; 1599 rows with 0.3 → 1119 and 480.
  const Mat x = uniform(10, 2, 16);
  const Mat y = uniform(10, 1, 17);
  auto model = frozen_linear(2);
  const auto h = model.fit(x, y, {.batch_size = 100, .epochs = 1, .verbose = 0, .validation_split = 0.25});
  CHECK(h.at("val_loss")[0] == Approx(model.evaluate(x.bottomRows(3), y.bottomRows(3)).at("loss")).epsilon(1e-12));
  CHECK(h.at("loss")[0] == Approx(model.evaluate(x.topRows(7), y.topRows(7)).at("loss")).epsilon(1e-12));
}

TEST_CASE("sample_weight and class_weight weight the loss as sum(w_i * l_i) / N", "[sequential][fit]") {
  const Mat x = uniform(6, 2, 18);
  Mat y(6, 1);
  y << 0, 1, 1, 0, 1, 0;
  auto model = frozen_linear(2);
  const Vec l = squared_errors(model, x, y);

  SECTION("sample_weight") {
    Vec w(6);
    w << 1.0, 2.0, 0.0, 0.5, 3.0, 1.0;
    const double expected = (w.array() * l.array()).sum() / 6.0;
    const auto h = model.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 0, .sample_weight = w});
    CHECK(h.at("loss")[0] == Approx(expected).epsilon(1e-12));
    // Not normalised by the sum of the weights.
    CHECK(std::abs(h.at("loss")[0] - (w.array() * l.array()).sum() / w.sum()) > 1e-3);
    CHECK(model.evaluate(x, y, {.batch_size = 4, .sample_weight = w}).at("loss") == Approx(expected).epsilon(1e-12));
    // validation_split splits the sample weights with the rows: the last 3 rows keep theirs.
    const auto hv = model.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 0, .validation_split = 0.5,
                                     .sample_weight = w});
    CHECK(hv.at("loss")[0] == Approx((w.head(3).array() * l.head(3).array()).sum() / 3.0).epsilon(1e-12));
    CHECK(hv.at("val_loss")[0] == Approx((w.tail(3).array() * l.tail(3).array()).sum() / 3.0).epsilon(1e-12));
  }
  SECTION("class_weight") {
    const std::map<int, double> cw{{0, 1.0}, {1, 3.0}};
    Vec w(6);
    for (Index i = 0; i < 6; ++i) w(i) = cw.at(static_cast<int>(y(i, 0)));
    const auto h = model.fit(x, y, {.batch_size = 6, .epochs = 1, .verbose = 0, .class_weight = cw});
    CHECK(h.at("loss")[0] == Approx((w.array() * l.array()).sum() / 6.0).epsilon(1e-12));
  }
  SECTION("class_weight together with sample_weight is refused, as in Keras") {
    Vec w = Vec::Ones(6);
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0, .class_weight = {{0, 1.0}, {1, 2.0}}, .sample_weight = w}),
                      kerascpp::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .class_weight = {{0, 1.0}, {1, 2.0}}, .sample_weight = w}),
                        Catch::Contains("class_weight or sample_weight, not both"));
  }
  SECTION("sample-weighted metrics are sum(w_i * m_i) / sum(w_i)") {
    model.compile(keras::optimizers::SGD<double>(0.0), "mse", {"mae"});
    Vec w(6);
    w << 1.0, 2.0, 0.0, 0.5, 3.0, 1.0;
    const Vec abs_err = (model.predict(x) - y).cwiseAbs();
    const auto h = model.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 0, .sample_weight = w});
    CHECK(h.at("mae")[0] == Approx(w.dot(abs_err) / w.sum()).epsilon(1e-12));
  }
}

TEST_CASE("sample_weight and class_weight near the largest float give the finite weighted loss and metrics",
          "[sequential][fit]") {
  // Six weights of 3e38 with squared errors near 0.25: sum(w_i * l_i) and sum(w_i) are beyond the
  // largest float (3.4e38), while each product and the mean loss are not.
  using MatF = keras::Matrix<float>;
  const MatF x = uniform(6, 2, 18).cast<float>();
  MatF y(6, 1);
  y << 0, 1, 1, 0, 1, 0;
  keras::Sequential<float> model{Dense<float>(1, "linear", keras::input_shape{2})};
  model.set_weights({MatF::Zero(2, 1), MatF::Constant(1, 1, 0.5f)});
  model.compile(keras::optimizers::SGD<float>(0.0), "mse", {"mae"});
  const Eigen::ArrayXd error = (model.predict(x) - y).cast<double>().array();
  const float big = 3e38f;
  const double expected_loss = static_cast<double>(big) * error.square().mean();
  REQUIRE(expected_loss < static_cast<double>(std::numeric_limits<float>::max()));
  const Logs logs = model.evaluate(x, y, {.sample_weight = keras::Vector<float>::Constant(6, big)});
  CHECK(logs.at("loss") == Approx(expected_loss).epsilon(1e-6));
  CHECK(logs.at("mae") == Approx(error.abs().mean()).epsilon(1e-6));
  const auto h = model.fit(x, y, {.batch_size = 6, .epochs = 1, .verbose = 0,
                                  .class_weight = {{0, static_cast<double>(big)}, {1, static_cast<double>(big)}}});
  CHECK(h.at("loss")[0] == Approx(expected_loss).epsilon(1e-6));
  CHECK(h.at("mae")[0] == Approx(error.abs().mean()).epsilon(1e-6));
}

TEST_CASE("class_weight does not weight the validation loss", "[sequential][fit]") {
  // Keras applies class_weight to the training data only: the validation set taken by
  // validation_split is evaluated with its sample weights (none here), not with class weights.
  const Mat x = uniform(8, 2, 19);
  Mat y(8, 1);
  y << 0, 1, 1, 0, 1, 0, 1, 1;
  auto model = frozen_linear(2);
  const double unweighted = model.evaluate(x.bottomRows(2), y.bottomRows(2)).at("loss");
  const auto h = model.fit(x, y, {.epochs = 1, .verbose = 0, .validation_split = 0.25,
                                  .class_weight = {{0, 1.0}, {1, 10.0}}});
  CHECK(h.at("val_loss")[0] == Approx(unweighted).epsilon(1e-12));
}

TEST_CASE("initial_epoch, a batch larger than the data, and zero epochs", "[sequential][fit]") {
  const Mat x = uniform(10, 2, 20);
  const Mat y = uniform(10, 1, 21);
  SECTION("initial_epoch runs epochs initial_epoch … epochs-1") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
    model.compile("sgd", "mse");
    const auto h = model.fit(x, y, {.epochs = 5, .verbose = 0, .initial_epoch = 3});
    CHECK(h.epoch == std::vector<int>{3, 4});
    CHECK(h.at("loss").size() == 2);
  }
  SECTION("a batch larger than the data is one batch") {
    auto model = frozen_linear(2);
    BatchRecorder rec;
    const auto h = model.fit(x, y, {.batch_size = 1000, .epochs = 2, .verbose = 0, .callbacks = {&rec}});
    CHECK(rec.losses.size() == 2);
    CHECK(h.at("loss")[0] == Approx(model.evaluate(x, y).at("loss")).epsilon(1e-12));
  }
  SECTION("zero epochs leave the weights alone and return an empty History") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
    model.compile("sgd", "mse");
    const auto before = model.get_weights();
    const auto h = model.fit(x, y, {.epochs = 0, .verbose = 0});
    CHECK(h.epochs() == 0);
    CHECK(h.keys().empty());
    CHECK(model.get_weights()[0] == before[0]);
  }
}

// ---------------------------------------------------------------------------------------------
// evaluate, predict, weights, train_on_batch.

TEST_CASE("evaluate returns the loss and each metric", "[sequential][evaluate]") {
  const Mat x = uniform(7, 2, 22);
  const Mat y = uniform(7, 1, 23);
  auto model = frozen_linear(2, "mse", {"mae", "rmse"});
  const Mat err = model.predict(x) - y;
  const Logs logs = model.evaluate(x, y, {.batch_size = 3});
  CHECK(logs.size() == 3);
  CHECK(logs.at("loss") == Approx(err.array().square().mean()).epsilon(1e-12));
  CHECK(logs.at("mae") == Approx(err.array().abs().mean()).epsilon(1e-12));
  CHECK(logs.at("rmse") == Approx(std::sqrt(err.array().square().mean())).epsilon(1e-12));
}

TEST_CASE("predict returns rows × outputs and does not depend on the batch size", "[sequential][predict]") {
  keras::Sequential<double> model{Dense<double>(5, "relu", keras::input_shape{4}), Dense<double>(3)};
  model.set_seed(9);
  const Mat x = uniform(11, 4, 24);
  const Mat p1000 = model.predict(x, 1000);
  const Mat p3 = model.predict(x, 3);
  const Mat p1 = model.predict(x, 1);
  REQUIRE(p1000.rows() == 11);
  REQUIRE(p1000.cols() == 3);
  CHECK(p3.isApprox(p1000, 1e-14));
  CHECK(p1.isApprox(p1000, 1e-14));
  const auto w = model.get_weights();
  const Mat by_hand = ((x * w[0]).rowwise() + w[1].row(0)).cwiseMax(0.0) * w[2] + Mat::Ones(11, 1) * w[3];
  CHECK(p1000.isApprox(by_hand, 1e-13));
}

TEST_CASE("Row-major and column-major inputs give identical results", "[sequential][fit]") {
  const Mat x = uniform(20, 3, 25);
  const Mat y = uniform(20, 1, 26);
  const keras::RowMatrix<double> xr = x;
  const keras::RowMatrix<double> yr = y;
  const auto run = [](const auto& xs, const auto& ys, std::vector<Mat>& weights, Mat& prediction) {
    keras::Sequential<double> model{Dense<double>(6, "relu", keras::input_shape{3}), Dense<double>(1)};
    model.set_seed(10);
    model.compile("adam", "mse");
    const auto h = model.fit(xs, ys, {.batch_size = 6, .epochs = 3, .verbose = 0});
    weights = model.get_weights();
    prediction = model.predict(xs);
    return h;
  };
  std::vector<Mat> wc, wr;
  Mat pc, pr;
  const auto hc = run(x, y, wc, pc);
  const auto hr = run(xr, yr, wr, pr);
  CHECK(hc.history == hr.history);
  REQUIRE(wc.size() == wr.size());
  for (std::size_t i = 0; i < wc.size(); ++i) CHECK(wc[i] == wr[i]);
  CHECK(pc == pr);
  // Blocks and expressions are accepted too.
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile("sgd", "mse");
  CHECK_NOTHROW(model.fit(x.topRows(10), y.topRows(10), {.epochs = 1, .verbose = 0}));
  CHECK(model.predict(x.topRows(4) * 2.0).rows() == 4);
}

TEST_CASE("Inputs of any stride, transposes and expressions train like packed copies of them", "[sequential][fit]") {
  const Mat x = uniform(20, 3, 27);
  const Mat y = uniform(20, 1, 28);
  // x and y as columns of wider row-major matrices: every row is contiguous but rows are 5 apart.
  keras::RowMatrix<double> wide = keras::RowMatrix<double>::Constant(20, 5, std::numeric_limits<double>::quiet_NaN());
  wide.middleCols(1, 3) = x;
  wide.col(4) = y;
  const keras::RowMatrix<double> x_t = x.transpose();  // x_t.transpose() is x, read column by column
  const auto run = [](const auto& xs, const auto& ys) {
    keras::Sequential<double> model{Dense<double>(4, "tanh", keras::input_shape{3}), Dense<double>(1)};
    model.set_seed(14);
    model.compile("adam", "mse");
    auto h = model.fit(xs, ys, {.batch_size = 6, .epochs = 2, .verbose = 0, .validation_split = 0.25});
    return std::make_tuple(h.history, model.evaluate(xs, ys, {.batch_size = 7}), Mat(model.predict(xs, 5)));
  };
  const auto packed = run(x, y);
  CHECK(run(wide.middleCols(1, 3), wide.col(4)) == packed);
  CHECK(run(x_t.transpose(), y) == packed);
  CHECK(run(x * 1.0, y.array().matrix()) == packed);

  // A non-finite value inside a strided block is reported at its place in the block; the NaNs around it are not data.
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile("sgd", "mse");
  wide(7, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(model.fit(wide.middleCols(1, 3), wide.col(4), {.verbose = 0}),
                    Catch::Contains("fit: x must be finite") && Catch::Contains("at row 7, column 1"));
}

TEST_CASE("float and double models both train", "[sequential][fit]") {
  const Mat xd = uniform(64, 2, 27);
  Mat yd(64, 1);
  for (Index i = 0; i < 64; ++i) yd(i, 0) = 0.7 * xd(i, 0) - 0.2 * xd(i, 1) + 0.3;
  const keras::Matrix<float> xf = xd.cast<float>();
  const keras::Matrix<float> yf = yd.cast<float>();

  keras::Sequential<float> mf{Dense<float>(1, "linear", keras::input_shape{2})};
  mf.set_seed(12);
  mf.compile(keras::optimizers::SGD<float>(0.2), "mse");
  const auto hf = mf.fit(xf, yf, {.batch_size = 16, .epochs = 40, .verbose = 0});

  keras::Sequential<double> md{Dense<double>(1, "linear", keras::input_shape{2})};
  md.set_seed(12);
  md.compile(keras::optimizers::SGD<double>(0.2), "mse");
  const auto hd = md.fit(xd, yd, {.batch_size = 16, .epochs = 40, .verbose = 0});

  CHECK(hf.at("loss").back() < 1e-4);
  CHECK(hd.at("loss").back() < 1e-4);
  // Same seed, same initial weights (up to float rounding) and same shuffles: close results.
  CHECK(mf.get_weights()[0].cast<double>().isApprox(md.get_weights()[0], 1e-4));
  CHECK(mf.get_weights()[0](0, 0) == Approx(0.7).margin(0.02));
  CHECK(md.get_weights()[1](0, 0) == Approx(0.3).margin(0.02));
}

TEST_CASE("get_weights and set_weights use Keras order and shapes", "[sequential][weights]") {
  keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{3}), BatchNormalization<double>(),
                                  Dropout<double>(0.5), Dense<double>(2)};
  auto w = model.get_weights();
  REQUIRE(w.size() == 8);
  const std::vector<std::pair<Index, Index>> shapes{{3, 4}, {1, 4}, {1, 4}, {1, 4}, {1, 4}, {1, 4}, {4, 2}, {1, 2}};
  for (std::size_t i = 0; i < 8; ++i) {
    INFO("weight " << i);
    CHECK(w[i].rows() == shapes[i].first);
    CHECK(w[i].cols() == shapes[i].second);
  }
  CHECK(w[1].isZero());                    // Dense bias: zeros
  CHECK(w[2].isOnes());                    // gamma: ones
  CHECK(w[3].isZero());                    // beta: zeros
  CHECK(w[4].isZero());                    // moving_mean: zeros
  CHECK(w[5].isOnes());                    // moving_variance: ones
  const double limit = std::sqrt(6.0 / (3 + 4));  // glorot_uniform
  CHECK(w[0].cwiseAbs().maxCoeff() <= limit);
  CHECK(w[0].cwiseAbs().maxCoeff() > 0.0);

  for (std::size_t i = 0; i < 8; ++i) w[i] = uniform(w[i].rows(), w[i].cols(), 30 + i, 0.5, 1.5);
  model.set_weights(w);
  const auto back = model.get_weights();
  for (std::size_t i = 0; i < 8; ++i) CHECK(back[i] == w[i]);

  // Inference uses the moving statistics: y = (relu(xW+b) − mean)/sqrt(var+ε)·γ + β, then W2, b2.
  const Mat x = uniform(5, 3, 40);
  Mat h = ((x * w[0]).rowwise() + w[1].row(0)).cwiseMax(0.0);
  for (Index j = 0; j < 4; ++j)
    h.col(j) = ((h.col(j).array() - w[4](0, j)) / std::sqrt(w[5](0, j) + 1e-3) * w[2](0, j) + w[3](0, j)).matrix();
  const Mat expected = (h * w[6]).rowwise() + w[7].row(0);
  CHECK(model.predict(x).isApprox(expected, 1e-13));
}

TEST_CASE("train_on_batch returns the loss before the update", "[sequential][train_on_batch]") {
  const Mat x = uniform(8, 2, 41);
  const Mat y = uniform(8, 1, 42);
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
  model.set_seed(13);
  model.compile(keras::optimizers::SGD<double>(0.1), "mse");
  const double before = model.evaluate(x, y).at("loss");
  const auto w0 = model.get_weights();
  const double returned = model.train_on_batch(x, y);
  CHECK(returned == Approx(before).epsilon(1e-12));
  const double after = model.evaluate(x, y).at("loss");
  CHECK(after < before);
  // One SGD step: W −= lr · 2/N · xᵀ(xW + b − y), b −= lr · 2/N · Σ(xW + b − y).
  const Mat err = (x * w0[0]).array() + w0[1](0, 0) - y.array();
  const Mat w_expected = w0[0] - 0.1 * (2.0 / 8.0) * x.transpose() * err;
  CHECK(model.get_weights()[0].isApprox(w_expected, 1e-12));
  CHECK(model.get_weights()[1](0, 0) == Approx(w0[1](0, 0) - 0.1 * (2.0 / 8.0) * err.sum()).epsilon(1e-12));
  CHECK(model.optimizer().iterations() == 1);
}

TEST_CASE("A model without input_shape is built from the first data it sees", "[sequential][build]") {
  keras::Sequential<double> model{Dense<double>(3, "relu"), Dense<double>(1)};
  CHECK_FALSE(model.built());
  CHECK(model.get_weights().empty());
  model.compile("sgd", "mse");
  const Mat x = uniform(6, 5, 43);
  const Mat y = uniform(6, 1, 44);
  model.fit(x, y, {.epochs = 1, .verbose = 0});
  CHECK(model.built());
  CHECK(model.input_width() == 5);
  const auto w = model.get_weights();
  REQUIRE(w.size() == 4);
  CHECK(w[0].rows() == 5);
  CHECK(w[0].cols() == 3);
  CHECK(model.predict(x).rows() == 6);
}

TEST_CASE("Layers are named dense, dense_1, ... by type", "[sequential][names]") {
  keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{2}), BatchNormalization<double>(),
                                  Dropout<double>(0.1), Dense<double>(4), Activation<double>("relu"),
                                  Dense<double>(1), BatchNormalization<double>()};
  std::vector<std::string> names;
  for (std::size_t i = 0; i < model.size(); ++i) names.push_back(model.layer(i).name());
  CHECK(names == std::vector<std::string>{"dense", "batch_normalization", "dropout", "dense_1", "activation", "dense_2",
                                          "batch_normalization_1"});
}

TEST_CASE("A kernel regularizer's penalty is part of the reported loss and of the gradient",
          "[sequential][regularizer]") {
  const Mat x = uniform(8, 2, 45);
  const Mat y = uniform(8, 1, 46);
  const auto make = [](double lr) {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2}, true, "glorot_uniform", "zeros",
                                                  keras::regularizers::l2(0.1))};
    Mat w(2, 1);
    w << 0.8, -0.6;
    model.set_weights({w, Mat::Constant(1, 1, 0.2)});
    model.compile(keras::optimizers::SGD<double>(lr), "mse");
    return model;
  };
  auto frozen = make(0.0);
  const double data_loss = squared_errors(frozen, x, y).mean();
  const double penalty = 0.1 * (0.8 * 0.8 + 0.6 * 0.6);
  const auto h = frozen.fit(x, y, {.batch_size = 3, .epochs = 1, .verbose = 0});
  CHECK(h.at("loss")[0] == Approx(data_loss + penalty).epsilon(1e-12));
  CHECK(frozen.evaluate(x, y).at("loss") == Approx(data_loss + penalty).epsilon(1e-12));

  auto learning = make(0.1);
  CHECK(learning.train_on_batch(x, y) == Approx(data_loss + penalty).epsilon(1e-12));
  Mat w0(2, 1);
  w0 << 0.8, -0.6;
  const Mat err = (x * w0).array() + 0.2 - y.array();
  const Mat grad = (2.0 / 8.0) * x.transpose() * err + 2.0 * 0.1 * w0;
  CHECK(learning.get_weights()[0].isApprox(w0 - 0.1 * grad, 1e-12));
  // The bias is not regularized.
  CHECK(learning.get_weights()[1](0, 0) == Approx(0.2 - 0.1 * (2.0 / 8.0) * err.sum()).epsilon(1e-12));
}

TEST_CASE("Binary crossentropy after a sigmoid is computed from the logits", "[sequential][bce]") {
  keras::Sequential<double> model{Dense<double>(1, "sigmoid", keras::input_shape{1})};
  model.compile(keras::optimizers::SGD<double>(0.0), "binary_crossentropy");
  Mat x(4, 1), y(4, 1);
  x << -1.0, -0.3, 0.4, 1.2;
  y << 0, 1, 0, 1;

  SECTION("moderate outputs: equal to the probability formula") {
    model.set_weights({Mat::Constant(1, 1, 1.5), Mat::Constant(1, 1, 0.1)});
    const Mat p = model.predict(x);
    const double expected =
        -(y.array() * p.array().log() + (1.0 - y.array()) * (1.0 - p.array()).log()).mean();
    CHECK(model.evaluate(x, y).at("loss") == Approx(expected).epsilon(1e-12));
    CHECK(model.train_on_batch(x, y) == Approx(expected).epsilon(1e-12));
  }
  SECTION("saturated outputs: finite, softplus of the logits") {
    model.set_weights({Mat::Constant(1, 1, 100.0), Mat::Constant(1, 1, 0.0)});
    // z = 100·x: −100, −30, 40, 120. Loss_i = softplus(z) − y·z = max(z,0) − y·z + log1p(e^−|z|).
    const Mat z = 100.0 * x;
    double expected = 0.0;
    for (Index i = 0; i < 4; ++i)
      expected += std::max(z(i, 0), 0.0) - y(i, 0) * z(i, 0) + std::log1p(std::exp(-std::abs(z(i, 0))));
    expected /= 4.0;
    const double loss = model.evaluate(x, y).at("loss");
    CHECK(std::isfinite(loss));
    CHECK(loss == Approx(expected).epsilon(1e-12));
    CHECK(loss == Approx((30.0 + 40.0) / 4.0).epsilon(1e-9));  // far beyond the −log(1e−7) ≈ 16.1 clip

    keras::Sequential<double> learner{Dense<double>(1, "sigmoid", keras::input_shape{1})};
    learner.set_weights({Mat::Constant(1, 1, 100.0), Mat::Constant(1, 1, 0.0)});
    learner.compile(keras::optimizers::SGD<double>(0.01), "binary_crossentropy");
    CHECK(std::isfinite(learner.train_on_batch(x, y)));
    const auto w = learner.get_weights();
    CHECK(std::isfinite(w[0](0, 0)));
    CHECK(w[0](0, 0) < 100.0);  // the gradient is not lost in the saturated sigmoid
  }
}

TEST_CASE("evaluate, predict and validation read packed row-major rows in place and copy others, with equal results",
          "[sequential][evaluate][predict]") {
  const Mat x = uniform(37, 3, 40);
  const Mat y = uniform(37, 2, 41);
  const keras::RowMatrix<double> xr = x, yr = y;
  // The same rows at an address that is not 16-byte aligned: read by copying.
  std::vector<double> storage(static_cast<std::size_t>(x.size() + 1));
  Eigen::Map<keras::RowMatrix<double>> x_odd(storage.data() + 1, 37, 3);
  x_odd = x;
  keras::Sequential<double> model{Dense<double>(5, "tanh", keras::input_shape{3}), Dense<double>(2)};
  model.set_seed(12);
  model.compile("adam", "mse");
  const auto reference = model.evaluate(x, y, {.batch_size = 8});
  CHECK(model.evaluate(xr, yr, {.batch_size = 8}) == reference);
  CHECK(model.evaluate(x_odd, yr, {.batch_size = 8}) == reference);
  // A block of a row-major matrix starts at an offset and may be read in place, too.
  const auto block = model.evaluate(xr.middleRows(4, 20), yr.middleRows(4, 20), {.batch_size = 6});
  CHECK(block == model.evaluate(x.middleRows(4, 20), y.middleRows(4, 20), {.batch_size = 6}));
  CHECK(block.at("loss") != reference.at("loss"));

  const Mat p = model.predict(x, 8);
  CHECK(model.predict(xr, 8) == p);
  CHECK(model.predict(x_odd, 8) == p);
  const auto w = model.get_weights();
  const Mat by_hand = ((x * w[0]).rowwise() + w[1].row(0)).array().tanh().matrix() * w[2] + Mat::Ones(37, 1) * w[3];
  CHECK(p.isApprox(by_hand, 1e-13));

  // validation_data (stored row-major) reports what evaluate reports on the same weights.
  keras::Sequential<double> trained{Dense<double>(5, "tanh", keras::input_shape{3}), Dense<double>(2)};
  trained.set_seed(13);
  trained.compile("adam", "mse");
  const auto h = trained.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0, .validation_data = keras::Dataset{x, y}});
  CHECK(h.at("val_loss").back() == Approx(trained.evaluate(x, y, {.batch_size = 8}).at("loss")).epsilon(1e-14));
}

TEST_CASE("validation_data takes Keras's tuple form {x_valid, y_valid} as well as a Dataset", "[sequential][fit]") {
  const Mat x = uniform(30, 3, 21), y = uniform(30, 1, 22);
  const Mat xv = uniform(9, 3, 23), yv = uniform(9, 1, 24);
  const auto train = [&](auto&& with_validation) {
    keras::Sequential<double> model{Dense<double>(4, "tanh", keras::input_shape{3}), Dense<double>(1)};
    model.set_seed(5);
    model.compile("adam", "mse");
    return with_validation(model);
  };
  const auto braces = train([&](auto& m) { return m.fit(x, y, {.epochs = 3, .verbose = 0, .validation_data = {xv, yv}}); });
  const auto dataset = train([&](auto& m) {
    return m.fit(x, y, {.epochs = 3, .verbose = 0, .validation_data = keras::Dataset{xv, yv}});
  });
  REQUIRE(braces.has("val_loss"));
  CHECK(braces.at("val_loss") == dataset.at("val_loss"));
  CHECK(braces.at("loss") == dataset.at("loss"));
}

}  // namespace test_sequential
