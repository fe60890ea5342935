// Misuse that must end in a clear exception, never in undefined behaviour: sizes at the integer
// limits, a model changed, moved or destroyed by a callback while fit runs, a moved-from model,
// weights that are NaN or negative on every path that takes them, indices out of range.
// docs/errors.md lists each case with the test below that checks it.
#include "gradient_check.hpp"
#include "scratch_folder.hpp"

#include <catch2/catch.hpp>
#include <kerascpp/kerascpp.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer an allocation larger than it allows must fail the way it does without
// it (std::bad_alloc, which the library turns into its own error) instead of ending the test.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
#endif

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_misuse {

namespace keras = kerascpp;
using namespace keras::layers;
using Catch::Contains;
using kerascpp_test::thrown_message;

namespace {

keras::Matrix<float> inputs(keras::Index rows) {
  keras::Matrix<float> x(rows, 3);
  for (keras::Index i = 0; i < rows; ++i)
    for (keras::Index j = 0; j < 3; ++j) x(i, j) = std::sin(static_cast<float>(3 * i + j));
  return x;
}

keras::Matrix<float> targets(const keras::Matrix<float>& x) { return x.rowwise().sum() * 0.5f; }

keras::Sequential<float> small_model() {
  keras::Sequential<float> model{Dense<float>(8, "relu", keras::input_shape{3}), Dense<float>(1)};
  model.set_seed(7);
  model.compile("adam", "mse");
  return model;
}

/// A callback that runs `action` once, at the end of the first batch.
struct OnFirstBatch : keras::Callback<float> {
  std::function<void()> action;
  bool done = false;
  void on_batch_end(int, keras::Logs&) override {
    if (done) return;
    done = true;
    action();
  }
};

}  // namespace

TEST_CASE("batch_size at the largest integer trains, evaluates and predicts as one whole batch", "[misuse][limits]") {
  const auto x = inputs(40);
  const auto y = targets(x);
  constexpr keras::Index huge = std::numeric_limits<keras::Index>::max();
  auto a = small_model(), b = small_model();
  const auto ha = a.fit(x, y, {.batch_size = huge, .epochs = 2, .verbose = 0, .validation_split = 0.25});
  const auto hb = b.fit(x, y, {.batch_size = 30, .epochs = 2, .verbose = 0, .validation_split = 0.25});
  CHECK(ha.history == hb.history);  // 30 training rows: one batch either way
  CHECK(a.evaluate(x, y, {.batch_size = huge}).at("loss") == a.evaluate(x, y, {.batch_size = 40}).at("loss"));
  CHECK(a.predict(x, huge) == a.predict(x, 40));
}

TEST_CASE("An optimizer step count at its limit is refused instead of overflowing", "[misuse][limits]") {
  const auto x = inputs(8);
  const auto y = targets(x);
  auto model = small_model();
  model.train_on_batch(x, y);
  model.optimizer().set_iterations(std::numeric_limits<std::int64_t>::max());
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.train_on_batch(x, y); }),
             Contains("Adam: iterations has reached its limit 9223372036854775807"));
}

TEST_CASE("Layer widths whose weights cannot exist name the layer and the size", "[misuse][limits]") {
  const auto message = thrown_message<keras::ValueError>([] {
    keras::Sequential<float> m{Dense<float>(std::numeric_limits<keras::Index>::max() / 2, "linear", keras::input_shape{16})};
  });
  CHECK_THAT(message, Contains("dense (input width 16)"));
  CHECK_THAT(message, Contains("more elements than memory can address"));
  const auto too_big = thrown_message<keras::ValueError>([] {
    keras::Sequential<float> m{Dense<float>(keras::Index{1} << 42, "linear", keras::input_shape{1})};
  });
  CHECK_THAT(too_big, Contains("dense (input width 1): could not allocate a weight of shape (1, 4398046511104)"));
}

TEST_CASE("A batch whose buffers cannot be allocated names the layer and asks for a smaller batch", "[misuse][limits]") {
  constexpr keras::Index rows = keras::Index{1} << 22, units = keras::Index{1} << 20;  // z would need 16 TiB
  const keras::Matrix<float> x = keras::Matrix<float>::Ones(rows, 1), y = keras::Matrix<float>::Zero(rows, 1);
  keras::Sequential<float> model{Dense<float>(units, "relu", keras::input_shape{1}), Dense<float>(1)};
  model.compile("sgd", "mse");
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.evaluate(x, y, {.batch_size = rows}); }),
             Contains("dense: could not allocate the buffers for a batch of 4194304 rows of width 1048576; use a smaller batch_size"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { (void)model.predict(x, rows); }),
             Contains("could not allocate"));
  CHECK(model.evaluate(x.topRows(64), y.topRows(64)).count("loss") == 1);  // still usable with a sensible batch
}

TEST_CASE("A callback may not change the model while fit runs", "[misuse][reentrancy]") {
  const auto x = inputs(64);
  const auto y = targets(x);
  const std::pair<const char*, std::function<void(keras::Sequential<float>&)>> changes[] = {
      {"add cannot be called while fit is running", [](auto& m) { m.add(Dense<float>(2)); }},
      {"compile cannot be called while fit is running", [](auto& m) { m.compile("sgd", "mae"); }},
      {"fit cannot be called while fit is running", [&](auto& m) { m.fit(x, y, {.verbose = 0}); }},
      {"train_on_batch cannot be called while fit is running", [&](auto& m) { m.train_on_batch(x, y); }},
      {"set_seed cannot be called while fit is running", [](auto& m) { m.set_seed(3); }},
      {"move cannot be called while fit is running", [](auto& m) { keras::Sequential<float> other(std::move(m)); }},
      {"move assignment cannot be called while fit is running",
       [](auto& m) {
         keras::Sequential<float> other = small_model();
         m = std::move(other);
       }},
  };
  for (const auto& entry : changes) {
    const char* expected = entry.first;
    const auto& change = entry.second;  // a plain reference: clang 14 cannot capture structured bindings
    INFO(expected);
    auto model = small_model();
    const auto before = model.get_weights();
    OnFirstBatch cb;
    cb.action = [&] { change(model); };
    CHECK_THAT(thrown_message<keras::StateError>([&] { model.fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&cb}}); }),
               Contains(expected));
    CHECK(model.size() == 2);
    // The model is usable afterwards and is no longer marked as training.
    CHECK_NOTHROW(model.fit(x, y, {.epochs = 1, .verbose = 0}));
  }
}

TEST_CASE("A callback that destroys the model ends fit with a StateError", "[misuse][reentrancy]") {
  const auto x = inputs(64);
  const auto y = targets(x);
  auto owner = std::make_unique<keras::Sequential<float>>(small_model());
  OnFirstBatch cb;
  cb.action = [&] { owner.reset(); };
  keras::Sequential<float>* model = owner.get();
  CHECK_THAT(thrown_message<keras::StateError>([&] { model->fit(x, y, {.epochs = 2, .verbose = 0, .callbacks = {&cb}}); }),
             Contains("fit: the model was destroyed by a callback while fit was running"));
  CHECK(owner == nullptr);
}

TEST_CASE("evaluate and predict inside a callback see the weights of that moment", "[misuse][reentrancy]") {
  const auto x = inputs(96);
  const auto y = targets(x);
  const auto xv = inputs(40), yv = targets(inputs(40));
  auto model = small_model();
  struct Probe : keras::Callback<float> {
    keras::Sequential<float>* model = nullptr;
    const keras::Matrix<float>* xv = nullptr;
    const keras::Matrix<float>* yv = nullptr;
    std::vector<double> evaluated, validated, predicted;
    void on_epoch_end(int, keras::Logs& logs) override {
      evaluated.push_back(model->evaluate(*xv, *yv).at("loss"));
      validated.push_back(logs.at("val_loss"));
      predicted.push_back(static_cast<double>(model->predict(*xv).array().square().sum()));
    }
  } probe;
  probe.model = &model;
  probe.xv = &xv;
  probe.yv = &yv;
  model.fit(x, y, {.batch_size = 16, .epochs = 3, .verbose = 0, .callbacks = {&probe}, .validation_data = keras::Dataset{xv, yv}});
  REQUIRE(probe.evaluated.size() == 3);
  for (std::size_t e = 0; e < 3; ++e) CHECK(probe.evaluated[e] == Approx(probe.validated[e]).epsilon(1e-12));
  CHECK(probe.predicted.back() == Approx(static_cast<double>(model.predict(xv).array().square().sum())).epsilon(1e-12));
}

TEST_CASE("A moved-from model refuses every use with a StateError", "[misuse][moved]") {
  const auto x = inputs(16);
  const auto y = targets(x);
  auto model = small_model();
  keras::Sequential<float> moved(std::move(model));
  CHECK(moved.predict(x).rows() == 16);
  CHECK(!model.built());  // the accessors that do not throw describe an empty model
  CHECK(model.size() == 0);
  CHECK(model.input_width() == 0);
  kerascpp_test::ScratchFolder folder;
  moved.save_weights(folder.path() / "saved.kcpp");
  const std::function<void()> uses[] = {
      [&] { model.fit(x, y, {.verbose = 0}); },
      [&] { model.evaluate(x, y); },
      [&] { (void)model.predict(x); },
      [&] { model.train_on_batch(x, y); },
      [&] { model.add(Dense<float>(1)); },
      [&] { model.compile("sgd", "mse"); },
      [&] { (void)model.get_weights(); },
      [&] { model.set_weights({}); },
      [&] { (void)model.layer(0); },
      [&] { model.summary(); },
      [&] { model.build(3); },
      [&] { model.save(folder.path() / "m.kcpp"); },
      [&] { model.save_weights(folder.path() / "w.kcpp"); },
      [&] { model.load_weights(folder.path() / "saved.kcpp"); },
  };
  for (const auto& use : uses) CHECK_THAT(thrown_message<keras::StateError>(use), Contains("model was moved from"));
  CHECK(!std::filesystem::exists(folder.path() / "m.kcpp"));  // save wrote nothing
  CHECK(!std::filesystem::exists(folder.path() / "w.kcpp"));
  // Assigning a new model makes it usable again.
  model = small_model();
  CHECK(model.predict(x).rows() == 16);
}

TEST_CASE("A model whose distribution strategy was destroyed refuses to train with a StateError",
          "[misuse][strategy]") {
  // A reduction attached to the model's engine, as MpiStrategy::attach does, destroyed before the
  // model's next fit: the model must not use the dangling pointer.
  auto model = small_model();
  const keras::Matrix<float> x = inputs(32), y = targets(x);
  {
    keras::Reduction<float> strategy;
    model.trainer().workers().set_reduction(&strategy);
    model.fit(x, y, {.batch_size = 8, .epochs = 1, .verbose = 0});  // trains through it while it lives
  }
  const std::string message = thrown_message<keras::StateError>([&] { model.fit(x, y, {.epochs = 1, .verbose = 0}); });
  CHECK_THAT(message, Contains("attached to a distribution strategy that has been destroyed") &&
                          Contains("strategy.attach(model)"));
  CHECK_THROWS_AS(model.evaluate(x, y), keras::StateError);
  CHECK_THROWS_AS(model.train_on_batch(x, y), keras::StateError);
  // detached, it trains alone again
  model.trainer().workers().set_reduction(nullptr);
  CHECK_NOTHROW(model.fit(x, y, {.epochs = 1, .verbose = 0}));
}

TEST_CASE("class_weight and sample_weight are checked on every path", "[misuse][weights]") {
  const auto x = inputs(20);
  keras::Matrix<float> labels(20, 1);
  for (keras::Index i = 0; i < 20; ++i) labels(i, 0) = static_cast<float>(i % 2);
  keras::Sequential<float> model{Dense<float>(1, "sigmoid", keras::input_shape{3})};
  model.compile("adam", "binary_crossentropy");
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               model.fit(x, labels, {.verbose = 0, .class_weight = {{0, 1.0}, {1, -2.0}}});
             }),
             Contains("fit: class_weight for class 1 must be a finite non-negative number, received -2"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               model.fit(x, labels, {.verbose = 0, .class_weight = {{0, std::nan("")}, {1, 1.0}}});
             }),
             Contains("fit: class_weight for class 0 must be a finite non-negative number, received nan"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               model.fit(x, labels, {.verbose = 0, .class_weight = {{0, 1e300}, {1, 1.0}}});
             }),
             Contains("class_weight for class 0 must be a finite non-negative number, received 1e+300 (beyond the range "
                      "of the model's float)"));
  keras::Vector<float> w = keras::Vector<float>::Ones(20);
  w(3) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.evaluate(x, labels, {.sample_weight = w}); }),
             Contains("evaluate: sample_weight must hold finite non-negative numbers"));
  w(3) = -1.0f;
  CHECK_THAT(thrown_message<keras::ValueError>([&] { model.evaluate(x, labels, {.sample_weight = w}); }),
             Contains("evaluate: sample_weight must hold finite non-negative numbers"));
  keras::Matrix<float> huge_labels = labels;
  huge_labels(5, 0) = 4294967296.0f;  // 2^32, beyond any int class
  keras::Sequential<float> regression{Dense<float>(1, "linear", keras::input_shape{3})};
  regression.compile("adam", "mse");
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               regression.fit(x, huge_labels, {.verbose = 0, .class_weight = {{0, 1.0}, {1, 1.0}}});
             }),
             Contains("fit: class_weight needs integer class labels, received y=4294967296 in row 5"));
  keras::Matrix<float> halves(20, 1);
  for (keras::Index i = 0; i < 20; ++i) halves(i, 0) = i == 1 ? 1.5f : 0.0f;
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               regression.fit(x, halves, {.verbose = 0, .class_weight = {{0, 1.0}, {1, 2.0}}});
             }),
             Contains("fit: class_weight has no entry for class 2 (row 1: label 1.5 rounds to class 2; class_weight "
                      "expects integer class labels)"));
  halves(1, 0) = 2.0f;  // a whole label keeps the short message
  CHECK_THAT(thrown_message<keras::ValueError>([&] {
               regression.fit(x, halves, {.verbose = 0, .class_weight = {{0, 1.0}, {1, 2.0}}});
             }),
             Contains("fit: class_weight has no entry for class 2 (row 1)"));
  // Labels round half to even, as NumPy's round in Keras: 0.5 is class 0 and 2.5 class 2 (half away
  // from zero would look up classes 1 and 3, which have no entry).
  halves(1, 0) = 0.5f;
  halves(2, 0) = 2.5f;
  CHECK_NOTHROW(regression.fit(x, halves, {.epochs = 1, .verbose = 0, .class_weight = {{0, 1.0}, {2, 2.0}}}));
}

TEST_CASE("every kerascpp exception is a kerascpp::Error and exactly one std::exception", "[misuse][errors]") {
  const auto caught = [](auto&& action) -> std::string {
    try {
      action();
    } catch (const keras::Error& e) {
      const auto* standard = dynamic_cast<const std::exception*>(&e);
      return standard != nullptr && std::string(standard->what()) == e.what() ? e.what() : "not one std::exception";
    } catch (...) {
      return "not a kerascpp::Error";
    }
    return "nothing thrown";
  };
  CHECK_THAT(caught([] { Dense<float> d(0); }), Contains("Dense: units must be positive"));
  CHECK_THAT(caught([] { (void)keras::load_model<float>("no/such/model.kcpp"); }), Contains("load_model"));
  CHECK_THAT(caught([] {
               keras::Sequential<float> model{Dense<float>(1, "linear", keras::input_shape{2})};
               model.fit(keras::Matrix<float>::Zero(2, 2), keras::Matrix<float>::Zero(2, 1));
             }),
             Contains("fit") && Contains("compile"));
  // The standard types still catch them, each through one std::exception base.
  CHECK_THROWS_AS(Dense<float>(0), std::invalid_argument);
  CHECK_THROWS_AS(keras::load_model<float>("no/such/model.kcpp"), std::runtime_error);
  try {
    throw keras::StateError("state");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()) == "state");
  }
}

TEST_CASE("layer(i) out of range names the index and the layer count", "[misuse][index]") {
  auto model = small_model();
  CHECK_THAT(thrown_message<keras::ValueError>([&] { (void)model.layer(99); }),
             Contains("layer: index 99 is out of range; the model has 2 layers (valid indices -2 to 1)"));
  CHECK_THAT(thrown_message<keras::ValueError>([&] { (void)model.layer(-3); }),
             Contains("layer: index -3 is out of range; the model has 2 layers (valid indices -2 to 1)"));
  const auto& constant = model;
  CHECK_THROWS_AS((void)constant.layer(2), keras::ValueError);
  CHECK(model.layer(1).name() == "dense_1");
  // A negative index counts from the end, as model.layers[-1] in Keras.
  CHECK(model.layer(-1).name() == "dense_1");
  CHECK(constant.layer(-2).name() == "dense");
  keras::Sequential<float> empty;
  CHECK_THAT(thrown_message<keras::ValueError>([&] { (void)empty.layer(0); }),
             Contains("the model has 0 layers (valid indices none)"));
}

#if defined(__SSE2__) || defined(_M_X64)
TEST_CASE("fit flushes subnormals while it runs and gives the caller's floating-point state back", "[misuse][float_env]") {
  const auto x = inputs(32);
  const auto y = targets(x);
  auto model = small_model();
  const unsigned before = _mm_getcsr();
  struct Csr : keras::Callback<float> {
    unsigned seen = 0;
    void on_batch_end(int, keras::Logs&) override { seen = _mm_getcsr(); }
  } csr;
  model.fit(x, y, {.epochs = 1, .verbose = 0, .callbacks = {&csr}});
  CHECK((csr.seen & 0x8040u) == 0x8040u);  // FTZ (bit 15) and DAZ (bit 6) inside fit
  CHECK(_mm_getcsr() == before);           // and the caller's state after it
}
#endif

}  // namespace test_misuse
