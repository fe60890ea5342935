// kerascpp/threads.hpp — how many threads training may use, and the small pool of persistent
// worker threads that splits each batch between them.
#pragma once

#include <kerascpp/core.hpp>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

// With EIGEN_USE_BLAS, Eigen hands its products to the BLAS, whose threads Eigen's setting does
// not govern. OpenBLAS's own setters are declared weak, so they are called when the program links
// OpenBLAS and skipped (null) with any other BLAS.
#if defined(EIGEN_USE_BLAS) && defined(__GNUC__) && defined(__ELF__)
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
}
#define KERASCPP_OPENBLAS_THREADS 1
#endif

namespace kerascpp {

namespace detail {
/// Sets the threads of Eigen's products, and OpenBLAS's when products go to OpenBLAS.
inline void set_product_threads(int n) {
  Eigen::setNbThreads(n);
#if defined(KERASCPP_OPENBLAS_THREADS)
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(n);
#endif
}

inline int& thread_count() {
  static int n = 1;
  return n;
}
}  // namespace detail

/// Sets how many threads training may use. With n > 1, `fit` splits each large enough batch
/// between n threads and sums their gradients (models with BatchNormalization, whose statistics
/// need the whole batch, use Eigen's own multi-threaded products instead, which need a build with
/// OpenMP, or OpenBLAS's threads under EIGEN_USE_BLAS). The same seed and thread count give the
/// same History bit for bit.
inline void set_num_threads(int n) {
  if (n <= 0) detail::fail("set_num_threads: n must be positive, received n=", n);
  detail::thread_count() = n;
  detail::set_product_threads(n);
}

inline int get_num_threads() { return detail::thread_count(); }

namespace detail {

/// Persistent worker threads. `run(n, task)` calls task(0) on the calling thread and task(1..n-1)
/// on workers, and returns when all are done; the first exception thrown by a task is rethrown.
class WorkerPool {
 public:
  WorkerPool() = default;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }

  template <typename Task>
  void run(int n, Task& task) {
    if (n <= 1) {
      task(0);
      return;
    }
    while (static_cast<int>(threads_.size()) < n - 1) {
      const int id = static_cast<int>(threads_.size()) + 1;
      threads_.emplace_back([this, id] { work(id); });
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      call_ = [](void* t, int i) { (*static_cast<Task*>(t))(i); };
      task_ = &task;
      active_ = n;
      pending_ = n - 1;
      error_ = nullptr;
      ++generation_;
    }
    start_.notify_all();
    try {
      task(0);
    } catch (...) {
      record(std::current_exception());
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work(int id) {
    unsigned long seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (id >= active_) continue;
      auto* call = call_;
      void* task = task_;
      lock.unlock();
      try {
        call(task, id);
      } catch (...) {
        record(std::current_exception());
      }
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  void record(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = e;
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_, error_mutex_;
  std::condition_variable start_, done_;
  void (*call_)(void*, int) = nullptr;
  void* task_ = nullptr;
  int active_ = 0;
  int pending_ = 0;
  unsigned long generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

/// A one-shot barrier for the threads of one `WorkerPool::run`. Waiting spins (yielding the CPU),
/// since the threads arrive within microseconds of each other. A thread that failed arrives with
/// ok = false, so that the others stop instead of waiting for it forever.
class SpinBarrier {
 public:
  explicit SpinBarrier(int n) : remaining_(n) {}
  SpinBarrier(const SpinBarrier&) = delete;
  SpinBarrier& operator=(const SpinBarrier&) = delete;

  /// Waits until all n threads arrived; returns whether every one of them arrived with ok.
  bool arrive_and_wait(bool ok) {
    if (!ok) failed_.store(true, std::memory_order_relaxed);
    remaining_.fetch_sub(1, std::memory_order_acq_rel);
    while (remaining_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    return !failed_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<int> remaining_;
  std::atomic<bool> failed_{false};
};

/// Sets the product threads (Eigen's, and OpenBLAS's under EIGEN_USE_BLAS) for a scope and
/// restores them after.
class EigenThreadsScope {
 public:
  explicit EigenThreadsScope(int n) : saved_(Eigen::nbThreads()) {
#if defined(KERASCPP_OPENBLAS_THREADS)
    if (openblas_get_num_threads != nullptr) saved_blas_ = openblas_get_num_threads();
#endif
    set_product_threads(n);
  }
  ~EigenThreadsScope() {
    Eigen::setNbThreads(saved_);
#if defined(KERASCPP_OPENBLAS_THREADS)
    if (saved_blas_ > 0) openblas_set_num_threads(saved_blas_);
#endif
  }
  EigenThreadsScope(const EigenThreadsScope&) = delete;
  EigenThreadsScope& operator=(const EigenThreadsScope&) = delete;

 private:
  int saved_;
  [[maybe_unused]] int saved_blas_ = 0;  // read only with KERASCPP_OPENBLAS_THREADS
};

}  // namespace detail
}  // namespace kerascpp
