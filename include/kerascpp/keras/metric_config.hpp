// kerascpp/keras/metric_config.hpp — the Keras metric classes whose objects kerascpp reads and
// writes with their arguments: each class's get_config keys in Keras's order and how they map to
// the config of kerascpp's metric, read from a serialized Keras metric (refusing a value kerascpp
// cannot honour, naming the place in the file) and written as Keras 3 serializes it. Part of the
// optional target kerascpp::keras_files (uses nlohmann/json).
#pragma once

#include <kerascpp/keras/json.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/registry.hpp>
#include <kerascpp/sequential.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kerascpp::keras::config {

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

}  // namespace kerascpp::keras::config
