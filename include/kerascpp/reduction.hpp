// kerascpp/reduction.hpp — the seam where the partial results of the workers that share one batch
// become the batch's results. A worker is a thread of this process (it computes the gradient of its
// share of the batch rows into a flat buffer laid out like the parameter store) or, through a
// subclass, another process. Every worker scales its loss gradient by w_i / (rows of the whole
// batch), so the batch's gradient is the plain sum of the workers' gradients, exact for a partial
// last batch and for any split. A subclass that spans processes (kerascpp/distributed/mpi.hpp)
// also shares batch statistics, agrees on failures and stops, and makes the processes start alike.
#pragma once

#include <kerascpp/core.hpp>

#include <exception>
#include <memory>
#include <span>
#include <string_view>
#include <utility>

namespace kerascpp {

/// The processes that share every batch, as layers see them: how many there are, which one this
/// is, and a sum over all of them. The base class is one process alone.
class ProcessGroup {
 public:
  ProcessGroup() = default;
  /// A copy is another group, with a lifetime of its own.
  ProcessGroup(const ProcessGroup&) {}
  ProcessGroup& operator=(const ProcessGroup&) { return *this; }
  virtual ~ProcessGroup() { *alive_ = false; }

  /// Turns false when this group is destroyed: a model that holds a pointer to it (an attached
  /// distribution strategy) checks it before every use, so a strategy destroyed before the model is
  /// a clear error, not a dangling pointer.
  std::shared_ptr<const bool> liveness() const { return alive_; }

  /// Whether workers outside this process share the batch (then the engine calls the sums below).
  virtual bool spans_processes() const { return false; }
  /// This process's index in [0, ranks()); process 0 is the chief (progress bar, files).
  virtual int rank() const { return 0; }
  virtual int ranks() const { return 1; }
  /// Sums per-batch statistics over processes, in place, with the same result on every process
  /// (BatchNormalization's Σx, Σ(x − μ)², Σdy, Σdy ∘ x̂ and row counts).
  virtual void sum_batch_stats(std::span<double>) {}
  /// Sums running totals over processes, in place: Σ w_i·l_i, then every metric's state (sums over
  /// samples, such as Σ w_i·m_i and Σ w_i, or weighted confusion counts).
  virtual void sum_totals(std::span<double>) {}

  /// A point every process reaches at the same place of fit: `error` is what this process raised
  /// since the previous such point (null if nothing) and `stop` whether it asks training to stop.
  /// If any process failed, every process throws the failure of the lowest failing rank (its own
  /// exception on that rank, the same type and message elsewhere); else returns whether any process
  /// asked to stop.
  virtual bool agree(std::exception_ptr error, bool stop) {
    if (error) std::rethrow_exception(error);
    return stop;
  }
  /// Called when this process failed where the others wait for it inside a collective sum (a
  /// training step): a subclass that spans processes ends the whole job with the message.
  virtual void abort(std::string_view) {}

 private:
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

template <typename Scalar>
class Optimizer;
template <typename Scalar>
class ParameterStore;

template <typename Scalar>
class Reduction : public ProcessGroup {
 public:
  /// Adds elements [begin, end) of every worker's gradient into the first worker's:
  /// grads[0][i] = Σ_t grads[t][i], summed in worker order, so that a worker count always gives the
  /// same numbers. Threads call it at once for disjoint ranges.
  static void sum_workers(std::span<Scalar* const> grads, Index begin, Index end) {
    Scalar* total = grads[0];
    for (std::size_t t = 1; t < grads.size(); ++t) {
      const Scalar* theirs = grads[t];
      for (Index i = begin; i < end; ++i) total[i] += theirs[i];  // Σ over workers
    }
  }

  /// Sums this process's gradient (the store's flat buffer) with the other processes' and returns
  /// where the sum is: `grad` itself (summed in place), or memory of the reduction that holds it
  /// unchanged until the next call, from which the optimizer then reads it without a copy.
  virtual const Scalar* sum_gradient(std::span<Scalar> grad) { return grad.data(); }

  /// A subclass that can share the optimizer step between the processes (each updating a part of
  /// the weights, then all exchanging the parts) sums the gradient and takes the step here, and
  /// returns true; else the engine calls sum_gradient and every process takes the whole step.
  virtual bool sum_and_step(ParameterStore<Scalar>&, Optimizer<Scalar>&) { return false; }

  /// Called at the start of every fit, once the model is built, with the numbers every process
  /// must agree on (name, value: rows, widths, batch size, epochs, ...): a subclass that spans
  /// processes checks them against process 0's and gives every process process 0's weights,
  /// optimizer state and random state.
  virtual void begin_fit(std::span<const std::pair<const char*, Index>>) {}
  /// Called when that fit ends, however it ends (on this process alone; not a collective call).
  virtual void end_fit() {}
};

}  // namespace kerascpp
