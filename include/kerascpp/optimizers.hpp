// kerascpp/optimizers.hpp — Keras optimizers with Keras defaults and formulas. One `apply` per
// batch increments `iterations` once, then updates the parameter store's trainable weights from
// their gradients in one pass over its flat buffers. Each slot (momentum, velocity, ...) is one flat
// buffer laid out like the store; the state persists across `fit` calls, and `reset()` starts over.
// Every optimizer takes a learning rate or a schedule (optimizers/schedules.hpp) and Keras's
// gradient clipping (clipnorm, clipvalue, global_clipnorm).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/kernels/packets.hpp>
#include <kerascpp/optimizers/clipping.hpp>
#include <kerascpp/optimizers/schedules.hpp>
#include <kerascpp/optimizers/slots.hpp>
#include <kerascpp/registry.hpp>
#include <kerascpp/weights.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp {

template <typename Scalar = float>
class Optimizer {
 public:
  using scalar_type = Scalar;
  using LearningRate = optimizers::LearningRate;
  using GradientClipping = optimizers::GradientClipping;
  using Schedule = optimizers::schedules::LearningRateSchedule;

  explicit Optimizer(LearningRate learning_rate, GradientClipping clipping = {}) {
    set_learning_rate(std::move(learning_rate));
    set_clipping(clipping);
  }
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Optimizer> clone() const = 0;
  /// The constructor arguments as text; `full_config` adds the learning rate (or its schedule) and
  /// the clipping, and is what files hold.
  virtual Config config() const = 0;

  /// The learning rate of the next step: the constant rate, or the schedule at iterations() (the
  /// step count before that step), as Keras's `optimizer.learning_rate`.
  double learning_rate() const { return schedule_ ? (*schedule_)(iterations_) : learning_rate_; }
  /// Sets a constant rate, or a schedule. As in Keras, a constant rate cannot replace a schedule:
  /// that throws StateError (callbacks such as ReduceLROnPlateau set constant rates).
  void set_learning_rate(LearningRate lr) {
    if (lr.is_schedule()) {
      schedule_ = lr.schedule();
      learning_rate_ = (*schedule_)(iterations_);
      return;
    }
    if (schedule_)
      throw StateError(detail::cat(name(), ": this optimizer was created with a learning-rate schedule (",
                                   schedule_->name(), "), hence its learning rate is not settable; received learning_rate=",
                                   lr.value(), ". Create the optimizer with a number as learning_rate to set it"));
    check_learning_rate(lr.value());
    learning_rate_ = lr.value();
  }
  /// The schedule given as learning_rate, or nullptr for a constant rate.
  const std::shared_ptr<const Schedule>& learning_rate_schedule() const { return schedule_; }
  std::string schedule_name() const { return schedule_ ? schedule_->name() : std::string(); }

  const GradientClipping& clipping() const { return clipping_; }
  /// Sets the gradient clipping: at most one of clipnorm, clipvalue and global_clipnorm, each a
  /// finite positive number (ValueError otherwise).
  void set_clipping(const GradientClipping& clipping) {
    const int set = (clipping.clipnorm ? 1 : 0) + (clipping.clipvalue ? 1 : 0) + (clipping.global_clipnorm ? 1 : 0);
    const auto text = [](const std::optional<double>& v) { return v ? detail::number(*v) : std::string("none"); };
    if (set > 1)
      detail::fail("optimizer: only one of clipnorm, clipvalue and global_clipnorm can be set, received clipnorm=",
                   text(clipping.clipnorm), ", clipvalue=", text(clipping.clipvalue), ", global_clipnorm=",
                   text(clipping.global_clipnorm));
    for (const auto& [what, v] : {std::pair{"clipnorm", clipping.clipnorm}, std::pair{"clipvalue", clipping.clipvalue},
                                  std::pair{"global_clipnorm", clipping.global_clipnorm}})
      if (v && !(*v > 0.0 && std::isfinite(*v)))
        detail::fail("optimizer: ", what, " must be a finite positive number, received ", what, "=", *v);
    clipping_ = clipping;
  }
  /// Whether a step reads the whole summed gradient before updating any weight (a norm clipping),
  /// so that threads cannot update their parts as soon as their own part of the gradient is summed.
  bool needs_whole_gradient() const { return clipping_.clipnorm || clipping_.global_clipnorm; }

  /// `config()` with the learning rate and the clipping: `learning_rate` holds the current constant
  /// rate, or the schedule's name with the schedule's arguments under `learning_rate.<argument>`;
  /// `clipnorm`, `clipvalue`, `global_clipnorm` are there when set.
  Config full_config() const {
    Config c = config();
    for (auto it = c.begin(); it != c.end();)
      it = it->first.rfind("learning_rate.", 0) == 0 ? c.erase(it) : std::next(it);
    if (schedule_) {
      c["learning_rate"] = schedule_->name();
      for (const auto& [key, value] : schedule_->config()) c["learning_rate." + key] = value;
    } else {
      c["learning_rate"] = detail::number(learning_rate_);
    }
    for (const auto& [key, v] : {std::pair{"clipnorm", clipping_.clipnorm}, std::pair{"clipvalue", clipping_.clipvalue},
                                 std::pair{"global_clipnorm", clipping_.global_clipnorm}})
      if (v) c[key] = detail::number(*v);
    return c;
  }

  /// Reads what `full_config` wrote: the learning rate (a number, or a registered schedule's name
  /// and its `learning_rate.` keys) and the clipping keys here, the rest through
  /// `Codec::from_config`, which sees `learning_rate` as a number. Every key must be read.
  template <typename Codec>
  static std::unique_ptr<Optimizer> from_full_config(ConfigReader& c) {
    const std::string& rate = c.text("learning_rate");
    Config rest;
    for (const auto& [key, value] : c.config())
      if (key.rfind("learning_rate.", 0) != 0 && key != "clipnorm" && key != "clipvalue" && key != "global_clipnorm")
        rest.emplace(key, value);
    std::optional<LearningRate> lr;
    const auto* schedule_entry = optimizers::schedules::registry().find(rate);
    if (schedule_entry == nullptr) {
      double value = 0.0;
      const auto [ptr, error] = std::from_chars(rate.data(), rate.data() + rate.size(), value);
      if (rate.empty() || error != std::errc{} || ptr != rate.data() + rate.size())
        c.fail(detail::cat(c.owner(), " config 'learning_rate' must be a number or the name of a learning-rate schedule (",
                           detail::join(optimizers::schedules::registry().names()), "), found ", detail::quote(rate)));
    } else {
      Config schedule_config;
      for (const auto& [key, value] : c.config())
        if (key.rfind("learning_rate.", 0) == 0) schedule_config.emplace(key.substr(14), c.text(key));
      ConfigReader inner(schedule_config, detail::cat(c.owner(), " learning_rate ", rate));
      lr.emplace(schedule_entry->from_config(inner));
      inner.finish();
      rest["learning_rate"] = "0";
    }
    GradientClipping clipping;
    for (auto [key, field] : {std::pair{"clipnorm", &GradientClipping::clipnorm}, std::pair{"clipvalue", &GradientClipping::clipvalue},
                              std::pair{"global_clipnorm", &GradientClipping::global_clipnorm}})
      clipping.*field = c.optional_number(key);
    ConfigReader codec(rest, c.owner());
    std::unique_ptr<Optimizer> out = Codec::from_config(codec);
    codec.finish();
    for (const auto& entry : rest) c.text(entry.first);
    if (lr) out->set_learning_rate(*lr);
    out->set_clipping(clipping);
    return out;
  }

  std::int64_t iterations() const { return iterations_; }
  void set_iterations(std::int64_t n) { iterations_ = n; }
  bool built() const { return built_; }

  /// Allocates the slots for the store's trainable weights: one flat buffer per slot, laid out like
  /// the store's values, filled with the slot's initial value (zero in the padding).
  void build(const ParameterStore<Scalar>& store) {
    if (slots_per_weight() < 0 || slots_per_weight() > max_slots)
      detail::fail(name(), ": slots_per_weight must be in [0, ", max_slots, "], received ", slots_per_weight());
    entries_ = store.trainable();
    size_ = store.size();
    clip_scales_.assign(entries_.size(), Scalar(1));
    slots_.assign(static_cast<std::size_t>(slots_per_weight()), size_);
    for (std::size_t j = 0; j < slots_.count(); ++j)
      for (const auto& e : entries_) std::fill_n(slots_.data(j) + e.offset, e.rows * e.cols, Scalar(initial_slot_value()));
    built_ = true;
  }

  /// One optimization step over all of the store's trainable weights.
  void apply(ParameterStore<Scalar>& store) {
    begin_apply(store);
    apply_part(store, 0, 1);
  }

  /// The first half of `apply`, for several threads sharing one step: checks the store's layout,
  /// counts the iteration and computes the step's constants. Call it once, then `apply_part` for
  /// every part.
  void begin_apply(const ParameterStore<Scalar>& store) {
    if (!built_) build(store);
    const auto& now = store.trainable();
    if (now.size() != entries_.size() || store.size() != size_)
      detail::fail(name(), ": apply received ", now.size(), " trainable weights (", store.size(),
                   " elements) but the optimizer was built for ", entries_.size(), " (", size_, " elements)");
    for (std::size_t i = 0; i < now.size(); ++i)
      if (now[i].rows != entries_[i].rows || now[i].cols != entries_[i].cols)
        detail::fail(name(), ": weight ", i, " has shape ", detail::shape_string(now[i].rows, now[i].cols),
                     " but the optimizer was built for ", detail::shape_string(entries_[i].rows, entries_[i].cols));
    if (iterations_ == std::numeric_limits<std::int64_t>::max())
      detail::fail(name(), ": iterations has reached its limit ", iterations_, "; no further step can be counted");
    if (schedule_) {
      const double lr = (*schedule_)(iterations_);  // Keras: lr = schedule(iterations) before the update
      if (!(lr >= 0.0) || !std::isfinite(static_cast<Scalar>(lr)))  // the step computes in Scalar
        detail::fail(name(), ": the learning-rate schedule ", schedule_->name(), " returned ", lr, " at step ", iterations_,
                     "; expected a finite non-negative learning rate within the model's ", detail::scalar_name<Scalar>(),
                     " (at most ", std::numeric_limits<Scalar>::max(), ")");
      learning_rate_ = lr;
    }
    ++iterations_;
    if (clipping_.active()) begin_clipping(store);
    begin_step();
  }

  /// The second half of `apply`: updates part `part` of `parts` equal element ranges of the flat buffers
  /// (concurrently: parts are disjoint), from `grads` if given (laid out like the store; no clipping).
  void apply_part(ParameterStore<Scalar>& store, int part, int parts, const Scalar* grads = nullptr) {
    const auto range = part_range(size_, part, parts);  // not a structured binding: Clang 14 cannot capture one
    const Index begin = range.first, end = range.second;
    if (begin == end) return;
    if (grads != nullptr && clipping_.active()) detail::fail(name(), ": apply_part clips the store's gradient in place, not a given one");
    const int k = slots_per_weight();
    const auto slot = [&](int j) { return j < k ? Flat(slots_.data(static_cast<std::size_t>(j)) + begin, end - begin) : Flat(nullptr, 0); };
    std::array<Flat, max_slots> slot_parts{slot(0), slot(1), slot(2)};
    if (clipping_.active()) clip_part(store.grads(), begin, end);
    update_step(Flat(store.values() + begin, end - begin), ConstFlat((grads ? grads : store.grads()) + begin, end - begin),
                slot_parts.data());
  }

  /// Element range [begin, end) of part `part` of `parts` of an array of `size` elements.
  static std::pair<Index, Index> part_range(Index size, int part, int parts) {
    return {size * part / parts, size * (part + 1) / parts};
  }

  void reset() {
    iterations_ = 0;
    if (schedule_) learning_rate_ = (*schedule_)(0);
    slots_.clear();
    entries_.clear();
    clip_scales_.clear();
    size_ = 0;
    built_ = false;
  }

  /// Slot k of trainable weight i (shaped like the weight), for saving and restoring state.
  MatrixView<Scalar> slot(std::size_t i, int k) {
    const auto& e = entry(i);
    return MatrixView<Scalar>(slots_.at(k) + e.offset, e.rows, e.cols);
  }
  ConstMatrixView<Scalar> slot(std::size_t i, int k) const {
    const auto& e = entry(i);
    return ConstMatrixView<Scalar>(std::as_const(slots_).at(k) + e.offset, e.rows, e.cols);
  }
  /// While processes on one machine share the step (distributed/mpi.hpp), the slots live at `place`
  /// (copied there when `copy`) until hold_slots() copies them back; slots_place() tells where.
  void place_slots(Scalar* place, bool copy) { slots_.place_at(place, copy); }
  void hold_slots() { slots_.hold(); }
  const Scalar* slots_place() const { return slots_.placed(); }
  /// The number of trainable weights the slots are built for (0 before the first step).
  std::size_t slot_weights() const { return entries_.size(); }
  virtual int slots_per_weight() const = 0;
  /// The number of slot tensors: trainable weights × slots_per_weight() once built, else 0.
  std::size_t slot_count() const { return entries_.size() * static_cast<std::size_t>(slots_per_weight()); }

 protected:
  virtual double initial_slot_value() const { return 0.0; }
  /// A contiguous range of the flat buffers, as a 1-D array.
  using Flat = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
  using ConstFlat = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
  static constexpr int max_slots = 3;

  virtual void begin_step() {}
  /// Updates the elements w from their gradients g and their slots s[0 .. slots_per_weight()).
  virtual void update_step(Flat w, ConstFlat g, Flat* s) = 0;

  /// For i in [0, n): r = sqrt(radicand(i)), then finish(i, r). The updates are plain loops that the
  /// compiler vectorises, and the square roots run in chunks through one vectorised kernel, so each
  /// element is read and written once per step instead of once per Eigen expression.
  template <typename Radicand, typename Finish>
  static void with_sqrt(Index n, Radicand&& radicand, Finish&& finish) {
    detail::through_packets<Scalar>(n, std::forward<Radicand>(radicand), detail::sqrt_packets<Scalar>,
                                    std::forward<Finish>(finish));
  }

  static void check_learning_rate(double lr) {
    if (!(lr >= 0.0) || !std::isfinite(lr))
      detail::fail("optimizer: learning_rate must be a finite non-negative number, received learning_rate=", lr);
    if (!std::isfinite(static_cast<Scalar>(lr)))  // the step computes in Scalar
      detail::fail("optimizer: learning_rate=", lr, " is beyond the range of the model's ", detail::scalar_name<Scalar>(), " (at most ",
                   std::numeric_limits<Scalar>::max(), ")");
  }
  static void check_unit(const char* who, const char* what, double v, bool allow_one = false) {
    if (!(v >= 0.0 && (allow_one ? v <= 1.0 : v < 1.0)))
      detail::fail(who, ": ", what, " must be in [0, 1", allow_one ? "]" : ")", ", received ", what, "=", v);
  }
  /// v > 0, and a normal number of Scalar: the step computes in Scalar, and subnormals are flushed
  /// to zero while training.
  static void check_positive(const char* who, const char* what, double v) {
    if (!(v > 0.0)) detail::fail(who, ": ", what, " must be positive, received ", what, "=", v);
    const double held = static_cast<double>(static_cast<Scalar>(v));
    if (!(held >= static_cast<double>(std::numeric_limits<Scalar>::min())) || !std::isfinite(held))
      detail::fail(who, ": ", what, "=", v, " is not a normal ", detail::scalar_name<Scalar>(), " (the model's Scalar holds ", what, " in [",
                   std::numeric_limits<Scalar>::min(), ", ", std::numeric_limits<Scalar>::max(),
                   "]; smaller numbers are flushed to zero while training)");
  }

  /// The learning rate of the step being taken, for begin_step and update_step (with a schedule,
  /// the schedule at the step count before this step; learning_rate() then already names the next).
  double learning_rate_ = 0.0;
  std::int64_t iterations_ = 0;
  detail::SlotBuffers<Scalar> slots_;
  std::vector<typename ParameterStore<Scalar>::Entry> entries_;
  Index size_ = 0;
  bool built_ = false;

 private:
  const typename ParameterStore<Scalar>::Entry& entry(std::size_t i) const {
    if (i >= entries_.size())
      detail::fail(name(), ": no slot of weight ", i, ": the optimizer is built for ", entries_.size(),
                   " trainable weights (0 before its first step)");
    return entries_[i];
  }

  /// The factor of each tensor's gradient for this step, from the summed gradient (padding is not
  /// part of any tensor, so it counts in no norm and is never changed). Sums of squares in double.
  void begin_clipping(const ParameterStore<Scalar>& store) {
    const Scalar* g = store.grads();
    const auto sum_of_squares = [g](const auto& e) {
      double s = 0.0;
      for (Index i = e.offset, end = e.offset + e.rows * e.cols; i < end; ++i)
        s += static_cast<double>(g[i]) * static_cast<double>(g[i]);
      return s;
    };
    if (clipping_.clipnorm) {
      const double c = *clipping_.clipnorm;
      for (std::size_t k = 0; k < entries_.size(); ++k) {
        const double norm = std::sqrt(sum_of_squares(entries_[k]));  // ‖g_k‖
        clip_scales_[k] = Scalar(std::isnan(norm) ? norm : norm > c ? c / norm : 1.0);  // c / max(‖g_k‖, c)
      }
    } else if (clipping_.global_clipnorm) {
      const double c = *clipping_.global_clipnorm;
      double total = 0.0;
      for (const auto& e : entries_) total += sum_of_squares(e);
      const double norm = std::sqrt(total);  // ‖G‖ = sqrt(Σ_k ‖g_k‖²)
      const double scale = !std::isfinite(norm) ? std::numeric_limits<double>::quiet_NaN() : norm > c ? c * (1.0 / norm) : 1.0;
      std::fill(clip_scales_.begin(), clip_scales_.end(), Scalar(scale));  // c · min(1/‖G‖, 1/c); NaN unless finite
    }
  }

  /// Clips the gradient elements of [begin, end) that belong to tensors.
  void clip_part(Scalar* g, Index begin, Index end) {
    const bool by_value = clipping_.clipvalue.has_value();
    const Scalar v = by_value ? Scalar(*clipping_.clipvalue) : Scalar(0);
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      const Index from = std::max(begin, entries_[k].offset);
      const Index to = std::min(end, entries_[k].offset + entries_[k].rows * entries_[k].cols);
      if (by_value) {
        for (Index i = from; i < to; ++i) g[i] = g[i] < -v ? -v : (g[i] > v ? v : g[i]);  // clip(g, −c, c)
      } else if (clip_scales_[k] != Scalar(1)) {
        const Scalar scale = clip_scales_[k];
        for (Index i = from; i < to; ++i) g[i] *= scale;  // g · scale
      }
    }
  }

  std::shared_ptr<const Schedule> schedule_;
  GradientClipping clipping_;
  std::vector<Scalar> clip_scales_;  // one per trainable tensor, sized at build
};

namespace optimizers {

/// SGD: w −= lr·g; with momentum: v = μv − lr·g, w += v (nesterov: w += μv − lr·g).
template <typename Scalar = float>
class SGD : public Optimizer<Scalar> {
 public:
  explicit SGD(LearningRate learning_rate = 0.01, double momentum = 0.0, bool nesterov = false,
               GradientClipping clipping = {})
      : Optimizer<Scalar>(std::move(learning_rate), clipping), momentum_(momentum), nesterov_(nesterov) {
    this->check_unit("SGD", "momentum", momentum, true);
  }
  std::string name() const override { return "SGD"; }
  std::unique_ptr<Optimizer<Scalar>> clone() const override { return std::make_unique<SGD>(*this); }
  Config config() const override {
    return {{"learning_rate", detail::number(this->learning_rate_)}, {"momentum", detail::number(momentum_)},
            {"nesterov", nesterov_ ? "true" : "false"}};
  }
  int slots_per_weight() const override { return momentum_ != 0.0 ? 1 : 0; }

 protected:
  using typename Optimizer<Scalar>::Flat;
  using typename Optimizer<Scalar>::ConstFlat;
  void update_step(Flat w, ConstFlat g, Flat* s) override {
    const Scalar lr = Scalar(this->learning_rate_);
    Scalar* wp = w.data();
    const Scalar* gp = g.data();
    const Index n = w.size();
    if (momentum_ == 0.0) {
      for (Index i = 0; i < n; ++i) wp[i] -= lr * gp[i];  // w −= lr·g
      return;
    }
    const Scalar mu = Scalar(momentum_);
    Scalar* v = s[0].data();
    if (nesterov_) {
      for (Index i = 0; i < n; ++i) {
        v[i] = mu * v[i] - lr * gp[i];  // v = μv − lr·g
        wp[i] += mu * v[i] - lr * gp[i];  // w += μv − lr·g
      }
    } else {
      for (Index i = 0; i < n; ++i) {
        v[i] = mu * v[i] - lr * gp[i];  // v = μv − lr·g
        wp[i] += v[i];                  // w += v
      }
    }
  }

 private:
  double momentum_;
  bool nesterov_;
};

/// Adam: m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; α = lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ);
/// w −= α·m / (sqrt(v) + ε). AdamW first applies w −= lr·weight_decay·w.
template <typename Scalar = float>
class Adam : public Optimizer<Scalar> {
 public:
  explicit Adam(LearningRate learning_rate = 0.001, double beta_1 = 0.9, double beta_2 = 0.999, double epsilon = 1e-7,
                GradientClipping clipping = {})
      : Optimizer<Scalar>(std::move(learning_rate), clipping), beta_1_(beta_1), beta_2_(beta_2), epsilon_(epsilon) {
    this->check_unit("Adam", "beta_1", beta_1);
    this->check_unit("Adam", "beta_2", beta_2);
    this->check_positive("Adam", "epsilon", epsilon);
  }
  std::string name() const override { return "Adam"; }
  std::unique_ptr<Optimizer<Scalar>> clone() const override { return std::make_unique<Adam>(*this); }
  Config config() const override {
    return {{"learning_rate", detail::number(this->learning_rate_)}, {"beta_1", detail::number(beta_1_)},
            {"beta_2", detail::number(beta_2_)}, {"epsilon", detail::number(epsilon_)}};
  }
  int slots_per_weight() const override { return 2; }

 protected:
  void begin_step() override {
    const double t = static_cast<double>(this->iterations_);
    alpha_ = this->learning_rate_ * std::sqrt(1.0 - std::pow(beta_2_, t)) / (1.0 - std::pow(beta_1_, t));
  }
  using typename Optimizer<Scalar>::Flat;
  using typename Optimizer<Scalar>::ConstFlat;
  void update_step(Flat w, ConstFlat g, Flat* s) override {
    const Scalar b1 = Scalar(beta_1_), b2 = Scalar(beta_2_), eps = Scalar(epsilon_), alpha = Scalar(alpha_);
    Scalar* wp = w.data();
    const Scalar* gp = g.data();
    Scalar* m = s[0].data();
    Scalar* v = s[1].data();
    this->with_sqrt(
        w.size(),
        [=](Index i) {
          m[i] = b1 * m[i] + (Scalar(1) - b1) * gp[i];          // m = β₁m + (1−β₁)g
          v[i] = b2 * v[i] + (Scalar(1) - b2) * gp[i] * gp[i];  // v = β₂v + (1−β₂)g²
          return v[i];
        },
        [=](Index i, Scalar root) { wp[i] -= alpha * m[i] / (root + eps); });  // w −= α·m/(sqrt(v)+ε)
  }

  double beta_1_, beta_2_, epsilon_;
  double alpha_ = 0.0;
};

template <typename Scalar = float>
class AdamW : public Adam<Scalar> {
 public:
  explicit AdamW(LearningRate learning_rate = 0.001, double weight_decay = 0.004, double beta_1 = 0.9,
                 double beta_2 = 0.999, double epsilon = 1e-7, GradientClipping clipping = {})
      : Adam<Scalar>(std::move(learning_rate), beta_1, beta_2, epsilon, clipping), weight_decay_(weight_decay) {
    if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay))
      detail::fail("AdamW: weight_decay must be a finite non-negative number, received weight_decay=", weight_decay);
  }
  std::string name() const override { return "AdamW"; }
  std::unique_ptr<Optimizer<Scalar>> clone() const override { return std::make_unique<AdamW>(*this); }
  Config config() const override {
    auto c = Adam<Scalar>::config();
    c["weight_decay"] = detail::number(weight_decay_);
    return c;
  }

 protected:
  using typename Optimizer<Scalar>::Flat;
  using typename Optimizer<Scalar>::ConstFlat;
  void update_step(Flat w, ConstFlat g, Flat* s) override {
    const Scalar decay = Scalar(1.0 - this->learning_rate_ * weight_decay_);
    Scalar* wp = w.data();
    for (Index i = 0, n = w.size(); i < n; ++i) wp[i] *= decay;  // w −= lr·λ·w, decoupled from the gradient
    Adam<Scalar>::update_step(w, g, s);
  }

 private:
  double weight_decay_;
};

/// RMSprop: v = ρv + (1−ρ)g²; step = lr·g / sqrt(v + ε) (centered: v − ḡ² inside the root);
/// with momentum: m = μm + step, w −= m.
template <typename Scalar = float>
class RMSprop : public Optimizer<Scalar> {
 public:
  explicit RMSprop(LearningRate learning_rate = 0.001, double rho = 0.9, double momentum = 0.0, double epsilon = 1e-7,
                   bool centered = false, GradientClipping clipping = {})
      : Optimizer<Scalar>(std::move(learning_rate), clipping), rho_(rho), momentum_(momentum), epsilon_(epsilon),
        centered_(centered) {
    this->check_unit("RMSprop", "rho", rho);
    this->check_unit("RMSprop", "momentum", momentum, true);
    this->check_positive("RMSprop", "epsilon", epsilon);
  }
  std::string name() const override { return "RMSprop"; }
  std::unique_ptr<Optimizer<Scalar>> clone() const override { return std::make_unique<RMSprop>(*this); }
  Config config() const override {
    return {{"learning_rate", detail::number(this->learning_rate_)}, {"rho", detail::number(rho_)},
            {"momentum", detail::number(momentum_)}, {"epsilon", detail::number(epsilon_)},
            {"centered", centered_ ? "true" : "false"}};
  }
  /// velocity, then momentum when momentum > 0, then the average gradient when centered
  int slots_per_weight() const override { return 1 + (momentum_ != 0.0 ? 1 : 0) + (centered_ ? 1 : 0); }

 protected:
  using typename Optimizer<Scalar>::Flat;
  using typename Optimizer<Scalar>::ConstFlat;
  void update_step(Flat w, ConstFlat g, Flat* s) override {
    const Scalar rho = Scalar(rho_), lr = Scalar(this->learning_rate_), eps = Scalar(epsilon_);
    const Scalar mu = Scalar(momentum_);
    Scalar* wp = w.data();
    const Scalar* gp = g.data();
    Scalar* v = s[0].data();
    Scalar* m = momentum_ != 0.0 ? s[1].data() : nullptr;
    Scalar* mean_g = centered_ ? s[momentum_ != 0.0 ? 2 : 1].data() : nullptr;
    this->with_sqrt(
        w.size(),
        [=](Index i) {  // the denominator: v + ε, or v − ḡ² + ε when centered
          v[i] = rho * v[i] + (Scalar(1) - rho) * gp[i] * gp[i];  // v = ρv + (1−ρ)g²
          if (mean_g == nullptr) return v[i] + eps;
          mean_g[i] = rho * mean_g[i] + (Scalar(1) - rho) * gp[i];  // ḡ = ρḡ + (1−ρ)g
          return v[i] - mean_g[i] * mean_g[i] + eps;
        },
        [=](Index i, Scalar root) {
          const Scalar step = lr * gp[i] / root;  // lr·g / sqrt(denominator)
          if (m == nullptr) {
            wp[i] -= step;
          } else {
            m[i] = mu * m[i] + step;  // m = μm + lr·g / sqrt(denominator)
            wp[i] -= m[i];
          }
        });
  }

 private:
  double rho_, momentum_, epsilon_;
  bool centered_;
};

/// Adagrad: a += g²; w −= lr·g / sqrt(a + ε), with a starting at initial_accumulator_value.
template <typename Scalar = float>
class Adagrad : public Optimizer<Scalar> {
 public:
  explicit Adagrad(LearningRate learning_rate = 0.001, double initial_accumulator_value = 0.1, double epsilon = 1e-7,
                   GradientClipping clipping = {})
      : Optimizer<Scalar>(std::move(learning_rate), clipping), initial_(initial_accumulator_value), epsilon_(epsilon) {
    // an infinite accumulator (also a value beyond the model's Scalar) would silently stop every update
    if (!(initial_accumulator_value >= 0.0) || !std::isfinite(static_cast<Scalar>(initial_accumulator_value)))
      detail::fail("Adagrad: initial_accumulator_value must be a finite non-negative number within the model's ",
                   detail::scalar_name<Scalar>(), " (at most ", std::numeric_limits<Scalar>::max(),
                   "), received initial_accumulator_value=", initial_accumulator_value);
    this->check_positive("Adagrad", "epsilon", epsilon);
  }
  std::string name() const override { return "Adagrad"; }
  std::unique_ptr<Optimizer<Scalar>> clone() const override { return std::make_unique<Adagrad>(*this); }
  Config config() const override {
    return {{"learning_rate", detail::number(this->learning_rate_)},
            {"initial_accumulator_value", detail::number(initial_)}, {"epsilon", detail::number(epsilon_)}};
  }
  int slots_per_weight() const override { return 1; }

 protected:
  double initial_slot_value() const override { return initial_; }
  using typename Optimizer<Scalar>::Flat;
  using typename Optimizer<Scalar>::ConstFlat;
  void update_step(Flat w, ConstFlat g, Flat* s) override {
    const Scalar lr = Scalar(this->learning_rate_), eps = Scalar(epsilon_);
    Scalar* wp = w.data();
    const Scalar* gp = g.data();
    Scalar* a = s[0].data();
    this->with_sqrt(
        w.size(),
        [=](Index i) {
          a[i] += gp[i] * gp[i];  // a += g²
          return a[i] + eps;
        },
        [=](Index i, Scalar root) { wp[i] -= lr * gp[i] / root; });  // w −= lr·g/sqrt(a+ε)
  }

 private:
  double initial_, epsilon_;
};

}  // namespace optimizers

namespace detail {

/// The optimizer registry of Scalar with the built-in optimizers first, enough to make one by name:
/// without their codecs, which only saving and loading need (optimizer_registry attaches them), so
/// that `compile("adam", ...)` does not compile the config readers of every optimizer and schedule.
template <typename Scalar>
Registry<OptimizerEntry<Scalar>>& optimizer_makers() {
  using namespace optimizers;
  return registry_with_builtins<OptimizerEntry<Scalar>>([] {
    return std::vector{optimizer_maker_entry<SGD<Scalar>>("SGD"), optimizer_maker_entry<Adam<Scalar>>("Adam"),
                       optimizer_maker_entry<AdamW<Scalar>>("AdamW"), optimizer_maker_entry<RMSprop<Scalar>>("RMSprop"),
                       optimizer_maker_entry<Adagrad<Scalar>>("Adagrad")};
  });
}

}  // namespace detail

namespace optimizers {

/// Resolves a Keras optimizer name (case-insensitive: "adam", "SGD", a registered optimizer's name)
/// to the optimizer with Keras's defaults.
template <typename Scalar = float>
std::unique_ptr<Optimizer<Scalar>> get(std::string_view name) {
  const auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  const auto& registry = kerascpp::detail::optimizer_makers<Scalar>();
  const auto* entry = registry.find_alias(name, same);
  if (entry == nullptr)
    detail::fail("unknown optimizer ", detail::quote(name), detail::did_you_mean(name, registry.names_and_aliases()),
                 "; valid names are (in any case): ", detail::join(registry.names_and_aliases()));
  if (entry->make == nullptr)
    detail::fail("optimizer '", entry->name, "' has no default arguments; give compile the optimizer object instead of its name");
  return entry->make();
}

/// How each optimizer is read back from its saved config (the config saved is its `config()`). The
/// keys are read in order (a braced initializer evaluates left to right), so a file missing several
/// keys is reported at the first.
template <typename Scalar>
struct SGDCodec {
  static std::unique_ptr<Optimizer<Scalar>> from_config(ConfigReader& c) {
    return std::unique_ptr<Optimizer<Scalar>>(
        new SGD<Scalar>{c.number("learning_rate"), c.number("momentum"), c.boolean("nesterov")});
  }
};

template <typename Scalar>
struct AdamCodec {
  static std::unique_ptr<Optimizer<Scalar>> from_config(ConfigReader& c) {
    return std::unique_ptr<Optimizer<Scalar>>(new Adam<Scalar>{c.number("learning_rate"), c.number("beta_1"),
                                                               c.number("beta_2"), c.number("epsilon")});
  }
};

template <typename Scalar>
struct AdamWCodec {
  static std::unique_ptr<Optimizer<Scalar>> from_config(ConfigReader& c) {
    const double lr = c.number("learning_rate"), beta_1 = c.number("beta_1"), beta_2 = c.number("beta_2");
    const double epsilon = c.number("epsilon");
    return std::unique_ptr<Optimizer<Scalar>>(new AdamW<Scalar>{lr, c.number("weight_decay"), beta_1, beta_2, epsilon});
  }
};

template <typename Scalar>
struct RMSpropCodec {
  static std::unique_ptr<Optimizer<Scalar>> from_config(ConfigReader& c) {
    return std::unique_ptr<Optimizer<Scalar>>(new RMSprop<Scalar>{c.number("learning_rate"), c.number("rho"),
                                                                  c.number("momentum"), c.number("epsilon"),
                                                                  c.boolean("centered")});
  }
};

template <typename Scalar>
struct AdagradCodec {
  static std::unique_ptr<Optimizer<Scalar>> from_config(ConfigReader& c) {
    return std::unique_ptr<Optimizer<Scalar>>(new Adagrad<Scalar>{
        c.number("learning_rate"), c.number("initial_accumulator_value"), c.number("epsilon")});
  }
};

}  // namespace optimizers

/// The optimizer registry of Scalar, with the built-in optimizers first (optimizer_makers), each
/// with its codec.
template <typename Scalar>
Registry<OptimizerEntry<Scalar>>& optimizer_registry() {
  using namespace optimizers;
  static Registry<OptimizerEntry<Scalar>>& registry = []() -> Registry<OptimizerEntry<Scalar>>& {
    auto& makers = kerascpp::detail::optimizer_makers<Scalar>();
    for (const auto& codec : {optimizer_codec<SGD<Scalar>, SGDCodec<Scalar>>(), optimizer_codec<Adam<Scalar>, AdamCodec<Scalar>>(),
                              optimizer_codec<AdamW<Scalar>, AdamWCodec<Scalar>>(),
                              optimizer_codec<RMSprop<Scalar>, RMSpropCodec<Scalar>>(),
                              optimizer_codec<Adagrad<Scalar>, AdagradCodec<Scalar>>()})
      makers.attach_codec(codec);
    return makers;
  }();
  return registry;
}

}  // namespace kerascpp
