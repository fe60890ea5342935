// kerascpp/saving/model_file.hpp — saving and loading models.
//
// `save_model(model, path)` writes one binary file holding the architecture, every weight, the
// compile configuration and the training state (optimizer iterations and slots, the model seed,
// the shuffle and Dropout random streams), so that `load_model<Scalar>(path)` gives a model whose
// `predict` is bit-identical and whose `fit(..., {.initial_epoch = k})` goes on exactly where the
// saved one stopped. `save_weights` / `load_weights` do the weights alone, checking that the file
// matches the model's architecture.
//
// The layer, optimizer and loss types come from their registries (kerascpp/registry.hpp), so a
// type registered in a user's program saves and loads like a built-in one. The format itself is
// kerascpp/saving/codec.hpp's. Loading checks every field before it trusts it: a truncated,
// corrupted or hostile file throws `IOError` saying which check failed and at which byte; a valid
// file whose weights do not fit the model given to `load_weights` throws `ValueError` naming the
// first mismatching layer.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/io.hpp>
#include <kerascpp/layers.hpp>
#include <kerascpp/losses.hpp>
#include <kerascpp/metrics.hpp>
#include <kerascpp/optimizers.hpp>
#include <kerascpp/registry.hpp>
#include <kerascpp/saving/codec.hpp>
#include <kerascpp/sequential.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

namespace kerascpp {
namespace serialization {
namespace detail {

/// The type names a file may use, from the registries of Scalar.
template <typename Scalar>
KnownNames known_names() {
  return {layer_registry<Scalar>().names(), optimizer_registry<Scalar>().names(), loss_registry<Scalar>().names()};
}

/// The registry entry that saves `layer`, or a ValueError naming `who` and the types that can be saved.
template <typename Scalar>
const LayerEntry<Scalar>& savable_layer(const Layer<Scalar>& layer, std::string_view who) {
  const auto* entry = layer_registry<Scalar>().find(layer.type(), layer);
  if (entry == nullptr)
    throw ValueError(cat(who, ": cannot save layer ", quote(layer.name()), " of type ", quote(layer.type()), ": only ",
                         join(layer_registry<Scalar>().names()), " layers can be saved (register a layer type with ",
                         "KERASCPP_REGISTER_LAYER to save it)"));
  return *entry;
}

/// Runs `make` on a config read by `c`, turning config errors into the IOError of the file position
/// (`origin`, `offset`, `context`); a value the constructor refuses reads "invalid <owner> config".
template <typename Make>
auto from_config(ConfigReader& c, std::string_view owner, const Origin& origin, std::size_t offset,
                 const std::string& context, Make&& make) {
  try {
    auto out = make();
    c.finish();
    return out;
  } catch (const ConfigError& e) {
    file_error(origin, offset, context, e.what());
  } catch (const ValueError& e) {
    file_error(origin, offset, context, cat("invalid ", owner, " config: ", e.what()));
  }
}

/// Creates the layer a record describes (not built), failing on any config problem.
template <typename Scalar>
LayerPtr<Scalar> make_layer(const LayerRecord& rec, std::size_t index, const Origin& origin) {
  const auto& entry = *layer_registry<Scalar>().find(rec.type);
  ConfigReader c(rec.config, rec.type);
  return from_config(c, rec.type, origin, rec.offset, layer_context("ARCH", index, rec.name),
                     [&] { return entry.from_config(c, input_shape{rec.declared_input_width}); });
}

/// The optimizer a COMP record describes, failing on any config problem.
template <typename Scalar>
std::unique_ptr<Optimizer<Scalar>> make_optimizer(const CompileRecord& rec, const Origin& origin) {
  const auto& entry = *optimizer_registry<Scalar>().find(rec.optimizer);
  ConfigReader c(rec.optimizer_config, "optimizer " + rec.optimizer);
  return from_config(c, rec.optimizer, origin, rec.offset, "section COMP", [&] { return entry.from_config(c); });
}

/// The loss a COMP record describes, failing on any config problem.
template <typename Scalar>
std::unique_ptr<Loss<Scalar>> make_loss(const CompileRecord& rec, const Origin& origin) {
  const auto& entry = *loss_registry<Scalar>().find(rec.loss);
  ConfigReader c(rec.loss_config, "loss " + rec.loss);
  return from_config(c, rec.loss, origin, rec.offset, "section COMP", [&] { return entry.from_config(c); });
}

/// The metric object metric record `index` describes, failing on an unknown registered name or any
/// config problem.
template <typename Scalar>
std::unique_ptr<Metric<Scalar>> make_metric(const MetricRecord& rec, std::size_t index, const Origin& origin) {
  const std::string context = cat("section COMP, metric ", index, " ", quote(rec.name));
  const auto* entry = metrics::registry<Scalar>().find(*rec.type);
  if (entry == nullptr || entry->from_config == nullptr) {
    std::vector<std::string> names;
    for (const auto& e : metrics::registry<Scalar>().entries())
      if (e.from_config != nullptr) names.push_back(e.name);
    file_error(origin, rec.offset, context,
               cat("unknown metric class ", quote(*rec.type), "; metric objects are saved as one of ", join(names)));
  }
  ConfigReader c(rec.config, "metric " + *rec.type);
  return from_config(c, "metric " + *rec.type, origin, rec.offset, context, [&] { return entry->from_config(c, rec.name); });
}

/// The optimizer's config: its arguments, its current learning rate written exactly (or its
/// learning-rate schedule) and its gradient clipping (Optimizer::full_config). A schedule must be
/// of a registered class, or load_model could not read the file back.
template <typename Scalar>
Config optimizer_config(const OptimizerEntry<Scalar>& entry, const Optimizer<Scalar>& optimizer) {
  if (const auto& schedule = optimizer.learning_rate_schedule()) {
    const auto& schedules = optimizers::schedules::registry();
    const auto* known = schedules.find(schedule->name(), *schedule);
    if (known == nullptr || known->from_config == nullptr)
      throw ValueError(cat("save_model: cannot save the learning-rate schedule ", quote(schedule->name()), " of optimizer ",
                           quote(optimizer.name()), ": only registered schedules (", join(schedules.names()),
                           ") can be saved; register its class with optimizers::schedules::registry().add(...)"));
  }
  return entry.get_config(optimizer);
}

/// The WGHT section of `model`; `who` names the caller in errors about unsupported layers.
template <typename Scalar>
void write_weights_section(Writer& w, const Sequential<Scalar>& model, std::string_view who) {
  const std::size_t at = w.begin_section("WGHT");
  w.i64(model.built() ? model.input_width() : 0);
  w.count(model.layers().size(), "layers");
  for (const auto& layer : model.layers()) {
    savable_layer(*layer, who);
    w.str(layer->type());
    w.str(layer->name());
    const auto weights = layer->weights();
    w.count(weights.size(), "weights in one layer");
    for (const auto& weight : weights) {
      w.str(weight.name);
      w.boolean(weight.trainable());
      w.tensor(*weight.value);
    }
  }
  w.end_section(at);
}

/// Whether this process writes `model`'s files: with a strategy attached whose processes share
/// the training (kerascpp/distributed/mpi.hpp), process 0 alone; else always.
template <typename Scalar>
bool writes_files(const Sequential<Scalar>& model) {
  const ProcessGroup& group = model.trainer().workers().reduction();
  return !group.spans_processes() || group.rank() == 0;
}

}  // namespace detail
// ---------------------------------------------------------------------------------------------
// Bytes in memory. The file functions below are these plus an atomic write or a whole-file read.

/// The bytes `save_model` writes: architecture, weights, compile configuration and training state.
/// Throws ValueError for what the format cannot hold (a layer, loss, optimizer or metric object of
/// a type it does not know), before anything is written.
template <typename Scalar>
std::string encode_model(const Sequential<Scalar>& model) {
  model.require_usable("save_model");
  detail::dtype_of<Scalar>();
  using detail::cat;
  using detail::quote;
  detail::Writer w(FileKind::model);

  const std::size_t arch = w.begin_section("ARCH");
  w.count(model.layers().size(), "layers");
  for (const auto& layer : model.layers()) {
    const auto& entry = detail::savable_layer(*layer, "save_model");
    w.str(layer->type());
    w.str(layer->name());
    w.i64(layer->declared_input_width());
    w.config(entry.get_config(*layer));
  }
  w.end_section(arch);

  detail::write_weights_section(w, model, "save_model");

  const std::size_t comp = w.begin_section("COMP");
  w.boolean(model.compiled());
  if (model.compiled()) {
    const Optimizer<Scalar>& optimizer = model.optimizer();
    const auto* optimizer_entry = optimizer_registry<Scalar>().find(optimizer.name(), optimizer);
    if (optimizer_entry == nullptr)
      throw ValueError(cat("save_model: cannot save optimizer ", quote(optimizer.name()), ": only the registered optimizers (",
                           detail::join(optimizer_registry<Scalar>().names()), ") can be saved; register your optimizer ",
                           "type with kerascpp::register_optimizer<Type, Codec>(name) to save it (docs/extending.md)"));
    const Loss<Scalar>& loss = model.loss();
    const auto* loss_entry = loss_registry<Scalar>().find(loss.name(), loss);
    if (loss_entry == nullptr)
      throw ValueError(cat("save_model: cannot save loss ", quote(loss.name()), ": only the registered losses (",
                           detail::join(loss_registry<Scalar>().names()), ") can be saved; register your loss type with ",
                           "kerascpp::register_loss<Type, Codec>(name) to save it (docs/extending.md)"));
    w.str(optimizer.name());
    w.config(detail::optimizer_config(*optimizer_entry, optimizer));
    w.str(loss.name());
    w.config(loss_entry->get_config(loss));
    w.count(model.metric_specs().size(), "metrics");
    for (const auto& spec : model.metric_specs()) {
      w.str(spec.name);
      if (spec.object == nullptr) {
        if (metrics::registry<Scalar>().find(spec.name) == nullptr)
          throw ValueError(cat("save_model: cannot save metric ", quote(spec.name), ": only metrics with a registered name (",
                               detail::join(metrics::registry<Scalar>().names()), ") can be saved"));
        w.boolean(false);
        continue;
      }
      const Metric<Scalar>& object = *spec.object;
      const auto* entry = metrics::entry_of(object);
      if (entry == nullptr)
        throw ValueError(cat("save_model: cannot save metric object ", quote(spec.name), " of class ",
                             typeid(object).name(), ": its class is not registered (register it with ",
                             "KERASCPP_REGISTER_METRIC to save it)"));
      w.boolean(true);
      w.str(entry->name);
      w.config(entry->get_config(object));
    }
  }
  w.end_section(comp);

  const std::size_t state = w.begin_section("TRST");
  w.u64(model.seed());
  w.u64(model.shuffle_rng().state());
  if (model.compiled()) {
    const Optimizer<Scalar>& optimizer = model.optimizer();
    w.i64(optimizer.iterations());
    w.boolean(optimizer.built());
    w.count(optimizer.slot_count(), "optimizer slots");
    const auto per_weight = static_cast<std::size_t>(std::max(optimizer.slots_per_weight(), 1));
    for (std::size_t k = 0; k < optimizer.slot_count(); ++k)
      w.tensor(optimizer.slot(k / per_weight, static_cast<int>(k % per_weight)));
  } else {
    w.i64(0);
    w.boolean(false);
    w.count(0, "optimizer slots");
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> states;
  for (std::size_t i = 0; i < model.layers().size(); ++i) {
    Layer<Scalar>& layer = *model.layers()[i];
    const auto& entry = detail::savable_layer(layer, "save_model");
    if (entry.get_state != nullptr) states.emplace_back(i, entry.get_state(layer));
  }
  w.count(states.size(), "layer states");
  for (const auto& [index, rng_state] : states) {
    w.u32(static_cast<std::uint32_t>(index));
    w.u64(rng_state);
  }
  w.end_section(state);
  return std::move(w).finish();
}

/// The bytes `save_weights` writes: every layer's type, name and weights.
template <typename Scalar>
std::string encode_weights(const Sequential<Scalar>& model) {
  model.require_usable("save_weights");
  detail::dtype_of<Scalar>();
  detail::Writer w(FileKind::weights);
  detail::write_weights_section(w, model, "save_weights");
  return std::move(w).finish();
}

/// Rebuilds the model `encode_model` wrote, converting float32 or float64 values to Scalar.
/// `source` names the bytes in error messages. Throws IOError for anything wrong with the bytes.
template <typename Scalar = float>
Sequential<Scalar> decode_model(std::string_view bytes, std::string_view source = "<bytes>") {
  detail::dtype_of<Scalar>();
  using detail::cat;
  using detail::quote;
  const detail::Origin origin{"load_model", std::string(source)};
  const detail::FileRecord file = detail::parse_file(bytes, origin, FileKind::model, detail::known_names<Scalar>());
  const auto& arch = file.layers;
  const auto& wr = file.weights;
  const auto& comp = file.compile;
  const auto& st = file.state;

  // Layers from their configs, not yet built.
  std::vector<LayerPtr<Scalar>> layers;
  for (std::size_t i = 0; i < arch.size(); ++i) layers.push_back(detail::make_layer<Scalar>(arch[i], i, origin));

  // The WGHT section must describe the same layers, with the shapes their configs imply.
  if (wr.layers.size() != arch.size())
    detail::file_error(origin, wr.offset, "section WGHT",
                       cat("the weights are for ", wr.layers.size(), " layers but the architecture has ", arch.size()));
  std::vector<WeightSpec> trainable;
  if (wr.input_width == 0) {
    if (!arch.empty() && arch.front().declared_input_width != 0)
      detail::file_error(origin, wr.offset, "section WGHT",
                         cat("the model is recorded as unbuilt (input width 0) but its first layer declares input width ",
                             arch.front().declared_input_width));
  } else if (arch.empty()) {
    detail::file_error(origin, wr.offset, "section WGHT",
                       cat("input width ", wr.input_width, " is recorded for a model without layers"));
  }
  Index width = wr.input_width;
  for (std::size_t i = 0; i < arch.size(); ++i) {
    const auto& lw = wr.layers[i];
    const std::string context = detail::layer_context("WGHT", i, lw.name);
    if (lw.type != arch[i].type || lw.name != arch[i].name)
      detail::file_error(origin, lw.offset, context,
                         cat("the weights are for ", lw.type, " ", quote(lw.name), " but the architecture has ",
                             arch[i].type, " ", quote(arch[i].name), " at this position"));
    if (wr.input_width == 0) {
      if (!lw.weights.empty())
        detail::file_error(origin, lw.offset, context, "an unbuilt model (input width 0) cannot hold weights");
      continue;
    }
    if (arch[i].declared_input_width != 0 && arch[i].declared_input_width != width)
      detail::file_error(origin, arch[i].offset, detail::layer_context("ARCH", i, arch[i].name),
                         cat("the layer declares input width ", arch[i].declared_input_width, " but receives width ", width));
    Index output = 0;
    const auto specs = layer_registry<Scalar>().find(arch[i].type)->weight_specs(*layers[i], width, output);
    if (lw.weights.size() != specs.size())
      detail::file_error(origin, lw.offset, context,
                         cat("a ", lw.type, " layer with this config has ", specs.size(), " weights, the file holds ",
                             lw.weights.size()));
    for (std::size_t k = 0; k < specs.size(); ++k) {
      const auto& t = lw.weights[k];
      if (t.name != specs[k].name || t.rows != specs[k].rows || t.cols != specs[k].cols || t.trainable != specs[k].trainable)
        detail::file_error(origin, t.offset, context,
                           cat("weight ", k, " should be ", specs[k].trainable ? "trainable " : "non-trainable ",
                               quote(specs[k].name), " of shape ", detail::shape(specs[k].rows, specs[k].cols),
                               " for input width ", width, "; the file holds ", t.trainable ? "trainable " : "non-trainable ",
                               quote(t.name), " of shape ", detail::shape(t.rows, t.cols)));
      if (specs[k].trainable) trainable.push_back(specs[k]);
    }
    width = output;
  }

  // Compile configuration.
  std::unique_ptr<Optimizer<Scalar>> optimizer;
  std::unique_ptr<Loss<Scalar>> loss;
  std::vector<MetricSpec<Scalar>> metric_specs;
  if (comp.compiled) {
    if (arch.empty())
      detail::file_error(origin, comp.offset, "section COMP", "a model without layers cannot be compiled");
    optimizer = detail::make_optimizer<Scalar>(comp, origin);
    loss = detail::make_loss<Scalar>(comp, origin);
    for (std::size_t k = 0; k < comp.metrics.size(); ++k) {
      const auto& rec = comp.metrics[k];
      if (!rec.type) {
        if (metrics::registry<Scalar>().find(rec.name) == nullptr)
          detail::file_error(origin, rec.offset, "section COMP",
                             cat("unknown metric ", quote(rec.name), "; known metrics are ",
                                 detail::join(metrics::registry<Scalar>().names())));
        metric_specs.emplace_back(rec.name);
        continue;
      }
      metric_specs.emplace_back(*detail::make_metric<Scalar>(rec, k, origin));
    }
  }

  // Training state.
  if (!comp.compiled && (st.iterations != 0 || st.optimizer_built || !st.slots.empty()))
    detail::file_error(origin, st.offset, "section TRST",
                       "the model is not compiled but optimizer state (iterations or slots) is recorded");
  if (st.optimizer_built) {
    const std::size_t per_weight = static_cast<std::size_t>(optimizer->slots_per_weight());
    if (st.slots.size() != trainable.size() * per_weight)
      detail::file_error(origin, st.offset, "section TRST",
                         cat(comp.optimizer, " keeps ", per_weight, " slot(s) for each of the ", trainable.size(),
                             " trainable weights, so ", trainable.size() * per_weight, " slots; the file holds ",
                             st.slots.size()));
    for (std::size_t k = 0; k < st.slots.size(); ++k) {
      const auto& spec = trainable[k / std::max<std::size_t>(per_weight, 1)];
      if (st.slots[k].rows != spec.rows || st.slots[k].cols != spec.cols)
        detail::file_error(origin, st.slots[k].offset, "section TRST",
                           cat("optimizer slot ", k, " has shape ", detail::shape(st.slots[k].rows, st.slots[k].cols),
                               " but its weight ", quote(spec.name), " has shape ", detail::shape(spec.rows, spec.cols)));
    }
  } else if (!st.slots.empty()) {
    detail::file_error(origin, st.offset, "section TRST", "optimizer slots are recorded for an optimizer that is not built");
  }
  std::vector<std::size_t> stateful_layers;
  for (std::size_t i = 0; i < arch.size(); ++i)
    if (layer_registry<Scalar>().find(arch[i].type)->get_state != nullptr) stateful_layers.push_back(i);
  if (st.layer_states.size() != stateful_layers.size())
    detail::file_error(origin, st.layer_states_offset, "section TRST",
                       cat("the model has ", stateful_layers.size(), " layers with a saved state (such as Dropout) but ",
                           "the file records ", st.layer_states.size(), " layer states"));
  for (std::size_t k = 0; k < stateful_layers.size(); ++k)
    if (st.layer_states[k].first != stateful_layers[k])
      detail::file_error(origin, st.layer_states_offset, "section TRST",
                         cat("layer state ", k, " is for layer ", st.layer_states[k].first, ", expected the ",
                             arch[stateful_layers[k]].type, " layer at index ", stateful_layers[k]));

  // Everything checked: build the model.
  try {
    Sequential<Scalar> model;
    model.set_seed(st.seed);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      model.add(std::move(layers[i]));
      if (!arch[i].name.empty()) model.layer(i).set_name(arch[i].name);
    }
    if (wr.input_width != 0 && !model.built()) model.build(wr.input_width);
    for (std::size_t i = 0; i < arch.size(); ++i) {
      const auto weights = model.layer(i).weights();
      for (std::size_t k = 0; k < weights.size(); ++k) detail::copy_tensor(wr.layers[i].weights[k], *weights[k].value);
    }
    for (const auto& [index, state] : st.layer_states)
      layer_registry<Scalar>().find(arch[index].type)->set_state(model.layer(index), state);
    model.shuffle_rng().seed(st.shuffle_state);
    if (comp.compiled) {
      model.compile(*optimizer, *loss, std::move(metric_specs));
      Optimizer<Scalar>& opt = model.optimizer();
      if (st.optimizer_built) {
        opt.build(model.parameters());
        const auto per_weight = static_cast<std::size_t>(std::max(opt.slots_per_weight(), 1));
        for (std::size_t k = 0; k < st.slots.size(); ++k) {
          auto slot = opt.slot(k / per_weight, static_cast<int>(k % per_weight));
          detail::copy_tensor(st.slots[k], slot);
        }
      }
      opt.set_iterations(st.iterations);
    }
    return model;
  } catch (const ValueError& e) {
    detail::file_error(origin, header_size, "", cat("the recorded model is inconsistent: ", e.what()));
  } catch (const StateError& e) {
    detail::file_error(origin, header_size, "", cat("the recorded model is inconsistent: ", e.what()));
  }
}

/// Loads weights written by `encode_weights` or `encode_model` into `model`. The model is changed
/// only when everything matched. Throws IOError for anything wrong with the bytes and ValueError
/// when they are for a different architecture (layer count, types, weight shapes), naming the
/// first mismatch. An unbuilt model is built for the recorded input width first.
template <typename Scalar>
void decode_weights_into(Sequential<Scalar>& model, std::string_view bytes, std::string_view source = "<bytes>") {
  model.require_usable("load_weights");
  detail::dtype_of<Scalar>();
  using detail::cat;
  using detail::quote;
  const detail::Origin origin{"load_weights", std::string(source)};
  const detail::FileRecord file = detail::parse_file(bytes, origin, std::nullopt, detail::known_names<Scalar>());
  const auto& wr = file.weights;
  const std::string who = cat("load_weights: ", source, ": ");

  if (model.size() != wr.layers.size())
    throw ValueError(cat(who, "the model has ", model.size(), " layers but the file holds weights for ", wr.layers.size()));
  for (std::size_t i = 0; i < wr.layers.size(); ++i) {
    const auto& l = model.layer(i);
    if (l.type() != wr.layers[i].type)
      throw ValueError(cat(who, "layer ", i, ": the model has ", l.type(), " ", quote(l.name()), ", the file has ",
                           wr.layers[i].type, " ", quote(wr.layers[i].name)));
  }
  if (wr.input_width == 0) {
    if (model.size() == 0) return;
    throw ValueError(cat(who, "the file was saved from an unbuilt model and holds no weights"));
  }
  if (model.built() && model.input_width() != wr.input_width)
    throw ValueError(cat(who, "the model takes input width ", model.input_width(), ", the file was saved for input width ",
                         wr.input_width));

  const auto mismatch = [&](std::size_t i, std::size_t k, const std::string& model_name, Index rows, Index cols) {
    const auto& t = wr.layers[i].weights[k];
    throw ValueError(cat(who, "layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") weight ", k,
                         ": the model has ", quote(model_name), " of shape ", detail::shape(rows, cols), ", the file has ",
                         quote(t.name), " of shape ", detail::shape(t.rows, t.cols)));
  };
  const auto count_mismatch = [&](std::size_t i, std::size_t expected) {
    throw ValueError(cat(who, "layer ", i, " ", quote(model.layer(i).name()), " (", model.layer(i).type(), ") has ",
                         expected, " weights, the file holds ", wr.layers[i].weights.size()));
  };

  if (model.built()) {
    for (std::size_t i = 0; i < wr.layers.size(); ++i) {
      const auto weights = model.layer(i).weights();
      if (weights.size() != wr.layers[i].weights.size()) count_mismatch(i, weights.size());
      for (std::size_t k = 0; k < weights.size(); ++k) {
        const auto& t = wr.layers[i].weights[k];
        if (weights[k].name != t.name || weights[k].value->rows() != t.rows || weights[k].value->cols() != t.cols)
          mismatch(i, k, weights[k].name, weights[k].value->rows(), weights[k].value->cols());
      }
    }
  } else {
    Index width = wr.input_width;
    for (std::size_t i = 0; i < wr.layers.size(); ++i) {
      const auto& l = model.layer(i);
      if (l.declared_input_width() != 0 && l.declared_input_width() != width)
        throw ValueError(cat(who, "layer ", i, " ", quote(l.name()), " declares input width ", l.declared_input_width(),
                             " but the file's weights give it width ", width));
      Index output = 0;
      const auto* entry = layer_registry<Scalar>().find(l.type(), l);
      if (entry == nullptr)
        throw StateError(cat(who, "layer ", i, " ", quote(l.name()), " has type ", quote(l.type()),
                             ", which load_weights cannot check before building; build the model first"));
      const auto specs = std::optional<std::vector<WeightSpec>>(entry->weight_specs(l, width, output));
      if (specs->size() != wr.layers[i].weights.size()) count_mismatch(i, specs->size());
      for (std::size_t k = 0; k < specs->size(); ++k) {
        const auto& t = wr.layers[i].weights[k];
        const auto& s = (*specs)[k];
        if (s.name != t.name || s.rows != t.rows || s.cols != t.cols) mismatch(i, k, s.name, s.rows, s.cols);
      }
      width = output;
    }
    model.build(wr.input_width);
  }
  for (std::size_t i = 0; i < wr.layers.size(); ++i) {
    const auto weights = model.layer(i).weights();
    for (std::size_t k = 0; k < weights.size(); ++k) detail::copy_tensor(wr.layers[i].weights[k], *weights[k].value);
  }
}

}  // namespace serialization

// ---------------------------------------------------------------------------------------------
// Files.

/// Writes `model` to `path` in one file: architecture, weights, compile configuration and training
/// state (see docs/file_format.md). The file is replaced atomically: a save that fails leaves the
/// previous file as it was. Throws ValueError for a model the format cannot hold and IOError when
/// the file cannot be written. With an MPI strategy attached, only process 0 writes; the other
/// processes return at once.
template <typename Scalar>
void save_model(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  serialization::detail::check_not_keras_name(path, "save_model");
  if (!serialization::detail::writes_files(model)) return;
  serialization::detail::write_whole_file(path, serialization::encode_model(model), "save_model");
}

/// Reads a model written by `save_model`, float32 or float64, as a Sequential<Scalar>: same
/// layers, names, weights, compile configuration and training state, so `predict` gives the same
/// numbers and `fit(..., {.initial_epoch = k})` continues the saved training exactly. Throws
/// IOError naming the path, and the check that failed with its byte offset.
template <typename Scalar = float>
Sequential<Scalar> load_model(const std::filesystem::path& path) {
  const std::string bytes = serialization::detail::read_whole_file(path, "load_model");
  return serialization::decode_model<Scalar>(bytes, serialization::detail::quoted_path(path));
}

/// Writes every layer's weights (trainable ones and BatchNormalization's moving statistics) to
/// `path`, atomically. Throws IOError when the file cannot be written. With an MPI strategy
/// attached, only process 0 writes, like save_model.
template <typename Scalar>
void save_weights(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  serialization::detail::check_not_keras_name(path, "save_weights");
  if (!serialization::detail::writes_files(model)) return;
  serialization::detail::write_whole_file(path, serialization::encode_weights(model), "save_weights");
}

/// Sets `model`'s weights from a file written by `save_weights` (or `save_model`), converting
/// float32/float64. The architecture must match: same layer count, types and weight shapes,
/// else ValueError naming the first mismatch; file problems throw IOError. The model is left
/// unchanged when anything fails.
template <typename Scalar>
void load_weights(Sequential<Scalar>& model, const std::filesystem::path& path) {
  const std::string bytes = serialization::detail::read_whole_file(path, "load_weights");
  serialization::decode_weights_into(model, bytes, serialization::detail::quoted_path(path));
}

// The seams Sequential's save / save_weights / load_weights members call, unqualified, so that
// they are found by argument-dependent lookup where the members are used and sequential.hpp need
// not include this header.

template <typename Scalar>
void save_model_weights(const Sequential<Scalar>& model, const std::filesystem::path& path) {
  save_weights(model, path);
}

template <typename Scalar>
void load_model_weights(Sequential<Scalar>& model, const std::filesystem::path& path) {
  load_weights(model, path);
}

/// What ModelInterface::save and save_weights call (callbacks such as ModelCheckpoint save through
/// them): the model must be a Sequential.
template <typename Scalar>
void save_model_interface(ModelInterface<Scalar>& model, const std::filesystem::path& path, bool weights_only) {
  const auto* sequential = dynamic_cast<const Sequential<Scalar>*>(&model);
  if (sequential == nullptr)
    throw StateError("save: the model is not a kerascpp::Sequential<Scalar>; only Sequential models can be saved");
  if (weights_only) save_weights(*sequential, path);
  else save_model(*sequential, path);
}

}  // namespace kerascpp
