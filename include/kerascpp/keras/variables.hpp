// kerascpp/keras/variables.hpp — the variables of a Keras weights file mapped onto a model: each
// layer's weights (Keras 3 `.weights.h5` and `.keras`, and the legacy `.h5` of tf.keras) and the
// optimizer's iteration count, learning rate and slots, every shape and dtype checked before the
// model changes. Used by keras_files.hpp.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/keras/config.hpp>
#include <kerascpp/keras/hdf5.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/sequential.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
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

}  // namespace detail

}  // namespace kerascpp::keras
