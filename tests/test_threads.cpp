// Training on several threads: each batch is split between them and their gradients are summed,
// so one step gives the same weights as on one thread (up to rounding), and a given seed and
// thread count always give the same History.
#include <catch2/catch.hpp>
#include <kerascpp/kerascpp.hpp>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_threads {

namespace keras = kerascpp;
using namespace keras::layers;

namespace {

struct ThreadsGuard {
  explicit ThreadsGuard(int n) { keras::set_num_threads(n); }
  ~ThreadsGuard() { keras::set_num_threads(1); }
};

keras::Sequential<double> regression_model() {
  keras::Sequential<double> model{Dense<double>(64, "tanh", keras::input_shape{6}, true, "glorot_uniform", "zeros",
                                                keras::regularizers::l2(0.01)),
                                  Dense<double>(64, "relu"), Dense<double>(1)};
  model.set_seed(5);
  return model;
}

/// Every weight of a model trained on two threads equals the one-thread weight to 1e-12.
void check_same_weights(const std::vector<keras::Matrix<double>>& one, const std::vector<keras::Matrix<double>>& two) {
  REQUIRE(one.size() == two.size());
  for (std::size_t k = 0; k < one.size(); ++k) {
    INFO("weight " << k);
    CHECK((one[k] - two[k]).cwiseAbs().maxCoeff() < 1e-12);
  }
}

}  // namespace

TEST_CASE("a batch split between two threads gives the one-thread step", "[threads]") {
  const keras::Matrix<double> x = keras::Matrix<double>::Random(256, 6);
  const keras::Matrix<double> y = keras::Matrix<double>::Random(256, 1);

  auto one = regression_model();
  one.compile(keras::optimizers::SGD<double>(0.1, 0.9), "mse");
  const double loss_one = one.train_on_batch(x, y);
  const double second_one = one.train_on_batch(x, y);

  auto two = regression_model();
  two.compile(keras::optimizers::SGD<double>(0.1, 0.9), "mse");
  double loss_two = 0.0, second_two = 0.0;
  {
    ThreadsGuard threads(2);
    loss_two = two.train_on_batch(x, y);
    second_two = two.train_on_batch(x, y);
  }
  CHECK(loss_two == Approx(loss_one).epsilon(1e-12));
  CHECK(second_two == Approx(second_one).epsilon(1e-12));
  check_same_weights(one.get_weights(), two.get_weights());
}

namespace {

/// A model whose batches of 256 rows split between threads (256 · ~4,700 weights > 10^6).
template <typename Scalar>
keras::Sequential<Scalar> dropout_model(bool batch_norm) {
  keras::Sequential<Scalar> model;
  model.add(Dense<Scalar>(64, "relu", keras::input_shape{6}));
  model.add(Dropout<Scalar>(0.3));
  if (batch_norm) model.add(BatchNormalization<Scalar>());
  model.add(Dense<Scalar>(64, "relu"));
  model.add(Dropout<Scalar>(0.2));
  model.add(Dense<Scalar>(1, "sigmoid"));
  model.set_seed(11);
  model.compile("adam", "binary_crossentropy", {"binary_accuracy"});
  return model;
}

template <typename Scalar>
struct Run {
  keras::History<Scalar> history;
  std::vector<keras::Matrix<Scalar>> weights;
  int threads_used = 0;
};

/// 500 rows of 6 features and a 0/1 label, the same on every call.
template <typename Scalar>
std::pair<keras::Matrix<Scalar>, keras::Matrix<Scalar>> classification_data() {
  keras::Rng rng(2024);
  keras::Matrix<Scalar> x(500, 6), y(500, 1);
  for (keras::Index i = 0; i < x.rows(); ++i) {
    for (keras::Index j = 0; j < x.cols(); ++j) x(i, j) = Scalar(rng.uniform(-1.0, 1.0));
    y(i, 0) = x(i, 0) + Scalar(0.5) * x(i, 1) * x(i, 2) > Scalar(0) ? Scalar(1) : Scalar(0);
  }
  return {x, y};
}

/// 4 epochs of 500 rows in batches of 256 (the last one partial) on `threads` threads.
template <typename Scalar>
Run<Scalar> train_dropout_model(int threads, bool batch_norm) {
  const auto [x, y] = classification_data<Scalar>();
  ThreadsGuard guard(threads);
  auto model = dropout_model<Scalar>(batch_norm);
  Run<Scalar> run;
  run.history = model.fit(x, y, {.batch_size = 256, .epochs = 4, .verbose = 0, .validation_data = keras::Dataset{x, y}});
  run.threads_used = model.trainer().workers().most_threads();
  run.weights = model.get_weights();
  return run;
}

/// History and weights of `b` equal those of `a` to `tolerance` relative.
template <typename Scalar>
void check_same_run(const Run<Scalar>& a, const Run<Scalar>& b, double tolerance) {
  REQUIRE(a.history.history.size() == b.history.history.size());
  for (const auto& [key, values] : a.history.history) {
    INFO("history key " << key);
    REQUIRE(b.history.has(key));
    const auto& other = b.history.at(key);
    REQUIRE(other.size() == values.size());
    for (std::size_t e = 0; e < values.size(); ++e) CHECK(other[e] == Approx(values[e]).epsilon(tolerance));
  }
  REQUIRE(a.weights.size() == b.weights.size());
  for (std::size_t k = 0; k < a.weights.size(); ++k) {
    INFO("weight " << k);
    const double scale = std::max(1.0, static_cast<double>(a.weights[k].cwiseAbs().maxCoeff()));
    CHECK(static_cast<double>((a.weights[k] - b.weights[k]).cwiseAbs().maxCoeff()) <= tolerance * scale);
  }
}

}  // namespace

TEST_CASE("Dropout on 1, 2 and 3 threads gives the History and weights of one thread", "[threads][dropout]") {
  for (const bool batch_norm : {false, true}) {
    INFO((batch_norm ? "with" : "without") << " BatchNormalization");
    const auto one = train_dropout_model<float>(1, batch_norm);
    const auto two = train_dropout_model<float>(2, batch_norm);
    const auto three = train_dropout_model<float>(3, batch_norm);
    CHECK(one.threads_used == 1);
    // BatchNormalization's statistics need the whole batch, which then stays on one thread.
    CHECK(two.threads_used == (batch_norm ? 1 : 2));
    CHECK(three.threads_used == (batch_norm ? 1 : 3));
    check_same_run(one, two, 1e-6);
    check_same_run(one, three, 1e-6);
    CHECK(one.history.at("loss").back() < one.history.at("loss").front());
    const auto one_d = train_dropout_model<double>(1, batch_norm);
    const auto three_d = train_dropout_model<double>(3, batch_norm);
    check_same_run(one_d, three_d, 1e-12);
  }
  // A fixed thread count gives the same numbers bit for bit.
  CHECK(train_dropout_model<float>(2, false).history.history == train_dropout_model<float>(2, false).history.history);
}

TEST_CASE("a run saved after epoch 2 on two threads resumes bit-identically", "[threads][dropout][serialization]") {
  const auto [x, y] = classification_data<float>();
  ThreadsGuard guard(2);
  auto whole = dropout_model<float>(false);
  const auto full = whole.fit(x, y, {.batch_size = 256, .epochs = 4, .verbose = 0});
  REQUIRE(whole.trainer().workers().most_threads() == 2);

  auto first = dropout_model<float>(false);
  first.fit(x, y, {.batch_size = 256, .epochs = 2, .verbose = 0});
  const auto path = std::filesystem::temp_directory_path() / "kerascpp_test_threads_resume.kcpp";
  first.save(path);
  auto resumed = keras::load_model<float>(path);
  std::filesystem::remove(path);
  const auto rest = resumed.fit(x, y, {.batch_size = 256, .epochs = 4, .verbose = 0, .initial_epoch = 2});
  REQUIRE(rest.at("loss").size() == 2);
  for (std::size_t e = 0; e < 2; ++e) CHECK(rest.at("loss")[e] == full.at("loss")[e + 2]);
  const auto a = whole.get_weights(), b = resumed.get_weights();
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k] == b[k]);
}

TEST_CASE("models with BatchNormalization keep whole batches on two threads", "[threads]") {
  // 512 rows · ~4,600 weights: a batch the same model without BatchNormalization splits.
  const keras::Matrix<double> x = keras::Matrix<double>::Random(512, 6);
  const keras::Matrix<double> y = keras::Matrix<double>::Random(512, 1);
  const auto step = [&](int threads, bool batch_norm) {
    ThreadsGuard guard(threads);
    keras::Sequential<double> model{Dense<double>(64, "relu", keras::input_shape{6})};
    if (batch_norm) model.add(BatchNormalization<double>());
    model.add(Dense<double>(64, "relu"));
    model.add(Dense<double>(1));
    model.set_seed(3);
    model.compile(keras::optimizers::SGD<double>(0.1), "mse");
    model.train_on_batch(x, y);
    return std::make_pair(model.get_weights(), model.trainer().workers().most_threads());
  };
  const auto [plain, plain_threads] = step(2, false);
  CHECK(plain_threads == 2);
  const auto [one, one_threads] = step(1, true);
  const auto [two, two_threads] = step(2, true);
  CHECK(two_threads == 1);
  check_same_weights(one, two);  // one thread's arithmetic (OpenMP builds may split the products themselves)
}

TEST_CASE("an unsplit batch shares its optimizer step between threads and equals one thread's", "[threads]") {
  // BatchNormalization keeps the batch whole; with 2·16·512 + 512·512 > 2^16 weights per thread,
  // the Adam step is still split between the two threads, element range by element range.
  const keras::Matrix<double> x = keras::Matrix<double>::Random(64, 16);
  const keras::Matrix<double> y = keras::Matrix<double>::Random(64, 1);
  const auto train = [&](int threads) {
    ThreadsGuard guard(threads);
    keras::Sequential<double> model{Dense<double>(512, "relu", keras::input_shape{16}), BatchNormalization<double>(),
                                    Dense<double>(512, "relu"), Dense<double>(1)};
    model.set_seed(4);
    model.compile("adam", "mse");
    for (int step = 0; step < 3; ++step) model.train_on_batch(x, y);
    CHECK(model.optimizer().iterations() == 3);
    return model.get_weights();
  };
  const auto one = train(1), two = train(2);
  check_same_weights(one, two);
  keras::Index params = 0;
  for (const auto& w : one) params += w.size();
  CHECK(params > (1 << 17));
}

TEST_CASE("uneven shares (250 rows of 7 columns) start aligned and still give the one-thread step", "[threads]") {
  // 250·1/2 = 125 rows of 7 doubles would start thread 1 at byte 7000, not 16-byte aligned; shares
  // start at multiples of 4 rows instead (124 here).
  const keras::Matrix<double> x = keras::Matrix<double>::Random(250, 7);
  const keras::Matrix<double> y = keras::Matrix<double>::Random(250, 2);
  const auto train = [&](int threads) {
    ThreadsGuard guard(threads);
    keras::Sequential<double> model{Dense<double>(96, "relu", keras::input_shape{7}), Dense<double>(96, "tanh"),
                                    Dense<double>(2)};
    model.set_seed(8);
    model.compile("adam", "mae");
    model.train_on_batch(x, y);
    model.train_on_batch(x, y);
    return model.get_weights();
  };
  check_same_weights(train(1), train(2));
}

TEST_CASE("set_num_threads rejects non-positive counts", "[threads]") {
  REQUIRE_THROWS_AS(keras::set_num_threads(0), keras::ValueError);
  REQUIRE_THROWS_WITH(keras::set_num_threads(-2), Catch::Contains("received n=-2"));
}

}  // namespace test_threads
