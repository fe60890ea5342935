// kerascpp/registry.hpp — one registry per family, keyed by Keras name: layers, optimizers and
// losses here; activations, initializers, regularizers and metrics declare their entry type in
// their own header and use the same Registry. Each type registers where it is defined, with what
// its family needs (a factory from its text config, its config as text, for layers the weights it
// gets for an input width). Lookups by name and saving walk these registries, so a user's own
// layer or metric works by name after one line:
//
//   KERASCPP_REGISTER_LAYER(Scale);                  // Scale<Scalar> derives from Layer<Scalar>
//   KERASCPP_REGISTER_METRIC(MeanBias, "mean_bias"); // MeanBias<Scalar> derives from Metric<Scalar>
//
// A program's own types register during static initialization (an inline variable), for float and
// double. The built-in types are added when a family's registry is first looked up, for that
// Scalar only, so that a program pays the compile time of every built-in type only where it looks
// types up by name (compile("adam", "mae"), load_model) or saves.
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace kerascpp {

template <typename Scalar>
class Layer;
template <typename Scalar>
class Optimizer;
template <typename Scalar>
class Loss;
struct input_shape;

/// A configuration as text: key → value (numbers in their shortest exact form).
using Config = std::map<std::string, std::string>;

/// A config that cannot be read: a missing key, a malformed value or a key nobody asked for.
class ConfigError : public ValueError {
 public:
  using ValueError::ValueError;
};

/// Reads typed values out of a config; a missing key, a malformed value or (at `finish`) a key
/// that was not read throws ConfigError naming the key. `owner` starts every message ("Dense",
/// "optimizer SGD").
class ConfigReader {
 public:
  ConfigReader(const Config& config, std::string owner) : config_(config), owner_(std::move(owner)) {}

  const std::string& owner() const { return owner_; }

  const std::string& text(const std::string& key) { return *find(key, true); }

  std::optional<std::string> optional_text(const std::string& key) {
    const std::string* v = find(key, false);
    return v != nullptr ? std::optional<std::string>(*v) : std::nullopt;
  }

  double number(const std::string& key) {
    const std::string& v = text(key);
    double out = 0.0;
    const auto [ptr, error] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || error != std::errc{} || ptr != v.data() + v.size())
      fail(detail::cat(owner_, " config ", detail::quote(key), " must be a number, found ", detail::quote(v)));
    return out;
  }

  std::int64_t integer(const std::string& key, std::int64_t low, std::int64_t high) {
    const std::string& v = text(key);
    std::int64_t out = 0;
    const auto [ptr, error] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || error != std::errc{} || ptr != v.data() + v.size() || out < low || out > high)
      fail(detail::cat(owner_, " config ", detail::quote(key), " must be an integer in [", low, ", ", high, "], found ",
                       detail::quote(v)));
    return out;
  }

  /// The number under `key`, or nullopt when the key is absent.
  std::optional<double> optional_number(const std::string& key) {
    if (config_.count(key) == 0) return std::nullopt;
    return number(key);
  }

  /// A comma-separated list of integers or numbers ("100,200", "0.1,0.01,0.001"); an empty text is
  /// an empty list, and every item must be well-formed.
  template <typename T>
  std::vector<T> list(const std::string& key) {
    const std::string& v = text(key);
    std::vector<T> out;
    if (v.empty()) return out;
    for (std::size_t begin = 0;;) {
      const std::size_t end = std::min(v.find(',', begin), v.size());
      T item{};
      const auto [ptr, error] = std::from_chars(v.data() + begin, v.data() + end, item);
      if (begin == end || error != std::errc{} || ptr != v.data() + end)
        fail(detail::cat(owner_, " config ", detail::quote(key), " must be a comma-separated list of ",
                         std::is_integral_v<T> ? "integers" : "numbers", ", found ", detail::quote(v)));
      out.push_back(item);
      if (end == v.size()) break;
      begin = end + 1;
    }
    return out;
  }

  /// Every entry, read or not (for readers that split a config between several owners).
  const Config& config() const { return config_; }

  std::optional<std::uint64_t> optional_unsigned(const std::string& key) {
    const std::string* v = find(key, false);
    if (v == nullptr) return std::nullopt;
    std::uint64_t out = 0;
    const auto [ptr, error] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (v->empty() || error != std::errc{} || ptr != v->data() + v->size())
      fail(detail::cat(owner_, " config ", detail::quote(key), " must be an unsigned 64-bit integer, found ",
                       detail::quote(*v)));
    return out;
  }

  bool boolean(const std::string& key) {
    const std::string& v = text(key);
    if (v == "true") return true;
    if (v == "false") return false;
    fail(detail::cat(owner_, " config ", detail::quote(key), " must be 'true' or 'false', found ", detail::quote(v)));
  }

  /// Throws when the config holds keys that were not read.
  void finish() const {
    std::vector<std::string> extra;
    for (const auto& entry : config_)
      if (used_.count(entry.first) == 0) extra.push_back(detail::quote(entry.first));
    if (!extra.empty()) fail(detail::cat(owner_, " config has unknown key(s) ", detail::join(extra)));
  }

  [[noreturn]] void fail(const std::string& message) const { throw ConfigError(message); }

 private:
  const std::string* find(const std::string& key, bool required) {
    const auto it = config_.find(key);
    if (it == config_.end()) {
      if (!required) return nullptr;
      std::vector<std::string> keys;
      for (const auto& entry : config_) keys.push_back(detail::quote(entry.first));
      fail(detail::cat(owner_, " config is missing key ", detail::quote(key), "; it has ",
                       keys.empty() ? std::string("none") : detail::join(keys)));
    }
    used_.insert(key);
    return &it->second;
  }

  const Config& config_;
  std::string owner_;
  std::set<std::string> used_;
};

/// The name, shape and role of one weight a layer has once built.
struct WeightSpec {
  std::string name;
  Index rows = 0;
  Index cols = 0;
  bool trainable = false;
};

/// What the registry knows of one layer type, for one Scalar.
template <typename Scalar>
struct LayerEntry {
  /// The names of the built-in layers (layer_registry in layers.hpp adds them when first looked
  /// up): a program's own layer cannot take one, and is told so when it registers.
  static constexpr std::array<std::string_view, 5> builtin_names{"Dense", "Activation", "Dropout", "BatchNormalization",
                                                                 "Normalization"};
  static constexpr std::string_view family = "layer";
  std::string name;             // Layer::type(), "Dense"
  const std::type_info* type;   // the registered class, so that a subclass is not saved as its base
  std::unique_ptr<Layer<Scalar>> (*from_config)(ConfigReader&, input_shape);
  Config (*get_config)(const Layer<Scalar>&);
  /// The weights for inputs of width `width` (without building), and the output width.
  std::vector<WeightSpec> (*weight_specs)(const Layer<Scalar>&, Index width, Index& output_width);
  /// The layer's saved random state (Dropout), or nullptr when it keeps none.
  std::uint64_t (*get_state)(Layer<Scalar>&);
  void (*set_state)(Layer<Scalar>&, std::uint64_t);
  /// A valid config for tests that cover every registered layer.
  Config (*sample_config)();
};

/// What the registry knows of one optimizer type, for one Scalar.
template <typename Scalar>
struct OptimizerEntry {
  /// The names of the built-in optimizers (detail::optimizer_makers in optimizers.hpp).
  static constexpr std::array<std::string_view, 5> builtin_names{"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"};
  static constexpr std::string_view family = "optimizer";
  std::string name;  // Optimizer::name(), "Adam"
  const std::type_info* type;
  std::unique_ptr<Optimizer<Scalar>> (*from_config)(ConfigReader&);
  Config (*get_config)(const Optimizer<Scalar>&);
  /// The optimizer with Keras's defaults, for `compile("adam", ...)`; nullptr when it has none.
  std::unique_ptr<Optimizer<Scalar>> (*make)();
  std::vector<std::string> aliases{};  // other names `compile` accepts
};

/// What the registry knows of one loss type, for one Scalar.
template <typename Scalar>
struct LossEntry {
  /// The names and aliases of the built-in losses (detail::loss_makers in losses.hpp).
  static constexpr std::array<std::string_view, 10> builtin_names{
      "mean_absolute_error", "mae", "mean_squared_error", "mse", "huber", "huber_loss", "binary_crossentropy", "bce",
      "categorical_crossentropy", "sparse_categorical_crossentropy"};
  static constexpr std::string_view family = "loss";
  std::string name;  // Loss::name(), "huber"
  const std::type_info* type;
  std::unique_ptr<Loss<Scalar>> (*from_config)(ConfigReader&);
  Config (*get_config)(const Loss<Scalar>&);
  /// The loss with Keras's defaults, for `compile(..., "mae")`; nullptr when it has none.
  std::unique_ptr<Loss<Scalar>> (*make)();
  std::vector<std::string> aliases{};  // other names `compile` accepts ("mae")
};

/// The entries of one family, in registration order.
template <typename Entry>
class Registry {
 public:
  /// Adds `entry` after every other; registering the same type under the same name again does
  /// nothing, and a name taken by another type is a ValueError, as is a name (or alias) of one of
  /// the family's built-in types (`Entry::builtin_names`), whether they were added yet or not.
  void add(Entry entry) {
    if constexpr (requires { Entry::builtin_names; }) {
      refuse_builtin_name(entry, entry.name);
      if constexpr (requires { entry.aliases; })
        for (const auto& alias : entry.aliases) refuse_builtin_name(entry, alias);
    }
    if (is_new(entry)) entries_.push_back(std::move(entry));
  }

  /// Adds a family's built-in `entries`, in their order, ahead of the entries a program added, so
  /// that lists of names start with the built-ins whichever registered first.
  void add_builtins(std::vector<Entry> entries) {
    for (auto& entry : entries)
      if (is_new(entry)) entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(builtins_++), std::move(entry));
  }

  /// Gives the entry of `codec`'s type the codec (`from_config`, `get_config`) it lacks: a family
  /// adds its built-ins without codecs, to make them by name, and attaches the codecs where a
  /// program saves or loads.
  void attach_codec(const Entry& codec) {
    for (auto& e : entries_) {
      if (*e.type != *codec.type) continue;
      if (e.from_config == nullptr) e.from_config = codec.from_config;
      if (e.get_config == nullptr) e.get_config = codec.get_config;
    }
  }

  /// The entry of `name`, or nullptr.
  const Entry* find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  /// The entry called `name` or one of its aliases, compared with `same` (for case-insensitive
  /// optimizer names), or nullptr.
  template <typename Same>
  const Entry* find_alias(std::string_view name, Same&& same) const {
    for (const auto& e : entries_) {
      if (same(e.name, name)) return &e;
      if constexpr (requires { e.aliases; })
        for (const auto& a : e.aliases)
          if (same(a, name)) return &e;
    }
    return nullptr;
  }

  /// Every name with its aliases after it, in registration order: "mean_absolute_error, mae, ...".
  std::vector<std::string> names_and_aliases() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) {
      out.push_back(e.name);
      if constexpr (requires { e.aliases; }) out.insert(out.end(), e.aliases.begin(), e.aliases.end());
    }
    return out;
  }

  /// The entry of `name`; otherwise a ValueError "unknown <what> '<name>'; valid names are: ..."
  /// listing the registered names.
  const Entry& at(std::string_view name, std::string_view what) const {
    if (const Entry* e = find(name)) return *e;
    detail::fail("unknown ", what, " ", detail::quote(name), detail::did_you_mean(name, names()), "; valid names are: ",
                 detail::join(names()));
  }

  /// The entry of `name` when `object`'s class is the registered one, or nullptr.
  template <typename T>
  const Entry* find(std::string_view name, const T& object) const {
    const Entry* e = find(name);
    return e != nullptr && *e->type == typeid(object) ? e : nullptr;
  }

  const std::vector<Entry>& entries() const { return entries_; }

  /// The registered names, in registration order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }

 private:
  static void refuse_builtin_name(const Entry& entry, std::string_view name) {
    const auto& builtin = Entry::builtin_names;
    if (std::find(builtin.begin(), builtin.end(), name) == builtin.end()) return;
    detail::fail("registry: cannot register type ", entry.type->name(), " under ", detail::quote(name),
                 ", the name of a built-in ", Entry::family, "; expected a name that no built-in ", Entry::family,
                 " has (", detail::join(std::vector<std::string>(builtin.begin(), builtin.end())), "), received ", detail::quote(name));
  }

  bool is_new(const Entry& entry) const {
    if (entry.name.empty())
      detail::fail("registry: cannot register type ", entry.type->name(), " under an empty name; expected the name files "
                   "and compile use for it, received ''");
    for (const auto& e : entries_) {
      if (e.name != entry.name) continue;
      if (*e.type == *entry.type) return false;
      detail::fail("registry: the name ", detail::quote(entry.name), " is already registered for type ", e.type->name(),
                   "; cannot register it again for type ", entry.type->name());
    }
    return true;
  }

  std::vector<Entry> entries_;
  std::size_t builtins_ = 0;
};

/// The one registry of the family whose entries are `Entry`, holding what was registered so far.
/// A family with built-in types reads it through its own accessor (layer_registry,
/// optimizer_registry, loss_registry, metrics::registry), which adds the built-ins first.
template <typename Entry>
Registry<Entry>& registry_of() {
  static Registry<Entry> registry;
  return registry;
}

/// registry_of<Entry>() with the entries `builtins()` returns added once, on the first call (which
/// is thread-safe). Built-in types of a Scalar are instantiated only by a program that looks up
/// that Scalar's registry, which keeps programs that never do so quick to compile.
template <typename Entry, typename Builtins>
Registry<Entry>& registry_with_builtins(Builtins builtins) {
  static Registry<Entry>& registry = [&]() -> Registry<Entry>& {
    registry_of<Entry>().add_builtins(builtins());
    return registry_of<Entry>();
  }();
  return registry;
}

/// Adds `make.template operator()<Scalar>()`, an Entry<Scalar>, to the registry of Entry<Scalar>
/// for float and double. Returns true, for an inline variable.
template <template <typename> class Entry, typename Make>
bool register_for_float_and_double(const Make& make) {
  registry_of<Entry<float>>().add(make.template operator()<float>());
  registry_of<Entry<double>>().add(make.template operator()<double>());
  return true;
}

namespace detail {

/// The hooks a layer type gives the registry. `Codec` (by default the layer class itself) may
/// define, as static functions:
///   from_config(ConfigReader&, input_shape) -> std::unique_ptr<Layer<Scalar>>
///       default: L(input_shape) or, for a layer that cannot declare an input width, L()
///   get_config(const L&) -> Config                            default: layer.config()
///   weight_specs(const L&, Index width, Index& output_width) -> std::vector<WeightSpec>   required
///   get_state(L&) -> std::uint64_t, set_state(L&, std::uint64_t)   optional, both or neither
///   sample_config() -> Config       default: the config of L(), or an empty config when L has no default
/// (`Shape` is input_shape, a parameter so that this header need not define it.)
template <typename L, typename Codec, typename Shape = input_shape>
struct LayerHooks {
  using Scalar = typename L::scalar_type;

  static std::unique_ptr<Layer<Scalar>> from_config(ConfigReader& c, Shape shape) {
    if constexpr (requires { Codec::from_config(c, shape); }) {
      return Codec::from_config(c, shape);
    } else if constexpr (std::is_constructible_v<L, Shape>) {
      c.finish();
      return std::make_unique<L>(shape);
    } else {
      c.finish();
      if (shape.width != 0)
        c.fail(cat("a ", c.owner(), " layer cannot declare an input width, found ", shape.width));
      return std::make_unique<L>();
    }
  }

  static Config get_config(const Layer<Scalar>& layer) {
    if constexpr (requires(const L& l) { Codec::get_config(l); }) return Codec::get_config(static_cast<const L&>(layer));
    else return layer.config();
  }

  static std::vector<WeightSpec> weight_specs(const Layer<Scalar>& layer, Index width, Index& output_width) {
    return Codec::weight_specs(static_cast<const L&>(layer), width, output_width);
  }

  static std::uint64_t get_state(Layer<Scalar>& layer) { return Codec::get_state(static_cast<L&>(layer)); }
  static void set_state(Layer<Scalar>& layer, std::uint64_t state) { Codec::set_state(static_cast<L&>(layer), state); }

  static Config sample_config() {
    if constexpr (requires { Codec::sample_config(); }) return Codec::sample_config();
    else if constexpr (std::is_default_constructible_v<L>) return get_config(L());
    else return {};
  }

  static LayerEntry<Scalar> entry(std::string_view name) {
    LayerEntry<Scalar> e{std::string(name), &typeid(L), &from_config, &get_config, &weight_specs, nullptr, nullptr,
                         &sample_config};
    if constexpr (requires(L& l) { Codec::get_state(l); }) {
      e.get_state = &get_state;
      e.set_state = &set_state;
    }
    return e;
  }
};

}  // namespace detail

/// The registry entry of the layer class `L` (of one Scalar type) with its hooks in `Codec`.
template <typename L, typename Codec = L>
LayerEntry<typename L::scalar_type> layer_entry(std::string_view name) {
  return detail::LayerHooks<L, Codec>::entry(name);
}

/// Registers the layer class template `L` (with its hooks in `Codec`, by default `L` itself, see
/// detail::LayerHooks) under `name` for float and double. Returns true, for an inline variable.
template <template <typename> class L, template <typename> class Codec = L>
bool register_layer(std::string_view name) {
  return register_for_float_and_double<LayerEntry>(
      [name]<typename Scalar>() { return detail::LayerHooks<L<Scalar>, Codec<Scalar>>::entry(name); });
}

/// Registers a layer class of one Scalar type (not a template) under `name`.
template <typename L, typename Codec = L>
bool register_layer(std::string_view name) {
  registry_of<LayerEntry<typename L::scalar_type>>().add(layer_entry<L, Codec>(name));
  return true;
}

namespace detail {
/// A function that makes a T with its default arguments, as a Base; nullptr when T has none.
template <typename Base, typename T>
auto default_maker() -> std::unique_ptr<Base> (*)() {
  if constexpr (std::is_default_constructible_v<T>) return []() -> std::unique_ptr<Base> { return std::make_unique<T>(); };
  else return nullptr;
}

/// `entry` with the codec (`from_config`, `get_config`) of `codec`.
template <typename Entry>
Entry with_codec(Entry entry, const Entry& codec) {
  entry.from_config = codec.from_config;
  entry.get_config = codec.get_config;
  return entry;
}
}  // namespace detail

/// The entry of the optimizer class `O` without its codec: enough for `compile` to make it by name
/// with its defaults (optimizer_registry attaches the codecs of the built-in optimizers).
template <typename O>
OptimizerEntry<typename O::scalar_type> optimizer_maker_entry(std::string_view name, std::vector<std::string> aliases = {}) {
  using Scalar = typename O::scalar_type;
  return {std::string(name), &typeid(O), nullptr, nullptr, detail::default_maker<Optimizer<Scalar>, O>(), std::move(aliases)};
}

/// The codec of the optimizer class `O`, as an entry without name or maker (for
/// Registry::attach_codec). `Codec` gives `from_config(ConfigReader&) ->
/// std::unique_ptr<Optimizer<Scalar>>` for the optimizer's own arguments; the config saved is the
/// optimizer's `full_config()` (its `config()` with the learning rate or schedule and the gradient
/// clipping), read back by `Optimizer::from_full_config<Codec>`.
template <typename O, typename Codec>
OptimizerEntry<typename O::scalar_type> optimizer_codec() {
  using Scalar = typename O::scalar_type;
  return {std::string(), &typeid(O), &O::template from_full_config<Codec>,
          [](const Optimizer<Scalar>& o) { return o.full_config(); }, nullptr};
}

/// The registry entry of the optimizer class `O` (of one Scalar type) with its codec (see
/// optimizer_codec).
template <typename O, typename Codec>
OptimizerEntry<typename O::scalar_type> optimizer_entry(std::string_view name, std::vector<std::string> aliases = {}) {
  return detail::with_codec(optimizer_maker_entry<O>(name, std::move(aliases)), optimizer_codec<O, Codec>());
}

/// Registers the optimizer class template `O` (see optimizer_entry) under `name` for float and
/// double. Returns true, for an inline variable.
template <template <typename> class O, template <typename> class Codec>
bool register_optimizer(std::string_view name, std::vector<std::string> aliases = {}) {
  return register_for_float_and_double<OptimizerEntry>(
      [name, &aliases]<typename Scalar>() { return optimizer_entry<O<Scalar>, Codec<Scalar>>(name, aliases); });
}

/// The entry of the loss class `L` without its codec: enough for `compile` to make it by name with
/// its defaults (loss_registry attaches the codecs of the built-in losses).
template <typename L>
LossEntry<typename L::scalar_type> loss_maker_entry(std::string_view name, std::vector<std::string> aliases = {}) {
  using Scalar = typename L::scalar_type;
  return {std::string(name), &typeid(L), nullptr, nullptr, detail::default_maker<Loss<Scalar>, L>(), std::move(aliases)};
}

/// The codec of the loss class `L`, as an entry without name or maker (for
/// Registry::attach_codec). `Codec` gives `from_config(ConfigReader&)` and
/// `get_config(const L&) -> Config`.
template <typename L, typename Codec>
LossEntry<typename L::scalar_type> loss_codec() {
  using Scalar = typename L::scalar_type;
  return {std::string(), &typeid(L), &Codec::from_config,
          [](const Loss<Scalar>& l) { return Codec::get_config(static_cast<const L&>(l)); }, nullptr};
}

/// The registry entry of the loss class `L` (of one Scalar type) with its codec (see loss_codec).
template <typename L, typename Codec>
LossEntry<typename L::scalar_type> loss_entry(std::string_view name, std::vector<std::string> aliases = {}) {
  return detail::with_codec(loss_maker_entry<L>(name, std::move(aliases)), loss_codec<L, Codec>());
}

/// Registers the loss class template `L` (see loss_entry) under `name` for float and double.
/// Returns true, for an inline variable.
template <template <typename> class L, template <typename> class Codec>
bool register_loss(std::string_view name, std::vector<std::string> aliases = {}) {
  return register_for_float_and_double<LossEntry>(
      [name, &aliases]<typename Scalar>() { return loss_entry<L<Scalar>, Codec<Scalar>>(name, aliases); });
}

}  // namespace kerascpp

/// Registers a layer class template (or a class of one Scalar type) under its own name, at
/// namespace scope in the namespace that defines it: `KERASCPP_REGISTER_LAYER(Scale);`.
#define KERASCPP_REGISTER_LAYER(L) \
  inline const bool kerascpp_layer_registered_##L = ::kerascpp::register_layer<L>(#L)
