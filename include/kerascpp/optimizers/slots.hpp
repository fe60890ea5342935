// kerascpp/optimizers/slots.hpp — an optimizer's slot buffers (momentum, velocity, ...): one flat
// buffer per slot, laid out like the parameter store. The optimizer holds them, or, while processes
// on one machine share the optimizer step (kerascpp/distributed/mpi.hpp), they sit in memory that
// the processes share, each updating its own part. A copy always holds its own buffers.
#pragma once

#include <kerascpp/core.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace kerascpp::detail {

template <typename Scalar>
class SlotBuffers {
 public:
  SlotBuffers() = default;
  SlotBuffers(const SlotBuffers& other) : own_(other.own_), size_(other.size_) {
    if (other.place_ != nullptr)
      for (std::size_t j = 0; j < own_.size(); ++j) std::copy_n(other.data(j), size_, own_[j].data());
  }
  SlotBuffers(SlotBuffers&& other) noexcept
      : own_(std::move(other.own_)), size_(other.size_), place_(std::exchange(other.place_, nullptr)) {}
  SlotBuffers& operator=(SlotBuffers other) noexcept {
    own_.swap(other.own_);
    size_ = other.size_;
    place_ = std::exchange(other.place_, nullptr);
    return *this;
  }

  /// `count` buffers of `size` elements, zero, held here.
  void assign(std::size_t count, Index size) {
    own_.assign(count, Vector<Scalar>::Zero(size));
    size_ = size;
    place_ = nullptr;
  }
  void clear() { assign(0, 0); }

  std::size_t count() const { return own_.size(); }
  Index size() const { return size_; }
  Scalar* data(std::size_t j) { return place_ != nullptr ? place_ + static_cast<Index>(j) * size_ : own_[j].data(); }
  const Scalar* data(std::size_t j) const {
    return place_ != nullptr ? place_ + static_cast<Index>(j) * size_ : own_[j].data();
  }

  /// Buffer k, or ValueError when there is no buffer k.
  Scalar* at(int k) {
    check(k);
    return data(static_cast<std::size_t>(k));
  }
  const Scalar* at(int k) const {
    check(k);
    return data(static_cast<std::size_t>(k));
  }

  /// From now on the buffers are at `place` (count()·size() elements, buffer after buffer), where
  /// this call copies them when `copy` (one process of those sharing `place` does).
  void place_at(Scalar* place, bool copy) {
    if (copy)
      for (std::size_t j = 0; j < own_.size(); ++j) std::copy_n(own_[j].data(), size_, place + static_cast<Index>(j) * size_);
    place_ = place;
  }
  /// Where the buffers are placed (nullptr while held here).
  const Scalar* placed() const { return place_; }
  /// Copies the buffers back from their place and holds them here again.
  void hold() {
    if (place_ == nullptr) return;
    for (std::size_t j = 0; j < own_.size(); ++j) std::copy_n(place_ + static_cast<Index>(j) * size_, size_, own_[j].data());
    place_ = nullptr;
  }

 private:
  void check(int k) const {
    if (k < 0 || static_cast<std::size_t>(k) >= own_.size())
      fail("optimizer: no slot ", k, " of a weight: the optimizer has ", own_.size(),
           " slots per weight (none before its first step), so k must be in [0, ", own_.size(), ")");
  }

  std::vector<Vector<Scalar>> own_;
  Index size_ = 0;
  Scalar* place_ = nullptr;
};

}  // namespace kerascpp::detail
