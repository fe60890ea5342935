// kerascpp/distributed/shared_memory.hpp — the optimizer step of processes that share one
// machine's memory (optional, with kerascpp/distributed/mpi.hpp): MPI shared-memory windows in which
// the processes sum their gradients and exchange the weights they updated, process r updating part
// r of the flat buffers (Optimizer::part_range), with the optimizer's slots in a window of their
// own so that each process updates its part of them in place.
#pragma once

#include <kerascpp/core.hpp>
#include <kerascpp/optimizers.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <utility>

namespace kerascpp::distributed::detail {

/// The MPI error text of `code`, for messages.
inline std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return kerascpp::detail::cat("MPI error ", code);
  return std::string(text, static_cast<std::size_t>(length));
}

/// Ends the job when an MPI call failed (under an error handler that returns, a failed call can
/// leave the processes anywhere in their collectives): prints which process of `comm` (`rank` of
/// `size`, `where` telling which processes those are) failed in `call`, and why.
inline void check_mpi(int code, const char* call, MPI_Comm comm, int rank, int size, const char* where) {
  if (code == MPI_SUCCESS) return;
  std::fprintf(stderr, "kerascpp: process %d of %d%s: %s failed: %s; ending the job\n", rank, size, where, call,
               mpi_error_text(code).c_str());
  std::fflush(stderr);
  MPI_Abort(comm, 1);
}

/// The most bytes the windows of one model's step may hold.
inline constexpr std::size_t max_shared_bytes = std::size_t{1} << 30;

/// `count` elements of memory that every process of `node` (processes on one machine) reads and
/// writes, allocated by process 0 of `node`. Creating and destroying it are collective over `node`.
template <typename Scalar>
class SharedWindow {
 public:
  SharedWindow(MPI_Comm node, std::size_t count) : node_(node), count_(count) {
    MPI_Comm_rank(node_, &rank_);
    MPI_Comm_size(node_, &size_);
    const auto bytes = static_cast<MPI_Aint>(rank_ == 0 ? count_ * sizeof(Scalar) : 0);
    void* mine = nullptr;
    check(MPI_Win_allocate_shared(bytes, static_cast<int>(sizeof(Scalar)), MPI_INFO_NULL, node_, &mine, &window_),
          "MPI_Win_allocate_shared");
    MPI_Aint size = 0;
    int unit = 0;
    void* first = nullptr;
    check(MPI_Win_shared_query(window_, 0, &size, &unit, &first), "MPI_Win_shared_query");
    base_ = static_cast<Scalar*>(first);
    check(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_), "MPI_Win_lock_all");
  }
  SharedWindow(const SharedWindow&) = delete;
  SharedWindow& operator=(const SharedWindow&) = delete;
  ~SharedWindow() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized != 0) return;
    MPI_Win_unlock_all(window_);
    MPI_Win_free(&window_);
  }

  std::size_t count() const { return count_; }
  Scalar* data() const { return base_; }
  /// This process's index among those of `node`, and their number.
  int rank() const { return rank_; }
  int size() const { return size_; }

  /// Every process's writes to the window before it are seen by every process after it.
  void barrier() const {
    MPI_Win_sync(window_);
    check(MPI_Barrier(node_), "MPI_Barrier");
    MPI_Win_sync(window_);
  }

  void check(int code, const char* call) const { check_mpi(code, call, node_, rank_, size_, " on this machine"); }

 private:
  MPI_Comm node_;
  std::size_t count_;
  int rank_ = 0;
  int size_ = 1;
  MPI_Win window_ = MPI_WIN_NULL;
  Scalar* base_ = nullptr;
};

/// Sums a flat buffer of `count` elements over processes on one machine, in a window with one slot
/// per process, one for the sum and one for exchanging weights. Process r sums part r: it copies
/// the other parts of its buffer into its slot; after a barrier it adds up part r over the
/// processes in rank order (its own part straight from its buffer, the others' from their slots)
/// into the sum's slot. Each element is summed in the same order whichever process sums it, so
/// every process gets the same bits; per process this moves less than two buffers' worth of memory,
/// where an allreduce copies through MPI's own buffers several times.
template <typename Scalar>
class SharedMemorySum {
 public:
  /// Collective over `node`.
  SharedMemorySum(MPI_Comm node, std::size_t count) : count_(count), window_(node, slots(window_size(node)) * count) {}

  std::size_t count() const { return count_; }

  /// Whether buffers of `count` elements fit the window size allowed for `processes`.
  static bool fits(std::size_t count, int processes) {
    return count <= max_shared_bytes / sizeof(Scalar) / slots(processes);
  }

  /// Sums part r (this process's) of every process's `data`; returns the sum's slot, whose part r
  /// holds it until the next call.
  const Scalar* sum_part(std::span<const Scalar> data) {
    const auto range = part(window_.rank());  // not a structured binding: Clang 14 cannot capture one
    const Index begin = range.first, end = range.second;
    Scalar* mine = slot(window_.rank());
    std::copy(data.begin(), data.begin() + begin, mine);  // the parts that other processes sum
    std::copy(data.begin() + end, data.end(), mine + end);
    window_.barrier();
    const auto part_of = [&](const Scalar* p) { return Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>(p + begin, end - begin); };
    Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> total(slot(window_.size()) + begin, end - begin);
    const auto from = [&](int k) { return k == window_.rank() ? data.data() : slot(k); };
    total = part_of(from(0));
    for (int k = 1; k < window_.size(); ++k) total += part_of(from(k));  // Σ over processes, in rank order
    return slot(window_.size());
  }

  /// The whole sum of every process's `data`, the same bits on every process, in the window until
  /// the next call.
  const Scalar* sum(std::span<const Scalar> data) {
    const Scalar* total = sum_part(data);
    window_.barrier();
    return total;
  }

  /// After every process updated part r of its `values`: gives every process every part.
  void exchange_parts(std::span<Scalar> values) {
    const auto [begin, end] = part(window_.rank());
    Scalar* shared = slot(window_.size() + 1);
    std::copy(values.begin() + begin, values.begin() + end, shared + begin);
    window_.barrier();
    std::copy(shared, shared + begin, values.begin());
    std::copy(shared + end, shared + count_, values.begin() + end);
  }

  /// Process r's part of the buffers, as the optimizer's parts.
  std::pair<Index, Index> part(int r) const {
    return Optimizer<Scalar>::part_range(static_cast<Index>(count_), r, window_.size());
  }

 private:
  static std::size_t slots(int processes) { return static_cast<std::size_t>(processes) + 2; }
  static int window_size(MPI_Comm node) {
    int n = 1;
    MPI_Comm_size(node, &n);
    return n;
  }
  Scalar* slot(int k) const { return window_.data() + static_cast<std::size_t>(k) * count_; }

  std::size_t count_;
  SharedWindow<Scalar> window_;
};

}  // namespace kerascpp::distributed::detail
