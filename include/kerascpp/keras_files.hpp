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

/// Keras's path of each layer in a weights file: its class name in snake case, numbered on
/// repeat ("dense", "dense_1", "batch_normalization").
template <typename Scalar>
std::vector<std::string> layer_paths(const Sequential<Scalar>& model) {
  std::map<std::string, int> used;
  std::vector<std::string> out;
  for (const auto& l : model.layers()) {
    const std::string base = config::snake_case(l->type());
    const int n = used[base]++;
    out.push_back(n == 0 ? base : cat(base, "_", n));
  }
  return out;
}

/// The shape of a weight as Keras keeps it: kernels 2-D, vectors (bias, gamma, ...) 1-D.
inline std::vector<std::int64_t> keras_dims(const std::string& name, Index rows, Index cols) {
  if (rows == 1 && name != "kernel") return {cols};
  return {rows, cols};
}

/// Whether the file's shape `dims` holds a weight of (rows × cols): the same 2-D shape, or a
/// vector of cols values for a one-row weight.
inline bool fits(const std::vector<std::int64_t>& dims, Index rows, Index cols) {
  if (dims.size() == 2) return dims[0] == rows && dims[1] == cols;
  return dims.size() == 1 && rows == 1 && dims[0] == cols;
}

/// How Keras keeps a layer's variables where they differ from kerascpp's weights (Normalization,
/// keras/src/layers/preprocessing/normalization.py): `extra` variables after the weights (an adapted
/// Normalization's integer `count`, which Keras keeps for older files: checked to be a scalar and
/// ignored), and whether the file may keep none (Keras keeps the mean and variance given to a
/// Normalization's constructor in its config; the layer then keeps its own).
struct KerasLayout {
  std::size_t extra = 0;
  bool may_be_empty = false;
};

template <typename Scalar>
KerasLayout keras_layout(const Layer<Scalar>& l) {
  const auto* n = dynamic_cast<const layers::Normalization<Scalar>*>(&l);
  if (n == nullptr) return {};
  return {1, !n->given_mean().empty()};
}

/// The variables of every layer of a model found in a file: for layer i, the datasets of its
/// weights in order (then its extra variables; none for a layer that may keep none), and where
/// they were found.
struct LayerVariables {
  std::string where;  // "/layers/dense/vars" or "/model_weights/dense"
  std::vector<hdf5::DatasetInfo> variables;
};

/// A Keras 3 weights file (or a tf.keras 2.13–2.15 one with `_layer_checkpoint_dependencies`):
/// the datasets `0`, `1`, ... of `<prefix>/<layer path>/vars` for each layer with weights.
template <typename Scalar>
std::vector<LayerVariables> keras3_variables(const hdf5::File& f, const Sequential<Scalar>& model,
                                             const std::vector<std::size_t>& weight_counts,
                                             const std::vector<KerasLayout>& layouts) {
  const auto paths = layer_paths(model);
  std::string prefix = "/layers";
  if (!f.is_group(prefix) && f.is_group("/_layer_checkpoint_dependencies")) prefix = "/_layer_checkpoint_dependencies";
  std::vector<LayerVariables> out(model.size());
  for (std::size_t i = 0; i < model.size(); ++i) {
    const std::string group = cat(prefix, "/", paths[i], "/vars");
    const std::size_t count = weight_counts[i];
    out[i].where = group;
    if (!f.is_group(group)) {
      if (count == 0 || layouts[i].may_be_empty) continue;
      std::vector<std::string> present;
      if (f.is_group(prefix)) present = f.members(prefix);
      throw ValueError(cat("no variables for layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(),
                           ") at ", group, "; the file's ", prefix, " holds ",
                           present.empty() ? std::string("nothing") : join(present)));
    }
    const auto members = f.members(group);
    if (members.empty() && layouts[i].may_be_empty) continue;
    if (members.size() != count)
      throw ValueError(cat(group, ": layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") has ",
                           count - layouts[i].extra, " weights",
                           layouts[i].extra == 0 ? std::string() : cat(" (", count, " variables in Keras's layout)"),
                           ", the file holds ", members.size(), " variables",
                           layouts[i].extra == 0 ? ""
                                                 : cat(" (Keras keeps an adapted Normalization's mean, variance and count, ",
                                                       "and no variable for one given its mean and variance, which ",
                                                       "are then in its config: construct the layer with them, or use ",
                                                       "keras::load_model)")));
    for (std::size_t k = 0; k < count; ++k) {
      const std::string path = cat(group, "/", k);
      if (!f.is_dataset(path))
        throw IOError(cat(group, ": expected datasets named 0 to ", count - 1, ", found ", join(members)));
      out[i].variables.push_back(f.info(path));
    }
  }
  return out;
}

/// A legacy attribute that may be split into `<name>0`, `<name>1`, ... when longer than 64 KB.
inline std::vector<std::string> split_attribute(const hdf5::File& f, const std::string& path, const std::string& name) {
  if (f.has_attribute(path, name)) return f.string_attribute(path, name);
  std::vector<std::string> out;
  for (int chunk = 0; f.has_attribute(path, cat(name, chunk)); ++chunk) {
    auto part = f.string_attribute(path, cat(name, chunk));
    out.insert(out.end(), part.begin(), part.end());
  }
  if (out.empty() && !f.has_attribute(path, cat(name, 0))) throw IOError(cat(path, ": no attribute '", name, "'"));
  return out;
}

/// A legacy `.h5` (tf.keras `save` or `save_weights`): the layers named by `layer_names` whose
/// `weight_names` are not empty, matched in order to the model's layers with weights.
template <typename Scalar>
std::vector<LayerVariables> legacy_variables(const hdf5::File& f, const Sequential<Scalar>& model,
                                             const std::vector<std::size_t>& weight_counts,
                                             const std::vector<KerasLayout>& layouts) {
  const std::string root = f.is_group("/model_weights") ? "/model_weights" : "/";
  std::vector<std::pair<std::string, std::vector<std::string>>> file_layers;
  for (const auto& name : split_attribute(f, root, "layer_names")) {
    const std::string group = root == "/" ? cat("/", name) : cat(root, "/", name);
    if (!f.is_group(group)) throw IOError(cat(root, ": layer_names lists ", quote(name), " but there is no group ", group));
    auto weights = split_attribute(f, group, "weight_names");
    if (!weights.empty()) file_layers.emplace_back(group, std::move(weights));
  }
  std::vector<std::size_t> with_weights;
  for (std::size_t i = 0; i < model.size(); ++i)
    if (weight_counts[i] != 0 && !layouts[i].may_be_empty) with_weights.push_back(i);
  if (with_weights.size() != file_layers.size()) {
    std::vector<std::string> names;
    for (const auto& [g, w] : file_layers) names.push_back(g);
    throw ValueError(cat(root, ": the model has ", with_weights.size(), " layers with weights, the file holds weights for ",
                         file_layers.size(), " layers (", names.empty() ? std::string("none") : join(names), ")"));
  }
  std::vector<LayerVariables> out(model.size());
  for (std::size_t j = 0; j < with_weights.size(); ++j) {
    const std::size_t i = with_weights[j];
    const auto& [group, names] = file_layers[j];
    out[i].where = group;
    if (names.size() != weight_counts[i])
      throw ValueError(cat(group, ": layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") has ",
                           weight_counts[i], " weights, the file holds ", names.size(), " (", join(names), ")"));
    for (const auto& name : names) {
      const std::string path = cat(group, "/", name);
      if (!f.is_dataset(path)) throw IOError(cat(group, ": weight_names lists ", quote(name), " but there is no dataset ", path));
      out[i].variables.push_back(f.info(path));
    }
  }
  return out;
}

/// Reads the variables found for `model` and, when everything fits, sets its weights. A model that
/// is not built is built only then, for `input_width` (from the config) or else the input width of
/// the file's first weight, so that no weight is allocated for a shape the file does not hold. A
/// layer the file keeps no variables for (KerasLayout::may_be_empty) keeps its weights. Nothing
/// changes when a check fails.
template <typename Scalar>
void set_weights_from(const hdf5::File& f, Sequential<Scalar>& model, bool legacy, Index input_width = 0) {
  if (model.size() == 0) throw ValueError("the model has no layers");
  std::vector<std::vector<WeightSpec>> specs(model.size());
  std::vector<std::size_t> counts(model.size());
  std::vector<KerasLayout> layouts(model.size());
  Index width = model.built() ? model.input_width() : input_width;
  const auto specs_for = [&](Index first_width) {
    Index w = first_width;
    for (std::size_t i = 0; i < model.size(); ++i) {
      const auto& l = model.layer(i);
      const auto* entry = layer_registry<Scalar>().find(l.type(), l);
      if (entry == nullptr)
        throw ValueError(cat("layer ", i, " ", quote(l.name()), " has type ", quote(l.type()),
                             ", which has no Keras equivalent; Keras files hold ", join(config::supported_layers())));
      Index output = 0;
      auto s = entry->weight_specs(l, w, output);
      std::stable_partition(s.begin(), s.end(), [](const WeightSpec& x) { return x.trainable; });
      specs[i] = std::move(s);
      layouts[i] = keras_layout(l);
      counts[i] = specs[i].size() + layouts[i].extra;
      w = output;
    }
  };
  specs_for(width == 0 ? 1 : width);
  const auto found = legacy ? legacy_variables(f, model, counts, layouts) : keras3_variables(f, model, counts, layouts);
  if (width == 0) {
    for (std::size_t i = 0; i < model.size() && width == 0; ++i)
      if (!found[i].variables.empty() && !found[i].variables.front().dims.empty())
        width = static_cast<Index>(found[i].variables.front().dims.front());
    if (width == 0) throw ValueError("the model is not built and the file holds no weight to take its input width from");
    specs_for(width);
  }
  std::vector<std::vector<std::vector<Scalar>>> values(model.size());
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (found[i].variables.empty()) continue;
    for (std::size_t k = specs[i].size(); k < found[i].variables.size(); ++k)
      if (const auto& v = found[i].variables[k]; v.values != 1)
        throw ValueError(cat(v.path, ": layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(),
                             ") variable ", k, " (Keras's count) must be a scalar, the file has shape ",
                             hdf5::shape_text(v.dims)));
    for (std::size_t k = 0; k < specs[i].size(); ++k) {
      const auto& s = specs[i][k];
      const auto& v = found[i].variables[k];
      if (!fits(v.dims, s.rows, s.cols))
        throw ValueError(cat(v.path, ": layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") weight ",
                             quote(s.name), ": the model expects shape ", hdf5::shape_text(keras_dims(s.name, s.rows, s.cols)),
                             " for input width ", width, ", the file has ", hdf5::shape_text(v.dims)));
      if (!v.is_float) throw IOError(cat(v.path, ": dtype ", v.dtype, " where kerascpp expects float32 or float64"));
    }
  }
  for (std::size_t i = 0; i < model.size(); ++i)
    for (std::size_t k = 0; k < specs[i].size() && !found[i].variables.empty(); ++k)
      values[i].push_back(f.read<Scalar>(found[i].variables[k]));
  if (!model.built()) model.build(width);
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (found[i].variables.empty()) continue;
    auto weights = model.layer(i).weights();
    std::stable_partition(weights.begin(), weights.end(), [](const Weight<Scalar>& w) { return w.trainable(); });
    for (std::size_t k = 0; k < weights.size(); ++k) std::copy(values[i][k].begin(), values[i][k].end(), weights[k].value->data());
  }
}

/// How a file orders an optimizer's slots after its iteration count (and learning rate).
enum class SlotOrder {
  keras,    // Keras 3 and tf.keras 2.11+: Adam and AdamW interleave per weight, RMSprop one block per kind
  by_kind,  // tf.keras ≤ 2.10 (OptimizerV2): one block per kind for every optimizer (all m, then all v)
};

/// Where Keras keeps slot `k` of trainable weight `i` among the optimizer's variables, after the
/// `first` ones (iterations and learning rate): Adam and AdamW interleave (m0, v0, m1, v1, ...),
/// RMSprop keeps one block per kind (velocities, then momentums, then average gradients), and
/// tf.keras 2.10 keeps one block per kind for every optimizer.
inline std::size_t slot_variable(std::string_view optimizer, std::size_t i, std::size_t k, std::size_t weights, std::size_t per,
                                 std::size_t first = 2, SlotOrder order = SlotOrder::keras) {
  if (order == SlotOrder::by_kind || optimizer == "RMSprop") return first + k * weights + i;
  return first + i * per + k;
}

/// An optimizer's variables as a file holds them, in the file's order.
struct OptimizerVariables {
  std::string where;                         // "/optimizer/vars" or "/optimizer_weights"
  std::vector<hdf5::DatasetInfo> variables;  // the iteration count, the learning rate when kept, the slots
  bool learning_rate = true;                 // whether variable 1 is the learning rate
  SlotOrder order = SlotOrder::keras;
};

/// For each trainable weight of the model (in the optimizer's order), the index of its layer.
template <typename Scalar>
std::vector<std::size_t> layer_of_trainable(const Sequential<Scalar>& model) {
  std::vector<std::size_t> out;
  for (std::size_t j = 0; j < model.size(); ++j)
    for (const auto& w : model.layers()[j]->weights())
      if (w.trainable()) out.push_back(j);
  return out;
}

/// Sets the compiled model's optimizer from its variables in a file: the iteration count, the
/// learning rate when the file keeps it and, when Keras had built the optimizer, its slots. The
/// count, every shape and every dtype are checked before the optimizer changes. SGD without momentum
/// has no slot in kerascpp; the momentum slots tf.keras 2.11+ keeps for it anyway are checked and
/// skipped (it never uses them).
template <typename Scalar>
void set_optimizer_state(const hdf5::File& f, Sequential<Scalar>& model, const OptimizerVariables& file) {
  const auto& vars = file.variables;
  if (vars.empty()) return;
  Optimizer<Scalar>& opt = model.optimizer();
  const auto& trainable = model.parameters().trainable();
  const std::size_t n = trainable.size(), per = static_cast<std::size_t>(opt.slots_per_weight());
  const std::size_t first = file.learning_rate ? 2 : 1;
  const bool unused = per == 0 && opt.name() == "SGD" && n != 0 && vars.size() == first + n;
  const std::size_t kinds = unused ? 1 : per;
  const bool built = vars.size() == first + n * kinds;
  if (vars.size() != first && !built)
    throw ValueError(cat(file.where, ": holds ", vars.size(), " variables; ", opt.name(), " over ", n, " trainable weights keeps ",
                         first, first == 2 ? " (iterations, learning rate)" : " (iterations)", " or ", first + n * per,
                         " once built",
                         opt.learning_rate_schedule() ? cat(" (with the learning-rate schedule ", opt.learning_rate_schedule()->name(),
                                                            " of its config, Keras keeps no learning-rate variable)")
                                                      : std::string()));
  if (vars[0].values != 1)
    throw ValueError(cat(vars[0].path, ": the iteration count must be a scalar, the file has shape ", hdf5::shape_text(vars[0].dims)));
  if (file.learning_rate && vars[1].values != 1)
    throw ValueError(cat(vars[1].path, ": the learning rate must be a scalar, the file has shape ", hdf5::shape_text(vars[1].dims)));
  const std::int64_t iterations = f.read<std::int64_t>(vars[0], true).front();
  if (iterations < 0) throw ValueError(cat(vars[0].path, ": the iteration count is negative (", iterations, ")"));
  const std::optional<double> rate = file.learning_rate ? std::optional<double>(f.read<double>(vars[1]).front()) : std::nullopt;
  const auto layer_of = layer_of_trainable(model);
  std::vector<std::vector<Scalar>> slots(n * per);
  if (built)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < kinds; ++k) {
        const auto& info = vars[slot_variable(opt.name(), i, k, n, kinds, first, file.order)];
        const auto& layer = *model.layers()[layer_of[i]];
        if (!fits(info.dims, trainable[i].rows, trainable[i].cols))
          throw ValueError(cat(info.path, ": ", opt.name(), " slot ", k, " of trainable weight ", i, ", the ", trainable[i].name,
                               " of layer ", layer_of[i], " ", quote(layer.name()), " (", layer.type(), "): expected shape ",
                               hdf5::shape_text(keras_dims(trainable[i].name, trainable[i].rows, trainable[i].cols)),
                               ", the file has ", hdf5::shape_text(info.dims)));
        if (!info.is_float) throw IOError(cat(info.path, ": dtype ", info.dtype, " where kerascpp expects float32 or float64"));
        if (!unused) slots[i * per + k] = f.read<Scalar>(info);
      }
  if (rate && !opt.learning_rate_schedule() && static_cast<float>(*rate) != static_cast<float>(opt.learning_rate()))
    opt.set_learning_rate(*rate);  // with a schedule, the rate follows the iteration count
  if (built) {
    opt.build(model.parameters());
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < per; ++k) {
        auto slot = opt.slot(i, static_cast<int>(k));
        std::copy(slots[i * per + k].begin(), slots[i * per + k].end(), slot.data());
      }
  }
  opt.set_iterations(iterations);
}

/// Sets the compiled model's optimizer from `/optimizer/vars` of a `.keras` or `.weights.h5`: the
/// datasets `0` (iterations), `1` (the learning rate, absent when the optimizer has a schedule) and
/// the slots in Keras 3's order. A file without that group leaves the optimizer fresh.
template <typename Scalar>
void set_optimizer_from(const hdf5::File& f, Sequential<Scalar>& model) {
  const std::string group = "/optimizer/vars";
  if (!f.is_group(group)) return;
  const auto members = f.members(group);
  OptimizerVariables file{group, {}, model.optimizer().learning_rate_schedule() == nullptr, SlotOrder::keras};
  for (std::size_t k = 0; k < members.size(); ++k) {
    const std::string path = cat(group, "/", k);
    if (!f.is_dataset(path)) throw IOError(cat(group, ": expected datasets named 0 to ", members.size() - 1));
    file.variables.push_back(f.info(path));
  }
  set_optimizer_state(f, model, file);
}

/// The last part of a legacy variable name, without its ":0": "iter" for "Adam/iter:0".
inline std::string_view variable_leaf(std::string_view name) {
  if (const auto colon = name.rfind(':'); colon != std::string_view::npos && colon + 1 < name.size() &&
                                          std::all_of(name.begin() + static_cast<std::ptrdiff_t>(colon) + 1, name.end(),
                                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    name = name.substr(0, colon);
  if (const auto slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
  return name;
}

/// Sets the compiled model's optimizer from `/optimizer_weights` of a legacy `.h5`: the datasets
/// that its attribute `weight_names` lists (split into `weight_names0`, ... when long), in the
/// optimizer's order. The names tell the layout: tf.keras 2.10 starts with `Adam/iter:0` and keeps
/// the slots in blocks per kind; tf.keras 2.11+ starts with `iteration:0`, Keras 3 with
/// `adam/iteration` and `adam/learning_rate`, both keeping the slots in Keras 3's order. A file
/// without that group leaves the optimizer fresh.
template <typename Scalar>
void set_legacy_optimizer_from(const hdf5::File& f, Sequential<Scalar>& model) {
  const std::string group = "/optimizer_weights";
  if (!f.is_group(group)) return;
  const auto names = split_attribute(f, group, "weight_names");
  if (names.empty()) return;
  OptimizerVariables file{group, {}, false, SlotOrder::keras};
  for (const auto& name : names) {
    const std::string path = cat(group, "/", name);
    if (!f.is_dataset(path)) throw IOError(cat(group, ": weight_names lists ", quote(name), " but there is no dataset ", path));
    file.variables.push_back(f.info(path));
  }
  const std::string_view iteration = variable_leaf(names.front());
  if (iteration != "iteration" && iteration != "iter")
    throw ValueError(cat(group, ": the first of weight_names must be the iteration count ('iteration:0', 'Adam/iter:0', "
                            "'adam/iteration'), found ", quote(names.front())));
  file.order = iteration == "iter" ? SlotOrder::by_kind : SlotOrder::keras;
  file.learning_rate =
      names.size() > 1 && (variable_leaf(names[1]) == "learning_rate" || variable_leaf(names[1]) == "current_learning_rate");
  set_optimizer_state(f, model, file);
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
