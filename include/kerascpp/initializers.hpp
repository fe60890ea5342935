// kerascpp/initializers.hpp — Keras weight initializers. Each fills a (fan_in × fan_out) matrix
// from the model's random generator, with Keras's formulas.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/registry.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace kerascpp {

/// An initializer by Keras name plus its parameters (used by random_normal / random_uniform).
struct Initializer {
  std::string name = "glorot_uniform";
  double mean = 0.0;      // random_normal
  double stddev = 0.05;   // random_normal
  double minval = -0.05;  // random_uniform
  double maxval = 0.05;   // random_uniform

  Initializer() = default;
  Initializer(const char* n) : name(n) {}        // NOLINT: implicit, like Keras strings
  Initializer(std::string n) : name(std::move(n)) {}  // NOLINT
};

namespace initializers {

inline Initializer random_normal(double mean = 0.0, double stddev = 0.05) {
  Initializer i("random_normal");
  i.mean = mean;
  i.stddev = stddev;
  return i;
}

inline Initializer random_uniform(double minval = -0.05, double maxval = 0.05) {
  Initializer i("random_uniform");
  i.minval = minval;
  i.maxval = maxval;
  return i;
}

/// How one weight is drawn: uniform on [a, b), a·(truncated normal), a + b·(normal), or the constant a.
struct Draw {
  enum class Kind { uniform, truncated_normal, normal, constant } kind;
  double a, b;

  double operator()(Rng& rng) const {
    switch (kind) {
      case Kind::uniform: return rng.uniform(a, b);
      case Kind::truncated_normal: return a * rng.truncated_normal();
      case Kind::normal: return a + b * rng.normal();
      case Kind::constant: break;
    }
    return a;
  }
};

/// What the registry knows of one initializer: the draw for a (fan_in × fan_out) weight, and its
/// parameters as config text (empty for those without parameters).
struct InitializerEntry {
  std::string name;
  const std::type_info* type;
  Draw (*draw)(const Initializer&, Index fan_in, Index fan_out);
  Config (*get_config)(const Initializer&);
  /// Reads the parameters into an initializer of this name.
  Initializer (*from_config)(ConfigReader&);
};

inline Registry<InitializerEntry>& registry() { return registry_of<InitializerEntry>(); }

/// Registers the initializer `I` under `name`. `I` gives `draw(const Initializer&, Index fan_in,
/// Index fan_out) -> Draw` and, when it has parameters, `get_config(const Initializer&) -> Config`
/// and `read_config(ConfigReader&, Initializer&)`. Returns true, for an inline variable.
template <typename I>
bool register_initializer(std::string_view name) {
  InitializerEntry e{std::string(name), &typeid(I), &I::draw, [](const Initializer&) { return Config{}; },
                     [](ConfigReader& c) {
                       c.finish();
                       return Initializer(c.owner());
                     }};
  if constexpr (requires(const Initializer& i) { I::get_config(i); }) {
    e.get_config = &I::get_config;
    e.from_config = [](ConfigReader& c) {
      Initializer i(c.owner());
      I::read_config(c, i);
      c.finish();
      return i;
    };
  }
  registry().add(std::move(e));
  return true;
}

/// Throws a ValueError listing the valid names when `init` names no registered initializer.
inline void validate(const Initializer& init) { registry().at(init.name, "initializer"); }

/// The parameters of `init` as text.
inline Config get_config(const Initializer& init) { return registry().at(init.name, "initializer").get_config(init); }

/// The initializer `name` with the parameters in `config`; a missing or unknown key is a ConfigError.
inline Initializer from_config(const std::string& name, const Config& config) {
  ConfigReader reader(config, name);
  return registry().at(name, "initializer").from_config(reader);
}

/// Keras's VarianceScaling: uniform on ±sqrt(3·scale / fan), or a normal truncated at ±2 with standard
/// deviation sqrt(scale / fan) divided by 0.8796…, the standard deviation of a unit normal truncated at
/// ±2; fan is fan_in, or the mean of fan_in and fan_out.
template <int Scale, bool FanAverage, bool Uniform>
struct VarianceScaling {
  static Draw draw(const Initializer&, Index fan_in, Index fan_out) {
    const double fan = FanAverage ? 0.5 * static_cast<double>(fan_in + fan_out) : static_cast<double>(fan_in);
    if (Uniform) {
      const double limit = std::sqrt(3.0 * Scale / fan);
      return {Draw::Kind::uniform, -limit, limit};
    }
    return {Draw::Kind::truncated_normal, std::sqrt(Scale / fan) / 0.87962566103423978, 0.0};
  }
};

using GlorotUniform = VarianceScaling<1, true, true>;
using GlorotNormal = VarianceScaling<1, true, false>;
using HeUniform = VarianceScaling<2, false, true>;
using HeNormal = VarianceScaling<2, false, false>;
using LecunUniform = VarianceScaling<1, false, true>;
using LecunNormal = VarianceScaling<1, false, false>;

/// The constant Value.
template <int Value>
struct Constant {
  static Draw draw(const Initializer&, Index, Index) { return {Draw::Kind::constant, Value, 0.0}; }
};

using Zeros = Constant<0>;
using Ones = Constant<1>;

/// mean + stddev·(normal)
struct RandomNormal {
  static Draw draw(const Initializer& i, Index, Index) { return {Draw::Kind::normal, i.mean, i.stddev}; }
  static Config get_config(const Initializer& i) {
    return {{"mean", detail::number(i.mean)}, {"stddev", detail::number(i.stddev)}};
  }
  static void read_config(ConfigReader& c, Initializer& i) {
    i.mean = c.number("mean");
    i.stddev = c.number("stddev");
  }
};

/// uniform on [minval, maxval)
struct RandomUniform {
  static Draw draw(const Initializer& i, Index, Index) { return {Draw::Kind::uniform, i.minval, i.maxval}; }
  static Config get_config(const Initializer& i) {
    return {{"minval", detail::number(i.minval)}, {"maxval", detail::number(i.maxval)}};
  }
  static void read_config(ConfigReader& c, Initializer& i) {
    i.minval = c.number("minval");
    i.maxval = c.number("maxval");
  }
};

inline const bool registered =
    register_initializer<GlorotUniform>("glorot_uniform") && register_initializer<GlorotNormal>("glorot_normal") &&
    register_initializer<HeUniform>("he_uniform") && register_initializer<HeNormal>("he_normal") &&
    register_initializer<LecunUniform>("lecun_uniform") && register_initializer<LecunNormal>("lecun_normal") &&
    register_initializer<Zeros>("zeros") && register_initializer<Ones>("ones") &&
    register_initializer<RandomNormal>("random_normal") && register_initializer<RandomUniform>("random_uniform");

/// The draw of `init` for a (fan_in × fan_out) weight.
inline Draw draw_for(const Initializer& init, Index fan_in, Index fan_out) {
  return registry().at(init.name, "initializer").draw(init, fan_in, fan_out);
}

/// Fills w (fan_in × fan_out) row by row with draws of `init`.
template <typename Derived>
void fill(const Initializer& init, Eigen::MatrixBase<Derived>& w, Index fan_in, Index fan_out, Rng& rng) {
  using Scalar = typename Derived::Scalar;
  const Draw draw = draw_for(init, fan_in, fan_out);
  for (Index i = 0; i < w.rows(); ++i)
    for (Index j = 0; j < w.cols(); ++j) w(i, j) = static_cast<Scalar>(draw(rng));
}

}  // namespace initializers
}  // namespace kerascpp
