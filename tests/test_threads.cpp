// Training on several threads: each batch is split between them and their gradients are summed,
// so one step gives the same weights as on one thread (up to rounding), and a given seed and
// thread count always give the same History.
#include <catch2/catch.hpp>
#include <kerascpp/kerascpp.hpp>

#include <vector>

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

TEST_CASE("two-thread training is reproducible and matches the metrics of one thread", "[threads]") {
  const keras::Matrix<float> x = keras::Matrix<float>::Random(500, 6);
  const keras::Matrix<float> y = (keras::Matrix<float>::Random(500, 1).array() > 0).cast<float>();
  const auto run = [&](int threads) {
    ThreadsGuard guard(threads);
    keras::Sequential model{Dense(64, "relu", keras::input_shape{6}), Dropout(0.2), Dense(64, "relu"),
                            Dense(1, "sigmoid")};
    model.set_seed(11);
    model.compile("adam", "binary_crossentropy", {"binary_accuracy"});
    return model.fit(x, y, {.batch_size = 128, .epochs = 4, .verbose = 0, .validation_data = keras::Dataset{x, y}});
  };
  const auto a = run(2), b = run(2), c = run(1);
  CHECK(a.history == b.history);
  // Dropout draws other masks on the second thread, so two threads differ from one; both learn.
  CHECK(a.at("loss").back() < a.at("loss").front());
  CHECK(c.at("loss").back() < c.at("loss").front());
  // Validation has no dropout: the first epoch's validation loss before any difference in
  // training can only differ through the first epoch's updates, so it stays close.
  CHECK(a.at("val_loss").front() == Approx(c.at("val_loss").front()).epsilon(0.05));
}

TEST_CASE("models with BatchNormalization keep whole batches on two threads", "[threads]") {
  const keras::Matrix<double> x = keras::Matrix<double>::Random(256, 6);
  const keras::Matrix<double> y = keras::Matrix<double>::Random(256, 1);
  const auto step = [&](int threads) {
    ThreadsGuard guard(threads);
    keras::Sequential<double> model{Dense<double>(64, "relu", keras::input_shape{6}), BatchNormalization<double>(),
                                    Dense<double>(1)};
    model.set_seed(3);
    model.compile(keras::optimizers::SGD<double>(0.1), "mse");
    model.train_on_batch(x, y);
    return model.get_weights();
  };
  check_same_weights(step(1), step(2));
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
