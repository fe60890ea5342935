// kerascpp/engine/trainer.hpp — the training engine: the fit, evaluate and predict loops with
// callback dispatch and running totals, and `train_step`, the one place where a batch is trained:
// forward, loss, backward, gradient reduction and one optimizer step. docs/architecture.md follows
// one batch through it. While these run, subnormal floats are flushed to zero (the caller's
// floating-point state is restored on return), and the first fit of an unoptimized build says so.
// When the reduction spans processes, every global batch (of training, validation and evaluate)
// is split into contiguous shares, one per process, and the processes agree after every batch's
// callbacks whether one failed or asked to stop (docs/distributed.md).
#pragma once

#include <kerascpp/callbacks.hpp>
#include <kerascpp/build_info.hpp>
#include <kerascpp/core.hpp>
#include <kerascpp/engine/batch.hpp>
#include <kerascpp/engine/checks.hpp>
#include <kerascpp/engine/network.hpp>
#include <kerascpp/engine/options.hpp>
#include <kerascpp/engine/workers.hpp>
#include <kerascpp/float_env.hpp>
#include <kerascpp/progress.hpp>
#include <kerascpp/py_dataset.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace kerascpp::engine {

template <typename Scalar>
class Trainer {
 public:
  /// Trains `net` on rows of x and y for the epochs of `options`; `model` is what callbacks see.
  /// Data and options are checked by the caller. `alive` turns false when the model is destroyed: a
  /// callback that does so ends fit with a StateError before anything of the model is touched again.
  History<Scalar> fit(Network<Scalar>& net, ModelInterface<Scalar>& model, const StridedView<Scalar>& x,
                      const StridedView<Scalar>& y, const FitOptions<Scalar>& options,
                      std::shared_ptr<const bool> alive) {
    const detail::FlushSubnormalsScope flush;  // as TensorFlow: subnormal floats are zero while training
    target_cols_ = y.cols();
    // Training rows and validation rows (validation_split takes the last rows, before shuffling).
    Index train_rows = x.rows();
    if (!options.validation_data.given() && options.validation_split > 0.0) {
      train_rows = static_cast<Index>(std::floor(static_cast<double>(x.rows()) * (1.0 - options.validation_split)));
      if (train_rows <= 0 || train_rows >= x.rows())
        detail::fail("fit: validation_split=", options.validation_split, " leaves ", train_rows, " training and ",
                     x.rows() - train_rows, " validation rows out of ", x.rows(), "; both must be non-empty");
    }
    check_validation_data(net, options, y.cols());
    const Vector<Scalar> weights = sample_weights(y, options, train_rows);
    const Index batch_size = std::min(options.batch_size, train_rows);
    std::vector<Index> order(static_cast<std::size_t>(train_rows));
    const auto begin_epoch = [&] {
      std::iota(order.begin(), order.end(), Index{0});
      if (options.shuffle) net.shuffle_rng.shuffle(order);  // a fresh permutation each epoch, so a saved model resumes exactly
    };
    const auto batch = [&](Index step) {
      const Index start = step * batch_size;
      return share_of(std::min(batch_size, train_rows - start), [&](Index first, Index rows) {
        return stager_.gather(x, y, weights, order.data() + start + first, rows);
      });
    };
    const auto validate = [&](Logs& logs) {
      if (options.validation_data.given()) validate_on(net, options, logs);
      else if (train_rows < x.rows())
        add_validation_logs(evaluate_rows(net, x, y, options.sample_weight, options.batch_size, train_rows, x.rows()), logs);
    };
    return run_epochs(net, model, options, x.rows(), (train_rows - 1) / batch_size + 1, begin_epoch, batch, [] {},
                      validate, alive);
  }

  /// Trains `net` on the batches of `data` (see fit above). An epoch is one pass over the data, or
  /// `steps_per_epoch` batches that continue where the previous epoch stopped (wrapping around).
  History<Scalar> fit(Network<Scalar>& net, ModelInterface<Scalar>& model, PyDataset<Scalar>& data, Index y_cols,
                      const FitOptions<Scalar>& options, std::shared_ptr<const bool> alive) {
    const detail::FlushSubnormalsScope flush;
    target_cols_ = y_cols;
    check_validation_data(net, options, y_cols);
    const Index passes = dataset_size(data, "fit");
    Index cursor = 0;  // the next batch of the current pass
    const auto batch = [&](Index) {
      if (cursor == passes) {
        data.on_epoch_end();
        cursor = 0;
      }
      return dataset_batch(net, data, cursor++, "fit", &options);
    };
    const auto end_epoch = [&] {
      if (options.steps_per_epoch == 0) {
        data.on_epoch_end();
        cursor = 0;
      }
    };
    const auto validate = [&](Logs& logs) {
      if (options.validation_data.given()) validate_on(net, options, logs);
    };
    const Index steps = options.steps_per_epoch > 0 ? options.steps_per_epoch : passes;
    return run_epochs(net, model, options, passes, steps, [] {}, batch, end_epoch, validate, alive);
  }

  /// One gradient step on all rows of x and y; returns the batch loss (before the update).
  double train_on_batch(Network<Scalar>& net, const StridedView<Scalar>& x, const StridedView<Scalar>& y) {
    const detail::FlushSubnormalsScope flush;
    Totals totals(net.metric_layout);
    const Vector<Scalar> no_weights;
    return train_step(net, share_of(x.rows(), [&](Index first, Index rows) {
                        return stager_.slice(x, y, no_weights, first, rows);
                      }), totals);
  }

  /// Loss and metrics over x and y in inference mode.
  Logs evaluate(Network<Scalar>& net, const StridedView<Scalar>& x, const StridedView<Scalar>& y,
                const EvaluateOptions<Scalar>& options) {
    const detail::FlushSubnormalsScope flush;
    return evaluate_rows(net, x, y, options.sample_weight, options.batch_size, 0, x.rows());
  }

  /// Outputs (rows × output width) in inference mode, through the same forward loop as training.
  Matrix<Scalar> predict(Network<Scalar>& net, const StridedView<Scalar>& x, Index batch_size) {
    const detail::FlushSubnormalsScope flush;
    Matrix<Scalar> out;
    try {
      out.resize(x.rows(), net.output_width());
    } catch (const std::bad_alloc&) {
      detail::fail("predict: could not allocate the output, ", x.rows(), " rows of width ", net.output_width());
    }
    batch_size = std::min(batch_size, std::max<Index>(x.rows(), 1));  // so that start + batch_size cannot overflow
    for (Index start = 0; start < x.rows(); start += batch_size) {
      const Index rows = std::min(batch_size, x.rows() - start);
      const ConstMatrixView<Scalar> xb(stager_.inputs(x, start, rows), rows, net.input_width);
      out.middleRows(start, rows) = forward(net.layers, xb, false, BatchPosition{0, start, nullptr});
    }
    return out;
  }

  /// The one training step: forward, loss and backward of every share of the batch, the shares'
  /// gradients summed through the reduction, one optimizer step. Adds the batch's loss (with the
  /// regularization penalty of the weights it was computed with) and metric sums into `totals` and
  /// returns the batch loss.
  double train_step(Network<Scalar>& net, Batch<Scalar> batch, Totals& totals) {
    batch.step = static_cast<std::uint64_t>(net.optimizer->iterations());
    const double penalty = net.regularization();
    const double batch_loss = workers_.run(net, batch, true, totals) / static_cast<double>(batch.total_rows) + penalty;
    totals.loss_sum += batch_loss * static_cast<double>(batch.total_rows);
    totals.rows += static_cast<double>(batch.total_rows);
    return batch_loss;
  }

  /// Loss and metrics over every batch of `data`, in inference mode; every batch's y has `y_cols`
  /// columns (those the model's metrics were laid out for).
  Logs evaluate(Network<Scalar>& net, PyDataset<Scalar>& data, Index y_cols) {
    const detail::FlushSubnormalsScope flush;
    target_cols_ = y_cols;
    return evaluate_dataset(net, data, "evaluate");
  }

  /// Outputs for every batch of `data` in order (rows × output width); the batches' targets are
  /// not used.
  Matrix<Scalar> predict(Network<Scalar>& net, PyDataset<Scalar>& data) {
    const detail::FlushSubnormalsScope flush;
    const Index n = dataset_size(data, "predict");
    std::vector<Matrix<Scalar>> parts;
    Index rows = 0;
    for (Index i = 0; i < n; ++i) {
      data.get(i, fetched_);
      check_input_width(net, "predict: dataset batch", fetched_.x.cols());
      detail::check_finite_input(packed_view(fetched_.x), "predict: dataset batch", "x");
      parts.push_back(forward(net.layers, ConstMatrixView<Scalar>(fetched_.x.data(), fetched_.x.rows(), fetched_.x.cols()),
                              false, BatchPosition{0, rows, nullptr}));
      rows += parts.back().rows();
    }
    data.on_epoch_end();
    Matrix<Scalar> out(rows, net.output_width());
    Index at = 0;
    for (const auto& p : parts) {
      out.middleRows(at, p.rows()) = p;
      at += p.rows();
    }
    return out;
  }

  Workers<Scalar>& workers() { return workers_; }
  const Workers<Scalar>& workers() const { return workers_; }

 private:
  /// Batch `index` of `data`, checked against the model, as the engine's batch. `where` starts the
  /// messages; with fit's options, class_weight applies.
  Batch<Scalar> dataset_batch(Network<Scalar>& net, PyDataset<Scalar>& data, Index index, const char* where,
                              const FitOptions<Scalar>* options) {
    data.get(index, fetched_);
    const std::string what = detail::cat(where, ": dataset batch ", index);
    const auto xv = packed_view(fetched_.x), yv = packed_view(fetched_.y);
    check_data(net, what.c_str(), xv, yv);
    if (yv.cols() != target_cols_)
      detail::fail(what, ": y has ", yv.cols(), " columns but the model's targets have ", target_cols_,
                   " (every batch's y must be as wide as the first batch's, or as fit's y)");
    check_targets(net, what.c_str(), yv);
    check_sample_weight(what.c_str(), fetched_.sample_weight, fetched_.x.rows());
    const Vector<Scalar>* w = &fetched_.sample_weight;
    if (options != nullptr && !options->class_weight.empty()) {
      weights_ = sample_weights(yv, *options, yv.rows());
      w = &weights_;
    }
    return share_of(xv.rows(), [&](Index first, Index rows) { return stager_.slice(xv, yv, *w, first, rows); });
  }

  /// This process's share of a batch of `rows` rows: the whole batch when no other process shares
  /// it, else a contiguous part (rows split as evenly as possible, process r taking rows
  /// [rows·r/P, rows·(r+1)/P)). `take(first, count)` stages rows [first, first + count) of the batch.
  template <typename Take>
  Batch<Scalar> share_of(Index rows, Take&& take) {
    ProcessGroup& group = workers_.reduction();
    if (!group.spans_processes()) return take(Index{0}, rows);
    const Index first = rows * group.rank() / group.ranks();
    const Index end = rows * (group.rank() + 1) / group.ranks();
    Batch<Scalar> b = take(first, end - first);
    b.first_row = first;
    b.total_rows = rows;
    return b;
  }

  /// The loop of fit: epochs of `steps` batches with callbacks, running totals and validation.
  /// `begin_epoch()` and `end_epoch()` frame each epoch, `batch(step)` gives its batches and
  /// `validate(logs)` adds the validation values to an epoch's logs; `data_rows` counts the rows
  /// (or dataset batches) that every process must hold alike.
  ///
  /// When other processes share the batches, callbacks that only the chief runs (files, progress)
  /// run on process 0 alone, a callback's exception is held until the next agreement point
  /// (before each training step, after each batch's and epoch's callbacks), where every process
  /// throws it, and a failure inside a step or a validation, where the others wait for this
  /// process, ends the job.
  template <typename Begin, typename Next, typename End, typename Validate>
  History<Scalar> run_epochs(Network<Scalar>& net, ModelInterface<Scalar>& model, const FitOptions<Scalar>& options,
                             Index data_rows, Index steps, Begin&& begin_epoch, Next&& batch, End&& end_epoch,
                             Validate&& validate, const std::shared_ptr<const bool>& alive) {
    detail::warn_if_unoptimized(std::cerr);
    Reduction<Scalar>& group = workers_.reduction();
    const bool distributed = group.spans_processes();
    struct EndFit {  // however fit ends: the optimizer holds its slots again, and the reduction is told
      Reduction<Scalar>* group;
      Optimizer<Scalar>* optimizer;
      const bool* alive;
      ~EndFit() {
        if (group == nullptr) return;
        if (*alive) optimizer->hold_slots();
        group->end_fit();
      }
    } const end_fit{distributed ? &group : nullptr, net.optimizer.get(), alive.get()};
    if (distributed) begin_distributed_fit(net, options, data_rows, steps);
    const bool chief = group.rank() == 0;
    History<Scalar> history;
    std::optional<callbacks::ProgbarLogger<Scalar>> progbar;
    if (options.verbose > 0 && options.epochs > options.initial_epoch && chief)
      progbar.emplace(options.verbose, options.epochs, steps, *options.out, is_terminal(options.out));
    detail::CallbackClaim<Scalar> claim(&history);  // released (and detached) when fit ends, however it ends
    for (std::size_t i = 0; i < options.callbacks.size(); ++i) claim.take(options.callbacks[i], static_cast<std::ptrdiff_t>(i));
    claim.take(&history, -1);
    if (progbar) claim.take(&*progbar, -1);
    std::vector<Callback<Scalar>*> cbs;
    for (auto* cb : claim.taken)
      if (chief || !cb->chief_only()) cbs.push_back(cb);
    for (auto* cb : cbs) cb->set_model(&model);
    std::exception_ptr error;  // with other processes: what this one raised since the last agreement
    const auto held = [&](auto&& work) {  // runs work; with other processes, holds its exception
      if (error) return;
      try {
        work();
      } catch (...) {
        if (!distributed) throw;
        error = std::current_exception();
      }
    };
    const auto each = [&](auto&& call) {  // calls every callback, checking after each that the model lives
      held([&] {
        for (auto* cb : cbs) {
          call(cb);
          if (!*alive) throw StateError("fit: the model was destroyed by a callback while fit was running");
        }
      });
    };
    const auto agree = [&] {  // with other processes: every one throws a failure, or stops if one asks
      if (distributed) model.stop_training = group.agree(std::exchange(error, nullptr), model.stop_training);
    };
    const auto waited_on = [&](auto&& work) {  // work during which the other processes wait for this one
      if (!distributed) return work();
      try {
        return work();
      } catch (const std::exception& e) {
        group.abort(e.what());
        throw;
      }
    };
    model.stop_training = false;
    Logs logs;
    each([&](auto* cb) { cb->on_train_begin(logs); });
    agree();

    Totals totals(net.metric_layout);
    Logs batch_logs;  // reused: after the first batch, updating it allocates nothing
    Logs begin_logs;  // empty at each batch's start, as in Keras
    for (int epoch = options.initial_epoch; epoch < options.epochs; ++epoch) {
      Logs epoch_logs;
      each([&](auto* cb) { cb->on_epoch_begin(epoch, epoch_logs); });
      begin_epoch();
      totals.clear();
      for (Index step = 0; step < steps; ++step) {
        begin_logs.clear();
        each([&](auto* cb) { cb->on_batch_begin(static_cast<int>(step), begin_logs); });
        Batch<Scalar> b;
        held([&] { b = batch(step); });
        agree();
        waited_on([&] { return train_step(net, b, totals); });
        totals.write(net.metrics, net.metric_layout, batch_logs);
        each([&](auto* cb) { cb->on_batch_end(static_cast<int>(step), batch_logs); });
        agree();
        if (model.stop_training) break;
      }
      held([&] { end_epoch(); });
      epoch_logs.clear();
      totals.write(net.metrics, net.metric_layout, epoch_logs);
      waited_on([&] { validate(epoch_logs); });
      each([&](auto* cb) { cb->on_epoch_end(epoch, epoch_logs); });
      agree();
      if (model.stop_training) break;
    }
    each([&](auto* cb) { cb->on_train_end(logs); });
    agree();
    return history;
  }

  /// Hands the reduction what every process must agree on before a distributed fit starts; it
  /// checks them and gives every process process 0's state.
  void begin_distributed_fit(Network<Scalar>& net, const FitOptions<Scalar>& options, Index data_rows, Index steps) {
    const std::pair<const char*, Index> agreed[] = {
        {"rows of the training data", data_rows},
        {"input width", net.input_width},
        {"output width", net.output_width()},
        {"batch_size", options.batch_size},
        {"steps per epoch", steps},
        {"epochs", options.epochs},
        {"initial_epoch", options.initial_epoch},
        {"shuffle", options.shuffle ? 1 : 0},
        {"validation_data rows", options.validation_data.has_value() ? options.validation_data->x.rows() : -1}};
    workers_.reduction().begin_fit(agreed);
  }

  /// Checks validation_data given as arrays against the model and the targets' width.
  void check_validation_data(Network<Scalar>& net, const FitOptions<Scalar>& options, Index y_cols) {
    if (!options.validation_data.has_value()) return;
    const auto& v = *options.validation_data;
    check_data(net, "fit: validation_data", packed_view(v.x), packed_view(v.y));
    if (v.y.cols() != y_cols) detail::fail("fit: validation_data y has ", v.y.cols(), " columns but y has ", y_cols);
    check_targets(net, "fit: validation_data", packed_view(v.y));
  }

  /// Adds the val_ values of validation_data (arrays or a PyDataset) to an epoch's logs.
  void validate_on(Network<Scalar>& net, const FitOptions<Scalar>& options, Logs& logs) {
    if (options.validation_data.dataset != nullptr) {
      add_validation_logs(evaluate_dataset(net, *options.validation_data.dataset, "fit: validation_data"), logs);
      return;
    }
    const auto& v = *options.validation_data;
    add_validation_logs(
        evaluate_rows(net, packed_view(v.x), packed_view(v.y), Vector<Scalar>(), options.batch_size, 0, v.x.rows()), logs);
  }

  /// Loss and metrics over every batch of `data` in inference mode.
  Logs evaluate_dataset(Network<Scalar>& net, PyDataset<Scalar>& data, const char* where) {
    Totals totals(net.metric_layout);
    const Index n = dataset_size(data, where);
    for (Index i = 0; i < n; ++i) {
      const Batch<Scalar> batch = dataset_batch(net, data, i, where, nullptr);
      totals.loss_sum += workers_.run(net, batch, false, totals);
      totals.rows += static_cast<double>(batch.total_rows);
    }
    data.on_epoch_end();
    Logs logs;
    totals.write(net.metrics, net.metric_layout, logs);
    logs["loss"] += net.regularization();
    return logs;
  }


  /// Loss and metrics over rows [begin, end) in inference mode.
  Logs evaluate_rows(Network<Scalar>& net, const StridedView<Scalar>& x, const StridedView<Scalar>& y,
                     const Vector<Scalar>& weights, Index batch_size, Index begin, Index end) {
    Totals totals(net.metric_layout);
    batch_size = std::min(batch_size, std::max<Index>(end - begin, 1));  // so that start + batch_size cannot overflow
    for (Index start = begin; start < end; start += batch_size) {
      const Batch<Scalar> batch = share_of(std::min(batch_size, end - start), [&](Index first, Index rows) {
        return stager_.slice(x, y, weights, start + first, rows);
      });
      totals.loss_sum += workers_.run(net, batch, false, totals);
      totals.rows += static_cast<double>(batch.total_rows);
    }
    Logs logs;
    totals.write(net.metrics, net.metric_layout, logs);
    logs["loss"] += net.regularization();
    return logs;
  }

  static void add_validation_logs(const Logs& val, Logs& logs) {
    for (const auto& [key, value] : val) logs["val_" + key] = value;
  }

  /// A packed row-major matrix as a StridedView.
  static StridedView<Scalar> packed_view(const RowMatrix<Scalar>& m) {
    return StridedView<Scalar>(m.data(), m.rows(), m.cols(), Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(m.cols(), 1));
  }

  static bool is_terminal(std::ostream* out) {
#if defined(__unix__) || defined(__APPLE__)
    return out == &std::cout && ::isatty(STDOUT_FILENO) != 0;
#else
    (void)out;
    return false;
#endif
  }

  Stager<Scalar> stager_;
  Workers<Scalar> workers_;
  DatasetBatch<Scalar> fetched_;  // the PyDataset batch being trained on, reused
  Index target_cols_ = 0;          // the width of y in the fit or evaluate running
  Vector<Scalar> weights_;        // its class weights
};

}  // namespace kerascpp::engine
