#include <kerascpp/callbacks/model_checkpoint.hpp>
#include <kerascpp/serialization.hpp>

#include "scratch_folder.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#include <unistd.h>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_serialization {
#endif

using kerascpp_test::ScratchFolder;

namespace fs = std::filesystem;
using namespace kerascpp;
using Catch::Matchers::Contains;
using namespace std::string_view_literals;

namespace {

/// The message of the E that `f` throws; fails the test when it throws nothing or something else.
template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected a different exception type, caught: " << e.what());
  }
  FAIL("expected an exception, none was thrown");
  return {};
}

/// Deterministic inputs in [-1, 1] and binary targets that depend on them.
template <typename Scalar>
void make_data(Index rows, Index cols, Matrix<Scalar>& x, Matrix<Scalar>& y) {
  x.resize(rows, cols);
  y.resize(rows, 1);
  for (Index i = 0; i < rows; ++i) {
    double sum = 0.0;
    for (Index j = 0; j < cols; ++j) {
      const double v = std::sin(0.37 * static_cast<double>(i * cols + j) + 0.11 * static_cast<double>(j));
      x(i, j) = static_cast<Scalar>(v);
      sum += v * (j % 2 == 0 ? 1.0 : -0.5);
    }
    y(i, 0) = sum > 0.0 ? Scalar(1) : Scalar(0);
  }
}

/// Dense → Dropout → BatchNormalization → Dense(sigmoid), Adam, binary cross-entropy.
template <typename Scalar = float>
Sequential<Scalar> make_classifier(std::uint64_t seed, Index inputs = 4, Index hidden = 8) {
  Sequential<Scalar> m;
  m.set_seed(seed);
  m.add(layers::Dense<Scalar>(hidden, "relu", input_shape{inputs}));
  m.add(layers::Dropout<Scalar>(0.3));
  m.add(layers::BatchNormalization<Scalar>());
  m.add(layers::Dense<Scalar>(1, "sigmoid"));
  m.compile(optimizers::Adam<Scalar>(0.01), "binary_crossentropy", {"accuracy"});
  return m;
}

/// A small trained model (few hundred bytes when saved) for the byte-by-byte loops.
Sequential<float> tiny_model() {
  Sequential<float> m;
  m.set_seed(7);
  m.add(layers::Dense<float>(2, "relu", input_shape{2}));
  m.add(layers::Dropout<float>(0.25));
  m.add(layers::BatchNormalization<float>());
  m.add(layers::Dense<float>(1, "sigmoid"));
  m.compile(optimizers::Adam<float>(0.05), "binary_crossentropy", {"accuracy"});
  Matrix<float> x, y;
  make_data<float>(8, 2, x, y);
  m.train_on_batch(x, y);
  m.train_on_batch(x, y);
  return m;
}

template <typename Scalar>
bool same_bits(const Matrix<Scalar>& a, const Matrix<Scalar>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Index k = 0; k < a.size(); ++k)
    if (std::memcmp(a.data() + k, b.data() + k, sizeof(Scalar)) != 0) return false;
  return true;
}

template <typename Scalar>
bool same_weights(Sequential<Scalar>& a, Sequential<Scalar>& b) {
  const auto wa = a.get_weights();
  const auto wb = b.get_weights();
  if (wa.size() != wb.size()) return false;
  for (std::size_t k = 0; k < wa.size(); ++k)
    if (!same_bits(wa[k], wb[k])) return false;
  return true;
}

/// `bytes` with its trailing CRC-32 recomputed, so that a deliberate change reaches the parser.
std::string with_checksum(std::string bytes) {
  const std::uint32_t crc = serialization::crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
  for (int k = 0; k < 4; ++k) bytes[bytes.size() - 4 + static_cast<std::size_t>(k)] = static_cast<char>((crc >> (8 * k)) & 0xFF);
  return bytes;
}

std::uint64_t read_u64(const std::string& bytes, std::size_t at) {
  std::uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(k)]);
  return v;
}

void write_le(std::string& bytes, std::size_t at, std::uint64_t v, int n) {
  for (int k = 0; k < n; ++k) bytes[at + static_cast<std::size_t>(k)] = static_cast<char>((v >> (8 * k)) & 0xFF);
}

/// Byte offset of the first occurrence of `needle` at or after `from`; fails the test when absent.
std::size_t find_bytes(const std::string& bytes, std::string_view needle, std::size_t from = 0) {
  const std::size_t at = bytes.find(needle, from);
  REQUIRE(at != std::string::npos);
  return at;
}

/// Loads `bytes` as a model and as weights into `target`; any kerascpp exception is fine, anything
/// else fails. A model that loads must predict.
void load_or_throw_cleanly(const std::string& bytes, Sequential<float>& target) {
  try {
    auto m = serialization::decode_model<float>(bytes);
    if (m.built() && m.input_width() <= 64) {
      Matrix<float> x = Matrix<float>::Constant(3, m.input_width(), 0.5f);
      (void)m.predict(x);
    }
  } catch (const IOError&) {
  } catch (const ValueError&) {
  } catch (const StateError&) {
  } catch (const std::exception& e) {
    FAIL("decode_model threw a non-kerascpp exception: " << e.what());
  }
  try {
    serialization::decode_weights_into(target, bytes);
  } catch (const IOError&) {
  } catch (const ValueError&) {
  } catch (const StateError&) {
  } catch (const std::exception& e) {
    FAIL("decode_weights_into threw a non-kerascpp exception: " << e.what());
  }
}

const fs::path test_data = KERASCPP_TEST_DATA_DIR;

/// A metric whose class is not registered: a model compiled with it cannot be saved.
class UnregisteredMeanOutput : public Metric<float> {
 public:
  UnregisteredMeanOutput() : Metric<float>("mean_output") {}
  std::unique_ptr<Metric<float>> clone() const override { return std::make_unique<UnregisteredMeanOutput>(*this); }
  void per_sample(ConstMatrixView<float>, ConstMatrixView<float> p, Eigen::Ref<Vector<float>> out) const override {
    for (Index i = 0; i < p.rows(); ++i) out(i) = p(i, 0);  // ŷ_i
  }
};

/// The config the registry saves for the metric object `m`.
Config saved_config(const Metric<float>& m) {
  const auto* entry = metrics::entry_of(m);
  REQUIRE(entry != nullptr);
  return entry->get_config(m);
}

/// A Dense → Dense(sigmoid) classifier compiled with non-default AUC, Precision and BinaryAccuracy
/// objects and trained for two epochs on `x`, `y`.
Sequential<float> model_with_metric_objects(const Matrix<float>& x, const Matrix<float>& y) {
  Sequential<float> m;
  m.set_seed(5);
  m.add(layers::Dense<float>(6, "relu", input_shape{4}));
  m.add(layers::Dense<float>(1, "sigmoid"));
  m.compile(optimizers::Adam<float>(0.01), "binary_crossentropy",
            {metrics::AUC<float>(50, "PR"), metrics::Precision<float>(0.7),
             metrics::BinaryAccuracy<float>("thresholded_accuracy", 0.3), "recall"});
  m.fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Format basics.

TEST_CASE("crc32 matches the standard check value", "[serialization]") {
  CHECK(serialization::crc32("123456789") == 0xCBF43926U);
  CHECK(serialization::crc32("") == 0U);
}

TEST_CASE("a model file starts with the magic, kind and version, and ends with its CRC-32", "[serialization]") {
  auto m = tiny_model();
  const std::string bytes = serialization::encode_model(m);
  CHECK(bytes.substr(0, 8) == "KERASCPP");
  CHECK(bytes[8] == 'M');
  CHECK(bytes.substr(9, 3) == std::string(3, '\0'));
  CHECK(static_cast<unsigned char>(bytes[12]) == serialization::format_version);
  CHECK(serialization::format_version == 2);
  CHECK(bytes.substr(13, 3) == std::string(3, '\0'));
  CHECK(bytes.substr(16, 4) == "ARCH");
  CHECK(with_checksum(bytes) == bytes);
  const std::string weights = serialization::encode_weights(m);
  CHECK(weights[8] == 'W');
  CHECK(weights.substr(16, 4) == "WGHT");
  CHECK(read_u64(weights, 20) == weights.size() - 16 - 12 - 4);
}

// ---------------------------------------------------------------------------------------------
// Round trips.

TEST_CASE("save_model and load_model round-trip architecture, weights, compile config and state", "[serialization]") {
  ScratchFolder folder;
  const fs::path path = folder.path() / "model.kcpp";
  auto a = make_classifier<float>(11);
  a.layer(0).set_name("hidden");
  Matrix<float> x, y;
  make_data<float>(64, 4, x, y);
  a.fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0});
  save_model(a, path);

  auto b = load_model<float>(path);
  REQUIRE(b.size() == a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(b.layer(i).type() == a.layer(i).type());
    CHECK(b.layer(i).name() == a.layer(i).name());
    CHECK(b.layer(i).config() == a.layer(i).config());
    CHECK(b.layer(i).declared_input_width() == a.layer(i).declared_input_width());
  }
  CHECK(b.layer(0).name() == "hidden");
  CHECK(b.built());
  CHECK(b.input_width() == 4);
  CHECK(same_weights(a, b));
  CHECK(same_bits(a.predict(x), b.predict(x)));

  REQUIRE(b.compiled());
  CHECK(b.optimizer().name() == "Adam");
  CHECK(b.optimizer().config() == a.optimizer().config());
  CHECK(b.optimizer().learning_rate() == a.optimizer().learning_rate());
  CHECK(b.optimizer().iterations() == a.optimizer().iterations());
  CHECK(b.optimizer().iterations() == 8);
  REQUIRE(b.optimizer().slot_weights() == a.optimizer().slot_weights());
  REQUIRE(b.optimizer().slots_per_weight() == a.optimizer().slots_per_weight());
  for (std::size_t i = 0; i < a.optimizer().slot_weights(); ++i)
    for (int k = 0; k < a.optimizer().slots_per_weight(); ++k)
      CHECK(b.optimizer().slot(i, k) == a.optimizer().slot(i, k));
  CHECK(b.loss().name() == "binary_crossentropy");
  REQUIRE(b.metric_specs().size() == 1);
  CHECK(b.metric_specs()[0].name == "accuracy");
  CHECK(b.seed() == a.seed());
  CHECK(b.shuffle_rng().state() == a.shuffle_rng().state());
  CHECK(dynamic_cast<layers::Dropout<float>&>(b.layer(1)).key() ==
        dynamic_cast<layers::Dropout<float>&>(a.layer(1)).key());
  CHECK(b.evaluate(x, y) == a.evaluate(x, y));

  // Saving the loaded model gives the same bytes.
  CHECK(serialization::encode_model(b) == kerascpp::io::read_file(path));
}

TEST_CASE("a loaded model continues training exactly where the saved one stopped", "[serialization]") {
  ScratchFolder folder;
  const fs::path path = folder.path() / "resume.kcpp";
  Matrix<float> x, y;
  make_data<float>(96, 4, x, y);

  auto a = make_classifier<float>(42);
  a.fit(x, y, {.batch_size = 16, .epochs = 2, .verbose = 0, .validation_split = 0.25, .shuffle = true});
  save_model(a, path);

  auto c = load_model<float>(path);
  CHECK(same_bits(a.predict(x), c.predict(x)));
  const auto resumed =
      c.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .validation_split = 0.25, .shuffle = true, .initial_epoch = 2});

  auto b = make_classifier<float>(42);
  const auto straight = b.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .validation_split = 0.25, .shuffle = true});

  REQUIRE(resumed.epoch == std::vector<int>{2});
  REQUIRE(straight.epochs() == 3);
  CHECK(resumed.keys() == straight.keys());
  for (const auto& key : straight.keys()) {
    INFO("key " << key);
    REQUIRE(resumed.at(key).size() == 1);
    CHECK(resumed.at(key)[0] == straight.at(key)[2]);
  }
  CHECK(same_weights(b, c));
  CHECK(c.optimizer().iterations() == b.optimizer().iterations());
}

TEST_CASE("loss parameters, optimizer configs and exact learning rates survive a round trip", "[serialization]") {
  const double lr = 0.1 / 3.0;
  const auto round_trip = [](Sequential<double>& m) {
    return serialization::decode_model<double>(serialization::encode_model(m));
  };
  const auto model = [] {
    Sequential<double> m;
    m.add(layers::Dense<double>(3, "softmax", input_shape{2}));
    return m;
  };

  SECTION("BinaryCrossentropy from_logits and label_smoothing, SGD with Nesterov momentum") {
    auto m = model();
    m.compile(optimizers::SGD<double>(lr, 0.8, true), losses::BinaryCrossentropy<double>(true, 0.15));
    auto b = round_trip(m);
    const auto* loss = dynamic_cast<const losses::BinaryCrossentropy<double>*>(&b.loss());
    REQUIRE(loss != nullptr);
    CHECK(loss->from_logits());
    CHECK(loss->label_smoothing() == 0.15);
    CHECK(b.optimizer().name() == "SGD");
    CHECK(b.optimizer().learning_rate() == lr);
    CHECK(b.optimizer().config() == m.optimizer().config());
  }
  SECTION("Huber delta, AdamW") {
    auto m = model();
    m.compile(optimizers::AdamW<double>(lr, 0.01, 0.85, 0.995, 1e-6), losses::Huber<double>(2.5), {"mae", "rmse"});
    auto b = round_trip(m);
    const auto* loss = dynamic_cast<const losses::Huber<double>*>(&b.loss());
    REQUIRE(loss != nullptr);
    CHECK(loss->delta() == 2.5);
    CHECK(b.optimizer().name() == "AdamW");
    CHECK(b.optimizer().learning_rate() == lr);
    CHECK(b.optimizer().config() == m.optimizer().config());
    REQUIRE(b.metric_specs().size() == 2);
    CHECK(b.metric_specs()[0].name == "mae");
    CHECK(b.metric_specs()[1].name == "rmse");
  }
  SECTION("CategoricalCrossentropy, centered RMSprop") {
    auto m = model();
    m.compile(optimizers::RMSprop<double>(lr, 0.8, 0.5, 1e-6, true), losses::CategoricalCrossentropy<double>(false, 0.2));
    auto b = round_trip(m);
    const auto* loss = dynamic_cast<const losses::CategoricalCrossentropy<double>*>(&b.loss());
    REQUIRE(loss != nullptr);
    CHECK_FALSE(loss->from_logits());
    CHECK(loss->label_smoothing() == 0.2);
    CHECK(b.optimizer().config() == m.optimizer().config());
  }
  SECTION("SparseCategoricalCrossentropy from_logits, Adagrad") {
    auto m = model();
    m.compile(optimizers::Adagrad<double>(lr, 0.2, 1e-5), losses::SparseCategoricalCrossentropy<double>(true),
              {"sparse_categorical_accuracy"});
    auto b = round_trip(m);
    const auto* loss = dynamic_cast<const losses::SparseCategoricalCrossentropy<double>*>(&b.loss());
    REQUIRE(loss != nullptr);
    CHECK(loss->from_logits());
    CHECK(b.optimizer().config() == m.optimizer().config());
  }
  SECTION("mse and mae by name") {
    auto m = model();
    m.compile("sgd", "mse");
    CHECK(round_trip(m).loss().name() == "mean_squared_error");
    m.compile("adam", "mae");
    CHECK(round_trip(m).loss().name() == "mean_absolute_error");
  }
}

TEST_CASE("metric objects keep their config through save_model and load_model", "[serialization][metrics]") {
  ScratchFolder folder;
  const fs::path path = folder.path() / "metrics.kcpp";
  Matrix<float> x, y;
  make_data<float>(64, 4, x, y);
  auto a = model_with_metric_objects(x, y);
  save_model(a, path);
  auto b = load_model<float>(path);

  REQUIRE(b.metric_specs().size() == 4);
  const std::vector<std::string> names{"auc", "precision", "thresholded_accuracy", "recall"};
  for (std::size_t k = 0; k < 3; ++k) {
    INFO(names[k]);
    CHECK(b.metric_specs()[k].name == names[k]);
    REQUIRE(b.metric_specs()[k].object != nullptr);
    CHECK(saved_config(*b.metric_specs()[k].object) == saved_config(*a.metric_specs()[k].object));
  }
  CHECK(saved_config(*b.metric_specs()[0].object) ==
        Config{{"curve", "PR"}, {"num_thresholds", "50"}, {"summation_method", "interpolation"}, {"thresholds", ""}});
  CHECK(saved_config(*b.metric_specs()[1].object) == Config{{"class_id", "-1"}, {"thresholds", "0.7"}});
  CHECK(saved_config(*b.metric_specs()[2].object) == Config{{"threshold", "0.3"}});
  // The metric given by name stays a name: it is made from the registry when the model runs.
  CHECK(b.metric_specs()[3].name == "recall");
  CHECK(b.metric_specs()[3].object == nullptr);

  // evaluate of the loaded model reports exactly the values of the saved one.
  const Logs before = a.evaluate(x, y);
  const Logs after = b.evaluate(x, y);
  REQUIRE(before.size() == after.size());
  for (const auto& [key, value] : before) {
    INFO(key);
    REQUIRE(after.count(key) == 1);
    CHECK(after.at(key) == value);
  }

  // ... which are not the values of the metrics with their default arguments.
  const Matrix<float> p = a.predict(x);
  const double default_auc = metrics::compute(metrics::AUC<float>(), y, p).at("auc");
  const double default_precision = metrics::compute(metrics::Precision<float>(), y, p).at("precision");
  const double default_accuracy = metrics::compute(metrics::BinaryAccuracy<float>(), y, p).at("binary_accuracy");
  CHECK(after.at("auc") != default_auc);
  CHECK(after.at("precision") != default_precision);
  CHECK(after.at("thresholded_accuracy") != default_accuracy);
  CHECK(after.at("auc") == Approx(metrics::compute(metrics::AUC<float>(50, "PR"), y, p).at("auc")).epsilon(1e-6));
  CHECK(after.at("precision") == Approx(metrics::compute(metrics::Precision<float>(0.7), y, p).at("precision")).epsilon(1e-6));
}

TEST_CASE("every configurable metric's config round-trips through its registry entry", "[serialization][metrics]") {
  using Metrics = std::vector<std::shared_ptr<const Metric<float>>>;
  const Metrics objects{
      std::make_shared<metrics::BinaryAccuracy<float>>("ba", 0.3),
      std::make_shared<metrics::AUC<float>>(37, "PR", "majoring", "pr_auc"),
      std::make_shared<metrics::AUC<float>>(200, "ROC", "minoring", "auc_at", std::vector<double>{0.9, 0.1, 0.45}),
      std::make_shared<metrics::Precision<float>>(0.25, 1, "precision_1"),
      std::make_shared<metrics::Recall<float>>(0.8, 0, "recall_0"),
      std::make_shared<metrics::F1Score<float>>("macro", 0.4, "f1_macro"),
      std::make_shared<metrics::F1Score<float>>(),
      std::make_shared<metrics::FBetaScore<float>>("weighted", 2.0, 0.6, "f2"),
      std::make_shared<metrics::FBetaScore<float>>(std::nullopt, 0.5),
      std::make_shared<metrics::CategoricalAccuracy<float>>("cat_acc")};
  const std::vector<std::string> entries{"binary_accuracy", "auc", "auc", "precision", "recall", "f1_score",
                                         "f1_score", "fbeta_score", "fbeta_score", "categorical_accuracy"};
  const std::vector<Config> configs{
      {{"threshold", "0.3"}},
      {{"curve", "PR"}, {"num_thresholds", "37"}, {"summation_method", "majoring"}, {"thresholds", ""}},
      {{"curve", "ROC"}, {"num_thresholds", "5"}, {"summation_method", "minoring"}, {"thresholds", "0.1,0.45,0.9"}},
      {{"class_id", "1"}, {"thresholds", "0.25"}},
      {{"class_id", "0"}, {"thresholds", "0.8"}},
      {{"average", "macro"}, {"threshold", "0.4"}},
      {},
      {{"average", "weighted"}, {"beta", "2"}, {"threshold", "0.6"}},
      {{"beta", "0.5"}},
      {}};
  // Three columns of targets and predictions.
  Matrix<float> y(12, 3), p(12, 3);
  for (Index i = 0; i < 12; ++i)
    for (Index j = 0; j < 3; ++j) {
      y(i, j) = (i + j) % 3 == 0 ? 1.0f : 0.0f;
      p(i, j) = static_cast<float>(0.5 + 0.5 * std::sin(1.3 * static_cast<double>(i * 3 + j)));
    }
  for (std::size_t k = 0; k < objects.size(); ++k) {
    const Metric<float>& m = *objects[k];
    INFO(m.name());
    const auto* entry = metrics::entry_of(m);
    REQUIRE(entry != nullptr);
    CHECK(entry->name == entries[k]);
    const Config config = entry->get_config(m);
    CHECK(config == configs[k]);
    ConfigReader reader(config, "metric " + entry->name);
    const auto back = entry->from_config(reader, m.name());
    CHECK_NOTHROW(reader.finish());
    const Metric<float>& restored = *back;
    CHECK(typeid(restored) == typeid(m));
    CHECK(restored.name() == m.name());
    CHECK(entry->get_config(restored) == config);
    CHECK(metrics::compute(restored, y, p) == metrics::compute(m, y, p));
  }
  // "accuracy" resolves by the shapes and saves no object; BinaryAccuracy objects save as binary_accuracy.
  CHECK(metrics::registry<float>().find("accuracy")->from_config == nullptr);
  CHECK(metrics::entry_of<float>(UnregisteredMeanOutput()) == nullptr);
}

TEST_CASE("bad metric configs in a file throw IOError naming the field, the expected and the received value",
          "[serialization][metrics]") {
  Sequential<float> m;
  m.add(layers::Dense<float>(1, "sigmoid", input_shape{2}));
  m.compile("sgd", "binary_crossentropy", {metrics::AUC<float>(50, "PR"), metrics::Precision<float>(0.7, -1, "prec")});
  const std::string good = serialization::encode_model(m);
  const auto patched = [&](std::string_view from, std::string_view to) {
    REQUIRE(from.size() == to.size());
    std::string bad = good;
    bad.replace(find_bytes(good, from, find_bytes(good, "COMP")), from.size(), to);
    return with_checksum(bad);
  };
  const auto load = [](const std::string& bytes) { (void)serialization::decode_model<float>(bytes, "'m.kcpp'"); };
  CHECK_NOTHROW(load(good));
  CHECK_THAT(message_of<IOError>([&] { load(patched("\x02\0\0\0PR"sv, "\x02\0\0\0XR"sv)); }),
             Contains("'m.kcpp'") && Contains("section COMP, metric 0 'auc'") && Contains("invalid metric auc config") &&
                 Contains("curve must be \"ROC\" or \"PR\", received curve=\"XR\""));
  CHECK_THAT(message_of<IOError>([&] { load(patched("\x02\0\0\0" "50"sv, "\x02\0\0\0" "5x"sv)); }),
             Contains("metric auc config 'num_thresholds' must be an integer in [2, 1000000], found '5x'"));
  CHECK_THAT(message_of<IOError>([&] { load(patched("curve", "curvy")); }),
             Contains("metric auc config is missing key 'curve'"));
  CHECK_THAT(message_of<IOError>([&] { load(patched("0.7", "1.7")); }),
             Contains("section COMP, metric 1 'prec'") &&
                 Contains("Precision: thresholds must be in [0, 1], received thresholds=1.7"));
  CHECK_THAT(message_of<IOError>([&] { load(patched("precision", "precisiox")); }),
             Contains("unknown metric class 'precisiox'") && Contains("binary_accuracy") && Contains("auc"));
  CHECK_THAT(message_of<IOError>([&] { load(patched("class_id", "class_ix")); }),
             Contains("missing key 'class_id'"));
}

TEST_CASE("layer configs round-trip in full precision", "[serialization]") {
  Sequential<float> m;
  m.add(layers::Dense<float>(5, "tanh", input_shape{3}, false, "he_normal", "ones", regularizers::l1_l2(0.1 / 3.0, 1e-4)));
  m.add(layers::BatchNormalization<float>(0.1 / 7.0, 1e-5));
  m.add(layers::Dropout<float>(1.0 / 3.0, 1234567890123ULL));
  m.add(layers::Activation<float>("gelu"));
  auto b = serialization::decode_model<float>(serialization::encode_model(m));
  const auto& dense = dynamic_cast<const layers::Dense<float>&>(b.layer(0));
  CHECK(dense.units() == 5);
  CHECK_FALSE(dense.use_bias());
  CHECK(dense.activation() == Activation::tanh);
  CHECK(dense.kernel_regularizer().l1 == 0.1 / 3.0);
  CHECK(dense.kernel_regularizer().l2 == 1e-4);
  CHECK(dense.config().at("kernel_initializer") == "he_normal");
  CHECK(dense.config().at("bias_initializer") == "ones");
  const auto& bn = dynamic_cast<const layers::BatchNormalization<float>&>(b.layer(1));
  CHECK(bn.momentum() == 0.1 / 7.0);
  CHECK(bn.epsilon() == 1e-5);
  auto& dropout = dynamic_cast<layers::Dropout<float>&>(b.layer(2));
  CHECK(dropout.rate() == 1.0 / 3.0);
  CHECK(dropout.seed() == std::optional<std::uint64_t>(1234567890123ULL));
  CHECK(b.layer(3).config().at("activation") == "gelu");
  CHECK(same_weights(m, b));
  CHECK_FALSE(b.compiled());
}

TEST_CASE("unbuilt, uncompiled and empty models round-trip", "[serialization]") {
  Sequential<float> unbuilt;
  unbuilt.set_seed(99);
  unbuilt.add(layers::Dense<float>(4, "relu"));
  unbuilt.add(layers::Dropout<float>(0.5));
  unbuilt.add(layers::Dense<float>(1));
  auto b = serialization::decode_model<float>(serialization::encode_model(unbuilt));
  CHECK_FALSE(b.built());
  CHECK(b.size() == 3);
  CHECK(b.seed() == 99);
  // Built later, it initializes exactly as the original would.
  unbuilt.build(3);
  b.build(3);
  CHECK(same_weights(unbuilt, b));

  Sequential<double> empty;
  auto e = serialization::decode_model<double>(serialization::encode_model(empty));
  CHECK(e.size() == 0);
  CHECK_FALSE(e.built());
}

/// A loss and an optimizer of the user's own that were never registered (named apart from the built-ins).
struct UnregisteredLoss : losses::MeanAbsoluteError<float> {
  std::string name() const override { return "my_mae"; }
  std::unique_ptr<Loss<float>> clone() const override { return std::make_unique<UnregisteredLoss>(*this); }
};
struct UnregisteredOptimizer : optimizers::SGD<float> {
  std::string name() const override { return "MySGD"; }
  std::unique_ptr<Optimizer<float>> clone() const override { return std::make_unique<UnregisteredOptimizer>(*this); }
};

TEST_CASE("saving an unregistered loss or optimizer says how to register it, and writes nothing", "[serialization]") {
  ScratchFolder scratch;
  const auto path = scratch.path() / "m.kcpp";
  Sequential<float> model{layers::Dense<float>(1, "linear", input_shape{2})};
  model.compile(optimizers::SGD<float>(), UnregisteredLoss());
  CHECK_THROWS_WITH(save_model(model, path),
                    Catch::StartsWith("save_model: cannot save loss 'my_mae': only the registered losses (") &&
                        Catch::EndsWith(") can be saved; register your loss type with kerascpp::register_loss<Type, "
                                        "Codec>(name) to save it (docs/extending.md)"));
  model.compile(UnregisteredOptimizer(), "mae");
  CHECK_THROWS_WITH(save_model(model, path),
                    Catch::StartsWith("save_model: cannot save optimizer 'MySGD': only the registered optimizers (") &&
                        Catch::EndsWith(") can be saved; register your optimizer type with "
                                        "kerascpp::register_optimizer<Type, Codec>(name) to save it (docs/extending.md)"));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("float and double files load into either Scalar type", "[serialization]") {
  Matrix<float> xf, yf;
  make_data<float>(32, 4, xf, yf);
  auto f = make_classifier<float>(5);
  f.fit(xf, yf, {.epochs = 1, .verbose = 0});
  const std::string float_bytes = serialization::encode_model(f);

  auto as_double = serialization::decode_model<double>(float_bytes);
  const auto wf = f.get_weights();
  const auto wd = as_double.get_weights();
  REQUIRE(wf.size() == wd.size());
  for (std::size_t k = 0; k < wf.size(); ++k) CHECK(wd[k] == wf[k].cast<double>());
  REQUIRE(as_double.optimizer().slot_weights() == f.optimizer().slot_weights());
  CHECK(as_double.optimizer().slot(0, 0) == f.optimizer().slot(0, 0).cast<double>());
  CHECK(as_double.optimizer().iterations() == f.optimizer().iterations());
  const Matrix<double> xd = xf.cast<double>();
  CHECK(as_double.predict(xd).cast<float>().isApprox(f.predict(xf), 1e-5f));

  auto d = make_classifier<double>(5);
  const std::string double_bytes = serialization::encode_model(d);
  auto as_float = serialization::decode_model<float>(double_bytes);
  const auto dd = d.get_weights();
  const auto df = as_float.get_weights();
  for (std::size_t k = 0; k < dd.size(); ++k) CHECK(df[k] == dd[k].cast<float>());

  // Weights files convert too.
  auto target = make_classifier<double>(77);
  serialization::decode_weights_into(target, serialization::encode_weights(f));
  const auto wt = target.get_weights();
  for (std::size_t k = 0; k < wf.size(); ++k) CHECK(wt[k] == wf[k].cast<double>());
}

TEST_CASE("NaN and infinite weights are kept bit for bit", "[serialization]") {
  auto m = make_classifier<float>(3);
  // A diverged model holds such weights (training makes them; set_weights refuses them).
  Param<float>& kernel = *m.layer(0).weights()[0].value;
  kernel(0, 0) = std::numeric_limits<float>::quiet_NaN();
  kernel(1, 0) = -std::numeric_limits<float>::infinity();
  auto b = serialization::decode_model<float>(serialization::encode_model(m));
  CHECK(same_weights(m, b));
  CHECK(std::isnan(b.get_weights()[0](0, 0)));
}

// ---------------------------------------------------------------------------------------------
// Weights only.

TEST_CASE("save_weights and load_weights move weights between models of the same architecture", "[serialization]") {
  ScratchFolder folder;
  const fs::path path = folder.path() / "w.kcpp";
  Matrix<float> x, y;
  make_data<float>(48, 4, x, y);
  auto a = make_classifier<float>(1);
  a.fit(x, y, {.epochs = 2, .verbose = 0});
  save_weights(a, path);
  CHECK(kerascpp::io::read_file(path)[8] == 'W');

  SECTION("into a built model") {
    auto b = make_classifier<float>(2);
    CHECK_FALSE(same_weights(a, b));
    load_weights(b, path);
    CHECK(same_weights(a, b));
    CHECK(same_bits(a.predict(x), b.predict(x)));
  }
  SECTION("into an unbuilt model, which gets built for the file's input width") {
    Sequential<float> b;
    b.add(layers::Dense<float>(8, "relu"));
    b.add(layers::Dropout<float>(0.3));
    b.add(layers::BatchNormalization<float>());
    b.add(layers::Dense<float>(1, "sigmoid"));
    load_weights(b, path);
    CHECK(b.built());
    CHECK(b.input_width() == 4);
    CHECK(same_bits(a.predict(x), b.predict(x)));
  }
  SECTION("from a whole-model file") {
    const fs::path model_path = folder.path() / "m.kcpp";
    save_model(a, model_path);
    auto b = make_classifier<float>(2);
    load_weights(b, model_path);
    CHECK(same_weights(a, b));
  }
  SECTION("a weights file is not a model file") {
    const auto msg = message_of<IOError>([&] { load_model<float>(path); });
    CHECK_THAT(msg, Contains("weights file") && Contains("load_weights") && Contains(path.string()));
  }
}

TEST_CASE("load_weights names the first architecture mismatch and leaves the model unchanged", "[serialization]") {
  auto a = make_classifier<float>(1);
  const std::string bytes = serialization::encode_weights(a);

  SECTION("layer count") {
    Sequential<float> b;
    b.add(layers::Dense<float>(8, "relu", input_shape{4}));
    b.add(layers::Dense<float>(1));
    const auto before = b.get_weights();
    const auto msg = message_of<ValueError>([&] { serialization::decode_weights_into(b, bytes, "'w.kcpp'"); });
    CHECK_THAT(msg, Contains("2 layers") && Contains("4") && Contains("w.kcpp"));
    CHECK(b.get_weights() == before);
  }
  SECTION("layer type") {
    Sequential<float> b;
    b.add(layers::Dense<float>(8, "relu", input_shape{4}));
    b.add(layers::Activation<float>("relu"));
    b.add(layers::BatchNormalization<float>());
    b.add(layers::Dense<float>(1, "sigmoid"));
    const auto msg = message_of<ValueError>([&] { serialization::decode_weights_into(b, bytes); });
    CHECK_THAT(msg, Contains("layer 1") && Contains("Activation") && Contains("Dropout") && Contains("'dropout'"));
  }
  SECTION("weight shape") {
    auto b = make_classifier<float>(1, 4, 6);
    const auto before = b.get_weights();
    const auto msg = message_of<ValueError>([&] { serialization::decode_weights_into(b, bytes); });
    CHECK_THAT(msg, Contains("layer 0 'dense'") && Contains("'kernel'") && Contains("(4, 6)") && Contains("(4, 8)"));
    CHECK(b.get_weights() == before);
  }
  SECTION("input width") {
    auto b = make_classifier<float>(1, 5, 8);
    const auto msg = message_of<ValueError>([&] { serialization::decode_weights_into(b, bytes); });
    CHECK_THAT(msg, Contains("input width 5") && Contains("input width 4"));
  }
  SECTION("a bias the model does not have") {
    Sequential<float> b;
    b.add(layers::Dense<float>(8, "relu", input_shape{4}, false));
    b.add(layers::Dropout<float>(0.3));
    b.add(layers::BatchNormalization<float>());
    b.add(layers::Dense<float>(1, "sigmoid"));
    const auto msg = message_of<ValueError>([&] { serialization::decode_weights_into(b, bytes); });
    CHECK_THAT(msg, Contains("layer 0 'dense'") && Contains("has 1 weights") && Contains("holds 2"));
  }
  SECTION("an unbuilt model whose shapes would not match is not built") {
    Sequential<float> b;
    b.add(layers::Dense<float>(7, "relu"));
    b.add(layers::Dropout<float>(0.3));
    b.add(layers::BatchNormalization<float>());
    b.add(layers::Dense<float>(1, "sigmoid"));
    CHECK_THROWS_AS(serialization::decode_weights_into(b, bytes), ValueError);
    CHECK_FALSE(b.built());
  }
}

// ---------------------------------------------------------------------------------------------
// Atomic writes.

TEST_CASE("a failed save leaves the previous file byte-identical", "[serialization]") {
  ScratchFolder folder;
  const fs::path path = folder.path() / "model.kcpp";
  auto a = make_classifier<float>(1);
  save_model(a, path);
  const std::string before = kerascpp::io::read_file(path);
  auto other = make_classifier<float>(2);
  const std::string replacement = serialization::encode_model(other);

  SECTION("the writer throws halfway") {
    CHECK_THROWS_AS(kerascpp::io::write_file_atomically(path,
                                              [&](std::ostream& out) {
                                                out.write(replacement.data(), static_cast<std::streamsize>(replacement.size() / 2));
                                                throw IOError("simulated failure halfway through the save");
                                              }),
                    IOError);
  }
  SECTION("the model cannot be saved") {
    other.compile("adam", "mse", {UnregisteredMeanOutput()});
    const auto msg = message_of<ValueError>([&] { save_model(other, path); });
    CHECK_THAT(msg, Contains("cannot save metric object 'mean_output'") && Contains("KERASCPP_REGISTER_METRIC"));
  }
  CHECK(kerascpp::io::read_file(path) == before);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder.path())) names.push_back(entry.path().filename().string());
  CHECK(names == std::vector<std::string>{"model.kcpp"});
  auto loaded = load_model<float>(path);
  CHECK(same_weights(a, loaded));
}

TEST_CASE("saving into a missing folder or onto a folder throws IOError naming the path", "[serialization]") {
  ScratchFolder folder;
  auto a = make_classifier<float>(1);
  const fs::path missing = folder.path() / "no_such_folder" / "model.kcpp";
  CHECK_THAT(message_of<IOError>([&] { save_model(a, missing); }), Contains("save_model") && Contains("no_such_folder"));
  CHECK_FALSE(fs::exists(missing.parent_path()));
  CHECK_THAT(message_of<IOError>([&] { save_weights(a, folder.path()); }), Contains("save_weights"));
}

// ---------------------------------------------------------------------------------------------
// Loading checks everything.

TEST_CASE("load_model and load_weights reject missing paths and folders with IOError naming the path", "[serialization]") {
  ScratchFolder folder;
  const fs::path missing = folder.path() / "absent.kcpp";
  CHECK_THAT(message_of<IOError>([&] { load_model<float>(missing); }), Contains("load_model") && Contains(missing.string()));
  auto m = make_classifier<float>(1);
  CHECK_THAT(message_of<IOError>([&] { load_weights(m, missing); }), Contains("load_weights") && Contains(missing.string()));
  CHECK_THAT(message_of<IOError>([&] { load_model<float>(folder.path()); }),
             Contains(folder.path().string()) && Contains("folder"));
#if defined(__unix__) || defined(__APPLE__)
  if (::geteuid() != 0) {
    const fs::path locked = folder.path() / "locked.kcpp";
    save_model(m, locked);
    fs::permissions(locked, fs::perms::none);
    CHECK_THAT(message_of<IOError>([&] { load_model<float>(locked); }), Contains(locked.string()));
  }
#endif
}

TEST_CASE("load_model refuses devices and FIFOs, and save refuses to replace a device", "[serialization]") {
  if (!fs::exists("/dev/zero") || !fs::exists("/dev/null")) {
    WARN("this system has no /dev/zero or /dev/null: skipped");
    return;
  }
  CHECK_THAT(message_of<IOError>([&] { load_model<float>("/dev/zero"); }),
             Contains("load_model: read_file: cannot read '/dev/zero': it is a character device; expected a regular file"));
  auto m = make_classifier<float>(1);
  CHECK_THAT(message_of<IOError>([&] { load_weights(m, "/dev/urandom"); }), Contains("a character device"));
  CHECK_THAT(message_of<IOError>([&] { m.save("/dev/null"); }),
             Contains("save_model: write_file_atomically: cannot write '/dev/null': it is a character device"));
  CHECK_THAT(message_of<IOError>([&] { m.save_weights("/dev/null"); }), Contains("save_weights"));
  CHECK(fs::is_character_file("/dev/null"));
#if defined(__unix__) || defined(__APPLE__)
  ScratchFolder folder;
  const fs::path fifo = folder.path() / "pipe.kcpp";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THAT(message_of<IOError>([&] { load_model<float>(fifo); }), Contains("a FIFO"));
#endif
}

TEST_CASE("save, load_model, load_weights and ModelCheckpoint refuse a path with a NUL byte", "[serialization]") {
  ScratchFolder folder;
  auto m = make_classifier<float>(1);
  const std::string cut = (folder.path() / "nul").string();
  const std::string with_nul = cut + std::string("\0evil.kcpp", 10);
  const std::string at = "at position " + std::to_string(cut.size());
  CHECK_THAT(message_of<ValueError>([&] { m.save(with_nul); }),
             Contains("save_model: the path contains a NUL byte " + at) && Contains("nul\\0evil.kcpp'"));
  CHECK_THAT(message_of<ValueError>([&] { m.save_weights(with_nul); }), Contains("save_weights: the path contains a NUL byte"));
  CHECK_FALSE(fs::exists(cut));
  m.save(cut);
  CHECK_THAT(message_of<ValueError>([&] { load_model<float>(with_nul); }), Contains("load_model: the path contains a NUL byte " + at));
  CHECK_THAT(message_of<ValueError>([&] { load_weights(m, with_nul); }), Contains("load_weights: the path contains a NUL byte"));
  CHECK_THAT(message_of<ValueError>([&] { callbacks::ModelCheckpoint<float> checkpoint(with_nul); }),
             Contains("ModelCheckpoint: the path contains a NUL byte"));
}

TEST_CASE("save, save_weights and ModelCheckpoint refuse the extensions of Keras's own files and write nothing",
          "[serialization]") {
  ScratchFolder folder;
  auto m = tiny_model();
  for (const char* name : {"model.keras", "model.h5", "model.weights.h5", "MODEL.H5", "model.hdf5"}) {
    const fs::path path = folder.path() / name;
    CHECK_THAT(message_of<ValueError>([&] { m.save(path); }),
               Contains(std::string("save_model: '") + path.string() + "' has the extension of Keras's own files") &&
                   Contains("kerascpp::keras::save_model"));
    CHECK_THAT(message_of<ValueError>([&] { m.save_weights(path); }),
               Contains("save_weights: '") && Contains("has the extension of Keras's own files"));
    CHECK_THAT(message_of<ValueError>([&] { callbacks::ModelCheckpoint<float>{path}; }),
               Contains("ModelCheckpoint: '") && Contains("has the extension of Keras's own files"));
    CHECK_FALSE(fs::exists(path));
  }
  CHECK(fs::is_empty(folder.path()));
  m.save(folder.path() / "model.kcpp");
  m.save(folder.path() / "model.keras.kcpp");
  m.save(folder.path() / "model");
  CHECK(fs::exists(folder.path() / "model.keras.kcpp"));
  CHECK(fs::exists(folder.path() / "model"));
}

TEST_CASE("each header check reports what it found", "[serialization]") {
  auto m = tiny_model();
  const std::string good = serialization::encode_model(m);

  SECTION("wrong magic") {
    std::string bad = good;
    bad[3] = 'X';
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(bad, "'m.kcpp'"); }),
               Contains("not a kerascpp file") && Contains("KERXSCPP") && Contains("'m.kcpp'") && Contains("byte 0"));
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>("PK\x03\x04 a zip file"); }),
               Contains("not a kerascpp file") && Contains("a zip archive, as Keras's .keras files are") &&
                   Contains("kerascpp::keras::load_model"));
    const std::string hdf5 = std::string("\x89HDF\r\n\x1a\n", 8) + " and the rest of an HDF5 file";
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_weights_into(m, hdf5, "'w.h5'"); }),
               Contains("not a kerascpp file") && Contains("an HDF5 file, as Keras's .h5 files are") &&
                   Contains("keras::load_weights"));
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>("KERAS?"); }),
               Contains("not a kerascpp file") && !Contains("Keras's"));
  }
  SECTION("wrong version, even with a valid checksum") {
    std::string bad = good;
    write_le(bad, 12, 3, 4);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("unsupported format version 3") && Contains("reads versions 1 to 2") && Contains("newer") &&
                   Contains("byte 12"));
    write_le(bad, 12, 0, 4);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("unsupported format version 0") && Contains("reads versions 1 to 2"));
  }
  SECTION("unknown kind") {
    std::string bad = good;
    bad[8] = 'Z';
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("file kind") && Contains("'Z'"));
  }
  SECTION("corrupted byte") {
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x10;
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(bad); }),
               Contains("checksum mismatch") && Contains("corrupted"));
  }
  SECTION("truncated") {
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(good.substr(0, 10)); }),
               Contains("10 bytes long") && Contains("truncated"));
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(good.substr(0, good.size() - 1)); }),
               Contains("checksum mismatch"));
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(""); }), Contains("0 bytes long"));
  }
}

TEST_CASE("a file truncated at every length throws IOError", "[serialization]") {
  auto m = tiny_model();
  auto target = tiny_model();
  const std::string model_bytes = serialization::encode_model(m);
  const std::string weight_bytes = serialization::encode_weights(m);
  for (std::size_t n = 0; n < model_bytes.size(); ++n) {
    INFO("model file truncated to " << n << " of " << model_bytes.size() << " bytes");
    CHECK_THROWS_AS(serialization::decode_model<float>(std::string_view(model_bytes).substr(0, n)), IOError);
    CHECK_THROWS_AS(serialization::decode_weights_into(target, std::string_view(model_bytes).substr(0, n)), IOError);
  }
  for (std::size_t n = 0; n < weight_bytes.size(); ++n) {
    INFO("weights file truncated to " << n << " of " << weight_bytes.size() << " bytes");
    CHECK_THROWS_AS(serialization::decode_weights_into(target, std::string_view(weight_bytes).substr(0, n)), IOError);
  }
  CHECK(same_weights(m, target));
}

TEST_CASE("every flipped byte is caught by the checks or the checksum", "[serialization]") {
  auto m = tiny_model();
  const std::string good = serialization::encode_model(m);
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (const unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string bad = good;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ mask);
      INFO("byte " << i << " xor " << static_cast<int>(mask));
      CHECK_THROWS_AS(serialization::decode_model<float>(bad), IOError);
    }
  }
}

TEST_CASE("flipped bytes with a recomputed checksum either load or throw a kerascpp exception", "[serialization]") {
  auto m = tiny_model();
  auto target = tiny_model();
  const std::string good = serialization::encode_model(m);
  for (std::size_t i = serialization::header_size; i + 4 < good.size(); ++i) {
    for (const unsigned char mask : {0x01, 0x04, 0x40, 0xFF}) {
      std::string bad = good;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ mask);
      INFO("byte " << i << " xor " << static_cast<int>(mask));
      load_or_throw_cleanly(with_checksum(bad), target);
    }
  }
}

TEST_CASE("lying sizes are rejected before anything is allocated", "[serialization]") {
  auto m = tiny_model();
  const std::string good = serialization::encode_model(m);
  const std::size_t wght = find_bytes(good, "WGHT");

  SECTION("a section length past the end") {
    std::string bad = good;
    write_le(bad, find_bytes(good, "ARCH") + 4, 0xFFFFFFFFFFFFULL, 8);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("section ARCH declares") && Contains("byte 20"));
  }
  SECTION("a huge tensor shape") {
    // WGHT payload: input width (8), layer count (4), type "Dense" (4+5), name "dense" (4+5),
    // weight count (4), name "kernel" (4+6), trainable (1), dtype (1), then rows.
    const std::size_t rows_at = wght + 12 + 8 + 4 + 9 + 9 + 4 + 10 + 1 + 1;
    REQUIRE(read_u64(good, rows_at) == 2);
    std::string bad = good;
    write_le(bad, rows_at, 2000000000ULL, 8);
    write_le(bad, rows_at + 8, 2000000000ULL, 8);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("weight 'kernel'") && Contains("(2000000000, 2000000000)") && Contains("remain") &&
                   Contains("section WGHT, layer 0 'dense'"));
    write_le(bad, rows_at, 0xFFFFFFFFFFFFFFFFULL, 8);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("at most 2147483647"));
  }
  SECTION("a huge string length") {
    std::string bad = good;
    write_le(bad, wght + 12 + 8 + 4, 0xFFFFFFF0ULL, 4);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("4294967280 bytes for the layer type") && Contains("section WGHT"));
  }
  SECTION("a huge layer count") {
    std::string bad = good;
    write_le(bad, wght + 12 + 8, 0xFFFFFFFFULL, 4);
    CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
               Contains("the layer count is 4294967295"));
  }
}

TEST_CASE("configs, names and enums from the file are checked", "[serialization]") {
  auto m = tiny_model();
  const std::string good = serialization::encode_model(m);
  const auto patched = [&](std::string_view from, std::string_view to) {
    REQUIRE(from.size() == to.size());
    std::string bad = good;
    bad.replace(find_bytes(good, from), from.size(), to);
    return with_checksum(bad);
  };
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("Dense", "Dxnse")); }),
             Contains("unknown layer type 'Dxnse'") && Contains("known types are Dense, Activation"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("sigmoid", "sigmxid")); }),
             Contains("unknown activation 'sigmxid'") && Contains("layer 3 'dense_1'"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("units", "unitz")); }),
             Contains("missing key 'units'"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("Adam", "Adan")); }),
             Contains("unknown optimizer 'Adan'"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("binary_crossentropy", "binary_crossentropx")); }),
             Contains("unknown loss"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("accuracy", "accurazy")); }),
             Contains("unknown metric 'accurazy'"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("0.25", "1.25")); }),
             Contains("Dropout: rate must be in [0, 1)"));
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(patched("0.25", "0.2x")); }),
             Contains("'rate' must be a number") && Contains("'0.2x'"));

  // A dtype tag that is neither float32 nor float64.
  const std::size_t rows_at = find_bytes(good, "WGHT") + 12 + 8 + 4 + 9 + 9 + 4 + 10 + 1 + 1;
  std::string bad = good;
  bad[rows_at - 1] = 7;
  CHECK_THAT(message_of<IOError>([&] { serialization::decode_model<float>(with_checksum(bad)); }),
             Contains("unknown dtype tag 7"));
}

TEST_CASE("files of format version 1 load, their metrics by name with default arguments", "[serialization][metrics]") {
  for (const char* name : {"tiny_float.kcpp", "tiny_double.kcpp"}) {
    INFO(name);
    const fs::path path = test_data / "models" / "v1" / name;
    const std::string bytes = kerascpp::io::read_file(path);
    REQUIRE(static_cast<unsigned char>(bytes[12]) == 1);
    auto v1 = load_model<float>(path);
    auto current = load_model<float>(test_data / "models" / name);
    CHECK(v1.compiled());
    REQUIRE(v1.metric_specs().size() == 1);
    CHECK(v1.metric_specs()[0].name == (std::string(name) == "tiny_float.kcpp" ? "accuracy" : "mae"));
    CHECK(v1.metric_specs()[0].object == nullptr);
    CHECK(same_weights(v1, current));
    // Saved again, the model is written in the current version, as the current fixture is.
    CHECK(serialization::encode_model(v1) == serialization::encode_model(current));
  }
}

TEST_CASE("committed fixture files load and re-save to the same bytes", "[serialization]") {
  for (const char* name : {"tiny_float.kcpp", "tiny_double.kcpp"}) {
    INFO(name);
    const fs::path path = test_data / "models" / name;
    const std::string bytes = kerascpp::io::read_file(path);
    auto f = load_model<float>(path);
    auto d = load_model<double>(path);
    CHECK(f.compiled());
    CHECK(d.size() == f.size());
    if (std::string(name) == "tiny_float.kcpp") CHECK(serialization::encode_model(f) == bytes);
    else CHECK(serialization::encode_model(d) == bytes);
  }
  auto target = tiny_model();
  load_weights(target, test_data / "models" / "tiny_float.weights.kcpp");
  auto reference = load_model<float>(test_data / "models" / "tiny_float.kcpp");
  CHECK(same_weights(target, reference));
}

TEST_CASE("fixture files are regenerated on request", "[.regenerate]") {
  const fs::path folder = test_data / "models";
  fs::create_directories(folder);
  auto f = tiny_model();
  save_model(f, folder / "tiny_float.kcpp");
  save_weights(f, folder / "tiny_float.weights.kcpp");
  Sequential<double> d;
  d.set_seed(3);
  d.add(layers::Dense<double>(3, "tanh", input_shape{2}));
  d.add(layers::Dense<double>(1));
  d.compile(optimizers::SGD<double>(0.05, 0.9), losses::Huber<double>(0.5), {"mae"});
  Matrix<double> x, y;
  make_data<double>(8, 2, x, y);
  d.train_on_batch(x, y);
  save_model(d, folder / "tiny_double.kcpp");
  // What was written reads back as the models that wrote it.
  CHECK(serialization::encode_model(load_model<float>(folder / "tiny_float.kcpp")) == kerascpp::io::read_file(folder / "tiny_float.kcpp"));
  CHECK(serialization::encode_model(load_model<double>(folder / "tiny_double.kcpp")) == kerascpp::io::read_file(folder / "tiny_double.kcpp"));
  auto target = tiny_model();
  load_weights(target, folder / "tiny_float.weights.kcpp");
  CHECK(same_weights(target, f));
}

TEST_CASE("fuzzing regressions for load_model throw kerascpp exceptions", "[serialization]") {
  const fs::path folder = test_data / "fuzz_regressions" / "load_model";
  if (!fs::is_directory(folder)) return;
  auto target = tiny_model();
  int files = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    INFO(entry.path().string());
    const std::string bytes = kerascpp::io::read_file(entry.path());
    bool threw = false;
    try {
      (void)serialization::decode_model<float>(bytes);
    } catch (const IOError&) {
      threw = true;
    } catch (const ValueError&) {
      threw = true;
    } catch (const std::exception& e) {
      FAIL("non-kerascpp exception: " << e.what());
    }
    CHECK(threw);
    load_or_throw_cleanly(bytes, target);
    if (bytes.size() >= serialization::header_size + serialization::checksum_size)
      load_or_throw_cleanly(with_checksum(bytes), target);
  }
  CHECK(files > 0);
}

// ---------------------------------------------------------------------------------------------
// ModelCheckpoint.

TEST_CASE("format_checkpoint_path fills Keras placeholders", "[serialization][checkpoint]") {
  using callbacks::format_checkpoint_path;
  const Logs logs{{"loss", 0.25}, {"val_loss", 0.123456}, {"accuracy", 1.0}, {"tiny", 1e-5}, {"neg", -2.5}};
  CHECK(format_checkpoint_path("m-{epoch:02d}.kcpp", 3, logs) == "m-03.kcpp");
  CHECK(format_checkpoint_path("m-{epoch}-{val_loss:.4f}.kcpp", 12, logs) == "m-12-0.1235.kcpp");
  CHECK(format_checkpoint_path("{loss}_{accuracy}_{tiny}", 1, logs) == "0.25_1.0_1e-05");
  CHECK(format_checkpoint_path("{{epoch}}-{epoch:>4}-{neg:+.1f}-{loss:.1%}-{val_loss:.2e}", 7, logs) ==
        "{epoch}-   7--2.5-25.0%-1.23e-01");
  CHECK(format_checkpoint_path("plain.kcpp", 1, logs) == "plain.kcpp");
  CHECK_THAT(message_of<ValueError>([&] { format_checkpoint_path("{val_acc:.2f}", 1, logs); }),
             Contains("{val_acc}") && Contains("epoch, accuracy, loss, neg, tiny, val_loss"));
  CHECK_THROWS_AS(format_checkpoint_path("{loss:d}", 1, logs), ValueError);
  CHECK_THROWS_AS(format_checkpoint_path("{loss:.4q}", 1, logs), ValueError);
  CHECK_THROWS_AS(format_checkpoint_path("{epoch", 1, logs), ValueError);
  CHECK_THROWS_AS(format_checkpoint_path("epoch}", 1, logs), ValueError);
}

TEST_CASE("ModelCheckpoint saves every epoch under a formatted name", "[serialization][checkpoint]") {
  ScratchFolder folder;
  Matrix<float> x, y;
  make_data<float>(40, 4, x, y);
  auto m = make_classifier<float>(8);
  callbacks::ModelCheckpoint<float> checkpoint((folder.path() / "ckpt" / "m-{epoch:02d}-{loss:.3f}.kcpp").string(), "val_loss");
  const auto history = m.fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .callbacks = {&checkpoint}});
  REQUIRE(checkpoint.saved_paths().size() == 3);
  for (int e = 0; e < 3; ++e) {
    char expected[64];
    std::snprintf(expected, sizeof expected, "m-%02d-%.3f.kcpp", e + 1, history.at("loss")[static_cast<std::size_t>(e)]);
    CHECK(checkpoint.saved_paths()[static_cast<std::size_t>(e)].filename() == expected);
    CHECK(fs::exists(checkpoint.saved_paths()[static_cast<std::size_t>(e)]));
  }
  auto last = load_model<float>(checkpoint.saved_paths().back());
  CHECK(same_bits(last.predict(x), m.predict(x)));
}

TEST_CASE("ModelCheckpoint with save_best_only keeps the best epoch's model", "[serialization][checkpoint]") {
  ScratchFolder folder;
  const fs::path best = folder.path() / "best.kcpp";
  Matrix<float> x, y;
  make_data<float>(40, 4, x, y);
  auto m = make_classifier<float>(9);
  const std::vector<double> scripted{0.5, 0.3, 0.4, 0.2, 0.2, 0.25};
  callbacks::LambdaCallback<float> script;
  script.epoch_end = [&](int epoch, Logs& logs) { logs["val_loss"] = scripted[static_cast<std::size_t>(epoch)]; };
  std::ostringstream out;
  callbacks::ModelCheckpoint<float> checkpoint(best, "val_loss", 1, true, false, "auto", &out);
  std::vector<Matrix<float>> predictions;
  callbacks::LambdaCallback<float> record;
  record.epoch_end = [&](int, Logs&) { predictions.push_back(m.predict(x)); };
  m.fit(x, y, {.batch_size = 8, .epochs = 6, .verbose = 0, .callbacks = {&script, &checkpoint, &record}});

  CHECK(checkpoint.saved_paths().size() == 3);  // epochs 1, 2 and 4
  CHECK(checkpoint.best() == std::optional<double>(0.2));
  CHECK(checkpoint.best_epoch() == 3);
  auto loaded = load_model<float>(best);
  CHECK(same_bits(loaded.predict(x), predictions[3]));
  CHECK_FALSE(same_bits(loaded.predict(x), predictions[5]));
  CHECK_THAT(out.str(), Contains("Epoch 1: val_loss improved from inf to 0.50000, saving model to " + best.string()) &&
                            Contains("Epoch 3: val_loss did not improve from 0.30000") &&
                            Contains("Epoch 5: val_loss did not improve from 0.20000"));
}

TEST_CASE("ModelCheckpoint maximizes accuracy in auto mode and can save weights only", "[serialization][checkpoint]") {
  ScratchFolder folder;
  const fs::path path = folder.path() / "w-{epoch}.kcpp";
  Matrix<float> x, y;
  make_data<float>(40, 4, x, y);
  auto m = make_classifier<float>(10);
  const std::vector<double> scripted{0.6, 0.7, 0.65};
  callbacks::LambdaCallback<float> script;
  script.epoch_end = [&](int epoch, Logs& logs) { logs["val_accuracy"] = scripted[static_cast<std::size_t>(epoch)]; };
  callbacks::ModelCheckpoint<float> checkpoint(path, "val_accuracy", 0, true, true);
  m.fit(x, y, {.batch_size = 8, .epochs = 3, .verbose = 0, .callbacks = {&script, &checkpoint}});
  REQUIRE(checkpoint.saved_paths().size() == 2);
  CHECK(checkpoint.saved_paths()[1].filename() == "w-2.kcpp");
  CHECK_FALSE(fs::exists(folder.path() / "w-3.kcpp"));
  CHECK(kerascpp::io::read_file(checkpoint.saved_paths()[1])[8] == 'W');
  auto other = make_classifier<float>(11);
  load_weights(other, checkpoint.saved_paths()[1]);
  CHECK_THROWS_AS(load_model<float>(checkpoint.saved_paths()[1]), IOError);
}

TEST_CASE("ModelCheckpoint rejects a missing monitor, bad arguments and non-Sequential models", "[serialization][checkpoint]") {
  ScratchFolder folder;
  Matrix<float> x, y;
  make_data<float>(16, 4, x, y);
  auto m = make_classifier<float>(1);
  callbacks::ModelCheckpoint<float> checkpoint(folder.path() / "m.kcpp", "val_acc", 0, true);
  CHECK_THAT(message_of<ValueError>([&] { m.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&checkpoint}}); }),
             Contains("monitor 'val_acc'") && Contains("accuracy, loss"));
  CHECK_THROWS_AS(callbacks::ModelCheckpoint<float>("m.kcpp", "loss", 0, false, false, "largest"), ValueError);
  CHECK_THROWS_AS(callbacks::ModelCheckpoint<float>(""), ValueError);

  struct NotSequential : ModelInterface<float> {
    std::vector<Matrix<float>> get_weights() override { return {}; }
    void set_weights(const std::vector<Matrix<float>>&) override {}
    double learning_rate() const override { return 0.0; }
    void set_learning_rate(double) override {}
  } fake;
  callbacks::ModelCheckpoint<float> every(folder.path() / "x.kcpp", "loss");
  every.set_model(&fake);
  Logs logs{{"loss", 1.0}};
  CHECK_THAT(message_of<StateError>([&] { every.on_epoch_end(0, logs); }), Contains("Sequential"));
}

}  // namespace test_serialization
