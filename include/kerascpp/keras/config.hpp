// kerascpp/keras/config.hpp — Keras's JSON model configs and kerascpp's models: reading the
// `config.json` of a `.keras` archive (Keras 3) or the `model_config` / `training_config` of a
// legacy `.h5` file (tf.keras 2) into layer and compile specifications, and writing a Sequential
// as Keras 3 serializes it. Layers, optimizers and losses are found in kerascpp's registries by
// their Keras names; an argument kerascpp does not support is refused with ValueError naming the
// place in the file, the argument and its value. Optimizers (with their schedules and clipping) are
// in keras/optimizer_config.hpp, metric objects in keras/metric_config.hpp, the shared JSON reads
// in keras/json.hpp. Part of the optional target kerascpp::keras_files (uses nlohmann/json).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/initializers.hpp>
#include <kerascpp/keras/json.hpp>
#include <kerascpp/keras/metric_config.hpp>
#include <kerascpp/keras/optimizer_config.hpp>
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

namespace kerascpp::keras::config {

/// The Keras layer classes kerascpp reads and writes, in the order error messages list them.
inline const std::vector<std::string>& supported_layers() {
  static const std::vector<std::string> names{"InputLayer", "Dense", "Activation", "Dropout", "BatchNormalization",
                                               "Normalization"};
  return names;
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
  } else if (spec.class_name == "Normalization") {
    const json* axis = r.get("axis");
    const json a = axis != nullptr && axis->is_array() && axis->size() == 1 ? (*axis)[0] : axis == nullptr ? json(-1) : *axis;
    if (!a.is_number_integer() || (a.get<std::int64_t>() != -1 && a.get<std::int64_t>() != 1))
      unsupported(at, cat("axis=", axis->dump(), " is not supported: kerascpp's Normalization keeps a mean and variance per ",
                          "feature, the axis -1 (or 1) of 2-D inputs"));
    c["axis"] = std::to_string(a.get<std::int64_t>());
    const json* invert = r.get("invert");
    c["invert"] = invert != nullptr && !invert->is_null() && boolean(*invert, at, "invert") ? "true" : "false";
    const json* mean = r.get("mean");
    const json* variance = r.get("variance");
    const bool has_mean = mean != nullptr && !mean->is_null(), has_variance = variance != nullptr && !variance->is_null();
    if (has_mean != has_variance)
      malformed(at, cat("'mean' and 'variance' must be given together, found mean=", has_mean ? mean->dump() : "null",
                        " and variance=", has_variance ? variance->dump() : "null"));
    const auto values = [&](const json& v, const std::string& key) {  // a number, or a list of numbers
      std::vector<std::string> items;
      if (!v.is_array()) items.push_back(kerascpp::detail::number(number(v, at, key)));
      else
        for (const json& x : v) {
          if (x.is_array())
            unsupported(at, cat(key, "=", v.dump(), " is not supported: kerascpp's Normalization takes one value or one ",
                                "per feature of 2-D inputs"));
          items.push_back(kerascpp::detail::number(number(x, at, key)));
        }
      if (items.empty()) malformed(at, cat(quote(key), " must hold at least one value, found ", v.dump()));
      return join(items, ",");
    };
    if (has_mean) {
      c["mean"] = values(*mean, "mean");
      c["variance"] = values(*variance, "variance");
    }
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
  OptimizerSpec o = optimizer<Scalar>(*opt, where);
  spec.optimizer = std::move(o.name);
  spec.optimizer_config = std::move(o.config);
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

/// Whether a Normalization's statistics go in its Keras config: mean and variance given to the
/// constructor and unchanged since (its weights hold the given values), as Keras keeps a layer built
/// with them. Otherwise they are its variables mean, variance and count, as Keras keeps an adapted
/// layer's. (`weights()` is not const; nothing is changed.)
template <typename Scalar>
bool statistics_in_config(layers::Normalization<Scalar>& n) {
  const auto& mean = n.given_mean();
  const auto& variance = n.given_variance();
  if (mean.empty()) return false;
  const auto w = n.weights();
  if (w.size() != 2) return true;  // not built: the given values are its statistics
  for (Index j = 0; j < w[0].value->cols(); ++j) {
    const std::size_t k = mean.size() == 1 ? 0 : static_cast<std::size_t>(j);
    if ((*w[0].value)(0, j) != static_cast<Scalar>(mean[k]) || (*w[1].value)(0, j) != static_cast<Scalar>(variance[k]))
      return false;
  }
  return true;
}

/// Normalization's given mean or variance as Keras writes it: one value as a number, else a list.
inline json values_json(const std::vector<double>& v) { return v.size() == 1 ? json(v.front()) : json(v); }

/// A layer as Keras 3 serializes it, from its registry config; `input_width` is the width it
/// receives (its build_config). (`layer` is not const for Normalization's weights(); nothing is
/// changed.)
template <typename Scalar>
json layer_json(Layer<Scalar>& layer, const Config& c, Index input_width) {
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
  } else if (auto* n = dynamic_cast<layers::Normalization<Scalar>*>(&layer)) {
    k["axis"] = json::array({n->axis()});
    k["invert"] = n->invert();
    const bool given = statistics_in_config(*n);
    k["mean"] = given ? values_json(n->given_mean()) : json(nullptr);
    k["variance"] = given ? values_json(n->given_variance()) : json(nullptr);
  } else {
    throw ValueError(cat("keras::save_model: layer ", quote(layer.name()), " of type ", quote(type),
                         " has no Keras equivalent; Keras files can hold ", join(supported_layers())));
  }
  json out = serialized("keras.layers", type, k);
  json shape = json::array({nullptr, input_width});
  out["build_config"] = json{{"input_shape", shape}};
  return out;
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
  std::set<std::string> names{"input_layer"};
  for (const auto& l : model.layers()) {
    // Keras's Sequential refuses a second layer of one name (the input layer's included) when it loads the file
    if (!names.insert(l->name()).second)
      throw ValueError(cat("keras::save_model: two layers are named ", quote(l->name()),
                           l->name() == "input_layer" ? " (the name of the input layer Keras adds)" : "",
                           "; expected unique layer names, as Keras's Sequential refuses to load repeated ones: "
                           "set_name() one of them"));
    try {
      (void)json(l->name()).dump();
    } catch (const json::type_error&) {  // nlohmann's dump refuses text that is not UTF-8
      throw ValueError(cat("keras::save_model: layer name ", quote(l->name()),
                           " is not valid UTF-8; expected a UTF-8 name, as Keras files store names as JSON text"));
    }
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

}  // namespace kerascpp::keras::config
