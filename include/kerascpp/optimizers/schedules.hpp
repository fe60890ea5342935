// kerascpp/optimizers/schedules.hpp — learning-rate schedules, as keras.optimizers.schedules: a
// schedule maps the optimizer step (the number of steps taken before this one) to the learning rate
// of that step. ExponentialDecay, CosineDecay, PiecewiseConstantDecay, InverseTimeDecay and
// PolynomialDecay with Keras's formulas and defaults; `LearningRate`, what every optimizer takes as
// its `learning_rate` (a number or a schedule); and the schedule registry that saving reads.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/registry.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace kerascpp::optimizers::schedules {

/// A learning rate that depends on the optimizer step. Schedules compute in double whatever the
/// model's Scalar (Keras computes in the float type of initial_learning_rate, float32 by default);
/// the optimizer rounds the value to its Scalar where it uses it.
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  /// The learning rate of the step taken after `step` steps (0 for the first step).
  virtual double operator()(std::int64_t step) const = 0;
  /// The registry name, written to files ("ExponentialDecay").
  virtual std::string name() const = 0;
  /// The constructor arguments as text.
  virtual Config config() const = 0;

 protected:
  static void check_rate(const char* who, const char* what, double v) {
    if (!(v >= 0.0) || !std::isfinite(v))
      kerascpp::detail::fail(who, ": ", what, " must be a finite non-negative number, received ", what, "=", v);
  }
  static void check_steps(const char* who, const char* what, std::int64_t v, bool allow_zero) {
    if (allow_zero ? v < 0 : v <= 0)
      kerascpp::detail::fail(who, ": ", what, " must be ", allow_zero ? "non-negative" : "positive", ", received ", what, "=", v);
  }
};

/// lr = initial_learning_rate · decay_rate^(step / decay_steps); with staircase the exponent is
/// floor(step / decay_steps).
class ExponentialDecay : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate, bool staircase = false)
      : initial_(initial_learning_rate), decay_steps_(decay_steps), decay_rate_(decay_rate), staircase_(staircase) {
    check_rate("ExponentialDecay", "initial_learning_rate", initial_learning_rate);
    check_steps("ExponentialDecay", "decay_steps", decay_steps, false);
    check_rate("ExponentialDecay", "decay_rate", decay_rate);
  }
  double operator()(std::int64_t step) const override {
    double p = static_cast<double>(step) / static_cast<double>(decay_steps_);  // p = step / decay_steps
    if (staircase_) p = std::floor(p);
    return initial_ * std::pow(decay_rate_, p);  // lr₀ · rate^p
  }
  std::string name() const override { return "ExponentialDecay"; }
  Config config() const override {
    return {{"initial_learning_rate", kerascpp::detail::number(initial_)}, {"decay_steps", std::to_string(decay_steps_)},
            {"decay_rate", kerascpp::detail::number(decay_rate_)}, {"staircase", staircase_ ? "true" : "false"}};
  }

 private:
  double initial_;
  std::int64_t decay_steps_;
  double decay_rate_;
  bool staircase_;
};

/// Cosine decay with an optional linear warmup. Without warmup_target:
/// lr = initial_learning_rate · ((1 − alpha) · ½(1 + cos(π · min(step, decay_steps) / decay_steps)) + alpha).
/// With it: from initial_learning_rate to warmup_target linearly over warmup_steps, then the cosine
/// decay from warmup_target over the next decay_steps.
class CosineDecay : public LearningRateSchedule {
 public:
  CosineDecay(double initial_learning_rate, std::int64_t decay_steps, double alpha = 0.0,
              std::optional<double> warmup_target = std::nullopt, std::int64_t warmup_steps = 0)
      : initial_(initial_learning_rate), decay_steps_(decay_steps), alpha_(alpha), warmup_target_(warmup_target),
        warmup_steps_(warmup_steps) {
    check_rate("CosineDecay", "initial_learning_rate", initial_learning_rate);
    check_steps("CosineDecay", "decay_steps", decay_steps, false);
    if (!(alpha >= 0.0 && alpha <= 1.0)) kerascpp::detail::fail("CosineDecay: alpha must be in [0, 1], received alpha=", alpha);
    if (warmup_target) check_rate("CosineDecay", "warmup_target", *warmup_target);
    check_steps("CosineDecay", "warmup_steps", warmup_steps, true);
  }
  double operator()(std::int64_t step) const override {
    const double decay_steps = static_cast<double>(decay_steps_);
    if (!warmup_target_) return decayed(std::min(static_cast<double>(step), decay_steps), initial_);
    const double warmup_steps = static_cast<double>(warmup_steps_);
    const double s = std::min(static_cast<double>(step), decay_steps + warmup_steps);
    if (s < warmup_steps) return (*warmup_target_ - initial_) * (s / warmup_steps) + initial_;  // linear warmup
    return decayed(s - warmup_steps, *warmup_target_);
  }
  std::string name() const override { return "CosineDecay"; }
  Config config() const override {
    Config c{{"initial_learning_rate", kerascpp::detail::number(initial_)}, {"decay_steps", std::to_string(decay_steps_)},
             {"alpha", kerascpp::detail::number(alpha_)}, {"warmup_steps", std::to_string(warmup_steps_)}};
    if (warmup_target_) c["warmup_target"] = kerascpp::detail::number(*warmup_target_);
    return c;
  }

 private:
  /// from · ((1 − alpha) · ½(1 + cos(π·s/decay_steps)) + alpha)
  double decayed(double s, double from) const {
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * (s / static_cast<double>(decay_steps_))));
    return from * ((1.0 - alpha_) * cosine + alpha_);
  }

  double initial_;
  std::int64_t decay_steps_;
  double alpha_;
  std::optional<double> warmup_target_;
  std::int64_t warmup_steps_;
};

/// values[0] while step ≤ boundaries[0], values[i] while boundaries[i−1] < step ≤ boundaries[i],
/// values.back() once step > boundaries.back(). Boundaries strictly increase; there is one value
/// more than boundaries.
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<std::int64_t> boundaries, std::vector<double> values)
      : boundaries_(std::move(boundaries)), values_(std::move(values)) {
    if (values_.size() != boundaries_.size() + 1)
      kerascpp::detail::fail("PiecewiseConstantDecay: values must have one element more than boundaries, received ",
                   boundaries_.size(), " boundaries and ", values_.size(), " values");
    for (std::size_t i = 1; i < boundaries_.size(); ++i)
      if (!(boundaries_[i - 1] < boundaries_[i]))
        kerascpp::detail::fail("PiecewiseConstantDecay: boundaries must be strictly increasing, received boundaries[", i - 1,
                     "]=", boundaries_[i - 1], " and boundaries[", i, "]=", boundaries_[i]);
    for (std::size_t i = 0; i < values_.size(); ++i)
      if (!(values_[i] >= 0.0) || !std::isfinite(values_[i]))
        kerascpp::detail::fail("PiecewiseConstantDecay: values must be finite non-negative numbers, received values[", i, "]=",
                     values_[i]);
  }
  double operator()(std::int64_t step) const override {
    std::size_t i = 0;
    while (i < boundaries_.size() && step > boundaries_[i]) ++i;  // the first boundary ≥ step
    return values_[i];
  }
  std::string name() const override { return "PiecewiseConstantDecay"; }
  Config config() const override {
    std::vector<std::string> b, v;
    for (const auto x : boundaries_) b.push_back(std::to_string(x));
    for (const auto x : values_) v.push_back(kerascpp::detail::number(x));
    return {{"boundaries", kerascpp::detail::join(b, ",")}, {"values", kerascpp::detail::join(v, ",")}};
  }

 private:
  std::vector<std::int64_t> boundaries_;
  std::vector<double> values_;
};

/// lr = initial_learning_rate / (1 + decay_rate · step / decay_steps); with staircase
/// floor(step / decay_steps) replaces step / decay_steps.
class InverseTimeDecay : public LearningRateSchedule {
 public:
  InverseTimeDecay(double initial_learning_rate, std::int64_t decay_steps, double decay_rate, bool staircase = false)
      : initial_(initial_learning_rate), decay_steps_(decay_steps), decay_rate_(decay_rate), staircase_(staircase) {
    check_rate("InverseTimeDecay", "initial_learning_rate", initial_learning_rate);
    check_steps("InverseTimeDecay", "decay_steps", decay_steps, false);
    check_rate("InverseTimeDecay", "decay_rate", decay_rate);
  }
  double operator()(std::int64_t step) const override {
    double p = static_cast<double>(step) / static_cast<double>(decay_steps_);  // p = step / decay_steps
    if (staircase_) p = std::floor(p);
    return initial_ / (1.0 + decay_rate_ * p);  // lr₀ / (1 + rate·p)
  }
  std::string name() const override { return "InverseTimeDecay"; }
  Config config() const override {
    return {{"initial_learning_rate", kerascpp::detail::number(initial_)}, {"decay_steps", std::to_string(decay_steps_)},
            {"decay_rate", kerascpp::detail::number(decay_rate_)}, {"staircase", staircase_ ? "true" : "false"}};
  }

 private:
  double initial_;
  std::int64_t decay_steps_;
  double decay_rate_;
  bool staircase_;
};

/// lr = (initial_learning_rate − end_learning_rate) · (1 − s / d)^power + end_learning_rate with
/// s = min(step, decay_steps) and d = decay_steps; with cycle, s = step and d is the first multiple
/// of decay_steps not below step (decay_steps itself at step 0).
class PolynomialDecay : public LearningRateSchedule {
 public:
  PolynomialDecay(double initial_learning_rate, std::int64_t decay_steps, double end_learning_rate = 0.0001,
                  double power = 1.0, bool cycle = false)
      : initial_(initial_learning_rate), decay_steps_(decay_steps), end_(end_learning_rate), power_(power),
        cycle_(cycle) {
    check_rate("PolynomialDecay", "initial_learning_rate", initial_learning_rate);
    check_steps("PolynomialDecay", "decay_steps", decay_steps, false);
    check_rate("PolynomialDecay", "end_learning_rate", end_learning_rate);
    check_rate("PolynomialDecay", "power", power);
  }
  double operator()(std::int64_t step) const override {
    double s = static_cast<double>(step), d = static_cast<double>(decay_steps_);
    if (cycle_) d *= step == 0 ? 1.0 : std::ceil(s / d);  // d = decay_steps · ceil(step / decay_steps)
    else s = std::min(s, d);
    return (initial_ - end_) * std::pow(1.0 - s / d, power_) + end_;  // (lr₀ − lr_end)(1 − s/d)^power + lr_end
  }
  std::string name() const override { return "PolynomialDecay"; }
  Config config() const override {
    return {{"initial_learning_rate", kerascpp::detail::number(initial_)}, {"decay_steps", std::to_string(decay_steps_)},
            {"end_learning_rate", kerascpp::detail::number(end_)}, {"power", kerascpp::detail::number(power_)},
            {"cycle", cycle_ ? "true" : "false"}};
  }

 private:
  double initial_;
  std::int64_t decay_steps_;
  double end_;
  double power_;
  bool cycle_;
};

/// What the registry knows of one schedule type: a factory from its saved config.
struct ScheduleEntry {
  /// The names of the built-in schedules (detail::builtin_entries below).
  static constexpr std::array<std::string_view, 5> builtin_names{"ExponentialDecay", "CosineDecay",
                                                                 "PiecewiseConstantDecay", "InverseTimeDecay",
                                                                 "PolynomialDecay"};
  static constexpr std::string_view family = "learning rate schedule";
  std::string name;  // LearningRateSchedule::name()
  const std::type_info* type;
  std::shared_ptr<const LearningRateSchedule> (*from_config)(ConfigReader&);
};

namespace detail {

/// A step count of a config (the constructors check its range).
inline std::int64_t steps(ConfigReader& c, const std::string& key) {
  return c.integer(key, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
}

/// The built-in schedules, read back from their configs (keys in constructor order).
inline std::vector<ScheduleEntry> builtin_entries() {
  using Ptr = std::shared_ptr<const LearningRateSchedule>;
  return {
      {"ExponentialDecay", &typeid(ExponentialDecay),
       [](ConfigReader& c) -> Ptr {
         const double initial = c.number("initial_learning_rate");
         const std::int64_t decay_steps = steps(c, "decay_steps");
         const double decay_rate = c.number("decay_rate");
         return std::make_shared<const ExponentialDecay>(initial, decay_steps, decay_rate, c.boolean("staircase"));
       }},
      {"CosineDecay", &typeid(CosineDecay),
       [](ConfigReader& c) -> Ptr {
         const double initial = c.number("initial_learning_rate");
         const std::int64_t decay_steps = steps(c, "decay_steps");
         const double alpha = c.number("alpha");
         std::optional<double> target;
         if (c.optional_text("warmup_target")) target = c.number("warmup_target");
         return std::make_shared<const CosineDecay>(initial, decay_steps, alpha, target, steps(c, "warmup_steps"));
       }},
      {"PiecewiseConstantDecay", &typeid(PiecewiseConstantDecay),
       [](ConfigReader& c) -> Ptr {
         auto boundaries = c.list<std::int64_t>("boundaries");
         return std::make_shared<const PiecewiseConstantDecay>(std::move(boundaries), c.list<double>("values"));
       }},
      {"InverseTimeDecay", &typeid(InverseTimeDecay),
       [](ConfigReader& c) -> Ptr {
         const double initial = c.number("initial_learning_rate");
         const std::int64_t decay_steps = steps(c, "decay_steps");
         const double decay_rate = c.number("decay_rate");
         return std::make_shared<const InverseTimeDecay>(initial, decay_steps, decay_rate, c.boolean("staircase"));
       }},
      {"PolynomialDecay", &typeid(PolynomialDecay),
       [](ConfigReader& c) -> Ptr {
         const double initial = c.number("initial_learning_rate");
         const std::int64_t decay_steps = steps(c, "decay_steps");
         const double end = c.number("end_learning_rate");
         const double power = c.number("power");
         return std::make_shared<const PolynomialDecay>(initial, decay_steps, end, power, c.boolean("cycle"));
       }},
  };
}

}  // namespace detail

/// The schedule registry, with the built-in schedules first. A program's own schedule class
/// registers with `registry().add({name, &typeid(MySchedule), &from_config})` to be saved.
inline Registry<ScheduleEntry>& registry() { return registry_with_builtins<ScheduleEntry>(&detail::builtin_entries); }

}  // namespace kerascpp::optimizers::schedules

namespace kerascpp::optimizers {

/// An optimizer's learning rate: a number, or a schedule of the optimizer step. Converts
/// implicitly from either, so every optimizer's `learning_rate` argument takes both:
/// `SGD(0.01)`, `SGD(schedules::ExponentialDecay(0.1, 1000, 0.96))`.
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT: implicit by design
  template <typename S>
    requires std::derived_from<S, schedules::LearningRateSchedule>
  LearningRate(const S& schedule) : schedule_(std::make_shared<const S>(schedule)) {}  // NOLINT
  LearningRate(std::shared_ptr<const schedules::LearningRateSchedule> schedule) : schedule_(std::move(schedule)) {  // NOLINT
    if (!schedule_) kerascpp::detail::fail("learning_rate: received an empty schedule pointer");
  }

  bool is_schedule() const { return schedule_ != nullptr; }
  /// The constant rate (meaningful when not a schedule).
  double value() const { return value_; }
  const std::shared_ptr<const schedules::LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  double value_ = 0.0;
  std::shared_ptr<const schedules::LearningRateSchedule> schedule_;
};

}  // namespace kerascpp::optimizers
