// Tests of kerascpp/registry.hpp: a layer type defined here registers in one line and then trains,
// passes the gradient check and saves and loads like a built-in one; and a contract that every
// registered layer type meets (config round trip, weight specs, clone, save/load, gradients); a
// metric defined here works by name after one line; every family lists its built-in names.
#include <kerascpp/kerascpp.hpp>

#include "gradient_check.hpp"
#include "scratch_folder.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_registry {

using namespace kerascpp;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using kerascpp_test::Mat;
using kerascpp_test::ScratchFolder;

namespace {

/// Scale: y = x ∘ w, one trainable (1 × width) weight w, the kind of layer a user writes.
template <typename Scalar = float>
class Scale : public Layer<Scalar> {
 public:
  explicit Scale(input_shape shape = {}) { this->declared_input_width_ = shape.width; }

  std::string type() const override { return "Scale"; }
  std::string name_prefix() const override { return "scale"; }
  std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Scale>(*this); }
  Config config() const override { return {}; }
  Index output_width() const override { return this->input_width_; }

  ConstMatrixView<Scalar> forward(ConstMatrixView<Scalar> x, bool /*training*/) override {
    x_ = x.data();
    rows_ = x.rows();
    auto y = y_.view(rows_, x.cols());
    y = (x.array().rowwise() * w_.row(0).array()).matrix();  // y = x ∘ w
    return as_const(y);
  }

  ConstMatrixView<Scalar> backward(ConstMatrixView<Scalar> dy, bool need_input_grad, bool /*logits_grad*/) override {
    this->require_forward(rows_);
    ConstMatrixView<Scalar> x(x_, rows_, this->input_width_);
    grad_.row(0) = (dy.array() * x.array()).colwise().sum().matrix();  // dw = Σ_rows dy ∘ x
    if (!need_input_grad) return this->empty_view();
    auto dx = dx_.view(rows_, this->input_width_);
    dx = (dy.array().rowwise() * w_.row(0).array()).matrix();  // dx = dy ∘ w
    return as_const(dx);
  }

  std::vector<Weight<Scalar>> weights() override {
    if (!this->built_) return {};
    return {{"kernel", &w_, &grad_}};
  }

  /// The weights for inputs of width `width`, without building.
  static std::vector<WeightSpec> weight_specs(const Scale&, Index width, Index& output_width) {
    output_width = width;
    return {{"kernel", 1, width, true}};
  }

 protected:
  void build_weights(Rng& rng) override {
    w_.resize(1, this->input_width_);
    for (Index j = 0; j < w_.cols(); ++j) w_(0, j) = static_cast<Scalar>(rng.uniform(0.5, 1.5));
    grad_.setZero(1, this->input_width_);
  }

 private:
  Param<Scalar> w_, grad_;  // (1 × width), views into the model's parameter store once laid out
  Buffer<Scalar> y_, dx_;
  const Scalar* x_ = nullptr;
  Index rows_ = -1;
};

KERASCPP_REGISTER_LAYER(Scale);

/// A subclass that reports the same type name: it must not be saved as a Scale.
template <typename Scalar = float>
class LoudScale : public Scale<Scalar> {};

/// MeanBias: the mean of ŷ − y over a row, the kind of metric a user writes.
template <typename Scalar = float>
class MeanBias : public Metric<Scalar> {
 public:
  explicit MeanBias(std::string name = "mean_bias") : Metric<Scalar>(std::move(name)) {}
  std::unique_ptr<Metric<Scalar>> clone() const override { return std::make_unique<MeanBias>(*this); }
  void per_sample(ConstMatrixView<Scalar> y, ConstMatrixView<Scalar> p, Eigen::Ref<Vector<Scalar>> out) const override {
    out = (p - y).rowwise().mean();  // m_i = mean_j (ŷ_ij − y_ij)
  }
};

KERASCPP_REGISTER_METRIC(MeanBias, "mean_bias");

template <typename Scalar>
RowMatrix<Scalar> uniform(Index rows, Index cols, double low, double high, std::uint64_t seed) {
  return kerascpp_test::uniform_as<Scalar>(rows, cols, low, high, seed);
}
using kerascpp_test::identical;

}  // namespace

TEST_CASE("a layer type defined in a program registers in one line, trains, and saves and loads", "[registry]") {
  REQUIRE(layer_registry<float>().find("Scale") != nullptr);
  REQUIRE(layer_registry<double>().find("Scale") != nullptr);

  SECTION("gradient check") {
    Scale<double> layer;
    Rng rng(3);
    layer.build(4, rng);
    kerascpp_test::check_layer_gradients(layer, kerascpp_test::uniform_matrix(5, 4, -1.0, 1.0, 11));
  }

  SECTION("fit, save, load: bit-identical predictions, float and double") {
    const auto run = [](auto scalar) {
      using Scalar = decltype(scalar);
      Sequential<Scalar> model;
      model.set_seed(5);
      model.add(layers::Dense<Scalar>(4, "tanh", input_shape{3}));
      model.add(Scale<Scalar>());
      model.add(layers::Dense<Scalar>(1));
      model.compile("adam", "mse");
      const RowMatrix<Scalar> x = uniform<Scalar>(32, 3, -1.0, 1.0, 1);
      const RowMatrix<Scalar> y = uniform<Scalar>(32, 1, -1.0, 1.0, 2);
      const RowMatrix<Scalar> scale_before = *model.layer(1).weights()[0].value;
      const auto history = model.fit(x, y, {.batch_size = 8, .epochs = 5, .verbose = 0});
      CHECK(history.at("loss").back() < history.at("loss").front());
      CHECK(!identical(*model.layer(1).weights()[0].value, scale_before));

      ScratchFolder folder;
      const auto path = folder.path() / "scale.kcpp";
      model.save(path);
      Sequential<Scalar> loaded = load_model<Scalar>(path);
      REQUIRE(loaded.size() == 3);
      CHECK(loaded.layer(1).type() == "Scale");
      CHECK(loaded.layer(1).name() == model.layer(1).name());
      CHECK(identical(loaded.predict(x), model.predict(x)));

      // Training goes on identically from the saved state.
      model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
      loaded.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});
      CHECK(identical(loaded.predict(x), model.predict(x)));
    };
    run(float{});
    run(double{});
  }
}

TEST_CASE("registering a name twice for another type is an error, the same type again is not", "[registry][errors]") {
  CHECK(register_layer<Scale>("Scale"));
  const std::string message =
      kerascpp_test::thrown_message<ValueError>([] { register_layer<layers::Activation, layers::ActivationCodec>("Scale"); });
  CHECK_THAT(message, Contains("'Scale' is already registered"));
  CHECK(*layer_registry<float>().find("Scale")->type == typeid(Scale<float>));
}

TEST_CASE("registering a type under a built-in's name is an error at once, before the built-ins are looked up",
          "[registry][errors]") {
  // Run alone (as ctest runs each case), nothing has looked up the registries yet: the built-ins
  // are not in them, and the clash is still found by name.
  const std::string layer = kerascpp_test::thrown_message<ValueError>([] { register_layer<Scale>("Dense"); });
  CHECK_THAT(layer, StartsWith("registry: cannot register type ") &&
                        EndsWith(" under 'Dense', the name of a built-in layer; expected a name that no built-in layer "
                                 "has (Dense, Activation, Dropout, BatchNormalization, Normalization), received 'Dense'"));
  const std::string metric = kerascpp_test::thrown_message<ValueError>([] { register_metric<MeanBias>("mae"); });
  CHECK_THAT(metric, Contains("under 'mae', the name of a built-in metric"));
  const std::string loss = kerascpp_test::thrown_message<ValueError>(
      [] { register_loss<losses::MeanSquaredError, losses::MeanSquaredErrorCodec>("huber_loss"); });
  CHECK_THAT(loss, Contains("under 'huber_loss', the name of a built-in loss"));
  const std::string alias = kerascpp_test::thrown_message<ValueError>(
      [] { register_loss<losses::MeanSquaredError, losses::MeanSquaredErrorCodec>("my_mse", {"mse"}); });
  CHECK_THAT(alias, Contains("under 'mse', the name of a built-in loss"));
  const std::string optimizer = kerascpp_test::thrown_message<ValueError>(
      [] { register_optimizer<optimizers::SGD, optimizers::SGDCodec>("Adam"); });
  CHECK_THAT(optimizer, Contains("under 'Adam', the name of a built-in optimizer"));
  const std::string schedule = kerascpp_test::thrown_message<ValueError>([] {
    optimizers::schedules::registry().add({"CosineDecay", &typeid(Scale<float>), nullptr});
  });
  CHECK_THAT(schedule, Contains("under 'CosineDecay', the name of a built-in learning rate schedule"));
  // The refused types left no entry: the built-ins are found under their names.
  CHECK(*layer_registry<float>().find("Dense")->type == typeid(layers::Dense<float>));
  CHECK(*layer_registry<double>().find("Dense")->type == typeid(layers::Dense<double>));
  CHECK(*metrics::registry<float>().find("mae")->type == typeid(metrics::MeanAbsoluteError<float>));
  CHECK(loss_registry<float>().find("my_mse") == nullptr);
  CHECK(*optimizer_registry<double>().find("Adam")->type == typeid(optimizers::Adam<double>));
}

TEST_CASE("each family's list of built-in names is the names and aliases its registry starts with", "[registry][names]") {
  const auto starts_with = [](const std::vector<std::string>& names, const auto& builtin) {
    return names.size() >= builtin.size() && std::equal(builtin.begin(), builtin.end(), names.begin());
  };
  CHECK(starts_with(layer_registry<float>().names_and_aliases(), LayerEntry<float>::builtin_names));
  CHECK(starts_with(layer_registry<double>().names_and_aliases(), LayerEntry<double>::builtin_names));
  CHECK(starts_with(optimizer_registry<float>().names_and_aliases(), OptimizerEntry<float>::builtin_names));
  CHECK(starts_with(loss_registry<double>().names_and_aliases(), LossEntry<double>::builtin_names));
  CHECK(starts_with(metrics::registry<float>().names(), metrics::MetricEntry<float>::builtin_names));
  CHECK(starts_with(optimizers::schedules::registry().names(), optimizers::schedules::ScheduleEntry::builtin_names));
}

TEST_CASE("registering a type under an empty name is an error, and the registry keeps no such entry", "[registry][errors]") {
  const std::size_t before = layer_registry<float>().entries().size();
  const std::string message =
      kerascpp_test::thrown_message<ValueError>([] { register_layer<layers::Activation, layers::ActivationCodec>(""); });
  CHECK_THAT(message, Contains("registry: cannot register type") && Contains("under an empty name"));
  CHECK(layer_registry<float>().entries().size() == before);
  CHECK(layer_registry<float>().find("") == nullptr);
  CHECK_THROWS_AS((register_loss<losses::MeanSquaredError, losses::MeanSquaredErrorCodec>("")), ValueError);
}

TEST_CASE("a layer whose class is not the one registered under its type name cannot be saved", "[registry][errors]") {
  Sequential<double> model;
  model.add(layers::Dense<double>(2, "linear", input_shape{2}));
  model.add(LoudScale<double>());
  ScratchFolder folder;
  const std::string message = kerascpp_test::thrown_message<ValueError>([&] { model.save(folder.path() / "m.kcpp"); });
  CHECK_THAT(message, Contains("cannot save layer") && Contains("'Scale'") && Contains("Dense, Activation"));
  CHECK(!std::filesystem::exists(folder.path() / "m.kcpp"));
}

TEST_CASE("every registered layer type meets the layer contract", "[registry][contract]") {
  const auto& entries = layer_registry<double>().entries();
  REQUIRE(entries.size() >= 5);
  constexpr Index width = 3;
  const Mat x = kerascpp_test::uniform_matrix(6, width, -1.0, 1.0, 17);
  for (const auto& entry : entries) {
    INFO("layer type " << entry.name);

    // From the sample config, and config → text → object → text is the identity.
    const Config sample = entry.sample_config();
    ConfigReader reader(sample, entry.name);
    LayerPtr<double> layer = entry.from_config(reader, input_shape{});
    reader.finish();
    CHECK(layer->type() == entry.name);
    const Config text = entry.get_config(*layer);
    ConfigReader again(text, entry.name);
    const LayerPtr<double> copy = entry.from_config(again, input_shape{});
    again.finish();
    CHECK(entry.get_config(*copy) == text);

    // The weight specs worked out without building are the weights a build creates.
    Index output = 0;
    const auto specs = entry.weight_specs(*layer, width, output);
    Rng rng(23);
    layer->build(width, rng);
    CHECK(layer->output_width() == output);
    const auto weights = layer->weights();
    REQUIRE(weights.size() == specs.size());
    for (std::size_t k = 0; k < specs.size(); ++k) {
      CHECK(weights[k].name == specs[k].name);
      CHECK(weights[k].value->rows() == specs[k].rows);
      CHECK(weights[k].value->cols() == specs[k].cols);
      CHECK(weights[k].trainable() == specs[k].trainable);
    }

    // A clone computes the same outputs.
    const LayerPtr<double> clone = layer->clone();
    const Mat y = layer->forward(kerascpp_test::cview(x), false);
    CHECK(identical(clone->forward(kerascpp_test::cview(x), false), y));

    // Saved and loaded inside a model, it predicts the same numbers bit for bit.
    Sequential<double> model;
    model.set_seed(29);
    model.add(layers::Dense<double>(width, "linear", input_shape{width}));
    ConfigReader third(text, entry.name);
    model.add(entry.from_config(third, input_shape{}));
    model.add(layers::Dense<double>(2));
    model.compile("sgd", "mse");
    model.fit(x, kerascpp_test::uniform_matrix(6, 2, -1.0, 1.0, 31), {.batch_size = 3, .epochs = 2, .verbose = 0});
    ScratchFolder folder;
    model.save(folder.path() / "model.kcpp");
    Sequential<double> loaded = load_model<double>(folder.path() / "model.kcpp");
    CHECK(loaded.layer(1).type() == entry.name);
    CHECK(identical(loaded.predict(x), model.predict(x)));

    // Gradients against central differences (layers with a random state at inference, where they
    // are deterministic).
    kerascpp_test::LayerCheck check;
    check.training = entry.get_state == nullptr;
    kerascpp_test::check_layer_gradients(*layer, x, check);
  }
}

TEST_CASE("a metric defined in a program registers in one line and is accepted by name", "[registry][metrics]") {
  REQUIRE(metrics::registry<float>().find("mean_bias") != nullptr);
  REQUIRE(metrics::registry<double>().find("mean_bias") != nullptr);
  CHECK_NOTHROW(metrics::validate("mean_bias"));

  Sequential<double> model;
  model.set_seed(7);
  model.add(layers::Dense<double>(3, "tanh", input_shape{2}));
  model.add(layers::Dense<double>(1));
  model.compile("adam", "mse", {"mean_bias", "mae"});
  const RowMatrix<double> x = uniform<double>(24, 2, -1.0, 1.0, 3);
  const RowMatrix<double> y = uniform<double>(24, 1, -1.0, 1.0, 4);
  const auto history = model.fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .validation_split = 0.25});
  CHECK(history.has("mean_bias"));
  CHECK(history.has("val_mean_bias"));
  CHECK(history.at("mean_bias").size() == 3);

  // evaluate reports the mean of ŷ − y over the data.
  const double expected = (model.predict(x) - y).mean();
  CHECK(model.evaluate(x, y).at("mean_bias") == Approx(expected).epsilon(1e-12));

  // The name is saved and loaded like a built-in metric's.
  ScratchFolder folder;
  model.save(folder.path() / "m.kcpp");
  Sequential<double> loaded = load_model<double>(folder.path() / "m.kcpp");
  REQUIRE(loaded.metric_specs().size() == 2);
  CHECK(loaded.metric_specs()[0].name == "mean_bias");
  CHECK(loaded.evaluate(x, y).at("mean_bias") == Approx(expected).epsilon(1e-12));

  // An unknown name lists the registered ones, the program's own included.
  const std::string message = kerascpp_test::thrown_message<ValueError>([&] { model.compile("adam", "mse", {"mean_bais"}); });
  CHECK_THAT(message, Contains("unknown metric 'mean_bais'") && Contains("accuracy, acc, binary_accuracy") &&
                          Contains("mean_bias"));
}

TEST_CASE("each family's registry lists its built-in names", "[registry][names]") {
  using Names = std::vector<std::string>;
  const auto has_all = [](const Names& names, const Names& wanted) {
    for (const auto& n : wanted)
      if (std::find(names.begin(), names.end(), n) == names.end()) return false;
    return true;
  };
  CHECK(activations::registry().names() == Names{"linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu",
                                                 "swish", "silu", "leaky_relu", "softplus", "hard_sigmoid"});
  CHECK(initializers::registry().names() == Names{"glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                                  "lecun_uniform", "lecun_normal", "zeros", "ones", "random_normal",
                                                  "random_uniform"});
  CHECK(regularizers::registry().names() == Names{"l1", "l2", "l1_l2"});
  const Names builtin_metrics{"accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                              "mean_absolute_error", "mae", "mean_squared_error", "mse", "root_mean_squared_error", "rmse"};
  CHECK(has_all(metrics::registry<float>().names(), builtin_metrics));
  CHECK(has_all(metrics::registry<double>().names(), builtin_metrics));
  CHECK(has_all(layer_registry<float>().names(), {"Dense", "Activation", "Dropout", "BatchNormalization"}));
  CHECK(has_all(optimizer_registry<double>().names(), {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}));
  CHECK(has_all(loss_registry<double>().names(), {"mean_absolute_error", "mean_squared_error", "huber",
                                                  "binary_crossentropy", "categorical_crossentropy",
                                                  "sparse_categorical_crossentropy"}));
}

TEST_CASE("initializer and regularizer configs round-trip through their registries", "[registry][config]") {
  const Initializer normal = initializers::random_normal(0.5, 2.0);
  const Config config = initializers::get_config(normal);
  CHECK(config == Config{{"mean", "0.5"}, {"stddev", "2"}});
  const Initializer back = initializers::from_config("random_normal", config);
  CHECK(back.name == "random_normal");
  CHECK(back.mean == 0.5);
  CHECK(back.stddev == 2.0);
  CHECK(initializers::get_config(Initializer("he_normal")).empty());
  CHECK_THROWS_AS(initializers::from_config("zeros", {{"value", "1"}}), ConfigError);
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { initializers::from_config("xavier", {}); }),
             Contains("unknown initializer 'xavier'; valid names are: glorot_uniform"));

  const Regularizer r = regularizers::from_config("l1_l2", {{"l1", "0.25"}, {"l2", "0.5"}});
  CHECK(r.l1 == 0.25);
  CHECK(r.l2 == 0.5);
  CHECK(regularizers::registry().at("l2", "regularizer").get_config(regularizers::l2(0.125)) == Config{{"l2", "0.125"}});
  CHECK_THROWS_AS(regularizers::from_config("l1", {{"l1", "-1"}}), ValueError);
  CHECK_THAT(kerascpp_test::thrown_message<ValueError>([] { regularizers::from_config("l3", {}); }),
             Contains("unknown regularizer 'l3' (did you mean 'l1'?); valid names are: l1, l2, l1_l2"));
}

}  // namespace test_registry
