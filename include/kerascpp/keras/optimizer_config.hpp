// kerascpp/keras/optimizer_config.hpp — an optimizer of a Keras compile config and kerascpp's
// optimizers: its class and hyperparameters, its learning rate (a number, or a serialized
// keras.optimizers.schedules object with the arguments of the schedule's get_config) and its
// gradient clipping (clipnorm, global_clipnorm, clipvalue), read into kerascpp's optimizer config
// (Optimizer::full_config's keys) and written as Keras 3 serializes them. A schedule, clipping or
// argument kerascpp cannot honour is refused with ValueError naming the place in the file. Part of
// the optional target kerascpp::keras_files (uses nlohmann/json).
#pragma once

#include <kerascpp/keras/json.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/registry.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

namespace kerascpp::keras::config {

/// One argument of a Keras schedule's get_config, in Keras's order. `fallback` is Keras's default
/// as kerascpp's config text (nullopt: the argument is required); `name` is Keras's op name, which
/// kerascpp has no use for.
struct ScheduleKey {
  enum Kind { number, steps, boolean, numbers, step_list, optional_number, name };
  std::string key;
  Kind kind;
  std::optional<std::string> fallback = std::nullopt;
};

/// A keras.optimizers.schedules class that kerascpp has: its class name (also the name of kerascpp's
/// schedule), Keras's default `name` and its get_config keys.
struct ScheduleClass {
  std::string keras;
  std::string default_name;
  std::vector<ScheduleKey> keys;
};

/// Every Keras schedule class kerascpp reads and writes (keras/src/optimizers/schedules/
/// learning_rate_schedule.py: get_config of each class).
inline const std::vector<ScheduleClass>& schedule_classes() {
  using K = ScheduleKey;
  static const std::vector<ScheduleClass> classes{
      {"ExponentialDecay", "ExponentialDecay",
       {{"initial_learning_rate", K::number}, {"decay_steps", K::steps}, {"decay_rate", K::number},
        {"staircase", K::boolean, "false"}, {"name", K::name}}},
      {"PiecewiseConstantDecay", "PiecewiseConstant", {{"boundaries", K::step_list}, {"values", K::numbers}, {"name", K::name}}},
      {"PolynomialDecay", "PolynomialDecay",
       {{"initial_learning_rate", K::number}, {"decay_steps", K::steps}, {"end_learning_rate", K::number, "0.0001"},
        {"power", K::number, "1"}, {"cycle", K::boolean, "false"}, {"name", K::name}}},
      {"InverseTimeDecay", "InverseTimeDecay",
       {{"initial_learning_rate", K::number}, {"decay_steps", K::steps}, {"decay_rate", K::number},
        {"staircase", K::boolean, "false"}, {"name", K::name}}},
      {"CosineDecay", "CosineDecay",
       {{"initial_learning_rate", K::number}, {"decay_steps", K::steps}, {"alpha", K::number, "0"}, {"name", K::name},
        {"warmup_target", K::optional_number}, {"warmup_steps", K::steps, "0"}}}};
  return classes;
}

/// The Keras class names of schedule_classes(), for messages.
inline std::string schedule_class_names() {
  std::vector<std::string> names;
  for (const auto& c : schedule_classes()) names.push_back(c.keras);
  return join(names);
}

inline const ScheduleClass* schedule_class(std::string_view name) {
  for (const auto& c : schedule_classes())
    if (c.keras == name) return &c;
  return nullptr;
}

/// A whole number of steps: a JSON integer, or a float with an integral value (Keras takes
/// `decay_steps=1000.0` as well as 1000).
inline std::int64_t whole_steps(const json& v, const std::string& where, const std::string& key) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  const double d = number(v, where, key);
  if (d != std::floor(d) || !(std::fabs(d) < 9.2e18))
    unsupported(where, cat(key, "=", v.dump(), " is not supported: kerascpp counts steps in whole numbers"));
  return static_cast<std::int64_t>(d);
}

/// A learning-rate schedule of an optimizer config, {"module": "keras.optimizers.schedules",
/// "class_name": ..., "config": {...}} (tf.keras 2 leaves out module and registered_name): the name
/// of kerascpp's schedule and its config. Classes kerascpp lacks and custom classes are refused.
inline std::pair<std::string, Config> schedule(const json& v, const std::string& where) {
  const Object o = object(v, where, "learning_rate");
  if (o.from_string) malformed(where, cat("'learning_rate' must be a number or a serialized schedule, found ", show(v)));
  const json* module = find(v, "module");
  const json* registered = find(v, "registered_name");
  const bool custom = (module != nullptr && module->is_string() && module->get<std::string>().rfind("keras", 0) != 0) ||
                      (registered != nullptr && !registered->is_null() && *registered != o.class_name);
  const ScheduleClass* sc = custom ? nullptr : schedule_class(o.class_name);
  if (sc == nullptr)
    unsupported(where, cat("learning-rate schedule ", quote(o.class_name),
                           custom ? cat(" (module ", module == nullptr ? "null" : module->dump(), ", registered_name ",
                                        registered == nullptr ? "null" : registered->dump(), ")")
                                  : std::string(),
                           " is not supported; kerascpp reads the Keras schedules ", schedule_class_names()));
  const std::string at = cat(where, " (", sc->keras, ")");
  if (!o.config.is_object()) malformed(at, cat("'config' must be a JSON object, found ", show(o.config)));
  Config out;
  std::set<std::string> used;
  for (const ScheduleKey& k : sc->keys) {
    used.insert(k.key);
    const json* x = find(o.config, k.key);
    if (k.kind == ScheduleKey::name) {
      if (x != nullptr && !x->is_null()) static_cast<void>(text(*x, at, k.key));
      continue;
    }
    if (x == nullptr || x->is_null()) {
      if (k.kind == ScheduleKey::optional_number) continue;
      if (!k.fallback) malformed(at, cat("missing key ", quote(k.key)));
      out[k.key] = *k.fallback;
      continue;
    }
    const auto list = [&](bool whole) {
      if (!x->is_array()) malformed(at, cat(quote(k.key), " must be a list of numbers, found ", show(*x)));
      std::vector<std::string> items;
      for (const json& item : *x)
        items.push_back(whole ? std::to_string(whole_steps(item, at, k.key)) : kerascpp::detail::number(number(item, at, k.key)));
      return join(items, ",");
    };
    switch (k.kind) {
      case ScheduleKey::number:
      case ScheduleKey::optional_number:
        out[k.key] = kerascpp::detail::number(number(*x, at, k.key));
        break;
      case ScheduleKey::steps:
        out[k.key] = std::to_string(whole_steps(*x, at, k.key));
        break;
      case ScheduleKey::boolean:
        out[k.key] = boolean(*x, at, k.key) ? "true" : "false";
        break;
      case ScheduleKey::numbers:
        out[k.key] = list(false);
        break;
      case ScheduleKey::step_list:
        out[k.key] = list(true);
        break;
      case ScheduleKey::name:
        break;
    }
  }
  for (const auto& [key, x] : o.config.items())
    if (used.count(key) == 0 && !x.is_null())
      unsupported(at, cat("argument ", quote(key), "=", x.dump(), " is not supported by kerascpp's ", sc->keras));
  try {
    ConfigReader reader(out, cat("learning_rate ", sc->keras));
    static_cast<void>(optimizers::schedules::registry().at(sc->keras, "learning-rate schedule").from_config(reader));
    reader.finish();
  } catch (const ValueError& e) {
    unsupported(at, e.what());
  }
  return {sc->keras, out};
}

/// The optimizer of a compile config in kerascpp's terms: its registry name and full_config.
struct OptimizerSpec {
  std::string name;  // "Adam"
  Config config;     // Optimizer::full_config's keys
};

/// The optimizer of a compile config: its class, hyperparameters, learning rate or schedule, and
/// clipping. A clipping value that is not positive is no clipping, as Keras applies it (`if
/// self.clipnorm and self.clipnorm > 0`).
template <typename Scalar>
OptimizerSpec optimizer(const json& v, const std::string& where) {
  const Object o = object(v, where, "optimizer");
  const auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  const auto& registry = optimizer_registry<Scalar>();
  const auto* entry = registry.find_alias(o.class_name, same);
  if (entry == nullptr || entry->make == nullptr)
    unsupported(where, cat("unsupported optimizer ", quote(o.class_name), "; kerascpp supports ", join(registry.names())));
  OptimizerSpec spec{entry->name, {}};
  const std::string at = cat(where, " optimizer ", entry->name);
  const Config defaults = entry->make()->config();
  const json* rate = find(o.config, "learning_rate");
  const bool scheduled = rate != nullptr && rate->is_object();
  Config numbers = defaults;
  if (scheduled) numbers.erase("learning_rate");
  std::set<std::string> used = fill(spec.config, numbers, o.config, at);
  if (scheduled) {
    used.insert("learning_rate");
    const auto [name, schedule_config] = schedule(*rate, cat(at, " learning_rate"));
    spec.config["learning_rate"] = name;
    for (const auto& [key, value] : schedule_config) spec.config["learning_rate." + key] = value;
  }
  for (const char* key : {"clipnorm", "global_clipnorm", "clipvalue"}) {
    used.insert(key);
    const json* x = find(o.config, key);
    if (x == nullptr || x->is_null()) continue;
    if (const double c = number(*x, at, key); c > 0.0) spec.config[key] = kerascpp::detail::number(c);
  }
  const auto allow = [&](const std::string& key, const json& expected, std::string_view why) {
    used.insert(key);
    const json* x = find(o.config, key);
    if (x != nullptr && !x->is_null() && *x != expected) unsupported(at, cat(key, "=", x->dump(), " is not supported: ", why));
  };
  allow("amsgrad", false, "kerascpp's Adam has no AMSGrad variant");
  allow("use_ema", false, "kerascpp keeps no moving average of the weights");
  allow("decay", 0.0, "use a learning-rate schedule instead");
  allow("is_legacy_optimizer", false, "not a Keras 3 or tf.keras 2.11+ optimizer");
  for (const char* key : {"name", "jit_compile", "ema_momentum", "ema_overwrite_frequency"}) used.insert(key);
  if (defaults.count("weight_decay") == 0) allow("weight_decay", 0.0, "use AdamW for decoupled weight decay");
  for (const auto& [key, x] : o.config.items())
    if (used.count(key) == 0 && !x.is_null())
      unsupported(at, cat("argument ", quote(key), "=", x.dump(), " is not supported by kerascpp"));
  return spec;
}

/// A kerascpp schedule as Keras 3 serializes it. A schedule of a class the program registered has
/// no Keras class and is refused.
inline json schedule_json(const optimizers::schedules::LearningRateSchedule& s) {
  const ScheduleClass* sc = schedule_class(s.name());
  const auto* entry = optimizers::schedules::registry().find(s.name());
  if (sc == nullptr || entry == nullptr || *entry->type != typeid(s))
    throw ValueError(cat("keras::save_model: the optimizer's learning-rate schedule ", quote(s.name()),
                         " has no Keras class; Keras files hold the schedules ", schedule_class_names(),
                         " (keras.optimizers.schedules)"));
  const Config own = s.config();
  const auto at = [&](const std::string& key) { return own.count(key) != 0 ? own.at(key) : std::string(); };
  const auto list = [&](const std::string& key, bool whole) {
    json out = json::array();
    const std::string v = at(key);
    for (std::size_t begin = 0; begin < v.size();) {
      const std::size_t end = std::min(v.find(',', begin), v.size());
      const std::string item = v.substr(begin, end - begin);
      out.push_back(whole ? json(std::stoll(item)) : json(std::stod(item)));
      begin = end + 1;
    }
    return out;
  };
  json c = json::object();
  for (const ScheduleKey& k : sc->keys) {
    switch (k.kind) {
      case ScheduleKey::number:
        c[k.key] = std::stod(at(k.key));
        break;
      case ScheduleKey::optional_number:
        c[k.key] = own.count(k.key) != 0 ? json(std::stod(at(k.key))) : json(nullptr);
        break;
      case ScheduleKey::steps:
        c[k.key] = std::stoll(at(k.key));
        break;
      case ScheduleKey::boolean:
        c[k.key] = at(k.key) == "true";
        break;
      case ScheduleKey::numbers:
        c[k.key] = list(k.key, false);
        break;
      case ScheduleKey::step_list:
        c[k.key] = list(k.key, true);
        break;
      case ScheduleKey::name:
        c[k.key] = sc->default_name;
        break;
    }
  }
  return serialized("keras.optimizers.schedules", sc->keras, std::move(c));
}

/// The optimizer as Keras 3 serializes it: base_optimizer's get_config keys (the learning rate as a
/// number or a serialized schedule, the clipping), then the optimizer's own.
template <typename Scalar>
json optimizer_json(const Optimizer<Scalar>& opt) {
  json c;
  std::string lower = opt.name();
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const Config own = opt.config();
  const auto clip = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  c["name"] = lower;
  c["learning_rate"] = opt.learning_rate_schedule() ? schedule_json(*opt.learning_rate_schedule()) : json(opt.learning_rate());
  c["weight_decay"] = own.count("weight_decay") != 0 ? value(own.at("weight_decay")) : json(nullptr);
  c["clipnorm"] = clip(opt.clipping().clipnorm);
  c["global_clipnorm"] = clip(opt.clipping().global_clipnorm);
  c["clipvalue"] = clip(opt.clipping().clipvalue);
  c["use_ema"] = false;
  c["ema_momentum"] = 0.99;
  c["ema_overwrite_frequency"] = nullptr;
  c["loss_scale_factor"] = nullptr;
  c["gradient_accumulation_steps"] = nullptr;
  for (const auto& [key, v] : own)
    if (key != "learning_rate" && key != "weight_decay") c[key] = value(v);
  if (opt.name() == "Adam" || opt.name() == "AdamW") c["amsgrad"] = false;
  return serialized("keras.optimizers", opt.name(), c);
}

}  // namespace kerascpp::keras::config
