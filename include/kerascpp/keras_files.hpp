// kerascpp/keras_files.hpp — Keras's own model files (docs/keras_files.md):
//
//   auto model = kerascpp::keras::load_model<float>("model.keras");   // or a legacy "model.h5"
//   kerascpp::keras::load_weights(model, "model.weights.h5");         // or a .keras or .h5 file
//   kerascpp::keras::save_model(model, "model.keras");                 // what Keras 3 writes
//   kerascpp::keras::save_weights(model, "model.weights.h5");
//
// `.keras` is a zip archive of metadata.json, config.json (the model's config) and
// model.weights.h5 (the variables, in HDF5); `.weights.h5` is that HDF5 file alone; the legacy
// `.h5` of tf.keras holds the config in attributes, the weights under /model_weights and the
// optimizer's variables under /optimizer_weights. Which one a file is comes from its bytes, not
// its name. Loading checks everything before it changes the model; a bad file throws IOError
// (corrupt, truncated, too large) or ValueError (a valid file kerascpp cannot honour: an
// unsupported layer or argument, a shape that does not fit), each naming the function, the path
// and the place inside the file.
//
// This header needs the HDF5 C library, libzip and nlohmann/json: link the CMake target
// kerascpp::keras_files. The rest of kerascpp does not depend on it.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>
#include <kerascpp/keras/archive.hpp>
#include <kerascpp/keras/config.hpp>
#include <kerascpp/keras/hdf5.hpp>
#include <kerascpp/keras/variables.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/registry.hpp>
#include <kerascpp/saving/model_file.hpp>
#include <kerascpp/sequential.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kerascpp::keras {

namespace detail {

using kerascpp::detail::cat;
using kerascpp::detail::join;
using kerascpp::detail::quote;

/// What a file is, from its first bytes.
enum class FileKind { keras_archive, weights_h5, legacy_h5 };

/// The file's kind: a zip archive is a `.keras`, an HDF5 file with a `model_weights` group or a
/// `layer_names` attribute (or its first part `layer_names0`) is a legacy `.h5`, any other HDF5
/// file a `.weights.h5`.
inline FileKind kind_of(std::string_view bytes, const hdf5::File* h5) {
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4) || bytes.substr(0, 4) == std::string_view("PK\x05\x06", 4))
    return FileKind::keras_archive;
  if (h5 != nullptr && (h5->is_group("/model_weights") || h5->has_attribute("/", "layer_names") ||
                        h5->has_attribute("/", "layer_names0") || h5->has_attribute("/", "model_config")))
    return FileKind::legacy_h5;
  return FileKind::weights_h5;
}

/// Runs `body`, prefixing its IOError or ValueError with "<function>: cannot load '<path>': ".
template <typename Body>
auto loading(std::string_view function, const std::filesystem::path& path, Body&& body) {
  const std::string prefix = cat(function, ": cannot load ", io::detail::quoted(path), ": ");
  try {
    return body();
  } catch (const IOError& e) {
    throw IOError(prefix + e.what());
  } catch (const ValueError& e) {
    throw ValueError(prefix + e.what());
  }
}

/// Compiles `model` as a compile spec says.
template <typename Scalar>
void compile_from(Sequential<Scalar>& model, const config::CompileSpec& c, const std::string& where) {
  try {
    ConfigReader opt_reader(c.optimizer_config, cat("optimizer ", c.optimizer));
    auto optimizer = optimizer_registry<Scalar>().at(c.optimizer, "optimizer").from_config(opt_reader);
    opt_reader.finish();
    ConfigReader loss_reader(c.loss_config, cat("loss ", c.loss));
    auto loss = loss_registry<Scalar>().at(c.loss, "loss").from_config(loss_reader);
    loss_reader.finish();
    std::vector<MetricSpec<Scalar>> metrics;
    for (const config::CompileMetric& m : c.metrics) {
      if (m.type.empty()) {
        metrics.emplace_back(m.name);
        continue;
      }
      ConfigReader metric_reader(m.config, cat("metric ", m.type));
      metrics.emplace_back(*metrics::registry<Scalar>().at(m.type, "metric").from_config(metric_reader, m.name));
      metric_reader.finish();
    }
    model.compile(*optimizer, *loss, std::move(metrics));
  } catch (const ValueError& e) {
    throw ValueError(cat(where, ": ", e.what()));
  }
}

/// JSON text parsed, or an IOError naming `where`.
inline json parse_json(const std::string& text, const std::string& where) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw IOError(cat(where, ": not valid JSON: ", e.what()));
  }
}

/// The HDF5 file in `bytes`, with errors prefixed by `where`.
inline hdf5::File open_h5(std::string_view bytes, const std::string& where) {
  try {
    return hdf5::File::open(bytes);
  } catch (const IOError& e) {
    throw IOError(cat(where, ": ", e.what()));
  }
}

/// Runs `body` on a weights file, prefixing errors with the file's name inside an archive.
template <typename Body>
void inside(const std::string& where, Body&& body) {
  if (where.empty()) return body();
  try {
    body();
  } catch (const IOError& e) {
    throw IOError(cat(where, ": ", e.what()));
  } catch (const ValueError& e) {
    throw ValueError(cat(where, ": ", e.what()));
  }
}

/// The entries of a `.keras` archive.
inline std::map<std::string, std::string> archive_entries(std::string_view bytes) {
  std::vector<std::string> names;
  auto entries = archive::read_archive(bytes, {"config.json", "metadata.json", "model.weights.h5"}, &names);
  if (entries.count("model.weights.h5") == 0) {
    if (std::find(names.begin(), names.end(), "model.weights.npz") != names.end())
      throw ValueError("the archive holds its weights as model.weights.npz; kerascpp reads model.weights.h5 only");
    throw IOError(cat("not a Keras archive: no model.weights.h5 among its entries (",
                      names.empty() ? std::string("none") : join(names), ")"));
  }
  return entries;
}

// Writing.

/// Writes the layers' variables, the root `vars` group and, for a compiled model, the optimizer's
/// variables, as Keras 3 lays them out.
template <typename Scalar>
void write_variables(hdf5::File& f, const Sequential<Scalar>& model, std::string_view function) {
  const auto float32 = [&](const Scalar* v, Index n, const std::string& what) {  // Keras files hold float32
    for (Index i = 0; i < n; ++i)
      if (std::isfinite(static_cast<double>(v[i])) && !std::isfinite(static_cast<float>(v[i])))
        throw ValueError(cat(function, ": ", what, " holds ", static_cast<double>(v[i]), " at element ", i,
                             ", beyond the range of float32 (largest magnitude ", std::numeric_limits<float>::max(),
                             "), in which Keras files hold it"));
    return std::vector<float>(v, v + n);
  };
  f.make_group("/vars");
  f.write_string_attribute("/vars", "name", "sequential");
  const auto paths = layer_paths(model);
  for (std::size_t i = 0; i < model.size(); ++i) {
    Layer<Scalar>& l = *model.layers()[i];  // weights() is not const; nothing is changed
    const std::string group = cat("/layers/", paths[i], "/vars");
    f.make_group(group);
    f.write_string_attribute(group, "name", l.name());
    auto* normalization = dynamic_cast<layers::Normalization<Scalar>*>(&l);
    if (normalization != nullptr && config::statistics_in_config(*normalization)) continue;  // in its config
    auto weights = l.weights();
    std::stable_partition(weights.begin(), weights.end(), [](const Weight<Scalar>& w) { return w.trainable(); });
    for (std::size_t k = 0; k < weights.size(); ++k) {
      const auto& v = *weights[k].value;
      const auto data =
          float32(v.data(), v.size(), cat("layer ", i, " ", quote(l.name()), " weight ", quote(weights[k].name)));
      f.write_float32(cat(group, "/", k), keras_dims(weights[k].name, v.rows(), v.cols()), data);
    }
    if (normalization != nullptr) f.write_int64(cat(group, "/", weights.size()), 0);  // Keras's count, which Keras 3 leaves at 0
  }
  if (!model.compiled()) return;
  const Optimizer<Scalar>& opt = model.optimizer();
  std::string lower = opt.name();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  f.make_group("/optimizer/vars");
  f.write_string_attribute("/optimizer/vars", "name", lower);
  f.write_int64("/optimizer/vars/0", opt.iterations());
  const std::size_t first = opt.learning_rate_schedule() ? 1 : 2;  // Keras keeps no learning-rate variable with a schedule
  if (first == 2) f.write_float32("/optimizer/vars/1", {}, {static_cast<float>(opt.learning_rate())});
  const std::size_t n = opt.slot_weights(), per = static_cast<std::size_t>(opt.slots_per_weight());
  const auto& trainable = model.parameters().trainable();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < per; ++k) {
      const auto slot = opt.slot(i, static_cast<int>(k));
      const auto data = float32(slot.data(), slot.size(), cat(opt.name(), " slot ", k, " of trainable weight ", i));
      f.write_float32(cat("/optimizer/vars/", slot_variable(opt.name(), i, k, n, per, first)),
                      keras_dims(trainable[i].name, slot.rows(), slot.cols()), data);
    }
}

/// Throws ValueError unless the file name of `path` ends in `ending`, the name under which Keras 3
/// reads what `function` writes (`what`), before anything is written.
inline void check_extension(const std::filesystem::path& path, std::string_view function, std::string_view ending,
                            std::string_view what) {
  const std::string name = path.filename().string();
  if (name.size() > ending.size() && name.ends_with(ending)) return;
  throw ValueError(cat(function, ": ", io::detail::quoted(path), " does not end in ", ending, "; Keras 3 reads ", what,
                       " only from a file named so, expected a path such as 'model", ending, "'"));
}

/// The bytes of model.weights.h5 for `model`.
template <typename Scalar>
std::string weights_image(const Sequential<Scalar>& model, std::string_view function) {
  model.require_usable(std::string(function).c_str());
  if (!model.built())
    throw StateError(cat(function, ": the model is not built; build it (or give its first layer an input_shape) first"));
  for (const auto& l : model.layers())
    if (const auto* n = dynamic_cast<const layers::Normalization<Scalar>*>(l.get()); n != nullptr && !n->has_statistics())
      throw ValueError(cat(function, ": layer ", quote(l->name()), " (Normalization) has no statistics yet (its mean or ",
                           "variance is NaN), which Keras would take as its mean and variance; call adapt(x) on the ",
                           "model's layer, or give mean and variance to its constructor, before saving"));
  hdf5::File f = hdf5::File::create();
  write_variables(f, model, function);
  return f.image();
}

}  // namespace detail

/// The model in the bytes of a Keras model file — a `.keras` archive (Keras 3) or a legacy `.h5`
/// (tf.keras 2, or Keras 3's legacy writer) — as a Sequential<Scalar>: its layers from the config,
/// their weights and, when the file has them, the compile settings and the optimizer's state. What
/// `load_model` runs on a file's content; errors are those of load_model without the path.
template <typename Scalar = float>
Sequential<Scalar> decode_model(std::string_view bytes) {
  if (bytes.substr(0, 2) == "PK") {
    const auto entries = detail::archive_entries(bytes);
    if (entries.count("config.json") == 0) throw IOError("not a Keras archive: no config.json");
    const json root = detail::parse_json(entries.at("config.json"), "config.json");
    const config::ModelSpec spec = config::model<Scalar>(root, "config.json");
    Sequential<Scalar> model = config::build<Scalar>(spec, "config.json");
    const hdf5::File f = detail::open_h5(entries.at("model.weights.h5"), "model.weights.h5");
    detail::inside("model.weights.h5", [&] { detail::set_weights_from(f, model, false, spec.input_width); });
    if (spec.compile) {
      detail::compile_from(model, *spec.compile, "config.json compile_config");
      detail::inside("model.weights.h5", [&] { detail::set_optimizer_from(f, model); });
    }
    return model;
  }
  const hdf5::File f = detail::open_h5(bytes, "HDF5");
  if (!f.has_attribute("/", "model_config"))
    throw ValueError("the file has no model_config attribute: it holds weights only; build the model in C++ and use "
                     "keras::load_weights");
  const json root = detail::parse_json(f.string("/", "model_config"), "model_config");
  config::ModelSpec spec = config::model<Scalar>(root, "model_config");
  if (f.has_attribute("/", "training_config"))
    spec.compile = config::compile<Scalar>(detail::parse_json(f.string("/", "training_config"), "training_config"),
                                           "training_config");
  Sequential<Scalar> model = config::build<Scalar>(spec, "model_config");
  detail::set_weights_from(f, model, true, spec.input_width);
  if (spec.compile) {
    detail::compile_from(model, *spec.compile, "training_config");
    detail::set_legacy_optimizer_from(f, model);
  }
  return model;
}

/// Sets the weights of `model` from the bytes of a `.weights.h5`, `.keras` or legacy `.h5` file:
/// what `load_weights` runs on a file's content.
template <typename Scalar>
void decode_weights_into(Sequential<Scalar>& model, std::string_view bytes) {
  model.require_usable("keras::load_weights");
  if (bytes.substr(0, 2) == "PK") {
    const auto entries = detail::archive_entries(bytes);
    const hdf5::File f = detail::open_h5(entries.at("model.weights.h5"), "model.weights.h5");
    detail::inside("model.weights.h5", [&] { detail::set_weights_from(f, model, false); });
    return;
  }
  const hdf5::File f = detail::open_h5(bytes, "HDF5");
  detail::set_weights_from(f, model, detail::kind_of(bytes, &f) == detail::FileKind::legacy_h5);
}

/// Reads a Keras model file — a `.keras` archive (Keras 3) or a legacy `.h5` (tf.keras 2) — as a
/// Sequential<Scalar>: its layers from the config, their weights and, when the file has them, the
/// compile settings and the optimizer's state (`/optimizer/vars` of a `.keras`, `optimizer_weights`
/// of a legacy `.h5`), so that `fit` continues where Keras stopped. Optimizer variables of a file
/// without compile settings are ignored, as Keras ignores them. Throws IOError for a corrupt or truncated file and ValueError for a model kerascpp
/// cannot build (an unsupported layer or argument), naming the place in the file.
template <typename Scalar = float>
Sequential<Scalar> load_model(const std::filesystem::path& path) {
  io::check_path(path, "keras::load_model");
  return detail::loading("keras::load_model", path, [&] { return keras::decode_model<Scalar>(io::read_file(path)); });
}

/// Sets the weights of `model` (built in C++) from a Keras file: `.weights.h5`, `.keras` or legacy
/// `.h5`. Layers are matched in order — in Keras 3 files by their path (class name in snake case,
/// numbered on repeat), in legacy files the layers with weights in turn — and every shape is
/// checked against the model's before anything is set. An unbuilt model is built for the input
/// width of the file's first weight. Optimizer state is not read (see load_model).
template <typename Scalar>
void load_weights(Sequential<Scalar>& model, const std::filesystem::path& path) {
  io::check_path(path, "keras::load_weights");
  detail::loading("keras::load_weights", path, [&] { keras::decode_weights_into(model, io::read_file(path)); });
}

/// Writes `model` (built; compiled or not) as the `.keras` archive Keras 3 writes: metadata.json
/// naming Keras `written_keras_version`, config.json with the layers and the compile settings, and
/// model.weights.h5 with the weights (float32) and the optimizer's variables. The file is replaced
/// atomically. Throws ValueError for a layer, optimizer or loss without a Keras equivalent. With an
/// MPI strategy attached, only process 0 writes; the other processes return at once (as
/// kerascpp::save_model).
template <typename Scalar>
void save_model(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  constexpr std::string_view function = "keras::save_model";
  io::check_path(path, function);
  detail::check_extension(path, function, ".keras", "the .keras archive (a .h5 name is Keras's legacy HDF5 format)");
  if (!serialization::detail::writes_files(model)) return;
  const std::string weights = detail::weights_image(model, function);
  const std::string config_json = config::model_json(model).dump();
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &local);
  json metadata;
  metadata["keras_version"] = std::string(written_keras_version);
  metadata["date_saved"] = date;
  const std::string zip =
      archive::write_archive({{"metadata.json", metadata.dump()}, {"config.json", config_json}, {"model.weights.h5", weights}});
  io::write_file_atomically(path, zip);
}

/// Writes the weights of `model` (and, when compiled, its optimizer's variables) as the
/// `.weights.h5` file Keras 3 writes, atomically. With an MPI strategy attached, only process 0
/// writes, like save_model.
template <typename Scalar>
void save_weights(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  io::check_path(path, "keras::save_weights");
  detail::check_extension(path, "keras::save_weights", ".weights.h5", "weights");
  if (!serialization::detail::writes_files(model)) return;
  io::write_file_atomically(path, detail::weights_image(model, "keras::save_weights"));
}

}  // namespace kerascpp::keras
