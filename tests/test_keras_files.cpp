// Keras's own model files (kerascpp/keras_files.hpp): every layout variant of
// tests/data/keras/ (written by tools/make_keras_files.py), the file Keras 3.15 wrote itself, a
// model trained in PyTorch, the files that must be refused, and round trips through save_model.
// Compiled only with KERASCPP_TEST_KERAS_FILES (set by tests/CMakeLists.txt when the target
// kerascpp::keras_files exists), so that a build without HDF5, libzip or nlohmann/json compiles
// this file to nothing.
#ifdef KERASCPP_TEST_KERAS_FILES

#include <kerascpp/keras_files.hpp>
#include <kerascpp/saving/model_file.hpp>

#include "gradient_check.hpp"
#include "scratch_folder.hpp"
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace test_keras_files {

using kerascpp_test::thrown_message;

namespace fs = std::filesystem;
namespace k = kerascpp;
using Catch::Matchers::Contains;
using kerascpp::keras::json;

const fs::path data_dir = fs::path(KERASCPP_TEST_DATA_DIR) / "keras";

fs::path data(const std::string& name) { return data_dir / name; }

/// Inputs and expected outputs of a golden file.
struct Golden {
  k::Matrix<float> x;
  k::Matrix<double> y;
  k::Matrix<double> x64;  // x as the file holds it, for double models
};

k::Matrix<double> matrix(const json& rows) {
  k::Matrix<double> m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)].get<double>();
  return m;
}

Golden golden(const std::string& name) {
  const json j = json::parse(k::io::read_file(data(name)));
  return {matrix(j["x"]).cast<float>(), matrix(j["y"]), matrix(j["x"])};
}

/// The largest |a − b|.
double max_difference(const k::Matrix<float>& a, const k::Matrix<double>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a.cast<double>() - b).cwiseAbs().maxCoeff();
}

/// The model of tools/make_keras_files.py, built in C++ (fresh weights).
k::Sequential<float> reference_model() {
  using namespace kerascpp::layers;
  return k::Sequential<float>{Dense<float>(8, "relu", k::input_shape{5}), BatchNormalization<float>(0.9),
                              Dropout<float>(0.25), Dense<float>(4, "tanh"), Dense<float>(3), Activation<float>("softmax")};
}

/// Everything written to the C stderr (file descriptor 2) while `f` runs.
template <typename F>
std::string stderr_of(F&& f, const fs::path& scratch) {
  const fs::path file = scratch / "stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(fd, 2);
  ::close(fd);
  try {
    f();
  } catch (...) {
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  return k::io::read_file(file);
}

void write_bytes(const fs::path& path, const std::string& bytes) { k::io::write_file_atomically(path, bytes); }

TEST_CASE("A Keras 3 .keras archive loads: layers, weights, compile settings and optimizer state", "[keras_files]") {
  for (const char* file : {"keras3.keras", "keras3_deflated.keras"}) {
    CAPTURE(file);
    auto model = k::keras::load_model<float>(data(file));
    REQUIRE(model.size() == 6);
    CHECK(model.layer(0).type() == "Dense");
    CHECK(model.layer(1).type() == "BatchNormalization");
    CHECK(model.layer(2).type() == "Dropout");
    CHECK(model.layer(5).type() == "Activation");
    CHECK(model.layer(3).name() == "dense_1");
    CHECK(model.input_width() == 5);
    const Golden g = golden("model.golden.json");
    CHECK(max_difference(model.predict(g.x), g.y) < 1e-5);

    REQUIRE(model.compiled());
    CHECK(model.optimizer().name() == "Adam");
    CHECK(model.optimizer().config().at("beta_1") == "0.85");
    CHECK(model.loss().name() == "categorical_crossentropy");
    REQUIRE(model.metric_specs().size() == 1);
    CHECK(model.metric_specs()[0].name == "categorical_accuracy");

    const json opt = json::parse(k::io::read_file(data("model.optimizer.json")));
    CHECK(model.optimizer().iterations() == 7);
    CHECK(model.optimizer().learning_rate() == Approx(0.002));
    REQUIRE(model.optimizer().slot_weights() == 8);
    for (std::size_t i = 0; i < 8; ++i)
      for (int s = 0; s < 2; ++s) {
        const auto slot = model.optimizer().slot(i, s);
        const auto& expected = opt["variables"][i * 2 + static_cast<std::size_t>(s)];
        REQUIRE(static_cast<std::size_t>(slot.size()) == expected.size());
        for (Eigen::Index e = 0; e < slot.size(); ++e)
          CHECK(slot.data()[e] == static_cast<float>(expected[static_cast<std::size_t>(e)].get<double>()));
      }
  }
}

TEST_CASE("Every weights layout loads into a model built in C++ and predicts as NumPy does", "[keras_files]") {
  const Golden g = golden("model.golden.json");
  for (const char* file : {"keras3.keras", "keras3.weights.h5", "keras35_no_names.weights.h5",
                           "keras310_no_empty_groups.weights.h5", "tf213.weights.h5", "legacy.h5", "legacy_no_colon.h5",
                           "legacy_split.weights.h5"}) {
    CAPTURE(file);
    auto model = reference_model();
    k::keras::load_weights(model, data(file));
    CHECK(max_difference(model.predict(g.x), g.y) < 1e-5);
  }
  SECTION("an unbuilt model is built for the width of the file's first weight") {
    using namespace kerascpp::layers;
    k::Sequential<float> model{Dense<float>(8, "relu"), BatchNormalization<float>(0.9), Dropout<float>(0.25),
                               Dense<float>(4, "tanh"), Dense<float>(3), Activation<float>("softmax")};
    k::keras::load_weights(model, data("keras3.weights.h5"));
    CHECK(model.input_width() == 5);
    CHECK(max_difference(model.predict(g.x), g.y) < 1e-5);
  }
}

TEST_CASE("A legacy tf.keras .h5 loads as a model with its training config", "[keras_files]") {
  for (const char* file : {"legacy.h5", "legacy_no_colon.h5"}) {
    CAPTURE(file);
    auto model = k::keras::load_model<double>(data(file));
    REQUIRE(model.size() == 6);
    const Golden g = golden("model.golden.json");
    CHECK((model.predict(g.x64) - g.y).cwiseAbs().maxCoeff() < 1e-12);
    REQUIRE(model.compiled());
    CHECK(model.optimizer().name() == "Adam");
    CHECK(model.optimizer().learning_rate() == 0.002);
    CHECK(model.loss().name() == "categorical_crossentropy");
    CHECK(model.metric_specs().at(0).name == "categorical_accuracy");
  }
}

/// The largest |m(r, c) − flat[r·cols + c]| between a matrix and the row-major list of numbers the
/// script wrote for it.
template <typename M>
double max_difference_flat(const M& m, const json& flat) {
  REQUIRE(static_cast<std::size_t>(m.size()) == flat.size());
  double out = 0.0;
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      out = std::max(out, std::abs(static_cast<double>(m(r, c)) -
                                   flat[static_cast<std::size_t>(r * m.cols() + c)].get<double>()));
  return out;
}

/// The trainable weights of `model` in the optimizer's order.
template <typename Scalar>
std::vector<k::Weight<Scalar>> trainable_weights(k::Sequential<Scalar>& model) {
  std::vector<k::Weight<Scalar>> out;
  for (std::size_t i = 0; i < model.size(); ++i)
    for (const auto& w : model.layer(i).weights())
      if (w.trainable()) out.push_back(w);
  return out;
}

/// Replaces the string attribute `name` of the root of the HDF5 file at `path` with `text`, or
/// only deletes it when `text` is empty.
void rewrite_root_attribute(const fs::path& path, const std::string& name, const std::string& text) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(file >= 0);
  REQUIRE(H5Adelete(file, name.c_str()) >= 0);
  if (!text.empty()) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, text.size());
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(attribute >= 0);
    REQUIRE(H5Awrite(attribute, type, text.data()) >= 0);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }
  REQUIRE(H5Fclose(file) >= 0);
}

TEST_CASE("Legacy .h5 files of tf.keras 2.10, tf.keras 2.11+ and Keras 3 load Adam's iteration count and slots",
          "[keras_files]") {
  const json opt = json::parse(k::io::read_file(data("model.optimizer.json")));
  const Golden g = golden("model.golden.json");
  for (const char* file : {"legacy_tf210_optimizer.h5", "legacy_tf213_optimizer.h5", "legacy_keras3_optimizer.h5"}) {
    CAPTURE(file);
    auto model = k::keras::load_model<float>(data(file));
    CHECK(max_difference(model.predict(g.x), g.y) < 1e-5);
    REQUIRE(model.compiled());
    CHECK(model.optimizer().name() == "Adam");
    CHECK(model.optimizer().config().at("beta_2") == "0.995");
    CHECK(model.optimizer().iterations() == 7);
    CHECK(model.optimizer().learning_rate() == Approx(0.002));
    REQUIRE(model.optimizer().slot_weights() == 8);
    for (std::size_t i = 0; i < 8; ++i)
      for (int s = 0; s < 2; ++s) {
        CAPTURE(i, s);
        const auto slot = model.optimizer().slot(i, s);
        const auto& expected = opt["variables"][i * 2 + static_cast<std::size_t>(s)];
        REQUIRE(static_cast<std::size_t>(slot.size()) == expected.size());
        for (Eigen::Index e = 0; e < slot.size(); ++e)
          CHECK(slot.data()[e] == static_cast<float>(expected[static_cast<std::size_t>(e)].get<double>()));
      }
  }
  SECTION("a legacy .h5 without optimizer_weights leaves the optimizer fresh") {
    auto model = k::keras::load_model<float>(data("legacy.h5"));
    CHECK(model.optimizer().iterations() == 0);
    CHECK(model.optimizer().slot_weights() == 0);
  }
}

TEST_CASE("One fit step after loading a legacy .h5 continues Keras's Adam and SGD as NumPy computes it", "[keras_files]") {
  const json step = json::parse(k::io::read_file(data("legacy_step.json")));
  const k::Matrix<double> x = matrix(step["x"]), y = matrix(step["y"]);
  for (const auto& [file, key] : {std::pair{"legacy_step_adam.h5", "adam"}, std::pair{"legacy_step_sgd.h5", "sgd"}}) {
    CAPTURE(file);
    const json& expected = step[key];
    auto model = k::keras::load_model<double>(data(file));
    REQUIRE(model.compiled());
    CHECK(model.loss().name() == "mean_squared_error");
    const std::int64_t iterations = expected["iterations"].get<std::int64_t>();
    CHECK(model.optimizer().iterations() == iterations);
    const auto kinds = expected["slots"].size();
    REQUIRE(static_cast<std::size_t>(model.optimizer().slots_per_weight()) == kinds);
    REQUIRE(model.optimizer().slot_weights() == 4);
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t s = 0; s < kinds; ++s)
        CHECK(max_difference_flat(model.optimizer().slot(i, static_cast<int>(s)), expected["slots"][s][i]) == 0.0);

    model.fit(x, y, {.batch_size = 6, .epochs = 1, .verbose = 0, .shuffle = false});
    CHECK(model.optimizer().iterations() == iterations + 1);
    const auto weights = trainable_weights(model);
    REQUIRE(weights.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(max_difference_flat(*weights[i].value, expected["weights_after"][i]) < 1e-12);
      for (std::size_t s = 0; s < kinds; ++s)
        CHECK(max_difference_flat(model.optimizer().slot(i, static_cast<int>(s)), expected["slots_after"][s][i]) < 1e-12);
    }
  }
}

TEST_CASE("Optimizer weights of a legacy .h5 are checked, and ignored only when the file has no training config",
          "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  SECTION("a slot of the wrong shape names its place, the layer and both shapes") {
    CHECK_THAT(thrown_message<k::ValueError>([] { k::keras::load_model<float>(data("err_optimizer_shape.h5")); }),
               Contains("keras::load_model: cannot load") &&
                   Contains("/optimizer_weights/Adam/dense/kernel/m:0: Adam slot 0 of trainable weight 0, the kernel of "
                            "layer 0 'dense' (Dense): expected shape (4, 3), the file has (3, 4)"));
  }
  SECTION("weight_names listing one variable too few") {
    CHECK_THAT(thrown_message<k::ValueError>([] { k::keras::load_model<float>(data("err_optimizer_count.h5")); }),
               Contains("/optimizer_weights: holds 8 variables; Adam over 4 trainable weights keeps 1 (iterations) or 9 "
                        "once built"));
  }
  SECTION("without training_config the model is not compiled and its optimizer weights are not read, as in Keras") {
    const fs::path file = scratch.path() / "no_training_config.h5";
    fs::copy_file(data("err_optimizer_shape.h5"), file);
    rewrite_root_attribute(file, "training_config", "");
    auto model = k::keras::load_model<float>(file);
    CHECK_FALSE(model.compiled());
  }
  SECTION("SGD without momentum skips the momentum slots tf.keras 2.11+ keeps for it") {
    const fs::path file = scratch.path() / "sgd_no_momentum.h5";
    fs::copy_file(data("legacy_step_sgd.h5"), file);
    const std::string bytes = k::io::read_file(file);
    json config = json::parse(k::keras::hdf5::File::open(bytes).string("/", "training_config"));
    config["optimizer_config"]["config"]["momentum"] = 0.0;
    rewrite_root_attribute(file, "training_config", config.dump());
    auto model = k::keras::load_model<float>(file);
    CHECK(model.optimizer().iterations() == 3);
    CHECK(model.optimizer().slots_per_weight() == 0);
    config["optimizer_config"]["config"]["momentum"] = 0.5;
    rewrite_root_attribute(file, "training_config", config.dump());
    CHECK(k::keras::load_model<float>(file).optimizer().slot_weights() == 4);
  }
}

TEST_CASE("The file Keras 3.15 wrote itself loads into an equivalent stack of Dense layers", "[keras_files]") {
  using namespace kerascpp::layers;
  k::Sequential<float> model{Dense<float>(4, "linear", k::input_shape{4}, false), Dense<float>(4, "linear", {}, false),
                             Dense<float>(4, "linear", {}, false), Dense<float>(2)};
  k::keras::load_weights(model, data("pre_pr22362_nested_container.keras"));
  const Golden g = golden("pre_pr22362_nested_container.golden.json");
  CHECK(max_difference(model.predict(g.x), g.y) < 1e-5);
  SECTION("load_model says why it cannot build the subclassed model") {
    const std::string message =
        thrown_message<k::ValueError>([] { k::keras::load_model<float>(data("pre_pr22362_nested_container.keras")); });
    CHECK_THAT(message, Contains("'NestedDenseModel'") && Contains("legacy_nested_container>NestedDenseModel") &&
                            Contains("keras::load_weights"));
  }
}

TEST_CASE("A model trained in PyTorch and exported in the Keras layout predicts PyTorch's outputs", "[keras_files]") {
  auto model = k::keras::load_model<float>(data("torch.keras"));
  const Golden g = golden("torch.golden.json");
  CHECK(max_difference(model.predict(g.x), g.y) < 1e-6);
}

TEST_CASE("Bad Keras files are refused with the place inside the file", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  const auto load = [](const fs::path& p) { return [p] { k::keras::load_model<float>(p); }; };
  const auto load_into = [](const fs::path& p) {
    return [p] {
      auto model = reference_model();
      k::keras::load_weights(model, p);
    };
  };

  SECTION("an unsupported layer class names it and lists the supported ones") {
    CHECK_THAT(thrown_message<k::ValueError>(load(data("err_conv2d.keras"))),
               Contains("keras::load_model: cannot load") && Contains("config.json layers[2] 'conv2d' (Conv2D)") &&
                   Contains("unsupported layer class 'Conv2D'; kerascpp supports InputLayer, Dense, Activation, Dropout, "
                            "BatchNormalization"));
  }
  SECTION("an argument kerascpp cannot honour") {
    CHECK_THAT(thrown_message<k::ValueError>(load(data("err_center_false.keras"))),
               Contains("'batch_normalization' (BatchNormalization)") && Contains("center=false is not supported"));
    CHECK_THAT(thrown_message<k::ValueError>(load(data("err_amsgrad.keras"))),
               Contains("compile_config optimizer Adam") && Contains("amsgrad=true is not supported"));
  }
  SECTION("a shape mismatch names the layer and both shapes") {
    CHECK_THAT(thrown_message<k::ValueError>(load_into(data("err_shape.weights.h5"))),
               Contains("/layers/dense/vars/0: layer 0 'dense' (Dense) weight 'kernel'") &&
                   Contains("the model expects shape (5, 8)") && Contains("the file has (5, 7)"));
    auto other = k::Sequential<float>{k::layers::Dense<float>(8, "relu", k::input_shape{5}), k::layers::Dense<float>(5)};
    CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::load_weights(other, data("keras3.weights.h5")); }),
               Contains("/layers/dense_1/vars/0: layer 1 'dense_1' (Dense) weight 'kernel': the model expects shape (8, 5)") &&
                   Contains("the file has (8, 4)"));
  }
  SECTION("a non-float dtype") {
    CHECK_THAT(thrown_message<k::IOError>(load_into(data("err_int_kernel.weights.h5"))),
               Contains("/layers/dense/vars/0: dtype int32 where kerascpp expects float32 or float64"));
  }
  SECTION("a dataset whose size does not match its shape") {
    CHECK_THAT(thrown_message<k::IOError>(load_into(data("err_dims.weights.h5"))),
               Contains("/layers/dense/vars/0: shape (5, 9) of float32 needs 180 bytes but the file stores 160"));
  }
  SECTION("a zip bomb is refused before it is inflated") {
    CHECK_THAT(thrown_message<k::IOError>(load(data("err_zip_bomb.keras"))),
               Contains("zip entry 'model.weights.h5' declares 20971520 bytes uncompressed, more than the"));
  }
  SECTION("broken JSON, a missing entry") {
    CHECK_THAT(thrown_message<k::IOError>(load(data("err_bad_json.keras"))), Contains("config.json: not valid JSON"));
    CHECK_THAT(thrown_message<k::IOError>(load(data("err_no_weights.keras"))),
               Contains("not a Keras archive: no model.weights.h5 among its entries (metadata.json, config.json)"));
  }
  SECTION("truncated archives and HDF5 files, at every tenth of their length") {
    for (const char* file : {"keras3.keras", "keras3_deflated.keras", "keras3.weights.h5", "legacy.h5"}) {
      const std::string bytes = k::io::read_file(data(file));
      for (int tenth = 0; tenth < 10; ++tenth) {
        CAPTURE(file, tenth);
        const fs::path cut = scratch.path() / (std::string("cut_") + file);
        write_bytes(cut, bytes.substr(0, bytes.size() * static_cast<std::size_t>(tenth) / 10));
        const std::string m = thrown_message<k::IOError>(load_into(cut));
        CHECK_THAT(m, Contains("keras::load_weights: cannot load"));
      }
    }
  }
  SECTION("an HDF5 file cut inside a stored archive") {
    const std::string weights = k::io::read_file(data("keras3.weights.h5"));
    const std::string config = k::io::read_file(data("keras3.keras"));
    const fs::path p = scratch.path() / "cut_inside.keras";
    write_bytes(p, k::keras::archive::write_archive(
                       {{"config.json", k::keras::archive::read_archive(config, {"config.json"}).at("config.json")},
                        {"model.weights.h5", weights.substr(0, weights.size() / 2)}}));
    CHECK_THAT(thrown_message<k::IOError>(load(p)), Contains("model.weights.h5: "));
  }
  SECTION("HDF5 prints nothing of its own error stack, and its printing is restored afterwards") {
    const fs::path cut = scratch.path() / "cut.weights.h5";
    const std::string bytes = k::io::read_file(data("keras3.weights.h5"));
    write_bytes(cut, bytes.substr(0, bytes.size() / 3));
    CHECK(stderr_of(load_into(cut), scratch.path()).empty());
    H5E_auto2_t function = nullptr;
    void* client = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &function, &client);
    CHECK(function != nullptr);
  }
  SECTION("a missing file and a file that is neither zip nor HDF5") {
    CHECK_THAT(thrown_message<k::IOError>(load(scratch.path() / "none.keras")), Contains("none.keras"));
    const fs::path text = scratch.path() / "text.keras";
    write_bytes(text, "just some text, not a model");
    CHECK_THAT(thrown_message<k::IOError>(load(text)), Contains("not an HDF5 file"));
  }
}

TEST_CASE("Inputs found by fuzzing the Keras-file reader are refused with kerascpp exceptions", "[keras_files]") {
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(data_dir / "fuzz")) {
    CAPTURE(entry.path().filename().string());
    ++files;
    const auto expect_refused = [](auto&& load) {
      try {
        load();
      } catch (const k::IOError&) {
      } catch (const k::ValueError&) {
      } catch (const k::StateError&) {
      }
    };
    expect_refused([&] { k::keras::load_model<float>(entry.path()); });
    expect_refused([&] {
      auto model = reference_model();
      k::keras::load_weights(model, entry.path());
    });
  }
  CHECK(files > 0);
  SECTION("a global heap object of size 0, on which HDF5 1.10 loops forever") {
    CHECK_THAT(thrown_message<k::IOError>([] { k::keras::load_model<float>(data("fuzz/global-heap-zero-size-hang.h5")); }),
               Contains("HDF5: the file is corrupt: the global heap at byte 2048 holds an object of 0 bytes at byte 5152"));
  }
}

/// A small model with BatchNormalization, compiled with Adam, and its data.
struct Trained {
  k::Sequential<float> model;
  k::Matrix<float> x, y;
};

Trained trained_model() {
  using namespace kerascpp::layers;
  Trained t{k::Sequential<float>{Dense<float>(6, "relu", k::input_shape{4}), BatchNormalization<float>(0.8),
                                 Dense<float>(3, "tanh"), Dense<float>(1)},
            k::Matrix<float>(40, 4), k::Matrix<float>(40, 1)};
  t.model.set_seed(5);
  for (Eigen::Index i = 0; i < 40; ++i) {
    for (Eigen::Index j = 0; j < 4; ++j) t.x(i, j) = std::sin(0.7f * static_cast<float>(i * 4 + j));
    t.y(i, 0) = t.x(i, 0) * t.x(i, 1) - 0.5f * t.x(i, 3);
  }
  t.model.compile(k::optimizers::Adam<float>{0.01}, "mse", {"mae", k::metrics::RootMeanSquaredError<float>()});
  return t;
}

/// Writes t's inputs and predictions to `path` (JSON: "x" rows, "y" rows) beside a saved file, for
/// tools/check_keras_file.py; returns the predictions.
k::Matrix<float> write_predictions_beside(Trained& t, const fs::path& path) {
  const k::Matrix<float> predicted = t.model.predict(t.x);
  json beside;
  for (Eigen::Index i = 0; i < t.x.rows(); ++i) {
    json row = json::array();
    for (Eigen::Index j = 0; j < t.x.cols(); ++j) row.push_back(static_cast<double>(t.x(i, j)));
    beside["x"].push_back(row);
    beside["y"].push_back(json::array({static_cast<double>(predicted(i, 0))}));
  }
  k::io::write_file_atomically(path, beside.dump());
  return predicted;
}

TEST_CASE("save_model writes what Keras 3 writes and loads back: same predictions, same continued training",
          "[keras_files]") {
  Trained t = trained_model();
  const k::FitOptions<float> options{.batch_size = 16, .epochs = 3, .verbose = 0, .shuffle = false};
  t.model.fit(t.x, t.y, options);
  const fs::path folder = KERASCPP_KERAS_OUT_DIR;
  fs::create_directories(folder);
  const fs::path file = folder / "roundtrip.keras";
  k::keras::save_model(t.model, file);

  const k::Matrix<float> predicted = write_predictions_beside(t, folder / "roundtrip.predictions.json");

  auto loaded = k::keras::load_model<float>(file);
  CHECK(loaded.predict(t.x) == predicted);
  CHECK(loaded.optimizer().iterations() == t.model.optimizer().iterations());
  CHECK(loaded.optimizer().learning_rate() == t.model.optimizer().learning_rate());
  CHECK(loaded.layer(1).name() == "batch_normalization");

  const k::FitOptions<float> more{.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false};
  const auto continued = t.model.fit(t.x, t.y, more);
  const auto resumed = loaded.fit(t.x, t.y, more);
  CHECK(resumed.at("loss") == continued.at("loss"));
  CHECK(resumed.at("mae") == continued.at("mae"));
  CHECK(loaded.predict(t.x) == t.model.predict(t.x));

  SECTION("the archive holds metadata.json, config.json and model.weights.h5, stored") {
    const std::string bytes = k::io::read_file(file);
    std::vector<std::string> names;
    const auto entries = k::keras::archive::read_archive(bytes, {"metadata.json", "config.json"}, &names);
    CHECK(names == std::vector<std::string>{"metadata.json", "config.json", "model.weights.h5"});
    CHECK(json::parse(entries.at("metadata.json"))["keras_version"] == "3.15.0");
    const json config = json::parse(entries.at("config.json"));
    CHECK(config["class_name"] == "Sequential");
    CHECK(config["config"]["layers"][0]["class_name"] == "InputLayer");
    CHECK(config["config"]["layers"][2]["config"]["momentum"] == 0.8);
    CHECK(config["compile_config"]["optimizer"]["class_name"] == "Adam");
    CHECK(config["compile_config"]["loss"] == "mean_squared_error");
    const json& metrics = config["compile_config"]["metrics"];
    REQUIRE(metrics.size() == 2);
    CHECK(metrics[0] == "mae");
    CHECK(metrics[1] == json::parse(R"({"module": "keras.metrics", "class_name": "RootMeanSquaredError",
                                        "config": {"name": "root_mean_squared_error", "dtype": "float32"},
                                        "registered_name": null})"));
  }
  SECTION("save_weights and load_weights") {
    const fs::path weights = folder / "roundtrip.weights.h5";
    k::keras::save_weights(loaded, weights);
    Trained other = trained_model();
    k::keras::load_weights(other.model, weights);
    CHECK(other.model.predict(t.x) == loaded.predict(t.x));
  }
  SECTION("an unbuilt model is refused before anything is written") {
    k::Sequential<float> unbuilt{k::layers::Dense<float>(3)};
    const fs::path target = folder / "unbuilt.keras";
    std::error_code ignored;
    fs::remove(target, ignored);
    CHECK_THROWS_AS(k::keras::save_model(unbuilt, target), k::StateError);
    CHECK_FALSE(fs::exists(target));
  }
}

TEST_CASE("Optimizer state of SGD, RMSprop and Adagrad goes through a .keras file slot by slot", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  std::vector<std::unique_ptr<k::Optimizer<float>>> optimizers;
  optimizers.push_back(std::make_unique<k::optimizers::SGD<float>>(0.05, 0.9, true));
  optimizers.push_back(std::make_unique<k::optimizers::RMSprop<float>>(0.01, 0.8, 0.5, 1e-7, true));
  optimizers.push_back(std::make_unique<k::optimizers::Adagrad<float>>(0.02));
  optimizers.push_back(std::make_unique<k::optimizers::AdamW<float>>(0.003, 0.01));
  for (const auto& opt : optimizers) {
    CAPTURE(opt->name());
    Trained t = trained_model();
    t.model.compile(*opt, "mse");
    t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false});
    const fs::path file = scratch.path() / "optimizer.keras";
    k::keras::save_model(t.model, file);
    auto loaded = k::keras::load_model<float>(file);
    REQUIRE(loaded.optimizer().name() == opt->name());
    CHECK(loaded.optimizer().config() == t.model.optimizer().config());
    CHECK(loaded.optimizer().iterations() == t.model.optimizer().iterations());
    REQUIRE(loaded.optimizer().slot_weights() == t.model.optimizer().slot_weights());
    for (std::size_t i = 0; i < loaded.optimizer().slot_weights(); ++i)
      for (int s = 0; s < loaded.optimizer().slots_per_weight(); ++s)
        CHECK(k::RowMatrix<float>(loaded.optimizer().slot(i, s)) == k::RowMatrix<float>(t.model.optimizer().slot(i, s)));
  }
}

TEST_CASE("A double model is saved as float32 and the kcpp format is untouched", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  auto model = k::keras::load_model<double>(data("keras3.keras"));
  k::keras::save_model(model, scratch.path() / "double.keras");
  auto back = k::keras::load_model<double>(scratch.path() / "double.keras");
  const Golden g = golden("model.golden.json");
  CHECK((back.predict(g.x.cast<double>()) - model.predict(g.x.cast<double>())).cwiseAbs().maxCoeff() < 1e-6);
  k::save_model(back, scratch.path() / "double.kcpp");
  auto kcpp = k::load_model<double>(scratch.path() / "double.kcpp");
  CHECK(kcpp.predict(g.x.cast<double>()) == back.predict(g.x.cast<double>()));
}

/// A binary classifier on 3 inputs, built, and 60 samples of data for it.
struct Classifier {
  k::Sequential<float> model;
  k::Matrix<float> x, y;
};

Classifier classifier() {
  using namespace kerascpp::layers;
  Classifier c{k::Sequential<float>{Dense<float>(4, "tanh", k::input_shape{3}), Dense<float>(1, "sigmoid")},
               k::Matrix<float>(60, 3), k::Matrix<float>(60, 1)};
  c.model.set_seed(11);
  for (Eigen::Index i = 0; i < 60; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) c.x(i, j) = std::sin(0.9f * static_cast<float>(i * 3 + j) + 0.3f);
    c.y(i, 0) = c.x(i, 0) + 0.5f * c.x(i, 1) * c.x(i, 2) > 0.1f ? 1.0f : 0.0f;
  }
  return c;
}

/// The config of every metric object of `model`, as its registry entry writes it (empty for names).
std::vector<k::Config> metric_configs(const k::Sequential<float>& model) {
  std::vector<k::Config> out;
  for (const auto& spec : model.metric_specs()) {
    if (spec.object == nullptr) {
      out.emplace_back();
      continue;
    }
    const auto* entry = k::metrics::entry_of(*spec.object);
    REQUIRE(entry != nullptr);
    k::Config c = entry->get_config(*spec.object);
    c["class"] = entry->name;
    c["name"] = spec.object->name();
    out.push_back(std::move(c));
  }
  return out;
}

TEST_CASE("Metric objects are saved in compile_config as Keras serializes them and load back with their arguments",
          "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  Classifier c = classifier();
  c.model.compile(k::optimizers::SGD<float>{0.05}, "binary_crossentropy",
                  {"accuracy", k::metrics::AUC<float>(50, "PR"), k::metrics::Precision<float>(0.7)});
  c.model.fit(c.x, c.y, {.batch_size = 20, .epochs = 2, .verbose = 0, .shuffle = false});
  const fs::path file = scratch.path() / "metrics.keras";
  k::keras::save_model(c.model, file);

  const json config = json::parse(k::keras::archive::read_archive(k::io::read_file(file), {"config.json"}).at("config.json"));
  const json& metrics = config["compile_config"]["metrics"];
  REQUIRE(metrics.size() == 3);
  CHECK(metrics[0] == "accuracy");
  CHECK(metrics[1]["module"] == "keras.metrics");
  CHECK(metrics[1]["class_name"] == "AUC");
  CHECK(metrics[1]["registered_name"].is_null());
  const json& auc = metrics[1]["config"];
  std::vector<std::string> keys;
  for (const auto& [key, value] : auc.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"name", "dtype", "num_thresholds", "curve", "summation_method", "multi_label",
                                         "num_labels", "label_weights", "from_logits"});
  CHECK(auc["name"] == "auc");
  CHECK(auc["dtype"] == "float32");
  CHECK(auc["num_thresholds"].is_number_integer());
  CHECK(auc["num_thresholds"] == 50);
  CHECK(auc["curve"] == "PR");
  CHECK(auc["summation_method"] == "interpolation");
  CHECK(auc["multi_label"] == false);
  CHECK(auc["num_labels"].is_null());
  CHECK(auc["label_weights"].is_null());
  CHECK(auc["from_logits"] == false);
  CHECK(metrics[2] == json::parse(R"({"module": "keras.metrics", "class_name": "Precision",
                                      "config": {"name": "precision", "dtype": "float32", "thresholds": 0.7,
                                                 "top_k": null, "class_id": null},
                                      "registered_name": null})"));

  auto loaded = k::keras::load_model<float>(file);
  CHECK(metric_configs(loaded) == metric_configs(c.model));
  const k::Logs expected = c.model.evaluate(c.x, c.y);
  const k::Logs got = loaded.evaluate(c.x, c.y);
  CHECK(got.at("auc") == expected.at("auc"));
  CHECK(got.at("precision") == expected.at("precision"));
  CHECK(got.at("accuracy") == expected.at("accuracy"));

  // Metrics by name (AUC with 200 thresholds on the ROC curve, Precision at 0.5) give other values.
  auto by_name = k::keras::load_model<float>(file);
  by_name.compile(k::optimizers::SGD<float>{0.05}, "binary_crossentropy", {"accuracy", "auc", "precision"});
  const k::Logs defaults = by_name.evaluate(c.x, c.y);
  CHECK(defaults.at("auc") != expected.at("auc"));
  CHECK(defaults.at("precision") != expected.at("precision"));

  SECTION("given thresholds, class_id, F-scores and the other metric classes keep their arguments") {
    using namespace kerascpp::metrics;
    Classifier d = classifier();
    d.model.compile(k::optimizers::SGD<float>{0.05}, "binary_crossentropy",
                    {AUC<float>(4, "ROC", "minoring", "auc_given", {0.2, 0.6}), Recall<float>(0.3, 0, "recall_0"),
                     FBetaScore<float>("macro", 2.0, 0.4), F1Score<float>(std::nullopt, 0.6),
                     BinaryAccuracy<float>("binary_accuracy", 0.3), MeanSquaredError<float>(), "mse"});
    d.model.fit(d.x, d.y, {.batch_size = 20, .epochs = 1, .verbose = 0, .shuffle = false});
    const fs::path other = scratch.path() / "more_metrics.keras";
    k::keras::save_model(d.model, other);
    const json m =
        json::parse(k::keras::archive::read_archive(k::io::read_file(other), {"config.json"}).at("config.json"))["compile_config"]["metrics"];
    REQUIRE(m.size() == 7);
    CHECK(m[0]["config"]["thresholds"] == json::array({0.2, 0.6}));
    CHECK(m[0]["config"]["num_thresholds"] == 4);
    CHECK(m[0]["config"]["summation_method"] == "minoring");
    CHECK(m[1]["config"] == json::parse(R"({"name": "recall_0", "dtype": "float32", "thresholds": 0.3,
                                             "top_k": null, "class_id": 0})"));
    CHECK(m[2]["class_name"] == "FBetaScore");
    CHECK(m[2]["config"] == json::parse(R"({"name": "fbeta_score", "dtype": "float32", "average": "macro",
                                             "beta": 2.0, "threshold": 0.4})"));
    CHECK(m[3]["config"] == json::parse(R"({"name": "f1_score", "dtype": "float32", "average": null,
                                             "threshold": 0.6})"));
    CHECK(m[4]["config"] == json::parse(R"({"name": "binary_accuracy", "dtype": "float32", "threshold": 0.3})"));
    CHECK(m[5]["class_name"] == "MeanSquaredError");
    CHECK(m[6] == "mse");
    auto back = k::keras::load_model<float>(other);
    CHECK(metric_configs(back) == metric_configs(d.model));
    CHECK(back.evaluate(d.x, d.y) == d.model.evaluate(d.x, d.y));
  }
}

TEST_CASE("Serialized metrics of a Keras 3 archive and a tf.keras 2 .h5 load with their arguments", "[keras_files]") {
  for (const char* file : {"metric_objects.keras", "metric_objects_legacy.h5"}) {
    CAPTURE(file);
    auto model = k::keras::load_model<float>(data(file));
    REQUIRE(model.metric_specs().size() == 3);
    CHECK(model.metric_specs()[0].name == "accuracy");
    CHECK(model.metric_specs()[0].object == nullptr);
    const auto* auc = dynamic_cast<const k::metrics::AUC<float>*>(model.metric_specs()[1].object.get());
    REQUIRE(auc != nullptr);
    CHECK(auc->name() == "auc");
    CHECK(auc->num_thresholds() == 50);
    CHECK(auc->curve() == "PR");
    CHECK(auc->summation_method() == "interpolation");
    CHECK(auc->specified_thresholds().empty());
    const auto* precision = dynamic_cast<const k::metrics::Precision<float>*>(model.metric_specs()[2].object.get());
    REQUIRE(precision != nullptr);
    CHECK(precision->name() == "precision");
    CHECK(precision->thresholds() == 0.7);
    CHECK(precision->class_id() == -1);

    const Classifier c = classifier();
    auto same = k::keras::load_model<float>(data(file));
    same.compile(k::optimizers::SGD<float>{0.05}, "binary_crossentropy",
                 {"accuracy", k::metrics::AUC<float>(50, "PR"), k::metrics::Precision<float>(0.7)});
    CHECK(model.evaluate(c.x, c.y) == same.evaluate(c.x, c.y));
  }
}

TEST_CASE("A metric argument kerascpp cannot honour is refused with its place in the file", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  CHECK_THAT(thrown_message<k::ValueError>([] { k::keras::load_model<float>(data("err_metric_from_logits.keras")); }),
             Contains("config.json compile_config metrics[1] (AUC): from_logits=true is not supported: kerascpp's AUC "
                      "takes probabilities (from_logits=false)"));

  const std::string archive = k::io::read_file(data("metric_objects.keras"));
  const auto entries = k::keras::archive::read_archive(archive, {"config.json", "metadata.json", "model.weights.h5"});
  const json original = json::parse(entries.at("config.json"));
  /// The message load_model throws for metric_objects.keras with `edit` applied to its metrics.
  const auto message_with = [&](auto edit) {
    json config = original;
    edit(config["compile_config"]["metrics"]);
    const fs::path p = scratch.path() / "edited.keras";
    write_bytes(p, k::keras::archive::write_archive({{"metadata.json", entries.at("metadata.json")},
                                                     {"config.json", config.dump()},
                                                     {"model.weights.h5", entries.at("model.weights.h5")}}));
    return thrown_message<k::ValueError>([p] { k::keras::load_model<float>(p); });
  };
  CHECK_THAT(message_with([](json& m) { m[1]["config"]["multi_label"] = true; }),
             Contains("metrics[1] (AUC): multi_label=true is not supported: kerascpp's AUC treats every output as one "
                      "label (multi_label=false)"));
  CHECK_THAT(message_with([](json& m) { m[2]["config"]["top_k"] = 3; }),
             Contains("metrics[2] (Precision): top_k=3 is not supported: kerascpp counts every output above the "
                      "threshold (top_k=None)"));
  CHECK_THAT(message_with([](json& m) { m[2]["config"]["thresholds"] = json::array({0.3, 0.7}); }),
             Contains("metrics[2] (Precision): thresholds=[0.3,0.7] is not supported: kerascpp's Precision takes one "
                      "threshold"));
  CHECK_THAT(message_with([](json& m) { m[1]["config"]["curve"] = "PRGAIN"; }),
             Contains("metrics[1] (AUC): AUC: curve must be \"ROC\" or \"PR\", received curve=\"PRGAIN\""));
  CHECK_THAT(message_with([](json& m) { m[1]["config"]["sparse"] = true; }),
             Contains("metrics[1] (AUC): argument 'sparse'=true is not supported by kerascpp's AUC"));
  CHECK_THAT(message_with([](json& m) { m[0] = json::parse(R"({"class_name": "MeanIoU", "config": {"num_classes": 2}})"); }),
             Contains("metrics[0]: unsupported metric class 'MeanIoU'; kerascpp reads metric objects of the Keras "
                      "classes BinaryAccuracy, CategoricalAccuracy") &&
                 Contains("FBetaScore and metrics by name (accuracy, acc, binary_accuracy"));

  // Keys that do not change results are read: dtype, name (the metric's History key), null
  // thresholds (Keras's default 0.5) and a one-element threshold list.
  json config = original;
  config["compile_config"]["metrics"][1]["config"]["dtype"] = "float64";
  config["compile_config"]["metrics"][1]["config"]["name"] = "pr_auc";
  config["compile_config"]["metrics"][2]["config"]["thresholds"] = nullptr;
  config["compile_config"]["metrics"][2]["config"].erase("class_id");
  const fs::path p = scratch.path() / "accepted.keras";
  write_bytes(p, k::keras::archive::write_archive({{"metadata.json", entries.at("metadata.json")},
                                                   {"config.json", config.dump()},
                                                   {"model.weights.h5", entries.at("model.weights.h5")}}));
  auto model = k::keras::load_model<float>(p);
  CHECK(model.metric_specs()[1].name == "pr_auc");
  const auto* precision = dynamic_cast<const k::metrics::Precision<float>*>(model.metric_specs()[2].object.get());
  REQUIRE(precision != nullptr);
  CHECK(precision->thresholds() == 0.5);
  CHECK(precision->class_id() == -1);
}

/// A metric class no registry knows: the mean prediction.
class MeanPrediction : public k::Metric<float> {
 public:
  MeanPrediction() : k::Metric<float>("mean_prediction") {}
  std::unique_ptr<k::Metric<float>> clone() const override { return std::make_unique<MeanPrediction>(*this); }
  void per_sample(k::ConstMatrixView<float>, k::ConstMatrixView<float> p, Eigen::Ref<k::Vector<float>> out) const override {
    out = p.rowwise().mean();
  }
};

TEST_CASE("A metric object without a Keras class is refused by save_model before anything is written", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  Classifier c = classifier();
  c.model.compile(k::optimizers::SGD<float>{0.05}, "binary_crossentropy", {MeanPrediction()});
  c.model.fit(c.x, c.y, {.batch_size = 20, .epochs = 1, .verbose = 0, .shuffle = false});
  const fs::path file = scratch.path() / "custom.keras";
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(c.model, file); }),
             Contains("keras::save_model: metric object 'mean_prediction' is of a class kerascpp's metric registry does "
                      "not know; Keras files hold metric objects of the classes BinaryAccuracy, CategoricalAccuracy") &&
                 Contains("FBetaScore and metrics by name"));
  CHECK_FALSE(fs::exists(file));
}


/// The entry `name` of a `.keras` archive.
std::string archive_entry(const fs::path& file, const std::string& name) {
  return k::keras::archive::read_archive(k::io::read_file(file), {name}).at(name);
}

/// The config.json of a `.keras` archive.
json config_of(const fs::path& file) { return json::parse(archive_entry(file, "config.json")); }

/// A `.keras` archive with the entries of `file` and `config` as its config.json.
void write_with_config(const fs::path& file, const json& config, const fs::path& target) {
  write_bytes(target, k::keras::archive::write_archive({{"metadata.json", archive_entry(file, "metadata.json")},
                                                        {"config.json", config.dump()},
                                                        {"model.weights.h5", archive_entry(file, "model.weights.h5")}}));
}

/// Checks that `loaded` has the optimizer of `original`: class, config with its schedule and
/// clipping, iteration count, slots, and the schedule's learning rate at several steps.
void check_same_optimizer(const k::Optimizer<float>& loaded, const k::Optimizer<float>& original) {
  REQUIRE(loaded.name() == original.name());
  CHECK(loaded.full_config() == original.full_config());
  CHECK(loaded.clipping() == original.clipping());
  CHECK(loaded.iterations() == original.iterations());
  CHECK(loaded.learning_rate() == original.learning_rate());
  REQUIRE((loaded.learning_rate_schedule() == nullptr) == (original.learning_rate_schedule() == nullptr));
  if (original.learning_rate_schedule())
    for (const std::int64_t step : {0, 1, 5, 9, 10, 11, 40, 1000}) {
      CAPTURE(step);
      CHECK((*loaded.learning_rate_schedule())(step) == (*original.learning_rate_schedule())(step));
    }
  REQUIRE(loaded.slot_weights() == original.slot_weights());
  for (std::size_t i = 0; i < loaded.slot_weights(); ++i)
    for (int s = 0; s < loaded.slots_per_weight(); ++s)
      CHECK(k::RowMatrix<float>(loaded.slot(i, s)) == k::RowMatrix<float>(original.slot(i, s)));
}

TEST_CASE("Learning-rate schedules and gradient clipping are written as Keras 3 serializes them and load back",
          "[keras_files]") {
  namespace sch = k::optimizers::schedules;
  const kerascpp_test::ScratchFolder scratch;
  struct Case {
    k::optimizers::LearningRate rate;
    k::optimizers::GradientClipping clipping;
    std::string learning_rate;  // the JSON expected for learning_rate
  };
  const std::string module = R"("module": "keras.optimizers.schedules", )";
  const std::vector<Case> cases{
      {sch::ExponentialDecay(0.01, 10, 0.9), {},
       "{" + module + R"("class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.01, "decay_steps": 10,
           "decay_rate": 0.9, "staircase": false, "name": "ExponentialDecay"}, "registered_name": null})"},
      {sch::ExponentialDecay(0.02, 4, 0.5, true), {.clipnorm = 1.0},
       "{" + module + R"("class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.02, "decay_steps": 4,
           "decay_rate": 0.5, "staircase": true, "name": "ExponentialDecay"}, "registered_name": null})"},
      {sch::PiecewiseConstantDecay({3, 6}, {0.02, 0.01, 0.005}), {.clipvalue = 0.5},
       "{" + module + R"("class_name": "PiecewiseConstantDecay", "config": {"boundaries": [3, 6],
           "values": [0.02, 0.01, 0.005], "name": "PiecewiseConstant"}, "registered_name": null})"},
      {sch::PolynomialDecay(0.03, 8, 0.001, 2.0, true), {.global_clipnorm = 2.5},
       "{" + module + R"("class_name": "PolynomialDecay", "config": {"initial_learning_rate": 0.03, "decay_steps": 8,
           "end_learning_rate": 0.001, "power": 2.0, "cycle": true, "name": "PolynomialDecay"}, "registered_name": null})"},
      {sch::InverseTimeDecay(0.02, 5, 0.5), {},
       "{" + module + R"("class_name": "InverseTimeDecay", "config": {"initial_learning_rate": 0.02, "decay_steps": 5,
           "decay_rate": 0.5, "staircase": false, "name": "InverseTimeDecay"}, "registered_name": null})"},
      {sch::CosineDecay(0.02, 20, 0.1), {},
       "{" + module + R"("class_name": "CosineDecay", "config": {"initial_learning_rate": 0.02, "decay_steps": 20,
           "alpha": 0.1, "name": "CosineDecay", "warmup_target": null, "warmup_steps": 0}, "registered_name": null})"},
      {sch::CosineDecay(0.0, 20, 0.0, 0.03, 6), {.clipnorm = 0.75},
       "{" + module + R"("class_name": "CosineDecay", "config": {"initial_learning_rate": 0.0, "decay_steps": 20,
           "alpha": 0.0, "name": "CosineDecay", "warmup_target": 0.03, "warmup_steps": 6}, "registered_name": null})"},
      {0.01, {.clipnorm = 1.0}, "0.01"},
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    CAPTURE(c);
    Trained t = trained_model();
    t.model.compile(k::optimizers::Adam<float>(cases[c].rate, 0.9, 0.999, 1e-7, cases[c].clipping), k::losses::Huber<float>(2.0));
    t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 3, .verbose = 0, .shuffle = false});
    REQUIRE(t.model.optimizer().iterations() == 9);
    const fs::path file = scratch.path() / "schedule.keras";
    k::keras::save_model(t.model, file);

    const json optimizer = config_of(file)["compile_config"]["optimizer"]["config"];
    CHECK(optimizer["learning_rate"].dump() == json::parse(cases[c].learning_rate).dump());
    if (optimizer["learning_rate"].is_object() && optimizer["learning_rate"]["config"].contains("decay_steps"))
      CHECK(optimizer["learning_rate"]["config"]["decay_steps"].is_number_integer());
    const auto clip = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    CHECK(optimizer["clipnorm"] == clip(cases[c].clipping.clipnorm));
    CHECK(optimizer["global_clipnorm"] == clip(cases[c].clipping.global_clipnorm));
    CHECK(optimizer["clipvalue"] == clip(cases[c].clipping.clipvalue));
    // With a schedule Keras keeps no learning-rate variable: the iteration count, then the 2 × 8 slots.
    const auto h5 = k::keras::hdf5::File::open(archive_entry(file, "model.weights.h5"));
    const bool scheduled = t.model.optimizer().learning_rate_schedule() != nullptr;
    CHECK(h5.members("/optimizer/vars").size() == (scheduled ? 17U : 18U));
    CHECK(h5.info("/optimizer/vars/1").dims == (scheduled ? std::vector<std::int64_t>{4, 6} : std::vector<std::int64_t>{}));

    auto loaded = k::keras::load_model<float>(file);
    check_same_optimizer(loaded.optimizer(), t.model.optimizer());
    CHECK(loaded.loss().name() == "huber");
    CHECK(loaded.predict(t.x) == t.model.predict(t.x));
    const k::FitOptions<float> more{.batch_size = 16, .epochs = 4, .verbose = 0, .shuffle = false};
    const auto continued = t.model.fit(t.x, t.y, more);
    const auto resumed = loaded.fit(t.x, t.y, more);
    CHECK(resumed.at("loss") == continued.at("loss"));
    CHECK(loaded.predict(t.x) == t.model.predict(t.x));
    CHECK(loaded.optimizer().learning_rate() == t.model.optimizer().learning_rate());
  }
}

TEST_CASE("A schedule and clipping of a Keras or tf.keras config load into the matching kerascpp optimizer", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  Trained t = trained_model();
  t.model.compile(k::optimizers::SGD<float>(k::optimizers::schedules::ExponentialDecay(0.1, 10, 0.5), 0.9), "mse");
  t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 1, .verbose = 0, .shuffle = false});
  const fs::path file = scratch.path() / "sgd.keras";
  k::keras::save_model(t.model, file);
  json config = config_of(file);
  json& opt = config["compile_config"]["optimizer"]["config"];
  // tf.keras 2 writes no module or registered_name; Keras takes decay_steps=1000.0 as 1000; a name is read and not used.
  opt["learning_rate"] = json::parse(R"({"class_name": "InverseTimeDecay", "config": {"initial_learning_rate": 0.05,
                                         "decay_steps": 4.0, "decay_rate": 0.25, "name": "my_decay"}})");
  opt["global_clipnorm"] = 3.0;
  opt["clipnorm"] = 0.0;  // Keras clips only with a positive value
  const fs::path edited = scratch.path() / "edited.keras";
  write_with_config(file, config, edited);
  auto loaded = k::keras::load_model<float>(edited);
  const auto& o = loaded.optimizer();
  REQUIRE(o.learning_rate_schedule() != nullptr);
  CHECK(o.learning_rate_schedule()->name() == "InverseTimeDecay");
  CHECK(o.learning_rate_schedule()->config() ==
        k::optimizers::schedules::InverseTimeDecay(0.05, 4, 0.25).config());
  CHECK(o.clipping() == k::optimizers::GradientClipping{.global_clipnorm = 3.0});
  CHECK(o.config().at("momentum") == "0.9");
  CHECK(o.iterations() == 3);
  CHECK(o.learning_rate() == Approx(0.05 / (1.0 + 0.25 * 3.0 / 4.0)).epsilon(1e-15));
}

TEST_CASE("A schedule or clipping kerascpp cannot represent is refused, on loading and on saving", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  Trained t = trained_model();
  t.model.compile(k::optimizers::Adam<float>(k::optimizers::schedules::ExponentialDecay(0.01, 10, 0.9)), "mse");
  t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 1, .verbose = 0, .shuffle = false});
  const fs::path file = scratch.path() / "adam.keras";
  k::keras::save_model(t.model, file);
  const json original = config_of(file);
  const auto refused = [&](const std::function<void(json&)>& edit) {
    json config = original;
    edit(config["compile_config"]["optimizer"]["config"]);
    const fs::path edited = scratch.path() / "edited.keras";
    write_with_config(file, config, edited);
    return thrown_message<k::ValueError>([&] { k::keras::load_model<float>(edited); });
  };
  const std::string at = "config.json compile_config optimizer Adam learning_rate";
  CHECK_THAT(refused([](json& c) {
               c["learning_rate"] = json::parse(R"({"module": "keras.optimizers.schedules", "class_name":
                 "CosineDecayRestarts", "config": {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0,
                 "m_mul": 1.0, "alpha": 0.0, "name": "SGDRDecay"}, "registered_name": null})");
             }),
             Contains(at + ": learning-rate schedule 'CosineDecayRestarts' is not supported; kerascpp reads the Keras "
                           "schedules ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay"));
  CHECK_THAT(refused([](json& c) {
               c["learning_rate"] = json::parse(R"({"module": "my_package.schedules", "class_name": "ExponentialDecay",
                 "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
                 "registered_name": "MyPackage>ExponentialDecay"})");
             }),
             Contains(at + ": learning-rate schedule 'ExponentialDecay' (module \"my_package.schedules\", registered_name "
                           "\"MyPackage>ExponentialDecay\") is not supported"));
  CHECK_THAT(refused([](json& c) { c["learning_rate"]["config"]["decay_steps"] = 2.5; }),
             Contains(at + " (ExponentialDecay): decay_steps=2.5 is not supported: kerascpp counts steps in whole numbers"));
  CHECK_THAT(refused([](json& c) { c["learning_rate"]["config"]["decay_steps"] = 0; }),
             Contains(at + " (ExponentialDecay): ExponentialDecay: decay_steps must be positive, received decay_steps=0"));
  CHECK_THAT(refused([](json& c) { c["learning_rate"]["config"]["offset"] = 3; }),
             Contains(at + " (ExponentialDecay): argument 'offset'=3 is not supported by kerascpp's ExponentialDecay"));
  CHECK_THAT(refused([](json& c) {
               c["clipnorm"] = 1.0;
               c["clipvalue"] = 0.5;
             }),
             Contains("config.json compile_config: optimizer: only one of clipnorm, clipvalue and global_clipnorm can be "
                      "set, received clipnorm=1, clipvalue=0.5, global_clipnorm=none"));
  CHECK_THAT(refused([](json& c) { c["gradient_accumulation_steps"] = 4; }),
             Contains("optimizer Adam: argument 'gradient_accumulation_steps'=4 is not supported by kerascpp"));
  const auto io_refused = [&](const std::function<void(json&)>& edit) {
    json config = original;
    edit(config["compile_config"]["optimizer"]["config"]);
    const fs::path edited = scratch.path() / "edited.keras";
    write_with_config(file, config, edited);
    return thrown_message<k::IOError>([&] { k::keras::load_model<float>(edited); });
  };
  CHECK_THAT(io_refused([](json& c) { c["learning_rate"]["config"].erase("decay_rate"); }),
             Contains(at + " (ExponentialDecay): missing key 'decay_rate'"));
}

/// A schedule of the program's own, registered in kerascpp but without a Keras class.
class Halving : public k::optimizers::schedules::LearningRateSchedule {
 public:
  double operator()(std::int64_t step) const override { return 0.01 / static_cast<double>(1 + step); }
  std::string name() const override { return "Halving"; }
  k::Config config() const override { return {}; }
};

TEST_CASE("save_model refuses a schedule without a Keras class before anything is written", "[keras_files]") {
  const kerascpp_test::ScratchFolder scratch;
  Trained t = trained_model();
  t.model.compile(k::optimizers::Adam<float>(Halving()), "mse");
  t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 1, .verbose = 0, .shuffle = false});
  const fs::path file = scratch.path() / "halving.keras";
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(t.model, file); }),
             Contains("keras::save_model: the optimizer's learning-rate schedule 'Halving' has no Keras class; Keras files "
                      "hold the schedules ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, "
                      "CosineDecay (keras.optimizers.schedules)"));
  CHECK_FALSE(fs::exists(file));
}

/// A regression model whose first layer is `norm` (input width 4), and its data.
Trained with_normalization(const k::layers::Normalization<float>& norm) {
  using namespace kerascpp::layers;
  Trained t = trained_model();
  t.model = k::Sequential<float>{norm, Dense<float>(5, "tanh"), Dense<float>(1)};
  t.model.set_seed(3);
  t.x.col(0) *= 3.0f;
  t.x.col(1).array() = 0.5f * t.x.col(1).array() + 7.0f;
  t.x.col(2) *= 10.0f;
  return t;
}

k::layers::Normalization<float>& normalization_of(k::Sequential<float>& model) {
  return dynamic_cast<k::layers::Normalization<float>&>(model.layer(0));
}

TEST_CASE("Normalization is written as keras.layers.Normalization and loads back, adapted or given its statistics",
          "[keras_files]") {
  using Norm = k::layers::Normalization<float>;
  const kerascpp_test::ScratchFolder scratch;
  const std::string head = R"({"module": "keras.layers", "class_name": "Normalization", "config": {"name": "normalization",
      "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
      "registered_name": null}, )";
  const std::string tail = R"(}, "registered_name": null, "build_config": {"input_shape": [null, 4]}})";
  struct Case {
    Norm norm;
    bool adapt;
    std::string keras;  // the layer's JSON
  };
  const std::vector<Case> cases{
      {Norm(-1, {}, {}, false, k::input_shape{4}), true, head + R"("axis": [-1], "invert": false, "mean": null, "variance": null)" + tail},
      {Norm(-1, {1.0, 7.0, -2.0, 0.5}, {9.0, 0.25, 100.0, 1.0}, false, k::input_shape{4}), false,
       head + R"("axis": [-1], "invert": false, "mean": [1.0, 7.0, -2.0, 0.5], "variance": [9.0, 0.25, 100.0, 1.0])" + tail},
      {Norm(1, {2.0}, {4.0}, true, k::input_shape{4}), false,
       head + R"("axis": [1], "invert": true, "mean": 2.0, "variance": 4.0)" + tail},
      // Given statistics changed by adapt are written as an adapted layer's, so that none is lost.
      {Norm(-1, {2.0}, {4.0}, false, k::input_shape{4}), true,
       head + R"("axis": [-1], "invert": false, "mean": null, "variance": null)" + tail},
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    CAPTURE(c);
    Trained t = with_normalization(cases[c].norm);
    if (cases[c].adapt) normalization_of(t.model).adapt(t.x);
    t.model.compile(k::optimizers::Adam<float>(0.01), "mse");
    t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false});
    const fs::path file = scratch.path() / "normalization.keras";
    k::keras::save_model(t.model, file);
    const k::Matrix<float> saved = t.model.predict(t.x);

    CHECK(config_of(file)["config"]["layers"][1].dump() == json::parse(cases[c].keras).dump());
    const auto h5 = k::keras::hdf5::File::open(archive_entry(file, "model.weights.h5"));
    const bool variables = cases[c].adapt;
    REQUIRE(h5.is_group("/layers/normalization/vars"));
    REQUIRE(h5.members("/layers/normalization/vars").size() == (variables ? 3U : 0U));
    if (variables) {
      const auto mean = h5.info("/layers/normalization/vars/0"), variance = h5.info("/layers/normalization/vars/1");
      const auto count = h5.info("/layers/normalization/vars/2");
      CHECK(mean.dims == std::vector<std::int64_t>{4});
      CHECK(variance.dims == std::vector<std::int64_t>{4});
      CHECK(h5.read<float>(mean) == std::vector<float>(normalization_of(t.model).weights()[0].value->data(),
                                                       normalization_of(t.model).weights()[0].value->data() + 4));
      CHECK((count.dims.empty() && count.dtype == "int64" && h5.read<std::int64_t>(count, true).front() == 0));
    }
    // Normalization's weights are not trainable: the optimizer's variables are those of the two Dense layers.
    CHECK(h5.members("/optimizer/vars").size() == 2U + 2U * 4U);

    auto loaded = k::keras::load_model<float>(file);
    auto& norm = normalization_of(loaded);
    const auto& original = normalization_of(t.model);
    CHECK(norm.config() == (cases[c].adapt ? Norm(original.axis(), {}, {}, original.invert()).config() : original.config()));
    CHECK(*norm.weights()[0].value == *normalization_of(t.model).weights()[0].value);
    CHECK(*norm.weights()[1].value == *normalization_of(t.model).weights()[1].value);
    CHECK(loaded.predict(t.x) == saved);
    const k::FitOptions<float> more{.batch_size = 16, .epochs = 2, .verbose = 0, .shuffle = false};
    CHECK(loaded.fit(t.x, t.y, more).at("loss") == t.model.fit(t.x, t.y, more).at("loss"));
    CHECK(loaded.predict(t.x) == t.model.predict(t.x));

    // load_weights: into a layer to adapt when the file keeps the statistics, into a layer given
    // them (which keeps its own when the file has none).
    Trained other = with_normalization(variables ? Norm(-1, {}, {}, false, k::input_shape{4}) : cases[c].norm);
    k::keras::load_weights(other.model, file);
    CHECK(other.model.predict(t.x) == saved);
  }
}

TEST_CASE("A Normalization that kerascpp cannot write or read as Keras does is refused", "[keras_files]") {
  using Norm = k::layers::Normalization<float>;
  const kerascpp_test::ScratchFolder scratch;
  Trained t = with_normalization(Norm(-1, {}, {}, false, k::input_shape{4}));
  const fs::path unadapted = scratch.path() / "unadapted.keras";
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(t.model, unadapted); }),
             Contains("keras::save_model: layer 'normalization' (Normalization) has no statistics yet (its mean or variance "
                      "is NaN), which Keras would take as its mean and variance; call adapt(x) on the model's layer"));
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_weights(t.model, scratch.path() / "w.weights.h5"); }),
             Contains("keras::save_weights: layer 'normalization' (Normalization) has no statistics yet"));
  CHECK_FALSE(fs::exists(unadapted));

  Trained given = with_normalization(Norm(-1, {0.5}, {2.0}, false, k::input_shape{4}));
  const fs::path file = scratch.path() / "given.keras";
  k::keras::save_model(given.model, file);
  json config = config_of(file);
  const auto refused = [&](const std::function<void(json&)>& edit) {
    json c = config;
    edit(c["config"]["layers"][1]["config"]);
    const fs::path edited = scratch.path() / "edited.keras";
    write_with_config(file, c, edited);
    return thrown_message<k::ValueError>([&] { k::keras::load_model<float>(edited); });
  };
  const std::string at = "config.json layers[1] 'normalization' (Normalization): ";
  CHECK_THAT(refused([](json& c) { c["axis"] = nullptr; }),
             Contains(at + "axis=null is not supported: kerascpp's Normalization keeps a mean and variance per feature"));
  CHECK_THAT(refused([](json& c) { c["axis"] = json::array({0, 1}); }), Contains(at + "axis=[0,1] is not supported"));
  CHECK_THAT(refused([](json& c) { c["mean"] = json::parse("[[1.0, 2.0]]"); }),
             Contains(at + "mean=[[1.0,2.0]] is not supported: kerascpp's Normalization takes one value or one per feature"));
  CHECK_THAT(refused([](json& c) {
               c["mean"] = json::array({1.0, 2.0, 3.0});
               c["variance"] = json::array({1.0, 2.0, 3.0});
             }),
             Contains("Normalization: mean and variance have 3 values but the input has width 4; give one value or 4"));

  // The file keeps no variables for a layer given its statistics: a layer to adapt cannot take them from it.
  Trained to_adapt = with_normalization(Norm(-1, {}, {}, false, k::input_shape{4}));
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::load_weights(to_adapt.model, file); }),
             Contains("/layers/normalization/vars: layer 0 'normalization' (Normalization) has 2 weights (3 variables in "
                      "Keras's layout), the file holds 0 variables (Keras keeps an adapted Normalization's mean, variance and count, and no "
                      "variable for one given its mean and variance, which are then in its config: construct the layer with "
                      "them, or use keras::load_model)"));
}

TEST_CASE("save_model writes an adapted Normalization, a schedule and clipping for the h5py check", "[keras_files]") {
  Trained t = with_normalization(k::layers::Normalization<float>(-1, {}, {}, false, k::input_shape{4}));
  normalization_of(t.model).adapt(t.x);
  t.model.compile(k::optimizers::Adam<float>(k::optimizers::schedules::ExponentialDecay(0.01, 10, 0.9), 0.9, 0.999, 1e-7,
                                             {.clipnorm = 1.0}),
                  k::losses::Huber<float>(2.0));
  t.model.fit(t.x, t.y, {.batch_size = 16, .epochs = 3, .verbose = 0, .shuffle = false});
  const fs::path folder = KERASCPP_KERAS_OUT_DIR;
  fs::create_directories(folder);
  const fs::path file = folder / "normalization_schedule.keras";
  k::keras::save_model(t.model, file);
  const k::Matrix<float> predicted = write_predictions_beside(t, folder / "normalization_schedule.predictions.json");
  CHECK(k::keras::load_model<float>(file).predict(t.x) == predicted);
}

TEST_CASE("save_model refuses layer names Keras would not load: repeated ones and names that are not UTF-8",
          "[keras_files][errors]") {
  const kerascpp_test::ScratchFolder scratch;
  const fs::path file = scratch.path() / "m.keras";
  const auto named = [](const std::string& first, const std::string& second) {
    k::layers::Dense<float> a(2, "relu", k::input_shape{3}), b(1);
    a.set_name(first);
    b.set_name(second);
    k::Sequential<float> model;
    model.add(a);
    model.add(b);
    return model;
  };
  // Keras's Sequential.add raises "All layers added to a Sequential model should have unique names"
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(named("same", "same"), file); }),
             Contains("keras::save_model: two layers are named 'same'; expected unique layer names, as Keras's "
                      "Sequential refuses to load repeated ones: set_name() one of them"));
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(named("input_layer", "x"), file); }),
             Contains("two layers are named 'input_layer' (the name of the input layer Keras adds)"));
  // nlohmann/json's dump throws its own type_error for such text
  CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(named("bad\xff", "x"), file); }),
             Contains("keras::save_model: layer name 'bad\\xff' is not valid UTF-8; expected a UTF-8 name"));
  CHECK_FALSE(fs::exists(file));
  const std::string odd = "q\"u'o\\te \xC3\xBC";
  k::keras::save_model(named(odd, "x"), file);
  CHECK(k::keras::load_model<float>(file).layer(0).name() == odd);
}

TEST_CASE("save_model and save_weights refuse what a Keras file would not hold faithfully, before anything is written",
          "[keras_files][errors]") {
  const kerascpp_test::ScratchFolder scratch;
  const fs::path file = scratch.path() / "m.keras", weights = scratch.path() / "m.weights.h5";
  const auto nothing_written = [&] { return !fs::exists(file) && !fs::exists(weights); };
  const auto dense = [](const k::optimizers::LearningRate& rate, k::optimizers::GradientClipping clipping = {}) {
    k::Sequential<float> model{k::layers::Dense<float>(2, "linear", k::input_shape{3})};
    model.compile(k::optimizers::SGD<float>(rate, 0.0, false, clipping), "mse");
    return model;
  };
  SECTION("a weight beyond float32 (Keras files hold float32)") {
    k::Sequential<double> model{k::layers::Dense<double>(1, "linear", k::input_shape{2})};
    model.set_weights({k::Matrix<double>::Constant(2, 1, 1e300), k::Matrix<double>::Zero(1, 1)});
    CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(model, file); }),
               Contains("keras::save_model: layer 0 'dense' weight 'kernel' holds 1e+300 at element 0, beyond the range of "
                        "float32 (largest magnitude 3.40282346638529e+38)"));
    CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_weights(model, weights); }),
               Contains("keras::save_weights: layer 0 'dense' weight 'kernel' holds 1e+300"));
    model.set_weights({k::Matrix<double>::Constant(2, 1, 3e38), k::Matrix<double>::Zero(1, 1)});  // within float32
    k::keras::save_model(model, file);
    CHECK(k::keras::load_model<double>(file).get_weights()[0](0, 0) == static_cast<double>(3e38f));
    fs::remove(file);
  }
  SECTION("a name Keras 3 would not read as what is written") {
    const auto model = dense(0.1);
    CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_model(model, scratch.path() / "m.h5"); }),
               Contains("keras::save_model: '") && Contains("m.h5' does not end in .keras"));
    CHECK_THAT(thrown_message<k::ValueError>([&] { k::keras::save_weights(model, scratch.path() / "m.keras"); }),
               Contains("keras::save_weights: '") && Contains("m.keras' does not end in .weights.h5"));
    CHECK_THROWS_AS(k::keras::save_weights(model, scratch.path() / ".weights.h5"), k::ValueError);
    CHECK(fs::is_empty(scratch.path()));
  }
  SECTION("a moved-from model") {
    auto model = dense(0.1);
    k::keras::save_weights(model, weights);
    auto moved = std::move(model);
    CHECK_THAT(thrown_message<k::StateError>([&] { k::keras::save_model(model, file); }),
               Contains("keras::save_model: this model was moved from"));
    CHECK_THAT(thrown_message<k::StateError>([&] { k::keras::load_weights(model, weights); }),
               Contains("keras::load_weights: this model was moved from"));
    fs::remove(weights);
    CHECK_THAT(thrown_message<k::StateError>([&] { k::keras::save_weights(model, weights); }),
               Contains("keras::save_weights: this model was moved from"));
  }
  CHECK(nothing_written());
}

}  // namespace test_keras_files

#endif  // KERASCPP_TEST_KERAS_FILES
