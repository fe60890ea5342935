// kerascpp/engine/trainer.hpp — the training engine: the fit, evaluate and predict loops with
// callback dispatch and running totals, and `train_step`, the one place where a batch is trained:
// forward, loss, backward, gradient reduction and one optimizer step. docs/architecture.md follows
// one batch through it. While these run, subnormal floats are flushed to zero (the caller's
// floating-point state is restored on return), and the first fit of an unoptimized build says so.
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

#include <algorithm>
#include <cmath>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace kerascpp::engine {

template <typename Scalar>
class Trainer {
 public:
  /// Trains `net` for the epochs of `options`; `model` is what callbacks see. Data and options are
  /// checked by the caller. `alive` turns false when the model is destroyed: a callback that does
  /// so ends fit with a StateError before anything of the model is touched again.
  History<Scalar> fit(Network<Scalar>& net, ModelInterface<Scalar>& model, const StridedView<Scalar>& x,
                      const StridedView<Scalar>& y, const FitOptions<Scalar>& options,
                      std::shared_ptr<const bool> alive) {
    detail::warn_if_unoptimized(std::cerr);
    const detail::FlushSubnormalsScope flush;  // as TensorFlow: subnormal floats are zero while training
    // Training rows and validation rows (validation_split takes the last rows, before shuffling).
    Index train_rows = x.rows();
    if (!options.validation_data && options.validation_split > 0.0) {
      train_rows = static_cast<Index>(std::floor(static_cast<double>(x.rows()) * (1.0 - options.validation_split)));
      if (train_rows <= 0 || train_rows >= x.rows())
        detail::fail("fit: validation_split=", options.validation_split, " leaves ", train_rows, " training and ",
                     x.rows() - train_rows, " validation rows out of ", x.rows(), "; both must be non-empty");
    }
    if (options.validation_data) {
      const auto& v = *options.validation_data;
      check_data(net, "fit: validation_data", packed_view(v.x), packed_view(v.y));
      if (v.y.cols() != y.cols())
        detail::fail("fit: validation_data y has ", v.y.cols(), " columns but y has ", y.cols());
      check_targets(net, "fit: validation_data", packed_view(v.y));
    }
    const Vector<Scalar> weights = sample_weights(y, options, train_rows);
    const Index batch_size = std::min(options.batch_size, train_rows);
    const Index steps = (train_rows - 1) / batch_size + 1;

    std::vector<Index> order(static_cast<std::size_t>(train_rows));
    History<Scalar> history;
    std::optional<callbacks::ProgbarLogger<Scalar>> progbar;
    std::vector<Callback<Scalar>*> cbs = options.callbacks;
    cbs.push_back(&history);
    if (options.verbose > 0 && options.epochs > options.initial_epoch) {
      progbar.emplace(options.verbose, options.epochs, steps, *options.out, is_terminal(options.out));
      cbs.push_back(&*progbar);
    }
    for (auto* cb : cbs) {
      if (cb == nullptr) detail::fail("fit: callbacks contains a null pointer");
      cb->set_model(&model);
    }
    const auto each = [&](auto&& call) {  // calls every callback, checking after each that the model lives
      for (auto* cb : cbs) {
        call(cb);
        if (!*alive) throw StateError("fit: the model was destroyed by a callback while fit was running");
      }
    };
    model.stop_training = false;
    Logs logs;
    each([&](auto* cb) { cb->on_train_begin(logs); });

    Totals totals(net.metric_layout);
    Logs batch_logs;  // reused: after the first batch, updating it allocates nothing
    Logs begin_logs;  // empty at each batch's start, as in Keras
    for (int epoch = options.initial_epoch; epoch < options.epochs; ++epoch) {
      Logs epoch_logs;
      each([&](auto* cb) { cb->on_epoch_begin(epoch, epoch_logs); });
      std::iota(order.begin(), order.end(), Index{0});
      if (options.shuffle) net.shuffle_rng.shuffle(order);  // a fresh permutation each epoch, so a saved model resumes exactly
      totals.clear();
      for (Index step = 0; step < steps; ++step) {
        const Index start = step * batch_size;
        const Index rows = std::min(batch_size, train_rows - start);
        begin_logs.clear();
        each([&](auto* cb) { cb->on_batch_begin(static_cast<int>(step), begin_logs); });
        train_step(net, stager_.gather(x, y, weights, order.data() + start, rows), totals);
        totals.write(net.metrics, net.metric_layout, batch_logs);
        each([&](auto* cb) { cb->on_batch_end(static_cast<int>(step), batch_logs); });
        if (model.stop_training) break;
      }
      epoch_logs.clear();
      totals.write(net.metrics, net.metric_layout, epoch_logs);
      if (options.validation_data) {
        const auto& v = *options.validation_data;
        add_validation_logs(
            evaluate_rows(net, packed_view(v.x), packed_view(v.y), Vector<Scalar>(), options.batch_size, 0, v.x.rows()),
            epoch_logs);
      } else if (train_rows < x.rows()) {
        add_validation_logs(evaluate_rows(net, x, y, options.sample_weight, options.batch_size, train_rows, x.rows()),
                            epoch_logs);
      }
      each([&](auto* cb) { cb->on_epoch_end(epoch, epoch_logs); });
      if (model.stop_training) break;
    }
    each([&](auto* cb) { cb->on_train_end(logs); });
    for (auto* cb : cbs) cb->set_model(nullptr);
    return history;
  }

  /// One gradient step on all rows of x and y; returns the batch loss (before the update).
  double train_on_batch(Network<Scalar>& net, const StridedView<Scalar>& x, const StridedView<Scalar>& y) {
    const detail::FlushSubnormalsScope flush;
    Totals totals(net.metric_layout);
    return train_step(net, stager_.slice(x, y, Vector<Scalar>(), 0, x.rows()), totals);
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
      out.middleRows(start, rows) = forward(net.layers, xb, false, BatchPosition{0, start});
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

  Workers<Scalar>& workers() { return workers_; }

 private:
  /// Loss and metrics over rows [begin, end) in inference mode.
  Logs evaluate_rows(Network<Scalar>& net, const StridedView<Scalar>& x, const StridedView<Scalar>& y,
                     const Vector<Scalar>& weights, Index batch_size, Index begin, Index end) {
    Totals totals(net.metric_layout);
    batch_size = std::min(batch_size, std::max<Index>(end - begin, 1));  // so that start + batch_size cannot overflow
    for (Index start = begin; start < end; start += batch_size) {
      const Index rows = std::min(batch_size, end - start);
      const Batch<Scalar> batch = stager_.slice(x, y, weights, start, rows);
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
};

}  // namespace kerascpp::engine
