// kerascpp/keras/config.hpp — Keras's JSON model configs and kerascpp's models: reading the
// `config.json` of a `.keras` archive (Keras 3) or the `model_config` / `training_config` of a
// legacy `.h5` file (tf.keras 2) into layer and compile specifications, and writing a Sequential
// as Keras 3 serializes it. Layers, optimizers and losses are found in kerascpp's registries by
// their Keras names; an argument kerascpp does not support is refused with ValueError naming the
// place in the file, the argument and its value. Part of the optional target kerascpp::keras_files
// (uses nlohmann/json).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/initializers.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/registry.hpp>
#include <kerascpp/sequential.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace kerascpp::keras {

using json = nlohmann::ordered_json;

/// The Keras version whose file layout kerascpp writes (metadata.json's "keras_version").
inline constexpr std::string_view written_keras_version = "3.15.0";

namespace config {

using kerascpp::detail::cat;
using kerascpp::detail::join;
using kerascpp::detail::quote;

/// The Keras layer classes kerascpp reads and writes, in the order error messages list them.
inline const std::vector<std::string>& supported_layers() {
  static const std::vector<std::string> names{"InputLayer", "Dense", "Activation", "Dropout", "BatchNormalization"};
  return names;
}

/// Keras's `naming.to_snake_case`: "BatchNormalization" → "batch_normalization", "Dense" → "dense".
inline std::string snake_case(std::string_view name) {
  std::string first;  // (.)([A-Z][a-z]+) → \1_\2
  for (std::size_t k = 0; k < name.size(); ++k) {
    const auto c = static_cast<unsigned char>(name[k]);
    if (k > 0 && std::isupper(c) && k + 1 < name.size() && std::islower(static_cast<unsigned char>(name[k + 1])))
      first += '_';
    first += name[k];
  }
  std::string out;  // ([a-z0-9])([A-Z]) → \1_\2, then lower case
  for (std::size_t k = 0; k < first.size(); ++k) {
    const auto c = static_cast<unsigned char>(first[k]);
    if (k > 0 && std::isupper(c)) {
      const auto p = static_cast<unsigned char>(first[k - 1]);
      if (std::islower(p) || std::isdigit(p)) out += '_';
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

/// "glorot_uniform" → "GlorotUniform".
inline std::string camel_case(std::string_view name) {
  std::string out;
  bool upper = true;
  for (const char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

/// A JSON value shortened for a message.
inline std::string show(const json& v) { return quote(v.dump()); }

[[noreturn]] inline void unsupported(const std::string& where, std::string_view message) {
  throw ValueError(cat(where, ": ", message));
}
[[noreturn]] inline void malformed(const std::string& where, std::string_view message) {
  throw IOError(cat(where, ": ", message));
}

inline const json* find(const json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

inline const json& require(const json& object, const std::string& key, const std::string& where) {
  if (!object.is_object()) malformed(where, cat("expected a JSON object, found ", show(object)));
  const json* v = find(object, key);
  if (v == nullptr) malformed(where, cat("missing key ", quote(key)));
  return *v;
}

inline double number(const json& v, const std::string& where, const std::string& key) {
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    malformed(where, cat(quote(key), " must be a number, found ", show(v)));
  return v.get<double>();
}

inline bool boolean(const json& v, const std::string& where, const std::string& key) {
  if (!v.is_boolean()) malformed(where, cat(quote(key), " must be true or false, found ", show(v)));
  return v.get<bool>();
}

inline std::string text(const json& v, const std::string& where, const std::string& key) {
  if (!v.is_string()) malformed(where, cat(quote(key), " must be a string, found ", show(v)));
  return v.get<std::string>();
}

/// The width of a 2-D shape [null, width] (batch_shape, batch_input_shape, build_config.input_shape);
/// `with_batch` false for Keras's `input_shape` [width].
inline Index width_of(const json& shape, const std::string& where, const std::string& key, bool with_batch = true) {
  const std::size_t rank = with_batch ? 2 : 1;
  if (!shape.is_array() || shape.size() != rank || !shape.back().is_number_integer() || shape.back().get<std::int64_t>() <= 0 ||
      shape.back().get<std::int64_t>() > std::numeric_limits<std::int32_t>::max())
    unsupported(where, cat(quote(key), " is ", show(shape), "; kerascpp's layers take 2-D inputs (batch, features) with ",
                           "a positive number of features"));
  return static_cast<Index>(shape.back().get<std::int64_t>());
}

/// Checks a dtype (a name or a DTypePolicy object) is float32 or float64.
inline void check_dtype(const json& v, const std::string& where) {
  std::string name;
  if (v.is_string()) name = v.get<std::string>();
  else if (const json* c = find(v, "config"); c != nullptr && find(*c, "name") != nullptr && (*c)["name"].is_string())
    name = (*c)["name"].get<std::string>();
  else if (v.is_null()) return;
  if (name != "float32" && name != "float64")
    unsupported(where, cat("dtype ", show(v), " is not supported; kerascpp reads float32 and float64 layers"));
}

/// A Keras serialized object's class name and config: {"class_name": ..., "config": {...}}, or a
/// plain string (its name, with an empty config).
struct Object {
  std::string class_name;
  json config = json::object();
  bool from_string = false;
};

inline Object object(const json& v, const std::string& where, const std::string& key) {
  if (v.is_string()) return {v.get<std::string>(), json::object(), true};
  if (!v.is_object()) malformed(where, cat(quote(key), " must be a name or a serialized Keras object, found ", show(v)));
  Object o;
  o.class_name = text(require(v, "class_name", cat(where, " ", key)), where, "class_name");
  if (const json* c = find(v, "config"); c != nullptr && !c->is_null()) o.config = *c;
  if (const std::size_t gt = o.class_name.rfind('>'); gt != std::string::npos) o.class_name = o.class_name.substr(gt + 1);
  return o;
}

/// The kerascpp name of an initializer argument; parameters kerascpp cannot keep are refused.
inline std::string initializer(const json& v, const std::string& where, const std::string& key) {
  const Object o = object(v, where, key);
  const std::string name = o.from_string ? o.class_name : snake_case(o.class_name);
  if (initializers::registry().find(name) == nullptr)
    unsupported(where, cat(quote(key), " ", quote(o.class_name), " is not supported; supported initializers: ",
                           join(initializers::registry().names())));
  const std::map<std::string, double> defaults{{"mean", 0.0}, {"stddev", 0.05}, {"minval", -0.05}, {"maxval", 0.05}};
  for (const auto& [k, value] : o.config.items()) {
    if (k == "seed") continue;  // the weights come from the file; the seed would only matter to a fresh model
    const auto d = defaults.find(k);
    if (d == defaults.end() || !value.is_number() || value.get<double>() != d->second)
      unsupported(where, cat(quote(key), " ", o.class_name, " with ", k, "=", value.dump(),
                             " is not supported (kerascpp keeps only the default arguments)"));
  }
  return name;
}

/// (l1, l2) of a regularizer argument (null: none).
inline std::pair<double, double> regularizer(const json& v, const std::string& where, const std::string& key) {
  if (v.is_null()) return {0.0, 0.0};
  const Object o = object(v, where, key);
  const std::string name = snake_case(o.class_name);
  const auto factor = [&](const char* k) {
    const json* f = find(o.config, k);
    return f == nullptr || f->is_null() ? (o.from_string ? 0.01 : 0.0) : number(*f, where, cat(key, ".", k));
  };
  if (name == "l1") return {o.from_string ? 0.01 : factor("l1"), 0.0};
  if (name == "l2") return {0.0, o.from_string ? 0.01 : factor("l2")};
  if (name == "l1l2" || name == "l1_l2") return {factor("l1"), factor("l2")};
  unsupported(where, cat(quote(key), " ", quote(o.class_name), " is not supported; supported regularizers: L1, L2, L1L2"));
}

/// A Keras activation argument as kerascpp's name (null: linear).
inline std::string activation(const json& v, const std::string& where) {
  std::string name;
  if (v.is_null()) name = "linear";
  else if (v.is_string()) name = v.get<std::string>();
  else if (const json* c = find(v, "config"); c != nullptr && c->is_string()) name = c->get<std::string>();
  else malformed(where, cat("'activation' must be a name, found ", show(v)));
  try {
    static_cast<void>(activations::get(name));
  } catch (const ValueError& e) {
    unsupported(where, e.what());
  }
  return name;
}

/// One layer of a Sequential config, in kerascpp's terms.
struct LayerSpec {
  std::string class_name;  // Keras's and kerascpp's registry name: "Dense"
  std::string name;        // "dense_1"
  Config config;           // the kerascpp config its registry entry reads
  Index input_width = 0;   // a declared input width (batch_input_shape), 0 when none
};

/// Reads the keys of a layer's Keras config, refusing a value kerascpp cannot honour: each key is
/// either read by the layer's converter, one that carries no meaning for kerascpp, or null/false.
class LayerReader {
 public:
  LayerReader(const json& config, std::string where) : config_(config), where_(std::move(where)) {}

  const json* get(const std::string& key) {
    used_.insert(key);
    return find(config_, key);
  }
  const std::string& where() const { return where_; }

  /// A key that must be absent, null or equal to `expected`.
  void expect(const std::string& key, const json& expected, std::string_view why) {
    const json* v = get(key);
    if (v != nullptr && !v->is_null() && *v != expected)
      unsupported(where_, cat(key, "=", v->dump(), " is not supported: ", why));
  }

  /// Reads the keys every layer may have, then refuses unknown keys with a value.
  void finish(LayerSpec& spec) {
    if (const json* v = get("trainable"); v != nullptr && !boolean(*v, where_, "trainable"))
      unsupported(where_, "trainable=false is not supported: kerascpp trains every layer");
    if (const json* v = get("dtype")) check_dtype(*v, where_);
    for (const char* key : {"batch_input_shape", "batch_shape"})
      if (const json* v = get(key); v != nullptr && !v->is_null()) spec.input_width = width_of(*v, where_, key);
    if (const json* v = get("input_shape"); v != nullptr && !v->is_null()) spec.input_width = width_of(*v, where_, "input_shape", false);
    if (const json* v = get("input_dim"); v != nullptr && !v->is_null()) spec.input_width = static_cast<Index>(number(*v, where_, "input_dim"));
    for (const char* key : {"name", "sparse", "ragged", "optional", "lora_alpha", "renorm_momentum", "fused"}) get(key);
    for (const auto& [key, value] : config_.items())
      if (used_.count(key) == 0 && !value.is_null() && value != json(false))
        unsupported(where_, cat("argument ", quote(key), "=", value.dump(), " is not supported by kerascpp's ", spec.class_name));
  }

 private:
  const json& config_;
  std::string where_;
  std::set<std::string> used_;
};

/// One layer of a Sequential's "layers" list.
inline LayerSpec layer(const json& entry, const std::string& where) {
  LayerSpec spec;
  spec.class_name = text(require(entry, "class_name", where), where, "class_name");
  const json& keras = require(entry, "config", where);
  if (!keras.is_object()) malformed(where, "'config' must be a JSON object");
  if (const json* n = find(keras, "name"); n != nullptr && n->is_string()) spec.name = n->get<std::string>();
  const std::string at = cat(where, spec.name.empty() ? "" : cat(" ", quote(spec.name)), " (", spec.class_name, ")");
  const auto& names = supported_layers();
  if (std::find(names.begin(), names.end(), spec.class_name) == names.end())
    unsupported(at, cat("unsupported layer class ", quote(spec.class_name), "; kerascpp supports ", join(names)));
  LayerReader r(keras, at);
  Config& c = spec.config;
  const auto num = [&](const std::string& key, double fallback) {
    const json* v = r.get(key);
    return kerascpp::detail::number(v == nullptr ? fallback : number(*v, at, key));
  };
  if (spec.class_name == "Dense") {
    const json* units = r.get("units");
    if (units == nullptr || !units->is_number_integer()) malformed(at, "'units' must be an integer");
    c["units"] = std::to_string(units->get<std::int64_t>());
    const json* act = r.get("activation");
    c["activation"] = activation(act == nullptr ? json() : *act, at);
    const json* bias = r.get("use_bias");
    c["use_bias"] = bias == nullptr || boolean(*bias, at, "use_bias") ? "true" : "false";
    const json* ki = r.get("kernel_initializer");
    c["kernel_initializer"] = ki == nullptr ? "glorot_uniform" : initializer(*ki, at, "kernel_initializer");
    const json* bi = r.get("bias_initializer");
    c["bias_initializer"] = bi == nullptr ? "zeros" : initializer(*bi, at, "bias_initializer");
    const json* kr = r.get("kernel_regularizer");
    const auto [l1, l2] = kr == nullptr ? std::pair{0.0, 0.0} : regularizer(*kr, at, "kernel_regularizer");
    c["kernel_regularizer_l1"] = kerascpp::detail::number(l1);
    c["kernel_regularizer_l2"] = kerascpp::detail::number(l2);
    for (const char* key : {"bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "lora_rank",
                            "quantization_config"})
      r.expect(key, nullptr, "kerascpp's Dense has no such option");
  } else if (spec.class_name == "Activation") {
    const json* act = r.get("activation");
    c["activation"] = activation(act == nullptr ? json() : *act, at);
  } else if (spec.class_name == "Dropout") {
    c["rate"] = num("rate", 0.0);
    if (const json* s = r.get("seed"); s != nullptr && !s->is_null()) {
      if (!s->is_number_unsigned()) malformed(at, cat("'seed' must be a non-negative integer, found ", show(*s)));
      c["seed"] = std::to_string(s->get<std::uint64_t>());
    }
    r.expect("noise_shape", nullptr, "kerascpp's Dropout drops single values");
  } else if (spec.class_name == "BatchNormalization") {
    if (const json* axis = r.get("axis")) {
      const json a = axis->is_array() && axis->size() == 1 ? (*axis)[0] : *axis;
      if (!a.is_number_integer() || (a.get<std::int64_t>() != -1 && a.get<std::int64_t>() != 1))
        unsupported(at, cat("axis=", axis->dump(), " is not supported: kerascpp normalizes the feature axis (-1) of 2-D inputs"));
    }
    c["momentum"] = num("momentum", 0.99);
    c["epsilon"] = num("epsilon", 1e-3);
    r.expect("center", true, "kerascpp's BatchNormalization always has beta (center=true)");
    r.expect("scale", true, "kerascpp's BatchNormalization always has gamma (scale=true)");
    const std::pair<const char*, const char*> inits[] = {{"beta_initializer", "zeros"}, {"gamma_initializer", "ones"},
                                                        {"moving_mean_initializer", "zeros"},
                                                        {"moving_variance_initializer", "ones"}};
    for (const auto& [key, expected] : inits)
      if (const json* v = r.get(key); v != nullptr && initializer(*v, at, key) != expected)
        unsupported(at, cat(key, "=", v->dump(), " is not supported: kerascpp starts ", key, " at ", expected));
    for (const char* key : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "renorm_clipping",
                            "virtual_batch_size", "adjustment"})
      r.expect(key, nullptr, "kerascpp's BatchNormalization has no such option");
    r.expect("synchronized", false, "kerascpp's BatchNormalization normalizes over its own batch");
    r.expect("renorm", false, "kerascpp's BatchNormalization has no batch renormalization");
  }
  r.finish(spec);
  return spec;
}

/// One metric of a compile configuration: a registered name (`type` empty), or a metric object of
/// the registry entry `type` with its config, under the name `name`.
struct CompileMetric {
  std::string name;
  std::string type;
  Config config;
};

/// A compile configuration in kerascpp's terms: registry names and configs.
struct CompileSpec {
  std::string optimizer;  // registry name: "Adam"
  Config optimizer_config;
  std::string loss;  // registry name: "mean_absolute_error"
  Config loss_config;
  std::vector<CompileMetric> metrics;
};

/// A whole Sequential model's config.
struct ModelSpec {
  std::string name = "sequential";
  std::vector<LayerSpec> layers;  // without InputLayer
  Index input_width = 0;          // 0 when the config does not say
  std::optional<CompileSpec> compile;
};

/// Fills `out` with the keys of `defaults` read from a Keras config object (bool or number values),
/// keeping the default where a key is absent. Returns the keys of `keras` it read.
inline std::set<std::string> fill(Config& out, const Config& defaults, const json& keras, const std::string& where) {
  std::set<std::string> used;
  for (const auto& [key, fallback] : defaults) {
    const json* v = find(keras, key);
    used.insert(key);
    if (v == nullptr || v->is_null()) {
      out[key] = fallback;
    } else if (fallback == "true" || fallback == "false") {
      out[key] = boolean(*v, where, key) ? "true" : "false";
    } else {
      if (v->is_object()) unsupported(where, cat(quote(key), "=", v->dump(), " is not supported: kerascpp takes a number"));
      out[key] = kerascpp::detail::number(number(*v, where, key));
    }
  }
  return used;
}

/// The optimizer of a compile config.
template <typename Scalar>
void optimizer(const json& v, CompileSpec& spec, const std::string& where) {
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
  spec.optimizer = entry->name;
  const std::string at = cat(where, " optimizer ", entry->name);
  const Config defaults = entry->make()->config();
  std::set<std::string> used = fill(spec.optimizer_config, defaults, o.config, at);
  const auto allow = [&](const std::string& key, const json& expected, std::string_view why) {
    used.insert(key);
    const json* x = find(o.config, key);
    if (x != nullptr && !x->is_null() && *x != expected) unsupported(at, cat(key, "=", x->dump(), " is not supported: ", why));
  };
  allow("amsgrad", false, "kerascpp's Adam has no AMSGrad variant");
  allow("use_ema", false, "kerascpp keeps no moving average of the weights");
  allow("decay", 0.0, "use a learning-rate callback instead");
  allow("is_legacy_optimizer", false, "not a Keras 3 or tf.keras 2.11+ optimizer");
  for (const char* key : {"name", "jit_compile", "ema_momentum", "ema_overwrite_frequency"}) used.insert(key);
  if (defaults.count("weight_decay") == 0) allow("weight_decay", 0.0, "use AdamW for decoupled weight decay");
  for (const auto& [key, x] : o.config.items())
    if (used.count(key) == 0 && !x.is_null())
      unsupported(at, cat("argument ", quote(key), "=", x.dump(), " is not supported by kerascpp"));
}

/// The loss of a compile config: a name or a serialized loss object.
template <typename Scalar>
void loss(const json& v, CompileSpec& spec, const std::string& where) {
  const auto& registry = loss_registry<Scalar>();
  const auto same = [](std::string_view a, std::string_view b) { return a == b; };
  if (v.is_null()) unsupported(where, "the model is compiled without a loss; kerascpp needs one");
  const Object o = object(v, where, "loss");
  const LossEntry<Scalar>* entry = registry.find_alias(o.class_name, same);
  if (entry == nullptr) entry = registry.find_alias(snake_case(o.class_name), same);
  if (entry == nullptr || entry->make == nullptr)
    unsupported(where, cat("unsupported loss ", quote(o.class_name), "; kerascpp supports ", join(registry.names_and_aliases())));
  spec.loss = entry->name;
  const std::string at = cat(where, " loss ", entry->name);
  const Config defaults = entry->get_config(*entry->make());
  std::set<std::string> used = fill(spec.loss_config, defaults, o.config, at);
  if (const json* r = find(o.config, "reduction"); r != nullptr && !r->is_null() && *r != "sum_over_batch_size" && *r != "auto")
    unsupported(at, cat("reduction=", r->dump(), " is not supported: kerascpp averages over the batch (sum_over_batch_size)"));
  for (const char* key : {"reduction", "name", "dtype", "fn"}) used.insert(key);
  for (const auto& [key, x] : o.config.items())
    if (used.count(key) == 0 && !x.is_null() && x != json(false))
      unsupported(at, cat("argument ", quote(key), "=", x.dump(), " is not supported by kerascpp"));
}

/// One key of a Keras metric's get_config (after `name` and `dtype`) and how it maps to the config
/// of kerascpp's metric. `keras_only` keys have no kerascpp counterpart: they are written with
/// Keras's default `keras_default` and read only with that value (`why` says what kerascpp does).
/// `none` is the kerascpp value that Keras writes as null ("-1" for every class); a kerascpp config
/// leaves other None arguments out, and a null or absent key reads as the kerascpp default.
struct MetricKey {
  enum Kind { number, integer, text, numbers, keras_only };
  std::string key;
  Kind kind;
  std::optional<std::string> none = std::nullopt;
  json keras_default = nullptr;
  std::string_view why = {};
};

/// A Keras metric class whose objects kerascpp writes and reads with their arguments: its Keras
/// class name, the name of its entry in kerascpp's metric registry and its get_config keys in
/// Keras's order.
struct MetricClass {
  std::string keras;
  std::string entry;
  std::vector<MetricKey> keys;
};

/// Every Keras metric class kerascpp writes and reads as an object (keras/src/metrics: the
/// get_config of each class).
inline const std::vector<MetricClass>& metric_classes() {
  using K = MetricKey;
  static const std::vector<K> counts{
      {"thresholds", K::number},
      {"top_k", K::keras_only, std::nullopt, nullptr, "kerascpp counts every output above the threshold (top_k=None)"},
      {"class_id", K::integer, "-1"}};
  static const std::vector<MetricClass> classes{
      {"BinaryAccuracy", "binary_accuracy", {{"threshold", K::number}}},
      {"CategoricalAccuracy", "categorical_accuracy", {}},
      {"SparseCategoricalAccuracy", "sparse_categorical_accuracy", {}},
      {"MeanAbsoluteError", "mean_absolute_error", {}},
      {"MeanSquaredError", "mean_squared_error", {}},
      {"RootMeanSquaredError", "root_mean_squared_error", {}},
      {"AUC", "auc",
       {{"num_thresholds", K::integer},
        {"curve", K::text},
        {"summation_method", K::text},
        {"multi_label", K::keras_only, std::nullopt, false, "kerascpp's AUC treats every output as one label (multi_label=false)"},
        {"num_labels", K::keras_only, std::nullopt, nullptr, "kerascpp's AUC has no labels to count (multi_label=false)"},
        {"label_weights", K::keras_only, std::nullopt, nullptr, "kerascpp's AUC weighs every label alike (label_weights=None)"},
        {"from_logits", K::keras_only, std::nullopt, false, "kerascpp's AUC takes probabilities (from_logits=false)"},
        {"thresholds", K::numbers, ""}}},
      {"Precision", "precision", counts},
      {"Recall", "recall", counts},
      {"F1Score", "f1_score", {{"average", K::text}, {"threshold", K::number}}},
      {"FBetaScore", "fbeta_score", {{"average", K::text}, {"beta", K::number}, {"threshold", K::number}}}};
  return classes;
}

/// The Keras class names of metric_classes(), for messages.
inline std::string metric_class_names() {
  std::vector<std::string> names;
  for (const auto& c : metric_classes()) names.push_back(c.keras);
  return join(names);
}

/// The metric class whose Keras name (`by_entry` false) or registry entry (`by_entry` true) is
/// `name`; nullptr when there is none.
inline const MetricClass* metric_class(std::string_view name, bool by_entry = false) {
  for (const auto& c : metric_classes())
    if ((by_entry ? c.entry : c.keras) == name) return &c;
  return nullptr;
}

/// The kerascpp config of a serialized Keras metric of class `mc`, from its Keras config; a
/// value kerascpp cannot honour is refused naming `where`, the key and the value.
template <typename Scalar>
Config metric_config(const MetricClass& mc, const metrics::MetricEntry<Scalar>& entry, const json& keras,
                     const std::string& where) {
  if (!keras.is_object()) malformed(where, cat("'config' must be a JSON object, found ", show(keras)));
  const Config defaults = entry.get_config(*entry.make(entry.name, 1, 1));
  Config out;
  std::set<std::string> used{"name", "dtype"};
  for (const MetricKey& k : mc.keys) {
    used.insert(k.key);
    const json* v = find(keras, k.key);
    if (k.kind == MetricKey::keras_only) {
      if (v != nullptr && !v->is_null() && *v != k.keras_default)
        unsupported(where, cat(k.key, "=", v->dump(), " is not supported: ", k.why));
      continue;
    }
    if (v == nullptr || v->is_null()) {
      if (const auto d = defaults.find(k.key); d != defaults.end()) out[k.key] = d->second;
      continue;
    }
    switch (k.kind) {
      case MetricKey::number: {
        const json* one = v;
        if (v->is_array()) {
          if (v->size() != 1)
            unsupported(where, cat(k.key, "=", v->dump(), " is not supported: kerascpp's ", mc.keras,
                                   " takes one threshold, so one value"));
          one = &(*v)[0];
        }
        out[k.key] = kerascpp::detail::number(number(*one, where, k.key));
        break;
      }
      case MetricKey::integer:
        if (!v->is_number_integer()) malformed(where, cat(quote(k.key), " must be an integer, found ", show(*v)));
        out[k.key] = std::to_string(v->get<std::int64_t>());
        break;
      case MetricKey::text:
        out[k.key] = text(*v, where, k.key);
        break;
      case MetricKey::numbers: {
        if (!v->is_array()) malformed(where, cat(quote(k.key), " must be a list of numbers, found ", show(*v)));
        std::vector<std::string> items;
        for (const json& x : *v) items.push_back(kerascpp::detail::number(number(x, where, k.key)));
        out[k.key] = join(items, ",");
        break;
      }
      case MetricKey::keras_only:
        break;
    }
  }
  for (const auto& [key, x] : keras.items())
    if (used.count(key) == 0 && !x.is_null() && x != json(false))
      unsupported(where, cat("argument ", quote(key), "=", x.dump(), " is not supported by kerascpp's ", mc.keras));
  return out;
}

/// The metrics of a compile config: names, serialized metrics (objects of metric_classes() with
/// their config; a serialized function by its name), or lists of them (tf.keras 2 writes one list
/// per output). `path` is the place of `v` in the list ("metrics[0][1]").
template <typename Scalar>
void metrics_of(const json& v, CompileSpec& spec, const std::string& where, const std::string& path = "metrics",
                int depth = 0) {
  if (v.is_null()) return;
  if (v.is_array()) {
    if (depth == 2) malformed(where, "metrics nested deeper than a list of lists");
    for (std::size_t i = 0; i < v.size(); ++i) metrics_of<Scalar>(v[i], spec, where, cat(path, "[", i, "]"), depth + 1);
    return;
  }
  const std::string at = cat(where, " ", path);
  const auto& registry = metrics::registry<Scalar>();
  const auto by_name = [&](const std::string& name) {
    if (registry.find(name) == nullptr)
      unsupported(at, cat("unsupported metric ", quote(name), "; kerascpp supports ", join(registry.names()),
                          " by name and objects of the Keras classes ", metric_class_names()));
    spec.metrics.push_back({name, {}, {}});
  };
  if (v.is_string()) return by_name(v.get<std::string>());
  const Object o = object(v, where, path);
  if (o.class_name == "function" && o.config.is_string()) return by_name(o.config.get<std::string>());
  const MetricClass* mc = metric_class(o.class_name);
  if (mc == nullptr)
    unsupported(at, cat("unsupported metric class ", quote(o.class_name), "; kerascpp reads metric objects of the Keras ",
                        "classes ", metric_class_names(), " and metrics by name (", join(registry.names()), ")"));
  const std::string in = cat(at, " (", mc->keras, ")");
  const auto* entry = registry.find(mc->entry);
  if (entry == nullptr || entry->from_config == nullptr)
    unsupported(in, cat("kerascpp's metric registry has no entry ", quote(mc->entry), " that makes ", mc->keras, " objects"));
  CompileMetric m{mc->entry, mc->entry, metric_config(*mc, *entry, o.config, in)};
  if (const json* n = find(o.config, "name"); n != nullptr && !n->is_null()) m.name = text(*n, in, "name");
  try {
    ConfigReader reader(m.config, cat("metric ", mc->keras));
    static_cast<void>(entry->from_config(reader, m.name));
    reader.finish();
  } catch (const ValueError& e) {
    unsupported(in, e.what());
  }
  spec.metrics.push_back(std::move(m));
}

/// A Keras 3 `compile_config` ({optimizer, loss, metrics, ...}) or a tf.keras `training_config`
/// ({optimizer_config, loss, metrics, ...}).
template <typename Scalar>
std::optional<CompileSpec> compile(const json& c, const std::string& where) {
  if (c.is_null() || (c.is_object() && c.empty())) return std::nullopt;
  if (!c.is_object()) malformed(where, "expected a JSON object");
  CompileSpec spec;
  const json* opt = find(c, "optimizer");
  if (opt == nullptr) opt = find(c, "optimizer_config");
  if (opt == nullptr) malformed(where, "no optimizer");
  optimizer<Scalar>(*opt, spec, where);
  loss<Scalar>(require(c, "loss", where), spec, where);
  if (const json* m = find(c, "metrics")) metrics_of<Scalar>(*m, spec, where);
  for (const char* key : {"loss_weights", "weighted_metrics"})
    if (const json* x = find(c, key); x != nullptr && !x->is_null() && !(x->is_array() && x->empty()))
      unsupported(where, cat(key, "=", x->dump(), " is not supported by kerascpp"));
  return spec;
}

/// A model config: {"class_name": "Sequential", "config": {"layers": [...]}, ...}.
template <typename Scalar>
ModelSpec model(const json& root, const std::string& where) {
  ModelSpec spec;
  const std::string class_name = text(require(root, "class_name", where), where, "class_name");
  if (class_name != "Sequential") {
    std::string registered;
    if (const json* r = find(root, "registered_name"); r != nullptr && r->is_string())
      registered = cat(" (registered as ", quote(r->get<std::string>()), ")");
    unsupported(where, cat("the model is a ", quote(class_name), registered, "; kerascpp builds Sequential models only: ",
                           "build the equivalent Sequential in C++ and load its weights with keras::load_weights"));
  }
  const json& config = require(root, "config", where);
  if (const json* n = find(config, "name"); n != nullptr && n->is_string()) spec.name = n->get<std::string>();
  const json& layers = require(config, "layers", where);
  if (!layers.is_array()) malformed(where, "'layers' must be a list");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string at = cat(where, " layers[", i, "]");
    const json& entry = layers[i];
    if (find(entry, "class_name") != nullptr && entry["class_name"] == "InputLayer") {
      if (i != 0) unsupported(at, "an InputLayer must come first");
      const json& c = require(entry, "config", at);
      for (const char* key : {"batch_shape", "batch_input_shape"})
        if (const json* s = find(c, key); s != nullptr && !s->is_null()) spec.input_width = width_of(*s, at, key);
      if (const json* s = find(c, "shape"); s != nullptr && !s->is_null()) spec.input_width = width_of(*s, at, "shape", false);
      if (const json* d = find(c, "dtype")) check_dtype(*d, at);
      if (const json* s = find(c, "sparse"); s != nullptr && *s == true) unsupported(at, "sparse inputs are not supported");
      continue;
    }
    LayerSpec l = layer(entry, at);
    if (l.input_width != 0) {
      if (!spec.layers.empty() || (spec.input_width != 0 && spec.input_width != l.input_width))
        unsupported(at, cat("declares input width ", l.input_width, " where the model's input width is ", spec.input_width));
      spec.input_width = l.input_width;
    }
    if (const json* b = find(entry, "build_config"); spec.layers.empty() && spec.input_width == 0 && b != nullptr)
      if (const json* s = find(*b, "input_shape"); s != nullptr && !s->is_null())
        spec.input_width = width_of(*s, at, "build_config.input_shape");
    spec.layers.push_back(std::move(l));
  }
  if (spec.input_width == 0)
    if (const json* s = find(config, "build_input_shape"); s != nullptr && !s->is_null())
      spec.input_width = width_of(*s, where, "build_input_shape");
  if (spec.input_width == 0)
    if (const json* b = find(root, "build_config"))
      if (const json* s = find(*b, "input_shape"); s != nullptr && !s->is_null())
        spec.input_width = width_of(*s, where, "build_config.input_shape");
  if (const json* c = find(root, "compile_config")) spec.compile = compile<Scalar>(*c, cat(where, " compile_config"));
  return spec;
}

/// The Sequential a spec describes, not built (its weights are allocated only once the file's
/// weights are known to fit, see keras_files.hpp) and not compiled.
template <typename Scalar>
Sequential<Scalar> build(const ModelSpec& spec, const std::string& where) {
  Sequential<Scalar> m;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const LayerSpec& l = spec.layers[i];
    const std::string at = cat(where, " layer ", i, " ", quote(l.name), " (", l.class_name, ")");
    ConfigReader reader(l.config, l.class_name);
    LayerPtr<Scalar> layer;
    try {
      layer = layer_registry<Scalar>().at(l.class_name, "layer").from_config(reader, input_shape{});
    } catch (const ValueError& e) {
      unsupported(at, e.what());
    }
    if (!l.name.empty()) layer->set_name(l.name);
    m.add(std::move(layer));
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// {"module": ..., "class_name": ..., "config": ..., "registered_name": null}, as Keras serializes.
inline json serialized(const std::string& module, const std::string& class_name, json config) {
  json o;
  o["module"] = module;
  o["class_name"] = class_name;
  o["config"] = std::move(config);
  o["registered_name"] = nullptr;
  return o;
}

inline json dtype_policy() {
  json c;
  c["name"] = "float32";
  return serialized("keras", "DTypePolicy", c);
}

/// A config value written back as JSON: booleans and numbers as such, anything else as text.
inline json value(const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  double d = 0.0;
  const auto [ptr, error] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (!v.empty() && error == std::errc{} && ptr == v.data() + v.size()) return d;
  return v;
}

inline json initializer_json(const std::string& name) {
  json c = json::object();
  if (name == "random_normal") {
    c["mean"] = 0.0;
    c["stddev"] = 0.05;
  } else if (name == "random_uniform") {
    c["minval"] = -0.05;
    c["maxval"] = 0.05;
  }
  if (name != "zeros" && name != "ones") c["seed"] = nullptr;
  return serialized("keras.initializers", camel_case(name), c);
}

inline json regularizer_json(double l1, double l2) {
  if (l1 == 0.0 && l2 == 0.0) return nullptr;
  json c;
  if (l1 != 0.0 && l2 != 0.0) {
    c["l1"] = l1;
    c["l2"] = l2;
    return serialized("keras.regularizers", "L1L2", c);
  }
  c[l1 != 0.0 ? "l1" : "l2"] = l1 != 0.0 ? l1 : l2;
  return serialized("keras.regularizers", l1 != 0.0 ? "L1" : "L2", c);
}

/// A layer as Keras 3 serializes it, from its registry config; `input_width` is the width it
/// receives (its build_config).
template <typename Scalar>
json layer_json(const Layer<Scalar>& layer, const Config& c, Index input_width) {
  json k;
  k["name"] = layer.name();
  k["trainable"] = true;
  k["dtype"] = dtype_policy();
  const std::string type = layer.type();
  const auto at = [&](const char* key) { return c.count(key) != 0 ? c.at(key) : std::string(); };
  if (type == "Dense") {
    k["units"] = std::stoll(at("units"));
    k["activation"] = at("activation");
    k["use_bias"] = at("use_bias") == "true";
    k["kernel_initializer"] = initializer_json(at("kernel_initializer"));
    k["bias_initializer"] = initializer_json(at("bias_initializer"));
    k["kernel_regularizer"] = regularizer_json(std::stod(at("kernel_regularizer_l1")), std::stod(at("kernel_regularizer_l2")));
    k["bias_regularizer"] = nullptr;
    k["kernel_constraint"] = nullptr;
    k["bias_constraint"] = nullptr;
  } else if (type == "Activation") {
    k["activation"] = at("activation");
  } else if (type == "Dropout") {
    k["rate"] = std::stod(at("rate"));
    k["seed"] = c.count("seed") != 0 ? json(std::stoull(at("seed"))) : json(nullptr);
    k["noise_shape"] = nullptr;
  } else if (type == "BatchNormalization") {
    k["axis"] = -1;
    k["momentum"] = std::stod(at("momentum"));
    k["epsilon"] = std::stod(at("epsilon"));
    k["center"] = true;
    k["scale"] = true;
    k["beta_initializer"] = initializer_json("zeros");
    k["gamma_initializer"] = initializer_json("ones");
    k["moving_mean_initializer"] = initializer_json("zeros");
    k["moving_variance_initializer"] = initializer_json("ones");
    k["beta_regularizer"] = nullptr;
    k["gamma_regularizer"] = nullptr;
    k["beta_constraint"] = nullptr;
    k["gamma_constraint"] = nullptr;
    k["synchronized"] = false;
  } else {
    throw ValueError(cat("keras::save_model: layer ", quote(layer.name()), " of type ", quote(type),
                         " has no Keras equivalent; Keras files can hold ", join(supported_layers())));
  }
  json out = serialized("keras.layers", type, k);
  json shape = json::array({nullptr, input_width});
  out["build_config"] = json{{"input_shape", shape}};
  return out;
}

/// The optimizer as Keras 3 serializes it.
template <typename Scalar>
json optimizer_json(const Optimizer<Scalar>& opt) {
  json c;
  std::string lower = opt.name();
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const Config own = opt.config();
  c["name"] = lower;
  c["learning_rate"] = opt.learning_rate();
  c["weight_decay"] = own.count("weight_decay") != 0 ? value(own.at("weight_decay")) : json(nullptr);
  c["clipnorm"] = nullptr;
  c["global_clipnorm"] = nullptr;
  c["clipvalue"] = nullptr;
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

/// The loss: its name when it has its default arguments, else the serialized loss.
template <typename Scalar>
json loss_json(const Loss<Scalar>& l) {
  const auto* entry = loss_registry<Scalar>().find(l.name(), l);
  if (entry == nullptr)
    throw ValueError(cat("keras::save_model: loss ", quote(l.name()), " is not one of kerascpp's registered losses"));
  const Config own = entry->get_config(l);
  if (entry->make != nullptr && own == entry->get_config(*entry->make())) return l.name();
  json c;
  c["name"] = l.name();
  c["reduction"] = "sum_over_batch_size";
  for (const auto& [key, v] : own) c[key] = value(v);
  return serialized("keras.losses", camel_case(l.name()), c);
}

/// A metric as Keras 3 serializes it in compile_config: a metric given by name as that name, a
/// metric object as {"module": "keras.metrics", "class_name", "config", ...} with every key of
/// Keras's get_config (those kerascpp has no counterpart for at Keras's defaults).
template <typename Scalar>
json metric_json(const MetricSpec<Scalar>& spec) {
  if (spec.object == nullptr) return spec.name;
  const Metric<Scalar>& object = *spec.object;
  const auto* entry = metrics::entry_of(object);
  const MetricClass* mc = entry == nullptr ? nullptr : metric_class(entry->name, true);
  if (mc == nullptr)
    throw ValueError(cat("keras::save_model: metric object ", quote(spec.name),
                         entry == nullptr ? std::string(" is of a class kerascpp's metric registry does not know")
                                          : cat(" (registered as ", quote(entry->name), ") has no Keras class"),
                         "; Keras files hold metric objects of the classes ", metric_class_names(),
                         " and metrics by name"));
  const Config own = entry->get_config(object);
  json c;
  c["name"] = object.name();
  c["dtype"] = "float32";
  for (const MetricKey& k : mc->keys) {
    if (k.kind == MetricKey::keras_only) {
      c[k.key] = k.keras_default;
      continue;
    }
    const auto it = own.find(k.key);
    if (it == own.end() || it->second == k.none) {
      if (k.kind != MetricKey::numbers) c[k.key] = nullptr;  // Keras leaves out generated AUC thresholds
      continue;
    }
    const std::string& v = it->second;
    switch (k.kind) {
      case MetricKey::integer:
        c[k.key] = std::stoll(v);
        break;
      case MetricKey::number:
        c[k.key] = std::stod(v);
        break;
      case MetricKey::numbers: {
        json list = json::array();
        for (std::size_t begin = 0; begin <= v.size();) {
          const std::size_t end = std::min(v.find(',', begin), v.size());
          list.push_back(std::stod(v.substr(begin, end - begin)));
          begin = end + 1;
        }
        c[k.key] = std::move(list);
        break;
      }
      case MetricKey::text:
      case MetricKey::keras_only:
        c[k.key] = v;
        break;
    }
  }
  return serialized("keras.metrics", mc->keras, std::move(c));
}

/// The whole config.json of a Sequential (which must be built).
template <typename Scalar>
json model_json(const Sequential<Scalar>& model, const std::string& name = "sequential") {
  json layers = json::array();
  json input;
  input["batch_shape"] = json::array({nullptr, model.input_width()});
  input["dtype"] = "float32";
  input["sparse"] = false;
  input["name"] = "input_layer";
  layers.push_back(serialized("keras.layers", "InputLayer", input));
  Index width = model.input_width();
  for (const auto& l : model.layers()) {
    const auto* entry = layer_registry<Scalar>().find(l->type(), *l);
    if (entry == nullptr)
      throw ValueError(cat("keras::save_model: layer ", quote(l->name()), " of type ", quote(l->type()),
                           " has no Keras equivalent; Keras files can hold ", join(supported_layers())));
    layers.push_back(layer_json(*l, entry->get_config(*l), width));
    width = l->output_width();
  }
  json config;
  config["name"] = name;
  config["trainable"] = true;
  config["dtype"] = dtype_policy();
  config["layers"] = std::move(layers);
  json root = serialized("keras", "Sequential", config);
  root["build_config"] = json{{"input_shape", json::array({nullptr, model.input_width()})}};
  if (model.compiled()) {
    json compile;
    compile["optimizer"] = optimizer_json(model.optimizer());
    compile["loss"] = loss_json(model.loss());
    json metrics = json::array();
    for (const auto& m : model.metric_specs()) metrics.push_back(metric_json(m));
    compile["loss_weights"] = nullptr;
    compile["metrics"] = metrics.empty() ? json(nullptr) : metrics;
    compile["weighted_metrics"] = nullptr;
    compile["run_eagerly"] = false;
    compile["steps_per_execution"] = 1;
    compile["jit_compile"] = false;
    root["compile_config"] = std::move(compile);
  }
  return root;
}

}  // namespace config
}  // namespace kerascpp::keras
