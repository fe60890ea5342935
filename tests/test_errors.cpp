// Misuse: every mistake throws the right exception type (ValueError for bad arguments and data,
// StateError for calls in the wrong state) with a message that says what was wrong. Also the cases
// Keras allows (a batch larger than the data, zero epochs) and NaN appearing during training.
#include "gradient_check.hpp"

#include <catch2/catch.hpp>

#include <kerascpp/kerascpp.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_errors {

namespace keras = kerascpp;
using namespace keras::layers;
using Catch::Contains;
using Catch::StartsWith;
using Catch::EndsWith;
using keras::Index;
using keras::Logs;
using kerascpp_test::thrown_message;
using Mat = keras::Matrix<double>;
using Vec = keras::Vector<double>;

namespace {

Mat uniform(Index rows, Index cols, std::uint64_t seed) {
  keras::Rng rng(seed);
  Mat m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.uniform(0.0, 1.0);
  return m;
}

keras::Sequential<double> compiled(Index inputs = 2, Index outputs = 1, const std::string& loss = "mse") {
  keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{inputs}), Dense<double>(outputs)};
  model.compile("sgd", loss);
  return model;
}

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

}  // namespace

// ---------------------------------------------------------------------------------------------
// Layers, names and options.

TEST_CASE("Dense refuses non-positive units", "[errors][layers]") {
  REQUIRE_THROWS_AS(Dense<double>(0), keras::ValueError);
  REQUIRE_THROWS_WITH(Dense<double>(0), Contains("units must be positive") && Contains("units=0"));
  REQUIRE_THROWS_WITH(Dense<float>(-3, "relu"), Contains("units=-3"));
}

TEST_CASE("Dropout refuses a rate below 0 or not below 1", "[errors][layers]") {
  REQUIRE_THROWS_AS(Dropout<double>(1.0), keras::ValueError);
  REQUIRE_THROWS_WITH(Dropout<double>(1.0), Contains("[0, 1)") && Contains("rate=1"));
  REQUIRE_THROWS_WITH(Dropout<double>(-0.1), Contains("rate=-0.1"));
  REQUIRE_THROWS_AS(Dropout<double>(not_a_number), keras::ValueError);
  CHECK_NOTHROW(Dropout<double>(0.0));
  CHECK_NOTHROW(Dropout<double>(0.999));
}

TEST_CASE("BatchNormalization refuses a momentum outside 0 to 1 and a non-positive epsilon", "[errors][layers]") {
  REQUIRE_THROWS_AS(BatchNormalization<double>(1.5), keras::ValueError);
  REQUIRE_THROWS_WITH(BatchNormalization<double>(1.5), Contains("momentum=1.5"));
  REQUIRE_THROWS_WITH(BatchNormalization<double>(0.99, 0.0), Contains("epsilon must be positive"));
}

TEST_CASE("Unknown names list the valid ones", "[errors][names]") {
  SECTION("activation") {
    REQUIRE_THROWS_AS(Dense<double>(4, "rellu"), keras::ValueError);
    REQUIRE_THROWS_WITH(Dense<double>(4, "rellu"), Contains("unknown activation 'rellu'") &&
                                                       Contains("linear, relu, sigmoid, tanh, softmax"));
    REQUIRE_THROWS_WITH(Activation<double>("Relu"), Contains("unknown activation 'Relu' (did you mean 'relu'?)"));
    REQUIRE_THROWS_WITH(Dense<double>(4, "rellu"), StartsWith("unknown activation 'rellu' (did you mean 'relu'?); valid names"));
    REQUIRE_THROWS_WITH(Dense<double>(4, "softsign"), StartsWith("unknown activation 'softsign'; valid names"));  // too far
  }
  SECTION("loss") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
    REQUIRE_THROWS_AS(model.compile("adam", "maee"), keras::ValueError);
    REQUIRE_THROWS_WITH(model.compile("adam", "maee"), StartsWith("unknown loss 'maee' (did you mean 'mae'?); valid") &&
                                                           Contains("mae") &&
                                                           Contains("binary_crossentropy") &&
                                                           Contains("sparse_categorical_crossentropy"));
  }
  SECTION("optimizer") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
    REQUIRE_THROWS_AS(model.compile("adamm", "mae"), keras::ValueError);
    REQUIRE_THROWS_WITH(model.compile("adamm", "mae"),
                        Contains("unknown optimizer 'adamm' (did you mean 'Adam'?)") &&
                            Contains("SGD, Adam, AdamW, RMSprop, Adagrad"));
    REQUIRE_THROWS_WITH(model.compile("adma", "mae"), StartsWith("unknown optimizer 'adma' (did you mean 'Adam'?)"));
    REQUIRE_THROWS_WITH(model.compile("rmsporp", "mae"), StartsWith("unknown optimizer 'rmsporp' (did you mean 'RMSprop'?)"));
    CHECK_NOTHROW(model.compile("Adam", "mae"));  // Keras resolves optimizer names case-insensitively
  }
  SECTION("metric") {
    keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
    REQUIRE_THROWS_AS(model.compile("adam", "mae", {"acuracy"}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.compile("adam", "mae", {"acuracy"}),
                        Contains("unknown metric 'acuracy' (did you mean 'accuracy'?)") &&
                            Contains("accuracy, acc, binary_accuracy"));
  }
  SECTION("initializer") {
    REQUIRE_THROWS_WITH(Dense<double>(4, "relu", {}, true, "glorot"),
                        StartsWith("unknown initializer 'glorot'; valid names are") && Contains("glorot_uniform"));
    REQUIRE_THROWS_WITH(Dense<double>(4, "relu", {}, true, "he_uniferm"),
                        StartsWith("unknown initializer 'he_uniferm' (did you mean 'he_uniform'?)"));
  }
}

TEST_CASE("An unknown name of 10000 characters is cut in the message", "[errors][names]") {
  const std::string huge(10000, 'q');
  const std::string cut = "'" + std::string(80, 'q') + "...' (10000 bytes)";
  const auto check = [&](const std::string& message, const std::string& start) {
    CHECK(message.size() < 2000);
    CHECK_THAT(message, StartsWith(start + cut));
  };
  check(thrown_message<keras::ValueError>([&] { keras::optimizers::get<double>(huge); }), "unknown optimizer ");
  check(thrown_message<keras::ValueError>([&] { keras::losses::get<double>(huge); }), "unknown loss ");
  // the activation registry's lookup
  check(thrown_message<keras::ValueError>([&] { Dense<double>(4, huge); }), "unknown activation ");
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
  check(thrown_message<keras::ValueError>([&] { model.compile(huge, "mae"); }), "unknown optimizer ");
  model.compile("sgd", "mse");
  const Mat x = Mat::Constant(4, 2, 0.5), y = Mat::Constant(4, 1, 0.25);
  keras::callbacks::EarlyStopping<double> es({.monitor = huge});
  const std::string monitor =
      thrown_message<keras::ValueError>([&] { model.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&es}}); });
  CHECK(monitor.size() < 2000);
  CHECK_THAT(monitor, Contains("EarlyStopping: monitor " + cut + " is not in the logs"));
}

TEST_CASE("compile refuses metric names that collide in History", "[errors][names]") {
  keras::Sequential<double> model{Dense<double>(1, "sigmoid", keras::input_shape{2})};
  using keras::metrics::AUC;
  REQUIRE_THROWS_AS(model.compile("adam", "binary_crossentropy", {AUC<double>(200, "ROC", "interpolation", "loss")}),
                    keras::ValueError);
  REQUIRE_THROWS_WITH(model.compile("adam", "binary_crossentropy", {AUC<double>(200, "ROC", "interpolation", "loss")}),
                      Contains("compile: metric 0 is named 'loss', which History reserves for the loss"));
  REQUIRE_THROWS_WITH(
      model.compile("adam", "binary_crossentropy",
                    {AUC<double>(200, "ROC", "interpolation", "x"), AUC<double>(100, "PR", "interpolation", "x")}),
      Contains("compile: metrics 0 and 1 are both named 'x'; expected unique names"));
  REQUIRE_THROWS_WITH(model.compile("adam", "mse", {"mse", "mae", "mae"}),
                      Contains("compile: metrics 1 and 2 are both named 'mae'"));
  REQUIRE_THROWS_WITH(model.compile("adam", "mse", {AUC<double>(200, "ROC", "interpolation", "")}),
                      Contains("compile: metric 0 has an empty name; expected a non-empty name"));
  REQUIRE_THROWS_WITH(model.compile("adam", "mse", {"mae", AUC<double>(200, "ROC", "interpolation", "val_auc")}),
                      Contains("compile: metric 1 is named 'val_auc', but names starting with 'val_' are reserved"));
  // Per-class keys of an F1Score without an average are checked when fit first sees the data.
  keras::Sequential<double> three{Dense<double>(3, "softmax", keras::input_shape{2})};
  three.compile("adam", "categorical_crossentropy",
                {keras::metrics::F1Score<double>(std::nullopt, std::nullopt, "f1"),
                 keras::metrics::F1Score<double>("macro", std::nullopt, "f1_1")});
  Mat y = Mat::Zero(4, 3);
  for (Index i = 0; i < 4; ++i) y(i, i % 3) = 1.0;
  REQUIRE_THROWS_WITH(three.fit(uniform(4, 2, 1), y, {.verbose = 0}),
                      StartsWith("fit: metric values 1 and 3 are both named 'f1_1'"));
  model.compile("adam", "binary_crossentropy", {AUC<double>(200, "ROC", "interpolation", "auc_roc"), "auc"});
  Mat yb(4, 1);
  yb << 0, 1, 0, 1;
  const auto h = model.fit(uniform(4, 2, 2), yb, {.epochs = 1, .verbose = 0});
  CHECK(h.history.count("auc_roc") == 1);
  CHECK(h.history.count("auc") == 1);
}

TEST_CASE("Optimizer and callback options are checked", "[errors][options]") {
  REQUIRE_THROWS_AS(keras::optimizers::Adam<double>(-0.1), keras::ValueError);
  REQUIRE_THROWS_WITH(keras::optimizers::Adam<double>(-0.1), Contains("learning_rate") && Contains("-0.1"));
  REQUIRE_THROWS_WITH(keras::optimizers::Adam<double>(0.001, 1.0), Contains("beta_1"));
  REQUIRE_THROWS_WITH(keras::optimizers::SGD<double>(0.01, 1.5), Contains("momentum=1.5"));
  REQUIRE_THROWS_WITH(keras::regularizers::l2(-1.0), Contains("l2"));
  REQUIRE_THROWS_AS(keras::callbacks::LearningRateScheduler<double>(nullptr), keras::ValueError);
  auto model = compiled();
  REQUIRE_THROWS_WITH(model.set_learning_rate(not_a_number), Contains("learning_rate"));
}

// ---------------------------------------------------------------------------------------------
// State.

TEST_CASE("fit, evaluate and train_on_batch before compile throw StateError", "[errors][state]") {
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
  const Mat x = uniform(4, 2, 1), y = uniform(4, 1, 2);
  REQUIRE_THROWS_AS(model.fit(x, y), keras::StateError);
  REQUIRE_THROWS_WITH(model.fit(x, y), Contains("fit") && Contains("compile"));
  REQUIRE_THROWS_AS(model.evaluate(x, y), keras::StateError);
  REQUIRE_THROWS_AS(model.train_on_batch(x, y), keras::StateError);
  REQUIRE_THROWS_AS(model.learning_rate(), keras::StateError);
  CHECK_NOTHROW(model.predict(x));  // a built model predicts without being compiled, as in Keras
}

TEST_CASE("predict, set_weights and compile on a model that cannot run throw StateError", "[errors][state]") {
  keras::Sequential<double> unbuilt{Dense<double>(3), Dense<double>(1)};
  const Mat x = uniform(4, 2, 3);
  REQUIRE_THROWS_AS(unbuilt.predict(x), keras::StateError);
  REQUIRE_THROWS_WITH(unbuilt.predict(x), Contains("not built") && Contains("input_shape"));
  REQUIRE_THROWS_AS(unbuilt.set_weights({}), keras::StateError);
  keras::Sequential<double> empty;
  REQUIRE_THROWS_AS(empty.compile("sgd", "mse"), keras::StateError);
  REQUIRE_THROWS_WITH(empty.predict(x), Contains("no layers"));
}

TEST_CASE("A built model refuses another input width", "[errors][state]") {
  keras::Sequential<double> model{Dense<double>(3, "relu", keras::input_shape{2}), Dense<double>(1)};
  REQUIRE_THROWS_AS(model.build(5), keras::ValueError);
  REQUIRE_THROWS_WITH(model.build(5), Contains("built for input width 2") && Contains("5"));
  REQUIRE_THROWS_WITH(model.predict(uniform(3, 5, 4)), Contains("x has 5 columns") && Contains("input width 2"));
}

// ---------------------------------------------------------------------------------------------
// fit arguments and data.

TEST_CASE("fit checks its options", "[errors][fit]") {
  auto model = compiled();
  const Mat x = uniform(10, 2, 5), y = uniform(10, 1, 6);
  SECTION("batch_size 0") {
    REQUIRE_THROWS_AS(model.fit(x, y, {.batch_size = 0, .verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.batch_size = 0, .verbose = 0}), Contains("batch_size must be positive") &&
                                                                              Contains("batch_size=0"));
    REQUIRE_THROWS_WITH(model.evaluate(x, y, {.batch_size = 0}), Contains("batch_size=0"));
    REQUIRE_THROWS_WITH(model.predict(x, -1), Contains("batch_size=-1"));
  }
  SECTION("negative epochs") {
    REQUIRE_THROWS_AS(model.fit(x, y, {.epochs = -1, .verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.epochs = -1, .verbose = 0}), Contains("epochs=-1"));
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .initial_epoch = -2}), Contains("initial_epoch") &&
                                                                                 Contains("-2"));
  }
  SECTION("validation_split outside [0, 1)") {
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0, .validation_split = 1.0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .validation_split = 1.0}),
                        Contains("validation_split must be in [0, 1)") && Contains("validation_split=1"));
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .validation_split = -0.5}), Contains("validation_split=-0.5"));
    // A split that leaves one side empty.
    REQUIRE_THROWS_WITH(model.fit(x.topRows(1), y.topRows(1), {.verbose = 0, .validation_split = 0.5}),
                        Contains("validation_split=0.5") && Contains("non-empty"));
  }
  SECTION("verbose") {
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 3}), Contains("verbose=3"));
  }
  SECTION("sample_weight") {
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0, .sample_weight = Vec::Ones(3)}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .sample_weight = Vec::Ones(3)}),
                        Contains("sample_weight has 3 entries but x has 10 rows"));
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .sample_weight = -Vec::Ones(10)}), Contains("non-negative"));
    REQUIRE_THROWS_WITH(model.evaluate(x, y, {.sample_weight = Vec::Ones(11)}),
                        Contains("sample_weight has 11 entries but x has 10 rows"));
  }
  SECTION("class_weight without an entry for a class present in y") {
    Mat labels = Mat::Zero(10, 1);
    labels(7, 0) = 1.0;
    REQUIRE_THROWS_WITH(model.fit(x, labels, {.verbose = 0, .class_weight = {{0, 1.0}}}),
                        Contains("class_weight") && Contains("class 1") && Contains("row 7"));
  }
  SECTION("a null callback or output stream") {
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .callbacks = {nullptr}}), Contains("null"));
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .out = nullptr}), Contains("out"));
  }
}

TEST_CASE("fit checks that x and y agree with each other and with the model", "[errors][fit]") {
  SECTION("row counts differ") {
    keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{11}), Dense<double>(1)};
    model.compile("adam", "mae");
    const Mat x = uniform(1119, 11, 7), y = uniform(1118, 1, 8);
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}), Contains("fit: x has 1119 rows but y has 1118"));
    REQUIRE_THROWS_WITH(model.evaluate(x, y), Contains("evaluate: x has 1119 rows but y has 1118"));
  }
  SECTION("x width differs from the model's input width") {
    keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{11}), Dense<double>(1)};
    model.compile("adam", "mae");
    const Mat x = uniform(5, 10, 9), y = uniform(5, 1, 10);
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}),
                        Contains("x has 10 columns but the model expects input width 11"));
  }
  SECTION("y width differs from the output width") {
    auto model = compiled(2, 1);
    REQUIRE_THROWS_WITH(model.fit(uniform(5, 2, 11), uniform(5, 2, 12), {.verbose = 0}),
                        Contains("y has 2 column(s) but the model output has 1"));
  }
  SECTION("binary_crossentropy on a 3-unit output with 1-column y") {
    auto model = compiled(2, 3, "binary_crossentropy");
    const Mat x = uniform(5, 2, 13);
    const Mat y = Mat::Zero(5, 1);
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}), Contains("binary_crossentropy") &&
                                                             Contains("y has 1 column(s)") &&
                                                             Contains("output has 3"));
  }
  SECTION("empty training data") {
    auto model = compiled();
    REQUIRE_THROWS_AS(model.fit(Mat(0, 2), Mat(0, 1), {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(Mat(0, 2), Mat(0, 1), {.verbose = 0}), Contains("x is empty (0 rows)"));
  }
}

TEST_CASE("NaN or infinity in x or y names the first row and column", "[errors][fit]") {
  auto model = compiled();
  Mat x = uniform(6, 2, 14), y = uniform(6, 1, 15);
  SECTION("NaN in x") {
    x(3, 1) = not_a_number;
    x(4, 0) = not_a_number;
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}),
                        Contains("x must be finite") && Contains("nan") && Contains("row 3, column 1"));
    REQUIRE_THROWS_WITH(model.predict(x), Contains("predict") && Contains("row 3, column 1"));
    // NaN is usually a missing value: the message says how to deal with it; infinity gets no such hint.
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}),
                        EndsWith("row 3, column 1; NaN often marks a missing value of the data: drop or fill those rows "
                                 "first (DataFrame::dropna, DataFrame::fillna)"));
  }
  SECTION("infinity in y") {
    y(5, 0) = -infinity;
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}),
                        Contains("y must be finite") && Contains("inf") && Contains("row 5, column 0"));
    REQUIRE_THROWS_WITH(model.train_on_batch(x, y), EndsWith("row 5, column 0"));
  }
  SECTION("in validation_data") {
    Mat xv = x;
    xv(2, 0) = infinity;
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .validation_data = keras::Dataset{xv, y}}),
                        Contains("validation_data") && Contains("row 2, column 0"));
  }
}

TEST_CASE("check_finite ends its message with the hint for NaN only, and data read with strides gets the same hint",
          "[errors][fit]") {
  Mat m = Mat::Ones(3, 2);
  CHECK_NOTHROW(keras::detail::check_finite(m, "here", "m", "; a hint"));
  m(2, 1) = not_a_number;
  CHECK_THROWS_WITH(keras::detail::check_finite(m, "here", "m", "; a hint"),
                    "here: m must be finite, received nan at row 2, column 1; a hint");
  CHECK_THROWS_WITH(keras::detail::check_finite(m, "here", "m"), "here: m must be finite, received nan at row 2, column 1");
  m(2, 1) = infinity;
  CHECK_THROWS_WITH(keras::detail::check_finite(m, "here", "m", "; a hint"),
                    "here: m must be finite, received inf at row 2, column 1");
  // Every other row of a wider matrix: a strided view, which skips the contiguous pass.
  auto model = compiled();
  Mat wide = uniform(12, 3, 18), y = uniform(6, 1, 19);
  wide(6, 0) = not_a_number;
  const Eigen::Map<const Mat, 0, Eigen::Stride<24, 2>> x(wide.data(), 6, 2);
  REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}),
                      EndsWith("x must be finite, received nan at row 3, column 0; NaN often marks a missing value of "
                               "the data: drop or fill those rows first (DataFrame::dropna, DataFrame::fillna)"));
}

TEST_CASE("Labels outside what the loss accepts name the row", "[errors][fit]") {
  SECTION("binary_crossentropy needs labels in [0, 1]") {
    auto model = compiled(2, 1, "binary_crossentropy");
    const Mat x = uniform(6, 2, 16);
    Mat y = Mat::Zero(6, 1);
    y(4, 0) = 2.0;
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}),
                        Contains("labels must be in [0, 1]") && Contains("received 2") && Contains("row 4"));
    y(4, 0) = -0.5;
    REQUIRE_THROWS_WITH(model.evaluate(x, y), Contains("row 4"));
  }
  SECTION("sparse_categorical_crossentropy needs integer class indices") {
    keras::Sequential<double> model{Dense<double>(3, "softmax", keras::input_shape{2})};
    model.compile("adam", "sparse_categorical_crossentropy");
    const Mat x = uniform(4, 2, 17);
    Mat y(4, 1);
    y << 0, 1, 3, 2;
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}), Contains("integers in [0, 3)") && Contains("row 2"));
    y(2, 0) = 1.5;
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0}), Contains("1.5") && Contains("row 2"));
  }
}

TEST_CASE("A validation set that does not fit the model is refused", "[errors][fit]") {
  auto model = compiled();
  const Mat x = uniform(6, 2, 18), y = uniform(6, 1, 19);
  SECTION("different width") {
    const Mat xv = uniform(3, 3, 20), yv = uniform(3, 1, 21);
    REQUIRE_THROWS_AS(model.fit(x, y, {.verbose = 0, .validation_data = keras::Dataset{xv, yv}}), keras::ValueError);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .validation_data = keras::Dataset{xv, yv}}),
                        Contains("validation_data") && Contains("x has 3 columns") && Contains("input width 2"));
  }
  SECTION("different target width") {
    const Mat xv = uniform(3, 2, 22), yv = uniform(3, 2, 23);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .validation_data = keras::Dataset{xv, yv}}),
                        Contains("validation_data y has 2 columns but y has 1"));
  }
  SECTION("different row counts") {
    const Mat xv = uniform(3, 2, 24), yv = uniform(2, 1, 25);
    REQUIRE_THROWS_WITH(model.fit(x, y, {.verbose = 0, .validation_data = keras::Dataset{xv, yv}}),
                        Contains("validation_data") && Contains("x has 3 rows but y has 2"));
  }
}

TEST_CASE("An EarlyStopping monitor that never appears in the logs lists the available keys", "[errors][fit]") {
  auto model = compiled();
  model.compile("sgd", "mse", {"mae"});
  const Mat x = uniform(6, 2, 26), y = uniform(6, 1, 27);
  keras::callbacks::EarlyStopping<double> es({.monitor = "val_accuracy", .patience = 2});
  REQUIRE_THROWS_AS(model.fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {&es}, .validation_split = 0.5}),
                    keras::ValueError);
  REQUIRE_THROWS_WITH(model.fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {&es}, .validation_split = 0.5}),
                      EndsWith("monitor 'val_accuracy' is not in the logs; available keys are: loss, mae, val_loss, val_mae"));
  // Without validation a val_ monitor cannot appear: the message says where val_ keys come from.
  keras::callbacks::EarlyStopping<double> es_val({.monitor = "val_loss"});
  REQUIRE_THROWS_WITH(model.fit(x, y, {.epochs = 3, .verbose = 0, .callbacks = {&es_val}}),
                      EndsWith("monitor 'val_loss' is not in the logs; available keys are: loss, mae (the val_ keys come "
                               "from validation: pass validation_data or validation_split to fit)"));
}

TEST_CASE("A monitor one typo away from a logged key suggests it", "[errors][fit]") {
  auto model = compiled();
  model.compile("sgd", "mse", {"mae"});
  const Mat x = uniform(6, 2, 26), y = uniform(6, 1, 27);
  keras::callbacks::EarlyStopping<double> es({.monitor = "val_mea"});
  REQUIRE_THROWS_AS(model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&es}, .validation_split = 0.5}),
                    keras::ValueError);
  REQUIRE_THROWS_WITH(model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&es}, .validation_split = 0.5}),
                      EndsWith("EarlyStopping: monitor 'val_mea' is not in the logs (did you mean 'val_mae'?); "
                               "available keys are: loss, mae, val_loss, val_mae"));
  keras::callbacks::ReduceLROnPlateau<double> plateau({.monitor = "Loss"});
  REQUIRE_THROWS_WITH(model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&plateau}}),
                      EndsWith("ReduceLROnPlateau: monitor 'Loss' is not in the logs (did you mean 'loss'?); "
                               "available keys are: learning_rate, loss, mae"));
}

TEST_CASE("set_weights with the wrong count or shapes names what was expected", "[errors][weights]") {
  keras::Sequential<double> model{Dense<double>(4, "relu", keras::input_shape{2}), Dense<double>(1)};
  auto w = model.get_weights();
  REQUIRE(w.size() == 4);
  const auto before = model.get_weights();
  SECTION("count") {
    w.pop_back();
    REQUIRE_THROWS_AS(model.set_weights(w), keras::ValueError);
    REQUIRE_THROWS_WITH(model.set_weights(w), Contains("expected 4 weight matrices, received 3"));
  }
  SECTION("shape") {
    w[2] = Mat::Zero(1, 4);
    REQUIRE_THROWS_AS(model.set_weights(w), keras::ValueError);
    REQUIRE_THROWS_WITH(model.set_weights(w), Contains("weight 2") && Contains("dense_1/kernel") &&
                                                  Contains("(4, 1)") && Contains("received (1, 4)"));
  }
  SECTION("NaN or infinity") {
    w[0](1, 2) = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_WITH(model.set_weights(w), Contains("set_weights: weight 0 (dense/kernel) must be finite, received nan at row 1, column 2"));
    w[0](1, 2) = 0.5;
    w[3](0, 0) = -std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_WITH(model.set_weights(w), Contains("weight 3 (dense_1/bias) must be finite, received -inf"));
  }
  // A refused set_weights changes nothing.
  const auto after = model.get_weights();
  for (std::size_t i = 0; i < before.size(); ++i) CHECK(after[i] == before[i]);
}

// ---------------------------------------------------------------------------------------------
// Allowed cases.

TEST_CASE("A batch larger than the data and zero epochs are allowed", "[errors][allowed]") {
  auto model = compiled();
  const Mat x = uniform(5, 2, 28), y = uniform(5, 1, 29);
  int batches = 0;
  keras::callbacks::LambdaCallback<double> count;
  count.batch_end = [&](int, Logs&) { ++batches; };
  const auto h = model.fit(x, y, {.batch_size = 64, .epochs = 1, .verbose = 0, .callbacks = {&count}});
  CHECK(batches == 1);
  CHECK(h.epochs() == 1);
  const auto none = model.fit(x, y, {.epochs = 0, .verbose = 0});
  CHECK(none.epochs() == 0);
  CHECK(none.history.empty());
  CHECK(model.evaluate(x, y, {.batch_size = 1000}).count("loss") == 1);
  CHECK(model.predict(x, 1000).rows() == 5);
}

// ---------------------------------------------------------------------------------------------
// NaN produced during training.

namespace {

/// SGD with a learning rate far too large: the weights grow by a factor of about 60 per step
/// until the loss overflows to infinity and then becomes NaN.
keras::Sequential<double> diverging() {
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
  model.set_seed(1);
  model.compile(keras::optimizers::SGD<double>(100.0), "mse");
  return model;
}

}  // namespace

TEST_CASE("Without TerminateOnNaN a diverging fit returns normally and History records NaN", "[errors][nan]") {
  auto model = diverging();
  const Mat x = uniform(64, 2, 30), y = uniform(64, 1, 31);
  std::vector<double> batch_losses;
  keras::callbacks::LambdaCallback<double> rec;
  rec.batch_end = [&](int, Logs& logs) { batch_losses.push_back(logs.at("loss")); };
  keras::History<double> h;
  REQUIRE_NOTHROW(h = model.fit(x, y, {.batch_size = 8, .epochs = 40, .verbose = 0, .callbacks = {&rec}}));
  REQUIRE(h.epochs() == 40);
  CHECK(std::isfinite(h.at("loss").front()));
  CHECK(std::isnan(h.at("loss").back()));
  CHECK(batch_losses.size() == 40 * 8);
}

TEST_CASE("TerminateOnNaN stops a diverging fit at the first bad batch and names epoch and batch", "[errors][nan]") {
  const Mat x = uniform(64, 2, 30), y = uniform(64, 1, 31);
  // Where the loss first stops being finite, found by a run without TerminateOnNaN.
  int bad_epoch = -1, bad_batch = -1;
  {
    auto model = diverging();
    int epoch = 0;
    keras::callbacks::LambdaCallback<double> find;
    find.epoch_begin = [&](int e, Logs&) { epoch = e; };
    find.batch_end = [&](int b, Logs& logs) {
      if (bad_epoch < 0 && !std::isfinite(logs.at("loss"))) {
        bad_epoch = epoch;
        bad_batch = b;
      }
    };
    model.fit(x, y, {.batch_size = 8, .epochs = 40, .verbose = 0, .callbacks = {&find}});
  }
  REQUIRE(bad_epoch > 0);

  auto model = diverging();
  std::ostringstream out;
  keras::callbacks::TerminateOnNaN<double> stop(&out);
  int batches = 0;
  keras::callbacks::LambdaCallback<double> count;
  count.batch_end = [&](int, Logs&) { ++batches; };
  const auto h = model.fit(x, y, {.batch_size = 8, .epochs = 40, .verbose = 0, .callbacks = {&stop, &count}});
  CHECK(stop.terminated());
  CHECK(h.epochs() == static_cast<std::size_t>(bad_epoch + 1));
  CHECK(batches == bad_epoch * 8 + bad_batch + 1);
  const std::string epoch_text = "Epoch " + std::to_string(bad_epoch + 1) + ",";
  const std::string batch_text = "batch " + std::to_string(bad_batch + 1) + ":";
  CHECK_THAT(stop.message(), Contains(epoch_text) && Contains(batch_text) && Contains("invalid loss"));
  CHECK_THAT(out.str(), Contains(stop.message()));
}

TEST_CASE("Messages write every kind of value as std::ostream does, with 15 significant digits", "[errors][messages]") {
  enum Unscoped { first, second };
  const std::string text = "text";
  const std::string_view view = "view";
  const char* pointer = "pointer";
  const std::filesystem::path path = "a b/c.csv";
  const Index index = -7;
  const std::size_t count = 12;
  const float single = 0.1f;
  const long double extended = 3.0L / 7.0L;
  const std::string message =
      keras::detail::cat("literal ", text, view, pointer, ' ', 'c', static_cast<signed char>('s'),
                         static_cast<unsigned char>('u'), ' ', true, false, ' ', 42, ' ', index, ' ', count, ' ',
                         -3LL, ' ', 7ULL, ' ', 1.0 / 3.0, ' ', single, ' ', 1e300, ' ', 1e-7, ' ',
                         std::numeric_limits<double>::quiet_NaN(), ' ', -std::numeric_limits<double>::infinity(), ' ',
                         extended, ' ', path, ' ', second);
  std::ostringstream expected;
  expected.precision(15);
  expected << "literal " << text << view << pointer << ' ' << 'c' << static_cast<signed char>('s')
           << static_cast<unsigned char>('u') << ' ' << true << false << ' ' << 42 << ' ' << index << ' ' << count
           << ' ' << -3LL << ' ' << 7ULL << ' ' << 1.0 / 3.0 << ' ' << single << ' ' << 1e300 << ' ' << 1e-7 << ' '
           << std::numeric_limits<double>::quiet_NaN() << ' ' << -std::numeric_limits<double>::infinity() << ' '
           << extended << ' ' << path << ' ' << second;
  CHECK(message == expected.str());
  CHECK(message.find("0.333333333333333 0.100000001490116 1e+300 1e-07") != std::string::npos);
  CHECK(keras::detail::cat() == "");
  CHECK(keras::detail::cat(2.5) == "2.5");

  try {
    keras::detail::fail("bad value ", 1.5, " at row ", index, " in ", path);
    FAIL("fail returned");
  } catch (const keras::ValueError& e) {
    CHECK(std::string(e.what()) == "bad value 1.5 at row -7 in \"a b/c.csv\"");
  }
}

}  // namespace test_errors
