// Tests of docs/extending.md: its examples (a layer, a random layer, an optimizer, a loss, callbacks
// and a model that uses them all), extracted from the page at configure time, compile, pass the
// gradient checks, reproduce hand-computed numbers, train, and save and load like built-in types.
#include "extending/layer.hpp"
#include "extending/random_layer.hpp"
#include "extending/optimizer.hpp"
#include "extending/loss.hpp"
#include "extending/callback.hpp"
#include "extending/usage.hpp"

#include "gradient_check.hpp"
#include "scratch_folder.hpp"
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_extending {

using namespace kerascpp;
using Catch::Matchers::Contains;
using kerascpp_test::Mat;
using kerascpp_test::ScratchFolder;

namespace {

template <typename Scalar>
RowMatrix<Scalar> uniform(Index rows, Index cols, double low, double high, std::uint64_t seed) {
  return kerascpp_test::uniform_as<Scalar>(rows, cols, low, high, seed);
}
using kerascpp_test::identical;

/// Positive targets of a smooth function of three inputs in [0, 1): y = x0 + 2·x1 + 0.5·x2.
template <typename Scalar>
RowMatrix<Scalar> targets(const RowMatrix<Scalar>& x) {
  RowMatrix<Scalar> y(x.rows(), 1);
  for (Index i = 0; i < x.rows(); ++i) y(i, 0) = x(i, 0) + Scalar(2) * x(i, 1) + Scalar(0.5) * x(i, 2);
  return y;
}

/// Saves `model`, loads it back, and checks that both predict and train on bit-identically.
template <typename Scalar>
void check_save_load_resume(Sequential<Scalar>& model, const RowMatrix<Scalar>& x, const RowMatrix<Scalar>& y) {
  ScratchFolder folder;
  const auto path = folder.path() / "model.kcpp";
  model.save(path);
  Sequential<Scalar> loaded = load_model<Scalar>(path);
  REQUIRE(loaded.size() == model.size());
  for (std::size_t i = 0; i < model.size(); ++i) {
    CHECK(loaded.layer(i).type() == model.layer(i).type());
    CHECK(loaded.layer(i).name() == model.layer(i).name());
  }
  CHECK(loaded.optimizer().name() == model.optimizer().name());
  CHECK(loaded.optimizer().iterations() == model.optimizer().iterations());
  CHECK(loaded.loss().name() == model.loss().name());
  CHECK(identical(loaded.predict(x), model.predict(x)));
  model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  loaded.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
  CHECK(identical(loaded.predict(x), model.predict(x)));
  const auto a = model.get_weights(), b = loaded.get_weights();
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) CHECK(identical(a[k], b[k]));
}


/// How a Misshapen layer breaks the layer contract.
struct Fault {
  Index forward_rows = 0, forward_cols = 0;    // added to the shape forward returns
  Index backward_rows = 0, backward_cols = 0;  // added to the shape backward returns
  bool forward_empty = false, backward_empty = false, logits_empty = false;
  Index weight_rows = 2, weight_cols = 3, grad_rows = 2, grad_cols = 3;
  bool null_value = false, null_clone = false;
};

/// A layer y = x·0 + 0.5 with one trainable (2 × 3) weight it does not use, which breaks the layer
/// contract as `fault` says: the engine must refuse it before it touches memory the layer lacks.
template <typename Scalar = float>
class Misshapen : public Layer<Scalar> {
 public:
  explicit Misshapen(Fault fault, Activation last = Activation::linear) : fault_(fault), last_(last) {}
  std::string type() const override { return "Misshapen"; }
  std::string name_prefix() const override { return "misshapen"; }
  std::unique_ptr<Layer<Scalar>> clone() const override {
    if (fault_.null_clone) return nullptr;
    return std::make_unique<Misshapen>(*this);
  }
  Config config() const override { return {}; }
  Index output_width() const override { return this->input_width_; }
  Activation final_activation() const override { return last_; }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool) override {
    rows_ = x.rows();
    if (fault_.forward_empty) return this->empty_view();
    auto y = y_.view(x.rows() + fault_.forward_rows, x.cols() + fault_.forward_cols);
    y.setConstant(Scalar(0.5));
    return as_const(y);
  }
  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool) override {
    this->require_forward(rows_);
    grad_.setZero();
    if (!need_input_grad || fault_.backward_empty) return this->empty_view();
    auto dx = dx_.view(dy.rows() + fault_.backward_rows, this->input_width_ + fault_.backward_cols);
    dx.setZero();
    return as_const(dx);
  }
  ConstMatrixView<Scalar> logits() const override { return this->empty_view(); }
  std::vector<Weight<Scalar>> weights() override {
    if (!this->built_) return {};
    return {{"w", fault_.null_value ? nullptr : &w_, &grad_}};
  }

 protected:
  void build_weights(Rng&) override {
    w_.resize(fault_.weight_rows, fault_.weight_cols);
    grad_.resize(fault_.grad_rows, fault_.grad_cols);
  }

 private:
  Fault fault_;
  Activation last_;
  Param<Scalar> w_, grad_;
  Buffer<Scalar> y_, dx_;
  Index rows_ = -1;
};

/// Fits Dense(width) → Misshapen(fault) → Dense(1) (or, with a final sigmoid, Dense(width) →
/// Misshapen and binary cross-entropy) for one epoch on `rows` rows in one batch.
void fit_once(Fault fault, Index rows = 16, Index width = 4, Activation last = Activation::linear) {
  Sequential<float> model;
  model.add(layers::Dense<float>(width, "linear", input_shape{width}));
  model.add(Misshapen<float>(fault, last));
  const bool fused = last != Activation::linear;
  if (!fused) model.add(layers::Dense<float>(1));
  model.compile("sgd", fused ? "binary_crossentropy" : "mse");
  const RowMatrix<float> x = RowMatrix<float>::Constant(rows, width, 0.5f);
  const RowMatrix<float> y = RowMatrix<float>::Constant(rows, fused ? width : 1, 1.0f);
  model.fit(x, y, {.batch_size = rows, .epochs = 1, .verbose = 0});
}

/// The ValueError message of fit_once.
std::string fit_message(Fault fault, Index rows = 16, Index width = 4, Activation last = Activation::linear) {
  return kerascpp_test::thrown_message<ValueError>([&] { fit_once(fault, rows, width, last); });
}

}  // namespace

TEST_CASE("extending.md layer: PReLU computes max(x, 0) + alpha*min(x, 0)", "[extending][layer]") {
  myproject::PReLU<double> layer("ones", input_shape{2});
  Rng rng(1);
  layer.build(2, rng);
  REQUIRE(layer.weights().size() == 1);
  CHECK(layer.weights()[0].name == "alpha");
  CHECK(layer.weights()[0].trainable());
  *layer.weights()[0].value = (Mat(1, 2) << 0.25, -0.5).finished();
  const Mat x = (Mat(2, 2) << -2.0, 3.0, 4.0, -1.0).finished();
  const Mat y = layer.forward(kerascpp_test::cview(x), true);
  CHECK(y(0, 0) == -0.5);  // 0.25 · −2
  CHECK(y(0, 1) == 3.0);
  CHECK(y(1, 0) == 4.0);
  CHECK(y(1, 1) == 0.5);  // −0.5 · −1
  CHECK(layer.count_params() == 2);
}

TEST_CASE("extending.md layer: PReLU passes the gradient check", "[extending][layer]") {
  myproject::PReLU<double> layer("random_uniform");
  Rng rng(2);
  layer.build(4, rng);
  CHECK((layer.weights()[0].value->array() != 0.0).all());
  kerascpp_test::check_layer_gradients(layer, kerascpp_test::away_from_zero(6, 4, 0.1, 1.5, 3));
}

TEST_CASE("extending.md layer: PReLU is registered, rebuilt from its config, trained, saved and loaded",
          "[extending][layer]") {
  REQUIRE(layer_registry<float>().find("PReLU") != nullptr);
  REQUIRE(layer_registry<double>().find("PReLU") != nullptr);
  {
    const myproject::PReLU<float> original("ones");
    const Config config = original.config();  // ConfigReader keeps a reference
    ConfigReader reader(config, "PReLU");
    const auto copy = layer_registry<float>().find("PReLU")->from_config(reader, input_shape{5});
    CHECK(copy->config() == original.config());
    CHECK(copy->declared_input_width() == 5);
    Index out = 0;
    const auto specs = layer_registry<float>().find("PReLU")->weight_specs(*copy, 5, out);
    CHECK(out == 5);
    REQUIRE(specs.size() == 1);
    CHECK(specs[0].rows == 1);
    CHECK(specs[0].cols == 5);
  }
  CHECK_THROWS_WITH(myproject::PReLU<float>("nonsense"), Contains("unknown initializer 'nonsense'"));

  const auto run = [](auto scalar) {
    using Scalar = decltype(scalar);
    Sequential<Scalar> model;
    model.set_seed(4);
    model.add(layers::Dense<Scalar>(6, "linear", input_shape{3}));
    model.add(myproject::PReLU<Scalar>("random_uniform"));
    model.add(layers::Dense<Scalar>(1));
    model.compile("adam", "mse");
    CHECK(model.layer(1).name() == "p_re_lu");
    const RowMatrix<Scalar> x = uniform<Scalar>(48, 3, -1.0, 1.0, 5);
    const RowMatrix<Scalar> y = uniform<Scalar>(48, 1, -1.0, 1.0, 6);
    const RowMatrix<Scalar> alpha_before = *model.layer(1).weights()[0].value;
    const auto history = model.fit(x, y, {.batch_size = 8, .epochs = 8, .verbose = 0});
    CHECK(history.at("loss").back() < history.at("loss").front());
    CHECK(!identical(*model.layer(1).weights()[0].value, alpha_before));
    check_save_load_resume(model, x, y);
  };
  run(float{});
  run(double{});
}

TEST_CASE("extending.md random_layer: GaussianNoise adds N(0, stddev^2) in training only", "[extending][random]") {
  myproject::GaussianNoise<double> layer(0.5, 11);
  Rng rng(0);
  layer.build(50, rng);
  const Mat x = Mat::Constant(200, 50, 3.0);
  const Mat at_inference = layer.forward(kerascpp_test::cview(x), false);
  CHECK(identical(at_inference, x));
  layer.set_position({7, 0});
  const Mat noise = Mat(layer.forward(kerascpp_test::cview(x), true)).array() - 3.0;
  const double mean = noise.mean();
  const double stddev = std::sqrt((noise.array() - mean).square().mean());
  CHECK(std::abs(mean) < 0.01);  // 10,000 draws: the mean's standard error is 0.005
  CHECK(std::abs(stddev - 0.5) < 0.01);
  layer.set_position({8, 0});
  const Mat next_step = layer.forward(kerascpp_test::cview(x), true);
  CHECK((next_step.array() - 3.0 != noise.array()).all());
}

TEST_CASE("extending.md random_layer: the noise of a row does not depend on how the batch is split",
          "[extending][random]") {
  myproject::GaussianNoise<float> layer(1.0, 3);
  Rng rng(0);
  layer.build(5, rng);
  const RowMatrix<float> x = uniform<float>(16, 5, -1.0, 1.0, 9);
  layer.set_position({4, 0});
  const RowMatrix<float> whole = layer.forward(ConstMatrixView<float>(x.data(), 16, 5), true);
  layer.set_position({4, 8});
  const RowMatrix<float> rows_8_to_16 = layer.forward(ConstMatrixView<float>(x.data() + 8 * 5, 8, 5), true);
  CHECK(identical(rows_8_to_16, whole.bottomRows(8)));
  CHECK(!identical(whole.topRows(8), whole.bottomRows(8)));
}

TEST_CASE("extending.md random_layer: GaussianNoise passes the gradient check", "[extending][random]") {
  myproject::GaussianNoise<double> layer(0.3, 1);
  Rng rng(0);
  layer.build(3, rng);
  layer.set_position({2, 0});
  kerascpp_test::check_layer_gradients(layer, kerascpp_test::uniform_matrix(4, 3, -1.0, 1.0, 8));
}

TEST_CASE("extending.md random_layer: a model with GaussianNoise trains, saves its key and resumes exactly",
          "[extending][random]") {
  REQUIRE(layer_registry<float>().find("GaussianNoise") != nullptr);
  REQUIRE(layer_registry<float>().find("GaussianNoise")->get_state != nullptr);
  Sequential<float> model;
  model.set_seed(12);
  model.add(layers::Dense<float>(8, "tanh", input_shape{3}));
  model.add(myproject::GaussianNoise<float>(0.2));
  model.add(layers::Dense<float>(1));
  model.compile("sgd", "mse");
  const RowMatrix<float> x = uniform<float>(40, 3, 0.0, 1.0, 13);
  const RowMatrix<float> y = targets(x);
  const auto history = model.fit(x, y, {.batch_size = 8, .epochs = 10, .verbose = 0});
  CHECK(history.at("loss").back() < history.at("loss").front());
  const auto key = dynamic_cast<myproject::GaussianNoise<float>&>(model.layer(1)).key();
  CHECK(key != 0);  // taken from the model's seed
  check_save_load_resume(model, x, y);

  // A user's seed wins over the model's, and survives the file.
  myproject::GaussianNoise<float> seeded(0.2, 99);
  seeded.seed_layer(5);
  CHECK(seeded.key() == 99);
  CHECK(seeded.config().at("seed") == "99");
}

TEST_CASE("extending.md optimizer: two Adamax steps match the numbers worked out by hand", "[extending][optimizer]") {
  Param<double> w, g, bias, bias_grad;
  w = (Mat(1, 2) << 1.0, -2.0).finished();
  g = Mat::Zero(1, 2);
  bias = Mat::Zero(1, 1);
  bias_grad = Mat::Zero(1, 1);
  ParameterStore<double> store({{"kernel", &w, &g}, {"bias", &bias, &bias_grad}});
  myproject::Adamax<double> adamax(0.1);
  CHECK(adamax.slots_per_weight() == 2);

  // Step 1, g = (0.5, −0.25): m = 0.1·g = (0.05, −0.025); u = |g| = (0.5, 0.25); lr/(1 − 0.9) = 1;
  // w = (1 − 0.05/(0.5 + 1e-7), −2 + 0.025/(0.25 + 1e-7)) = (0.90000002, −1.90000004).
  g = (Mat(1, 2) << 0.5, -0.25).finished();
  bias_grad(0, 0) = 1.0;
  adamax.apply(store);
  CHECK(adamax.iterations() == 1);  // one step for two weight tensors
  CHECK(w(0, 0) == Approx(0.900000019999996).epsilon(1e-12));
  CHECK(w(0, 1) == Approx(-1.900000039999984).epsilon(1e-12));
  CHECK(bias(0, 0) == Approx(-0.09999999).epsilon(1e-12));  // 0 − 1·0.1/(1 + 1e-7), m = 0.1, u = 1

  // Step 2, g = (0.1, −0.25): m = (0.055, −0.0475); u = (max(0.4995, 0.1), max(0.24975, 0.25)) =
  // (0.4995, 0.25); lr/(1 − 0.81) = 0.5263158; w = (0.90000002 − 0.5263158·0.055/0.4995001,
  // −1.90000004 + 0.5263158·0.0475/0.2500001) = (0.84204734, −1.80000008).
  g = (Mat(1, 2) << 0.1, -0.25).finished();
  adamax.apply(store);
  CHECK(adamax.iterations() == 2);
  CHECK(w(0, 0) == Approx(0.8420473420704968).epsilon(1e-12));
  CHECK(w(0, 1) == Approx(-1.8000000799999678).epsilon(1e-12));
  CHECK(adamax.slot(0, 0)(0, 0) == Approx(0.055).epsilon(1e-12));
  CHECK(adamax.slot(0, 1)(0, 0) == Approx(0.4995).epsilon(1e-12));
}

TEST_CASE("extending.md optimizer: Adamax checks its arguments, round-trips its config and splits a step",
          "[extending][optimizer]") {
  CHECK_THROWS_WITH(myproject::Adamax<float>(0.01, 1.5), Contains("beta_1=1.5"));
  CHECK_THROWS_WITH(myproject::Adamax<float>(0.01, 0.9, 0.999, 0.0), Contains("epsilon"));
  const auto* entry = optimizer_registry<double>().find("Adamax");
  REQUIRE(entry != nullptr);
  const myproject::Adamax<double> original(0.003, 0.8, 0.99, 1e-6);
  const Config config = original.config();  // ConfigReader keeps a reference
  ConfigReader reader(config, "optimizer Adamax");
  const auto copy = entry->from_config(reader);
  CHECK(copy->config() == original.config());
  CHECK(copy->learning_rate() == 0.003);

  // One step in three parts gives the numbers of one step in one part.
  const auto step = [](int parts) {
    Param<double> w, g;
    w = kerascpp_test::uniform_matrix(7, 5, -1.0, 1.0, 1);
    g = kerascpp_test::uniform_matrix(7, 5, -1.0, 1.0, 2);
    ParameterStore<double> store({{"kernel", &w, &g}});
    myproject::Adamax<double> adamax(0.01);
    for (int repeat = 0; repeat < 3; ++repeat) {
      adamax.begin_apply(store);
      for (int p = 0; p < parts; ++p) adamax.apply_part(store, p, parts);
    }
    return Mat(w);
  };
  CHECK(identical(step(1), step(3)));
}

TEST_CASE("extending.md optimizer: a model compiled with Adamax trains, saves its slots and resumes exactly",
          "[extending][optimizer]") {
  const auto run = [](auto scalar) {
    using Scalar = decltype(scalar);
    Sequential<Scalar> model;
    model.set_seed(3);
    model.add(layers::Dense<Scalar>(8, "tanh", input_shape{3}));
    model.add(layers::Dense<Scalar>(1));
    model.compile(myproject::Adamax<Scalar>(0.01), "mse");
    const RowMatrix<Scalar> x = uniform<Scalar>(64, 3, 0.0, 1.0, 4);
    const RowMatrix<Scalar> y = targets(x);
    const auto history = model.fit(x, y, {.batch_size = 16, .epochs = 20, .verbose = 0});
    CHECK(history.at("loss").back() < 0.2 * history.at("loss").front());
    CHECK(model.optimizer().iterations() == 80);  // 4 batches × 20 epochs
    CHECK(model.optimizer().slot_count() == 8);   // 2 slots × 4 trainable weights
    check_save_load_resume(model, x, y);
  };
  run(float{});
  run(double{});
}

TEST_CASE("extending.md: a registered optimizer and loss are accepted by compile by name", "[extending][optimizer][loss]") {
  Sequential<float> model;
  model.add(layers::Dense<float>(2, "relu", input_shape{3}));
  model.compile("ADAMAX", "mean_squared_logarithmic_error");
  CHECK(model.optimizer().name() == "Adamax");
  CHECK(model.optimizer().learning_rate() == Approx(myproject::Adamax<float>().learning_rate()));
  CHECK(model.loss().name() == "mean_squared_logarithmic_error");
  CHECK_THROWS_WITH(model.compile("adamaxx", "mse"), Catch::Contains("Adamax"));
}

TEST_CASE("extending.md loss: mean_squared_logarithmic_error's value and gradient", "[extending][loss]") {
  const myproject::MeanSquaredLogarithmicError<double> loss;
  // y = (0, 3), ŷ = (1, 1): l = ((log 2 − log(1 + 1e-7))² + (log 2 − log 4)²) / 2.
  const Mat y = (Mat(1, 2) << 0.0, 3.0).finished();
  const Mat p = (Mat(1, 2) << 1.0, 1.0).finished();
  kerascpp_test::Vec out(1);
  loss.per_sample(kerascpp_test::cview(y), kerascpp_test::cview(p), false, out);
  CHECK(out(0) == Approx(0.48045294460349186).epsilon(1e-12));

  const Mat targets_ = kerascpp_test::uniform_matrix(6, 3, 0.0, 3.0, 1);
  const Mat predictions = kerascpp_test::uniform_matrix(6, 3, 0.1, 3.0, 2);
  const kerascpp_test::Vec weights = kerascpp_test::uniform_matrix(6, 1, 0.5, 2.0, 3).col(0);
  kerascpp_test::check_loss_gradient(loss, targets_, predictions, false, weights);
}

TEST_CASE("extending.md loss: refuses negative targets, trains, saves and loads", "[extending][loss]") {
  REQUIRE(loss_registry<float>().find("mean_squared_logarithmic_error") != nullptr);
  Sequential<float> model;
  model.set_seed(8);
  model.add(layers::Dense<float>(8, "tanh", input_shape{3}));
  model.add(layers::Dense<float>(1, "softplus"));
  model.compile("adam", myproject::MeanSquaredLogarithmicError<float>());
  const RowMatrix<float> x = uniform<float>(48, 3, 0.0, 1.0, 10);
  RowMatrix<float> y = targets(x);
  const auto history = model.fit(x, y, {.batch_size = 8, .epochs = 15, .verbose = 0});
  CHECK(history.at("loss").back() < 0.5 * history.at("loss").front());
  check_save_load_resume(model, x, y);

  y(5, 0) = -1.0f;
  const std::string message = kerascpp_test::thrown_message<ValueError>([&] { model.fit(x, y, {.verbose = 0}); });
  CHECK_THAT(message, Contains("fit: mean_squared_logarithmic_error: targets must be non-negative"));
  CHECK_THAT(message, Contains("row 5"));
}

TEST_CASE("extending.md callback: LearningRateLogger puts the learning rate in History and prints it",
          "[extending][callback]") {
  Sequential<float> model;
  model.set_seed(1);
  model.add(layers::Dense<float>(1, "linear", input_shape{3}));
  model.compile("sgd", "mse");
  const RowMatrix<float> x = uniform<float>(16, 3, 0.0, 1.0, 1);
  const RowMatrix<float> y = targets(x);
  myproject::LearningRateLogger<float> logger;
  const auto history = model.fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {&logger}});
  REQUIRE(history.has("learning_rate"));
  CHECK(history.at("learning_rate") == std::vector<double>(3, model.learning_rate()));

  // After a scheduler that changes the rate at each epoch's start, the logger prints the new rate.
  callbacks::LearningRateScheduler<float> schedule([](int epoch, double) { return 0.01 * (epoch + 1); });
  std::ostringstream out;
  myproject::LearningRateLogger<float> printer(&out);
  model.fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {&schedule, &printer}});
  CHECK(out.str() == "epoch 1: learning_rate=0.01\nepoch 2: learning_rate=0.02\nepoch 3: learning_rate=0.03\n");
  CHECK(logger.model() == nullptr);  // detached after fit
}

TEST_CASE("extending.md callback: StopAtLoss ends training after the first epoch at the target",
          "[extending][callback]") {
  Sequential<float> model;
  model.set_seed(2);
  model.add(layers::Dense<float>(1, "linear", input_shape{3}));
  model.compile(optimizers::Adam<float>(0.05), "mse");
  const RowMatrix<float> x = uniform<float>(32, 3, 0.0, 1.0, 2);
  const RowMatrix<float> y = targets(x);
  myproject::StopAtLoss<float> stop(0.01);
  const auto history = model.fit(x, y, {.batch_size = 8, .epochs = 500, .verbose = 0, .callbacks = {&stop}});
  REQUIRE(stop.stopped_epoch() >= 1);
  CHECK(stop.stopped_epoch() < 499);
  CHECK(history.epochs() == static_cast<std::size_t>(stop.stopped_epoch() + 1));
  const auto& loss = history.at("loss");
  CHECK(loss.back() <= 0.01);
  for (std::size_t e = 0; e + 1 < loss.size(); ++e) CHECK(loss[e] > 0.01);

  // The object can be reused: on_train_begin resets it.
  Sequential<float> fresh;
  fresh.add(layers::Dense<float>(1, "linear", input_shape{3}));
  fresh.compile("sgd", "mse");
  myproject::StopAtLoss<float> never(-1.0);
  fresh.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&never}});
  CHECK(never.stopped_epoch() == -1);
}

TEST_CASE("extending.md callback: the hooks run in the order the page gives", "[extending][callback]") {
  struct Recorder : Callback<float> {
    std::vector<std::string> calls;
    void on_train_begin(Logs&) override { calls.push_back("train_begin"); }
    void on_train_end(Logs&) override { calls.push_back("train_end"); }
    int epoch = -1;
    void on_epoch_begin(int e, Logs&) override {
      epoch = e;
      calls.push_back("epoch_begin " + std::to_string(e));
    }
    void on_epoch_end(int e, Logs& logs) override {
      calls.push_back("epoch_end " + std::to_string(e) + (logs.count("val_loss") != 0 ? " val_loss" : ""));
    }
    void on_batch_begin(int b, Logs& logs) override {
      calls.push_back("batch_begin " + std::to_string(b) + (logs.empty() ? "" : " logs"));
    }
    void on_batch_end(int b, Logs& logs) override {
      calls.push_back("batch_end " + std::to_string(b) + (logs.count("loss") != 0 ? " loss" : ""));
      if (epoch == 1 && b == 0) model()->stop_training = true;  // leaves the second epoch after its first batch
    }
  };
  Sequential<float> model;
  model.add(layers::Dense<float>(1, "linear", input_shape{3}));
  model.compile("sgd", "mse");
  const RowMatrix<float> x = uniform<float>(20, 3, 0.0, 1.0, 3);
  const RowMatrix<float> y = targets(x);
  Recorder recorder;
  model.fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0, .callbacks = {&recorder}, .validation_split = 0.2});
  const std::vector<std::string> expected{
      "train_begin",  "epoch_begin 0",  "batch_begin 0", "batch_end 0 loss", "batch_begin 1",
      "batch_end 1 loss", "epoch_end 0 val_loss", "epoch_begin 1", "batch_begin 0", "batch_end 0 loss",
      "epoch_end 1 val_loss", "train_end"};
  CHECK(recorder.calls == expected);
}

TEST_CASE("extending.md usage: a model built from all four extensions trains, saves and loads",
          "[extending][usage]") {
  const RowMatrix<float> x = uniform<float>(64, 3, 0.0, 1.0, 21);
  const RowMatrix<float> y = targets(x);
  ScratchFolder folder;
  std::ostringstream log;
  Sequential<float> loaded = myproject::train_save_and_load(x, y, folder.path() / "all.kcpp", log);

  REQUIRE(loaded.size() == 4);
  CHECK(loaded.layer(1).type() == "PReLU");
  CHECK(loaded.layer(2).type() == "GaussianNoise");
  CHECK(loaded.optimizer().name() == "Adamax");
  CHECK(loaded.optimizer().iterations() == 120);  // 4 batches × 30 epochs
  CHECK(loaded.loss().name() == "mean_squared_logarithmic_error");
  CHECK_THAT(log.str(), Contains("epoch 30: learning_rate=0.01\n"));

  // Against the same model untrained (same seed, same initial weights).
  kerascpp::Sequential untrained{layers::Dense(16, "linear", input_shape{3}), myproject::PReLU("random_uniform"),
                                 myproject::GaussianNoise(0.05), layers::Dense(1, "softplus")};
  untrained.set_seed(1);
  untrained.compile(myproject::Adamax(0.01), myproject::MeanSquaredLogarithmicError());
  CHECK(loaded.evaluate(x, y).at("loss") < 0.2 * untrained.evaluate(x, y).at("loss"));
}

TEST_CASE("a layer whose forward, backward or logits returns the wrong shape is refused, naming the layer and both shapes",
          "[extending][misuse]") {
  Fault fault;
  fault.forward_rows = -1;
  CHECK_THAT(fit_message(fault), Contains("misshapen (Misshapen): forward returned a matrix of shape (15, 4); expected "
                                          "shape (16, 4) (the batch's 16 rows and the layer's output_width())"));
  fault = {};
  fault.forward_cols = 2;
  CHECK_THAT(fit_message(fault), Contains("forward returned a matrix of shape (16, 6); expected shape (16, 4)"));
  fault = {};
  fault.forward_empty = true;
  CHECK_THAT(fit_message(fault), Contains("forward returned an empty view; expected shape (16, 4)"));
  fault = {};
  fault.backward_cols = -1;
  CHECK_THAT(fit_message(fault), Contains("misshapen (Misshapen): backward returned a matrix of shape (16, 3); expected "
                                          "shape (16, 4) (the batch's 16 rows and the layer's input width)"));
  fault = {};
  fault.backward_rows = 2;
  CHECK_THAT(fit_message(fault), Contains("backward returned a matrix of shape (18, 4)"));
  fault = {};
  fault.backward_empty = true;
  CHECK_THAT(fit_message(fault), Contains("backward returned an empty view; expected shape (16, 4)"));
  // A final sigmoid fused with binary cross-entropy: the loss reads logits(), which this layer left empty.
  CHECK_THAT(fit_message(Fault{}, 16, 4, Activation::sigmoid),
             Contains("misshapen (Misshapen): logits returned an empty view; expected shape (16, 4)"));
  // Threads that split a batch run the same checks on their copies.
  kerascpp::set_num_threads(2);
  fault = {};
  fault.forward_rows = -1;
  const std::string threaded = fit_message(fault, 512, 64);
  kerascpp::set_num_threads(1);
  CHECK_THAT(threaded, Contains("forward returned a matrix of shape (255, 64); expected shape (256, 64)"));
}

TEST_CASE("a layer that declares a weight badly or cannot be copied is refused, naming the layer and the weight",
          "[extending][misuse]") {
  Fault fault;
  fault.weight_rows = -2;
  CHECK_THAT(fit_message(fault), Contains("misshapen (input width 4): weight shape must be non-negative, received shape (-2, 3)"));
  fault = {};
  fault.grad_rows = 7;
  CHECK_THAT(fit_message(fault), Contains("misshapen (Misshapen): weight 'w' has shape (2, 3) but its gradient has shape "
                                          "(7, 3); expected a gradient of the weight's shape"));
  fault = {};
  fault.null_value = true;
  CHECK_THAT(fit_message(fault), Contains("misshapen (Misshapen): weight 'w' has a null value pointer"));
  fault = {};
  fault.weight_rows = 0;  // an empty weight is allowed: nothing to train
  fault.grad_rows = 0;
  CHECK_NOTHROW(fit_once(fault));
  fault = {};
  fault.null_clone = true;
  kerascpp::set_num_threads(2);
  const std::string threaded = fit_message(fault, 512, 64);
  kerascpp::set_num_threads(1);
  CHECK_THAT(threaded, Contains("misshapen (Misshapen): clone() returned a null pointer; expected a copy of the layer"));
}

}  // namespace test_extending
