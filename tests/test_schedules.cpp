// Tests of kerascpp/optimizers/schedules.hpp: each learning-rate schedule against the closed forms of
// keras/src/optimizers/schedules/learning_rate_schedule.py at several steps (staircase, cycle and
// warmup included); argument checks; every optimizer taking a schedule and using schedule(step
// count before the update) at each step; a fit whose weight changes reveal the rate of each step;
// callbacks that set the rate refusing a scheduled optimizer, as Keras does; save and load.
#include "gradient_check.hpp"
#include "scratch_folder.hpp"

#include <kerascpp/kerascpp.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

// Everything of this file is in its own namespace, so that test files can share a translation unit.
namespace test_schedules {

using namespace kerascpp;
namespace schedules = kerascpp::optimizers::schedules;
using Catch::Contains;
using kerascpp_test::identical;
using kerascpp_test::thrown_message;

constexpr double pi = std::numbers::pi;

/// The schedule at `step` equals `expected` to 1e-14 relative (both are double evaluations of the
/// same formula, written differently).
void check_at(const schedules::LearningRateSchedule& s, std::int64_t step, double expected) {
  INFO(s.name() << " at step " << step);
  CHECK(s(step) == Approx(expected).epsilon(1e-14).margin(1e-300));
}

/// A model y = w·x (one weight, no bias) in double, compiled with `optimizer` and MSE.
template <typename O>
Sequential<double> linear_model(const O& optimizer, double w0) {
  Sequential<double> model;
  model.add(layers::Dense<double>(1, "linear", input_shape{1}, false));
  model.set_weights({Matrix<double>::Constant(1, 1, w0)});
  model.compile(optimizer, "mse");
  return model;
}


TEST_CASE("ExponentialDecay: lr0 · rate^(step / decay_steps), floor of the exponent with staircase", "[schedules]") {
  const schedules::ExponentialDecay smooth(0.1, 10, 0.5);
  check_at(smooth, 0, 0.1);
  check_at(smooth, 5, 0.1 * std::sqrt(0.5));  // 0.5^(5/10)
  check_at(smooth, 10, 0.05);
  check_at(smooth, 25, 0.1 * 0.25 * std::sqrt(0.5));  // 0.5^2.5
  const schedules::ExponentialDecay stairs(0.1, 10, 0.5, true);
  check_at(stairs, 5, 0.1);
  check_at(stairs, 9, 0.1);
  check_at(stairs, 10, 0.05);
  check_at(stairs, 25, 0.025);  // 0.5^floor(2.5) = 0.25
}

TEST_CASE("InverseTimeDecay: lr0 / (1 + rate · step / decay_steps), floored with staircase", "[schedules]") {
  const schedules::InverseTimeDecay smooth(0.1, 10, 0.5);
  check_at(smooth, 0, 0.1);
  check_at(smooth, 5, 0.08);   // 0.1 / 1.25
  check_at(smooth, 30, 0.04);  // 0.1 / 2.5
  const schedules::InverseTimeDecay stairs(0.1, 10, 0.5, true);
  check_at(stairs, 5, 0.1);
  check_at(stairs, 25, 0.05);  // 0.1 / (1 + 0.5·2)
}

TEST_CASE("PolynomialDecay: (lr0 − end)(1 − s/d)^power + end, held at end or cycling", "[schedules]") {
  const schedules::PolynomialDecay held(0.1, 10, 0.01, 2.0);
  check_at(held, 0, 0.1);
  check_at(held, 5, 0.0325);  // 0.09 · 0.5² + 0.01
  check_at(held, 10, 0.01);
  check_at(held, 20, 0.01);   // s = min(step, decay_steps)
  const schedules::PolynomialDecay cycling(0.1, 10, 0.01, 2.0, true);
  check_at(cycling, 0, 0.1);                           // d = decay_steps at step 0
  check_at(cycling, 10, 0.01);                         // d = 10·ceil(1) = 10
  check_at(cycling, 11, 0.09 * 0.45 * 0.45 + 0.01);    // d = 20: (1 − 11/20)²
  check_at(cycling, 15, 0.09 * 0.0625 + 0.01);         // d = 20: (1 − 15/20)²
  const schedules::PolynomialDecay defaults(0.1, 100);  // end_learning_rate 0.0001, power 1
  check_at(defaults, 50, 0.0999 * 0.5 + 0.0001);
  check_at(defaults, 1000, 0.0001);
}

TEST_CASE("CosineDecay: cosine from lr0 to lr0·alpha, and a linear warmup to warmup_target first", "[schedules]") {
  const schedules::CosineDecay decay(0.1, 100, 0.1);
  check_at(decay, 0, 0.1);
  check_at(decay, 25, 0.1 * (0.9 * 0.5 * (1.0 + std::cos(pi / 4.0)) + 0.1));
  check_at(decay, 50, 0.055);  // 0.1 · (0.9 · 0.5 + 0.1)
  check_at(decay, 100, 0.01);
  check_at(decay, 200, 0.01);  // held at alpha · lr0
  const schedules::CosineDecay warm(0.0, 100, 0.0, 0.2, 10);
  check_at(warm, 0, 0.0);
  check_at(warm, 5, 0.1);   // halfway from 0 to 0.2
  check_at(warm, 10, 0.2);  // warmup done, decay starts from warmup_target
  check_at(warm, 60, 0.2 * 0.5 * (1.0 + std::cos(pi * 0.5)));
  check_at(warm, 110, 0.0);
  check_at(warm, 500, 0.0);
  const schedules::CosineDecay target_without_steps(0.3, 10, 0.0, 0.2);  // warmup_steps 0: decay from the target
  check_at(target_without_steps, 0, 0.2);
}

TEST_CASE("PiecewiseConstantDecay: values[i] while boundaries[i-1] < step <= boundaries[i]", "[schedules]") {
  const schedules::PiecewiseConstantDecay s({10, 20}, {1.0, 0.5, 0.1});
  check_at(s, 0, 1.0);
  check_at(s, 10, 1.0);
  check_at(s, 11, 0.5);
  check_at(s, 20, 0.5);
  check_at(s, 21, 0.1);
  check_at(s, 1000000, 0.1);
}

TEST_CASE("schedule arguments are checked: what, expected, received", "[schedules][errors]") {
  CHECK_THAT(thrown_message<ValueError>([] { schedules::ExponentialDecay(0.1, 0, 0.5); }),
             Contains("ExponentialDecay: decay_steps must be positive, received decay_steps=0"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::InverseTimeDecay(0.1, -3, 0.5); }),
             Contains("InverseTimeDecay: decay_steps must be positive, received decay_steps=-3"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::PolynomialDecay(0.1, 0); }),
             Contains("PolynomialDecay: decay_steps must be positive"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::CosineDecay(0.1, 0); }),
             Contains("CosineDecay: decay_steps must be positive"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::CosineDecay(0.1, 10, 1.5); }),
             Contains("CosineDecay: alpha must be in [0, 1], received alpha=1.5"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::CosineDecay(0.1, 10, 0.0, 0.2, -1); }),
             Contains("warmup_steps must be non-negative, received warmup_steps=-1"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::ExponentialDecay(-0.1, 10, 0.5); }),
             Contains("initial_learning_rate must be a finite non-negative number, received initial_learning_rate=-0.1"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::PiecewiseConstantDecay({10, 20}, {1.0, 0.5}); }),
             Contains("values must have one element more than boundaries, received 2 boundaries and 2 values"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::PiecewiseConstantDecay({20, 10}, {1.0, 0.5, 0.1}); }),
             Contains("boundaries must be strictly increasing, received boundaries[0]=20 and boundaries[1]=10"));
  CHECK_THAT(thrown_message<ValueError>([] { schedules::PiecewiseConstantDecay({10, 10}, {1.0, 0.5, 0.1}); }),
             Contains("strictly increasing"));
}

TEST_CASE("every optimizer takes a schedule and steps with schedule(iterations before the step)", "[schedules][optimizers]") {
  const schedules::ExponentialDecay schedule(0.05, 2, 0.5);
  // Each optimizer with the schedule against the same optimizer whose constant rate is set to
  // schedule(k) before step k: the weights must agree bit for bit after every step.
  const auto run = [&](auto scheduled, auto constant) {
    INFO(scheduled.name());
    const auto make_store = [](std::vector<Param<double>>& v, std::vector<Param<double>>& g, ParameterStore<double>& s) {
      v.resize(2);
      g.resize(2);
      v[0] = kerascpp_test::uniform_matrix(2, 3, -1.0, 1.0, 1);
      v[1] = kerascpp_test::uniform_matrix(1, 3, -1.0, 1.0, 2);
      g[0] = RowMatrix<double>::Zero(2, 3);
      g[1] = RowMatrix<double>::Zero(1, 3);
      s.adopt({{"kernel", &v[0], &g[0]}, {"bias", &v[1], &g[1]}});
    };
    std::vector<Param<double>> va, ga, vb, gb;
    va.reserve(2), ga.reserve(2), vb.reserve(2), gb.reserve(2);
    ParameterStore<double> a, b;
    make_store(va, ga, a);
    make_store(vb, gb, b);
    CHECK(scheduled.learning_rate() == 0.05);
    for (int k = 0; k < 6; ++k) {
      const RowMatrix<double> g0 = kerascpp_test::uniform_matrix(2, 3, -1.0, 1.0, 10 + static_cast<std::uint64_t>(k));
      ga[0] = g0, gb[0] = g0;
      ga[1] = g0.topRows(1), gb[1] = g0.topRows(1);
      CHECK(scheduled.learning_rate() == schedule(k));  // the rate of the next step
      constant.set_learning_rate(schedule(k));
      scheduled.apply(a);
      constant.apply(b);
      CHECK(identical(va[0], vb[0]));
      CHECK(identical(va[1], vb[1]));
    }
    CHECK(scheduled.iterations() == 6);
    CHECK(scheduled.learning_rate() == schedule(6));
    CHECK(scheduled.learning_rate_schedule() != nullptr);
    CHECK(constant.learning_rate_schedule() == nullptr);
  };
  run(optimizers::SGD<double>(schedule, 0.9, true), optimizers::SGD<double>(1.0, 0.9, true));
  run(optimizers::Adam<double>(schedule), optimizers::Adam<double>(1.0));
  run(optimizers::AdamW<double>(schedule, 0.1), optimizers::AdamW<double>(1.0, 0.1));
  run(optimizers::RMSprop<double>(schedule, 0.9, 0.5, 1e-7, true), optimizers::RMSprop<double>(1.0, 0.9, 0.5, 1e-7, true));
  run(optimizers::Adagrad<double>(schedule), optimizers::Adagrad<double>(1.0));
}

TEST_CASE("fit: the weight change of each step reveals the rate schedule(step) it used", "[schedules][fit]") {
  // y = w·x with x = 1, y = 0 and MSE: dL/dw = 2w, so SGD gives w' = w·(1 − 2·lr) and each step's rate
  // is lr = (1 − w'/w) / 2.
  const schedules::ExponentialDecay schedule(0.1, 4, 0.5);
  Sequential<double> model = linear_model(optimizers::SGD<double>(schedule), 1.0);
  const Matrix<double> x = Matrix<double>::Ones(4, 1), y = Matrix<double>::Zero(4, 1);
  std::vector<double> w{1.0};
  callbacks::LambdaCallback<double> probe;
  probe.batch_end = [&](int, Logs&) { w.push_back(model.get_weights()[0](0, 0)); };
  model.fit(x, y, {.batch_size = 1, .epochs = 3, .verbose = 0, .callbacks = {&probe}});
  REQUIRE(w.size() == 13);
  for (std::size_t k = 0; k + 1 < w.size(); ++k) {
    INFO("step " << k);
    const double used = (1.0 - w[k + 1] / w[k]) / 2.0;
    CHECK(used == Approx(schedule(static_cast<std::int64_t>(k))).epsilon(1e-12));
  }
  CHECK(model.optimizer().iterations() == 12);
  CHECK(model.learning_rate() == schedule(12));  // what callbacks see: the next step's rate
}

TEST_CASE("callbacks that set the learning rate refuse a scheduled optimizer, as Keras does", "[schedules][callbacks]") {
  const Matrix<double> x = Matrix<double>::Ones(4, 1), y = Matrix<double>::Zero(4, 1);
  const schedules::PiecewiseConstantDecay schedule({3}, {0.1, 0.01});

  Sequential<double> scheduler_model = linear_model(optimizers::SGD<double>(schedule), 1.0);
  callbacks::LearningRateScheduler<double> scheduler([](int, double lr) { return lr / 2; });
  CHECK_THAT(thrown_message<StateError>([&] {
               scheduler_model.fit(x, y, {.batch_size = 2, .epochs = 2, .verbose = 0, .callbacks = {&scheduler}});
             }),
             Contains("SGD: this optimizer was created with a learning-rate schedule (PiecewiseConstantDecay), hence its "
                      "learning rate is not settable; received learning_rate=0.05"));

  // ReduceLROnPlateau could only fail at its first reduction (as in Keras), possibly hours into
  // training: it refuses a scheduled optimizer when training begins, before any step.
  Sequential<double> plateau_model = linear_model(optimizers::SGD<double>(schedule), 1.0);
  callbacks::ReduceLROnPlateau<double> patient({.monitor = "loss", .patience = 100});
  const auto before = plateau_model.get_weights();
  CHECK_THAT(thrown_message<StateError>([&] {
               plateau_model.fit(x, y, {.batch_size = 2, .epochs = 2, .verbose = 0, .callbacks = {&patient}});
             }),
             Contains("ReduceLROnPlateau: the model's optimizer was created with a learning-rate schedule "
                      "(PiecewiseConstantDecay), hence its learning rate is not settable; create the optimizer with a "
                      "number as learning_rate, or leave out ReduceLROnPlateau"));
  CHECK(plateau_model.get_weights() == before);
  CHECK(plateau_model.optimizer().iterations() == 0);
  CHECK(plateau_model.learning_rate_schedule() == "PiecewiseConstantDecay");
  CHECK(linear_model(optimizers::SGD<double>(0.1), 1.0).learning_rate_schedule().empty());

  // A new schedule may replace one; a constant rate may not.
  optimizers::Adam<double> adam(schedule);
  CHECK_THROWS_AS(adam.set_learning_rate(0.5), StateError);
  adam.set_learning_rate(schedules::ExponentialDecay(0.2, 10, 0.5));
  CHECK(adam.learning_rate() == 0.2);
  optimizers::Adam<double> constant(0.01);
  constant.set_learning_rate(schedule);
  CHECK(constant.learning_rate() == 0.1);
}

TEST_CASE("a scheduled optimizer saves and loads with its schedule and continues bit-identically", "[schedules][saving]") {
  const std::vector<optimizers::LearningRate> rates{
      schedules::ExponentialDecay(0.05, 3, 0.7, true), schedules::CosineDecay(0.01, 20, 0.1, 0.05, 4),
      schedules::PiecewiseConstantDecay({2, 5}, {0.05, 0.02, 0.01}), schedules::InverseTimeDecay(0.05, 2, 0.3),
      schedules::PolynomialDecay(0.05, 10, 0.001, 0.5, true)};
  const RowMatrix<double> x = kerascpp_test::uniform_matrix(24, 3, -1.0, 1.0, 5);
  const RowMatrix<double> y = kerascpp_test::uniform_matrix(24, 1, -1.0, 1.0, 6);
  for (const auto& rate : rates) {
    INFO(rate.schedule()->name());
    Sequential<double> model;
    model.set_seed(3);
    model.add(layers::Dense<double>(4, "tanh", input_shape{3}));
    model.add(layers::Dense<double>(1));
    model.compile(optimizers::Adam<double>(rate), "mse");
    model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});

    const Config config = model.optimizer().full_config();
    CHECK(config.at("learning_rate") == rate.schedule()->name());
    for (const auto& [key, value] : rate.schedule()->config()) CHECK(config.at("learning_rate." + key) == value);

    kerascpp_test::ScratchFolder folder;
    model.save(folder.path() / "m.kcpp");
    Sequential<double> loaded = load_model<double>(folder.path() / "m.kcpp");
    REQUIRE(loaded.optimizer().learning_rate_schedule() != nullptr);
    CHECK(loaded.optimizer().learning_rate_schedule()->config() == rate.schedule()->config());
    CHECK(loaded.learning_rate() == model.learning_rate());
    model.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    loaded.fit(x, y, {.batch_size = 8, .epochs = 2, .verbose = 0});
    CHECK(identical(loaded.predict(x), model.predict(x)));
  }
}

/// A schedule of the program's own, not registered: 0.01 for the first `steps` steps, then `late`.
class Jump : public schedules::LearningRateSchedule {
 public:
  Jump(std::int64_t steps, double late) : steps_(steps), late_(late) {}
  double operator()(std::int64_t step) const override { return step < steps_ ? 0.01 : late_; }
  std::string name() const override { return "Jump"; }
  Config config() const override { return {}; }

 private:
  std::int64_t steps_;
  double late_;
};

TEST_CASE("a schedule's rate beyond the model's float at run time is refused before the step", "[schedules][errors]") {
  const RowMatrix<float> x = RowMatrix<float>::Constant(8, 1, 0.5f), y = RowMatrix<float>::Constant(8, 1, 1.0f);
  const auto fit_with = [&](const optimizers::LearningRate& rate) {
    Sequential<float> model;
    model.add(layers::Dense<float>(1, "linear", input_shape{1}));
    model.compile(optimizers::SGD<float>(rate), "mse");
    model.fit(x, y, {.batch_size = 4, .epochs = 2, .verbose = 0});
    return model.get_weights()[0](0, 0);
  };
  CHECK_THAT(thrown_message<ValueError>([&] { fit_with(schedules::ExponentialDecay(1e300, 10, 0.5)); }),
             Contains("SGD: the learning-rate schedule ExponentialDecay returned 1e+300 at step 0; expected a finite "
                      "non-negative learning rate within the model's float (at most 3.40282346638529e+38)"));
  CHECK_THAT(thrown_message<ValueError>([&] { fit_with(schedules::PiecewiseConstantDecay({1}, {0.01, 1e39})); }),
             Contains("returned 1e+39 at step 2"));
  CHECK_THAT(thrown_message<ValueError>([&] { fit_with(Jump(3, 1e300)); }), Contains("Jump returned 1e+300 at step 3"));
  CHECK(std::isfinite(fit_with(Jump(3, 0.02))));
  // double holds the same rates.
  Sequential<double> model = linear_model(optimizers::SGD<double>(schedules::ExponentialDecay(1e300, 10, 0.5)), 0.0);
  CHECK_NOTHROW(model.train_on_batch(RowMatrix<double>::Constant(1, 1, 0.0), RowMatrix<double>::Constant(1, 1, 0.0)));
}

TEST_CASE("saving an optimizer whose schedule is not registered is refused and writes nothing", "[schedules][saving][errors]") {
  Sequential<double> model = linear_model(optimizers::SGD<double>(Jump(3, 0.02)), 0.5);
  kerascpp_test::ScratchFolder folder;
  CHECK_THAT(thrown_message<ValueError>([&] { model.save(folder.path() / "m.kcpp"); }),
             Contains("save_model: cannot save the learning-rate schedule 'Jump' of optimizer 'SGD': only registered "
                      "schedules (ExponentialDecay, CosineDecay, PiecewiseConstantDecay, InverseTimeDecay, "
                      "PolynomialDecay) can be saved"));
  CHECK(!std::filesystem::exists(folder.path() / "m.kcpp"));
  CHECK_NOTHROW(model.save_weights(folder.path() / "w.kcpp"));  // weights alone hold no optimizer
}

TEST_CASE("a constant learning rate saves as before: no new keys", "[schedules][saving]") {
  const optimizers::SGD<double> sgd(0.25, 0.5);
  CHECK(optimizer_registry<double>().find("SGD")->get_config(sgd) ==
        Config{{"learning_rate", "0.25"}, {"momentum", "0.5"}, {"nesterov", "false"}});
}

TEST_CASE("schedule configs are checked before they are trusted", "[schedules][saving][errors]") {
  const auto read = [](const Config& config) {
    ConfigReader c(config, "optimizer SGD");
    auto optimizer = optimizer_registry<double>().find("SGD")->from_config(c);
    c.finish();
    return optimizer;
  };
  const Config good{{"learning_rate", "ExponentialDecay"}, {"learning_rate.initial_learning_rate", "0.1"},
                    {"learning_rate.decay_steps", "10"},   {"learning_rate.decay_rate", "0.5"},
                    {"learning_rate.staircase", "true"},   {"momentum", "0"},
                    {"nesterov", "false"}};
  CHECK(read(good)->learning_rate() == 0.1);
  Config unknown = good;
  unknown["learning_rate"] = "Exponential";
  CHECK_THAT(thrown_message<ConfigError>([&] { read(unknown); }),
             Contains("'learning_rate' must be a number or the name of a learning-rate schedule (ExponentialDecay, "
                      "CosineDecay, PiecewiseConstantDecay, InverseTimeDecay, PolynomialDecay), found 'Exponential'"));
  Config missing = good;
  missing.erase("learning_rate.decay_rate");
  CHECK_THAT(thrown_message<ConfigError>([&] { read(missing); }), Contains("missing key 'decay_rate'"));
  Config extra = good;
  extra["learning_rate.alpha"] = "0";
  CHECK_THAT(thrown_message<ConfigError>([&] { read(extra); }), Contains("unknown key(s) 'alpha'"));
  Config zero_steps = good;
  zero_steps["learning_rate.decay_steps"] = "0";
  CHECK_THAT(thrown_message<ValueError>([&] { read(zero_steps); }), Contains("decay_steps must be positive"));
  Config stray = good;
  stray["learning_rate"] = "0.1";  // a number with schedule keys beside it
  CHECK_THAT(thrown_message<ConfigError>([&] { read(stray); }), Contains("unknown key(s)"));
  const Config bad_list{{"learning_rate", "PiecewiseConstantDecay"}, {"learning_rate.boundaries", "3,x"},
                        {"learning_rate.values", "0.1,0.01,0.001"}, {"momentum", "0"}, {"nesterov", "false"}};
  CHECK_THAT(thrown_message<ConfigError>([&] { read(bad_list); }),
             Contains("'boundaries' must be a comma-separated list of integers, found '3,x'"));
}

}  // namespace test_schedules
