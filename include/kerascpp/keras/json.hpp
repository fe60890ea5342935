// kerascpp/keras/json.hpp — the JSON vocabulary of Keras's configs shared by the readers and
// writers of kerascpp/keras/: Keras's names (snake case, camel case), typed reads of a config's
// values that name the place in the file when a value is missing or of the wrong type (IOError) or
// one kerascpp cannot honour (ValueError), serialized Keras objects, and kerascpp configs (text)
// written back as JSON values. Part of the optional target kerascpp::keras_files (uses
// nlohmann/json).
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/registry.hpp>

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace kerascpp::keras {

using json = nlohmann::ordered_json;

/// The Keras version whose file layout kerascpp writes (metadata.json's "keras_version").
inline constexpr std::string_view written_keras_version = "3.15.0";

namespace config {

using kerascpp::detail::cat;
using kerascpp::detail::join;
using kerascpp::detail::quote;

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

}  // namespace config
}  // namespace kerascpp::keras
