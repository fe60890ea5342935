// Callbacks: first driven directly with scripted logs through a fake model (no training), then
// through real `fit` calls on small models. The expected numbers follow Keras 3's callbacks
// (keras/src/callbacks/*.py); see /work/shared/KERAS.md §2.5–2.6.
#include "gradient_check.hpp"

#include <catch2/catch.hpp>

#include <kerascpp/data/csv.hpp>
#include <kerascpp/kerascpp.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_callbacks {

namespace keras = kerascpp;
using namespace keras::layers;
using keras::Logs;
using Index = keras::Index;
using Mat = keras::Matrix<double>;

namespace {

/// A model that only records what callbacks do to it. Its single weight is a 1×1 matrix that the
/// driver sets to the epoch number, so a restored weight tells which epoch it was taken from.
class FakeModel : public keras::ModelInterface<double> {
 public:
  std::vector<Mat> weights{Mat::Constant(1, 1, -1.0)};
  int get_calls = 0;
  int set_calls = 0;
  double lr = 0.1;

  std::vector<Mat> get_weights() override {
    ++get_calls;
    return weights;
  }
  void set_weights(const std::vector<Mat>& w) override {
    ++set_calls;
    weights = w;
  }
  double learning_rate() const override { return lr; }
  void set_learning_rate(double v) override { lr = v; }

  double weight() const { return weights.at(0)(0, 0); }
};

/// Runs the callback hooks the way `fit` does for one value of `key` per epoch; returns the number
/// of epochs that ran before the callback asked to stop.
int drive(keras::Callback<double>& cb, FakeModel& model, const std::vector<double>& values,
          const std::string& key = "val_loss") {
  cb.set_model(&model);
  model.stop_training = false;
  Logs begin;
  cb.on_train_begin(begin);
  int ran = 0;
  for (std::size_t e = 0; e < values.size(); ++e) {
    const int epoch = static_cast<int>(e);
    model.weights = {Mat::Constant(1, 1, static_cast<double>(epoch))};
    Logs logs;
    cb.on_epoch_begin(epoch, logs);
    logs = {{"loss", 1.0}, {key, values[e]}};
    cb.on_epoch_end(epoch, logs);
    ++ran;
    if (model.stop_training) break;
  }
  Logs end;
  cb.on_train_end(end);
  return ran;
}

using EarlyStopping = keras::callbacks::EarlyStopping<double>;

std::filesystem::path fresh_dir(const std::string& name) {
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  auto dir = std::filesystem::temp_directory_path() / ("kerascpp_test_callbacks_" + name + "_" + std::to_string(stamp));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t files_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// EarlyStopping with scripted logs.

TEST_CASE("EarlyStopping counts patience epochs after the best one and then stops", "[callbacks][early_stopping]") {
  FakeModel model;
  EarlyStopping es({.patience = 2});
  // best at epoch 1; epochs 2 and 3 do not improve: wait reaches 2 at epoch 3.
  const int ran = drive(es, model, {1.0, 0.9, 0.95, 0.97, 0.99, 1.0});
  CHECK(ran == 4);
  CHECK(model.stop_training);
  CHECK(es.stopped_epoch() == 3);
  CHECK(es.best_epoch() == 1);
  REQUIRE(es.best().has_value());
  CHECK(*es.best() == 0.9);
  CHECK(model.set_calls == 0);  // restore_best_weights is off
}

TEST_CASE("EarlyStopping that never loses patience runs every epoch and reports stopped_epoch 0",
          "[callbacks][early_stopping]") {
  FakeModel model;
  EarlyStopping es({.patience = 3});
  const int ran = drive(es, model, {1.0, 1.1, 1.2, 0.8, 0.9, 1.0});
  CHECK(ran == 6);
  CHECK_FALSE(model.stop_training);
  CHECK(es.stopped_epoch() == 0);
  CHECK(es.best_epoch() == 3);
  CHECK(es.wait() == 2);
}

TEST_CASE("EarlyStopping: an improvement smaller than min_delta does not reset wait", "[callbacks][early_stopping]") {
  SECTION("small improvements count as no improvement") {
    FakeModel model;
    EarlyStopping es({.min_delta = 0.1, .patience = 2});
    const int ran = drive(es, model, {1.0, 0.95, 0.92, 0.91});
    CHECK(ran == 3);
    CHECK(es.stopped_epoch() == 2);
    CHECK(es.best_epoch() == 0);
    CHECK(*es.best() == 1.0);
  }
  SECTION("the same values without min_delta keep improving") {
    FakeModel model;
    EarlyStopping es({.patience = 2});
    CHECK(drive(es, model, {1.0, 0.95, 0.92, 0.91}) == 4);
    CHECK(es.stopped_epoch() == 0);
    CHECK(es.best_epoch() == 3);
  }
  SECTION("an improvement larger than min_delta resets wait and becomes the new best") {
    FakeModel model;
    EarlyStopping es({.min_delta = 0.1, .patience = 2});
    // e1 waits, e2 improves by 0.15 > 0.1 (best 0.85), e3 and e4 are within 0.1 of it.
    CHECK(drive(es, model, {1.0, 0.95, 0.85, 0.76, 0.77}) == 5);
    CHECK(es.stopped_epoch() == 4);
    CHECK(es.best_epoch() == 2);
    CHECK(*es.best() == 0.85);
  }
  SECTION("a negative min_delta is used by its absolute value, as in Keras") {
    FakeModel model;
    EarlyStopping es({.min_delta = -0.1, .patience = 2});
    CHECK(drive(es, model, {1.0, 0.95, 0.92, 0.91}) == 3);
    CHECK(es.stopped_epoch() == 2);
  }
}

TEST_CASE("EarlyStopping mode max follows an accuracy upwards", "[callbacks][early_stopping]") {
  const std::vector<double> acc{0.5, 0.6, 0.6, 0.55, 0.7};
  SECTION("max") {
    FakeModel model;
    EarlyStopping es({.monitor = "val_binary_accuracy", .patience = 2, .mode = "max"});
    CHECK(drive(es, model, acc, "val_binary_accuracy") == 4);
    CHECK(es.stopped_epoch() == 3);
    CHECK(es.best_epoch() == 1);
    CHECK(*es.best() == 0.6);
  }
  SECTION("min on the same values treats the rise as getting worse") {
    FakeModel model;
    EarlyStopping es({.monitor = "val_binary_accuracy", .patience = 2, .mode = "min"});
    CHECK(drive(es, model, acc, "val_binary_accuracy") == 3);
    CHECK(es.stopped_epoch() == 2);
    CHECK(es.best_epoch() == 0);
  }
  SECTION("max with min_delta needs a rise larger than min_delta") {
    FakeModel model;
    EarlyStopping es({.monitor = "val_binary_accuracy", .min_delta = 0.15, .patience = 1, .mode = "max"});
    CHECK(drive(es, model, acc, "val_binary_accuracy") == 2);
    CHECK(es.best_epoch() == 0);
  }
}

TEST_CASE("EarlyStopping mode auto picks max for accuracy names and min for losses", "[callbacks][early_stopping]") {
  const std::vector<double> rising{0.5, 0.6, 0.7, 0.65, 0.64};
  SECTION("val_accuracy") {
    FakeModel model;
    EarlyStopping es({.monitor = "val_accuracy", .patience = 2});
    CHECK(drive(es, model, rising, "val_accuracy") == 5);
    CHECK(es.best_epoch() == 2);
    CHECK(es.stopped_epoch() == 4);
  }
  SECTION("accuracy") {
    FakeModel model;
    EarlyStopping es({.monitor = "accuracy", .patience = 2});
    CHECK(drive(es, model, rising, "accuracy") == 5);
    CHECK(es.best_epoch() == 2);
  }
  SECTION("val_loss") {
    FakeModel model;
    EarlyStopping es({.monitor = "val_loss", .patience = 2});
    CHECK(drive(es, model, rising, "val_loss") == 3);
    CHECK(es.best_epoch() == 0);
    CHECK(es.stopped_epoch() == 2);
  }
}

TEST_CASE("EarlyStopping baseline: wait is not reset until the baseline is beaten", "[callbacks][early_stopping]") {
  SECTION("improving but never beating the baseline still stops at the first non-improvement") {
    FakeModel model;
    EarlyStopping es({.patience = 2, .baseline = 0.5});
    // Every epoch up to 3 improves, yet wait keeps growing (1, 2, 3, 4) because 0.6 > 0.5.
    CHECK(drive(es, model, {0.9, 0.8, 0.7, 0.6, 0.65, 0.55}) == 5);
    CHECK(es.stopped_epoch() == 4);
    CHECK(es.best_epoch() == 3);
  }
  SECTION("without baseline the same values do not stop") {
    FakeModel model;
    EarlyStopping es({.patience = 2});
    CHECK(drive(es, model, {0.9, 0.8, 0.7, 0.6, 0.65, 0.55}) == 6);
    CHECK(es.stopped_epoch() == 0);
  }
  SECTION("beating the baseline resets wait") {
    FakeModel model;
    EarlyStopping es({.patience = 2, .baseline = 0.5});
    CHECK(drive(es, model, {0.9, 0.4, 0.45, 0.46, 0.47}) == 4);
    CHECK(es.best_epoch() == 1);
    CHECK(es.stopped_epoch() == 3);
  }
  SECTION("a first value worse than the baseline and no improvement stops at epoch 1") {
    FakeModel model;
    EarlyStopping es({.patience = 2, .baseline = 0.5});
    CHECK(drive(es, model, {0.9, 0.95, 0.99}) == 2);
    CHECK(es.stopped_epoch() == 1);
  }
}

TEST_CASE("EarlyStopping start_from_epoch ignores the first epochs", "[callbacks][early_stopping]") {
  const std::vector<double> values{1.0, 2.0, 3.0, 4.0, 3.5, 3.6, 3.7};
  SECTION("with start_from_epoch 3") {
    FakeModel model;
    EarlyStopping es({.patience = 0, .start_from_epoch = 3});
    CHECK(drive(es, model, values) == 6);
    CHECK(es.stopped_epoch() == 5);
    CHECK(es.best_epoch() == 4);
  }
  SECTION("without it") {
    FakeModel model;
    EarlyStopping es({.patience = 0});
    CHECK(drive(es, model, values) == 2);
    CHECK(es.stopped_epoch() == 1);
    CHECK(es.best_epoch() == 0);
  }
  SECTION("restore_best_weights snapshots nothing before start_from_epoch") {
    FakeModel model;
    EarlyStopping es({.patience = 5, .restore_best_weights = true, .start_from_epoch = 3});
    CHECK(drive(es, model, {0.1, 0.2, 0.3, 4.0, 5.0}) == 5);
    // Epochs 0–2 had lower values but were ignored: the best counted epoch is 3.
    CHECK(es.best_epoch() == 3);
    CHECK(model.set_calls == 1);
    CHECK(model.weight() == 3.0);
  }
}

TEST_CASE("EarlyStopping patience 0 stops at the first non-improvement after epoch 0", "[callbacks][early_stopping]") {
  SECTION("after improvements") {
    FakeModel model;
    EarlyStopping es;  // Keras defaults: val_loss, patience 0
    CHECK(drive(es, model, {1.0, 0.9, 0.95, 0.8}) == 3);
    CHECK(es.stopped_epoch() == 2);
    CHECK(es.best_epoch() == 1);
  }
  SECTION("at epoch 1") {
    FakeModel model;
    EarlyStopping es;
    CHECK(drive(es, model, {1.0, 1.0, 0.5}) == 2);  // equal is not an improvement
    CHECK(es.stopped_epoch() == 1);
  }
  SECTION("never at epoch 0") {
    FakeModel model;
    EarlyStopping es;
    CHECK(drive(es, model, {1.0}) == 1);
    CHECK_FALSE(model.stop_training);
    CHECK(es.stopped_epoch() == 0);
  }
}

TEST_CASE("EarlyStopping restore_best_weights restores the best epoch's weights at train end",
          "[callbacks][early_stopping]") {
  SECTION("also when training ran every epoch (Keras 3 / current tf-keras)") {
    FakeModel model;
    EarlyStopping es({.patience = 10, .restore_best_weights = true});
    CHECK(drive(es, model, {1.0, 0.5, 0.7, 0.8}) == 4);
    CHECK(es.stopped_epoch() == 0);
    CHECK(es.best_epoch() == 1);
    CHECK(model.set_calls == 1);
    CHECK(model.weight() == 1.0);
  }
  SECTION("after an early stop") {
    FakeModel model;
    EarlyStopping es({.patience = 1, .restore_best_weights = true});
    CHECK(drive(es, model, {1.0, 0.5, 0.7, 0.4}) == 3);
    CHECK(es.stopped_epoch() == 2);
    CHECK(model.set_calls == 1);
    CHECK(model.weight() == 1.0);
  }
  SECTION("epoch 0 is the best when nothing improves afterwards") {
    FakeModel model;
    EarlyStopping es({.patience = 1, .restore_best_weights = true});
    CHECK(drive(es, model, {0.3, 0.4}) == 2);
    CHECK(model.weight() == 0.0);
  }
  SECTION("not restored without the option") {
    FakeModel model;
    EarlyStopping es({.patience = 1});
    drive(es, model, {1.0, 0.5, 0.7, 0.4});
    CHECK(model.set_calls == 0);
    CHECK(model.weight() == 2.0);
  }
  SECTION("verbose messages use 1-based epochs") {
    FakeModel model;
    std::ostringstream out;
    EarlyStopping es({.patience = 1, .verbose = 1, .restore_best_weights = true, .out = &out});
    drive(es, model, {1.0, 0.5, 0.7, 0.4});
    CHECK(out.str() ==
          "Epoch 3: early stopping\n"
          "Restoring model weights from the end of the best epoch: 2.\n");
  }
}

TEST_CASE("EarlyStopping resets its state in on_train_begin so it can be reused", "[callbacks][early_stopping]") {
  FakeModel model;
  EarlyStopping es({.patience = 2, .restore_best_weights = true});
  CHECK(drive(es, model, {0.1, 0.2, 0.3, 0.4}) == 3);
  CHECK(es.stopped_epoch() == 2);
  CHECK(*es.best() == 0.1);
  // A second run whose values are all above the first run's best: with stale state none of them
  // would count as an improvement and the run would stop at epoch 1.
  CHECK(drive(es, model, {5.0, 4.0, 3.0, 2.0, 1.0}) == 5);
  CHECK(es.stopped_epoch() == 0);
  CHECK(es.best_epoch() == 4);
  CHECK(*es.best() == 1.0);
  CHECK(es.wait() == 0);
  CHECK(model.weight() == 4.0);
}

TEST_CASE("EarlyStopping with a monitor key missing from the logs throws a ValueError listing the keys",
          "[callbacks][early_stopping]") {
  FakeModel model;
  EarlyStopping es({.monitor = "val_accuracy"});
  es.set_model(&model);
  Logs begin;
  es.on_train_begin(begin);
  Logs logs{{"loss", 0.5}, {"val_loss", 0.4}, {"val_mae", 0.3}};
  REQUIRE_THROWS_AS(es.on_epoch_end(0, logs), keras::ValueError);
  REQUIRE_THROWS_WITH(es.on_epoch_end(0, logs), Catch::Contains("val_accuracy") &&
                                                    Catch::Contains("loss, val_loss, val_mae"));
}

TEST_CASE("EarlyStopping rejects bad options", "[callbacks][early_stopping]") {
  REQUIRE_THROWS_AS(EarlyStopping({.patience = -1}), keras::ValueError);
  REQUIRE_THROWS_WITH(EarlyStopping({.mode = "maximum"}), Catch::Contains("mode") && Catch::Contains("maximum"));
  REQUIRE_THROWS_WITH(EarlyStopping({.verbose = -1}),
                      Catch::Contains("EarlyStopping: verbose must be 0 or 1, received verbose=-1"));
  REQUIRE_THROWS_AS(EarlyStopping({.baseline = std::numeric_limits<double>::quiet_NaN()}), keras::ValueError);
  REQUIRE_THROWS_WITH(EarlyStopping({.baseline = std::numeric_limits<double>::quiet_NaN()}),
                      Catch::Contains("EarlyStopping: baseline must be finite (or unset), received baseline=nan"));
  REQUIRE_THROWS_WITH(EarlyStopping({.start_from_epoch = -2}),
                      Catch::Contains("EarlyStopping: start_from_epoch must be non-negative, received start_from_epoch=-2"));
  CHECK_NOTHROW(EarlyStopping({.baseline = 0.5, .start_from_epoch = 3}));
}

// ---------------------------------------------------------------------------------------------
// ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN.

TEST_CASE("ReduceLROnPlateau follows factor, patience, cooldown and min_lr", "[callbacks][reduce_lr]") {
  FakeModel model;
  model.lr = 0.1;
  keras::callbacks::ReduceLROnPlateau<double> cb({.factor = 0.5, .patience = 2, .min_delta = 0.0, .cooldown = 2,
                                                  .min_lr = 0.02});
  cb.set_model(&model);
  Logs begin;
  cb.on_train_begin(begin);
  //                               e0   e1   e2    e3    e4    e5    e6    e7    e8    e9    e10  e11  e12  e13
  const std::vector<double> val{1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 0.8, 0.9, 0.9, 0.9};
  // Learning rate written into each epoch's logs (the one used during that epoch) and after it:
  // reductions at e3 (wait 2), e6 (after 2 cooldown epochs and 2 waits), e9 (clipped to min_lr),
  // none at e12 or later because lr is no longer above min_lr.
  const std::vector<double> logged{0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02};
  const std::vector<double> after{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02};
  for (std::size_t e = 0; e < val.size(); ++e) {
    INFO("epoch " << e);
    Logs logs{{"loss", 1.0}, {"val_loss", val[e]}};
    cb.on_epoch_end(static_cast<int>(e), logs);
    REQUIRE(logs.count("learning_rate") == 1);
    CHECK(logs.at("learning_rate") == Approx(logged[e]).epsilon(1e-15));
    CHECK(model.lr == Approx(after[e]).epsilon(1e-15));
  }
}

TEST_CASE("ReduceLROnPlateau rejects a NaN or negative min_lr, a NaN min_delta and a negative cooldown",
          "[callbacks][reduce_lr]") {
  using Plateau = keras::callbacks::ReduceLROnPlateau<double>;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_AS(Plateau({.min_lr = nan}), keras::ValueError);
  REQUIRE_THROWS_WITH(Plateau({.min_lr = nan}),
                      Catch::Contains("ReduceLROnPlateau: min_lr must be a finite non-negative number, received min_lr=nan"));
  REQUIRE_THROWS_WITH(Plateau({.min_lr = -0.5}), Catch::Contains("received min_lr=-0.5"));
  REQUIRE_THROWS_WITH(Plateau({.min_delta = nan}),
                      Catch::Contains("ReduceLROnPlateau: min_delta must be finite, received min_delta=nan"));
  REQUIRE_THROWS_WITH(Plateau({.cooldown = -1}),
                      Catch::Contains("ReduceLROnPlateau: cooldown must be non-negative, received cooldown=-1"));
  CHECK_NOTHROW(Plateau({.cooldown = 0, .min_lr = 0.0}));
}

TEST_CASE("ReduceLROnPlateau rejects a negative verbose, as EarlyStopping does", "[callbacks][reduce_lr]") {
  using Plateau = keras::callbacks::ReduceLROnPlateau<double>;
  REQUIRE_THROWS_AS(Plateau({.verbose = -1}), keras::ValueError);
  REQUIRE_THROWS_WITH(Plateau({.verbose = -1}),
                      Catch::Contains("ReduceLROnPlateau: verbose must be 0 or 1, received verbose=-1"));
  CHECK_NOTHROW(Plateau({.verbose = 0}));
}

TEST_CASE("ReduceLROnPlateau min_delta and mode max", "[callbacks][reduce_lr]") {
  SECTION("improvements below min_delta count as waiting") {
    FakeModel model;
    model.lr = 1.0;
    keras::callbacks::ReduceLROnPlateau<double> cb({.factor = 0.1, .patience = 2, .min_delta = 0.05});
    cb.set_model(&model);
    Logs begin;
    cb.on_train_begin(begin);
    const std::vector<double> val{1.0, 0.97, 0.96};
    for (std::size_t e = 0; e < val.size(); ++e) {
      Logs logs{{"val_loss", val[e]}};
      cb.on_epoch_end(static_cast<int>(e), logs);
    }
    CHECK(model.lr == Approx(0.1).epsilon(1e-15));
  }
  SECTION("mode max reduces when an accuracy stops rising") {
    FakeModel model;
    model.lr = 1.0;
    keras::callbacks::ReduceLROnPlateau<double> cb({.monitor = "val_accuracy", .factor = 0.5, .patience = 1});
    cb.set_model(&model);
    Logs begin;
    cb.on_train_begin(begin);
    const std::vector<double> val{0.5, 0.6, 0.7};
    for (std::size_t e = 0; e < val.size(); ++e) {
      Logs logs{{"val_accuracy", val[e]}};
      cb.on_epoch_end(static_cast<int>(e), logs);
    }
    CHECK(model.lr == 1.0);
    Logs logs{{"val_accuracy", 0.65}};
    cb.on_epoch_end(3, logs);
    CHECK(model.lr == 0.5);
  }
  SECTION("factor 1 or more is refused") {
    using R = keras::callbacks::ReduceLROnPlateau<double>;
    REQUIRE_THROWS_AS(R({.factor = 1.0}), keras::ValueError);
    REQUIRE_THROWS_WITH(R({.factor = 1.5}), Catch::Contains("factor"));
  }
}

TEST_CASE("LearningRateScheduler sets the learning rate at each epoch's beginning", "[callbacks][scheduler]") {
  FakeModel model;
  model.lr = 0.1;
  std::vector<std::pair<int, double>> calls;
  keras::callbacks::LearningRateScheduler<double> cb([&](int epoch, double lr) {
    calls.emplace_back(epoch, lr);
    return epoch < 2 ? lr : lr * 0.5;
  });
  cb.set_model(&model);
  const std::vector<double> expected{0.1, 0.1, 0.05, 0.025};
  for (int e = 0; e < 4; ++e) {
    Logs logs;
    cb.on_epoch_begin(e, logs);
    CHECK(model.lr == Approx(expected[static_cast<std::size_t>(e)]).epsilon(1e-15));
    Logs end{{"loss", 1.0}};
    cb.on_epoch_end(e, end);
    CHECK(end.at("learning_rate") == Approx(expected[static_cast<std::size_t>(e)]).epsilon(1e-15));
  }
  REQUIRE(calls.size() == 4);
  CHECK(calls[2] == std::make_pair(2, 0.1));
  CHECK(calls[3].first == 3);
  CHECK(calls[3].second == Approx(0.05).epsilon(1e-15));

  keras::callbacks::LearningRateScheduler<double> bad([](int, double) { return -1.0; });
  bad.set_model(&model);
  Logs logs;
  REQUIRE_THROWS_AS(bad.on_epoch_begin(7, logs), keras::ValueError);
  REQUIRE_THROWS_WITH(bad.on_epoch_begin(7, logs), Catch::Contains("epoch 7") && Catch::Contains("-1"));
}

TEST_CASE("TerminateOnNaN stops on a NaN or infinite batch loss and names epoch and batch", "[callbacks][nan]") {
  FakeModel model;
  std::ostringstream out;
  keras::callbacks::TerminateOnNaN<double> cb(&out);
  cb.set_model(&model);
  Logs logs;
  cb.on_epoch_begin(2, logs);
  Logs fine{{"loss", 0.25}};
  cb.on_batch_end(3, fine);
  CHECK_FALSE(model.stop_training);
  CHECK_FALSE(cb.terminated());
  Logs bad{{"loss", std::numeric_limits<double>::quiet_NaN()}};
  cb.on_batch_end(4, bad);
  CHECK(model.stop_training);
  CHECK(cb.terminated());
  // Epoch index 2 and batch index 4, printed 1-based like the progress bar.
  CHECK_THAT(cb.message(), Catch::Contains("Epoch 3") && Catch::Contains("batch 5") && Catch::Contains("nan"));
  CHECK_THAT(out.str(), Catch::Contains(cb.message()));

  FakeModel model2;
  keras::callbacks::TerminateOnNaN<double> cb2(nullptr);
  cb2.set_model(&model2);
  cb2.on_epoch_begin(0, logs);
  Logs inf{{"loss", std::numeric_limits<double>::infinity()}};
  cb2.on_batch_end(0, inf);
  CHECK(model2.stop_training);
  CHECK_THAT(cb2.message(), Catch::Contains("Epoch 1") && Catch::Contains("batch 1") && Catch::Contains("inf"));
}

// ---------------------------------------------------------------------------------------------
// CSVLogger.

TEST_CASE("CSVLogger writes the header and one row per epoch, complete after every epoch", "[callbacks][csv]") {
  const auto dir = fresh_dir("write");
  const auto file = dir / "log.csv";
  FakeModel model;
  keras::callbacks::CSVLogger<double> cb(file);
  cb.set_model(&model);
  Logs begin;
  cb.on_train_begin(begin);
  Logs e0{{"loss", 0.5}, {"val_loss", 0.25}};
  cb.on_epoch_end(0, e0);
  REQUIRE(std::filesystem::exists(file));
  CHECK(slurp(file) == "epoch,loss,val_loss\n0,0.5,0.25\n");
  CHECK(files_in(dir) == 1);  // no temporary file left beside it
  Logs e1{{"loss", 0.25}, {"val_loss", 0.125}};
  cb.on_epoch_end(1, e1);
  CHECK(slurp(file) == "epoch,loss,val_loss\n0,0.5,0.25\n1,0.25,0.125\n");
  CHECK(files_in(dir) == 1);
  Logs end;
  cb.on_train_end(end);
  CHECK(slurp(file) == "epoch,loss,val_loss\n0,0.5,0.25\n1,0.25,0.125\n");

  SECTION("append keeps the previous rows and does not repeat the header") {
    keras::callbacks::CSVLogger<double> again(file, ',', true);
    again.set_model(&model);
    again.on_train_begin(begin);
    Logs e{{"loss", 0.0625}, {"val_loss", 0.75}};
    again.on_epoch_end(0, e);
    CHECK(slurp(file) == "epoch,loss,val_loss\n0,0.5,0.25\n1,0.25,0.125\n0,0.0625,0.75\n");
  }
  SECTION("without append the file is replaced") {
    keras::callbacks::CSVLogger<double> again(file);
    again.set_model(&model);
    again.on_train_begin(begin);
    Logs e{{"loss", 0.0625}, {"val_loss", 0.75}};
    again.on_epoch_end(0, e);
    CHECK(slurp(file) == "epoch,loss,val_loss\n0,0.0625,0.75\n");
  }
  SECTION("append to a file that does not exist yet writes the header") {
    const auto other = dir / "new.csv";
    keras::callbacks::CSVLogger<double> again(other, ';', true);
    again.set_model(&model);
    again.on_train_begin(begin);
    Logs e{{"loss", 2.5}};
    again.on_epoch_end(0, e);
    CHECK(slurp(other) == "epoch;loss\n0;2.5\n");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("CSVLogger refuses a separator that would make the CSV unreadable", "[callbacks][csv]") {
  using Logger = keras::callbacks::CSVLogger<double>;
  REQUIRE_THROWS_AS(Logger("log.csv", '\n'), keras::ValueError);
  REQUIRE_THROWS_WITH(Logger("log.csv", '\n'),
                      Catch::Contains("CSVLogger: separator must not be a line break, a double quote or NUL, "
                                      "received separator='\\n'"));
  REQUIRE_THROWS_WITH(Logger("log.csv", '\r'), Catch::Contains("received separator='\\r'"));
  REQUIRE_THROWS_WITH(Logger("log.csv", '"'), Catch::Contains("received separator='\"'"));
  // read_csv refuses NUL bytes, so a log separated by NUL could not be read back
  REQUIRE_THROWS_AS(Logger("log.csv", '\0'), keras::ValueError);
  REQUIRE_THROWS_WITH(Logger("log.csv", '\0'), Catch::Contains("received separator='\\0'"));
  CHECK_NOTHROW(Logger("log.csv", '\t'));
}

// The message of the IOError that a CSVLogger writing to `path` throws when training begins (the
// test fails if it throws none).
std::string csv_logger_begin_error(const std::filesystem::path& path, bool append = false) {
  FakeModel model;
  keras::callbacks::CSVLogger<double> cb(path, ',', append);
  cb.set_model(&model);
  Logs begin;
  return kerascpp_test::thrown_message<keras::IOError>([&] { cb.on_train_begin(begin); });
}

TEST_CASE("CSVLogger into a missing folder throws an IOError naming the path before training starts",
          "[callbacks][csv]") {
  const auto dir = fresh_dir("missing");
  const auto file = dir / "no_such_folder" / "log.csv";
  CHECK_THAT(csv_logger_begin_error(file),
             Catch::Contains("CSVLogger: cannot write '" + file.string() + "'") &&
                 Catch::Contains("folder '" + (dir / "no_such_folder").string() + "' does not exist"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("CSVLogger refuses an empty path at construction", "[callbacks][csv]") {
  using Logger = keras::callbacks::CSVLogger<double>;
  REQUIRE_THROWS_AS(Logger(""), keras::ValueError);
  REQUIRE_THROWS_WITH(Logger(""), Catch::StartsWith("CSVLogger: filename must not be empty"));
}

TEST_CASE("CSVLogger whose path is a folder throws an IOError before training starts", "[callbacks][csv]") {
  const auto dir = fresh_dir("folder_target");
  CHECK_THAT(csv_logger_begin_error(dir),
             Catch::Contains("CSVLogger: cannot write '" + dir.string() + "'") && Catch::Contains("folder"));
  // appending changes nothing: the folder is refused before it would be read
  CHECK_THAT(csv_logger_begin_error(dir, true), Catch::EndsWith("it is a folder"));
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// LambdaCallback and History.

TEST_CASE("LambdaCallback invokes each function it was given with the hook's arguments", "[callbacks][lambda]") {
  std::vector<std::string> calls;
  keras::callbacks::LambdaCallback<double> cb;
  cb.train_begin = [&](Logs&) { calls.push_back("train_begin"); };
  cb.train_end = [&](Logs& l) { calls.push_back("train_end " + std::to_string(l.size())); };
  cb.epoch_begin = [&](int e, Logs&) { calls.push_back("epoch_begin " + std::to_string(e)); };
  cb.epoch_end = [&](int e, Logs& l) { calls.push_back("epoch_end " + std::to_string(e) + " " + std::to_string(l.at("loss"))); };
  cb.batch_begin = [&](int b, Logs&) { calls.push_back("batch_begin " + std::to_string(b)); };
  cb.batch_end = [&](int b, Logs&) { calls.push_back("batch_end " + std::to_string(b)); };
  Logs none;
  Logs loss{{"loss", 0.5}};
  cb.on_train_begin(none);
  cb.on_epoch_begin(4, none);
  cb.on_batch_begin(0, none);
  cb.on_batch_end(0, none);
  cb.on_epoch_end(4, loss);
  cb.on_train_end(loss);
  CHECK(calls == std::vector<std::string>{"train_begin", "epoch_begin 4", "batch_begin 0", "batch_end 0",
                                          "epoch_end 4 0.500000", "train_end 1"});

  keras::callbacks::LambdaCallback<double> empty;  // unset functions do nothing
  CHECK_NOTHROW(empty.on_epoch_end(0, loss));
}

TEST_CASE("History records every key per epoch and answers min, max, argmin, argmax", "[callbacks][history]") {
  keras::History<double> h;
  const std::vector<double> loss{0.9, 0.5, 0.7, 0.5};
  const std::vector<double> acc{0.1, 0.8, 0.8, 0.6};
  for (int e = 0; e < 4; ++e) {
    Logs logs{{"loss", loss[static_cast<std::size_t>(e)]}, {"accuracy", acc[static_cast<std::size_t>(e)]}};
    h.on_epoch_end(e, logs);
  }
  CHECK(h.epochs() == 4);
  CHECK(h.epoch == std::vector<int>{0, 1, 2, 3});
  CHECK(h.at("loss") == loss);
  CHECK(h.has("accuracy"));
  CHECK_FALSE(h.has("val_loss"));
  CHECK(h.keys() == std::vector<std::string>{"accuracy", "loss"});
  CHECK(h.min("loss") == 0.5);
  CHECK(h.argmin("loss") == 1);  // first of the tied minima
  CHECK(h.max("loss") == 0.9);
  CHECK(h.argmax("loss") == 0);
  CHECK(h.max("accuracy") == 0.8);
  CHECK(h.argmax("accuracy") == 1);
  CHECK(h.argmin("accuracy") == 0);
  REQUIRE_THROWS_AS(h.at("val_loss"), keras::ValueError);
  REQUIRE_THROWS_WITH(h.min("val_loss"), Catch::Contains("val_loss") && Catch::Contains("accuracy, loss"));
  CHECK_THROWS_WITH(h.at("val_loss"), "History: no key 'val_loss'; present keys are: accuracy, loss");
  // Logs (what evaluate returns and callbacks receive) name a missing key the same way, as a ValueError.
  Logs logs{{"loss", 0.5}, {"mae", 0.25}};
  CHECK(logs.at("mae") == 0.25);
  CHECK_THROWS_AS(logs.at("val_loss"), keras::ValueError);
  CHECK_THROWS_WITH(std::as_const(logs).at("val_loss"), "Logs: no key 'val_loss'; present keys are: loss, mae");
  CHECK_THROWS_WITH(Logs().at("loss"), "Logs: no key 'loss'; the logs are empty");
  CHECK_THROWS_WITH(keras::History<double>().at("loss"),
                    "History: no key 'loss'; the History is empty (no epoch ran: epochs <= initial_epoch, or no fit yet)");
  // NaN epochs are skipped wherever they are, as pandas' min and idxmin skip them.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  keras::History<double> gaps;
  for (int e = 0; e < 4; ++e) {
    Logs logs{{"val_loss", std::vector<double>{nan, 0.4, nan, 0.6}[static_cast<std::size_t>(e)]}, {"nan", nan}};
    gaps.on_epoch_end(e, logs);
  }
  CHECK(gaps.argmin("val_loss") == 1);
  CHECK(gaps.min("val_loss") == 0.4);
  CHECK(gaps.argmax("val_loss") == 3);
  CHECK_THROWS_WITH(gaps.min("nan"), Catch::Contains("History: key 'nan' has only NaN values (4 epochs)"));
}

// ---------------------------------------------------------------------------------------------
// Callbacks during a real fit.

namespace {

/// x (n × 3) uniform in [-1, 1] and y = noise unrelated to x: a network can only overfit it, so
/// the validation loss reaches its minimum early and then rises.
void noise_problem(Mat& x, Mat& y, Mat& xv, Mat& yv) {
  keras::Rng rng(42);
  x.resize(40, 3);
  y.resize(40, 1);
  xv.resize(40, 3);
  yv.resize(40, 1);
  for (Mat* m : {&x, &y, &xv, &yv})
    for (Index i = 0; i < m->rows(); ++i)
      for (Index j = 0; j < m->cols(); ++j) (*m)(i, j) = rng.uniform(-1.0, 1.0);
}

}  // namespace

TEST_CASE("Logs, History and a callback's monitor list the keys present through one helper", "[callbacks][errors]") {
  const Logs logs{{"val_mae", 0.5}, {"loss", 0.25}, {"mae", 0.125}};
  CHECK(keras::detail::joined_keys(logs) == "loss, mae, val_mae");
  CHECK(keras::detail::joined_keys(Logs()).empty());
  keras::History<double> h;
  Logs epoch = logs;
  h.on_epoch_end(0, epoch);
  CHECK(keras::detail::joined_keys(h.history) == "loss, mae, val_mae");
  CHECK_THROWS_WITH(h.at("val_loss"), "History: no key 'val_loss'; present keys are: loss, mae, val_mae");
  CHECK_THROWS_WITH(logs.at("acc"), "Logs: no key 'acc'; present keys are: loss, mae, val_mae");
  CHECK_THROWS_WITH(keras::callbacks::monitored(logs, "acc", "EarlyStopping"),
                    "EarlyStopping: monitor 'acc' is not in the logs; available keys are: loss, mae, val_mae");
}

TEST_CASE("EarlyStopping in fit stops a plateauing run and restores the best weights", "[callbacks][fit]") {
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> model{Dense<double>(32, "relu", keras::input_shape{3}), Dense<double>(1)};
  model.set_seed(3);
  model.compile(keras::optimizers::Adam<double>(0.02), "mse");
  EarlyStopping es({.patience = 4, .restore_best_weights = true});
  std::vector<std::vector<Mat>> snapshots;
  keras::callbacks::LambdaCallback<double> snap;
  snap.epoch_end = [&](int, Logs&) { snapshots.push_back(model.get_weights()); };
  const int epochs = 300;
  const auto history = model.fit(x, y, {.batch_size = 8, .epochs = epochs, .verbose = 0, .callbacks = {&es, &snap},
                                        .validation_data = keras::Dataset{xv, yv}});
  REQUIRE(es.stopped_epoch() > 0);
  CHECK(es.stopped_epoch() < epochs - 1);
  CHECK(history.epochs() == static_cast<std::size_t>(es.stopped_epoch() + 1));
  CHECK(snapshots.size() == history.epochs());
  CHECK(es.stopped_epoch() - es.best_epoch() == 4);
  CHECK(static_cast<std::size_t>(es.best_epoch()) == history.argmin("val_loss"));
  CHECK(*es.best() == history.min("val_loss"));

  // The model now holds the best epoch's weights, not the last epoch's.
  const auto restored = model.get_weights();
  const auto& best = snapshots.at(static_cast<std::size_t>(es.best_epoch()));
  REQUIRE(restored.size() == best.size());
  for (std::size_t i = 0; i < best.size(); ++i) CHECK(restored[i] == best[i]);
  CHECK(restored[0] != snapshots.back()[0]);

  keras::Sequential<double> twin{Dense<double>(32, "relu", keras::input_shape{3}), Dense<double>(1)};
  twin.set_weights(best);
  CHECK(model.predict(xv) == twin.predict(xv));
  CHECK(model.evaluate(xv, yv, {.batch_size = 8}).at("loss") ==
        Approx(history.at("val_loss")[static_cast<std::size_t>(es.best_epoch())]).epsilon(1e-12));
}

TEST_CASE("EarlyStopping in fit on a monitor that never appears names the available keys", "[callbacks][fit]") {
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile("sgd", "mse", {"mae"});
  EarlyStopping es;  // monitors val_loss, which is absent without validation data
  REQUIRE_THROWS_AS(model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&es}}), keras::ValueError);
  REQUIRE_THROWS_WITH(model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&es}}),
                      Catch::Contains("val_loss") && Catch::Contains("loss, mae"));
}

TEST_CASE("Callbacks in fit receive 0-based epochs and batches in order", "[callbacks][fit]") {
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile("sgd", "mse");
  std::vector<int> epochs_begun, epochs_ended, batches;
  int train_begin = 0, train_end = 0;
  keras::callbacks::LambdaCallback<double> cb;
  cb.train_begin = [&](Logs&) { ++train_begin; };
  cb.train_end = [&](Logs&) { ++train_end; };
  cb.epoch_begin = [&](int e, Logs&) { epochs_begun.push_back(e); };
  cb.epoch_end = [&](int e, Logs&) { epochs_ended.push_back(e); };
  cb.batch_end = [&](int b, Logs&) { batches.push_back(b); };
  SECTION("from epoch 0") {
    const auto h = model.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .callbacks = {&cb}});
    CHECK(epochs_begun == std::vector<int>{0, 1, 2});
    CHECK(epochs_ended == std::vector<int>{0, 1, 2});
    CHECK(batches == std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2});  // 40 rows: 16, 16, 8
    CHECK(h.epoch == std::vector<int>{0, 1, 2});
    CHECK(train_begin == 1);
    CHECK(train_end == 1);
  }
  SECTION("from initial_epoch 1") {
    const auto h = model.fit(x, y, {.batch_size = 40, .epochs = 3, .verbose = 0, .callbacks = {&cb}, .initial_epoch = 1});
    CHECK(epochs_begun == std::vector<int>{1, 2});
    CHECK(h.epoch == std::vector<int>{1, 2});
    CHECK(h.at("loss").size() == 2);
  }
}

TEST_CASE("A callback serves one running fit at a time, is listed once, and is released when fit ends or throws",
          "[callbacks][fit]") {
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> outer{Dense<double>(1, "linear", keras::input_shape{3})};
  keras::Sequential<double> inner{Dense<double>(1, "linear", keras::input_shape{3})};
  outer.compile("sgd", "mse");
  inner.compile("sgd", "mse");
  EarlyStopping es({.monitor = "loss", .patience = 5});

  // A fit started from a callback of another fit, with the outer fit's EarlyStopping: refused
  // before the inner fit trains, naming the callback's position.
  keras::callbacks::LambdaCallback<double> nest;
  std::string nested_error;
  nest.epoch_end = [&](int, Logs&) {
    try {
      inner.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&es}});
    } catch (const keras::StateError& e) {
      nested_error = e.what();
    }
  };
  const auto h = outer.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&es, &nest}});
  CHECK(nested_error ==
        "fit: callbacks[0] is in use by another fit that is still running (a fit started from a callback, or in another "
        "thread, needs callback objects of its own)");
  CHECK(h.epochs() == 2);  // the outer fit and its EarlyStopping went on undisturbed
  CHECK(es.model() == nullptr);  // released after fit, as Keras detaches its callbacks
  CHECK(inner.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&es}}).epochs() == 1);  // free again

  // The same object twice in one list, and a null entry.
  CHECK_THROWS_WITH(outer.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&nest, &es, &es}}),
                    "fit: callbacks[2] is the same object as an earlier entry of callbacks; each callback can be listed once");
  CHECK_THROWS_AS(outer.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&es, &es}}), keras::ValueError);
  CHECK_THROWS_WITH(outer.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&es, nullptr}}),
                    "fit: callbacks[1] is a null pointer");

  // A fit that ends with an exception releases its callbacks too: they serve the next fit.
  keras::callbacks::LambdaCallback<double> fail;
  fail.epoch_end = [](int, Logs&) { throw std::runtime_error("stop here"); };
  CHECK_THROWS_WITH(outer.fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {&es, &fail}}), "stop here");
  CHECK(es.model() == nullptr);
  CHECK(fail.model() == nullptr);
  CHECK(outer.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&es}}).epochs() == 1);
}

TEST_CASE("History from fit has loss, metrics under the typed names and val_ keys", "[callbacks][fit]") {
  Mat x(8, 2), y(8, 1);
  x << 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1;
  y << 0, 1, 1, 0, 0, 1, 1, 0;
  keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{2}), Dense<double>(1, "sigmoid")};
  SECTION("accuracy keeps its name") {
    model.compile("adam", "binary_crossentropy", {"accuracy"});
    const auto h = model.fit(x, y, {.epochs = 2, .verbose = 0, .validation_split = 0.25});
    CHECK(h.keys() == std::vector<std::string>{"accuracy", "loss", "val_accuracy", "val_loss"});
    for (const auto& key : h.keys()) CHECK(h.at(key).size() == 2);
    for (double a : h.at("accuracy")) CHECK((a >= 0.0 && a <= 1.0));
  }
  SECTION("binary_accuracy and mae") {
    model.compile("adam", "binary_crossentropy", {"binary_accuracy", "mae"});
    const auto h = model.fit(x, y, {.epochs = 1, .verbose = 0, .validation_data = keras::Dataset{x, y}});
    CHECK(h.keys() ==
          std::vector<std::string>{"binary_accuracy", "loss", "mae", "val_binary_accuracy", "val_loss", "val_mae"});
  }
  SECTION("without validation there are no val_ keys") {
    model.compile("adam", "binary_crossentropy", {"acc"});
    const auto h = model.fit(x, y, {.epochs = 1, .verbose = 0});
    CHECK(h.keys() == std::vector<std::string>{"acc", "loss"});
    CHECK(model.history().keys() == h.keys());
  }
}

TEST_CASE("stop_training set from a batch-end callback ends training within the epoch", "[callbacks][fit]") {
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile("sgd", "mse");
  std::vector<int> batches;
  std::vector<double> batch_loss;
  keras::callbacks::LambdaCallback<double> cb;
  cb.batch_end = [&](int b, Logs& logs) {
    batches.push_back(b);
    batch_loss.push_back(logs.at("loss"));
    if (b == 2) model.stop_training = true;
  };
  const auto h = model.fit(x, y, {.batch_size = 4, .epochs = 5, .verbose = 0, .callbacks = {&cb}});
  CHECK(batches == std::vector<int>{0, 1, 2});
  REQUIRE(h.epochs() == 1);
  // The epoch's loss is the running mean over the three batches that ran.
  CHECK(h.at("loss")[0] == batch_loss.back());
  CHECK(model.stop_training);  // left set after fit, as in Keras

  // The next fit starts again: stop_training is reset at the beginning of fit.
  batches.clear();
  cb.batch_end = [&](int b, Logs&) { batches.push_back(b); };
  const auto h2 = model.fit(x, y, {.batch_size = 20, .epochs = 2, .verbose = 0, .callbacks = {&cb}});
  CHECK(h2.epochs() == 2);
  CHECK(batches == std::vector<int>{0, 1, 0, 1});
}

TEST_CASE("ReduceLROnPlateau and LearningRateScheduler in fit change the optimizer and log learning_rate",
          "[callbacks][fit]") {
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile(keras::optimizers::SGD<double>(0.1), "mse");
  keras::callbacks::LearningRateScheduler<double> sched([](int epoch, double) { return 0.1 / (1 << epoch); });
  const auto h = model.fit(x, y, {.batch_size = 40, .epochs = 4, .verbose = 0, .callbacks = {&sched}});
  CHECK(h.at("learning_rate") == std::vector<double>{0.1, 0.05, 0.025, 0.0125});
  CHECK(model.learning_rate() == 0.0125);
  CHECK(model.optimizer().learning_rate() == 0.0125);

  keras::callbacks::ReduceLROnPlateau<double> plateau({.monitor = "loss", .factor = 0.5, .patience = 0,
                                                       .min_delta = 1e9});
  model.compile(keras::optimizers::SGD<double>(0.1), "mse");
  const auto h2 = model.fit(x, y, {.batch_size = 40, .epochs = 3, .verbose = 0, .callbacks = {&plateau}});
  // min_delta 1e9: only the first epoch improves on +inf; each later epoch halves the rate.
  CHECK(h2.at("learning_rate") == std::vector<double>{0.1, 0.1, 0.05});
  CHECK(model.learning_rate() == 0.025);
}

TEST_CASE("CSVLogger refuses to append rows of other columns than the file's header", "[callbacks][csv]") {
  const auto dir = fresh_dir("append_columns");
  const auto file = dir / "log.csv";
  Mat x, y, xv, yv;
  noise_problem(x, y, xv, yv);
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{3})};
  model.compile("sgd", "mse");
  keras::callbacks::CSVLogger<double> first(file);
  model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&first}});
  const std::string before = slurp(file);
  REQUIRE(before.starts_with("epoch,loss\n"));

  keras::callbacks::CSVLogger<double> second(file, ',', true);
  try {
    model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&second}, .validation_split = 0.25});
    FAIL("no IOError was thrown");
  } catch (const keras::IOError& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("CSVLogger: cannot append to '" + file.string() +
                               "': its header is 'epoch,loss' but this fit logs 'epoch,loss,val_loss'"));
  }
  CHECK(slurp(file) == before);
  CHECK_NOTHROW(keras::data::read_csv(file));

  // The same columns append.
  model.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&second}});
  CHECK(slurp(file).starts_with(before));
  CHECK(slurp(file).size() > before.size());
  CHECK_NOTHROW(keras::data::read_csv(file));
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// One rule for every callback that prints: a null stream with verbose > 0 is refused when the
// callback is made, naming the callback and the argument; with verbose 0 it is never written to.

TEST_CASE("callbacks that print refuse a null stream when verbose > 0 and accept it when silent",
          "[callbacks][errors][stream]") {
  using Catch::Contains;
  const auto refused = [](const char* who) {
    return Contains(std::string(who) + ": out must point to a stream when verbose > 0, received a null pointer");
  };
  FakeModel model;

  SECTION("EarlyStopping") {
    REQUIRE_THROWS_AS(EarlyStopping({.verbose = 1, .out = nullptr}), keras::ValueError);
    REQUIRE_THROWS_WITH(EarlyStopping({.verbose = 2, .out = nullptr}), refused("EarlyStopping"));
    EarlyStopping silent({.patience = 0, .verbose = 0, .restore_best_weights = true, .out = nullptr});
    CHECK(drive(silent, model, {1.0, 2.0, 3.0}) == 2);
    CHECK(silent.stopped_epoch() == 1);
  }
  SECTION("ReduceLROnPlateau") {
    using Reduce = keras::callbacks::ReduceLROnPlateau<double>;
    REQUIRE_THROWS_AS(Reduce({.verbose = 1, .out = nullptr}), keras::ValueError);
    REQUIRE_THROWS_WITH(Reduce({.verbose = 1, .out = nullptr}), refused("ReduceLROnPlateau"));
    Reduce silent({.factor = 0.5, .patience = 0, .verbose = 0, .out = nullptr});
    drive(silent, model, {1.0, 2.0, 3.0});
    CHECK(model.lr < 0.1);
  }
  SECTION("ModelCheckpoint") {
    using Checkpoint = keras::callbacks::ModelCheckpoint<double>;
    REQUIRE_THROWS_AS(Checkpoint("m.kcpp", "val_loss", 1, false, false, "auto", nullptr), keras::ValueError);
    REQUIRE_THROWS_WITH(Checkpoint("m.kcpp", "val_loss", 1, false, false, "auto", nullptr), refused("ModelCheckpoint"));
    CHECK_NOTHROW(Checkpoint("m.kcpp", "val_loss", 0, false, false, "auto", nullptr));
    REQUIRE_THROWS_WITH(Checkpoint("m.kcpp", {.verbose = 1, .out = nullptr}), refused("ModelCheckpoint"));
    CHECK_NOTHROW(Checkpoint("m.kcpp", {.verbose = 0, .out = nullptr}));
  }
  SECTION("ProgbarLogger") {
    using Progbar = keras::callbacks::ProgbarLogger<double>;
    std::ostream* none = nullptr;
    REQUIRE_THROWS_AS(Progbar(1, 2, 4, none, false), keras::ValueError);
    REQUIRE_THROWS_WITH(Progbar(2, 2, 4, none, false), refused("ProgbarLogger"));
    Progbar silent(0, 2, 4, none, true);
    Logs logs{{"loss", 0.5}};
    silent.on_epoch_begin(0, logs);
    silent.on_batch_end(0, logs);
    silent.on_epoch_end(0, logs);
    std::ostringstream out;
    Progbar loud(2, 2, 4, &out, false);
    loud.on_epoch_begin(0, logs);
    loud.on_epoch_end(0, logs);
    CHECK_THAT(out.str(), Contains("Epoch 1/2") && Contains("loss: 0.5000"));
  }
  SECTION("TerminateOnNaN has no verbose argument: its stream is optional and null prints nothing") {
    keras::callbacks::TerminateOnNaN<double> quiet(nullptr);
    quiet.set_model(&model);
    Logs logs{{"loss", std::numeric_limits<double>::quiet_NaN()}};
    quiet.on_batch_end(0, logs);
    CHECK(quiet.terminated());
    CHECK(model.stop_training);
  }
}

TEST_CASE("ModelCheckpoint takes its arguments by name or in Keras's order, with the same meaning",
          "[callbacks][checkpoint]") {
  const auto dir = fresh_dir("checkpoint_options");
  keras::Sequential<double> model{Dense<double>(2, "relu", keras::input_shape{3}), Dense<double>(1)};
  model.compile("adam", "mse");
  using Checkpoint = keras::callbacks::ModelCheckpoint<double>;
  // Losses 3, 1, 2 by epoch: only the first two improve. The named form and the positional form
  // (monitor "loss", save_best_only) save the same epochs; the default saves every epoch.
  Checkpoint named(dir / "named-{epoch}.kcpp", {.monitor = "loss", .save_best_only = true});
  Checkpoint positional(dir / "positional-{epoch}.kcpp", "loss", 0, true);
  Checkpoint every(dir / "every-{epoch}.kcpp", {.monitor = "loss"});
  Checkpoint defaults(dir / "defaults-{epoch}.kcpp");
  for (Checkpoint* c : {&named, &positional, &every, &defaults}) c->set_model(&model);
  for (int epoch = 0; epoch < 3; ++epoch) {
    Logs logs{{"loss", std::vector<double>{3.0, 1.0, 2.0}[static_cast<std::size_t>(epoch)]}, {"val_loss", 5.0 - epoch}};
    for (Checkpoint* c : {&named, &positional, &every, &defaults}) c->on_epoch_end(epoch, logs);
  }
  CHECK(named.saved_paths() == std::vector<std::filesystem::path>{dir / "named-1.kcpp", dir / "named-2.kcpp"});
  CHECK(positional.saved_paths() == std::vector<std::filesystem::path>{dir / "positional-1.kcpp", dir / "positional-2.kcpp"});
  CHECK(named.best() == 1.0);
  CHECK(named.best_epoch() == 1);
  CHECK(every.saved_paths().size() == 3);
  CHECK(defaults.saved_paths().size() == 3);
  // save_best_only on the default monitor (val_loss: 5, 4, 3) saves every epoch; mode "max" on it only the first.
  Checkpoint best_val(dir / "val-{epoch}.kcpp", {.save_best_only = true});
  Checkpoint max_val(dir / "max-{epoch}.kcpp", {.save_best_only = true, .mode = "max"});
  for (Checkpoint* c : {&best_val, &max_val}) c->set_model(&model);
  for (int epoch = 0; epoch < 3; ++epoch) {
    Logs logs{{"loss", 1.0}, {"val_loss", 5.0 - epoch}};
    best_val.on_epoch_end(epoch, logs);
    max_val.on_epoch_end(epoch, logs);
  }
  CHECK(best_val.saved_paths().size() == 3);
  CHECK(max_val.saved_paths().size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("ModelCheckpoint saves through ModelInterface", "[callbacks][checkpoint]") {
  const auto dir = fresh_dir("checkpoint_seam");
  FakeModel model;
  keras::callbacks::ModelCheckpoint<double> checkpoint(dir / "m.kcpp", "loss");
  checkpoint.set_model(&model);
  Logs logs{{"loss", 1.0}};
  CHECK_THROWS_WITH(checkpoint.on_epoch_end(0, logs), Catch::Contains("only Sequential models can be saved"));
  CHECK_THROWS_AS(model.save(dir / "x.kcpp"), keras::StateError);  // a FakeModel is not a Sequential

  keras::Sequential<double> real{Dense<double>(2, "relu", keras::input_shape{3}), Dense<double>(1)};
  real.compile("adam", "mse");
  keras::ModelInterface<double>& seen = real;
  seen.save(dir / "whole.kcpp");
  seen.save_weights(dir / "weights.kcpp");
  auto loaded = keras::load_model<double>(dir / "whole.kcpp");
  const Mat x = Mat::Random(4, 3);
  CHECK((loaded.predict(x) - real.predict(x)).cwiseAbs().maxCoeff() == 0.0);
  keras::Sequential<double> other{Dense<double>(2, "relu", keras::input_shape{3}), Dense<double>(1)};
  other.load_weights(dir / "weights.kcpp");
  CHECK((other.predict(x) - real.predict(x)).cwiseAbs().maxCoeff() == 0.0);
  std::filesystem::remove_all(dir);
}

}  // namespace test_callbacks
