// kerascpp/engine/workers.hpp — runs one batch on the threads that `set_num_threads` allows: each
// thread takes a contiguous share of the rows (thread 0 with the model's layers, the others with
// copies whose weights view the model's and whose gradients have buffers of their own), then the
// Reduction sums the shares' gradients into the parameter store and the optimizer takes its step,
// both split between the same threads by element range.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/engine/batch.hpp>
#include <kerascpp/engine/network.hpp>
#include <kerascpp/float_env.hpp>
#include <kerascpp/metrics/metric.hpp>
#include <kerascpp/reduction.hpp>
#include <kerascpp/threads.hpp>

#include <algorithm>
#include <memory>
#include <span>
#include <typeinfo>
#include <vector>

namespace kerascpp::engine {

template <typename Scalar>
class Workers {
 public:
  /// Forward (and, when training, loss gradient, backward, gradient sum and one optimizer step) of
  /// `batch`; adds each share's sample-weighted sums into `totals` in thread order (so a thread
  /// count always gives the same numbers) and returns Σ w_i·l_i over the batch.
  double run(Network<Scalar>& net, const Batch<Scalar>& batch, bool training, Totals& totals) {
    if (generation_ != net.generation) {
      workers_.clear();
      generation_ = net.generation;
    }
    if (workers_.empty()) workers_.resize(1);
    const int n = threads_for(net, batch.rows);
    most_threads_ = std::max(most_threads_, n);
    if (n == 1) {
      run_share(net, 0, batch, training);
      if (training) step(net);
      return collect(1, totals);
    }
    prepare(net, n);
    // The threads also take the step unless other processes share the batch or a norm clipping
    // needs the whole summed gradient first.
    const bool local = !reduction().spans_processes() && !net.optimizer->needs_whole_gradient();
    if (training && local) net.optimizer->begin_apply(net.store);
    detail::SpinBarrier shares_done(n);
    auto task = [&](int t) {
      const auto st = static_cast<std::size_t>(t);
      const detail::FlushSubnormalsScope flush;  // pool threads keep their own floating-point state
      try {
        run_share(net, st, batch.share(share_begin(batch.rows, t, n), share_begin(batch.rows, t + 1, n)), training);
      } catch (...) {
        if (training) shares_done.arrive_and_wait(false);
        throw;
      }
      if (training && shares_done.arrive_and_wait(true)) {
        const auto [begin, end] = Optimizer<Scalar>::part_range(net.store.size(), t, n);
        Reduction<Scalar>::sum_workers(grads_, begin, end);
        if (local) net.optimizer->apply_part(net.store, t, n);
      }
    };
    if (!pool_) pool_ = std::make_unique<detail::WorkerPool>();
    {
      detail::EigenThreadsScope single(1);
      pool_->run(n, task);
    }
    if (training && !local) step(net);
    return collect(n, totals);
  }

  /// The most threads that have shared one batch of this model.
  int most_threads() const { return most_threads_; }

  /// Where gradients of other processes come in (nullptr: this process alone). Not owned: once it
  /// is destroyed, reduction() throws StateError until another is set.
  void set_reduction(Reduction<Scalar>* r) {
    reduction_ = r;
    reduction_alive_ = r != nullptr ? r->liveness() : nullptr;
  }
  Reduction<Scalar>& reduction() { return reduction_ != nullptr ? attached() : local_; }
  const Reduction<Scalar>& reduction() const { return reduction_ != nullptr ? attached() : local_; }

 private:
  Reduction<Scalar>& attached() const {
    if (!*reduction_alive_)
      throw StateError(
          "this model is attached to a distribution strategy that has been destroyed; expected a strategy that outlives "
          "the model's fit, evaluate and train_on_batch calls (attach the model to a live one: strategy.attach(model))");
    return *reduction_;
  }

  /// What one thread computes on its share of a batch: the layers it runs (the model's own for
  /// thread 0, copies for the others), its gradient buffers, its scratch and its partial sums.
  struct Worker {
    std::vector<LayerPtr<Scalar>> replica;  // empty for thread 0
    ParameterStore<Scalar> store;           // the replica's gradients; its values view the model's
    Buffer<Scalar> per_sample, scale, grad, metric;
    Totals sums;
  };

  std::vector<LayerPtr<Scalar>>& layers_of(Network<Scalar>& net, std::size_t t) {
    return t == 0 ? net.layers : workers_[t].replica;
  }

  /// How many threads share a batch of `rows`: more than one only when the model has no layer that
  /// needs the whole batch, each thread gets at least 16 rows, and the batch holds at least about a
  /// million multiply-adds (below that, waking threads costs more than it saves).
  static int threads_for(const Network<Scalar>& net, Index rows) {
    const int wanted = get_num_threads();
    if (wanted <= 1 || rows < 32) return 1;
    for (const auto& l : net.layers)
      if (l->needs_whole_batch()) return 1;
    if (static_cast<double>(rows) * static_cast<double>(net.store.count_trainable()) < 1e6) return 1;
    return static_cast<int>(std::min<Index>(wanted, rows / 16));
  }

  /// First row of thread t's share of a batch of `rows` (t = n gives rows): about rows·t/n, rounded
  /// down to a multiple of 4 rows so that every share starts 16-byte aligned, as layer views require.
  static Index share_begin(Index rows, int t, int n) {
    if (t == n) return rows;
    return (rows * t / n) & ~Index{3};
  }

  /// Creates the layer copies of threads 1..n-1 (once; again after the model changes).
  void prepare(Network<Scalar>& net, int n) {
    if (static_cast<int>(workers_.size()) < n) {
      const std::size_t before = workers_.size(), first = std::max<std::size_t>(before, 1);
      workers_.resize(static_cast<std::size_t>(n));
      try {
        for (std::size_t t = first; t < workers_.size(); ++t) add_replica(net, workers_[t]);
      } catch (...) {  // a layer that cannot be copied: no half-made worker is left for the next batch
        workers_.resize(before);
        throw;
      }
    }
    grads_.resize(static_cast<std::size_t>(n));
    grads_[0] = net.store.grads();
    for (std::size_t t = 1; t < grads_.size(); ++t) grads_[t] = workers_[t].store.grads();
  }

  /// Gives worker `w` its copy of the layers, whose weights view `net`'s.
  static void add_replica(Network<Scalar>& net, Worker& w) {
    std::vector<Weight<Scalar>> weights;
    for (const auto& layer : net.layers) {
      w.replica.push_back(layer->clone());
      const Layer<Scalar>* copy = w.replica.back().get();
      if (copy == nullptr || typeid(*copy) != typeid(*layer))
        detail::fail(layer->name(), " (", layer->type(), "): clone() returned ",
                     copy == nullptr ? "a null pointer" : "a layer of another class",
                     "; expected a copy of the layer, which worker threads train when set_num_threads splits a batch");
      w.replica.back()->set_regularization_gradient(false);  // added once, by thread 0
      for (const auto& weight : w.replica.back()->weights()) weights.push_back(weight);
    }
    w.store.adopt_sharing(weights, net.store);
  }

  /// Forward (and, when training, loss gradient and backward) of thread t on its share; the loss
  /// gradient is scaled by w_i / total_rows so that the shares' weight gradients add up to the
  /// batch's.
  void run_share(Network<Scalar>& net, std::size_t t, const Batch<Scalar>& b, bool training) {
    Worker& w = workers_[t];
    auto& layers = layers_of(net, t);
    w.sums.state.assign(net.metric_layout.state_size(), 0.0);
    w.sums.clear();
    // A process whose share of a training batch is empty still runs it: its layers take part in
    // the batch statistics other processes sum, and its gradient is zero, not the last batch's.
    const bool shared = reduction().spans_processes();
    if (b.rows <= 0 && !(training && shared)) return;
    ConstMatrixView<Scalar> yb(b.y, b.rows, b.y_cols);
    Eigen::Map<const Vector<Scalar>> wb(b.w, b.rows);
    const auto out = forward(layers, ConstMatrixView<Scalar>(b.x, b.rows, b.x_cols), training,
                             BatchPosition{b.step, b.first_row, shared ? &reduction() : nullptr});
    const ConstMatrixView<Scalar> pred = net.fused ? layers.back()->logits() : out;
    if (net.fused) check_result(*layers.back(), "logits", pred, out.rows(), out.cols(), "output_width()");  // z: the output's shape
    Eigen::Map<Vector<Scalar>> per_sample(w.per_sample.view(b.rows, 1).data(), b.rows);
    net.loss->per_sample(yb, pred, net.fused, per_sample);
    w.sums.loss_sum = detail::weighted_sum(per_sample.array(), wb.array());  // Σ w_i·l_i
    if (!net.metrics.empty()) {
      Eigen::Map<Vector<Scalar>> scratch(w.metric.view(b.rows, 1).data(), b.rows);
      const std::span<double> state(w.sums.state);
      const auto& begin = net.metric_layout.state_begin;
      for (std::size_t k = 0; k < net.metrics.size(); ++k)
        net.metrics[k]->update_state(yb, out, b.w, scratch, state.subspan(begin[k], begin[k + 1] - begin[k]));
    }
    if (!training) return;
    Eigen::Map<Vector<Scalar>> scale(w.scale.view(b.rows, 1).data(), b.rows);
    scale = wb / Scalar(b.total_rows);  // dL/dl_i = w_i / batch
    auto grad = w.grad.view(b.rows, out.cols());
    net.loss->gradient(yb, pred, net.fused, scale, grad);
    backward(layers, as_const(grad), net.fused);
  }

  /// The optimizer step when the threads that ran the batch did not take it (one thread ran it, or
  /// other processes share it): the gradient first goes through the reduction when other processes
  /// share the batch; then, with several threads and enough weights, the threads update parts of
  /// the flat buffers. Under OpenMP, whose threads Eigen's products then use, the parts run on them,
  /// so that two thread pools do not compete for the cores; with products in a BLAS, on the pool,
  /// whose threads sleep while the BLAS runs.
  void step(Network<Scalar>& net) {
    const Scalar* summed = nullptr;  // the summed gradient, when the reduction holds it outside the store
    if (reduction().spans_processes()) {
      if (reduction().sum_and_step(net.store, *net.optimizer)) return;
      Scalar* grads = net.store.grads();
      const auto n = static_cast<std::size_t>(net.store.size());
      summed = reduction().sum_gradient(std::span<Scalar>(grads, n));
      if (summed != grads && net.optimizer->clipping().active()) std::copy_n(summed, n, grads);  // clipped in place
      if (summed == grads || net.optimizer->clipping().active()) summed = nullptr;
    }
    const int parts = static_cast<int>(std::min<Index>(get_num_threads(), net.store.count_trainable() / (Index{1} << 16)));
    net.optimizer->begin_apply(net.store);
    if (parts <= 1) {
      net.optimizer->apply_part(net.store, 0, 1, summed);
      return;
    }
#if defined(_OPENMP) && !defined(EIGEN_USE_BLAS)
#pragma omp parallel for num_threads(parts) schedule(static, 1)
    for (int t = 0; t < parts; ++t) {
      const detail::FlushSubnormalsScope flush;
      net.optimizer->apply_part(net.store, t, parts, summed);
    }
#else
    if (!pool_) pool_ = std::make_unique<detail::WorkerPool>();
    auto task = [&](int t) {
      const detail::FlushSubnormalsScope flush;
      net.optimizer->apply_part(net.store, t, parts, summed);
    };
    pool_->run(parts, task);
#endif
  }

  /// Adds the sums of threads 0..n-1 (and, through the reduction, of the other processes) into
  /// `totals`; returns their Σ w_i·l_i.
  double collect(int n, Totals& totals) {
    const std::size_t m = workers_[0].sums.state.size();
    if (n == 1 && !reduction().spans_processes()) {  // nothing to sum first: the same numbers, one pass less
      const Totals& s = workers_[0].sums;
      for (std::size_t k = 0; k < m; ++k) totals.state[k] += s.state[k];
      return s.loss_sum;
    }
    sums_.assign(1 + m, 0.0);  // Σ w_i·l_i, then the metrics' states
    for (int t = 0; t < n; ++t) {
      const Totals& s = workers_[static_cast<std::size_t>(t)].sums;
      sums_[0] += s.loss_sum;
      for (std::size_t k = 0; k < m; ++k) sums_[1 + k] += s.state[k];
    }
    if (reduction().spans_processes()) reduction().sum_totals(std::span<double>(sums_));
    for (std::size_t k = 0; k < m; ++k) totals.state[k] += sums_[1 + k];
    return sums_[0];
  }

  std::vector<Worker> workers_;
  std::vector<Scalar*> grads_;
  std::vector<double> sums_;  // one batch's totals, reduced over processes
  std::unique_ptr<detail::WorkerPool> pool_;
  std::uint64_t generation_ = 0;
  int most_threads_ = 0;
  Reduction<Scalar> local_;
  Reduction<Scalar>* reduction_ = nullptr;
  std::shared_ptr<const bool> reduction_alive_;
};

}  // namespace kerascpp::engine
