// Console output: the tf.keras 2 progress bar written by fit (verbose 1 and 2) and by
// ProgbarLogger driven directly, and Sequential::summary. Reference formats:
// tf_keras/utils/generic_utils.py (Progbar) and tf_keras/utils/layer_utils.py (print_summary);
// see /work/shared/KERAS.md §2.7–2.8.
#include <catch2/catch.hpp>

#include <kerascpp/kerascpp.hpp>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_progress {

namespace keras = kerascpp;
using namespace keras::layers;
using keras::Logs;
using Mat = keras::Matrix<double>;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool matches(const std::string& line, const std::string& pattern) { return std::regex_match(line, std::regex(pattern)); }

/// 10 rows of 2 features in [0, 1] and a target in [0, 1]: losses of a fresh Dense(1) stay in
/// (1e-3, 10), so they print as d.dddd.
void small_problem(Mat& x, Mat& y) {
  x.resize(10, 2);
  y.resize(10, 1);
  for (int i = 0; i < 10; ++i) {
    x(i, 0) = 0.1 * i;
    x(i, 1) = 1.0 - 0.05 * i;
    y(i, 0) = 0.5 + 0.04 * i;
  }
}

keras::Sequential<double> small_model() {
  keras::Sequential<double> model{Dense<double>(1, "linear", keras::input_shape{2})};
  model.set_seed(11);
  model.compile("sgd", "mse");
  return model;
}

const std::string bar_done = R"(\[==============================\])";
const std::string timing = R"(\d+s \d+(us|ms|s)/step)";
const std::string value = R"(\d\.\d{4})";

}  // namespace

TEST_CASE("fit verbose 1 prints an Epoch header and one final bar line per epoch", "[progress]") {
  Mat x, y;
  small_problem(x, y);
  auto model = small_model();
  std::ostringstream out;
  model.fit(x, y, {.batch_size = 2, .epochs = 3, .verbose = 1, .validation_data = keras::Dataset{x, y}, .out = &out});
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 6);
  for (int e = 0; e < 3; ++e) {
    const auto& header = lines[static_cast<std::size_t>(2 * e)];
    const auto& final_line = lines[static_cast<std::size_t>(2 * e + 1)];
    CHECK(header == "Epoch " + std::to_string(e + 1) + "/3");
    INFO(final_line);
    CHECK(matches(final_line, "^5/5 " + bar_done + " - " + timing + " - loss: " + value + " - val_loss: " + value + "$"));
  }
  // Not a terminal: no carriage returns or escape codes.
  CHECK(out.str().find('\r') == std::string::npos);
  CHECK(out.str().find('\x1b') == std::string::npos);
}

TEST_CASE("fit prints no Epoch header when there is a single epoch", "[progress]") {
  Mat x, y;
  small_problem(x, y);
  auto model = small_model();
  std::ostringstream out;
  model.fit(x, y, {.batch_size = 4, .epochs = 1, .verbose = 1, .out = &out});
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 1);
  INFO(lines[0]);
  CHECK(matches(lines[0], "^3/3 " + bar_done + " - " + timing + " - loss: " + value + "$"));
}

TEST_CASE("fit progress shows loss, metrics, validation values, then the learning rate", "[progress]") {
  Mat x, y;
  small_problem(x, y);
  auto model = small_model();
  model.compile("sgd", "mse", {"mae"});
  keras::callbacks::LearningRateScheduler<double> sched([](int, double lr) { return lr; });
  std::ostringstream out;
  model.fit(x, y, {.batch_size = 10, .epochs = 2, .verbose = 1, .callbacks = {&sched}, .validation_split = 0.2,
                   .initial_epoch = 1, .out = &out});
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "Epoch 2/2");
  INFO(lines[1]);
  CHECK(matches(lines[1], "^1/1 " + bar_done + " - " + timing + " - loss: " + value + " - mae: " + value +
                              " - val_loss: " + value + " - val_mae: " + value + " - learning_rate: 0.0100$"));
}

TEST_CASE("fit verbose 2 prints one line per epoch with epoch and step times", "[progress]") {
  Mat x, y;
  small_problem(x, y);
  auto model = small_model();
  std::ostringstream out;
  model.fit(x, y, {.batch_size = 1, .epochs = 2, .verbose = 2, .validation_data = keras::Dataset{x, y}, .out = &out});
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "Epoch 1/2");
  CHECK(lines[2] == "Epoch 2/2");
  for (std::size_t i : {1u, 3u}) {
    INFO(lines[i]);
    CHECK(matches(lines[i], R"(^10/10 - \d+s - loss: )" + value + " - val_loss: " + value +
                                R"( - \d+(us|ms|s)/epoch - \d+(us|ms|s)/step$)"));
  }
}

TEST_CASE("fit verbose 0 prints nothing", "[progress]") {
  Mat x, y;
  small_problem(x, y);
  auto model = small_model();
  std::ostringstream out;
  keras::callbacks::EarlyStopping<double> es({.monitor = "loss", .patience = 5});
  model.fit(x, y, {.batch_size = 3, .epochs = 3, .verbose = 0, .callbacks = {&es}, .out = &out});
  CHECK(out.str().empty());
  // verbose 1 with nothing to run (initial_epoch == epochs) prints nothing either.
  model.fit(x, y, {.epochs = 2, .verbose = 1, .initial_epoch = 2, .out = &out});
  CHECK(out.str().empty());
}

TEST_CASE("ProgbarLogger on a terminal redraws one line with a right-aligned counter and a '>' head", "[progress]") {
  std::ostringstream out;
  keras::callbacks::ProgbarLogger<double> bar(1, 1, 10, out, true);
  Logs logs{{"loss", 0.5}};
  Logs none;
  bar.on_epoch_begin(0, none);
  CHECK(out.str().empty());  // a single epoch has no header

  bar.on_batch_end(0, logs);
  const std::string first = out.str();
  CHECK(first.rfind("\r 1/10 [==>...........................] - ETA: ", 0) == 0);
  CHECK(matches(first, "^\r 1/10 \\[==>\\.{27}\\] - ETA: \\d+s - loss: 0\\.5000\x1b\\[K$"));

  out.str("");
  bar.on_batch_end(4, logs);
  CHECK(matches(out.str(), "^\r 5/10 \\[={14}>\\.{15}\\] - ETA: \\d+s - loss: 0\\.5000\x1b\\[K$"));

  out.str("");
  bar.on_batch_end(9, logs);
  CHECK(matches(out.str(), "^\r10/10 " + bar_done + " - ETA: \\d+s - loss: 0\\.5000\x1b\\[K$"));

  out.str("");
  bar.on_epoch_end(0, logs);
  INFO(out.str());
  CHECK(matches(out.str(), "^\r10/10 " + bar_done + " - " + timing + " - loss: 0\\.5000\x1b\\[K\n$"));
}

TEST_CASE("ProgbarLogger prints values with 4 decimals, or %.4e when |v| <= 1e-3", "[progress]") {
  std::ostringstream out;
  keras::callbacks::ProgbarLogger<double> bar(1, 1, 2, out, false);
  Logs none;
  bar.on_epoch_begin(0, none);
  Logs logs{{"loss", 5e-5}, {"mae", 0.001}, {"mse", 0.0011}, {"val_loss", -0.5}, {"val_mae", 1234.5},
            {"val_mse", 0.0}, {"learning_rate", 1e-4}};
  bar.on_batch_end(0, logs);
  CHECK(out.str().empty());  // not a terminal: only the epoch's final line
  bar.on_epoch_end(0, logs);
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 1);
  const std::string suffix =
      " - loss: 5.0000e-05 - mae: 1.0000e-03 - mse: 0.0011 - val_loss: -0.5000 - val_mae: 1234.5000"
      " - val_mse: 0.0000e+00 - learning_rate: 1.0000e-04";
  INFO(lines[0]);
  REQUIRE(lines[0].size() > suffix.size());
  CHECK(lines[0].substr(lines[0].size() - suffix.size()) == suffix);
  CHECK(lines[0].rfind("2/2 [==============================] - ", 0) == 0);
}

TEST_CASE("ProgbarLogger verbose 2 prints Epoch headers and nothing per batch", "[progress]") {
  std::ostringstream out;
  keras::callbacks::ProgbarLogger<double> bar(2, 12, 100, out, true);
  Logs none;
  Logs logs{{"loss", 0.25}};
  bar.on_epoch_begin(9, none);
  bar.on_batch_end(0, logs);
  bar.on_batch_end(1, logs);
  bar.on_epoch_end(9, logs);
  const auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "Epoch 10/12");
  CHECK(matches(lines[1], R"(^100/100 - \d+s - loss: 0\.2500 - \d+(us|ms|s)/epoch - \d+(us|ms|s)/step$)"));
}

// ---------------------------------------------------------------------------------------------
// summary()

TEST_CASE("summary counts parameters per layer and in total", "[summary]") {
  keras::Sequential<float> model{Dense<float>(4, "relu", keras::input_shape{2}), Dense<float>(3), Dense<float>(1)};
  std::ostringstream out;
  model.summary(out);
  const std::string text = out.str();
  CHECK(model.count_params() == 31);
  CHECK(matches(lines_of(text).at(0), R"(^Model: "sequential"$)"));
  CHECK_THAT(text, Catch::Contains("Total params: 31 (124.00 Byte)\n"));
  CHECK_THAT(text, Catch::Contains("Trainable params: 31 (124.00 Byte)\n"));
  CHECK_THAT(text, Catch::Contains("Non-trainable params: 0 (0.00 Byte)\n"));
  const auto lines = lines_of(text);
  std::vector<std::string> rows;
  for (const auto& line : lines)
    if (line.rfind(" dense", 0) == 0) rows.push_back(line);
  REQUIRE(rows.size() == 3);
  CHECK(matches(rows[0], R"(^ dense \(Dense\) +\(None, 4\) +12 *$)"));
  CHECK(matches(rows[1], R"(^ dense_1 \(Dense\) +\(None, 3\) +15 *$)"));
  CHECK(matches(rows[2], R"(^ dense_2 \(Dense\) +\(None, 1\) +4 *$)"));
  // Columns start where tf.keras puts them: 0.45 and 0.85 of 65 characters.
  CHECK(rows[0].find("(None") == 29);
  CHECK(rows[0].find("12") == 55);
}

TEST_CASE("summary counts BatchNormalization's moving statistics as non-trainable", "[summary]") {
  keras::Sequential<float> model{Dense<float>(8, "relu", keras::input_shape{4}), BatchNormalization<float>(),
                                 Dense<float>(1)};
  std::ostringstream out;
  model.summary(out);
  const std::string text = out.str();
  // Dense 4·8+8 = 40; BN 4·8 = 32 of which 2·8 = 16 trainable; Dense 8+1 = 9.
  CHECK(model.count_params() == 81);
  CHECK_THAT(text, Catch::Contains("Total params: 81 (324.00 Byte)\n"));
  CHECK_THAT(text, Catch::Contains("Trainable params: 65 (260.00 Byte)\n"));
  CHECK_THAT(text, Catch::Contains("Non-trainable params: 16 (64.00 Byte)\n"));
  CHECK_THAT(text, Catch::Contains(" batch_normalization (Batch"));
  CHECK(matches(text, R"([\s\S]*\(None, 8\) +32 *\n[\s\S]*)"));
}

TEST_CASE("summary of a double model counts 8 bytes per parameter", "[summary]") {
  keras::Sequential<double> model{Dense<double>(512, "relu", keras::input_shape{11}), Dense<double>(512, "relu"),
                                  Dense<double>(512, "relu"), Dense<double>(1)};
  std::ostringstream out;
  model.summary(out, "wine");
  CHECK(model.count_params() == 531969);
  CHECK(lines_of(out.str()).at(0) == "Model: \"wine\"");
  // 531969 · 8 bytes = 4.06 MB
  CHECK_THAT(out.str(), Catch::Contains("(4.06 MB)"));
  CHECK_THAT(out.str(), Catch::Contains("Non-trainable params: 0 (0.00 Byte)"));
}

TEST_CASE("summary matches tf.keras print_summary exactly", "[summary]") {
  // tf_keras/utils/layer_utils.py::print_summary for a Sequential model: every row is padded to
  // the line length (65), each layer row is followed by a spacer line of 65 spaces (also the last
  // one), names longer than 26 characters wrap onto a second line, and totals are not
  // comma-grouped.
  const auto pad = [](std::string s, std::size_t width) {
    s.resize(width, ' ');
    return s;
  };
  const auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
    return pad(pad(" " + a, 29) + b, 55) + pad(c, 10) + "\n";
  };
  const std::string spacer = std::string(65, ' ') + "\n";
  const std::string under = std::string(65, '_') + "\n";
  const std::string equals = std::string(65, '=') + "\n";

  SECTION("three Dense layers") {
    keras::Sequential<float> model{Dense<float>(4, "relu", keras::input_shape{2}), Dense<float>(3), Dense<float>(1)};
    std::ostringstream out;
    model.summary(out);
    const std::string expected = "Model: \"sequential\"\n" + under + row("Layer (type)", "Output Shape", "Param #") +
                                 equals + row("dense (Dense)", "(None, 4)", "12") + spacer +
                                 row("dense_1 (Dense)", "(None, 3)", "15") + spacer +
                                 row("dense_2 (Dense)", "(None, 1)", "4") + spacer + equals +
                                 "Total params: 31 (124.00 Byte)\n"
                                 "Trainable params: 31 (124.00 Byte)\n"
                                 "Non-trainable params: 0 (0.00 Byte)\n" +
                                 under;
    CHECK(out.str() == expected);
  }
  SECTION("a long layer name wraps and large totals are not grouped") {
    keras::Sequential<float> model{Dense<float>(512, "relu", keras::input_shape{11}), BatchNormalization<float>(),
                                   Dense<float>(1)};
    std::ostringstream out;
    model.summary(out);
    const std::string expected = "Model: \"sequential\"\n" + under + row("Layer (type)", "Output Shape", "Param #") +
                                 equals + row("dense (Dense)", "(None, 512)", "6144") + spacer +
                                 row("batch_normalization (Batch", "(None, 512)", "2048") +
                                 row("Normalization)", "", "") + spacer +
                                 row("dense_1 (Dense)", "(None, 1)", "513") + spacer + equals +
                                 "Total params: 8705 (34.00 KB)\n"
                                 "Trainable params: 7681 (30.00 KB)\n"
                                 "Non-trainable params: 1024 (4.00 KB)\n" +
                                 under;
    CHECK(out.str() == expected);
  }
}

}  // namespace test_progress
