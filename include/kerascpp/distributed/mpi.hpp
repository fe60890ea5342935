// kerascpp/distributed/mpi.hpp — data-parallel training over MPI processes (optional: CMake target
// kerascpp::mpi, which links MPI; the rest of the library never includes this header). Every
// process builds the same model and calls fit with the same data and options; each takes a
// contiguous share of every global batch, and the gradients, BatchNormalization's batch statistics
// and the losses' and metrics' sums are summed over the processes, so that History and the weights
// are those of one process training on the whole batches (docs/distributed.md).
#pragma once

#include <kerascpp/distributed/shared_memory.hpp>
#include <kerascpp/kerascpp.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace kerascpp::distributed {

namespace detail {
template <typename T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
  else static_assert(sizeof(T) == 0, "kerascpp::distributed: no MPI type for this element type");
}

/// Elements per collective call: MPI counts are ints, and large buffers go in parts.
inline constexpr std::size_t max_chunk = std::size_t{1} << 26;

}  // namespace detail

/// Data-parallel training of one Sequential model on every process of an MPI communicator, as
/// Keras's MultiWorkerMirroredStrategy: `batch_size` is the global batch, which the processes split
/// into contiguous shares; process 0's weights, optimizer state and random state are given to every
/// process when fit starts; gradients are summed in one collective over the flat gradient buffer,
/// so every process takes the same optimizer step and the weights stay bit-identical. Only process
/// 0 prints the progress bar and runs the callbacks that write files (CSVLogger, ModelCheckpoint).
///
///     kerascpp::distributed::MpiStrategy<float> strategy(argc, argv);  // MPI_Init unless done
///     strategy.attach(model);                                          // then fit as usual
///
/// On one process (or `mpirun -np 1`) the model trains exactly as without the strategy. The
/// strategy must outlive every fit of the models attached to it (a model whose strategy was
/// destroyed refuses to train with a StateError). It initializes MPI when MPI is not
/// initialized yet, and then finalizes it when destroyed.
template <typename Scalar = float>
class MpiStrategy final : public Reduction<Scalar> {
 public:
  /// Initializes MPI with the program's arguments unless it is initialized already.
  MpiStrategy(int& argc, char**& argv, MPI_Comm comm = MPI_COMM_WORLD) { start(&argc, &argv, comm); }
  /// Initializes MPI without arguments unless it is initialized already.
  explicit MpiStrategy(MPI_Comm comm = MPI_COMM_WORLD) { start(nullptr, nullptr, comm); }

  MpiStrategy(const MpiStrategy&) = delete;
  MpiStrategy& operator=(const MpiStrategy&) = delete;

  /// Finalizes MPI if this strategy initialized it. Destroyed while an exception that the other
  /// processes did not see leaves the program (one raised before fit agreed on it), it ends the
  /// job instead, so that they do not wait for this process forever.
  ~MpiStrategy() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized != 0) return;
    if (std::uncaught_exceptions() > 0 && !agreed_failure_ && size_ > 1) {
      std::fprintf(stderr, "kerascpp: process %d of %d is leaving on an exception the other processes did not see; "
                           "ending the job\n", rank_, size_);
      std::fflush(stderr);
      MPI_Abort(comm_, 1);
    }
    shared_sum_.reset();
    slot_window_.reset();
    if (node_ != MPI_COMM_NULL) MPI_Comm_free(&node_);
    if (owns_mpi_) MPI_Finalize();
  }

  bool spans_processes() const override { return size_ > 1; }
  int rank() const override { return rank_; }
  int ranks() const override { return size_; }
  /// Whether this is process 0, the one that prints and writes files.
  bool is_chief() const { return rank_ == 0; }
  MPI_Comm communicator() const { return comm_; }

  /// Makes `model` train, evaluate and train_on_batch with the other processes from now on (predict
  /// stays local: every process predicts all the rows it is given).
  void attach(Sequential<Scalar>& model) {
    model_ = &model;
    model.trainer().workers().set_reduction(this);
  }

  /// Throws StateError on every process unless all processes hold bit-identical weights (for
  /// models loaded from a file on every process, or after training).
  void check_identical(const Sequential<Scalar>& model) const {
    std::uint64_t local = weights_fingerprint(model);
    std::uint64_t low = local, high = local;
    all_reduce(&low, 1, MPI_MIN);
    all_reduce(&high, 1, MPI_MAX);
    if (low != high)
      throw StateError(kerascpp::detail::cat("MpiStrategy.check_identical: the ", size_,
                                             " processes hold different weights (fingerprints ", low, " to ", high, ")"));
  }

  /// A 64-bit hash of every bit of the model's weights (trainable and not), in Keras order.
  static std::uint64_t weights_fingerprint(const Sequential<Scalar>& model) {
    std::uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a over the bytes
    for (const auto& layer : model.layers())
      for (const auto& w : layer->weights()) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(w.value->data());
        const std::size_t n = static_cast<std::size_t>(w.value->size()) * sizeof(Scalar);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 0x100000001B3ULL;
      }
    return h;
  }

  /// The gradient sums so far: collective calls, bytes summed per process and seconds spent in them.
  struct Traffic {
    std::uint64_t calls = 0;
    double bytes = 0.0;
    double seconds = 0.0;
  };
  const Traffic& gradient_traffic() const { return traffic_; }
  void reset_traffic() { traffic_ = {}; }

  /// Whether, when all processes run on one machine, the gradients are summed through shared
  /// memory and the optimizer step is shared (each process updating its part of the weights and
  /// slots), as by default, rather than summed by MPI_Allreduce with every process taking the whole
  /// step. Call it on every process alike, outside fit.
  void use_shared_memory(bool on) {
    shared_memory_ = on;
    if (!on) {
      shared_sum_.reset();
      slot_window_.reset();
    }
  }
  /// Whether the last gradient sum went through shared memory, and whether its optimizer step was
  /// shared between the processes.
  bool summing_in_shared_memory() const { return summed_shared_; }
  bool sharing_step() const { return step_shared_; }

  const Scalar* sum_gradient(std::span<Scalar> grad) override {
    const double start = MPI_Wtime();
    const Scalar* sum = grad.data();
    step_shared_ = false;
    auto* shared = shared_sum(grad.size());
    summed_shared_ = shared != nullptr;
    if (shared) {
      sum = shared->sum(grad);
    } else {
      all_reduce(grad.data(), grad.size(), MPI_SUM);
    }
    count_traffic(start, grad.size_bytes());
    return sum;
  }

  bool sum_and_step(ParameterStore<Scalar>& store, Optimizer<Scalar>& optimizer) override {
    if (!step_placed_) return false;
    if (optimizer.slots_per_weight() > 0 && (!slot_window_ || optimizer.slots_place() != slot_window_->data())) return false;
    const auto n = static_cast<std::size_t>(store.size());
    auto* shared = shared_sum(n);
    if (shared == nullptr) return false;
    const double start = MPI_Wtime();
    const std::span<const Scalar> grads(store.grads(), n);
    // A clipping needs the whole sum (its norms), and scales the store's gradient in place.
    const bool whole = optimizer.clipping().active();
    const Scalar* sum = whole ? shared->sum(grads) : shared->sum_part(grads);
    if (whole) std::copy_n(sum, n, store.grads());
    count_traffic(start, n * sizeof(Scalar));
    optimizer.begin_apply(store);
    optimizer.apply_part(store, rank_, size_, whole ? nullptr : sum);  // part r of the weights and slots
    const double exchange = MPI_Wtime();
    shared->exchange_parts(std::span<Scalar>(store.values(), n));
    traffic_.seconds += MPI_Wtime() - exchange;
    summed_shared_ = true;
    step_shared_ = true;
    return true;
  }

  void sum_totals(std::span<double> totals) override { all_reduce(totals.data(), totals.size(), MPI_SUM); }
  void sum_batch_stats(std::span<double> stats) override { all_reduce(stats.data(), stats.size(), MPI_SUM); }

  bool agree(std::exception_ptr error, bool stop) override {
    int status[2] = {error ? rank_ : size_, stop ? 0 : 1};  // MIN: the lowest failing rank; 0 if any stops
    all_reduce(status, 2, MPI_MIN);
    if (status[0] == size_) return status[1] == 0;
    const int failing = status[0];
    int kind = 0;
    std::string message;
    if (rank_ == failing) std::tie(kind, message) = describe(error);
    MPI_Bcast(&kind, 1, MPI_INT, failing, comm_);
    broadcast_text(message, failing);
    agreed_failure_ = true;
    if (rank_ == failing) std::rethrow_exception(error);
    const std::string text = kerascpp::detail::cat("process ", failing, " of ", size_, " failed: ", message);
    switch (kind) {
      case 1: throw ValueError(text);
      case 2: throw IOError(text);
      case 3: throw StateError(text);
      default: throw std::runtime_error(text);
    }
  }

  void abort(std::string_view message) override {
    std::fprintf(stderr,
                 "kerascpp: process %d of %d failed during a training step or validation, where the other processes "
                 "wait for it; ending the job: %.*s\n",
                 rank_, size_, static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
    MPI_Abort(comm_, 1);
  }

  void begin_fit(std::span<const std::pair<const char*, Index>> agreed) override {
    if (model_ == nullptr)
      throw StateError("MpiStrategy: fit uses this strategy but no model is attached; call strategy.attach(model)");
    agreed_failure_ = false;
    check_agreement(agreed);
    share_state(*model_);
    place_slots(*model_);
  }
  void end_fit() override { step_placed_ = false; }

 private:
  void start(int* argc, char*** argv, MPI_Comm comm) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized == 0) {
      int provided = 0;
      const int code = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      if (code != MPI_SUCCESS) throw StateError("MpiStrategy: MPI_Init_thread failed: " + detail::mpi_error_text(code));
      owns_mpi_ = true;
    }
    comm_ = comm;
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    if (size_ > 1) {
      check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_), "MPI_Comm_split_type");
      int on_node = 0;
      MPI_Comm_size(node_, &on_node);
      one_machine_ = on_node == size_;
    }
  }

  /// The shared-memory sum for gradients of `count` elements when every process is on this machine
  /// and shared memory is in use (created on first use: a collective call); else nullptr.
  detail::SharedMemorySum<Scalar>* shared_sum(std::size_t count) {
    if (!shared_memory_ || !one_machine_ || !detail::SharedMemorySum<Scalar>::fits(count, size_)) {
      shared_sum_.reset();
      return nullptr;
    }
    if (!shared_sum_ || shared_sum_->count() != count) {
      shared_sum_.reset();
      shared_sum_ = std::make_unique<detail::SharedMemorySum<Scalar>>(node_, count);
    }
    return shared_sum_.get();
  }

  void count_traffic(double start, std::size_t bytes) {
    traffic_.seconds += MPI_Wtime() - start;
    traffic_.bytes += static_cast<double>(bytes);
    ++traffic_.calls;
  }

  /// When the step is to be shared: moves the optimizer's slots (identical on every process after
  /// share_state) into a window of this machine, where each process updates its part. The engine
  /// copies them back into the optimizer when fit ends.
  void place_slots(Sequential<Scalar>& model) {
    step_placed_ = false;
    const ParameterStore<Scalar>& store = model.parameters();
    Optimizer<Scalar>& optimizer = model.optimizer();
    const auto n = static_cast<std::size_t>(store.size()), k = static_cast<std::size_t>(optimizer.slots_per_weight());
    // shared_sum is collective: every process reaches it or none (n and k agree everywhere).
    if (n == 0 || k > detail::max_shared_bytes / sizeof(Scalar) / n || shared_sum(n) == nullptr) return;
    if (!optimizer.built()) optimizer.build(store);
    if (k > 0) {
      if (!slot_window_ || slot_window_->count() != k * n) {
        slot_window_.reset();
        slot_window_ = std::make_unique<detail::SharedWindow<Scalar>>(node_, k * n);
      }
      optimizer.place_slots(slot_window_->data(), rank_ == 0);
      slot_window_->barrier();
    }
    step_placed_ = true;
  }

  /// In-place all-reduce of `count` elements, in parts of at most detail::max_chunk.
  template <typename T>
  void all_reduce(T* data, std::size_t count, MPI_Op op) const {
    for (std::size_t done = 0; done < count; done += detail::max_chunk) {
      const int n = static_cast<int>(std::min(detail::max_chunk, count - done));
      check(MPI_Allreduce(MPI_IN_PLACE, data + done, n, detail::mpi_type<T>(), op, comm_), "MPI_Allreduce");
    }
  }
  void all_reduce(int* data, std::size_t count, MPI_Op op) const {
    check(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_INT, op, comm_), "MPI_Allreduce");
  }

  /// Process 0's `count` elements at `data` on every process, in parts.
  template <typename T>
  void broadcast(T* data, std::size_t count) const {
    for (std::size_t done = 0; done < count; done += detail::max_chunk) {
      const int n = static_cast<int>(std::min(detail::max_chunk, count - done));
      check(MPI_Bcast(data + done, n, detail::mpi_type<T>(), 0, comm_), "MPI_Bcast");
    }
  }

  void broadcast_text(std::string& text, int root) const {
    std::int64_t length = static_cast<std::int64_t>(text.size());
    check(MPI_Bcast(&length, 1, MPI_INT64_T, root, comm_), "MPI_Bcast");
    text.resize(static_cast<std::size_t>(length));
    check(MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, root, comm_), "MPI_Bcast");
  }

  void check(int code, const char* call) const { detail::check_mpi(code, call, comm_, rank_, size_, ""); }

  /// The exception's kind (1 ValueError, 2 IOError, 3 StateError, 0 any other) and message.
  static std::pair<int, std::string> describe(std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const ValueError& e) {
      return {1, e.what()};
    } catch (const IOError& e) {
      return {2, e.what()};
    } catch (const StateError& e) {
      return {3, e.what()};
    } catch (const std::exception& e) {
      return {0, e.what()};
    } catch (...) {
      return {0, "an exception that is not a std::exception"};
    }
  }

  /// Throws ValueError on every process unless all hold the same numbers as process 0.
  void check_agreement(std::span<const std::pair<const char*, Index>> agreed) const {
    std::vector<std::int64_t> mine, first;
    for (const auto& [name, value] : agreed) mine.push_back(static_cast<std::int64_t>(value));
    first = mine;
    broadcast(first.data(), first.size());
    int differing = static_cast<int>(agreed.size());
    for (std::size_t i = 0; i < agreed.size(); ++i)
      if (mine[i] != first[i]) {
        differing = static_cast<int>(i);
        break;
      }
    all_reduce(&differing, 1, MPI_MIN);
    if (differing == static_cast<int>(agreed.size())) return;
    const auto i = static_cast<std::size_t>(differing);
    std::int64_t low = mine[i], high = mine[i];
    all_reduce(&low, 1, MPI_MIN);
    all_reduce(&high, 1, MPI_MAX);
    throw ValueError(kerascpp::detail::cat("fit with MpiStrategy: the processes disagree on ", agreed[i].first,
                                           ": process 0 has ", first[i], ", another process has ",
                                           first[i] == low ? high : low,
                                           "; every process must call fit with the same data and options"));
  }

  /// Gives every process process 0's weights, optimizer state (iterations and slots) and random
  /// state (the shuffling stream and the layers' saved states, such as Dropout's); the
  /// regularization gradient is added by process 0 alone, since the gradients are summed.
  void share_state(Sequential<Scalar>& model) {
    for (const auto& layer : model.layers()) {
      layer->set_regularization_gradient(rank_ == 0);
      for (const auto& w : layer->weights()) broadcast(w.value->data(), static_cast<std::size_t>(w.value->size()));
      const auto* entry = layer_registry<Scalar>().find(layer->type(), *layer);
      if (entry != nullptr && entry->get_state != nullptr) {
        std::uint64_t state = entry->get_state(*layer);
        broadcast(&state, 1);
        entry->set_state(*layer, state);
      }
    }
    std::uint64_t shuffle = model.shuffle_rng().state();
    broadcast(&shuffle, 1);
    model.shuffle_rng().seed(shuffle);

    Optimizer<Scalar>& optimizer = model.optimizer();
    std::int64_t state[2] = {optimizer.built() ? 1 : 0, optimizer.iterations()};
    broadcast(state, 2);
    if (state[0] == 0 && optimizer.built()) optimizer.reset();
    if (state[0] == 1 && !optimizer.built()) optimizer.build(model.parameters());
    optimizer.set_iterations(state[1]);
    const auto per_weight = static_cast<std::size_t>(std::max(optimizer.slots_per_weight(), 1));
    for (std::size_t k = 0; k < optimizer.slot_count(); ++k) {
      auto slot = optimizer.slot(k / per_weight, static_cast<int>(k % per_weight));
      broadcast(slot.data(), static_cast<std::size_t>(slot.size()));
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  bool owns_mpi_ = false;
  bool agreed_failure_ = false;  // every process has seen the last failure
  Sequential<Scalar>* model_ = nullptr;
  Traffic traffic_;
  MPI_Comm node_ = MPI_COMM_NULL;  // the processes that share this machine's memory
  bool one_machine_ = false;        // every process of comm_ is on this machine
  bool shared_memory_ = true;
  std::unique_ptr<detail::SharedMemorySum<Scalar>> shared_sum_;
  std::unique_ptr<detail::SharedWindow<Scalar>> slot_window_;  // the optimizer's slots while the step is shared
  bool step_placed_ = false;  // this fit shares the optimizer step
  bool step_shared_ = false;  // the last step was shared
  bool summed_shared_ = false;  // the last gradient sum went through shared memory
};

}  // namespace kerascpp::distributed
