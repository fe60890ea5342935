// kerascpp/reduction.hpp — the seam where the partial results of the workers that share one batch
// become the batch's results. A worker is a thread of this process (it computes the gradient of its
// share of the batch rows into a flat buffer laid out like the parameter store) or, through a
// subclass, another process. Every worker scales its loss gradient by w_i / (rows of the whole
// batch), so the batch's gradient is the plain sum of the workers' gradients, exact for a partial
// last batch and for any split.
#pragma once

#include <kerascpp/core.hpp>

#include <span>

namespace kerascpp {

template <typename Scalar>
class Reduction {
 public:
  virtual ~Reduction() = default;

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

  /// Whether workers outside this process share the batch (then the engine calls the two sums
  /// below once per batch, after its own threads have been summed).
  virtual bool spans_processes() const { return false; }
  /// Sums this process's gradient (the store's flat buffer) with the other processes', in place.
  virtual void sum_gradient(std::span<Scalar>) {}
  /// Sums running totals over processes, in place: Σ w_i·l_i, then every metric's state (sums over
  /// samples, such as Σ w_i·m_i and Σ w_i, or weighted confusion counts).
  virtual void sum_totals(std::span<double>) {}
};

}  // namespace kerascpp
