// Tests of the gradient clipping of kerascpp/optimizers.hpp (Keras's clipnorm, global_clipnorm and
// clipvalue, keras/src/optimizers/base_optimizer.py): closed forms on the parameter store's flat
// buffers (padding never counts), PyTorch's clip_grad_norm_ / clip_grad_value_ on the reference of
// tools/make_clipping_reference.py, threads, argument checks, saving and loading.
#include "gradient_check.hpp"
#include "scratch_folder.hpp"

#include <kerascpp/kerascpp.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_clipping {

using namespace kerascpp;
using Catch::Contains;
using kerascpp_test::identical;
using kerascpp_test::thrown_message;
using optimizers::GradientClipping;

/// Zero weights of the given shapes in one store, with their gradients: after one SGD step with
/// learning rate 1, each weight holds minus its clipped gradient.
template <typename Scalar>
struct Store {
  explicit Store(const std::vector<RowMatrix<double>>& gradients) {
    values.reserve(gradients.size());
    grads.reserve(gradients.size());
    std::vector<Weight<Scalar>> weights;
    for (const auto& g : gradients) {
      values.emplace_back() = RowMatrix<Scalar>::Zero(g.rows(), g.cols());
      grads.emplace_back() = g.cast<Scalar>();
      weights.push_back({"w", &values.back(), &grads.back()});
    }
    store.adopt(weights);
  }
  /// −w after one step of SGD(1.0) with `clipping`: the clipped gradient of each tensor.
  std::vector<RowMatrix<double>> clipped(const GradientClipping& clipping) {
    optimizers::SGD<Scalar> sgd(1.0, 0.0, false, clipping);
    sgd.apply(store);
    std::vector<RowMatrix<double>> out;
    for (const auto& v : values) out.push_back(-RowMatrix<Scalar>(v).template cast<double>());
    return out;
  }
  std::vector<Param<Scalar>> values, grads;
  ParameterStore<Scalar> store;
};

RowMatrix<double> row(std::initializer_list<double> v) {
  RowMatrix<double> m(1, static_cast<Index>(v.size()));
  Index j = 0;
  for (const double x : v) m(0, j++) = x;
  return m;
}

void check_close(const RowMatrix<double>& actual, const RowMatrix<double>& expected, double tolerance) {
  INFO("actual " << actual << "\nexpected " << expected);
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  for (Index k = 0; k < actual.size(); ++k) CHECK(actual.data()[k] == Approx(expected.data()[k]).epsilon(tolerance));
}

/// tests/data/clipping_reference.txt: "key|index|values" lines.
std::map<std::string, std::vector<std::string>> reference() {
  std::ifstream in(std::string(KERASCPP_TEST_DATA_DIR) + "/clipping_reference.txt");
  REQUIRE(in.good());
  std::map<std::string, std::vector<std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::istringstream parts(line);
    std::string field;
    while (std::getline(parts, field, '|')) fields.push_back(field);
    const std::string key = fields.at(0) + "|" + fields.at(1);
    out[key] = std::vector<std::string>(fields.begin() + 2, fields.end());
  }
  return out;
}

std::vector<double> numbers(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stod(item));
  return out;
}

/// Tensor k of `key` in the reference, shaped like `like`.
RowMatrix<double> tensor(const std::map<std::string, std::vector<std::string>>& ref, const std::string& key, int k,
                         Index rows, Index cols) {
  const auto values = numbers(ref.at(key + "|" + std::to_string(k)).at(0));
  REQUIRE(static_cast<Index>(values.size()) == rows * cols);
  return Eigen::Map<const RowMatrix<double>>(values.data(), rows, cols);
}


TEST_CASE("clipnorm, global_clipnorm, clipvalue: closed forms, padding never counts", "[clipping]") {
  // g0 = [−1, 2, −2] (‖g0‖ = 3, one element of padding after it in double), g1 = [4] (‖g1‖ = 4);
  // ‖G‖ = 5.
  const std::vector<RowMatrix<double>> g{row({-1.0, 2.0, -2.0}), row({4.0})};
  SECTION("clipnorm 2: each tensor scaled by 2 / max(‖g‖, 2)") {
    const auto c = Store<double>(g).clipped({.clipnorm = 2.0});
    check_close(c[0], row({-2.0 / 3.0, 4.0 / 3.0, -4.0 / 3.0}), 1e-15);
    check_close(c[1], row({2.0}), 1e-15);
    const auto loose = Store<double>(g).clipped({.clipnorm = 3.5});  // ‖g0‖ = 3 ≤ 3.5 stays as it was
    CHECK(identical(loose[0], g[0]));
    check_close(loose[1], row({3.5}), 1e-15);
  }
  SECTION("global_clipnorm 2.5: every tensor scaled by 2.5 / 5") {
    const auto c = Store<double>(g).clipped({.global_clipnorm = 2.5});
    check_close(c[0], row({-0.5, 1.0, -1.0}), 1e-15);
    check_close(c[1], row({2.0}), 1e-15);
    const auto loose = Store<double>(g).clipped({.global_clipnorm = 5.0});  // ‖G‖ = 5 is not above 5
    CHECK(identical(loose[0], g[0]));
    CHECK(identical(loose[1], g[1]));
  }
  SECTION("clipvalue 1.5: every element clamped to [−1.5, 1.5]") {
    const auto c = Store<double>(g).clipped({.clipvalue = 1.5});
    CHECK(identical(c[0], row({-1.0, 1.5, -1.5})));
    CHECK(identical(c[1], row({1.5})));
  }
  SECTION("a value in the padding of the gradient buffer counts in no norm and is never clipped") {
    Store<double> s(g);
    REQUIRE(s.store.trainable()[1].offset == 4);  // g0 at [0, 3), padding at 3, g1 at 4
    s.store.grads()[3] = 100.0;
    optimizers::SGD<double> sgd(1.0, 0.0, false, {.global_clipnorm = 2.5});
    sgd.apply(s.store);
    CHECK(s.store.grads()[3] == 100.0);
    check_close(-RowMatrix<double>(s.values[0]), row({-0.5, 1.0, -1.0}), 1e-15);
    Store<double> t(g);
    t.store.grads()[3] = 100.0;
    optimizers::SGD<double> by_tensor(1.0, 0.0, false, {.clipnorm = 2.0});
    by_tensor.apply(t.store);
    check_close(-RowMatrix<double>(t.values[0]), row({-2.0 / 3.0, 4.0 / 3.0, -4.0 / 3.0}), 1e-15);
  }
  SECTION("float: the same numbers to float rounding") {
    const auto c = Store<float>(g).clipped({.global_clipnorm = 2.5});
    check_close(c[0], row({-0.5, 1.0, -1.0}), 1e-6);
    const auto n = Store<float>(g).clipped({.clipnorm = 2.0});
    check_close(n[0], row({-2.0 / 3.0, 4.0 / 3.0, -4.0 / 3.0}), 1e-6);
  }
  SECTION("a non-finite global norm makes the step's gradient NaN, as in Keras") {
    std::vector<RowMatrix<double>> inf = g;
    inf[1](0, 0) = std::numeric_limits<double>::infinity();
    const auto c = Store<double>(inf).clipped({.global_clipnorm = 1.0});
    CHECK(std::isnan(c[0](0, 0)));
  }
}

TEST_CASE("clipping against PyTorch's clip_grad_norm_ and clip_grad_value_", "[clipping][torch]") {
  const auto ref = reference();
  const std::vector<std::pair<Index, Index>> shapes{{3, 4}, {1, 4}, {4, 2}};
  REQUIRE(ref.at("shapes|3x4") == std::vector<std::string>{"1x4", "4x2"});
  std::vector<RowMatrix<double>> grads;
  std::vector<double> norms;
  for (int k = 0; k < 3; ++k) {
    grads.push_back(tensor(ref, "grad", k, shapes[static_cast<std::size_t>(k)].first, shapes[static_cast<std::size_t>(k)].second));
    norms.push_back(std::stod(ref.at("norm|" + std::to_string(k)).at(0)));
  }
  const double global = std::stod(ref.at("norm|all").at(0));
  // PyTorch scales a clipped tensor by c / (‖g‖ + 1e-6), Keras by c / ‖g‖: undo that factor, then
  // the numbers agree to double rounding.
  const auto compare = [&](const std::string& key, const GradientClipping& clipping, auto norm_of, double c) {
    INFO(key);
    const auto ours = Store<double>(grads).clipped(clipping);
    for (int k = 0; k < 3; ++k) {
      const auto [rows, cols] = shapes[static_cast<std::size_t>(k)];
      const double norm = norm_of(k);
      const double undo = norm + 1e-6 > c ? (norm + 1e-6) / norm : 1.0;
      check_close(ours[static_cast<std::size_t>(k)], tensor(ref, key, k, rows, cols) * undo, 1e-12);
      check_close(ours[static_cast<std::size_t>(k)], tensor(ref, key, k, rows, cols), 1e-6);
    }
  };
  const auto own = [&](int k) { return norms[static_cast<std::size_t>(k)]; };
  const auto all = [&](int) { return global; };
  compare("clipnorm 1.0", {.clipnorm = 1.0}, own, 1.0);
  compare("clipnorm 2.5", {.clipnorm = 2.5}, own, 2.5);
  compare("global_clipnorm 1.0", {.global_clipnorm = 1.0}, all, 1.0);
  compare("global_clipnorm 100.0", {.global_clipnorm = 100.0}, all, 100.0);
  const auto clamped = Store<double>(grads).clipped({.clipvalue = 0.5});
  for (int k = 0; k < 3; ++k) {
    const auto [rows, cols] = shapes[static_cast<std::size_t>(k)];
    CHECK(identical(clamped[static_cast<std::size_t>(k)], tensor(ref, "clipvalue 0.5", k, rows, cols)));
  }
}

TEST_CASE("clipping applies to the whole batch's summed gradient when threads share the batch", "[clipping][threads]") {
  const RowMatrix<double> x = kerascpp_test::uniform_matrix(512, 32, -1.0, 1.0, 3);
  const RowMatrix<double> y = kerascpp_test::uniform_matrix(512, 1, -1.0, 1.0, 4);
  const auto train = [&](int threads, GradientClipping clipping) {
    set_num_threads(threads);
    Sequential<double> model;
    model.set_seed(11);
    model.add(layers::Dense<double>(64, "tanh", input_shape{32}));
    model.add(layers::Dense<double>(64, "tanh"));
    model.add(layers::Dense<double>(1));
    model.compile(optimizers::SGD<double>(0.5, 0.0, false, clipping), "mse");
    const auto history = model.fit(x, y, {.batch_size = 256, .epochs = 3, .verbose = 0});
    set_num_threads(1);
    return std::pair{history.at("loss"), model.trainer().workers().most_threads()};
  };
  for (const GradientClipping clipping : {GradientClipping{.clipnorm = 0.05}, GradientClipping{.global_clipnorm = 0.05},
                                          GradientClipping{.clipvalue = 0.001}}) {
    const auto [one, one_threads] = train(1, clipping);
    const auto [two, two_threads] = train(2, clipping);
    const std::vector<double> unclipped = train(1, {}).first;
    CHECK(one_threads == 1);
    CHECK(two_threads == 2);
    REQUIRE(one.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) CHECK(two[e] == Approx(one[e]).epsilon(1e-12));
    CHECK(one.back() != Approx(unclipped.back()).epsilon(1e-6));  // the clipping changed the training
  }
}

TEST_CASE("at most one clipping option, each finite and positive", "[clipping][errors]") {
  CHECK_THAT(thrown_message<ValueError>([] { optimizers::Adam<float>(0.001, 0.9, 0.999, 1e-7, {.clipnorm = 1.0, .global_clipnorm = 2.0}); }),
             Contains("only one of clipnorm, clipvalue and global_clipnorm can be set, received clipnorm=1, "
                      "clipvalue=none, global_clipnorm=2"));
  CHECK_THAT(thrown_message<ValueError>([] { optimizers::SGD<float>(0.01, 0.0, false, {.clipnorm = 1.0, .clipvalue = 0.5}); }),
             Contains("only one of clipnorm, clipvalue and global_clipnorm"));
  CHECK_THAT(thrown_message<ValueError>([] { optimizers::RMSprop<float>(0.001, 0.9, 0.0, 1e-7, false, {.clipvalue = 0.0}); }),
             Contains("clipvalue must be a finite positive number, received clipvalue=0"));
  CHECK_THAT(thrown_message<ValueError>([] { optimizers::Adagrad<float>(0.001, 0.1, 1e-7, {.global_clipnorm = -1.0}); }),
             Contains("global_clipnorm must be a finite positive number, received global_clipnorm=-1"));
  CHECK_THROWS_AS(optimizers::AdamW<float>(0.001, 0.004, 0.9, 0.999, 1e-7, {.clipnorm = std::numeric_limits<double>::infinity()}),
                  ValueError);
  optimizers::AdamW<float> adamw(0.001, 0.004, 0.9, 0.999, 1e-7, {.clipvalue = 2.0});
  CHECK(adamw.clipping() == GradientClipping{.clipvalue = 2.0});
}

TEST_CASE("clipping is saved and loaded with the optimizer, and training continues bit-identically", "[clipping][saving]") {
  const RowMatrix<double> x = kerascpp_test::uniform_matrix(40, 3, -1.0, 1.0, 7);
  const RowMatrix<double> y = kerascpp_test::uniform_matrix(40, 1, -2.0, 2.0, 8);
  for (const GradientClipping clipping : {GradientClipping{.clipnorm = 0.1}, GradientClipping{.global_clipnorm = 0.1},
                                          GradientClipping{.clipvalue = 0.01}}) {
    Sequential<double> model;
    model.set_seed(2);
    model.add(layers::Dense<double>(5, "relu", input_shape{3}));
    model.add(layers::Dense<double>(1));
    model.compile(optimizers::RMSprop<double>(0.01, 0.9, 0.0, 1e-7, false, clipping), "mse");
    model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    kerascpp_test::ScratchFolder folder;
    model.save(folder.path() / "m.kcpp");
    Sequential<double> loaded = load_model<double>(folder.path() / "m.kcpp");
    CHECK(loaded.optimizer().clipping() == clipping);
    model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    loaded.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    CHECK(identical(loaded.predict(x), model.predict(x)));
  }
  const optimizers::Adam<double> adam(0.001, 0.9, 0.999, 1e-7, {.global_clipnorm = 1.5});
  const Config config = optimizer_registry<double>().find("Adam")->get_config(adam);
  CHECK(config.at("global_clipnorm") == "1.5");
  CHECK(config.count("clipnorm") == 0);
  Config both = config;
  both["clipvalue"] = "0.5";
  ConfigReader reader(both, "optimizer Adam");
  CHECK_THAT(thrown_message<ValueError>([&] { optimizer_registry<double>().find("Adam")->from_config(reader); }),
             Contains("only one of clipnorm, clipvalue and global_clipnorm can be set"));
  Config malformed = config;
  malformed["global_clipnorm"] = "big";
  ConfigReader bad(malformed, "optimizer Adam");
  CHECK_THAT(thrown_message<ConfigError>([&] { optimizer_registry<double>().find("Adam")->from_config(bad); }),
             Contains("'global_clipnorm' must be a number, found 'big'"));
}

}  // namespace test_clipping
